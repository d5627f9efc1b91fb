import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { NodeStatus } from "../../fixtures";
import {
  deployWithEscrowCaller,
  deployWithJailedNode,
  deployWithPausedNode,
  deployWithRetiredNode,
} from "../../helpers/registry";

describe("NodeRegistry.resumeNode", function () {
  describe("when the node does not exist", function () {
    it("reverts with UnknownNode", async function () {
      const c = await loadFixture(deployWithPausedNode);
      await expect(c.registry.connect(c.provider).resumeNode(99))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_UnknownNode")
        .withArgs(99);
    });
  });

  describe("when the caller is not the node's provider", function () {
    it("reverts with NotNodeProvider", async function () {
      const c = await loadFixture(deployWithPausedNode);
      await expect(c.registry.connect(c.admin).resumeNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_NotNodeProvider")
        .withArgs(c.nodeId, c.admin.address);
    });
  });

  describe("given the node is active", function () {
    it("reverts with InvalidNodeStatus(Active)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).resumeNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Active);
    });
  });

  describe("given the node is jailed", function () {
    it("reverts with InvalidNodeStatus(Jailed): only the oracle can unjail", async function () {
      const c = await loadFixture(deployWithJailedNode);
      await expect(c.registry.connect(c.provider).resumeNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Jailed);
    });
  });

  describe("given the node is retired", function () {
    it("reverts with InvalidNodeStatus(Retired)", async function () {
      const c = await loadFixture(deployWithRetiredNode);
      await expect(c.registry.connect(c.provider).resumeNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Retired);
    });
  });

  describe("given the node is paused", function () {
    it("emits SetNodeStatus(nodeId, Active)", async function () {
      const c = await loadFixture(deployWithPausedNode);
      await expect(c.registry.connect(c.provider).resumeNode(c.nodeId))
        .to.emit(c.registry, "SetNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Active);
    });

    it("sets the status to Active", async function () {
      const c = await loadFixture(deployWithPausedNode);
      await c.registry.connect(c.provider).resumeNode(c.nodeId);
      expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Active);
    });

    it("lets the node take reservations again", async function () {
      const c = await loadFixture(deployWithPausedNode);
      await c.registry.connect(c.provider).resumeNode(c.nodeId);
      await c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 2, c.usdAddress, false);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(2);
    });
  });

  describe("given the node was jailed then unjailed (back to Paused)", function () {
    it("emits SetNodeStatus(nodeId, Active)", async function () {
      const c = await loadFixture(deployWithJailedNode);
      await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, false);
      await expect(c.registry.connect(c.provider).resumeNode(c.nodeId))
        .to.emit(c.registry, "SetNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Active);
    });
  });
});
