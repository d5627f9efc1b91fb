/**
 * Which nodes may earn an epoch: `NodeRegistry.eligibleSince(nodeId)` (since when the node has been
 * listed with its provider's stake covering it; 0 = not eligible), read at the last block before the
 * epoch's end, so that every checker reads the same value whenever it scores.
 */
import { Contract, type BlockTag } from "ethers";

import type { KaisarContracts } from "./contracts";

/** The registry's eligibility view (part of `INodeRegistry`; here by its signature alone). */
const ELIGIBILITY_ABI = ["function eligibleSince(uint256 nodeId) view returns (uint256)"] as const;

/** `NodeRegistry.eligibleSince` of each of `nodeIds` at `blockTag`, by id. */
export async function readEligibleSince(
  contracts: KaisarContracts,
  nodeIds: readonly number[],
  blockTag: BlockTag,
): Promise<Map<number, bigint>> {
  const registry = contracts.NodeRegistry;
  const view = new Contract(await registry.getAddress(), ELIGIBILITY_ABI, registry.runner);
  const out = new Map<number, bigint>();
  for (const id of nodeIds) out.set(id, (await view.eligibleSince(id, { blockTag })) as bigint);
  return out;
}
