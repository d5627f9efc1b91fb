/**
 * The invariants checked after every step: the chain read in one call (`MoneyWalkProbe`)
 * compared with the model field by field, then the money invariants of docs/threats.md.
 */
import { expect } from "chai";

import * as rm from "../../../offchain/src/rentalMath";
import { CloseReason, Plan } from "../../../offchain/src/rentalMath";
import { GPU_CLASS_MULTIPLIER, HOLDERS, PROVIDERS, RENTERS, TOKENS, TOKEN_INDEX, type TokenKey } from "./constants";
import type { World } from "./world";
import { probe } from "./probe";
import { type Model, isOpen, lockedStake, money, nodeOf } from "./state";

/**
 * Reads the chain and checks it against the model and the invariants of docs/threats.md:
 * - the chain state equals the model, field by field (rentals, stakes, nodes, fees, credits,
 *   pause flags, every holder's balance of every token);
 * - per token: `balanceOf(escrow) >= owed` and `in - out == owed`, owed = open deposits not yet
 *   withdrawn + closed amounts not withdrawn + accrued fees + refund credits; supply conserved;
 * - per rental: `withdrawn <= earned <= deposited + top-ups`; once closed `paid + refunded == total`;
 * - per stake: `slashed + withdrawn + staked + unbonding == total staked` (rewards likewise);
 *   KAI in the registry == stakes + unbonding + rewards owed; locked stake == saving GPUs' weight;
 * - only listed transitions: rental status, anchors and timestamps never go backwards.
 */
export async function checkInvariants(w: World, m: Model): Promise<void> {
  const s = await probe(w);
  const at = (what: string) => `[after step ${m.log.length}: ${m.log[m.log.length - 1] ?? "start"}] ${what}`;

  // Time: the latest block is the model's, and never goes backwards.
  expect(s.timestamp, at("block timestamp")).to.equal(m.now);
  if (m.prev) {
    expect(s.timestamp >= m.prev.timestamp, at("timestamps never go backwards")).to.be.true;
    expect(s.blockNumber >= m.prev.blockNumber, at("blocks never go backwards")).to.be.true;
  }
  expect(s.escrowPaused, at("escrow paused")).to.equal(m.escrowPaused);
  expect(s.registryPaused, at("registry paused")).to.equal(m.registryPaused);

  // Balances of every holder, and conservation of each token among them.
  TOKENS.forEach((t, i) => {
    let sum = 0n;
    HOLDERS.forEach((h, j) => {
      const actual = s.balances[i * HOLDERS.length + j];
      expect(actual, at(`${h}'s ${t} balance`)).to.equal(m.bal[t][h]);
      sum += actual;
    });
    expect(sum, at(`${t} conserved among holders`)).to.equal(m.supply[t]);
    expect(s.accruedFees[i], at(`accruedFees[${t}]`)).to.equal(m.accruedFees[t]);
    RENTERS.forEach((r, k) => {
      expect(s.refundCredit[k * TOKENS.length + i], at(`refundCredit[${r}][${t}]`)).to.equal(m.refundCredit[k][t]);
    });
  });

  // Rentals: field by field, then the per-rental invariants.
  expect(s.rentals.length, at("rental count")).to.equal(m.rentals.length);
  const owed: Record<TokenKey, bigint> = { usd: 0n, kai: 0n, busd: 0n };
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
      BigInt(TOKEN_INDEX[r.token]),
      BigInt(r.plan),
      BigInt(r.status),
      BigInt(r.closeReason),
      r.slaTier,
      BigInt(r.termsVersion),
    ]);
    expect([c.amount, c.unitPrice, c.anchor, c.withdrawnUnits], at(`${id} money`)).to.deep.equal([
      r.amount,
      r.unitPrice,
      r.anchor,
      r.withdrawnUnits,
    ]);
    // The escrow's views, as a keeper or the frontend reads them now.
    const open = isOpen(r);
    const grace = m.terms[r.termsVersion].gracePeriod;
    expect(
      [s.withdrawable[i], s.refundable[i], s.paidUntil[i], s.closableAt[i]],
      at(`${id} views: withdrawable, refundable, paidUntil, closableAt`),
    ).to.deep.equal(
      open
        ? [
            rm.pending(money(r), r.withdrawnUnits, m.now, m.terms[r.termsVersion].penaltyBps).amount,
            rm.split(money(r), m.now, CloseReason.Renter, m.terms[r.termsVersion].penaltyBps).refund,
            rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount),
            rm.closableAt(money(r), grace),
          ]
        : [r.amount, 0n, 0n, 0n],
    );
    if (open) {
      const withdrawn = rm.valueOf(r.plan, r.unitPrice, r.amount, r.withdrawnUnits);
      const earned = rm.valueOf(
        r.plan,
        r.unitPrice,
        r.amount,
        rm.earnedUnits(r.plan, r.anchor, r.unitPrice, r.amount, m.now),
      );
      expect(withdrawn <= earned, at(`${id}: withdrawn ${withdrawn} <= earned ${earned}`)).to.be.true;
      expect(earned <= r.amount, at(`${id}: earned ${earned} <= deposited ${r.amount}`)).to.be.true;
      expect(r.amount, at(`${id}: deposit == deposit + top-ups`)).to.equal(r.deposited);
      expect(r.grossWithdrawn, at(`${id}: gross withdrawn == value of withdrawn units`)).to.equal(withdrawn);
      owed[r.token] += r.amount - withdrawn;
      rentedPerNode.set(r.nodeId, (rentedPerNode.get(r.nodeId) ?? 0n) + r.gpus);
      if (r.plan === Plan.Saving) {
        lockedWeight[r.provider] += r.gpus * GPU_CLASS_MULTIPLIER[nodeOf(m, r.nodeId)!.gpuClass];
      }
    } else {
      expect(r.providerTotal + r.refunded, at(`${id}: paid + refunded == total`)).to.equal(r.deposited);
      expect(r.grossWithdrawn + r.amount, at(`${id}: withdrawn + still owed == paid`)).to.equal(r.providerTotal);
      owed[r.token] += r.amount;
    }
    if (m.prev && i < m.prev.rentals.length) {
      const before = m.prev.rentals[i];
      const ok =
        before.status === c.status ||
        (before.status === 1n && (c.status === 2n || c.status === 3n)) ||
        (before.status === 2n && (c.status === 1n || c.status === 3n));
      expect(ok, at(`${id}: status ${before.status} -> ${c.status} is a listed transition`)).to.be.true;
      expect(c.anchor >= before.anchor, at(`${id}: anchor never goes backwards`)).to.be.true;
      if (before.status === 3n) expect(c.closeReason, at(`${id}: close is final`)).to.equal(before.closeReason);
    }
  });

  // The escrow's books, per token.
  TOKENS.forEach((t, i) => {
    const credit = m.refundCredit.reduce((a, rc) => a + rc[t], 0n);
    const totalOwed = owed[t] + m.accruedFees[t] + credit;
    const balance = s.balances[i * HOLDERS.length + HOLDERS.indexOf("escrow")];
    expect(balance >= totalOwed, at(`escrow ${t}: balance ${balance} >= owed ${totalOwed}`)).to.be.true;
    expect(m.escrowIn[t] - m.escrowOut[t], at(`escrow ${t}: in - out == owed`)).to.equal(totalOwed);
    expect(balance, at(`escrow ${t}: balance == in - out`)).to.equal(m.escrowIn[t] - m.escrowOut[t]);
  });

  // Stakes and the registry's KAI.
  let kaiOwed = 0n;
  PROVIDERS.forEach((p, i) => {
    const ms = m.stakes[i];
    const c = s.stakes[i];
    expect(
      [c.staked, c.unbonding, c.unbondingEnd, c.listedWeight, c.lockedWeight, c.rewardsOwed],
      at(`${p}'s stake`),
    ).to.deep.equal([ms.staked, ms.unbonding, ms.unbondingEnd, ms.listedWeight, ms.lockedWeight, ms.rewardsOwed]);
    expect(s.lockedStake[i], at(`${p}'s locked stake`)).to.equal(lockedStake(m, i));
    expect(ms.lockedWeight, at(`${p}: locked weight == open saving GPUs' weight`)).to.equal(lockedWeight[i]);
    expect(
      ms.slashedStake + ms.withdrawnStake + ms.staked + ms.unbonding,
      at(`${p}: slashed + withdrawn + staked + unbonding == total staked`),
    ).to.equal(ms.initialStaked + ms.toppedUp);
    expect(
      ms.slashedRewards + ms.withdrawnRewards + ms.rewardsOwed,
      at(`${p}: slashed + withdrawn + owed == total rewards`),
    ).to.equal(ms.rewardsDeposited);
    kaiOwed += ms.staked + ms.unbonding + ms.rewardsOwed;
  });
  const registryKai = s.balances[TOKENS.indexOf("kai") * HOLDERS.length + HOLDERS.indexOf("registry")];
  expect(registryKai, at("registry KAI == stakes + unbonding + rewards owed")).to.equal(kaiOwed);
  for (const t of ["usd", "busd"] as const) {
    expect(m.bal[t].registry, at(`registry holds no ${t}`)).to.equal(0n);
  }

  // Nodes.
  expect(s.rentedGpus.length, at("node count")).to.equal(m.nodes.length);
  m.nodes.forEach((n, i) => {
    expect(s.rentedGpus[i], at(`node ${n.id} rented GPUs`)).to.equal(n.rented);
    expect(n.rented, at(`node ${n.id}: rented == open rentals' GPUs`)).to.equal(rentedPerNode.get(n.id) ?? 0n);
    expect(n.rented <= n.gpuCount, at(`node ${n.id}: rented <= GPUs`)).to.be.true;
    expect(s.nodeStatus[i], at(`node ${n.id} status`)).to.equal(BigInt(n.status));
  });
  m.prev = s;
}
