/**
 * Everything `rent` would check on chain, checked before the first signature: the escrow not paused,
 * the node taking rentals (status, maintenance, stake, free GPUs), the GPU count within what is free,
 * the token accepted and enabled, the deposit within the escrow's bounds (offchain/src/rentalMath's
 * mirror of `_quote`: at least the grace period's worth, at most what storage holds), and the
 * renter's balance. Each problem reads as the sentence of the error the
 * chain would answer (lib/errors), so the words are the same before and after a transaction. Pure.
 */
import { ContractRevert, quote as chainQuote, type Plan } from "@kaisar/offchain/src/rentalMath";

import { ERROR_MESSAGES } from "./errors";
import { parseAmount } from "./format";
import { underStakeReason, unavailableReason, type ChainNode, type JailInfo } from "./health";

export interface RentCheckInput {
  node: ChainNode & { id: number };
  gpus: number;
  plan: Plan;
  /** The node's price per GPU-hour in the chosen token (0: not accepted). */
  pricePerGpuHour: bigint;
  /** `RentParams.deposit` (0 for a saving plan). */
  depositParam: bigint;
  termDays: number;
  savingDiscountBps: bigint;
  /** The current terms' grace period, seconds: a first PAYG/Hourly deposit must pay for it. */
  gracePeriod: bigint;
  /** What the rent pulls from the wallet (the quote's total). */
  total: bigint;
  /** The renter's balance of the token (undefined while unknown: not checked). */
  balance: bigint | undefined;
  escrowPaused: boolean;
  tokenEnabled: boolean;
  token: { symbol: string; decimals: number };
  nowSec: number;
  jail?: JailInfo;
  /** The provider's under-stake sentence (offchain/src/stake.ts), when its stake is under its requirement. */
  underStake?: string;
}

/** The GPU counts this node can take now: 1 to its free GPUs (at most 255 per rental). */
export function gpuRange(freeGpus: number): { min: number; max: number } {
  return { min: 1, max: Math.min(freeGpus, 255) };
}

/** The first thing that would make `rent` revert, as a sentence; undefined when it would go through. */
export function rentProblem(i: RentCheckInput): string | undefined {
  const ctx = { token: i.token, now: i.nowSec };
  const say = (name: string, args: readonly unknown[]) => ERROR_MESSAGES[name](args, ctx);
  if (i.escrowPaused) return say("RentalEscrow_Paused", []);
  const stake = underStakeReason(i.node, i.nowSec, i.jail, i.underStake);
  if (stake) return stake;
  const reason = unavailableReason(i.node, i.nowSec, i.jail);
  if (reason) return `Node #${i.node.id} takes no rentals now: ${reason}.`;
  const { max } = gpuRange(i.node.freeGpus);
  if (!Number.isInteger(i.gpus) || i.gpus < 1 || i.gpus > max) {
    return `Choose between 1 and ${max} GPUs: node #${i.node.id} has ${i.node.freeGpus} free.`;
  }
  if (!i.tokenEnabled || i.pricePerGpuHour === 0n) return say("NodeRegistry_TokenNotAccepted", [i.node.id]);
  try {
    chainQuote(
      i.plan,
      i.pricePerGpuHour,
      BigInt(i.gpus),
      i.depositParam,
      BigInt(i.termDays),
      i.savingDiscountBps,
      i.gracePeriod,
    );
  } catch (e) {
    if (e instanceof ContractRevert && ERROR_MESSAGES[e.errorName]) return say(e.errorName, e.args);
    throw e;
  }
  if (i.balance !== undefined && i.balance < i.total) {
    return say("ERC20InsufficientBalance", ["0x", i.balance, i.total]);
  }
  return undefined;
}

/**
 * Why a top-up of `text` cannot be sent, as a sentence (undefined: it can; "" while the field is
 * empty, which needs no message). The button is never disabled without one of these.
 */
export function topUpProblem(
  text: string,
  token: { symbol: string; decimals: number },
  balance: bigint | undefined,
): string | undefined {
  const t = text.trim();
  if (t === "") return "";
  if (/^-/.test(t)) return "Enter a positive amount.";
  if (/e/i.test(t)) return `Write the amount in plain digits (such as 10 or 2.5), not ${JSON.stringify(t)}.`;
  const amount = parseAmount(t, token.decimals);
  if (amount === undefined) {
    return /^[\d,_\s]*\.\d+$/.test(t)
      ? `${token.symbol} has ${token.decimals} decimals: use at most ${token.decimals} digits after the point.`
      : `${JSON.stringify(t)} is not an amount: enter digits such as 10 or 2.5.`;
  }
  if (amount === 0n) return ERROR_MESSAGES.RentalEscrow_ZeroAmount([], { token, now: 0 });
  if (balance !== undefined && amount > balance) {
    return ERROR_MESSAGES.ERC20InsufficientBalance(["0x", balance, amount], { token, now: 0 });
  }
  return undefined;
}
