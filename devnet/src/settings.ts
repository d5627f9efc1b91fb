/** `npm start`'s settings: its ports and epoch length from the environment (./env.ts), its options. */
import { existsSync } from "node:fs";
import path from "node:path";

import { SETTINGS, type EnvSetting, type SettingKey } from "./env";
import { ROOT } from "./paths";

/** A failure `npm start` explains in one line of its own (no stack trace). */
export class StartError extends Error {}

export type Settings = Record<SettingKey, number> & {
  verbose: boolean;
  /** Whether the web app exists (frontend/package.json). */
  web: boolean;
};

/** The setting's value in `env`: its default when unset or empty; a clear error when not a whole number in range. */
export function fromEnv(v: EnvSetting, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[v.name];
  if (raw === undefined || raw === "") return v.fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < v.min || n > v.max) {
    throw new StartError(`${v.name}=${raw} is not ${v.what} (a whole number in ${v.min}..${v.max})`);
  }
  return n;
}

export function readSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): Settings {
  const values = Object.fromEntries(Object.entries(SETTINGS).map(([k, v]) => [k, fromEnv(v, env)]));
  return {
    ...(values as Record<SettingKey, number>),
    verbose: argv.includes("--verbose"),
    web: existsSync(path.join(ROOT, "frontend", "package.json")),
  };
}
