/**
 * SlaEnforcer views: isCredited, slashableFrom, perGpuStake, verifyNodeLeaf, kaiPerToken, policy
 * and MAX_KAI_PER_TOKEN.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { KAI, defaultSpec } from "../../fixtures";
import {
  addStakedNode,
  atTime,
  DEFAULT_POLICY,
  deploySla,
  downtimeSlashOf,
  epochBounds,
  H100_PER_GPU_STAKE,
  MAX_KAI_PER_TOKEN,
  metricsWith,
  openSlaRental,
  releaseCursor,
  reportNodes,
  revertsEvidenceTooOld,
  slashableFromOf,
  withLeaf,
} from "../../helpers/sla";
import { rewardLeafHash } from "../../../offchain/src/leaves";
import { invalidProof, metricsMismatch, notNodeLeaf, unreported, type BadProof } from "../../helpers/slaProofs";

/**
 * Node A (provider, 8xH100) and node B (provider2, 4xRTX4090 at 1x): epoch 2 reported with A at
 * 90% and B at 80% (B mismatched), epoch 3 with A at 80%. The renter rents 1 GPU of A from 10 s
 * into epoch 2.
 */
async function deployViews() {
  const c = await deploySla();
  const nodeB = await addStakedNode(c, c.provider2, { ...defaultSpec, gpuClass: 1, gpuCount: 4, vramGiB: 24 });
  const rentalId = await atTime(epochBounds(c, 2n).from + 10n, () => openSlaRental(c, { slaTier: 1 }));
  const [pA2, pB2] = await reportNodes(c, 2n, [
    { nodeId: c.nodeId, metrics: metricsWith(9_000n) },
    { nodeId: nodeB, metrics: metricsWith(8_000n, true) },
  ]);
  const [pA3] = await reportNodes(c, 3n, [{ nodeId: c.nodeId, metrics: metricsWith(8_000n, false, 3) }]);
  return { ...c, nodeB, rentalId, pA2, pB2, pA3 };
}

type Views = Awaited<ReturnType<typeof deployViews>>;

describe("SlaEnforcer views", function () {
  describe("isCredited", function () {
    it("is false for every rental and epoch before any credit", async function () {
      const c = await loadFixture(deployViews);
      for (const [id, epoch] of [
        [c.rentalId, 2n],
        [c.rentalId, 3n],
        [0n, 0n],
        [ethers.MaxUint256, ethers.MaxUint256],
      ]) {
        expect(await c.sla.isCredited(id, epoch), `(${id}, ${epoch})`).to.be.false;
      }
    });

    it("turns true for the (rental, epoch) credited only: not the next epoch, rental, or same bit of the next word", async function () {
      const c = await loadFixture(deployViews);
      await c.sla.applySlaCredit(c.rentalId, c.pA2);
      expect(await c.sla.isCredited(c.rentalId, 2n), "(rental, 2)").to.be.true;
      expect(await c.sla.isCredited(c.rentalId, 3n), "(rental, 3)").to.be.false;
      expect(await c.sla.isCredited(c.rentalId - 1n, 2n), "(rental - 1, 2)").to.be.false;
      expect(await c.sla.isCredited(c.rentalId + 1n, 2n), "(rental + 1, 2)").to.be.false;
      expect(await c.sla.isCredited(c.rentalId + 256n, 2n), "(rental + 256, 2)").to.be.false;
      await c.sla.applySlaCredit(c.rentalId, c.pA3);
      expect(await c.sla.isCredited(c.rentalId, 3n), "(rental, 3) after").to.be.true;
    });
  });

  describe("slashableFrom", function () {
    it("is (0, 0) for a node never slashed or released, and for unknown nodes", async function () {
      const c = await loadFixture(deployViews);
      for (const id of [c.nodeId, c.nodeB, 0n, 77n, ethers.MaxUint256]) {
        expect(await slashableFromOf(c, id), `node ${id}`).to.deep.equal([0n, 0n]);
      }
    });

    it("returns named fields (downtimeEpoch, fraudEpoch)", async function () {
      const c = await loadFixture(deployViews);
      await c.sla.slashForHardwareFraud(c.pB2);
      const r = await c.sla.slashableFrom(c.nodeB);
      expect([r.downtimeEpoch, r.fraudEpoch], "by name").to.deep.equal([0n, 3n]);
    });

    it("is (4, 0) after a downtime slash of epochs 2-3 (7,999.2 KAI: the node's 8 GPUs)", async function () {
      const c = await loadFixture(deploySla);
      const id = await atTime(epochBounds(c, 2n).from + 10n, () => openSlaRental(c, { slaTier: 1 }));
      const [p2] = await reportNodes(c, 2n, [{ nodeId: c.nodeId, metrics: metricsWith(1n) }]);
      const [p3] = await reportNodes(c, 3n, [{ nodeId: c.nodeId, metrics: metricsWith(2n) }]);
      await expect(c.sla.slashForDowntime(id, [p2, p3]))
        .to.emit(c.sla, "SlashDowntime")
        .withArgs(
          c.nodeId,
          id,
          2n,
          3n,
          downtimeSlashOf(8),
          ethers.keccak256(ethers.concat([rewardLeafHash(p2.leaf), rewardLeafHash(p3.leaf)])),
        );
      expect(await slashableFromOf(c, c.nodeId), "A").to.deep.equal([4n, 0n]);
    });

    it("is (1, 0) after epoch 0 alone is slashed (told apart from never), and epoch 0 is refused again", async function () {
      const c = await loadFixture(deploySla);
      const t = epochBounds(c, 0n).from + 55n;
      expect(BigInt(await time.latest()), "the fixture leaves epoch 0 time to rent").to.be.lessThan(t);
      const id = await atTime(t, () => openSlaRental(c, { slaTier: 1 }));
      await c.sla.connect(c.admin).setDowntimePolicy(9_000, 1, 3_333);
      const [p0] = await reportNodes(c, 0n, [{ nodeId: c.nodeId, metrics: metricsWith(0n) }]);
      await expect(c.sla.slashForDowntime(id, [p0]))
        .to.emit(c.sla, "SlashDowntime")
        .withArgs(c.nodeId, id, 0n, 0n, KAI("7999.2"), ethers.keccak256(rewardLeafHash(p0.leaf)));
      expect(await slashableFromOf(c, c.nodeId), "A").to.deep.equal([1n, 0n]);
      await revertsEvidenceTooOld(c, c.sla.slashForDowntime(id, [p0]), 0n, 1n);
    });

    it("is (0, 3) for node B after a fraud slash for epoch 2, and no other node moves", async function () {
      const c = await loadFixture(deployViews);
      await c.sla.slashForHardwareFraud(c.pB2);
      expect(await slashableFromOf(c, c.nodeB), "B").to.deep.equal([0n, 3n]);
      expect(await slashableFromOf(c, c.nodeId), "A").to.deep.equal([0n, 0n]);
      expect(await slashableFromOf(c, c.nodeB + 256n), "B + 256").to.deep.equal([0n, 0n]);
    });

    it("moves both cursors of a released node to the epoch after the release's", async function () {
      const c = await loadFixture(deployViews);
      await c.sla.slashForHardwareFraud(c.pB2);
      const at = epochBounds(c, 6n).from + 59n;
      await expect(atTime(at, () => c.sla.connect(c.admin).releaseNode(c.nodeB)))
        .to.emit(c.sla, "ReleaseNode")
        .withArgs(c.nodeB, 7n);
      expect(releaseCursor(c, at), "by hand").to.equal(7n);
      expect(await slashableFromOf(c, c.nodeB), "B").to.deep.equal([7n, 7n]);
      expect(await slashableFromOf(c, c.nodeId), "A").to.deep.equal([0n, 0n]);
    });

    it("slashes node B (4 RTX GPUs at 1,000 KAI) 4,000 KAI for fraud", async function () {
      const c = await loadFixture(deployViews);
      await expect(c.sla.slashForHardwareFraud(c.pB2))
        .to.emit(c.sla, "SlashHardwareFraud")
        .withArgs(c.nodeB, 2n, KAI(4_000), rewardLeafHash(c.pB2.leaf));
    });
  });

  describe("perGpuStake", function () {
    it("is 3,000 KAI for an H100 node (1,000 base x 3) and 1,000 KAI for an RTX node (x 1)", async function () {
      const c = await loadFixture(deployViews);
      expect(await c.sla.perGpuStake(c.nodeId), "H100").to.equal(H100_PER_GPU_STAKE);
      expect(await c.sla.perGpuStake(c.nodeB), "RTX").to.equal(KAI(1_000));
    });

    it("follows governance's base stake (2,000 KAI base: 6,000 per H100)", async function () {
      const c = await loadFixture(deployViews);
      await c.registry.connect(c.admin).setBaseStakePerGpu(KAI(2_000));
      expect(await c.sla.perGpuStake(c.nodeId), "H100").to.equal(KAI(6_000));
    });

    for (const id of [0n, 77n]) {
      it(`reverts with the registry's UnknownNode(${id}) for an unknown node`, async function () {
        const c = await loadFixture(deployViews);
        await expect(c.sla.perGpuStake(id))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_UnknownNode")
          .withArgs(id);
      });
    }
  });

  describe("verifyNodeLeaf", function () {
    it("returns the leaf hash (double-hashed, as the distributor's) of each valid leaf", async function () {
      const c = await loadFixture(deployViews);
      for (const p of [c.pA2, c.pB2, c.pA3]) {
        expect(await c.sla.verifyNodeLeaf(p), `node ${p.leaf.id}, epoch ${p.leaf.epoch}`).to.equal(
          rewardLeafHash(p.leaf),
        );
      }
    });

    const A2 = (c: Views) => c.pA2;
    const at2 = (c: Views): [bigint, bigint] => [2n, c.nodeId];
    const CASES: BadProof<Views>[] = [
      notNodeLeaf("a checker leaf", A2, 1),
      notNodeLeaf("a leaf of kind 255", A2, 255),
      metricsMismatch("metrics that are not the leaf's", A2, { bandwidthMbps: 1n }),
      unreported("an epoch with no report (4)", A2, 4n),
      invalidProof("node A's leaf with node B's proof (another node)", (c) => ({ ...c.pA2, proof: c.pB2.proof }), at2),
      invalidProof("a reward off by one", (c) => withLeaf(c.pA2, { checkerReward: 1n }), at2),
      invalidProof("epoch 3's leaf with epoch 2's label (another epoch)", (c) => withLeaf(c.pA3, { epoch: 2n }), at2),
      invalidProof("an empty proof (a leaf is never the root of a padded tree)", (c) => ({ ...c.pA2, proof: [] }), at2),
    ];
    for (const { name, error, proof, args } of CASES) {
      it(`reverts with ${error.replace("SlaEnforcer_", "")} for ${name}`, async function () {
        const c = await loadFixture(deployViews);
        await expect(c.sla.verifyNodeLeaf(proof(c)))
          .to.be.revertedWithCustomError(c.sla, error)
          .withArgs(...args(c));
      });
    }
  });

  describe("kaiPerToken and policy", function () {
    it("read what governance set", async function () {
      const c = await loadFixture(deployViews);
      const usd = await c.usd.getAddress();
      expect(await c.sla.kaiPerToken(usd), "rate before").to.equal(0n);
      expect([...(await c.sla.policy())], "policy before").to.deep.equal(Object.values(DEFAULT_POLICY));
      expect(await c.sla.MAX_KAI_PER_TOKEN(), "MAX_KAI_PER_TOKEN").to.equal(MAX_KAI_PER_TOKEN);
      await c.sla.connect(c.admin).setKaiPerToken(usd, 123n);
      await c.sla.connect(c.admin).setDowntimePolicy(8_000, 4, 2_000);
      await c.sla.connect(c.admin).setFraudSlashBps(7_000);
      expect(await c.sla.kaiPerToken(usd), "rate").to.equal(123n);
      const p = await c.sla.policy();
      expect(
        [p.downtimeThresholdBps, p.downtimeEpochs, p.downtimeSlashBps, p.fraudSlashBps],
        "policy by name",
      ).to.deep.equal([8_000n, 4n, 2_000n, 7_000n]);
    });
  });

  describe("supportsInterface", function () {
    it("reports ERC-165 and IAccessControl", async function () {
      const c = await loadFixture(deploySla);
      expect(await c.sla.supportsInterface("0x01ffc9a7"), "ERC-165").to.be.true;
      expect(await c.sla.supportsInterface("0x7965db0b"), "IAccessControl").to.be.true;
      expect(await c.sla.supportsInterface("0xffffffff"), "0xffffffff").to.be.false;
    });
  });
});
