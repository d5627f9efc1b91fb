/**
 * SLA credits of one on-chain epoch: for every node leaf whose attested uptime is below the SLA target
 * of one of the node's rentals that ran during the epoch (service window overlapping
 * `[epochStart(e), epochStart(e + 1))`) and was not credited yet (`isCredited`) and is owed a credit
 * (`slaCreditBps > 0`), one `SlaEnforcer.applySlaCredits(rentalIds, proof)` per node, keyed
 * "sla:<epoch>:<nodeId>".
 */
import type { KaisarContracts } from "../../chain/contracts";
import type { NodeEpochProof } from "./leaves";
import { overlaps, type JobStep, type RentalRow } from "./types";

export interface CreditState {
  epoch: number;
  /** `RentalEscrow.slaTiers()`: the uptime target (bps) of each tier. */
  tiers: number[];
  /** `[epochStart(epoch), epochStart(epoch + 1))`. */
  from: bigint;
  to: bigint;
  leaves: NodeEpochProof[];
  rentals: RentalRow[];
  /** Rentals (ids as strings) already credited for the epoch, among the candidates. */
  credited: ReadonlySet<string>;
  /** `slaCreditBps(target, uptime)` of the candidates, keyed "<target>:<uptime>". */
  creditBps: ReadonlyMap<string, bigint>;
}

/** A rental that ran during the epoch on a node below its tier's target. */
export interface CreditCandidate {
  node: NodeEpochProof;
  rentalId: bigint;
  target: number;
}

/** The key of `CreditState.creditBps`. */
export const creditBpsKey = (target: number, uptimeBps: bigint) => `${target}:${uptimeBps}`;

/** The candidates of `state` (what the chain is asked about before `check`), node by node. */
export function candidates(state: Omit<CreditState, "credited" | "creditBps">): CreditCandidate[] {
  const maxTarget = Math.max(0, ...state.tiers);
  const out: CreditCandidate[] = [];
  for (const node of state.leaves) {
    if (node.metrics.uptimeBps >= BigInt(maxTarget)) continue;
    for (const r of state.rentals) {
      if (r.nodeId !== node.leaf.id) continue;
      const target = state.tiers[r.slaTier] ?? 0;
      if (target === 0 || node.metrics.uptimeBps >= BigInt(target)) continue;
      if (!overlaps(r.serviceStart, r.serviceEnd, state.from, state.to)) continue;
      out.push({ node, rentalId: r.id, target });
    }
  }
  return out;
}

/** The credit calls of the epoch, one per node with rentals owed a credit. */
export function check(state: CreditState): JobStep[] {
  const byNode = new Map<NodeEpochProof, bigint[]>();
  for (const c of candidates(state)) {
    if (state.credited.has(c.rentalId.toString())) continue;
    if ((state.creditBps.get(creditBpsKey(c.target, c.node.metrics.uptimeBps)) ?? 0n) === 0n) continue;
    byNode.set(c.node, [...(byNode.get(c.node) ?? []), c.rentalId]);
  }
  return [...byNode].map(([{ leaf, metrics, proof }, ids]) => ({
    log: {
      at: "Keeper#slaCredit",
      epoch: state.epoch,
      nodeId: leaf.id.toString(),
      uptimeBps: metrics.uptimeBps.toString(),
      rentals: ids.map(String),
    },
    call: {
      kind: "sla",
      key: `sla:${state.epoch}:${leaf.id}`,
      contract: "SlaEnforcer",
      method: "applySlaCredits",
      args: [ids, { leaf, metrics, proof }],
    },
  }));
}

/** Reads the state of `epoch` (its stored node leaves and the rentals given), then the candidates' lookups. */
export async function read(
  contracts: KaisarContracts,
  epoch: number,
  leaves: NodeEpochProof[],
  rentals: RentalRow[],
): Promise<CreditState> {
  const { RentalEscrow: escrow, SlaEnforcer: sla, ReportOracle: oracle } = contracts;
  const [tiers, from, to] = await Promise.all([
    escrow.slaTiers().then((t) => t.map(Number)),
    oracle.epochStart(epoch),
    oracle.epochStart(epoch + 1),
  ]);
  const base = { epoch, tiers, from, to, leaves, rentals };
  const credited = new Set<string>();
  const creditBps = new Map<string, bigint>();
  for (const c of candidates(base)) {
    const key = creditBpsKey(c.target, c.node.metrics.uptimeBps);
    const [done, bps] = await Promise.all([
      sla.isCredited(c.rentalId, epoch),
      creditBps.get(key) ?? escrow.slaCreditBps(c.target, c.node.metrics.uptimeBps),
    ]);
    if (done) credited.add(c.rentalId.toString());
    creditBps.set(key, bps);
  }
  return { ...base, credited, creditBps };
}
