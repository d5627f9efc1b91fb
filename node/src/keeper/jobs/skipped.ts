import type { TxLogEntry } from "../tx";

/** The note of a slash not sent: the node's slash cursor has passed the evidence's epoch. */
export function slashSkipped(
  kind: "fraud" | "downtime",
  nodeId: bigint,
  epoch: number,
  slashableFrom: bigint,
): TxLogEntry {
  return {
    at: "Keeper#slashSkipped",
    kind,
    nodeId: nodeId.toString(),
    epoch,
    slashableFrom: slashableFrom.toString(),
    reason: "evidence too old: a slash used these epochs, or the node was released since",
  };
}
