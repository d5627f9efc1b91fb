/**
 * The rentals the jobs read, through the lens's pages (`KaisarLens.getRentals` for the rental and its
 * `closableAt`, `getRentalScoring` for its service window, as of now): one pair of calls per page of
 * ids, never one call per rental.
 */
import type { KaisarContracts } from "../../chain/contracts";
import type { RentalRow } from "./types";

/** Rental ids per lens call. */
export const RENTAL_PAGE = 100n;

/** The rentals with ids `from..rentalCount()`, in id order. */
export async function readRentals(contracts: KaisarContracts, from = 1n): Promise<RentalRow[]> {
  const { RentalEscrow: escrow, KaisarLens: lens } = contracts;
  const count = await escrow.rentalCount();
  const out: RentalRow[] = [];
  for (let first = from < 1n ? 1n : from; first <= count; first += RENTAL_PAGE) {
    const last = first + RENTAL_PAGE - 1n < count ? first + RENTAL_PAGE - 1n : count;
    const ids = Array.from({ length: Number(last - first + 1n) }, (_, i) => first + BigInt(i));
    const [views, scoring] = await Promise.all([lens.getRentals(ids), lens.getRentalScoring(ids, 0n)]);
    views.forEach((v, i) =>
      out.push({
        id: ids[i],
        nodeId: v.rental.nodeId,
        slaTier: Number(v.rental.slaTier),
        status: BigInt(v.rental.status),
        closableAt: v.closableAt,
        serviceStart: scoring[i].serviceStart,
        serviceEnd: scoring[i].serviceEnd,
      }),
    );
  }
  return out;
}
