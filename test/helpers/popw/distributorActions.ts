/**
 * RewardDistributor actions (predict, send, apply): claims, vesting, the reserve.
 */
import { leafReward, rewardLeafHash, type RewardLeaf } from "../../../offchain/src/leaves";
import { positionAge, subjectOf, vestedBpsOf } from "../rewards";
import { BPS, STAKERS } from "./constants";
import type { World } from "./world";
import { type Model, bitKey, dayOf, epochBudget, move } from "./state";
import { send } from "./send";
import { expectEvent, expectEvents, OK, type Outcome, err } from "../walk/send";
import { proofReaches } from "./oracleActions";

export interface ClaimInput {
  leaf: RewardLeaf;
  proof: string[];
}

/** `RewardDistributor.claim(beneficiary, claims)` sent by the keeper: the loop's checks in order. */
export async function actClaim(w: World, m: Model, beneficiary: number, claims: ClaimInput[]) {
  const d = w.distributor;
  const who = w.addr[STAKERS[beneficiary]];
  let outcome: Outcome | undefined;
  const bits = new Set<string>();
  const claimedNow = new Map<bigint, bigint>();
  const paid: { leaf: RewardLeaf; amount: bigint }[] = [];
  let total = 0n;
  let epoch = -1n;
  let budget = 0n;
  for (let i = 0; i < claims.length && !outcome; i++) {
    const { leaf, proof } = claims[i];
    if (leaf.account.toLowerCase() !== who.toLowerCase()) {
      outcome = err(d, "RewardDistributor_WrongBeneficiary", who, leaf.account);
      break;
    }
    if (i === 0 || leaf.epoch !== epoch) {
      epoch = leaf.epoch;
      budget = epochBudget(epoch);
      if (!m.reports.has(epoch)) {
        outcome = err(d, "RewardDistributor_NoReport", epoch);
        break;
      }
    }
    if (leaf.kind > 1) outcome = err(d, "RewardDistributor_InvalidKind", leaf.kind);
    else if (!proofReaches(m, leaf, proof))
      outcome = err(d, "RewardDistributor_InvalidProof", leaf.epoch, leaf.account, leaf.id);
    else if (m.claimedBits.has(bitKey(leaf)) || bits.has(bitKey(leaf)))
      outcome = err(d, "RewardDistributor_AlreadyClaimed", leaf.epoch, leaf.kind, subjectOf(leaf));
    else {
      const amount = leafReward(leaf);
      const claimed = (claimedNow.get(leaf.epoch) ?? m.claimed.get(leaf.epoch) ?? 0n) + amount;
      if (claimed > budget) outcome = err(d, "RewardDistributor_BudgetExceeded", leaf.epoch, claimed, budget);
      else {
        bits.add(bitKey(leaf));
        claimedNow.set(leaf.epoch, claimed);
        paid.push({ leaf, amount });
        total += amount;
      }
    }
  }
  if (!outcome && total === 0n) outcome = err(d, "RewardDistributor_NothingToClaim");
  if (!outcome && total > m.reserve) outcome = err(d, "RewardDistributor_InsufficientReserve", total, m.reserve);
  outcome ??= OK;
  m.touched.leaves.push(...claims.map((c) => c.leaf));
  const receipt = await send(m, outcome, (o) => d.connect(w.signer.keeper).claim(who, claims, o));
  if (!outcome.ok) return;
  const day = dayOf(m.now);
  expectEvent(receipt, d, "Claim", [who, day, total, claims.length]);
  expectEvents(
    receipt,
    d,
    "ClaimLeaf",
    paid.map((p) => [p.leaf.epoch, rewardLeafHash(p.leaf), p.leaf.account, p.amount]),
  );
  for (const b of bits) m.claimedBits.add(b);
  for (const [e, c] of claimedNow) m.claimed.set(e, c);
  m.reserve -= total;
  const vesting = m.vesting[beneficiary].get(day) ?? 0n;
  if (vesting === 0n) {
    // Days only grow, so a repeat can only be the last entry.
    const days = m.days[beneficiary];
    if (days.length === 0 || days[days.length - 1] !== day) days.push(day);
  }
  m.vesting[beneficiary].set(day, vesting + total);
  m.claimedTotal[beneficiary] += total;
}

/** `withdrawVested(day)` by the owner: the vested share paid, the rest back to the reserve. */
export async function actWithdrawVested(w: World, m: Model, owner: number, day: bigint) {
  const d = w.distributor;
  const who = STAKERS[owner];
  const amount = m.vesting[owner].get(day) ?? 0n;
  const outcome = amount === 0n ? err(d, "RewardDistributor_UnknownPosition", w.addr[who], day) : OK;
  const receipt = await send(m, outcome, (o) => d.connect(w.signer[who]).withdrawVested(day, o));
  if (!outcome.ok) return;
  const paid = (amount * vestedBpsOf(positionAge(day, m.now))) / BPS;
  expectEvent(receipt, d, "WithdrawVested", [w.addr[who], day, paid, amount - paid]);
  m.vesting[owner].set(day, 0n);
  m.reserve += amount - paid;
  m.vestedPaid[owner] += paid;
  m.forfeited[owner] += amount - paid;
  move(m, "kai", "distributor", who, paid);
}

/** The treasury tops up the reward reserve. */
export async function actFundReserve(w: World, m: Model, amount: bigint) {
  const d = w.distributor;
  const outcome = amount === 0n ? err(d, "RewardDistributor_ZeroAmount") : OK;
  await send(m, outcome, (o) => d.connect(w.signer.treasury).fundReserve(amount, o));
  if (!outcome.ok) return;
  m.reserve += amount;
  m.funded += amount;
  move(m, "kai", "treasury", "distributor", amount);
}
