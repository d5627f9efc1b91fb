import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { NodeStatus } from "../../fixtures";
import {
  RENTED_GPUS,
  deployWithEscrowCaller,
  deployWithJailedNode,
  deployWithPausedNode,
  deployWithRentedGpus,
  deployWithRetiredNode,
} from "../../helpers/registry";

describe("NodeRegistry.pauseNode", function () {
  describe("when the node does not exist", function () {
    it("reverts with UnknownNode", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).pauseNode(99))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_UnknownNode")
        .withArgs(99);
    });
  });

  describe("when the caller is not the node's provider", function () {
    it("reverts with NotNodeProvider", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.oracle).pauseNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_NotNodeProvider")
        .withArgs(c.nodeId, c.oracle.address);
    });
  });

  describe("given the node is already paused", function () {
    it("reverts with InvalidNodeStatus(Paused)", async function () {
      const c = await loadFixture(deployWithPausedNode);
      await expect(c.registry.connect(c.provider).pauseNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Paused);
    });
  });

  describe("given the node is jailed", function () {
    it("reverts with InvalidNodeStatus(Jailed)", async function () {
      const c = await loadFixture(deployWithJailedNode);
      await expect(c.registry.connect(c.provider).pauseNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Jailed);
    });
  });

  describe("given the node is retired", function () {
    it("reverts with InvalidNodeStatus(Retired)", async function () {
      const c = await loadFixture(deployWithRetiredNode);
      await expect(c.registry.connect(c.provider).pauseNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Retired);
    });
  });

  describe("given the node is active", function () {
    it("emits SetNodeStatus(nodeId, Paused)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).pauseNode(c.nodeId))
        .to.emit(c.registry, "SetNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Paused);
    });

    it("sets the status to Paused", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).pauseNode(c.nodeId);
      expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Paused);
    });

    it("stops new reservations", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).pauseNode(c.nodeId);
      await expect(c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 1, c.usdAddress, false))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Paused);
    });

    it("keeps the stake requirement (the node stays listed)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const before = await c.registry.requiredStake(c.provider.address);
      await c.registry.connect(c.provider).pauseNode(c.nodeId);
      expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(before);
    });
  });

  describe("given GPUs are rented", function () {
    it("keeps the running rentals' GPUs reserved", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await c.registry.connect(c.provider).pauseNode(c.nodeId);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(RENTED_GPUS);
    });

    it("still lets the escrow release them", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await c.registry.connect(c.provider).pauseNode(c.nodeId);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, RENTED_GPUS, false);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(0);
    });
  });
});
