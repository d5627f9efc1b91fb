import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { DAY } from "../../fixtures";
import { BPS, EPOCH, VESTING_STEPS, deployDistributor, deployWithEpoch, vestedBpsOf } from "../../helpers/rewards";
import { LeafKind, leafValues, rewardLeafHash, type RewardLeaf } from "../../../offchain/src/leaves";
import { fcSeed } from "../../helpers/fcEnv";

const SEED = fcSeed("KAISAR_FC_SEED", 31_337);
const UINT256_MAX = ethers.MaxUint256;

describe("RewardDistributor views", function () {
  describe("vestedBps(age)", function () {
    const d = BigInt(DAY);
    const table: [string, bigint, bigint][] = [
      ["0 s", 0n, 2_500n],
      ["1 day", d, 2_500n],
      ["30 days - 1 s", 30n * d - 1n, 2_500n],
      ["30 days", 30n * d, 5_000n],
      ["60 days", 60n * d, 5_000n],
      ["90 days - 1 s", 90n * d - 1n, 5_000n],
      ["90 days", 90n * d, 7_500n],
      ["180 days - 1 s", 180n * d - 1n, 7_500n],
      ["180 days", 180n * d, 10_000n],
      ["10 years", 3_650n * d, 10_000n],
      ["2^256 - 1 s", UINT256_MAX, 10_000n],
    ];
    for (const [name, age, bps] of table) {
      it(`is ${bps} bps at ${name}`, async function () {
        const c = await loadFixture(deployDistributor);
        expect(await c.distributor.vestedBps(age), `vestedBps(${age})`).to.equal(bps);
        expect(vestedBpsOf(age), "the helper's model").to.equal(bps);
      });
    }

    it("never decreases with age and ends at 100%", async function () {
      expect(
        VESTING_STEPS.every((s, i) => i === 0 || s.bps > VESTING_STEPS[i - 1].bps),
        "steps increase",
      ).to.be.true;
      expect(VESTING_STEPS[VESTING_STEPS.length - 1].bps, "last step").to.equal(BPS);
    });
  });

  describe("leafHash(leaf)", function () {
    it("equals the off-chain rewardLeafHash and the tree's leaf hash for each standard leaf", async function () {
      const c = await loadFixture(deployWithEpoch);
      for (const [name, leaf] of Object.entries(c.leaves)) {
        const onChain = await c.distributor.leafHash(leaf);
        expect(onChain, `${name}: rewardLeafHash`).to.equal(rewardLeafHash(leaf));
        expect(onChain, `${name}: StandardMerkleTree.leafHash`).to.equal(c.tree.leafHash(leafValues(leaf)));
      }
    });

    it(`equals rewardLeafHash for random leaves, extremes included (seed ${SEED})`, async function () {
      const c = await loadFixture(deployDistributor);
      const word = fc.oneof(fc.bigInt({ min: 0n, max: UINT256_MAX }), fc.constantFrom(0n, 1n, UINT256_MAX));
      const leafArb: fc.Arbitrary<RewardLeaf> = fc.record({
        kind: fc.integer({ min: 0, max: 255 }),
        epoch: word,
        account: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => ethers.getAddress(ethers.hexlify(b))),
        id: word,
        capacityReward: word,
        deliveryReward: word,
        checkerReward: word,
        metricsHash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => ethers.hexlify(b)),
      });
      await fc.assert(
        fc.asyncProperty(leafArb, async (leaf) => {
          expect(await c.distributor.leafHash(leaf), "leafHash").to.equal(rewardLeafHash(leaf));
        }),
        { seed: SEED, numRuns: 60 },
      );
    });
  });

  describe("given nothing was claimed", function () {
    it("claimedOf is 0, isClaimed false, positionsOf empty", async function () {
      const c = await loadFixture(deployWithEpoch);
      expect(await c.distributor.claimedOf(EPOCH), "claimedOf").to.equal(0n);
      for (const leaf of Object.values(c.leaves)) {
        const subject = leaf.kind === LeafKind.Node ? leaf.id : BigInt(leaf.account);
        expect(await c.distributor.isClaimed(EPOCH, leaf.kind, subject), `isClaimed ${subject}`).to.be.false;
      }
      expect(await c.distributor.positionsOf(c.alice.address), "positions").to.deep.equal([]);
    });
  });
});
