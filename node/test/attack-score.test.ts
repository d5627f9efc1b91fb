/**
 * The scoring attacker walk of issue 15 (attacks 2 and 3): seeded, replayable random epochs scored by
 * the real code (`observeNode` over the samples the checkers would take at the default probe schedule,
 * `scoreEpoch`, fees from @kaisar/offchain's escrow math), where honest nodes share each epoch with
 * late registrants, unstaked nodes, nodes whose stake lapsed, wash renters (a provider renting its own
 * node at any price from 1 wei per GPU-hour) and hardware fakers. After every step the epoch so far is
 * scored and these hold:
 * - an ineligible node (no stake at the epoch's end, or listed after it) earns nothing;
 * - a node's capacity reward is at most its eligible share of what an always-eligible equal node of
 *   the same epoch gets (one unit of rounding);
 * - a node's delivery reward is at most `deliveryCapBps` of the fees its rentals paid in the epoch, so
 *   a wash renter's profit (delivery reward minus the fees it paid) is never positive;
 * - a hardware faker earns nothing; the epoch's rewards are within its budget.
 * Each epoch is also scored as the code before the fix did (every node eligible, delivery by GPU-seconds,
 * no cap: the same `scoreEpoch` with those inputs), and the attackers' profits under both are printed.
 *
 * Replay a failure with the line it prints: `KAISAR_FC_SEED=<seed> KAISAR_FC_PATH=<path>`; more runs with
 * `KAISAR_FC_RUNS=<n>`, longer ones with `KAISAR_FC_MAX_COMMANDS=<n>`, the step count with `KAISAR_FC_STATS=1`.
 */
import { expect } from "chai";
import fc from "fast-check";
import { Plan, fastHashReady, feesKaiInWindow, quote } from "@kaisar/offchain";

import {
  BPS,
  DEFAULT_SCORING_PARAMS,
  observeNode,
  scoreEpoch,
  type EpochNode,
  type EpochScores,
  type NodeObservation,
  type NodeSamples,
} from "../src/scoring";
import { fcCount, fcPath, fcSeed } from "../../test/helpers/fcEnv";

const SEED = fcSeed("KAISAR_FC_SEED", 15_015);
const RUNS = fcCount("KAISAR_FC_RUNS", 100);
const PATH = fcPath("KAISAR_FC_PATH");
const STEPS = fcCount("KAISAR_FC_MAX_COMMANDS", 40);

const KAI = 10n ** 18n;
const HEARTBEAT = 60; // seconds: the default probe schedule
const FEE_BPS = 1_000n; // the escrow's fee at deployment
const KAI_PER_KAI = 10n ** 18n; // SlaEnforcer.kaiPerToken(KAI)
const CHECKERS = ["0x" + "c1".repeat(20), "0x" + "c2".repeat(20), "0x" + "c3".repeat(20)];
const PARAMS = DEFAULT_SCORING_PARAMS;
/** Challenge time of the reference node (and of every late registrant, its equal), ms. */
const REFERENCE_MS = 20;

type Role = "reference" | "honest" | "late" | "unstaked" | "lapsed" | "wash" | "faker";

interface WalkNode {
  node: EpochNode;
  role: Role;
  observations: NodeObservation[];
}

interface Epoch {
  start: number;
  length: number;
  budget: bigint;
  nodes: WalkNode[];
}

/** Attackers' profits, KAI units: before the fix (legacy scoring) and after. */
const profit = { washBefore: 0n, washAfter: 0n, lateBefore: 0n, lateAfter: 0n, freeBefore: 0n, freeAfter: 0n };
let steps = 0;
/** Late registrants scored: each may be one unit over its share by rounding. */
let lateScored = 0n;

/** Samples of one node over `[from, to)` at the default schedule: the first `down` heartbeats fail. */
function samplesOf(from: number, to: number, down: number, elapsedMs: number, hardwareMatch: boolean): NodeSamples {
  const beats = Math.floor((to - from) / HEARTBEAT);
  return {
    heartbeats: Array.from({ length: beats }, (_, i) => ({ at: from + 30 + i * HEARTBEAT, ok: i >= down })),
    bandwidth: [{ at: from + 1, mbps: 1_000 }],
    capacity: [{ at: from + 2, n: 512, elapsedMs, passed: true }],
    hardware: [{ at: from + 3, match: hardwareMatch }],
  };
}

/** Every checker's observation of node `id` over `[from, end)`. */
function observe(id: number, samples: NodeSamples, from: number, end: number): NodeObservation[] {
  return CHECKERS.map((c) => observeNode(c, id, samples, { from, to: end, heartbeatSeconds: HEARTBEAT }));
}

/** Fees (KAI units) and GPU-seconds of a pay-as-you-go rental of `gpus` at `price` per GPU-hour over `[from, to)`. */
function rentalIn(e: Epoch, price: bigint, gpus: number, from: number, seconds: number) {
  const { unitPrice } = quote(Plan.PayAsYouGo, price, BigInt(gpus), price * BigInt(gpus) + 1n, 0n, 0n, 0n);
  const r = {
    plan: Plan.PayAsYouGo,
    unitPrice,
    feeBps: FEE_BPS,
    serviceStart: BigInt(from),
    serviceEnd: BigInt(from + seconds),
  };
  const end = BigInt(e.start + e.length);
  const feesKai = feesKaiInWindow(r, KAI_PER_KAI, BigInt(e.start), end);
  const lo = from > e.start ? from : e.start;
  const hi = Math.min(from + seconds, e.start + e.length);
  return { feesKai, deliveredGpuSeconds: BigInt(Math.max(0, hi - lo) * gpus) };
}

/** A step: adds one actor to the epoch, or ends it. */
type Step =
  | { kind: "honest"; elapsedMs: number; downBps: number; price: bigint; gpus: number; rentedBps: number }
  | { kind: "late"; beforeEnd: number }
  | { kind: "unstaked"; washPrice: bigint }
  | { kind: "lapsed" }
  | { kind: "wash"; price: bigint; gpus: number; rentedBps: number; eligibleBps: number }
  | { kind: "faker"; claimedFactor: number }
  | { kind: "end"; length: number; budget: bigint };

const price = fc.oneof(
  fc.bigInt({ min: 1n, max: 1_000n }), // dust: 1 wei per GPU-hour and up
  fc.bigInt({ min: 10n ** 15n, max: 5n * KAI }), // real prices
);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("honest" as const),
    elapsedMs: fc.integer({ min: 5, max: 200 }),
    downBps: fc.integer({ min: 0, max: 3_000 }),
    price,
    gpus: fc.integer({ min: 1, max: 8 }),
    rentedBps: fc.integer({ min: 0, max: 10_000 }),
  }),
  fc.record({ kind: fc.constant("late" as const), beforeEnd: fc.integer({ min: 1, max: 7_200 }) }),
  fc.record({ kind: fc.constant("unstaked" as const), washPrice: price }),
  fc.record({ kind: fc.constant("lapsed" as const) }),
  fc.record({
    kind: fc.constant("wash" as const),
    price,
    gpus: fc.integer({ min: 1, max: 8 }),
    rentedBps: fc.integer({ min: 1, max: 10_000 }),
    eligibleBps: fc.integer({ min: 0, max: 10_000 }),
  }),
  fc.record({ kind: fc.constant("faker" as const), claimedFactor: fc.integer({ min: 2, max: 10 }) }),
  fc.record({
    kind: fc.constant("end" as const),
    length: fc.integer({ min: 10, max: 240 }).map((m) => m * 60),
    budget: fc.bigInt({ min: 1n, max: 2_000_000n }).map((k) => k * KAI),
  }),
);

/** A fresh epoch of `length` seconds with its always-eligible reference node (node 1). */
function newEpoch(start: number, length: number, budget: bigint): Epoch {
  const e: Epoch = { start, length, budget, nodes: [] };
  const end = start + length;
  e.nodes.push({
    role: "reference",
    node: node(1, BigInt(start), 0n, 0n),
    observations: observe(1, samplesOf(start, end, 0, REFERENCE_MS, true), start, end),
  });
  return e;
}

function node(id: number, eligibleSince: bigint, feesKai: bigint, deliveredGpuSeconds: bigint): EpochNode {
  return {
    nodeId: id,
    provider: "0x" + id.toString(16).padStart(40, "0"),
    eligibleSince,
    feesKai,
    deliveredGpuSeconds,
  };
}

/** Applies `step` to `e`; returns the epoch to go on with. */
function apply(e: Epoch, s: Step): Epoch {
  const end = e.start + e.length;
  const id = e.nodes.length + 1;
  const add = (role: Role, n: EpochNode, samples: NodeSamples, from = e.start) =>
    e.nodes.push({ role, node: n, observations: observe(id, samples, from, end) });
  const at = (bps: number) => e.start + Math.floor((e.length * bps) / 10_000);
  switch (s.kind) {
    case "honest": {
      const rented = Math.floor((e.length * s.rentedBps) / 10_000);
      const r = rentalIn(e, s.price, s.gpus, e.start, rented);
      const down = Math.floor((Math.floor(e.length / HEARTBEAT) * s.downBps) / 10_000);
      add(
        "honest",
        node(id, BigInt(e.start - 1), r.feesKai, r.deliveredGpuSeconds),
        samplesOf(e.start, end, down, s.elapsedMs, true),
      );
      break;
    }
    case "late": {
      // Staked, and registered `beforeEnd` seconds before the end: the reference node's equal from then on.
      const since = Math.max(e.start, end - s.beforeEnd);
      add("late", node(id, BigInt(since), 0n, 0n), samplesOf(since, end, 0, REFERENCE_MS, true), since);
      break;
    }
    case "unstaked": {
      // Listed all epoch, never staked, and renting itself out too.
      const r = rentalIn(e, s.washPrice, 8, e.start, e.length);
      add("unstaked", node(id, 0n, r.feesKai, r.deliveredGpuSeconds), samplesOf(e.start, end, 0, REFERENCE_MS, true));
      break;
    }
    case "lapsed": {
      // Staked for part of the epoch, then below its requirement (unstaked or slashed): not eligible at the end.
      add("lapsed", node(id, 0n, 0n, 0n), samplesOf(e.start, end, 0, REFERENCE_MS, true));
      break;
    }
    case "wash": {
      // A staked provider renting its own node (eligible from `eligibleBps` of the epoch on).
      const since = at(s.eligibleBps);
      const rented = Math.max(1, Math.floor((e.length * s.rentedBps) / 10_000));
      const r = rentalIn(e, s.price, s.gpus, e.start, rented);
      add(
        "wash",
        node(id, BigInt(since), r.feesKai, r.deliveredGpuSeconds),
        samplesOf(e.start, end, 0, REFERENCE_MS, true),
      );
      break;
    }
    case "faker": {
      // Registered hardware it does not have: its challenges run fast on what it has, the checks disagree.
      add(
        "faker",
        node(id, BigInt(e.start), 0n, 0n),
        samplesOf(e.start, end, 0, Math.max(1, Math.floor(REFERENCE_MS / s.claimedFactor)), false),
      );
      break;
    }
    case "end":
      return newEpoch(end, s.length, s.budget);
  }
  return e;
}

function score(e: Epoch, legacy: boolean): EpochScores {
  return scoreEpoch(
    {
      epoch: BigInt(e.start),
      epochStart: BigInt(e.start),
      epochEnd: BigInt(e.start + e.length),
      budget: e.budget,
      // Before the fix: every node eligible, delivery weighted by GPU-seconds, no cap (fees scaled so that it never binds).
      nodes: e.nodes.map(({ node: n }) =>
        legacy ? { ...n, eligibleSince: BigInt(e.start), feesKai: n.deliveredGpuSeconds * 10n ** 40n } : n,
      ),
      checkers: CHECKERS.map((operator) => ({ operator, licenses: 1n, reportsSigned: 1n })),
      // Before the fix uptime was over the heartbeats taken: every node here answered its listed part.
      observations: e.nodes.flatMap((n) => n.observations),
    },
    legacy ? { ...PARAMS, deliveryCapBps: 10_000 } : PARAMS,
  );
}

/** Scores the epoch so far (and as the old code would) and checks every invariant; tallies attackers' profits. */
function check(e: Epoch): void {
  const after = score(e, false);
  const before = score(e, true);
  const end = BigInt(e.start + e.length);
  const ref = after.nodes.find((n) => n.nodeId === 1)!;
  const oldRef = before.nodes.find((n) => n.nodeId === 1)!;
  const start = BigInt(e.start);
  let total = 0n;
  for (const [i, n] of after.nodes.entries()) {
    const walk = e.nodes[n.nodeId - 1];
    const reward = n.capacityReward + n.deliveryReward;
    const since = walk.node.eligibleSince;
    // The part of the epoch the node was eligible (listed with its stake covering it), bps.
    const eligible =
      since === 0n || since >= end ? 0n : ((end - (since > start ? since : start)) * BPS) / (end - start);
    total += reward;
    const what = `node ${n.nodeId} (${walk.role})`;
    if (since === 0n || since >= end) expect(reward, `${what}: ineligible, no reward`).to.equal(0n);
    // At most its eligible share of an always-eligible equal node's (the reference: same hardware and uptime).
    if (n.metrics.hardwareScore === ref.metrics.hardwareScore && n.metrics.uptimeBps <= ref.metrics.uptimeBps) {
      expect(n.capacityReward * BPS <= ref.capacityReward * eligible + BPS, `${what}: capacity above its share`).to.be
        .true;
    }
    expect(
      n.deliveryReward * BPS <= walk.node.feesKai * BigInt(PARAMS.deliveryCapBps),
      `${what}: delivery above the cap`,
    ).to.be.true;
    if (n.metrics.hardwareMismatch) expect(reward, `${what}: faked hardware, no reward`).to.equal(0n);
    const old = before.nodes[i];
    if (walk.role === "wash") {
      expect(n.deliveryReward <= walk.node.feesKai, `${what}: a wash rental never profits`).to.be.true;
      profit.washAfter += n.deliveryReward - walk.node.feesKai;
      profit.washBefore += old.deliveryReward - walk.node.feesKai;
    } else if (walk.role === "late") {
      // Its due: its eligible share of what the reference node gets under the same rules.
      profit.lateAfter += n.capacityReward - (ref.capacityReward * eligible) / BPS;
      profit.lateBefore += old.capacityReward - (oldRef.capacityReward * eligible) / BPS;
      lateScored++;
    } else if (walk.role === "unstaked" || walk.role === "lapsed") {
      profit.freeAfter += reward;
      profit.freeBefore += old.capacityReward + old.deliveryReward;
    }
  }
  expect(total <= e.budget && after.totals.totalReward <= e.budget, "within the budget").to.be.true;
}

describe("attack walk (scoring): late, unstaked, wash and faking attackers against the real scoring", function () {
  this.timeout(10 * 60_000);
  before(() => fastHashReady);

  after(() => {
    const k = (x: bigint) => `${Number(x / 10n ** 14n) / 10_000} KAI`;
    console.log(
      `      attacker profit over ${steps} steps, before the fix -> after:\n` +
        `        wash renters (delivery reward - fees paid): ${k(profit.washBefore)} -> ${k(profit.washAfter)}\n` +
        `        late registrants (capacity beyond their eligible share): ${k(profit.lateBefore)} -> ${k(profit.lateAfter)}\n` +
        `        unstaked or lapsed nodes (any reward): ${k(profit.freeBefore)} -> ${k(profit.freeAfter)}`,
    );
    if (process.env.KAISAR_FC_STATS) console.log(`      steps: ${steps} (${RUNS} runs of ${STEPS})`);
  });

  it(`keeps every invariant after every step (seed ${SEED}, ${RUNS} runs of ${STEPS} steps)`, () => {
    const property = fc.property(
      fc.integer({ min: 10, max: 240 }).map((m) => m * 60),
      fc.array(stepArb, { minLength: STEPS, maxLength: STEPS }),
      (length, list) => {
        let e = newEpoch(1_800_000_000, length, 1_000_000n * KAI);
        for (const s of list) {
          e = apply(e, s);
          check(e);
          steps++;
        }
      },
    );
    try {
      fc.assert(property, { seed: SEED, path: PATH, numRuns: RUNS, endOnFailure: PATH !== undefined });
    } catch (err) {
      const replay = /seed: (-?\d+), path: "([^"]*)"/.exec(err instanceof Error ? err.message : String(err));
      if (replay) {
        console.error(
          `\nReplay: KAISAR_FC_SEED=${replay[1]} KAISAR_FC_PATH=${replay[2]} KAISAR_FC_MAX_COMMANDS=${STEPS} ` +
            "npx mocha --exit -r ts-node/register/transpile-only test/attack-score.test.ts\n",
        );
      }
      throw err;
    }
    expect(steps, "steps in a default run").to.be.at.least(RUNS * STEPS);
    expect(profit.washAfter <= 0n, "wash renters lose their fees' worth").to.equal(true);
    expect(profit.lateAfter <= lateScored, "late registrants get their share (a unit of rounding each)").to.equal(true);
    expect(profit.freeAfter, "unstaked and lapsed nodes earn nothing").to.equal(0n);
  });
});
