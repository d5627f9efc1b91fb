/**
 * What delivery rewards follow: the protocol fees a rental paid for the time it ran inside an epoch,
 * in KAI. Fees cannot be faked for free (a provider renting its own node pays them to the protocol),
 * unlike GPU-seconds, which a rental at 1 wei per GPU-hour buys for nothing. Checkers score with it;
 * the property walks and the economics in the README check the cap against it.
 */
import { bpsOf, type Plan } from "./rentalMath";
import { kaiValue, paidInWindow } from "./sla";

/** The fields of a rental the fee of an epoch reads (`IKaisarLens.RentalScoring`). */
export interface FeeRental {
  plan: Plan;
  /** As `Rental.unitPrice` stores it (per second for PAYG, per hour otherwise). */
  unitPrice: bigint;
  /** `RentalEscrow.rentalTerms(termsVersion).feeBps` of the rental. */
  feeBps: bigint;
  /** `RentalEscrow.serviceWindow(rentalId)`: the time it paid for, Unix seconds, end exclusive. */
  serviceStart: bigint;
  serviceEnd: bigint;
}

/** Token units of protocol fee on what `r` paid for its service inside `[from, to)` (`feeBps` of `_paidWithin`). */
export function feeInWindow(r: FeeRental, from: bigint, to: bigint): bigint {
  const paid = paidInWindow(r.plan, r.unitPrice, { start: r.serviceStart, end: r.serviceEnd }, from, to);
  return bpsOf(paid, r.feeBps);
}

/**
 * The protocol fee of `r` inside `[from, to)` in KAI units, at `kaiPerToken` (`SlaEnforcer.kaiPerToken` of the
 * rental's token; 0 for a token without a rate, whose rentals then weigh nothing).
 */
export function feesKaiInWindow(r: FeeRental, kaiPerToken: bigint, from: bigint, to: bigint): bigint {
  return kaiValue(feeInWindow(r, from, to), kaiPerToken);
}
