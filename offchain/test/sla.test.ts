import { expect } from "chai";
import fc from "fast-check";
import { getAddress, id } from "ethers";

import {
  DEFAULT_CREDIT_SCHEDULE,
  LeafKind,
  Plan,
  buildRewardTree,
  kaiForShortfall,
  leafValues,
  nodeEpochProof,
  nodeMetricsHash,
  paidWithin,
  serviceWindow,
  slaCredit,
  slaCreditBps,
  type NodeMetrics,
  type RewardLeaf,
  type SlaRental,
} from "../src";

/** Seeded like the walks: `KAISAR_FC_SEED` replays a failure. */
const FC_PARAMS = { seed: Number(process.env.KAISAR_FC_SEED ?? 5_100), numRuns: 200 };

const T0 = 1_800_000_000n;
/** PAYG at 556 units a second (2 USD per GPU-hour, 6 decimals, rounded up), 100 USD deposited. */
const payg: SlaRental = {
  plan: Plan.PayAsYouGo,
  anchor: T0,
  unitPrice: 556n,
  amount: 100_000_000n,
  withdrawnUnits: 0n,
  closed: false,
  earlyExitPenaltyBps: 1_000n,
};

describe("sla: the credit schedule", () => {
  const credit = (target: bigint, uptime: bigint) => slaCreditBps(DEFAULT_CREDIT_SCHEDULE, target, uptime);

  it("credits nothing at or above the target, or on tier 0 (no SLA)", () => {
    expect([credit(9_990n, 9_990n), credit(9_990n, 10_000n), credit(0n, 0n)]).to.deep.equal([0n, 0n, 0n]);
  });

  it("steps 10% / 25% / 50% / 100% at 1, 100, 500 and 1,000 bps under the target", () => {
    const rows: [bigint, bigint][] = [
      [9_989n, 1_000n],
      [9_891n, 1_000n],
      [9_890n, 2_500n],
      [9_491n, 2_500n],
      [9_490n, 5_000n],
      [8_991n, 5_000n],
      [8_990n, 10_000n],
      [0n, 10_000n],
    ];
    for (const [uptime, bps] of rows) expect(credit(9_990n, uptime), `uptime ${uptime}`).to.equal(bps);
  });

  it("never decreases as uptime falls (the default schedule)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5_000, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (target, a, b) => {
          const [hi, lo] = a >= b ? [a, b] : [b, a];
          return credit(BigInt(target), BigInt(lo)) >= credit(BigInt(target), BigInt(hi));
        },
      ),
      FC_PARAMS,
    );
  });
});

describe("sla: service window and what was paid in an epoch", () => {
  it("an open rental's window ends where its earned time ends now", () => {
    expect(serviceWindow(payg, T0 + 100n)).to.deep.equal({ start: T0, end: T0 + 100n });
    // 100 USD buys 179,856 seconds: past that the window stops growing.
    expect(serviceWindow(payg, T0 + 10n ** 6n)).to.deep.equal({ start: T0, end: T0 + 179_856n });
  });

  it("a closed rental's window is its stored units; hourly units are hours", () => {
    expect(serviceWindow({ ...payg, closed: true, withdrawnUnits: 42n }, T0 + 10n ** 6n).end).to.equal(T0 + 42n);
    const hourly = { ...payg, plan: Plan.Hourly, unitPrice: 2_000_000n, closed: true, withdrawnUnits: 3n };
    expect(serviceWindow(hourly, 0n).end).to.equal(T0 + 3n * 3_600n);
  });

  it("charges the overlap at the unit price: per second (PAYG), per hour (Hourly, Saving)", () => {
    expect(paidWithin(payg, T0 + 1_000n, T0 - 50n, T0 + 60n)).to.equal(556n * 60n);
    expect(paidWithin(payg, T0 + 1_000n, T0 + 2_000n, T0 + 3_000n), "after the window").to.equal(0n);
    const saving = { ...payg, plan: Plan.Saving, unitPrice: 1_900_000n, amount: 1_900_000n * 24n * 7n };
    expect(paidWithin(saving, T0 + 7_200n, T0, T0 + 1_800n)).to.equal(950_000n);
  });
});

describe("sla: one credit", () => {
  it("takes whole earned seconds from a PAYG rental's unwithdrawn earnings (worked example)", () => {
    // 50% of one 60-second epoch at 556/s = 16,680 = exactly 30 seconds.
    const r = slaCredit(payg, DEFAULT_CREDIT_SCHEDULE, 9_990n, 8_000n, T0, T0 + 60n, T0 + 100n);
    expect(r).to.not.equal(null);
    expect([r!.creditBps, r!.credit, r!.fromEarnings, r!.fromStake, r!.after.withdrawnUnits]).to.deep.equal([
      10_000n,
      33_360n,
      33_360n,
      0n,
      60n,
    ]);
  });

  it("takes from a closed rental's amount, and the rest is for the stake", () => {
    const closed = { ...payg, closed: true, withdrawnUnits: 100n, amount: 1_000n };
    const r = slaCredit(closed, DEFAULT_CREDIT_SCHEDULE, 9_990n, 9_989n, T0, T0 + 60n, T0 + 500n)!;
    expect([r.credit, r.fromEarnings, r.fromStake, r.after.amount]).to.deep.equal([3_336n, 1_000n, 2_336n, 0n]);
    expect(kaiForShortfall(r.fromStake, 10n ** 30n), "1 unit = 1e12 KAI units").to.equal(2_336n * 10n ** 12n);
  });

  it("returns null where the escrow reverts: no breach, nothing paid in the epoch", () => {
    expect(slaCredit(payg, DEFAULT_CREDIT_SCHEDULE, 9_990n, 9_990n, T0, T0 + 60n, T0 + 100n)).to.equal(null);
    expect(slaCredit(payg, DEFAULT_CREDIT_SCHEDULE, 9_990n, 0n, T0 + 200n, T0 + 260n, T0 + 100n)).to.equal(null);
  });

  it("never takes more than the credit nor more than was earned and not withdrawn", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(Plan.PayAsYouGo, Plan.Hourly, Plan.Saving),
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        fc.bigInt({ min: 0n, max: 10_000n }),
        fc.bigInt({ min: 0n, max: 2n * 10n ** 6n }),
        (plan, unitPrice, elapsed, uptime, from) => {
          const amount = plan === Plan.Saving ? unitPrice * 24n * 7n : unitPrice * 1_000n;
          const r: SlaRental = { ...payg, plan, unitPrice, amount, withdrawnUnits: 0n };
          const now = T0 + elapsed;
          const c = slaCredit(r, DEFAULT_CREDIT_SCHEDULE, 9_990n, uptime, T0 + from, T0 + from + 3_600n, now);
          if (c === null) return true;
          const window = serviceWindow(r, now);
          const earnedValue =
            plan === Plan.Saving
              ? (amount * (window.end - window.start)) / (7n * 86_400n)
              : unitPrice * ((window.end - window.start) / (plan === Plan.Hourly ? 3_600n : 1n));
          return (
            c.fromEarnings <= c.credit && c.fromEarnings <= earnedValue && c.fromEarnings + c.fromStake === c.credit
          );
        },
      ),
      FC_PARAMS,
    );
  });
});

describe("sla: node epoch proofs", () => {
  it("builds the struct SlaEnforcer takes, with a proof that verifies against the tree", () => {
    const metrics: NodeMetrics = {
      uptimeBps: 9_500n,
      bandwidthMbps: 1_000n,
      hardwareScore: 900n,
      deliveredGpuSeconds: 3_600n,
      capacityPoints: 10n,
      deliveryPoints: 5n,
      hardwareMismatch: false,
      evidence: id("samples"),
    };
    const leaf = (n: bigint): RewardLeaf => ({
      kind: LeafKind.Node,
      epoch: 3n,
      account: getAddress("0x00000000000000000000000000000000000a11ce"),
      id: n,
      capacityReward: 0n,
      deliveryReward: 0n,
      checkerReward: 0n,
      metricsHash: nodeMetricsHash({ ...metrics, hardwareScore: 900n + n }),
    });
    const leaves = [1n, 2n, 3n].map(leaf);
    const tree = buildRewardTree(leaves);
    const p = nodeEpochProof(tree, leaves[1], metrics);
    expect(p.leaf).to.equal(leaves[1]);
    expect(p.metrics).to.equal(metrics);
    const values = leafValues(leaves[1]);
    expect(tree.verify(values, p.proof)).to.equal(true);
    expect(() => nodeEpochProof(tree, leaf(4n), metrics)).to.throw(/not in the tree/);
  });
});
