/**
 * Differential test (threats 26 and 35): the Solidity money math against its TypeScript mirror
 * `offchain/src/rentalMath.ts`, on fast-check inputs biased towards the bounds (0, 1 unit, one
 * second either side of an hour or a day, the 32/96/256-bit limits, 0 / 1 / 100% in bps).
 * `RentalMathHarness` exposes the library; `RentalModelHarness` the escrow's `_quote`,
 * `_checkDeposit`, `_split` and `_pending`. Where the contract panics or reverts, the model must
 * throw the same panic or custom error, with the same arguments.
 *
 * Replay a failure with `KAISAR_FC_SEED=<seed> KAISAR_FC_PATH=<path>`.
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers, network } from "hardhat";

import * as model from "../../offchain/src/rentalMath";
import {
  ContractRevert,
  Plan,
  SolidityPanic,
  UINT256_MAX,
  UINT32_MAX,
  UINT96_MAX,
} from "../../offchain/src/rentalMath";
import type { RentalMathHarness, RentalModelHarness } from "../../typechain-types";
import { fcCount, fcPath, fcSeed } from "../helpers/fcEnv";

const SEED = fcSeed("KAISAR_FC_SEED", 35_035);
const RUNS = fcCount("KAISAR_FC_RUNS", 300);
const fcParams = (): fc.Parameters<unknown> => ({
  seed: SEED,
  path: fcPath("KAISAR_FC_PATH"),
  numRuns: RUNS,
  endOnFailure: fcPath("KAISAR_FC_PATH") !== undefined,
});

/* ----------------------------------- inputs ----------------------------------- */

const uintOf = (bits: bigint) => (1n << bits) - 1n;

/** Values where off-by-one and overflow bugs live. */
const EDGES = [
  0n,
  1n,
  2n,
  23n,
  24n,
  25n,
  3_599n,
  3_600n,
  3_601n,
  86_399n,
  86_400n,
  86_401n,
  9_999n,
  10_000n,
  10_001n,
  UINT32_MAX - 1n,
  UINT32_MAX,
  UINT32_MAX + 1n,
  UINT96_MAX - 1n,
  UINT96_MAX,
  UINT96_MAX + 1n,
  UINT256_MAX / 86_400n,
  UINT256_MAX / 10_000n,
  UINT256_MAX - 3_600n,
  UINT256_MAX - 1n,
  UINT256_MAX,
];

/** A uint of at most `bits` bits: edges, small numbers, and the whole range. */
function uintArb(bits: bigint): fc.Arbitrary<bigint> {
  const max = uintOf(bits);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...EDGES.filter((e) => e <= max)) },
    { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: max < 100_000n ? max : 100_000n }) },
    { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: max < 1n << 64n ? max : 1n << 64n }) },
    { weight: 2, arbitrary: fc.bigInt({ min: 0n, max }) },
  );
}

const planArb = fc.constantFrom<Plan>(Plan.PayAsYouGo, Plan.Hourly, Plan.Saving);
const termArb = fc.constantFrom(7n, 30n, 90n);
const bpsArb = fc.oneof(fc.constantFrom(0n, 1n, 5_000n, 9_999n, 10_000n), fc.bigInt({ min: 0n, max: 10_000n }));

/** A rental the escrow could really hold (the deposit buys at least one unit and fits storage). */
const rentalArb = fc
  .tuple(planArb, uintArb(96n), uintArb(96n), termArb)
  .filter(([, unitPrice]) => unitPrice > 0n)
  .map(([plan, unitPriceRaw, depositRaw, termDays]) => {
    if (plan === Plan.Saving) {
      const unitPrice = 1n + ((unitPriceRaw - 1n) % (UINT96_MAX / (24n * termDays)));
      return { plan, unitPrice, deposit: unitPrice * 24n * termDays };
    }
    let max = UINT96_MAX;
    if (max / unitPriceRaw > UINT32_MAX) max = unitPriceRaw * UINT32_MAX;
    return { plan, unitPrice: unitPriceRaw, deposit: unitPriceRaw + (depositRaw % (max - unitPriceRaw + 1n)) };
  });

/** Either any uint256 arguments (mostly panics), or a realistic rental with times around it. */
const mathArgsArb = fc.oneof(
  fc.record({
    plan: planArb,
    anchor: uintArb(256n),
    unitPrice: uintArb(256n),
    deposit: uintArb(256n),
    x: uintArb(256n),
  }),
  fc
    .record({ r: rentalArb, anchor: uintArb(32n), dt: uintArb(40n), back: fc.boolean() })
    .map(({ r, anchor, dt, back }) => ({
      ...r,
      anchor,
      x: back ? (anchor > dt ? anchor - dt : 0n) : anchor + dt,
    })),
);

/* --------------------------------- comparison --------------------------------- */

type Out = bigint | readonly bigint[] | void;

/** Runs the model; if it throws, the contract must revert the same way, else return the same values. */
async function expectSame(
  label: string,
  run: () => Out,
  call: () => Promise<unknown>,
  errorsFrom: RentalModelHarness | RentalMathHarness,
) {
  let expected: Out;
  try {
    expected = run();
  } catch (e) {
    if (e instanceof SolidityPanic) {
      await expect(call(), `${label}: panic`).to.be.revertedWithPanic(e.code);
      return;
    }
    if (e instanceof ContractRevert) {
      await expect(call(), `${label}: ${e.message}`)
        .to.be.revertedWithCustomError(errorsFrom, e.errorName)
        .withArgs(...e.args);
      return;
    }
    throw e;
  }
  const actual = await call();
  const normalised = actual === undefined || typeof actual === "bigint" ? actual : [...(actual as bigint[])];
  expect(normalised, label).to.deep.equal(expected);
}

describe("RentalMath: Solidity vs offchain/src/rentalMath.ts (differential)", function () {
  let math: RentalMathHarness;
  let harness: RentalModelHarness;
  /** The block time every `split` call sees. */
  let NOW: bigint;

  before(async () => {
    const [admin] = await ethers.getSigners();
    math = await ethers.deployContract("RentalMathHarness");
    harness = await ethers.deployContract("RentalModelHarness", [admin.address]);
    // Calls run at the latest block's timestamp: `split` compares both sides at NOW.
    await network.provider.send("evm_mine", []);
    NOW = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  });

  it("unitSeconds", async () => {
    for (const plan of [Plan.PayAsYouGo, Plan.Hourly, Plan.Saving]) {
      expect(await math.unitSeconds(plan), `plan ${plan}`).to.equal(model.unitSeconds(plan));
    }
  });

  it("totalUnits", async () => {
    await fc.assert(
      fc.asyncProperty(mathArgsArb, async (a) => {
        await expectSame(
          "totalUnits",
          () => model.totalUnits(a.plan, a.unitPrice, a.deposit),
          () => math.totalUnits(a.plan, a.unitPrice, a.deposit),
          harness,
        );
      }),
      fcParams(),
    );
  });

  it("paidUntil", async () => {
    await fc.assert(
      fc.asyncProperty(mathArgsArb, async (a) => {
        await expectSame(
          "paidUntil",
          () => model.paidUntil(a.plan, a.anchor, a.unitPrice, a.deposit),
          () => math.paidUntil(a.plan, a.anchor, a.unitPrice, a.deposit),
          math,
        );
      }),
      fcParams(),
    );
  });

  it("closableAt: the term's end (Saving) or the paid time's plus the grace period", async () => {
    await fc.assert(
      fc.asyncProperty(mathArgsArb, uintArb(32n), async (a, grace) => {
        await expectSame(
          "closableAt",
          () => model.closableAt(a, grace),
          () => math.closableAt(a.plan, a.anchor, a.unitPrice, a.deposit, grace),
          math,
        );
      }),
      fcParams(),
    );
  });

  it("earnedUnits", async () => {
    await fc.assert(
      fc.asyncProperty(mathArgsArb, async (a) => {
        await expectSame(
          "earnedUnits",
          () => model.earnedUnits(a.plan, a.anchor, a.unitPrice, a.deposit, a.x),
          () => math.earnedUnits(a.plan, a.anchor, a.unitPrice, a.deposit, a.x),
          math,
        );
      }),
      fcParams(),
    );
  });

  it("takeableUnits (a saving plan's hold-back for the provider's early exit)", async () => {
    const argsArb = fc.tuple(mathArgsArb, fc.oneof(bpsArb, uintArb(16n), uintArb(256n)));
    await fc.assert(
      fc.asyncProperty(argsArb, async ([a, penaltyBps]) => {
        await expectSame(
          "takeableUnits",
          () => model.takeableUnits(a.plan, a.anchor, a.unitPrice, a.deposit, a.x, penaltyBps),
          () => math.takeableUnits(a.plan, a.anchor, a.unitPrice, a.deposit, a.x, penaltyBps),
          math,
        );
      }),
      fcParams(),
    );
  });

  it("graceUnits", async () => {
    await fc.assert(
      fc.asyncProperty(planArb, uintArb(256n), async (plan, grace) => {
        await expectSame(
          "graceUnits",
          () => model.graceUnits(plan, grace),
          () => math.graceUnits(plan, grace),
          math,
        );
      }),
      fcParams(),
    );
  });

  it("valueOf", async () => {
    const unitsArb = mathArgsArb.chain((a) => {
      let total: bigint | undefined;
      try {
        total = model.totalUnits(a.plan, a.unitPrice, a.deposit);
      } catch {
        total = undefined;
      }
      // Units up to the total (what the escrow ever asks), or anything.
      const units = total === undefined ? uintArb(256n) : fc.oneof(fc.bigInt({ min: 0n, max: total }), uintArb(256n));
      return units.map((u) => ({ ...a, units: u }));
    });
    await fc.assert(
      fc.asyncProperty(unitsArb, async (a) => {
        await expectSame(
          "valueOf",
          () => model.valueOf(a.plan, a.unitPrice, a.deposit, a.units),
          // `valueOf` is also Object.prototype's: ask the contract for its function by name.
          () => math.getFunction("valueOf")(a.plan, a.unitPrice, a.deposit, a.units),
          math,
        );
      }),
      fcParams(),
    );
  });

  it("bpsOf, at 0, 1 and 100% and beyond", async () => {
    await fc.assert(
      fc.asyncProperty(uintArb(256n), fc.oneof(bpsArb, uintArb(256n)), async (amount, bps) => {
        await expectSame(
          "bpsOf",
          () => model.bpsOf(amount, bps),
          () => math.bpsOf(amount, bps),
          math,
        );
      }),
      fcParams(),
    );
  });

  it("checkDeposit (RentalEscrow._checkDeposit)", async () => {
    // Around the switch between the 96-bit cap and the 32-bit unit cap: max / unitPrice == 2^32 - 1
    // for unitPrice in [2^64, 2^64 + 2^32 + 1].
    const pivot = UINT96_MAX / UINT32_MAX;
    const priceArb = fc.oneof(
      uintArb(256n),
      fc.constantFrom(pivot - 1n, pivot, pivot + 1n, 1n << 64n, (1n << 64n) - 1n, (1n << 64n) + 1n),
      fc.bigInt({ min: (1n << 64n) - 10n, max: pivot + 10n }),
    );
    const checkDepositArb = fc
      .oneof(
        fc.tuple(uintArb(256n), uintArb(256n)),
        priceArb.chain((unitPrice) =>
          fc.tuple(
            fc.constantFrom(
              unitPrice * UINT32_MAX - 1n,
              unitPrice * UINT32_MAX,
              unitPrice * UINT32_MAX + 1n,
              UINT96_MAX,
              UINT96_MAX + 1n,
            ),
            fc.constant(unitPrice),
          ),
        ),
      )
      .filter(([deposit]) => deposit >= 0n && deposit <= UINT256_MAX);
    await fc.assert(
      fc.asyncProperty(checkDepositArb, async ([deposit, unitPrice]) => {
        await expectSame(
          "checkDeposit",
          () => model.checkDeposit(deposit, unitPrice),
          async () => {
            await harness.checkDeposit(deposit, unitPrice);
          },
          harness,
        );
      }),
      fcParams(),
    );
  });

  it("quote (RentalEscrow._quote), every plan, price and deposit bound", async () => {
    const quoteArb = fc.record({
      plan: planArb,
      price: fc.oneof(uintArb(256n), fc.bigInt({ min: 1n, max: 10n ** 24n })),
      gpus: fc.oneof(fc.bigInt({ min: 1n, max: 255n }), uintArb(256n)),
      deposit: fc.oneof(fc.constant(0n), uintArb(256n), fc.bigInt({ min: 0n, max: 10n ** 30n })),
      termDays: fc.oneof(termArb, uintArb(16n)),
      discount: fc.oneof(bpsArb, uintArb(16n)),
      grace: fc.oneof(fc.constantFrom(300n, 3_600n, 3_601n, 7n * 86_400n), uintArb(32n)),
    });
    await fc.assert(
      fc.asyncProperty(quoteArb, async (q) => {
        const params = {
          nodeId: 0n,
          gpus: q.gpus,
          token: ethers.ZeroAddress,
          plan: q.plan,
          deposit: q.deposit,
          termDays: q.termDays,
          maxPricePerGpuHour: 0n,
          slaTier: 0n,
        };
        await expectSame(
          `quote(${JSON.stringify(q, (_k, v) => (typeof v === "bigint" ? v.toString() : v))})`,
          () => {
            const r = model.quote(q.plan, q.price, q.gpus, q.deposit, q.termDays, q.discount, q.grace);
            return [r.unitPrice, r.deposit];
          },
          () => harness.quote.staticCall(params, q.price, q.discount, q.grace),
          harness,
        );
      }),
      fcParams(),
    );
  });

  describe("regressions (threat 50)", () => {
    // Seed 35035 with KAISAR_FC_RUNS=3000, path "1104:1:2:1:...": the model computed
    // `deposit * units` before the divisor `totalUnits(...)` and panicked 0x11 where solc, which
    // evaluates the right operand first, panics 0x12 (a zero price divides by zero).
    it("valueOf(Saving, unitPrice 0, deposit x units overflowing) panics 0x12 on both sides", async () => {
      const deposit = 11579208923731619542357098500868790785326998466564056403945758400791312964n;
      await expectSame(
        "valueOf",
        () => model.valueOf(Plan.Saving, 0n, deposit, 10_000n),
        () => math.getFunction("valueOf")(Plan.Saving, 0n, deposit, 10_000n),
        math,
      );
      await expect(math.getFunction("valueOf")(Plan.Saving, 0n, deposit, 10_000n)).to.be.revertedWithPanic(0x12);
    });
  });

  it("split and pending (RentalEscrow._split, _pending), every close reason", async () => {
    const splitArb = fc.record({
      r: rentalArb,
      // The anchor around NOW: before it, at it, or far away (uint32 anchors, as stored).
      anchor: fc.oneof(
        fc.constantFrom(NOW, NOW - 1n, NOW + 1n, NOW - 3_600n, NOW - 3_601n, NOW - 86_400n, 0n, UINT32_MAX),
        fc.bigInt({ min: NOW - 100n * 86_400n, max: NOW + 86_400n }),
        uintArb(32n),
      ),
      withdrawnFrac: fc.bigInt({ min: 0n, max: 1_000n }),
      // Renter and provider closes are the ones with a penalty: ask for them more often.
      reason: fc.oneof(fc.constantFrom(1, 2), fc.integer({ min: 0, max: 6 })),
      penaltyBps: fc.oneof(bpsArb, fc.constantFrom(10_001n, 65_535n), uintArb(16n)),
    });
    await fc.assert(
      fc.asyncProperty(splitArb, async ({ r, anchor, withdrawnFrac, reason, penaltyBps }) => {
        const money = { plan: r.plan, anchor, unitPrice: r.unitPrice, deposit: r.deposit };
        // Withdrawn units never exceed the units the provider may take now (the escrow's invariant).
        const takeable = model.takeableUnits(r.plan, anchor, r.unitPrice, r.deposit, NOW, penaltyBps);
        const withdrawnUnits = (takeable * withdrawnFrac) / 1_000n;
        await expectSame(
          "split",
          () => {
            const s = model.split(money, NOW, reason as model.CloseReason, penaltyBps);
            const p = model.pending(money, withdrawnUnits, NOW, penaltyBps);
            return [s.providerAmount, s.refund, s.penalty, p.amount];
          },
          () => harness.split.staticCall(r.plan, anchor, r.unitPrice, r.deposit, withdrawnUnits, reason, penaltyBps),
          harness,
        );
      }),
      fcParams(),
    );
  });
});
