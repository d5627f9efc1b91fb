/**
 * The JSON forms of Kaisar's reward data, shared by the checker (writers), the keeper (strict readers)
 * and the web app (the keeper's proof answers): a signed report (`GET <checker>/epochs/:epoch/report`),
 * an epoch's reward tree (`GET <checker>/epochs/:epoch/tree`) and one leaf with its proof
 * (`GET <keeper>/epochs/:epoch/nodes/:id/proof` and the like). Bigints are decimal strings, addresses
 * and hashes 0x hex. A peer's answer is untrusted input: every field is checked (extra fields of a
 * record refused, an answer's informative extras ignored) by a zod schema, and a bad one is named in the
 * JsonShapeError (`leaves[1].epoch is not a decimal string`).
 *
 *   report: { report: { epoch, configVersion, root, nodeCount, totalReward, totalCapacityPoints,
 *             totalDeliveryPoints }, signature, signer, root?, nodeCount? }
 *   tree:   { root, leaves: [{ kind, epoch, account, id, capacityReward, deliveryReward, checkerReward,
 *             metricsHash, metrics? }] }   (metrics: the node leaf's `NodeMetrics`, needed for SLA proofs)
 *   proof:  { epoch, index, root, leaf, metrics?, proof: [bytes32], claim: { leaf, proof } }
 *             (leaf without its metrics; the keeper's root is informative, only the chain's counts)
 *
 * Browser-safe (ethers and zod only): the web app imports this file directly, not the package's index.
 */
import { getAddress, isHexString } from "ethers";
import { z } from "zod";

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

/** A uint256 as a decimal string. */
const uint = z
  .string({ error: "is not a decimal string" })
  .regex(UINT, { error: "is not a decimal string" })
  .transform(BigInt)
  .refine((v) => v <= MAX_UINT256, { error: "does not fit uint256" });
/** A 32-byte hash, read in lower case. */
const bytes32 = z
  .string({ error: "is not 0x and 64 hex digits" })
  .refine((v) => isHexString(v, 32), { error: "is not 0x and 64 hex digits" })
  .transform((v) => v.toLowerCase());
/** An address, read checksummed. */
const address = z
  .string({ error: "is not an address" })
  .refine((v) => isHexString(v, 20), { error: "is not an address" })
  .transform((v) => getAddress(v.toLowerCase()));
/** A record with exactly these fields (`strict`), or with these and any informative extras (`loose`). */
const strict = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape, { error: "is not an object" });
const loose = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape, { error: "is not an object" });

const reportSchema = strict({
  epoch: uint,
  configVersion: uint,
  root: bytes32,
  nodeCount: uint,
  totalReward: uint,
  totalCapacityPoints: uint,
  totalDeliveryPoints: uint,
});
const metricsSchema = strict({
  uptimeBps: uint,
  bandwidthMbps: uint,
  hardwareScore: uint,
  deliveredGpuSeconds: uint,
  capacityPoints: uint,
  deliveryPoints: uint,
  hardwareMismatch: z.boolean({ error: "is not a boolean" }),
  evidence: bytes32,
});
const leafSchema = strict({
  kind: z.union([z.literal(0), z.literal(1)], { error: "is not 0 (node) or 1 (checker)" }),
  epoch: uint,
  account: address,
  id: uint,
  capacityReward: uint,
  deliveryReward: uint,
  checkerReward: uint,
  metricsHash: bytes32,
  metrics: metricsSchema.optional(),
});

/** `raw` through `schema`, or a JsonShapeError naming the first bad field under `what` (`leaf.epoch`). */
function read<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const result = schema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = (path: readonly PropertyKey[]) =>
    path.reduce<string>(
      (s, k) => (typeof k === "number" ? `${s}[${k}]` : s === "" ? String(k) : `${s}.${String(k)}`),
      what,
    ) || "the answer";
  if (issue.code === "unrecognized_keys")
    throw new JsonShapeError(`${name(issue.path)} has an unknown field "${issue.keys[0]}"`);
  if ("input" in issue && issue.input === undefined && issue.path.length > 0) {
    throw new JsonShapeError(`${name(issue.path.slice(0, -1))} lacks "${String(issue.path.at(-1))}"`);
  }
  throw new JsonShapeError(`${name(issue.path)} ${issue.message}`);
}

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
  return read(reportSchema, raw, what);
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

const signedReportSchema = loose({
  report: z.unknown().refine((v) => v !== undefined),
  signature: z
    .string({ error: "is not 0x and 130 hex digits (r, s, v)" })
    .refine((v) => isHexString(v, 65), { error: "is not 0x and 130 hex digits (r, s, v)" }),
  signer: address,
});

/** Reads a checker's `/epochs/:epoch/report` answer (extra informative fields are ignored, not trusted). */
export function signedReportFromJson(raw: unknown): SignedReport {
  const o = read(signedReportSchema, raw, "");
  return { report: reportFromJson(o.report), signature: o.signature, signer: o.signer };
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
  return read(metricsSchema, raw, what);
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
  const { metrics, ...leaf } = read(leafSchema, raw, what);
  return metrics === undefined ? { leaf } : { leaf, metrics };
}

/** The body a checker serves at `/epochs/:epoch/tree`. */
export function treeToJson(root: string, leaves: readonly TreeLeaf[]): TreeJson {
  return { root, leaves: leaves.map((l) => leafToJson(l.leaf, l.metrics)) };
}

const treeSchema = strict({ root: bytes32, leaves: z.array(leafSchema, { error: "is not a list" }) });

/** Reads a checker's `/epochs/:epoch/tree` answer. */
export function treeFromJson(raw: unknown): { root: string; leaves: TreeLeaf[] } {
  const o = read(treeSchema, raw, "");
  return {
    root: o.root,
    leaves: o.leaves.map(({ metrics, ...leaf }) => (metrics === undefined ? { leaf } : { leaf, metrics })),
  };
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
  const o = read(
    loose({
      leaf: leafSchema,
      proof: z.array(bytes32, { error: "is not a list" }),
      metrics: metricsSchema.optional(),
      root: bytes32.optional(),
    }),
    raw,
    what,
  );
  const { metrics: inLeaf, ...leaf } = o.leaf;
  const metrics = o.metrics ?? inLeaf;
  const out: KeeperProof = { leaf, proof: o.proof };
  if (metrics) out.metrics = metrics;
  if (o.root !== undefined) out.root = o.root;
  return out;
}
