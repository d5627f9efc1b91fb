/**
 * What checkers measure and exchange, and what an epoch's scoring takes and gives.
 *
 * Two steps. During the epoch a checker keeps its own samples of every node it probes and, at the
 * end, sums them up into one `NodeObservation` per node (`observeNode`). Checkers exchange
 * observations; each then runs `scoreEpoch` over all of them: medians across checkers, outliers,
 * points, rewards and leaves, the same bytes on every honest checker.
 */

/** A heartbeat probe: did the node answer its health check in time. */
export interface HeartbeatSample {
  /** Unix seconds. */
  at: number;
  ok: boolean;
}

/** A bandwidth test. */
export interface BandwidthSample {
  at: number;
  /** Measured throughput, megabits per second. */
  mbps: number;
}

/** A PoPW compute challenge (matrix product of size n, checked with Freivalds). */
export interface CapacitySample {
  at: number;
  n: number;
  /** Milliseconds the checker measured from sending the challenge to receiving the answer. */
  elapsedMs: number;
  /** Whether the product passed Freivalds (a timeout or a malformed answer is a failure). */
  passed: boolean;
}

/** A hardware check: does the node's signed hardware report match what it registered. */
export interface HardwareSample {
  at: number;
  match: boolean;
}

/** One checker's samples of one node over an epoch. */
export interface NodeSamples {
  heartbeats: readonly HeartbeatSample[];
  bandwidth: readonly BandwidthSample[];
  capacity: readonly CapacitySample[];
  hardware: readonly HardwareSample[];
}

/**
 * The span a checker expected a node to answer in: the part of the epoch it was listed
 * (`max(epochStart, listedSince)` .. the epoch's end, Unix seconds) and the probe schedule's heartbeat
 * interval. Uptime counts successful heartbeats against the heartbeats expected in it, not those taken.
 */
export interface ObservationWindow {
  from: number;
  to: number;
  /** Seconds between two heartbeats of the probe schedule (> 0). */
  heartbeatSeconds: number;
}

/** One checker's figures for one node over an epoch: what checkers exchange. */
export interface NodeObservation {
  /** The checker's operator address (0x and 40 hex digits; compared case-insensitively). */
  checker: string;
  /** NodeRegistry id (uint32). */
  nodeId: number;
  /** Successful heartbeats over the heartbeats expected in the node's listed window, 10_000 = 100%. */
  uptimeBps: number;
  /** Median measured bandwidth, Mbps, rounded down. */
  bandwidthMbps: number;
  /** Median challenge throughput in MFLOP/s (a failed challenge counts 0), rounded down. */
  hardwareScore: number;
  /** Most of the checker's hardware checks found a mismatch. */
  hardwareMismatch: boolean;
  /** keccak256 of the canonical JSON of the samples behind the figures (0x and 64 hex digits). */
  evidence: string;
}

/** A node of the epoch, with what the chain says it delivered. */
export interface EpochNode {
  nodeId: number;
  /** The provider (paid by the node's leaf). */
  provider: string;
  /** GPU-seconds rented out in the epoch (from the escrow's rentals; reported, not rewarded). */
  deliveredGpuSeconds: bigint;
  /**
   * Protocol fees paid for the time the node's rentals ran inside the epoch, in KAI units
   * (`feesInWindowKai` of @kaisar/offchain): what delivery rewards follow and are capped by.
   */
  feesKai: bigint;
  /**
   * `NodeRegistry.eligibleSince(nodeId)` at the last block before the epoch's end: since when the node
   * has been listed and its provider's stake covered (Unix seconds; 0 = not eligible).
   */
  eligibleSince: bigint;
}

/** A checker of the epoch. */
export interface EpochChecker {
  /** Operator address (signs reports; paid by the checker's leaf). */
  operator: string;
  /** Licenses delegated to the operator. */
  licenses: bigint;
  /** Reports (observation sets) the checker signed and delivered in the epoch. */
  reportsSigned: bigint;
}

export interface EpochInput {
  epoch: bigint;
  /** The epoch's start and end (`ReportOracle.epochStart(epoch)`, `epochStart(epoch + 1)`), Unix seconds. */
  epochStart: bigint;
  epochEnd: bigint;
  /** The epoch's reward budget (ReportOracle.epochBudget), KAI units. */
  budget: bigint;
  nodes: readonly EpochNode[];
  checkers: readonly EpochChecker[];
  observations: readonly NodeObservation[];
}

/**
 * How far an observation may be from the median before it counts as an outlier: more than
 * max(absolute, median * relativeBps / 10_000) away.
 */
export interface Tolerance {
  absolute: number;
  relativeBps: number;
}

export interface ScoringParams {
  /** Shares of the budget, bps (sum at most 10_000; the rest is not spent). */
  pools: { capacityBps: number; deliveryBps: number; checkerBps: number };
  tolerance: { uptime: Tolerance; bandwidth: Tolerance; hardware: Tolerance };
  /** Observations a node needs to be scored; nodes with fewer get no leaf this epoch. */
  minObservations: number;
  /**
   * A node's delivery reward is at most this share of the fees it brought in the epoch (`feesKai`), bps:
   * below 10_000, renting a node to oneself always costs more in fees than it earns back.
   */
  deliveryCapBps: number;
}

export const DEFAULT_SCORING_PARAMS: ScoringParams = {
  pools: { capacityBps: 5_000, deliveryBps: 3_000, checkerBps: 2_000 },
  tolerance: {
    uptime: { absolute: 500, relativeBps: 0 }, // 5 points of uptime
    bandwidth: { absolute: 10, relativeBps: 2_500 }, // 25%
    hardware: { absolute: 10, relativeBps: 2_500 }, // 25%
  },
  minObservations: 3,
  deliveryCapBps: 5_000,
};
