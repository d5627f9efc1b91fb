/**
 * The SLA-proof fixture shared by the SlaEnforcer tests: proofs the enforcer must refuse
 * (`_verify`'s checks, in its order: the leaf's kind, the metrics against the leaf's hash, a report
 * for the epoch, the Merkle proof), each with the custom error and the arguments it reverts with.
 * A test file lists its cases with these builders and runs them against its own function.
 */
import { nodeMetricsHash, type NodeMetrics } from "../../offchain/src/leaves";
import { withLeaf, withMetrics, type NodeEpochProof } from "./sla";

/** A proof the enforcer refuses, built from a fixture `C`, with its custom error and arguments. */
export interface BadProof<C> {
  name: string;
  error: string;
  proof: (c: C) => NodeEpochProof;
  args: (c: C) => unknown[];
}

/** `of(c)` with a leaf of `kind` (not a node's): `SlaEnforcer_NotNodeLeaf(kind)`. */
export const notNodeLeaf = <C>(name: string, of: (c: C) => NodeEpochProof, kind: number): BadProof<C> => ({
  name,
  error: "SlaEnforcer_NotNodeLeaf",
  proof: (c) => withLeaf(of(c), { kind }),
  args: () => [kind],
});

/** `of(c)` with `metrics` changed by the caller: `SlaEnforcer_MetricsMismatch(their hash, the leaf's)`. */
export const metricsMismatch = <C>(
  name: string,
  of: (c: C) => NodeEpochProof,
  metrics: Partial<NodeMetrics>,
): BadProof<C> => ({
  name,
  error: "SlaEnforcer_MetricsMismatch",
  proof: (c) => withMetrics(of(c), metrics),
  args: (c) => [nodeMetricsHash({ ...of(c).metrics, ...metrics }), of(c).leaf.metricsHash],
});

/** `of(c)` labelled with an `epoch` never reported: `SlaEnforcer_NoReport(epoch)`. */
export const unreported = <C>(name: string, of: (c: C) => NodeEpochProof, epoch: bigint): BadProof<C> => ({
  name,
  error: "SlaEnforcer_NoReport",
  proof: (c) => withLeaf(of(c), { epoch }),
  args: () => [epoch],
});

/** A proof that does not reach the epoch's root: `SlaEnforcer_InvalidProof(epoch, node id)`. */
export const invalidProof = <C>(
  name: string,
  proof: (c: C) => NodeEpochProof,
  at: (c: C) => [epoch: bigint, nodeId: bigint],
): BadProof<C> => ({ name, error: "SlaEnforcer_InvalidProof", proof, args: at });
