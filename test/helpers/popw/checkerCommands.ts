/**
 * The walk's commands for the checkers: licenses, operator stakes, rotations, exclusions, equivocations.
 */
import { KAI } from "../../fixtures";
import { MIN_CHECKER_STAKE } from "../oracle";
import { type Actor, OPERATORS, PROVIDERS } from "./constants";
import type { World } from "./world";
import { type Model, type ModelLicense, epochAt } from "./state";
import { actRequestUnstake, actStake, actWithdrawUnstaked } from "./registryActions";
import {
  type EquivocationFault,
  actDelegate,
  actExcludeOperator,
  actProveEquivocation,
  actReinstate,
  actSetCheckerConfig,
  actSetDepartureCooldown,
  actUndelegate,
  eligible,
  exclusionReasons,
  licenseOf,
  licensesOf,
  minQuorum,
  opStake,
  provenPair,
} from "./checkerActions";
import { Step, actionStep } from "./commands";
import type { LicenseAction, LicenseFault } from "./slaCommands";

/**
 * The admin moves a checker license: delegates it (a first delegation, or a switch to another
 * operator key), undelegates it, or reinstates a suspended one; mostly a license the action suits
 * (one in four among those that left an operator before) and, to delegate, an operator left
 * without licenses that can still serve. `wait` first moves the clock to the end of the license's
 * departure cooldown (`ready`) or a second before it.
 * Faults: the operator it already has, a caller that does not own it, an id never minted.
 */
export class MoveLicense extends Step {
  readonly name = "MoveLicense";
  constructor(
    readonly args: {
      action: LicenseAction;
      license: number;
      to: number;
      fault: LicenseFault;
      wait: "no" | "ready" | "justBefore";
    },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const ids = w.licenseOrder;
    const suits = (l: ModelLicense) =>
      a.action === "delegate" ? !l.suspended : a.action === "undelegate" ? l.operator >= 0 : l.suspended;
    const fit = ids.filter((id) => suits(licenseOf(m, id)!));
    // One in four among those that left an operator before: a departure within the cooldown.
    const left = fit.filter((id) => licenseOf(m, id)!.until > 0n);
    const sel = a.license % 4;
    const pool = sel === 2 && left.length > 0 ? left : sel !== 3 && fit.length > 0 ? fit : ids;
    const id = a.fault === "unknownId" ? BigInt(ids.length + 1) : pool[Math.floor(a.license / 4) % pool.length];
    const l = licenseOf(m, id);
    if (l && a.wait !== "no" && a.action !== "reinstate" && l.until > 0n) {
      const readyAt = l.until + m.departureCooldown - (a.wait === "justBefore" ? 1n : 0n);
      if (readyAt > m.next) m.next = readyAt;
    }
    const caller: Actor = a.fault === "notOwner" ? "keeper" : "admin";
    if (a.action === "undelegate") return actUndelegate(w, m, id, caller);
    if (a.action === "reinstate") return actReinstate(w, m, id);
    const current = l?.operator ?? -1;
    const others = OPERATORS.map((_, i) => i).filter((i) => i !== current);
    const needy = others.filter((i) => !m.equivocator[i] && licensesOf(m, i) === 0);
    const list = a.to % 4 !== 3 && needy.length > 0 ? needy : others;
    const to = a.fault === "same" && current >= 0 ? current : list[Math.floor(a.to / 4) % list.length];
    return actDelegate(w, m, id, to, caller);
  }
}

export const SetDepartureCooldown = actionStep<{ cooldown: bigint }>("SetDepartureCooldown", (w, m, a) =>
  actSetDepartureCooldown(w, m, a.cooldown),
);

const operatorIndexes = OPERATORS.map((_, i) => i);

/**
 * A checker operator stakes: mostly what an honest one lacks to reach the minimum again, or an
 * amount; never more than it holds (nothing: `ZeroAmount`).
 */
export class CheckerStake extends Step {
  readonly name = "CheckerStake";
  constructor(readonly args: { op: number; amount: "toMin" | "zero" | bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const below = operatorIndexes.filter((i) => !m.equivocator[i] && opStake(m, i).staked < MIN_CHECKER_STAKE);
    const op = a.amount === "toMin" && below.length > 0 ? below[a.op % below.length] : a.op % OPERATORS.length;
    const need = MIN_CHECKER_STAKE - opStake(m, op).staked;
    let amount = a.amount === "zero" ? 0n : a.amount === "toMin" ? (need > 0n ? need : KAI(1)) : a.amount;
    if (amount > m.bal.kai[OPERATORS[op]]) amount = m.bal.kai[OPERATORS[op]];
    return actStake(w, m, PROVIDERS.length + op, amount);
  }
}

/** A checker operator asks to unstake: all, half, just enough to fall below the minimum, or more than it has. */
export class CheckerRequestUnstake extends Step {
  readonly name = "CheckerRequestUnstake";
  constructor(readonly args: { op: number; amount: "all" | "half" | "belowMin" | "over" }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const op = this.args.op % OPERATORS.length;
    const staked = opStake(m, op).staked;
    const amount = {
      all: staked,
      half: staked / 2n,
      belowMin: staked >= MIN_CHECKER_STAKE ? staked - MIN_CHECKER_STAKE + 1n : staked,
      over: staked + 1n,
    }[this.args.amount];
    return actRequestUnstake(w, m, PROVIDERS.length + op, amount);
  }
}

/** A checker operator withdraws its unbonded stake (mostly one that has some; `wait`: at its end). */
export class CheckerWithdrawUnstaked extends Step {
  readonly name = "CheckerWithdrawUnstaked";
  constructor(readonly args: { op: number; wait: boolean }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const unbonding = operatorIndexes.filter((i) => opStake(m, i).unbonding > 0n);
    const op = a.op % 4 !== 3 && unbonding.length > 0 ? unbonding[a.op % unbonding.length] : a.op % OPERATORS.length;
    const s = opStake(m, op);
    if (a.wait && s.unbonding > 0n && s.unbondingEnd > m.next) m.next = s.unbondingEnd;
    return actWithdrawUnstaked(w, m, PROVIDERS.length + op);
  }
}

export type RotationPick = "eligible" | "withIneligible" | "unsorted" | "badQuorum" | "empty";

/**
 * Governance rotates the checker set: mostly every operator it accepts (licensed, staked, honest;
 * all four when none is) at the lowest or the highest valid quorum; or with an operator it refuses,
 * unsorted (or one operator twice), at an invalid quorum, or empty.
 */
export class RotateCheckers extends Step {
  readonly name = "RotateCheckers";
  constructor(readonly args: { pick: RotationPick; sel: number; quorum: "min" | "max" }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const ok = operatorIndexes.filter((i) => eligible(m, i));
    const refused = operatorIndexes.filter((i) => !eligible(m, i));
    let ops = ok.length > 0 ? ok : operatorIndexes;
    if (a.pick === "withIneligible" && refused.length > 0)
      ops = [...ok, refused[a.sel % refused.length]].sort((x, y) => x - y);
    else if (a.pick === "unsorted") ops = ops.length >= 2 ? [...ops].reverse() : [ops[0], ops[0]];
    else if (a.pick === "empty") ops = [];
    const n = ops.length;
    const lowest = Math.max(minQuorum(n), 1);
    const quorum = a.pick === "badQuorum" ? (a.sel % 2 === 1 ? n + 1 : lowest - 1) : a.quorum === "min" ? lowest : n;
    return actSetCheckerConfig(w, m, ops, BigInt(quorum));
  }
}

/** Anyone excludes an operator of the set: mostly one that lost its licenses or stake, if any; or any index (one past the end too). */
export class ExcludeOperator extends Step {
  readonly name = "ExcludeOperator";
  constructor(readonly args: { index: number; caller: "keeper" | "other" | "renter"; pick: boolean }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const cs = m.checkerSet;
    const due = cs.members.map((_, i) => i).filter((i) => !cs.excluded[i] && exclusionReasons(m, cs.members[i]) !== 0n);
    const index = a.pick && due.length > 0 ? due[a.index % due.length] : a.index % (cs.members.length + 1);
    return actExcludeOperator(w, m, index, a.caller);
  }
}

export type ProofEpoch = "current" | "past" | "departure" | "departureNext";

/**
 * Someone proves that an operator signed two reports of one epoch: the current epoch, a past one,
 * or (for an operator a license left) the epoch it left in (suspended: it left at or after the
 * epoch's start) or the next (not suspended); with the licenses a keeper would name (those the
 * operator holds or last left), none, or those plus a repeat, another and an unknown id. `repeat`:
 * a proven equivocator again, at another epoch (a second slash, on what is left). At most two
 * operators are ever proven: with two honest left, a new proof targets a proven equivocator, so
 * that a set can still be formed. Faults: the same content under another version, a second
 * signer, a proof already made (`again`).
 */
export class ProveEquivocation extends Step {
  readonly name = "ProveEquivocation";
  constructor(
    readonly args: {
      op: number;
      other: number;
      epoch: ProofEpoch;
      back: number;
      prover: "keeper" | "other" | "self" | "otherOp";
      licenses: "keeper" | "none" | "extra";
      fault: EquivocationFault | "again" | "repeat";
    },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    let op = a.op % OPERATORS.length;
    let epoch: bigint | undefined;
    const proven = [...m.proven];
    const cheats = operatorIndexes.filter((i) => m.equivocator[i]);
    const formers = [...new Set(m.licenses.map((l) => l.former).filter((f) => f >= 0))];
    if (a.fault === "again" && proven.length > 0) [op, epoch] = provenPair(proven[a.op % proven.length]);
    else if (a.fault === "repeat" && cheats.length > 0) op = cheats[a.op % cheats.length];
    else if ((a.epoch === "departure" || a.epoch === "departureNext") && formers.length > 0)
      op = formers[a.op % formers.length];
    let fault: EquivocationFault = a.fault === "again" || a.fault === "repeat" ? "none" : a.fault;
    const honest = operatorIndexes.filter((i) => !m.equivocator[i]);
    if (fault === "none" && !m.equivocator[op] && honest.length <= 2) {
      if (cheats.length > 0) op = cheats[a.op % cheats.length];
      else fault = "sameContent";
    }
    const current = epochAt(w, m.next);
    const departed = m.licenses.filter((l) => l.former === op);
    if (epoch !== undefined) {
      // A proof already made.
    } else if ((a.epoch === "departure" || a.epoch === "departureNext") && departed.length > 0) {
      const l = departed[a.back % departed.length];
      epoch = epochAt(w, l.until) + (a.epoch === "departureNext" ? 1n : 0n);
    } else if (a.epoch === "past") epoch = current >= BigInt(a.back) ? current - BigInt(a.back) : 0n;
    else epoch = current;
    const ids = w.licenseOrder;
    const mine = ids.filter((id) => licenseOf(m, id)!.operator === op || licenseOf(m, id)!.former === op);
    const licenseIds =
      a.licenses === "none"
        ? []
        : a.licenses === "extra"
          ? [...mine, ...mine.slice(0, 1), ids[a.back % ids.length], BigInt(ids.length + 1)]
          : mine;
    const prover: Actor = {
      keeper: "keeper" as const,
      other: "other" as const,
      self: OPERATORS[op],
      otherOp: OPERATORS[(op + 1) % OPERATORS.length],
    }[a.prover];
    const other = (op + 1 + (a.other % (OPERATORS.length - 1))) % OPERATORS.length;
    return actProveEquivocation(w, m, { op, epoch, prover, licenseIds, fault, other });
  }
}
