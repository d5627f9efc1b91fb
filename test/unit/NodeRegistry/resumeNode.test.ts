import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { NodeStatus } from "../../fixtures";
import {
  deployWithEscrowCaller,
  deployWithJailedNode,
  deployWithPausedNode,
  deployWithRetiredNode,
} from "../../helpers/registry";
import {
  type NodeCall,
  describeProviderGuards,
  describeRefusedStatuses,
  expectSetStatus,
} from "../../helpers/registryCases";

describe("NodeRegistry.resumeNode", function () {
  const resume: NodeCall = (c, from, nodeId) => c.registry.connect(from).resumeNode(nodeId);

  describeProviderGuards(resume, (c) => c.admin, deployWithPausedNode);

  describeRefusedStatuses(resume, [
    { title: "given the node is active", fixture: deployWithEscrowCaller, status: "Active" },
    {
      title: "given the node is jailed",
      fixture: deployWithJailedNode,
      status: "Jailed",
      test: "reverts with InvalidNodeStatus(Jailed): only the oracle can unjail",
    },
    { title: "given the node is retired", fixture: deployWithRetiredNode, status: "Retired" },
  ]);

  describe("given the node is paused", function () {
    it("emits SetNodeStatus(nodeId, Active)", async function () {
      const c = await loadFixture(deployWithPausedNode);
      await expectSetStatus(c, c.registry.connect(c.provider).resumeNode(c.nodeId), "Active");
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
      await expectSetStatus(c, c.registry.connect(c.provider).resumeNode(c.nodeId), "Active");
    });
  });
});
