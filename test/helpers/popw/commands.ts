/**
 * The walk's commands (the base `Step`, selectors, rentals, time, reports, claims and vesting): each
 * resolves its generated selectors against the model and calls an action.
 */

import * as rm from "../../../offchain/src/rentalMath";
import { Plan } from "../../../offchain/src/rentalMath";
import { leafReward, proofOf, type RewardLeaf } from "../../../offchain/src/leaves";
import { KAI } from "../../fixtures";
import { checkerLeaf } from "../rewards";
import { metricsWith, slaLeaf, type NodeEpochProof } from "../sla";
import {
  BPS,
  DAY,
  DOWNTIME_THRESHOLD_BPS,
  GRACE_PERIOD,
  OPERATORS,
  PROVIDERS,
  SLA_TARGETS,
  STAKERS,
} from "./constants";
import type { World } from "./world";
import { nodeEpochProof } from "../../../offchain/src/sla";
import { walkSteps } from "../walk/step";
import {
  type Model,
  type ModelRental,
  bitKey,
  creditKey,
  cursorsOf,
  dayOf,
  epochAt,
  epochBudget,
  epochStart,
  isOpen,
  money,
  nodeOf,
  servedDuring,
  stakerOf,
} from "./state";
import { actRent } from "./escrowActions";
import { type Signing, actReport } from "./oracleActions";
import { type ClaimInput, actClaim, actWithdrawVested } from "./distributorActions";
import { checkInvariants } from "./invariants";

/** Prefixes an error with the failing step and lists every step so far. */
/** A step of the walk: it runs, then `checkInvariants` compares the chain with the model. */
export const { Step, actionStep } = walkSteps<Model, World>(checkInvariants);
export type Step = InstanceType<typeof Step>;

/** A reported epoch for `r` from a selector: 3 in 4 among those the rental ran in (if any). */
export function epochFor(w: World, m: Model, r: ModelRental | undefined, sel: number): bigint | undefined {
  if (m.reported.length === 0) return undefined;
  const served = r ? m.reported.filter((e) => servedDuring(w, r, e, m.next)) : [];
  const list = sel % 4 !== 3 && served.length > 0 ? served : m.reported;
  return list[Math.floor(sel / 4) % list.length];
}

/** The node's attested uptime in a reported epoch. */
const uptimeIn = (m: Model, epoch: bigint, nodeId: bigint) =>
  m.reports.get(epoch)!.nodes.find((n) => n.nodeId === nodeId)!.metrics.uptimeBps;

/** Is an SLA credit due for `r` in the reported `epoch` (it ran then, below its target) and not applied yet? */
export const creditDue = (w: World, m: Model, r: ModelRental, epoch: bigint) =>
  !m.credited.has(creditKey(r.id, epoch)) &&
  servedDuring(w, r, epoch, m.next) &&
  uptimeIn(m, epoch, r.nodeId) < SLA_TARGETS[Number(r.slaTier)];

/** Do the reported `epoch` and the next make a downtime of `r`'s node, while it ran, still slashable? */
export const downtimeDue = (w: World, m: Model, r: ModelRental, epoch: bigint) =>
  epoch >= cursorsOf(m, r.nodeId).downtime &&
  [epoch, epoch + 1n].every((e) => servedDuring(w, r, e, m.next) && uptimeIn(m, e, r.nodeId) < DOWNTIME_THRESHOLD_BPS);

/** The first epoch no report can have yet: claims and proofs for it revert `NoReport`. */
export const unreportedEpoch = (w: World, m: Model) => (m.anyReport ? m.lastEpoch + 1n : w.startEpoch);

/** The node's proof in the accepted report of `epoch`; a made-up leaf (empty proof) if none was. */
export function nodeProof(w: World, m: Model, epoch: bigint, nodeId: bigint): NodeEpochProof {
  const report = m.reports.get(epoch);
  const entry = report?.nodes.find((n) => n.nodeId === nodeId);
  if (entry) return nodeEpochProof(report!.tree, entry.leaf, entry.metrics);
  const metrics = metricsWith(0n);
  const leaf = slaLeaf(epoch, w.addr[PROVIDERS[nodeOf(m, nodeId)?.provider ?? 0]], nodeId, metrics);
  return { leaf, metrics, proof: [] };
}

export const otherNodeId = (m: Model, nodeId: bigint) => m.nodes.find((n) => n.id !== nodeId)!.id;

export class Rent extends Step {
  readonly name = "Rent";
  constructor(
    readonly args: { renter: number; node: number; plan: Plan; slaTier: number; gpus: number; seconds: number },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    return actRent(w, m, {
      renter: a.renter,
      nodeId: m.nodes[a.node % m.nodes.length].id,
      plan: a.plan,
      slaTier: BigInt(a.slaTier),
      gpus: BigInt(a.gpus),
      seconds: BigInt(a.seconds),
    });
  }
}

/** Moves the clock: the next transaction is mined `seconds` later. */
export class TimeJump extends Step {
  readonly name = "TimeJump";
  constructor(readonly args: { seconds: number }) {
    super();
  }
  protected async exec(_w: World, m: Model) {
    m.next += BigInt(this.args.seconds);
  }
}

/** Moves the clock to an open rental's paid-until or closable-at time, +- 1 s (never backwards). */
export class JumpToBoundary extends Step {
  readonly name = "JumpToBoundary";
  constructor(readonly args: { target: "paidUntil" | "closableAt"; index: number; offset: -1 | 0 | 1 }) {
    super();
  }
  protected async exec(_w: World, m: Model) {
    const open = m.rentals.filter(isOpen);
    const r = open[this.args.index % Math.max(open.length, 1)];
    if (!r) return;
    const at =
      this.args.target === "paidUntil"
        ? rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount)
        : rm.closableAt(money(r), GRACE_PERIOD);
    if (at + BigInt(this.args.offset) > m.next) m.next = at + BigInt(this.args.offset);
  }
}

export type EpochChoice = "next" | "near" | "latest" | "again" | "stale" | "notEnded";

/**
 * Checkers report an epoch (the next one, one near the clock, the latest ended one; or a
 * processed, stale or running one): a leaf per node (random uptime, rarely a hardware mismatch) and a leaf
 * per chosen operator, sharing `fracBps` of the epoch's budget by `weights` (over 10,000: above the
 * budget, which the oracle refuses). `lie`: the leaves sum to more than the budget and the
 * report states the budget (the distributor must cap the claims). The current checker set signs
 * (`signing`: a quorum of its live operators, or fewer, or with excluded ones, or under another
 * version); with fewer live operators than its quorum, no report passes until a new set.
 */
export class Report extends Step {
  readonly name = "Report";
  constructor(
    readonly args: {
      epoch: EpochChoice;
      back: number;
      uptime: [bigint, bigint];
      mismatch: [boolean, boolean];
      weights: number[];
      checkers: number;
      capacityPct: number;
      fracBps: number;
      lie: boolean;
      /** Who signs (see {@link Signing}); absent in older replays: a quorum. */
      signing?: Signing;
    },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const current = epochAt(w, m.next);
    const next = unreportedEpoch(w, m);
    const epoch = {
      next,
      near: next > current - BigInt(a.back) ? next : current - BigInt(a.back),
      latest: current - 1n,
      again: m.anyReport ? m.lastEpoch : next,
      stale: m.anyReport && m.lastEpoch >= BigInt(a.back) ? m.lastEpoch - BigInt(a.back) : next,
      notEnded: current,
    }[a.epoch];
    // A keeper waits for the end of the epoch it reports ("notEnded" is the one that does not).
    const end = epochStart(w, epoch + 1n);
    if ((a.epoch === "next" || a.epoch === "near") && m.next < end) m.next = end;
    const ops = OPERATORS.map((_, i) => i).filter((i) => (a.checkers >> i) & 1);
    const weights = [a.weights[0], a.weights[1], ...ops.map((i) => a.weights[2 + i])].map(BigInt);
    const sumWeights = weights.reduce((x, y) => x + y, 0n);
    // A lying report's leaves sum to more than the budget (up to 1.5x); it states the budget.
    const fracBps = a.lie ? 10_001 + (a.fracBps % 5_000) : a.fracBps;
    const total = (epochBudget(epoch) * BigInt(fracBps)) / BPS;
    const shares = weights.map((wt) => (sumWeights === 0n ? 0n : (total * wt) / sumWeights));
    // The rounding dust goes to the last leaf with a weight, so the leaves sum to `total` exactly.
    let last = weights.length - 1;
    while (last >= 0 && weights[last] === 0n) last--;
    if (last >= 0) shares[last] += total - shares.reduce((x, y) => x + y, 0n);
    const leavesSum = shares.reduce((x, y) => x + y, 0n);
    const budget = epochBudget(epoch);
    return actReport(w, m, {
      epoch,
      nodes: m.nodes.map((n, i) => {
        const capacity = (shares[i] * BigInt(a.capacityPct)) / 100n;
        return {
          nodeId: n.id,
          metrics: metricsWith(a.uptime[i], a.mismatch[i], Number(epoch) * 2 + i),
          capacity,
          delivery: shares[i] - capacity,
        };
      }),
      checkers: ops.map((op, j) => ({ op, reward: shares[2 + j] })),
      stated: a.lie && leavesSum > budget ? budget : undefined,
      signing: a.signing,
    });
  }
}

export type ClaimFault = "none" | "double" | "wrongAccount" | "tampered" | "unreported";

/** A keeper claims 1-3 leaves for an account: its own leaves, or a repeat, another's, a tampered or an unreported one. */
export class Claim extends Step {
  readonly name = "Claim";
  constructor(readonly args: { beneficiary: number; picks: { sel: number; fault: ClaimFault }[] }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const all = m.reported.flatMap((e) => m.reports.get(e)!.leaves);
    // Mostly an account with a leaf to claim (the selector picks among them).
    const unpaid = (l: RewardLeaf) => leafReward(l) > 0n && !m.claimedBits.has(bitKey(l));
    const owed = STAKERS.map((_, i) => i).filter((i) => all.some((l) => unpaid(l) && stakerOf(w, l.account) === i));
    const b =
      owed.length > 0 && this.args.picks[0].fault === "none"
        ? owed[this.args.beneficiary % owed.length]
        : this.args.beneficiary;
    const who = w.addr[STAKERS[b]].toLowerCase();
    const own = all.filter((l) => l.account.toLowerCase() === who);
    const others = all.filter((l) => l.account.toLowerCase() !== who);
    const claims: ClaimInput[] = [];
    const real = (leaf: RewardLeaf) => ({ leaf, proof: proofOf(m.reports.get(leaf.epoch)!.tree, leaf) });
    for (const { sel, fault } of this.args.picks) {
      // Mostly a leaf not yet claimed (already claimed ones revert `AlreadyClaimed`).
      const fresh = own.filter((l) => unpaid(l) && !claims.some((c) => c.leaf === l));
      const pool = sel % 4 !== 3 && fresh.length > 0 ? fresh : own;
      const mine = pool[Math.floor(sel / 4) % Math.max(pool.length, 1)];
      const theirs = others[sel % Math.max(others.length, 1)];
      if (fault === "double" && claims.length > 0) claims.push(claims[claims.length - 1]);
      else if (fault === "wrongAccount" && theirs) claims.push(real(theirs));
      else if (fault === "tampered" && mine) {
        claims.push({ leaf: { ...mine, capacityReward: mine.capacityReward + 1n }, proof: real(mine).proof });
      } else if (fault === "unreported" || (!mine && !theirs)) {
        const leaf =
          b < PROVIDERS.length
            ? { ...nodeProof(w, m, unreportedEpoch(w, m), m.nodes[b].id).leaf, capacityReward: KAI(1) }
            : checkerLeaf(unreportedEpoch(w, m), w.addr[STAKERS[b]], KAI(1));
        claims.push({ leaf, proof: [] });
      } else claims.push(real(mine ?? theirs));
    }
    return actClaim(w, m, b, claims);
  }
}

/** An account withdraws one of its vesting positions (or a day it has none: `unknown`). */
export class WithdrawVested extends Step {
  readonly name = "WithdrawVested";
  constructor(readonly args: { owner: number; position: number; unknown: boolean }) {
    super();
  }
  protected exec(w: World, m: Model) {
    // Mostly an owner with something vesting (the selector picks among them).
    const vesting = STAKERS.map((_, i) => i).filter((i) => [...m.vesting[i].values()].some((a) => a > 0n));
    const owner =
      !this.args.unknown && vesting.length > 0 ? vesting[this.args.owner % vesting.length] : this.args.owner;
    const days = m.days[owner];
    const day = this.args.unknown || days.length === 0 ? dayOf(m.next) + 1n : days[this.args.position % days.length];
    return actWithdrawVested(w, m, owner, day);
  }
}

/** Moves the clock to a vesting step (30, 90 or 180 days from a position's day), +- 1 s. */
export class VestingJump extends Step {
  readonly name = "VestingJump";
  constructor(readonly args: { position: number; ageDays: 30 | 90 | 180; offset: -1 | 0 | 1 }) {
    super();
  }
  protected async exec(_w: World, m: Model) {
    const all = m.days.flat();
    if (all.length === 0) return;
    const day = all[this.args.position % all.length];
    const at = (day + BigInt(this.args.ageDays)) * DAY + BigInt(this.args.offset);
    if (at > m.next) m.next = at;
  }
}
