/**
 * `kaisar provider run` (the agent until SIGTERM or SIGINT) and `kaisar provider register --dry-run`
 * (the hardware the node would register, and where each figure comes from).
 */
import { ConfigError, ENV, type ConfigProblem, type ProviderConfig } from "../config";
import {
  HARDWARE_PROFILE_SCHEMA_FILE,
  HardwareDetectionError,
  HardwareProfileError,
  detectHardware,
  startAgent,
  type Detection,
  type LogEntry,
} from "../provider";
import {
  EXIT,
  configFailure,
  print,
  roleConfig,
  waitForSignal,
  type CommonOptions,
  type Io,
  type RunHooks,
} from "./common";
import { runLogger } from "./logFormat";

/** A hardware profile or detection failure, as a problem of the `hardwareProfile` setting. */
export function hardwareProblem(e: unknown, config: ProviderConfig): ConfigError | undefined {
  if (!(e instanceof HardwareProfileError) && !(e instanceof HardwareDetectionError)) return undefined;
  const problem: ConfigProblem = {
    key: "hardwareProfile",
    env: ENV.hardwareProfile,
    problem: e.message,
    fix:
      'point it at a JSON file {"gpuModel": "NVIDIA GeForce RTX 4090", "gpuCount": 1, "vramGiB": 24} (optional: ' +
      `cpuCores, ramGiB, diskGiB, bandwidthMbps; the format: ${HARDWARE_PROFILE_SCHEMA_FILE}), or install the NVIDIA ` +
      "driver so that nvidia-smi runs",
  };
  return new ConfigError("provider", [problem], config.configFile);
}

/** `kaisar provider register --dry-run`: the hardware the node would register, and where it comes from. */
export async function providerRegisterDryRun(opts: CommonOptions, io: Io, hooks: RunHooks): Promise<number> {
  const config: ProviderConfig | number = await roleConfig("provider", opts, io);
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
export async function providerRun(opts: CommonOptions, io: Io, hooks: RunHooks): Promise<number> {
  const config: ProviderConfig | number = await roleConfig("provider", opts, io);
  if (typeof config === "number") return config;
  if (config.nodeId === undefined) {
    const problem: ConfigProblem = {
      key: "nodeId",
      env: ENV.nodeId,
      problem: "is not set: the agent answers checkers for one registered node",
      fix: `register the node (\`kaisar provider register\`), then set "nodeId" in the config file or export ${ENV.nodeId}`,
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
