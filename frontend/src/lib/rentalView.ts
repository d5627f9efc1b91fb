/**
 * One open rental's figures at one second, all from its on-chain fields through offchain/src/rentalMath
 * (the contract's own math, mirrored and differential-tested): time and balance left, the refund and
 * penalty if it ended now, the burn rate and when the funds run out. Computed together, they agree
 * with each other and with what `endRental` would pay in a block at `nowSec`. Pure.
 */
import { CloseReason, HOUR, Plan, paidUntil, split } from "@kaisar/offchain/src/rentalMath";

/** Below this many seconds left, a pay-as-you-go or hourly rental warns (and may notify). */
export const LOW_BALANCE_SECONDS = 3_600;

export interface RentalFields {
  plan: number;
  anchor: number;
  unitPrice: bigint;
  /** The deposit (initial plus top-ups), as `Rental.amount` stores it while open. */
  amount: bigint;
}

export interface RentalFigures {
  /** Unix seconds the paid time (or the saving term) ends. */
  paidUntil: number;
  secondsLeft: number;
  /** The unused deposit: what is not yet earned by the provider. */
  balanceLeft: bigint;
  /** What `endRental` would send back now: the balance left minus the penalty. */
  refundIfEnded: bigint;
  /** Saving plans: the early-exit penalty ending now would cost (0 otherwise). */
  penalty: bigint;
  /** Token units the rental costs per hour of runtime. */
  burnPerHour: bigint;
  /** Pay-as-you-go and hourly: less than an hour of funds left (and not yet run out). */
  lowBalance: boolean;
}

export function rentalFigures(r: RentalFields, nowSec: number, earlyExitPenaltyBps: bigint): RentalFigures {
  const plan = r.plan as Plan;
  const money = { plan, anchor: BigInt(r.anchor), unitPrice: r.unitPrice, deposit: r.amount };
  const until = Number(paidUntil(plan, money.anchor, r.unitPrice, r.amount));
  const s = split(money, BigInt(nowSec), CloseReason.Renter, earlyExitPenaltyBps);
  const secondsLeft = Math.max(0, until - nowSec);
  // Pay-as-you-go's unit is a second; hourly and saving prices are per hour.
  const burnPerHour = plan === Plan.PayAsYouGo ? r.unitPrice * HOUR : r.unitPrice;
  return {
    paidUntil: until,
    secondsLeft,
    balanceLeft: r.amount - s.earned,
    refundIfEnded: s.refund,
    penalty: s.penalty,
    burnPerHour,
    lowBalance: plan !== Plan.Saving && secondsLeft > 0 && secondsLeft < LOW_BALANCE_SECONDS,
  };
}
