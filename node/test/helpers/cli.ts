/**
 * The `kaisar` command run in the test's process, as the CLI tests drive it.
 */
import { main, type RunHooks } from "../../src/cli";
import { ENV_PREFIX } from "../../src/config";
import { NO_SMI } from "./support";

export interface KaisarRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs `kaisar ...args` (hardware from the declared profile: no nvidia-smi, unless `hooks.agent` says
 * otherwise); its exit code and what it printed on stdout and stderr.
 */
export async function kaisar(args: string[], hooks: RunHooks = {}): Promise<KaisarRun> {
  let out = "";
  let err = "";
  const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
  const code = await main(["node", "kaisar", ...args], io, { agent: { detect: { run: NO_SMI } }, ...hooks });
  return { code, out, err };
}

/** Removes every KAISAR_* variable from this process's environment (the test sets its own). */
export function clearKaisarEnv(): void {
  for (const k of Object.keys(process.env)) if (k.startsWith(ENV_PREFIX)) delete process.env[k];
}
