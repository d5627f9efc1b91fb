/**
 * What every `kaisar` command shares: exit codes, output, configuration failures, signals.
 */
import { ConfigError, ENV, loadConfig, type ConfigOf, type Role } from "../config";
import { chainIdMismatch, rpcProvider } from "../chain/contracts";
import type { StartAgentOptions } from "../provider";

export const EXIT = { ok: 0, error: 1, config: 78 } as const;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether `out` is a terminal (then `run` commands print readable lines instead of JSON lines). */
  isTTY?: boolean;
}

/** How long-running commands (`run`) are stopped, and what they may be given (tests replace them). */
export interface RunHooks {
  /** Resolves (to the signal's name) when the command should stop; default: SIGTERM or SIGINT. */
  shutdown?: () => Promise<string>;
  /** Passed to the provider agent (hardware detection, solver). */
  agent?: Partial<Omit<StartAgentOptions, "log">>;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  isTTY: process.stdout.isTTY === true,
};

export interface CommonOptions {
  config?: string;
  json?: boolean;
}

export function print(io: Io, opts: CommonOptions, json: unknown, text: string) {
  if (opts.json) io.out(JSON.stringify(json, null, 2) + "\n");
  else io.out(text + "\n");
}

export /** Prints a configuration error (every problem, with its fix); returns the exit code. */
function configFailure(e: ConfigError, opts: CommonOptions, io: Io): number {
  if (opts.json) print(io, opts, { ok: false, error: "config", configFile: e.configFile, problems: e.problems }, "");
  else io.err(e.message + "\n");
  return EXIT.config;
}

/** The role's config, or the exit code of its configuration error (printed). */
export async function roleConfig<R extends Role>(role: R, opts: CommonOptions, io: Io): Promise<ConfigOf<R> | number> {
  try {
    return loadConfig(role, { file: opts.config });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return configFailure(await chainIdFirst(e), opts, io);
  }
}

/**
 * A configuration error seen through the chain id first: when the RPC answers with another chain than
 * `chainId`, that is the problem (the missing or wrong contract addresses follow from it), said first;
 * the contracts' problems are dropped. An RPC that does not answer leaves the error as it is.
 */
export async function chainIdFirst(e: ConfigError, timeoutMs = 5_000): Promise<ConfigError> {
  if (!e.chain) return e;
  const { chainId, rpcUrl } = e.chain;
  const provider = rpcProvider(rpcUrl, chainId, timeoutMs);
  let actual: number;
  try {
    actual = Number(await provider.send("eth_chainId", []));
  } catch {
    return e;
  } finally {
    provider.destroy();
  }
  if (actual === chainId) return e;
  const others = e.problems.filter((p) => !p.key.startsWith("contracts.") && p.key !== "deployment");
  return new ConfigError(
    e.role,
    [{ key: "chainId", env: ENV.chainId, ...chainIdMismatch(actual, chainId, rpcUrl) }, ...others],
    e.configFile,
  );
}

/** `signal` resolves to the name of the first SIGTERM or SIGINT; then, or on `dispose()`, it stops listening. */
export function waitForSignal(): { signal: Promise<string>; dispose(): void } {
  let on: (signal: NodeJS.Signals) => void = () => {};
  const dispose = () => void process.off("SIGTERM", on).off("SIGINT", on);
  const signal = new Promise<string>((resolve) => {
    on = (name) => {
      dispose();
      resolve(name);
    };
    process.on("SIGTERM", on).on("SIGINT", on);
  });
  return { signal, dispose };
}

/** A subcommand of a role: its name and help, its extra options and what it does. */
export interface CommandSpec {
  name: string;
  /** One line for `kaisar <role> --help`. */
  summary: string;
  /** More for `kaisar <role> <name> --help`, after the summary. */
  details?: string;
  /** Adds the command's own options (beyond --config and --json). */
  options?: (cmd: import("commander").Command) => void;
  run(opts: CommonOptions & Record<string, unknown>, io: Io, hooks: RunHooks): Promise<number>;
}

/** A role's commands (src/commands/<role>.ts), in the order `kaisar <role> --help` lists them. */
export interface CommandGroup {
  summary: string;
  commands: CommandSpec[];
}
