/**
 * SlaEnforcer.slashForHardwareFraud: a node leaf attesting a hardware mismatch slashes
 * `fraudSlashBps` (100%) of the per-GPU stake of every GPU of the node (rented or not) to the
 * treasury, and jails the node.
 *
 * A node's fraud cursor (`slashableFrom(node).fraudEpoch`) is the first epoch whose evidence may
 * still slash it: a slash for epoch e moves it to e + 1, a release to the epoch after the
 * release's; a leaf of an earlier epoch reverts `EvidenceTooOld(node, epoch, cursor)`. So a node is
 * slashed at most once per epoch, and fraud before a later fraud slash can no longer be slashed.
 *
 * By hand: the default node has 8 H100s at 3,000 KAI each: 24,000 KAI, its provider's whole stake.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { KAI, NodeStatus, defaultSpec } from "../../fixtures";
import {
  addStakedNode,
  atTime,
  deploySla,
  emitsSlash,
  epochBounds,
  expectPenalty,
  metricsWith,
  penaltyOf,
  Reason,
  reportNodes,
  revertsEvidenceTooOld,
  slaRentParams,
  slashableFromOf,
  totalOf,
  withLeaf,
  type SlaFixture,
} from "../../helpers/sla";
import { invalidProof, metricsMismatch, notNodeLeaf, unreported, type BadProof } from "../../helpers/slaProofs";
import { rewardLeafHash } from "../../../offchain/src/leaves";

const STAKE = KAI(24_000);
/** A node id no one registered. */
const GHOST = 77n;

/* -------------------------------------------------------------------------- */
/*                               LOCAL FIXTURES                               */
/* -------------------------------------------------------------------------- */

/**
 * Node A (provider, 8xH100, 24,000 KAI staked) attested mismatched in epochs 2 and 3 and clean in
 * epoch 4; node B (provider2, 2xH100, 10,000 KAI staked: 6,000 required plus 4,000) mismatched in
 * epoch 2; the unregistered node 77 mismatched in epoch 2.
 */
async function deployFraud() {
  const c = await deploySla();
  const nodeB = await addStakedNode(c, c.provider2, { ...defaultSpec, gpuCount: 2 });
  await c.registry.connect(c.provider2).stake(KAI(4_000));
  const [pA2, pB2, pGhost] = await reportNodes(c, 2n, [
    { nodeId: c.nodeId, metrics: metricsWith(9_999n, true, 2) },
    { nodeId: nodeB, metrics: metricsWith(9_999n, true, 102) },
    { nodeId: GHOST, metrics: metricsWith(9_999n, true, 202) },
  ]);
  const [pA3] = await reportNodes(c, 3n, [{ nodeId: c.nodeId, metrics: metricsWith(9_999n, true, 3) }]);
  const [pA4] = await reportNodes(c, 4n, [{ nodeId: c.nodeId, metrics: metricsWith(9_999n, false, 4) }]);
  return { ...c, nodeB, pA2, pA3, pA4, pB2, pGhost };
}

type Fraud = Awaited<ReturnType<typeof deployFraud>>;

/** `deployFraud`, then node A slashed for epoch 2. */
async function deploySlashed() {
  const c = await deployFraud();
  await c.sla.connect(c.keeper).slashForHardwareFraud(c.pA2);
  return c;
}

/**
 * The provider's second 8xH100 node D (48,000 KAI staked in all), retired, then attested
 * mismatched in epoch 2.
 */
async function deployRetired() {
  const c = await deploySla();
  const nodeD = await addStakedNode(c, c.provider);
  await c.registry.connect(c.provider).retireNode(nodeD);
  const [pD] = await reportNodes(c, 2n, [{ nodeId: nodeD, metrics: metricsWith(9_999n, true) }]);
  return { ...c, nodeD, pD };
}

function holders(c: SlaFixture) {
  return [c.registry, c.escrow, c.provider, c.provider2, c.treasury, c.keeper, c.renter, c.sla, c.other];
}

/* -------------------------------------------------------------------------- */
/*                                    TESTS                                   */
/* -------------------------------------------------------------------------- */

describe("SlaEnforcer.slashForHardwareFraud", function () {
  describe("given node A attested mismatched in epoch 2", function () {
    describe("when a keeper presents the leaf", function () {
      async function slash() {
        const c = await loadFixture(deployFraud);
        const tx = c.sla.connect(c.keeper).slashForHardwareFraud(c.pA2);
        return { c, tx };
      }

      it("returns 24,000 KAI (3,000 x 8 GPUs x 100%)", async function () {
        const c = await loadFixture(deployFraud);
        expect(await c.sla.connect(c.keeper).slashForHardwareFraud.staticCall(c.pA2), "slashed").to.equal(STAKE);
      });

      it("emits SlashHardwareFraud(node A, 2, 24,000 KAI, leaf hash)", async function () {
        const { c, tx } = await slash();
        await expect(tx).to.emit(c.sla, "SlashHardwareFraud").withArgs(c.nodeId, 2n, STAKE, rewardLeafHash(c.pA2.leaf));
      });

      it("slashes the provider's stake to the treasury (registry Slash, reason 3, leaf hash)", async function () {
        const { c, tx } = await slash();
        await emitsSlash(c, tx, Reason.HardwareFraud, rewardLeafHash(c.pA2.leaf), [0n, STAKE, 0n], c.treasury.address);
        await expect(tx).to.changeTokenBalances(
          c.kai,
          [c.registry, c.treasury, c.keeper, c.provider],
          [-STAKE, STAKE, 0n, 0n],
        );
        expect((await c.registry.getStake(c.provider.address)).staked, "stake").to.equal(0n);
      });

      it("records the penalty: 24,000 KAI, the time, reason 3, node A, the leaf hash", async function () {
        const { c, tx } = await slash();
        await expectPenalty(c, tx, 0, "penalty", {
          amount: STAKE,
          reason: Reason.HardwareFraud,
          evidence: rewardLeafHash(c.pA2.leaf),
        });
      });

      it("jails node A (SetNodeStatus Jailed): new rentals on it fail", async function () {
        const { c, tx } = await slash();
        await expect(tx).to.emit(c.registry, "SetNodeStatus").withArgs(c.nodeId, NodeStatus.Jailed);
        expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Jailed);
        await expect(c.escrow.connect(c.renter).rent(await slaRentParams(c)))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Jailed);
      });

      it("moves node A's fraud cursor past epoch 2 (slashableFrom = (0, 3)), and no other cursor", async function () {
        const { c, tx } = await slash();
        await tx;
        expect(await slashableFromOf(c, c.nodeId), "A").to.deep.equal([0n, 3n]);
        expect(await slashableFromOf(c, c.nodeB), "B").to.deep.equal([0n, 0n]);
        expect(await slashableFromOf(c, c.nodeId + 256n), "A + 256").to.deep.equal([0n, 0n]);
      });

      it("leaves node B and its provider alone", async function () {
        const { c, tx } = await slash();
        await tx;
        expect((await c.registry.getNode(c.nodeB)).status, "B").to.equal(NodeStatus.Active);
        expect((await c.registry.getStake(c.provider2.address)).staked, "provider2").to.equal(KAI(10_000));
      });

      it("conserves KAI", async function () {
        const c = await loadFixture(deployFraud);
        const before = await totalOf(c.kai, holders(c));
        await c.sla.slashForHardwareFraud(c.pA2);
        expect(await totalOf(c.kai, holders(c)), "KAI").to.equal(before);
      });
    });

    describe("when the leaf was presented already", function () {
      it("reverts with EvidenceTooOld(node A, 2, 3), whoever calls", async function () {
        const c = await loadFixture(deploySlashed);
        for (const who of [c.keeper, c.treasury, c.provider2]) {
          await revertsEvidenceTooOld(c, c.sla.connect(who).slashForHardwareFraud(c.pA2), 2n, 3n);
        }
        expect(await slashableFromOf(c, c.nodeId), "A").to.deep.equal([0n, 3n]);
      });

      it("still takes epoch 3's leaf: nothing left to take (0 KAI, a 0 penalty), and no second jailing", async function () {
        const c = await loadFixture(deploySlashed);
        const tx = c.sla.slashForHardwareFraud(c.pA3);
        await expect(tx).to.emit(c.sla, "SlashHardwareFraud").withArgs(c.nodeId, 3n, 0n, rewardLeafHash(c.pA3.leaf));
        await expect(tx).not.to.emit(c.registry, "SetNodeStatus");
        await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.treasury], [0n, 0n]);
        expect(await penaltyOf(c, c.provider.address, 1), "penalty 1").to.deep.include({
          amount: 0n,
          reason: Reason.HardwareFraud,
          evidence: rewardLeafHash(c.pA3.leaf),
        });
        expect(await slashableFromOf(c, c.nodeId), "A").to.deep.equal([0n, 4n]);
      });
    });

    describe("when epoch 3's leaf was presented first", function () {
      it("refuses the earlier epoch 2, never slashed, with EvidenceTooOld(node A, 2, 4)", async function () {
        const c = await loadFixture(deployFraud);
        await expect(c.sla.slashForHardwareFraud(c.pA3))
          .to.emit(c.sla, "SlashHardwareFraud")
          .withArgs(c.nodeId, 3n, STAKE, rewardLeafHash(c.pA3.leaf));
        await revertsEvidenceTooOld(c, c.sla.slashForHardwareFraud(c.pA2), 2n, 4n);
        expect(await c.registry.penaltyCount(c.provider.address), "one penalty").to.equal(1n);
      });

      it("still takes node B's epoch-2 leaf (the cursor is per node)", async function () {
        const c = await loadFixture(deployFraud);
        await c.sla.slashForHardwareFraud(c.pA3);
        await expect(c.sla.slashForHardwareFraud(c.pB2))
          .to.emit(c.sla, "SlashHardwareFraud")
          .withArgs(c.nodeB, 2n, KAI(6_000), rewardLeafHash(c.pB2.leaf));
        expect(await slashableFromOf(c, c.nodeB), "B").to.deep.equal([0n, 3n]);
      });
    });

    describe("when node B (2 GPUs) is presented too", function () {
      it("slashes 6,000 KAI (3,000 x 2 GPUs) of provider2's 10,000 and jails B", async function () {
        const c = await loadFixture(deployFraud);
        const tx = c.sla.slashForHardwareFraud(c.pB2);
        await expect(tx)
          .to.emit(c.sla, "SlashHardwareFraud")
          .withArgs(c.nodeB, 2n, KAI(6_000), rewardLeafHash(c.pB2.leaf));
        await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.treasury], [-KAI(6_000), KAI(6_000)]);
        expect((await c.registry.getStake(c.provider2.address)).staked, "left").to.equal(KAI(4_000));
        expect((await c.registry.getNode(c.nodeB)).status, "B").to.equal(NodeStatus.Jailed);
      });
    });
  });

  describe("given governance's fraud share of 50%", function () {
    it("slashes 12,000 KAI (3,000 x 8 x 50%)", async function () {
      const c = await loadFixture(deployFraud);
      await c.sla.connect(c.admin).setFraudSlashBps(5_000);
      await expect(c.sla.slashForHardwareFraud(c.pA2))
        .to.emit(c.sla, "SlashHardwareFraud")
        .withArgs(c.nodeId, 2n, KAI(12_000), rewardLeafHash(c.pA2.leaf));
      expect((await c.registry.getStake(c.provider.address)).staked, "left").to.equal(KAI(12_000));
    });
  });

  describe("given the slash asks for more than the provider has", function () {
    it("takes rewards owed (500), active stake (20,000) and unbonding stake (4,000), in that order, no more", async function () {
      const c = await loadFixture(deployFraud);
      // Governance doubles the base stake: 6,000 KAI per H100, 48,000 KAI asked for 8 GPUs.
      await c.registry.connect(c.admin).setBaseStakePerGpu(KAI(2_000));
      expect(await c.sla.perGpuStake(c.nodeId), "per GPU").to.equal(KAI(6_000));
      await c.registry.connect(c.provider).requestUnstake(KAI(4_000));
      const rewarder = (await ethers.getSigners())[4]; // deployCore's `oracle` signer holds REWARDER_ROLE
      await c.registry.connect(rewarder).depositRewards(c.provider.address, KAI(500));
      const tx = c.sla.slashForHardwareFraud(c.pA2);
      await emitsSlash(
        c,
        tx,
        Reason.HardwareFraud,
        rewardLeafHash(c.pA2.leaf),
        [KAI(500), KAI(20_000), KAI(4_000)],
        c.treasury.address,
      );
      await expect(tx)
        .to.emit(c.sla, "SlashHardwareFraud")
        .withArgs(c.nodeId, 2n, KAI(24_500), rewardLeafHash(c.pA2.leaf));
      await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.treasury], [-KAI(24_500), KAI(24_500)]);
      const s = await c.registry.getStake(c.provider.address);
      expect([s.staked, s.unbonding, s.rewardsOwed], "left").to.deep.equal([0n, 0n, 0n]);
    });
  });

  describe("given a retired node attested mismatched", function () {
    it("slashes 24,000 KAI of the provider's 48,000 but leaves the node Retired (no jailing)", async function () {
      const c = await loadFixture(deployRetired);
      const tx = c.sla.slashForHardwareFraud(c.pD);
      await expect(tx).to.emit(c.sla, "SlashHardwareFraud").withArgs(c.nodeD, 2n, STAKE, rewardLeafHash(c.pD.leaf));
      await expect(tx).not.to.emit(c.registry, "SetNodeStatus");
      expect(await slashableFromOf(c, c.nodeD), "D").to.deep.equal([0n, 3n]);
      expect((await c.registry.getNode(c.nodeD)).status, "D").to.equal(NodeStatus.Retired);
      expect((await c.registry.getNode(c.nodeId)).status, "A").to.equal(NodeStatus.Active);
      expect((await c.registry.getStake(c.provider.address)).staked, "left").to.equal(STAKE);
    });
  });

  describe("reverts", function () {
    it("with NoHardwareMismatch(4, node A) for a clean leaf", async function () {
      const c = await loadFixture(deployFraud);
      await expect(c.sla.slashForHardwareFraud(c.pA4))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NoHardwareMismatch")
        .withArgs(4n, c.nodeId);
    });

    it("with the registry's UnknownNode(77) for a leaf of a node no one registered (no cursor moves)", async function () {
      const c = await loadFixture(deployFraud);
      await expect(c.sla.slashForHardwareFraud(c.pGhost))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_UnknownNode")
        .withArgs(GHOST);
      expect(await slashableFromOf(c, GHOST), "77").to.deep.equal([0n, 0n]);
    });

    const A2 = (c: Fraud) => c.pA2;
    const CASES: BadProof<Fraud>[] = [
      metricsMismatch("a clean leaf whose metrics the caller flipped to a mismatch", (c) => c.pA4, {
        hardwareMismatch: true,
      }),
      notNodeLeaf("a checker leaf", A2, 1),
      unreported("an epoch with no report (8)", A2, 8n),
      invalidProof(
        "node B's leaf presented as node A's",
        (c) => withLeaf(c.pB2, { id: c.nodeId, account: c.provider.address }),
        (c) => [2n, c.nodeId],
      ),
      invalidProof(
        "node A's epoch-2 leaf presented as epoch 3's",
        (c) => withLeaf(c.pA2, { epoch: 3n }),
        (c) => [3n, c.nodeId],
      ),
      invalidProof(
        "a reward off by one",
        (c) => withLeaf(c.pA2, { capacityReward: 1n }),
        (c) => [2n, c.nodeId],
      ),
    ];
    for (const { name, error, proof, args } of CASES) {
      it(`with ${error.replace("SlaEnforcer_", "")} for ${name}`, async function () {
        const c = await loadFixture(deployFraud);
        await expect(c.sla.slashForHardwareFraud(proof(c)))
          .to.be.revertedWithCustomError(c.sla, error)
          .withArgs(...args(c));
      });
    }

    it("with the registry's AccessControlUnauthorizedAccount once the enforcer lost SLASHER_ROLE", async function () {
      const c = await loadFixture(deployFraud);
      await c.registry.revokeRole(ethers.id("SLASHER_ROLE"), await c.sla.getAddress());
      await expect(c.sla.slashForHardwareFraud(c.pA2))
        .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
        .withArgs(await c.sla.getAddress(), ethers.id("SLASHER_ROLE"));
    });
  });

  describe("given node A slashed for epoch 2, then released 30 s into epoch 5", function () {
    // Epochs 2-4 are reported by the fixture (the clock at the start of epoch 5); the release in
    // epoch 5 moves A's cursors to 6: epochs 3 (mismatched, never slashed) and 5 are forgiven.
    async function deployReleased() {
      const c = await deploySlashed();
      const release = await atTime(epochBounds(c, 5n).from + 30n, () => c.sla.connect(c.admin).releaseNode(c.nodeId));
      return { ...c, release };
    }

    it("emits ReleaseNode(node A, 6) and moves both cursors to 6", async function () {
      const c = await loadFixture(deployReleased);
      await expect(c.release).to.emit(c.sla, "ReleaseNode").withArgs(c.nodeId, 6n);
      expect(await slashableFromOf(c, c.nodeId), "A").to.deep.equal([6n, 6n]);
    });

    it("forgives fraud attested before the release: epoch 3's leaf reverts EvidenceTooOld(node A, 3, 6)", async function () {
      const c = await loadFixture(deployReleased);
      await revertsEvidenceTooOld(c, c.sla.slashForHardwareFraud(c.pA3), 3n, 6n);
    });

    it("forgives fraud in the release's own epoch (5)", async function () {
      const c = await loadFixture(deployReleased);
      const [p5] = await reportNodes(c, 5n, [{ nodeId: c.nodeId, metrics: metricsWith(9_999n, true, 5) }]);
      await revertsEvidenceTooOld(c, c.sla.slashForHardwareFraud(p5), 5n, 6n);
    });

    it("slashes fraud attested after the release (epoch 6) and jails the node again", async function () {
      const c = await loadFixture(deployReleased);
      await c.registry.connect(c.provider).stake(KAI(1_000));
      const [p6] = await reportNodes(c, 6n, [{ nodeId: c.nodeId, metrics: metricsWith(9_999n, true, 6) }]);
      const tx = c.sla.slashForHardwareFraud(p6);
      await expect(tx).to.emit(c.sla, "SlashHardwareFraud").withArgs(c.nodeId, 6n, KAI(1_000), rewardLeafHash(p6.leaf));
      await expect(tx).to.emit(c.registry, "SetNodeStatus").withArgs(c.nodeId, NodeStatus.Jailed);
      expect(await slashableFromOf(c, c.nodeId), "A").to.deep.equal([6n, 7n]);
    });

    it("checks the proof and the mismatch before the cursor", async function () {
      const c = await loadFixture(deployReleased);
      await expect(c.sla.slashForHardwareFraud(c.pA4))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NoHardwareMismatch")
        .withArgs(4n, c.nodeId);
      await expect(c.sla.slashForHardwareFraud(withLeaf(c.pA3, { capacityReward: 1n })))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_InvalidProof")
        .withArgs(3n, c.nodeId);
    });
  });

  describe("the slash recipient", function () {
    it("is governance's: a new recipient receives the slash", async function () {
      const c = await loadFixture(deployFraud);
      await c.sla.connect(c.admin).setSlashRecipient(c.other.address);
      const tx = c.sla.slashForHardwareFraud(c.pA2);
      await expect(tx).to.changeTokenBalances(c.kai, [c.other, c.treasury], [STAKE, 0n]);
      await emitsSlash(c, tx, Reason.HardwareFraud, rewardLeafHash(c.pA2.leaf), [0n, STAKE, 0n], c.other.address);
    });
  });
});
