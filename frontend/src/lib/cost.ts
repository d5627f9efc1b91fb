/**
 * The rent form's cost preview: the unit price and deposit come from offchain's mirror of
 * RentalEscrow._quote (rentalMath.ts), so what the person sees is what the contract charges; this
 * file adds the paid time, the fee and the refund rules in words. Pure, unit tested.
 */
import {
  ContractRevert,
  SAVING_TERMS_DAYS,
  bpsOf,
  quote as escrowQuote,
  type Quote as EscrowQuote,
} from "@kaisar/offchain/src/rentalMath";
import { Plan, type PlanName } from "@kaisar/offchain/src/vocabulary";

import { formatBps } from "./format";

const HOUR = 3600;
const DAY = 86_400;

export type { PlanName };
/** The saving plan's terms, in days (7, 30, 90). */
export const SAVING_TERMS = SAVING_TERMS_DAYS.map(Number);

export interface QuoteInput {
  plan: PlanName;
  gpus: number;
  /** The node's price per GPU-hour in token units (what the person saw). */
  pricePerGpuHour: bigint;
  /** PayAsYouGo / Hourly: hours of runtime the person wants to prepay. */
  hours: number;
  /** Saving: 7, 30 or 90. */
  termDays: number;
  /** Saving: the contract's discount for `termDays`, bps. */
  savingDiscountBps: bigint;
  /** The rental terms' protocol fee (taken from the provider's earnings, not added to the renter's cost). */
  feeBps: bigint;
  /** Saving: share of the unused part kept on early exit, bps. */
  earlyExitPenaltyBps: bigint;
  /** Seconds of grace after the balance runs out. */
  gracePeriod: number;
  /** The most GPUs this node can take now (its free GPUs, at most 255); 255 when unknown. */
  maxGpus?: number;
}

export interface Quote {
  /** Token units per billing unit (per second for PayAsYouGo, per hour otherwise), as the contract stores it. */
  unitPrice: bigint;
  /** The deposit to approve and escrow (Saving: the prepaid term). `RentParams.deposit` is 0 for Saving. */
  total: bigint;
  /** What an hour costs at this rate. */
  perHour: bigint;
  /** Seconds of runtime the deposit pays for. */
  seconds: number;
  /** Saving: what the term would cost without the discount, minus what it costs. */
  discount: bigint;
  /** Part of `total` that goes to the protocol, not the provider (informational: the renter pays `total`). */
  fee: bigint;
  /** `RentParams.deposit`. */
  depositParam: bigint;
  /** The refund rules in words. */
  refundRules: string[];
}

/** RentalEscrow._quote's unit price and deposit (`deposit` 0: the preview sets it), or its error in words. */
function escrowPrice(input: QuoteInput, termDays: number): EscrowQuote | { error: string } {
  try {
    const { plan, pricePerGpuHour, gpus, savingDiscountBps } = input;
    return escrowQuote(Plan[plan], pricePerGpuHour, BigInt(gpus), 0n, BigInt(termDays), savingDiscountBps, 0n);
  } catch (e) {
    if (e instanceof ContractRevert) return { error: "That price is too large for a single rental." };
    throw e;
  }
}

/** The contract's quote for `input`, or an error sentence when the input cannot rent. */
export function quote(input: QuoteInput): Quote | { error: string } {
  const { plan, gpus, pricePerGpuHour } = input;
  const maxGpus = input.maxGpus ?? 255;
  if (maxGpus < 1) return { error: "No GPU of this node is free now." };
  if (!Number.isInteger(gpus) || gpus < 1 || gpus > maxGpus) {
    return { error: maxGpus === 1 ? "Only 1 GPU is free: choose 1." : `Choose between 1 and ${maxGpus} GPUs.` };
  }
  if (pricePerGpuHour <= 0n) return { error: "This node does not accept that token." };
  const perHour = pricePerGpuHour * BigInt(gpus);
  const grace = formatGrace(input.gracePeriod);
  if (plan === "Saving") {
    if (!SAVING_TERMS.includes(input.termDays)) return { error: "A saving plan runs 7, 30 or 90 days." };
    const price = escrowPrice(input, input.termDays);
    if ("error" in price) return price;
    const { unitPrice, deposit: total } = price;
    const full = perHour * 24n * BigInt(input.termDays);
    return {
      unitPrice,
      total,
      perHour: unitPrice,
      seconds: input.termDays * DAY,
      discount: full - total,
      fee: bpsOf(total, input.feeBps),
      depositParam: 0n,
      refundRules: [
        `Prepaid for ${input.termDays} days at a ${formatBps(input.savingDiscountBps)} discount; no top-ups.`,
        `Ending early refunds the unused part minus a ${formatBps(input.earlyExitPenaltyBps)} early-exit penalty.`,
        `If the provider ends it early, you get the unused part back plus the same ${formatBps(input.earlyExitPenaltyBps)} from the provider's earnings.`,
        "If the provider is slashed or breaks the SLA, you get every unused second back, with no penalty.",
      ],
    };
  }
  if (!(input.hours > 0) || !Number.isFinite(input.hours)) return { error: "Prepay at least some runtime." };
  const price = escrowPrice(input, 0);
  if ("error" in price) return price;
  const { unitPrice } = price;
  if (plan === "PayAsYouGo") {
    // Per second, rounded up so that the rate never undercharges the provider.
    const seconds = Math.round(input.hours * HOUR);
    const total = unitPrice * BigInt(seconds);
    return {
      unitPrice,
      total,
      perHour: unitPrice * BigInt(HOUR),
      seconds,
      discount: 0n,
      fee: bpsOf(total, input.feeBps),
      depositParam: total,
      refundRules: [
        "Charged by the second; top up any time.",
        "End it any time: every unused second comes back to your wallet.",
        `When the balance runs out the workload pauses for a ${grace} grace period in which you can top up; then the rental closes.`,
      ],
    };
  }
  const hours = Math.ceil(input.hours);
  const total = unitPrice * BigInt(hours);
  return {
    unitPrice,
    total,
    perHour: unitPrice,
    seconds: hours * HOUR,
    discount: 0n,
    fee: bpsOf(total, input.feeBps),
    depositParam: total,
    refundRules: [
      "Charged per started hour; top up any time.",
      "End it any time: hours not yet started come back to your wallet.",
      `When the balance runs out the workload pauses for a ${grace} grace period in which you can top up; then the rental closes.`,
    ],
  };
}

function formatGrace(seconds: number): string {
  if (seconds % DAY === 0) return `${seconds / DAY}-day`;
  if (seconds % HOUR === 0) return `${seconds / HOUR}-hour`;
  if (seconds % 60 === 0) return `${seconds / 60}-minute`;
  return `${seconds}-second`;
}

/**
 * The price cap sent with `rent`: exactly the price the person saw, so a provider raising it between
 * the preview and the transaction makes the rent revert instead of charging more.
 */
export function priceCap(seenPricePerGpuHour: bigint): bigint {
  return seenPricePerGpuHour;
}

/**
 * A pay-as-you-go or hourly rental's grace period at `now` (Unix seconds), from its on-chain state.
 * (Its money figures and the low-balance warning: lib/rentalView.)
 */
export function rentalClock(r: { paidUntil: bigint; closableAt: bigint }, now: number) {
  const paidUntil = Number(r.paidUntil);
  const closableAt = Number(r.closableAt);
  const secondsLeft = Math.max(0, paidUntil - now);
  const inGrace = now >= paidUntil && closableAt > 0 && now < closableAt;
  return {
    secondsLeft,
    inGrace,
    graceLeft: inGrace ? closableAt - now : 0,
  };
}
