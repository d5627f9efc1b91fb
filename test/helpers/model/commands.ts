/**
 * The walk's commands: each resolves its generated selectors against the model and calls an action.
 */
import { ethers } from "hardhat";

import * as rm from "../../../offchain/src/rentalMath";
import { Plan } from "../../../offchain/src/rentalMath";
import { KAI } from "../../fixtures";
import { type Holder, PROVIDERS, RENTERS, SLA_TIER_COUNT, STRANGERS, type TokenKey } from "./constants";
import type { World } from "./world";
import { rentalId, walkSteps } from "../walk/step";
import { type Model, heldStake, isOpen, money, requiredStake } from "./state";
import {
  type NodeAction,
  actDepositRewards,
  actNodeAdmin,
  actPauseEscrow,
  actPauseRegistry,
  actRegisterNode,
  actRequestUnstake,
  actSetBlocked,
  actSlash,
  actStake,
  actWithdrawRewards,
  actWithdrawUnstaked,
} from "./registryActions";
import {
  type GovernanceArgs,
  type RentArgs,
  actClaimRefundCredit,
  actCloseForProviderFault,
  actCloseRental,
  actEndRental,
  actFlagGrace,
  actGovernance,
  actRent,
  actTopUp,
  actWithdrawEarnings,
  actWithdrawFees,
} from "./escrowActions";
import { checkInvariants } from "./invariants";

/** Prefixes an error with the failing step and lists every step so far. */
/** A step of the walk: it runs, then `checkInvariants` compares the chain with the model. */
export const { Step, actionStep } = walkSteps<Model, World>(checkInvariants);
export type Step = InstanceType<typeof Step>;

/** Picks an item of `list` from a generated selector; 1 in 16 selectors (or an empty list) gives none. */
const pick = <T>(list: readonly T[], sel: number): T | undefined =>
  sel % 16 === 15 || list.length === 0 ? undefined : list[sel % list.length];
const callerOf = (m: Model, id: bigint, who: number): Holder => {
  const r = m.rentals[Number(id) - 1];
  if (!r || who >= 2) return STRANGERS[who % 2];
  return who === 0 ? RENTERS[r.renter] : PROVIDERS[r.provider];
};

export class RegisterNode extends Step {
  readonly name = "RegisterNode";
  constructor(
    readonly args: { provider: number; gpuClass: number; gpuCount: number; prices: [bigint, bigint, bigint] },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const [usd, kai, busd] = this.args.prices;
    return actRegisterNode(w, m, this.args.provider, this.args.gpuClass, BigInt(this.args.gpuCount), {
      usd,
      kai,
      busd,
    });
  }
}

export class Stake extends Step {
  readonly name = "Stake";
  constructor(readonly args: { provider: number; amount: "shortfall" | "zero" | bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const p = this.args.provider;
    let amount: bigint;
    if (this.args.amount === "zero") amount = 0n;
    else if (this.args.amount === "shortfall") {
      const need = requiredStake(m, p) - m.stakes[p].staked;
      amount = need > 0n ? need : KAI(1);
    } else amount = this.args.amount;
    return actStake(w, m, p, amount);
  }
}

export class RequestUnstake extends Step {
  readonly name = "RequestUnstake";
  constructor(readonly args: { provider: number; amount: "unlocked" | "half" | "allStaked" | "overStaked" | "zero" }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const p = this.args.provider;
    const s = m.stakes[p];
    const locked = heldStake(m, p);
    const unlocked = s.staked > locked ? s.staked - locked : 0n;
    const amount = {
      unlocked,
      half: unlocked / 2n,
      allStaked: s.staked,
      overStaked: s.staked + 1n,
      zero: 0n,
    }[this.args.amount];
    return actRequestUnstake(w, m, p, amount);
  }
}

export const WithdrawUnstaked = actionStep<{ provider: number }>("WithdrawUnstaked", (w, m, a) =>
  actWithdrawUnstaked(w, m, a.provider),
);

/** Ways a `rent` call can be wrong, one at a time (or none). */
export type RentFault =
  | "none"
  | "bogusToken"
  | "badSlaTier"
  | "badTerm"
  | "zeroGpus"
  | "maxGpus"
  | "tooManyGpus"
  | "belowGrace"
  | "zeroDeposit"
  | "hugeDeposit"
  | "priceBelow"
  | "unknownNode";

export class Rent extends Step {
  readonly name = "Rent";
  constructor(
    readonly args: {
      renter: number;
      node: number;
      gpus: number | "allFree";
      token: TokenKey;
      plan: Plan;
      /** Saving: 7, 30 or 90. */
      termDays: number;
      /** PAYG/Hourly: seconds of paid time, plus a remainder below one unit. */
      seconds: number;
      remainder: number;
      maxPrice: "exact" | "max";
      slaTier: number;
      fault: RentFault;
    },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const f = a.fault;
    const node = f === "unknownNode" ? undefined : pick(m.nodes, a.node);
    const nodeId = node?.id ?? BigInt(m.nodes.length + 1);
    const free = node ? node.gpuCount - node.rented : 1n;
    let gpus = a.gpus === "allFree" ? (free > 0n ? free : 1n) : BigInt(a.gpus);
    if (f === "zeroGpus") gpus = 0n;
    if (f === "maxGpus") gpus = 256n;
    if (f === "tooManyGpus") gpus = free + 1n;
    const saving = a.plan === Plan.Saving;
    let deposit: RentArgs["deposit"];
    if (saving)
      deposit = f === "hugeDeposit" ? 1n : 0n; // any deposit on a saving plan must revert
    else if (f === "zeroDeposit") deposit = 0n;
    else if (f === "belowGrace") {
      // One unit short of the least first deposit: the grace period's worth.
      const units = rm.graceUnits(a.plan, m.terms[m.terms.length - 1].gracePeriod);
      deposit = (u: bigint) => u * units - 1n;
    } else if (f === "hugeDeposit") deposit = (u: bigint) => u * (rm.UINT32_MAX + 1n);
    else {
      // At least the grace period of the current terms (the least first deposit).
      const unit = rm.unitSeconds(a.plan);
      const grace = m.terms[m.terms.length - 1].gracePeriod;
      const seconds = BigInt(a.seconds) > grace ? BigInt(a.seconds) : grace;
      deposit = (u: bigint) => ((seconds + unit - 1n) / unit || 1n) * u + (BigInt(a.remainder) % u);
    }
    const maxPrice =
      f === "priceBelow"
        ? (p: bigint) => (p > 0n ? p - 1n : 0n)
        : a.maxPrice === "max"
          ? ethers.MaxUint256
          : (p: bigint) => p;
    let termDays = saving ? BigInt(a.termDays) : 0n;
    if (f === "badTerm") termDays = saving ? 14n : 7n;
    return actRent(w, m, {
      renter: a.renter,
      nodeId,
      gpus,
      token: f === "bogusToken" ? "bogus" : a.token,
      plan: a.plan,
      deposit,
      termDays,
      maxPrice,
      slaTier: f === "badSlaTier" ? SLA_TIER_COUNT : BigInt(a.slaTier),
    });
  }
}

export class TopUp extends Step {
  readonly name = "TopUp";
  constructor(
    readonly args: { rental: number; caller: number; amount: { seconds: number } | "oneWei" | "zero" | "huge" },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const id = rentalId(m, this.args.rental);
    const r = m.rentals[Number(id) - 1];
    const caller = callerOf(m, id, this.args.caller);
    const a = this.args.amount;
    let amount: bigint;
    if (a === "zero") amount = 0n;
    else if (a === "oneWei") amount = 1n;
    else if (a === "huge") amount = r ? r.unitPrice * (rm.UINT32_MAX + 1n) : 1n;
    else
      amount = r
        ? ((BigInt(a.seconds) + rm.unitSeconds(r.plan) - 1n) / rm.unitSeconds(r.plan) || 1n) * r.unitPrice
        : 1n;
    return actTopUp(w, m, id, caller, amount);
  }
}

export class EndRental extends Step {
  readonly name = "EndRental";
  /** caller: 0 renter, 1 provider, 2-3 a stranger. */
  constructor(readonly args: { rental: number; caller: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const id = rentalId(m, this.args.rental);
    return actEndRental(w, m, id, callerOf(m, id, this.args.caller));
  }
}

export const FlagGracePeriod = actionStep<{ rental: number }>("FlagGracePeriod", (w, m, a) =>
  actFlagGrace(w, m, rentalId(m, a.rental), "keeper"),
);

export const CloseRental = actionStep<{ rental: number }>("CloseRental", (w, m, a) =>
  actCloseRental(w, m, rentalId(m, a.rental), "keeper"),
);

export const CloseForProviderFault = actionStep<{ rental: number; reason: number; asOracle: boolean }>(
  "CloseForProviderFault",
  (w, m, a) => actCloseForProviderFault(w, m, rentalId(m, a.rental), a.reason, a.asOracle),
);

export class WithdrawEarnings extends Step {
  readonly name = "WithdrawEarnings";
  /**
   * `provider: "ofRental"`: the provider and token of the rental `rental` selects. `rentals: "own"`:
   * every rental of the provider in the token; else selectors of any rentals (others', unknown, twice).
   */
  constructor(
    readonly args: {
      provider: number | "ofRental";
      token: TokenKey | "bogus" | "ofRental";
      rental: number;
      rentals: "own" | number[];
    },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const { rentals } = this.args;
    const of = m.rentals[Number(rentalId(m, this.args.rental)) - 1] ?? m.rentals[m.rentals.length - 1];
    const provider = this.args.provider === "ofRental" ? (of?.provider ?? 0) : this.args.provider;
    const token = this.args.token === "ofRental" ? (of?.token ?? "usd") : this.args.token;
    const ids =
      rentals === "own"
        ? m.rentals.filter((r) => r.provider === provider && r.token === token).map((r) => r.id)
        : rentals.map((sel) => rentalId(m, sel));
    return actWithdrawEarnings(w, m, provider, token, ids);
  }
}

export class NodeAdmin extends Step {
  readonly name = "NodeAdmin";
  constructor(readonly args: { node: number; action: NodeAction; byOwner: boolean; token: TokenKey; price: bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const nodeId = pick(m.nodes, a.node)?.id ?? BigInt(m.nodes.length + 1);
    return actNodeAdmin(w, m, nodeId, a.action, a.byOwner, a.token, a.price);
  }
}

export const ClaimRefundCredit = actionStep<{ renter: number; token: TokenKey }>("ClaimRefundCredit", (w, m, a) =>
  actClaimRefundCredit(w, m, a.renter, a.token),
);

export const WithdrawFees = actionStep<{ token: TokenKey }>("WithdrawFees", (w, m, a) =>
  actWithdrawFees(w, m, a.token, "other"),
);

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

/** Moves the clock to a boundary of a rental (paid-until, closable-at) or of an unbonding, +- 1 s. */
export class JumpToBoundary extends Step {
  readonly name = "JumpToBoundary";
  constructor(
    readonly args: { target: "paidUntil" | "closableAt" | "unbondingEnd"; index: number; offset: -1 | 0 | 1 },
  ) {
    super();
  }
  protected async exec(_w: World, m: Model) {
    let at: bigint | undefined;
    if (this.args.target === "unbondingEnd") {
      at = m.stakes[this.args.index % 2].unbondingEnd || undefined;
    } else {
      const open = m.rentals.filter(isOpen);
      const r = open[this.args.index % Math.max(open.length, 1)];
      if (r) {
        at =
          this.args.target === "paidUntil"
            ? rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount)
            : rm.closableAt(money(r), m.terms[r.termsVersion].gracePeriod);
      }
    }
    if (at !== undefined && at + BigInt(this.args.offset) > m.next) m.next = at + BigInt(this.args.offset);
  }
}

export class Slash extends Step {
  readonly name = "Slash";
  constructor(
    readonly args: {
      provider: number;
      amount: "zero" | "rewards" | "someStake" | "everything" | bigint;
      asStranger: boolean;
    },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const s = m.stakes[this.args.provider];
    const a = this.args.amount;
    const amount =
      typeof a === "bigint"
        ? a
        : {
            zero: 0n,
            rewards: s.rewardsOwed,
            someStake: s.rewardsOwed + s.staked / 3n + 1n,
            everything: s.rewardsOwed + s.staked + s.unbonding + 1n,
          }[a];
    return actSlash(w, m, this.args.provider, amount, this.args.asStranger);
  }
}

export const DepositRewards = actionStep<{ provider: number; amount: bigint }>("DepositRewards", (w, m, a) =>
  actDepositRewards(w, m, a.provider, a.amount),
);

export const WithdrawRewards = actionStep<{ provider: number }>("WithdrawRewards", (w, m, a) =>
  actWithdrawRewards(w, m, a.provider),
);

export const PauseEscrow = actionStep<{ pause: boolean }>("PauseEscrow", (w, m, a) => actPauseEscrow(w, m, a.pause));

export const PauseRegistry = actionStep<{ pause: boolean }>("PauseRegistry", (w, m, a) =>
  actPauseRegistry(w, m, a.pause),
);

export const SetBlocked = actionStep<{ renter: number; blocked: boolean }>("SetBlocked", (w, m, a) =>
  actSetBlocked(w, m, a.renter, a.blocked),
);

export class Governance extends Step {
  readonly name = "Governance";
  constructor(readonly args: GovernanceArgs) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actGovernance(w, m, this.args);
  }
}
