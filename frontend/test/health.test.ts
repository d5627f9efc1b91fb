import { describe, expect, it } from "vitest";

import { NodeStatus } from "@kaisar/offchain/src/vocabulary";

import {
  STALE_AFTER_MS,
  formatLatency,
  formatMbps,
  latencyText,
  liveState,
  outageStart,
  rentWarning,
  underStakeReason,
  unavailableReason,
  type ChainNode,
} from "../src/lib/health";
import { underStakeSentence } from "@kaisar/offchain/src/stake";

const PROVIDER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
const E18 = 10n ** 18n;

const NOW = 1_800_000_000; // Unix seconds
const MS = NOW * 1000;
const active: ChainNode = {
  status: NodeStatus.Active,
  gpuCount: 8,
  freeGpus: 6,
  maintenanceStart: 0,
  maintenanceEnd: 0,
  acceptsRentals: true,
};

describe("unavailableReason: which of paused, in maintenance, under-staked or full, specifically", () => {
  it("is undefined for a node that takes rentals", () => {
    expect(unavailableReason(active, NOW)).toBeUndefined();
  });
  it("names a jail with its epoch and cause when the slash is known", () => {
    expect(unavailableReason({ ...active, status: NodeStatus.Jailed }, NOW, { epoch: 4, reason: "downtime" })).toBe(
      "jailed since epoch 4 (slashed for downtime): it takes no rentals until governance releases it",
    );
  });
  it("names paused, maintenance (with its end), full and under-staked apart", () => {
    expect(unavailableReason({ ...active, status: NodeStatus.Paused, acceptsRentals: false }, NOW)).toBe(
      "paused by its provider",
    );
    expect(
      unavailableReason(
        { ...active, maintenanceStart: NOW - 60, maintenanceEnd: NOW + 300, acceptsRentals: false },
        NOW,
      ),
    ).toBe("in maintenance, ends in 5 min");
    expect(unavailableReason({ ...active, freeGpus: 0, acceptsRentals: false }, NOW)).toBe(
      "full: all 8 GPUs are rented",
    );
    expect(unavailableReason({ ...active, gpuCount: 1, freeGpus: 0, acceptsRentals: false }, NOW)).toBe(
      "full: its one GPU is rented",
    );
    expect(unavailableReason({ ...active, acceptsRentals: false }, NOW)).toBe(
      "under-staked: its provider's stake does not cover its GPUs",
    );
  });
  it("does not call an announced, not yet started maintenance a reason", () => {
    expect(
      unavailableReason({ ...active, maintenanceStart: NOW + 60, maintenanceEnd: NOW + 600 }, NOW),
    ).toBeUndefined();
  });
});

describe("liveState: one state and one sentence that agree", () => {
  it("reads 'not probed yet' with no heartbeat", () => {
    expect(liveState(undefined, MS)).toEqual({ state: "unknown", text: "not probed yet" });
  });
  it("never reads 'up' for a heartbeat 24 min old", () => {
    const s = liveState({ heartbeat: { at: MS - 24 * 60_000, ok: true, latencyMs: 2 } }, MS);
    expect(s).toEqual({ state: "stale", text: "no probe for 24 min" });
  });
  it("says how long a down node has been down, from the first failed beat after the last good one", () => {
    const s = liveState({ heartbeat: { at: MS - 1_000, ok: false, latencyMs: 1.8 }, downSince: MS - 180_000 }, MS);
    expect(s).toEqual({ state: "down", text: "down for 3 min" });
  });
  it("shows a fresh good beat as up with its latency", () => {
    expect(liveState({ heartbeat: { at: MS - 2_000, ok: true, latencyMs: 1.84 } }, MS).text).toBe(
      "up, 1.8 ms, checked 2 s ago",
    );
    expect(liveState({ heartbeat: { at: MS - STALE_AFTER_MS, ok: true, latencyMs: 12.4 } }, MS).state).toBe("up");
  });
  it("gives a failed probe no latency", () => {
    expect(latencyText({ at: MS, ok: false, latencyMs: 1.8 })).toBe("no answer");
    expect(latencyText({ at: MS, ok: true, latencyMs: 1.8 })).toBe("1.8 ms");
    expect(latencyText(null)).toBe("—");
  });
});

describe("outageStart", () => {
  it("is the first failure after the last success", () => {
    const beats = [
      { at: 1, ok: true },
      { at: 2, ok: false },
      { at: 3, ok: true },
      { at: 4, ok: false },
      { at: 5, ok: false },
    ];
    expect(outageStart(beats)).toEqual({ since: 4, atLeast: false });
  });
  it("says 'at least' when no beat in the samples succeeded", () => {
    expect(outageStart([{ at: 7, ok: false }])).toEqual({ since: 7, atLeast: true });
  });
});

describe("rentWarning", () => {
  it("blocks with the chain's reason first", () => {
    const w = rentWarning({ ...active, status: NodeStatus.Jailed, acceptsRentals: false }, undefined, MS, {
      epoch: 2,
      reason: "downtime",
    });
    expect(w).toEqual({
      blocking: true,
      text: "This node takes no rentals now: jailed since epoch 2 (slashed for downtime): it takes no rentals until governance releases it.",
    });
  });
  it("warns, without blocking, about a node the checkers see down, naming for how long", () => {
    const w = rentWarning(active, { heartbeat: { at: MS, ok: false, latencyMs: 0 }, downSince: MS - 180_000 }, MS);
    expect(w?.blocking).toBe(false);
    expect(w?.text).toMatch(/^The checkers see this node down for 3 min:/);
  });
  it("says nothing about a healthy node", () => {
    expect(rentWarning(active, { heartbeat: { at: MS, ok: true, latencyMs: 1 } }, MS)).toBeUndefined();
  });
  it("blocks an under-staked provider's node with the shared sentence, how much to stake included", () => {
    const sentence = underStakeSentence(PROVIDER, { staked: 990n * E18, required: 1_000n * E18 })!;
    const under = { ...active, acceptsRentals: false };
    expect(rentWarning(under, undefined, MS, undefined, sentence)).toEqual({ blocking: true, text: sentence });
    expect(sentence).toContain("Stake 10 KAI more to take rentals again.");
    // The stake read a block after the node's row: the chain would refuse the rent all the same.
    expect(rentWarning(active, undefined, MS, undefined, sentence)).toEqual({ blocking: true, text: sentence });
    // Another reason the chain gives first stays first (a paused node is paused whatever its stake).
    expect(rentWarning({ ...under, status: NodeStatus.Paused }, undefined, MS, undefined, sentence)?.text).toBe(
      "This node takes no rentals now: paused by its provider.",
    );
    expect(underStakeReason(under, NOW, undefined, undefined)).toBeUndefined();
  });
});

describe("figures without float noise", () => {
  it("rounds bandwidth and latency", () => {
    expect(formatMbps(936.2863247863248)).toBe("936 Mbit/s");
    expect(formatMbps(8.43333333)).toBe("8.4 Mbit/s");
    expect(formatLatency(1.8000000000000003)).toBe("1.8 ms");
    expect(formatLatency(12.499999)).toBe("12 ms");
  });
});
