/**
 * `RentalEscrow.creditSla`: an SLA credit for one rental and one epoch, paid from the provider's
 * unwithdrawn earnings on that rental (the rest is returned for the caller to take from stake).
 *
 * The canonical rentals of test/helpers/escrow.ts (1 GPU at USD 2 an hour), on SLA tier 1 (99.9%):
 *   pay-as-you-go  556 per second, USD 20 (35_971 seconds)
 *   hourly         2_000_000 per hour, USD 11 (5 hours)
 *   saving         7 days at 1_900_000 per hour: 319_200_000 prepaid, 604_800 one-second units,
 *                  a unit worth 319_200_000 / 604_800 = 527.7 (valueOf rounds down)
 * Default schedule: shortfall >= 1 bps -> 10%, >= 100 -> 25%, >= 500 -> 50%, >= 1_000 -> 100%; so
 * against 9_990 the uptimes 9_989, 9_890, 9_490 and 8_990 sit exactly on the four steps.
 *
 * Expected amounts are literals worked out beside them; the differential block at the end checks
 * random cases against `offchain/src/sla.ts`.
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { Plan, CloseReason, RentalStatus, HOUR, DAY, USD } from "../../fixtures";
import {
  escrowFixture,
  rent,
  listToken,
  at,
  ORACLE_ROLE,
  PAYG_DEPOSIT,
  PAYG_UNITS,
  HOURLY_DEPOSIT,
  SAVING_DEPOSIT,
  SAVING_TERM,
} from "../../helpers/escrow";
import {
  DEFAULT_CREDIT_SCHEDULE,
  slaCredit,
  slaCreditBps,
  serviceWindow as modelServiceWindow,
  type CreditStep,
} from "../../../offchain/src/sla";
import { slaRentalOf } from "../../helpers/sla";

/** Uptimes exactly on each default step against tier 1's 9_990 target. */
const UP10 = 9_989; // shortfall 1
const UP25 = 9_890; // shortfall 100
const UP50 = 9_490; // shortfall 500
const UP100 = 8_990; // shortfall 1_000
const TARGET = 9_990;

/* ------------------------------------------------------------------ */
/*                               FIXTURES                             */
/* ------------------------------------------------------------------ */

/** Pay-as-you-go, USD 20, tier 1. */
async function paygFixture() {
  const c = await escrowFixture();
  const opened = await rent(c, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT, slaTier: 1 });
  return { ...c, ...opened, paidUntil: opened.anchor + PAYG_UNITS };
}
type Fx = Awaited<ReturnType<typeof paygFixture>>;

/** Hourly, USD 11 (5 hours), tier 1. */
async function hourlyFixture(): Promise<Fx> {
  const c = await escrowFixture();
  const opened = await rent(c, { plan: Plan.Hourly, deposit: HOURLY_DEPOSIT, slaTier: 1 });
  return { ...c, ...opened, paidUntil: opened.anchor + 5 * HOUR };
}

/** Saving, 7 days, tier 1. */
async function savingFixture(): Promise<Fx> {
  const c = await escrowFixture();
  const opened = await rent(c, { plan: Plan.Saving, deposit: 0n, termDays: 7, slaTier: 1 });
  return { ...c, ...opened, paidUntil: opened.anchor + SAVING_TERM };
}

/**
 * Saving, 7 days, tier 1, under terms with no early-exit penalty: nothing is held back from the
 * provider (see `RentalMath.takeableUnits`), so it can withdraw from the first second.
 */
async function savingNoHoldBackFixture(): Promise<Fx> {
  const c = await escrowFixture();
  await c.escrow.connect(c.admin).setEarlyExitPenaltyBps(0);
  const opened = await rent(c, { plan: Plan.Saving, deposit: 0n, termDays: 7, slaTier: 1 });
  return { ...c, ...opened, paidUntil: opened.anchor + SAVING_TERM };
}

/** Pay-as-you-go on tier 2 (99.5%). */
async function paygTier2Fixture(): Promise<Fx> {
  const c = await escrowFixture();
  const opened = await rent(c, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT, slaTier: 2 });
  return { ...c, ...opened, paidUntil: opened.anchor + PAYG_UNITS };
}

/** Pay-as-you-go on tier 0 (best effort, no SLA). */
async function bestEffortFixture(): Promise<Fx> {
  const c = await escrowFixture();
  const opened = await rent(c, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT, slaTier: 0 });
  return { ...c, ...opened, paidUntil: opened.anchor + PAYG_UNITS };
}

const withdrawAt = (c: Fx, offset: number) =>
  at(c.anchor + offset, () => c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId]));
const endAt = (c: Fx, offset: number) => at(c.anchor + offset, () => c.escrow.connect(c.renter).endRental(c.rentalId));

/** PAYG: the provider withdrew 100 seconds (55_600 gross) at +100. */
async function paygWithdrawnFixture() {
  const c = await paygFixture();
  await withdrawAt(c, 100);
  return c;
}

/** PAYG run out (in grace, not flagged); the provider withdrew all 35_971 units 10 s after. */
async function paygDrainedOpenFixture() {
  const c = await paygFixture();
  await withdrawAt(c, PAYG_UNITS + 10);
  return c;
}

/** PAYG ended by the renter at +100: 55_600 left to the provider, 100 units served. */
async function paygClosedFixture() {
  const c = await paygFixture();
  await endAt(c, 100);
  return c;
}

/** PAYG: the provider withdrew 50 s (27_800) at +50, the renter ended at +100: 27_800 left. */
async function paygClosedPartlyWithdrawnFixture() {
  const c = await paygFixture();
  await withdrawAt(c, 50);
  await endAt(c, 100);
  return c;
}

/** PAYG ended at +100 and drained by the provider at +150: nothing left. */
async function paygClosedDrainedFixture() {
  const c = await paygFixture();
  await endAt(c, 100);
  await withdrawAt(c, 150);
  return c;
}

/** Hourly: the provider withdrew the first hour (2_000_000) at +1. */
async function hourlyWithdrawnFixture() {
  const c = await hourlyFixture();
  await withdrawAt(c, 1);
  return c;
}

/** Hourly ended by the renter 1.5 hours in: 2 hours (4_000_000) to the provider. */
async function hourlyClosedFixture() {
  const c = await hourlyFixture();
  await endAt(c, 5_400);
  return c;
}

/** Saving without hold-back: the provider withdrew 12 hours (43_200 units, 22_800_000) at +12h. */
async function savingWithdrawnFixture() {
  const c = await savingNoHoldBackFixture();
  await withdrawAt(c, 12 * HOUR);
  return c;
}

/** Saving closed by the keeper at the end of its term: all 319_200_000 to the provider. */
async function savingExpiredFixture() {
  const c = await savingFixture();
  await at(c.anchor + SAVING_TERM, () => c.escrow.connect(c.keeper).closeRental(c.rentalId));
  return c;
}

/** Saving ended by the renter a day in: 45_600_000 earned + 27_360_000 penalty = 72_960_000. */
async function savingRenterEndedFixture() {
  const c = await savingFixture();
  await endAt(c, DAY);
  return c;
}

/** Saving: provider withdrew 12 hours, then slashed a day in (refunded in full, 43_200 units served). */
async function savingSlashedFixture() {
  const c = await savingWithdrawnFixture();
  await at(c.anchor + DAY, () =>
    c.escrow.connect(c.oracle).closeForProviderFault(c.rentalId, CloseReason.ProviderSlashed),
  );
  return c;
}

/** Pay-as-you-go, tier 1, paid in a token with a blocklist. */
async function blocklistFixture() {
  const c = await escrowFixture();
  const token = await ethers.deployContract("MockBlocklistToken");
  const tokenAddress = await listToken(c, await token.getAddress());
  const opened = await rent(c, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT, token: tokenAddress, slaTier: 1 });
  return { ...c, token, tokenAddress, ...opened, paidUntil: opened.anchor + PAYG_UNITS };
}

/** The blocklist rental with the renter blocked. */
async function blockedRenterFixture() {
  const c = await blocklistFixture();
  await c.token.setBlocked(c.renter.address, true);
  return c;
}

/** Sends `creditSla` from the oracle at `anchor + offset`, for the epoch [anchor + from, anchor + to). */
const credit = (c: Fx, offset: number, uptime: number, from: number, to: number) =>
  at(c.anchor + offset, () =>
    c.escrow.connect(c.oracle).creditSla(c.rentalId, c.nodeId, uptime, c.anchor + from, c.anchor + to),
  );

/* ------------------------------------------------------------------ */
/*                            WORKED EXAMPLES                          */
/* ------------------------------------------------------------------ */

interface Case {
  name: string;
  fixture: () => Promise<Fx>;
  /** Seconds after the anchor the credit is sent at. */
  at: number;
  uptime: number;
  /** The epoch, seconds relative to the anchor. */
  from: number;
  to: number;
  creditBps: number;
  credit: bigint;
  fromEarnings: bigint;
  /** The rental after the credit. */
  amount: bigint;
  withdrawnUnits: bigint;
  status: number;
  withdrawable: bigint;
}

const A = RentalStatus.Active;
const C = RentalStatus.Closed;

const cases: Case[] = [
  /* ------------------------- pay-as-you-go, open ------------------------- */
  {
    // Window [0, 100): the first minute, 60 x 556 = 33_360 paid; 50% = 16_680 = exactly 30 units.
    name: "pay-as-you-go 100 s in, the first minute at 50%",
    fixture: paygFixture,
    at: 100,
    uptime: UP50,
    from: 0,
    to: 60,
    creditBps: 5_000,
    credit: 16_680n,
    fromEarnings: 16_680n,
    amount: PAYG_DEPOSIT,
    withdrawnUnits: 30n,
    status: A,
    withdrawable: 38_920n, // (100 - 30) x 556
  },
  {
    // Epoch [-30, 30) overlaps the window start by 30 s: 16_680 paid, 25% = 4_170; 7 whole units
    // (3_892) fit in it, the other 278 is for the stake.
    name: "pay-as-you-go, an epoch straddling the window start at 25%",
    fixture: paygFixture,
    at: 100,
    uptime: UP25,
    from: -30,
    to: 30,
    creditBps: 2_500,
    credit: 4_170n,
    fromEarnings: 3_892n,
    amount: PAYG_DEPOSIT,
    withdrawnUnits: 7n,
    status: A,
    withdrawable: 51_708n, // 93 x 556
  },
  {
    // Epoch [80, 140) against the window [0, 100): 20 s, 11_120 paid, 10% = 1_112 = 2 units.
    name: "pay-as-you-go, an epoch straddling the window end at 10%",
    fixture: paygFixture,
    at: 100,
    uptime: UP10,
    from: 80,
    to: 140,
    creditBps: 1_000,
    credit: 1_112n,
    fromEarnings: 1_112n,
    amount: PAYG_DEPOSIT,
    withdrawnUnits: 2n,
    status: A,
    withdrawable: 54_488n, // 98 x 556
  },
  {
    // One second of overlap: 556 paid, 10% = 55, less than a unit: nothing from earnings.
    name: "pay-as-you-go, one second of overlap at 10% (55, under a unit)",
    fixture: paygFixture,
    at: 100,
    uptime: UP10,
    from: -59,
    to: 1,
    creditBps: 1_000,
    credit: 55n,
    fromEarnings: 0n,
    amount: PAYG_DEPOSIT,
    withdrawnUnits: 0n,
    status: A,
    withdrawable: 55_600n,
  },
  {
    // Withdrawn 100 units at +100; at +110 only 10 units (5_560) are left of the 16_680.
    name: "pay-as-you-go after the provider withdrew 100 s: partly from earnings",
    fixture: paygWithdrawnFixture,
    at: 110,
    uptime: UP50,
    from: 0,
    to: 60,
    creditBps: 5_000,
    credit: 16_680n,
    fromEarnings: 5_560n,
    amount: PAYG_DEPOSIT,
    withdrawnUnits: 110n,
    status: A,
    withdrawable: 0n,
  },
  {
    // Run out and fully withdrawn: earned units = withdrawn units, nothing to take.
    name: "pay-as-you-go run out and fully withdrawn: nothing from earnings",
    fixture: paygDrainedOpenFixture,
    at: PAYG_UNITS + 20,
    uptime: UP50,
    from: 0,
    to: 60,
    creditBps: 5_000,
    credit: 16_680n,
    fromEarnings: 0n,
    amount: PAYG_DEPOSIT,
    withdrawnUnits: BigInt(PAYG_UNITS),
    status: A,
    withdrawable: 0n,
  },
  {
    // In grace the window ends at the paid 35_971 s: [35_961, 36_021) overlaps it by 10 s:
    // 5_560 paid, 100% credited, from the stake (all withdrawn).
    name: "pay-as-you-go run out: the window stops at the paid time",
    fixture: paygDrainedOpenFixture,
    at: PAYG_UNITS + 20,
    uptime: UP100,
    from: PAYG_UNITS - 10,
    to: PAYG_UNITS + 50,
    creditBps: 10_000,
    credit: 5_560n,
    fromEarnings: 0n,
    amount: PAYG_DEPOSIT,
    withdrawnUnits: BigInt(PAYG_UNITS),
    status: A,
    withdrawable: 0n,
  },
  /* ------------------------ pay-as-you-go, closed ------------------------ */
  {
    // Closed at +100 (55_600 left, window [0, 100)); a day later [93, 100) at 25%: 3_892 paid,
    // 973 credited, taken exactly from `amount` (no rounding to units once closed).
    name: "pay-as-you-go closed 100 s in, credited a day later at 25%",
    fixture: paygClosedFixture,
    at: DAY,
    uptime: UP25,
    from: 93,
    to: 100,
    creditBps: 2_500,
    credit: 973n,
    fromEarnings: 973n,
    amount: 54_627n,
    withdrawnUnits: 100n,
    status: C,
    withdrawable: 54_627n,
  },
  {
    // 27_800 left; 100% of the whole 100 s (55_600): 27_800 from earnings, 27_800 for the stake.
    name: "pay-as-you-go closed with 27_800 left, 100% of 55_600",
    fixture: paygClosedPartlyWithdrawnFixture,
    at: DAY,
    uptime: UP100,
    from: 0,
    to: 100,
    creditBps: 10_000,
    credit: 55_600n,
    fromEarnings: 27_800n,
    amount: 0n,
    withdrawnUnits: 100n,
    status: C,
    withdrawable: 0n,
  },
  {
    name: "pay-as-you-go closed and drained: nothing from earnings",
    fixture: paygClosedDrainedFixture,
    at: DAY,
    uptime: UP50,
    from: 0,
    to: 60,
    creditBps: 5_000,
    credit: 16_680n,
    fromEarnings: 0n,
    amount: 0n,
    withdrawnUnits: 100n,
    status: C,
    withdrawable: 0n,
  },
  /* ----------------------------- hourly, open ----------------------------- */
  {
    // 1.5 h in: 2 hours started, window [0, 7_200). The second hour at 100%: one whole unit.
    name: "hourly 1.5 hours in, the second hour at 100%",
    fixture: hourlyFixture,
    at: 5_400,
    uptime: UP100,
    from: HOUR,
    to: 2 * HOUR,
    creditBps: 10_000,
    credit: 2_000_000n,
    fromEarnings: 2_000_000n,
    amount: HOURLY_DEPOSIT,
    withdrawnUnits: 1n,
    status: A,
    withdrawable: 2_000_000n,
  },
  {
    // A minute is 2_000_000 x 60 / 3_600 = 33_333 paid; 50% = 16_666, under an hour's price.
    name: "hourly, one minute at 50% (16_666, under a unit)",
    fixture: hourlyFixture,
    at: 5_400,
    uptime: UP50,
    from: 0,
    to: 60,
    creditBps: 5_000,
    credit: 16_666n,
    fromEarnings: 0n,
    amount: HOURLY_DEPOSIT,
    withdrawnUnits: 0n,
    status: A,
    withdrawable: 4_000_000n,
  },
  {
    // 1.5 hours at 100% = 3_000_000: one hour (2_000_000) from earnings, 1_000_000 for the stake.
    name: "hourly, an hour and a half at 100%: one unit from earnings",
    fixture: hourlyFixture,
    at: 5_400,
    uptime: UP100,
    from: 0,
    to: 5_400,
    creditBps: 10_000,
    credit: 3_000_000n,
    fromEarnings: 2_000_000n,
    amount: HOURLY_DEPOSIT,
    withdrawnUnits: 1n,
    status: A,
    withdrawable: 2_000_000n,
  },
  {
    // [7_000, 7_300) against [0, 7_200): 200 s of the started hour, 111_111 paid, 10% = 11_111.
    name: "hourly, an epoch straddling the end of the started hour",
    fixture: hourlyFixture,
    at: 5_400,
    uptime: UP10,
    from: 7_000,
    to: 7_300,
    creditBps: 1_000,
    credit: 11_111n,
    fromEarnings: 0n,
    amount: HOURLY_DEPOSIT,
    withdrawnUnits: 0n,
    status: A,
    withdrawable: 4_000_000n,
  },
  {
    // [-1_800, 1_800) against [0, 3_600) (one hour started at +100): 1_800 s, 1_000_000 at 100%.
    name: "hourly, an epoch straddling the window start",
    fixture: hourlyFixture,
    at: 100,
    uptime: UP100,
    from: -1_800,
    to: 1_800,
    creditBps: 10_000,
    credit: 1_000_000n,
    fromEarnings: 0n,
    amount: HOURLY_DEPOSIT,
    withdrawnUnits: 0n,
    status: A,
    withdrawable: 2_000_000n,
  },
  {
    // The first hour withdrawn at +1; at +100 no new unit has started: nothing to take.
    name: "hourly after the provider withdrew the only started hour: nothing from earnings",
    fixture: hourlyWithdrawnFixture,
    at: 100,
    uptime: UP100,
    from: 0,
    to: HOUR,
    creditBps: 10_000,
    credit: 2_000_000n,
    fromEarnings: 0n,
    amount: HOURLY_DEPOSIT,
    withdrawnUnits: 1n,
    status: A,
    withdrawable: 0n,
  },
  {
    // At +3_700 two hours started, one withdrawn: of the 4_000_000 credit one unit is left.
    name: "hourly after the provider withdrew one of two hours: partly from earnings",
    fixture: hourlyWithdrawnFixture,
    at: 3_700,
    uptime: UP100,
    from: 0,
    to: 2 * HOUR,
    creditBps: 10_000,
    credit: 4_000_000n,
    fromEarnings: 2_000_000n,
    amount: HOURLY_DEPOSIT,
    withdrawnUnits: 2n,
    status: A,
    withdrawable: 0n,
  },
  /* ---------------------------- hourly, closed ---------------------------- */
  {
    // Closed 1.5 h in: 4_000_000 left, window [0, 7_200). 200 s at 10% = 11_111, exact.
    name: "hourly closed 1.5 hours in, credited a day later",
    fixture: hourlyClosedFixture,
    at: DAY,
    uptime: UP10,
    from: 7_000,
    to: 7_300,
    creditBps: 1_000,
    credit: 11_111n,
    fromEarnings: 11_111n,
    amount: 3_988_889n,
    withdrawnUnits: 2n,
    status: C,
    withdrawable: 3_988_889n,
  },
  /* ----------------------------- saving, open ----------------------------- */
  {
    // A day in (86_400 units, 45_600_000). The first hour at 100%: 1_900_000 = 3_600 units.
    // Withdrawable: 45_600_000 - 1_900_000 less the hold-back, 10% of the unused 273_600_000.
    name: "saving a day in, the first hour at 100%",
    fixture: savingFixture,
    at: DAY,
    uptime: UP100,
    from: 0,
    to: HOUR,
    creditBps: 10_000,
    credit: 1_900_000n,
    fromEarnings: 1_900_000n,
    amount: SAVING_DEPOSIT,
    withdrawnUnits: 3_600n,
    status: A,
    withdrawable: 43_700_000n - 27_360_000n,
  },
  {
    // A minute: 31_666 paid, 50% = 15_833; 30 units are worth 15_833.3 -> 15_833.
    name: "saving, one minute at 50%",
    fixture: savingFixture,
    at: DAY,
    uptime: UP50,
    from: 0,
    to: 60,
    creditBps: 5_000,
    credit: 15_833n,
    fromEarnings: 15_833n,
    amount: SAVING_DEPOSIT,
    withdrawnUnits: 30n,
    status: A,
    withdrawable: 45_584_167n - 27_360_000n,
  },
  {
    // 7 s: 3_694 paid, 25% = 923; one unit (527) fits, two (1_055) do not.
    name: "saving, seven seconds at 25%: one unit from earnings",
    fixture: savingFixture,
    at: DAY,
    uptime: UP25,
    from: 0,
    to: 7,
    creditBps: 2_500,
    credit: 923n,
    fromEarnings: 527n,
    amount: SAVING_DEPOSIT,
    withdrawnUnits: 1n,
    status: A,
    withdrawable: 45_599_473n - 27_360_000n,
  },
  {
    // 43_200 units withdrawn (22_800_000); at +43_210 ten units are left:
    // valueOf(43_210) = 22_805_277, so 5_277 of the 1_900_000.
    name: "saving after the provider withdrew 12 hours: partly from earnings",
    fixture: savingWithdrawnFixture,
    at: 12 * HOUR + 10,
    uptime: UP100,
    from: 0,
    to: HOUR,
    creditBps: 10_000,
    credit: 1_900_000n,
    fromEarnings: 5_277n,
    amount: SAVING_DEPOSIT,
    withdrawnUnits: 43_210n,
    status: A,
    withdrawable: 0n,
  },
  /* ---------------------------- saving, closed ---------------------------- */
  {
    // Expired: 319_200_000 left, window the whole term. [term - 1h, term + 1h) overlaps by 1 hour.
    name: "saving expired, the last hour at 100%",
    fixture: savingExpiredFixture,
    at: SAVING_TERM + HOUR,
    uptime: UP100,
    from: SAVING_TERM - HOUR,
    to: SAVING_TERM + HOUR,
    creditBps: 10_000,
    credit: 1_900_000n,
    fromEarnings: 1_900_000n,
    amount: 317_300_000n,
    withdrawnUnits: BigInt(SAVING_TERM),
    status: C,
    withdrawable: 317_300_000n,
  },
  {
    // Ended by the renter a day in: 72_960_000 left (penalty included), window [0, DAY).
    // [DAY - 60, DAY + 60) overlaps by a minute: 31_666 paid, 50% = 15_833.
    name: "saving ended by the renter a day in, the last minute at 50%",
    fixture: savingRenterEndedFixture,
    at: 2 * DAY,
    uptime: UP50,
    from: DAY - 60,
    to: DAY + 60,
    creditBps: 5_000,
    credit: 15_833n,
    fromEarnings: 15_833n,
    amount: 72_944_167n,
    withdrawnUnits: 86_400n,
    status: C,
    withdrawable: 72_944_167n,
  },
  {
    // Slashed after 12 hours withdrawn: refunded in full, window [0, 43_200), nothing left.
    name: "saving slashed after a withdrawal: credit from stake only",
    fixture: savingSlashedFixture,
    at: 2 * DAY,
    uptime: UP100,
    from: 0,
    to: HOUR,
    creditBps: 10_000,
    credit: 1_900_000n,
    fromEarnings: 0n,
    amount: 0n,
    withdrawnUnits: 43_200n,
    status: C,
    withdrawable: 0n,
  },
];

describe("RentalEscrow.creditSla", () => {
  for (const k of cases) {
    describe(`given ${k.name}`, () => {
      it(`emits CreditSla(id, renter, token, ${k.creditBps}, ${k.credit}, ${k.fromEarnings})`, async () => {
        const c = await loadFixture(k.fixture);
        await expect(credit(c, k.at, k.uptime, k.from, k.to))
          .to.emit(c.escrow, "CreditSla")
          .withArgs(c.rentalId, c.renter.address, c.usdAddress, k.creditBps, k.credit, k.fromEarnings);
      });

      it(`pays ${k.fromEarnings} from the escrow to the renter`, async () => {
        const c = await loadFixture(k.fixture);
        await expect(credit(c, k.at, k.uptime, k.from, k.to)).to.changeTokenBalances(
          c.usd,
          [c.renter, c.escrow, c.provider, c.oracle, c.treasury],
          [k.fromEarnings, -k.fromEarnings, 0, 0, 0],
        );
      });

      it(`leaves amount ${k.amount}, withdrawnUnits ${k.withdrawnUnits}, the status and the anchor`, async () => {
        const c = await loadFixture(k.fixture);
        await credit(c, k.at, k.uptime, k.from, k.to);
        const r = await c.escrow.getRental(c.rentalId);
        expect([r.amount, r.withdrawnUnits, r.status, r.anchor, r.renter]).to.deep.equal([
          k.amount,
          k.withdrawnUnits,
          BigInt(k.status),
          BigInt(c.anchor),
          c.renter.address,
        ]);
      });

      it(`leaves ${k.withdrawable} withdrawable`, async () => {
        const c = await loadFixture(k.fixture);
        await credit(c, k.at, k.uptime, k.from, k.to);
        expect(await c.escrow.withdrawable(c.rentalId)).to.equal(k.withdrawable);
      });

      it("agrees with offchain/src/sla.ts slaCredit", async () => {
        const c = await loadFixture(k.fixture);
        const before = await slaRentalOf(c, c.rentalId);
        const expected = slaCredit(
          before,
          DEFAULT_CREDIT_SCHEDULE,
          BigInt(TARGET),
          BigInt(k.uptime),
          BigInt(c.anchor + k.from),
          BigInt(c.anchor + k.to),
          BigInt(c.anchor + k.at),
        );
        expect(expected && [expected.creditBps, expected.credit, expected.fromEarnings]).to.deep.equal([
          BigInt(k.creditBps),
          k.credit,
          k.fromEarnings,
        ]);
      });
    });
  }

  describe("given a closed rental (its window is fixed)", () => {
    it("returns (renter, token, credit, fromEarnings, plan)", async () => {
      const c = await loadFixture(paygClosedPartlyWithdrawnFixture);
      const result = await c.escrow
        .connect(c.oracle)
        .creditSla.staticCall(c.rentalId, c.nodeId, UP100, c.anchor, c.anchor + 100);
      expect([...result]).to.deep.equal([c.renter.address, c.usdAddress, 55_600n, 27_800n, BigInt(Plan.PayAsYouGo)]);
    });
  });

  describe("returns the rental's plan (the enforcer counts saving plans' credits from earnings)", () => {
    const plans = [
      ["pay-as-you-go", paygFixture, Plan.PayAsYouGo],
      ["hourly", hourlyFixture, Plan.Hourly],
      ["saving", savingFixture, Plan.Saving],
    ] as const;
    for (const [name, fixture, plan] of plans) {
      it(`${name} rental: ${plan}`, async () => {
        const c = await loadFixture(fixture);
        await time.increaseTo(c.anchor + 200);
        const result = await c.escrow
          .connect(c.oracle)
          .creditSla.staticCall(c.rentalId, c.nodeId, UP100, c.anchor, c.anchor + 100);
        expect(result.plan).to.equal(plan);
      });
    }
  });

  describe("given two credits on one open pay-as-you-go rental", () => {
    it("the second takes the next units: 30 then 40 (22_240)", async () => {
      const c = await loadFixture(paygFixture);
      await credit(c, 100, UP50, 0, 60); // 16_680 = 30 units
      // [60, 100) at 100%: 40 s, 22_240 = 40 units; 70 of the 110 earned.
      await expect(credit(c, 110, UP100, 60, 100))
        .to.emit(c.escrow, "CreditSla")
        .withArgs(c.rentalId, c.renter.address, c.usdAddress, 10_000, 22_240, 22_240);
      expect((await c.escrow.getRental(c.rentalId)).withdrawnUnits).to.equal(70);
    });

    it("the provider then withdraws only the units not credited: 40 x 556 = 22_240 at +110", async () => {
      const c = await loadFixture(paygFixture);
      await credit(c, 100, UP50, 0, 60);
      await credit(c, 105, UP100, 60, 100);
      await expect(withdrawAt(c, 110))
        .to.emit(c.escrow, "WithdrawEarnings")
        .withArgs(c.provider.address, c.usdAddress, 1, 22_240, 2_224);
    });
  });

  describe("given an open-ended epoch [anchor + 40, 2^256 - 1)", () => {
    it("credits up to the window end: 60 s at 50% = 16_680", async () => {
      const c = await loadFixture(paygFixture);
      await expect(
        at(c.anchor + 100, () =>
          c.escrow.connect(c.oracle).creditSla(c.rentalId, c.nodeId, UP50, c.anchor + 40, ethers.MaxUint256),
        ),
      )
        .to.emit(c.escrow, "CreditSla")
        .withArgs(c.rentalId, c.renter.address, c.usdAddress, 5_000, 16_680, 16_680);
    });
  });

  describe("the credit schedule's steps (tier 1, 99.9%; the first minute of a PAYG rental: 33_360 paid)", () => {
    for (const [uptime, bps, amount] of [
      [9_989, 1_000, 3_336n], // shortfall 1: the first step
      [9_891, 1_000, 3_336n], // 99: still the first
      [9_890, 2_500, 8_340n], // 100: exactly the second
      [9_491, 2_500, 8_340n], // 499
      [9_490, 5_000, 16_680n], // 500: exactly the third
      [8_991, 5_000, 16_680n], // 999
      [8_990, 10_000, 33_360n], // 1_000: exactly the last
      [0, 10_000, 33_360n], // everything down
    ] as const) {
      it(`uptime ${uptime} (shortfall ${TARGET - uptime}) credits ${bps} bps = ${amount}`, async () => {
        const c = await loadFixture(paygFixture);
        await expect(credit(c, 100, uptime, 0, 60))
          .to.emit(c.escrow, "CreditSla")
          .withArgs(c.rentalId, c.renter.address, c.usdAddress, bps, amount, amount);
      });
    }

    for (const [uptime, bps] of [
      [9_949, 1_000],
      [9_850, 2_500],
      [9_450, 5_000],
      [8_950, 10_000],
    ] as const) {
      it(`tier 2 (99.5%): uptime ${uptime} (shortfall ${9_950 - uptime}) credits ${bps} bps`, async () => {
        const c = await loadFixture(paygTier2Fixture);
        // 33_360 x bps is a whole number of 556 units for every step: all from earnings.
        const amount = (33_360n * BigInt(bps)) / 10_000n;
        await expect(credit(c, 100, uptime, 0, 60))
          .to.emit(c.escrow, "CreditSla")
          .withArgs(c.rentalId, c.renter.address, c.usdAddress, bps, amount, amount);
      });
    }

    it("a schedule set since applies: one step, shortfall >= 1 -> 100%", async () => {
      const c = await loadFixture(paygFixture);
      await c.escrow.connect(c.admin).setSlaCreditSchedule([1], [10_000]);
      await expect(credit(c, 100, UP10, 0, 60))
        .to.emit(c.escrow, "CreditSla")
        .withArgs(c.rentalId, c.renter.address, c.usdAddress, 10_000, 33_360, 33_360);
    });

    it("a schedule set since applies: a shortfall below its first step is no breach", async () => {
      const c = await loadFixture(paygFixture);
      await c.escrow.connect(c.admin).setSlaCreditSchedule([200], [3_000]);
      await expect(credit(c, 100, 9_791, 0, 60))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NoSlaBreach")
        .withArgs(c.rentalId, 9_791, TARGET);
    });
  });

  describe("given the renter cannot receive the token (blocklisted)", () => {
    it("emits CreditSla then CreditRefund(id, renter, token, 16_680)", async () => {
      const c = await loadFixture(blockedRenterFixture);
      await expect(credit(c, 100, UP50, 0, 60))
        .to.emit(c.escrow, "CreditSla")
        .withArgs(c.rentalId, c.renter.address, c.tokenAddress, 5_000, 16_680, 16_680)
        .and.to.emit(c.escrow, "CreditRefund")
        .withArgs(c.rentalId, c.renter.address, c.tokenAddress, 16_680);
    });

    it("keeps the tokens in the escrow and credits 16_680 to refundCredit", async () => {
      const c = await loadFixture(blockedRenterFixture);
      await expect(credit(c, 100, UP50, 0, 60)).to.changeTokenBalances(c.token, [c.renter, c.escrow], [0, 0]);
      expect(await c.escrow.refundCredit(c.renter.address, c.tokenAddress)).to.equal(16_680);
    });

    it("still takes the units from the provider (30)", async () => {
      const c = await loadFixture(blockedRenterFixture);
      await credit(c, 100, UP50, 0, 60);
      expect((await c.escrow.getRental(c.rentalId)).withdrawnUnits).to.equal(30);
    });

    it("the renter claims the 16_680 once unblocked", async () => {
      const c = await loadFixture(blockedRenterFixture);
      await credit(c, 100, UP50, 0, 60);
      await c.token.setBlocked(c.renter.address, false);
      await expect(c.escrow.connect(c.renter).claimRefundCredit(c.tokenAddress)).to.changeTokenBalances(
        c.token,
        [c.renter, c.escrow],
        [16_680, -16_680],
      );
    });

    it("adds to a refund credited at the close", async () => {
      const c = await loadFixture(blockedRenterFixture);
      // The provider ends it at +100: 19_944_400 credited; then 50% of the first minute (16_680).
      await at(c.anchor + 100, () => c.escrow.connect(c.provider).endRental(c.rentalId));
      await credit(c, 200, UP50, 0, 60);
      expect(await c.escrow.refundCredit(c.renter.address, c.tokenAddress)).to.equal(19_944_400n + 16_680n);
    });

    it("pushes to the renter when not blocked (no CreditRefund)", async () => {
      const c = await loadFixture(blocklistFixture);
      await expect(credit(c, 100, UP50, 0, 60)).not.to.emit(c.escrow, "CreditRefund");
    });

    it("emits no CreditRefund when nothing comes from earnings", async () => {
      const c = await loadFixture(blockedRenterFixture);
      // One second at 10%: 55, under a unit.
      await expect(credit(c, 100, UP10, -59, 1)).not.to.emit(c.escrow, "CreditRefund");
    });
  });

  describe("then the rental closes and drains with conservation", () => {
    /** Balances of everyone who can hold the token, to compare before and after. */
    async function balances(c: Fx) {
      const who = [c.renter, c.provider, c.treasury, c.rewardPool, c.oracle, c.keeper];
      return {
        escrow: await c.usd.balanceOf(c.escrowAddress),
        each: await Promise.all(who.map((w) => c.usd.balanceOf(w.address))),
      };
    }

    /** What each holder gained since `start` (treasury and reward pool together as fees), and what the escrow keeps. */
    async function movedSince(c: Fx, start: Awaited<ReturnType<typeof balances>>) {
      const end = await balances(c);
      const [renter, provider, treasury, pool] = end.each.map((b, i) => b - start.each[i]);
      return { renter, provider, treasury, pool, fees: treasury + pool, escrow: end.escrow };
    }

    /** The provider withdraws the rental's `gross` (fee `fee` in the event), then the fees go out. */
    async function providerTakes(c: Fx, gross: number, fee: number) {
      await expect(c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId]))
        .to.emit(c.escrow, "WithdrawEarnings")
        .withArgs(c.provider.address, c.usdAddress, 1, gross, fee);
      await c.escrow.withdrawFees(c.usdAddress);
    }

    async function drain(c: Fx) {
      if ((await c.escrow.withdrawable(c.rentalId)) > 0n) {
        await c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId]);
      }
      if ((await c.escrow.accruedFees(c.usdAddress)) > 0n) await c.escrow.withdrawFees(c.usdAddress);
    }

    it("pay-as-you-go: refund 19_888_800 + credits 44_480 + provider 60_048 + fees 6_672 = 20_000_000", async () => {
      const c = await loadFixture(paygFixture);
      const renter0 = await c.usd.balanceOf(c.renter.address);
      const provider0 = await c.usd.balanceOf(c.provider.address);
      const t0 = await c.usd.balanceOf(c.treasury.address);
      const p0 = await c.usd.balanceOf(c.rewardPool.address);
      await withdrawAt(c, 100); // 55_600 gross: 50_040 net, 5_560 fee; 100 units
      // [60, 120) at 50%: 16_680 = 30 units (130 of 160 earned).
      await expect(credit(c, 160, UP50, 60, 120))
        .to.emit(c.escrow, "CreditSla")
        .withArgs(c.rentalId, c.renter.address, c.usdAddress, 5_000, 16_680, 16_680);
      // Ended at +200: 111_200 earned, 19_888_800 back; 111_200 - 130 x 556 = 38_920 left.
      await expect(endAt(c, 200))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.Renter, c.renter.address, 111_200, 19_888_800, 0);
      expect((await c.escrow.getRental(c.rentalId)).amount).to.equal(38_920);
      // [150, 210) at 100% against [0, 200): 50 s = 27_800, from the 38_920.
      await expect(credit(c, DAY, UP100, 150, 210))
        .to.emit(c.escrow, "CreditSla")
        .withArgs(c.rentalId, c.renter.address, c.usdAddress, 10_000, 27_800, 27_800);
      // The provider takes the 11_120 left: 10_008 net, 1_112 fee.
      await providerTakes(c, 11_120, 1_112);
      const renterBack = (await c.usd.balanceOf(c.renter.address)) - renter0;
      const providerNet = (await c.usd.balanceOf(c.provider.address)) - provider0;
      const fees =
        (await c.usd.balanceOf(c.treasury.address)) - t0 + (await c.usd.balanceOf(c.rewardPool.address)) - p0;
      expect([renterBack, providerNet, fees, await c.usd.balanceOf(c.escrowAddress)]).to.deep.equal([
        19_888_800n + 16_680n + 27_800n,
        50_040n + 10_008n,
        6_672n,
        0n,
      ]);
      expect(renterBack + providerNet + fees).to.equal(PAYG_DEPOSIT);
    });

    it("hourly: refund 5_000_000 + credits 2_016_666 + provider 3_585_001 + fees 398_333 = 11_000_000", async () => {
      const c = await loadFixture(hourlyFixture);
      const start = await balances(c);
      await withdrawAt(c, 1); // hour 1: 2_000_000 gross, 1_800_000 net
      // [0, 1h) at 100% at +3_601 (2 hours started, 1 withdrawn): one unit, 2_000_000.
      await expect(credit(c, 3_601, UP100, 0, HOUR))
        .to.emit(c.escrow, "CreditSla")
        .withArgs(c.rentalId, c.renter.address, c.usdAddress, 10_000, 2_000_000, 2_000_000);
      // Ended at +7_300: 3 hours (6_000_000) earned, 5_000_000 back; 2_000_000 left to the provider.
      await expect(endAt(c, 7_300))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.Renter, c.renter.address, 6_000_000, 5_000_000, 0);
      // [7_200, 7_500) at 10%: 300 s = 166_666 paid, 16_666 credited from the 2_000_000.
      await expect(credit(c, DAY, UP10, 2 * HOUR, 2 * HOUR + 300))
        .to.emit(c.escrow, "CreditSla")
        .withArgs(c.rentalId, c.renter.address, c.usdAddress, 1_000, 16_666, 16_666);
      // 1_983_334 gross left: fee 198_333, 1_785_001 net.
      await providerTakes(c, 1_983_334, 198_333);
      const { renter, provider, treasury, pool, escrow } = await movedSince(c, start);
      expect([renter, provider, treasury + pool, escrow]).to.deep.equal([
        5_000_000n + 2_000_000n + 16_666n,
        1_800_000n + 1_785_001n,
        200_000n + 198_333n,
        0n,
      ]);
      expect(renter + provider + treasury + pool).to.equal(HOURLY_DEPOSIT);
    });

    it("saving (no penalty): refund 228_000_000 + credits 1_915_833 + provider 80_355_751 + fees 8_928_416 = 319_200_000", async () => {
      const c = await loadFixture(savingNoHoldBackFixture);
      const start = await balances(c);
      await withdrawAt(c, 12 * HOUR); // 22_800_000 gross: 20_520_000 net, 2_280_000 fee
      // The first hour at 100% a day in: 1_900_000 = units 43_200 -> 46_800 (valueOf 24_700_000).
      await expect(credit(c, DAY, UP100, 0, HOUR))
        .to.emit(c.escrow, "CreditSla")
        .withArgs(c.rentalId, c.renter.address, c.usdAddress, 10_000, 1_900_000, 1_900_000);
      expect((await c.escrow.getRental(c.rentalId)).withdrawnUnits).to.equal(46_800);
      // Ended two days in: 91_200_000 earned, no penalty, 228_000_000 back;
      // 91_200_000 - 24_700_000 = 66_500_000 left.
      await expect(endAt(c, 2 * DAY))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.Renter, c.renter.address, 91_200_000, 228_000_000, 0);
      expect((await c.escrow.getRental(c.rentalId)).amount).to.equal(66_500_000);
      // A minute on day 2 at 50%: 15_833 from the 66_500_000.
      await credit(c, 3 * DAY, UP50, DAY, DAY + 60);
      // 66_484_167 gross: fee 6_648_416, 59_835_751 net.
      await providerTakes(c, 66_484_167, 6_648_416);
      const { renter, provider, treasury, pool, escrow } = await movedSince(c, start);
      expect([renter, provider, treasury + pool, escrow]).to.deep.equal([
        228_000_000n + 1_900_000n + 15_833n,
        20_520_000n + 59_835_751n,
        2_280_000n + 6_648_416n,
        0n,
      ]);
      expect(renter + provider + treasury + pool).to.equal(SAVING_DEPOSIT);
    });

    it("saving credited then slashed: the renter gets its whole 319_200_000 back, the provider nothing", async () => {
      const c = await loadFixture(savingFixture);
      const start = await balances(c);
      await credit(c, DAY, UP100, 0, HOUR); // 1_900_000 = 3_600 units
      // Refunded in full: the 1_900_000 credited counts as taken from the provider's side.
      await expect(
        at(c.anchor + DAY + 10, () =>
          c.escrow.connect(c.oracle).closeForProviderFault(c.rentalId, CloseReason.ProviderSlashed),
        ),
      )
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.ProviderSlashed, c.oracle.address, 1_900_000, 317_300_000, 0);
      expect([...(await c.escrow.serviceWindow(c.rentalId))]).to.deep.equal([
        BigInt(c.anchor),
        BigInt(c.anchor + HOUR),
      ]);
      await drain(c);
      const { renter, provider, treasury, pool, escrow } = await movedSince(c, start);
      expect([renter, provider, treasury + pool, escrow]).to.deep.equal([SAVING_DEPOSIT, 0n, 0n, 0n]);
    });

    it("pay-as-you-go run out: closes InsufficientFunds and drains after a credit in grace", async () => {
      const c = await loadFixture(paygFixture);
      const start = await balances(c);
      // In grace (not flagged): the last minute at 100%, 33_360 = 60 units.
      await credit(c, PAYG_UNITS + 100, UP100, PAYG_UNITS - 60, PAYG_UNITS);
      await at(c.paidUntil + HOUR, () => c.escrow.connect(c.keeper).closeRental(c.rentalId));
      // Provider: 19_999_876 - 33_360 = 19_966_516 gross; the renter: 124 + 33_360.
      expect(await c.escrow.withdrawable(c.rentalId)).to.equal(19_966_516);
      await drain(c);
      const { renter, provider, treasury, pool, escrow } = await movedSince(c, start);
      expect([renter, provider + treasury + pool, escrow]).to.deep.equal([124n + 33_360n, 19_966_516n, 0n]);
    });
  });

  describe("reverts", () => {
    describe("given an unknown rental", () => {
      for (const id of [0n, 2n, 99n]) {
        it(`reverts with RentalEscrow_UnknownRental(${id})`, async () => {
          const c = await loadFixture(paygFixture);
          await expect(c.escrow.connect(c.oracle).creditSla(id, c.nodeId, UP50, c.anchor, c.anchor + 60))
            .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownRental")
            .withArgs(id);
        });
      }
    });

    describe("given another node than the rental's", () => {
      for (const node of [0n, 2n, 2n ** 32n + 1n]) {
        it(`reverts with RentalEscrow_WrongNode(id, ${node}, 1)`, async () => {
          const c = await loadFixture(paygFixture);
          await expect(c.escrow.connect(c.oracle).creditSla(c.rentalId, node, UP50, c.anchor, c.anchor + 60))
            .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_WrongNode")
            .withArgs(c.rentalId, node, c.nodeId);
        });
      }
    });

    it("checks the node before the breach (wrong node on a best-effort rental: WrongNode)", async () => {
      const c = await loadFixture(bestEffortFixture);
      await expect(c.escrow.connect(c.oracle).creditSla(c.rentalId, 2, 0, c.anchor, c.anchor + 60))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_WrongNode")
        .withArgs(c.rentalId, 2, c.nodeId);
    });

    describe("given no breach", () => {
      for (const uptime of [TARGET, TARGET + 1, 10_000]) {
        it(`reverts with RentalEscrow_NoSlaBreach(id, ${uptime}, 9_990) at uptime ${uptime}`, async () => {
          const c = await loadFixture(paygFixture);
          await expect(credit(c, 100, uptime, 0, 60))
            .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NoSlaBreach")
            .withArgs(c.rentalId, uptime, TARGET);
        });
      }

      it("reverts with RentalEscrow_NoSlaBreach(id, 0, 0) on a best-effort rental (tier 0), even at 0 uptime", async () => {
        const c = await loadFixture(bestEffortFixture);
        await expect(credit(c, 100, 0, 0, 60))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NoSlaBreach")
          .withArgs(c.rentalId, 0, 0);
      });

      it("reverts with RentalEscrow_NoSlaBreach(id, 9_950, 9_950) at tier 2's target", async () => {
        const c = await loadFixture(paygTier2Fixture);
        await expect(credit(c, 100, 9_950, 0, 60))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NoSlaBreach")
          .withArgs(c.rentalId, 9_950, 9_950);
      });
    });

    describe("given nothing to credit", () => {
      // The open PAYG rental at +100: window [anchor, anchor + 100).
      for (const [what, from, to] of [
        ["an epoch ending at the window start", -60, 0],
        ["an epoch starting at the window end", 100, 160],
        ["an epoch long after the window", DAY, DAY + 60],
        ["an empty epoch (from == to)", 10, 10],
        ["a reversed epoch (from > to)", 60, 0],
      ] as const) {
        it(`reverts with RentalEscrow_NothingToCredit(id, from, to) for ${what}`, async () => {
          const c = await loadFixture(paygFixture);
          await expect(credit(c, 100, UP50, from, to))
            .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NothingToCredit")
            .withArgs(c.rentalId, c.anchor + from, c.anchor + to);
        });
      }

      it("reverts for an epoch after a closed rental's window, however late", async () => {
        const c = await loadFixture(paygClosedFixture);
        await expect(credit(c, DAY, UP100, 100, 160))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NothingToCredit")
          .withArgs(c.rentalId, c.anchor + 100, c.anchor + 160);
      });

      it("reverts for an epoch after a saving plan's early exit", async () => {
        const c = await loadFixture(savingRenterEndedFixture);
        await expect(credit(c, 2 * DAY, UP100, DAY, DAY + 60))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NothingToCredit")
          .withArgs(c.rentalId, c.anchor + DAY, c.anchor + DAY + 60);
      });

      it("reverts for an epoch after what a slashed saving plan served (the withdrawn 12 hours)", async () => {
        const c = await loadFixture(savingSlashedFixture);
        await expect(credit(c, 2 * DAY, UP100, 12 * HOUR, 12 * HOUR + 60))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NothingToCredit")
          .withArgs(c.rentalId, c.anchor + 12 * HOUR, c.anchor + 12 * HOUR + 60);
      });

      it("reverts when the credit rounds down to 0 (1 bps of one second's 556)", async () => {
        const c = await loadFixture(paygFixture);
        await c.escrow.connect(c.admin).setSlaCreditSchedule([1], [1]);
        await expect(credit(c, 100, UP10, 0, 1))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NothingToCredit")
          .withArgs(c.rentalId, c.anchor, c.anchor + 1);
      });

      it("credits 1 at 1 bps of 18 seconds (10_008)", async () => {
        const c = await loadFixture(paygFixture);
        await c.escrow.connect(c.admin).setSlaCreditSchedule([1], [1]);
        await expect(credit(c, 100, UP10, 0, 18))
          .to.emit(c.escrow, "CreditSla")
          .withArgs(c.rentalId, c.renter.address, c.usdAddress, 1, 1, 0);
      });
    });

    describe("when the caller lacks ORACLE_ROLE", () => {
      for (const who of ["admin", "guardian", "provider", "renter", "keeper", "other"] as const) {
        it(`reverts with AccessControlUnauthorizedAccount for the ${who}`, async () => {
          const c = await loadFixture(paygFixture);
          await expect(c.escrow.connect(c[who]).creditSla(c.rentalId, c.nodeId, UP50, c.anchor, c.anchor + 60))
            .to.be.revertedWithCustomError(c.escrow, "AccessControlUnauthorizedAccount")
            .withArgs(c[who].address, ORACLE_ROLE);
        });
      }

      it("checks the role before the rental (an unknown rental still reverts on the role)", async () => {
        const c = await loadFixture(paygFixture);
        await expect(c.escrow.connect(c.renter).creditSla(99, c.nodeId, UP50, 0, 1))
          .to.be.revertedWithCustomError(c.escrow, "AccessControlUnauthorizedAccount")
          .withArgs(c.renter.address, ORACLE_ROLE);
      });

      it("succeeds for an account granted ORACLE_ROLE later", async () => {
        const c = await loadFixture(paygFixture);
        await c.escrow.connect(c.admin).grantRole(ORACLE_ROLE, c.keeper.address);
        await expect(
          at(c.anchor + 100, () =>
            c.escrow.connect(c.keeper).creditSla(c.rentalId, c.nodeId, UP50, c.anchor, c.anchor + 60),
          ),
        ).to.emit(c.escrow, "CreditSla");
      });
    });

    describe("given the escrow is paused", () => {
      it("still credits", async () => {
        const c = await loadFixture(paygFixture);
        await c.escrow.connect(c.guardian).pause();
        await expect(credit(c, 100, UP50, 0, 60))
          .to.emit(c.escrow, "CreditSla")
          .withArgs(c.rentalId, c.renter.address, c.usdAddress, 5_000, 16_680, 16_680);
      });
    });

    describe("given a flagged (Grace) rental", () => {
      it("credits it like an open one", async () => {
        const c = await loadFixture(paygFixture);
        await at(c.paidUntil, () => c.escrow.connect(c.keeper).flagGracePeriod(c.rentalId));
        await expect(credit(c, PAYG_UNITS + 10, UP50, 0, 60))
          .to.emit(c.escrow, "CreditSla")
          .withArgs(c.rentalId, c.renter.address, c.usdAddress, 5_000, 16_680, 16_680);
        expect((await c.escrow.getRental(c.rentalId)).status).to.equal(RentalStatus.Grace);
      });
    });
  });

  /* ------------------------------------------------------------------ */
  /*              A RENTAL RESUMED FROM GRACE (RE-ANCHORED)              */
  /* ------------------------------------------------------------------ */

  // A top-up inside the grace period re-anchors the rental (anchor += time spent in grace), and
  // the service window is [anchor, anchor + earned units): the paid time stays one continuous
  // span, with the unpaid grace gap moved to its front. A known, documented limit (IRentalEscrow
  // `serviceWindow`): per resume, the window is off by at most one grace period. The renter paid for
  // [A, A + 35_971) and then from the top-up on; the window is [A + 1_800, now).
  describe("given a pay-as-you-go rental topped up 30 minutes into its grace period", () => {
    async function resumedFixture() {
      const c = await paygFixture();
      await at(c.paidUntil + 1_800, () => c.escrow.connect(c.renter).topUp(c.rentalId, USD(10)));
      return c;
    }

    it("re-anchors 1_800 s later (layout check)", async () => {
      const c = await loadFixture(resumedFixture);
      expect((await c.escrow.getRental(c.rentalId)).anchor).to.equal(c.anchor + 1_800);
    });

    it("measures from the re-anchored start: the first minute of the rental is outside the window", async () => {
      const c = await loadFixture(resumedFixture);
      await expect(credit(c, PAYG_UNITS + 1_900, UP50, 0, 60))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NothingToCredit")
        .withArgs(c.rentalId, c.anchor, c.anchor + 60);
    });

    it("counts a minute of the grace gap as paid time (the gap moved to the window's front)", async () => {
      const c = await loadFixture(resumedFixture);
      await expect(credit(c, PAYG_UNITS + 1_900, UP50, PAYG_UNITS + 600, PAYG_UNITS + 660)).to.emit(
        c.escrow,
        "CreditSla",
      );
    });
  });

  /* ------------------------------------------------------------------ */
  /*                 DIFFERENTIAL: offchain/src/sla.ts                   */
  /* ------------------------------------------------------------------ */

  describe("against offchain/src/sla.ts slaCredit (random cases, fixed seed)", () => {
    const SEED = 0x5a1a;
    const RUNS = 60;

    const closeKinds = ["open", "renter", "provider", "slaBreach", "slashed"] as const;
    const stepArb = fc.record({
      /** Per mille of the rental's paid span after the previous step (at least a second). */
      after: fc.integer({ min: 0, max: 700 }),
      shortfall: fc.oneof(
        fc.constantFrom(-1, 0, 1, 99, 100, 499, 500, 999, 1_000, 9_000),
        fc.integer({ min: 0, max: 5_000 }),
      ),
      /** Epoch start, per mille of the span from the anchor (may precede it or follow the end). */
      from: fc.integer({ min: -100, max: 1_300 }),
      length: fc.oneof(fc.constantFrom(1, 60, 3_600, 86_400), fc.integer({ min: 1, max: 200_000 })),
    });
    /** A valid schedule: 1 to 8 strictly rising shortfalls, credits rising (ties allowed). */
    const scheduleArb = fc
      .uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 8 })
      .chain((shortfalls) =>
        fc
          .array(fc.integer({ min: 1, max: 10_000 }), { minLength: shortfalls.length, maxLength: shortfalls.length })
          .map((credits) => ({
            shortfalls: [...shortfalls].sort((a, b) => a - b).map(BigInt),
            credits: [...credits].sort((a, b) => a - b).map(BigInt),
          })),
      );
    const caseArb = fc.record({
      /** Undefined: the default schedule. */
      schedule: fc.option(scheduleArb, { nil: undefined }),
      tier: fc.constantFrom(1, 2),
      plan: fc.constantFrom(Plan.PayAsYouGo, Plan.Hourly, Plan.Saving),
      gpus: fc.integer({ min: 1, max: 8 }),
      hours: fc.integer({ min: 2, max: 30 }), // a first deposit pays at least the 1-hour grace
      remainder: fc.integer({ min: 0, max: 999 }), // per mille of an hour's price
      termDays: fc.constantFrom(7, 30),
      withdraw: fc.option(fc.integer({ min: 0, max: 1_200 }), { nil: undefined }),
      close: fc.constantFrom(...closeKinds),
      closeAfter: fc.integer({ min: 0, max: 1_200 }),
      credits: fc.array(stepArb, { minLength: 1, maxLength: 3 }),
    });

    it(`matches slaCredit, serviceWindow and the after-state, and conserves the deposit (seed ${SEED})`, async () => {
      const base = await loadFixture(escrowFixture);
      const tiers = (await base.escrow.slaTiers()).map((t) => BigInt(t));
      await fc.assert(
        fc.asyncProperty(caseArb, async (k) => {
          const c = await loadFixture(escrowFixture);
          const perHour = 2_000_000n * BigInt(k.gpus);
          const deposit =
            k.plan === Plan.Saving ? 0n : perHour * BigInt(k.hours) + (perHour * BigInt(k.remainder)) / 1_000n;
          const tier = k.tier;
          let schedule: readonly CreditStep[] = DEFAULT_CREDIT_SCHEDULE;
          const custom = k.schedule;
          if (custom !== undefined) {
            await c.escrow.connect(c.admin).setSlaCreditSchedule(custom.shortfalls, custom.credits);
            schedule = custom.shortfalls.map((minShortfallBps, i) => ({
              minShortfallBps,
              creditBps: custom.credits[i],
            }));
          }
          const who = [c.renter, c.provider, c.treasury, c.rewardPool];
          const start = await Promise.all(who.map((w) => c.usd.balanceOf(w.address)));
          const opened = await rent(c, {
            plan: k.plan,
            gpus: k.gpus,
            deposit,
            termDays: k.plan === Plan.Saving ? k.termDays : 0,
            slaTier: tier,
          });
          const span = Number((await c.escrow.paidUntil(opened.rentalId)) - BigInt(opened.anchor));
          const offset = (perMille: number) => Math.floor((span * perMille) / 1_000);
          /** The next block time at or after `anchor + offset(perMille)`, later than the last block. */
          const nextTime = async (perMille: number) =>
            Math.max(opened.anchor + offset(perMille), (await time.latest()) + 1);

          if (k.withdraw !== undefined) {
            // Later than the anchor, so at least one unit has been earned; a saving plan may still
            // hold it all back (the provider's early-exit penalty): withdraw only what is there.
            await time.increaseTo(await nextTime(k.withdraw));
            if ((await c.escrow.withdrawable(opened.rentalId)) > 0n) {
              await c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [opened.rentalId]);
            }
          }
          if (k.close !== "open") {
            await time.setNextBlockTimestamp(await nextTime(k.closeAfter));
            if (k.close === "renter") await c.escrow.connect(c.renter).endRental(opened.rentalId);
            else if (k.close === "provider") await c.escrow.connect(c.provider).endRental(opened.rentalId);
            else {
              const reason = k.close === "slaBreach" ? CloseReason.SlaBreach : CloseReason.ProviderSlashed;
              await c.escrow.connect(c.oracle).closeForProviderFault(opened.rentalId, reason);
            }
          }

          let t = await time.latest();
          for (const step of k.credits) {
            t = Math.max(t + 1 + offset(step.after), (await time.latest()) + 1);
            const before = await slaRentalOf(c, opened.rentalId);
            // The view, at the latest block, against the model.
            const window = modelServiceWindow(before, BigInt(await time.latest()));
            expect([...(await c.escrow.serviceWindow(opened.rentalId))], "serviceWindow").to.deep.equal([
              window.start,
              window.end,
            ]);
            const target = tiers[tier];
            const uptime = BigInt(Math.min(10_000, Math.max(0, Number(target) - step.shortfall)));
            const from = BigInt(opened.anchor + offset(step.from));
            const to = from + BigInt(step.length);
            const expected = slaCredit(before, schedule, target, uptime, from, to, BigInt(t));
            await time.setNextBlockTimestamp(t);
            // Read before sending: the call below is on its way (and may be mined) before it is awaited.
            const renterBefore = await c.usd.balanceOf(c.renter.address);
            const tx = c.escrow.connect(c.oracle).creditSla(opened.rentalId, c.nodeId, uptime, from, to);
            if (expected === null) {
              const noBreach = slaCreditBps(schedule, target, uptime) === 0n;
              await expect(tx, "revert")
                .to.be.revertedWithCustomError(
                  c.escrow,
                  noBreach ? "RentalEscrow_NoSlaBreach" : "RentalEscrow_NothingToCredit",
                )
                .withArgs(opened.rentalId, noBreach ? uptime : from, noBreach ? target : to);
              continue;
            }
            await expect(tx, "CreditSla")
              .to.emit(c.escrow, "CreditSla")
              .withArgs(
                opened.rentalId,
                c.renter.address,
                c.usdAddress,
                expected.creditBps,
                expected.credit,
                expected.fromEarnings,
              );
            expect((await c.usd.balanceOf(c.renter.address)) - renterBefore, "renter balance").to.equal(
              expected.fromEarnings,
            );
            const after = await c.escrow.getRental(opened.rentalId);
            expect([after.amount, after.withdrawnUnits], "after").to.deep.equal([
              expected.after.amount,
              expected.after.withdrawnUnits,
            ]);
            expect(expected.fromEarnings <= expected.credit, "fromEarnings <= credit").to.be.true;
          }

          // Close if still open, drain, and check that the deposit went exactly to the three sides.
          const status = (await c.escrow.getRental(opened.rentalId)).status;
          if (status !== BigInt(RentalStatus.Closed)) await c.escrow.connect(c.renter).endRental(opened.rentalId);
          if ((await c.escrow.withdrawable(opened.rentalId)) > 0n) {
            await c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [opened.rentalId]);
          }
          if ((await c.escrow.accruedFees(c.usdAddress)) > 0n) await c.escrow.withdrawFees(c.usdAddress);
          const end = await Promise.all(who.map((w) => c.usd.balanceOf(w.address)));
          const [renter, provider, treasury, pool] = end.map((b, i) => b - start[i]);
          expect(await c.usd.balanceOf(c.escrowAddress), "escrow drained").to.equal(0n);
          expect(renter + provider + treasury + pool, "conservation").to.equal(0n);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });
  });
});
