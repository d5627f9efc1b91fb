import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { NodeStatus, registerNode } from "../../fixtures";
import {
  DEFAULT_REQUIRED_STAKE,
  RENTED_GPUS,
  RTX_NODE_REQUIRED_STAKE,
  deployWithEscrowCaller,
  deployWithJailedNode,
  deployWithPausedNode,
  deployWithRentedGpus,
  deployWithRetiredNode,
  expectStake,
  rtxSpec,
} from "../../helpers/registry";
import {
  type NodeCall,
  describeProviderGuards,
  describeRefusedStatuses,
  expectInvalidStatus,
  expectSetStatus,
} from "../../helpers/registryCases";

describe("NodeRegistry.retireNode", function () {
  const retire: NodeCall = (c, from, nodeId) => c.registry.connect(from).retireNode(nodeId);

  describeProviderGuards(retire, (c) => c.renter);

  describeRefusedStatuses(retire, [
    { title: "given the node is already retired", fixture: deployWithRetiredNode, status: "Retired" },
  ]);

  describe("given GPUs are rented", function () {
    it("reverts with NodeHasRentals(nodeId, rentedGpus)", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await expect(c.registry.connect(c.provider).retireNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_NodeHasRentals")
        .withArgs(c.nodeId, RENTED_GPUS);
    });

    it("succeeds once the escrow released them all", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, RENTED_GPUS, false);
      await expectSetStatus(c, c.registry.connect(c.provider).retireNode(c.nodeId), "Retired");
    });
  });

  describe("given the node is active with no rental", function () {
    it("emits SetNodeStatus(nodeId, Retired)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expectSetStatus(c, c.registry.connect(c.provider).retireNode(c.nodeId), "Retired");
    });

    it("sets the status to Retired", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).retireNode(c.nodeId);
      expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Retired);
    });

    it("removes the node's weight from the provider's listing", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).retireNode(c.nodeId);
      await expectStake(c.registry, c.provider.address, { listedWeight: 0n, staked: DEFAULT_REQUIRED_STAKE });
    });

    it("drops the required stake to 0", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).retireNode(c.nodeId);
      expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(0);
    });

    it("moves no KAI (the stake stays until unstaked)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).retireNode(c.nodeId)).to.changeTokenBalances(
        c.kai,
        [c.provider, c.registry],
        [0, 0],
      );
    });

    it("lets the provider unstake everything afterwards", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).retireNode(c.nodeId);
      await c.registry.connect(c.provider).requestUnstake(DEFAULT_REQUIRED_STAKE);
      await expectStake(c.registry, c.provider.address, { staked: 0n, unbonding: DEFAULT_REQUIRED_STAKE });
    });

    it("keeps the node in the provider's index (history)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).retireNode(c.nodeId);
      expect(await c.registry.providerNodeCount(c.provider.address), "providerNodeCount").to.equal(1);
    });
  });

  describe("given the provider has a second node", function () {
    it("only removes the retired node's requirement (4,000 KAI left)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await registerNode(c, c.provider, rtxSpec);
      await c.registry.connect(c.provider).retireNode(c.nodeId);
      expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(RTX_NODE_REQUIRED_STAKE);
    });
  });

  describe("given the node is paused", function () {
    it("retires it", async function () {
      const c = await loadFixture(deployWithPausedNode);
      await c.registry.connect(c.provider).retireNode(c.nodeId);
      expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Retired);
    });
  });

  describe("given the node is jailed", function () {
    // Retiring would end the jail and drop the stake requirement: a jailed node waits for the oracle.
    it("reverts with InvalidNodeStatus(nodeId, Jailed)", async function () {
      const c = await loadFixture(deployWithJailedNode);
      await expectInvalidStatus(c, c.registry.connect(c.provider).retireNode(c.nodeId), "Jailed");
    });
  });
});
