/**
 * An epoch's scoring: from every checker's observations to the leaves of the reward tree.
 *
 * Deterministic by construction: inputs are validated, addresses lower-cased for comparison, nodes
 * taken in id order, checkers in address order and each node's observations in checker order, all
 * arithmetic on integers (medians round down, rewards are bigint and round down). Any permutation of
 * the same inputs gives the same leaves, hence the same root, byte for byte.
 *
 * Per node: the median across its observers of uptime, bandwidth and hardware score; a hardware
 * mismatch when most observers report one; an observation further than the tolerance from a median
 * (or on the other side of the mismatch vote) is an outlier, which counts against its checker.
 * Eligibility: a node earns only for the part of the epoch it was listed with its provider's stake
 * covering it (`eligibleBps`, from `NodeRegistry.eligibleSince` at the epoch's end); an ineligible node
 * keeps its leaf (its uptime backs SLA credits and slashes) with zero rewards.
 * Points: capacity = hardware score x uptime x eligible part, delivery = protocol fees paid in the epoch
 * (KAI) x uptime (both 0 on a hardware mismatch; delivery 0 when not eligible). A node's delivery reward
 * is capped at `deliveryCapBps` of its fees, so renting to oneself never pays back what it costs.
 * Checkers: points = reports signed x licenses x (1 - error rate), where the
 * error rate is the share of their observations that were outliers.
 */
import { getAddress } from "ethers";
import {
  LeafKind,
  buildRewardTreeFast,
  checkerMetricsHash,
  keccak256Fast,
  nodeMetricsHashFast,
  type CheckerMetrics,
  type NodeMetrics,
  type Report,
  type RewardLeaf,
} from "@kaisar/offchain";

import { canonicalHash, flat } from "./canonical";
import { majority, median } from "./median";
import { ScoringInputError, checkNodeId, normalizeAddress } from "./observe";
import { BPS, proRata, splitBudget, type Pools } from "./rewards";
import type { EpochInput, NodeObservation, ScoringParams, Tolerance } from "./types";

export interface NodeScore {
  nodeId: number;
  /** Checksummed. */
  provider: string;
  /** Checkers that observed the node. */
  observers: number;
  /** Checkers (lower case, in address order) whose observation of the node was an outlier. */
  outliers: string[];
  metrics: NodeMetrics;
  /** Share of the epoch the node was eligible (listed and covered by stake), bps. */
  eligibleBps: bigint;
  /** Protocol fees its rentals paid for the epoch, KAI units. */
  feesKai: bigint;
  capacityReward: bigint;
  deliveryReward: bigint;
}

export interface CheckerScore {
  /** Checksummed. */
  operator: string;
  licenses: bigint;
  reportsSigned: bigint;
  /** Observations of scored nodes. */
  observations: number;
  outliers: number;
  errorRateBps: bigint;
  points: bigint;
  reward: bigint;
  metrics: CheckerMetrics;
}

export interface EpochScores {
  epoch: bigint;
  budget: bigint;
  pools: Pools;
  /** Scored nodes, by id. */
  nodes: NodeScore[];
  /** Ids of nodes with fewer observations than `minObservations` (no leaf this epoch), ascending. */
  unobserved: number[];
  /** Checkers, by address. */
  checkers: CheckerScore[];
  /** Node leaves by id, then checker leaves by operator. */
  leaves: RewardLeaf[];
  totals: {
    nodeCount: bigint;
    totalReward: bigint;
    totalCapacityPoints: bigint;
    totalDeliveryPoints: bigint;
    /** What rounding and empty pools leave of the budget. */
    unspent: bigint;
  };
}

const EVIDENCE = /^0x[0-9a-fA-F]{64}$/;

/** Whether `x` is further from `med` than the tolerance allows. */
export function isOutlier(x: number, med: number, tol: Tolerance): boolean {
  const allowed = Math.max(tol.absolute, Math.floor((med * tol.relativeBps) / 10_000));
  return Math.abs(x - med) > allowed;
}

function checkObservation(o: NodeObservation): void {
  const what = `observation of node ${o.nodeId} by ${o.checker}`;
  const isUint = (v: number) => Number.isSafeInteger(v) && v >= 0;
  if (!isUint(o.uptimeBps) || o.uptimeBps > 10_000)
    throw new ScoringInputError(`${what}: uptimeBps ${o.uptimeBps} not in 0..10000`);
  if (!isUint(o.bandwidthMbps))
    throw new ScoringInputError(`${what}: bandwidthMbps ${o.bandwidthMbps} is not a whole number`);
  if (!isUint(o.hardwareScore))
    throw new ScoringInputError(`${what}: hardwareScore ${o.hardwareScore} is not a whole number`);
  if (typeof o.hardwareMismatch !== "boolean")
    throw new ScoringInputError(`${what}: hardwareMismatch is not a boolean`);
  if (typeof o.evidence !== "string" || !EVIDENCE.test(o.evidence))
    throw new ScoringInputError(`${what}: evidence is not a bytes32`);
}

function checkParams(params: ScoringParams): void {
  for (const [name, t] of Object.entries(params.tolerance)) {
    if (!(t.absolute >= 0) || !Number.isInteger(t.relativeBps) || t.relativeBps < 0) {
      throw new RangeError(`tolerance ${name} must have absolute >= 0 and relativeBps a whole number >= 0`);
    }
  }
  if (!Number.isInteger(params.minObservations) || params.minObservations < 1) {
    throw new RangeError(`minObservations = ${params.minObservations} is not a whole number >= 1`);
  }
  if (!Number.isInteger(params.deliveryCapBps) || params.deliveryCapBps < 0 || params.deliveryCapBps > 10_000) {
    throw new RangeError(`deliveryCapBps = ${params.deliveryCapBps} is not a whole number in 0..10000`);
  }
}

/**
 * The share of `[start, end)` a node with `eligibleSince` was eligible, bps: 0 when it is not eligible at
 * the end (0) or became so only at or after it, else `(end - max(start, eligibleSince)) * 10_000 / (end - start)`.
 */
export function eligibleBps(eligibleSince: bigint, start: bigint, end: bigint): bigint {
  if (eligibleSince === 0n || eligibleSince >= end) return 0n;
  const from = eligibleSince > start ? eligibleSince : start;
  return ((end - from) * BPS) / (end - start);
}

/** Checksums addresses once each (a keccak per call): providers own many nodes. */
function checksummer(): (lower: string) => string {
  const cache = new Map<string, string>();
  return (lower) => {
    let c = cache.get(lower);
    if (c === undefined) cache.set(lower, (c = flat(getAddress(lower))));
    return c;
  };
}

/** Bytes per observation in `nodeEvidence`: address, uint16, uint64, uint64, bool, bytes32. */
const PACKED_OBSERVATION = 20 + 2 + 8 + 8 + 1 + 32;

/**
 * The evidence hash of a node's metrics: keccak256 of
 * `abi.encodePacked(uint256 epoch, uint32 nodeId, then per observation in checker order: address checker,
 * uint16 uptimeBps, uint64 bandwidthMbps, uint64 hardwareScore, bool hardwareMismatch, bytes32 evidence)`.
 * It commits to every observation behind the medians, each of which commits (by its own evidence) to
 * the checker's samples. Packed bytes rather than JSON: a third of the keccak work per node, and a
 * contract can recompute it.
 */
export function nodeEvidence(
  epoch: bigint,
  nodeId: number,
  obs: readonly { ci: number; o: NodeObservation }[],
  checkerBytes: readonly Buffer[],
): string {
  const buf = Buffer.alloc(36 + obs.length * PACKED_OBSERVATION);
  buf.write(epoch.toString(16).padStart(64, "0"), 0, "hex");
  buf.writeUInt32BE(nodeId, 32);
  let at = 36;
  for (const { ci, o } of obs) {
    checkerBytes[ci].copy(buf, at);
    buf.writeUInt16BE(o.uptimeBps, at + 20);
    buf.writeBigUInt64BE(BigInt(o.bandwidthMbps), at + 22);
    buf.writeBigUInt64BE(BigInt(o.hardwareScore), at + 30);
    buf[at + 38] = o.hardwareMismatch ? 1 : 0;
    buf.write(o.evidence.slice(2), at + 39, "hex");
    at += PACKED_OBSERVATION;
  }
  return keccak256Fast(buf);
}

/** Scores an epoch: metrics, points, rewards and leaves of every node and checker. */
export function scoreEpoch(input: EpochInput, params: ScoringParams): EpochScores {
  checkParams(params);
  if (input.epoch < 0n || input.epoch >= 1n << 256n)
    throw new ScoringInputError(`epoch ${input.epoch} is not a uint256`);
  if (!(input.epochStart >= 0n && input.epochEnd > input.epochStart))
    throw new ScoringInputError(`epoch ${input.epoch}: start ${input.epochStart} is not before end ${input.epochEnd}`);
  const pools = splitBudget(input.budget, params.pools);
  const checksum = checksummer();

  // Checkers, in address order: a checker's index is its rank.
  const checkers = input.checkers
    .map((c) => {
      if (c.licenses < 0n || c.reportsSigned < 0n) throw new ScoringInputError(`checker ${c.operator}: negative count`);
      return { key: normalizeAddress("checker", c.operator), licenses: c.licenses, reportsSigned: c.reportsSigned };
    })
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const checkerBytes = checkers.map((c) => Buffer.from(c.key.slice(2), "hex"));
  const checkerIndex = new Map<string, number>();
  checkers.forEach((c, i) => {
    if (checkerIndex.has(c.key)) throw new ScoringInputError(`checker ${c.key} is listed twice`);
    checkerIndex.set(c.key, i);
  });

  // Nodes, in id order.
  const nodes = input.nodes
    .map((n) => {
      checkNodeId(n.nodeId);
      for (const field of ["deliveredGpuSeconds", "feesKai", "eligibleSince"] as const) {
        if (typeof n[field] !== "bigint" || n[field] < 0n)
          throw new ScoringInputError(`node ${n.nodeId}: ${field} ${n[field]} is not a whole number >= 0`);
      }
      return {
        nodeId: n.nodeId,
        provider: normalizeAddress("provider", n.provider),
        delivered: n.deliveredGpuSeconds,
        feesKai: n.feesKai,
        eligibleBps: eligibleBps(n.eligibleSince, input.epochStart, input.epochEnd),
      };
    })
    .sort((x, y) => x.nodeId - y.nodeId);
  const nodeIndex = new Map<number, number>();
  nodes.forEach((n, i) => {
    if (nodeIndex.has(n.nodeId)) throw new ScoringInputError(`node ${n.nodeId} is listed twice`);
    nodeIndex.set(n.nodeId, i);
  });

  // Observations, bucketed per node as (checker index, observation).
  const buckets: { ci: number; o: NodeObservation }[][] = nodes.map(() => []);
  for (const o of input.observations) {
    const ci = checkerIndex.get(typeof o.checker === "string" ? o.checker.toLowerCase() : "");
    if (ci === undefined)
      throw new ScoringInputError(`observation of node ${o.nodeId} by ${o.checker}: not a checker of the epoch`);
    const ni = nodeIndex.get(o.nodeId);
    if (ni === undefined)
      throw new ScoringInputError(`observation of node ${o.nodeId} by ${o.checker}: not a node of the epoch`);
    checkObservation(o);
    buckets[ni].push({ ci, o });
  }

  const observed = new Array<number>(checkers.length).fill(0);
  const outlying = new Array<number>(checkers.length).fill(0);
  const scored: Omit<NodeScore, "capacityReward" | "deliveryReward">[] = [];
  const unobserved: number[] = [];
  const { tolerance } = params;

  for (let ni = 0; ni < nodes.length; ni++) {
    const node = nodes[ni];
    const obs = buckets[ni].sort((x, y) => x.ci - y.ci);
    for (let k = 1; k < obs.length; k++) {
      if (obs[k].ci === obs[k - 1].ci) {
        throw new ScoringInputError(`node ${node.nodeId} has two observations by ${checkers[obs[k].ci].key}`);
      }
    }
    if (obs.length < params.minObservations) {
      unobserved.push(node.nodeId);
      continue;
    }
    const uptimeBps = median(obs.map(({ o }) => o.uptimeBps));
    const bandwidthMbps = median(obs.map(({ o }) => o.bandwidthMbps));
    const hardwareScore = median(obs.map(({ o }) => o.hardwareScore));
    const hardwareMismatch = majority(obs.map(({ o }) => o.hardwareMismatch));

    const outliers: string[] = [];
    for (const { ci, o } of obs) {
      observed[ci]++;
      if (
        isOutlier(o.uptimeBps, uptimeBps, tolerance.uptime) ||
        isOutlier(o.bandwidthMbps, bandwidthMbps, tolerance.bandwidth) ||
        isOutlier(o.hardwareScore, hardwareScore, tolerance.hardware) ||
        o.hardwareMismatch !== hardwareMismatch
      ) {
        outlying[ci]++;
        outliers.push(checkers[ci].key);
      }
    }

    const uptime = BigInt(uptimeBps);
    const earns = !hardwareMismatch && node.eligibleBps > 0n;
    const metrics: NodeMetrics = {
      uptimeBps: uptime,
      bandwidthMbps: BigInt(bandwidthMbps),
      hardwareScore: BigInt(hardwareScore),
      deliveredGpuSeconds: node.delivered,
      // Rounded in two steps (full-epoch points, then the eligible part) so that a node's points are
      // never more than its eligible part of an always-eligible equal node's.
      capacityPoints: earns ? (((BigInt(hardwareScore) * uptime) / BPS) * node.eligibleBps) / BPS : 0n,
      deliveryPoints: earns ? (node.feesKai * uptime) / BPS : 0n,
      hardwareMismatch,
      evidence: nodeEvidence(input.epoch, node.nodeId, obs, checkerBytes),
    };
    scored.push({
      nodeId: node.nodeId,
      provider: checksum(node.provider),
      observers: obs.length,
      outliers,
      metrics,
      eligibleBps: node.eligibleBps,
      feesKai: node.feesKai,
    });
  }

  // Node rewards.
  const capacityRewards = proRata(
    pools.capacity,
    scored.map((s) => s.metrics.capacityPoints),
  );
  const deliveryRewards = proRata(
    pools.delivery,
    scored.map((s) => s.metrics.deliveryPoints),
  );
  // A node's delivery reward is at most `deliveryCapBps` of the fees it brought: what the cap leaves is unspent.
  const cap = BigInt(params.deliveryCapBps);
  const nodeScores: NodeScore[] = scored.map((s, i) => {
    const capped = (s.feesKai * cap) / BPS;
    return {
      ...s,
      capacityReward: capacityRewards[i],
      deliveryReward: deliveryRewards[i] < capped ? deliveryRewards[i] : capped,
    };
  });

  // Checker rewards.
  const checkerParts = checkers.map((c, ci) => {
    const errorRateBps = observed[ci] === 0 ? 0n : (BigInt(outlying[ci]) * BPS) / BigInt(observed[ci]);
    return { c, ci, errorRateBps, points: c.reportsSigned * c.licenses * (BPS - errorRateBps) };
  });
  const checkerRewards = proRata(
    pools.checker,
    checkerParts.map((p) => p.points),
  );
  const checkerScores: CheckerScore[] = checkerParts.map(({ c, ci, errorRateBps, points }, i) => ({
    operator: checksum(c.key),
    licenses: c.licenses,
    reportsSigned: c.reportsSigned,
    observations: observed[ci],
    outliers: outlying[ci],
    errorRateBps,
    points,
    reward: checkerRewards[i],
    metrics: {
      licenses: c.licenses,
      reportsSigned: c.reportsSigned,
      errorRateBps,
      evidence: canonicalHash({
        epoch: input.epoch,
        licenses: c.licenses,
        observations: observed[ci],
        operator: c.key,
        outliers: outlying[ci],
        reportsSigned: c.reportsSigned,
      }),
    },
  }));

  // Leaves.
  const leaves: RewardLeaf[] = [];
  let totalReward = 0n;
  let totalCapacityPoints = 0n;
  let totalDeliveryPoints = 0n;
  for (const s of nodeScores) {
    leaves.push({
      kind: LeafKind.Node,
      epoch: input.epoch,
      account: s.provider,
      id: BigInt(s.nodeId),
      capacityReward: s.capacityReward,
      deliveryReward: s.deliveryReward,
      checkerReward: 0n,
      metricsHash: nodeMetricsHashFast(s.metrics),
    });
    totalReward += s.capacityReward + s.deliveryReward;
    totalCapacityPoints += s.metrics.capacityPoints;
    totalDeliveryPoints += s.metrics.deliveryPoints;
  }
  for (const s of checkerScores) {
    leaves.push({
      kind: LeafKind.Checker,
      epoch: input.epoch,
      account: s.operator,
      id: 0n,
      capacityReward: 0n,
      deliveryReward: 0n,
      checkerReward: s.reward,
      metricsHash: checkerMetricsHash(s.metrics),
    });
    totalReward += s.reward;
  }

  return {
    epoch: input.epoch,
    budget: input.budget,
    pools,
    nodes: nodeScores,
    unobserved,
    checkers: checkerScores,
    leaves,
    totals: {
      nodeCount: BigInt(nodeScores.length),
      totalReward,
      totalCapacityPoints,
      totalDeliveryPoints,
      unspent: input.budget - totalReward,
    },
  };
}

/**
 * The reward tree of scored leaves: `buildRewardTreeFast` from @kaisar/offchain (the same root and
 * proofs as `buildRewardTree`; await `fastHashReady` first for its full speed).
 */
export function epochTree(scores: EpochScores) {
  if (scores.leaves.length === 0) throw new ScoringInputError(`epoch ${scores.epoch} has no leaves`);
  return buildRewardTreeFast(scores.leaves);
}

/** The report checkers sign for `scores` with tree root `root` under checker-set config `configVersion`. */
export function epochReport(scores: EpochScores, root: string, configVersion: bigint): Report {
  return {
    epoch: scores.epoch,
    configVersion,
    root,
    nodeCount: scores.totals.nodeCount,
    totalReward: scores.totals.totalReward,
    totalCapacityPoints: scores.totals.totalCapacityPoints,
    totalDeliveryPoints: scores.totals.totalDeliveryPoints,
  };
}
