/**
 * The node's hardware: detected with `nvidia-smi` where it exists, otherwise taken from the profile
 * the provider declares (`hardwareProfile` in the config); CPU cores and RAM from node:os, disk from
 * the filesystem of the data folder unless the profile says otherwise.
 *
 * And the hardware report the agent serves at `GET /hardware`: the hardware plus the node's identity
 * and a timestamp, signed with the node's key (EIP-191 `personal_sign` over the canonical JSON of the
 * report). Checkers verify it with `verifyHardwareReport`, the same code.
 */
import { execFile } from "child_process";
import { readFileSync, statfsSync } from "fs";
import os from "os";
import path from "path";

import { getAddress, verifyMessage } from "ethers";

import { canonicalJson, type Canonical } from "../scoring/canonical";
import { ENV } from "../config/schema";

/** Where the hardware figures came from. */
export type HardwareSource = "nvidia-smi" | "profile";

/** The node's hardware, in the units of the NodeRegistry's `NodeSpec`. */
export interface HardwareInfo {
  source: HardwareSource;
  /** GPU model as nvidia-smi names it, e.g. "NVIDIA H100 80GB HBM3". */
  gpuModel: string;
  gpuCount: number;
  /** Memory per GPU, GiB (rounded). */
  vramGiB: number;
  cpuCores: number;
  /** GiB (rounded down). */
  ramGiB: number;
  /** GiB (rounded down). */
  diskGiB: number;
  /** Declared uplink, Mbps (0: not declared; checkers measure it anyway). */
  bandwidthMbps: number;
}

// ---------------------------------------------------------------------------------------------
// nvidia-smi

/** The query `detectHardware` runs. */
export const NVIDIA_SMI_ARGS = ["--query-gpu=name,memory.total", "--format=csv,noheader,nounits"] as const;

/** One GPU as nvidia-smi lists it. */
export interface SmiGpu {
  name: string;
  /** memory.total in MiB; null where nvidia-smi says "[N/A]" (or another bracketed placeholder). */
  memoryMiB: number | null;
}

/** nvidia-smi's output is not what the query asks for. */
export class NvidiaSmiParseError extends Error {
  override name = "NvidiaSmiParseError";
}

/**
 * Parses the output of `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`:
 * one line per GPU, "<name>, <MiB>". Blank lines are skipped; a line without a comma, an empty
 * name or a memory that is neither a whole number nor "[N/A]" is an error naming the line.
 */
export function parseNvidiaSmi(stdout: string): SmiGpu[] {
  const gpus: SmiGpu[] = [];
  const lines = stdout.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const where = `nvidia-smi line ${i + 1} (${JSON.stringify(line.slice(0, 80))})`;
    // The name comes first and may itself hold commas; the memory is after the last one.
    const comma = line.lastIndexOf(",");
    if (comma < 0) throw new NvidiaSmiParseError(`${where} is not "<name>, <memory MiB>"`);
    const name = line.slice(0, comma).trim();
    const memory = line.slice(comma + 1).trim();
    if (name === "" || /^\[.*\]$/.test(name)) throw new NvidiaSmiParseError(`${where} has no GPU name`);
    let memoryMiB: number | null;
    if (/^\[.*\]$/.test(memory)) memoryMiB = null;
    else if (/^\d+$/.test(memory) && Number.isSafeInteger(Number(memory))) memoryMiB = Number(memory);
    else throw new NvidiaSmiParseError(`${where}: memory ${JSON.stringify(memory)} is not a number of MiB`);
    gpus.push({ name, memoryMiB });
  });
  return gpus;
}

/** GPU model, count and memory of a node from nvidia-smi's list. */
export interface GpuSummary {
  gpuModel: string;
  gpuCount: number;
  vramGiB: number;
  /** What was left out, if anything (GPUs of another model). */
  notes: string[];
}

/**
 * One node has one GPU model: the most common one in the list (the first listed on a tie); GPUs of
 * other models are left out and said so. VRAM is the smallest of that model's, in GiB, rounded
 * (81559 MiB -> 80, 24564 MiB -> 24). Throws when there is no GPU, or a memory is not known.
 */
export function summarizeGpus(gpus: readonly SmiGpu[]): GpuSummary {
  if (gpus.length === 0) throw new NvidiaSmiParseError("nvidia-smi lists no GPU");
  const counts = new Map<string, number>();
  for (const g of gpus) counts.set(g.name, (counts.get(g.name) ?? 0) + 1);
  let model = gpus[0].name;
  for (const [name, count] of counts) if (count > counts.get(model)!) model = name;
  const same = gpus.filter((g) => g.name === model);
  const unknown = same.findIndex((g) => g.memoryMiB === null);
  if (unknown >= 0) throw new NvidiaSmiParseError(`nvidia-smi does not know the memory of a ${model} ([N/A])`);
  const minMiB = Math.min(...same.map((g) => g.memoryMiB!));
  const notes =
    same.length < gpus.length
      ? [
          `left out ${gpus.length - same.length} GPU(s) of other models (${[...counts.keys()]
            .filter((n) => n !== model)
            .join(", ")}): a node has one GPU model`,
        ]
      : [];
  return { gpuModel: model, gpuCount: same.length, vramGiB: Math.round(minMiB / 1024), notes };
}

// ---------------------------------------------------------------------------------------------
// The declared profile

/** What a provider declares in its hardware profile (JSON file; keys starting with "$" are comments). */
export interface HardwareProfile {
  gpuModel: string;
  gpuCount: number;
  /** GiB per GPU. */
  vramGiB: number;
  /** Default: node:os. */
  cpuCores?: number;
  /** Default: node:os. */
  ramGiB?: number;
  /** Default: the size of the data folder's filesystem. */
  diskGiB?: number;
  /** Default: 0 (not declared). */
  bandwidthMbps?: number;
}

/** A hardware profile that cannot be used; `problems` names each field and what is wrong. */
export class HardwareProfileError extends Error {
  override name = "HardwareProfileError";
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`hardware profile ${source}: ${problems.join("; ")}`);
  }
}

/**
 * The numeric fields of the profile: limits (the NodeSpec field's width), whether required, and what
 * each means. The one definition of the format: the validator below and the JSON Schema
 * (node/schemas/hardware-profile.schema.json, written by `hardwareProfileSchema`) both come from it.
 */
const PROFILE_NUMBERS: Record<
  Exclude<keyof HardwareProfile, "gpuModel">,
  { min: number; max: number; required: boolean; what: string }
> = {
  gpuCount: { min: 1, max: 0xffff, required: true, what: "GPUs of the model in this machine" },
  vramGiB: { min: 1, max: 0xffff, required: true, what: "memory of each GPU, GiB" },
  cpuCores: { min: 1, max: 0xffff, required: false, what: "CPU cores (default: what the OS reports)" },
  ramGiB: { min: 1, max: 0xffffffff, required: false, what: "RAM, GiB (default: what the OS reports)" },
  diskGiB: { min: 0, max: 0xffffffff, required: false, what: "disk, GiB (default: the data folder's filesystem)" },
  bandwidthMbps: {
    min: 0,
    max: 0xffffffff,
    required: false,
    what: "declared uplink, Mbit/s (register needs it; checkers measure it anyway)",
  },
};
const GPU_MODEL = {
  what: 'GPU model as nvidia-smi names it, e.g. "NVIDIA GeForce RTX 4090" (picks the GPU class)',
  example: "NVIDIA GeForce RTX 4090",
};

/** Where the JSON Schema of the profile lives (generated from PROFILE_NUMBERS; a test keeps it current). */
export const HARDWARE_PROFILE_SCHEMA_FILE = "node/schemas/hardware-profile.schema.json";

/** The JSON Schema (draft-07) of the hardware profile, derived from the validator's own table. */
export function hardwareProfileSchema(): Record<string, unknown> {
  const numbers = Object.entries(PROFILE_NUMBERS);
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "Kaisar hardware profile",
    description:
      "What a provider declares about a machine without nvidia-smi (`hardwareProfile` in kaisar.provider.json, " +
      `env ${ENV.hardwareProfile}). Keys starting with $ are comments. Generated from node/src/provider/hardware.ts.`,
    type: "object",
    required: ["gpuModel", ...numbers.filter(([, f]) => f.required).map(([k]) => k)],
    properties: {
      gpuModel: { type: "string", pattern: "\\S", description: GPU_MODEL.what, examples: [GPU_MODEL.example] },
      ...Object.fromEntries(
        numbers.map(([k, f]) => [
          k,
          { type: f.required ? "integer" : ["integer", "null"], minimum: f.min, maximum: f.max, description: f.what },
        ]),
      ),
    },
    patternProperties: { "^\\$": {} },
    additionalProperties: false,
  };
}

/** Validates a parsed profile; throws a `HardwareProfileError` listing every problem. */
export function validateHardwareProfile(json: unknown, source = "profile"): HardwareProfile {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new HardwareProfileError(source, ["is not a JSON object"]);
  }
  const obj = json as Record<string, unknown>;
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    if (!key.startsWith("$") && key !== "gpuModel" && !(key in PROFILE_NUMBERS)) {
      problems.push(`"${key}" is not a field (fields: gpuModel, ${Object.keys(PROFILE_NUMBERS).join(", ")})`);
    }
  }
  if (typeof obj.gpuModel !== "string" || obj.gpuModel.trim() === "") {
    problems.push(`"gpuModel" must be a non-empty string, e.g. "${GPU_MODEL.example}"`);
  } else out.gpuModel = obj.gpuModel.trim();
  for (const [key, { min, max, required }] of Object.entries(PROFILE_NUMBERS)) {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (required) problems.push(`"${key}" is missing (a whole number from ${min})`);
      continue;
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`"${key}" is ${JSON.stringify(v)}, not a whole number in ${min}..${max}`);
    } else out[key] = v;
  }
  if (problems.length > 0) {
    problems.push(`the format: ${HARDWARE_PROFILE_SCHEMA_FILE}`);
    throw new HardwareProfileError(source, problems);
  }
  return out as unknown as HardwareProfile;
}

/** Reads and validates a profile file. */
export function loadHardwareProfile(file: string): HardwareProfile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new HardwareProfileError(file, [`cannot be read: ${(e as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HardwareProfileError(file, [`is not valid JSON: ${(e as Error).message}`]);
  }
  return validateHardwareProfile(json, file);
}

// ---------------------------------------------------------------------------------------------
// Detection

/** Runs a program and resolves to its stdout (rejects on a missing program, a failure or a timeout). */
export type RunProgram = (file: string, args: readonly string[], timeoutMs: number) => Promise<string>;

const runProgram: RunProgram = (file, args, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: timeoutMs, maxBuffer: 1 << 20, windowsHide: true }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });

export interface DetectOptions {
  /** The declared profile, or the path of its file. */
  profile?: HardwareProfile | string;
  /** nvidia-smi's path or name (looked up in PATH). Default "nvidia-smi". */
  nvidiaSmi?: string;
  /** Default 10 s. */
  timeoutMs?: number;
  /** A folder on the disk to report (the data folder). Default: the working directory. */
  diskPath?: string;
  /** How programs are run (tests replace it). */
  run?: RunProgram;
}

export interface Detection {
  hardware: HardwareInfo;
  /** Why this source, in a sentence or two (for `register --dry-run` and the logs). */
  reason: string;
  notes: string[];
}

/** No nvidia-smi and no profile: nothing to report. */
export class HardwareDetectionError extends Error {
  override name = "HardwareDetectionError";
}

/**
 * The node's hardware: GPUs from nvidia-smi when it runs and lists GPUs, otherwise from the declared
 * profile (a `HardwareDetectionError` when there is none). The profile's optional fields (CPU, RAM,
 * disk, bandwidth) apply either way; where it has none, CPU cores and RAM come from node:os and the
 * disk from `diskPath`'s filesystem.
 */
export async function detectHardware(options: DetectOptions = {}): Promise<Detection> {
  const run = options.run ?? runProgram;
  const smi = options.nvidiaSmi ?? "nvidia-smi";
  let profile: HardwareProfile | undefined;
  let profileSource = "the declared profile";
  if (typeof options.profile === "string") {
    profileSource = options.profile;
    profile = loadHardwareProfile(options.profile);
  } else profile = options.profile;

  let gpus: GpuSummary | undefined;
  let why: string;
  try {
    const stdout = await run(smi, NVIDIA_SMI_ARGS, options.timeoutMs ?? 10_000);
    gpus = summarizeGpus(parseNvidiaSmi(stdout));
    why = `nvidia-smi lists ${gpus.gpuCount} x ${gpus.gpuModel}`;
  } catch (e) {
    why = `nvidia-smi is not usable: ${describeRunError(e, smi)}`;
  }

  const notes = gpus?.notes ?? [];
  let source: HardwareSource;
  let gpu: { gpuModel: string; gpuCount: number; vramGiB: number };
  if (gpus) {
    source = "nvidia-smi";
    gpu = gpus;
    if (profile && (profile.gpuModel !== gpus.gpuModel || profile.gpuCount !== gpus.gpuCount)) {
      notes.push(`the declared profile says ${profile.gpuCount} x ${profile.gpuModel}; nvidia-smi's figures are used`);
    }
  } else if (profile) {
    source = "profile";
    gpu = profile;
    why += `; using ${profileSource}`;
  } else {
    throw new HardwareDetectionError(
      `${why}, and no hardware profile is declared: set "hardwareProfile" (env ${ENV.hardwareProfile}) to a JSON ` +
        `file like {"gpuModel": "NVIDIA GeForce RTX 4090", "gpuCount": 1, "vramGiB": 24}`,
    );
  }
  const hardware: HardwareInfo = {
    source,
    gpuModel: gpu.gpuModel,
    gpuCount: gpu.gpuCount,
    vramGiB: gpu.vramGiB,
    cpuCores: profile?.cpuCores ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
    ramGiB: profile?.ramGiB ?? Math.floor(os.totalmem() / 2 ** 30),
    diskGiB: profile?.diskGiB ?? diskGiB(options.diskPath ?? process.cwd()),
    bandwidthMbps: profile?.bandwidthMbps ?? 0,
  };
  return { hardware, reason: why, notes };
}

function describeRunError(e: unknown, smi: string): string {
  const err = e as NodeJS.ErrnoException & { killed?: boolean; signal?: string; stderr?: string };
  if (err.code === "ENOENT") return `${smi} not found`;
  if (err.code === "EACCES") return `${smi} is not executable`;
  if (err.killed) return `${smi} did not answer in time`;
  if (err instanceof NvidiaSmiParseError) return err.message;
  return `${smi} failed: ${String(err.message ?? e)
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(0, 2)
    .join(" ")}`;
}

/** Size of the filesystem holding `dir` (or its nearest existing parent), GiB rounded down; 0 if unknown. */
export function diskGiB(dir: string): number {
  let at = path.resolve(dir);
  for (;;) {
    try {
      const s = statfsSync(at);
      return Math.floor((s.blocks * s.bsize) / 2 ** 30);
    } catch {
      const parent = path.dirname(at);
      if (parent === at) return 0;
      at = parent;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The signed hardware report

/** What `GET /hardware` reports (and signs). */
export interface HardwareReport {
  nodeId: number;
  chainId: number;
  /** The provider's address: the node's key, the one that owns the node on chain. */
  provider: string;
  source: HardwareSource;
  gpuModel: string;
  gpuCount: number;
  vramGiB: number;
  cpuCores: number;
  ramGiB: number;
  diskGiB: number;
  bandwidthMbps: number;
  /** When it was signed, Unix seconds. */
  timestamp: number;
}

/** The body of `GET /hardware`. */
export interface SignedHardwareReport {
  report: HardwareReport;
  /** EIP-191 signature by `report.provider` of `canonicalReportMessage(report)`. */
  signature: string;
}

/** The message signed: the report's canonical JSON (keys sorted, no whitespace). */
export function canonicalReportMessage(report: HardwareReport): string {
  return canonicalJson(report as unknown as Record<string, Canonical>);
}

/** Anything that signs EIP-191 messages with the node's key (an ethers `Wallet`). */
export interface MessageSigner {
  readonly address: string;
  signMessage(message: string): Promise<string>;
}

/** A report of `hardware` for `nodeId` on `chainId`, signed now by `signer`. */
export async function signHardwareReport(
  signer: MessageSigner,
  hardware: HardwareInfo,
  identity: { nodeId: number; chainId: number; timestamp?: number },
): Promise<SignedHardwareReport> {
  const report: HardwareReport = {
    nodeId: identity.nodeId,
    chainId: identity.chainId,
    provider: getAddress(signer.address),
    source: hardware.source,
    gpuModel: hardware.gpuModel,
    gpuCount: hardware.gpuCount,
    vramGiB: hardware.vramGiB,
    cpuCores: hardware.cpuCores,
    ramGiB: hardware.ramGiB,
    diskGiB: hardware.diskGiB,
    bandwidthMbps: hardware.bandwidthMbps,
    timestamp: identity.timestamp ?? Math.floor(Date.now() / 1000),
  };
  return { report, signature: await signer.signMessage(canonicalReportMessage(report)) };
}

export type HardwareReportVerdict = { ok: true; report: HardwareReport } | { ok: false; reason: string };

export interface VerifyReportOptions {
  /** Now, Unix seconds (default: the clock). */
  now?: number;
  /** The node the report must be for. */
  nodeId?: number;
  /** The chain the report must be for. */
  chainId?: number;
  /** How far in the future a timestamp may be (clock skew), seconds. Default 60. */
  maxSkewSeconds?: number;
}

const REPORT_NUMBERS = [
  "nodeId",
  "chainId",
  "gpuCount",
  "vramGiB",
  "cpuCores",
  "ramGiB",
  "diskGiB",
  "bandwidthMbps",
  "timestamp",
] as const;

/**
 * What a checker does with the body of `GET /hardware`: checks its shape, that `signature` is
 * `expectedProvider`'s over the canonical JSON of `report` (and that the report names that provider),
 * that it is at most `maxAgeSeconds` old (and not from the future beyond the allowed skew), and,
 * when given, that it is for `options.nodeId` and `options.chainId`. Never throws.
 */
export function verifyHardwareReport(
  body: unknown,
  expectedProvider: string,
  maxAgeSeconds: number,
  options: VerifyReportOptions = {},
): HardwareReportVerdict {
  if (!isRecord(body)) return { ok: false, reason: "body is not a JSON object" };
  const { report, signature } = body;
  if (!isRecord(report)) return { ok: false, reason: "body has no report object" };
  if (typeof signature !== "string") return { ok: false, reason: "body has no signature" };
  for (const key of REPORT_NUMBERS) {
    const v = report[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      return { ok: false, reason: `report.${key} is ${JSON.stringify(v)}, not a whole number` };
    }
  }
  for (const key of ["provider", "gpuModel", "source"] as const) {
    if (typeof report[key] !== "string") return { ok: false, reason: `report.${key} is not a string` };
  }
  if (report.source !== "nvidia-smi" && report.source !== "profile") {
    return { ok: false, reason: `report.source is ${JSON.stringify(report.source)}, not "nvidia-smi" or "profile"` };
  }
  let expected: string;
  try {
    expected = getAddress(expectedProvider.toLowerCase());
  } catch {
    return { ok: false, reason: `expected provider ${expectedProvider} is not an address` };
  }
  if (String(report.provider).toLowerCase() !== expected.toLowerCase()) {
    return { ok: false, reason: `report is for provider ${String(report.provider)}, not ${expected}` };
  }
  let message: string;
  try {
    message = canonicalJson(report as Record<string, Canonical>);
  } catch (e) {
    return { ok: false, reason: `report cannot be put in canonical JSON: ${(e as Error).message}` };
  }
  let signer: string;
  try {
    signer = verifyMessage(message, signature);
  } catch (e) {
    return { ok: false, reason: `signature is malformed: ${(e as Error).message.split(" (")[0]}` };
  }
  if (signer !== expected) return { ok: false, reason: `report is signed by ${signer}, not ${expected}` };
  if (options.nodeId !== undefined && report.nodeId !== options.nodeId) {
    return { ok: false, reason: `report is for node ${String(report.nodeId)}, not ${options.nodeId}` };
  }
  if (options.chainId !== undefined && report.chainId !== options.chainId) {
    return { ok: false, reason: `report is for chain ${String(report.chainId)}, not ${options.chainId}` };
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const age = now - (report.timestamp as number);
  if (age > maxAgeSeconds) return { ok: false, reason: `report is ${age} s old, more than ${maxAgeSeconds} s` };
  const skew = options.maxSkewSeconds ?? 60;
  if (-age > skew) return { ok: false, reason: `report is dated ${-age} s in the future (more than ${skew} s)` };
  return { ok: true, report: report as unknown as HardwareReport };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
