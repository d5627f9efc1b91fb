/**
 * Every failure a person can meet, as a sentence they understand: wallet rejections, missing gas,
 * wrong network, and each custom error of the contracts mapped by NAME (the NatSpec of
 * contracts/interfaces/*.sol, rephrased for a renter, provider or checker). Never a hex blob.
 */
import { BaseError } from "viem";

import { decodeRevert } from "@kaisar/offchain/src/revert";
import {
  CloseReasonNames,
  NodeStatus,
  NodeStatusNames,
  PlanNames,
  enumName,
  type PlanName,
} from "@kaisar/offchain/src/vocabulary";

import { formatAmount, formatDuration } from "./format";

/** How amounts in an error are shown: the token of the action (rent, top up) or KAI. */
export interface ErrorContext {
  token?: { symbol: string; decimals: number };
  /** Unix seconds now, for "in 5 min" phrasing. */
  now?: number;
}

type Args = readonly unknown[];
type Explain = (args: Args, ctx: Required<ErrorContext>) => string;

const KAI = { symbol: "KAI", decimals: 18 };
const big = (v: unknown) => (typeof v === "bigint" ? v : BigInt(String(v ?? 0)));
const amt = (v: unknown, ctx: Required<ErrorContext>) => formatAmount(big(v), ctx.token);
const kai = (v: unknown) => formatAmount(big(v), KAI);
const when = (v: unknown, ctx: Required<ErrorContext>) => {
  const t = Number(big(v));
  return t > ctx.now ? `in ${formatDuration(t - ctx.now)}` : "now";
};
/** A plan's name in a sentence. */
const PLAN_WORDS: Record<PlanName, string> = { PayAsYouGo: "pay-as-you-go", Hourly: "hourly", Saving: "saving" };
/** A node status in a sentence ("Node #3 is jailed"). */
const nodeStatusWords = (s: unknown) =>
  Number(s) === NodeStatus.None ? "unknown" : NodeStatusNames[Number(s)]?.toLowerCase();

/** Custom error name → sentence. */
export const ERROR_MESSAGES: Record<string, Explain> = {
  // RentalEscrow
  RentalEscrow_Paused: () =>
    "New rentals and top-ups are paused by the protocol's guardian. Ending rentals and withdrawals still work.",
  RentalEscrow_InvalidGpuCount: ([g]) => `A rental needs between 1 and 255 GPUs (you asked for ${g}).`,
  RentalEscrow_TokenNotAllowed: () => "That token is not accepted for payment.",
  RentalEscrow_InvalidTerm: ([plan, days]) =>
    PlanNames[Number(plan)] === "Saving"
      ? `A saving plan runs 7, 30 or 90 days, not ${days}.`
      : `The ${PLAN_WORDS[PlanNames[Number(plan)]]} plan has no term.`,
  RentalEscrow_InvalidDeposit: ([dep, min], ctx) =>
    big(min) === 0n
      ? "A saving plan is prepaid from its term: leave the deposit empty."
      : `The deposit of ${amt(dep, ctx)} is less than the minimum of ${amt(min, ctx)}.`,
  RentalEscrow_PriceAboveCap: ([, price, cap], ctx) =>
    `The provider changed the price to ${amt(price, ctx)} per GPU-hour, above the ${amt(cap, ctx)} you agreed to. Review the new price and try again.`,
  RentalEscrow_AmountTooLarge: ([, max], ctx) =>
    `That amount is too large for a single rental (at most ${amt(max, ctx)}).`,
  RentalEscrow_PermitFailed: ([, allowance, amount], ctx) =>
    `The signed permit did not apply (expired, or signed for another amount or account) and the escrow may spend only ${amt(allowance, ctx)} of the ${amt(amount, ctx)} needed: sign a new one.`,
  RentalEscrow_UnknownSlaTier: ([tier]) => `SLA tier ${tier} does not exist.`,
  RentalEscrow_DepositBelowGrace: ([dep, min], ctx) =>
    `The first deposit must pay for at least the grace period: ${amt(min, ctx)} (you offered ${amt(dep, ctx)}).`,
  RentalEscrow_PriceBelowFloor: ([id, price, floor], ctx) =>
    `Node #${id} asks ${amt(price, ctx)} per GPU-hour, below the protocol's floor of ${amt(floor, ctx)} for its GPU class.`,
  RentalEscrow_UnknownGpuClass: ([cls, count]) => `GPU class ${cls} does not exist (there are ${count}).`,
  RentalEscrow_UnknownRental: ([id]) => `Rental #${id} does not exist.`,
  RentalEscrow_NotRenter: ([id]) => `Only the renter of rental #${id} can do this. Connect the wallet that rented it.`,
  RentalEscrow_NotRentalParty: ([id]) => `Only the renter or the provider of rental #${id} can end it.`,
  RentalEscrow_NotProvider: ([id]) => `Rental #${id} does not run on one of your nodes.`,
  RentalEscrow_RentalClosed: ([id]) => `Rental #${id} is already closed.`,
  RentalEscrow_TopUpNotAllowed: () => "Saving plans are prepaid and cannot be topped up.",
  RentalEscrow_GraceExpired: ([id]) =>
    `The grace period of rental #${id} is over: it can only be closed now, not topped up.`,
  RentalEscrow_TopUpTooSmall: ([id, , min], ctx) =>
    `Rental #${id} is in its grace period: a top-up must buy at least a grace period of runtime, ${amt(min, ctx)}.`,
  RentalEscrow_NoGracePeriod: () => "Saving plans are prepaid: they have no grace period.",
  RentalEscrow_NotDepleted: ([id, until], ctx) =>
    `Rental #${id} is paid until later (${when(until, ctx)}); it has not run out.`,
  RentalEscrow_AlreadyInGrace: ([id]) => `Rental #${id} is already in its grace period.`,
  RentalEscrow_NotClosable: ([id, at], ctx) => `Rental #${id} can be closed ${when(at, ctx)}, not yet.`,
  RentalEscrow_InvalidCloseReason: ([r]) => `"${enumName(CloseReasonNames, big(r))}" is not a valid close reason here.`,
  RentalEscrow_TokenMismatch: ([id]) => `Rental #${id} is paid in another token.`,
  RentalEscrow_NothingToWithdraw: () => "There is nothing to withdraw yet.",
  RentalEscrow_FeeOnTransfer: () => "That token takes a fee on transfers, which the escrow refuses.",
  RentalEscrow_ParameterOutOfBounds: ([name]) => `The value of ${name} is out of bounds.`,
  RentalEscrow_AlreadySet: () => "That setting already has this value.",
  RentalEscrow_ZeroAddress: () => "An address is missing.",
  RentalEscrow_ZeroAmount: () => "Enter an amount above zero.",
  RentalEscrow_WrongNode: ([id]) => `Rental #${id} runs on another node.`,
  RentalEscrow_NoSlaBreach: ([id]) => `The node of rental #${id} met its SLA: no credit is due.`,
  RentalEscrow_NothingToCredit: ([id]) => `Rental #${id} served nothing in that epoch, so no credit is due.`,
  RentalEscrow_InvalidCreditSchedule: () => "That SLA credit schedule is invalid.",
  // NodeRegistry
  NodeRegistry_UnknownNode: ([id]) => `Node #${id} does not exist.`,
  NodeRegistry_NotNodeProvider: ([id]) =>
    `Node #${id} belongs to another provider. Connect the wallet that registered it.`,
  NodeRegistry_InvalidGpuClass: () => "Choose a GPU class that is open for new nodes.",
  NodeRegistry_InvalidSpec: ([field]) => `The hardware form is incomplete: check ${field}.`,
  NodeRegistry_InvalidMetadataURI: ([, max]) => `The endpoint URL must be 1 to ${max} characters.`,
  NodeRegistry_InvalidNodeStatus: ([id, s]) =>
    `Node #${id} is ${nodeStatusWords(s) ?? "not in a state that allows this"}, so this is not possible now.`,
  NodeRegistry_TokenNotAccepted: ([id]) => `Node #${id} does not accept that token.`,
  NodeRegistry_NotEnoughFreeGpus: ([id, req, free]) =>
    `Node #${id} has ${free} free GPU${Number(free) === 1 ? "" : "s"}; you asked for ${req}.`,
  NodeRegistry_InMaintenance: ([id, end], ctx) => `Node #${id} is in a maintenance window that ends ${when(end, ctx)}.`,
  NodeRegistry_InvalidMaintenanceWindow: () => "That maintenance window is too soon or too long.",
  NodeRegistry_InsufficientStake: ([, staked, req]) =>
    `The provider's stake (${kai(staked)}) does not cover the listed GPUs (${kai(req)} needed): the node cannot take rentals until the provider stakes more.`,
  NodeRegistry_NodeHasRentals: ([id, n]) => `Node #${id} still has ${n} rented GPU${Number(n) === 1 ? "" : "s"}.`,
  NodeRegistry_ZeroAmount: () => "Enter an amount above zero.",
  NodeRegistry_AmountTooLarge: ([, max]) => `That amount is too large (at most ${kai(max)}).`,
  NodeRegistry_StakeLocked: ([, , unlocked]) =>
    `Only ${kai(unlocked)} of your stake is free: the rest backs rented or saving-plan GPUs.`,
  NodeRegistry_InsufficientStaked: ([, amount, staked]) =>
    `You asked to unstake ${kai(amount)} but have ${kai(staked)} staked.`,
  NodeRegistry_NothingToWithdraw: ([, end], ctx) =>
    big(end) > BigInt(ctx.now)
      ? `Your unstaked KAI is still unbonding; it can be withdrawn ${when(end, ctx)}.`
      : "There is nothing to withdraw.",
  NodeRegistry_ParameterOutOfBounds: ([name]) => `The value of ${name} is out of bounds.`,
  NodeRegistry_AlreadySet: () => "That setting already has this value.",
  NodeRegistry_ZeroAddress: () => "An address is missing.",
  NodeRegistry_UnbondingBelowSlashLatency: ([period, latency]) =>
    `The unbonding period (${formatDuration(Number(big(period)))}) cannot be shorter than the time a slash may take to land (${formatDuration(Number(big(latency)))}).`,
  // ReportOracle
  ReportOracle_AlreadyProcessed: ([e]) => `Epoch ${e}'s report is already on chain.`,
  ReportOracle_StaleEpoch: ([e, last]) => `Epoch ${e} is older than the last reported epoch (${last}).`,
  ReportOracle_EpochNotEnded: ([e, at], ctx) => `Epoch ${e} ends ${when(at, ctx)}.`,
  ReportOracle_BelowQuorum: ([n, q]) => `The report has ${n} checker signatures; ${q} are needed.`,
  ReportOracle_OperatorWithoutLicense: () => "That operator holds no delegated checker license.",
  ReportOracle_OperatorUnderStaked: ([, staked, min]) =>
    `The checker has ${kai(staked)} staked; ${kai(min)} are needed.`,
  ReportOracle_OperatorEquivocated: () =>
    "That operator key was proven to sign two different reports of one epoch: it can never be a checker again. Use a new key.",
  ReportOracle_ExcludedSigner: ([, index]) =>
    `Checker #${index} was excluded from the checker set: its signature no longer counts. Leave it out of the report.`,
  ReportOracle_InvalidOperatorIndex: ([index, count]) =>
    `The checker set has ${count} operator${Number(count) === 1 ? "" : "s"}; there is no checker #${index}.`,
  ReportOracle_OperatorAlreadyExcluded: ([index]) => `Checker #${index} is already excluded from the checker set.`,
  ReportOracle_OperatorActive: ([index]) =>
    `Checker #${index} still holds a license and the minimum stake: it cannot be excluded.`,
  // RewardDistributor
  RewardDistributor_NoReport: ([e]) => `Epoch ${e} has no accepted report yet.`,
  RewardDistributor_InvalidProof: ([e]) => `The reward proof for epoch ${e} does not match the root on chain.`,
  RewardDistributor_AlreadyClaimed: ([e]) => `The reward of epoch ${e} was already claimed.`,
  RewardDistributor_BudgetExceeded: ([e]) => `Epoch ${e}'s reward budget is used up.`,
  RewardDistributor_InsufficientReserve: () =>
    "The reward reserve is empty for now; try again after governance funds it.",
  RewardDistributor_WrongBeneficiary: () => "Every reward in one claim must pay the same account.",
  RewardDistributor_NothingToClaim: () => "There is nothing to claim.",
  RewardDistributor_UnknownPosition: () => "Nothing is vesting from that day (never claimed, or already withdrawn).",
  RewardDistributor_ZeroAmount: () => "Enter an amount above zero.",
  // CheckerLicense
  CheckerLicense_NotLicenseOwner: ([id]) => `You do not own checker license #${id}.`,
  CheckerLicense_AlreadyDelegated: ([id, op]) => `License #${id} is already delegated to ${op}; undelegate it first.`,
  CheckerLicense_NotDelegated: ([id]) => `License #${id} is not delegated.`,
  CheckerLicense_Suspended: ([id]) => `License #${id} is suspended.`,
  CheckerLicense_SupplyCapReached: () => "All checker licenses have been minted.",
  CheckerLicense_DepartureCooldown: ([id, at], ctx) =>
    `License #${id} left an operator recently: it can leave one again ${when(at, ctx)} (until then, an equivocation proof against its former operator can still find it).`,
  CheckerLicense_ParameterOutOfBounds: ([name]) => `The value of ${name} is out of bounds.`,
  // SlaEnforcer
  SlaEnforcer_AlreadyCredited: ([id, e]) => `Rental #${id} was already credited for epoch ${e}.`,
  SlaEnforcer_UptimeAboveThreshold: ([e]) => `The node met its uptime target in epoch ${e}.`,
  SlaEnforcer_EvidenceExpired: ([e, deadline]) =>
    `Epoch ${e}'s evidence could slash only until ${new Date(Number(big(deadline)) * 1000).toISOString()}: it has expired.`,
  SlaEnforcer_SlashingWindowOpen: ([e, opensAt], ctx) =>
    `The part of epoch ${e}'s SLA credit owed from the provider's stake is paid after the epoch's slashing window: ${when(opensAt, ctx)}.`,
  SlaEnforcer_NothingDue: ([id, e]) => `Nothing from the provider's stake is due to rental #${id} for epoch ${e}.`,
  // OpenZeppelin
  ERC20InsufficientBalance: ([, balance, needed], ctx) =>
    `Your balance is too low: this needs ${amt(needed, ctx)} and you have ${amt(balance, ctx)}.`,
  ERC20InsufficientAllowance: ([, allowance, needed], ctx) =>
    `The contract may spend only ${amt(allowance, ctx)} of your tokens and needs ${amt(needed, ctx)}: approve the amount first.`,
  ERC2612ExpiredSignature: () => "The signed permit expired; sign again.",
  ERC2612InvalidSigner: () => "The permit was signed by another account; sign it with the connected wallet.",
  InvalidAccountNonce: () => "The permit was already used; sign a new one.",
  EnforcedPause: () => "This is paused by the protocol's guardian for now.",
  AccessControlUnauthorizedAccount: () => "Your account is not allowed to do this.",
  ERC721NonexistentToken: ([id]) => `License #${id} does not exist.`,
  ERC721IncorrectOwner: ([, id]) => `You do not own license #${id}.`,
};

/** A generic sentence for an error name without its own (split "Contract_Reason" into words). */
function fallback(name: string): string {
  const [contract, reason] = name.includes("_") ? name.split("_", 2) : ["", name];
  const words = reason.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return `The ${contract ? contract.replace(/([a-z])([A-Z])/g, "$1 $2") + " " : ""}contract refused: ${words}.`;
}

/**
 * The custom error's name and args, when `error` is (or wraps) a revert we can decode: offchain's
 * revert decoder (every custom error of the contracts, whichever contract reverted).
 */
export function revertOf(error: unknown): { name: string; args: Args } | undefined {
  const decoded = decodeRevert(error);
  return decoded && { name: decoded.name, args: decoded.args };
}

/** The sentence for any error thrown by a wallet, viem or the contracts. */
export function explainError(error: unknown, context: ErrorContext = {}): string {
  const ctx: Required<ErrorContext> = {
    token: context.token ?? KAI,
    now: context.now ?? Math.floor(Date.now() / 1000),
  };
  const revert = revertOf(error);
  if (revert) {
    const explain = ERROR_MESSAGES[revert.name];
    try {
      return explain ? explain(revert.args, ctx) : fallback(revert.name);
    } catch {
      return fallback(revert.name);
    }
  }
  const chain = error instanceof BaseError ? error.walk() : error;
  const code = (chain as { code?: number } | null)?.code ?? (error as { code?: number } | null)?.code;
  const text = [
    (error as { shortMessage?: string })?.shortMessage,
    (error as { details?: string })?.details,
    (error as Error)?.message,
    (chain as Error)?.message,
  ]
    .filter(Boolean)
    .join(" ");
  if (code === 4001 || /user rejected|user denied|rejected the request/i.test(text)) {
    return "You rejected the request in your wallet. Nothing was sent.";
  }
  if (code === 4902 || /unrecognized chain|chain .* not (added|configured)/i.test(text)) {
    return "Your wallet does not know this network yet: add it in the wallet, then try again.";
  }
  if (/chain mismatch|does not match the target chain|ChainMismatch/i.test(text)) {
    return "Your wallet is on another network. Switch networks and try again.";
  }
  if (/insufficient funds/i.test(text)) return "Your account has too little of the native coin to pay the network fee.";
  if (/nonce too low|nonce has already been used/i.test(text))
    return "Your wallet's transaction count is out of date; try again.";
  if (/fetch failed|failed to fetch|HTTP request failed|ECONNREFUSED|network error/i.test(text)) {
    return "The network did not answer. Check your connection (or that the local chain is running) and try again.";
  }
  if (/execution reverted/i.test(text)) return "The contract refused this transaction.";
  if (/not connected|ConnectorNotConnected/i.test(text)) return "Connect a wallet first.";
  const short = (error as { shortMessage?: string })?.shortMessage ?? (error as Error)?.message ?? String(error);
  // Never show a hex blob: cut anything that looks like calldata.
  return short.replace(/0x[0-9a-fA-F]{40,}/g, "…").split("\n")[0];
}
