/**
 * Hardware fraud of one on-chain epoch: every node leaf that attests `hardwareMismatch` is sent to
 * `SlaEnforcer.slashForHardwareFraud(proof)`, keyed "fraud:<epoch>:<nodeId>", unless the node's fraud
 * cursor (`slashableFrom`) has passed the epoch (the evidence is too old: a slash or a release since).
 */
import type { KaisarContracts } from "../../chain/contracts";
import type { NodeEpochProof } from "./leaves";
import { slashSkipped } from "./skipped";
import type { JobStep } from "./types";

export interface FraudState {
  epoch: number;
  leaves: NodeEpochProof[];
  /** The fraud cursor (`slashableFrom(nodeId)[1]`) of every node of `suspects(leaves)`, by node id. */
  fraudFrom: ReadonlyMap<bigint, bigint>;
}

/** The leaves that attest a hardware mismatch. */
export function suspects(leaves: readonly NodeEpochProof[]): NodeEpochProof[] {
  return leaves.filter((l) => l.metrics.hardwareMismatch);
}

/** A slash per suspect whose evidence is not too old, a note per one whose is. */
export function check(state: FraudState): JobStep[] {
  return suspects(state.leaves).map(({ leaf, metrics, proof }): JobStep => {
    const from = state.fraudFrom.get(leaf.id) ?? 0n;
    if (BigInt(state.epoch) < from) return { log: slashSkipped("fraud", leaf.id, state.epoch, from) };
    return {
      log: { at: "Keeper#slashFraud", epoch: state.epoch, nodeId: leaf.id.toString(), provider: leaf.account },
      call: {
        kind: "fraud",
        key: `fraud:${state.epoch}:${leaf.id}`,
        contract: "SlaEnforcer",
        method: "slashForHardwareFraud",
        args: [{ leaf, metrics, proof }],
      },
    };
  });
}

/** Reads the fraud cursors of the suspects of `leaves`. */
export async function read(contracts: KaisarContracts, epoch: number, leaves: NodeEpochProof[]): Promise<FraudState> {
  const fraudFrom = new Map<bigint, bigint>();
  for (const { leaf } of suspects(leaves)) {
    fraudFrom.set(leaf.id, (await contracts.SlaEnforcer.slashableFrom(leaf.id))[1]);
  }
  return { epoch, leaves, fraudFrom };
}
