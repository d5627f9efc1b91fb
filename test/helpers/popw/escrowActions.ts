/**
 * RentalEscrow actions (predict, send, apply): rentals, ends, closes, earnings.
 */
import { expect } from "chai";
import type { ContractTransactionReceipt } from "ethers";

import * as rm from "../../../offchain/src/rentalMath";
import { CloseReason, ContractRevert, Plan } from "../../../offchain/src/rentalMath";
import { NodeStatus, RentalStatus, USD_PRICE } from "../../fixtures";
import {
  type Actor,
  FEE_BPS,
  GRACE_PERIOD,
  HOUR,
  PENALTY_BPS,
  PROVIDERS,
  RENTERS,
  REWARD_POOL_SHARE_BPS,
  SAVING_DISCOUNT_BPS,
  SAVING_TERM_DAYS,
  SLA_TARGETS,
} from "./constants";
import type { World } from "./world";
import { type Model, type ModelRental, money, move, nodeOf, rentalOf, requiredStake } from "./state";
import { send } from "./send";
import { eventsOf, expectEvent, norm, OK, type Outcome, err } from "../walk/send";

export interface RentArgs {
  renter: number;
  nodeId: bigint;
  plan: Plan;
  slaTier: bigint;
  gpus: bigint;
  /** PAYG/Hourly: seconds of paid time (rounded up to whole units). Ignored for Saving (7 days). */
  seconds: bigint;
}

/** Predicts `RentalEscrow.rent` in USD at the node's price (checks in the contract's order). */
export async function actRent(w: World, m: Model, a: RentArgs) {
  const who = RENTERS[a.renter];
  const node = nodeOf(m, a.nodeId);
  const saving = a.plan === Plan.Saving;
  const termDays = saving ? SAVING_TERM_DAYS : 0n;
  const price = node?.price ?? USD_PRICE;
  let deposit = 0n;
  if (!saving) {
    const perHour = price * a.gpus;
    const unitPrice = a.plan === Plan.PayAsYouGo ? (perHour + HOUR - 1n) / HOUR : perHour;
    const unit = rm.unitSeconds(a.plan);
    // A first deposit pays for at least the grace period (the escrow refuses less).
    const seconds = a.seconds > GRACE_PERIOD ? a.seconds : GRACE_PERIOD;
    deposit = ((seconds + unit - 1n) / unit || 1n) * unitPrice;
  }
  let quoted: rm.Quote | undefined;
  let outcome: Outcome;
  const provider = node?.provider ?? 0;
  if (a.gpus === 0n || a.gpus > 255n) outcome = err(w.c.escrow, "RentalEscrow_InvalidGpuCount", a.gpus);
  else if (a.slaTier >= BigInt(SLA_TARGETS.length))
    outcome = err(w.c.escrow, "RentalEscrow_UnknownSlaTier", a.slaTier, SLA_TARGETS.length);
  else if (!node) outcome = err(w.c.registry, "NodeRegistry_UnknownNode", a.nodeId);
  else if (node.status !== NodeStatus.Active)
    outcome = err(w.c.registry, "NodeRegistry_InvalidNodeStatus", a.nodeId, node.status);
  else if (a.gpus > node.gpuCount - node.rented)
    outcome = err(w.c.registry, "NodeRegistry_NotEnoughFreeGpus", a.nodeId, a.gpus, node.gpuCount - node.rented);
  else if (m.stakes[provider].staked < requiredStake(m, provider))
    outcome = err(
      w.c.registry,
      "NodeRegistry_InsufficientStake",
      w.addr[PROVIDERS[provider]],
      m.stakes[provider].staked,
      requiredStake(m, provider),
    );
  else {
    try {
      quoted = rm.quote(a.plan, price, a.gpus, deposit, termDays, saving ? SAVING_DISCOUNT_BPS : 0n, GRACE_PERIOD);
      outcome = OK;
    } catch (e) {
      if (!(e instanceof ContractRevert)) throw e;
      outcome = err(w.c.escrow, e.errorName, ...e.args);
    }
  }
  const params = {
    nodeId: a.nodeId,
    gpus: a.gpus,
    token: w.tokenAddr.usd,
    plan: a.plan,
    deposit,
    termDays,
    maxPricePerGpuHour: price,
    slaTier: a.slaTier,
  };
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer[who]).rent(params, o));
  if (!outcome.ok) return;
  const id = BigInt(m.rentals.length + 1);
  const q = quoted!;
  expectEvent(receipt, w.c.escrow, "OpenRental", [
    id,
    w.addr[who],
    a.nodeId,
    w.tokenAddr.usd,
    a.plan,
    a.gpus,
    q.unitPrice,
    q.deposit,
    termDays,
    a.slaTier,
  ]);
  m.rentals.push({
    id,
    renter: a.renter,
    nodeId: a.nodeId,
    provider,
    gpus: a.gpus,
    plan: a.plan,
    slaTier: a.slaTier,
    status: RentalStatus.Active,
    closeReason: CloseReason.None,
    amount: q.deposit,
    unitPrice: q.unitPrice,
    anchor: m.now,
    withdrawnUnits: 0n,
    deposited: q.deposit,
    grossWithdrawn: 0n,
    creditedFromEarnings: 0n,
    kaiFromStake: 0n,
    refundFromStake: 0n,
    kaiRefundOwed: 0n,
    kaiRefund: 0n,
    credited: 0n,
    earnedAtClose: 0n,
    providerTotal: 0n,
    refunded: 0n,
  });
  node!.rented += a.gpus;
  if (saving) m.stakes[provider].lockedWeight += a.gpus * node!.multiplierBps;
  move(m, "usd", who, "escrow", q.deposit);
}

/** `_openRental`: unknown or closed rentals revert first. */
function openRentalFailure(w: World, m: Model, id: bigint): Outcome | undefined {
  const r = rentalOf(m, id);
  if (!r) return err(w.c.escrow, "RentalEscrow_UnknownRental", id);
  if (r.status === RentalStatus.Closed) return err(w.c.escrow, "RentalEscrow_RentalClosed", id);
  return undefined;
}

/**
 * `_close` at `t` for `reason`: the split of `rentalMath.split`, what the provider has still to
 * withdraw (earned less the value of the units withdrawn or credited), the GPUs released, the
 * refund pushed. A saving plan closed for `ProviderSlashed` is refunded in full: the provider keeps
 * only the units it already took (withdrawn or credited to the renter).
 */
export function predictClose(w: World, m: Model, r: ModelRental, reason: CloseReason, t: bigint) {
  let s = rm.split(money(r), t, reason, PENALTY_BPS);
  const withdrawn = rm.valueOf(r.plan, r.unitPrice, r.amount, r.withdrawnUnits);
  let remaining = s.providerAmount - withdrawn;
  let servedUnits = rm.earnedUnits(r.plan, r.anchor, r.unitPrice, r.amount, t);
  if (r.plan === Plan.Saving && reason === CloseReason.ProviderSlashed) {
    s = { ...s, providerAmount: withdrawn, refund: s.refund + remaining };
    remaining = 0n;
    servedUnits = r.withdrawnUnits;
  }
  return (receipt: ContractTransactionReceipt | undefined, closedBy: string) => {
    expect(eventsOf(receipt, w.c.escrow, "CloseRental"), "CloseRental event").to.deep.include(
      norm([r.id, reason, closedBy, s.providerAmount, s.refund, s.penalty]),
    );
    r.amount = remaining;
    r.withdrawnUnits = servedUnits;
    r.status = RentalStatus.Closed;
    r.closeReason = reason;
    r.providerTotal = s.providerAmount;
    r.refunded = s.refund;
    r.earnedAtClose = s.earned;
    const node = nodeOf(m, r.nodeId)!;
    node.rented -= r.gpus;
    if (r.plan === Plan.Saving) m.stakes[node.provider].lockedWeight -= r.gpus * node.multiplierBps;
    // USD never refuses a transfer: the refund is pushed (refundCredit stays 0 in this walk).
    move(m, "usd", "escrow", RENTERS[r.renter], s.refund);
  };
}

/** `endRental` by `caller`: the renter (reason Renter), the node's provider (Provider), or a stranger. */
export async function actEndRental(w: World, m: Model, id: bigint, caller: Actor) {
  let outcome = openRentalFailure(w, m, id);
  const r = rentalOf(m, id)!;
  let apply: ReturnType<typeof predictClose> | undefined;
  if (!outcome) {
    const reason =
      caller === RENTERS[r.renter]
        ? CloseReason.Renter
        : caller === PROVIDERS[r.provider]
          ? CloseReason.Provider
          : undefined;
    if (reason === undefined) outcome = err(w.c.escrow, "RentalEscrow_NotRentalParty", id, w.addr[caller]);
    else {
      apply = predictClose(w, m, r, reason, m.next);
      outcome = OK;
    }
  }
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer[caller]).endRental(id, o));
  if (outcome.ok) apply!(receipt, w.addr[caller]);
}

/** A keeper closes a depleted (or expired) rental. */
export async function actCloseRental(w: World, m: Model, id: bigint) {
  let outcome = openRentalFailure(w, m, id);
  const r = rentalOf(m, id)!;
  let apply: ReturnType<typeof predictClose> | undefined;
  if (!outcome) {
    const closable = rm.closableAt(money(r), GRACE_PERIOD);
    if (m.next < closable) outcome = err(w.c.escrow, "RentalEscrow_NotClosable", id, closable);
    else {
      const reason = r.plan === Plan.Saving ? CloseReason.Expired : CloseReason.InsufficientFunds;
      apply = predictClose(w, m, r, reason, m.next);
      outcome = OK;
    }
  }
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer.keeper).closeRental(id, o));
  if (outcome.ok) apply!(receipt, w.addr.keeper);
}

/** `withdrawEarnings(USD, ids)` by provider `p`: the loop's checks in order, each rental collected once. */
export async function actWithdrawEarnings(w: World, m: Model, p: number, ids: bigint[]) {
  const who = PROVIDERS[p];
  let outcome: Outcome | undefined;
  const updates = new Map<bigint, { amount: bigint; withdrawnUnits: bigint; gross: bigint }>();
  let gross = 0n;
  let fee = 0n;
  let checkedNode = 0n;
  for (const id of ids) {
    const r = rentalOf(m, id);
    if (!r) {
      outcome = err(w.c.escrow, "RentalEscrow_UnknownRental", id);
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
    if (r.status === RentalStatus.Closed) {
      amount = cur.amount;
      cur.amount = 0n;
    } else {
      const pd = rm.pending(money(r), cur.withdrawnUnits, m.next, PENALTY_BPS);
      amount = pd.amount;
      if (amount !== 0n) cur.withdrawnUnits = pd.units;
    }
    cur.gross += amount;
    updates.set(id, cur);
    gross += amount;
    fee += rm.bpsOf(amount, FEE_BPS);
  }
  if (!outcome && gross === 0n) outcome = err(w.c.escrow, "RentalEscrow_NothingToWithdraw");
  outcome ??= OK;
  const receipt = await send(m, outcome, (o) =>
    w.c.escrow.connect(w.signer[who]).withdrawEarnings(w.tokenAddr.usd, ids, o),
  );
  if (!outcome.ok) return;
  expectEvent(receipt, w.c.escrow, "WithdrawEarnings", [w.addr[who], w.tokenAddr.usd, ids.length, gross, fee]);
  for (const [id, u] of updates) {
    const r = rentalOf(m, id)!;
    r.amount = u.amount;
    r.withdrawnUnits = u.withdrawnUnits;
    r.grossWithdrawn += u.gross;
  }
  m.accruedFees += fee;
  m.feesPaid[p] += fee;
  move(m, "usd", "escrow", who, gross - fee);
}

export async function actClaimRefundCredit(w: World, m: Model, renter: number) {
  const who = RENTERS[renter];
  const amount = m.refundCredit[renter];
  const outcome = amount === 0n ? err(w.c.escrow, "RentalEscrow_NothingToWithdraw") : OK;
  await send(m, outcome, (o) => w.c.escrow.connect(w.signer[who]).claimRefundCredit(w.tokenAddr.usd, o));
  if (!outcome.ok) return;
  m.refundCredit[renter] = 0n;
  move(m, "usd", "escrow", who, amount);
}

export async function actWithdrawFees(w: World, m: Model) {
  const amount = m.accruedFees;
  const outcome = amount === 0n ? err(w.c.escrow, "RentalEscrow_NothingToWithdraw") : OK;
  await send(m, outcome, (o) => w.c.escrow.connect(w.signer.keeper).withdrawFees(w.tokenAddr.usd, o));
  if (!outcome.ok) return;
  const toRewardPool = rm.bpsOf(amount, REWARD_POOL_SHARE_BPS);
  m.accruedFees = 0n;
  move(m, "usd", "escrow", "treasury", amount - toRewardPool);
  move(m, "usd", "escrow", "rewardPool", toRewardPool);
}
