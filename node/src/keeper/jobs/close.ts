/**
 * Settlement: every open rental whose grace period or term has passed (`closableAt(id) <= now`) is
 * closed with `RentalEscrow.closeRental(id)`, keyed "close:<id>". A cursor (meta "close.from") skips
 * the prefix of closed rentals.
 */
import type { JobStep, RentalRow } from "./types";
import { RentalStatus } from "@kaisar/offchain";

/** `RentalStatus.Closed`, as ethers reads it. */
export const CLOSED = BigInt(RentalStatus.Closed);

export interface CloseState {
  /** The latest block's timestamp. */
  now: bigint;
  /** The first rental id not known to be closed. */
  cursor: bigint;
  /** The rentals from `cursor` on, in id order. */
  rentals: RentalRow[];
}

/** The closes due, and the cursor past the closed prefix. */
export function check(state: CloseState): { steps: JobStep[]; cursor: bigint } {
  let cursor = state.cursor;
  let prefixClosed = true;
  const steps: JobStep[] = [];
  for (const r of state.rentals) {
    if (r.closableAt === 0n) {
      if (prefixClosed && r.status === CLOSED) cursor = r.id + 1n;
      continue;
    }
    prefixClosed = false;
    if (r.closableAt > state.now) continue;
    steps.push({
      log: { at: "Keeper#closeRental", rentalId: r.id.toString(), closableAt: r.closableAt.toString() },
      call: { kind: "close", key: `close:${r.id}`, contract: "RentalEscrow", method: "closeRental", args: [r.id] },
    });
  }
  return { steps, cursor };
}
