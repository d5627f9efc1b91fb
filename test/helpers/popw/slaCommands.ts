/**
 * The walk's commands for SLA credits, slashes, closes, earnings and stakes.
 */
import { LeafKind, proofOf } from "../../../offchain/src/leaves";
import { KAI, NodeStatus } from "../../fixtures";
import { type Actor, DOWNTIME_EPOCHS, PROVIDERS, RENTERS } from "./constants";
import type { World } from "./world";
import { type Model, cursorsOf, isOpen, lockedStake, nodeOf, rentalOf, requiredStake } from "./state";
import {
  actDepositRewards,
  actReleaseNode,
  actRequestUnstake,
  actResumeNode,
  actStake,
  actWithdrawUnstaked,
} from "./registryActions";
import { actCloseRental, actEndRental, actWithdrawEarnings } from "./escrowActions";
import { actFundReserve } from "./distributorActions";
import {
  actApplySlaCredit,
  actApplySlaCredits,
  actCloseOnJailedNode,
  actPayStakeCredit,
  actSetKaiPerToken,
  actSlashForDowntime,
  actSlashForFraud,
} from "./slaActions";
import {
  Step,
  actionStep,
  creditDue,
  downtimeDue,
  epochFor,
  nodeProof,
  otherNodeId,
  unreportedEpoch,
} from "./commands";
import { rentalId } from "../walk/step";

export type CreditFault =
  "none" | "otherNode" | "badMetrics" | "badProof" | "unreported" | "checkerLeaf" | "unknownRental";

/** Anyone applies an SLA credit for a rental and an epoch (mostly one the rental ran in). */
export class ApplySlaCredit extends Step {
  readonly name = "ApplySlaCredit";
  constructor(readonly args: { rental: number; epoch: number; fault: CreditFault }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const f = this.args.fault;
    let id = f === "unknownRental" ? BigInt(m.rentals.length + 1) : rentalId(m, this.args.rental);
    let epoch = f === "unreported" ? undefined : epochFor(w, m, rentalOf(m, id), this.args.epoch);
    // Like a keeper, mostly a rental and an epoch that a report entitles to a credit not yet applied.
    const due = m.rentals.flatMap((r) => m.reported.filter((e) => creditDue(w, m, r, e)).map((e) => [r.id, e]));
    if (f === "none" && this.args.epoch % 4 !== 3 && due.length > 0) [id, epoch] = due[this.args.rental % due.length];
    const r = rentalOf(m, id);
    const nodeId = r?.nodeId ?? m.nodes[this.args.rental % m.nodes.length].id;
    let p = nodeProof(w, m, epoch ?? unreportedEpoch(w, m), nodeId);
    if (epoch !== undefined) {
      const other = nodeProof(w, m, epoch, otherNodeId(m, nodeId));
      if (f === "otherNode") p = other;
      else if (f === "badMetrics")
        p = { ...p, metrics: { ...p.metrics, uptimeBps: p.metrics.uptimeBps === 0n ? 1n : 0n } };
      else if (f === "badProof") p = { ...p, proof: other.proof };
      else if (f === "checkerLeaf") {
        const checker = m.reports.get(epoch)!.leaves.find((l) => l.kind === LeafKind.Checker);
        if (checker) p = { ...p, leaf: checker, proof: proofOf(m.reports.get(epoch)!.tree, checker) };
      }
    }
    return actApplySlaCredit(w, m, id, p);
  }
}

export type BatchFault = "none" | "duplicate" | "otherNodeRental" | "empty";

/**
 * A keeper credits every rental of a node that a report entitles to a credit, in one batch (or
 * picked rentals; with a rental twice, a rental of the other node, or none).
 */
export class ApplySlaCredits extends Step {
  readonly name = "ApplySlaCredits";
  constructor(readonly args: { epoch: number; node: number; rentals: "due" | number[]; fault: BatchFault }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const groups = new Map<string, { epoch: bigint; nodeId: bigint; ids: bigint[] }>();
    for (const r of m.rentals) {
      for (const e of m.reported.filter((e) => creditDue(w, m, r, e))) {
        const g = groups.get(`${e}:${r.nodeId}`) ?? { epoch: e, nodeId: r.nodeId, ids: [] };
        g.ids.push(r.id);
        groups.set(`${e}:${r.nodeId}`, g);
      }
    }
    const due = [...groups.values()];
    let epoch = m.reported.length > 0 ? m.reported[a.epoch % m.reported.length] : unreportedEpoch(w, m);
    let nodeId = m.nodes[a.node % m.nodes.length].id;
    let ids: bigint[];
    if (a.rentals === "due" && due.length > 0) ({ epoch, nodeId, ids } = due[a.epoch % due.length]);
    else if (a.rentals === "due") ids = m.rentals.filter((r) => r.nodeId === nodeId).map((r) => r.id);
    else ids = a.rentals.map((sel) => rentalId(m, sel));
    const other = m.rentals.find((r) => r.nodeId !== nodeId);
    if (a.fault === "duplicate" && ids.length > 0) ids = [...ids, ids[0]];
    else if (a.fault === "otherNodeRental" && other) ids = [...ids, other.id];
    else if (a.fault === "empty") ids = [];
    return actApplySlaCredits(w, m, ids, nodeProof(w, m, epoch, nodeId));
  }
}

export type DowntimeFault = "none" | "one" | "three" | "otherNode" | "notConsecutive" | "stale";

/**
 * Anyone slashes a rental's node for downtime, mostly over two reported epochs in a row while it ran
 * (`stale`: starting one epoch before the node's downtime cursor, once it has one).
 */
export class SlashForDowntime extends Step {
  readonly name = "SlashForDowntime";
  constructor(readonly args: { rental: number; epoch: number; fault: DowntimeFault }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const f = this.args.fault;
    const pairs = m.reported.filter((e) => m.reports.has(e + 1n));
    // Like a keeper, mostly a rental and two epochs in a row that make a slashable downtime.
    const due = m.rentals.flatMap((r) => pairs.filter((e) => downtimeDue(w, m, r, e)).map((e) => [r.id, e]));
    let id = rentalId(m, this.args.rental);
    let first: bigint;
    if (this.args.epoch % 4 !== 3 && due.length > 0) [id, first] = due[this.args.rental % due.length];
    else {
      const list = pairs.length > 0 ? pairs : m.reported;
      first = list.length > 0 ? list[Math.floor(this.args.epoch / 4) % list.length] : unreportedEpoch(w, m);
    }
    const nodeId = rentalOf(m, id)?.nodeId ?? m.nodes[this.args.rental % m.nodes.length].id;
    const node = f === "otherNode" ? otherNodeId(m, nodeId) : nodeId;
    const cursor = cursorsOf(m, nodeId).downtime;
    if (f === "stale" && cursor > 0n) first = cursor - 1n;
    const count = f === "one" ? 1 : f === "three" ? 3 : DOWNTIME_EPOCHS;
    const proofs = Array.from({ length: count }, (_, i) =>
      nodeProof(w, m, f === "notConsecutive" ? first : first + BigInt(i), node),
    );
    return actSlashForDowntime(w, m, id, proofs);
  }
}

/** Anyone slashes a node for hardware fraud, mostly with a leaf that attests a mismatch. */
/** The keeper pays a stake credit due (mostly one whose window has passed), or one with nothing due. */
export class PayStakeCredit extends Step {
  readonly name = "PayStakeCredit";
  constructor(readonly args: { pick: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const dues = [...m.stakeCreditDue.values()];
    if (dues.length === 0 || this.args.pick % 5 === 4) {
      const r = m.rentals[this.args.pick % Math.max(1, m.rentals.length)];
      return actPayStakeCredit(w, m, r?.id ?? 1n, BigInt(this.args.pick % 7));
    }
    const { rentalId, epoch } = dues[this.args.pick % dues.length];
    return actPayStakeCredit(w, m, rentalId, epoch);
  }
}

export class SlashForFraud extends Step {
  readonly name = "SlashForFraud";
  constructor(readonly args: { epoch: number; node: number; fault: "none" | "badMetrics" | "unreported" }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const flagged = m.reported.flatMap((e) =>
      m.reports
        .get(e)!
        .nodes.filter((n) => n.metrics.hardwareMismatch)
        .map((n) => [e, n.nodeId] as const),
    );
    // Like a keeper, mostly a flagged leaf the node's fraud cursor still allows.
    const due = flagged.filter(([e, id]) => e >= cursorsOf(m, id).fraud);
    const pick = due.length > 0 && a.epoch % 8 !== 7 ? due : flagged;
    let epoch: bigint;
    let nodeId = m.nodes[a.node % m.nodes.length].id;
    if (a.fault === "unreported" || m.reported.length === 0) epoch = unreportedEpoch(w, m);
    else if (a.epoch % 4 !== 3 && pick.length > 0) [epoch, nodeId] = pick[Math.floor(a.epoch / 4) % pick.length];
    else epoch = m.reported[a.epoch % m.reported.length];
    let p = nodeProof(w, m, epoch, nodeId);
    if (a.fault === "badMetrics")
      p = { ...p, metrics: { ...p.metrics, hardwareMismatch: !p.metrics.hardwareMismatch } };
    return actSlashForFraud(w, m, p);
  }
}

/** A keeper closes rentals on jailed nodes: every open one ("jailed"), or picked ones. */
export class CloseOnJailedNode extends Step {
  readonly name = "CloseOnJailedNode";
  constructor(readonly args: { rentals: "jailed" | number[] }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const { rentals } = this.args;
    let ids =
      rentals === "jailed"
        ? m.rentals.filter((r) => isOpen(r) && nodeOf(m, r.nodeId)!.status === NodeStatus.Jailed).map((r) => r.id)
        : rentals.map((sel) => rentalId(m, sel));
    if (ids.length === 0) ids = [rentalId(m, 0)];
    return actCloseOnJailedNode(w, m, ids);
  }
}

export class WithdrawEarnings extends Step {
  readonly name = "WithdrawEarnings";
  constructor(readonly args: { provider: number | "ofRental"; rental: number; rentals: "own" | number[] }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const of = rentalOf(m, rentalId(m, this.args.rental)) ?? m.rentals[m.rentals.length - 1];
    const p = this.args.provider === "ofRental" ? (of?.provider ?? 0) : this.args.provider;
    const { rentals } = this.args;
    const ids =
      rentals === "own"
        ? m.rentals.filter((r) => r.provider === p).map((r) => r.id)
        : rentals.map((sel) => rentalId(m, sel));
    return actWithdrawEarnings(w, m, p, ids);
  }
}

/** The renter (0), the node's provider (1) or a stranger (2) ends a rental. */
export class EndRental extends Step {
  readonly name = "EndRental";
  constructor(readonly args: { rental: number; caller: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const id = rentalId(m, this.args.rental);
    const r = rentalOf(m, id);
    const caller: Actor =
      !r || this.args.caller === 2 ? "keeper" : this.args.caller === 0 ? RENTERS[r.renter] : PROVIDERS[r.provider];
    return actEndRental(w, m, id, caller);
  }
}

export const CloseRental = actionStep<{ rental: number }>("CloseRental", (w, m, a) =>
  actCloseRental(w, m, rentalId(m, a.rental)),
);

/** The admin releases a node: mostly a jailed one, if there is one (2: an unknown node id). */
export class ReleaseNode extends Step {
  readonly name = "ReleaseNode";
  constructor(readonly args: { node: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const jailed = m.nodes.filter((n) => n.status === NodeStatus.Jailed);
    if (this.args.node !== 2 && jailed.length > 0)
      return actReleaseNode(w, m, jailed[this.args.node % jailed.length].id);
    return actReleaseNode(w, m, m.nodes[this.args.node]?.id ?? BigInt(m.nodes.length + 1));
  }
}

/** A provider resumes a node (`byOwner: false`: the other provider tries). */
export class ResumeNode extends Step {
  readonly name = "ResumeNode";
  constructor(readonly args: { node: number; byOwner: boolean }) {
    super();
  }
  protected exec(w: World, m: Model) {
    // Mostly a paused node (one the admin released), if there is one.
    const paused = m.nodes.filter((n) => n.status === NodeStatus.Paused);
    const list = this.args.node !== 1 && paused.length > 0 ? paused : m.nodes;
    return actResumeNode(w, m, list[this.args.node % list.length].id, this.args.byOwner);
  }
}

/** A provider stakes: what it lacks to cover its listing again after slashes, or an amount. */
export class Stake extends Step {
  readonly name = "Stake";
  constructor(readonly args: { provider: number; amount: "shortfall" | "zero" | bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const p = this.args.provider;
    const need = requiredStake(m, p) - m.stakes[p].staked;
    const a = this.args.amount;
    return actStake(w, m, p, a === "zero" ? 0n : a === "shortfall" ? (need > 0n ? need : KAI(1)) : a);
  }
}

export class RequestUnstake extends Step {
  readonly name = "RequestUnstake";
  constructor(readonly args: { provider: number; amount: "unlocked" | "half" | "overStaked" }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const p = this.args.provider;
    const s = m.stakes[p];
    const locked = lockedStake(m, p);
    const unlocked = s.staked > locked ? s.staked - locked : 0n;
    const amount = { unlocked, half: unlocked / 2n, overStaked: s.staked + 1n }[this.args.amount];
    return actRequestUnstake(w, m, p, amount);
  }
}

export const WithdrawUnstaked = actionStep<{ provider: number }>("WithdrawUnstaked", (w, m, a) =>
  actWithdrawUnstaked(w, m, a.provider),
);

/** The rewarder credits KAI rewards to a staker (0-1: the providers, 2-5: the checker operators). */
export const DepositRewards = actionStep<{ staker: number; amount: bigint }>("DepositRewards", (w, m, a) =>
  actDepositRewards(w, m, a.staker, a.amount),
);

export const FundReserve = actionStep<{ amount: bigint }>("FundReserve", (w, m, a) => actFundReserve(w, m, a.amount));

export const SetKaiPerToken = actionStep<{ rate: bigint }>("SetKaiPerToken", (w, m, a) =>
  actSetKaiPerToken(w, m, a.rate),
);

/* ---------------------------- checker steps ------------------------------- */

export type LicenseAction = "delegate" | "undelegate" | "reinstate";
export type LicenseFault = "none" | "same" | "notOwner" | "unknownId";
