/**
 * The example config `kaisar <role> init` writes: every setting of the role with its default (or an
 * example), each preceded by a "$<key>" comment that says what it is, its environment variable and
 * what a valid value looks like.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import path from "path";

import { ENV, ROLE_CONTRACTS, contractEnv, settingsOf, type Role } from "./schema";

const TITLE: Record<Role, string> = {
  provider: "Kaisar provider agent",
  checker: "Kaisar checker node",
  keeper: "Kaisar keeper",
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The example config of `role` as a JSON object (comments in "$" keys). */
export function exampleConfig(role: Role): Record<string, Json> {
  const out: Record<string, Json> = {
    $comment: [
      `${TITLE[role]} configuration: \`kaisar ${role} <command> --config <this file>\`.`,
      "Each setting can be overridden by the environment variable named in its comment; pass the private key",
      `that way (${ENV.privateKey}) rather than in this file. Keys starting with $ are comments; an empty`,
      'string means "not set". Durations are strings with units: "500ms", "30s", "15m", "1h30m", "1d".',
      "Relative paths are relative to this file's folder.",
    ],
    role,
  };
  for (const s of settingsOf(role)) {
    const parts = s.key.split(".");
    let obj = out;
    for (const p of parts.slice(0, -1)) obj = (obj[p] ??= {}) as Record<string, Json>;
    const leaf = parts[parts.length - 1];
    const pick = (v: unknown) => (typeof v === "function" ? (v as (r: Role) => unknown)(role) : v);
    const value = s.example !== undefined ? pick(s.example) : pick(s.default);
    const optional = !s.required && s.default === undefined ? " Optional." : "";
    obj[`$${leaf}`] = `${capitalize(s.what)}.${optional} Env ${s.env}. Valid: ${s.expected}.`;
    obj[leaf] = (value ?? "") as Json;
  }
  out["$contracts"] =
    `Contract addresses are read from the deployment file (default: deploy/deployments/chain-<chainId>/` +
    `deployed_addresses.json of this repository). To override one, add it here, e.g. "RentalEscrow": "0x...", or ` +
    `export KAISAR_CONTRACT_<NAME> (e.g. ${contractEnv("RentalEscrow")}). This role uses: ` +
    `${ROLE_CONTRACTS[role].join(", ")}.`;
  out["contracts"] = {};
  return out;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Writes the example config of `role` to `file`; refuses to overwrite an existing file unless `force`. */
export function writeExampleConfig(role: Role, file: string, force = false): string {
  const target = path.resolve(file);
  if (existsSync(target) && !force) {
    throw new Error(`${target} already exists; pass --force to overwrite it`);
  }
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, JSON.stringify(exampleConfig(role), null, 2) + "\n", { mode: 0o600 });
  return target;
}

/**
 * Sets top-level `key` to `value` in the JSON config `file`, keeping every other key (comments
 * included) and their order; a key already there keeps its place. Returns the previous value.
 */
export function setConfigValue(file: string, key: string, value: Json): Json | undefined {
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file} does not hold a JSON object`);
  }
  const config = parsed as Record<string, Json>;
  const previous = config[key];
  config[key] = value;
  writeFileSync(file, JSON.stringify(config, null, 2) + "\n");
  return previous;
}
