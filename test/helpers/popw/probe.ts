/**
 * The chain state of the PoPW walk in two calls: `MoneyWalkProbe` (escrow, registry, balances) and
 * `PopwWalkProbe` (oracle, licenses, distributor, enforcer, supplies, marks).
 */
import type { RewardLeaf } from "../../../offchain/src/leaves";
import type { MoneyWalkProbe, PopwWalkProbe } from "../../../typechain-types";
import { subjectOf } from "../rewards";
import { HOLDERS, OPERATORS, RENTERS, STAKERS, TOKENS } from "./constants";
import type { World } from "./world";

export type ProbeState = Awaited<ReturnType<MoneyWalkProbe["read"]>>;

export async function probe(w: World): Promise<ProbeState> {
  return w.probe.read(
    w.addr.escrow,
    w.addr.registry,
    TOKENS.map((t) => w.tokenAddr[t]),
    HOLDERS.map((h) => w.addr[h]),
    RENTERS.map((r) => w.addr[r]),
    STAKERS.map((s) => w.addr[s]),
  );
}

export type WalkProbeState = Awaited<ReturnType<PopwWalkProbe["read"]>>;

/**
 * The rest in one call: the oracle (config, checker set, equivocations, every reported epoch's
 * root and budget), every license, the distributor (`claimedOf` every reported epoch, reserve,
 * positions), the enforcer (every node's cursors and an unknown node's, the rate, every rental's
 * saving credits), the token supplies, and the `marks`.
 */
export async function probeWalk(
  w: World,
  m: { reported: bigint[]; nodes: readonly { id: bigint }[]; rentals: readonly { id: bigint }[] },
  marks: Marks,
) {
  return w.walkProbe.read({
    oracle: w.addr.reportOracle,
    license: w.c.license.target.toString(),
    distributor: w.addr.distributor,
    sla: w.addr.sla,
    usd: w.tokenAddr.usd,
    kai: w.tokenAddr.kai,
    operators: OPERATORS.map((o) => w.addr[o]),
    provenOperators: marks.proofs.map(([op]) => w.addr[OPERATORS[op]]),
    provenEpochs: marks.proofs.map(([, e]) => e),
    epochs: m.reported,
    stakers: STAKERS.map((a) => w.addr[a]),
    nodeIds: [...m.nodes.map((n) => n.id), BigInt(m.nodes.length + 1)],
    rentalIds: m.rentals.map((r) => r.id),
    creditRentals: marks.credits.map(([id]) => id),
    creditEpochs: marks.credits.map(([, e]) => e),
    leafEpochs: marks.leaves.map((l) => l.epoch),
    leafKinds: marks.leaves.map((l) => l.kind),
    leafSubjects: marks.leaves.map((l) => subjectOf(l)),
  });
}

/**
 * Marks to read back from the chain: (rental, epoch) credits, claimed leaves and (operator, epoch)
 * equivocation proofs. (Slashes leave no per-epoch mark: the nodes' `slashableFrom` cursors are
 * checked after every step instead.)
 */
export interface Marks {
  credits: (readonly [bigint, bigint])[];
  leaves: RewardLeaf[];
  proofs: (readonly [number, bigint])[];
}
