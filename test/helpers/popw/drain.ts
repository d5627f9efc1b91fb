/**
 * The final drain: every renter, provider, checker operator and prover exits with what the model says.
 */
import { expect } from "chai";

import * as rm from "../../../offchain/src/rentalMath";
import { leafReward, proofOf, type RewardLeaf } from "../../../offchain/src/leaves";
import { NodeStatus, RentalStatus } from "../../fixtures";
import { SLASH_WINDOW } from "../sla";
import {
  BPS,
  DAY,
  EPOCH,
  FEE_BPS,
  GRACE_PERIOD,
  type Holder,
  INITIAL_RESERVE,
  OPERATORS,
  PROVIDERS,
  RENTERS,
  STAKERS,
  type TokenKey,
} from "./constants";
import type { World } from "./world";
import { type Model, bitKey, isOpen, money, nodeOf, stakerOf } from "./state";
import { actRequestUnstake, actWithdrawRewards, actWithdrawUnstaked } from "./registryActions";
import {
  actClaimRefundCredit,
  actCloseRental,
  actEndRental,
  actWithdrawEarnings,
  actWithdrawFees,
} from "./escrowActions";
import { actClaim, actFundReserve, actWithdrawVested } from "./distributorActions";
import { actCloseOnJailedNode, actPayStakeCredit } from "./slaActions";
import { allMarks, checkInvariants, checkMarks } from "./invariants";
import { probeWalk } from "./probe";
import { withSteps } from "../walk/step";

/** The leaves each account can still claim, epoch by epoch within the budgets (the order claims take). */
function claimable(w: World, m: Model): Map<number, RewardLeaf[]> {
  const out = new Map<number, RewardLeaf[]>();
  const claimed = new Map(m.claimed);
  for (const e of m.reported) {
    const report = m.reports.get(e)!;
    for (const leaf of report.leaves) {
      const amount = leafReward(leaf);
      const sum = (claimed.get(e) ?? 0n) + amount;
      // Zero leaves pay nothing; leaves past an understated budget can never be paid.
      if (amount === 0n || m.claimedBits.has(bitKey(leaf)) || sum > report.budget) continue;
      claimed.set(e, sum);
      const who = stakerOf(w, leaf.account);
      out.set(who, [...(out.get(who) ?? []), leaf]);
    }
  }
  return out;
}

/**
 * Liveness: everyone exits with what the model says. Closes every open rental (closable ones by a
 * keeper, those on jailed nodes by `closeOnJailedNode`, the rest by the renter or, for odd ids, the
 * provider), lets providers withdraw all earnings, renters claim refund credits, pays out the fees
 * (the escrow then holds nothing), funds the reserve for every claimable leaf and claims them all,
 * withdraws providers' and checker operators' rewards and unstakes everything, waits 181 days and
 * withdraws every vesting position (paid in full) and the unbonded stake. Then every renter's,
 * provider's, operator's and prover's USD and KAI balance must be the model's closed-form
 * prediction (operators: their stake back less what equivocation proofs slashed, plus bounties).
 */
export async function finalDrain(w: World, m: Model): Promise<void> {
  const step = async (label: string, fn: () => Promise<void>) => {
    m.log.push(`drain: ${label}`);
    try {
      await fn();
      await checkInvariants(w, m);
    } catch (e) {
      throw withSteps(e, m);
    }
  };
  for (const r of m.rentals.filter(isOpen)) {
    if (m.next >= rm.closableAt(money(r), GRACE_PERIOD)) {
      await step(`closeRental(${r.id})`, () => actCloseRental(w, m, r.id));
    } else if (nodeOf(m, r.nodeId)!.status === NodeStatus.Jailed) {
      await step(`closeOnJailedNode([${r.id}])`, () => actCloseOnJailedNode(w, m, [r.id]));
    } else {
      const caller = r.id % 2n === 1n ? PROVIDERS[r.provider] : RENTERS[r.renter];
      await step(`endRental(${r.id}) by ${caller}`, () => actEndRental(w, m, r.id, caller));
    }
  }
  for (let p = 0; p < PROVIDERS.length; p++) {
    const ids = m.rentals.filter((r) => r.provider === p && r.amount > 0n).map((r) => r.id);
    if (ids.length > 0)
      await step(`withdrawEarnings(${PROVIDERS[p]}, [${ids}])`, () => actWithdrawEarnings(w, m, p, ids));
  }
  for (let k = 0; k < RENTERS.length; k++) {
    if (m.refundCredit[k] > 0n) await step(`claimRefundCredit(${RENTERS[k]})`, () => actClaimRefundCredit(w, m, k));
  }
  expect(m.bal.usd.escrow, "with every rental closed and paid out, the escrow holds the fees only").to.equal(
    m.accruedFees,
  );
  if (m.accruedFees > 0n) await step("withdrawFees(usd)", () => actWithdrawFees(w, m));
  expect(m.bal.usd.escrow, "the escrow holds no USD after the fees are paid out").to.equal(0n);

  const toClaim = claimable(w, m);
  const needed = [...toClaim.values()].flat().reduce((a, l) => a + leafReward(l), 0n);
  if (needed > m.reserve) {
    const top = needed - m.reserve;
    await step(`fundReserve(${top})`, () => actFundReserve(w, m, top));
  }
  for (const [who, leaves] of toClaim) {
    const claims = leaves.map((leaf) => ({ leaf, proof: proofOf(m.reports.get(leaf.epoch)!.tree, leaf) }));
    await step(`claim(${STAKERS[who]}, ${leaves.length} leaves)`, () => actClaim(w, m, who, claims));
  }
  // Stake credits due: paid once every window has passed (slashes had theirs first).
  if (m.stakeCreditDue.size > 0) {
    m.next += SLASH_WINDOW + EPOCH + 1n;
    for (const { rentalId, epoch } of [...m.stakeCreditDue.values()]) {
      await step(`payStakeCredit(${rentalId}, ${epoch})`, () => actPayStakeCredit(w, m, rentalId, epoch));
    }
  }
  // Providers and checker operators alike: rewards out, every active stake unbonding.
  for (let p = 0; p < STAKERS.length; p++) {
    if (m.stakes[p].rewardsOwed > 0n) await step(`withdrawRewards(${STAKERS[p]})`, () => actWithdrawRewards(w, m, p));
    const staked = m.stakes[p].staked;
    if (staked > 0n) await step(`requestUnstake(${STAKERS[p]}, ${staked})`, () => actRequestUnstake(w, m, p, staked));
  }
  m.next += 181n * DAY;
  for (let a = 0; a < STAKERS.length; a++) {
    for (const day of m.days[a]) {
      if ((m.vesting[a].get(day) ?? 0n) > 0n)
        await step(`withdrawVested(${STAKERS[a]}, ${day})`, () => actWithdrawVested(w, m, a, day));
    }
  }
  for (let p = 0; p < STAKERS.length; p++) {
    if (m.stakes[p].unbonding > 0n) await step(`withdrawUnstaked(${STAKERS[p]})`, () => actWithdrawUnstaked(w, m, p));
  }
  const marks = allMarks(m);
  checkMarks(m, marks, await probeWalk(w, m, marks));

  // Nothing is left behind.
  expect(m.bal.usd.escrow, "escrow holds no USD").to.equal(0n);
  expect(m.bal.kai.distributor, "distributor holds its reserve only").to.equal(m.reserve);
  for (const r of m.rentals) {
    expect(r.status, `rental ${r.id} closed`).to.equal(RentalStatus.Closed);
    expect(r.amount, `rental ${r.id}: provider withdrew everything`).to.equal(0n);
  }
  STAKERS.forEach((h, p) => {
    const s = m.stakes[p];
    expect(s.staked + s.unbonding + s.rewardsOwed, `${h} has nothing left in the registry`).to.equal(0n);
  });
  expect(m.bal.kai.registry, "the registry holds no KAI").to.equal(0n);
  expect(m.bal.kai.reportOracle, "the oracle holds no KAI").to.equal(0n);

  // Closed-form exits, independent of the step-by-step balances.
  const delta = (t: TokenKey, h: Holder) => m.bal[t][h] - m.initialBal[t][h];
  RENTERS.forEach((h, k) => {
    const own = m.rentals.filter((r) => r.renter === k);
    const paid = own.reduce((a, r) => a + r.deposited - r.refunded - r.creditedFromEarnings, 0n);
    expect(delta("usd", h), `${h} USD: -(deposits - refunds - SLA credits from earnings)`).to.equal(-paid);
    const kai = own.reduce((a, r) => a + r.kaiFromStake + r.kaiRefund, 0n);
    expect(delta("kai", h), `${h} KAI: + SLA credits and saving refunds from the providers' stake`).to.equal(kai);
  });
  PROVIDERS.forEach((h, p) => {
    const own = m.rentals.filter((r) => r.provider === p);
    // Every rental was fully withdrawn: gross == provider total - credits; the fee is 10% of each withdrawal.
    const gross = own.reduce((a, r) => a + r.providerTotal - r.creditedFromEarnings, 0n);
    expect(
      own.reduce((a, r) => a + r.grossWithdrawn, 0n),
      `${h}: withdrew every rental's provider total less credits`,
    ).to.equal(gross);
    expect(delta("usd", h), `${h} USD: gross withdrawn - fees`).to.equal(gross - m.feesPaid[p]);
    expect(m.feesPaid[p] <= (gross * FEE_BPS) / BPS, `${h}: fees at most 10% of the gross`).to.be.true;
    const s = m.stakes[p];
    expect(
      delta("kai", h),
      `${h} KAI: + initial stake + rewards deposited - slashed + rewards claimed - forfeited`,
    ).to.equal(
      s.initialStaked + s.rewardsDeposited - s.slashedStake - s.slashedRewards + m.claimedTotal[p] - m.forfeited[p],
    );
  });
  OPERATORS.forEach((h, i) => {
    const a = PROVIDERS.length + i;
    const s = m.stakes[a];
    // Top-ups came back with the rest of the stake: only what was slashed is gone.
    expect(
      delta("kai", h),
      `${h} KAI: + initial stake + rewards deposited - slashed + checker rewards claimed - forfeited + bounties`,
    ).to.equal(
      s.initialStaked +
        s.rewardsDeposited -
        s.slashedStake -
        s.slashedRewards +
        m.claimedTotal[a] -
        m.forfeited[a] +
        (m.bounties[h] ?? 0n),
    );
  });
  for (const h of ["keeper", "other"] as const) {
    expect(delta("kai", h), `${h} KAI: its equivocation bounties`).to.equal(m.bounties[h] ?? 0n);
  }
  const equivocators = OPERATORS.map((_, i) => m.stakes[PROVIDERS.length + i]);
  expect(
    equivocators.reduce((a, s) => a + s.slashedStake + s.slashedRewards, 0n),
    "checker operators lost exactly what equivocation proofs slashed",
  ).to.equal(m.equivocationSlashed);
  STAKERS.forEach((h, a) => {
    expect(m.vestedPaid[a] + m.forfeited[a], `${h}: every claim vested (paid or forfeited)`).to.equal(
      m.claimedTotal[a],
    );
  });
  // The treasury: slashes in, reserve top-ups out; half the fees (the reward pool the other half).
  const topUps = m.funded - INITIAL_RESERVE;
  expect(
    delta("kai", "treasury"),
    "treasury KAI: downtime and fraud slashes + equivocation slashes less bounties - reserve top-ups",
  ).to.equal(m.slashedToTreasury + m.equivocationToTreasury - topUps);
  const fees = m.feesPaid[0] + m.feesPaid[1];
  expect(delta("usd", "treasury") + delta("usd", "rewardPool"), "fees paid out to treasury and pool").to.equal(fees);
  // Every leaf is paid unless its report overstated what its budget allows; honest reports pay in full.
  expect([...claimable(w, m).values()].flat(), "nothing left to claim").to.deep.equal([]);
  for (const e of m.reported) {
    const report = m.reports.get(e)!;
    const total = report.leaves.reduce((a, l) => a + leafReward(l), 0n);
    if (total === report.stated) expect(m.claimed.get(e) ?? 0n, `epoch ${e} paid its whole tree`).to.equal(total);
  }
}
