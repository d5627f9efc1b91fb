/**
 * The JSON forms of Kaisar's reward data, shared by the checker (writers), the keeper (strict readers)
 * and the web app (the keeper's proof answers): a signed report (`GET <checker>/epochs/:epoch/report`),
 * an epoch's reward tree (`GET <checker>/epochs/:epoch/tree`) and one leaf with its proof
 * (`GET <keeper>/epochs/:epoch/nodes/:id/proof` and the like). Bigints are decimal strings, addresses
 * and hashes 0x hex. A peer's answer is untrusted input: every field is checked (extra fields of a
 * record refused, an answer's informative extras ignored), and a bad one is named in the JsonShapeError.
 *
 *   report: { report: { epoch, configVersion, root, nodeCount, totalReward, totalCapacityPoints,
 *             totalDeliveryPoints }, signature, signer, root?, nodeCount? }
 *   tree:   { root, leaves: [{ kind, epoch, account, id, capacityReward, deliveryReward, checkerReward,
 *             metricsHash, metrics? }] }   (metrics: the node leaf's `NodeMetrics`, needed for SLA proofs)
 *   proof:  { epoch, index, root, leaf, metrics?, proof: [bytes32], claim: { leaf, proof } }
 *             (leaf without its metrics; the keeper's root is informative, only the chain's counts)
 *
 * Browser-safe (ethers only): the web app imports this file directly, not the package's index.
 */
import { getAddress, isHexString } from "ethers";

import type { NodeMetrics, RewardLeaf } from "./leaves";
import type { Report } from "./report";

/** An answer (a checker's, the keeper's) that does not have the documented shape. */
export class JsonShapeError extends Error {}

export interface ReportJson {
  epoch: string;
  configVersion: string;
  root: string;
  nodeCount: string;
  totalReward: string;
  totalCapacityPoints: string;
  totalDeliveryPoints: string;
}

export interface NodeMetricsJson {
  uptimeBps: string;
  bandwidthMbps: string;
  hardwareScore: string;
  deliveredGpuSeconds: string;
  capacityPoints: string;
  deliveryPoints: string;
  hardwareMismatch: boolean;
  evidence: string;
}

export interface LeafJson {
  kind: number;
  epoch: string;
  account: string;
  id: string;
  capacityReward: string;
  deliveryReward: string;
  checkerReward: string;
  metricsHash: string;
  metrics?: NodeMetricsJson;
}

export interface TreeJson {
  root: string;
  leaves: LeafJson[];
}

/** A report with the checker's EIP-712 signature over it. */
export interface SignedReport {
  report: Report;
  /** 65 bytes hex (r, s, v). */
  signature: string;
  /** The operator address the checker says signed (verified by the keeper). */
  signer: string;
}

/** A tree leaf with the node metrics it commits to (node leaves; absent for checker leaves). */
export interface TreeLeaf {
  leaf: RewardLeaf;
  metrics?: NodeMetrics;
}

const UINT = /^(0|[1-9][0-9]{0,77})$/;
const MAX_UINT256 = 2n ** 256n - 1n;

function object(what: string, raw: unknown): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new JsonShapeError(`${what} is not an object`);
  return raw as Record<string, unknown>;
}

function onlyKeys(what: string, o: Record<string, unknown>, required: string[], optional: string[] = []) {
  for (const k of required) if (!(k in o)) throw new JsonShapeError(`${what} lacks "${k}"`);
  for (const k of Object.keys(o)) {
    if (!required.includes(k) && !optional.includes(k)) throw new JsonShapeError(`${what} has an unknown field "${k}"`);
  }
}

function uint(what: string, raw: unknown): bigint {
  if (typeof raw !== "string" || !UINT.test(raw)) throw new JsonShapeError(`${what} is not a decimal string`);
  const v = BigInt(raw);
  if (v > MAX_UINT256) throw new JsonShapeError(`${what} does not fit uint256`);
  return v;
}

function bytes32(what: string, raw: unknown): string {
  if (typeof raw !== "string" || !isHexString(raw, 32)) throw new JsonShapeError(`${what} is not 0x and 64 hex digits`);
  return raw.toLowerCase();
}

function address(what: string, raw: unknown): string {
  if (typeof raw !== "string" || !isHexString(raw, 20)) throw new JsonShapeError(`${what} is not an address`);
  return getAddress(raw.toLowerCase());
}

const REPORT_FIELDS = [
  "epoch",
  "configVersion",
  "root",
  "nodeCount",
  "totalReward",
  "totalCapacityPoints",
  "totalDeliveryPoints",
] as const;

/** The JSON form of a report. */
export function reportToJson(r: Report): ReportJson {
  return {
    epoch: r.epoch.toString(),
    configVersion: r.configVersion.toString(),
    root: r.root,
    nodeCount: r.nodeCount.toString(),
    totalReward: r.totalReward.toString(),
    totalCapacityPoints: r.totalCapacityPoints.toString(),
    totalDeliveryPoints: r.totalDeliveryPoints.toString(),
  };
}

/** Reads a report's JSON form; throws JsonShapeError naming the bad field. */
export function reportFromJson(raw: unknown, what = "report"): Report {
  const o = object(what, raw);
  onlyKeys(what, o, [...REPORT_FIELDS]);
  return {
    epoch: uint(`${what}.epoch`, o.epoch),
    configVersion: uint(`${what}.configVersion`, o.configVersion),
    root: bytes32(`${what}.root`, o.root),
    nodeCount: uint(`${what}.nodeCount`, o.nodeCount),
    totalReward: uint(`${what}.totalReward`, o.totalReward),
    totalCapacityPoints: uint(`${what}.totalCapacityPoints`, o.totalCapacityPoints),
    totalDeliveryPoints: uint(`${what}.totalDeliveryPoints`, o.totalDeliveryPoints),
  };
}

/** The body a checker serves at `/epochs/:epoch/report`. */
export function signedReportToJson(s: SignedReport) {
  return {
    report: reportToJson(s.report),
    signature: s.signature,
    signer: getAddress(s.signer),
    root: s.report.root,
    nodeCount: s.report.nodeCount.toString(),
  };
}

/** Reads a checker's `/epochs/:epoch/report` answer (extra informative fields are ignored, not trusted). */
export function signedReportFromJson(raw: unknown): SignedReport {
  const o = object("the answer", raw);
  for (const k of ["report", "signature", "signer"]) if (!(k in o)) throw new JsonShapeError(`the answer lacks "${k}"`);
  if (typeof o.signature !== "string" || !isHexString(o.signature, 65)) {
    throw new JsonShapeError("signature is not 0x and 130 hex digits (r, s, v)");
  }
  return { report: reportFromJson(o.report), signature: o.signature, signer: address("signer", o.signer) };
}

/** The JSON form of node metrics. */
export function metricsToJson(m: NodeMetrics): NodeMetricsJson {
  return {
    uptimeBps: m.uptimeBps.toString(),
    bandwidthMbps: m.bandwidthMbps.toString(),
    hardwareScore: m.hardwareScore.toString(),
    deliveredGpuSeconds: m.deliveredGpuSeconds.toString(),
    capacityPoints: m.capacityPoints.toString(),
    deliveryPoints: m.deliveryPoints.toString(),
    hardwareMismatch: m.hardwareMismatch,
    evidence: m.evidence,
  };
}

/** Reads node metrics. */
export function metricsFromJson(raw: unknown, what = "metrics"): NodeMetrics {
  const o = object(what, raw);
  const keys = [
    "uptimeBps",
    "bandwidthMbps",
    "hardwareScore",
    "deliveredGpuSeconds",
    "capacityPoints",
    "deliveryPoints",
    "hardwareMismatch",
    "evidence",
  ];
  onlyKeys(what, o, keys);
  if (typeof o.hardwareMismatch !== "boolean") throw new JsonShapeError(`${what}.hardwareMismatch is not a boolean`);
  return {
    uptimeBps: uint(`${what}.uptimeBps`, o.uptimeBps),
    bandwidthMbps: uint(`${what}.bandwidthMbps`, o.bandwidthMbps),
    hardwareScore: uint(`${what}.hardwareScore`, o.hardwareScore),
    deliveredGpuSeconds: uint(`${what}.deliveredGpuSeconds`, o.deliveredGpuSeconds),
    capacityPoints: uint(`${what}.capacityPoints`, o.capacityPoints),
    deliveryPoints: uint(`${what}.deliveryPoints`, o.deliveryPoints),
    hardwareMismatch: o.hardwareMismatch,
    evidence: bytes32(`${what}.evidence`, o.evidence),
  };
}

/** The JSON form of a leaf (with its node metrics when given). */
export function leafToJson(leaf: RewardLeaf, metrics?: NodeMetrics): LeafJson {
  const json: LeafJson = {
    kind: leaf.kind,
    epoch: leaf.epoch.toString(),
    account: getAddress(leaf.account),
    id: leaf.id.toString(),
    capacityReward: leaf.capacityReward.toString(),
    deliveryReward: leaf.deliveryReward.toString(),
    checkerReward: leaf.checkerReward.toString(),
    metricsHash: leaf.metricsHash,
  };
  if (metrics) json.metrics = metricsToJson(metrics);
  return json;
}

/** Reads a leaf's JSON form. */
export function leafFromJson(raw: unknown, what = "leaf"): TreeLeaf {
  const o = object(what, raw);
  onlyKeys(
    what,
    o,
    ["kind", "epoch", "account", "id", "capacityReward", "deliveryReward", "checkerReward", "metricsHash"],
    ["metrics"],
  );
  if (o.kind !== 0 && o.kind !== 1) throw new JsonShapeError(`${what}.kind is not 0 (node) or 1 (checker)`);
  const leaf: RewardLeaf = {
    kind: o.kind,
    epoch: uint(`${what}.epoch`, o.epoch),
    account: address(`${what}.account`, o.account),
    id: uint(`${what}.id`, o.id),
    capacityReward: uint(`${what}.capacityReward`, o.capacityReward),
    deliveryReward: uint(`${what}.deliveryReward`, o.deliveryReward),
    checkerReward: uint(`${what}.checkerReward`, o.checkerReward),
    metricsHash: bytes32(`${what}.metricsHash`, o.metricsHash),
  };
  return o.metrics === undefined ? { leaf } : { leaf, metrics: metricsFromJson(o.metrics, `${what}.metrics`) };
}

/** The body a checker serves at `/epochs/:epoch/tree`. */
export function treeToJson(root: string, leaves: readonly TreeLeaf[]): TreeJson {
  return { root, leaves: leaves.map((l) => leafToJson(l.leaf, l.metrics)) };
}

/** Reads a checker's `/epochs/:epoch/tree` answer. */
export function treeFromJson(raw: unknown): { root: string; leaves: TreeLeaf[] } {
  const o = object("the tree", raw);
  onlyKeys("the tree", o, ["root", "leaves"]);
  if (!Array.isArray(o.leaves)) throw new JsonShapeError("the tree's leaves are not a list");
  return { root: bytes32("root", o.root), leaves: o.leaves.map((l, i) => leafFromJson(l, `leaves[${i}]`)) };
}

/** The keeper's answer at `/epochs/:epoch/nodes/:nodeId/proof` (and `/checkers/:address/proof`, `/proofs/:index`). */
export interface KeeperProofJson {
  epoch: number;
  index: number;
  root: string;
  leaf: LeafJson;
  metrics?: NodeMetricsJson;
  proof: string[];
  /** The argument of RewardDistributor.claim, ready made. */
  claim: { leaf: LeafJson; proof: string[] };
}

/** One leaf of an epoch's tree with its proof, as the keeper serves it. */
export interface KeeperProof {
  leaf: RewardLeaf;
  metrics?: NodeMetrics;
  proof: string[];
  /** The root the keeper says the proof is for: informative only, a claim counts the chain's. */
  root?: string;
}

/** The keeper's proof answer for leaf `index` of `epoch`'s tree. */
export function keeperProofToJson(
  epoch: number,
  index: number,
  root: string,
  p: { leaf: RewardLeaf; metrics?: NodeMetrics; proof: readonly string[] },
): KeeperProofJson {
  const leaf = leafToJson(p.leaf);
  const proof = [...p.proof];
  return {
    epoch,
    index,
    root,
    leaf,
    ...(p.metrics ? { metrics: metricsToJson(p.metrics) } : {}),
    proof,
    claim: { leaf, proof },
  };
}

/**
 * Reads the keeper's proof answer: the leaf (strictly), its metrics if any, the proof (bytes32 each)
 * and the keeper's root if given; `epoch`, `index` and `claim` repeat the leaf and are ignored.
 * Throws JsonShapeError naming the bad field. Says nothing about whether the proof holds: check it
 * against the chain's root (`verifyRewardProof` in leaves.ts).
 */
export function keeperProofFromJson(raw: unknown, what = "answer"): KeeperProof {
  const o = object(what, raw);
  for (const k of ["leaf", "proof"]) if (!(k in o)) throw new JsonShapeError(`${what} lacks "${k}"`);
  const { leaf, metrics: inLeaf } = leafFromJson(o.leaf, `${what}.leaf`);
  if (!Array.isArray(o.proof)) throw new JsonShapeError(`${what}.proof is not a list`);
  const proof = o.proof.map((h, i) => bytes32(`${what}.proof[${i}]`, h));
  const metrics = o.metrics === undefined ? inLeaf : metricsFromJson(o.metrics, `${what}.metrics`);
  const out: KeeperProof = { leaf, proof };
  if (metrics) out.metrics = metrics;
  if (o.root !== undefined) out.root = bytes32(`${what}.root`, o.root);
  return out;
}
