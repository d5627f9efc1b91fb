/**
 * `kaisar checker ...` commands (the table cli.ts wires): init, stake, delegate-accept, run, status. Transactions check the chain id first, print their progress and decode
 * reverts to the contract's custom error.
 */
import { ZeroAddress } from "ethers";

import { chainCommand, type CommandResult } from "../chain/command";
import { formatKai, parseKaiOption, sendTx, stakeKai, type ChainSession, type Progress } from "../chain/tx";
import { version } from "../../package.json";
import { ConfigError, type CheckerConfig } from "../config";
import { startChecker, type CheckerLogEntry, type RunningChecker } from "../checker/run";
import { checkChainId, connectContracts, rpcProvider } from "../chain/contracts";
import { chainNodeSource, discoverNodes } from "../chain/discovery";
import { ChainClock, providerBlocks, settleProblem } from "../chain/chainClock";
import { chainEpochContext, readEpochClock } from "../chain/epochContext";
import {
  EXIT,
  configFailure,
  roleConfig,
  waitForSignal,
  type CommandGroup,
  type CommonOptions,
  type Io,
  type RunHooks,
} from "./common";
import { initCommand } from "./init";
import { runLogger } from "./logFormat";

type Ctx = Parameters<Parameters<typeof chainCommand<"checker">>[4]>[0];

/** Licenses the operator's key owns (from Transfer events to it, still owned), with their state. */
async function ownedLicenses(chain: ChainSession) {
  const license = chain.contracts.CheckerLicense;
  const ids = new Set<bigint>();
  for (const e of await license.queryFilter(license.filters.Transfer(undefined, chain.address))) {
    ids.add(BigInt(e.args.tokenId));
  }
  const out = [];
  for (const id of [...ids].sort((a, b) => (a < b ? -1 : 1))) {
    if ((await license.ownerOf(id)) !== chain.address) continue;
    const [operator, suspended] = await Promise.all([license.operatorOf(id), license.isSuspended(id)]);
    out.push({ id, operator, suspended });
  }
  return out;
}

/** Where the operator stands: licenses delegated, stake vs minimum, membership of the checker set. */
async function standing(chain: ChainSession) {
  const { CheckerLicense, ReportOracle, NodeRegistry } = chain.contracts;
  const [licenses, minimum, stake, listed, config, equivocator] = await Promise.all([
    CheckerLicense.licensesOf(chain.address),
    ReportOracle.minCheckerStake(),
    NodeRegistry.getStake(chain.address),
    ReportOracle.checkers(),
    ReportOracle.config(),
    ReportOracle.isEquivocator(chain.address),
  ]);
  // Operators excluded from the set are zero-address tombstones in `checkers()`: not members.
  const set = listed.filter((a) => a !== ZeroAddress);
  return {
    licenses: Number(licenses),
    minimum,
    staked: stake.staked,
    unbonding: stake.unbonding,
    set,
    excluded: listed.length - set.length,
    equivocator,
    inSet: set.includes(chain.address),
    version: Number(config.version),
    quorum: Number(config.quorum),
    lastEpoch: config.anyReport ? Number(config.lastEpoch) : null,
  };
}

/** What is still missing before governance can add the operator, and the call governance makes. */
function nextSteps(address: string, s: Awaited<ReturnType<typeof standing>>): string[] {
  if (s.inSet) return [`${address} is in the checker set (config version ${s.version}, quorum ${s.quorum}).`];
  if (s.equivocator) {
    return [
      `${address} was proven to equivocate: this key can never join a checker set again. Use a new operator key.`,
    ];
  }
  const steps: string[] = [];
  if (s.licenses === 0) {
    steps.push(
      `No license is delegated to ${address}: the license owner runs CheckerLicense.delegate(<licenseId>, ${address}).`,
    );
  }
  if (s.staked < s.minimum) {
    steps.push(
      `Stake ${formatKai(s.staked)} KAI is below the minimum ${formatKai(s.minimum)} KAI: run \`kaisar checker stake\`.`,
    );
  }
  const operators = [...s.set, address].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  const n = operators.length;
  const quorum = Math.max(s.quorum, 2 * Math.floor((n - 1) / 3) + 1);
  steps.push(
    `${address} is not in the checker set: governance must schedule, through the timelock, ` +
      `ReportOracle.setCheckerConfig([${operators.join(", ")}], ${quorum}) (operators sorted; the quorum must exceed 2f ` +
      `with f = (n - 1) / 3)${steps.length ? ", once the above is done" : ""}.`,
  );
  return steps;
}

async function stakeChecker(opts: Record<string, unknown>, ctx: Ctx, progress: Progress): Promise<CommandResult> {
  let amount = opts.amount === undefined ? undefined : parseKaiOption(opts.amount, "--amount");
  const chain = await ctx.connect();
  const { NodeRegistry, ReportOracle } = chain.contracts;
  const [minimum, current] = await Promise.all([ReportOracle.minCheckerStake(), NodeRegistry.getStake(chain.address)]);
  if (amount === undefined) {
    if (current.staked >= minimum) {
      return {
        json: { added: "0", staked: formatKai(current.staked), minimum: formatKai(minimum) },
        text: `Nothing to stake: ${formatKai(current.staked)} KAI staked meets the checker minimum ${formatKai(minimum)} KAI (stake more with --amount).`,
      };
    }
    amount = minimum - current.staked;
  }
  const staked = await stakeKai(chain, amount, progress);
  return {
    json: { added: formatKai(amount), staked: formatKai(staked), minimum: formatKai(minimum) },
    text: `Staked ${formatKai(amount)} KAI: ${formatKai(staked)} KAI staked (checker minimum ${formatKai(minimum)} KAI).`,
  };
}

async function delegateAccept(ctx: Ctx): Promise<CommandResult> {
  const chain = await ctx.connect();
  const lines: string[] = [];
  const delegated: string[] = [];
  const owned = await ownedLicenses(chain);
  for (const l of owned) {
    if (l.suspended || l.operator !== "0x0000000000000000000000000000000000000000") continue;
    await sendTx(
      `CheckerLicense.delegate(${l.id}, ${chain.address})`,
      () => chain.contracts.CheckerLicense.delegate(l.id, chain.address),
      ctx.progress,
    );
    delegated.push(l.id.toString());
    lines.push(`Delegated license ${l.id}, which this key owns, to itself.`);
  }
  for (const l of owned) {
    if (l.suspended) lines.push(`License ${l.id} is suspended: governance must reinstate it before it counts.`);
    else if (!delegated.includes(l.id.toString()) && l.operator !== chain.address) {
      lines.push(`License ${l.id} (owned by this key) is delegated to ${l.operator}; left as it is.`);
    }
  }
  const s = await standing(chain);
  lines.unshift(
    `Operator ${chain.address}: ${s.licenses} license(s) delegated, stake ${formatKai(s.staked)} KAI (minimum ${formatKai(s.minimum)}), ` +
      `${s.inSet ? "in" : "not in"} the checker set.`,
  );
  const steps = nextSteps(chain.address, s);
  lines.push(...steps);
  return {
    json: {
      operator: chain.address,
      licenses: s.licenses,
      owned: owned.map((l) => ({ id: l.id.toString(), operator: l.operator, suspended: l.suspended })),
      delegated,
      staked: formatKai(s.staked),
      minimum: formatKai(s.minimum),
      inSet: s.inSet,
      nextSteps: steps,
    },
    text: lines.join("\n"),
  };
}

async function status(ctx: Ctx): Promise<CommandResult> {
  const chain = await ctx.connect();
  const s = await standing(chain);
  const now = (await chain.provider.getBlock("latest"))!.timestamp;
  const currentEpoch = Number(await chain.contracts.ReportOracle.epochAt(now));
  const json = {
    operator: chain.address,
    chainId: ctx.config.chainId,
    licenses: s.licenses,
    staked: formatKai(s.staked),
    unbonding: formatKai(s.unbonding),
    minimum: formatKai(s.minimum),
    stakeOk: s.staked >= s.minimum,
    inSet: s.inSet,
    checkers: s.set,
    configVersion: s.version,
    quorum: s.quorum,
    lastReportEpoch: s.lastEpoch,
    currentEpoch,
    nextSteps: nextSteps(chain.address, s),
  };
  const text = [
    `Checker operator ${chain.address} on chain ${ctx.config.chainId}`,
    `  licenses delegated  ${s.licenses}`,
    `  stake               ${json.staked} KAI (minimum ${json.minimum} KAI${json.stakeOk ? "" : ", BELOW IT"})` +
      (s.unbonding > 0n ? `, ${json.unbonding} KAI unbonding` : ""),
    `  checker set         ${s.inSet ? "yes" : "no"} (${s.set.length} operators` +
      (s.excluded > 0 ? `, ${s.excluded} excluded` : "") +
      `, config version ${s.version}, quorum ${s.quorum})`,
    `  epochs              current ${currentEpoch}, last reported ${s.lastEpoch ?? "none yet"}`,
    ...(s.inSet ? [] : json.nextSteps.map((l) => `  next: ${l}`)),
  ];
  return { json, text: text.join("\n") };
}

/**
 * `kaisar checker run`: opens the sample database, probes the configured `nodes` on their schedule and
 * serves the read-only API until SIGTERM or SIGINT, logging JSON lines (`{"at":"Checker#listen",...}`)
 * on stdout. With no static `nodes`, the nodes come from the NodeRegistry (src/chain/discovery.ts).
 */
async function checkerRun(opts: CommonOptions, io: Io, hooks: RunHooks): Promise<number> {
  const config: CheckerConfig | number = await roleConfig("checker", opts, io);
  if (typeof config === "number") return config;
  const log: (entry: CheckerLogEntry) => void = runLogger(io, opts);
  const stop = hooks.shutdown ? { signal: hooks.shutdown(), dispose: () => {} } : waitForSignal();
  let checker: RunningChecker;
  // No static `nodes`: read them from the NodeRegistry every discovery.interval.
  const source = config.nodes.length === 0 ? chainNodeSource(config) : undefined;
  // With the chain reachable: the oracle's epoch clock, and the epoch-end exchange and report. A static
  // node list without a chain (a probe-only checker) runs without them, and says so.
  let chain: Awaited<ReturnType<typeof checkerChain>> = undefined;
  try {
    chain = await checkerChain(config, log);
    checker = await startChecker(chain ? { ...config, epoch: chain.epoch } : config, {
      log,
      version,
      ...(chain && { chainClock: chain.clock }),
      ...(source && { discoverNodes: source.discover, discoverEveryMs: config.discovery.interval }),
      ...(chain && { epochContext: chain.epochContext }),
    });
  } catch (e) {
    source?.close();
    chain?.close();
    stop.dispose();
    if (e instanceof ConfigError) return configFailure(e, opts, io);
    log({ at: "Checker#error", error: (e as Error).message });
    return EXIT.error;
  }
  const signal = await stop.signal;
  log({ at: "Checker#shutdown", signal });
  await checker.stop();
  source?.close();
  chain?.close();
  return EXIT.ok;
}

/**
 * The checker's view of the chain: the oracle's epoch clock and an epoch context provider reading the
 * checker set, licenses, budget and delivered GPU-seconds. Undefined (logged) when the RPC does not
 * answer with the configured chain and the node list is static; with no static list the chain is required.
 */
async function checkerChain(config: CheckerConfig, log: (entry: CheckerLogEntry) => void) {
  const provider = rpcProvider(config.rpcUrl, config.chainId);
  try {
    await checkChainId(provider, config.chainId, config.rpcUrl);
    const contracts = connectContracts(config.contracts, provider);
    const epoch = await readEpochClock(contracts);
    // Chain time: what the checker stamps probes and cuts epochs by (src/chain/chainClock.ts).
    const clock = new ChainClock(providerBlocks(provider));
    await clock.refresh();
    const settle = settleProblem(config.exchange.settle, await clock.blockIntervalMs());
    if (settle) throw new ConfigError("checker", [settle], config.configFile);
    const nodes = () => discoverNodes(contracts);
    let known: { id: number; provider: string }[] = config.nodes;
    const context = chainEpochContext(contracts, config.chainId, () => known);
    return {
      epoch,
      clock,
      // The nodes of the epoch: read afresh from the registry (a static list when one is configured).
      epochContext: async (epoch: number) => {
        if (config.nodes.length === 0) known = await nodes();
        return context(epoch);
      },
      close: () => provider.destroy(),
    };
  } catch (e) {
    provider.destroy();
    if (config.nodes.length === 0 || e instanceof ConfigError) throw e;
    log({ at: "Checker#chain", ok: false, exchange: false, error: (e as Error).message });
    return undefined;
  }
}

/** `kaisar checker ...`, in the order of its help. */
export const checkerCommands: CommandGroup = {
  summary: "checker node: probe every node, agree on each epoch's scores, sign reports",
  commands: [
    initCommand("checker"),
    {
      name: "stake",
      summary: "stake KAI as a checker operator",
      options: (cmd) => void cmd.option("--amount <KAI>", "KAI to stake (default: up to ReportOracle.minCheckerStake)"),
      run: (opts, io) => chainCommand("checker", "stake", opts, io, (ctx) => stakeChecker(opts, ctx, ctx.progress)),
    },
    {
      name: "delegate-accept",
      summary: "check the licenses delegated to this operator key and join the checker set",
      details: "The license owner delegates with CheckerLicense.delegate; this command runs on the operator's machine.",
      run: (opts, io) => chainCommand("checker", "delegate-accept", opts, io, (ctx) => delegateAccept(ctx)),
    },
    {
      name: "run",
      summary: "probe every node on the schedule, exchange observations at epoch end, sign the epoch's report",
      run: checkerRun,
    },
    {
      name: "status",
      summary: "show licenses, stake, reports signed, error rate and rewards",
      run: (opts, io) => chainCommand("checker", "status", opts, io, (ctx) => status(ctx)),
    },
  ],
};
