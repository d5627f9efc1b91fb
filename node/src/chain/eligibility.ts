/**
 * Which nodes may earn an epoch: `NodeRegistry.eligibleSince(nodeId)` (since when the node has been
 * listed with its provider's stake covering it; 0 = not eligible), read at the last block before the
 * epoch's end, so that every checker reads the same value whenever it scores.
 */
import type { BlockTag } from "ethers";

import type { KaisarContracts } from "./contracts";

/** `NodeRegistry.eligibleSince` of each of `nodeIds` at `blockTag`, by id. */
export async function readEligibleSince(
  contracts: KaisarContracts,
  nodeIds: readonly number[],
  blockTag: BlockTag,
): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>();
  for (const id of nodeIds) out.set(id, await contracts.NodeRegistry.eligibleSince(id, { blockTag }));
  return out;
}
