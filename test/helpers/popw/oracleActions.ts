/**
 * ReportOracle actions (predict, send, apply): epoch reports.
 */
import { ethers } from "hardhat";
import { Signature } from "ethers";

import {
  LeafKind,
  buildRewardTree,
  leafReward,
  nodeMetricsHash,
  rewardLeafHash,
  type NodeMetrics,
  type RewardLeaf,
} from "../../../offchain/src/leaves";
import { reportDigest, signReport, type Report as SignedReport } from "../../../offchain/src/report";
import { makeReport } from "../oracle";
import { checkerLeaf, processProof } from "../rewards";
import { OPERATORS, PROVIDERS } from "./constants";
import type { World } from "./world";
import { type Model, epochBudget, epochStart, nodeOf } from "./state";
import { note, send } from "./send";
import { expectEvent, OK, err } from "../walk/send";

/**
 * Who signs a report: `quorum` the first `quorum` live operators of the current set (all the live
 * ones when fewer are left: `BelowQuorum`), `belowQuorum` one fewer, `tombstone` those plus the
 * operators excluded from the set, up to the quorum and at least one (`ExcludedSigner` at the
 * first), `oldVersion` a quorum under another config version (`WrongConfigVersion`).
 */
export type Signing = "quorum" | "belowQuorum" | "tombstone" | "oldVersion";

export interface ReportPlan {
  epoch: bigint;
  /** One entry per node (its leaf's account is the node's provider). */
  nodes: { nodeId: bigint; metrics: NodeMetrics; capacity: bigint; delivery: bigint }[];
  /** Checker leaves: operator index and reward. */
  checkers: { op: number; reward: bigint }[];
  /** The total the report states; by default the leaves' sum (honest checkers). */
  stated?: bigint;
  signing?: Signing;
}

export const liveCount = (m: Model) => m.checkerSet.excluded.filter((x) => !x).length;

/** Packed records (index byte, r, s, v) in the order given: the walk sorts them itself. */
function packRecords(records: { index: number; signature: string }[]): string {
  return ethers.concat(
    records.map(({ index, signature }) => {
      const sig = Signature.from(signature);
      return ethers.concat([ethers.toBeHex(index, 1), sig.r, sig.s, ethers.toBeHex(sig.v, 1)]);
    }),
  );
}

/** The EIP-712 digest of a report under the oracle's domain. */
export const digestOf = (w: World, report: SignedReport) => reportDigest(w.c.domain, report);

/**
 * Operators of the current checker set sign a report over the tree of `plan`'s leaves (see
 * {@link Signing}); the keeper submits it. The oracle checks the version, the epoch, the budget,
 * then the quorum and each signature in index order.
 */
export async function actReport(w: World, m: Model, plan: ReportPlan) {
  const { epoch } = plan;
  const signing = plan.signing ?? "quorum";
  const nodes = plan.nodes.map((n) => ({
    nodeId: n.nodeId,
    metrics: n.metrics,
    leaf: {
      kind: LeafKind.Node,
      epoch,
      account: w.addr[PROVIDERS[nodeOf(m, n.nodeId)!.provider]],
      id: n.nodeId,
      capacityReward: n.capacity,
      deliveryReward: n.delivery,
      checkerReward: 0n,
      metricsHash: nodeMetricsHash(n.metrics),
    } as RewardLeaf,
  }));
  const leaves = [
    ...nodes.map((n) => n.leaf),
    ...plan.checkers.map((k) => checkerLeaf(epoch, w.addr[OPERATORS[k.op]], k.reward, epoch)),
  ];
  const tree = buildRewardTree(leaves);
  const total = leaves.reduce((a, l) => a + leafReward(l), 0n);
  const stated = plan.stated ?? total;
  const cs = m.checkerSet;
  const version = signing !== "oldVersion" ? cs.version : cs.version > 1n ? cs.version - 1n : cs.version + 1n;
  const report = makeReport(epoch, version, { root: tree.root, nodeCount: BigInt(nodes.length), totalReward: stated });

  // The signers: live operators (index order), and excluded ones for `tombstone`.
  const quorum = Number(cs.quorum);
  const indexes = cs.members.map((_, i) => i);
  const live = indexes.filter((i) => !cs.excluded[i]);
  const dead = indexes.filter((i) => cs.excluded[i]);
  let chosen = live.slice(0, signing === "belowQuorum" ? quorum - 1 : quorum);
  if (signing === "tombstone" && dead.length > 0) {
    const extra = Math.max(1, quorum - chosen.length);
    chosen = [...chosen, ...dead.slice(0, extra)].sort((a, b) => a - b);
  }
  const records = await Promise.all(
    chosen.map(async (index) => ({
      index,
      signature: await signReport(w.c.operators[cs.members[index]], w.c.domain, report),
    })),
  );
  const firstDead = chosen.findIndex((i) => cs.excluded[i]);

  const budget = epochBudget(epoch);
  const endsAt = epochStart(w, epoch + 1n);
  const oracle = w.c.oracle;
  const outcome =
    version !== cs.version
      ? err(oracle, "ReportOracle_WrongConfigVersion", version, cs.version)
      : m.reports.has(epoch)
        ? err(oracle, "ReportOracle_AlreadyProcessed", epoch)
        : m.anyReport && epoch < m.lastEpoch
          ? err(oracle, "ReportOracle_StaleEpoch", epoch, m.lastEpoch)
          : m.next < endsAt
            ? err(oracle, "ReportOracle_EpochNotEnded", epoch, endsAt)
            : stated > budget
              ? err(oracle, "ReportOracle_RewardAboveBudget", epoch, stated, budget)
              : chosen.length < quorum
                ? err(oracle, "ReportOracle_BelowQuorum", chosen.length, quorum)
                : firstDead >= 0
                  ? err(oracle, "ReportOracle_ExcludedSigner", firstDead, chosen[firstDead])
                  : OK;
  if (live.length < quorum) note(`  report: quorum lost (${live.length} live < ${quorum})`);
  const receipt = await send(m, outcome, (o) =>
    oracle.connect(w.signer.keeper).submitReport(report, packRecords(records), o),
  );
  if (!outcome.ok) return;
  expectEvent(receipt, oracle, "SubmitReport", [
    epoch,
    cs.version,
    tree.root,
    BigInt(nodes.length),
    stated,
    chosen.reduce((a, i) => a | (1n << BigInt(i)), 0n),
    w.addr.keeper,
  ]);
  m.reports.set(epoch, { epoch, budget, stated, leaves, tree, nodes });
  m.reported.push(epoch);
  m.lastEpoch = epoch;
  m.anyReport = true;
}

/** What `_verify` (SlaEnforcer) and `MerkleProof.verify` say of a proof: the root it reaches, if any. */
export function proofReaches(m: Model, leaf: RewardLeaf, proof: string[]): boolean {
  const root = m.reports.get(leaf.epoch)?.tree.root;
  return root !== undefined && processProof(rewardLeafHash(leaf), proof).toLowerCase() === root.toLowerCase();
}
