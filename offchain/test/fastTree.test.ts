import { expect } from "chai";
import fc from "fast-check";
import { getAddress, id, toBeHex, zeroPadValue } from "ethers";

import { LeafKind, buildRewardTree, rewardLeafHash, type RewardLeaf } from "../src/leaves";
import { buildRewardTreeFast, encodeLeaf, fastHashReady, leafHashBytes, nodeMetricsHashFast } from "../src/fastTree";
import { nodeMetricsHash } from "../src/leaves";

/** Seeded like the walks: `KAISAR_FC_SEED` replays a failure. */
const FC_PARAMS = { seed: Number(process.env.KAISAR_FC_SEED ?? 7_700), numRuns: 60 };

const leafZero: RewardLeaf = {
  kind: 0,
  epoch: 0n,
  account: getAddress("0x0000000000000000000000000000000000000001"),
  id: 0n,
  capacityReward: 0n,
  deliveryReward: 0n,
  checkerReward: 0n,
  metricsHash: id(""),
};

const leafArb: fc.Arbitrary<RewardLeaf> = fc.record({
  kind: fc.constantFrom(LeafKind.Node, LeafKind.Checker),
  epoch: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  account: fc.integer({ min: 1, max: 2 ** 31 }).map((n) => getAddress(zeroPadValue(toBeHex(n), 20))),
  id: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  capacityReward: fc.bigInt({ min: 0n, max: 10n ** 27n }),
  deliveryReward: fc.bigInt({ min: 0n, max: 10n ** 27n }),
  checkerReward: fc.bigInt({ min: 0n, max: 10n ** 27n }),
  metricsHash: fc.string().map((s) => id(s)),
});

describe("fastTree: the reward tree built fast", () => {
  before(() => fastHashReady);

  it("loads the WebAssembly hasher, and hashes the same before it is ready (ethers' keccak)", async () => {
    // The module started loading on import: this test ran the fallback only if it raced the load.
    await fastHashReady;
    expect(leafHashBytes(leafZero).toString("hex")).to.equal(rewardLeafHash(leafZero).slice(2));
  });

  it("hashes a leaf as the reference encoder does", async () => {
    await fc.assert(
      fc.asyncProperty(leafArb, async (l) => "0x" + leafHashBytes(l).toString("hex") === rewardLeafHash(l)),
      FC_PARAMS,
    );
  });

  it("hashes node metrics as the reference encoder does", async () => {
    const metricsArb = fc.record({
      uptimeBps: fc.bigInt({ min: 0n, max: 10_000n }),
      bandwidthMbps: fc.bigInt({ min: 0n, max: 1n << 40n }),
      hardwareScore: fc.bigInt({ min: 0n, max: 1n << 40n }),
      deliveredGpuSeconds: fc.bigInt({ min: 0n, max: 1n << 64n }),
      capacityPoints: fc.bigInt({ min: 0n, max: 1n << 64n }),
      deliveryPoints: fc.bigInt({ min: 0n, max: 1n << 64n }),
      hardwareMismatch: fc.boolean(),
      evidence: fc.string().map((s) => id(s)),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(metricsArb, { maxLength: 5 }), async (ms) => {
        const fast = ms.map(nodeMetricsHashFast);
        return JSON.stringify(fast) === JSON.stringify(ms.map(nodeMetricsHash));
      }),
      FC_PARAMS,
    );
  });

  it("builds the same root and the same proofs as StandardMerkleTree, for any leaves in any order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(leafArb, { minLength: 1, maxLength: 40 }), async (leaves) => {
        const reference = buildRewardTree(leaves);
        const fast = buildRewardTreeFast(leaves);
        if (fast.root !== reference.root) return false;
        return leaves.every((_, i) => JSON.stringify(fast.proof(i)) === JSON.stringify(reference.getProof(i)));
      }),
      FC_PARAMS,
    );
  });

  it("refuses what it cannot encode: no leaves, a bad address, a negative amount, a kind over 255", async () => {
    const ok: RewardLeaf = {
      kind: 0,
      epoch: 1n,
      account: getAddress("0x00000000000000000000000000000000000a11ce"),
      id: 1n,
      capacityReward: 0n,
      deliveryReward: 0n,
      checkerReward: 0n,
      metricsHash: id("m"),
    };
    expect(() => buildRewardTreeFast([])).to.throw(/at least one leaf/);
    expect(() => encodeLeaf({ ...ok, account: "0x1234" })).to.throw(/20 bytes/);
    expect(() => encodeLeaf({ ...ok, capacityReward: -1n })).to.throw(/uint256/);
    expect(() => encodeLeaf({ ...ok, kind: 256 })).to.throw(/uint8/);
    const one = buildRewardTreeFast([ok]);
    expect(() => one.proof(1)).to.throw(/no leaf 1/);
  });
});
