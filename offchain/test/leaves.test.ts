import { expect } from "chai";
import fc from "fast-check";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { concat, getAddress, hexlify, id, keccak256, toBeHex, zeroPadValue } from "ethers";

import {
  LEAF_ENCODING,
  LeafKind,
  buildRewardTree,
  checkerMetricsHash,
  leafReward,
  leafValues,
  nodeMetricsHash,
  proofOf,
  rewardLeafHash,
  totalReward,
  verifyRewardProof,
  type CheckerMetrics,
  type NodeMetrics,
  type RewardLeaf,
} from "../src";

/** Seeded like the walks: `KAISAR_FC_SEED` replays a failure. */
const FC_PARAMS = { seed: Number(process.env.KAISAR_FC_SEED ?? 19_023), numRuns: 100 };

const ALICE = getAddress("0x00000000000000000000000000000000000a11ce");
const BOB = getAddress("0x0000000000000000000000000000000000000b0b");
const CAROL = getAddress("0x00000000000000000000000000000000000ca501");
const KAI = 10n ** 18n;

const NODE_METRICS: NodeMetrics = {
  uptimeBps: 9_950n,
  bandwidthMbps: 10_000n,
  hardwareScore: 812n,
  deliveredGpuSeconds: 86_400n,
  capacityPoints: 1_234n,
  deliveryPoints: 567n,
  hardwareMismatch: false,
  evidence: id("node samples"),
};
const CHECKER_METRICS: CheckerMetrics = {
  licenses: 3n,
  reportsSigned: 144n,
  errorRateBps: 12n,
  evidence: id("checker samples"),
};

function nodeLeaf(account: string, nodeId: bigint, capacity: bigint, delivery: bigint, epoch = 7n): RewardLeaf {
  return {
    kind: LeafKind.Node,
    epoch,
    account,
    id: nodeId,
    capacityReward: capacity,
    deliveryReward: delivery,
    checkerReward: 0n,
    metricsHash: nodeMetricsHash({ ...NODE_METRICS, capacityPoints: nodeId }),
  };
}

const LEAVES: RewardLeaf[] = [
  nodeLeaf(ALICE, 1n, 300n * KAI, 200n * KAI),
  nodeLeaf(ALICE, 2n, 100n * KAI, 50n * KAI),
  nodeLeaf(BOB, 3n, 400n * KAI, 0n),
  nodeLeaf(BOB, 4n, 0n, 0n),
  {
    kind: LeafKind.Checker,
    epoch: 7n,
    account: CAROL,
    id: 0n,
    capacityReward: 0n,
    deliveryReward: 0n,
    checkerReward: 250n * KAI,
    metricsHash: checkerMetricsHash(CHECKER_METRICS),
  },
];

/** A random leaf: any kind byte, any words, any account and metrics hash. */
const word = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.constantFrom(0n, 1n, 2n ** 256n - 1n));
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => hexlify(b));
const leafArb: fc.Arbitrary<RewardLeaf> = fc.record({
  kind: fc.integer({ min: 0, max: 255 }),
  epoch: word,
  account: bytes(20).map((a) => getAddress(a)),
  id: word,
  capacityReward: fc.bigInt({ min: 0n, max: 2n ** 200n }),
  deliveryReward: fc.bigInt({ min: 0n, max: 2n ** 200n }),
  checkerReward: fc.bigInt({ min: 0n, max: 2n ** 200n }),
  metricsHash: bytes(32),
});

/** ABI encoding by hand: each static field left-padded to 32 bytes (no AbiCoder involved). */
function wordsOf(values: (bigint | boolean | string)[]): string {
  return concat(
    values.map((v) =>
      typeof v === "string" ? zeroPadValue(v, 32) : toBeHex(typeof v === "boolean" ? (v ? 1n : 0n) : v, 32),
    ),
  );
}

describe("leaves: the reward tree encoder", function () {
  describe("buildRewardTree", function () {
    it("gives the same root whatever the order of the leaves", function () {
      const root = buildRewardTree(LEAVES).root;
      fc.assert(
        fc.property(fc.shuffledSubarray(LEAVES, { minLength: LEAVES.length, maxLength: LEAVES.length }), (shuffled) => {
          expect(buildRewardTree(shuffled).root, "root of a shuffled list").to.equal(root);
        }),
        FC_PARAMS,
      );
    });

    it("gives the same root for random trees of 1-50 leaves in any order", function () {
      fc.assert(
        fc.property(
          fc
            .array(leafArb, { minLength: 1, maxLength: 50 })
            .chain((leaves) =>
              fc.tuple(
                fc.constant(leaves),
                fc.shuffledSubarray(leaves, { minLength: leaves.length, maxLength: leaves.length }),
              ),
            ),
          ([leaves, shuffled]) => {
            expect(buildRewardTree(shuffled).root, "root").to.equal(buildRewardTree(leaves).root);
          },
        ),
        { ...FC_PARAMS, numRuns: 30 },
      );
    });

    it("changes the root when any leaf changes", function () {
      const root = buildRewardTree(LEAVES).root;
      const changed = [...LEAVES];
      changed[2] = { ...changed[2], capacityReward: changed[2].capacityReward + 1n };
      expect(buildRewardTree(changed).root, "root").to.not.equal(root);
    });

    it("has the leaf hash as the root of a one-leaf tree", function () {
      expect(buildRewardTree([LEAVES[0]]).root, "root").to.equal(rewardLeafHash(LEAVES[0]));
    });
  });

  describe("proofOf", function () {
    it("finds each leaf, and StandardMerkleTree.verify accepts its proof", function () {
      const tree = buildRewardTree(LEAVES);
      for (const leaf of LEAVES) {
        const proof = proofOf(tree, leaf);
        expect(StandardMerkleTree.verify(tree.root, [...LEAF_ENCODING], leafValues(leaf), proof), `leaf ${leaf.id}`).to
          .be.true;
        expect(tree.verify(leafValues(leaf), proof), `tree.verify ${leaf.id}`).to.be.true;
      }
    });

    it("finds every leaf of random trees of 1-50 leaves", function () {
      fc.assert(
        fc.property(fc.array(leafArb, { minLength: 1, maxLength: 50 }), (leaves) => {
          const tree = buildRewardTree(leaves);
          for (const leaf of leaves) {
            const proof = proofOf(tree, leaf);
            expect(StandardMerkleTree.verify(tree.root, [...LEAF_ENCODING], leafValues(leaf), proof), "verify").to.be
              .true;
          }
        }),
        { ...FC_PARAMS, numRuns: 30 },
      );
    });

    it("gives a proof that fails for the leaf with one more unit of reward", function () {
      const tree = buildRewardTree(LEAVES);
      const proof = proofOf(tree, LEAVES[0]);
      const forged = { ...LEAVES[0], capacityReward: LEAVES[0].capacityReward + 1n };
      expect(StandardMerkleTree.verify(tree.root, [...LEAF_ENCODING], leafValues(forged), proof), "verify").to.be.false;
    });

    it("throws, naming the account, id and epoch, for a leaf not in the tree", function () {
      const tree = buildRewardTree(LEAVES);
      const missing = nodeLeaf(BOB, 99n, 1n, 0n, 8n);
      expect(() => proofOf(tree, missing)).to.throw(`leaf of account ${BOB}, id 99, epoch 8 is not in the tree`);
    });

    it("throws for a leaf that differs from one in the tree by one unit", function () {
      const tree = buildRewardTree(LEAVES);
      const offByOne = { ...LEAVES[1], deliveryReward: LEAVES[1].deliveryReward - 1n };
      expect(() => proofOf(tree, offByOne)).to.throw(`leaf of account ${ALICE}, id 2, epoch 7 is not in the tree`);
    });
  });

  describe("verifyRewardProof", function () {
    it("accepts each leaf's proof under the root, as StandardMerkleTree.verify does", function () {
      const tree = buildRewardTree(LEAVES);
      for (const leaf of LEAVES)
        expect(verifyRewardProof(leaf, proofOf(tree, leaf), tree.root), `${leaf.id}`).to.be.true;
    });

    it("agrees with StandardMerkleTree.verify on random trees, for the right and the wrong leaf", function () {
      fc.assert(
        fc.property(fc.array(leafArb, { minLength: 1, maxLength: 30 }), fc.nat(), (leaves, pick) => {
          const tree = buildRewardTree(leaves);
          const leaf = leaves[pick % leaves.length];
          const proof = proofOf(tree, leaf);
          expect(verifyRewardProof(leaf, proof, tree.root)).to.be.true;
          const forged = { ...leaf, checkerReward: leaf.checkerReward + 1n };
          expect(verifyRewardProof(forged, proof, tree.root)).to.equal(
            StandardMerkleTree.verify(tree.root, [...LEAF_ENCODING], leafValues(forged), proof),
          );
        }),
        { ...FC_PARAMS, numRuns: 30 },
      );
    });

    it("accepts a one-leaf tree's empty proof under the leaf hash", function () {
      expect(verifyRewardProof(LEAVES[0], [], rewardLeafHash(LEAVES[0]))).to.be.true;
    });

    it("refuses a tampered amount, another root, another leaf's proof and a malformed proof", function () {
      const tree = buildRewardTree(LEAVES);
      const proof = proofOf(tree, LEAVES[0]);
      expect(verifyRewardProof({ ...LEAVES[0], deliveryReward: LEAVES[0].deliveryReward + 1n }, proof, tree.root)).to.be
        .false;
      expect(verifyRewardProof(LEAVES[0], proof, buildRewardTree(LEAVES.slice(1)).root)).to.be.false;
      expect(verifyRewardProof(LEAVES[0], proofOf(tree, LEAVES[2]), tree.root)).to.be.false;
      expect(verifyRewardProof(LEAVES[0], proof.slice(1), tree.root)).to.be.false;
      expect(verifyRewardProof(LEAVES[0], [...proof.slice(1), "0x1234"], tree.root)).to.be.false;
      expect(verifyRewardProof(LEAVES[0], proof, "0x00")).to.be.false;
    });

    it("does not care about the case of the hex digits", function () {
      const tree = buildRewardTree(LEAVES);
      const proof = proofOf(tree, LEAVES[3]).map((h) => "0x" + h.slice(2).toUpperCase());
      expect(verifyRewardProof(LEAVES[3], proof, "0x" + tree.root.slice(2).toUpperCase())).to.be.true;
    });
  });

  describe("rewardLeafHash", function () {
    it("equals the library's leafHash for each leaf", function () {
      const tree = buildRewardTree(LEAVES);
      for (const leaf of LEAVES) {
        expect(rewardLeafHash(leaf), `leaf ${leaf.id}`).to.equal(tree.leafHash(leafValues(leaf)));
      }
    });

    it("equals the library's leafHash for random leaves", function () {
      const tree = buildRewardTree(LEAVES);
      fc.assert(
        fc.property(leafArb, (leaf) => {
          expect(rewardLeafHash(leaf), "hash").to.equal(tree.leafHash(leafValues(leaf)));
        }),
        FC_PARAMS,
      );
    });

    it("is keccak256(keccak256(the eight fields, one 32-byte word each)), computed by hand", function () {
      const l = LEAVES[4];
      const encoded = wordsOf([
        BigInt(l.kind),
        l.epoch,
        l.account,
        l.id,
        l.capacityReward,
        l.deliveryReward,
        l.checkerReward,
        l.metricsHash,
      ]);
      expect(rewardLeafHash(l), "hash").to.equal(keccak256(keccak256(encoded)));
    });

    it("encodes the fields in the order of the Solidity RewardLeaf", function () {
      expect([...LEAF_ENCODING], "encoding").to.deep.equal([
        "uint8",
        "uint256",
        "address",
        "uint256",
        "uint256",
        "uint256",
        "uint256",
        "bytes32",
      ]);
    });
  });

  describe("totalReward and leafReward", function () {
    it("sums the three rewards of each leaf", function () {
      expect(LEAVES.map(leafReward), "rewards").to.deep.equal([500n * KAI, 150n * KAI, 400n * KAI, 0n, 250n * KAI]);
      expect(totalReward(LEAVES), "total").to.equal(1_300n * KAI);
    });

    it("is 0 for no leaves", function () {
      expect(totalReward([]), "total").to.equal(0n);
    });

    it("equals the sum of every reward field of random leaves, without overflow", function () {
      fc.assert(
        fc.property(fc.array(leafArb, { maxLength: 50 }), (leaves) => {
          const expected = leaves.reduce((s, l) => s + l.capacityReward + l.deliveryReward + l.checkerReward, 0n);
          expect(totalReward(leaves), "total").to.equal(expected);
        }),
        FC_PARAMS,
      );
    });
  });

  describe("metrics hashes", function () {
    it("nodeMetricsHash is keccak256 of the eight fields, one word each, computed by hand", function () {
      const m = NODE_METRICS;
      const byHand = keccak256(
        wordsOf([
          m.uptimeBps,
          m.bandwidthMbps,
          m.hardwareScore,
          m.deliveredGpuSeconds,
          m.capacityPoints,
          m.deliveryPoints,
          m.hardwareMismatch,
          m.evidence,
        ]),
      );
      expect(nodeMetricsHash(m), "hash").to.equal(byHand);
    });

    it("checkerMetricsHash is keccak256 of the four fields, one word each, computed by hand", function () {
      const m = CHECKER_METRICS;
      const byHand = keccak256(wordsOf([m.licenses, m.reportsSigned, m.errorRateBps, m.evidence]));
      expect(checkerMetricsHash(m), "hash").to.equal(byHand);
    });

    const nodeChanges: [keyof NodeMetrics, NodeMetrics[keyof NodeMetrics]][] = [
      ["uptimeBps", NODE_METRICS.uptimeBps + 1n],
      ["bandwidthMbps", NODE_METRICS.bandwidthMbps - 1n],
      ["hardwareScore", NODE_METRICS.hardwareScore + 1n],
      ["deliveredGpuSeconds", NODE_METRICS.deliveredGpuSeconds + 1n],
      ["capacityPoints", NODE_METRICS.capacityPoints + 1n],
      ["deliveryPoints", NODE_METRICS.deliveryPoints + 1n],
      ["hardwareMismatch", true],
      ["evidence", id("other samples")],
    ];
    for (const [field, value] of nodeChanges) {
      it(`nodeMetricsHash changes when ${field} changes`, function () {
        expect(nodeMetricsHash({ ...NODE_METRICS, [field]: value }), field).to.not.equal(nodeMetricsHash(NODE_METRICS));
      });
    }

    const checkerChanges: [keyof CheckerMetrics, CheckerMetrics[keyof CheckerMetrics]][] = [
      ["licenses", CHECKER_METRICS.licenses + 1n],
      ["reportsSigned", CHECKER_METRICS.reportsSigned - 1n],
      ["errorRateBps", CHECKER_METRICS.errorRateBps + 1n],
      ["evidence", id("other samples")],
    ];
    for (const [field, value] of checkerChanges) {
      it(`checkerMetricsHash changes when ${field} changes`, function () {
        expect(checkerMetricsHash({ ...CHECKER_METRICS, [field]: value }), field).to.not.equal(
          checkerMetricsHash(CHECKER_METRICS),
        );
      });
    }

    it("nodeMetricsHash does not mix up two fields swapped", function () {
      const swapped = {
        ...NODE_METRICS,
        capacityPoints: NODE_METRICS.deliveryPoints,
        deliveryPoints: NODE_METRICS.capacityPoints,
      };
      expect(nodeMetricsHash(swapped), "swapped").to.not.equal(nodeMetricsHash(NODE_METRICS));
    });
  });
});
