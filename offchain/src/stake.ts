/**
 * A provider whose active stake is under what its listed nodes require (`NodeRegistry.requiredStake`),
 * in one sentence for every surface: the web app's rent, marketplace and provider pages, the `kaisar`
 * CLI and the provider agent's /health. The stake can fall under the requirement without the provider
 * doing anything: a credit from stake paid to a renter (SlaEnforcer.payStakeCredit), a slash, or
 * governance raising `baseStakePerGpu`; or by its own unstake while none of its nodes is rented. While it is under, the registry refuses every rental of the
 * provider's nodes (`reserveGpus` reverts `NodeRegistry_InsufficientStake(provider, staked, required)`)
 * and its nodes earn no epoch rewards (`eligibleSince` is 0).
 */
import { formatTokenAmount } from "./amount";

export interface StakeStanding {
  /** The provider's active stake (`getStake(provider).staked`), token units. */
  staked: bigint;
  /** What its listed nodes require (`requiredStake(provider)`), token units. */
  required: bigint;
}

/** How much more the provider must stake to cover its nodes (0 when covered). */
export function stakeShortfall(s: StakeStanding): bigint {
  return s.required > s.staked ? s.required - s.staked : 0n;
}

/** "0xab12…cd34": a provider's address as the sentence names it. */
export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

/**
 * The sentence saying `provider` is under its stake requirement and how much to stake, or undefined
 * when its stake covers its nodes. Amounts in KAI (18 decimals) unless `token` says otherwise.
 */
export function underStakeSentence(
  provider: string,
  s: StakeStanding,
  token: { symbol: string; decimals: number } = { symbol: "KAI", decimals: 18 },
): string | undefined {
  const short = stakeShortfall(s);
  if (short === 0n) return undefined;
  const kai = (v: bigint) => formatTokenAmount(v, token.symbol, token.decimals);
  return (
    `Provider ${shortAddress(provider)} is under its stake requirement: ${kai(s.staked)} staked of ` +
    `${kai(s.required)} required (stake taken for a renter's SLA credit or a slash, unstaked, or a ` +
    `raised requirement), so its nodes take no rentals. Stake ${kai(short)} more to take rentals again.`
  );
}
