/**
 * The config layer: a JSON file, overridden by `KAISAR_*` environment variables, validated once at
 * start. Every problem is collected (not only the first) and reported with the setting's file key,
 * its environment variable, what is wrong and how to fix it.
 *
 * Precedence: environment > file > default. Keys starting with "$" are comments. An empty string is
 * "not set". Contract addresses come from Hardhat Ignition's deployment file of the chain
 * (`deploy/deployments/chain-<id>/deployed_addresses.json`, keys "Kaisar#<Contract>"), each
 * overridable by `contracts.<Contract>` / `KAISAR_CONTRACT_<CONTRACT>`.
 */
import { existsSync, readFileSync } from "fs";
import path from "path";

import { SettingValueError, parseAddress, parseWith } from "./parsers";
import type { CheckerNode } from "./nodes";
import {
  CONTRACTS,
  ROLE_CONTRACTS,
  contractEnv,
  settingsOf,
  type ChallengeKernelName,
  type ContractName,
  type Role,
  type Setting,
  ENV,
} from "./schema";

/** The repository root (node/src/config -> ../../..): default deployment files live under it. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

export interface CommonConfig {
  role: Role;
  /** The config file read, absolute (absent if none). */
  configFile?: string;
  chainId: number;
  rpcUrl: string;
  rpcUrlFallback?: string;
  /** 0x and 64 lower-case hex digits. */
  privateKey: string;
  /** The deployment file addresses were read from, absolute (absent if every address was set). */
  deployment?: string;
  /** Checksummed addresses of the role's contracts (and of any other the deployment lists). */
  contracts: Partial<Record<ContractName, string>>;
  /** Absolute. */
  dataDir: string;
  listen: { host: string; port: number };
}

export interface ProviderConfig extends CommonConfig {
  role: "provider";
  publicUrl: string;
  /** Absolute. */
  hardwareProfile?: string;
  /** A keeper's proofs API (reward proofs for `status` and `claim`). */
  keeperUrl?: string;
  /** The node's id in the NodeRegistry (absent before `register`). */
  nodeId?: number;
  challenge: { kernel: ChallengeKernelName; maxN: number };
  /** Largest bandwidth test, in bytes. */
  bandwidth: { maxBytes: number };
  /** GPU class name to register under (default: from the GPU model). */
  gpuClass?: string;
  /** KAI per GPU-hour, a decimal string. */
  pricePerGpuHour?: string;
  region: string;
  /** Launch specs of new rentals: the catalog template, and how often the chain is read (ms). */
  rentals: { template: string; poll: number };
  docker: boolean;
}

export interface CheckerConfig extends CommonConfig {
  role: "checker";
  /** Milliseconds. */
  schedule: { heartbeat: number; capacity: number; hardware: number; probeTimeout: number };
  /** `timeout` in milliseconds. */
  challenge: { n: number; timeout: number };
  peers: string[];
  /**
   * The epoch-end exchange, milliseconds: wait `settle` after an epoch ends, then ask peers for their
   * observations for at most `wait` (each request at most `timeout`, again after `retry`).
   */
  exchange: { settle: number; wait: number; timeout: number; retry: number };
  /** Size of each bandwidth test, bytes. */
  bandwidth: { bytes: number };
  /** Most probes in flight; spread of each next run, percent of its period either way. */
  probe: { concurrency: number; jitterPercent: number };
  /** The SQLite file of samples, absolute (default `<dataDir>/checker.sqlite`). */
  database: string;
  /** `genesis` in Unix seconds, `length` in milliseconds (as the other durations). */
  epoch: { genesis: number; length: number };
  /** Nodes to probe (static list until they are read from the chain). */
  nodes: CheckerNode[];
  /** How often the nodes are read from the chain when `nodes` is empty, ms. */
  discovery: { interval: number };
}

export interface KeeperConfig extends CommonConfig {
  role: "keeper";
  /** Milliseconds. */
  pollInterval: number;
  checkers: string[];
  maxFeePerGasGwei?: number;
  /** Percent (>= 10) by which a replacement raises both fees. */
  feeBumpPercent: number;
  /** Milliseconds. */
  txTimeout: number;
  /** Milliseconds. */
  rpcTimeout: number;
}

export type ConfigOf<R extends Role> = R extends "provider"
  ? ProviderConfig
  : R extends "checker"
    ? CheckerConfig
    : KeeperConfig;

export interface ConfigProblem {
  /** File key, e.g. "listen.port" or "contracts.RentalEscrow" ("" for the file as a whole). */
  key: string;
  env?: string;
  /** What is wrong. */
  problem: string;
  /** How to fix it. */
  fix: string;
}

/** The configuration cannot be used; `problems` says why, each with its fix. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly role: Role,
    readonly problems: ConfigProblem[],
    readonly configFile?: string,
    /**
     * The chain id and RPC URL, when both were valid: a command checks that chain id against the RPC
     * first (a wrong chain id is why the chain's deployment file is missing).
     */
    readonly chain?: { chainId: number; rpcUrl: string },
  ) {
    super(formatProblems(role, problems, configFile));
  }
}

export function formatProblems(role: Role, problems: readonly ConfigProblem[], configFile?: string): string {
  const where = configFile
    ? ` (config file ${configFile})`
    : " (no config file; `kaisar " + role + " init` writes one)";
  const lines = [
    `The ${role} configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}${where}:`,
  ];
  for (const p of problems) {
    const name = p.key ? `${p.key}${p.env ? ` (env ${p.env})` : ""}` : "config file";
    lines.push(`  - ${name}: ${p.problem}`, `    fix: ${p.fix}`);
  }
  return lines.join("\n");
}

export interface LoadOptions {
  /** Config file. Explicit files must exist; without one, ./kaisar.<role>.json is read if it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Working directory (relative paths from the environment and the default file). */
  cwd?: string;
  /** Where the default deployment files are looked for (the repository root). */
  repoRoot?: string;
}

/** The default config file of a role: ./kaisar.<role>.json. */
export function defaultConfigFile(role: Role): string {
  return `kaisar.${role}.json`;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Levenshtein distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

function suggestion(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const dist = k.toLowerCase() === key.toLowerCase() ? 0 : distance(key, k);
    if (dist < bestDistance) [best, bestDistance] = [k, dist];
  }
  return best !== undefined && bestDistance <= Math.max(2, key.length / 4) ? ` (did you mean "${best}"?)` : "";
}

/** Flattens the file's object into dotted keys; reports keys no setting of the role knows. */
function flatten(
  obj: Record<string, Json>,
  known: Set<string>,
  problems: ConfigProblem[],
  role: Role,
): Map<string, Json> {
  const out = new Map<string, Json>();
  const prefixes = new Set(
    [...known].flatMap((k) =>
      k
        .split(".")
        .slice(0, -1)
        .map((_, i, a) => a.slice(0, i + 1).join(".")),
    ),
  );
  const walk = (o: Record<string, Json>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (k.startsWith("$")) continue;
      const key = prefix ? `${prefix}.${k}` : k;
      if (known.has(key)) out.set(key, v);
      else if (prefixes.has(key) && isObject(v)) walk(v, key);
      else if (prefixes.has(key)) {
        problems.push({
          key,
          problem: `is a ${Array.isArray(v) ? "list" : typeof v}, not an object`,
          fix: `make "${key}" an object`,
        });
      } else {
        const others = [...known]
          .filter((x) => x.startsWith(prefix ? prefix + "." : ""))
          .map((x) => x.slice(prefix.length + (prefix ? 1 : 0)));
        problems.push({
          key,
          problem: `is not a setting of the ${role}${suggestion(k, others)}`,
          fix: `remove it or fix its name (settings: \`kaisar ${role} init\` writes them all; keys starting with "$" are comments)`,
        });
      }
    }
  };
  walk(obj, "");
  return out;
}

function describe(s: { key: string; env: string }, file: string | undefined): string {
  return file ? `set "${s.key}" in ${file} or export ${s.env}` : `export ${s.env} (or set "${s.key}" in a config file)`;
}

/** Loads, merges and validates the configuration of `role`; throws a `ConfigError` listing every problem. */
export function loadConfig<R extends Role>(role: R, options: LoadOptions = {}): ConfigOf<R> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const repoRoot = options.repoRoot ?? REPO_ROOT;
  const problems: ConfigProblem[] = [];

  // The file.
  let configFile: string | undefined;
  let fileObject: Record<string, Json> = {};
  const explicit = options.file !== undefined;
  const candidate = path.resolve(cwd, options.file ?? defaultConfigFile(role));
  if (existsSync(candidate)) {
    configFile = candidate;
    try {
      const parsed: unknown = JSON.parse(readFileSync(candidate, "utf8"));
      if (isObject(parsed)) fileObject = parsed;
      else
        problems.push({
          key: "",
          problem: `${candidate} does not hold a JSON object`,
          fix: `start from \`kaisar ${role} init\``,
        });
    } catch (e) {
      problems.push({
        key: "",
        problem: `${candidate} is not valid JSON: ${(e as Error).message}`,
        fix: `correct the JSON (comments go in "$comment" keys), or write a fresh one with \`kaisar ${role} init --force\``,
      });
    }
  } else if (explicit) {
    problems.push({
      key: "",
      problem: `${candidate} does not exist`,
      fix: `write it with \`kaisar ${role} init --config ${options.file}\`, or fix the path`,
    });
  }
  const fileDir = configFile ? path.dirname(configFile) : cwd;

  const settings = settingsOf(role);
  const known = new Set([...settings.map((s) => s.key), ...CONTRACTS.map((c) => `contracts.${c}`)]);
  const fileRole = fileObject["role"];
  delete fileObject["role"];
  if (fileRole !== undefined && fileRole !== role) {
    problems.push({
      key: "role",
      problem: `the file is for the ${String(fileRole)}, not the ${role}`,
      fix: `use the ${role}'s own config file (\`kaisar ${role} init\`), or pass --config`,
    });
  }
  const fileValues = flatten(fileObject, known, problems, role);

  // Settings.
  const values = new Map<string, unknown>();
  const read = (s: { key: string; env: string }): { raw: unknown; from: "env" | "file" } | undefined => {
    const e = env[s.env];
    if (e !== undefined && e.trim() !== "") return { raw: e, from: "env" };
    const f = fileValues.get(s.key);
    if (f !== undefined && f !== null && f !== "") return { raw: f, from: "file" };
    return undefined;
  };
  for (const s of settings) {
    let got = read(s);
    let from: "env" | "file" | "default" | undefined = got?.from;
    if (!got) {
      const d = typeof s.default === "function" ? (s.default as (r: Role) => unknown)(role) : s.default;
      if (d !== undefined) [got, from] = [{ raw: d, from: "file" }, "default"];
    }
    if (!got) {
      if (s.required) {
        problems.push({
          key: s.key,
          env: s.env,
          problem: `is not set (${s.what})`,
          fix: `${describe(s, configFile)}: ${s.expected}`,
        });
      }
      continue;
    }
    try {
      let v = parseWith(s.schema, got.raw);
      if (s.path) v = path.resolve(from === "env" ? cwd : fileDir, v as string);
      values.set(s.key, v);
    } catch (e) {
      if (!(e instanceof SettingValueError)) throw e;
      const source = from === "env" ? `from ${s.env}` : from === "default" ? "default" : `in ${configFile}`;
      problems.push({
        key: s.key,
        env: s.env,
        problem: s.secret ? `(${source}) ${e.message.replace(/"[^"]*"/g, "the value")}` : `(${source}) ${e.message}`,
        fix: `${describe(s, configFile)}: ${s.expected}`,
      });
    }
  }

  // Contracts.
  const chainId = values.get("chainId") as number | undefined;
  const contracts: Partial<Record<ContractName, string>> = {};
  let deployment = values.get("deployment") as string | undefined;
  const explicitDeployment = deployment !== undefined;
  if (deployment === undefined && chainId !== undefined) {
    deployment = path.join(repoRoot, "deploy", "deployments", `chain-${chainId}`, "deployed_addresses.json");
  }
  let deployed: Record<string, unknown> | undefined;
  let deploymentProblem: string | undefined;
  if (deployment !== undefined) {
    if (!existsSync(deployment)) deploymentProblem = `${deployment} does not exist`;
    else {
      try {
        const parsed: unknown = JSON.parse(readFileSync(deployment, "utf8"));
        if (isObject(parsed)) deployed = parsed;
        else deploymentProblem = `${deployment} does not hold a JSON object`;
      } catch (e) {
        deploymentProblem = `${deployment} is not valid JSON: ${(e as Error).message}`;
      }
    }
  }
  let usedDeployment = false;
  for (const name of CONTRACTS) {
    const s = { key: `contracts.${name}`, env: contractEnv(name) };
    const required = ROLE_CONTRACTS[role].includes(name);
    const override = read(s);
    const fromDeployment = deployed?.[`Kaisar#${name}`];
    const raw = override?.raw ?? fromDeployment;
    const fix = `${describe(s, configFile)}: the address of ${name} on chain ${chainId ?? "<chainId>"}, or point "deployment" (env ${ENV.deployment}) at a deployed_addresses.json that has "Kaisar#${name}"`;
    if (raw === undefined) {
      if (required && chainId !== undefined) {
        const why =
          deploymentProblem ?? `${deployment} has no "Kaisar#${name}" (deployed before ${name} existed? deploy again)`;
        problems.push({ key: s.key, env: s.env, problem: `has no address: ${why}`, fix });
      }
      continue;
    }
    try {
      contracts[name] = parseAddress(raw);
      if (!override) usedDeployment = true;
    } catch (e) {
      if (!(e instanceof SettingValueError)) throw e;
      const source = override ? (override.from === "env" ? `from ${s.env}` : `in ${configFile}`) : `in ${deployment}`;
      if (required || override) problems.push({ key: s.key, env: s.env, problem: `(${source}) ${e.message}`, fix });
    }
  }
  if (explicitDeployment && deploymentProblem && !usedDeployment) {
    problems.push({
      key: "deployment",
      env: ENV.deployment,
      problem: deploymentProblem,
      fix: `point it at Hardhat Ignition's deploy/deployments/chain-<id>/deployed_addresses.json, or leave it unset for the chain's default`,
    });
  }

  if (problems.length > 0) {
    const [chainId, rpcUrl] = [values.get("chainId") as number | undefined, values.get("rpcUrl") as string | undefined];
    throw new ConfigError(
      role,
      problems,
      configFile,
      chainId !== undefined && rpcUrl ? { chainId, rpcUrl } : undefined,
    );
  }

  const v = <T>(key: string) => values.get(key) as T;
  const common: CommonConfig = {
    role,
    configFile,
    chainId: v<number>("chainId"),
    rpcUrl: v<string>("rpcUrl"),
    rpcUrlFallback: v<string | undefined>("rpcUrlFallback"),
    privateKey: v<string>("privateKey"),
    deployment: usedDeployment ? deployment : undefined,
    contracts,
    dataDir: v<string>("dataDir"),
    listen: { host: v<string>("listen.host"), port: v<number>("listen.port") },
  };
  let config: ProviderConfig | CheckerConfig | KeeperConfig;
  if (role === "provider") {
    config = {
      ...common,
      role,
      publicUrl: v("publicUrl"),
      hardwareProfile: v("hardwareProfile"),
      keeperUrl: v("keeperUrl"),
      nodeId: v("nodeId"),
      challenge: { kernel: v("challenge.kernel"), maxN: v("challenge.maxN") },
      bandwidth: { maxBytes: v("bandwidth.maxBytes") },
      gpuClass: v("gpuClass"),
      pricePerGpuHour: v("pricePerGpuHour"),
      region: v("region"),
      rentals: { template: v("rentals.template"), poll: v("rentals.poll") },
      docker: v("docker"),
    };
  } else if (role === "checker") {
    config = {
      ...common,
      role,
      schedule: {
        heartbeat: v("schedule.heartbeat"),
        capacity: v("schedule.capacity"),
        hardware: v("schedule.hardware"),
        probeTimeout: v("schedule.probeTimeout"),
      },
      challenge: { n: v("challenge.n"), timeout: v("challenge.timeout") },
      peers: v("peers"),
      exchange: {
        settle: v("exchange.settle"),
        wait: v("exchange.wait"),
        timeout: v("exchange.timeout"),
        retry: v("exchange.retry"),
      },
      bandwidth: { bytes: v("bandwidth.bytes") },
      probe: { concurrency: v("probe.concurrency"), jitterPercent: v("probe.jitterPercent") },
      database: v<string | undefined>("database") ?? path.join(common.dataDir, "checker.sqlite"),
      epoch: { genesis: v("epoch.genesis"), length: v("epoch.length") },
      nodes: v("nodes"),
      discovery: { interval: v("discovery.interval") },
    };
  } else {
    config = {
      ...common,
      role: "keeper",
      pollInterval: v("pollInterval"),
      checkers: v("checkers"),
      maxFeePerGasGwei: v("maxFeePerGasGwei"),
      feeBumpPercent: v("feeBumpPercent"),
      txTimeout: v("txTimeout"),
      rpcTimeout: v("rpcTimeout"),
    };
  }
  return config as ConfigOf<R>;
}

/** The configuration with the private key hidden, for `--json` output and logs. */
export function redacted<C extends CommonConfig>(config: C): Omit<C, "privateKey"> & { privateKey: string } {
  return { ...config, privateKey: "<redacted>" };
}

/** Settings of `role` (re-exported for the example writer and the help text). */
export type { Setting };
