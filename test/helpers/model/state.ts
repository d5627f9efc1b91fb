/**
 * The money model: what the walk believes of nodes, stakes, rentals and balances, and the
 * small helpers that read and move it.
 */

import * as rm from "../../../offchain/src/rentalMath";
import { Plan } from "../../../offchain/src/rentalMath";
import { defaultSpec } from "../../fixtures";
import {
  BPS,
  GPU_CLASS_MULTIPLIER,
  HOLDERS,
  HOUR,
  type Holder,
  NodeStatusN,
  RENTERS,
  Status,
  TOKENS,
  type TokenKey,
} from "./constants";
import { INITIAL_NODE_PRICES, SECOND_NODE_PRICES, SECOND_NODE_SPEC, type World } from "./world";
import { type ProbeState, probe } from "./probe";
import { type Outcome as Revertible, type Refusal, err } from "../walk/send";

export interface ModelNode {
  id: bigint;
  provider: number; // index in PROVIDERS
  gpuClass: number;
  gpuCount: bigint;
  rented: bigint;
  status: number;
  price: Record<TokenKey, bigint>;
}

export interface ModelStake {
  staked: bigint;
  unbonding: bigint;
  unbondingEnd: bigint;
  rewardsOwed: bigint;
  listedWeight: bigint;
  lockedWeight: bigint;
  // Books for the stake invariants.
  initialStaked: bigint;
  toppedUp: bigint;
  slashedStake: bigint; // from active and unbonding stake
  withdrawnStake: bigint;
  rewardsDeposited: bigint;
  slashedRewards: bigint;
  withdrawnRewards: bigint;
}

export interface ModelRental {
  id: bigint;
  renter: number; // index in RENTERS
  nodeId: bigint;
  provider: number;
  gpus: bigint;
  token: TokenKey;
  plan: Plan;
  termDays: bigint;
  slaTier: bigint;
  status: number;
  closeReason: number;
  termsVersion: number;
  /** As stored: total deposited while open; the provider's remaining gross once closed. */
  amount: bigint;
  unitPrice: bigint;
  anchor: bigint;
  withdrawnUnits: bigint;
  // Books.
  deposited: bigint; // deposit + top-ups
  grossWithdrawn: bigint; // provider's gross withdrawals (fee included)
  providerTotal: bigint; // fixed at close: earned + penalty
  refunded: bigint; // fixed at close (pushed or credited)
}

export interface Terms {
  feeBps: bigint;
  penaltyBps: bigint;
  gracePeriod: bigint;
}

export interface Model {
  /** Timestamp of the latest block. */
  now: bigint;
  /** Timestamp the next transaction is mined at (> now). */
  next: bigint;
  escrowPaused: boolean;
  registryPaused: boolean;
  baseStakePerGpu: bigint;
  nodes: ModelNode[];
  stakes: ModelStake[];
  rentals: ModelRental[];
  terms: Terms[];
  savingDiscount: Record<string, bigint>;
  tokenEnabled: Record<TokenKey, boolean>;
  accruedFees: Record<TokenKey, bigint>;
  refundCredit: Record<TokenKey, bigint>[]; // per renter
  blocked: boolean[]; // per renter, in busd
  bal: Record<TokenKey, Record<Holder, bigint>>;
  /** Escrow ledger per token: everything in (deposits, top-ups) and out (every transfer). */
  escrowIn: Record<TokenKey, bigint>;
  escrowOut: Record<TokenKey, bigint>;
  /** What every holder held when the sequence started, and the tokens' total over holders. */
  initialBal: Record<TokenKey, Record<Holder, bigint>>;
  supply: Record<TokenKey, bigint>;
  /** Executed steps, for failure reports. */
  log: string[];
  /** Every transaction's outcome, `"<Step>: ok"` or `"<Step>: <error or reason>"`, in order. */
  outcomes: string[];
  /** Chain state after the previous step (for "only listed transitions" checks). */
  prev?: ProbeState;
}

const emptyStake = (): ModelStake => ({
  staked: 0n,
  unbonding: 0n,
  unbondingEnd: 0n,
  rewardsOwed: 0n,
  listedWeight: 0n,
  lockedWeight: 0n,
  initialStaked: 0n,
  toppedUp: 0n,
  slashedStake: 0n,
  withdrawnStake: 0n,
  rewardsDeposited: 0n,
  slashedRewards: 0n,
  withdrawnRewards: 0n,
});

/** The model of the state `setupWorld` leaves, with balances read from the chain. */
export async function initialModel(w: World): Promise<Model> {
  const s = await probe(w);
  const bal = {} as Model["bal"];
  const supply = {} as Model["supply"];
  TOKENS.forEach((t, i) => {
    bal[t] = {} as Record<Holder, bigint>;
    supply[t] = 0n;
    HOLDERS.forEach((h, j) => {
      bal[t][h] = s.balances[i * HOLDERS.length + j];
      supply[t] += bal[t][h];
    });
  });
  const base = await w.c.registry.baseStakePerGpu();
  const stakeFor = (gpuClass: number, gpuCount: number) => {
    const st = emptyStake();
    st.listedWeight = BigInt(gpuCount) * GPU_CLASS_MULTIPLIER[gpuClass];
    st.staked = (base * st.listedWeight) / BPS;
    st.initialStaked = st.staked;
    return st;
  };
  const nodeFor = (id: bigint, provider: number, gpuClass: number, gpuCount: number, prices: bigint[]): ModelNode => ({
    id,
    provider,
    gpuClass,
    gpuCount: BigInt(gpuCount),
    rented: 0n,
    status: NodeStatusN.Active,
    price: { usd: prices[0], kai: prices[1], busd: prices[2] },
  });
  return {
    now: s.timestamp,
    next: s.timestamp + 1n,
    escrowPaused: false,
    registryPaused: false,
    baseStakePerGpu: base,
    nodes: [
      nodeFor(1n, 0, 0, defaultSpec.gpuCount, INITIAL_NODE_PRICES),
      nodeFor(2n, 1, 1, SECOND_NODE_SPEC.gpuCount, SECOND_NODE_PRICES),
    ],
    stakes: [stakeFor(0, defaultSpec.gpuCount), stakeFor(1, SECOND_NODE_SPEC.gpuCount)],
    rentals: [],
    terms: [{ feeBps: 1_000n, penaltyBps: 1_000n, gracePeriod: HOUR }],
    savingDiscount: { "7": 500n, "30": 1_500n, "90": 3_000n },
    tokenEnabled: { usd: true, kai: true, busd: true },
    accruedFees: { usd: 0n, kai: 0n, busd: 0n },
    refundCredit: [
      { usd: 0n, kai: 0n, busd: 0n },
      { usd: 0n, kai: 0n, busd: 0n },
    ],
    blocked: [false, false],
    bal,
    escrowIn: { usd: 0n, kai: 0n, busd: 0n },
    escrowOut: { usd: 0n, kai: 0n, busd: 0n },
    initialBal: structuredClone(bal),
    supply,
    log: [],
    outcomes: [],
  };
}

/* ========================================================================== */
/*                              MODEL HELPERS                                 */
/* ========================================================================== */

export const money = (r: ModelRental): rm.RentalMoney => ({
  plan: r.plan,
  anchor: r.anchor,
  unitPrice: r.unitPrice,
  deposit: r.amount,
});

export function move(m: Model, token: TokenKey, from: Holder, to: Holder, amount: bigint) {
  if (amount === 0n) return;
  if (m.bal[token][from] < amount) throw new Error(`model: ${from} cannot pay ${amount} ${token}`);
  m.bal[token][from] -= amount;
  m.bal[token][to] += amount;
  if (to === "escrow") m.escrowIn[token] += amount;
  if (from === "escrow") m.escrowOut[token] += amount;
}

export const requiredStake = (m: Model, p: number) => (m.baseStakePerGpu * m.stakes[p].listedWeight) / BPS;
export const lockedStake = (m: Model, p: number) => (m.baseStakePerGpu * m.stakes[p].lockedWeight) / BPS;
/** `NodeRegistry.rentedStake`: the requirement of `p`'s nodes with at least one GPU rented. */
const rentedStake = (m: Model, p: number) =>
  (m.baseStakePerGpu *
    m.nodes
      .filter((n) => n.provider === p && n.rented > 0n)
      .reduce((a, n) => a + n.gpuCount * GPU_CLASS_MULTIPLIER[n.gpuClass], 0n)) /
  BPS;
/** What `requestUnstake` cannot take: the larger of the locked and the rented stake. */
export const heldStake = (m: Model, p: number) => {
  const locked = lockedStake(m, p);
  const rented = rentedStake(m, p);
  return locked > rented ? locked : rented;
};
export const isOpen = (r: ModelRental) => r.status === Status.Active || r.status === Status.Grace;
export const nodeOf = (m: Model, nodeId: bigint) => m.nodes.find((n) => n.id === nodeId);

/** The outcome a transaction must have (a token's blocklist refuses with a reason string). */
export type Outcome = Revertible | Refusal;

/** Why a token transfer from `from` would fail, if it would (blocklist first, then balance). */
export function pullFailure(w: World, m: Model, token: TokenKey, from: Holder, amount: bigint): Outcome | undefined {
  const renterIdx = (RENTERS as readonly string[]).indexOf(from);
  if (token === "busd" && renterIdx >= 0 && m.blocked[renterIdx]) return { ok: false, reason: "blocked" };
  if (m.bal[token][from] < amount) {
    return err(w.token[token], "ERC20InsufficientBalance", w.addr[from], m.bal[token][from], amount);
  }
  return undefined;
}
