/**
 * What a keeper job is: a pure `check(state)` that turns state read beforehand (plain objects, no
 * chain access) into steps, and `execute(steps)` (execute.ts) that logs each step and sends its call,
 * in order, on the crash-safe sender (tx.ts). A step without a call is a note (e.g. a slash skipped).
 */
import type { ContractName } from "../../config/schema";
import type { TxLogEntry } from "../tx";

/** One contract call: the function and arguments, and the sender's key and kind (see `TxRequest`). */
export interface JobCall {
  kind: string;
  key: string;
  contract: ContractName;
  method: string;
  args: readonly unknown[];
}

/** A log line, and the call it announces (none: a note only). */
export interface JobStep {
  log: TxLogEntry;
  call?: JobCall;
}

/** A rental as the jobs read it (one page of `KaisarLens.getRentals` / `getRentalScoring`). */
export interface RentalRow {
  id: bigint;
  nodeId: bigint;
  slaTier: number;
  /** `RentalStatus` (`Closed` is 3). */
  status: bigint;
  /** `RentalEscrow.closableAt` (0 once closed). */
  closableAt: bigint;
  /** `RentalEscrow.serviceWindow`, as of the block read. */
  serviceStart: bigint;
  serviceEnd: bigint;
}

/** Whether `[start, end)` overlaps `[from, to)`. */
export function overlaps(start: bigint, end: bigint, from: bigint, to: bigint): boolean {
  return start < to && end > from;
}
