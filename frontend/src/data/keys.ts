/**
 * The TanStack Query key of every read the app caches, and which of them each write changes. A key
 * starts with its root (the name in `queryKeys`); after a transaction the transactor invalidates the
 * roots its calls name in `INVALIDATES`, so a rental's top-up refreshes the rentals and balances, not
 * the GPU classes, the keeper's epochs or the template catalog.
 */
import type { QueryClient } from "@tanstack/react-query";
import type { Address } from "viem";

export const queryKeys = {
  // The chain, through the lens and the contracts.
  nodes: (chainId: number) => ["nodes", chainId] as const,
  node: (chainId: number, nodeId: number) => ["node", chainId, nodeId] as const,
  gpuClasses: (chainId: number) => ["gpuClasses", chainId] as const,
  tokens: (chainId: number, escrow: Address) => ["tokens", chainId, escrow] as const,
  balances: (chainId: number, owner: Address | undefined, tokens: readonly Address[] | undefined) =>
    ["balances", chainId, owner, tokens] as const,
  provider: (chainId: number, provider: Address | undefined) => ["provider", chainId, provider] as const,
  underStake: (chainId: number, providers: readonly Address[]) => ["underStake", chainId, providers] as const,
  checker: (chainId: number, operator: Address | undefined) => ["checker", chainId, operator] as const,
  rentals: (chainId: number, who: Address | undefined, asProvider: boolean) =>
    ["rentals", chainId, who, asProvider] as const,
  escrowTerms: (chainId: number) => ["escrowTerms", chainId] as const,
  tokenEnabled: (chainId: number, token: string | undefined) => ["tokenEnabled", chainId, token] as const,
  penaltyBps: (chainId: number, version: number) => ["penaltyBps", chainId, version] as const,
  claimable: (keeperUrl: string | undefined, kind: number, subjects: string[], epochs: number[] | undefined) =>
    ["claimable", keeperUrl, kind, subjects, epochs] as const,
  // The chain's events.
  closeFigures: (chainId: number, rentalIds: string[]) => ["closeFigures", chainId, rentalIds] as const,
  slaCredits: (chainId: number, renter: Address | undefined) => ["slaCredits", chainId, renter] as const,
  slaEvents: (chainId: number, enforcer: Address | undefined) => ["slaEvents", chainId, enforcer] as const,
  penalties: (chainId: number, enforcer: Address | undefined, nodeId: number | undefined) =>
    ["penalties", chainId, enforcer, nodeId] as const,
  priceHistory: (chainId: number, nodeId: number) => ["priceHistory", chainId, nodeId] as const,
  providerIncome: (chainId: number, provider: Address) => ["providerIncome", chainId, provider] as const,
  // Node services: the keeper, the checkers, the template catalog.
  keeperEpochs: (keeperUrl: string | undefined) => ["keeperEpochs", keeperUrl] as const,
  keeperEpoch: (keeperUrl: string | undefined, epoch: number | undefined) => ["keeperEpoch", keeperUrl, epoch] as const,
  uptimeHistory: (keeperUrl: string | undefined, nodeId: number, epochs: number[]) =>
    ["uptimeHistory", keeperUrl, nodeId, epochs] as const,
  checkers: (urls: readonly string[]) => ["checkers", urls] as const,
  catalog: () => ["catalog"] as const,
};

export type KeyRoot = keyof typeof queryKeys;

/** What the stake of a provider (or checker) decides: its page, whether its nodes take rentals. */
const STAKE: KeyRoot[] = ["provider", "checker", "underStake", "nodes", "node", "balances"];
/** What opening or closing a rental changes: the rentals, the node's free GPUs, the money moved. */
const RENTAL: KeyRoot[] = ["rentals", "nodes", "node", "provider", "balances"];

/**
 * The reads each write of the app changes, by the write's function name. The transactor accepts only
 * calls named here (`AppWrite`), so a new write must say what it refreshes.
 */
export const INVALIDATES = {
  // An allowance is read when it is needed, never cached.
  approve: [],
  stake: STAKE,
  requestUnstake: STAKE,
  withdrawUnstaked: STAKE,
  withdrawRewards: ["provider", "balances"],
  registerNode: ["provider", "nodes", "node"],
  rent: RENTAL,
  rentWithPermit: RENTAL,
  topUp: ["rentals", "balances"],
  topUpWithPermit: ["rentals", "balances"],
  endRental: [...RENTAL, "closeFigures"],
  withdrawEarnings: ["rentals", "balances", "providerIncome"],
  // A claim opens a vesting position (provider and checker pages) and is a Claim event (income chart).
  claim: ["claimable", "provider", "checker", "providerIncome"],
  withdrawVested: ["provider", "checker", "balances"],
  delegate: ["checker"],
  undelegate: ["checker"],
} as const satisfies Record<string, readonly KeyRoot[]>;

export type AppWrite = keyof typeof INVALIDATES;

/** Invalidates (refetching those on screen) every read the writes `functionNames` change, and only those. */
export async function invalidateAfter(queryClient: QueryClient, functionNames: readonly AppWrite[]): Promise<void> {
  const roots = new Set<KeyRoot>(functionNames.flatMap((f) => INVALIDATES[f]));
  await Promise.all([...roots].map((root) => queryClient.invalidateQueries({ queryKey: [root] })));
}
