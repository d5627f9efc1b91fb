/**
 * Hardware reports: what a node's agent says it runs on, signed by its provider, checked against
 * what the node registered.
 *
 * `GET /hardware` answers `{ report, signature }`: `report` is
 * `{ nodeId, chainId, provider, source, gpuModel, gpuCount, vramGiB, cpuCores, ramGiB, diskGiB,
 * bandwidthMbps, timestamp }` and `signature` an EIP-191 `personal_sign` by the provider's key over
 * the canonical JSON of `report` (keys sorted, no whitespace: `canonicalJson` of src/scoring). A
 * report signed by the provider that declares less than the node registered is evidence of hardware
 * fraud that anyone can check, so the checker keeps the report and its signature with the sample.
 *
 * A report counts as matching when it is the node's (node id, chain, provider), signed by the
 * provider, recent, and its GPUs are at least what was registered: as many GPUs, at least the
 * registered VRAM per GPU (within `vramToleranceBps`: nvidia-smi counts MiB and 80 GB cards show
 * 79.x GiB) and a model of the registered class ("NVIDIA H100 80GB HBM3" is of class "H100-80GB").
 * CPU cores, RAM and disk below the registered figures are noted, not counted as a mismatch: how an
 * agent measures them (usable RAM, free disk) varies, and the stake and the price are per GPU.
 */
import { getAddress, verifyMessage } from "ethers";

import { canonicalReportMessage, type HardwareReport } from "../provider/hardware";

import type { CheckerNode } from "../config/nodes";

/** The wire format is the agent's (src/provider/hardware.ts): one definition for both sides. */
export type { HardwareReport, SignedHardwareReport } from "../provider/hardware";

export interface HardwareCheckOptions {
  /** The chain the checker serves; the report must name it. */
  chainId?: number;
  /** Now, Unix milliseconds (default Date.now()). */
  now?: number;
  /** Oldest report accepted, milliseconds (default 1 hour). */
  maxAgeMs?: number;
  /** VRAM below the registered figure tolerated, bps of it (default 500 = 5%). */
  vramToleranceBps?: number;
}

export interface HardwareVerdict {
  /** The report is the node's, signed by its provider and recent (false: it proves nothing). */
  authentic: boolean;
  /** Authentic and at least what the node registered. */
  match: boolean;
  /** Why it does not match (empty when it does). */
  reasons: string[];
  /** Shortfalls that do not count as a mismatch (CPU, RAM, disk). */
  notes: string[];
  /** The address that signed the report, checksummed (absent if the signature is malformed). */
  signer?: string;
}

/** The message the provider signs: the canonical JSON of the report (the agent's own function). */
export function hardwareReportMessage(report: HardwareReport | Record<string, unknown>): string {
  return canonicalReportMessage(report as HardwareReport);
}

/**
 * Whether the GPU model an agent reports is of the registered GPU class. The class's chip is its name
 * before the first "-" ("H100" of "H100-80GB", "RTX4090" of "RTX4090-24GB"). Compared in upper case
 * without separators, the model must contain the chip between two boundaries, a boundary being a
 * separator or a change between letters and digits in the model: "NVIDIA H100 80GB HBM3", "H100NVL" and
 * "NVIDIA GeForce RTX 4090" pass; "A100" does not pass for "A10", nor "GH100" for "H100".
 */
export function gpuModelMatchesClass(model: string, gpuClass: string): boolean {
  const chip = gpuClass
    .split("-")[0]
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "");
  if (chip === "") return false;
  const upper = model.toUpperCase();
  let squashed = "";
  const boundary = new Set<number>([0]);
  let prev = "";
  for (const ch of upper) {
    const kind = /[0-9]/.test(ch) ? "digit" : /[A-Z]/.test(ch) ? "letter" : "";
    if (kind === "") {
      boundary.add(squashed.length);
      prev = "";
      continue;
    }
    if (prev !== "" && prev !== kind) boundary.add(squashed.length);
    squashed += ch;
    prev = kind;
  }
  boundary.add(squashed.length);
  for (let at = squashed.indexOf(chip); at >= 0; at = squashed.indexOf(chip, at + 1)) {
    if (boundary.has(at) && boundary.has(at + chip.length)) return true;
  }
  return false;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/** Whether `v` is plain JSON (what JSON.parse makes), so that its canonical form is well defined. */
function isJson(v: unknown, depth = 0): boolean {
  if (depth > 8) return false;
  if (v === null || typeof v === "boolean" || typeof v === "string") return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isJson(x, depth + 1));
  if (isObject(v)) return Object.values(v).every((x) => isJson(x, depth + 1));
  return false;
}

/**
 * Checks a `GET /hardware` answer against the node: authenticity (shape, node id, chain, provider,
 * signature, age), then the GPUs against the registered spec. Never throws.
 */
export function checkHardwareReport(
  answer: unknown,
  node: Pick<CheckerNode, "id" | "provider" | "spec">,
  options: HardwareCheckOptions = {},
): HardwareVerdict {
  const reasons: string[] = [];
  const notes: string[] = [];
  const fail = (reason: string, signer?: string): HardwareVerdict => ({
    authentic: false,
    match: false,
    reasons: [reason],
    notes,
    signer,
  });
  if (!isObject(answer) || !isObject(answer.report) || typeof answer.signature !== "string") {
    return fail("the answer is not { report, signature }");
  }
  const report = answer.report;
  if (!isJson(report)) return fail("the report is not plain JSON");
  const numbers = ["nodeId", "chainId", "gpuCount", "vramGiB", "cpuCores", "ramGiB", "diskGiB", "timestamp"] as const;
  for (const k of numbers) if (!isCount(report[k])) return fail(`the report's ${k} is not a number >= 0`);
  for (const k of ["provider", "gpuModel"] as const) {
    if (typeof report[k] !== "string") return fail(`the report's ${k} is not a string`);
  }
  const r = report as unknown as HardwareReport;

  // Authenticity: the node's own report, signed by its provider, recent.
  let signer: string | undefined;
  try {
    signer = getAddress(verifyMessage(hardwareReportMessage(report), answer.signature));
  } catch {
    return fail("the signature is malformed");
  }
  const provider = node.provider.toLowerCase();
  if (signer.toLowerCase() !== provider) return fail(`signed by ${signer}, not by the provider`, signer);
  if (r.nodeId !== node.id) return fail(`the report is for node ${r.nodeId}`, signer);
  if (r.provider.toLowerCase() !== provider) return fail(`the report names provider ${r.provider}`, signer);
  if (options.chainId !== undefined && r.chainId !== options.chainId) {
    return fail(`the report is for chain ${r.chainId}, not ${options.chainId}`, signer);
  }
  const now = options.now ?? Date.now();
  const maxAgeMs = options.maxAgeMs ?? 3_600_000;
  const signedAt = r.timestamp > 1e12 ? r.timestamp : r.timestamp * 1000;
  if (now - signedAt > maxAgeMs) {
    return fail(`the report was signed ${Math.round((now - signedAt) / 1000)} s ago (stale)`, signer);
  }
  if (signedAt - now > 300_000) return fail(`the report is signed in the future (${r.timestamp})`, signer);

  // The GPUs against the registered spec.
  const spec = node.spec;
  if (r.gpuCount < spec.gpuCount) reasons.push(`${r.gpuCount} GPUs, registered ${spec.gpuCount}`);
  const tolerance = options.vramToleranceBps ?? 500;
  if (r.vramGiB * 10_000 < spec.vramGiB * (10_000 - tolerance)) {
    reasons.push(`${r.vramGiB} GiB of VRAM per GPU, registered ${spec.vramGiB}`);
  }
  if (!gpuModelMatchesClass(r.gpuModel, spec.gpuClass)) {
    reasons.push(`GPU model ${JSON.stringify(r.gpuModel)} is not of class ${spec.gpuClass}`);
  }
  for (const k of ["cpuCores", "ramGiB", "diskGiB"] as const) {
    const declared = spec[k];
    if (declared !== undefined && r[k] < declared) notes.push(`${k} ${r[k]}, registered ${declared}`);
  }
  return { authentic: true, match: reasons.length === 0, reasons, notes, signer };
}
