/**
 * Differential test: `contracts/libraries/SlaMath.sol` against its mirror `offchain/src/sla.ts`,
 * function for function (`slaCreditBps`, `serviceWindow`, `paidInWindow`, `kaiValue`), on fast-check
 * inputs within the bounds the escrow stores (96-bit prices and amounts, 32-bit times and units,
 * bps up to 100%). `SlaMathHarness` exposes the library; schedules go in as the lists
 * `setSlaCreditSchedule` takes.
 *
 * Replay a failure with `KAISAR_FC_SEED=<seed> KAISAR_FC_PATH=<path>`.
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";

import { Plan, SolidityPanic } from "../../offchain/src/rentalMath";
import * as sla from "../../offchain/src/sla";
import type { SlaMathHarness } from "../../typechain-types";
import { fcCount, fcPath, fcSeed } from "../helpers/fcEnv";

const SEED = fcSeed("KAISAR_FC_SEED", 12_012);
const RUNS = fcCount("KAISAR_FC_RUNS", 200);
const fcParams = (): fc.Parameters<unknown> => ({
  seed: SEED,
  path: fcPath("KAISAR_FC_PATH"),
  numRuns: RUNS,
  endOnFailure: fcPath("KAISAR_FC_PATH") !== undefined,
});

const planArb = fc.constantFrom<Plan>(Plan.PayAsYouGo, Plan.Hourly, Plan.Saving);
const bits = (n: bigint) => fc.bigInt({ min: 0n, max: (1n << n) - 1n });
const bpsArb = fc.oneof(fc.constantFrom(0n, 1n, 99n, 100n, 9_999n, 10_000n), fc.bigInt({ min: 0n, max: 10_000n }));

/** A valid schedule: 1 to 8 steps, shortfalls rising strictly within (0, 100%], credits rising within (0, 100%]. */
const scheduleArb = fc
  .uniqueArray(fc.bigInt({ min: 1n, max: 10_000n }), { minLength: 1, maxLength: 8 })
  .chain((shortfalls) =>
    fc
      .array(fc.bigInt({ min: 1n, max: 10_000n }), { minLength: shortfalls.length, maxLength: shortfalls.length })
      .map((credits) => {
        const a = [...shortfalls].sort((x, y) => (x < y ? -1 : 1));
        const b = [...credits].sort((x, y) => (x < y ? -1 : 1));
        return a.map((minShortfallBps, i) => ({ minShortfallBps, creditBps: b[i] }));
      }),
  );

describe("SlaMath: Solidity vs offchain/src/sla.ts (differential)", function () {
  let math: SlaMathHarness;

  before(async () => {
    math = await ethers.deployContract("SlaMathHarness");
  });

  const lists = (s: readonly sla.CreditStep[]) => [s.map((x) => x.minShortfallBps), s.map((x) => x.creditBps)] as const;

  it("slaCreditBps, on the default schedule and on any valid one", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant(sla.DEFAULT_CREDIT_SCHEDULE), scheduleArb),
        bpsArb,
        bpsArb,
        async (schedule, target, uptime) => {
          const [shortfalls, credits] = lists(schedule);
          expect(await math.slaCreditBps(shortfalls, credits, target, uptime)).to.equal(
            sla.slaCreditBps(schedule, target, uptime),
          );
        },
      ),
      fcParams(),
    );
  });

  it("creditSchedule gives back the steps packCreditSchedule took", async () => {
    await fc.assert(
      fc.asyncProperty(scheduleArb, async (schedule) => {
        const [shortfalls, credits] = lists(schedule);
        const [s, c] = await math.creditSchedule(shortfalls, credits);
        expect([[...s], [...c]]).to.deep.equal([shortfalls, credits]);
      }),
      fcParams(),
    );
  });

  it("packCreditSchedule refuses a step that does not rise with RentalEscrow_InvalidCreditSchedule(index)", async () => {
    const escrowErrors = await ethers.getContractAt("RentalEscrow", await math.getAddress());
    await expect(math.slaCreditBps([1n, 1n], [1_000n, 2_000n], 9_000n, 8_000n))
      .to.be.revertedWithCustomError(escrowErrors, "RentalEscrow_InvalidCreditSchedule")
      .withArgs(1);
  });

  it("serviceWindow, open (earned so far) and closed (all units paid)", async () => {
    await fc.assert(
      fc.asyncProperty(
        planArb,
        bits(32n),
        fc.bigInt({ min: 1n, max: (1n << 96n) - 1n }),
        bits(96n),
        bits(32n),
        fc.boolean(),
        bits(33n),
        async (plan, anchor, unitPrice, amount, withdrawnUnits, closed, now) => {
          const r = { plan, anchor, unitPrice, amount, withdrawnUnits, closed, earlyExitPenaltyBps: 0n };
          let expected: { start: bigint; end: bigint };
          try {
            expected = sla.serviceWindow(r, now);
          } catch (e) {
            if (!(e instanceof SolidityPanic)) throw e;
            await expect(
              math.serviceWindow(plan, anchor, unitPrice, amount, withdrawnUnits, closed, now),
            ).to.be.revertedWithPanic(e.code);
            return;
          }
          const [start, end] = await math.serviceWindow(plan, anchor, unitPrice, amount, withdrawnUnits, closed, now);
          expect({ start, end }).to.deep.equal(expected);
        },
      ),
      fcParams(),
    );
  });

  it("paidInWindow, windows before, across and after the epoch", async () => {
    await fc.assert(
      fc.asyncProperty(
        planArb,
        bits(96n),
        bits(33n),
        bits(33n),
        bits(33n),
        bits(33n),
        async (plan, price, a, b, c, d) => {
          const [start, end] = a < b ? [a, b] : [b, a];
          const [from, to] = c < d ? [c, d] : [d, c];
          expect(await math.paidInWindow(plan, price, start, end, from, to)).to.equal(
            sla.paidInWindow(plan, price, { start, end }, from, to),
          );
        },
      ),
      fcParams(),
    );
  });

  it("kaiValue, rounded down per 1e18 token units", async () => {
    await fc.assert(
      fc.asyncProperty(bits(96n), fc.bigInt({ min: 0n, max: 10n ** 40n }), async (amount, rate) => {
        expect(await math.kaiValue(amount, rate)).to.equal(sla.kaiValue(amount, rate));
      }),
      fcParams(),
    );
  });
});
