/**
 * A provider's epoch rewards: the leaves a keeper's proofs API serves for its nodes, each read with
 * the shared decoder and checked against the epoch's root on chain (offchain/src/keeperProof.ts, as
 * the web app does), whether each is claimed, and the vesting positions of what was claimed.
 * `kaisar provider status` shows them; `kaisar provider claim` claims every verified unclaimed leaf.
 */
import { checkKeeperProof, formatTokenAmount, type CheckedProof, type RewardLeaf } from "@kaisar/offchain";

import { ENV, type ProviderConfig } from "../config";
import type { KaisarContracts } from "../chain/contracts";

/** KAI (18 decimals) for people: thousands separated, at most 4 decimals (rounded down), "KAI". */
export function displayKai(amount: bigint): string {
  return displayAmount(amount, "KAI");
}

/** A token amount for people: "24,000 KAI", "1,234.5678 KAI", "< 0.0001 KAI" for dust (offchain/src/amount.ts). */
export const displayAmount = formatTokenAmount;

/** One node's leaf of one epoch, as the keeper served it and the chain judged it. */
export type NodeReward = CheckedProof & { epoch: number; nodeId: number; claimed: boolean };

export interface ProviderRewards {
  /** The keeper asked (undefined: no keeperUrl set). */
  keeperUrl?: string;
  /** Why the keeper could not be read (unreachable, bad answer). */
  keeperProblem?: string;
  /** Every leaf served for the provider's nodes. */
  leaves: NodeReward[];
  /** Verified and not yet claimed: what `claim` sends. */
  claimable: (NodeReward & { leaf: RewardLeaf; proof: string[] })[];
  /** Vesting positions: claimed per UTC day, what withdrawing now pays, and when it pays more. */
  vesting: {
    day: number;
    date: string;
    amount: bigint;
    vestedBps: number;
    withdrawableNow: bigint;
    /** Unix seconds at which the next step is reached (undefined once fully vested). */
    nextStepAt?: number;
  }[];
}

/** The epochs a keeper's proofs API has on chain, newest first (at most `limit`). */
async function keeperEpochs(keeperUrl: string, limit: number, timeoutMs: number): Promise<number[]> {
  const res = await fetch(`${keeperUrl.replace(/\/+$/, "")}/epochs`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${keeperUrl}/epochs answered ${res.status}`);
  const body = (await res.json()) as { epochs?: { epoch?: unknown }[] };
  if (!Array.isArray(body.epochs)) throw new Error(`GET ${keeperUrl}/epochs did not answer { epochs: [...] }`);
  const epochs = body.epochs.map((e) => e.epoch).filter((e): e is number => Number.isSafeInteger(e));
  return [...new Set(epochs)].sort((a, b) => b - a).slice(0, limit);
}

/** The keeper's answer for `nodeId` in `epoch` (undefined on 404: the node has no leaf that epoch). */
async function nodeProof(keeperUrl: string, epoch: number, nodeId: number, timeoutMs: number): Promise<unknown> {
  const url = `${keeperUrl.replace(/\/+$/, "")}/epochs/${epoch}/nodes/${nodeId}/proof`;
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return res.json();
}

/**
 * The rewards of `provider`'s nodes `nodeIds`: leaves from `config.keeperUrl` (the last `epochs`
 * epochs it reports), checked against ReportOracle.reportRoot, and RewardDistributor's positions.
 */
export async function providerRewards(
  contracts: KaisarContracts,
  config: Pick<ProviderConfig, "keeperUrl">,
  provider: string,
  nodeIds: number[],
  now: number,
  options: { epochs?: number; timeoutMs?: number } = {},
): Promise<ProviderRewards> {
  const { RewardDistributor, ReportOracle } = contracts;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const out: ProviderRewards = { keeperUrl: config.keeperUrl, leaves: [], claimable: [], vesting: [] };
  if (config.keeperUrl && nodeIds.length > 0) {
    try {
      for (const epoch of await keeperEpochs(config.keeperUrl, options.epochs ?? 30, timeoutMs)) {
        // The chain's root, read once per epoch: the keeper's own `root` is not trusted.
        let root: string | undefined;
        for (const nodeId of nodeIds) {
          const raw = await nodeProof(config.keeperUrl, epoch, nodeId, timeoutMs);
          if (raw === undefined) continue;
          root ??= await ReportOracle.reportRoot(epoch);
          const checked = checkKeeperProof(raw, { epoch, kind: 0, subject: BigInt(nodeId) }, root);
          const claimed = await RewardDistributor.isClaimed(epoch, 0, nodeId);
          if (checked.problem !== undefined) {
            out.leaves.push({ ...checked, epoch, nodeId, claimed });
            continue;
          }
          const { leaf, proof, amount } = checked;
          // A claim pays the leaf's account: a leaf for another address is not this provider's to claim.
          if (leaf.account.toLowerCase() !== provider.toLowerCase()) {
            out.leaves.push({
              epoch,
              nodeId,
              claimed,
              amount,
              leaf,
              problem: `The keeper's leaf for node ${nodeId} in epoch ${epoch} pays ${leaf.account}, not ${provider}`,
            });
            continue;
          }
          const reward = { leaf, proof, amount, epoch, nodeId, claimed };
          out.leaves.push(reward);
          if (!claimed && amount > 0n) out.claimable.push(reward);
        }
      }
    } catch (e) {
      out.keeperProblem = `the keeper at ${config.keeperUrl} (keeperUrl, env ${ENV.keeperUrl}) could not be read: ${(e as Error).message}`;
    }
  }
  for (const p of await RewardDistributor.positionsOf(provider)) {
    if (p.amount === 0n) continue;
    // As RewardDistributor.withdrawVested: a position's clock starts when its UTC day ends.
    const opened = (Number(p.day) + 1) * 86_400;
    const age = Math.max(0, now - opened);
    const bps = Number(await RewardDistributor.vestedBps(age));
    // The next step: the first later age at which vestedBps grows (the contract's own schedule).
    let nextStepAt: number | undefined;
    for (const days of [30, 90, 180]) {
      if (opened + days * 86_400 > now && Number(await RewardDistributor.vestedBps(days * 86_400)) > bps) {
        nextStepAt = opened + days * 86_400;
        break;
      }
    }
    out.vesting.push({
      day: Number(p.day),
      date: new Date(Number(p.day) * 86_400_000).toISOString().slice(0, 10),
      amount: p.amount,
      vestedBps: bps,
      withdrawableNow: (p.amount * BigInt(bps)) / 10_000n,
      nextStepAt,
    });
  }
  return out;
}
