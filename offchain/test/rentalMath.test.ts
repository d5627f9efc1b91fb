import { expect } from "chai";
import fc from "fast-check";

import {
  BPS,
  CloseReason,
  ContractRevert,
  DAY,
  HOUR,
  Plan,
  SolidityPanic,
  UINT256_MAX,
  UINT32_MAX,
  UINT96_MAX,
  bpsOf,
  checkDeposit,
  closableAt,
  earnedUnits,
  paidUntil,
  minimumDeposit,
  pending,
  quote,
  split,
  totalUnits,
  unitSeconds,
  valueOf,
  type RentalMoney,
} from "../src";

/** Seeded like the walks: `KAISAR_FC_SEED` replays a failure. */
const FC_PARAMS = { seed: Number(process.env.KAISAR_FC_SEED ?? 20_251_125), numRuns: 500 };

const planArb = fc.constantFrom<Plan>(Plan.PayAsYouGo, Plan.Hourly, Plan.Saving);
const termArb = fc.constantFrom(7n, 30n, 90n);
const anchorArb = fc.bigInt({ min: 0n, max: UINT32_MAX });

/** A rental the escrow could hold: the deposit buys at least one unit and passes `_checkDeposit`. */
const rentalArb: fc.Arbitrary<RentalMoney & { termDays: bigint }> = fc
  .tuple(planArb, anchorArb, fc.bigInt({ min: 1n, max: UINT96_MAX }), fc.bigInt({ min: 0n, max: UINT96_MAX }), termArb)
  .map(([plan, anchor, unitPriceRaw, depositRaw, termDays]) => {
    if (plan === Plan.Saving) {
      // The deposit is exactly unitPrice x 24 x termDays and fits 96 bits.
      const unitPrice = 1n + (unitPriceRaw % (UINT96_MAX / (24n * termDays)));
      return { plan, anchor, unitPrice, deposit: unitPrice * 24n * termDays, termDays };
    }
    const unitPrice = unitPriceRaw;
    let max = UINT96_MAX;
    if (max / unitPrice > UINT32_MAX) max = unitPrice * UINT32_MAX;
    const deposit = unitPrice + (depositRaw % (max - unitPrice + 1n));
    return { plan, anchor, unitPrice, deposit, termDays: 0n };
  });

/** A moment around the rental: before, during and well after its paid time. */
function timesAround(r: RentalMoney) {
  const end = paidUntil(r.plan, r.anchor, r.unitPrice, r.deposit);
  return fc.bigInt({ min: r.anchor > 10n ? r.anchor - 10n : 0n, max: end + 2n * HOUR });
}

function expectPanic(fn: () => unknown, code: number) {
  try {
    fn();
  } catch (e) {
    expect(e, "a Solidity panic").to.be.instanceOf(SolidityPanic);
    expect((e as SolidityPanic).code, "panic code").to.equal(code);
    return;
  }
  expect.fail(`expected Panic(0x${code.toString(16)})`);
}

function expectRevert(fn: () => unknown, errorName: string, args: bigint[]) {
  try {
    fn();
  } catch (e) {
    expect(e, "a custom error").to.be.instanceOf(ContractRevert);
    expect((e as ContractRevert).errorName, "error name").to.equal(errorName);
    expect((e as ContractRevert).args, "error args").to.deep.equal(args);
    return;
  }
  expect.fail(`expected ${errorName}`);
}

describe("rentalMath (model of RentalMath.sol and RentalEscrow's quote/split)", () => {
  describe("unitSeconds / totalUnits / paidUntil", () => {
    it("bills PAYG and Saving by the second and Hourly by the hour", () => {
      expect(unitSeconds(Plan.PayAsYouGo)).to.equal(1n);
      expect(unitSeconds(Plan.Hourly)).to.equal(HOUR);
      expect(unitSeconds(Plan.Saving)).to.equal(1n);
    });

    it("counts whole paid units and leaves the remainder unpaid", () => {
      expect(totalUnits(Plan.PayAsYouGo, 7n, 100n), "PAYG").to.equal(14n);
      expect(totalUnits(Plan.Hourly, 2_000_000n, 5_000_000n), "Hourly").to.equal(2n);
      expect(paidUntil(Plan.Hourly, 1_000n, 2_000_000n, 5_000_000n), "Hourly paidUntil").to.equal(1_000n + 2n * HOUR);
    });

    it("makes a saving term exactly termDays x 86_400 units", () => {
      expect(totalUnits(Plan.Saving, 1_900_000n, 1_900_000n * 24n * 30n)).to.equal(30n * DAY);
      expect(paidUntil(Plan.Saving, 5n, 1n, 24n * 7n)).to.equal(5n + 7n * DAY);
    });

    it("panics where Solidity does: zero price, overflow", () => {
      expectPanic(() => totalUnits(Plan.PayAsYouGo, 0n, 1n), 0x12);
      expectPanic(() => totalUnits(Plan.Saving, 0n, 1n), 0x12);
      expectPanic(() => totalUnits(Plan.Saving, UINT256_MAX, 1n), 0x11);
      expectPanic(() => paidUntil(Plan.Hourly, 0n, 1n, UINT256_MAX), 0x11);
      expectPanic(() => paidUntil(Plan.PayAsYouGo, UINT256_MAX, 1n, 1n), 0x11);
    });
  });

  describe("earnedUnits", () => {
    it("charges a unit as soon as it starts", () => {
      expect(earnedUnits(Plan.Hourly, 100n, 1n, 5n, 100n), "at the anchor").to.equal(0n);
      expect(earnedUnits(Plan.Hourly, 100n, 1n, 5n, 101n), "one second in").to.equal(1n);
      expect(earnedUnits(Plan.Hourly, 100n, 1n, 5n, 100n + HOUR), "one hour in").to.equal(1n);
      expect(earnedUnits(Plan.Hourly, 100n, 1n, 5n, 101n + HOUR), "just past one hour").to.equal(2n);
      expect(earnedUnits(Plan.PayAsYouGo, 100n, 3n, 10n, 10_000n), "capped at paid units").to.equal(3n);
    });

    it("is 0 before the anchor", () => {
      expect(earnedUnits(Plan.Saving, 1_000n, 1n, 24n * 7n, 0n)).to.equal(0n);
    });

    it("is monotone in time and never above totalUnits", () => {
      fc.assert(
        fc.property(
          rentalArb.chain((r) => fc.tuple(fc.constant(r), timesAround(r), fc.bigInt({ min: 0n, max: 10n * DAY }))),
          ([r, t, dt]) => {
            const a = earnedUnits(r.plan, r.anchor, r.unitPrice, r.deposit, t);
            const b = earnedUnits(r.plan, r.anchor, r.unitPrice, r.deposit, t + dt);
            const total = totalUnits(r.plan, r.unitPrice, r.deposit);
            expect(a <= b, "monotone").to.be.true;
            expect(b <= total, "<= totalUnits").to.be.true;
          },
        ),
        FC_PARAMS,
      );
    });

    it("reaches totalUnits exactly at paidUntil", () => {
      fc.assert(
        fc.property(rentalArb, (r) => {
          const until = paidUntil(r.plan, r.anchor, r.unitPrice, r.deposit);
          const total = totalUnits(r.plan, r.unitPrice, r.deposit);
          expect(earnedUnits(r.plan, r.anchor, r.unitPrice, r.deposit, until)).to.equal(total);
          // One second before the end, the last unit has already started (Hourly) or not (by the second).
          const before = earnedUnits(r.plan, r.anchor, r.unitPrice, r.deposit, until - 1n);
          expect(before).to.equal(r.plan === Plan.Hourly ? total : total - 1n);
        }),
        FC_PARAMS,
      );
    });
  });

  describe("valueOf / bpsOf", () => {
    it("values units at unitPrice (PAYG, Hourly) and pro rata of the deposit (Saving)", () => {
      expect(valueOf(Plan.Hourly, 3n, 100n, 4n)).to.equal(12n);
      expect(valueOf(Plan.Saving, 1n, 24n * 7n, 7n * DAY)).to.equal(24n * 7n);
      expect(valueOf(Plan.Saving, 1n, 24n * 7n, DAY)).to.equal(24n);
      expect(valueOf(Plan.Saving, 1n, 24n * 7n, 1n), "rounds down").to.equal(0n);
    });

    it("is monotone in units, and all units of a saving plan are worth exactly the deposit", () => {
      fc.assert(
        fc.property(
          rentalArb.chain((r) => {
            const total = totalUnits(r.plan, r.unitPrice, r.deposit);
            return fc.tuple(fc.constant(r), fc.bigInt({ min: 0n, max: total }), fc.bigInt({ min: 0n, max: total }));
          }),
          ([r, u1, u2]) => {
            const [lo, hi] = u1 <= u2 ? [u1, u2] : [u2, u1];
            const total = totalUnits(r.plan, r.unitPrice, r.deposit);
            expect(valueOf(r.plan, r.unitPrice, r.deposit, lo) <= valueOf(r.plan, r.unitPrice, r.deposit, hi)).to.be
              .true;
            const all = valueOf(r.plan, r.unitPrice, r.deposit, total);
            if (r.plan === Plan.Saving) expect(all, "saving: all units == deposit").to.equal(r.deposit);
            else expect(all, "paid units").to.equal(r.deposit - (r.deposit % r.unitPrice));
          },
        ),
        FC_PARAMS,
      );
    });

    it("takes bps rounded down, at 0, 1 and 100%", () => {
      expect(bpsOf(12_345n, 0n)).to.equal(0n);
      expect(bpsOf(12_345n, 1n)).to.equal(1n);
      expect(bpsOf(9_999n, 1n)).to.equal(0n);
      expect(bpsOf(12_345n, BPS)).to.equal(12_345n);
      expectPanic(() => bpsOf(UINT256_MAX, 2n), 0x11);
    });
  });

  describe("quote", () => {
    const USD = (n: bigint) => n * 1_000_000n;
    const GRACE = 3_600n;

    it("rounds the PAYG per-second rate up so that the provider is never undercharged", () => {
      // 2 USD x 3 GPUs per hour = 1666.66.. units per second -> 1667.
      expect(quote(Plan.PayAsYouGo, USD(2n), 3n, USD(10n), 0n, 0n, GRACE)).to.deep.equal({
        unitPrice: 1_667n,
        deposit: USD(10n),
      });
      // A price below one unit per second still charges one unit per second.
      expect(quote(Plan.PayAsYouGo, 1n, 1n, GRACE, 0n, 0n, GRACE).unitPrice).to.equal(1n);
    });

    it("charges Hourly per GPU-hour", () => {
      expect(quote(Plan.Hourly, USD(2n), 4n, USD(9n), 0n, 0n, GRACE)).to.deep.equal({
        unitPrice: USD(8n),
        deposit: USD(9n),
      });
    });

    it("prepays a saving term at the discounted hourly price", () => {
      const q = quote(Plan.Saving, USD(2n), 8n, 0n, 30n, 1_500n, GRACE);
      expect(q.unitPrice, "16 USD less 15%").to.equal(13_600_000n);
      expect(q.deposit).to.equal(13_600_000n * 24n * 30n);
    });

    it("attack 5: refuses a first deposit below the grace period, or any deposit on a saving plan", () => {
      // Hourly at 10 per hour: a 1-hour grace needs 1 hour, 1 hour + 1 s needs 2.
      expectRevert(() => quote(Plan.Hourly, 5n, 2n, 9n, 0n, 0n, GRACE), "RentalEscrow_DepositBelowGrace", [9n, 10n]);
      expect(quote(Plan.Hourly, 5n, 2n, 10n, 0n, 0n, GRACE).deposit).to.equal(10n);
      expectRevert(() => quote(Plan.Hourly, 5n, 2n, 19n, 0n, 0n, GRACE + 1n), "RentalEscrow_DepositBelowGrace", [
        19n,
        20n,
      ]);
      // PAYG at 1 per second: 3,600 seconds of grace.
      expectRevert(() => quote(Plan.PayAsYouGo, HOUR, 1n, 0n, 0n, 0n, GRACE), "RentalEscrow_DepositBelowGrace", [
        0n,
        3_600n,
      ]);
      expectRevert(() => quote(Plan.PayAsYouGo, HOUR, 1n, 3_599n, 0n, 0n, GRACE), "RentalEscrow_DepositBelowGrace", [
        3_599n,
        3_600n,
      ]);
      expect(minimumDeposit(Plan.PayAsYouGo, 556n, 300n)).to.equal(166_800n);
      expect(minimumDeposit(Plan.Hourly, 2_000_000n, 300n)).to.equal(2_000_000n);
      expect(minimumDeposit(Plan.Saving, 2_000_000n, 300n)).to.equal(0n);
      expectRevert(() => quote(Plan.Saving, 5n, 2n, 1n, 7n, 0n, GRACE), "RentalEscrow_InvalidDeposit", [1n, 0n]);
    });

    it("refuses rates and deposits that do not fit the packed storage", () => {
      expectRevert(() => quote(Plan.Hourly, UINT96_MAX + 1n, 1n, 0n, 0n, 0n, GRACE), "RentalEscrow_AmountTooLarge", [
        UINT96_MAX + 1n,
        UINT96_MAX,
      ]);
      // PAYG at 1 unit per second: at most 2^32 - 1 units.
      expectRevert(
        () => quote(Plan.PayAsYouGo, 1n, 1n, UINT32_MAX + 1n, 0n, 0n, GRACE),
        "RentalEscrow_AmountTooLarge",
        [UINT32_MAX + 1n, UINT32_MAX],
      );
      expect(quote(Plan.PayAsYouGo, 1n, 1n, UINT32_MAX, 0n, 0n, GRACE).deposit).to.equal(UINT32_MAX);
      // The node's price itself is capped first; the rate (price x GPUs) after.
      expectRevert(() => quote(Plan.Hourly, UINT256_MAX, 2n, 0n, 0n, 0n, GRACE), "RentalEscrow_AmountTooLarge", [
        UINT256_MAX,
        UINT96_MAX,
      ]);
      expectRevert(() => quote(Plan.Hourly, UINT96_MAX, 2n, 0n, 0n, 0n, GRACE), "RentalEscrow_AmountTooLarge", [
        UINT96_MAX * 2n,
        UINT96_MAX,
      ]);
      // Only a GPU count `rent` would refuse first can overflow the product.
      expectPanic(() => quote(Plan.Hourly, 2n, UINT256_MAX, 0n, 0n, 0n, GRACE), 0x11);
    });

    it("checkDeposit: caps at 96 bits, and at unitPrice x (2^32 - 1) when that is lower", () => {
      expect(() => checkDeposit(UINT96_MAX, 1n << 70n)).not.to.throw();
      expectRevert(() => checkDeposit(UINT96_MAX + 1n, 1n << 70n), "RentalEscrow_AmountTooLarge", [
        UINT96_MAX + 1n,
        UINT96_MAX,
      ]);
      expect(() => checkDeposit(UINT96_MAX, 0n)).not.to.throw();
    });

    it("always yields a deposit that buys at least one unit and passes checkDeposit", () => {
      fc.assert(
        fc.property(
          planArb,
          fc.bigInt({ min: 1n, max: 10n ** 24n }),
          fc.bigInt({ min: 1n, max: 255n }),
          fc.bigInt({ min: 0n, max: 10n ** 30n }),
          termArb,
          fc.bigInt({ min: 0n, max: 5_000n }),
          fc.bigInt({ min: 300n, max: 7n * DAY }),
          (plan, price, gpus, depositRaw, termDays, discount, grace) => {
            let q;
            try {
              q = quote(plan, price, gpus, plan === Plan.Saving ? 0n : depositRaw, termDays, discount, grace);
            } catch (e) {
              expect(e).to.be.instanceOf(ContractRevert);
              return;
            }
            expect(q.unitPrice > 0n, "nonzero rate").to.be.true;
            expect(totalUnits(plan, q.unitPrice, q.deposit) >= 1n, "buys a unit").to.be.true;
            if (plan === Plan.PayAsYouGo) expect(q.unitPrice * HOUR >= price * gpus, "rounds up").to.be.true;
            if (plan === Plan.Saving) expect(totalUnits(plan, q.unitPrice, q.deposit)).to.equal(termDays * DAY);
            else expect(totalUnits(plan, q.unitPrice, q.deposit) * unitSeconds(plan) >= grace, "pays grace").to.be.true;
          },
        ),
        FC_PARAMS,
      );
    });
  });

  describe("pending / split / closableAt", () => {
    const reasonArb = fc.constantFrom<CloseReason>(
      CloseReason.Renter,
      CloseReason.Provider,
      CloseReason.Expired,
      CloseReason.InsufficientFunds,
      CloseReason.SlaBreach,
      CloseReason.ProviderSlashed,
    );

    it("conserves the deposit: providerAmount + refund == deposit", () => {
      fc.assert(
        fc.property(
          rentalArb.chain((r) => fc.tuple(fc.constant(r), timesAround(r))),
          reasonArb,
          fc.bigInt({ min: 0n, max: 5_000n }),
          ([r, now], reason, penaltyBps) => {
            const s = split(r, now, reason, penaltyBps);
            expect(s.providerAmount + s.refund, "conserved").to.equal(r.deposit);
            const byProvider = reason === CloseReason.Provider;
            expect(s.providerAmount, "earned +/- penalty").to.equal(s.earned + (byProvider ? -s.penalty : s.penalty));
            expect(s.earned <= r.deposit, "earned <= deposit").to.be.true;
            const early = r.plan === Plan.Saving && (reason === CloseReason.Renter || byProvider);
            if (!early) expect(s.penalty, "no penalty").to.equal(0n);
          },
        ),
        FC_PARAMS,
      );
    });

    it("refunds what cannot buy a whole unit once the paid time is over (threat 26)", () => {
      fc.assert(
        fc.property(rentalArb, reasonArb, (r, reason) => {
          const until = paidUntil(r.plan, r.anchor, r.unitPrice, r.deposit);
          const s = split(r, until, reason, 1_000n);
          const remainder = r.plan === Plan.Saving ? 0n : r.deposit % r.unitPrice;
          expect(s.refund, "remainder refunded").to.equal(remainder);
        }),
        FC_PARAMS,
      );
    });

    it("charges a saving renter the penalty on the unused part only", () => {
      const r: RentalMoney = { plan: Plan.Saving, anchor: 0n, unitPrice: 1_000n, deposit: 1_000n * 24n * 7n };
      const s = split(r, DAY, CloseReason.Renter, 1_000n);
      expect(s.earned).to.equal(24_000n);
      expect(s.penalty).to.equal(14_400n);
      expect(s.refund).to.equal(129_600n);
    });

    it("attack 6: a provider ending a saving plan early pays the renter the same penalty", () => {
      const r: RentalMoney = { plan: Plan.Saving, anchor: 0n, unitPrice: 1_000n, deposit: 1_000n * 24n * 7n };
      // A day in: 24,000 earned, 144,000 unused; the renter gets 144,000 + 14,400.
      const s = split(r, DAY, CloseReason.Provider, 1_000n);
      expect(s).to.deep.equal({ earned: 24_000n, providerAmount: 9_600n, refund: 158_400n, penalty: 14_400n });
      // An hour in: 1,000 earned is less than the 16,700 penalty: the provider pays all it earned.
      const early = split(r, HOUR, CloseReason.Provider, 1_000n);
      expect(early).to.deep.equal({ earned: 1_000n, providerAmount: 0n, refund: r.deposit, penalty: 1_000n });
    });

    it("attack 6: a saving plan holds back the provider's penalty until the term ends", () => {
      const r: RentalMoney = { plan: Plan.Saving, anchor: 0n, unitPrice: 1_000n, deposit: 1_000n * 24n * 7n };
      // A day in: earned 24,000, held 14,400: 9,600 takeable. The most seconds worth at most that
      // (rounded down): floor((9,601 x 604,800 - 1) / 168,000) = 34,563 s, worth 9,600.
      expect(pending(r, 0n, DAY, 1_000n)).to.deep.equal({ units: 34_563n, amount: 9_600n });
      expect(pending(r, 0n, DAY, 0n).amount, "no hold-back without a penalty").to.equal(24_000n);
      // Before earnings pass the hold-back (1/11 of the term at 10%), nothing.
      expect(pending(r, 0n, HOUR, 1_000n).amount).to.equal(0n);
      expect(pending(r, 0n, 7n * DAY, 1_000n).amount, "all at the term's end").to.equal(r.deposit);
      // PAYG and Hourly hold nothing back.
      const payg: RentalMoney = { plan: Plan.PayAsYouGo, anchor: 0n, unitPrice: 10n, deposit: 100_000n };
      expect(pending(payg, 0n, 100n, 1_000n).amount).to.equal(1_000n);
    });

    it("attack 6: the hold-back always covers the penalty the provider owes at any later close", () => {
      fc.assert(
        fc.property(
          rentalArb.chain((r) => fc.tuple(fc.constant(r), timesAround(r), timesAround(r))),
          fc.bigInt({ min: 0n, max: 5_000n }),
          ([r, t1, t2], penaltyBps) => {
            const [a, b] = t1 <= t2 ? [t1, t2] : [t2, t1];
            const taken = pending(r, 0n, a, penaltyBps);
            const s = split(r, b, CloseReason.Provider, penaltyBps);
            const withdrawn = valueOf(r.plan, r.unitPrice, r.deposit, taken.units);
            expect(s.providerAmount >= withdrawn, "what was withdrawn stays the provider's").to.be.true;
            const unused = r.deposit - s.earned;
            if (r.plan === Plan.Saving && s.earned >= bpsOf(unused, penaltyBps)) {
              expect(s.refund, "unused + penalty").to.equal(unused + bpsOf(unused, penaltyBps));
            }
          },
        ),
        FC_PARAMS,
      );
    });

    it("pending never exceeds what has been earned and drops to 0 once withdrawn", () => {
      fc.assert(
        fc.property(
          rentalArb.chain((r) => fc.tuple(fc.constant(r), timesAround(r), timesAround(r))),
          ([r, t1, t2]) => {
            const [a, b] = t1 <= t2 ? [t1, t2] : [t2, t1];
            const first = pending(r, 0n, a, 1_000n);
            const second = pending(r, first.units, b, 1_000n);
            const total = pending(r, 0n, b, 1_000n);
            expect(first.amount + second.amount, "withdrawals add up").to.equal(total.amount);
            expect(pending(r, total.units, b, 1_000n).amount, "nothing left").to.equal(0n);
          },
        ),
        FC_PARAMS,
      );
    });

    it("closableAt: term end for saving, paid time + grace otherwise", () => {
      expect(closableAt({ plan: Plan.Saving, anchor: 10n, unitPrice: 1n, deposit: 24n * 7n }, HOUR)).to.equal(
        10n + 7n * DAY,
      );
      expect(closableAt({ plan: Plan.Hourly, anchor: 10n, unitPrice: 5n, deposit: 11n }, HOUR)).to.equal(
        10n + 3n * HOUR,
      );
    });
  });
});
