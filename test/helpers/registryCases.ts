/**
 * Table-driven cases shared by the NodeRegistry unit tests: the guards every provider-only node
 * function checks first (unknown node, wrong caller) and the node statuses it refuses. Each helper
 * declares the same `describe`/`it` titles and assertions the tests used to spell out one by one.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse, Signer } from "ethers";

import { NodeStatus } from "../fixtures";
import { deployWithEscrowCaller } from "./registry";
import { expectRevert } from "./reverts";

/** The state every registry fixture returns (the extra fields of later fixtures are optional). */
export type RegistryFixture = Awaited<ReturnType<typeof deployWithEscrowCaller>>;
/** A fixture that starts from `deployWithEscrowCaller`. */
export type RegistryDeploy = () => Promise<RegistryFixture>;
/** The call under test, sent by `from` against `nodeId`. */
export type NodeCall = (
  c: RegistryFixture,
  from: Signer,
  nodeId: bigint | number,
) => Promise<ContractTransactionResponse>;
export type StatusName = keyof typeof NodeStatus;

/** Expects `tx` to revert with `NodeRegistry_InvalidNodeStatus(nodeId, status)`. */
export async function expectInvalidStatus(c: RegistryFixture, tx: Promise<unknown>, status: StatusName) {
  await expectRevert(c.registry, tx, "NodeRegistry_InvalidNodeStatus", c.nodeId, NodeStatus[status]);
}

/** Expects `tx` to emit `SetNodeStatus(nodeId, status)`. */
export async function expectSetStatus(c: RegistryFixture, tx: Promise<unknown>, status: StatusName) {
  await expect(tx).to.emit(c.registry, "SetNodeStatus").withArgs(c.nodeId, NodeStatus[status]);
}

/** The node's status as the registry stores it. */
export async function nodeStatusOf(c: RegistryFixture) {
  return (await c.registry.getNode(c.nodeId)).status;
}

/**
 * "when the node does not exist" (UnknownNode for node 99) and "when the caller is not the node's
 * provider" (NotNodeProvider, sent by `stranger`), both from `fixture`.
 */
export function describeProviderGuards(
  call: NodeCall,
  stranger: (c: RegistryFixture) => Signer & { address: string },
  fixture: RegistryDeploy = deployWithEscrowCaller,
) {
  describe("when the node does not exist", function () {
    it("reverts with UnknownNode", async function () {
      const c = await loadFixture(fixture);
      await expectRevert(c.registry, call(c, c.provider, 99), "NodeRegistry_UnknownNode", 99);
    });
  });

  describe("when the caller is not the node's provider", function () {
    it("reverts with NotNodeProvider", async function () {
      const c = await loadFixture(fixture);
      const from = stranger(c);
      await expectRevert(c.registry, call(c, from, c.nodeId), "NodeRegistry_NotNodeProvider", c.nodeId, from.address);
    });
  });
}

/** One refused status: `describe(title)` / `it(test)` where the node, built by `fixture`, is `status`. */
export interface StatusCase {
  title: string;
  fixture: RegistryDeploy;
  status: StatusName;
  /** The `it` title; "reverts with InvalidNodeStatus(<status>)" unless given. */
  test?: string;
}

/** For each case, `call` sent by `sender` (the provider unless given) reverts with InvalidNodeStatus(nodeId, status). */
export function describeRefusedStatuses(
  call: NodeCall,
  cases: StatusCase[],
  sender: (c: RegistryFixture) => Signer = (c) => c.provider,
) {
  for (const { title, fixture, status, test } of cases) {
    describe(title, function () {
      it(test ?? `reverts with InvalidNodeStatus(${status})`, async function () {
        const c = await loadFixture(fixture);
        await expectInvalidStatus(c, call(c, sender(c), c.nodeId), status);
      });
    });
  }
}

/** Expects `tx` to move `amount` KAI from the registry to the provider. */
export async function expectPaysProvider(c: RegistryFixture, tx: Promise<unknown>, amount: bigint) {
  await expect(tx).to.changeTokenBalances(c.kai, [c.provider, c.registry], [amount, -amount]);
}
