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
import {
  type NodeCall,
  describeRefusedStatuses,
  expectInvalidStatus,
  expectSetStatus,
} from "../../helpers/registryCases";

describe("NodeRegistry.setNodeJailed", function () {
  const jail =
    (jailed: boolean): NodeCall =>
    (c, from, nodeId) =>
      c.registry.connect(from).setNodeJailed(nodeId, jailed);

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
        await expectSetStatus(c, c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true), "Jailed");
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
        await expectSetStatus(c, c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true), "Jailed");
      });
    });

    describeRefusedStatuses(
      jail(true),
      [
        { title: "given the node is already jailed", fixture: deployWithJailedNode, status: "Jailed" },
        { title: "given the node is retired", fixture: deployWithRetiredNode, status: "Retired" },
      ],
      (c) => c.oracle,
    );

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
      await expectInvalidStatus(
        c,
        c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 1, c.usdAddress, false),
        "Jailed",
      );
    });

    it("does not let the provider resume it", async function () {
      const c = await loadFixture(deployWithJailedNode);
      await expectInvalidStatus(c, c.registry.connect(c.provider).resumeNode(c.nodeId), "Jailed");
    });

    it("does not let the provider pause it", async function () {
      const c = await loadFixture(deployWithJailedNode);
      await expectInvalidStatus(c, c.registry.connect(c.provider).pauseNode(c.nodeId), "Jailed");
    });
  });

  describe("when unjailing", function () {
    describe("given the node is jailed", function () {
      it("emits SetNodeStatus(nodeId, Paused)", async function () {
        const c = await loadFixture(deployWithJailedNode);
        await expectSetStatus(c, c.registry.connect(c.oracle).setNodeJailed(c.nodeId, false), "Paused");
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

    describeRefusedStatuses(
      jail(false),
      [
        { title: "given the node is active", fixture: deployWithEscrowCaller, status: "Active" },
        { title: "given the node is paused", fixture: deployWithPausedNode, status: "Paused" },
        { title: "given the node is retired", fixture: deployWithRetiredNode, status: "Retired" },
      ],
      (c) => c.oracle,
    );
  });
});
