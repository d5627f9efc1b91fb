/**
 * The `kaisar` command: one binary for the three roles of the node software.
 *
 *   kaisar provider init|register|stake|unstake|withdraw|claim|withdraw-vested|status|run
 *   kaisar checker  init|stake|delegate-accept|run|status
 *   kaisar keeper   init|run|submit|status
 *
 * Every command takes `--config <file>` and `--json`. The configuration is loaded and validated
 * before anything else runs; a bad one stops the command with every problem and its fix.
 *
 * Exit codes: 0 done, 1 usage or unexpected error, 78 configuration error
 * (EX_CONFIG in sysexits.h).
 */
import { Command, CommanderError, Option } from "commander";

import { version } from "../package.json";
import {
  ConfigError,
  defaultConfigFile,
  writeExampleConfig,
  type CheckerConfig,
  type ConfigProblem,
  type ProviderConfig,
  type Role,
} from "./config";
import { detectHardware, startAgent, type Detection, type LogEntry } from "./provider";
import { startChecker, type CheckerLogEntry, type RunningChecker } from "./checker/run";
import {
  EXIT,
  configFailure,
  print,
  processIo,
  roleConfig,
  waitForSignal,
  type CommandSpec,
  type CommonOptions,
  type Io,
  type RunHooks,
} from "./commands/common";
import { checkerCommands } from "./commands/checker";
import { runLogger } from "./commands/logFormat";
import { keeperCommands } from "./commands/keeper";
import { hardwareProblem, providerCommands } from "./commands/provider";
import { checkChainId, connectContracts, rpcProvider } from "./chain/contracts";
import { chainNodeSource, discoverNodes } from "./chain/discovery";
import { ChainClock, providerBlocks, settleProblem } from "./chain/chainClock";
import { chainEpochContext, readEpochClock } from "./chain/epochContext";

export { EXIT, type Io, type RunHooks } from "./commands/common";

/** Commands implemented in src/commands/<role>.ts, by role and name. */
const COMMANDS: Record<Role, Record<string, CommandSpec>> = {
  provider: providerCommands,
  checker: checkerCommands,
  keeper: keeperCommands,
};

interface Leaf {
  name: string;
  summary: string;
  details?: string;
}

const ROLE_SUMMARY: Record<Role, string> = {
  provider: "provider agent: list GPUs, stake, answer checker probes, get paid",
  checker: "checker node: probe every node, agree on each epoch's scores, sign reports",
  keeper: "keeper: relay quorum-signed reports, publish reward proofs, apply SLA credits, slash, settle rentals",
};

const INIT: Leaf = {
  name: "init",
  summary: "write an example config file with every setting, its default and its environment variable",
  details: "Refuses to overwrite an existing file unless --force is given.",
};

const LEAVES: Record<Role, Leaf[]> = {
  provider: [
    INIT,
    {
      name: "register",
      summary:
        "register this machine's GPUs as a node (specs from nvidia-smi or the declared profile, price per GPU-hour)",
    },
    { name: "stake", summary: "stake KAI for the node's GPUs (base per GPU x GPU-class multiplier)" },
    {
      name: "unstake",
      summary: "request to unstake: the stake unbonds (14 days by default) and stays slashable meanwhile",
    },
    { name: "withdraw", summary: "withdraw unbonded stake and rental earnings" },
    {
      name: "claim",
      summary: "claim the nodes' epoch rewards: proofs from the keeper (keeperUrl), checked against the chain's roots",
      details: "The KAI claimed vests from the end of the day (UTC); `kaisar provider status` lists the positions.",
    },
    {
      name: "withdraw-vested",
      summary: "withdraw a vesting position of claimed rewards (before it is fully vested only with --accept-loss)",
    },
    {
      name: "status",
      summary: "show the nodes, stake, unbonding, earnings, rewards and penalties with their evidence",
    },
    {
      name: "run",
      summary: "run the agent: answer checker probes (health, signed hardware report, bandwidth, compute challenges)",
    },
  ],
  checker: [
    INIT,
    { name: "stake", summary: "stake KAI as a checker operator" },
    {
      name: "delegate-accept",
      summary: "check the licenses delegated to this operator key and join the checker set",
      details: "The license owner delegates with CheckerLicense.delegate; this command runs on the operator's machine.",
    },
    {
      name: "run",
      summary: "probe every node on the schedule, exchange observations at epoch end, sign the epoch's report",
    },
    { name: "status", summary: "show licenses, stake, reports signed, error rate and rewards" },
  ],
  keeper: [
    INIT,
    {
      name: "run",
      summary:
        "gather signatures until quorum, submit reports, publish trees and proofs, apply SLA credits, slash downtime and hardware fraud, settle rentals",
    },
    { name: "submit", summary: "submit one epoch's report now, if it has a quorum of signatures" },
    { name: "status", summary: "show pending epochs, signatures gathered, submitted reports and the keeper's balance" },
  ],
};

/** The `kaisar` program; `io` receives everything it prints. */
export function buildProgram(io: Io = processIo, hooks: RunHooks = {}): { program: Command; exitCode: () => number } {
  let code: number = EXIT.ok;
  const program = new Command("kaisar")
    .description("Kaisar node software: provider agent, checker node and keeper of the Kaisar GPU cloud")
    .version(version, "-V, --version")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError("(add --help for usage)")
    .addHelpText(
      "after",
      `
Configuration: a JSON file (--config, default ./kaisar.<role>.json; \`kaisar <role> init\` writes one)
overridden by KAISAR_* environment variables, validated before every command.

Exit codes: 0 done, 1 usage or unexpected error, 78 configuration error.`,
    );

  for (const role of ["provider", "checker", "keeper"] as const) {
    const roleCommand = program
      .command(role)
      .description(ROLE_SUMMARY[role])
      .exitOverride()
      .configureOutput({ writeOut: io.out, writeErr: io.err });
    for (const leaf of LEAVES[role]) {
      const cmd = roleCommand
        .command(leaf.name)
        .summary(leaf.summary)
        .description(leaf.summary + (leaf.details ? `\n\n${leaf.details}` : ""))
        .exitOverride()
        .configureOutput({ writeOut: io.out, writeErr: io.err })
        .addOption(
          new Option("-c, --config <file>", `config file (default ./${defaultConfigFile(role)} if it exists)`).env(
            "KAISAR_CONFIG",
          ),
        )
        .option("--json", "print machine-readable JSON on stdout");
      if (leaf.name === "init") {
        cmd.option("-f, --force", "overwrite an existing file");
        cmd.action((opts: CommonOptions & { force?: boolean }) => {
          code = init(role, opts, io);
        });
      } else if (role === "checker" && leaf.name === "run") {
        cmd.action(async (opts: CommonOptions) => {
          code = await checkerRun(opts, io, hooks);
        });
      } else if (role === "provider" && leaf.name === "run") {
        cmd.action(async (opts: CommonOptions) => {
          code = await providerRun(opts, io, hooks);
        });
      } else if (role === "provider" && leaf.name === "register") {
        cmd.option("--dry-run", "only detect the hardware and say where the figures come from; send nothing");
        cmd.action(async (opts: CommonOptions & { dryRun?: boolean } & Record<string, unknown>) => {
          code = opts.dryRun
            ? await providerRegisterDryRun(opts, io, hooks)
            : await COMMANDS.provider.register.run(opts, io, hooks);
        });
      } else {
        const spec = COMMANDS[role][leaf.name];
        if (!spec) throw new Error(`kaisar ${role} ${leaf.name} has no implementation in src/commands/${role}.ts`);
        spec.options?.(cmd);
        cmd.action(async (opts: CommonOptions & Record<string, unknown>) => {
          code = await spec.run(opts, io, hooks);
        });
      }
    }
  }
  return { program, exitCode: () => code };
}

function init(role: Role, opts: CommonOptions & { force?: boolean }, io: Io): number {
  const file = opts.config ?? defaultConfigFile(role);
  let written: string;
  try {
    written = writeExampleConfig(role, file, opts.force);
  } catch (e) {
    const message = (e as Error).message;
    if (opts.json) print(io, opts, { ok: false, error: message }, "");
    else io.err(`kaisar ${role} init: ${message}\n`);
    return EXIT.error;
  }
  print(
    io,
    opts,
    { ok: true, written },
    `Wrote ${written}.\nEdit it (every setting is explained in its "$" comment), export KAISAR_PRIVATE_KEY, then run ` +
      `\`kaisar ${role} status --config ${file}\`.`,
  );
  return EXIT.ok;
}

/** The provider's config, or the exit code of its configuration error. */
function providerConfig(opts: CommonOptions, io: Io): Promise<ProviderConfig | number> {
  return roleConfig("provider", opts, io);
}

/** `kaisar provider register --dry-run`: the hardware the node would register, and where it comes from. */
async function providerRegisterDryRun(opts: CommonOptions, io: Io, hooks: RunHooks): Promise<number> {
  const config = await providerConfig(opts, io);
  if (typeof config === "number") return config;
  let detection: Detection;
  try {
    detection = await detectHardware({
      profile: config.hardwareProfile,
      diskPath: config.dataDir,
      ...hooks.agent?.detect,
    });
  } catch (e) {
    const problem = hardwareProblem(e, config);
    if (problem) return configFailure(problem, opts, io);
    throw e;
  }
  const h = detection.hardware;
  const lines = [
    `Hardware from ${h.source === "nvidia-smi" ? "nvidia-smi" : "the declared profile"} (${detection.reason}):`,
    `  GPUs       ${h.gpuCount} x ${h.gpuModel}, ${h.vramGiB} GiB each`,
    `  CPU        ${h.cpuCores} cores`,
    `  RAM        ${h.ramGiB} GiB`,
    `  disk       ${h.diskGiB} GiB`,
    `  bandwidth  ${h.bandwidthMbps ? `${h.bandwidthMbps} Mbps (declared)` : "not declared (checkers measure it)"}`,
    ...detection.notes.map((n) => `note: ${n}`),
    "Dry run: nothing was sent (`kaisar provider register` without --dry-run registers it).",
  ];
  print(io, opts, { ok: true, dryRun: true, ...detection }, lines.join("\n"));
  return EXIT.ok;
}

/**
 * `kaisar provider run`: serves the checker-facing API until SIGTERM or SIGINT, logging on stdout
 * (readable lines on a terminal, JSON lines `{"at":"Agent#listen",...}` otherwise or with --json), and writes the launch spec of each new rental of the node
 * (`Agent#rental`, <dataDir>/rentals).
 */
async function providerRun(opts: CommonOptions, io: Io, hooks: RunHooks): Promise<number> {
  const config = await providerConfig(opts, io);
  if (typeof config === "number") return config;
  if (config.nodeId === undefined) {
    const problem: ConfigProblem = {
      key: "nodeId",
      env: "KAISAR_NODE_ID",
      problem: "is not set: the agent answers checkers for one registered node",
      fix: 'register the node (`kaisar provider register`), then set "nodeId" in the config file or export KAISAR_NODE_ID',
    };
    return configFailure(new ConfigError("provider", [problem], config.configFile), opts, io);
  }
  const log: (entry: LogEntry) => void = runLogger(io, opts);
  // Listen for the signals first: one that comes while the agent starts still stops it.
  const stop = hooks.shutdown ? { signal: hooks.shutdown(), dispose: () => {} } : waitForSignal();
  let agent;
  try {
    agent = await startAgent(config, { log, ...hooks.agent });
  } catch (e) {
    stop.dispose();
    const problem = hardwareProblem(e, config);
    if (problem) return configFailure(problem, opts, io);
    log({ at: "Agent#error", error: (e as Error).message });
    return EXIT.error;
  }
  const signal = await stop.signal;
  log({ at: "Agent#shutdown", signal });
  await agent.close();
  return EXIT.ok;
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

/** Runs `kaisar` with `argv` (as process.argv: node, script, ...args); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo, hooks: RunHooks = {}): Promise<number> {
  const { program, exitCode } = buildProgram(io, hooks);
  try {
    await program.parseAsync([...argv]);
    return exitCode();
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    io.err(`kaisar: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.error;
  }
}
