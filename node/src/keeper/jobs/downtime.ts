/**
 * Downtime of one on-chain epoch E: with the enforcer's policy (uptime below `downtimeThresholdBps` for
 * `downtimeEpochs` consecutive epochs), every node whose leaves of the N epochs ending at E are all
 * stored from on-chain reports and all below the threshold is slashed with
 * `SlaEnforcer.slashForDowntime(rentalId, proofs in epoch order)`, keyed "downtime:<nodeId>:<E>",
 * naming the first of its rentals whose service window overlaps each of those epochs (the slash is per
 * node: one rental is enough), unless the first epoch is before the node's downtime cursor (a slash
 * already used those epochs, or the node was released since).
 */
import type { KaisarContracts } from "../../chain/contracts";
import type { NodeEpochProof } from "./leaves";
import { slashSkipped } from "./skipped";
import { overlaps, type JobStep, type RentalRow } from "./types";

/** The enforcer's downtime policy, as the keeper uses it. */
export interface DowntimePolicy {
  thresholdBps: bigint;
  epochs: number;
}

/** A node with a full run of down epochs ending at the state's epoch. */
export interface DownNode {
  nodeId: bigint;
  /** Its proofs of the policy's epochs, in epoch order. */
  proofs: NodeEpochProof[];
}

export interface DowntimeState {
  epoch: number;
  policy: DowntimePolicy;
  /** Every node with a leaf in `epoch` (in leaf order), with its on-chain proofs of the policy's epochs
   * ending at `epoch` (undefined where an epoch's is not stored from an on-chain report). */
  runs: { nodeId: bigint; proofs: (NodeEpochProof | undefined)[] }[];
  /** The downtime cursor (`slashableFrom(nodeId)[0]`) of each node of `down(state)`. */
  downtimeFrom: ReadonlyMap<bigint, bigint>;
  /** `epochStart(first + i)` for i in 0..policy.epochs (needed once a node is down and not skipped). */
  bounds: bigint[];
  /** The rentals, in id order (needed as `bounds`). */
  rentals: RentalRow[];
}

/** The first epoch of the run ending at `epoch`. */
export const firstEpoch = (epoch: number, policy: DowntimePolicy) => epoch - policy.epochs + 1;

/** The nodes down (below the threshold) in every epoch of the run. */
export function down(state: Pick<DowntimeState, "epoch" | "policy" | "runs">): DownNode[] {
  if (firstEpoch(state.epoch, state.policy) < 0) return [];
  const out: DownNode[] = [];
  for (const { nodeId, proofs } of state.runs) {
    const run: NodeEpochProof[] = [];
    for (const p of proofs) {
      if (!p || p.metrics.uptimeBps >= state.policy.thresholdBps) break;
      run.push(p);
    }
    if (run.length === state.policy.epochs) out.push({ nodeId, proofs: run });
  }
  return out;
}

/** Whether a run from `first` is before the node's downtime cursor `from` (its slash is skipped). */
const tooOld = (first: number, from: bigint) => BigInt(first) < from;

/** The down nodes whose run is not before their downtime cursor (the rest: skipped). */
export function due(state: Pick<DowntimeState, "epoch" | "policy" | "runs" | "downtimeFrom">): DownNode[] {
  const first = firstEpoch(state.epoch, state.policy);
  return down(state).filter((n) => !tooOld(first, state.downtimeFrom.get(n.nodeId) ?? 0n));
}

/** A slash per down node with a rental that ran through the run; a note per node skipped. */
export function check(state: DowntimeState): JobStep[] {
  const { epoch, policy, bounds } = state;
  const first = firstEpoch(epoch, policy);
  const steps: JobStep[] = [];
  for (const { nodeId, proofs } of down(state)) {
    const from = state.downtimeFrom.get(nodeId) ?? 0n;
    if (tooOld(first, from)) {
      steps.push({ log: slashSkipped("downtime", nodeId, first, from) });
      continue;
    }
    const rental = state.rentals.find(
      (r) =>
        r.nodeId === nodeId && proofs.every((_, i) => overlaps(r.serviceStart, r.serviceEnd, bounds[i], bounds[i + 1])),
    );
    if (!rental) continue;
    steps.push({
      log: {
        at: "Keeper#slashDowntime",
        nodeId: nodeId.toString(),
        rentalId: rental.id.toString(),
        firstEpoch: first,
        lastEpoch: epoch,
        uptimeBps: proofs.map((p) => p.metrics.uptimeBps.toString()),
        thresholdBps: policy.thresholdBps.toString(),
      },
      call: {
        kind: "downtime",
        key: `downtime:${nodeId}:${epoch}`,
        contract: "SlaEnforcer",
        method: "slashForDowntime",
        args: [rental.id, proofs],
      },
    });
  }
  return steps;
}

/**
 * Reads the state of `epoch`: `proofOf(e, nodeId)` gives a node's stored on-chain proof; the cursors
 * of the down nodes, then (only if one is due) the epochs' bounds and `rentals()`.
 */
export async function read(
  contracts: KaisarContracts,
  epoch: number,
  policy: DowntimePolicy,
  nodeIds: bigint[],
  proofOf: (epoch: number, nodeId: bigint) => NodeEpochProof | undefined,
  rentals: () => Promise<RentalRow[]>,
): Promise<DowntimeState> {
  const { SlaEnforcer: sla, ReportOracle: oracle } = contracts;
  const first = firstEpoch(epoch, policy);
  const runs = nodeIds.map((nodeId) => ({
    nodeId,
    proofs: Array.from({ length: Math.max(0, policy.epochs) }, (_, i) => proofOf(first + i, nodeId)),
  }));
  const downtimeFrom = new Map<bigint, bigint>();
  for (const { nodeId } of down({ epoch, policy, runs })) {
    downtimeFrom.set(nodeId, (await sla.slashableFrom(nodeId))[0]);
  }
  const state: DowntimeState = { epoch, policy, runs, downtimeFrom, bounds: [], rentals: [] };
  if (due(state).length === 0) return state;
  state.bounds = await Promise.all(Array.from({ length: policy.epochs + 1 }, (_, i) => oracle.epochStart(first + i)));
  state.rentals = await rentals();
  return state;
}
