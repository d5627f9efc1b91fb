import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { NodeStatus } from "../../fixtures";
import {
  DEFAULT_REQUIRED_STAKE,
  RENTED_GPUS,
  ROLES,
  deployWithEscrowCaller,
  deployWithJailedNode,
  deployWithPausedNode,
  deployWithRentedGpus,
  deployWithRetiredNode,
} from "../../helpers/registry";

describe("NodeRegistry.setNodeJailed", function () {
  describe("when the caller lacks SLASHER_ROLE", function () {
    it("reverts with AccessControlUnauthorizedAccount(caller, SLASHER_ROLE)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).setNodeJailed(c.nodeId, true))
        .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
        .withArgs(c.provider.address, ROLES.SLASHER);
    });
  });

  describe("when the node does not exist", function () {
    it("reverts with UnknownNode on jail", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.oracle).setNodeJailed(99, true))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_UnknownNode")
        .withArgs(99);
    });

    it("reverts with UnknownNode on unjail", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.oracle).setNodeJailed(99, false))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_UnknownNode")
        .withArgs(99);
    });
  });

  describe("when jailing", function () {
    describe("given the node is active", function () {
      it("emits SetNodeStatus(nodeId, Jailed)", async function () {
        const c = await loadFixture(deployWithEscrowCaller);
        await expect(c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true))
          .to.emit(c.registry, "SetNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Jailed);
      });

      it("sets the status to Jailed", async function () {
        const c = await loadFixture(deployWithEscrowCaller);
        await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true);
        expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Jailed);
      });

      it("keeps the stake requirement", async function () {
        const c = await loadFixture(deployWithEscrowCaller);
        await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true);
        expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(DEFAULT_REQUIRED_STAKE);
      });
    });

    describe("given the node is paused", function () {
      it("emits SetNodeStatus(nodeId, Jailed)", async function () {
        const c = await loadFixture(deployWithPausedNode);
        await expect(c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true))
          .to.emit(c.registry, "SetNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Jailed);
      });
    });

    describe("given the node is already jailed", function () {
      it("reverts with InvalidNodeStatus(Jailed)", async function () {
        const c = await loadFixture(deployWithJailedNode);
        await expect(c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Jailed);
      });
    });

    describe("given the node is retired", function () {
      it("reverts with InvalidNodeStatus(Retired)", async function () {
        const c = await loadFixture(deployWithRetiredNode);
        await expect(c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Retired);
      });
    });

    describe("given GPUs are rented", function () {
      it("keeps the running rentals' GPUs reserved", async function () {
        const c = await loadFixture(deployWithRentedGpus);
        await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true);
        expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(RENTED_GPUS);
      });

      it("still lets the escrow release them", async function () {
        const c = await loadFixture(deployWithRentedGpus);
        await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true);
        await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, RENTED_GPUS, false);
        expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(0);
      });
    });
  });

  describe("given the node is jailed", function () {
    it("refuses new reservations with InvalidNodeStatus(Jailed)", async function () {
      const c = await loadFixture(deployWithJailedNode);
      await expect(c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 1, c.usdAddress, false))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Jailed);
    });

    it("does not let the provider resume it", async function () {
      const c = await loadFixture(deployWithJailedNode);
      await expect(c.registry.connect(c.provider).resumeNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Jailed);
    });

    it("does not let the provider pause it", async function () {
      const c = await loadFixture(deployWithJailedNode);
      await expect(c.registry.connect(c.provider).pauseNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Jailed);
    });
  });

  describe("when unjailing", function () {
    describe("given the node is jailed", function () {
      it("emits SetNodeStatus(nodeId, Paused)", async function () {
        const c = await loadFixture(deployWithJailedNode);
        await expect(c.registry.connect(c.oracle).setNodeJailed(c.nodeId, false))
          .to.emit(c.registry, "SetNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Paused);
      });

      it("brings the node back Paused, not Active", async function () {
        const c = await loadFixture(deployWithJailedNode);
        await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, false);
        expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Paused);
      });

      it("lets the node take reservations once its provider resumes it", async function () {
        const c = await loadFixture(deployWithJailedNode);
        await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, false);
        await c.registry.connect(c.provider).resumeNode(c.nodeId);
        await c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 1, c.usdAddress, false);
        expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(1);
      });
    });

    describe("given the node is active", function () {
      it("reverts with InvalidNodeStatus(Active)", async function () {
        const c = await loadFixture(deployWithEscrowCaller);
        await expect(c.registry.connect(c.oracle).setNodeJailed(c.nodeId, false))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Active);
      });
    });

    describe("given the node is paused", function () {
      it("reverts with InvalidNodeStatus(Paused)", async function () {
        const c = await loadFixture(deployWithPausedNode);
        await expect(c.registry.connect(c.oracle).setNodeJailed(c.nodeId, false))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Paused);
      });
    });

    describe("given the node is retired", function () {
      it("reverts with InvalidNodeStatus(Retired)", async function () {
        const c = await loadFixture(deployWithRetiredNode);
        await expect(c.registry.connect(c.oracle).setNodeJailed(c.nodeId, false))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Retired);
      });
    });
  });
});
