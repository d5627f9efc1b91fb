/**
 * RentalEscrow actions (predict, send, apply): rent, top up, end, flag, close, provider-fault
 * closes, earnings, refund credits, fees, governance.
 */
import { expect } from "chai";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";

import * as rm from "../../../offchain/src/rentalMath";
import { CloseReason, ContractRevert, Plan } from "../../../offchain/src/rentalMath";
import {
  DAY,
  GPU_CLASS_MULTIPLIER,
  HOUR,
  type Holder,
  NodeStatusN,
  PROVIDERS,
  RENTERS,
  REWARD_POOL_SHARE_BPS,
  ROLE,
  SLA_TIER_COUNT,
  Status,
  TOKEN_INDEX,
  type TokenKey,
} from "./constants";
import type { World } from "./world";
import {
  type Model,
  type ModelRental,
  type Outcome,
  type Terms,
  money,
  move,
  nodeOf,
  pullFailure,
  requiredStake,
} from "./state";
import { send } from "./send";
import { expectEvent, OK, err } from "../walk/send";

export interface RentArgs {
  renter: number;
  nodeId: bigint;
  gpus: bigint;
  token: TokenKey | "bogus";
  plan: Plan;
  /** Renter's deposit, or a function of the quoted unit price (PAYG/Hourly); 0 for saving. */
  deposit: bigint | ((unitPrice: bigint) => bigint);
  termDays: bigint;
  maxPrice: bigint | ((price: bigint) => bigint);
  slaTier: bigint;
}

/** Predicts `RentalEscrow.rent` (checks in the contract's order), sends it, and books the rental. */
export async function actRent(w: World, m: Model, a: RentArgs) {
  const who = RENTERS[a.renter];
  const saving = a.plan === Plan.Saving;
  const node = nodeOf(m, a.nodeId);
  const tokenAddr = a.token === "bogus" ? w.bogusToken : w.tokenAddr[a.token];
  const price = node && a.token !== "bogus" ? node.price[a.token] : 0n;
  const maxPrice = typeof a.maxPrice === "function" ? a.maxPrice(price) : a.maxPrice;
  let deposit = typeof a.deposit === "bigint" ? a.deposit : 0n;
  let unitPrice = 0n;
  let quoted: rm.Quote | undefined;

  let outcome: Outcome | undefined;
  if (m.escrowPaused) outcome = err(w.c.escrow, "RentalEscrow_Paused");
  else if (a.gpus === 0n || a.gpus > 255n) outcome = err(w.c.escrow, "RentalEscrow_InvalidGpuCount", a.gpus);
  else if (a.slaTier >= SLA_TIER_COUNT)
    outcome = err(w.c.escrow, "RentalEscrow_UnknownSlaTier", a.slaTier, SLA_TIER_COUNT);
  else if (saving ? ![7n, 30n, 90n].includes(a.termDays) : a.termDays !== 0n)
    outcome = err(w.c.escrow, "RentalEscrow_InvalidTerm", a.plan, a.termDays);
  else if (a.token === "bogus" || !m.tokenEnabled[a.token])
    outcome = err(w.c.escrow, "RentalEscrow_TokenNotAllowed", tokenAddr);
  else if (!node) outcome = err(w.c.registry, "NodeRegistry_UnknownNode", a.nodeId);
  else if (node.status !== NodeStatusN.Active)
    outcome = err(w.c.registry, "NodeRegistry_InvalidNodeStatus", a.nodeId, node.status);
  else if (a.gpus > node.gpuCount - node.rented)
    outcome = err(w.c.registry, "NodeRegistry_NotEnoughFreeGpus", a.nodeId, a.gpus, node.gpuCount - node.rented);
  else if (price === 0n) outcome = err(w.c.registry, "NodeRegistry_TokenNotAccepted", a.nodeId, tokenAddr);
  else if (m.stakes[node.provider].staked < requiredStake(m, node.provider))
    outcome = err(
      w.c.registry,
      "NodeRegistry_InsufficientStake",
      w.addr[PROVIDERS[node.provider]],
      m.stakes[node.provider].staked,
      requiredStake(m, node.provider),
    );
  else if (price > maxPrice) outcome = err(w.c.escrow, "RentalEscrow_PriceAboveCap", a.nodeId, price, maxPrice);
  else {
    // The deposit may be expressed in units of the quoted price: quote once with a deposit that
    // always passes (or 0 for saving) to learn the unit price, then with the real deposit.
    if (typeof a.deposit === "function") {
      const perHour = price * a.gpus;
      deposit = a.deposit(a.plan === Plan.PayAsYouGo ? (perHour + HOUR - 1n) / HOUR : perHour);
    }
    try {
      const discount = m.savingDiscount[a.termDays.toString()] ?? 0n;
      const grace = m.terms[m.terms.length - 1].gracePeriod;
      quoted = rm.quote(a.plan, price, a.gpus, deposit, a.termDays, discount, grace);
      unitPrice = quoted.unitPrice;
      outcome = pullFailure(w, m, a.token, who, quoted.deposit) ?? OK;
    } catch (e) {
      if (!(e instanceof ContractRevert)) throw e;
      outcome = err(w.c.escrow, e.errorName, ...e.args);
    }
  }
  const params = {
    nodeId: a.nodeId,
    gpus: a.gpus,
    token: tokenAddr,
    plan: a.plan,
    deposit,
    termDays: a.termDays,
    maxPricePerGpuHour: maxPrice,
    slaTier: a.slaTier,
  };
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer[who]).rent(params, o));
  if (!outcome.ok) return;
  const token = a.token as TokenKey;
  const id = BigInt(m.rentals.length + 1);
  expectEvent(receipt, w.c.escrow, "OpenRental", [
    id,
    w.addr[who],
    a.nodeId,
    tokenAddr,
    a.plan,
    a.gpus,
    quoted!.unitPrice,
    quoted!.deposit,
    a.termDays,
    a.slaTier,
  ]);
  m.rentals.push({
    id,
    renter: a.renter,
    nodeId: a.nodeId,
    provider: node!.provider,
    gpus: a.gpus,
    token,
    plan: a.plan,
    termDays: a.termDays,
    slaTier: a.slaTier,
    status: Status.Active,
    closeReason: CloseReason.None,
    termsVersion: m.terms.length - 1,
    amount: quoted!.deposit,
    unitPrice,
    anchor: m.now,
    withdrawnUnits: 0n,
    deposited: quoted!.deposit,
    grossWithdrawn: 0n,
    providerTotal: 0n,
    refunded: 0n,
  });
  node!.rented += a.gpus;
  if (saving) m.stakes[node!.provider].lockedWeight += a.gpus * GPU_CLASS_MULTIPLIER[node!.gpuClass];
  move(m, token, who, "escrow", quoted!.deposit);
}

/** `_openRental`: unknown or closed rentals revert first. */
function openRentalFailure(w: World, m: Model, id: bigint): Outcome | undefined {
  const r = m.rentals[Number(id) - 1];
  if (id === 0n || !r) return err(w.c.escrow, "RentalEscrow_UnknownRental", id);
  if (r.status === Status.Closed) return err(w.c.escrow, "RentalEscrow_RentalClosed", id);
  return undefined;
}

export async function actTopUp(w: World, m: Model, id: bigint, caller: Holder, amount: bigint) {
  const r = m.rentals[Number(id) - 1];
  const t = m.next;
  let outcome: Outcome | undefined = m.escrowPaused ? err(w.c.escrow, "RentalEscrow_Paused") : undefined;
  outcome ??= openRentalFailure(w, m, id);
  let newAnchor: bigint | undefined; // set when the top-up resumes a depleted rental
  if (!outcome) {
    if (w.addr[caller] !== w.addr[RENTERS[r.renter]])
      outcome = err(w.c.escrow, "RentalEscrow_NotRenter", id, w.addr[caller]);
    else if (r.plan === Plan.Saving) outcome = err(w.c.escrow, "RentalEscrow_TopUpNotAllowed", id, r.plan);
    else if (amount === 0n) outcome = err(w.c.escrow, "RentalEscrow_ZeroAmount");
    else {
      const until = rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount);
      if (t >= until) {
        const grace = m.terms[r.termsVersion].gracePeriod;
        const graceEnd = until + grace;
        // A top-up that resumes a depleted rental must buy at least a grace period of runtime.
        const unit = rm.unitSeconds(r.plan);
        const minimumUnits = r.amount / r.unitPrice + (grace + unit - 1n) / unit;
        if (t >= graceEnd) outcome = err(w.c.escrow, "RentalEscrow_GraceExpired", id, graceEnd);
        else if ((r.amount + amount) / r.unitPrice < minimumUnits) {
          outcome = err(w.c.escrow, "RentalEscrow_TopUpTooSmall", id, amount, minimumUnits * r.unitPrice - r.amount);
        } else newAnchor = t - (until - r.anchor);
      }
      if (!outcome) {
        try {
          rm.checkDeposit(r.amount + amount, r.unitPrice);
          outcome = pullFailure(w, m, r.token, caller, amount) ?? OK;
        } catch (e) {
          if (!(e instanceof ContractRevert)) throw e;
          outcome = err(w.c.escrow, e.errorName, ...e.args);
        }
      }
    }
  }
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer[caller as "renter"]).topUp(id, amount, o));
  if (!outcome.ok) return;
  const earnedBefore = rm.earnedUnits(r.plan, r.anchor, r.unitPrice, r.amount, m.now);
  if (newAnchor !== undefined) {
    r.anchor = newAnchor;
    r.status = Status.Active;
  }
  r.amount += amount;
  r.deposited += amount;
  // A top-up buys future time only: what was earned so far stays (grace time is not charged).
  expect(rm.earnedUnits(r.plan, r.anchor, r.unitPrice, r.amount, m.now), "top-up keeps earned units").to.equal(
    earnedBefore,
  );
  expectEvent(receipt, w.c.escrow, "TopUpRental", [
    id,
    amount,
    r.amount,
    rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount),
  ]);
  move(m, r.token, caller, "escrow", amount);
}

/**
 * `_close`: fixes the split at `t`, releases the GPUs (and the saving lock), pays or credits the
 * refund. Returns the revert the refund push would cause (a renter ending its own rental), if any.
 */
function predictClose(w: World, m: Model, r: ModelRental, reason: CloseReason, t: bigint) {
  let s = rm.split(money(r), t, reason, m.terms[r.termsVersion].penaltyBps);
  const withdrawn = rm.valueOf(r.plan, r.unitPrice, r.amount, r.withdrawnUnits);
  // Once closed, `amount` is what the provider has still to withdraw, `withdrawnUnits` the units paid for.
  // (A penalty the provider owes the renter comes out of it: the hold-back kept it there.)
  let remaining = s.providerAmount - withdrawn;
  let servedUnits = rm.earnedUnits(r.plan, r.anchor, r.unitPrice, r.amount, t);
  if (r.plan === Plan.Saving && reason === CloseReason.ProviderSlashed) {
    // Refunded in full: the provider keeps only what it already withdrew.
    s = { ...s, providerAmount: withdrawn, refund: s.refund + remaining };
    remaining = 0n;
    servedUnits = r.withdrawnUnits;
  }
  const blocked = r.token === "busd" && m.blocked[r.renter];
  const failure: Outcome | undefined =
    reason === CloseReason.Renter && s.refund > 0n && blocked ? { ok: false, reason: "blocked" } : undefined;
  const apply = (receipt: ContractTransactionReceipt | undefined, closedBy: string) => {
    expectEvent(receipt, w.c.escrow, "CloseRental", [r.id, reason, closedBy, s.providerAmount, s.refund, s.penalty]);
    r.amount = remaining;
    r.withdrawnUnits = servedUnits;
    r.status = Status.Closed;
    r.closeReason = reason;
    r.providerTotal = s.providerAmount;
    r.refunded = s.refund;
    const node = nodeOf(m, r.nodeId)!;
    node.rented -= r.gpus;
    if (r.plan === Plan.Saving) m.stakes[node.provider].lockedWeight -= r.gpus * GPU_CLASS_MULTIPLIER[node.gpuClass];
    if (s.refund === 0n) return;
    if (blocked) {
      // reason != Renter here: the push failed quietly and the refund waits as a credit.
      m.refundCredit[r.renter][r.token] += s.refund;
      expectEvent(receipt, w.c.escrow, "CreditRefund", [
        r.id,
        w.addr[RENTERS[r.renter]],
        w.tokenAddr[r.token],
        s.refund,
      ]);
    } else {
      move(m, r.token, "escrow", RENTERS[r.renter], s.refund);
    }
  };
  return { failure, apply, split: s };
}

export async function actEndRental(w: World, m: Model, id: bigint, caller: Holder) {
  let outcome = openRentalFailure(w, m, id);
  const r = m.rentals[Number(id) - 1];
  let close: ReturnType<typeof predictClose> | undefined;
  if (!outcome) {
    const reason =
      w.addr[caller] === w.addr[RENTERS[r.renter]]
        ? CloseReason.Renter
        : w.addr[caller] === w.addr[PROVIDERS[r.provider]]
          ? CloseReason.Provider
          : undefined;
    if (reason === undefined) outcome = err(w.c.escrow, "RentalEscrow_NotRentalParty", id, w.addr[caller]);
    else {
      close = predictClose(w, m, r, reason, m.next);
      outcome = close.failure ?? OK;
    }
  }
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer[caller as "renter"]).endRental(id, o));
  if (outcome.ok) close!.apply(receipt, w.addr[caller]);
}

export async function actFlagGrace(w: World, m: Model, id: bigint, caller: Holder) {
  let outcome = openRentalFailure(w, m, id);
  const r = m.rentals[Number(id) - 1];
  if (!outcome) {
    const until = rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount);
    if (r.plan === Plan.Saving) outcome = err(w.c.escrow, "RentalEscrow_NoGracePeriod", id);
    else if (r.status === Status.Grace) outcome = err(w.c.escrow, "RentalEscrow_AlreadyInGrace", id);
    else if (m.next < until) outcome = err(w.c.escrow, "RentalEscrow_NotDepleted", id, until);
    else outcome = OK;
  }
  const receipt = await send(m, outcome, (o) =>
    w.c.escrow.connect(w.signer[caller as "keeper"]).flagGracePeriod(id, o),
  );
  if (!outcome.ok) return;
  const until = rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount);
  expectEvent(receipt, w.c.escrow, "EnterGracePeriod", [
    id,
    w.addr[RENTERS[r.renter]],
    until,
    until + m.terms[r.termsVersion].gracePeriod,
  ]);
  r.status = Status.Grace;
}

export async function actCloseRental(w: World, m: Model, id: bigint, caller: Holder) {
  let outcome = openRentalFailure(w, m, id);
  const r = m.rentals[Number(id) - 1];
  let close: ReturnType<typeof predictClose> | undefined;
  if (!outcome) {
    const closable = rm.closableAt(money(r), m.terms[r.termsVersion].gracePeriod);
    if (m.next < closable) outcome = err(w.c.escrow, "RentalEscrow_NotClosable", id, closable);
    else {
      const reason = r.plan === Plan.Saving ? CloseReason.Expired : CloseReason.InsufficientFunds;
      close = predictClose(w, m, r, reason, m.next);
      outcome = OK;
    }
  }
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer[caller as "keeper"]).closeRental(id, o));
  if (outcome.ok) close!.apply(receipt, w.addr[caller]);
}

export async function actCloseForProviderFault(w: World, m: Model, id: bigint, reason: number, asOracle: boolean) {
  const caller = asOracle ? "oracle" : "other";
  let outcome: Outcome | undefined;
  let close: ReturnType<typeof predictClose> | undefined;
  if (!asOracle) outcome = err(w.c.escrow, "AccessControlUnauthorizedAccount", w.addr.other, ROLE.ORACLE);
  else if (reason !== CloseReason.SlaBreach && reason !== CloseReason.ProviderSlashed)
    outcome = err(w.c.escrow, "RentalEscrow_InvalidCloseReason", reason);
  else outcome = openRentalFailure(w, m, id);
  if (!outcome) {
    close = predictClose(w, m, m.rentals[Number(id) - 1], reason as CloseReason, m.next);
    outcome = OK;
  }
  const receipt = await send(m, outcome, (o) =>
    w.c.escrow.connect(w.signer[caller]).closeForProviderFault(id, reason, o),
  );
  if (outcome.ok) close!.apply(receipt, w.addr[caller]);
}

/** `withdrawEarnings`: the loop's checks in order, each rental collected once (duplicates collect 0). */
export async function actWithdrawEarnings(w: World, m: Model, p: number, token: TokenKey | "bogus", ids: bigint[]) {
  const who = PROVIDERS[p];
  const tokenAddr = token === "bogus" ? w.bogusToken : w.tokenAddr[token];
  let outcome: Outcome | undefined;
  const updates = new Map<bigint, { amount: bigint; withdrawnUnits: bigint; gross: bigint }>();
  let gross = 0n;
  let fee = 0n;
  if (token === "bogus") outcome = err(w.c.escrow, "RentalEscrow_TokenNotAllowed", tokenAddr);
  else {
    let checkedNode = 0n;
    for (const id of ids) {
      const r = m.rentals[Number(id) - 1];
      if (id === 0n || !r) {
        outcome = err(w.c.escrow, "RentalEscrow_UnknownRental", id);
        break;
      }
      if (TOKEN_INDEX[r.token] !== TOKEN_INDEX[token]) {
        outcome = err(w.c.escrow, "RentalEscrow_TokenMismatch", id, tokenAddr);
        break;
      }
      if (r.nodeId !== checkedNode) {
        if (r.provider !== p) {
          outcome = err(w.c.escrow, "RentalEscrow_NotProvider", id, w.addr[who]);
          break;
        }
        checkedNode = r.nodeId;
      }
      const cur = updates.get(id) ?? { amount: r.amount, withdrawnUnits: r.withdrawnUnits, gross: 0n };
      let amount: bigint;
      if (r.status === Status.Closed) {
        amount = cur.amount;
        cur.amount = 0n;
      } else {
        const penaltyBps = m.terms[r.termsVersion].penaltyBps;
        const pd = rm.pending({ ...money(r), deposit: cur.amount }, cur.withdrawnUnits, m.next, penaltyBps);
        amount = pd.amount;
        if (amount !== 0n) cur.withdrawnUnits = pd.units;
      }
      cur.gross += amount;
      updates.set(id, cur);
      if (amount === 0n) continue;
      gross += amount;
      fee += rm.bpsOf(amount, m.terms[r.termsVersion].feeBps);
    }
    if (!outcome && gross === 0n) outcome = err(w.c.escrow, "RentalEscrow_NothingToWithdraw");
  }
  outcome ??= OK;
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer[who]).withdrawEarnings(tokenAddr, ids, o));
  if (!outcome.ok) return;
  expectEvent(receipt, w.c.escrow, "WithdrawEarnings", [w.addr[who], tokenAddr, BigInt(ids.length), gross, fee]);
  for (const [id, u] of updates) {
    const r = m.rentals[Number(id) - 1];
    r.amount = u.amount;
    r.withdrawnUnits = u.withdrawnUnits;
    r.grossWithdrawn += u.gross;
  }
  const t = token as TokenKey;
  m.accruedFees[t] += fee;
  move(m, t, "escrow", who, gross - fee);
}

export async function actClaimRefundCredit(w: World, m: Model, renter: number, token: TokenKey) {
  const who = RENTERS[renter];
  const amount = m.refundCredit[renter][token];
  const outcome: Outcome =
    amount === 0n
      ? err(w.c.escrow, "RentalEscrow_NothingToWithdraw")
      : token === "busd" && m.blocked[renter]
        ? { ok: false, reason: "blocked" }
        : OK;
  await send(m, outcome, (o) => w.c.escrow.connect(w.signer[who]).claimRefundCredit(w.tokenAddr[token], o));
  if (!outcome.ok) return;
  m.refundCredit[renter][token] = 0n;
  move(m, token, "escrow", who, amount);
}

export async function actWithdrawFees(w: World, m: Model, token: TokenKey, caller: Holder) {
  const amount = m.accruedFees[token];
  const outcome = amount === 0n ? err(w.c.escrow, "RentalEscrow_NothingToWithdraw") : OK;
  const receipt = await send(m, outcome, (o) =>
    w.c.escrow.connect(w.signer[caller as "keeper"]).withdrawFees(w.tokenAddr[token], o),
  );
  if (!outcome.ok) return;
  const toRewardPool = rm.bpsOf(amount, REWARD_POOL_SHARE_BPS);
  expectEvent(receipt, w.c.escrow, "WithdrawFees", [w.tokenAddr[token], amount - toRewardPool, toRewardPool]);
  m.accruedFees[token] = 0n;
  move(m, token, "escrow", "treasury", amount - toRewardPool);
  move(m, token, "escrow", "rewardPool", toRewardPool);
}

export type GovernanceArgs =
  | { kind: "fee"; value: bigint }
  | { kind: "penalty"; value: bigint }
  | { kind: "grace"; value: bigint }
  | { kind: "discount"; termDays: bigint; value: bigint }
  | { kind: "tokenEnabled"; token: TokenKey; enabled: boolean };

/** Governance changes that move money: they apply to new rentals only (terms versions). */
export async function actGovernance(w: World, m: Model, g: GovernanceArgs) {
  const e = w.c.escrow.connect(w.signer.admin);
  const cur = m.terms[m.terms.length - 1];
  let outcome: Outcome;
  let next: Terms | undefined;
  let send_: (o: { gasLimit: bigint }) => Promise<ContractTransactionResponse>;
  const bounds = (name: string, v: bigint, lo: bigint, hi: bigint) =>
    v < lo || v > hi ? err(w.c.escrow, "RentalEscrow_ParameterOutOfBounds", name, v, lo, hi) : undefined;
  switch (g.kind) {
    case "fee":
      outcome =
        bounds("feeBps", g.value, 0n, 2_000n) ??
        (g.value === cur.feeBps ? err(w.c.escrow, "RentalEscrow_AlreadySet") : OK);
      next = { ...cur, feeBps: g.value };
      send_ = (o) => e.setFeeBps(g.value, o);
      break;
    case "penalty":
      outcome =
        bounds("earlyExitPenaltyBps", g.value, 0n, 5_000n) ??
        (g.value === cur.penaltyBps ? err(w.c.escrow, "RentalEscrow_AlreadySet") : OK);
      next = { ...cur, penaltyBps: g.value };
      send_ = (o) => e.setEarlyExitPenaltyBps(g.value, o);
      break;
    case "grace":
      outcome =
        bounds("gracePeriod", g.value, 300n, 7n * DAY) ??
        (g.value === cur.gracePeriod ? err(w.c.escrow, "RentalEscrow_AlreadySet") : OK);
      next = { ...cur, gracePeriod: g.value };
      send_ = (o) => e.setGracePeriod(g.value, o);
      break;
    case "discount":
      outcome = ![7n, 30n, 90n].includes(g.termDays)
        ? err(w.c.escrow, "RentalEscrow_InvalidTerm", Plan.Saving, g.termDays)
        : (bounds("discountBps", g.value, 0n, 5_000n) ??
          (m.savingDiscount[g.termDays.toString()] === g.value ? err(w.c.escrow, "RentalEscrow_AlreadySet") : OK));
      next = undefined;
      send_ = (o) => e.setSavingDiscount(g.termDays, g.value, o);
      break;
    case "tokenEnabled":
      // A disabled token takes no new rentals; running ones still top up, end and pay out.
      outcome = m.tokenEnabled[g.token] === g.enabled ? err(w.c.escrow, "RentalEscrow_AlreadySet") : OK;
      next = undefined;
      send_ = (o) => e.setPaymentTokenEnabled(w.tokenAddr[g.token], g.enabled, o);
      break;
  }
  await send(m, outcome, send_);
  if (!outcome.ok) return;
  if (g.kind === "discount") m.savingDiscount[g.termDays.toString()] = g.value;
  else if (g.kind === "tokenEnabled") m.tokenEnabled[g.token] = g.enabled;
  else m.terms.push(next!);
}
