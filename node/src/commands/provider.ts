/**
 * `kaisar provider ...` commands (the table cli.ts wires): init, register, stake, unstake,
 * withdraw, claim, withdraw-vested, status, run (claim, withdraw-vested and status in providerStatus.ts; run and
 * register --dry-run in providerRun.ts). Every transaction checks the chain id first, prints its progress
 * and decodes a revert to the contract's custom error.
 */
import { decodeBytes32String, encodeBytes32String, formatUnits, parseUnits, type EventLog, type Log } from "ethers";

import { NodeStatus } from "@kaisar/offchain";

import { ConfigError, ENV, setConfigValue, type ConfigProblem, type ProviderConfig } from "../config";
import { chainCommand, type CommandResult } from "../chain/command";
import type { KaisarContracts } from "../chain/contracts";
import { providerNodes, providerRentals } from "../chain/rentals";
import { OptionError, formatKai, parseKaiOption, sendTx, stakeKai } from "../chain/tx";
import { detectHardware, type Detection } from "../provider";
import type { CommandGroup, RunHooks } from "./common";
import { initCommand } from "./init";
import { hardwareProblem, providerRegisterDryRun, providerRun } from "./providerRun";
import { claim, status, withdrawVested } from "./providerStatus";

/** GPU model (as nvidia-smi names it) -> the GPU class name of the deployments' class table. */
const GPU_CLASS_BY_MODEL: [RegExp, string][] = [
  [/H100/i, "H100-80GB"],
  [/A100/i, "A100-80GB"],
  [/L40S/i, "L40S-48GB"],
  [/4090/, "RTX4090-24GB"],
  [/3090/, "RTX3090-24GB"],
];

/** The GPU class name for `gpuModel` by the table above (undefined if none matches). */
export function gpuClassOfModel(gpuModel: string): string | undefined {
  return GPU_CLASS_BY_MODEL.find(([re]) => re.test(gpuModel))?.[1];
}

const problem = (config: ProviderConfig, p: ConfigProblem) => new ConfigError("provider", [p], config.configFile);

async function detect(config: ProviderConfig, hooks: RunHooks): Promise<Detection> {
  try {
    return await detectHardware({ profile: config.hardwareProfile, diskPath: config.dataDir, ...hooks.agent?.detect });
  } catch (e) {
    throw hardwareProblem(e, config) ?? e;
  }
}

/** The GPU class's index on chain for `name`, and its multiplier; a config error naming gpuClass otherwise. */
async function resolveGpuClass(contracts: KaisarContracts, config: ProviderConfig, name: string) {
  const count = Number(await contracts.NodeRegistry.gpuClassCount());
  const open: string[] = [];
  for (let i = 0; i < count; i++) {
    const c = await contracts.NodeRegistry.getGpuClass(i);
    const label = decodeBytes32String(c.name);
    if (c.active) open.push(label);
    if (c.name === encodeBytes32String(name)) {
      if (!c.active) break;
      return { index: i, multiplierBps: c.multiplierBps };
    }
  }
  throw problem(config, {
    key: "gpuClass",
    env: ENV.gpuClass,
    problem: `GPU class "${name}" is not open to new nodes on chain ${config.chainId}`,
    fix: `set "gpuClass" to one of the chain's classes: ${open.join(", ")}`,
  });
}

function eventArgs(logs: readonly (EventLog | Log)[], contracts: KaisarContracts, name: string) {
  for (const log of logs) {
    try {
      const parsed = contracts.NodeRegistry.interface.parseLog(log);
      if (parsed?.name === name) return parsed.args;
    } catch {
      // another contract's log
    }
  }
  return undefined;
}

const date = (seconds: bigint | number) => new Date(Number(seconds) * 1000).toISOString();

async function register(opts: Record<string, unknown>, config: ProviderConfig, hooks: RunHooks, ctx: Ctx) {
  const detection = await detect(config, hooks);
  const h = detection.hardware;
  const className = config.gpuClass ?? gpuClassOfModel(h.gpuModel);
  if (!className) {
    throw problem(config, {
      key: "gpuClass",
      env: ENV.gpuClass,
      problem: `no GPU class is known for the GPU model "${h.gpuModel}"`,
      fix: 'set "gpuClass" to the chain\'s class name for it, e.g. "RTX4090-24GB"',
    });
  }
  if (config.pricePerGpuHour === undefined) {
    throw problem(config, {
      key: "pricePerGpuHour",
      env: ENV.pricePerGpuHour,
      problem: "is not set: register lists the node at a price per GPU-hour in KAI",
      fix: `set "pricePerGpuHour" in the config file or export ${ENV.pricePerGpuHour}, e.g. "2.5"`,
    });
  }
  if (!h.bandwidthMbps) {
    throw problem(config, {
      key: "hardwareProfile",
      env: ENV.hardwareProfile,
      problem: "declares no bandwidthMbps, and the NodeRegistry needs the node's declared uplink",
      fix: 'add "bandwidthMbps" (e.g. 1000) to the hardware profile file (checkers measure it anyway)',
    });
  }
  const price = parseUnits(config.pricePerGpuHour, 18);
  const chain = await ctx.connect();
  const { contracts } = chain;
  const gpuClass = await resolveGpuClass(contracts, config, className);
  const spec = {
    gpuClass: gpuClass.index,
    gpuCount: h.gpuCount,
    vramGiB: h.vramGiB,
    cpuCores: h.cpuCores,
    ramGiB: h.ramGiB,
    diskGiB: h.diskGiB,
    bandwidthMbps: h.bandwidthMbps,
    region: encodeBytes32String(config.region).slice(0, 18),
  };
  // The same endpoint listed twice would be probed twice: point at the existing node instead.
  const existing = (await providerNodes(contracts, chain.address)).find(
    (n) => n.node.metadataURI === config.publicUrl && Number(n.node.status) !== NodeStatus.Retired,
  );
  if (existing) {
    throw new Error(
      `${chain.address} already registered ${config.publicUrl} as node ${existing.nodeId}: set nodeId ` +
        `(env ${ENV.nodeId}) to ${existing.nodeId}, or change publicUrl (env ${ENV.publicUrl}) to list another node`,
    );
  }

  // Stake what the new node adds to the requirement, beyond what is staked.
  const { NodeRegistry, KaiToken } = contracts;
  const [stake, required, base] = await Promise.all([
    NodeRegistry.getStake(chain.address),
    NodeRegistry.requiredStake(chain.address),
    NodeRegistry.baseStakePerGpu(),
  ]);
  const after = required + (base * BigInt(h.gpuCount) * BigInt(gpuClass.multiplierBps)) / 10_000n;
  const toStake = after > stake.staked ? after - stake.staked : 0n;
  if (toStake > 0n) {
    const balance = await KaiToken.balanceOf(chain.address);
    if (balance < toStake) {
      throw new Error(
        `node ${className} x ${h.gpuCount} needs ${formatKai(after)} KAI staked; ${chain.address} stakes ` +
          `${formatKai(stake.staked)} and holds ${formatKai(balance)} KAI, short of the ${formatKai(toStake)} to add: ` +
          `send it KAI, then register again`,
      );
    }
    ctx.progress(`staking ${formatKai(toStake)} KAI first (required after this node: ${formatKai(after)} KAI)`);
    await stakeKai(chain, toStake, ctx.progress);
  } else {
    ctx.progress(`stake ${formatKai(stake.staked)} KAI already covers the ${formatKai(after)} KAI required`);
  }
  const token = await KaiToken.getAddress();
  const receipt = await sendTx(
    `NodeRegistry.registerNode(${className} x ${h.gpuCount}, ${config.publicUrl}, ${config.pricePerGpuHour} KAI/GPU-hour)`,
    () => NodeRegistry.registerNode(spec, config.publicUrl, [token], [price]),
    ctx.progress,
  );
  const args = eventArgs(receipt.logs, contracts, "RegisterNode");
  if (!args) throw new Error("the registration was mined but its RegisterNode event is missing");
  const nodeId = Number(args.nodeId);
  const json = {
    nodeId,
    provider: chain.address,
    gpuClass: className,
    spec: { ...spec, region: config.region },
    metadataURI: config.publicUrl,
    pricePerGpuHour: config.pricePerGpuHour,
    staked: formatKai(toStake > 0n ? stake.staked + toStake : stake.staked),
    stakedNow: formatKai(toStake),
    requiredStake: formatKai(after),
    hardwareSource: h.source,
    transaction: receipt.hash,
    block: receipt.blockNumber,
  };
  const saved = saveNodeId(config, nodeId);
  const text = [
    `Registered node ${nodeId}: ${h.gpuCount} x ${className} (${h.gpuModel}, ${h.vramGiB} GiB each) at ${config.pricePerGpuHour} KAI per GPU-hour, endpoint ${config.publicUrl}.`,
    toStake > 0n ? `Staked ${formatKai(toStake)} KAI (required: ${formatKai(after)} KAI).` : "",
    saved.text,
  ].filter(Boolean);
  return { json: { ...json, configFile: saved.file ?? null }, text: text.join("\n") };
}

/**
 * Writes the new node's id into the config file ("nodeId"), so that `kaisar provider run` answers for
 * it; says what was written, or what to set when there is no file to write (or it cannot be written).
 */
function saveNodeId(config: ProviderConfig, nodeId: number): { file?: string; text: string } {
  const next = "`kaisar provider run`";
  const env = process.env[ENV.nodeId]?.trim();
  const envNote =
    env && env !== String(nodeId)
      ? ` ${ENV.nodeId}=${env} is exported and wins over the file: unset it or export ${ENV.nodeId}=${nodeId}.`
      : "";
  if (!config.configFile) {
    return {
      text: `Next: export ${ENV.nodeId}=${nodeId} (or set "nodeId": ${nodeId} in a config file), then ${next}.`,
    };
  }
  try {
    const previous = setConfigValue(config.configFile, "nodeId", nodeId);
    const was = previous !== undefined && previous !== "" ? ` (was ${JSON.stringify(previous)})` : "";
    return {
      file: config.configFile,
      text: `Wrote "nodeId": ${nodeId} to ${config.configFile}${was}; next: ${next}.${envNote}`,
    };
  } catch (e) {
    return {
      text: `Could not write "nodeId" to ${config.configFile} (${(e as Error).message}): set "nodeId": ${nodeId} there (or export ${ENV.nodeId}=${nodeId}), then ${next}.`,
    };
  }
}

export type Ctx = Parameters<Parameters<typeof chainCommand<"provider">>[4]>[0];

async function stake(opts: Record<string, unknown>, ctx: Ctx): Promise<CommandResult> {
  let amount = opts.amount === undefined ? undefined : parseKaiOption(opts.amount, "--amount");
  const chain = await ctx.connect();
  const { NodeRegistry } = chain.contracts;
  const [current, required] = await Promise.all([
    NodeRegistry.getStake(chain.address),
    NodeRegistry.requiredStake(chain.address),
  ]);
  if (amount === undefined) {
    if (current.staked >= required) {
      const text = `Nothing to stake: ${formatKai(current.staked)} KAI staked covers the ${formatKai(required)} KAI required (stake more with --amount).`;
      return { json: { staked: formatKai(current.staked), required: formatKai(required), added: "0" }, text };
    }
    amount = required - current.staked;
  }
  const staked = await stakeKai(chain, amount, ctx.progress);
  return {
    json: { added: formatKai(amount), staked: formatKai(staked), required: formatKai(required) },
    text: `Staked ${formatKai(amount)} KAI: ${formatKai(staked)} KAI staked, ${formatKai(required)} KAI required.`,
  };
}

async function unstake(opts: Record<string, unknown>, ctx: Ctx): Promise<CommandResult> {
  if (opts.amount === undefined) throw new OptionError("--amount is required: the KAI to unstake, e.g. --amount 1000");
  const amount = parseKaiOption(opts.amount, "--amount");
  const chain = await ctx.connect();
  const { NodeRegistry } = chain.contracts;
  await sendTx(
    `NodeRegistry.requestUnstake(${formatKai(amount)} KAI)`,
    () => NodeRegistry.requestUnstake(amount),
    ctx.progress,
  );
  const s = await NodeRegistry.getStake(chain.address);
  return {
    json: {
      requested: formatKai(amount),
      staked: formatKai(s.staked),
      unbonding: formatKai(s.unbonding),
      unbondingEnd: Number(s.unbondingEnd),
      unbondingEndIso: date(s.unbondingEnd),
    },
    text:
      `Requested to unstake ${formatKai(amount)} KAI: ${formatKai(s.unbonding)} KAI unbonds until ${date(s.unbondingEnd)} ` +
      `(slashable until then), then \`kaisar provider withdraw\` sends it back. Still staked: ${formatKai(s.staked)} KAI.`,
  };
}

async function withdraw(_opts: Record<string, unknown>, ctx: Ctx): Promise<CommandResult> {
  const chain = await ctx.connect();
  const { NodeRegistry, RentalEscrow, KaiToken } = chain.contracts;
  const lines: string[] = [];
  const json: Record<string, unknown> = { unstaked: "0", rewards: "0", earnings: [] };
  const now = BigInt((await chain.provider.getBlock("latest"))!.timestamp);
  const s = await NodeRegistry.getStake(chain.address);
  if (s.unbonding > 0n && s.unbondingEnd <= now) {
    const before = await KaiToken.balanceOf(chain.address);
    await sendTx("NodeRegistry.withdrawUnstaked()", () => NodeRegistry.withdrawUnstaked(), ctx.progress);
    const got = (await KaiToken.balanceOf(chain.address)) - before;
    json.unstaked = formatKai(got);
    lines.push(`Withdrew ${formatKai(got)} KAI of unbonded stake.`);
  } else if (s.unbonding > 0n) {
    lines.push(`${formatKai(s.unbonding)} KAI is still unbonding until ${date(s.unbondingEnd)}: withdraw it then.`);
    json.unbonding = { amount: formatKai(s.unbonding), until: Number(s.unbondingEnd) };
  } else lines.push("No unbonded stake to withdraw.");
  if (s.rewardsOwed > 0n) {
    await sendTx("NodeRegistry.withdrawRewards()", () => NodeRegistry.withdrawRewards(), ctx.progress);
    json.rewards = formatKai(s.rewardsOwed);
    lines.push(`Withdrew ${formatKai(s.rewardsOwed)} KAI of rewards.`);
  }
  const byToken = new Map<string, bigint[]>();
  for (const r of await providerRentals(chain.contracts, chain.address)) {
    if (r.withdrawable > 0n) byToken.set(r.token, [...(byToken.get(r.token) ?? []), r.rentalId]);
  }
  const earnings: Record<string, unknown>[] = [];
  for (const [token, ids] of byToken) {
    const receipt = await sendTx(
      `RentalEscrow.withdrawEarnings(${token}, rentals ${ids.join(", ")})`,
      () => RentalEscrow.withdrawEarnings(token, ids),
      ctx.progress,
    );
    let net = 0n;
    let fee = 0n;
    for (const log of receipt.logs) {
      try {
        const parsed = RentalEscrow.interface.parseLog(log);
        if (parsed?.name === "WithdrawEarnings") {
          const [gross, f] = [BigInt(parsed.args.gross), BigInt(parsed.args.fee)];
          [net, fee] = [gross - f, f];
        }
      } catch {
        // another contract's log
      }
    }
    const kaiToken = token === (await KaiToken.getAddress());
    const show = (v: bigint) => (kaiToken ? `${formatKai(v)} KAI` : `${formatUnits(v, 18)} of token ${token}`);
    earnings.push({ token, rentals: ids.map(String), net: formatUnits(net, 18), fee: formatUnits(fee, 18) });
    lines.push(`Withdrew ${show(net)} of earnings from rentals ${ids.join(", ")} (protocol fee ${show(fee)}).`);
  }
  if (byToken.size === 0) lines.push("No rental earnings to withdraw.");
  json.earnings = earnings;
  return { json, text: lines.join("\n") };
}

const amountOption = (what: string) => (cmd: import("commander").Command) => void cmd.option("--amount <KAI>", what);

/** `kaisar provider ...`, in the order of its help. */
export const providerCommands: CommandGroup = {
  summary: "provider agent: list GPUs, stake, answer checker probes, get paid",
  commands: [
    initCommand("provider"),
    {
      name: "register",
      summary:
        "register this machine's GPUs as a node (specs from nvidia-smi or the declared profile, price per GPU-hour)",
      options: (cmd) =>
        void cmd.option("--dry-run", "only detect the hardware and say where the figures come from; send nothing"),
      run: (opts, io, hooks) =>
        opts.dryRun
          ? providerRegisterDryRun(opts, io, hooks)
          : chainCommand("provider", "register", opts, io, (ctx) => register(opts, ctx.config, hooks, ctx)),
    },
    {
      name: "stake",
      summary: "stake KAI for the node's GPUs (base per GPU x GPU-class multiplier)",
      options: amountOption("KAI to stake (default: what the listed GPUs still require)"),
      run: (opts, io) => chainCommand("provider", "stake", opts, io, (ctx) => stake(opts, ctx)),
    },
    {
      name: "unstake",
      summary: "request to unstake: the stake unbonds (14 days by default) and stays slashable meanwhile",
      options: amountOption("KAI to move from stake into unbonding"),
      run: (opts, io) => chainCommand("provider", "unstake", opts, io, (ctx) => unstake(opts, ctx)),
    },
    {
      name: "withdraw",
      summary: "withdraw unbonded stake and rental earnings",
      run: (opts, io) => chainCommand("provider", "withdraw", opts, io, (ctx) => withdraw(opts, ctx)),
    },
    {
      name: "claim",
      summary: "claim the nodes' epoch rewards: proofs from the keeper (keeperUrl), checked against the chain's roots",
      details: "The KAI claimed vests from the end of the day (UTC); `kaisar provider status` lists the positions.",
      run: (opts, io) => chainCommand("provider", "claim", opts, io, (ctx) => claim(ctx)),
    },
    {
      name: "withdraw-vested",
      summary: "withdraw a vesting position of claimed rewards (before it is fully vested only with --accept-loss)",
      options: (cmd) =>
        void cmd
          .option("--day <YYYY-MM-DD>", "the vesting position to withdraw (`kaisar provider status` lists them)")
          .option("--accept-loss", "withdraw before the position is fully vested, forfeiting the rest"),
      run: (opts, io) => chainCommand("provider", "withdraw-vested", opts, io, (ctx) => withdrawVested(opts, ctx)),
    },
    {
      name: "status",
      summary: "show the nodes, stake, unbonding, earnings, rewards and penalties with their evidence",
      run: (opts, io) => chainCommand("provider", "status", opts, io, (ctx) => status(ctx)),
    },
    {
      name: "run",
      summary: "run the agent: answer checker probes (health, signed hardware report, bandwidth, compute challenges)",
      run: providerRun,
    },
  ],
};
