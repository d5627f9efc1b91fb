/**
 * Jailed nodes: the open rentals of every jailed node are closed with
 * `SlaEnforcer.closeOnJailedNode(ids)` (saving plans refunded in full), keyed "jailclose:<ids>", one
 * transaction per node.
 */
import { CLOSED } from "./close";
import type { JobStep, RentalRow } from "./types";

export interface JailCloseState {
  /** The rentals from the settlement cursor on, in id order. */
  rentals: RentalRow[];
  /** The nodes (of `openByNode(rentals)`) jailed now. */
  jailed: ReadonlySet<bigint>;
}

/** The open rentals of `rentals`, by node, in order of first appearance. */
export function openByNode(rentals: readonly RentalRow[]): Map<bigint, bigint[]> {
  const byNode = new Map<bigint, bigint[]>();
  for (const r of rentals) {
    if (r.status === CLOSED) continue;
    byNode.set(r.nodeId, [...(byNode.get(r.nodeId) ?? []), r.id]);
  }
  return byNode;
}

/** One close per jailed node with open rentals. */
export function check(state: JailCloseState): JobStep[] {
  return [...openByNode(state.rentals)]
    .filter(([nodeId]) => state.jailed.has(nodeId))
    .map(([nodeId, ids]) => ({
      log: { at: "Keeper#closeJailed", nodeId: nodeId.toString(), rentals: ids.map(String) },
      call: {
        kind: "jailclose",
        key: `jailclose:${ids.join(",")}`,
        contract: "SlaEnforcer",
        method: "closeOnJailedNode",
        args: [ids],
      },
    }));
}
