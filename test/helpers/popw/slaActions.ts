/**
 * SlaEnforcer actions (predict, send, apply): credits, slashes, closes on jailed nodes.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import type { ContractTransactionReceipt } from "ethers";

import { CloseReason, Plan } from "../../../offchain/src/rentalMath";
import { DEFAULT_CREDIT_SCHEDULE, kaiForShortfall, slaCredit, slaCreditBps } from "../../../offchain/src/sla";
import { nodeMetricsHash, rewardLeafHash } from "../../../offchain/src/leaves";
import { NodeStatus, RentalStatus } from "../../fixtures";
import { Reason, SLASH_WINDOW, stakeCreditEvidence, type NodeEpochProof } from "../sla";
import {
  BPS,
  DOWNTIME_EPOCHS,
  DOWNTIME_SLASH_BPS,
  DOWNTIME_THRESHOLD_BPS,
  FRAUD_SLASH_BPS,
  MAX_KAI_PER_TOKEN,
  RENTERS,
  SLA_TARGETS,
  STAKE_CREDIT_CAP_BPS,
} from "./constants";
import type { World } from "./world";
import {
  type Model,
  type ModelNode,
  type ModelRental,
  creditKey,
  cursorsOf,
  epochStart,
  isOpen,
  move,
  nodeOf,
  perGpuStake,
  rentalOf,
  servedDuring,
  setCursors,
  slaRental,
} from "./state";
import { PLAN_NAMES, note, send } from "./send";
import { eventsOf, expectEvent, expectEvents, OK, type Outcome, err } from "../walk/send";
import { predictSlash } from "./registryActions";
import { predictClose } from "./escrowActions";
import { proofReaches } from "./oracleActions";

/** `SlaEnforcer._verify`: the revert a node proof causes, if any. */
function verifyFailure(w: World, m: Model, p: NodeEpochProof): Outcome | undefined {
  const sla = w.c.sla;
  if (p.leaf.kind !== 0) return err(sla, "SlaEnforcer_NotNodeLeaf", p.leaf.kind);
  const metricsHash = nodeMetricsHash(p.metrics);
  if (metricsHash !== p.leaf.metricsHash)
    return err(sla, "SlaEnforcer_MetricsMismatch", metricsHash, p.leaf.metricsHash);
  if (!m.reports.has(p.leaf.epoch)) return err(sla, "SlaEnforcer_NoReport", p.leaf.epoch);
  if (!proofReaches(m, p.leaf, p.proof)) return err(sla, "SlaEnforcer_InvalidProof", p.leaf.epoch, p.leaf.id);
  return undefined;
}

/** What `_applyCredit` does for one rental: the events it emits, and the model's update. */
interface CreditPlan {
  creditSla: unknown[]; // the escrow's `CreditSla`
  applied: unknown[]; // the enforcer's `ApplySlaCredit`
  deferred?: unknown[]; // the enforcer's `DeferStakeCredit`, if KAI became due from stake
  label: string; // for the outcome counts
  apply: () => void;
}

/**
 * `_applyCredit(rentalId, p)` for a verified proof: the credit of `offchain/src/sla.ts`
 * (`slaCredit`) for the leaf's uptime in its epoch, paid from the provider's unwithdrawn earnings on
 * the rental, the rest from its stake in KAI at `kaiPerToken` (`kaiForShortfall`), capped at what
 * the stake holds. A credit that would pay nothing (nothing from earnings, no KAI) reverts
 * `NothingPaid` and stays available. Returns the revert, or the plan.
 */
function predictCredit(w: World, m: Model, rentalId: bigint, p: NodeEpochProof): Outcome | CreditPlan {
  const epoch = p.leaf.epoch;
  const r = rentalOf(m, rentalId);
  const from = epochStart(w, epoch);
  const to = epochStart(w, epoch + 1n);
  if (m.credited.has(creditKey(rentalId, epoch))) return err(w.c.sla, "SlaEnforcer_AlreadyCredited", rentalId, epoch);
  if (!r) return err(w.c.escrow, "RentalEscrow_UnknownRental", rentalId);
  if (r.nodeId !== p.leaf.id) return err(w.c.escrow, "RentalEscrow_WrongNode", rentalId, p.leaf.id, r.nodeId);
  const target = SLA_TARGETS[Number(r.slaTier)];
  const uptime = p.metrics.uptimeBps;
  if (slaCreditBps(DEFAULT_CREDIT_SCHEDULE, target, uptime) === 0n)
    return err(w.c.escrow, "RentalEscrow_NoSlaBreach", rentalId, uptime, target);
  const c = slaCredit(slaRental(r), DEFAULT_CREDIT_SCHEDULE, target, uptime, from, to, m.next);
  if (!c) return err(w.c.escrow, "RentalEscrow_NothingToCredit", rentalId, from, to);
  const renter = RENTERS[r.renter];
  const kaiOwed = kaiForShortfall(c.fromStake, m.kaiPerToken);
  // Deferred (paid after the epoch's slashing window) and capped per node and epoch.
  const node = nodeOf(m, r.nodeId)!;
  const nodeKey = `${r.nodeId}:${epoch}`;
  const cap = (perGpuStake(node) * node.gpuCount * STAKE_CREDIT_CAP_BPS) / BPS;
  const owedBefore = m.nodeStakeCreditDue.get(nodeKey) ?? 0n;
  const room = cap > owedBefore ? cap - owedBefore : 0n;
  const kaiFromStake = kaiOwed === 0n ? 0n : kaiOwed < room ? kaiOwed : room;
  expect(c.fromEarnings <= c.credit, "the part from earnings is at most the credit").to.be.true;
  expect(kaiFromStake <= kaiOwed, "KAI from stake is at most what the shortfall is worth").to.be.true;
  if (c.fromEarnings === 0n && kaiFromStake === 0n) {
    note(
      `  credit: nothing paid (${PLAN_NAMES[r.plan]} ${isOpen(r) ? "open" : "closed"}, ` +
        (m.kaiPerToken === 0n ? "no rate" : kaiOwed === 0n ? "rate too small" : "cap spent") +
        ")",
    );
    return err(w.c.sla, "SlaEnforcer_NothingPaid", rentalId, epoch);
  }
  return {
    creditSla: [rentalId, w.addr[renter], w.tokenAddr.usd, c.creditBps, c.credit, c.fromEarnings],
    applied: [rentalId, epoch, uptime, c.credit, c.fromEarnings, kaiFromStake],
    deferred: kaiFromStake === 0n ? undefined : [rentalId, epoch, kaiFromStake],
    label:
      `  credit: ${PLAN_NAMES[r.plan]} ${isOpen(r) ? "open" : "closed"}` +
      (c.fromEarnings > 0n ? " +earnings" : "") +
      (kaiOwed > 0n ? (kaiFromStake < kaiOwed ? " +stake (capped)" : " +stake") : ""),
    apply: () => {
      if (kaiFromStake > 0n) {
        m.nodeStakeCreditDue.set(nodeKey, owedBefore + kaiFromStake);
        m.stakeCreditDue.set(creditKey(rentalId, epoch), { rentalId, epoch, kai: kaiFromStake });
      }
      m.credited.add(creditKey(rentalId, epoch));
      r.amount = c.after.amount;
      r.withdrawnUnits = c.after.withdrawnUnits;
      r.creditedFromEarnings += c.fromEarnings;
      r.credited += c.credit;
      move(m, "usd", "escrow", renter, c.fromEarnings);
    },
  };
}

/** The events of `plans` (in order) are exactly those of `receipt`. */
function expectCreditEvents(w: World, receipt: ContractTransactionReceipt | undefined, plans: CreditPlan[]) {
  expectEvents(
    receipt,
    w.c.escrow,
    "CreditSla",
    plans.map((pl) => pl.creditSla),
  );
  expectEvents(
    receipt,
    w.c.sla,
    "ApplySlaCredit",
    plans.map((pl) => pl.applied),
  );
  expectEvents(
    receipt,
    w.c.sla,
    "DeferStakeCredit",
    plans.flatMap((pl) => (pl.deferred ? [pl.deferred] : [])),
  );
  expectEvents(receipt, w.c.registry, "Slash", []);
  for (const pl of plans) note(pl.label);
}

/**
 * `payStakeCredit(rentalId, epoch)` by the keeper: once the epoch's slashing window has passed, the
 * KAI due from the provider's stake (rewards owed first, then stake, then unbonding; what is there)
 * goes to the renter (`Slash` reason 1, evidence `keccak256(abi.encode(rentalId, epoch))`).
 */
export async function actPayStakeCredit(w: World, m: Model, rentalId: bigint, epoch: bigint) {
  const sla = w.c.sla;
  const due = m.stakeCreditDue.get(creditKey(rentalId, epoch));
  const opensAt = epochStart(w, epoch + 1n) + SLASH_WINDOW + 1n;
  const r = rentalOf(m, rentalId);
  let slash: ReturnType<typeof predictSlash> | undefined;
  let outcome: Outcome;
  if (!due) outcome = err(sla, "SlaEnforcer_NothingDue", rentalId, epoch);
  else if (m.next < opensAt) outcome = err(sla, "SlaEnforcer_SlashingWindowOpen", epoch, opensAt);
  else {
    slash = predictSlash(w, m, r!.provider, due.kai, RENTERS[r!.renter]);
    outcome = OK;
  }
  const receipt = await send(m, outcome, (o) => sla.connect(w.signer.keeper).payStakeCredit(rentalId, epoch, o));
  if (!outcome.ok) return;
  expectEvent(
    receipt,
    w.c.registry,
    "Slash",
    slash!.event(r!.nodeId, Reason.SlaCredit, stakeCreditEvidence(rentalId, epoch)),
  );
  expectEvent(receipt, sla, "PayStakeCredit", [rentalId, epoch, slash!.taken]);
  slash!.apply();
  r!.kaiFromStake += slash!.taken;
  m.stakeCreditDue.delete(creditKey(rentalId, epoch));
  note(`  stake credit paid: ${slash!.taken < due!.kai ? "part" : "all"}`);
}

/** `applySlaCredit(rentalId, p)` sent by a keeper: the proof verified, then the rental credited. */
export async function actApplySlaCredit(w: World, m: Model, rentalId: bigint, p: NodeEpochProof) {
  const plan = verifyFailure(w, m, p) ?? predictCredit(w, m, rentalId, p);
  const outcome = "apply" in plan ? OK : plan;
  m.touched.credits.push([rentalId, p.leaf.epoch]);
  const receipt = await send(m, outcome, (o) => w.c.sla.connect(w.signer.keeper).applySlaCredit(rentalId, p, o));
  if (!("apply" in plan)) return;
  expectCreditEvents(w, receipt, [plan]);
  plan.apply();
}

/**
 * `applySlaCredits(rentalIds, p)`: the proof verified once, then each rental credited in turn (a
 * rental twice is credited once, then reverts); any revert reverts the whole batch.
 */
export async function actApplySlaCredits(w: World, m: Model, rentalIds: bigint[], p: NodeEpochProof) {
  let outcome = verifyFailure(w, m, p);
  const saved = structuredClone({
    rentals: m.rentals,
    stakes: m.stakes,
    bal: m.bal,
    credited: m.credited,
    stakeCreditDue: m.stakeCreditDue,
    nodeStakeCreditDue: m.nodeStakeCreditDue,
  });
  const plans: CreditPlan[] = [];
  for (const id of outcome ? [] : rentalIds) {
    // Each credit sees the ones before it (withdrawn units, stake, marks): apply as we go.
    const plan = predictCredit(w, m, id, p);
    if (!("apply" in plan)) {
      outcome = plan;
      break;
    }
    plan.apply();
    plans.push(plan);
  }
  if (outcome) Object.assign(m, saved);
  outcome ??= OK;
  m.touched.credits.push(...rentalIds.map((id) => [id, p.leaf.epoch] as const));
  const receipt = await send(m, outcome, (o) => w.c.sla.connect(w.signer.keeper).applySlaCredits(rentalIds, p, o));
  if (outcome.ok) expectCreditEvents(w, receipt, plans);
}

/** `_slashAndJail`: the slash to the treasury (its `Slash` event checked), and the node jailed unless it is already. */
function predictSlashAndJail(w: World, m: Model, node: ModelNode, amount: bigint) {
  const slash = predictSlash(w, m, node.provider, amount, "treasury");
  const apply = (receipt: ContractTransactionReceipt | undefined, reason: number, evidence: string) => {
    expectEvent(receipt, w.c.registry, "Slash", slash.event(node.id, reason, evidence));
    slash.apply();
    if (node.status !== NodeStatus.Jailed && node.status !== NodeStatus.Retired) node.status = NodeStatus.Jailed;
  };
  return { taken: slash.taken, apply };
}

/**
 * `slashForDowntime(rentalId, proofs)`: `downtimeEpochs` consecutive leaves of the rental's node,
 * each below the threshold and inside the rental's service window, starting at or after the node's
 * downtime cursor; a third of the per-GPU stake of each of the node's GPUs is slashed and the node
 * jailed. The cursor moves past the last epoch used.
 */
export async function actSlashForDowntime(w: World, m: Model, rentalId: bigint, proofs: NodeEpochProof[]) {
  const sla = w.c.sla;
  const r = rentalOf(m, rentalId);
  let outcome: Outcome | undefined;
  let slash: ReturnType<typeof predictSlashAndJail> | undefined;
  if (proofs.length !== DOWNTIME_EPOCHS)
    outcome = err(sla, "SlaEnforcer_WrongProofCount", proofs.length, DOWNTIME_EPOCHS);
  else if (!r) outcome = err(w.c.escrow, "RentalEscrow_UnknownRental", rentalId);
  else {
    const first = proofs[0].leaf.epoch;
    const from = cursorsOf(m, r.nodeId).downtime;
    const lastEpoch = first + BigInt(proofs.length) - 1n;
    const deadline = epochStart(w, lastEpoch + 1n) + SLASH_WINDOW;
    if (first < from) outcome = err(sla, "SlaEnforcer_EvidenceTooOld", r.nodeId, first, from);
    else if (m.next > deadline) outcome = err(sla, "SlaEnforcer_EvidenceExpired", lastEpoch, deadline);
    for (let i = 0; i < proofs.length && !outcome; i++) {
      const p = proofs[i];
      const e = p.leaf.epoch;
      outcome = verifyFailure(w, m, p);
      if (outcome) break;
      if (p.leaf.id !== r.nodeId) outcome = err(sla, "SlaEnforcer_WrongNode", i, p.leaf.id, r.nodeId);
      else if (e !== first + BigInt(i)) outcome = err(sla, "SlaEnforcer_NotConsecutive", i, e);
      else if (p.metrics.uptimeBps >= DOWNTIME_THRESHOLD_BPS)
        outcome = err(sla, "SlaEnforcer_UptimeAboveThreshold", e, p.metrics.uptimeBps, DOWNTIME_THRESHOLD_BPS);
      else if (!servedDuring(w, r, e, m.next)) outcome = err(sla, "SlaEnforcer_NotDuringRental", rentalId, e);
    }
    if (!outcome) {
      const node = nodeOf(m, r.nodeId)!;
      // The node's GPUs, not the rental's: the rental is only the evidence that the node was rented.
      slash = predictSlashAndJail(w, m, node, (perGpuStake(node) * node.gpuCount * DOWNTIME_SLASH_BPS) / BPS);
      outcome = OK;
    }
  }
  const receipt = await send(m, outcome, (o) => sla.connect(w.signer.keeper).slashForDowntime(rentalId, proofs, o));
  if (!outcome.ok) return;
  const first = proofs[0].leaf.epoch;
  const last = first + BigInt(proofs.length) - 1n;
  const evidence = ethers.keccak256(
    ethers.solidityPacked(
      proofs.map(() => "bytes32"),
      proofs.map((p) => rewardLeafHash(p.leaf)),
    ),
  );
  expectEvent(receipt, sla, "SlashDowntime", [r!.nodeId, rentalId, first, last, slash!.taken, evidence]);
  slash!.apply(receipt, Reason.Downtime, evidence);
  setCursors(m, r!.nodeId, { downtime: last + 1n });
}

/**
 * `slashForHardwareFraud(p)`: the full per-GPU stake of every GPU of the node; jailed. The epoch
 * must be at or after the node's fraud cursor, which moves past it.
 */
export async function actSlashForFraud(w: World, m: Model, p: NodeEpochProof) {
  const sla = w.c.sla;
  const epoch = p.leaf.epoch;
  const nodeId = p.leaf.id;
  const node = nodeOf(m, nodeId);
  let slash: ReturnType<typeof predictSlashAndJail> | undefined;
  let outcome = verifyFailure(w, m, p);
  if (!outcome) {
    const from = cursorsOf(m, nodeId).fraud;
    if (!p.metrics.hardwareMismatch) outcome = err(sla, "SlaEnforcer_NoHardwareMismatch", epoch, nodeId);
    else if (epoch < from) outcome = err(sla, "SlaEnforcer_EvidenceTooOld", nodeId, epoch, from);
    else if (m.next > epochStart(w, epoch + 1n) + SLASH_WINDOW)
      outcome = err(sla, "SlaEnforcer_EvidenceExpired", epoch, epochStart(w, epoch + 1n) + SLASH_WINDOW);
    else {
      slash = predictSlashAndJail(w, m, node!, (perGpuStake(node!) * node!.gpuCount * FRAUD_SLASH_BPS) / BPS);
      outcome = OK;
    }
  }
  const receipt = await send(m, outcome, (o) => sla.connect(w.signer.keeper).slashForHardwareFraud(p, o));
  if (!outcome.ok) return;
  const leafHash = rewardLeafHash(p.leaf);
  expectEvent(receipt, sla, "SlashHardwareFraud", [nodeId, epoch, slash!.taken, leafHash]);
  slash!.apply(receipt, Reason.HardwareFraud, leafHash);
  setCursors(m, nodeId, { fraud: epoch + 1n });
}

/**
 * `closeOnJailedNode(ids)` by the keeper: open rentals on jailed nodes close as ProviderSlashed;
 * closed ones are skipped. A saving plan is refunded in full: the escrow returns all but the value of
 * its withdrawn units, and of that the provider's own gross withdrawals (not the SLA credits paid to
 * the renter from its earnings) come from its stake, in KAI at `kaiPerToken`, capped at what the
 * stake holds, straight to the renter (`Slash` reason 4, evidence `keccak256(abi.encode(id))`), with
 * `RefundSavingFromStake(id, withdrawn, kaiPaid)` whenever it had withdrawn anything. An empty stake
 * is not slashed. Each rental's close and refund happen in turn (the stake is shared).
 */
export async function actCloseOnJailedNode(w: World, m: Model, ids: bigint[]) {
  const sla = w.c.sla;
  let outcome: Outcome | undefined;
  const toClose: ModelRental[] = [];
  for (const id of ids) {
    const r = rentalOf(m, id);
    if (!r) {
      outcome = err(w.c.escrow, "RentalEscrow_UnknownRental", id);
      break;
    }
    if (r.status === RentalStatus.Closed || toClose.includes(r)) continue;
    if (nodeOf(m, r.nodeId)!.status !== NodeStatus.Jailed) {
      outcome = err(sla, "SlaEnforcer_NodeNotJailed", id, r.nodeId);
      break;
    }
    toClose.push(r);
  }
  if (!outcome && toClose.length === 0) outcome = err(sla, "SlaEnforcer_NothingToClose");
  outcome ??= OK;
  // Closes are independent of each other: each rental's split depends on itself and the time only.
  const closes = outcome.ok ? toClose.map((r) => predictClose(w, m, r, CloseReason.ProviderSlashed, m.next)) : [];
  const receipt = await send(m, outcome, (o) => sla.connect(w.signer.keeper).closeOnJailedNode(ids, o));
  if (!outcome.ok) return;
  expect(eventsOf(receipt, w.c.escrow, "CloseRental").length, "one CloseRental per rental closed").to.equal(
    closes.length,
  );
  const slashes: unknown[][] = [];
  const refunds: unknown[][] = [];
  toClose.forEach((r, i) => {
    closes[i](receipt, w.addr.sla);
    if (r.plan !== Plan.Saving) return;
    // The model's own books: what the provider withdrew, not the escrow's units less the enforcer's count.
    const withdrawn = r.grossWithdrawn;
    if (withdrawn === 0n) {
      note("  jailclose: saving, nothing withdrawn");
      return;
    }
    const kaiOwed = kaiForShortfall(withdrawn, m.kaiPerToken);
    const s = m.stakes[r.provider];
    const hasStake = s.staked + s.unbonding + s.rewardsOwed > 0n;
    let kaiPaid = 0n;
    if (kaiOwed > 0n && hasStake) {
      const renter = RENTERS[r.renter];
      const slash = predictSlash(w, m, r.provider, kaiOwed, renter);
      slashes.push(slash.event(r.nodeId, Reason.SavingRefund, savingRefundEvidence(r.id)));
      slash.apply();
      kaiPaid = slash.taken;
    }
    note(
      "  jailclose: saving refund " +
        (m.kaiPerToken === 0n
          ? "(no rate)"
          : kaiOwed === 0n
            ? "(rate too small)"
            : !hasStake
              ? "(empty stake)"
              : kaiPaid < kaiOwed
                ? "+stake (capped)"
                : "+stake"),
    );
    r.refundFromStake = withdrawn;
    r.kaiRefundOwed = kaiOwed;
    r.kaiRefund = kaiPaid;
    refunds.push([r.id, withdrawn, kaiPaid]);
  });
  expectEvents(receipt, w.c.registry, "Slash", slashes);
  expectEvents(receipt, sla, "RefundSavingFromStake", refunds);
}

/** The registry evidence of a saving plan's refund from stake: `keccak256(abi.encode(rentalId))`. */
const savingRefundEvidence = (id: bigint) =>
  ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["uint256"], [id]));

/** Governance sets the KAI taken from stake per 1e18 USD units credited beyond earnings (at most 1e40). */
export async function actSetKaiPerToken(w: World, m: Model, rate: bigint) {
  const outcome =
    rate > MAX_KAI_PER_TOKEN
      ? err(w.c.sla, "SlaEnforcer_ParameterOutOfBounds", "kaiPerToken", rate, 0n, MAX_KAI_PER_TOKEN)
      : OK;
  const receipt = await send(m, outcome, (o) =>
    w.c.sla.connect(w.signer.admin).setKaiPerToken(w.tokenAddr.usd, rate, o),
  );
  if (!outcome.ok) return;
  expectEvent(receipt, w.c.sla, "SetKaiPerToken", [w.tokenAddr.usd, rate]);
  m.kaiPerToken = rate;
}
