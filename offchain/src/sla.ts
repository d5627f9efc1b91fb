/**
 * SLA credits, in bigint: a mirror of `contracts/libraries/SlaMath.sol`, one function to one
 * function, same names in the same order (`slaCreditBps`, `serviceWindow`, `paidInWindow`,
 * `kaiValue`); `paidWithin` and `slaCredit` read a stored rental and mirror `RentalEscrow._paidWithin`
 * and `creditSla`, `nodeEpochProof` the proofs `SlaEnforcer` takes. Keepers use it to find
 * which rentals a report entitles to a credit, the web app to show what a renter will get, and the
 * tests to check the contracts.
 */
import type { NodeMetrics, RewardLeaf } from "./leaves";
import { buildRewardTree, proofOf } from "./leaves";
import { BPS, HOUR, Plan, earnedUnits, takeableUnits, totalUnits, unitSeconds, valueOf } from "./rentalMath";

/** One step of the credit schedule: uptime at least `minShortfallBps` below target credits `creditBps`. */
export interface CreditStep {
  minShortfallBps: bigint;
  creditBps: bigint;
}

/** The escrow's schedule at deployment: below target 10%, 1 point below 25%, 5 points 50%, 10 points 100%. */
export const DEFAULT_CREDIT_SCHEDULE: readonly CreditStep[] = [
  { minShortfallBps: 1n, creditBps: 1_000n },
  { minShortfallBps: 100n, creditBps: 2_500n },
  { minShortfallBps: 500n, creditBps: 5_000n },
  { minShortfallBps: 1_000n, creditBps: 10_000n },
];

/** `RentalEscrow._slaCreditBps`: the credit for `uptimeBps` against `targetBps` (0: no breach or no SLA). */
export function slaCreditBps(schedule: readonly CreditStep[], targetBps: bigint, uptimeBps: bigint): bigint {
  if (targetBps === 0n || uptimeBps >= targetBps) return 0n;
  const shortfall = targetBps - uptimeBps;
  let credit = 0n;
  for (const step of schedule) {
    if (shortfall < step.minShortfallBps) break;
    credit = step.creditBps;
  }
  return credit;
}

/** A rental's fields that SLA credits read (as `Rental` stores them). */
export interface SlaRental {
  plan: Plan;
  anchor: bigint;
  unitPrice: bigint;
  /** While open: the deposit. Once closed: what the provider has still to withdraw. */
  amount: bigint;
  /** While open: units withdrawn or credited. Once closed: the units paid for in all. */
  withdrawnUnits: bigint;
  closed: boolean;
  /** The early-exit penalty of its terms version: an open saving plan holds it back from credits. */
  earlyExitPenaltyBps: bigint;
}

/** `RentalEscrow.serviceWindow`: the time the rental paid for, as of `now`. */
export function serviceWindow(r: SlaRental, now: bigint): { start: bigint; end: bigint } {
  const units = r.closed ? r.withdrawnUnits : earnedUnits(r.plan, r.anchor, r.unitPrice, r.amount, now);
  return { start: r.anchor, end: r.anchor + units * unitSeconds(r.plan) };
}

/** `RentalEscrow._paidWithin`: what the renter paid for its service inside `[from, to)`. */
export function paidWithin(r: SlaRental, now: bigint, from: bigint, to: bigint): bigint {
  return paidInWindow(r.plan, r.unitPrice, serviceWindow(r, now), from, to);
}

/**
 * `RentalEscrow._paidWithin` from a known service window (`RentalEscrow.serviceWindow`): what a rental
 * of `plan` at `unitPrice` paid for the part of `window` inside `[from, to)`.
 */
export function paidInWindow(
  plan: Plan,
  unitPrice: bigint,
  window: { start: bigint; end: bigint },
  from: bigint,
  to: bigint,
): bigint {
  const start = window.start < from ? from : window.start;
  const end = window.end > to ? to : window.end;
  if (end <= start) return 0n;
  const paid = unitPrice * (end - start);
  return plan === Plan.PayAsYouGo ? paid : paid / HOUR;
}

/** The result of crediting a rental: the credit, the part from earnings, and the rental afterwards. */
export interface SlaCredit {
  creditBps: bigint;
  credit: bigint;
  fromEarnings: bigint;
  /** The rest, for the enforcer to take from stake (in the rental's token). */
  fromStake: bigint;
  after: SlaRental;
}

/**
 * `RentalEscrow.creditSla` for a rental of SLA target `targetBps`, node uptime `uptimeBps` in the
 * epoch `[from, to)`, at time `now`. Returns `null` where the contract reverts (no breach, nothing
 * paid in the window).
 */
export function slaCredit(
  r: SlaRental,
  schedule: readonly CreditStep[],
  targetBps: bigint,
  uptimeBps: bigint,
  from: bigint,
  to: bigint,
  now: bigint,
): SlaCredit | null {
  const creditBps = slaCreditBps(schedule, targetBps, uptimeBps);
  if (creditBps === 0n) return null;
  const credit = (paidWithin(r, now, from, to) * creditBps) / BPS;
  if (credit === 0n) return null;
  const after = { ...r };
  let fromEarnings = 0n;
  if (r.closed) {
    fromEarnings = credit < r.amount ? credit : r.amount;
    after.amount = r.amount - fromEarnings;
  } else {
    // Units the provider may give up: a saving plan's hold-back stays (`RentalMath.takeableUnits`).
    const earned = takeableUnits(r.plan, r.anchor, r.unitPrice, r.amount, now, r.earlyExitPenaltyBps);
    if (earned > r.withdrawnUnits) {
      const withdrawnValue = valueOf(r.plan, r.unitPrice, r.amount, r.withdrawnUnits);
      let units =
        r.plan === Plan.Saving
          ? ((withdrawnValue + credit + 1n) * totalUnits(r.plan, r.unitPrice, r.amount) - 1n) / r.amount
          : r.withdrawnUnits + credit / r.unitPrice;
      if (units > earned) units = earned;
      fromEarnings = valueOf(r.plan, r.unitPrice, r.amount, units) - withdrawnValue;
      if (fromEarnings !== 0n) after.withdrawnUnits = units;
    }
  }
  return { creditBps, credit, fromEarnings, fromStake: credit - fromEarnings, after };
}

/** `SlaEnforcer.RATE_SCALE`: `kaiPerToken` is KAI units per 1e18 token units. */
export const KAI_RATE_SCALE = 10n ** 18n;

/** KAI units worth `amount` token units at `kaiPerToken` (`SlaEnforcer`'s conversion, rounded down). */
export function kaiValue(amount: bigint, kaiPerToken: bigint): bigint {
  return (amount * kaiPerToken) / KAI_RATE_SCALE;
}

/** KAI the enforcer takes from stake for `fromStake` token units at `kaiPerToken` (per 1e18 units). */
export function kaiForShortfall(fromStake: bigint, kaiPerToken: bigint): bigint {
  return kaiValue(fromStake, kaiPerToken);
}

/** The `NodeEpochProof` struct `SlaEnforcer` takes, for `leaf` (with its `metrics`) in `tree`. */
export function nodeEpochProof(tree: ReturnType<typeof buildRewardTree>, leaf: RewardLeaf, metrics: NodeMetrics) {
  return { leaf, metrics, proof: proofOf(tree, leaf) };
}
