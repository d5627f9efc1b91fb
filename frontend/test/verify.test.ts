import { describe, expect, it } from "vitest";

import { keeperProofToJson } from "@kaisar/offchain/src/json";
import {
  LeafKind,
  buildRewardTree,
  checkerMetricsHash,
  nodeMetricsHash,
  proofOf,
  type RewardLeaf,
} from "@kaisar/offchain/src/leaves";

import { checkKeeperProof, mismatchMessage } from "../src/features/rewards/verify";

const ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const CAROL = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const KAI = 10n ** 18n;
const EPOCH = 12;
const METRICS = {
  uptimeBps: 9_950n,
  bandwidthMbps: 10_000n,
  hardwareScore: 812n,
  deliveredGpuSeconds: 86_400n,
  capacityPoints: 1_234n,
  deliveryPoints: 567n,
  hardwareMismatch: false,
  evidence: "0x" + "ab".repeat(32),
};

function nodeLeaf(account: string, id: bigint, capacity: bigint, delivery: bigint, epoch = BigInt(EPOCH)): RewardLeaf {
  return {
    kind: LeafKind.Node,
    epoch,
    account,
    id,
    capacityReward: capacity,
    deliveryReward: delivery,
    checkerReward: 0n,
    metricsHash: nodeMetricsHash({ ...METRICS, capacityPoints: id }),
  };
}

const CHECKER_LEAF: RewardLeaf = {
  kind: LeafKind.Checker,
  epoch: BigInt(EPOCH),
  account: CAROL,
  id: 0n,
  capacityReward: 0n,
  deliveryReward: 0n,
  checkerReward: 25n * KAI,
  metricsHash: checkerMetricsHash({
    licenses: 3n,
    reportsSigned: 9n,
    errorRateBps: 0n,
    evidence: "0x" + "cd".repeat(32),
  }),
};
const LEAVES = [
  nodeLeaf(ALICE, 1n, 300n * KAI, 200n * KAI),
  nodeLeaf(ALICE, 2n, 100n * KAI, 50n * KAI),
  nodeLeaf(BOB, 3n, 400n * KAI, 0n),
  CHECKER_LEAF,
];
/** A real epoch tree, built with the shared encoder: its root is what ReportOracle.reportRoot returns. */
const TREE = buildRewardTree(LEAVES);
const ROOT = TREE.root;

/** The keeper's answer for a leaf, as JSON text would carry it (the keeper's own root included). */
function answer(leaf: RewardLeaf, proof = proofOf(TREE, leaf), keeperRoot = ROOT) {
  return JSON.parse(JSON.stringify(keeperProofToJson(EPOCH, 0, keeperRoot, { leaf, proof })));
}

const node = (id: bigint) => ({ epoch: EPOCH, kind: 0 as const, subject: id });

describe("checkKeeperProof: the keeper's proof against the on-chain root", () => {
  it("accepts a valid proof of each node leaf, with its amount, ready for claim", () => {
    for (const leaf of LEAVES.slice(0, 3)) {
      const r = checkKeeperProof(answer(leaf), node(leaf.id), ROOT);
      expect(r.problem).toBeUndefined();
      expect(r.leaf).toEqual(leaf);
      expect(r.proof).toEqual(proofOf(TREE, leaf));
      expect(r.amount).toBe(leaf.capacityReward + leaf.deliveryReward);
    }
  });

  it("accepts a checker operator's leaf, its subject being its address", () => {
    const r = checkKeeperProof(answer(CHECKER_LEAF), { epoch: EPOCH, kind: 1, subject: BigInt(CAROL) }, ROOT);
    expect(r.problem).toBeUndefined();
    expect(r.amount).toBe(25n * KAI);
  });

  it("refuses a tampered amount", () => {
    const json = answer(LEAVES[0]);
    json.leaf.deliveryReward = (200n * KAI + 1n).toString();
    const r = checkKeeperProof(json, node(1n), ROOT);
    expect(r.problem).toBe(mismatchMessage(EPOCH));
    expect(r.problem).toBe("The keeper's proof for epoch 12 does not match the on-chain root");
    expect(r.proof).toBeUndefined();
  });

  it("refuses a valid proof of another tree: the on-chain root is the one that counts, not the keeper's", () => {
    const other = buildRewardTree([nodeLeaf(ALICE, 1n, 999n * KAI, 0n), LEAVES[2]]);
    const forged = nodeLeaf(ALICE, 1n, 999n * KAI, 0n);
    const r = checkKeeperProof(answer(forged, proofOf(other, forged), other.root), node(1n), ROOT);
    expect(r.problem).toBe(mismatchMessage(EPOCH));
    expect(checkKeeperProof(answer(LEAVES[0]), node(1n), other.root).problem).toBe(mismatchMessage(EPOCH));
  });

  it("refuses the proof of another leaf, and a proof cut short", () => {
    expect(checkKeeperProof(answer(LEAVES[0], proofOf(TREE, LEAVES[1])), node(1n), ROOT).problem).toBe(
      mismatchMessage(EPOCH),
    );
    expect(checkKeeperProof(answer(LEAVES[0], proofOf(TREE, LEAVES[0]).slice(1)), node(1n), ROOT).problem).toBe(
      mismatchMessage(EPOCH),
    );
  });

  it("refuses another node's (valid) leaf, or one of another epoch", () => {
    expect(checkKeeperProof(answer(LEAVES[1]), node(1n), ROOT).problem).toMatch(/leaf of another node or epoch/);
    expect(checkKeeperProof(answer(LEAVES[0]), { ...node(1n), epoch: EPOCH + 1 }, ROOT).problem).toMatch(
      /leaf of another node or epoch/,
    );
  });

  it("refuses an epoch with no root on chain", () => {
    expect(checkKeeperProof(answer(LEAVES[0]), node(1n), "0x" + "0".repeat(64)).problem).toBe(
      "Epoch 12 has no report on chain yet",
    );
  });

  it("names the field of a malformed answer", () => {
    const json = answer(LEAVES[0]);
    delete json.leaf.metricsHash;
    expect(checkKeeperProof(json, node(1n), ROOT).problem).toBe(
      `The keeper's answer for epoch 12 is malformed: answer.leaf lacks "metricsHash"`,
    );
    json.leaf.metricsHash = LEAVES[0].metricsHash;
    json.proof[0] = "0x12";
    expect(checkKeeperProof(json, node(1n), ROOT).problem).toBe(
      "The keeper's answer for epoch 12 is malformed: answer.proof[0] is not 0x and 64 hex digits",
    );
  });
});
