/**
 * The NodeRegistry stake actions both walks share (`test/helpers/model`, `test/helpers/popw`):
 * stake, request an unstake, withdraw it, deposit rewards and withdraw them. Each predicts the
 * outcome (success, or the exact custom error), sends the transaction and applies the prediction
 * to the staker's book. A walk builds them with `stakeActions`, naming its stakers and its own
 * checks (the money walk also pauses the registry and runs short of KAI; the PoPW walk does not).
 */
import type { ContractRunner, ContractTransactionReceipt, ContractTransactionResponse } from "ethers";

import type { NodeRegistry } from "../../../typechain-types";
import { OK, err, type Clocked, type Outcome, type Refusal } from "./send";

/** A staker's book in the registry, as a walk models it. */
export interface StakeBook {
  staked: bigint;
  unbonding: bigint;
  unbondingEnd: bigint;
  rewardsOwed: bigint;
  toppedUp: bigint;
  withdrawnStake: bigint;
  rewardsDeposited: bigint;
  withdrawnRewards: bigint;
}

/** What the stake actions read of a walk's world. */
export interface StakeWorld<H extends string> {
  c: { registry: NodeRegistry };
  signer: Record<H | "oracle", ContractRunner>;
  addr: Record<H, string>;
}

/** What the stake actions read and move of a walk's model. */
export interface StakeModel extends Clocked {
  stakes: StakeBook[];
}

/** How a walk plugs in: its stakers, its KAI ledger, its send and its own checks. */
export interface Staking<H extends string, W extends StakeWorld<H>, M extends StakeModel> {
  send: (
    m: M,
    outcome: Outcome | Refusal,
    tx: (o: { gasLimit: bigint }) => Promise<ContractTransactionResponse>,
  ) => Promise<ContractTransactionReceipt | undefined>;
  /** The holder of staker `p`. */
  staker: (p: number) => H;
  /** Moves KAI in the model's ledger. */
  moveKai: (m: M, from: H | "oracle" | "registry", to: H | "registry", amount: bigint) => void;
  /** The stake `requestUnstake` cannot take: the larger of the locked and the rented stake. */
  held: (m: M, p: number) => bigint;
  unbondingPeriod: bigint;
  /** A revert before the amount is checked (the registry paused), if any. */
  paused?: (w: W, m: M) => Outcome | undefined;
  /** Why `from` cannot pay `amount` KAI, if it cannot. */
  pull?: (w: W, m: M, from: H | "oracle", amount: bigint) => Outcome | Refusal | undefined;
}

export function stakeActions<H extends string, W extends StakeWorld<H>, M extends StakeModel>(k: Staking<H, W, M>) {
  const { send } = k;

  async function actStake(w: W, m: M, p: number, amount: bigint) {
    const who = k.staker(p);
    const outcome =
      k.paused?.(w, m) ??
      (amount === 0n ? err(w.c.registry, "NodeRegistry_ZeroAmount") : (k.pull?.(w, m, who, amount) ?? OK));
    await send(m, outcome, (o) => w.c.registry.connect(w.signer[who]).stake(amount, o));
    if (!outcome.ok) return;
    m.stakes[p].staked += amount;
    m.stakes[p].toppedUp += amount;
    k.moveKai(m, who, "registry", amount);
  }

  async function actRequestUnstake(w: W, m: M, p: number, amount: bigint) {
    const who = k.staker(p);
    const s = m.stakes[p];
    const locked = k.held(m, p);
    const unlocked = s.staked > locked ? s.staked - locked : 0n;
    const outcome =
      amount === 0n
        ? err(w.c.registry, "NodeRegistry_ZeroAmount")
        : amount > s.staked
          ? err(w.c.registry, "NodeRegistry_InsufficientStaked", w.addr[who], amount, s.staked)
          : amount > unlocked
            ? err(w.c.registry, "NodeRegistry_StakeLocked", w.addr[who], amount, unlocked)
            : OK;
    await send(m, outcome, (o) => w.c.registry.connect(w.signer[who]).requestUnstake(amount, o));
    if (!outcome.ok) return;
    s.staked -= amount;
    s.unbonding += amount;
    s.unbondingEnd = m.now + k.unbondingPeriod;
  }

  async function actWithdrawUnstaked(w: W, m: M, p: number) {
    const who = k.staker(p);
    const s = m.stakes[p];
    const outcome =
      s.unbonding === 0n || m.next < s.unbondingEnd
        ? err(w.c.registry, "NodeRegistry_NothingToWithdraw", w.addr[who], s.unbondingEnd)
        : OK;
    await send(m, outcome, (o) => w.c.registry.connect(w.signer[who]).withdrawUnstaked(o));
    if (!outcome.ok) return;
    s.withdrawnStake += s.unbonding;
    k.moveKai(m, "registry", who, s.unbonding);
    s.unbonding = 0n;
    s.unbondingEnd = 0n;
  }

  /** The core's oracle signer (REWARDER_ROLE) credits KAI rewards to a staker: slashes take them first. */
  async function actDepositRewards(w: W, m: M, p: number, amount: bigint) {
    const outcome =
      amount === 0n ? err(w.c.registry, "NodeRegistry_ZeroAmount") : (k.pull?.(w, m, "oracle", amount) ?? OK);
    await send(m, outcome, (o) => w.c.registry.connect(w.signer.oracle).depositRewards(w.addr[k.staker(p)], amount, o));
    if (!outcome.ok) return;
    m.stakes[p].rewardsOwed += amount;
    m.stakes[p].rewardsDeposited += amount;
    k.moveKai(m, "oracle", "registry", amount);
  }

  async function actWithdrawRewards(w: W, m: M, p: number) {
    const who = k.staker(p);
    const s = m.stakes[p];
    const outcome = s.rewardsOwed === 0n ? err(w.c.registry, "NodeRegistry_ZeroAmount") : OK;
    await send(m, outcome, (o) => w.c.registry.connect(w.signer[who]).withdrawRewards(o));
    if (!outcome.ok) return;
    k.moveKai(m, "registry", who, s.rewardsOwed);
    s.withdrawnRewards += s.rewardsOwed;
    s.rewardsOwed = 0n;
  }

  return { actStake, actRequestUnstake, actWithdrawUnstaked, actDepositRewards, actWithdrawRewards };
}
