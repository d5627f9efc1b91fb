/**
 * Checks a keeper's reward proof before anyone offers a claim with it (the web app's provider and
 * checker pages, `kaisar provider status` and `claim`): the answer is read with the shared decoder
 * (json.ts) and the proof checked against the epoch's root on chain with the shared encoder
 * (leaves.ts), the way RewardDistributor.claim will. The keeper is only a relay: a leaf it serves that
 * the chain would refuse is returned with the reason, never as claimable.
 *
 * Browser-safe (ethers and @openzeppelin/merkle-tree only): the web app imports this file directly.
 */
import { keeperProofFromJson } from "./json";
import { LeafKind, leafReward, verifyRewardProof, type RewardLeaf } from "./leaves";

const ZERO_ROOT = "0x" + "0".repeat(64);

/** What a claim is for: an epoch, and a node (kind 0, its id) or a checker operator (kind 1, its address). */
export interface ClaimSubject {
  epoch: number;
  kind: 0 | 1;
  /** The node id, or the operator's address as a number (RewardDistributor's `isClaimed` subject). */
  subject: bigint;
}

/** A checked answer: the leaf and proof to claim with, or why there is none. */
export type CheckedProof =
  | { leaf: RewardLeaf; proof: string[]; amount: bigint; problem?: undefined }
  | { leaf?: RewardLeaf; proof?: undefined; amount: bigint; problem: string };

/** An answer whose proof holds under the chain's root: ready for RewardDistributor.claim. */
export type VerifiedProof = Extract<CheckedProof, { problem?: undefined }>;

/** The message shown for a proof that the chain would refuse. */
export const mismatchMessage = (epoch: number) =>
  `The keeper's proof for epoch ${epoch} does not match the on-chain root`;

/**
 * Reads the keeper's answer `raw` (from `/epochs/:epoch/nodes/:id/proof` or `/checkers/:address/proof`)
 * for `want`, and checks its proof against `chainRoot`, ReportOracle.reportRoot(epoch).
 */
export function checkKeeperProof(raw: unknown, want: ClaimSubject, chainRoot: string): CheckedProof {
  let answer;
  try {
    answer = keeperProofFromJson(raw);
  } catch (e) {
    return { amount: 0n, problem: `The keeper's answer for epoch ${want.epoch} is malformed: ${(e as Error).message}` };
  }
  const { leaf, proof } = answer;
  const amount = leafReward(leaf);
  const subject = leaf.kind === LeafKind.Node ? leaf.id : BigInt(leaf.account);
  if (leaf.epoch !== BigInt(want.epoch) || leaf.kind !== want.kind || subject !== want.subject) {
    return {
      leaf,
      amount,
      problem: `The keeper answered for epoch ${want.epoch} with the leaf of another ${
        want.kind === LeafKind.Node ? "node" : "checker"
      } or epoch`,
    };
  }
  if (chainRoot.toLowerCase() === ZERO_ROOT) {
    return { leaf, amount, problem: `Epoch ${want.epoch} has no report on chain yet` };
  }
  if (!verifyRewardProof(leaf, proof, chainRoot)) return { leaf, amount, problem: mismatchMessage(want.epoch) };
  return { leaf, proof, amount };
}
