/**
 * THE leaf encoder of Kaisar's epoch reward trees, shared by tests, checkers, the keeper and the
 * web app. A leaf is the double-hashed ABI encoding of the fields of the Solidity `RewardLeaf`
 * (contracts/interfaces/IRewardDistributor.sol), in OpenZeppelin's StandardMerkleTree.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { AbiCoder, concat, isHexString, keccak256 } from "ethers";

export const LeafKind = { Node: 0, Checker: 1 } as const;

/** The Solidity types of a leaf's fields, in order. */
export const LEAF_ENCODING = [
  "uint8",
  "uint256",
  "address",
  "uint256",
  "uint256",
  "uint256",
  "uint256",
  "bytes32",
] as const;

export interface RewardLeaf {
  kind: number;
  epoch: bigint;
  account: string;
  id: bigint;
  capacityReward: bigint;
  deliveryReward: bigint;
  checkerReward: bigint;
  metricsHash: string;
}

/** What a node leaf commits to (Solidity `NodeMetrics`). */
export interface NodeMetrics {
  uptimeBps: bigint;
  bandwidthMbps: bigint;
  hardwareScore: bigint;
  deliveredGpuSeconds: bigint;
  capacityPoints: bigint;
  deliveryPoints: bigint;
  hardwareMismatch: boolean;
  evidence: string;
}

/** What a checker leaf commits to. */
export interface CheckerMetrics {
  licenses: bigint;
  reportsSigned: bigint;
  errorRateBps: bigint;
  evidence: string;
}

const coder = AbiCoder.defaultAbiCoder();

export function nodeMetricsHash(m: NodeMetrics): string {
  return keccak256(
    coder.encode(
      ["uint256", "uint256", "uint256", "uint256", "uint256", "uint256", "bool", "bytes32"],
      [
        m.uptimeBps,
        m.bandwidthMbps,
        m.hardwareScore,
        m.deliveredGpuSeconds,
        m.capacityPoints,
        m.deliveryPoints,
        m.hardwareMismatch,
        m.evidence,
      ],
    ),
  );
}

export function checkerMetricsHash(m: CheckerMetrics): string {
  return keccak256(
    coder.encode(
      ["uint256", "uint256", "uint256", "bytes32"],
      [m.licenses, m.reportsSigned, m.errorRateBps, m.evidence],
    ),
  );
}

/** A leaf's values in tree order. */
export function leafValues(l: RewardLeaf): [number, bigint, string, bigint, bigint, bigint, bigint, string] {
  return [l.kind, l.epoch, l.account, l.id, l.capacityReward, l.deliveryReward, l.checkerReward, l.metricsHash];
}

/** Total reward a leaf pays. */
export function leafReward(l: RewardLeaf): bigint {
  return l.capacityReward + l.deliveryReward + l.checkerReward;
}

/** The tree of an epoch's leaves. Leaves are sorted by the library, so the root is canonical. */
export function buildRewardTree(leaves: RewardLeaf[]) {
  return StandardMerkleTree.of(leaves.map(leafValues), [...LEAF_ENCODING]);
}

/** The hash the contract computes for `leaf` (RewardDistributor.leafHash). */
export function rewardLeafHash(leaf: RewardLeaf): string {
  return keccak256(keccak256(coder.encode([...LEAF_ENCODING], leafValues(leaf))));
}

/**
 * Whether `proof` proves `leaf` under `root`, checked the way RewardDistributor.claim does: the
 * contract's leaf hash (`rewardLeafHash`) folded with each proof element, pairs hashed sorted
 * (OpenZeppelin MerkleProof.processProof). False for a malformed proof element or root.
 */
export function verifyRewardProof(leaf: RewardLeaf, proof: readonly string[], root: string): boolean {
  if (!isHexString(root, 32) || !proof.every((p) => isHexString(p, 32))) return false;
  let hash = rewardLeafHash(leaf);
  for (const sibling of proof) {
    const [a, b] = [hash.toLowerCase(), sibling.toLowerCase()];
    hash = keccak256(concat(a < b ? [a, b] : [b, a]));
  }
  return hash.toLowerCase() === root.toLowerCase();
}

/** The proof of `leaf` in `tree`, or an error naming the leaf if it is not there. */
export function proofOf(tree: ReturnType<typeof buildRewardTree>, leaf: RewardLeaf): string[] {
  const wanted = rewardLeafHash(leaf);
  for (const [i] of tree.entries()) {
    if (tree.leafHash(tree.at(i)!) === wanted) return tree.getProof(i);
  }
  throw new Error(`leaf of account ${leaf.account}, id ${leaf.id}, epoch ${leaf.epoch} is not in the tree`);
}

/** Sum of the rewards of `leaves`: what a keeper checks against the epoch budget before posting. */
export function totalReward(leaves: RewardLeaf[]): bigint {
  return leaves.reduce((sum, l) => sum + leafReward(l), 0n);
}
