/**
 * The rental escrow's money math, in bigint: a mirror of `contracts/libraries/RentalMath.sol`, one
 * function to one function, same names in the same order; `pending` and `split` read a stored rental
 * and mirror `RentalEscrow._pending` and `_split`. Keepers, the frontend and the property walks price
 * rentals with it; the differential test (`test/unit/RentalMath.test.ts`) checks it against the
 * Solidity harnesses.
 *
 * Solidity 0.8 arithmetic is checked: where the contract would panic (overflow 0x11, division by
 * zero 0x12) the model throws a {@link SolidityPanic}, with the same code (operands are evaluated in
 * solc's order: the right operand of a binary operator first); where it reverts with a custom error
 * the model throws a {@link ContractRevert} carrying the error's name and arguments.
 *
 * Units: amounts in token units, times in Unix seconds, fees and discounts in bps.
 */

import { CloseReason, Plan } from "./generated/protocol";

/** How a rental is paid and why it closed: `enum Plan` and `enum CloseReason`, generated from the contracts. */
export { CloseReason, Plan };

export const BPS = 10_000n;
export const HOUR = 3_600n;
export const DAY = 86_400n;
export const SAVING_TERMS_DAYS = [7n, 30n, 90n] as const;

export const UINT32_MAX = (1n << 32n) - 1n;
export const UINT96_MAX = (1n << 96n) - 1n;
export const UINT256_MAX = (1n << 256n) - 1n;

/** Solidity panic codes the model can raise. */
export const PanicCode = { Overflow: 0x11, DivisionByZero: 0x12 } as const;

/** The contract would panic (`Panic(uint256)`), e.g. on an arithmetic overflow. */
export class SolidityPanic extends Error {
  constructor(readonly code: number) {
    super(`Panic(0x${code.toString(16)})`);
    this.name = "SolidityPanic";
  }
}

/** The contract would revert with the custom error `errorName(...args)`. */
export class ContractRevert extends Error {
  constructor(
    readonly errorName: string,
    readonly args: readonly bigint[],
  ) {
    super(`${errorName}(${args.join(", ")})`);
    this.name = "ContractRevert";
  }
}

/* -------------------------------------------------------------------------- */
/*                     Checked uint256 arithmetic (Solidity 0.8)               */
/* -------------------------------------------------------------------------- */

function uint(x: bigint): bigint {
  if (x < 0n || x > UINT256_MAX) throw new SolidityPanic(PanicCode.Overflow);
  return x;
}
const add = (a: bigint, b: bigint) => uint(a + b);
const sub = (a: bigint, b: bigint) => uint(a - b);
const mul = (a: bigint, b: bigint) => uint(a * b);
function div(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new SolidityPanic(PanicCode.DivisionByZero);
  return a / b; // both non-negative: bigint division truncates like Solidity's
}
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/* -------------------------------------------------------------------------- */
/*                                 RentalMath                                 */
/* -------------------------------------------------------------------------- */

/** Seconds in one billing unit of `plan` (`RentalMath.unitSeconds`). */
export function unitSeconds(plan: Plan): bigint {
  return plan === Plan.Hourly ? HOUR : 1n;
}

/**
 * Billing units of `plan` that cover `gracePeriod` seconds, rounded up (`RentalMath.graceUnits`):
 * what a first deposit, or a top-up that resumes a rental from its grace period, must buy at least.
 */
export function graceUnits(plan: Plan, gracePeriod: bigint): bigint {
  const unit = unitSeconds(plan);
  return div(sub(add(gracePeriod, unit), 1n), unit);
}

/** Units a rental can earn in all: paid units (PAYG, Hourly) or term seconds (Saving). */
export function totalUnits(plan: Plan, unitPrice: bigint, deposit: bigint): bigint {
  return plan === Plan.Saving ? mul(div(deposit, mul(unitPrice, 24n)), DAY) : div(deposit, unitPrice);
}

/** Unix seconds at which the paid time (or the term) ends (`RentalMath.paidUntil`). */
export function paidUntil(plan: Plan, anchor: bigint, unitPrice: bigint, deposit: bigint): bigint {
  return add(anchor, mul(totalUnits(plan, unitPrice, deposit), unitSeconds(plan)));
}

/** Units earned at `time`; a unit is charged as soon as it starts (`RentalMath.earnedUnits`). */
export function earnedUnits(plan: Plan, anchor: bigint, unitPrice: bigint, deposit: bigint, time: bigint): bigint {
  if (time <= anchor) return 0n;
  const unit = unitSeconds(plan);
  const started = div(sub(add(sub(time, anchor), unit), 1n), unit);
  const total = totalUnits(plan, unitPrice, deposit);
  return min(started, total);
}

/**
 * Units the provider may have taken (withdrawn, or given up as SLA credits) at `time`
 * (`RentalMath.takeableUnits`): those earned, except that a saving plan holds back the units worth
 * `penaltyBps` of its unused part (what the provider owes the renter if it ends the plan early).
 */
export function takeableUnits(
  plan: Plan,
  anchor: bigint,
  unitPrice: bigint,
  deposit: bigint,
  time: bigint,
  penaltyBps: bigint,
): bigint {
  const units = earnedUnits(plan, anchor, unitPrice, deposit, time);
  if (plan !== Plan.Saving) return units;
  const earned = valueOf(plan, unitPrice, deposit, units);
  const held = bpsOf(sub(deposit, earned), penaltyBps);
  if (held === 0n) return units;
  if (held >= earned) return 0n;
  // The most units whose value (rounded down, as `valueOf` does) stays within `earned - held`.
  const cap = div(sub(mul(add(sub(earned, held), 1n), totalUnits(plan, unitPrice, deposit)), 1n), deposit);
  return min(cap, units);
}

/** Token value of `units` earned units (`RentalMath.valueOf`). */
export function valueOf(plan: Plan, unitPrice: bigint, deposit: bigint, units: bigint): bigint {
  if (plan === Plan.Saving) {
    // The right operand first, as solc evaluates it: a zero price panics 0x12 before `deposit * units` overflows.
    const total = totalUnits(plan, unitPrice, deposit);
    return div(mul(deposit, units), total);
  }
  return mul(unitPrice, units);
}

/** `amount * bps / 10_000`, rounded down (`RentalMath.bpsOf`). */
export function bpsOf(amount: bigint, bps: bigint): bigint {
  return div(mul(amount, bps), BPS);
}

/* -------------------------------------------------------------------------- */
/*                                RentalEscrow                                */
/* -------------------------------------------------------------------------- */

export interface Quote {
  /** Token units per second (PAYG) or per hour (Hourly; Saving: discounted). */
  unitPrice: bigint;
  /** Token units escrowed when the rental opens. */
  deposit: bigint;
}

/**
 * `RentalEscrow._checkDeposit`: the deposit fits 96 bits and the units it buys fit the 32-bit
 * withdrawal counter. Throws `RentalEscrow_AmountTooLarge(deposit, max)`.
 */
export function checkDeposit(deposit: bigint, unitPrice: bigint): void {
  let max = UINT96_MAX;
  if (unitPrice !== 0n && div(max, unitPrice) > UINT32_MAX) max = mul(unitPrice, UINT32_MAX);
  if (deposit > max) throw new ContractRevert("RentalEscrow_AmountTooLarge", [deposit, max]);
}

/**
 * The least first deposit of a pay-as-you-go or hourly rental at `unitPrice` (its quote's): it pays
 * for the grace period of the current terms (`rentalTerms(currentTermsVersion()).gracePeriod`).
 * Below it `rent` reverts `RentalEscrow_DepositBelowGrace(deposit, minimum)`. 0 for Saving (prepaid).
 */
export function minimumDeposit(plan: Plan, unitPrice: bigint, gracePeriod: bigint): bigint {
  return plan === Plan.Saving ? 0n : mul(unitPrice, graceUnits(plan, gracePeriod));
}

/**
 * `RentalEscrow._quote`: unit price and deposit of a new rental at `pricePerGpuHour`.
 * @param depositOrZero The renter's deposit (PAYG, Hourly); must be 0 for Saving.
 * @param termDays Saving: 7, 30 or 90 (not re-checked here: `rent` checks it first).
 * @param savingDiscountBps The escrow's discount for `termDays` (ignored unless Saving).
 * @param gracePeriod The grace period of the current terms (the least PAYG/Hourly deposit pays it).
 */
export function quote(
  plan: Plan,
  pricePerGpuHour: bigint,
  gpus: bigint,
  depositOrZero: bigint,
  termDays: bigint,
  savingDiscountBps: bigint,
  gracePeriod: bigint,
): Quote {
  if (pricePerGpuHour > UINT96_MAX) {
    throw new ContractRevert("RentalEscrow_AmountTooLarge", [pricePerGpuHour, UINT96_MAX]);
  }
  const perHour = mul(pricePerGpuHour, gpus);
  // Pay-as-you-go: per second, rounded up so that the rate never undercharges the provider.
  let unitPrice = plan === Plan.PayAsYouGo ? div(sub(add(perHour, HOUR), 1n), HOUR) : perHour;
  if (unitPrice > UINT96_MAX) throw new ContractRevert("RentalEscrow_AmountTooLarge", [unitPrice, UINT96_MAX]);
  let deposit: bigint;
  if (plan === Plan.Saving) {
    if (depositOrZero !== 0n) throw new ContractRevert("RentalEscrow_InvalidDeposit", [depositOrZero, 0n]);
    unitPrice = sub(perHour, bpsOf(perHour, savingDiscountBps));
    deposit = mul(mul(unitPrice, 24n), termDays);
  } else {
    deposit = depositOrZero;
    const minimum = minimumDeposit(plan, unitPrice, gracePeriod);
    if (deposit < minimum) throw new ContractRevert("RentalEscrow_DepositBelowGrace", [deposit, minimum]);
  }
  checkDeposit(deposit, plan === Plan.Saving ? 0n : unitPrice);
  return { unitPrice, deposit };
}

/** The money fields of an open rental, as `Rental` stores them. */
export interface RentalMoney {
  plan: Plan;
  /** Unix seconds the paid time is measured from. */
  anchor: bigint;
  unitPrice: bigint;
  /** Total deposited (initial deposit plus top-ups). */
  deposit: bigint;
}

/**
 * `RentalEscrow._pending`: units the provider may take at `now` ({@link takeableUnits}), and their
 * value not yet withdrawn.
 * @param earlyExitPenaltyBps The penalty of the rental's terms version (a saving plan holds it back).
 */
export function pending(
  r: RentalMoney,
  withdrawnUnits: bigint,
  now: bigint,
  earlyExitPenaltyBps: bigint,
): { units: bigint; amount: bigint } {
  const units = takeableUnits(r.plan, r.anchor, r.unitPrice, r.deposit, now, earlyExitPenaltyBps);
  // solc evaluates the right operand of `-` first.
  const withdrawn = valueOf(r.plan, r.unitPrice, r.deposit, withdrawnUnits);
  const amount = sub(valueOf(r.plan, r.unitPrice, r.deposit, units), withdrawn);
  return { units, amount };
}

export interface Split {
  /** Value earned by the provider at close (before any penalty). */
  earned: bigint;
  /** The provider's gross total: earned plus the penalty a renter pays (minus the one it pays). */
  providerAmount: bigint;
  /** What goes back to the renter. */
  refund: bigint;
  /**
   * Saving plans ended early: the share of the unused part the party ending it pays the other. The
   * renter (`CloseReason.Renter`) pays it to the provider; the provider (`CloseReason.Provider`)
   * pays it to the renter, at most what the rental earned.
   */
  penalty: bigint;
}

/**
 * `RentalEscrow._split`: the provider/renter split of an open rental closed at `now` for `reason`.
 * `providerAmount + refund == deposit` always.
 * @param earlyExitPenaltyBps The penalty of the rental's terms version.
 */
export function split(r: RentalMoney, now: bigint, reason: CloseReason, earlyExitPenaltyBps: bigint): Split {
  const units = earnedUnits(r.plan, r.anchor, r.unitPrice, r.deposit, now);
  const earned = valueOf(r.plan, r.unitPrice, r.deposit, units);
  const unused = sub(r.deposit, earned);
  const early = r.plan === Plan.Saving && (reason === CloseReason.Renter || reason === CloseReason.Provider);
  let penalty = early ? bpsOf(unused, earlyExitPenaltyBps) : 0n;
  if (reason === CloseReason.Provider) {
    penalty = min(penalty, earned);
    return { earned, providerAmount: sub(earned, penalty), refund: add(unused, penalty), penalty };
  }
  return { earned, providerAmount: add(earned, penalty), refund: sub(unused, penalty), penalty };
}

/** `RentalEscrow._closableAt`: when anyone may close the rental (term end, or paid time + grace). */
export function closableAt(r: RentalMoney, gracePeriod: bigint): bigint {
  const until = paidUntil(r.plan, r.anchor, r.unitPrice, r.deposit);
  return r.plan === Plan.Saving ? until : add(until, gracePeriod);
}
