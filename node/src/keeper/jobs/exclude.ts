/**
 * Checker-set upkeep: every live operator of the current set that is no longer active (no delegated,
 * unsuspended license: "no-license"; stake below `minCheckerStake`: "under-staked") is excluded with
 * `ReportOracle.excludeOperator(index)`, keyed "exclude:<version>:<index>". An active operator is
 * never sent anything. The state (the set, and each live operator's licenses and stake, at one block)
 * is read by checkers.ts.
 */
import { ZeroAddress } from "ethers";

import type { JobStep } from "./types";

/** `ReportOracle.EXCLUDED_NO_LICENSE`, `EXCLUDED_UNDER_STAKED`. */
export const EXCLUDED_NO_LICENSE = 1n;
export const EXCLUDED_UNDER_STAKED = 2n;

/** The names of `reasons` bits, for logs. */
export function reasonNames(reasons: bigint): string[] {
  const names: string[] = [];
  if (reasons & EXCLUDED_NO_LICENSE) names.push("no-license");
  if (reasons & EXCLUDED_UNDER_STAKED) names.push("under-staked");
  return names;
}

/** The current checker set, as the oracle holds it. */
export interface CheckerSetView {
  version: bigint;
  quorum: number;
  /** Sorted, checksummed, in signer index order; the zero address where an operator was excluded. */
  operators: string[];
  /** Operators not excluded. */
  live: number;
  minCheckerStake: bigint;
  /** The block the view was read at. */
  block: number;
}

/** An operator of the current set that `excludeOperator` would exclude. */
export interface InactiveOperator {
  index: number;
  operator: string;
  /** `ExcludeOperator`'s reasons bits (see the constants above). */
  reasons: bigint;
  licenses: bigint;
  staked: bigint;
}

export interface ExcludeState {
  view: CheckerSetView;
  /** Per operator index: its licenses (`CheckerLicense.licensesOf`) and stake; undefined for a tombstone. */
  standing: ({ licenses: bigint; staked: bigint } | undefined)[];
}

/** The live operators of the set that are no longer active, with why. */
export function inactive(state: ExcludeState): InactiveOperator[] {
  const out: InactiveOperator[] = [];
  state.view.operators.forEach((operator, index) => {
    const s = state.standing[index];
    if (operator === ZeroAddress || !s) return;
    let reasons = 0n;
    if (s.licenses === 0n) reasons |= EXCLUDED_NO_LICENSE;
    if (s.staked < state.view.minCheckerStake) reasons |= EXCLUDED_UNDER_STAKED;
    if (reasons !== 0n) out.push({ index, operator, reasons, licenses: s.licenses, staked: s.staked });
  });
  return out;
}

/** One exclusion per operator no longer active. */
export function check(state: ExcludeState): JobStep[] {
  const { view } = state;
  return inactive(state).map((op) => ({
    log: {
      at: "Keeper#excludeOperator",
      version: view.version.toString(),
      index: op.index,
      operator: op.operator,
      reasons: reasonNames(op.reasons),
      licenses: op.licenses.toString(),
      staked: op.staked.toString(),
      minCheckerStake: view.minCheckerStake.toString(),
    },
    call: {
      kind: "exclude",
      key: `exclude:${view.version}:${op.index}`,
      contract: "ReportOracle",
      method: "excludeOperator",
      args: [op.index],
    },
  }));
}
