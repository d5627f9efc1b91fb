/**
 * The frame of a CLI command that talks to the chain: the role's config, a session opened on demand
 * (chain id checked first), progress lines, and every failure printed once with its exit code (a
 * bad option names the option, a revert names the custom error, a config problem names the setting).
 */
import { ConfigError, type ConfigOf, type Role } from "../config";
import { EXIT, configFailure, print, roleConfig, type CommonOptions, type Io } from "../commands/common";
import { OptionError, RevertError, openChain, shortMessage, type ChainSession, type Progress } from "./tx";

export interface ChainCommandContext<R extends Role> {
  config: ConfigOf<R>;
  /** Connects (once) and checks the chain id. */
  connect(): Promise<ChainSession>;
  /** Progress lines: stdout, or stderr under --json. */
  progress: Progress;
}

/** What a command prints when it succeeds: the --json body and the text. */
export interface CommandResult {
  json: Record<string, unknown>;
  text: string;
}

/**
 * Runs `body` for `role` with its config and a lazily opened chain session; prints its result or
 * its failure and returns the exit code.
 */
export async function chainCommand<R extends Role>(
  role: R,
  command: string,
  opts: CommonOptions,
  io: Io,
  body: (ctx: ChainCommandContext<R>) => Promise<CommandResult>,
): Promise<number> {
  const config = await roleConfig(role, opts, io);
  if (typeof config === "number") return config;
  const progress: Progress = (line) => (opts.json ? io.err : io.out)(line + "\n");
  let session: Promise<ChainSession> | undefined;
  const connect = () => (session ??= openChain(config));
  try {
    const result = await body({ config, connect, progress });
    print(io, opts, { ok: true, ...result.json }, result.text);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof ConfigError) return configFailure(e, opts, io);
    const message = e instanceof OptionError || e instanceof RevertError ? e.message : shortMessage(e);
    const json: Record<string, unknown> = { ok: false, error: message };
    if (e instanceof OptionError) json.kind = "option";
    if (e instanceof RevertError && e.error) json.revert = e.error;
    if (opts.json) print(io, opts, json, "");
    else io.err(`kaisar ${role} ${command}: ${message}\n`);
    return EXIT.error;
  } finally {
    if (session) await session.then((s) => s.close()).catch(() => {});
  }
}
