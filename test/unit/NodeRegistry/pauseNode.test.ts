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
import {
  type NodeCall,
  describeProviderGuards,
  describeRefusedStatuses,
  expectInvalidStatus,
  expectSetStatus,
} from "../../helpers/registryCases";

describe("NodeRegistry.pauseNode", function () {
  const pause: NodeCall = (c, from, nodeId) => c.registry.connect(from).pauseNode(nodeId);

  describeProviderGuards(pause, (c) => c.oracle);

  describeRefusedStatuses(pause, [
    { title: "given the node is already paused", fixture: deployWithPausedNode, status: "Paused" },
    { title: "given the node is jailed", fixture: deployWithJailedNode, status: "Jailed" },
    { title: "given the node is retired", fixture: deployWithRetiredNode, status: "Retired" },
  ]);

  describe("given the node is active", function () {
    it("emits SetNodeStatus(nodeId, Paused)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expectSetStatus(c, c.registry.connect(c.provider).pauseNode(c.nodeId), "Paused");
    });

    it("sets the status to Paused", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).pauseNode(c.nodeId);
      expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Paused);
    });

    it("stops new reservations", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).pauseNode(c.nodeId);
      await expectInvalidStatus(
        c,
        c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 1, c.usdAddress, false),
        "Paused",
      );
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
