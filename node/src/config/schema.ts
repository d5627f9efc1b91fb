/**
 * Every setting of the three roles: where it lives in the config file, its environment variable,
 * what it is, what a valid value looks like, its default and the value `init` writes.
 */
import { z } from "zod";

import {
  chainIdSchema,
  choiceSchema,
  durationSchema,
  httpUrlListSchema,
  httpUrlSchema,
  integerSchema,
  nonEmptyStringSchema,
  portSchema,
  positiveNumberSchema,
  privateKeySchema,
} from "./parsers";
import { checkerNodesSchema } from "./nodes";

/** A positive token amount with at most 18 decimals, e.g. "2.5"; kept as its decimal string. */
const tokenAmountSchema = z
  .union([z.number().transform(String), z.string().trim()], {
    error: (issue) => `${JSON.stringify(issue.input)} is not a positive amount with at most 18 decimals`,
  })
  .refine((s) => /^\d+(\.\d{1,18})?$/.test(s) && !/^0*(\.0*)?$/.test(s), {
    error: "{value} is not a positive amount with at most 18 decimals",
  });

/** true or false (in the environment: "true", "false", "1", "0"). */
const booleanSchema = z.union(
  [z.boolean(), z.stringbool({ truthy: ["true", "1"], falsy: ["false", "0"], case: "sensitive" })],
  {
    error: (issue) => `${JSON.stringify(issue.input)} is not true or false`,
  },
);

export const ROLES = ["provider", "checker", "keeper"] as const;
export type Role = (typeof ROLES)[number];

/**
 * Kernels a provider agent can answer PoPW challenges with (`challenge.kernel`); the agent maps each
 * name to an implementation (src/provider/solver.ts). A GPU kernel adds its name here.
 */
export const CHALLENGE_KERNELS = ["cpu"] as const;
export type ChallengeKernelName = (typeof CHALLENGE_KERNELS)[number];

/** A setting as the table below writes it: its environment variable derived from its key (`envName`). */
export interface SettingEntry {
  /** Dotted path in the config file, e.g. "listen.port". */
  key: string;
  /** Environment variable that overrides it, where it is not `envName(key)`. */
  env?: string;
  /** What it is (one line). */
  what: string;
  /** What a valid value looks like, with an example: completes "set it to ...". */
  expected: string;
  /** What a valid value is (src/config/parsers.ts); its message completes "<setting>: ...". */
  schema: z.ZodType;
  /** Roles that read it (all if absent). */
  roles?: readonly Role[];
  /** No default: the program cannot start without it. */
  required?: boolean;
  /** Default, in the file's form (parsed like a file value); may depend on the role. */
  default?: unknown | ((role: Role) => unknown);
  /** Value `init` writes; the default if absent. */
  example?: unknown | ((role: Role) => unknown);
  /** Never echoed in messages. */
  secret?: boolean;
  /** A filesystem path: relative to the config file's folder (or the working directory for env values). */
  path?: boolean;
}

export interface Setting extends SettingEntry {
  /** Environment variable that overrides it. */
  env: string;
}

/** Prefix of every environment variable of the node software. */
export const ENV_PREFIX = "KAISAR_";

/** The environment variable of a config key: `KAISAR_LISTEN_PORT` for "listen.port", `KAISAR_NODE_ID` for "nodeId". */
export function envName(key: string): string {
  return (
    ENV_PREFIX +
    key
      .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
      .replace(/\./g, "_")
      .toUpperCase()
  );
}

/** The environment variable naming the config file (not a setting: it says where the settings are). */
export const CONFIG_FILE_ENV = `${ENV_PREFIX}CONFIG`;

/** Contracts a role talks to (keys of the Ignition deployment file, "Kaisar#<name>"). */
export const CONTRACTS = [
  "KaiToken",
  "NodeRegistry",
  "RentalEscrow",
  "KaisarLens",
  "CheckerLicense",
  "ReportOracle",
  "RewardDistributor",
  "SlaEnforcer",
] as const;
export type ContractName = (typeof CONTRACTS)[number];

export const ROLE_CONTRACTS: Record<Role, readonly ContractName[]> = {
  provider: ["KaiToken", "NodeRegistry", "RentalEscrow", "KaisarLens"],
  checker: ["KaiToken", "NodeRegistry", "RentalEscrow", "KaisarLens", "CheckerLicense", "ReportOracle"],
  keeper: ["NodeRegistry", "RentalEscrow", "KaisarLens", "ReportOracle", "RewardDistributor", "SlaEnforcer"],
};

/** `KAISAR_CONTRACT_RENTAL_ESCROW` for "RentalEscrow". */
export function contractEnv(name: ContractName): string {
  return envName(`contract.${name[0].toLowerCase()}${name.slice(1)}`);
}

const DEFAULT_PORT: Record<Role, number> = { provider: 8550, checker: 8551, keeper: 8552 };

const TABLE = [
  {
    key: "chainId",
    what: "chain id of the network (31337 local, 9990 agung, 3338 peaq); checked against the RPC at start",
    expected: "a positive whole number, e.g. 31337",
    schema: chainIdSchema,
    required: true,
    example: 31337,
  },
  {
    key: "rpcUrl",
    what: "JSON-RPC endpoint of a node of that chain",
    expected: 'an http:// or https:// URL, e.g. "http://127.0.0.1:8545"',
    schema: httpUrlSchema,
    required: true,
    example: "http://127.0.0.1:8545",
  },
  {
    key: "rpcUrlFallback",
    what: "second JSON-RPC endpoint, used while the first fails",
    expected: 'an http:// or https:// URL, e.g. "https://peaq-agung.api.onfinality.io/public"',
    schema: httpUrlSchema,
    example: "",
  },
  {
    key: "privateKey",
    what: "private key of the account this node signs and sends transactions with",
    expected: "0x and 64 hex digits (32 bytes); prefer the environment variable to the file",
    schema: privateKeySchema,
    required: true,
    secret: true,
    example: "",
  },
  {
    key: "deployment",
    what:
      "Hardhat Ignition's deployed_addresses.json of the chain, where contract addresses are read " +
      "(default: this repository's deploy/deployments/chain-<chainId>/deployed_addresses.json)",
    expected: 'a path, e.g. "deploy/deployments/chain-31337/deployed_addresses.json"',
    schema: nonEmptyStringSchema,
    path: true,
    example: "",
  },
  {
    key: "dataDir",
    what: "folder for this node's state (database, cursors, pending transactions)",
    expected: 'a path, e.g. "./.kaisar/provider"',
    schema: nonEmptyStringSchema,
    path: true,
    default: (role: Role) => `./.kaisar/${role}`,
  },
  {
    key: "listen.host",
    what: "interface the HTTP server (probes, /health, proofs) listens on",
    expected: 'an IP address or host name, e.g. "0.0.0.0" (all) or "127.0.0.1" (this machine only)',
    schema: nonEmptyStringSchema,
    default: "0.0.0.0",
  },
  {
    key: "listen.port",
    what: "TCP port of the HTTP server",
    expected: "a whole number in 1..65535, e.g. 8550",
    schema: portSchema,
    default: (role: Role) => DEFAULT_PORT[role],
  },
  // Provider agent.
  {
    key: "publicUrl",
    what: "URL at which checkers reach this agent (registered with the node)",
    expected: 'an http:// or https:// URL, e.g. "https://gpu1.example.com:8550"',
    schema: httpUrlSchema,
    roles: ["provider"],
    required: true,
    example: "http://127.0.0.1:8550",
  },
  {
    key: "keeperUrl",
    what: "URL of a keeper's proofs API: `status` and `claim` read the node's reward proofs there (each checked against the chain's root)",
    expected: 'an http:// or https:// URL, e.g. "http://127.0.0.1:8570" (`npm start` runs one there)',
    schema: httpUrlSchema,
    roles: ["provider"],
    example: "",
  },
  {
    key: "hardwareProfile",
    what: "declared hardware profile (JSON) for machines without nvidia-smi",
    expected: 'a path, e.g. "./hardware.json"',
    schema: nonEmptyStringSchema,
    path: true,
    roles: ["provider"],
    example: "",
  },
  {
    key: "nodeId",
    what: "id of this node in the NodeRegistry (ids start at 1); `run` needs it, `register` gives it",
    expected: "a whole number from 1, e.g. 1",
    schema: integerSchema(1, Number.MAX_SAFE_INTEGER),
    roles: ["provider"],
    example: "",
  },
  {
    key: "challenge.kernel",
    what: "matrix kernel that answers PoPW compute challenges (in a worker thread)",
    expected: `one of ${CHALLENGE_KERNELS.map((k) => JSON.stringify(k)).join(", ")}, e.g. "cpu"`,
    schema: choiceSchema(CHALLENGE_KERNELS),
    roles: ["provider"],
    default: "cpu",
  },
  {
    key: "challenge.maxN",
    what: "largest challenge size n the agent accepts; larger ones are refused (400), one challenge runs at a time",
    expected: "a whole number in 16..4096, e.g. 2048 (the CPU kernel takes seconds at 1024, about 8x that at 2048)",
    schema: integerSchema(16, 4096),
    roles: ["provider"],
    default: 2048,
  },
  {
    key: "bandwidth.maxBytes",
    what: "largest bandwidth test a checker may ask for, in bytes",
    expected: "a whole number in 1..1073741824, e.g. 67108864 (64 MiB)",
    schema: integerSchema(1, 1 << 30),
    roles: ["provider"],
    default: 64 * 1024 * 1024,
  },
  {
    key: "gpuClass",
    what:
      "GPU class name the node registers under (NodeRegistry.getGpuClass); default: from the detected GPU model " +
      "(H100 -> H100-80GB, A100 -> A100-80GB, L40S -> L40S-48GB, RTX 4090 -> RTX4090-24GB, RTX 3090 -> RTX3090-24GB)",
    expected: 'a class name registered on chain, e.g. "RTX4090-24GB"',
    schema: nonEmptyStringSchema,
    roles: ["provider"],
    example: "",
  },
  {
    key: "pricePerGpuHour",
    what: "price per GPU-hour in KAI that `register` lists the node at",
    expected: 'a positive number of KAI with at most 18 decimals, e.g. "2.5"',
    schema: tokenAmountSchema,
    roles: ["provider"],
    example: "",
  },
  {
    key: "region",
    what: "short region code `register` declares (at most 8 characters)",
    expected: 'up to 8 ASCII characters, e.g. "eu-west"',
    schema: nonEmptyStringSchema.regex(/^[\x20-\x7e]{1,8}$/, {
      error: (issue) => `${JSON.stringify(issue.input)} is not 1 to 8 ASCII characters`,
    }),
    roles: ["provider"],
    default: "local",
  },
  {
    key: "rentals.template",
    what: "template of the catalog (templates/catalog.json) whose launch spec `run` writes for each new rental",
    expected: 'a template id, e.g. "pytorch"',
    schema: nonEmptyStringSchema,
    roles: ["provider"],
    default: "pytorch",
  },
  {
    key: "rentals.poll",
    what: "how often `run` reads the node's rentals (launch specs go to <dataDir>/rentals) and the provider's stake against its requirement (/health's stake) from the chain",
    expected: 'a duration, e.g. "5s"',
    schema: durationSchema,
    roles: ["provider"],
    default: "5s",
  },
  {
    key: "docker",
    what: "launch rental containers with Docker (off: the agent only writes launch specs)",
    expected: "true or false",
    schema: booleanSchema,
    roles: ["provider"],
    default: false,
  },
  // Checker node.
  {
    key: "schedule.heartbeat",
    what: "how often every node's health is probed",
    expected: 'a duration, e.g. "1m"',
    schema: durationSchema,
    roles: ["checker"],
    default: "1m",
  },
  {
    key: "schedule.capacity",
    what: "how often every node gets a PoPW compute challenge and a bandwidth test",
    expected: 'a duration, e.g. "15m"',
    schema: durationSchema,
    roles: ["checker"],
    default: "15m",
  },
  {
    key: "schedule.hardware",
    what: "how often every node's signed hardware report is checked",
    expected: 'a duration, e.g. "24h"',
    schema: durationSchema,
    roles: ["checker"],
    default: "24h",
  },
  {
    key: "schedule.probeTimeout",
    // Named before the derived KAISAR_SCHEDULE_PROBE_TIMEOUT; kept for existing deployments.
    env: "KAISAR_PROBE_TIMEOUT",
    what: "how long a probe may take before it counts as failed",
    expected: 'a duration, e.g. "10s"',
    schema: durationSchema,
    roles: ["checker"],
    default: "10s",
  },
  {
    key: "challenge.n",
    what: "size n of the n x n matrix product of compute challenges",
    expected: "a whole number in 16..4096, e.g. 1024",
    schema: integerSchema(16, 4096),
    roles: ["checker"],
    default: 1024,
  },
  {
    key: "peers",
    what: "other checkers' URLs, to exchange observations with at epoch end",
    expected: 'a list of http(s) URLs (in the environment: comma-separated), e.g. ["http://10.0.0.2:8551"]',
    schema: httpUrlListSchema,
    roles: ["checker"],
    default: [],
  },
  {
    key: "exchange.settle",
    what:
      "how long after an epoch ends the checker waits before it freezes and signs its observations of the epoch " +
      "and starts the exchange (probes in flight at the end land first: make it longer than challenge.timeout), " +
      "by the chain's clock: it must exceed that clock's tolerance, the block interval + 1.5 s (src/chain/chainClock.ts)",
    expected: 'a duration, e.g. "2m" (mainnet) or "3s" (local chain)',
    schema: durationSchema,
    roles: ["checker"],
    default: "2m",
  },
  {
    key: "exchange.wait",
    what:
      "how long the checker keeps asking peers for their observations of an ended epoch before it scores " +
      "without the ones that have not answered",
    expected: 'a duration, e.g. "5m" (mainnet) or "5s" (local chain)',
    schema: durationSchema,
    roles: ["checker"],
    default: "5m",
  },
  {
    key: "exchange.timeout",
    what: "how long one request for a peer's observations may take (a 100,000-node epoch is tens of MB)",
    expected: 'a duration, e.g. "30s"',
    schema: durationSchema,
    roles: ["checker"],
    default: "30s",
  },
  {
    key: "exchange.retry",
    what: "pause before asking again a peer that did not answer or is not ready (within exchange.wait)",
    expected: 'a duration, e.g. "10s"',
    schema: durationSchema,
    roles: ["checker"],
    default: "10s",
  },
  {
    key: "challenge.timeout",
    what: "how long a compute challenge may take, from sending it to the last byte of the answer, before it fails",
    expected: 'a duration, e.g. "60s" (a CPU answers n = 1024 in seconds; the answer is 5.6 MB of base64)',
    schema: durationSchema,
    roles: ["checker"],
    default: "60s",
  },
  {
    key: "bandwidth.bytes",
    what: "size of each bandwidth test, in bytes (every node, every capacity period)",
    expected: "a whole number in 1024..1073741824, e.g. 1048576 (1 MiB)",
    schema: integerSchema(1024, 1 << 30),
    roles: ["checker"],
    default: 1024 * 1024,
  },
  {
    key: "probe.concurrency",
    what: "most probes in flight at once (challenges and bandwidth tests get at most half of them each)",
    expected: "a whole number in 1..4096, e.g. 64",
    schema: integerSchema(1, 4096),
    roles: ["checker"],
    default: 64,
  },
  {
    key: "probe.jitterPercent",
    what: "random spread of each probe's next run, in percent of its period either way (so probes do not bunch up)",
    expected: "a whole number in 0..50, e.g. 10",
    schema: integerSchema(0, 50),
    roles: ["checker"],
    default: 10,
  },
  {
    key: "database",
    what: "SQLite file the checker keeps its samples in (default: checker.sqlite in dataDir)",
    expected: 'a path, e.g. "./.kaisar/checker/checker.sqlite"',
    schema: nonEmptyStringSchema,
    path: true,
    roles: ["checker"],
    example: "",
  },
  {
    key: "epoch.genesis",
    what: "Unix time (seconds) epoch 0 of the ReportOracle starts at (ReportOracle.genesis())",
    expected: "a whole number of seconds, e.g. 1767225600",
    schema: integerSchema(0, Number.MAX_SAFE_INTEGER),
    roles: ["checker"],
    default: 0,
  },
  {
    key: "epoch.length",
    what: "length of an epoch (ReportOracle.epochLength()): samples are kept per epoch",
    expected: 'a duration, e.g. "14d" (mainnet) or "60s" (local chain)',
    schema: durationSchema,
    roles: ["checker"],
    default: "14d",
  },
  {
    key: "nodes",
    what:
      "nodes to probe, until they are read from the NodeRegistry: each {id, url (the agent's endpoint), provider, " +
      "spec: {gpuClass (class name), gpuCount, vramGiB (per GPU), optional cpuCores, ramGiB, diskGiB, bandwidthMbps}}",
    expected:
      'a JSON list (in the environment: the same JSON), e.g. [{"id": 1, "url": "http://127.0.0.1:8550", ' +
      '"provider": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "spec": {"gpuClass": "H100-80GB", "gpuCount": 8, "vramGiB": 80}}]',
    schema: checkerNodesSchema,
    roles: ["checker"],
    default: [],
  },
  {
    key: "discovery.interval",
    what: "how often `run` reads the active nodes from the NodeRegistry when the static `nodes` list is empty",
    expected: 'a duration, e.g. "1m"',
    schema: durationSchema,
    roles: ["checker"],
    default: "1m",
  },
  // Keeper.
  {
    key: "pollInterval",
    what: "how often the keeper looks for work (reports to submit, rentals to settle, credits to apply)",
    expected: 'a duration, e.g. "15s"',
    schema: durationSchema,
    roles: ["keeper"],
    default: "15s",
  },
  {
    key: "checkers",
    what: "checker nodes' URLs, to gather report signatures from",
    expected: 'a list of http(s) URLs (in the environment: comma-separated), e.g. ["http://10.0.0.2:8551"]',
    schema: httpUrlListSchema,
    roles: ["keeper"],
    default: [],
  },
  {
    key: "maxFeePerGasGwei",
    what: "highest fee per gas the keeper pays, in gwei; above it, it waits",
    expected: "a positive number, e.g. 50",
    schema: positiveNumberSchema,
    roles: ["keeper"],
    example: "",
  },
  {
    key: "feeBumpPercent",
    what: "how much a replacement of a stuck keeper transaction raises both fees, percent (nodes refuse below 10)",
    expected: "a whole number from 10 to 100, e.g. 20",
    schema: integerSchema(10, 100),
    roles: ["keeper"],
    default: 20,
  },
  {
    key: "txTimeout",
    what: "how long a keeper transaction may stay unmined before it is replaced with higher fees",
    expected: 'a duration, e.g. "60s"',
    schema: durationSchema,
    roles: ["keeper"],
    default: "60s",
  },
  {
    key: "rpcTimeout",
    what: "how long one JSON-RPC call (or checker request) of the keeper may take before it tries the other URL",
    expected: 'a duration, e.g. "10s"',
    schema: durationSchema,
    roles: ["keeper"],
    default: "10s",
  },
] as const satisfies readonly SettingEntry[];

/** A key of the settings table, e.g. "listen.port". */
export type SettingKey = (typeof TABLE)[number]["key"];

export const SETTINGS: readonly Setting[] = TABLE.map((s: SettingEntry) => ({ ...s, env: s.env ?? envName(s.key) }));

/** Each setting's environment variable, by key: `ENV.nodeId` is "KAISAR_NODE_ID". */
export const ENV = Object.fromEntries(SETTINGS.map((s) => [s.key, s.env])) as Record<SettingKey, string>;

/** Settings a role reads. */
export function settingsOf(role: Role): Setting[] {
  return SETTINGS.filter((s) => !s.roles || s.roles.includes(role));
}
