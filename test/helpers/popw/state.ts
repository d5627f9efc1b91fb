/**
 * The PoPW model: what the walk believes of nodes, stakes, rentals, reports, claims, checkers and
 * balances, and the small helpers that read and move it.
 */
import { ethers } from "hardhat";

import * as rm from "../../../offchain/src/rentalMath";
import { Plan } from "../../../offchain/src/rentalMath";
import { serviceWindow, type SlaRental } from "../../../offchain/src/sla";
import { buildRewardTree, type NodeMetrics, type RewardLeaf } from "../../../offchain/src/leaves";
import {
  BASE_STAKE_PER_GPU,
  H100_MULTIPLIER_BPS,
  NodeStatus,
  RTX_MULTIPLIER_BPS,
  RentalStatus,
  USD_PRICE,
  defaultSpec,
} from "../../fixtures";
import { MIN_CHECKER_STAKE } from "../oracle";
import { subjectOf } from "../rewards";
import {
  BPS,
  DAY,
  EMISSION,
  EPOCH,
  HOLDERS,
  type Holder,
  INITIAL_RESERVE,
  NODE2_SPEC,
  OPERATORS,
  PENALTY_BPS,
  STAKERS,
  TOKENS,
  type TokenKey,
} from "./constants";
import type { World } from "./world";
import { type Marks, type ProbeState, probe, probeWalk } from "./probe";

export interface ModelNode {
  id: bigint;
  provider: number; // index in PROVIDERS (and STAKERS)
  multiplierBps: bigint;
  gpuCount: bigint;
  rented: bigint;
  status: number;
  /** USD per GPU-hour. */
  price: bigint;
}

export interface ModelStake {
  staked: bigint;
  unbonding: bigint;
  unbondingEnd: bigint;
  rewardsOwed: bigint;
  listedWeight: bigint;
  lockedWeight: bigint;
  // Books: staked at the start + topped up == slashed from stake + withdrawn + staked + unbonding.
  initialStaked: bigint;
  toppedUp: bigint;
  slashedStake: bigint;
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
  plan: Plan;
  slaTier: bigint;
  status: number;
  closeReason: number;
  /** As stored: total deposited while open; the provider's remaining gross once closed. */
  amount: bigint;
  unitPrice: bigint;
  anchor: bigint;
  /** As stored: units withdrawn or credited while open; the units paid for in all once closed. */
  withdrawnUnits: bigint;
  // Books.
  deposited: bigint;
  grossWithdrawn: bigint; // provider's gross withdrawals (fee included)
  creditedFromEarnings: bigint; // SLA credits paid to the renter out of the provider's earnings
  kaiFromStake: bigint; // KAI the renter got from the provider's stake for SLA credits
  /** A saving plan closed on a jailed node: the provider's gross withdrawals, owed from its stake. */
  refundFromStake: bigint;
  kaiRefundOwed: bigint; // what `refundFromStake` was worth in KAI at the rate of the close
  kaiRefund: bigint; // KAI the renter got for it (less if the stake ran out; 0 without a rate)
  credited: bigint; // SLA credits in all (from earnings and from stake), in USD units
  earnedAtClose: bigint; // value of the units earned when it closed
  providerTotal: bigint; // fixed at close: earned + penalty (credits from earnings included)
  refunded: bigint; // fixed at close
}

/** An accepted report: its leaves, tree and the node entries SLA proofs use. */
export interface ModelReport {
  epoch: bigint;
  budget: bigint;
  stated: bigint;
  leaves: RewardLeaf[];
  tree: ReturnType<typeof buildRewardTree>;
  nodes: { nodeId: bigint; leaf: RewardLeaf; metrics: NodeMetrics }[];
}

/** `SlaEnforcer.slashableFrom(nodeId)`. */
export interface SlashableFrom {
  downtime: bigint;
  fraud: bigint;
}

/** A checker license (the admin owns all of them): operators as indexes in `OPERATORS`, -1 for none. */
export interface ModelLicense {
  operator: number;
  suspended: boolean;
  /** `departureOf`: the operator it last left (-1: it never left one) and when. */
  former: number;
  until: bigint;
}

/**
 * The oracle's current checker set: its operators (indexes in `OPERATORS`, which are sorted by
 * address, so a sorted set is an ascending list), and which of them were excluded (tombstones:
 * `checkers()` shows the zero address there; the model keeps who was there, to sign as it).
 */
export interface CheckerSet {
  version: bigint;
  quorum: bigint;
  members: number[];
  excluded: boolean[];
}

export interface Model {
  /** Timestamp of the latest block. */
  now: bigint;
  /** Timestamp the next transaction is mined at (> now). */
  next: bigint;
  nodes: ModelNode[];
  stakes: ModelStake[]; // per STAKER
  rentals: ModelRental[];
  accruedFees: bigint;
  feesPaid: bigint[]; // per provider: fees taken from its withdrawals
  refundCredit: bigint[]; // per renter, USD
  // ReportOracle.
  lastEpoch: bigint;
  anyReport: boolean;
  reports: Map<bigint, ModelReport>;
  /** Reported epochs, ascending (reports only move forward). */
  reported: bigint[];
  // RewardDistributor.
  reserve: bigint;
  claimed: Map<bigint, bigint>;
  claimedBits: Set<string>;
  vesting: Map<bigint, bigint>[]; // per STAKER: day -> amount
  days: bigint[][]; // per STAKER, as `positionsOf` lists them
  claimedTotal: bigint[]; // per STAKER
  vestedPaid: bigint[]; // per STAKER
  forfeited: bigint[]; // per STAKER: withdrawn before 180 days, back to the reserve
  funded: bigint; // reserve funded in all (setup included)
  // SlaEnforcer.
  kaiPerToken: bigint;
  credited: Set<string>;
  /** Stake credits recorded as due and not paid yet (`stakeCreditDue`), by `creditKey`. */
  stakeCreditDue: Map<string, { rentalId: bigint; epoch: bigint; kai: bigint }>;
  /** KAI from stake recorded as due per node and epoch (`nodeStakeCreditDue`), by `${nodeId}:${epoch}`. */
  nodeStakeCreditDue: Map<string, bigint>;
  /** Per node, the first epochs whose downtime / fraud evidence may still slash it (absent: 0, 0). */
  slashableFrom: Map<bigint, SlashableFrom>;
  slashedToTreasury: bigint;
  // CheckerLicense and the ReportOracle's checker set.
  licenses: ModelLicense[]; // license id - 1
  departureCooldown: bigint;
  checkerSet: CheckerSet;
  equivocator: boolean[]; // per operator: `isEquivocator`
  /** `${operator}:${epoch}` of every equivocation proven (`equivocationProven`). */
  proven: Set<string>;
  equivocationSlashed: bigint; // KAI taken from equivocating operators, in all
  equivocationToTreasury: bigint; // of which the treasury got (the rest: bounties)
  bounties: Partial<Record<Holder, bigint>>; // KAI each prover earned
  // Balances.
  bal: Record<TokenKey, Record<Holder, bigint>>;
  initialBal: Record<TokenKey, Record<Holder, bigint>>;
  supply: Record<TokenKey, bigint>;
  /** Executed steps, for failure reports. */
  log: string[];
  /** Chain state after the previous step (for "only listed transitions" checks). */
  prev?: ProbeState;
  /** Marks the last step tried to set (read back after it, with every mark the model holds). */
  touched: Marks;
}

const emptyStake = (staked: bigint, listedWeight: bigint): ModelStake => ({
  staked,
  unbonding: 0n,
  unbondingEnd: 0n,
  rewardsOwed: 0n,
  listedWeight,
  lockedWeight: 0n,
  initialStaked: staked,
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
  const k = await probeWalk(w, { reported: [], nodes: [], rentals: [] }, { credits: [], leaves: [], proofs: [] });
  const opIndex = (a: string) => {
    if (a === ethers.ZeroAddress) return -1;
    const i = OPERATORS.findIndex((o) => w.addr[o].toLowerCase() === a.toLowerCase());
    if (i < 0) throw new Error(`setup: ${a} is no operator of the walk`);
    return i;
  };
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
  const weight1 = BigInt(defaultSpec.gpuCount) * H100_MULTIPLIER_BPS;
  const weight2 = BigInt(NODE2_SPEC.gpuCount) * RTX_MULTIPLIER_BPS;
  return {
    now: s.timestamp,
    next: s.timestamp + 1n,
    nodes: [
      {
        id: 1n,
        provider: 0,
        multiplierBps: H100_MULTIPLIER_BPS,
        gpuCount: BigInt(defaultSpec.gpuCount),
        rented: 0n,
        status: NodeStatus.Active,
        price: USD_PRICE,
      },
      {
        id: 2n,
        provider: 1,
        multiplierBps: RTX_MULTIPLIER_BPS,
        gpuCount: BigInt(NODE2_SPEC.gpuCount),
        rented: 0n,
        status: NodeStatus.Active,
        price: USD_PRICE,
      },
    ],
    stakes: [
      emptyStake((BASE_STAKE_PER_GPU * weight1) / BPS, weight1),
      emptyStake((BASE_STAKE_PER_GPU * weight2) / BPS, weight2),
      ...OPERATORS.map(() => emptyStake(MIN_CHECKER_STAKE, 0n)),
    ],
    rentals: [],
    accruedFees: 0n,
    feesPaid: [0n, 0n],
    refundCredit: [0n, 0n],
    lastEpoch: 0n,
    anyReport: false,
    reports: new Map(),
    reported: [],
    reserve: INITIAL_RESERVE,
    claimed: new Map(),
    claimedBits: new Set(),
    vesting: STAKERS.map(() => new Map()),
    days: STAKERS.map(() => []),
    claimedTotal: STAKERS.map(() => 0n),
    vestedPaid: STAKERS.map(() => 0n),
    forfeited: STAKERS.map(() => 0n),
    funded: INITIAL_RESERVE,
    kaiPerToken: 0n,
    credited: new Set(),
    stakeCreditDue: new Map(),
    nodeStakeCreditDue: new Map(),
    slashableFrom: new Map(),
    slashedToTreasury: 0n,
    licenses: k.operatorOf.map((op, i) => ({
      operator: opIndex(op),
      suspended: k.suspended[i],
      former: opIndex(k.former[i]),
      until: k.until[i],
    })),
    departureCooldown: k.departureCooldown,
    checkerSet: {
      version: k.version,
      quorum: k.quorum,
      members: k.checkers.map(opIndex),
      excluded: k.checkers.map(() => false),
    },
    equivocator: OPERATORS.map(() => false),
    proven: new Set(),
    equivocationSlashed: 0n,
    equivocationToTreasury: 0n,
    bounties: {},
    bal,
    initialBal: structuredClone(bal),
    supply,
    log: [],
    touched: { credits: [], leaves: [], proofs: [] },
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

/** The rental as `offchain/src/sla.ts` reads it. */
export const slaRental = (r: ModelRental): SlaRental => ({
  plan: r.plan,
  anchor: r.anchor,
  unitPrice: r.unitPrice,
  amount: r.amount,
  withdrawnUnits: r.withdrawnUnits,
  closed: r.status === RentalStatus.Closed,
  earlyExitPenaltyBps: PENALTY_BPS,
});

export function move(m: Model, token: TokenKey, from: Holder, to: Holder, amount: bigint) {
  if (amount === 0n) return;
  if (m.bal[token][from] < amount) throw new Error(`model: ${from} cannot pay ${amount} ${token}`);
  m.bal[token][from] -= amount;
  m.bal[token][to] += amount;
}

export const isOpen = (r: ModelRental) => r.status === RentalStatus.Active || r.status === RentalStatus.Grace;
export const nodeOf = (m: Model, nodeId: bigint) => m.nodes.find((n) => n.id === nodeId);
export const rentalOf = (m: Model, id: bigint) => (id === 0n ? undefined : m.rentals[Number(id) - 1]);
export const requiredStake = (m: Model, p: number) => (BASE_STAKE_PER_GPU * m.stakes[p].listedWeight) / BPS;
export const lockedStake = (m: Model, p: number) => (BASE_STAKE_PER_GPU * m.stakes[p].lockedWeight) / BPS;
/** `NodeRegistry.rentedStake`: the requirement of `p`'s nodes with at least one GPU rented. */
export const rentedStake = (m: Model, p: number) =>
  (BASE_STAKE_PER_GPU *
    m.nodes.filter((n) => n.provider === p && n.rented > 0n).reduce((a, n) => a + n.gpuCount * n.multiplierBps, 0n)) /
  BPS;
/** `SlaEnforcer.perGpuStake`: base stake x the class multiplier. */
export const perGpuStake = (n: ModelNode) => (BASE_STAKE_PER_GPU * n.multiplierBps) / BPS;
export const epochStart = (w: World, e: bigint) => w.genesis + e * EPOCH;
export const epochAt = (w: World, t: bigint) => (t < w.genesis ? 0n : (t - w.genesis) / EPOCH);
/** `ReportOracle.epochBudget` under the walk's one schedule. */
export function epochBudget(e: bigint): bigint {
  const halvings = e / EMISSION.halvingEpochs;
  return halvings >= 128n ? 0n : EMISSION.initial >> halvings;
}
export const dayOf = (t: bigint) => t / DAY;
export const stakerOf = (w: World, account: string) =>
  STAKERS.findIndex((s) => w.addr[s].toLowerCase() === account.toLowerCase());
export const bitKey = (leaf: RewardLeaf) => `${leaf.epoch}:${leaf.kind}:${subjectOf(leaf)}`;
export const creditKey = (rentalId: bigint, epoch: bigint) => `${rentalId}:${epoch}`;
/** A node's cursors (a copy: set them with `setCursors`). */
export const cursorsOf = (m: Model, nodeId: bigint): SlashableFrom => ({
  ...(m.slashableFrom.get(nodeId) ?? { downtime: 0n, fraud: 0n }),
});
export const setCursors = (m: Model, nodeId: bigint, c: Partial<SlashableFrom>) =>
  m.slashableFrom.set(nodeId, { ...cursorsOf(m, nodeId), ...c });
/** Does the rental's service window (as of `t`) overlap `epoch`? (`_checkDowntime`'s test, negated.) */
export function servedDuring(w: World, r: ModelRental, epoch: bigint, t: bigint): boolean {
  const { start, end } = serviceWindow(slaRental(r), t);
  return epochStart(w, epoch) < end && epochStart(w, epoch + 1n) > start;
}
