/** A node's stored leaf of an on-chain epoch, parsed, as the SLA jobs take it. */
import { leafFromJson } from "@kaisar/offchain";

import type { LeafRow } from "../store";

/** A node's leaf of an on-chain epoch with its proof, as `SlaEnforcer` takes it. */
export type NodeEpochProof = {
  leaf: ReturnType<typeof leafFromJson>["leaf"];
  metrics: NonNullable<ReturnType<typeof leafFromJson>["metrics"]>;
  proof: string[];
};

/** The node leaves (kind 0, with metrics) of stored rows, parsed, in row order. */
export function nodeProofs(rows: readonly LeafRow[]): NodeEpochProof[] {
  const out: NodeEpochProof[] = [];
  for (const row of rows) {
    if (row.kind !== 0) continue;
    const { leaf, metrics } = leafFromJson(JSON.parse(row.leaf));
    if (metrics) out.push({ leaf, metrics, proof: row.proof });
  }
  return out;
}
