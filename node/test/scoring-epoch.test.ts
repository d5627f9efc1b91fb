import { expect } from "chai";
import fc from "fast-check";
import { getAddress, id, keccak256, solidityPacked, toUtf8Bytes } from "ethers";
import { LeafKind, checkerMetricsHash, nodeMetricsHash } from "@kaisar/offchain";

import {
  BPS,
  DEFAULT_SCORING_PARAMS,
  ScoringInputError,
  canonicalJson,
  challengeMflops,
  eligibleBps,
  expectedHeartbeats,
  epochReport,
  epochTree,
  isOutlier,
  majority,
  median,
  nodeEvidence,
  observeNode,
  proRata,
  scoreEpoch,
  splitBudget,
  type EpochInput,
  type NodeObservation,
  type NodeSamples,
  type ScoringParams,
} from "../src/scoring";

/** Seeded like the repository's other property tests: `KAISAR_FC_SEED` replays a failure. */
const FC_PARAMS = { seed: Number(process.env.KAISAR_FC_SEED ?? 1_209_600), numRuns: 100 };
const KAI = 10n ** 18n;

const addr = (n: number) => "0x" + n.toString(16).padStart(40, "0");
const CHECKER = [addr(0xc1), addr(0xc2), addr(0xc3), addr(0xc4)];
const PROVIDER = [addr(0xa1), addr(0xa2)];
const EVIDENCE = id("samples");

function obs(checker: string, nodeId: number, o: Partial<NodeObservation> = {}): NodeObservation {
  return {
    checker,
    nodeId,
    uptimeBps: 9_900,
    bandwidthMbps: 1_000,
    hardwareScore: 50_000,
    hardwareMismatch: false,
    evidence: EVIDENCE,
    ...o,
  };
}

const PARAMS: ScoringParams = { ...DEFAULT_SCORING_PARAMS, minObservations: 1 };
/** A two-week epoch. */
const START = 1_800_000_000n;
const END = START + 1_209_600n;

describe("scoring", () => {
  describe("median", () => {
    it("takes the middle value of an odd count", () => {
      expect(median([5]), "one").to.equal(5);
      expect(median([9, 1, 5]), "three").to.equal(5);
      expect(median([7, 7, 1, 100, 3]), "five, duplicates").to.equal(7);
    });

    it("takes the mean of the two middle values of an even count, rounded down", () => {
      expect(median([1, 2]), "1, 2").to.equal(1);
      expect(median([4, 1, 3, 2]), "2 and 3").to.equal(2);
      expect(median([10, 20]), "10, 20").to.equal(15);
      expect(median([9_999, 10_000]), "9999, 10000").to.equal(9_999);
      expect(median([1.5, 2.5, 3.5]), "fractions are rounded down").to.equal(2);
    });

    it("does not depend on the order of its values, and lies between min and max", () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 1, maxLength: 30 }), (xs) => {
          const m = median(xs);
          expect(median([...xs].reverse()), "reversed").to.equal(m);
          expect(median([...xs].sort((a, b) => a - b)), "sorted").to.equal(m);
          expect(m, "bounds").to.be.within(Math.min(...xs), Math.max(...xs));
        }),
        FC_PARAMS,
      );
    });

    it("refuses no values", () => {
      expect(() => median([]), "empty").to.throw(RangeError);
    });

    it("takes a strict majority of flags (ties are false)", () => {
      expect(majority([true, true, false]), "2 of 3").to.be.true;
      expect(majority([true, false]), "1 of 2").to.be.false;
      expect(majority([]), "none").to.be.false;
    });
  });

  describe("canonicalJson", () => {
    it("sorts keys, drops whitespace, writes bigints as strings", () => {
      expect(canonicalJson({ b: 1, a: [true, null, 2n], c: { y: "x", x: "y" } }), "canonical").to.equal(
        '{"a":[true,null,"2"],"b":1,"c":{"x":"y","y":"x"}}',
      );
    });

    it("refuses values JSON cannot carry", () => {
      expect(() => canonicalJson(NaN), "NaN").to.throw(TypeError);
      expect(() => canonicalJson({ a: undefined } as never), "undefined").to.throw(TypeError);
    });
  });

  describe("observeNode", () => {
    /** Heartbeats each minute from 60 s to 300 s: 4 expected. */
    const W = { from: 60, to: 360, heartbeatSeconds: 60 }; // 5 heartbeat slots, 4 expected (one of tolerance)
    const samples: NodeSamples = {
      heartbeats: [
        { at: 60, ok: true },
        { at: 120, ok: true },
        { at: 180, ok: false },
        { at: 240, ok: true },
      ],
      bandwidth: [
        { at: 100, mbps: 900.7 },
        { at: 200, mbps: 1_100.2 },
      ],
      capacity: [
        { at: 300, n: 1_000, elapsedMs: 100, passed: true }, // 2e9 flop in 0.1 s = 20,000 MFLOP/s
        { at: 400, n: 1_000, elapsedMs: 200, passed: true }, // 10,000
        { at: 500, n: 1_000, elapsedMs: 50, passed: false }, // 0
      ],
      hardware: [
        { at: 10, match: true },
        { at: 20, match: false },
      ],
    };

    it("sums one checker's samples up into figures", () => {
      const o = observeNode(CHECKER[0], 7, samples, W);
      expect(o.uptimeBps, "3 of 4 heartbeats").to.equal(7_500);
      expect(o.bandwidthMbps, "median of 900.7 and 1100.2, rounded down").to.equal(1_000);
      expect(o.hardwareScore, "median of 20000, 10000 and 0").to.equal(10_000);
      expect(o.hardwareMismatch, "1 mismatch of 2 is no majority").to.be.false;
      expect(o.checker, "lower-case checker").to.equal(CHECKER[0]);
    });

    it("hashes the canonical JSON of the samples, whatever their order", () => {
      const o = observeNode(CHECKER[0], 7, samples, W);
      const shuffled: NodeSamples = {
        heartbeats: [...samples.heartbeats].reverse(),
        bandwidth: [...samples.bandwidth].reverse(),
        capacity: [...samples.capacity].reverse(),
        hardware: [...samples.hardware].reverse(),
      };
      expect(observeNode(CHECKER[0], 7, shuffled, W).evidence, "shuffled").to.equal(o.evidence);
      const json = canonicalJson({
        bandwidth: samples.bandwidth.map((s) => ({ at: s.at, mbps: s.mbps })),
        capacity: samples.capacity.map((s) => ({ at: s.at, elapsedMs: s.elapsedMs, n: s.n, passed: s.passed })),
        hardware: samples.hardware.map((s) => ({ at: s.at, match: s.match })),
        heartbeats: samples.heartbeats.map((s) => ({ at: s.at, ok: s.ok })),
      });
      expect(o.evidence, "keccak of the canonical JSON").to.equal(keccak256(toUtf8Bytes(json)));
      const changed = { ...samples, heartbeats: [...samples.heartbeats.slice(1), { at: 60, ok: false }] };
      expect(observeNode(CHECKER[0], 7, changed, W).evidence, "one sample changed").to.not.equal(o.evidence);
    });

    it("scores a node without samples 0 and a node with mostly mismatching hardware as a mismatch", () => {
      const none = observeNode(CHECKER[0], 1, { heartbeats: [], bandwidth: [], capacity: [], hardware: [] }, W);
      expect([none.uptimeBps, none.bandwidthMbps, none.hardwareScore], "zeros").to.deep.equal([0, 0, 0]);
      const bad = observeNode(CHECKER[0], 1, { ...samples, hardware: [{ at: 1, match: false }] }, W);
      expect(bad.hardwareMismatch, "mismatch").to.be.true;
    });

    it("refuses malformed samples, naming them", () => {
      const bad = (s: Partial<NodeSamples>) => () => observeNode(CHECKER[0], 1, { ...samples, ...s }, W);
      expect(bad({ heartbeats: [{ at: -1, ok: true }] }), "negative time").to.throw(
        ScoringInputError,
        /heartbeats\[0\]/,
      );
      expect(bad({ bandwidth: [{ at: 1, mbps: NaN }] }), "NaN").to.throw(ScoringInputError, /bandwidth\[0\]/);
      expect(bad({ capacity: [{ at: 1, n: 1, elapsedMs: 0, passed: true }] }), "0 ms").to.throw(ScoringInputError);
      expect(bad({ capacity: [{ at: 1, n: 5_000, elapsedMs: 1, passed: true }] }), "n").to.throw(ScoringInputError);
      expect(() => observeNode("0x1234", 1, samples, W), "address").to.throw(ScoringInputError);
      expect(() => observeNode(CHECKER[0], -1, samples, W), "node id").to.throw(ScoringInputError);
    });

    it("counts uptime over the heartbeats expected in the window, not those taken", () => {
      const epoch = { from: 0, to: 14 * 86_400, heartbeatSeconds: 60 }; // 20,160 expected
      const late = [0, 1, 2].map((i) => ({ at: epoch.to - 180 + i * 60, ok: true })); // its last 3 minutes
      const o = observeNode(CHECKER[0], 7, { heartbeats: late, bandwidth: [], capacity: [], hardware: [] }, epoch);
      expect(o.uptimeBps, "3 of 20,159 expected").to.equal(Math.floor((3 * 10_000) / 20_159));
      const listed = { ...epoch, from: epoch.to - 180 }; // the window of a node listed 3 minutes before the end
      const l = observeNode(CHECKER[0], 7, { heartbeats: late, bandwidth: [], capacity: [], hardware: [] }, listed);
      expect(l.uptimeBps, "3 of 3 in its listed window").to.equal(10_000);
    });

    it("counts no heartbeat outside the window and at most 100%", () => {
      const beats = [{ at: 0, ok: true }, ...samples.heartbeats, { at: 360, ok: true }, { at: 250, ok: true }];
      const o = observeNode(CHECKER[0], 7, { ...samples, heartbeats: beats }, W);
      expect(o.uptimeBps, "4 ok of 4 expected; 0 and 360 are outside").to.equal(10_000);
      const twice = [...samples.heartbeats, ...samples.heartbeats].map((h) => ({ ...h, ok: true }));
      expect(observeNode(CHECKER[0], 7, { ...samples, heartbeats: twice }, W).uptimeBps, "8 of 4").to.equal(10_000);
      expect(expectedHeartbeats({ from: 10, to: 10, heartbeatSeconds: 60 }), "at least 1").to.equal(1);
      expect(expectedHeartbeats({ from: 0, to: 3_600, heartbeatSeconds: 60 }), "one heartbeat of tolerance").to.equal(
        59,
      );
      const jittered = Array.from({ length: 59 }, (_, i) => ({ at: i * 61, ok: true })); // the 60th slipped past the end
      const hour = { from: 0, to: 3_600, heartbeatSeconds: 60 };
      const j = observeNode(CHECKER[0], 7, { heartbeats: jittered, bandwidth: [], capacity: [], hardware: [] }, hour);
      expect(j.uptimeBps, "a schedule one heartbeat short is not downtime").to.equal(10_000);
    });

    it("refuses a malformed window, naming the field", () => {
      const bad = (w: Partial<typeof W>) => () => observeNode(CHECKER[0], 1, samples, { ...W, ...w });
      expect(bad({ from: -1 }), "from").to.throw(ScoringInputError, /window\.from/);
      expect(bad({ to: 59 }), "to < from").to.throw(ScoringInputError, /window\.to/);
      expect(bad({ heartbeatSeconds: 0 }), "interval").to.throw(ScoringInputError, /window\.heartbeatSeconds/);
    });

    it("computes challenge throughput in MFLOP/s", () => {
      expect(challengeMflops({ at: 0, n: 4_096, elapsedMs: 1_000, passed: true }), "4096 in 1 s").to.equal(137_438);
      expect(challengeMflops({ at: 0, n: 4_096, elapsedMs: 1, passed: false }), "failed").to.equal(0);
    });
  });

  describe("isOutlier", () => {
    it("allows the larger of the absolute and the relative tolerance", () => {
      const tol = { absolute: 10, relativeBps: 2_500 };
      expect(isOutlier(1_250, 1_000, tol), "at 25%").to.be.false;
      expect(isOutlier(1_251, 1_000, tol), "above 25%").to.be.true;
      expect(isOutlier(749, 1_000, tol), "below -25%").to.be.true;
      expect(isOutlier(10, 0, tol), "absolute near zero").to.be.false;
      expect(isOutlier(11, 0, tol), "beyond absolute").to.be.true;
    });
  });

  describe("splitBudget and proRata", () => {
    it("splits the budget by bps, rounding down", () => {
      expect(splitBudget(1_000n, { capacityBps: 5_000, deliveryBps: 3_333, checkerBps: 1_667 }), "pools").to.deep.equal(
        {
          capacity: 500n,
          delivery: 333n,
          checker: 166n,
        },
      );
      expect(proRata(100n, [1n, 1n, 1n]), "thirds").to.deep.equal([33n, 33n, 33n]);
      expect(proRata(100n, [0n, 0n]), "no points").to.deep.equal([0n, 0n]);
    });

    it("refuses shares above 100% and negative amounts", () => {
      expect(() => splitBudget(1n, { capacityBps: 6_000, deliveryBps: 4_000, checkerBps: 1 }), "10001").to.throw(
        RangeError,
      );
      expect(() => splitBudget(1n, { capacityBps: 1.5, deliveryBps: 0, checkerBps: 0 }), "fraction").to.throw(
        RangeError,
      );
      expect(() => proRata(1n, [-1n]), "negative points").to.throw(RangeError);
    });

    it("never pays more than the budget", () => {
      const shares = fc
        .tuple(fc.nat(10_000), fc.nat(10_000), fc.nat(10_000))
        .filter(([a, b, c]) => a + b + c <= 10_000)
        .map(([capacityBps, deliveryBps, checkerBps]) => ({ capacityBps, deliveryBps, checkerBps }));
      const points = fc.array(fc.bigInt({ min: 0n, max: 2n ** 96n }), { maxLength: 40 });
      fc.assert(
        fc.property(
          fc.bigInt({ min: 0n, max: 2n ** 128n }),
          shares,
          points,
          points,
          points,
          (budget, s, p1, p2, p3) => {
            const pools = splitBudget(budget, s);
            expect(pools.capacity + pools.delivery + pools.checker <= budget, "pools").to.be.true;
            const paid = [proRata(pools.capacity, p1), proRata(pools.delivery, p2), proRata(pools.checker, p3)];
            const sums = paid.map((xs) => xs.reduce((a, b) => a + b, 0n));
            expect(sums[0] <= pools.capacity, "capacity").to.be.true;
            expect(sums[1] <= pools.delivery, "delivery").to.be.true;
            expect(sums[2] <= pools.checker, "checker").to.be.true;
            // Rounding loses less than one unit per share (all of the pool when nobody has points).
            const dust = p1.some((p) => p > 0n) ? BigInt(p1.length) : pools.capacity;
            expect(pools.capacity - sums[0] <= dust, "dust").to.be.true;
          },
        ),
        FC_PARAMS,
      );
    });
  });

  describe("scoreEpoch", () => {
    /** Two nodes, three checkers; checker 3 lies about node 1's uptime. */
    const INPUT: EpochInput = {
      epoch: 9n,
      epochStart: START,
      epochEnd: END,
      budget: 1_000n * KAI,
      nodes: [
        { nodeId: 1, provider: PROVIDER[0], deliveredGpuSeconds: 3_600n, feesKai: 3n * KAI, eligibleSince: 1n },
        { nodeId: 2, provider: PROVIDER[1], deliveredGpuSeconds: 7_200n, feesKai: 0n, eligibleSince: START },
      ],
      checkers: [
        { operator: CHECKER[0], licenses: 1n, reportsSigned: 10n },
        { operator: CHECKER[1], licenses: 2n, reportsSigned: 10n },
        { operator: CHECKER[2], licenses: 1n, reportsSigned: 10n },
      ],
      observations: [
        obs(CHECKER[0], 1, { uptimeBps: 9_800 }),
        obs(CHECKER[1], 1, { uptimeBps: 9_900 }),
        obs(CHECKER[2], 1, { uptimeBps: 1_000 }),
        obs(CHECKER[0], 2, { hardwareScore: 40_000 }),
        obs(CHECKER[1], 2, { hardwareScore: 40_010 }),
        obs(CHECKER[2], 2, { hardwareScore: 39_990 }),
      ],
    };
    const scores = scoreEpoch(INPUT, PARAMS);

    it("takes medians across checkers and flags the outlier", () => {
      const [n1, n2] = scores.nodes;
      expect(n1.metrics.uptimeBps, "median of 9800, 9900, 1000").to.equal(9_800n);
      expect(n1.outliers, "checker 3 lied").to.deep.equal([CHECKER[2]]);
      expect(n2.metrics.hardwareScore, "median hardware").to.equal(40_000n);
      expect(n2.outliers, "no outlier").to.deep.equal([]);
      expect(n1.observers, "observers").to.equal(3);
    });

    it("computes points: capacity = hardware x uptime, delivery = fees in KAI x uptime", () => {
      const [n1, n2] = scores.nodes;
      expect(n1.metrics.capacityPoints, "node 1 capacity").to.equal((50_000n * 9_800n) / BPS);
      expect(n1.metrics.deliveryPoints, "node 1 delivery").to.equal((3n * KAI * 9_800n) / BPS);
      expect(n2.metrics.deliveryPoints, "node 2 brought no fees").to.equal(0n);
      expect(n2.metrics.capacityPoints, "node 2 capacity").to.equal((40_000n * 9_900n) / BPS);
      expect(n2.metrics.deliveredGpuSeconds, "delivered").to.equal(7_200n);
    });

    it("splits each pool pro rata to points, never above the budget", () => {
      const pools = splitBudget(INPUT.budget, PARAMS.pools);
      const [n1, n2] = scores.nodes;
      const cap = n1.metrics.capacityPoints + n2.metrics.capacityPoints;
      expect(n1.capacityReward, "node 1 capacity reward").to.equal((pools.capacity * n1.metrics.capacityPoints) / cap);
      expect(scores.totals.totalReward + scores.totals.unspent, "budget").to.equal(INPUT.budget);
      expect(scores.totals.totalReward <= INPUT.budget, "within budget").to.be.true;
      expect(scores.totals.nodeCount, "node count").to.equal(2n);
    });

    it("pays checkers by reports x licenses x (1 - error rate)", () => {
      const [c1, c2, c3] = scores.checkers;
      expect(c3.errorRateBps, "1 outlier of 2").to.equal(5_000n);
      expect(c1.errorRateBps, "honest").to.equal(0n);
      expect(c2.points, "two licenses").to.equal(2n * c1.points);
      expect(c3.points, "half the points of checker 1").to.equal(c1.points / 2n);
      const pool = splitBudget(INPUT.budget, PARAMS.pools).checker;
      expect(c1.reward, "checker 1").to.equal((pool * 2n) / 7n);
      expect(c3.metrics.errorRateBps, "metrics carry the error rate").to.equal(5_000n);
    });

    it("builds node leaves (provider, node id) then checker leaves (operator)", () => {
      const [l1, , l3] = scores.leaves;
      expect(scores.leaves.length, "2 nodes + 3 checkers").to.equal(5);
      expect(l1.kind, "node").to.equal(LeafKind.Node);
      expect(l1.account, "checksummed provider").to.equal(getAddress(PROVIDER[0]));
      expect(l1.id, "node id").to.equal(1n);
      expect(l1.metricsHash, "metrics hash").to.equal(nodeMetricsHash(scores.nodes[0].metrics));
      expect(l3.kind, "checker").to.equal(LeafKind.Checker);
      expect(l3.checkerReward, "checker reward").to.equal(scores.checkers[0].reward);
      expect(l3.metricsHash, "checker metrics hash").to.equal(checkerMetricsHash(scores.checkers[0].metrics));
    });

    it("builds the tree and the report the oracle takes", () => {
      const tree = epochTree(scores);
      const report = epochReport(scores, tree.root, 3n);
      expect(report, "report").to.deep.equal({
        epoch: 9n,
        configVersion: 3n,
        root: tree.root,
        nodeCount: 2n,
        totalReward: scores.totals.totalReward,
        totalCapacityPoints: scores.totals.totalCapacityPoints,
        totalDeliveryPoints: scores.totals.totalDeliveryPoints,
      });
    });

    it("commits each node's evidence to its observations (abi.encodePacked)", () => {
      const node = scores.nodes[0];
      const byChecker = INPUT.observations.filter((o) => o.nodeId === 1);
      const packed = solidityPacked(
        ["uint256", "uint32", ...byChecker.flatMap(() => ["address", "uint16", "uint64", "uint64", "bool", "bytes32"])],
        [
          9n,
          1,
          ...byChecker.flatMap((o) => [
            o.checker,
            o.uptimeBps,
            o.bandwidthMbps,
            o.hardwareScore,
            o.hardwareMismatch,
            o.evidence,
          ]),
        ],
      );
      expect(node.metrics.evidence, "evidence").to.equal(keccak256(packed));
      const ci = byChecker.map((o) => ({ ci: CHECKER.indexOf(o.checker), o }));
      const bytes = CHECKER.map((c) => Buffer.from(c.slice(2), "hex"));
      expect(nodeEvidence(9n, 1, ci, bytes), "nodeEvidence").to.equal(node.metrics.evidence);
    });

    it("zeroes the points of a node most checkers find mismatching", () => {
      const input = {
        ...INPUT,
        observations: INPUT.observations.map((o) =>
          o.nodeId === 2 && o.checker !== CHECKER[2] ? { ...o, hardwareMismatch: true } : o,
        ),
      };
      const s = scoreEpoch(input, PARAMS);
      const n2 = s.nodes[1];
      expect(n2.metrics.hardwareMismatch, "mismatch").to.be.true;
      expect([n2.metrics.capacityPoints, n2.metrics.deliveryPoints, n2.capacityReward], "zero").to.deep.equal([
        0n,
        0n,
        0n,
      ]);
      expect(n2.outliers, "the checker that saw no mismatch").to.deep.equal([CHECKER[2]]);
    });

    it("measures eligibility as the share of the epoch from max(start, eligibleSince) to its end", () => {
      const half = START + (END - START) / 2n;
      expect(eligibleBps(0n, START, END), "not eligible").to.equal(0n);
      expect(eligibleBps(END, START, END), "eligible only at the end").to.equal(0n);
      expect(eligibleBps(END + 5n, START, END), "after the end").to.equal(0n);
      expect(eligibleBps(1n, START, END), "since long before").to.equal(10_000n);
      expect(eligibleBps(START, START, END), "since the start").to.equal(10_000n);
      expect(eligibleBps(half, START, END), "half").to.equal(5_000n);
      expect(eligibleBps(END - 180n, START, END), "3 minutes of two weeks").to.equal((180n * BPS) / (END - START));
    });

    it("scales capacity points by the eligible part, and keeps an ineligible node's leaf with zero rewards", () => {
      const half = START + (END - START) / 2n;
      const nodes = [
        { ...INPUT.nodes[0], eligibleSince: half },
        { ...INPUT.nodes[1], eligibleSince: 0n, feesKai: 5n * KAI },
      ];
      const s = scoreEpoch({ ...INPUT, nodes }, PARAMS);
      const [n1, n2] = s.nodes;
      expect(n1.eligibleBps, "half the epoch").to.equal(5_000n);
      expect(n1.metrics.capacityPoints, "half of hardware x uptime").to.equal(
        (((50_000n * 9_800n) / BPS) * 5_000n) / BPS,
      );
      expect(n1.metrics.deliveryPoints, "fees x uptime, not scaled").to.equal((3n * KAI * 9_800n) / BPS);
      expect(n2.eligibleBps, "not eligible").to.equal(0n);
      expect([n2.metrics.capacityPoints, n2.metrics.deliveryPoints], "no points").to.deep.equal([0n, 0n]);
      expect([n2.capacityReward, n2.deliveryReward], "no rewards").to.deep.equal([0n, 0n]);
      expect(n2.metrics.uptimeBps, "its uptime still attested").to.equal(9_900n);
      const leaf = s.leaves.find((l) => l.id === 2n)!;
      expect([leaf.capacityReward, leaf.deliveryReward], "a leaf of zero rewards").to.deep.equal([0n, 0n]);
      expect(n1.capacityReward, "the capacity pool goes to the eligible node").to.equal(s.pools.capacity);
    });

    it("caps a node's delivery reward at deliveryCapBps of its fees; the rest is unspent", () => {
      const s = scoreEpoch(INPUT, PARAMS);
      const n1 = s.nodes[0];
      expect(s.pools.delivery > 3n * KAI, "a pool far above the fees").to.equal(true);
      expect(n1.deliveryReward, "half the 3 KAI of fees").to.equal((3n * KAI * 5_000n) / BPS);
      expect(s.totals.unspent >= s.pools.delivery - n1.deliveryReward, "what the cap leaves is unspent").to.equal(true);
      const uncapped = scoreEpoch(INPUT, { ...PARAMS, deliveryCapBps: 10_000 }).nodes[0];
      expect(uncapped.deliveryReward, "at 100%: the fees back at most").to.equal(3n * KAI);
      const none = scoreEpoch(INPUT, { ...PARAMS, deliveryCapBps: 0 }).nodes[0];
      expect(none.deliveryReward, "at 0: nothing").to.equal(0n);
    });

    it("shares the delivery pool pro rata to fees x uptime when the cap does not bind", () => {
      const small = { ...INPUT, budget: 10n * KAI, nodes: [INPUT.nodes[0], { ...INPUT.nodes[1], feesKai: KAI }] };
      const s = scoreEpoch(small, { ...PARAMS, deliveryCapBps: 10_000 });
      const [n1, n2] = s.nodes;
      const points = n1.metrics.deliveryPoints + n2.metrics.deliveryPoints;
      expect(n1.deliveryReward, "node 1").to.equal((s.pools.delivery * n1.metrics.deliveryPoints) / points);
      expect(n2.deliveryReward, "node 2").to.equal((s.pools.delivery * n2.metrics.deliveryPoints) / points);
    });

    it("refuses an epoch that ends before it starts, negative node figures and a bad cap", () => {
      expect(() => scoreEpoch({ ...INPUT, epochEnd: START }, PARAMS), "empty epoch").to.throw(
        ScoringInputError,
        /not before end/,
      );
      for (const field of ["feesKai", "eligibleSince", "deliveredGpuSeconds"] as const) {
        const nodes = [{ ...INPUT.nodes[0], [field]: -1n }, INPUT.nodes[1]];
        expect(() => scoreEpoch({ ...INPUT, nodes }, PARAMS), field).to.throw(ScoringInputError, new RegExp(field));
      }
      expect(() => scoreEpoch(INPUT, { ...PARAMS, deliveryCapBps: 10_001 }), "cap").to.throw(
        RangeError,
        /deliveryCapBps/,
      );
      expect(() => scoreEpoch(INPUT, { ...PARAMS, deliveryCapBps: 0.5 }), "cap").to.throw(RangeError, /deliveryCapBps/);
    });

    it("leaves out nodes with fewer observations than required", () => {
      const s = scoreEpoch(INPUT, { ...PARAMS, minObservations: 4 });
      expect(s.nodes, "no node scored").to.deep.equal([]);
      expect(s.unobserved, "both unobserved").to.deep.equal([1, 2]);
      expect(s.totals.nodeCount, "count").to.equal(0n);
      expect(
        s.checkers.every((c) => c.observations === 0),
        "no observation counted",
      ).to.be.true;
    });

    it("refuses unknown checkers and nodes, duplicates and malformed observations", () => {
      const withObs = (o: NodeObservation[]) => () =>
        scoreEpoch({ ...INPUT, observations: [...INPUT.observations, ...o] }, PARAMS);
      expect(withObs([obs(CHECKER[3], 1)]), "unknown checker").to.throw(ScoringInputError, /not a checker/);
      expect(withObs([obs(CHECKER[0], 3)]), "unknown node").to.throw(ScoringInputError, /not a node/);
      expect(withObs([obs(CHECKER[0].toUpperCase().replace("0X", "0x"), 1)]), "duplicate").to.throw(
        ScoringInputError,
        /two observations/,
      );
      expect(withObs([obs(CHECKER[3], 1, { uptimeBps: 10_001 })]), "not a checker first").to.throw(ScoringInputError);
      const more = {
        ...INPUT,
        checkers: [...INPUT.checkers, { operator: CHECKER[3], licenses: 1n, reportsSigned: 1n }],
      };
      expect(
        () => scoreEpoch({ ...more, observations: [obs(CHECKER[3], 1, { uptimeBps: 10_001 })] }, PARAMS),
        "uptime",
      ).to.throw(ScoringInputError, /uptimeBps/);
      expect(
        () => scoreEpoch({ ...more, observations: [obs(CHECKER[3], 1, { evidence: "0x12" })] }, PARAMS),
        "evidence",
      ).to.throw(ScoringInputError, /evidence/);
      expect(() => scoreEpoch({ ...INPUT, nodes: [...INPUT.nodes, INPUT.nodes[0]] }, PARAMS), "node twice").to.throw(
        ScoringInputError,
        /twice/,
      );
      expect(() => scoreEpoch(INPUT, { ...PARAMS, minObservations: 0 }), "min 0").to.throw(RangeError);
    });

    describe("determinism", function () {
      // 100 random epochs scored twice with their trees: no deadline a loaded machine can miss.
      this.timeout(120_000);
      /** A random epoch: up to 12 nodes and 6 checkers, each node seen by a random subset. */
      const epochArb = fc
        .record({
          nodes: fc.uniqueArray(fc.integer({ min: 1, max: 1_000 }), { minLength: 1, maxLength: 12 }),
          checkers: fc.integer({ min: 1, max: 6 }),
          budget: fc.bigInt({ min: 0n, max: 10n ** 30n }),
          seed: fc.integer(),
        })
        .chain(({ nodes, checkers, budget }) =>
          fc.record({
            budget: fc.constant(budget),
            nodes: fc.constant(nodes),
            checkerList: fc.constant(Array.from({ length: checkers }, (_, i) => addr(0xc000 + i))),
            licenses: fc.array(fc.bigInt({ min: 0n, max: 5n }), { minLength: checkers, maxLength: checkers }),
            delivered: fc.array(fc.bigInt({ min: 0n, max: 1_209_600n }), {
              minLength: nodes.length,
              maxLength: nodes.length,
            }),
            seen: fc.array(fc.array(fc.boolean(), { minLength: checkers, maxLength: checkers }), {
              minLength: nodes.length,
              maxLength: nodes.length,
            }),
            figures: fc.array(
              fc.tuple(fc.nat(10_000), fc.nat(100_000), fc.nat(1_000_000), fc.boolean(), fc.nat(1_000)),
              { minLength: nodes.length * checkers, maxLength: nodes.length * checkers },
            ),
          }),
        )
        .map(({ budget, nodes, checkerList, licenses, delivered, seen, figures }): EpochInput => ({
          epoch: 5n,
          epochStart: START,
          epochEnd: END,
          budget,
          nodes: nodes.map((nodeId, i) => ({
            nodeId,
            provider: addr(0xa000 + (nodeId % 3)),
            deliveredGpuSeconds: delivered[i],
            feesKai: delivered[i] * 10n ** 12n,
            eligibleSince: nodeId % 4 === 0 ? 0n : START - 1n + BigInt(nodeId) * 997n,
          })),
          checkers: checkerList.map((operator, i) => ({ operator, licenses: licenses[i], reportsSigned: 7n })),
          observations: nodes.flatMap((nodeId, ni) =>
            checkerList
              .filter((_, ci) => seen[ni][ci])
              .map((checker, k) => {
                const [uptimeBps, bandwidthMbps, hardwareScore, hardwareMismatch, e] =
                  figures[ni * checkerList.length + k];
                return obs(checker, nodeId, {
                  uptimeBps,
                  bandwidthMbps,
                  hardwareScore,
                  hardwareMismatch,
                  evidence: id(String(e)),
                });
              }),
          ),
        }));

      /** The same epoch with every list permuted and addresses in other letter cases. */
      const shuffle = <T>(xs: readonly T[], keys: number[]) =>
        xs
          .map((x, i) => ({ x, k: keys[i % keys.length] ?? 0 }))
          .sort((a, b) => a.k - b.k)
          .map(({ x }) => x);
      const upper = (a: string) => "0x" + a.slice(2).toUpperCase();

      it("gives byte-identical leaves and root for any order of the same inputs", () => {
        fc.assert(
          fc.property(epochArb, fc.array(fc.integer(), { minLength: 1, maxLength: 50 }), (input, keys) => {
            const a = scoreEpoch(input, PARAMS);
            const permuted: EpochInput = {
              ...input,
              nodes: shuffle(input.nodes, keys).map((n) => ({ ...n, provider: upper(n.provider) })),
              checkers: shuffle(input.checkers, [...keys].reverse()),
              observations: shuffle(
                input.observations,
                keys.map((k) => -k),
              ).map((o) => ({
                ...o,
                checker: upper(o.checker),
                evidence: o.evidence.toUpperCase().replace("0X", "0x"),
              })),
            };
            const b = scoreEpoch(permuted, PARAMS);
            const json = (s: typeof a) =>
              canonicalJson(JSON.parse(JSON.stringify(s.leaves, (_, v) => (typeof v === "bigint" ? v.toString() : v))));
            expect(json(b), "leaves").to.equal(json(a));
            if (a.leaves.length > 0) {
              const proofs = (s: typeof a) => {
                const tree = epochTree(s);
                return JSON.stringify(s.leaves.map((_, i) => tree.proof(i)));
              };
              expect(proofs(b), "every proof").to.equal(proofs(a));
              expect(epochTree(b).root, "root").to.equal(epochTree(a).root);
            }
            expect(a.totals.totalReward <= input.budget, "within budget").to.be.true;
          }),
          { ...FC_PARAMS, numRuns: 50 },
        );
      });
    });
  });
});
