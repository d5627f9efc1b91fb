/**
 * The invariants checked after every step: the chain compared with the model field by field.
 */
import { expect } from "chai";
import { ethers } from "hardhat";

import * as rm from "../../../offchain/src/rentalMath";
import { CloseReason, Plan } from "../../../offchain/src/rentalMath";
import { subjectOf } from "../rewards";
import {
  GRACE_PERIOD,
  HOLDERS,
  type Holder,
  INITIAL_RESERVE,
  OPERATORS,
  PENALTY_BPS,
  PROVIDERS,
  RENTERS,
  STAKERS,
  TOKENS,
  type TokenKey,
} from "./constants";
import type { World } from "./world";
import { type Marks, type WalkProbeState, probe, probeWalk } from "./probe";
import { type Model, bitKey, creditKey, cursorsOf, epochAt, isOpen, money, nodeOf } from "./state";
import { liveCount } from "./oracleActions";
import { licensesOf, opAddr, provenKey, provenPair } from "./checkerActions";

/**
 * Reads the chain and checks it against the model, then the walk's invariants:
 * - every holder's USD and KAI balance is the model's, and per token the sum over every holder is
 *   constant and equals the token's total supply (tokens conserved, no holder missed);
 * - escrow USD == Σ open rentals (deposit − value of withdrawnUnits) + Σ closed rentals' amount +
 *   accruedFees + refundCredit; each rental's stored fields and views are the model's, with
 *   `value(withdrawnUnits) == provider's gross withdrawals + credits from earnings` while open and
 *   `provider total == withdrawn + credited + still owed`, `provider total + refund == deposit` once closed;
 * - registry KAI == Σ (staked + unbonding + rewardsOwed) over every staker, each stake the model's,
 *   and `initial + topped up == slashed + withdrawn + staked + unbonding`;
 * - the oracle's last epoch, and per reported epoch its root and budget; the distributor's
 *   `claimedOf(e) <= epochBudget(e)` (and the model's), its reserve and every position the
 *   model's, and `reserve + Σ positions == KAI balance of the distributor`;
 * - the SlaEnforcer's rate and every node's `slashableFrom` cursors (an unknown node's too), nodes'
 *   status and rented GPUs;
 * - the checker side: the set (version, quorum, operators with tombstones, live count), every
 *   license (owner, operator, suspended, departure record), `licensesOf` and `isEquivocator` of
 *   every operator, the departure cooldown and the `equivocationProven` marks are the model's; no
 *   proven equivocator is live in the set; the oracle keeps no KAI, and what equivocation slashes
 *   took == bounties + the treasury's share; the treasury's KAI == initial + slashes (SLA and
 *   equivocation) - reserve top-ups, every other prover's == initial + its bounties;
 * - rental statuses only move along listed transitions, the clock never goes backwards.
 */
export async function checkInvariants(w: World, m: Model): Promise<void> {
  const epochs = m.reported;
  const unknownNode = BigInt(m.nodes.length + 1);
  // The marks the step tried to set, and every mark set so far.
  const marks: Marks = {
    credits: [...m.touched.credits, ...[...m.credited].map((k) => k.split(":").map(BigInt) as [bigint, bigint])],
    leaves: m.touched.leaves,
    proofs: [...m.touched.proofs, ...[...m.proven].map(provenPair)],
  };
  const [s, k] = await Promise.all([probe(w), probeWalk(w, m, marks)]);
  const savingCredited = k.savingCredited;
  const at = (what: string) => `[after step ${m.log.length}: ${m.log[m.log.length - 1] ?? "start"}] ${what}`;
  const balance = (t: TokenKey, h: Holder) => s.balances[TOKENS.indexOf(t) * HOLDERS.length + HOLDERS.indexOf(h)];

  // Time.
  expect(s.timestamp, at("block timestamp")).to.equal(m.now);
  if (m.prev) expect(s.timestamp >= m.prev.timestamp, at("timestamps never go backwards")).to.be.true;

  // Balances and conservation.
  const supply = { usd: k.usdSupply, kai: k.kaiSupply };
  for (const t of TOKENS) {
    let sum = 0n;
    for (const h of HOLDERS) {
      expect(balance(t, h), at(`${h}'s ${t} balance`)).to.equal(m.bal[t][h]);
      sum += balance(t, h);
    }
    expect(sum, at(`${t} conserved among holders`)).to.equal(m.supply[t]);
    expect(sum, at(`every ${t} holder is counted: Σ == totalSupply`)).to.equal(supply[t]);
  }
  expect(s.accruedFees[0], at("accruedFees[usd]")).to.equal(m.accruedFees);
  expect(s.accruedFees[1], at("accruedFees[kai]")).to.equal(0n);
  RENTERS.forEach((r, k) => {
    expect(s.refundCredit[k * TOKENS.length], at(`refundCredit[${r}][usd]`)).to.equal(m.refundCredit[k]);
  });

  // Rentals, field by field, and the escrow's books.
  expect(s.rentals.length, at("rental count")).to.equal(m.rentals.length);
  let owed = 0n;
  const rentedPerNode = new Map<bigint, bigint>();
  const lockedWeight = [0n, 0n];
  m.rentals.forEach((r, i) => {
    const c = s.rentals[i];
    const id = `rental ${r.id}`;
    expect(
      [c.renter, c.nodeId, c.gpus, c.tokenIndex, c.plan, c.status, c.closeReason, c.slaTier, c.termsVersion],
      at(`${id} identity and status`),
    ).to.deep.equal([
      w.addr[RENTERS[r.renter]],
      r.nodeId,
      r.gpus,
      0n,
      BigInt(r.plan),
      BigInt(r.status),
      BigInt(r.closeReason),
      r.slaTier,
      0n,
    ]);
    expect([c.amount, c.unitPrice, c.anchor, c.withdrawnUnits], at(`${id} money`)).to.deep.equal([
      r.amount,
      r.unitPrice,
      r.anchor,
      r.withdrawnUnits,
    ]);
    const open = isOpen(r);
    expect(savingCredited[i], at(`${id}: savingCreditedFromEarnings`)).to.equal(
      r.plan === Plan.Saving ? r.creditedFromEarnings : 0n,
    );
    expect(r.kaiRefund <= r.kaiRefundOwed, at(`${id}: KAI refunded from stake <= what was owed`)).to.be.true;
    if (r.refundFromStake > 0n) {
      // Refunded in full: USD back (refund and credits from earnings) plus what the stake owed.
      expect(
        r.refunded + r.creditedFromEarnings + r.refundFromStake,
        at(`${id}: a slashed saving plan comes back in full`),
      ).to.equal(r.deposited);
    }
    expect(
      [s.withdrawable[i], s.refundable[i], s.paidUntil[i], s.closableAt[i]],
      at(`${id} views: withdrawable, refundable, paidUntil, closableAt`),
    ).to.deep.equal(
      open
        ? [
            rm.pending(money(r), r.withdrawnUnits, m.now, PENALTY_BPS).amount,
            rm.split(money(r), m.now, CloseReason.Renter, PENALTY_BPS).refund,
            rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount),
            rm.closableAt(money(r), GRACE_PERIOD),
          ]
        : [r.amount, 0n, 0n, 0n],
    );
    if (open) {
      const taken = rm.valueOf(r.plan, r.unitPrice, r.amount, r.withdrawnUnits);
      const earned = rm.valueOf(
        r.plan,
        r.unitPrice,
        r.amount,
        rm.earnedUnits(r.plan, r.anchor, r.unitPrice, r.amount, m.now),
      );
      expect(taken <= earned && earned <= r.amount, at(`${id}: taken ${taken} <= earned ${earned} <= deposit`)).to.be
        .true;
      expect(r.amount, at(`${id}: deposit unchanged while open`)).to.equal(r.deposited);
      expect(
        r.grossWithdrawn + r.creditedFromEarnings,
        at(`${id}: withdrawn + credited == value(withdrawnUnits)`),
      ).to.equal(taken);
      expect(r.credited <= earned, at(`${id}: credited ${r.credited} <= value served ${earned}`)).to.be.true;
      owed += r.amount - taken;
      rentedPerNode.set(r.nodeId, (rentedPerNode.get(r.nodeId) ?? 0n) + r.gpus);
      if (r.plan === Plan.Saving) lockedWeight[r.provider] += r.gpus * nodeOf(m, r.nodeId)!.multiplierBps;
    } else {
      expect(r.providerTotal + r.refunded, at(`${id}: provider total + refund == deposit`)).to.equal(r.deposited);
      expect(
        r.grossWithdrawn + r.creditedFromEarnings + r.amount,
        at(`${id}: withdrawn + credited + still owed == provider total`),
      ).to.equal(r.providerTotal);
      expect(r.credited <= r.earnedAtClose, at(`${id}: credited ${r.credited} <= value served ${r.earnedAtClose}`)).to
        .be.true;
      owed += r.amount;
    }
    if (m.prev && i < m.prev.rentals.length) {
      const before = m.prev.rentals[i];
      const ok = before.status === c.status || (before.status !== 3n && c.status === 3n);
      expect(ok, at(`${id}: status ${before.status} -> ${c.status} is a listed transition`)).to.be.true;
    }
  });
  const credits = m.refundCredit.reduce((a, b) => a + b, 0n);
  expect(balance("usd", "escrow"), at("escrow USD == open + closed owed + fees + refund credits")).to.equal(
    owed + m.accruedFees + credits,
  );
  expect(balance("kai", "escrow"), at("escrow holds no KAI")).to.equal(0n);

  // Stakes and the registry's KAI.
  let kaiStaked = 0n;
  STAKERS.forEach((who, i) => {
    const ms = m.stakes[i];
    const c = s.stakes[i];
    expect(
      [c.staked, c.unbonding, c.unbondingEnd, c.listedWeight, c.lockedWeight, c.rewardsOwed],
      at(`${who}'s stake`),
    ).to.deep.equal([ms.staked, ms.unbonding, ms.unbondingEnd, ms.listedWeight, ms.lockedWeight, ms.rewardsOwed]);
    expect(
      ms.slashedStake + ms.withdrawnStake + ms.staked + ms.unbonding,
      at(`${who}: slashed + withdrawn + staked + unbonding == initial + topped up`),
    ).to.equal(ms.initialStaked + ms.toppedUp);
    expect(
      ms.slashedRewards + ms.withdrawnRewards + ms.rewardsOwed,
      at(`${who}: slashed + withdrawn + owed rewards == deposited`),
    ).to.equal(ms.rewardsDeposited);
    kaiStaked += ms.staked + ms.unbonding + ms.rewardsOwed;
  });
  lockedWeight.forEach((lw, p) => expect(m.stakes[p].lockedWeight, at(`${PROVIDERS[p]}: locked weight`)).to.equal(lw));
  expect(balance("kai", "registry"), at("registry KAI == Σ staked + unbonding + rewards owed")).to.equal(kaiStaked);

  // Nodes.
  expect(s.nodeStatus.length, at("node count")).to.equal(m.nodes.length);
  m.nodes.forEach((n, i) => {
    expect(s.rentedGpus[i], at(`node ${n.id} rented GPUs`)).to.equal(n.rented);
    expect(n.rented, at(`node ${n.id}: rented == open rentals' GPUs`)).to.equal(rentedPerNode.get(n.id) ?? 0n);
    expect(s.nodeStatus[i], at(`node ${n.id} status`)).to.equal(BigInt(n.status));
    const want = cursorsOf(m, n.id);
    expect([k.downtimeFrom[i], k.fraudFrom[i]], at(`node ${n.id} slashableFrom (downtime, fraud)`)).to.deep.equal([
      want.downtime,
      want.fraud,
    ]);
    // A cursor never passes the epoch after the current one: only ended epochs are reported, and
    // a release moves it to the next epoch at most.
    const bound = epochAt(w, m.now) + 1n;
    expect(want.downtime <= bound && want.fraud <= bound, at(`node ${n.id} cursors <= current epoch + 1`)).to.be.true;
  });
  const u = m.nodes.length;
  expect([k.downtimeFrom[u], k.fraudFrom[u]], at(`unknown node ${unknownNode} slashableFrom`)).to.deep.equal([0n, 0n]);
  expect(k.kaiPerToken, at("kaiPerToken[usd]")).to.equal(m.kaiPerToken);

  // Oracle and distributor.
  expect([k.lastEpoch, k.anyReport], at("oracle last epoch")).to.deep.equal([m.lastEpoch, m.anyReport]);
  epochs.forEach((e, i) => {
    const report = m.reports.get(e)!;
    expect([k.roots[i], k.budgets[i]], at(`epoch ${e} root and budget`)).to.deep.equal([
      report.tree.root,
      report.budget,
    ]);
    const claimed = m.claimed.get(e) ?? 0n;
    expect(k.claimedOf[i], at(`claimedOf(${e})`)).to.equal(claimed);
    expect(k.claimedOf[i] <= k.budgets[i], at(`claimedOf(${e}) <= budget`)).to.be.true;
  });
  expect(k.reserve, at("distributor reserve")).to.equal(m.reserve);
  let vesting = 0n;
  STAKERS.forEach((who, i) => {
    const want = m.days[i].map((d) => [d, m.vesting[i].get(d) ?? 0n]);
    expect(
      k.positions[i].map((p) => [p.day, p.amount]),
      at(`${who}'s vesting positions`),
    ).to.deep.equal(want);
    for (const [, a] of want) vesting += a;
  });
  expect(m.reserve + vesting, at("distributor: reserve + Σ positions == KAI balance")).to.equal(
    balance("kai", "distributor"),
  );
  const paidOut = m.vestedPaid.reduce((a, b) => a + b, 0n);
  expect(m.reserve + vesting + paidOut, at("distributor: reserve + positions + paid out == funded")).to.equal(m.funded);
  // Checkers: the set, the licenses, the equivocations, and their KAI.
  const cs = m.checkerSet;
  expect([k.version, k.quorum, k.live], at("checker set: version, quorum, live operators")).to.deep.equal([
    cs.version,
    cs.quorum,
    BigInt(liveCount(m)),
  ]);
  expect(
    k.checkers.map((a) => a.toLowerCase()),
    at("checkers(): the set, tombstones as the zero address"),
  ).to.deep.equal(cs.members.map((op, i) => (cs.excluded[i] ? ethers.ZeroAddress : opAddr(w, op).toLowerCase())));
  const live = cs.members.filter((_, i) => !cs.excluded[i]);
  expect(
    live.filter((op) => m.equivocator[op]).map((op) => OPERATORS[op]),
    at("no proven equivocator is live in the set"),
  ).to.deep.equal([]);
  // Compared as one line per operator / license: one assertion, and its diff names the culprit.
  expect(
    OPERATORS.map((o, i) => `${o}: licensesOf ${k.licensesOf[i]}, isEquivocator ${k.isEquivocator[i]}`),
    at("operators: licensesOf, isEquivocator"),
  ).to.deep.equal(OPERATORS.map((o, i) => `${o}: licensesOf ${licensesOf(m, i)}, isEquivocator ${m.equivocator[i]}`));
  const name = (a: string) => {
    const op = OPERATORS.findIndex((o) => w.addr[o].toLowerCase() === a.toLowerCase());
    return op >= 0 ? OPERATORS[op] : a === ethers.ZeroAddress ? "none" : a === w.addr.admin ? "admin" : a;
  };
  const opName = (op: number) => (op < 0 ? "none" : OPERATORS[op]);
  expect(
    k.owner.map(
      (owner, i) =>
        `license ${i + 1}: owner ${name(owner)}, operator ${name(k.operatorOf[i])}, suspended ${k.suspended[i]}, ` +
        `left ${name(k.former[i])} at ${k.until[i]}`,
    ),
    at("licenses: owner, operator, suspended, departure"),
  ).to.deep.equal(
    m.licenses.map(
      (l, i) =>
        `license ${i + 1}: owner admin, operator ${opName(l.operator)}, suspended ${l.suspended}, ` +
        `left ${opName(l.former)} at ${l.until}`,
    ),
  );
  expect([k.departureCooldown, k.totalMinted], at("departureCooldown, licenses minted")).to.deep.equal([
    m.departureCooldown,
    BigInt(m.licenses.length),
  ]);
  expect(balance("kai", "reportOracle"), at("the oracle keeps no KAI")).to.equal(0n);
  const bounties = Object.values(m.bounties).reduce((a, b) => a + b, 0n);
  expect(m.equivocationSlashed, at("equivocation slashes == bounties + the treasury's share")).to.equal(
    bounties + m.equivocationToTreasury,
  );
  expect(
    m.bal.kai.treasury,
    at("treasury KAI == initial + SLA slashes + equivocation shares - reserve top-ups"),
  ).to.equal(m.initialBal.kai.treasury + m.slashedToTreasury + m.equivocationToTreasury - (m.funded - INITIAL_RESERVE));
  for (const h of ["keeper", "other"] as const) {
    expect(m.bal.kai[h], at(`${h} KAI == initial + bounties`)).to.equal(m.initialBal.kai[h] + (m.bounties[h] ?? 0n));
  }

  // The marks the step tried to set, and every mark set so far: each is the model's.
  checkMarks(m, marks, k, at);
  m.touched = { credits: [], leaves: [], proofs: [] };
  m.prev = s;
}

/** `isCredited`, `isClaimed` and `equivocationProven` of `marks` (as `probeWalk` read them), against the model. */
export function checkMarks(m: Model, marks: Marks, k: WalkProbeState, at: (what: string) => string = (x) => x) {
  expect(
    marks.proofs.map(([op, e], i) => `equivocationProven(${OPERATORS[op]}, ${e}) ${k.proven[i]}`),
    at("equivocationProven marks"),
  ).to.deep.equal(
    marks.proofs.map(([op, e]) => `equivocationProven(${OPERATORS[op]}, ${e}) ${m.proven.has(provenKey(op, e))}`),
  );
  marks.credits.forEach(([id, e], i) =>
    expect(k.credited[i], at(`isCredited(${id}, ${e})`)).to.equal(m.credited.has(creditKey(id, e))),
  );
  marks.leaves.forEach((l, i) =>
    expect(k.claimed[i], at(`isClaimed(${l.epoch}, ${l.kind}, ${subjectOf(l)})`)).to.equal(
      m.claimedBits.has(bitKey(l)),
    ),
  );
}

/**
 * Every mark: every rental against every reported epoch, every leaf of every report, every
 * operator against every reported epoch and every epoch an equivocation was proven for.
 */
export const allMarks = (m: Model): Marks => {
  const epochs = [...new Set([...m.reported, ...[...m.proven].map((key) => provenPair(key)[1])])];
  return {
    credits: m.rentals.flatMap((r) => m.reported.map((e) => [r.id, e] as const)),
    leaves: m.reported.flatMap((e) => m.reports.get(e)!.leaves),
    proofs: OPERATORS.flatMap((_, op) => epochs.map((e) => [op, e] as const)),
  };
};
