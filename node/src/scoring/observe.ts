/**
 * One checker's figures for one node from its samples of the epoch (`NodeObservation`).
 */
import { MAX_N } from "../popw/matrix";
import { BPS } from "./rewards";
import { canonicalHash } from "./canonical";
import { majority, median } from "./median";
import type { CapacitySample, NodeObservation, NodeSamples, ObservationWindow } from "./types";

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** Throws unless `address` is 0x and 40 hex digits; returns it in lower case (the canonical form here). */
export function normalizeAddress(what: string, address: string): string {
  if (typeof address !== "string" || !ADDRESS.test(address))
    throw new ScoringInputError(`${what} "${address}" is not an address`);
  return address.toLowerCase();
}

/** Throws unless `id` is a NodeRegistry node id (uint32). */
export function checkNodeId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new ScoringInputError(`node id ${id} is not a uint32`);
}

/** Inputs that cannot be scored (malformed, duplicated or unknown); the message says which. */
export class ScoringInputError extends Error {
  override name = "ScoringInputError";
}

/** Throughput of one challenge in MFLOP/s (2 n^3 floating-point operations), rounded down; 0 if it failed. */
export function challengeMflops(s: CapacitySample): number {
  if (!s.passed) return 0;
  return Math.floor((2 * s.n * s.n * s.n) / (s.elapsedMs * 1_000));
}

/** Checks every sample; throws naming the first bad one. */
function checkSamples(samples: NodeSamples): void {
  const at = (kind: string, i: number, t: number) => {
    if (!Number.isSafeInteger(t) || t < 0) throw new ScoringInputError(`${kind}[${i}].at = ${t} is not Unix seconds`);
  };
  samples.heartbeats.forEach((s, i) => {
    at("heartbeats", i, s.at);
    if (typeof s.ok !== "boolean") throw new ScoringInputError(`heartbeats[${i}].ok is not a boolean`);
  });
  samples.bandwidth.forEach((s, i) => {
    at("bandwidth", i, s.at);
    if (!Number.isFinite(s.mbps) || s.mbps < 0)
      throw new ScoringInputError(`bandwidth[${i}].mbps = ${s.mbps} is not >= 0`);
  });
  samples.capacity.forEach((s, i) => {
    at("capacity", i, s.at);
    if (!Number.isInteger(s.n) || s.n < 1 || s.n > MAX_N)
      throw new ScoringInputError(`capacity[${i}].n = ${s.n} not in 1..${MAX_N}`);
    if (!Number.isFinite(s.elapsedMs) || s.elapsedMs <= 0) {
      throw new ScoringInputError(`capacity[${i}].elapsedMs = ${s.elapsedMs} is not > 0`);
    }
    if (typeof s.passed !== "boolean") throw new ScoringInputError(`capacity[${i}].passed is not a boolean`);
  });
  samples.hardware.forEach((s, i) => {
    at("hardware", i, s.at);
    if (typeof s.match !== "boolean") throw new ScoringInputError(`hardware[${i}].match is not a boolean`);
  });
}

/** Samples sorted by time, then by content: the order they arrived in does not change the evidence. */
function sortedSamples(samples: NodeSamples) {
  const sorted = <T extends { at: number }>(list: readonly T[], then: (x: T, y: T) => number) =>
    [...list].sort((x, y) => x.at - y.at || then(x, y));
  const flag = (b: boolean) => (b ? 1 : 0);
  return {
    heartbeats: sorted(samples.heartbeats, (x, y) => flag(x.ok) - flag(y.ok)).map((s) => ({ at: s.at, ok: s.ok })),
    bandwidth: sorted(samples.bandwidth, (x, y) => x.mbps - y.mbps).map((s) => ({ at: s.at, mbps: s.mbps })),
    capacity: sorted(
      samples.capacity,
      (x, y) => x.n - y.n || x.elapsedMs - y.elapsedMs || flag(x.passed) - flag(y.passed),
    ).map((s) => ({ at: s.at, elapsedMs: s.elapsedMs, n: s.n, passed: s.passed })),
    hardware: sorted(samples.hardware, (x, y) => flag(x.match) - flag(y.match)).map((s) => ({
      at: s.at,
      match: s.match,
    })),
  };
}

/**
 * Heartbeats a probe schedule may miss in a window through its own timing (the scheduler's jitter and
 * a probe's run time can push the last heartbeat of a window past its end): the tolerance of
 * `expectedHeartbeats`. One heartbeat: 1/60 of a local 60-heartbeat epoch, 1/20,160 of a 2-week epoch.
 */
export const HEARTBEAT_TOLERANCE = 1;

/**
 * Heartbeats expected in `window`: one per `heartbeatSeconds` of it, rounded down, less
 * `HEARTBEAT_TOLERANCE`, at least 1. Throws naming the field when the window is not whole seconds with
 * `from <= to` and a positive interval.
 */
export function expectedHeartbeats(window: ObservationWindow): number {
  const { from, to, heartbeatSeconds } = window;
  if (!Number.isSafeInteger(from) || from < 0) throw new ScoringInputError(`window.from = ${from} is not Unix seconds`);
  if (!Number.isSafeInteger(to) || to < from)
    throw new ScoringInputError(`window.to = ${to} is not Unix seconds >= from`);
  if (!Number.isFinite(heartbeatSeconds) || heartbeatSeconds <= 0)
    throw new ScoringInputError(`window.heartbeatSeconds = ${heartbeatSeconds} is not > 0`);
  return Math.max(1, Math.floor((to - from) / heartbeatSeconds) - HEARTBEAT_TOLERANCE);
}

/**
 * `checker`'s observation of node `nodeId` from its samples. Uptime is the successful heartbeats inside
 * `window` over the heartbeats expected there (`expectedHeartbeats`), at most 100%: a node answering
 * 3 minutes of a 2-week epoch has the uptime of those 3 minutes, not 100%. (The window is the part of
 * the epoch the node was listed, so a node listed mid-epoch is not down before it existed; what it earns
 * is scaled by the part it was eligible, in `scoreEpoch`.) Bandwidth is the median measurement (0
 * without), the hardware score the median challenge throughput where a failed challenge counts 0 (so a
 * node failing most of them scores 0), and a hardware mismatch needs most of the checker's hardware
 * checks to say so.
 */
export function observeNode(
  checker: string,
  nodeId: number,
  samples: NodeSamples,
  window: ObservationWindow,
): NodeObservation {
  const operator = normalizeAddress("checker", checker);
  checkNodeId(nodeId);
  checkSamples(samples);
  const expected = expectedHeartbeats(window);

  const ok = samples.heartbeats.reduce((n, s) => n + (s.ok && s.at >= window.from && s.at < window.to ? 1 : 0), 0);
  const uptimeBps = Math.min(Number(BPS), Math.floor((ok * Number(BPS)) / expected));
  const bandwidthMbps = samples.bandwidth.length === 0 ? 0 : median(samples.bandwidth.map((s) => s.mbps));
  const hardwareScore = samples.capacity.length === 0 ? 0 : median(samples.capacity.map(challengeMflops));
  const hardwareMismatch = majority(samples.hardware.map((s) => !s.match));
  const evidence = canonicalHash(sortedSamples(samples));
  return { checker: operator, nodeId, uptimeBps, bandwidthMbps, hardwareScore, hardwareMismatch, evidence };
}
