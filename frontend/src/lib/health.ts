/**
 * A node's health in words, from two sources that must not contradict each other: its state on chain
 * (status, maintenance window, free GPUs, whether it takes rentals, a jail's slash event) and the
 * checkers' live probes (the freshest heartbeat across checkers, and when the current outage began).
 * One function per question, pure and unit tested; the marketplace, the rent page, the node page and
 * live monitoring all use them.
 */
import { NodeStatus } from "@kaisar/offchain/src/vocabulary";

import { formatDuration, formatRelative } from "./format";

/** What the chain says about a node (a subset of the marketplace's NodeRow). */
export interface ChainNode {
  status: number;
  gpuCount: number;
  freeGpus: number;
  /** Unix seconds; 0 = none announced. */
  maintenanceStart: number;
  maintenanceEnd: number;
  acceptsRentals: boolean;
}

/** The slash that jailed a node (SlaEnforcer's SlashDowntime / SlashHardwareFraud event). */
export interface JailInfo {
  epoch: number;
  reason: "downtime" | "hardware fraud";
}

/** A heartbeat as the checker API shows it (`at` in Unix milliseconds). */
export interface Heartbeat {
  at: number;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

/** The checkers' view of one node. */
export interface LiveView {
  /** The freshest heartbeat across the checkers that answered (null: none yet). */
  heartbeat: Heartbeat | null;
  /** While down: Unix ms of the first failed heartbeat after the last good one. */
  downSince?: number;
  /** True when no good heartbeat is in the samples read, so the outage began at `downSince` or before. */
  downSinceAtLeast?: boolean;
}

/**
 * Heartbeats older than this read as "no recent probe", never "up": three missed beats at the
 * checkers' default period of one minute.
 */
export const STALE_AFTER_MS = 3 * 60_000;

/**
 * Why a node takes no new rentals, specifically (undefined when it takes them). The registry's
 * `acceptsRentals` is false when the node is not active, in maintenance, full, or its provider's
 * stake does not cover its GPUs; the last is what is left when none of the others holds.
 */
export function unavailableReason(n: ChainNode, nowSec: number, jail?: JailInfo): string | undefined {
  if (n.status === NodeStatus.Jailed) {
    const why = jail ? ` since epoch ${jail.epoch} (slashed for ${jail.reason})` : "";
    return `jailed${why}: it takes no rentals until governance releases it`;
  }
  if (n.status === NodeStatus.Paused) return "paused by its provider";
  if (n.status === NodeStatus.Retired) return "retired by its provider";
  if (n.status !== NodeStatus.Active) return "not registered";
  if (n.maintenanceStart !== 0 && n.maintenanceStart <= nowSec && nowSec < n.maintenanceEnd) {
    return `in maintenance, ends ${formatRelative(n.maintenanceEnd, nowSec)}`;
  }
  if (n.freeGpus === 0)
    return n.gpuCount === 1 ? "full: its one GPU is rented" : `full: all ${n.gpuCount} GPUs are rented`;
  if (!n.acceptsRentals) return UNDER_STAKED;
  return undefined;
}

/** `unavailableReason` when the provider's stake is what keeps the node from taking rentals. */
export const UNDER_STAKED = "under-staked: its provider's stake does not cover its GPUs";

/**
 * The provider's under-stake sentence (offchain/src/stake.ts: staked, required, how much to stake)
 * when that is why the node takes no rentals, or when the chain's stake reads under its requirement
 * while the node's row still says it takes them (read a block apart): the chain would refuse the rent.
 */
export function underStakeReason(
  n: ChainNode,
  nowSec: number,
  jail: JailInfo | undefined,
  underStake: string | undefined,
): string | undefined {
  if (!underStake) return undefined;
  const reason = unavailableReason(n, nowSec, jail);
  return reason === undefined || reason === UNDER_STAKED ? underStake : undefined;
}

export type LiveState = "up" | "down" | "stale" | "unknown";

/** The live state and a sentence that agrees with it: no latency on a failed probe, no "up" for an old one. */
export function liveState(live: LiveView | undefined, nowMs: number): { state: LiveState; text: string } {
  const hb = live?.heartbeat;
  if (!hb) return { state: "unknown", text: "not probed yet" };
  const age = Math.max(0, nowMs - hb.at);
  if (age > STALE_AFTER_MS) return { state: "stale", text: `no probe for ${formatDuration(age / 1000)}` };
  if (!hb.ok) return { state: "down", text: `down for ${downFor(live!, nowMs)}` };
  return { state: "up", text: `up, ${formatLatency(hb.latencyMs)}, checked ${formatDuration(age / 1000)} ago` };
}

/** How long the current outage has lasted ("3 min", or "at least 40 s" when it began before the samples read). */
export function downFor(live: LiveView, nowMs: number): string {
  const since = live.downSince ?? live.heartbeat?.at ?? nowMs;
  const d = formatDuration(Math.max(0, nowMs - since) / 1000);
  return live.downSinceAtLeast ? `at least ${d}` : d;
}

/** When the outage began, from one checker's heartbeats of the epoch (oldest first, `at` in ms). */
export function outageStart(samples: readonly { at: number; ok: boolean }[]): { since?: number; atLeast: boolean } {
  let since: number | undefined;
  for (const s of samples) {
    if (s.ok) since = undefined;
    else if (since === undefined) since = s.at;
  }
  const anyOk = samples.some((s) => s.ok);
  return { since, atLeast: !anyOk };
}

/** What the attested columns show for a node no report has covered yet. */
export const NOT_ATTESTED = "not attested yet";

/** A heartbeat's latency for a table: only a probe that was answered has one. */
export function latencyText(hb: Heartbeat | null | undefined): string {
  if (!hb) return "—";
  return hb.ok ? formatLatency(hb.latencyMs) : "no answer";
}

/** A measured bandwidth without float noise: "936 Mbit/s", "8.4 Mbit/s". */
export function formatMbps(mbps: number): string {
  return `${mbps >= 100 ? Math.round(mbps) : Math.round(mbps * 10) / 10} Mbit/s`;
}

/** A probe's round trip: "1.8 ms", "12 ms". */
export function formatLatency(ms: number): string {
  return ms < 10 ? `${Math.round(ms * 10) / 10} ms` : `${Math.round(ms)} ms`;
}

/**
 * The warning a renter must read before renting this node, naming why (undefined: nothing to warn
 * about). The chain's reason comes first (the rent would revert; an under-staked provider's in the
 * shared sentence with how much it must stake, when `underStake` is known); then the checkers' view
 * (the rent would go through, and the node would not serve it).
 */
export function rentWarning(
  n: ChainNode,
  live: LiveView | undefined,
  nowMs: number,
  jail?: JailInfo,
  underStake?: string,
): { blocking: boolean; text: string } | undefined {
  const stake = underStakeReason(n, Math.floor(nowMs / 1000), jail, underStake);
  if (stake) return { blocking: true, text: stake };
  const reason = unavailableReason(n, Math.floor(nowMs / 1000), jail);
  if (reason) return { blocking: true, text: `This node takes no rentals now: ${reason}.` };
  const l = liveState(live, nowMs);
  if (l.state === "down") {
    return {
      blocking: false,
      text: `The checkers see this node down for ${downFor(live!, nowMs)}: a rental would pay for time it does not serve until the SLA credits or a slash catch up.`,
    };
  }
  if (l.state === "stale") {
    const age = formatDuration((nowMs - live!.heartbeat!.at) / 1000);
    return { blocking: false, text: `No checker has probed this node for ${age}: its health is unknown.` };
  }
  return undefined;
}
