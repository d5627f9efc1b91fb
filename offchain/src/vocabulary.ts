/**
 * The protocol's vocabulary: the contracts' enums (generated from the compiled contracts into
 * ./generated/protocol.ts by `hardhat compile`, see scripts/generate-protocol.js) and what the
 * TypeScript packages say about them. Import enums from here, never restate them.
 */
import {
  EQUIVOCATION_PENALTY_CODE,
  PenaltyReason,
  PenaltyReasonNames,
  type PenaltyReasonName,
} from "./generated/protocol";

export {
  CloseReason,
  CloseReasonNames,
  EQUIVOCATION_PENALTY_CODE,
  NodeStatus,
  NodeStatusNames,
  PenaltyReason,
  PenaltyReasonNames,
  Plan,
  PlanNames,
  RentalStatus,
  RentalStatusNames,
  type CloseReasonName,
  type NodeStatusName,
  type PenaltyReasonName,
  type PlanName,
  type RentalStatusName,
} from "./generated/protocol";

/**
 * The registry's `uint8` code of a penalty reason (`Penalty.reason`, the `Slash` event): the enum's
 * value, except `Equivocation`, recorded as `EQUIVOCATION_PENALTY_CODE` (DataTypes.sol).
 */
export function penaltyCode(reason: PenaltyReason): number {
  return reason === PenaltyReason.Equivocation ? EQUIVOCATION_PENALTY_CODE : reason;
}

/** The penalty reason of a registry code, or undefined for a code no contract records. */
export function penaltyReasonOf(code: number | bigint): PenaltyReason | undefined {
  const n = Number(code);
  if (n === EQUIVOCATION_PENALTY_CODE) return PenaltyReason.Equivocation;
  if (n === PenaltyReason.Equivocation || !Number.isInteger(n) || n <= 0 || n >= PenaltyReasonNames.length) {
    return undefined;
  }
  return n as PenaltyReason;
}

/** What each penalty reason means, for the provider who paid it. */
export const PENALTY_REASON_TEXT: Record<Exclude<PenaltyReasonName, "None">, string> = {
  SlaCredit: "SLA credit paid to a renter from your stake (uptime below the rental's SLA)",
  Downtime: "repeated downtime (attested uptime below the threshold for consecutive epochs)",
  HardwareFraud: "hardware fraud (the checkers' hardware test differs from the registered spec)",
  SavingRefund:
    "saving plan refunded to its renter from your stake (your node was jailed; what you had withdrawn from the plan)",
  Equivocation: "equivocation (signed two different reports for one epoch)",
};

/** The sentence for a registry penalty code (`reason N` for a code no contract records). */
export function penaltyText(code: number | bigint): string {
  const reason = penaltyReasonOf(code);
  return reason === undefined
    ? `reason ${code}`
    : PENALTY_REASON_TEXT[PenaltyReasonNames[reason] as Exclude<PenaltyReasonName, "None">];
}

/** The name of an enum value read from chain (a number or bigint), or `<value>` for one out of range. */
export function enumName<N extends readonly string[]>(names: N, value: number | bigint): N[number] | string {
  return names[Number(value)] ?? String(value);
}
