/**
 * The final drain: everyone exits with exactly what the model says.
 */
import { expect } from "chai";

import * as rm from "../../../offchain/src/rentalMath";
import { DAY, type Holder, PROVIDERS, RENTERS, Status, TOKENS, UNBONDING_PERIOD } from "./constants";
import type { World } from "./world";
import { type Model, isOpen, money } from "./state";
import {
  actPauseEscrow,
  actPauseRegistry,
  actRequestUnstake,
  actSetBlocked,
  actWithdrawRewards,
  actWithdrawUnstaked,
} from "./registryActions";
import {
  actClaimRefundCredit,
  actCloseRental,
  actEndRental,
  actWithdrawEarnings,
  actWithdrawFees,
} from "./escrowActions";
import { checkInvariants } from "./invariants";
import { withSteps } from "../walk/step";

/**
 * Liveness (threat 25): everyone exits. Optionally unpauses first (`unpause`), else exits while
 * paused (every exit must work then). Ends every open rental (closable ones by a keeper, odd ids by
 * the provider, even ids by the renter, or by the provider if the renter is blocked), lets providers
 * withdraw all earnings, rewards and stake, unblocks renters and lets them claim refund credits, and
 * pays out the fees. Then the escrow and the registry must hold nothing, and every actor's balance
 * must be what the model says (checked after each of these steps as well).
 */
export async function finalDrain(w: World, m: Model, unpause: boolean): Promise<void> {
  const step = async (label: string, fn: () => Promise<void>) => {
    m.log.push(`drain: ${label}`);
    try {
      await fn();
      await checkInvariants(w, m);
    } catch (e) {
      throw withSteps(e, m);
    }
  };
  if (unpause) {
    if (m.escrowPaused) await step("unpause escrow", () => actPauseEscrow(w, m, false));
    if (m.registryPaused) await step("unpause registry", () => actPauseRegistry(w, m, false));
  }
  for (const r of m.rentals.filter(isOpen)) {
    const closable = rm.closableAt(money(r), m.terms[r.termsVersion].gracePeriod);
    if (m.next >= closable) {
      await step(`closeRental(${r.id})`, () => actCloseRental(w, m, r.id, "keeper"));
    } else {
      const byProvider = r.id % 2n === 1n || (r.token === "busd" && m.blocked[r.renter]);
      const caller = byProvider ? PROVIDERS[r.provider] : RENTERS[r.renter];
      await step(`endRental(${r.id}) by ${caller}`, () => actEndRental(w, m, r.id, caller));
    }
  }
  m.next += DAY;
  for (let p = 0; p < PROVIDERS.length; p++) {
    for (const t of TOKENS) {
      const ids = m.rentals.filter((r) => r.provider === p && r.token === t && r.amount > 0n).map((r) => r.id);
      if (ids.length > 0)
        await step(`withdrawEarnings(${PROVIDERS[p]}, ${t}, [${ids}])`, () => actWithdrawEarnings(w, m, p, t, ids));
    }
    if (m.stakes[p].rewardsOwed > 0n) await step(`withdrawRewards(${PROVIDERS[p]})`, () => actWithdrawRewards(w, m, p));
    const staked = m.stakes[p].staked;
    if (staked > 0n) await step(`requestUnstake(${PROVIDERS[p]}, ${staked})`, () => actRequestUnstake(w, m, p, staked));
  }
  m.next += UNBONDING_PERIOD;
  for (let p = 0; p < PROVIDERS.length; p++) {
    if (m.stakes[p].unbonding > 0n) await step(`withdrawUnstaked(${PROVIDERS[p]})`, () => actWithdrawUnstaked(w, m, p));
  }
  for (let k = 0; k < RENTERS.length; k++) {
    if (m.blocked[k]) await step(`unblock ${RENTERS[k]}`, () => actSetBlocked(w, m, k, false));
    for (const t of TOKENS) {
      if (m.refundCredit[k][t] > 0n)
        await step(`claimRefundCredit(${RENTERS[k]}, ${t})`, () => actClaimRefundCredit(w, m, k, t));
    }
  }
  for (const t of TOKENS) {
    if (m.accruedFees[t] > 0n) await step(`withdrawFees(${t})`, () => actWithdrawFees(w, m, t, "keeper"));
  }

  // Nothing is left behind: the math is exact, so "at most dust" is 0 here.
  for (const t of TOKENS) {
    expect(m.bal[t].escrow, `escrow holds no ${t} after the drain`).to.equal(0n);
    expect(m.bal[t].registry, `registry holds no ${t} after the drain`).to.equal(0n);
  }
  for (const r of m.rentals) {
    expect(r.status, `rental ${r.id} closed`).to.equal(Status.Closed);
    expect(r.grossWithdrawn, `rental ${r.id}: provider withdrew all it was paid`).to.equal(r.providerTotal);
  }
  // Closed-form books, independent of the step-by-step balances. Per token: each renter lost its
  // deposits less its refunds; what renters lost in all is what providers were paid (earned plus
  // penalties); and providers' net, the fees paid out and the KAI moved by stakes, slashes and rewards
  // (treasury, reward pool, oracle) add up to exactly that.
  for (const t of TOKENS) {
    const delta = (h: Holder) => m.bal[t][h] - m.initialBal[t][h];
    const rentals = m.rentals.filter((r) => r.token === t);
    const paid = rentals.reduce((a, r) => a + r.providerTotal, 0n);
    RENTERS.forEach((h, k) => {
      const own = rentals.filter((r) => r.renter === k);
      const lost = own.reduce((a, r) => a + r.deposited - r.refunded, 0n);
      expect(delta(h), `${h} ${t}: -(deposits - refunds)`).to.equal(-lost);
    });
    expect(
      RENTERS.reduce((a, h) => a + delta(h), 0n),
      `${t}: renters lost what providers were paid`,
    ).to.equal(-paid);
    // The registry's start balance is the stake `setupWorld` made; it ends at 0 like the escrow.
    const receivers: Holder[] = [...PROVIDERS, "treasury", "rewardPool", "oracle", "registry", "escrow"];
    expect(
      receivers.reduce((a, h) => a + delta(h), 0n),
      `${t}: providers' net + fees (+ stake moves) == paid`,
    ).to.equal(paid);
  }
  PROVIDERS.forEach((h, p) => {
    const s = m.stakes[p];
    expect(s.staked + s.unbonding + s.rewardsOwed, `${h} has nothing left in the registry`).to.equal(0n);
  });
}
