/**
 * The PoPW model behind `test/scenarios/popwWalk.test.ts`.
 *
 * A TypeScript model of what reports, reward claims, SLA credits and PoPW slashes do to money:
 * rentals (RentalEscrow, USD only), stakes (NodeRegistry), epoch reports (ReportOracle), claims and
 * vesting (RewardDistributor), and the SlaEnforcer's credits, slashes and closes; and of the
 * checkers: licenses (CheckerLicense: delegations, departures and their cooldown, suspensions),
 * operator stakes (the registry's ledger, shared with providers), the oracle's checker set
 * (rotations by governance, exclusions leaving tombstones, the quorum of live operators) and
 * equivocation proofs (slash, bounty, treasury, suspensions, exclusion). Expectations come
 * from the off-chain mirrors the keepers and the web app use: `offchain/src/rentalMath.ts` (quotes,
 * splits, pending earnings), `offchain/src/sla.ts` (credits, service windows, KAI from stake) and
 * `offchain/src/leaves.ts` (trees, proofs, leaf hashes). Every command resolves its generated
 * selectors against the model, predicts the exact outcome (success with its events, or the exact
 * custom error with its arguments), sends the transaction at a timestamp the model chose, and
 * applies the prediction. After every step `checkInvariants` compares the chain with the model.
 *
 * The SlaEnforcer as modelled: a credit that would pay nothing now (nothing from earnings, no KAI
 * from stake) reverts `NothingPaid` and stays available; a downtime slash takes `downtimeSlashBps`
 * of the per-GPU stake of each of the NODE's GPUs; each node has two "slashable from" cursors
 * (downtime, fraud): a downtime slash of epochs [a..b] moves the first to b + 1, a fraud slash for
 * epoch e the second to e + 1, a release both to the epoch after the release's (never backwards),
 * and older evidence reverts `EvidenceTooOld`; a saving plan closed on a jailed node comes back in
 * full: the escrow refunds all but the value of its withdrawn units, and the provider's own gross
 * withdrawals are paid to the renter from its stake in KAI (capped by the stake; nothing without a
 * rate), the SLA credits already paid from its earnings left out.
 *
 * The checkers as modelled: the admin owns every license (ids 1-4 delegated one to each operator
 * at setup, 5-6 free); a license that leaves an operator (switch or undelegate) records it and the time, and
 * cannot leave one again until `departureCooldown` after that (`DepartureCooldown(id, readyAt)`); a
 * report needs a quorum of the set's live operators, so once exclusions leave fewer than the quorum
 * no report passes until governance sets a new set; at most two operators are ever proven to
 * equivocate (the generator keeps two honest, so that a set can always be formed again).
 *
 * Every transaction is mined at a timestamp fixed by the model with an explicit gas limit (no
 * estimate), so a sequence replays from the start snapshot block for block. The operators' keys are
 * random per process (`makeOperators`): the model follows the addresses it reads at setup, and the
 * generators pick operators by their sorted index and licenses by `World.licenseOrder`, so that a
 * sequence does the same in any process (only addresses, signatures and proofs differ).
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers, network } from "hardhat";
import { Signature } from "ethers";
import type {
  BaseContract,
  ContractRunner,
  ContractTransactionReceipt,
  ContractTransactionResponse,
  Interface,
} from "ethers";

import * as rm from "../../offchain/src/rentalMath";
import { CloseReason, ContractRevert, Plan } from "../../offchain/src/rentalMath";
import {
  DEFAULT_CREDIT_SCHEDULE,
  kaiForShortfall,
  serviceWindow,
  slaCredit,
  slaCreditBps,
  type SlaRental,
} from "../../offchain/src/sla";
import {
  LeafKind,
  buildRewardTree,
  leafReward,
  nodeMetricsHash,
  proofOf,
  rewardLeafHash,
  type NodeMetrics,
  type RewardLeaf,
} from "../../offchain/src/leaves";
import { reportDigest, signReport, type Report as SignedReport } from "../../offchain/src/report";
import type { MoneyWalkProbe, PopwWalkProbe, RewardDistributor } from "../../typechain-types";
import {
  BASE_STAKE_PER_GPU,
  H100_MULTIPLIER_BPS,
  KAI,
  NodeStatus,
  RTX_MULTIPLIER_BPS,
  RentalStatus,
  USD_PRICE,
  defaultSpec,
  registerNode,
  type Core,
} from "../fixtures";
import { EQUIVOCATION_PENALTY, MIN_CHECKER_STAKE, makeReport } from "./oracle";
import { checkerLeaf, positionAge, processProof, subjectOf, vestedBpsOf } from "./rewards";
import {
  EPOCH_LENGTH,
  Reason,
  SLASH_WINDOW,
  deploySla,
  metricsWith,
  stakeCreditEvidence,
  type SlaFixture,
} from "./sla";

/* ========================================================================== */
/*                                  CONSTANTS                                 */
/* ========================================================================== */

export const TOKENS = ["usd", "kai"] as const;
export type TokenKey = (typeof TOKENS)[number];

/** Every account and contract that can hold USD or KAI in this world. */
export const HOLDERS = [
  "admin",
  "treasury",
  "rewardPool",
  "guardian",
  "oracle",
  "provider",
  "provider2",
  "renter",
  "renter2",
  "keeper",
  "other",
  "op0",
  "op1",
  "op2",
  "op3",
  "escrow",
  "registry",
  "distributor",
  "sla",
  "reportOracle",
] as const;
export type Holder = (typeof HOLDERS)[number];
type Actor = Exclude<Holder, "escrow" | "registry" | "distributor" | "sla" | "reportOracle">;

/** Who stakes in the registry (providers, then checker operators); also every leaf's account. */
export const STAKERS = ["provider", "provider2", "op0", "op1", "op2", "op3"] as const;
const PROVIDERS = ["provider", "provider2"] as const;
const RENTERS = ["renter", "renter2"] as const;
const OPERATORS = ["op0", "op1", "op2", "op3"] as const;

const EPOCH = BigInt(EPOCH_LENGTH);
const BPS = 10_000n;
const HOUR = 3_600n;
const DAY = 86_400n;
/** The escrow's SLA tiers (deployCore): best effort, 99.9%, 99.5%. */
const SLA_TARGETS = [0n, 9_990n, 9_950n];
/** Terms version 0 of the escrow (the walk never changes terms). */
const FEE_BPS = 1_000n;
const PENALTY_BPS = 1_000n;
const GRACE_PERIOD = HOUR;
const REWARD_POOL_SHARE_BPS = 5_000n;
const SAVING_TERM_DAYS = 7n;
const SAVING_DISCOUNT_BPS = 500n;
const UNBONDING_PERIOD = 14n * DAY;
/** The SlaEnforcer's default policy. */
const DOWNTIME_THRESHOLD_BPS = 9_000n;
const DOWNTIME_EPOCHS = 2;
const DOWNTIME_SLASH_BPS = 3_333n;
const FRAUD_SLASH_BPS = 10_000n;
/** `SlaEnforcer.stakeCreditCapBps` (default): KAI from stake owed per node and epoch, bps of its requirement. */
const STAKE_CREDIT_CAP_BPS = 1_000n;
/** The emission schedule the walk sets: 1,000 KAI per epoch, halving weekly (10,080 one-minute epochs). */
export const EMISSION = { initial: KAI(1_000), halvingEpochs: 10_080n };
/** What the treasury puts in the distributor's reserve at setup: one epoch's budget (claims may outrun it). */
export const INITIAL_RESERVE = KAI(1_000);
/** KAI per 1e18 USD units that the walk's runs may set: none, 1 KAI per USD, 1,000 KAI per USD. */
export const KAI_RATES = [0n, 10n ** 30n, 10n ** 33n] as const;
/** `SlaEnforcer.MAX_KAI_PER_TOKEN`: governance's rates above it revert (the walk tries it and one above). */
const MAX_KAI_PER_TOKEN = 10n ** 40n;
/** The oracle's bounty on equivocation slashes (`deployOracle`: 10%) and its slash reason code. */
const BOUNTY_BPS = 1_000n;
const REASON_EQUIVOCATION = 100;
/** `ReportOracle.excludeOperator` reasons. */
const EXCLUDED_NO_LICENSE = 1n;
const EXCLUDED_UNDER_STAKED = 2n;
const EXCLUDED_EQUIVOCATION = 4n;
/** `CheckerLicense` departure cooldown bounds (the registry's unbonding bounds). */
const MIN_DEPARTURE_COOLDOWN = DAY;
const MAX_DEPARTURE_COOLDOWN = 90n * DAY;
/** Licenses the admin mints at setup on top of the operators' four (ids 5, 6), undelegated. */
const EXTRA_LICENSES = 2n;
/** KAI each operator gets at setup for its top-ups (it staked all it had: the minimum). */
const OPERATOR_FUNDS = KAI(50_000);
const GAS_LIMIT = 8_000_000n;
/** A UTC midnight the deployment starts at, so that a sequence replays block for block. */
const DEPLOY_AT = 2_000_073_600n;
/** The walk starts this many epochs after the oracle's genesis, on an epoch boundary. */
const WALK_OFFSET_EPOCHS = 60n;

/** provider2's node: 4 x RTX 4090 (class 1, multiplier 1x), at the fixture prices. */
const NODE2_SPEC = { ...defaultSpec, gpuClass: 1, gpuCount: 4, vramGiB: 24 };

/* ========================================================================== */
/*                                    WORLD                                   */
/* ========================================================================== */

/** The deployed contracts and signers (the "real" system of the model-based test). */
export interface World {
  c: SlaFixture;
  distributor: RewardDistributor;
  probe: MoneyWalkProbe;
  /** Reads the oracle, licenses, distributor, enforcer and supplies (beyond `probe`) in one call. */
  walkProbe: PopwWalkProbe;
  /**
   * License ids in an order that does not depend on the operators' random keys: op0's license
   * first, ..., op3's, then the free ones. Generators pick licenses by position in it, so that a
   * sequence does the same in any process.
   */
  licenseOrder: bigint[];
  tokenAddr: Record<TokenKey, string>;
  signer: Record<Actor, ContractRunner & { address: string }>;
  addr: Record<Holder, string>;
  /** Unix seconds epoch 0 starts at. */
  genesis: bigint;
  /** Epoch the walk starts in (each sequence starts at its first second). */
  startEpoch: bigint;
  /** `evm_snapshot` id of the start state. */
  snapshot: string;
}

/**
 * `deploySla` (core, real oracle with 4 checkers at quorum 3, the SlaEnforcer wired, provider's
 * 8xH100 node staked), plus provider2's 4xRTX node staked exactly, a RewardDistributor on the
 * oracle funded with {@link INITIAL_RESERVE} by the treasury, the {@link EMISSION} schedule, two
 * more checker licenses for the admin (undelegated; the admin owns all six), {@link OPERATOR_FUNDS}
 * KAI for each operator's top-ups, and the clock moved to an epoch boundary; then a snapshot.
 */
export async function setupWorld(): Promise<World> {
  // Deploy at a fixed time, so that genesis (and every epoch and day boundary) replays exactly.
  const latest = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  if (latest < DEPLOY_AT) await network.provider.send("evm_setNextBlockTimestamp", [Number(DEPLOY_AT)]);
  const c = await deploySla();
  await registerNode(c as unknown as Core, c.provider2, NODE2_SPEC);
  await c.registry.connect(c.provider2).stake(await c.registry.requiredStake(c.provider2.address));
  const distributor = await ethers.deployContract("RewardDistributor", [
    await c.kai.getAddress(),
    await c.oracle.getAddress(),
  ]);
  await c.kai.connect(c.treasury).approve(await distributor.getAddress(), ethers.MaxUint256);
  await distributor.connect(c.treasury).fundReserve(INITIAL_RESERVE);
  await c.oracle.connect(c.admin).setEmissionSchedule(EMISSION.initial, EMISSION.halvingEpochs);
  const probe = await ethers.deployContract("MoneyWalkProbe");
  // `makeOperators` minted license k for the k-th key it created, then sorted the keys.
  const minted = await c.license.totalMinted();
  const holder = new Map<bigint, number>();
  for (let id = 1n; id <= minted; id++) {
    const op = await c.license.operatorOf(id);
    holder.set(
      id,
      c.operators.findIndex((o) => o.address === op),
    );
  }
  const walkProbe = await ethers.deployContract("PopwWalkProbe");
  await c.license.connect(c.admin).mint(c.admin.address, EXTRA_LICENSES);
  for (const op of c.operators) {
    await c.kai.connect(c.treasury).transfer(op.address, OPERATOR_FUNDS);
    await c.kai.connect(op).approve(await c.registry.getAddress(), ethers.MaxUint256);
  }

  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  let start = c.genesis + WALK_OFFSET_EPOCHS * EPOCH;
  if (start <= now) start = c.genesis + ((now - c.genesis) / EPOCH + 1n) * EPOCH;
  await network.provider.send("evm_setNextBlockTimestamp", [Number(start)]);
  await network.provider.send("evm_mine", []);

  // `c.oracle` is the ReportOracle; the core's `oracle` account (REWARDER_ROLE) is signer 4.
  const oracleAccount = (await ethers.getSigners())[4];
  const signer: World["signer"] = {
    admin: c.admin,
    treasury: c.treasury,
    rewardPool: c.rewardPool,
    guardian: c.guardian,
    oracle: oracleAccount,
    provider: c.provider,
    provider2: c.provider2,
    renter: c.renter,
    renter2: c.renter2,
    keeper: c.keeper,
    other: c.other,
    op0: c.operators[0],
    op1: c.operators[1],
    op2: c.operators[2],
    op3: c.operators[3],
  };
  const addr = Object.fromEntries(Object.entries(signer).map(([k, s]) => [k, s.address])) as Record<Holder, string>;
  addr.escrow = await c.escrow.getAddress();
  addr.registry = await c.registry.getAddress();
  addr.distributor = await distributor.getAddress();
  addr.sla = await c.sla.getAddress();
  addr.reportOracle = await c.oracle.getAddress();
  return {
    c,
    distributor,
    probe,
    walkProbe,
    licenseOrder: [
      ...[...holder.entries()].sort(([, a], [, b]) => a - b).map(([id]) => id),
      ...Array.from({ length: Number(EXTRA_LICENSES) }, (_, i) => minted + 1n + BigInt(i)),
    ],
    tokenAddr: { usd: await c.usd.getAddress(), kai: await c.kai.getAddress() },
    signer,
    addr,
    genesis: c.genesis,
    startEpoch: (start - c.genesis) / EPOCH,
    snapshot: await network.provider.send("evm_snapshot", []),
  };
}

/** Back to the start state (and a fresh snapshot of it: a snapshot is used up by `evm_revert`). */
export async function resetWorld(w: World): Promise<void> {
  const ok = await network.provider.send("evm_revert", [w.snapshot]);
  expect(ok, "evm_revert").to.equal(true);
  w.snapshot = await network.provider.send("evm_snapshot", []);
}

/* ========================================================================== */
/*                                    MODEL                                   */
/* ========================================================================== */

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

const money = (r: ModelRental): rm.RentalMoney => ({
  plan: r.plan,
  anchor: r.anchor,
  unitPrice: r.unitPrice,
  deposit: r.amount,
});

/** The rental as `offchain/src/sla.ts` reads it. */
const slaRental = (r: ModelRental): SlaRental => ({
  plan: r.plan,
  anchor: r.anchor,
  unitPrice: r.unitPrice,
  amount: r.amount,
  withdrawnUnits: r.withdrawnUnits,
  closed: r.status === RentalStatus.Closed,
  earlyExitPenaltyBps: PENALTY_BPS,
});

function move(m: Model, token: TokenKey, from: Holder, to: Holder, amount: bigint) {
  if (amount === 0n) return;
  if (m.bal[token][from] < amount) throw new Error(`model: ${from} cannot pay ${amount} ${token}`);
  m.bal[token][from] -= amount;
  m.bal[token][to] += amount;
}

const isOpen = (r: ModelRental) => r.status === RentalStatus.Active || r.status === RentalStatus.Grace;
const nodeOf = (m: Model, nodeId: bigint) => m.nodes.find((n) => n.id === nodeId);
const rentalOf = (m: Model, id: bigint) => (id === 0n ? undefined : m.rentals[Number(id) - 1]);
const requiredStake = (m: Model, p: number) => (BASE_STAKE_PER_GPU * m.stakes[p].listedWeight) / BPS;
const lockedStake = (m: Model, p: number) => (BASE_STAKE_PER_GPU * m.stakes[p].lockedWeight) / BPS;
/** `NodeRegistry.rentedStake`: the requirement of `p`'s nodes with at least one GPU rented. */
const rentedStake = (m: Model, p: number) =>
  (BASE_STAKE_PER_GPU *
    m.nodes.filter((n) => n.provider === p && n.rented > 0n).reduce((a, n) => a + n.gpuCount * n.multiplierBps, 0n)) /
  BPS;
/** `SlaEnforcer.perGpuStake`: base stake x the class multiplier. */
const perGpuStake = (n: ModelNode) => (BASE_STAKE_PER_GPU * n.multiplierBps) / BPS;
const epochStart = (w: World, e: bigint) => w.genesis + e * EPOCH;
const epochAt = (w: World, t: bigint) => (t < w.genesis ? 0n : (t - w.genesis) / EPOCH);
/** `ReportOracle.epochBudget` under the walk's one schedule. */
export function epochBudget(e: bigint): bigint {
  const halvings = e / EMISSION.halvingEpochs;
  return halvings >= 128n ? 0n : EMISSION.initial >> halvings;
}
const dayOf = (t: bigint) => t / DAY;
const stakerOf = (w: World, account: string) =>
  STAKERS.findIndex((s) => w.addr[s].toLowerCase() === account.toLowerCase());
const bitKey = (leaf: RewardLeaf) => `${leaf.epoch}:${leaf.kind}:${subjectOf(leaf)}`;
const creditKey = (rentalId: bigint, epoch: bigint) => `${rentalId}:${epoch}`;
/** A node's cursors (a copy: set them with `setCursors`). */
const cursorsOf = (m: Model, nodeId: bigint): SlashableFrom => ({
  ...(m.slashableFrom.get(nodeId) ?? { downtime: 0n, fraud: 0n }),
});
const setCursors = (m: Model, nodeId: bigint, c: Partial<SlashableFrom>) =>
  m.slashableFrom.set(nodeId, { ...cursorsOf(m, nodeId), ...c });
/** Does the rental's service window (as of `t`) overlap `epoch`? (`_checkDowntime`'s test, negated.) */
function servedDuring(w: World, r: ModelRental, epoch: bigint, t: bigint): boolean {
  const { start, end } = serviceWindow(slaRental(r), t);
  return epochStart(w, epoch) < end && epochStart(w, epoch + 1n) > start;
}

/** The outcome a transaction must have. */
export type Outcome = { ok: true } | { ok: false; contract: BaseContract; error: string; args: unknown[] };

const OK: Outcome = { ok: true };
const err = (contract: BaseContract, error: string, ...args: unknown[]): Outcome => ({
  ok: false,
  contract,
  error,
  args,
});

/* ========================================================================== */
/*                             SENDING A STEP                                 */
/* ========================================================================== */

/** Outcome counts per action (`KAISAR_FC_STATS=1` prints them): shows what the generators reach. */
export const outcomeStats = new Map<string, number>();
const note = (label: string) => outcomeStats.set(label, (outcomeStats.get(label) ?? 0) + 1);
const PLAN_NAMES = ["PAYG", "Hourly", "Saving"];

/**
 * Sends one transaction at `m.next` and checks its outcome. Returns the receipt on success. The
 * explicit gas limit skips `eth_estimateGas`, so a reverting transaction is mined too (at the
 * model's timestamp) and its revert data decoded by the chai matchers.
 */
async function send(
  m: Model,
  outcome: Outcome,
  tx: (overrides: { gasLimit: bigint }) => Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt | undefined> {
  await network.provider.send("evm_setNextBlockTimestamp", [Number(m.next)]);
  m.now = m.next;
  m.next += 1n;
  const step = (m.log[m.log.length - 1] ?? "?").split("(")[0].replace(/^new /, "");
  note(`${step}: ${outcome.ok ? "ok" : outcome.error}`);
  if (outcome.ok) {
    const receipt = await (await tx({ gasLimit: GAS_LIMIT })).wait();
    return receipt ?? undefined;
  }
  await expect(tx({ gasLimit: GAS_LIMIT }), `reverts ${outcome.error}(${outcome.args.join(", ")})`)
    .to.be.revertedWithCustomError(outcome.contract, outcome.error)
    .withArgs(...outcome.args);
  return undefined;
}

/** The arguments of the `name` events `contract` emitted in `receipt`, in order. */
function eventsOf(receipt: ContractTransactionReceipt | undefined, contract: BaseContract, name: string) {
  const iface = contract.interface as Interface;
  const target = contract.target.toString().toLowerCase();
  return receipt!.logs
    .filter((l) => l.address.toLowerCase() === target)
    .map((l) => iface.parseLog(l))
    .filter((l) => l?.name === name)
    .map((l) => [...l!.args].map((a) => (typeof a === "string" ? a.toLowerCase() : a)));
}

const norm = (xs: unknown[]) =>
  xs.map((a) => (typeof a === "string" ? a.toLowerCase() : typeof a === "number" ? BigInt(a) : a));

/** `contract` emitted exactly the `name` events `expected` (each a list of arguments) in `receipt`. */
function expectEvents(
  receipt: ContractTransactionReceipt | undefined,
  contract: BaseContract,
  name: string,
  expected: unknown[][],
) {
  expect(eventsOf(receipt, contract, name), `${name} events`).to.deep.equal(expected.map(norm));
}

const expectEvent = (
  receipt: ContractTransactionReceipt | undefined,
  contract: BaseContract,
  name: string,
  expected: unknown[],
) => expectEvents(receipt, contract, name, [expected]);

/* ========================================================================== */
/*                             REGISTRY: STAKES                               */
/* ========================================================================== */

/**
 * `NodeRegistry.slash`: takes up to `amount` from rewards owed, then active stake, then unbonding
 * stake, and pays `recipient`. Returns what it takes, its `Slash` event's arguments, and a function
 * that applies it to the model.
 */
function predictSlash(w: World, m: Model, p: number, amount: bigint, recipient: Holder) {
  const s = m.stakes[p];
  const fromRewards = amount < s.rewardsOwed ? amount : s.rewardsOwed;
  const fromStake = amount - fromRewards < s.staked ? amount - fromRewards : s.staked;
  const rest = amount - fromRewards - fromStake;
  const fromUnbonding = rest < s.unbonding ? rest : s.unbonding;
  const taken = fromRewards + fromStake + fromUnbonding;
  const event = (nodeId: bigint, reason: number, evidence: string) => [
    w.addr[STAKERS[p]],
    nodeId,
    reason,
    evidence,
    fromRewards,
    fromStake,
    fromUnbonding,
    w.addr[recipient],
  ];
  const apply = () => {
    s.rewardsOwed -= fromRewards;
    s.staked -= fromStake;
    s.unbonding -= fromUnbonding;
    if (fromUnbonding !== 0n && s.unbonding === 0n) s.unbondingEnd = 0n;
    s.slashedRewards += fromRewards;
    s.slashedStake += fromStake + fromUnbonding;
    move(m, "kai", "registry", recipient, taken);
    if (recipient === "treasury") m.slashedToTreasury += taken;
  };
  return { taken, event, apply };
}

/** Staker `p` (a provider or a checker operator: the registry's ledger is shared) stakes `amount`. */
export async function actStake(w: World, m: Model, p: number, amount: bigint) {
  const who = STAKERS[p];
  const outcome = amount === 0n ? err(w.c.registry, "NodeRegistry_ZeroAmount") : OK;
  await send(m, outcome, (o) => w.c.registry.connect(w.signer[who]).stake(amount, o));
  if (!outcome.ok) return;
  m.stakes[p].staked += amount;
  m.stakes[p].toppedUp += amount;
  move(m, "kai", who, "registry", amount);
}

export async function actRequestUnstake(w: World, m: Model, p: number, amount: bigint) {
  const who = STAKERS[p];
  const s = m.stakes[p];
  // The stake of saving plans, and the whole requirement of each listed node with an open rental.
  const held = lockedStake(m, p);
  const rented = rentedStake(m, p);
  const locked = held > rented ? held : rented;
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
  s.unbondingEnd = m.now + UNBONDING_PERIOD;
}

export async function actWithdrawUnstaked(w: World, m: Model, p: number) {
  const who = STAKERS[p];
  const s = m.stakes[p];
  const outcome =
    s.unbonding === 0n || m.next < s.unbondingEnd
      ? err(w.c.registry, "NodeRegistry_NothingToWithdraw", w.addr[who], s.unbondingEnd)
      : OK;
  await send(m, outcome, (o) => w.c.registry.connect(w.signer[who]).withdrawUnstaked(o));
  if (!outcome.ok) return;
  s.withdrawnStake += s.unbonding;
  move(m, "kai", "registry", who, s.unbonding);
  s.unbonding = 0n;
  s.unbondingEnd = 0n;
}

/** The core's oracle signer (REWARDER_ROLE) credits KAI rewards to a staker: slashes take them first. */
export async function actDepositRewards(w: World, m: Model, p: number, amount: bigint) {
  const outcome = amount === 0n ? err(w.c.registry, "NodeRegistry_ZeroAmount") : OK;
  await send(m, outcome, (o) => w.c.registry.connect(w.signer.oracle).depositRewards(w.addr[STAKERS[p]], amount, o));
  if (!outcome.ok) return;
  m.stakes[p].rewardsOwed += amount;
  m.stakes[p].rewardsDeposited += amount;
  move(m, "kai", "oracle", "registry", amount);
}

export async function actWithdrawRewards(w: World, m: Model, p: number) {
  const who = STAKERS[p];
  const s = m.stakes[p];
  const outcome = s.rewardsOwed === 0n ? err(w.c.registry, "NodeRegistry_ZeroAmount") : OK;
  await send(m, outcome, (o) => w.c.registry.connect(w.signer[who]).withdrawRewards(o));
  if (!outcome.ok) return;
  move(m, "kai", "registry", who, s.rewardsOwed);
  s.withdrawnRewards += s.rewardsOwed;
  s.rewardsOwed = 0n;
}

/**
 * The admin lifts a node's jailing (`SlaEnforcer.releaseNode`): it becomes paused, and is forgiven:
 * both of its cursors move to the epoch after the one the release is mined in (never backwards),
 * with `ReleaseNode(node, that epoch)`.
 */
export async function actReleaseNode(w: World, m: Model, nodeId: bigint) {
  const node = nodeOf(m, nodeId);
  const outcome = !node
    ? err(w.c.registry, "NodeRegistry_UnknownNode", nodeId)
    : node.status !== NodeStatus.Jailed
      ? err(w.c.registry, "NodeRegistry_InvalidNodeStatus", nodeId, node.status)
      : OK;
  const next = epochAt(w, m.next) + 1n;
  const receipt = await send(m, outcome, (o) => w.c.sla.connect(w.signer.admin).releaseNode(nodeId, o));
  if (!outcome.ok) return;
  expectEvent(receipt, w.c.sla, "ReleaseNode", [nodeId, next]);
  expectEvent(receipt, w.c.registry, "SetNodeStatus", [nodeId, NodeStatus.Paused]);
  const cur = cursorsOf(m, nodeId);
  // Reports only cover ended epochs, so a cursor is at most the current epoch and a release always
  // moves both; the "never backwards" rule is modelled all the same.
  note(`  release: ${cur.downtime < next && cur.fraud < next ? "moves both cursors" : "keeps a cursor"}`);
  setCursors(m, nodeId, {
    downtime: cur.downtime < next ? next : cur.downtime,
    fraud: cur.fraud < next ? next : cur.fraud,
  });
  node!.status = NodeStatus.Paused;
}

/** A provider resumes a paused node (`byOwner: false`: the other provider tries). */
export async function actResumeNode(w: World, m: Model, nodeId: bigint, byOwner: boolean) {
  const node = nodeOf(m, nodeId);
  const owner = node?.provider ?? 0;
  const caller = PROVIDERS[byOwner ? owner : 1 - owner];
  const outcome = !node
    ? err(w.c.registry, "NodeRegistry_UnknownNode", nodeId)
    : !byOwner
      ? err(w.c.registry, "NodeRegistry_NotNodeProvider", nodeId, w.addr[caller])
      : node.status !== NodeStatus.Paused
        ? err(w.c.registry, "NodeRegistry_InvalidNodeStatus", nodeId, node.status)
        : OK;
  await send(m, outcome, (o) => w.c.registry.connect(w.signer[caller]).resumeNode(nodeId, o));
  if (outcome.ok) node!.status = NodeStatus.Active;
}

/* ========================================================================== */
/*                               ESCROW: RENTALS                              */
/* ========================================================================== */

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
function predictClose(w: World, m: Model, r: ModelRental, reason: CloseReason, t: bigint) {
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

/* ========================================================================== */
/*                             ORACLE: REPORTS                                */
/* ========================================================================== */

/**
 * Who signs a report: `quorum` the first `quorum` live operators of the current set (all the live
 * ones when fewer are left: `BelowQuorum`), `belowQuorum` one fewer, `tombstone` those plus the
 * operators excluded from the set, up to the quorum and at least one (`ExcludedSigner` at the
 * first), `oldVersion` a quorum under another config version (`WrongConfigVersion`).
 */
export type Signing = "quorum" | "belowQuorum" | "tombstone" | "oldVersion";

export interface ReportPlan {
  epoch: bigint;
  /** One entry per node (its leaf's account is the node's provider). */
  nodes: { nodeId: bigint; metrics: NodeMetrics; capacity: bigint; delivery: bigint }[];
  /** Checker leaves: operator index and reward. */
  checkers: { op: number; reward: bigint }[];
  /** The total the report states; by default the leaves' sum (honest checkers). */
  stated?: bigint;
  signing?: Signing;
}

const liveCount = (m: Model) => m.checkerSet.excluded.filter((x) => !x).length;

/** Packed records (index byte, r, s, v) in the order given: the walk sorts them itself. */
function packRecords(records: { index: number; signature: string }[]): string {
  return ethers.concat(
    records.map(({ index, signature }) => {
      const sig = Signature.from(signature);
      return ethers.concat([ethers.toBeHex(index, 1), sig.r, sig.s, ethers.toBeHex(sig.v, 1)]);
    }),
  );
}

/** The EIP-712 digest of a report under the oracle's domain. */
const digestOf = (w: World, report: SignedReport) => reportDigest(w.c.domain, report);

/**
 * Operators of the current checker set sign a report over the tree of `plan`'s leaves (see
 * {@link Signing}); the keeper submits it. The oracle checks the version, the epoch, the budget,
 * then the quorum and each signature in index order.
 */
export async function actReport(w: World, m: Model, plan: ReportPlan) {
  const { epoch } = plan;
  const signing = plan.signing ?? "quorum";
  const nodes = plan.nodes.map((n) => ({
    nodeId: n.nodeId,
    metrics: n.metrics,
    leaf: {
      kind: LeafKind.Node,
      epoch,
      account: w.addr[PROVIDERS[nodeOf(m, n.nodeId)!.provider]],
      id: n.nodeId,
      capacityReward: n.capacity,
      deliveryReward: n.delivery,
      checkerReward: 0n,
      metricsHash: nodeMetricsHash(n.metrics),
    } as RewardLeaf,
  }));
  const leaves = [
    ...nodes.map((n) => n.leaf),
    ...plan.checkers.map((k) => checkerLeaf(epoch, w.addr[OPERATORS[k.op]], k.reward, epoch)),
  ];
  const tree = buildRewardTree(leaves);
  const total = leaves.reduce((a, l) => a + leafReward(l), 0n);
  const stated = plan.stated ?? total;
  const cs = m.checkerSet;
  const version = signing !== "oldVersion" ? cs.version : cs.version > 1n ? cs.version - 1n : cs.version + 1n;
  const report = makeReport(epoch, version, { root: tree.root, nodeCount: BigInt(nodes.length), totalReward: stated });

  // The signers: live operators (index order), and excluded ones for `tombstone`.
  const quorum = Number(cs.quorum);
  const indexes = cs.members.map((_, i) => i);
  const live = indexes.filter((i) => !cs.excluded[i]);
  const dead = indexes.filter((i) => cs.excluded[i]);
  let chosen = live.slice(0, signing === "belowQuorum" ? quorum - 1 : quorum);
  if (signing === "tombstone" && dead.length > 0) {
    const extra = Math.max(1, quorum - chosen.length);
    chosen = [...chosen, ...dead.slice(0, extra)].sort((a, b) => a - b);
  }
  const records = await Promise.all(
    chosen.map(async (index) => ({
      index,
      signature: await signReport(w.c.operators[cs.members[index]], w.c.domain, report),
    })),
  );
  const firstDead = chosen.findIndex((i) => cs.excluded[i]);

  const budget = epochBudget(epoch);
  const endsAt = epochStart(w, epoch + 1n);
  const oracle = w.c.oracle;
  const outcome =
    version !== cs.version
      ? err(oracle, "ReportOracle_WrongConfigVersion", version, cs.version)
      : m.reports.has(epoch)
        ? err(oracle, "ReportOracle_AlreadyProcessed", epoch)
        : m.anyReport && epoch < m.lastEpoch
          ? err(oracle, "ReportOracle_StaleEpoch", epoch, m.lastEpoch)
          : m.next < endsAt
            ? err(oracle, "ReportOracle_EpochNotEnded", epoch, endsAt)
            : stated > budget
              ? err(oracle, "ReportOracle_RewardAboveBudget", epoch, stated, budget)
              : chosen.length < quorum
                ? err(oracle, "ReportOracle_BelowQuorum", chosen.length, quorum)
                : firstDead >= 0
                  ? err(oracle, "ReportOracle_ExcludedSigner", firstDead, chosen[firstDead])
                  : OK;
  if (live.length < quorum) note(`  report: quorum lost (${live.length} live < ${quorum})`);
  const receipt = await send(m, outcome, (o) =>
    oracle.connect(w.signer.keeper).submitReport(report, packRecords(records), o),
  );
  if (!outcome.ok) return;
  expectEvent(receipt, oracle, "SubmitReport", [
    epoch,
    cs.version,
    tree.root,
    BigInt(nodes.length),
    stated,
    chosen.reduce((a, i) => a | (1n << BigInt(i)), 0n),
    w.addr.keeper,
  ]);
  m.reports.set(epoch, { epoch, budget, stated, leaves, tree, nodes });
  m.reported.push(epoch);
  m.lastEpoch = epoch;
  m.anyReport = true;
}

/** What `_verify` (SlaEnforcer) and `MerkleProof.verify` say of a proof: the root it reaches, if any. */
function proofReaches(m: Model, leaf: RewardLeaf, proof: string[]): boolean {
  const root = m.reports.get(leaf.epoch)?.tree.root;
  return root !== undefined && processProof(rewardLeafHash(leaf), proof).toLowerCase() === root.toLowerCase();
}

/* ========================================================================== */
/*                  CHECKERS: LICENSES, SET, EXCLUSIONS, PROOFS               */
/* ========================================================================== */

const opAddr = (w: World, op: number) => w.addr[OPERATORS[op]];
/** `CheckerLicense.licensesOf`: the operator's delegated licenses that are not suspended. */
const licensesOf = (m: Model, op: number) => m.licenses.filter((l) => l.operator === op && !l.suspended).length;
const opStake = (m: Model, op: number) => m.stakes[PROVIDERS.length + op];
/** What `setCheckerConfig` accepts of an operator: no proven equivocation, a license, the minimum stake. */
const eligible = (m: Model, op: number) =>
  !m.equivocator[op] && licensesOf(m, op) > 0 && opStake(m, op).staked >= MIN_CHECKER_STAKE;
/** `excludeOperator`'s reasons for an operator (0: it is active). */
const exclusionReasons = (m: Model, op: number) =>
  (licensesOf(m, op) === 0 ? EXCLUDED_NO_LICENSE : 0n) |
  (opStake(m, op).staked < MIN_CHECKER_STAKE ? EXCLUDED_UNDER_STAKED : 0n);
const provenKey = (op: number, epoch: bigint) => `${op}:${epoch}`;
const provenPair = (key: string) => {
  const [op, epoch] = key.split(":");
  return [Number(op), BigInt(epoch)] as const;
};
/** The lowest valid quorum of a set of `n`: more than 2f, f = (n - 1) / 3 faulty operators. */
const minQuorum = (n: number) => Math.floor((n - 1) / 3) * 2 + 1;

/** The address the oracle's next CREATE (a new SSTORE2 list of the set) lands at. */
async function nextPointer(w: World): Promise<string> {
  const nonce = await ethers.provider.getTransactionCount(w.addr.reportOracle);
  return ethers.getCreateAddress({ from: w.addr.reportOracle, nonce });
}

/** `_recordDeparture`: a license that left an operator less than `departureCooldown` ago cannot leave one again. */
function departureFailure(w: World, m: Model, id: bigint): Outcome | undefined {
  const l = m.licenses[Number(id) - 1];
  if (l.until === 0n) return undefined;
  const readyAt = l.until + m.departureCooldown;
  return m.next < readyAt ? err(w.c.license, "CheckerLicense_DepartureCooldown", id, readyAt) : undefined;
}

/** The model's license `id` (undefined for an id never minted). */
const licenseOf = (m: Model, id: bigint) => (id >= 1n ? m.licenses[Number(id) - 1] : undefined);

/**
 * `CheckerLicense.delegate(id, operator)` by `caller` (the admin owns every license): a first
 * delegation, or a switch from another operator, which records the departure (refused within the
 * cooldown of the last one) and emits `Undelegate` before `Delegate`.
 */
export async function actDelegate(w: World, m: Model, id: bigint, op: number, caller: Actor) {
  const lic = w.c.license;
  const l = licenseOf(m, id);
  const outcome = !l
    ? err(lic, "ERC721NonexistentToken", id)
    : caller !== "admin"
      ? err(lic, "CheckerLicense_NotLicenseOwner", id, w.addr[caller])
      : l.suspended
        ? err(lic, "CheckerLicense_Suspended", id)
        : l.operator === op
          ? err(lic, "CheckerLicense_AlreadyDelegated", id, opAddr(w, op))
          : ((l.operator >= 0 ? departureFailure(w, m, id) : undefined) ?? OK);
  const receipt = await send(m, outcome, (o) => lic.connect(w.signer[caller]).delegate(id, opAddr(w, op), o));
  if (!outcome.ok) return;
  const previous = l!.operator;
  expectEvents(receipt, lic, "Undelegate", previous >= 0 ? [[id, opAddr(w, previous)]] : []);
  expectEvent(receipt, lic, "Delegate", [id, w.addr.admin, opAddr(w, op)]);
  note(`  delegate: ${previous < 0 ? "first" : "switch"}${l!.until > 0n ? " (left one before)" : ""}`);
  if (previous >= 0) {
    l!.former = previous;
    l!.until = m.now;
  }
  l!.operator = op;
}

/** `CheckerLicense.undelegate(id)` by `caller`: records the departure (a suspended license too). */
export async function actUndelegate(w: World, m: Model, id: bigint, caller: Actor) {
  const lic = w.c.license;
  const l = licenseOf(m, id);
  const outcome = !l
    ? err(lic, "ERC721NonexistentToken", id)
    : caller !== "admin"
      ? err(lic, "CheckerLicense_NotLicenseOwner", id, w.addr[caller])
      : l.operator < 0
        ? err(lic, "CheckerLicense_NotDelegated", id)
        : (departureFailure(w, m, id) ?? OK);
  const receipt = await send(m, outcome, (o) => lic.connect(w.signer[caller]).undelegate(id, o));
  if (!outcome.ok) return;
  expectEvent(receipt, lic, "Undelegate", [id, opAddr(w, l!.operator)]);
  if (l!.suspended) note("  undelegate: suspended license");
  l!.former = l!.operator;
  l!.until = m.now;
  l!.operator = -1;
}

/** The admin lifts a license's suspension (it counts for its operator again, if it has one). */
export async function actReinstate(w: World, m: Model, id: bigint) {
  const lic = w.c.license;
  const l = licenseOf(m, id);
  const outcome = !l?.suspended ? err(lic, "CheckerLicense_NotSuspended", id) : OK;
  const receipt = await send(m, outcome, (o) => lic.connect(w.signer.admin).reinstate(id, o));
  if (!outcome.ok) return;
  expectEvent(receipt, lic, "SetSuspended", [id, false, ethers.ZeroHash]);
  l!.suspended = false;
}

/** The admin sets the departure cooldown (1 to 90 days); it applies to departures already recorded. */
export async function actSetDepartureCooldown(w: World, m: Model, cooldown: bigint) {
  const lic = w.c.license;
  const outcome =
    cooldown < MIN_DEPARTURE_COOLDOWN || cooldown > MAX_DEPARTURE_COOLDOWN
      ? err(
          lic,
          "CheckerLicense_ParameterOutOfBounds",
          "departureCooldown",
          cooldown,
          MIN_DEPARTURE_COOLDOWN,
          MAX_DEPARTURE_COOLDOWN,
        )
      : OK;
  const receipt = await send(m, outcome, (o) => lic.connect(w.signer.admin).setDepartureCooldown(cooldown, o));
  if (!outcome.ok) return;
  expectEvent(receipt, lic, "SetDepartureCooldown", [cooldown]);
  m.departureCooldown = cooldown;
}

/**
 * Governance (the admin: `CONFIG_ROLE`) sets a new checker set: the count, the quorum (more than
 * 2f), then each operator in order: sorted and distinct, not a proven equivocator, licensed,
 * staked at least `minCheckerStake`. A new version, no tombstones.
 */
export async function actSetCheckerConfig(w: World, m: Model, ops: number[], quorum: bigint) {
  const oracle = w.c.oracle;
  const n = ops.length;
  const addrs = ops.map((op) => opAddr(w, op));
  let outcome: Outcome | undefined;
  if (n === 0 || n > 255) outcome = err(oracle, "ReportOracle_InvalidCheckerCount", n);
  else if (quorum > BigInt(n) || quorum < BigInt(minQuorum(n)))
    outcome = err(oracle, "ReportOracle_InvalidQuorum", quorum, n);
  for (let i = 0; i < n && !outcome; i++) {
    const op = ops[i];
    if (i > 0 && BigInt(addrs[i]) <= BigInt(addrs[i - 1]))
      outcome = err(oracle, "ReportOracle_UnsortedOrDuplicateOperator", i, addrs[i]);
    else if (m.equivocator[op]) outcome = err(oracle, "ReportOracle_OperatorEquivocated", addrs[i]);
    else if (licensesOf(m, op) === 0) outcome = err(oracle, "ReportOracle_OperatorWithoutLicense", addrs[i]);
    else if (opStake(m, op).staked < MIN_CHECKER_STAKE)
      outcome = err(oracle, "ReportOracle_OperatorUnderStaked", addrs[i], opStake(m, op).staked, MIN_CHECKER_STAKE);
  }
  outcome ??= OK;
  const pointer = await nextPointer(w);
  const receipt = await send(m, outcome, (o) => oracle.connect(w.signer.admin).setCheckerConfig(addrs, quorum, o));
  if (!outcome.ok) return;
  const version = m.checkerSet.version + 1n;
  const events = eventsOf(receipt, oracle, "SetCheckerConfig");
  expect(
    events.map(([v, list, q, p]) => [v, [...(list as string[])].map((a) => a.toLowerCase()), q, p]),
    "SetCheckerConfig events",
  ).to.deep.equal([norm([version, addrs.map((a) => a.toLowerCase()), quorum, pointer])]);
  note(`  config: ${n} operators, quorum ${quorum}`);
  m.checkerSet = { version, quorum, members: [...ops], excluded: ops.map(() => false) };
}

/**
 * Replaces the set's operator at `index` with a tombstone (same version): the `ExcludeOperator`
 * event with `reasons` and the live count, and `CheckerQuorumLost` when the set falls just below
 * its quorum. Returns the events' arguments.
 */
function excludeAt(w: World, m: Model, index: number, reasons: bigint, pointer: string) {
  const cs = m.checkerSet;
  cs.excluded[index] = true;
  const live = liveCount(m);
  return {
    exclude: [[cs.version, index, opAddr(w, cs.members[index]), reasons, live, pointer]],
    lost: live + 1 === Number(cs.quorum) ? [[cs.version, live, cs.quorum]] : [],
  };
}

/**
 * Anyone excludes the set's operator at `index`: it must be live (not a tombstone) and have lost
 * its licenses or its stake (`reasons`: NO_LICENSE 1 | UNDER_STAKED 2); otherwise `OperatorActive`.
 */
export async function actExcludeOperator(w: World, m: Model, index: number, caller: Actor) {
  const oracle = w.c.oracle;
  const cs = m.checkerSet;
  const count = cs.members.length;
  const reasons = index < count ? exclusionReasons(m, cs.members[index]) : 0n;
  const outcome =
    index >= count
      ? err(oracle, "ReportOracle_InvalidOperatorIndex", index, count)
      : cs.excluded[index]
        ? err(oracle, "ReportOracle_OperatorAlreadyExcluded", index)
        : reasons === 0n
          ? err(oracle, "ReportOracle_OperatorActive", index, opAddr(w, cs.members[index]))
          : OK;
  const pointer = await nextPointer(w);
  const receipt = await send(m, outcome, (o) => oracle.connect(w.signer[caller]).excludeOperator(index, o));
  if (!outcome.ok) return;
  const ev = excludeAt(w, m, index, reasons, pointer);
  expectEvents(receipt, oracle, "ExcludeOperator", ev.exclude);
  expectEvents(receipt, oracle, "CheckerQuorumLost", ev.lost);
  note(`  exclude: reasons ${reasons}${ev.lost.length > 0 ? ", quorum lost" : ""}`);
}

export type EquivocationFault = "none" | "sameContent" | "differentSigners";

/**
 * `proveEquivocation` by `prover`: operator `op` signed two reports of `epoch` with different
 * contents (`sameContent`: the same report under the next version, which is honest:
 * `NotEquivocation`; `differentSigners`: the second by `other`). Once per operator and epoch. The
 * operator becomes an equivocator and leaves the current set (a tombstone, reason EQUIVOCATION);
 * `equivocationPenalty` is slashed into the oracle (rewards, then stake, then unbonding), which pays
 * the prover `equivocationBountyBps` of it (nothing when it proves its own) and the rest to the
 * treasury; of `licenseIds`, each one not yet suspended that the operator holds, or that left it at
 * or after the epoch's start, is suspended.
 */
export async function actProveEquivocation(
  w: World,
  m: Model,
  a: { op: number; epoch: bigint; prover: Actor; licenseIds: bigint[]; fault: EquivocationFault; other: number },
) {
  const oracle = w.c.oracle;
  const cs = m.checkerSet;
  const reportA = makeReport(a.epoch, cs.version, { root: ethers.id(`equivocation ${a.epoch} a`) });
  const reportB =
    a.fault === "sameContent"
      ? { ...reportA, configVersion: cs.version + 1n }
      : makeReport(a.epoch, cs.version, { root: ethers.id(`equivocation ${a.epoch} b`) });
  const second = a.fault === "differentSigners" ? a.other : a.op;
  const [signatureA, signatureB] = await Promise.all([
    signReport(w.c.operators[a.op], w.c.domain, reportA),
    signReport(w.c.operators[second], w.c.domain, reportB),
  ]);
  const digestA = digestOf(w, reportA);
  const digestB = digestOf(w, reportB);
  const who = opAddr(w, a.op);
  const outcome =
    a.fault === "sameContent"
      ? err(oracle, "ReportOracle_NotEquivocation")
      : second !== a.op
        ? err(oracle, "ReportOracle_DifferentSigners", who, opAddr(w, second))
        : m.proven.has(provenKey(a.op, a.epoch))
          ? err(oracle, "ReportOracle_EquivocationAlreadyProven", who, a.epoch)
          : OK;
  m.touched.proofs.push([a.op, a.epoch]);
  const pointer = await nextPointer(w);
  const receipt = await send(m, outcome, (o) =>
    oracle.connect(w.signer[a.prover]).proveEquivocation(reportA, signatureA, reportB, signatureB, a.licenseIds, o),
  );
  if (!outcome.ok) return;
  const evidence = ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [digestA, digestB]),
  );
  // Effects in the contract's order: the proof, the exclusion, the slash, the suspensions, the payouts.
  const again = m.equivocator[a.op];
  m.proven.add(provenKey(a.op, a.epoch));
  m.equivocator[a.op] = true;
  const index = cs.members.findIndex((op, i) => op === a.op && !cs.excluded[i]);
  const ev = index >= 0 ? excludeAt(w, m, index, EXCLUDED_EQUIVOCATION, pointer) : { exclude: [], lost: [] };
  const p = PROVIDERS.length + a.op;
  const slash = predictSlash(w, m, p, EQUIVOCATION_PENALTY, "reportOracle");
  const slashEvent = slash.event(0n, REASON_EQUIVOCATION, evidence);
  slash.apply();
  const from = epochStart(w, a.epoch);
  const suspended: bigint[] = [];
  for (const id of a.licenseIds) {
    const l = licenseOf(m, id);
    if (!l || l.suspended) continue;
    if (l.operator !== a.op && (l.former !== a.op || l.until < from)) continue;
    l.suspended = true;
    suspended.push(id);
  }
  const bounty = a.prover === OPERATORS[a.op] ? 0n : (slash.taken * BOUNTY_BPS) / BPS;
  expectEvent(receipt, oracle, "ProveEquivocation", [
    who,
    a.epoch,
    digestA,
    digestB,
    slash.taken,
    bounty,
    w.addr[a.prover],
  ]);
  expectEvent(receipt, w.c.registry, "Slash", slashEvent);
  expectEvents(receipt, oracle, "ExcludeOperator", ev.exclude);
  expectEvents(receipt, oracle, "CheckerQuorumLost", ev.lost);
  expectEvents(
    receipt,
    w.c.license,
    "SetSuspended",
    suspended.map((id) => [id, true, evidence]),
  );
  move(m, "kai", "reportOracle", a.prover, bounty);
  move(m, "kai", "reportOracle", "treasury", slash.taken - bounty);
  m.equivocationSlashed += slash.taken;
  m.equivocationToTreasury += slash.taken - bounty;
  m.bounties[a.prover] = (m.bounties[a.prover] ?? 0n) + bounty;
  const departed = suspended.filter((id) => licenseOf(m, id)!.operator !== a.op).length;
  note(
    `  equivocation: ${again ? "again (new epoch)" : "first"}${index >= 0 ? ", excluded" : ", not in the set"}` +
      `${slashEvent[4] !== 0n ? ", from rewards" : ""}${slashEvent[6] !== 0n ? ", from unbonding" : ""}` +
      `${slash.taken < EQUIVOCATION_PENALTY ? ", stake short" : ""}${bounty === 0n ? ", no bounty" : ""}` +
      `, ${suspended.length} suspended${departed > 0 ? ` (${departed} departed)` : ""}`,
  );
}

/* ========================================================================== */
/*                         DISTRIBUTOR: CLAIMS, VESTING                       */
/* ========================================================================== */

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

/* ========================================================================== */
/*                     SLA ENFORCER: CREDITS, SLASHES, CLOSES                  */
/* ========================================================================== */

/** `NodeEpochProof`, as `SlaEnforcer` takes it. */
export interface NodeProof {
  leaf: RewardLeaf;
  metrics: NodeMetrics;
  proof: string[];
}

/** `SlaEnforcer._verify`: the revert a node proof causes, if any. */
function verifyFailure(w: World, m: Model, p: NodeProof): Outcome | undefined {
  const sla = w.c.sla;
  if (p.leaf.kind !== 0) return err(sla, "SlaEnforcer_NotNodeLeaf", p.leaf.kind);
  const metricsHash = nodeMetricsHash(p.metrics);
  if (metricsHash !== p.leaf.metricsHash)
    return err(sla, "SlaEnforcer_MetricsMismatch", metricsHash, p.leaf.metricsHash);
  if (!m.reports.has(p.leaf.epoch)) return err(sla, "SlaEnforcer_NoReport", p.leaf.epoch);
  if (!proofReaches(m, p.leaf, p.proof)) return err(sla, "SlaEnforcer_InvalidProof", p.leaf.epoch, p.leaf.id);
  return undefined;
}

/** What `_applyCredit` does for one rental: the events it emits, and the model's update. */
interface CreditPlan {
  creditSla: unknown[]; // the escrow's `CreditSla`
  applied: unknown[]; // the enforcer's `ApplySlaCredit`
  deferred?: unknown[]; // the enforcer's `DeferStakeCredit`, if KAI became due from stake
  label: string; // for the outcome counts
  apply: () => void;
}

/**
 * `_applyCredit(rentalId, p)` for a verified proof: the credit of `offchain/src/sla.ts`
 * (`slaCredit`) for the leaf's uptime in its epoch, paid from the provider's unwithdrawn earnings on
 * the rental, the rest from its stake in KAI at `kaiPerToken` (`kaiForShortfall`), capped at what
 * the stake holds. A credit that would pay nothing (nothing from earnings, no KAI) reverts
 * `NothingPaid` and stays available. Returns the revert, or the plan.
 */
function predictCredit(w: World, m: Model, rentalId: bigint, p: NodeProof): Outcome | CreditPlan {
  const epoch = p.leaf.epoch;
  const r = rentalOf(m, rentalId);
  const from = epochStart(w, epoch);
  const to = epochStart(w, epoch + 1n);
  if (m.credited.has(creditKey(rentalId, epoch))) return err(w.c.sla, "SlaEnforcer_AlreadyCredited", rentalId, epoch);
  if (!r) return err(w.c.escrow, "RentalEscrow_UnknownRental", rentalId);
  if (r.nodeId !== p.leaf.id) return err(w.c.escrow, "RentalEscrow_WrongNode", rentalId, p.leaf.id, r.nodeId);
  const target = SLA_TARGETS[Number(r.slaTier)];
  const uptime = p.metrics.uptimeBps;
  if (slaCreditBps(DEFAULT_CREDIT_SCHEDULE, target, uptime) === 0n)
    return err(w.c.escrow, "RentalEscrow_NoSlaBreach", rentalId, uptime, target);
  const c = slaCredit(slaRental(r), DEFAULT_CREDIT_SCHEDULE, target, uptime, from, to, m.next);
  if (!c) return err(w.c.escrow, "RentalEscrow_NothingToCredit", rentalId, from, to);
  const renter = RENTERS[r.renter];
  const kaiOwed = kaiForShortfall(c.fromStake, m.kaiPerToken);
  // Deferred (paid after the epoch's slashing window) and capped per node and epoch.
  const node = nodeOf(m, r.nodeId)!;
  const nodeKey = `${r.nodeId}:${epoch}`;
  const cap = (perGpuStake(node) * node.gpuCount * STAKE_CREDIT_CAP_BPS) / BPS;
  const owedBefore = m.nodeStakeCreditDue.get(nodeKey) ?? 0n;
  const room = cap > owedBefore ? cap - owedBefore : 0n;
  const kaiFromStake = kaiOwed === 0n ? 0n : kaiOwed < room ? kaiOwed : room;
  expect(c.fromEarnings <= c.credit, "the part from earnings is at most the credit").to.be.true;
  expect(kaiFromStake <= kaiOwed, "KAI from stake is at most what the shortfall is worth").to.be.true;
  if (c.fromEarnings === 0n && kaiFromStake === 0n) {
    note(
      `  credit: nothing paid (${PLAN_NAMES[r.plan]} ${isOpen(r) ? "open" : "closed"}, ` +
        (m.kaiPerToken === 0n ? "no rate" : kaiOwed === 0n ? "rate too small" : "cap spent") +
        ")",
    );
    return err(w.c.sla, "SlaEnforcer_NothingPaid", rentalId, epoch);
  }
  return {
    creditSla: [rentalId, w.addr[renter], w.tokenAddr.usd, c.creditBps, c.credit, c.fromEarnings],
    applied: [rentalId, epoch, uptime, c.credit, c.fromEarnings, kaiFromStake],
    deferred: kaiFromStake === 0n ? undefined : [rentalId, epoch, kaiFromStake],
    label:
      `  credit: ${PLAN_NAMES[r.plan]} ${isOpen(r) ? "open" : "closed"}` +
      (c.fromEarnings > 0n ? " +earnings" : "") +
      (kaiOwed > 0n ? (kaiFromStake < kaiOwed ? " +stake (capped)" : " +stake") : ""),
    apply: () => {
      if (kaiFromStake > 0n) {
        m.nodeStakeCreditDue.set(nodeKey, owedBefore + kaiFromStake);
        m.stakeCreditDue.set(creditKey(rentalId, epoch), { rentalId, epoch, kai: kaiFromStake });
      }
      m.credited.add(creditKey(rentalId, epoch));
      r.amount = c.after.amount;
      r.withdrawnUnits = c.after.withdrawnUnits;
      r.creditedFromEarnings += c.fromEarnings;
      r.credited += c.credit;
      move(m, "usd", "escrow", renter, c.fromEarnings);
    },
  };
}

/** The events of `plans` (in order) are exactly those of `receipt`. */
function expectCreditEvents(w: World, receipt: ContractTransactionReceipt | undefined, plans: CreditPlan[]) {
  expectEvents(
    receipt,
    w.c.escrow,
    "CreditSla",
    plans.map((pl) => pl.creditSla),
  );
  expectEvents(
    receipt,
    w.c.sla,
    "ApplySlaCredit",
    plans.map((pl) => pl.applied),
  );
  expectEvents(
    receipt,
    w.c.sla,
    "DeferStakeCredit",
    plans.flatMap((pl) => (pl.deferred ? [pl.deferred] : [])),
  );
  expectEvents(receipt, w.c.registry, "Slash", []);
  for (const pl of plans) note(pl.label);
}

/**
 * `payStakeCredit(rentalId, epoch)` by the keeper: once the epoch's slashing window has passed, the
 * KAI due from the provider's stake (rewards owed first, then stake, then unbonding; what is there)
 * goes to the renter (`Slash` reason 1, evidence `keccak256(abi.encode(rentalId, epoch))`).
 */
export async function actPayStakeCredit(w: World, m: Model, rentalId: bigint, epoch: bigint) {
  const sla = w.c.sla;
  const due = m.stakeCreditDue.get(creditKey(rentalId, epoch));
  const opensAt = epochStart(w, epoch + 1n) + SLASH_WINDOW + 1n;
  const r = rentalOf(m, rentalId);
  let slash: ReturnType<typeof predictSlash> | undefined;
  let outcome: Outcome;
  if (!due) outcome = err(sla, "SlaEnforcer_NothingDue", rentalId, epoch);
  else if (m.next < opensAt) outcome = err(sla, "SlaEnforcer_SlashingWindowOpen", epoch, opensAt);
  else {
    slash = predictSlash(w, m, r!.provider, due.kai, RENTERS[r!.renter]);
    outcome = OK;
  }
  const receipt = await send(m, outcome, (o) => sla.connect(w.signer.keeper).payStakeCredit(rentalId, epoch, o));
  if (!outcome.ok) return;
  expectEvent(
    receipt,
    w.c.registry,
    "Slash",
    slash!.event(r!.nodeId, Reason.SlaCredit, stakeCreditEvidence(rentalId, epoch)),
  );
  expectEvent(receipt, sla, "PayStakeCredit", [rentalId, epoch, slash!.taken]);
  slash!.apply();
  r!.kaiFromStake += slash!.taken;
  m.stakeCreditDue.delete(creditKey(rentalId, epoch));
  note(`  stake credit paid: ${slash!.taken < due!.kai ? "part" : "all"}`);
}

/** `applySlaCredit(rentalId, p)` sent by a keeper: the proof verified, then the rental credited. */
export async function actApplySlaCredit(w: World, m: Model, rentalId: bigint, p: NodeProof) {
  const plan = verifyFailure(w, m, p) ?? predictCredit(w, m, rentalId, p);
  const outcome = "apply" in plan ? OK : plan;
  m.touched.credits.push([rentalId, p.leaf.epoch]);
  const receipt = await send(m, outcome, (o) => w.c.sla.connect(w.signer.keeper).applySlaCredit(rentalId, p, o));
  if (!("apply" in plan)) return;
  expectCreditEvents(w, receipt, [plan]);
  plan.apply();
}

/**
 * `applySlaCredits(rentalIds, p)`: the proof verified once, then each rental credited in turn (a
 * rental twice is credited once, then reverts); any revert reverts the whole batch.
 */
export async function actApplySlaCredits(w: World, m: Model, rentalIds: bigint[], p: NodeProof) {
  let outcome = verifyFailure(w, m, p);
  const saved = structuredClone({
    rentals: m.rentals,
    stakes: m.stakes,
    bal: m.bal,
    credited: m.credited,
    stakeCreditDue: m.stakeCreditDue,
    nodeStakeCreditDue: m.nodeStakeCreditDue,
  });
  const plans: CreditPlan[] = [];
  for (const id of outcome ? [] : rentalIds) {
    // Each credit sees the ones before it (withdrawn units, stake, marks): apply as we go.
    const plan = predictCredit(w, m, id, p);
    if (!("apply" in plan)) {
      outcome = plan;
      break;
    }
    plan.apply();
    plans.push(plan);
  }
  if (outcome) Object.assign(m, saved);
  outcome ??= OK;
  m.touched.credits.push(...rentalIds.map((id) => [id, p.leaf.epoch] as const));
  const receipt = await send(m, outcome, (o) => w.c.sla.connect(w.signer.keeper).applySlaCredits(rentalIds, p, o));
  if (outcome.ok) expectCreditEvents(w, receipt, plans);
}

/** `_slashAndJail`: the slash to the treasury (its `Slash` event checked), and the node jailed unless it is already. */
function predictSlashAndJail(w: World, m: Model, node: ModelNode, amount: bigint) {
  const slash = predictSlash(w, m, node.provider, amount, "treasury");
  const apply = (receipt: ContractTransactionReceipt | undefined, reason: number, evidence: string) => {
    expectEvent(receipt, w.c.registry, "Slash", slash.event(node.id, reason, evidence));
    slash.apply();
    if (node.status !== NodeStatus.Jailed && node.status !== NodeStatus.Retired) node.status = NodeStatus.Jailed;
  };
  return { taken: slash.taken, apply };
}

/**
 * `slashForDowntime(rentalId, proofs)`: `downtimeEpochs` consecutive leaves of the rental's node,
 * each below the threshold and inside the rental's service window, starting at or after the node's
 * downtime cursor; a third of the per-GPU stake of each of the node's GPUs is slashed and the node
 * jailed. The cursor moves past the last epoch used.
 */
export async function actSlashForDowntime(w: World, m: Model, rentalId: bigint, proofs: NodeProof[]) {
  const sla = w.c.sla;
  const r = rentalOf(m, rentalId);
  let outcome: Outcome | undefined;
  let slash: ReturnType<typeof predictSlashAndJail> | undefined;
  if (proofs.length !== DOWNTIME_EPOCHS)
    outcome = err(sla, "SlaEnforcer_WrongProofCount", proofs.length, DOWNTIME_EPOCHS);
  else if (!r) outcome = err(w.c.escrow, "RentalEscrow_UnknownRental", rentalId);
  else {
    const first = proofs[0].leaf.epoch;
    const from = cursorsOf(m, r.nodeId).downtime;
    const lastEpoch = first + BigInt(proofs.length) - 1n;
    const deadline = epochStart(w, lastEpoch + 1n) + SLASH_WINDOW;
    if (first < from) outcome = err(sla, "SlaEnforcer_EvidenceTooOld", r.nodeId, first, from);
    else if (m.next > deadline) outcome = err(sla, "SlaEnforcer_EvidenceExpired", lastEpoch, deadline);
    for (let i = 0; i < proofs.length && !outcome; i++) {
      const p = proofs[i];
      const e = p.leaf.epoch;
      outcome = verifyFailure(w, m, p);
      if (outcome) break;
      if (p.leaf.id !== r.nodeId) outcome = err(sla, "SlaEnforcer_WrongNode", i, p.leaf.id, r.nodeId);
      else if (e !== first + BigInt(i)) outcome = err(sla, "SlaEnforcer_NotConsecutive", i, e);
      else if (p.metrics.uptimeBps >= DOWNTIME_THRESHOLD_BPS)
        outcome = err(sla, "SlaEnforcer_UptimeAboveThreshold", e, p.metrics.uptimeBps, DOWNTIME_THRESHOLD_BPS);
      else if (!servedDuring(w, r, e, m.next)) outcome = err(sla, "SlaEnforcer_NotDuringRental", rentalId, e);
    }
    if (!outcome) {
      const node = nodeOf(m, r.nodeId)!;
      // The node's GPUs, not the rental's: the rental is only the evidence that the node was rented.
      slash = predictSlashAndJail(w, m, node, (perGpuStake(node) * node.gpuCount * DOWNTIME_SLASH_BPS) / BPS);
      outcome = OK;
    }
  }
  const receipt = await send(m, outcome, (o) => sla.connect(w.signer.keeper).slashForDowntime(rentalId, proofs, o));
  if (!outcome.ok) return;
  const first = proofs[0].leaf.epoch;
  const last = first + BigInt(proofs.length) - 1n;
  const evidence = ethers.keccak256(
    ethers.solidityPacked(
      proofs.map(() => "bytes32"),
      proofs.map((p) => rewardLeafHash(p.leaf)),
    ),
  );
  expectEvent(receipt, sla, "SlashDowntime", [r!.nodeId, rentalId, first, last, slash!.taken, evidence]);
  slash!.apply(receipt, Reason.Downtime, evidence);
  setCursors(m, r!.nodeId, { downtime: last + 1n });
}

/**
 * `slashForHardwareFraud(p)`: the full per-GPU stake of every GPU of the node; jailed. The epoch
 * must be at or after the node's fraud cursor, which moves past it.
 */
export async function actSlashForFraud(w: World, m: Model, p: NodeProof) {
  const sla = w.c.sla;
  const epoch = p.leaf.epoch;
  const nodeId = p.leaf.id;
  const node = nodeOf(m, nodeId);
  let slash: ReturnType<typeof predictSlashAndJail> | undefined;
  let outcome = verifyFailure(w, m, p);
  if (!outcome) {
    const from = cursorsOf(m, nodeId).fraud;
    if (!p.metrics.hardwareMismatch) outcome = err(sla, "SlaEnforcer_NoHardwareMismatch", epoch, nodeId);
    else if (epoch < from) outcome = err(sla, "SlaEnforcer_EvidenceTooOld", nodeId, epoch, from);
    else if (m.next > epochStart(w, epoch + 1n) + SLASH_WINDOW)
      outcome = err(sla, "SlaEnforcer_EvidenceExpired", epoch, epochStart(w, epoch + 1n) + SLASH_WINDOW);
    else {
      slash = predictSlashAndJail(w, m, node!, (perGpuStake(node!) * node!.gpuCount * FRAUD_SLASH_BPS) / BPS);
      outcome = OK;
    }
  }
  const receipt = await send(m, outcome, (o) => sla.connect(w.signer.keeper).slashForHardwareFraud(p, o));
  if (!outcome.ok) return;
  const leafHash = rewardLeafHash(p.leaf);
  expectEvent(receipt, sla, "SlashHardwareFraud", [nodeId, epoch, slash!.taken, leafHash]);
  slash!.apply(receipt, Reason.HardwareFraud, leafHash);
  setCursors(m, nodeId, { fraud: epoch + 1n });
}

/**
 * `closeOnJailedNode(ids)` by the keeper: open rentals on jailed nodes close as ProviderSlashed;
 * closed ones are skipped. A saving plan is refunded in full: the escrow returns all but the value of
 * its withdrawn units, and of that the provider's own gross withdrawals (not the SLA credits paid to
 * the renter from its earnings) come from its stake, in KAI at `kaiPerToken`, capped at what the
 * stake holds, straight to the renter (`Slash` reason 4, evidence `keccak256(abi.encode(id))`), with
 * `RefundSavingFromStake(id, withdrawn, kaiPaid)` whenever it had withdrawn anything. An empty stake
 * is not slashed. Each rental's close and refund happen in turn (the stake is shared).
 */
export async function actCloseOnJailedNode(w: World, m: Model, ids: bigint[]) {
  const sla = w.c.sla;
  let outcome: Outcome | undefined;
  const toClose: ModelRental[] = [];
  for (const id of ids) {
    const r = rentalOf(m, id);
    if (!r) {
      outcome = err(w.c.escrow, "RentalEscrow_UnknownRental", id);
      break;
    }
    if (r.status === RentalStatus.Closed || toClose.includes(r)) continue;
    if (nodeOf(m, r.nodeId)!.status !== NodeStatus.Jailed) {
      outcome = err(sla, "SlaEnforcer_NodeNotJailed", id, r.nodeId);
      break;
    }
    toClose.push(r);
  }
  if (!outcome && toClose.length === 0) outcome = err(sla, "SlaEnforcer_NothingToClose");
  outcome ??= OK;
  // Closes are independent of each other: each rental's split depends on itself and the time only.
  const closes = outcome.ok ? toClose.map((r) => predictClose(w, m, r, CloseReason.ProviderSlashed, m.next)) : [];
  const receipt = await send(m, outcome, (o) => sla.connect(w.signer.keeper).closeOnJailedNode(ids, o));
  if (!outcome.ok) return;
  expect(eventsOf(receipt, w.c.escrow, "CloseRental").length, "one CloseRental per rental closed").to.equal(
    closes.length,
  );
  const slashes: unknown[][] = [];
  const refunds: unknown[][] = [];
  toClose.forEach((r, i) => {
    closes[i](receipt, w.addr.sla);
    if (r.plan !== Plan.Saving) return;
    // The model's own books: what the provider withdrew, not the escrow's units less the enforcer's count.
    const withdrawn = r.grossWithdrawn;
    if (withdrawn === 0n) {
      note("  jailclose: saving, nothing withdrawn");
      return;
    }
    const kaiOwed = kaiForShortfall(withdrawn, m.kaiPerToken);
    const s = m.stakes[r.provider];
    const hasStake = s.staked + s.unbonding + s.rewardsOwed > 0n;
    let kaiPaid = 0n;
    if (kaiOwed > 0n && hasStake) {
      const renter = RENTERS[r.renter];
      const slash = predictSlash(w, m, r.provider, kaiOwed, renter);
      slashes.push(slash.event(r.nodeId, Reason.SavingRefund, savingRefundEvidence(r.id)));
      slash.apply();
      kaiPaid = slash.taken;
    }
    note(
      "  jailclose: saving refund " +
        (m.kaiPerToken === 0n
          ? "(no rate)"
          : kaiOwed === 0n
            ? "(rate too small)"
            : !hasStake
              ? "(empty stake)"
              : kaiPaid < kaiOwed
                ? "+stake (capped)"
                : "+stake"),
    );
    r.refundFromStake = withdrawn;
    r.kaiRefundOwed = kaiOwed;
    r.kaiRefund = kaiPaid;
    refunds.push([r.id, withdrawn, kaiPaid]);
  });
  expectEvents(receipt, w.c.registry, "Slash", slashes);
  expectEvents(receipt, sla, "RefundSavingFromStake", refunds);
}

/** The registry evidence of a saving plan's refund from stake: `keccak256(abi.encode(rentalId))`. */
const savingRefundEvidence = (id: bigint) =>
  ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["uint256"], [id]));

/** Governance sets the KAI taken from stake per 1e18 USD units credited beyond earnings (at most 1e40). */
export async function actSetKaiPerToken(w: World, m: Model, rate: bigint) {
  const outcome =
    rate > MAX_KAI_PER_TOKEN
      ? err(w.c.sla, "SlaEnforcer_ParameterOutOfBounds", "kaiPerToken", rate, 0n, MAX_KAI_PER_TOKEN)
      : OK;
  const receipt = await send(m, outcome, (o) =>
    w.c.sla.connect(w.signer.admin).setKaiPerToken(w.tokenAddr.usd, rate, o),
  );
  if (!outcome.ok) return;
  expectEvent(receipt, w.c.sla, "SetKaiPerToken", [w.tokenAddr.usd, rate]);
  m.kaiPerToken = rate;
}

/* ========================================================================== */
/*                                 INVARIANTS                                 */
/* ========================================================================== */

export type ProbeState = Awaited<ReturnType<MoneyWalkProbe["read"]>>;

async function probe(w: World): Promise<ProbeState> {
  return w.probe.read(
    w.addr.escrow,
    w.addr.registry,
    TOKENS.map((t) => w.tokenAddr[t]),
    HOLDERS.map((h) => w.addr[h]),
    RENTERS.map((r) => w.addr[r]),
    STAKERS.map((s) => w.addr[s]),
  );
}

export type WalkProbeState = Awaited<ReturnType<PopwWalkProbe["read"]>>;

/**
 * The rest in one call: the oracle (config, checker set, equivocations, every reported epoch's
 * root and budget), every license, the distributor (`claimedOf` every reported epoch, reserve,
 * positions), the enforcer (every node's cursors and an unknown node's, the rate, every rental's
 * saving credits), the token supplies, and the `marks`.
 */
async function probeWalk(w: World, m: Pick<Model, "reported" | "nodes" | "rentals">, marks: Marks) {
  return w.walkProbe.read({
    oracle: w.addr.reportOracle,
    license: w.c.license.target.toString(),
    distributor: w.addr.distributor,
    sla: w.addr.sla,
    usd: w.tokenAddr.usd,
    kai: w.tokenAddr.kai,
    operators: OPERATORS.map((o) => w.addr[o]),
    provenOperators: marks.proofs.map(([op]) => w.addr[OPERATORS[op]]),
    provenEpochs: marks.proofs.map(([, e]) => e),
    epochs: m.reported,
    stakers: STAKERS.map((a) => w.addr[a]),
    nodeIds: [...m.nodes.map((n) => n.id), BigInt(m.nodes.length + 1)],
    rentalIds: m.rentals.map((r) => r.id),
    creditRentals: marks.credits.map(([id]) => id),
    creditEpochs: marks.credits.map(([, e]) => e),
    leafEpochs: marks.leaves.map((l) => l.epoch),
    leafKinds: marks.leaves.map((l) => l.kind),
    leafSubjects: marks.leaves.map((l) => subjectOf(l)),
  });
}

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

/**
 * Marks to read back from the chain: (rental, epoch) credits, claimed leaves and (operator, epoch)
 * equivocation proofs. (Slashes leave no per-epoch mark: the nodes' `slashableFrom` cursors are
 * checked after every step instead.)
 */
export interface Marks {
  credits: (readonly [bigint, bigint])[];
  leaves: RewardLeaf[];
  proofs: (readonly [number, bigint])[];
}

/** `isCredited`, `isClaimed` and `equivocationProven` of `marks` (as `probeWalk` read them), against the model. */
function checkMarks(m: Model, marks: Marks, k: WalkProbeState, at: (what: string) => string = (x) => x) {
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
const allMarks = (m: Model): Marks => {
  const epochs = [...new Set([...m.reported, ...[...m.proven].map((key) => provenPair(key)[1])])];
  return {
    credits: m.rentals.flatMap((r) => m.reported.map((e) => [r.id, e] as const)),
    leaves: m.reported.flatMap((e) => m.reports.get(e)!.leaves),
    proofs: OPERATORS.flatMap((_, op) => epochs.map((e) => [op, e] as const)),
  };
};

/* ========================================================================== */
/*                                FINAL DRAIN                                 */
/* ========================================================================== */

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

/* ========================================================================== */
/*                                  COMMANDS                                  */
/* ========================================================================== */

/** Prefixes an error with the failing step and lists every step so far. */
function withSteps(e: unknown, m: Model): Error {
  const steps = m.log.map((l, i) => `  ${i + 1}. ${l}`).join("\n");
  const error = e instanceof Error ? e : new Error(String(e));
  error.message = `step ${m.log.length} failed: ${m.log[m.log.length - 1]}\n${error.message}\nsteps so far:\n${steps}`;
  return error;
}

/**
 * A step of the walk. Arguments are plain, generated selectors resolved against the model when
 * the step runs; `toString` prints a constructor call that a regression test can paste.
 */
export abstract class Step implements fc.AsyncCommand<Model, World> {
  abstract readonly name: string;
  abstract readonly args: object;
  check(): boolean {
    return true; // every step runs: the model decides whether it must succeed or revert
  }
  async run(m: Model, w: World): Promise<void> {
    m.log.push(this.toString());
    try {
      await this.exec(w, m);
      await checkInvariants(w, m);
    } catch (e) {
      throw withSteps(e, m);
    }
  }
  protected abstract exec(w: World, m: Model): Promise<void>;
  toString(): string {
    const json = JSON.stringify(this.args, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)).replace(
      /"(-?\d+)n"/g,
      "$1n",
    );
    return `new ${this.name}(${json})`;
  }
}

/** A rental id from a selector: newest rentals first; 1 in 16 is one past the last, 1 in 16 is 0. */
function rentalId(m: Model, sel: number): bigint {
  const n = m.rentals.length;
  if (sel % 16 === 14) return 0n;
  if (sel % 16 === 15 || n === 0) return BigInt(n + 1);
  return BigInt(n - (sel % n));
}

/** A reported epoch for `r` from a selector: 3 in 4 among those the rental ran in (if any). */
function epochFor(w: World, m: Model, r: ModelRental | undefined, sel: number): bigint | undefined {
  if (m.reported.length === 0) return undefined;
  const served = r ? m.reported.filter((e) => servedDuring(w, r, e, m.next)) : [];
  const list = sel % 4 !== 3 && served.length > 0 ? served : m.reported;
  return list[Math.floor(sel / 4) % list.length];
}

/** The node's attested uptime in a reported epoch. */
const uptimeIn = (m: Model, epoch: bigint, nodeId: bigint) =>
  m.reports.get(epoch)!.nodes.find((n) => n.nodeId === nodeId)!.metrics.uptimeBps;

/** Is an SLA credit due for `r` in the reported `epoch` (it ran then, below its target) and not applied yet? */
const creditDue = (w: World, m: Model, r: ModelRental, epoch: bigint) =>
  !m.credited.has(creditKey(r.id, epoch)) &&
  servedDuring(w, r, epoch, m.next) &&
  uptimeIn(m, epoch, r.nodeId) < SLA_TARGETS[Number(r.slaTier)];

/** Do the reported `epoch` and the next make a downtime of `r`'s node, while it ran, still slashable? */
const downtimeDue = (w: World, m: Model, r: ModelRental, epoch: bigint) =>
  epoch >= cursorsOf(m, r.nodeId).downtime &&
  [epoch, epoch + 1n].every((e) => servedDuring(w, r, e, m.next) && uptimeIn(m, e, r.nodeId) < DOWNTIME_THRESHOLD_BPS);

/** The first epoch no report can have yet: claims and proofs for it revert `NoReport`. */
const unreportedEpoch = (w: World, m: Model) => (m.anyReport ? m.lastEpoch + 1n : w.startEpoch);

/** The node's proof in the accepted report of `epoch`; a made-up leaf (empty proof) if none was. */
function nodeProof(w: World, m: Model, epoch: bigint, nodeId: bigint): NodeProof {
  const entry = m.reports.get(epoch)?.nodes.find((n) => n.nodeId === nodeId);
  if (entry)
    return { leaf: entry.leaf, metrics: entry.metrics, proof: proofOf(m.reports.get(epoch)!.tree, entry.leaf) };
  const metrics = metricsWith(0n);
  const node = nodeOf(m, nodeId);
  const leaf: RewardLeaf = {
    kind: LeafKind.Node,
    epoch,
    account: w.addr[PROVIDERS[node?.provider ?? 0]],
    id: nodeId,
    capacityReward: 0n,
    deliveryReward: 0n,
    checkerReward: 0n,
    metricsHash: nodeMetricsHash(metrics),
  };
  return { leaf, metrics, proof: [] };
}

const otherNodeId = (m: Model, nodeId: bigint) => m.nodes.find((n) => n.id !== nodeId)!.id;

export class Rent extends Step {
  readonly name = "Rent";
  constructor(
    readonly args: { renter: number; node: number; plan: Plan; slaTier: number; gpus: number; seconds: number },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    return actRent(w, m, {
      renter: a.renter,
      nodeId: m.nodes[a.node % m.nodes.length].id,
      plan: a.plan,
      slaTier: BigInt(a.slaTier),
      gpus: BigInt(a.gpus),
      seconds: BigInt(a.seconds),
    });
  }
}

/** Moves the clock: the next transaction is mined `seconds` later. */
export class TimeJump extends Step {
  readonly name = "TimeJump";
  constructor(readonly args: { seconds: number }) {
    super();
  }
  protected async exec(_w: World, m: Model) {
    m.next += BigInt(this.args.seconds);
  }
}

/** Moves the clock to an open rental's paid-until or closable-at time, +- 1 s (never backwards). */
export class JumpToBoundary extends Step {
  readonly name = "JumpToBoundary";
  constructor(readonly args: { target: "paidUntil" | "closableAt"; index: number; offset: -1 | 0 | 1 }) {
    super();
  }
  protected async exec(_w: World, m: Model) {
    const open = m.rentals.filter(isOpen);
    const r = open[this.args.index % Math.max(open.length, 1)];
    if (!r) return;
    const at =
      this.args.target === "paidUntil"
        ? rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount)
        : rm.closableAt(money(r), GRACE_PERIOD);
    if (at + BigInt(this.args.offset) > m.next) m.next = at + BigInt(this.args.offset);
  }
}

export type EpochChoice = "next" | "near" | "latest" | "again" | "stale" | "notEnded";

/**
 * Checkers report an epoch (the next one, one near the clock, the latest ended one; or a
 * processed, stale or running one): a leaf per node (random uptime, rarely a hardware mismatch) and a leaf
 * per chosen operator, sharing `fracBps` of the epoch's budget by `weights` (over 10,000: above the
 * budget, which the oracle refuses). `lie`: the leaves sum to more than the budget and the
 * report states the budget (the distributor must cap the claims). The current checker set signs
 * (`signing`: a quorum of its live operators, or fewer, or with excluded ones, or under another
 * version); with fewer live operators than its quorum, no report passes until a new set.
 */
export class Report extends Step {
  readonly name = "Report";
  constructor(
    readonly args: {
      epoch: EpochChoice;
      back: number;
      uptime: [bigint, bigint];
      mismatch: [boolean, boolean];
      weights: number[];
      checkers: number;
      capacityPct: number;
      fracBps: number;
      lie: boolean;
      /** Who signs (see {@link Signing}); absent in older replays: a quorum. */
      signing?: Signing;
    },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const current = epochAt(w, m.next);
    const next = unreportedEpoch(w, m);
    const epoch = {
      next,
      near: next > current - BigInt(a.back) ? next : current - BigInt(a.back),
      latest: current - 1n,
      again: m.anyReport ? m.lastEpoch : next,
      stale: m.anyReport && m.lastEpoch >= BigInt(a.back) ? m.lastEpoch - BigInt(a.back) : next,
      notEnded: current,
    }[a.epoch];
    // A keeper waits for the end of the epoch it reports ("notEnded" is the one that does not).
    const end = epochStart(w, epoch + 1n);
    if ((a.epoch === "next" || a.epoch === "near") && m.next < end) m.next = end;
    const ops = OPERATORS.map((_, i) => i).filter((i) => (a.checkers >> i) & 1);
    const weights = [a.weights[0], a.weights[1], ...ops.map((i) => a.weights[2 + i])].map(BigInt);
    const sumWeights = weights.reduce((x, y) => x + y, 0n);
    // A lying report's leaves sum to more than the budget (up to 1.5x); it states the budget.
    const fracBps = a.lie ? 10_001 + (a.fracBps % 5_000) : a.fracBps;
    const total = (epochBudget(epoch) * BigInt(fracBps)) / BPS;
    const shares = weights.map((wt) => (sumWeights === 0n ? 0n : (total * wt) / sumWeights));
    // The rounding dust goes to the last leaf with a weight, so the leaves sum to `total` exactly.
    let last = weights.length - 1;
    while (last >= 0 && weights[last] === 0n) last--;
    if (last >= 0) shares[last] += total - shares.reduce((x, y) => x + y, 0n);
    const leavesSum = shares.reduce((x, y) => x + y, 0n);
    const budget = epochBudget(epoch);
    return actReport(w, m, {
      epoch,
      nodes: m.nodes.map((n, i) => {
        const capacity = (shares[i] * BigInt(a.capacityPct)) / 100n;
        return {
          nodeId: n.id,
          metrics: metricsWith(a.uptime[i], a.mismatch[i], Number(epoch) * 2 + i),
          capacity,
          delivery: shares[i] - capacity,
        };
      }),
      checkers: ops.map((op, j) => ({ op, reward: shares[2 + j] })),
      stated: a.lie && leavesSum > budget ? budget : undefined,
      signing: a.signing,
    });
  }
}

export type ClaimFault = "none" | "double" | "wrongAccount" | "tampered" | "unreported";

/** A keeper claims 1-3 leaves for an account: its own leaves, or a repeat, another's, a tampered or an unreported one. */
export class Claim extends Step {
  readonly name = "Claim";
  constructor(readonly args: { beneficiary: number; picks: { sel: number; fault: ClaimFault }[] }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const all = m.reported.flatMap((e) => m.reports.get(e)!.leaves);
    // Mostly an account with a leaf to claim (the selector picks among them).
    const unpaid = (l: RewardLeaf) => leafReward(l) > 0n && !m.claimedBits.has(bitKey(l));
    const owed = STAKERS.map((_, i) => i).filter((i) => all.some((l) => unpaid(l) && stakerOf(w, l.account) === i));
    const b =
      owed.length > 0 && this.args.picks[0].fault === "none"
        ? owed[this.args.beneficiary % owed.length]
        : this.args.beneficiary;
    const who = w.addr[STAKERS[b]].toLowerCase();
    const own = all.filter((l) => l.account.toLowerCase() === who);
    const others = all.filter((l) => l.account.toLowerCase() !== who);
    const claims: ClaimInput[] = [];
    const real = (leaf: RewardLeaf) => ({ leaf, proof: proofOf(m.reports.get(leaf.epoch)!.tree, leaf) });
    for (const { sel, fault } of this.args.picks) {
      // Mostly a leaf not yet claimed (already claimed ones revert `AlreadyClaimed`).
      const fresh = own.filter((l) => unpaid(l) && !claims.some((c) => c.leaf === l));
      const pool = sel % 4 !== 3 && fresh.length > 0 ? fresh : own;
      const mine = pool[Math.floor(sel / 4) % Math.max(pool.length, 1)];
      const theirs = others[sel % Math.max(others.length, 1)];
      if (fault === "double" && claims.length > 0) claims.push(claims[claims.length - 1]);
      else if (fault === "wrongAccount" && theirs) claims.push(real(theirs));
      else if (fault === "tampered" && mine) {
        claims.push({ leaf: { ...mine, capacityReward: mine.capacityReward + 1n }, proof: real(mine).proof });
      } else if (fault === "unreported" || (!mine && !theirs)) {
        const leaf =
          b < PROVIDERS.length
            ? { ...nodeProof(w, m, unreportedEpoch(w, m), m.nodes[b].id).leaf, capacityReward: KAI(1) }
            : checkerLeaf(unreportedEpoch(w, m), w.addr[STAKERS[b]], KAI(1));
        claims.push({ leaf, proof: [] });
      } else claims.push(real(mine ?? theirs));
    }
    return actClaim(w, m, b, claims);
  }
}

/** An account withdraws one of its vesting positions (or a day it has none: `unknown`). */
export class WithdrawVested extends Step {
  readonly name = "WithdrawVested";
  constructor(readonly args: { owner: number; position: number; unknown: boolean }) {
    super();
  }
  protected exec(w: World, m: Model) {
    // Mostly an owner with something vesting (the selector picks among them).
    const vesting = STAKERS.map((_, i) => i).filter((i) => [...m.vesting[i].values()].some((a) => a > 0n));
    const owner =
      !this.args.unknown && vesting.length > 0 ? vesting[this.args.owner % vesting.length] : this.args.owner;
    const days = m.days[owner];
    const day = this.args.unknown || days.length === 0 ? dayOf(m.next) + 1n : days[this.args.position % days.length];
    return actWithdrawVested(w, m, owner, day);
  }
}

/** Moves the clock to a vesting step (30, 90 or 180 days from a position's day), +- 1 s. */
export class VestingJump extends Step {
  readonly name = "VestingJump";
  constructor(readonly args: { position: number; ageDays: 30 | 90 | 180; offset: -1 | 0 | 1 }) {
    super();
  }
  protected async exec(_w: World, m: Model) {
    const all = m.days.flat();
    if (all.length === 0) return;
    const day = all[this.args.position % all.length];
    const at = (day + BigInt(this.args.ageDays)) * DAY + BigInt(this.args.offset);
    if (at > m.next) m.next = at;
  }
}

export type CreditFault =
  "none" | "otherNode" | "badMetrics" | "badProof" | "unreported" | "checkerLeaf" | "unknownRental";

/** Anyone applies an SLA credit for a rental and an epoch (mostly one the rental ran in). */
export class ApplySlaCredit extends Step {
  readonly name = "ApplySlaCredit";
  constructor(readonly args: { rental: number; epoch: number; fault: CreditFault }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const f = this.args.fault;
    let id = f === "unknownRental" ? BigInt(m.rentals.length + 1) : rentalId(m, this.args.rental);
    let epoch = f === "unreported" ? undefined : epochFor(w, m, rentalOf(m, id), this.args.epoch);
    // Like a keeper, mostly a rental and an epoch that a report entitles to a credit not yet applied.
    const due = m.rentals.flatMap((r) => m.reported.filter((e) => creditDue(w, m, r, e)).map((e) => [r.id, e]));
    if (f === "none" && this.args.epoch % 4 !== 3 && due.length > 0) [id, epoch] = due[this.args.rental % due.length];
    const r = rentalOf(m, id);
    const nodeId = r?.nodeId ?? m.nodes[this.args.rental % m.nodes.length].id;
    let p = nodeProof(w, m, epoch ?? unreportedEpoch(w, m), nodeId);
    if (epoch !== undefined) {
      const other = nodeProof(w, m, epoch, otherNodeId(m, nodeId));
      if (f === "otherNode") p = other;
      else if (f === "badMetrics")
        p = { ...p, metrics: { ...p.metrics, uptimeBps: p.metrics.uptimeBps === 0n ? 1n : 0n } };
      else if (f === "badProof") p = { ...p, proof: other.proof };
      else if (f === "checkerLeaf") {
        const checker = m.reports.get(epoch)!.leaves.find((l) => l.kind === LeafKind.Checker);
        if (checker) p = { ...p, leaf: checker, proof: proofOf(m.reports.get(epoch)!.tree, checker) };
      }
    }
    return actApplySlaCredit(w, m, id, p);
  }
}

export type BatchFault = "none" | "duplicate" | "otherNodeRental" | "empty";

/**
 * A keeper credits every rental of a node that a report entitles to a credit, in one batch (or
 * picked rentals; with a rental twice, a rental of the other node, or none).
 */
export class ApplySlaCredits extends Step {
  readonly name = "ApplySlaCredits";
  constructor(readonly args: { epoch: number; node: number; rentals: "due" | number[]; fault: BatchFault }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const groups = new Map<string, { epoch: bigint; nodeId: bigint; ids: bigint[] }>();
    for (const r of m.rentals) {
      for (const e of m.reported.filter((e) => creditDue(w, m, r, e))) {
        const g = groups.get(`${e}:${r.nodeId}`) ?? { epoch: e, nodeId: r.nodeId, ids: [] };
        g.ids.push(r.id);
        groups.set(`${e}:${r.nodeId}`, g);
      }
    }
    const due = [...groups.values()];
    let epoch = m.reported.length > 0 ? m.reported[a.epoch % m.reported.length] : unreportedEpoch(w, m);
    let nodeId = m.nodes[a.node % m.nodes.length].id;
    let ids: bigint[];
    if (a.rentals === "due" && due.length > 0) ({ epoch, nodeId, ids } = due[a.epoch % due.length]);
    else if (a.rentals === "due") ids = m.rentals.filter((r) => r.nodeId === nodeId).map((r) => r.id);
    else ids = a.rentals.map((sel) => rentalId(m, sel));
    const other = m.rentals.find((r) => r.nodeId !== nodeId);
    if (a.fault === "duplicate" && ids.length > 0) ids = [...ids, ids[0]];
    else if (a.fault === "otherNodeRental" && other) ids = [...ids, other.id];
    else if (a.fault === "empty") ids = [];
    return actApplySlaCredits(w, m, ids, nodeProof(w, m, epoch, nodeId));
  }
}

export type DowntimeFault = "none" | "one" | "three" | "otherNode" | "notConsecutive" | "stale";

/**
 * Anyone slashes a rental's node for downtime, mostly over two reported epochs in a row while it ran
 * (`stale`: starting one epoch before the node's downtime cursor, once it has one).
 */
export class SlashForDowntime extends Step {
  readonly name = "SlashForDowntime";
  constructor(readonly args: { rental: number; epoch: number; fault: DowntimeFault }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const f = this.args.fault;
    const pairs = m.reported.filter((e) => m.reports.has(e + 1n));
    // Like a keeper, mostly a rental and two epochs in a row that make a slashable downtime.
    const due = m.rentals.flatMap((r) => pairs.filter((e) => downtimeDue(w, m, r, e)).map((e) => [r.id, e]));
    let id = rentalId(m, this.args.rental);
    let first: bigint;
    if (this.args.epoch % 4 !== 3 && due.length > 0) [id, first] = due[this.args.rental % due.length];
    else {
      const list = pairs.length > 0 ? pairs : m.reported;
      first = list.length > 0 ? list[Math.floor(this.args.epoch / 4) % list.length] : unreportedEpoch(w, m);
    }
    const nodeId = rentalOf(m, id)?.nodeId ?? m.nodes[this.args.rental % m.nodes.length].id;
    const node = f === "otherNode" ? otherNodeId(m, nodeId) : nodeId;
    const cursor = cursorsOf(m, nodeId).downtime;
    if (f === "stale" && cursor > 0n) first = cursor - 1n;
    const count = f === "one" ? 1 : f === "three" ? 3 : DOWNTIME_EPOCHS;
    const proofs = Array.from({ length: count }, (_, i) =>
      nodeProof(w, m, f === "notConsecutive" ? first : first + BigInt(i), node),
    );
    return actSlashForDowntime(w, m, id, proofs);
  }
}

/** Anyone slashes a node for hardware fraud, mostly with a leaf that attests a mismatch. */
/** The keeper pays a stake credit due (mostly one whose window has passed), or one with nothing due. */
export class PayStakeCredit extends Step {
  readonly name = "PayStakeCredit";
  constructor(readonly args: { pick: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const dues = [...m.stakeCreditDue.values()];
    if (dues.length === 0 || this.args.pick % 5 === 4) {
      const r = m.rentals[this.args.pick % Math.max(1, m.rentals.length)];
      return actPayStakeCredit(w, m, r?.id ?? 1n, BigInt(this.args.pick % 7));
    }
    const { rentalId, epoch } = dues[this.args.pick % dues.length];
    return actPayStakeCredit(w, m, rentalId, epoch);
  }
}

export class SlashForFraud extends Step {
  readonly name = "SlashForFraud";
  constructor(readonly args: { epoch: number; node: number; fault: "none" | "badMetrics" | "unreported" }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const flagged = m.reported.flatMap((e) =>
      m.reports
        .get(e)!
        .nodes.filter((n) => n.metrics.hardwareMismatch)
        .map((n) => [e, n.nodeId] as const),
    );
    // Like a keeper, mostly a flagged leaf the node's fraud cursor still allows.
    const due = flagged.filter(([e, id]) => e >= cursorsOf(m, id).fraud);
    const pick = due.length > 0 && a.epoch % 8 !== 7 ? due : flagged;
    let epoch: bigint;
    let nodeId = m.nodes[a.node % m.nodes.length].id;
    if (a.fault === "unreported" || m.reported.length === 0) epoch = unreportedEpoch(w, m);
    else if (a.epoch % 4 !== 3 && pick.length > 0) [epoch, nodeId] = pick[Math.floor(a.epoch / 4) % pick.length];
    else epoch = m.reported[a.epoch % m.reported.length];
    let p = nodeProof(w, m, epoch, nodeId);
    if (a.fault === "badMetrics")
      p = { ...p, metrics: { ...p.metrics, hardwareMismatch: !p.metrics.hardwareMismatch } };
    return actSlashForFraud(w, m, p);
  }
}

/** A keeper closes rentals on jailed nodes: every open one ("jailed"), or picked ones. */
export class CloseOnJailedNode extends Step {
  readonly name = "CloseOnJailedNode";
  constructor(readonly args: { rentals: "jailed" | number[] }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const { rentals } = this.args;
    let ids =
      rentals === "jailed"
        ? m.rentals.filter((r) => isOpen(r) && nodeOf(m, r.nodeId)!.status === NodeStatus.Jailed).map((r) => r.id)
        : rentals.map((sel) => rentalId(m, sel));
    if (ids.length === 0) ids = [rentalId(m, 0)];
    return actCloseOnJailedNode(w, m, ids);
  }
}

export class WithdrawEarnings extends Step {
  readonly name = "WithdrawEarnings";
  constructor(readonly args: { provider: number | "ofRental"; rental: number; rentals: "own" | number[] }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const of = rentalOf(m, rentalId(m, this.args.rental)) ?? m.rentals[m.rentals.length - 1];
    const p = this.args.provider === "ofRental" ? (of?.provider ?? 0) : this.args.provider;
    const { rentals } = this.args;
    const ids =
      rentals === "own"
        ? m.rentals.filter((r) => r.provider === p).map((r) => r.id)
        : rentals.map((sel) => rentalId(m, sel));
    return actWithdrawEarnings(w, m, p, ids);
  }
}

/** The renter (0), the node's provider (1) or a stranger (2) ends a rental. */
export class EndRental extends Step {
  readonly name = "EndRental";
  constructor(readonly args: { rental: number; caller: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const id = rentalId(m, this.args.rental);
    const r = rentalOf(m, id);
    const caller: Actor =
      !r || this.args.caller === 2 ? "keeper" : this.args.caller === 0 ? RENTERS[r.renter] : PROVIDERS[r.provider];
    return actEndRental(w, m, id, caller);
  }
}

export class CloseRental extends Step {
  readonly name = "CloseRental";
  constructor(readonly args: { rental: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actCloseRental(w, m, rentalId(m, this.args.rental));
  }
}

/** The admin releases a node: mostly a jailed one, if there is one (2: an unknown node id). */
export class ReleaseNode extends Step {
  readonly name = "ReleaseNode";
  constructor(readonly args: { node: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const jailed = m.nodes.filter((n) => n.status === NodeStatus.Jailed);
    if (this.args.node !== 2 && jailed.length > 0)
      return actReleaseNode(w, m, jailed[this.args.node % jailed.length].id);
    return actReleaseNode(w, m, m.nodes[this.args.node]?.id ?? BigInt(m.nodes.length + 1));
  }
}

/** A provider resumes a node (`byOwner: false`: the other provider tries). */
export class ResumeNode extends Step {
  readonly name = "ResumeNode";
  constructor(readonly args: { node: number; byOwner: boolean }) {
    super();
  }
  protected exec(w: World, m: Model) {
    // Mostly a paused node (one the admin released), if there is one.
    const paused = m.nodes.filter((n) => n.status === NodeStatus.Paused);
    const list = this.args.node !== 1 && paused.length > 0 ? paused : m.nodes;
    return actResumeNode(w, m, list[this.args.node % list.length].id, this.args.byOwner);
  }
}

/** A provider stakes: what it lacks to cover its listing again after slashes, or an amount. */
export class Stake extends Step {
  readonly name = "Stake";
  constructor(readonly args: { provider: number; amount: "shortfall" | "zero" | bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const p = this.args.provider;
    const need = requiredStake(m, p) - m.stakes[p].staked;
    const a = this.args.amount;
    return actStake(w, m, p, a === "zero" ? 0n : a === "shortfall" ? (need > 0n ? need : KAI(1)) : a);
  }
}

export class RequestUnstake extends Step {
  readonly name = "RequestUnstake";
  constructor(readonly args: { provider: number; amount: "unlocked" | "half" | "overStaked" }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const p = this.args.provider;
    const s = m.stakes[p];
    const locked = lockedStake(m, p);
    const unlocked = s.staked > locked ? s.staked - locked : 0n;
    const amount = { unlocked, half: unlocked / 2n, overStaked: s.staked + 1n }[this.args.amount];
    return actRequestUnstake(w, m, p, amount);
  }
}

export class WithdrawUnstaked extends Step {
  readonly name = "WithdrawUnstaked";
  constructor(readonly args: { provider: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actWithdrawUnstaked(w, m, this.args.provider);
  }
}

/** The rewarder credits KAI rewards to a staker (0-1: the providers, 2-5: the checker operators). */
export class DepositRewards extends Step {
  readonly name = "DepositRewards";
  constructor(readonly args: { staker: number; amount: bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actDepositRewards(w, m, this.args.staker, this.args.amount);
  }
}

export class FundReserve extends Step {
  readonly name = "FundReserve";
  constructor(readonly args: { amount: bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actFundReserve(w, m, this.args.amount);
  }
}

export class SetKaiPerToken extends Step {
  readonly name = "SetKaiPerToken";
  constructor(readonly args: { rate: bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actSetKaiPerToken(w, m, this.args.rate);
  }
}

/* ---------------------------- checker steps ------------------------------- */

export type LicenseAction = "delegate" | "undelegate" | "reinstate";
export type LicenseFault = "none" | "same" | "notOwner" | "unknownId";

/**
 * The admin moves a checker license: delegates it (a first delegation, or a switch to another
 * operator key), undelegates it, or reinstates a suspended one; mostly a license the action suits
 * (one in four among those that left an operator before) and, to delegate, an operator left
 * without licenses that can still serve. `wait` first moves the clock to the end of the license's
 * departure cooldown (`ready`) or a second before it.
 * Faults: the operator it already has, a caller that does not own it, an id never minted.
 */
export class MoveLicense extends Step {
  readonly name = "MoveLicense";
  constructor(
    readonly args: {
      action: LicenseAction;
      license: number;
      to: number;
      fault: LicenseFault;
      wait: "no" | "ready" | "justBefore";
    },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const ids = w.licenseOrder;
    const suits = (l: ModelLicense) =>
      a.action === "delegate" ? !l.suspended : a.action === "undelegate" ? l.operator >= 0 : l.suspended;
    const fit = ids.filter((id) => suits(licenseOf(m, id)!));
    // One in four among those that left an operator before: a departure within the cooldown.
    const left = fit.filter((id) => licenseOf(m, id)!.until > 0n);
    const sel = a.license % 4;
    const pool = sel === 2 && left.length > 0 ? left : sel !== 3 && fit.length > 0 ? fit : ids;
    const id = a.fault === "unknownId" ? BigInt(ids.length + 1) : pool[Math.floor(a.license / 4) % pool.length];
    const l = licenseOf(m, id);
    if (l && a.wait !== "no" && a.action !== "reinstate" && l.until > 0n) {
      const readyAt = l.until + m.departureCooldown - (a.wait === "justBefore" ? 1n : 0n);
      if (readyAt > m.next) m.next = readyAt;
    }
    const caller: Actor = a.fault === "notOwner" ? "keeper" : "admin";
    if (a.action === "undelegate") return actUndelegate(w, m, id, caller);
    if (a.action === "reinstate") return actReinstate(w, m, id);
    const current = l?.operator ?? -1;
    const others = OPERATORS.map((_, i) => i).filter((i) => i !== current);
    const needy = others.filter((i) => !m.equivocator[i] && licensesOf(m, i) === 0);
    const list = a.to % 4 !== 3 && needy.length > 0 ? needy : others;
    const to = a.fault === "same" && current >= 0 ? current : list[Math.floor(a.to / 4) % list.length];
    return actDelegate(w, m, id, to, caller);
  }
}

export class SetDepartureCooldown extends Step {
  readonly name = "SetDepartureCooldown";
  constructor(readonly args: { cooldown: bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actSetDepartureCooldown(w, m, this.args.cooldown);
  }
}

const operatorIndexes = OPERATORS.map((_, i) => i);

/**
 * A checker operator stakes: mostly what an honest one lacks to reach the minimum again, or an
 * amount; never more than it holds (nothing: `ZeroAmount`).
 */
export class CheckerStake extends Step {
  readonly name = "CheckerStake";
  constructor(readonly args: { op: number; amount: "toMin" | "zero" | bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const below = operatorIndexes.filter((i) => !m.equivocator[i] && opStake(m, i).staked < MIN_CHECKER_STAKE);
    const op = a.amount === "toMin" && below.length > 0 ? below[a.op % below.length] : a.op % OPERATORS.length;
    const need = MIN_CHECKER_STAKE - opStake(m, op).staked;
    let amount = a.amount === "zero" ? 0n : a.amount === "toMin" ? (need > 0n ? need : KAI(1)) : a.amount;
    if (amount > m.bal.kai[OPERATORS[op]]) amount = m.bal.kai[OPERATORS[op]];
    return actStake(w, m, PROVIDERS.length + op, amount);
  }
}

/** A checker operator asks to unstake: all, half, just enough to fall below the minimum, or more than it has. */
export class CheckerRequestUnstake extends Step {
  readonly name = "CheckerRequestUnstake";
  constructor(readonly args: { op: number; amount: "all" | "half" | "belowMin" | "over" }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const op = this.args.op % OPERATORS.length;
    const staked = opStake(m, op).staked;
    const amount = {
      all: staked,
      half: staked / 2n,
      belowMin: staked >= MIN_CHECKER_STAKE ? staked - MIN_CHECKER_STAKE + 1n : staked,
      over: staked + 1n,
    }[this.args.amount];
    return actRequestUnstake(w, m, PROVIDERS.length + op, amount);
  }
}

/** A checker operator withdraws its unbonded stake (mostly one that has some; `wait`: at its end). */
export class CheckerWithdrawUnstaked extends Step {
  readonly name = "CheckerWithdrawUnstaked";
  constructor(readonly args: { op: number; wait: boolean }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const unbonding = operatorIndexes.filter((i) => opStake(m, i).unbonding > 0n);
    const op = a.op % 4 !== 3 && unbonding.length > 0 ? unbonding[a.op % unbonding.length] : a.op % OPERATORS.length;
    const s = opStake(m, op);
    if (a.wait && s.unbonding > 0n && s.unbondingEnd > m.next) m.next = s.unbondingEnd;
    return actWithdrawUnstaked(w, m, PROVIDERS.length + op);
  }
}

export type RotationPick = "eligible" | "withIneligible" | "unsorted" | "badQuorum" | "empty";

/**
 * Governance rotates the checker set: mostly every operator it accepts (licensed, staked, honest;
 * all four when none is) at the lowest or the highest valid quorum; or with an operator it refuses,
 * unsorted (or one operator twice), at an invalid quorum, or empty.
 */
export class RotateCheckers extends Step {
  readonly name = "RotateCheckers";
  constructor(readonly args: { pick: RotationPick; sel: number; quorum: "min" | "max" }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const ok = operatorIndexes.filter((i) => eligible(m, i));
    const refused = operatorIndexes.filter((i) => !eligible(m, i));
    let ops = ok.length > 0 ? ok : operatorIndexes;
    if (a.pick === "withIneligible" && refused.length > 0)
      ops = [...ok, refused[a.sel % refused.length]].sort((x, y) => x - y);
    else if (a.pick === "unsorted") ops = ops.length >= 2 ? [...ops].reverse() : [ops[0], ops[0]];
    else if (a.pick === "empty") ops = [];
    const n = ops.length;
    const lowest = Math.max(minQuorum(n), 1);
    const quorum = a.pick === "badQuorum" ? (a.sel % 2 === 1 ? n + 1 : lowest - 1) : a.quorum === "min" ? lowest : n;
    return actSetCheckerConfig(w, m, ops, BigInt(quorum));
  }
}

/** Anyone excludes an operator of the set: mostly one that lost its licenses or stake, if any; or any index (one past the end too). */
export class ExcludeOperator extends Step {
  readonly name = "ExcludeOperator";
  constructor(readonly args: { index: number; caller: "keeper" | "other" | "renter"; pick: boolean }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const cs = m.checkerSet;
    const due = cs.members.map((_, i) => i).filter((i) => !cs.excluded[i] && exclusionReasons(m, cs.members[i]) !== 0n);
    const index = a.pick && due.length > 0 ? due[a.index % due.length] : a.index % (cs.members.length + 1);
    return actExcludeOperator(w, m, index, a.caller);
  }
}

export type ProofEpoch = "current" | "past" | "departure" | "departureNext";

/**
 * Someone proves that an operator signed two reports of one epoch: the current epoch, a past one,
 * or (for an operator a license left) the epoch it left in (suspended: it left at or after the
 * epoch's start) or the next (not suspended); with the licenses a keeper would name (those the
 * operator holds or last left), none, or those plus a repeat, another and an unknown id. `repeat`:
 * a proven equivocator again, at another epoch (a second slash, on what is left). At most two
 * operators are ever proven: with two honest left, a new proof targets a proven equivocator, so
 * that a set can still be formed. Faults: the same content under another version, a second
 * signer, a proof already made (`again`).
 */
export class ProveEquivocation extends Step {
  readonly name = "ProveEquivocation";
  constructor(
    readonly args: {
      op: number;
      other: number;
      epoch: ProofEpoch;
      back: number;
      prover: "keeper" | "other" | "self" | "otherOp";
      licenses: "keeper" | "none" | "extra";
      fault: EquivocationFault | "again" | "repeat";
    },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    let op = a.op % OPERATORS.length;
    let epoch: bigint | undefined;
    const proven = [...m.proven];
    const cheats = operatorIndexes.filter((i) => m.equivocator[i]);
    const formers = [...new Set(m.licenses.map((l) => l.former).filter((f) => f >= 0))];
    if (a.fault === "again" && proven.length > 0) [op, epoch] = provenPair(proven[a.op % proven.length]);
    else if (a.fault === "repeat" && cheats.length > 0) op = cheats[a.op % cheats.length];
    else if ((a.epoch === "departure" || a.epoch === "departureNext") && formers.length > 0)
      op = formers[a.op % formers.length];
    let fault: EquivocationFault = a.fault === "again" || a.fault === "repeat" ? "none" : a.fault;
    const honest = operatorIndexes.filter((i) => !m.equivocator[i]);
    if (fault === "none" && !m.equivocator[op] && honest.length <= 2) {
      if (cheats.length > 0) op = cheats[a.op % cheats.length];
      else fault = "sameContent";
    }
    const current = epochAt(w, m.next);
    const departed = m.licenses.filter((l) => l.former === op);
    if (epoch !== undefined) {
      // A proof already made.
    } else if ((a.epoch === "departure" || a.epoch === "departureNext") && departed.length > 0) {
      const l = departed[a.back % departed.length];
      epoch = epochAt(w, l.until) + (a.epoch === "departureNext" ? 1n : 0n);
    } else if (a.epoch === "past") epoch = current >= BigInt(a.back) ? current - BigInt(a.back) : 0n;
    else epoch = current;
    const ids = w.licenseOrder;
    const mine = ids.filter((id) => licenseOf(m, id)!.operator === op || licenseOf(m, id)!.former === op);
    const licenseIds =
      a.licenses === "none"
        ? []
        : a.licenses === "extra"
          ? [...mine, ...mine.slice(0, 1), ids[a.back % ids.length], BigInt(ids.length + 1)]
          : mine;
    const prover: Actor = {
      keeper: "keeper" as const,
      other: "other" as const,
      self: OPERATORS[op],
      otherOp: OPERATORS[(op + 1) % OPERATORS.length],
    }[a.prover];
    const other = (op + 1 + (a.other % (OPERATORS.length - 1))) % OPERATORS.length;
    return actProveEquivocation(w, m, { op, epoch, prover, licenseIds, fault, other });
  }
}

/* ========================================================================== */
/*                                 ARBITRARIES                                */
/* ========================================================================== */

const providerArb = fc.integer({ min: 0, max: 1 });
const selArb = fc.nat({ max: 1_000 });
const rare = <T>(common: fc.Arbitrary<T>, uncommon: fc.Arbitrary<T>, odds = 8) =>
  fc.oneof({ weight: odds, arbitrary: common }, { weight: 1, arbitrary: uncommon });
/** Uptimes around every threshold that matters: the tiers' targets, the schedule's steps, the slash threshold. */
const uptimeArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      10_000n,
      9_999n,
      9_990n,
      9_989n,
      9_950n,
      9_949n,
      9_900n,
      9_890n,
      9_500n,
      9_001n,
      9_000n,
      8_999n,
      8_500n,
      8_000n,
      5_000n,
      0n,
    ),
  },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 10_000n }) },
);

/** A rental of 1-3 GPUs of either node, on any plan and SLA tier, by either renter, paid for up to 3 hours. */
export function rentArbitrary(): fc.Arbitrary<Rent> {
  return fc
    .record({
      renter: fc.integer({ min: 0, max: 1 }),
      node: fc.integer({ min: 0, max: 1 }),
      plan: fc.constantFrom<Plan>(Plan.PayAsYouGo, Plan.Hourly, Plan.Saving),
      slaTier: fc.integer({ min: 0, max: 2 }),
      gpus: fc.integer({ min: 1, max: 3 }),
      seconds: fc.oneof(fc.integer({ min: 60, max: 1_800 }), fc.integer({ min: 1, max: 3 * 3_600 })),
    })
    .map((a) => new Rent(a));
}

/** Every command of the walk, weighted towards reports, credits and the rentals they need. */
export function stepArbitraries(): fc.Arbitrary<Step>[] {
  const rent = rentArbitrary();
  const timeJump = fc
    .record({
      seconds: fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 1, max: 180 }) },
        { weight: 2, arbitrary: fc.constantFrom(59, 60, 61, 120) },
        { weight: 2, arbitrary: fc.integer({ min: 181, max: 3_600 }) },
        { weight: 1, arbitrary: fc.integer({ min: 3_601, max: 2 * 86_400 }) },
      ),
    })
    .map((a) => new TimeJump(a));
  const jumpToBoundary = fc
    .record({
      target: fc.constantFrom<"paidUntil" | "closableAt">("paidUntil", "closableAt"),
      index: selArb,
      offset: fc.constantFrom<-1 | 0 | 1>(-1, 0, 1),
    })
    .map((a) => new JumpToBoundary(a));
  const report = fc
    .record({
      epoch: fc.oneof(
        { weight: 8, arbitrary: fc.constant<EpochChoice>("next") },
        { weight: 3, arbitrary: fc.constant<EpochChoice>("near") },
        { weight: 2, arbitrary: fc.constant<EpochChoice>("latest") },
        { weight: 1, arbitrary: fc.constantFrom<EpochChoice>("again", "stale", "notEnded") },
      ),
      back: fc.integer({ min: 1, max: 4 }),
      uptime: fc.tuple(uptimeArb, uptimeArb),
      mismatch: fc.tuple(
        rare(fc.constant(false), fc.constant(true), 8),
        rare(fc.constant(false), fc.constant(true), 8),
      ),
      weights: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }),
      checkers: fc.integer({ min: 0, max: 15 }),
      capacityPct: fc.integer({ min: 0, max: 100 }),
      fracBps: fc.oneof(
        { weight: 2, arbitrary: fc.constant(0) },
        { weight: 10, arbitrary: fc.integer({ min: 0, max: 10_000 }) },
        { weight: 2, arbitrary: fc.constant(10_000) },
        { weight: 2, arbitrary: fc.integer({ min: 10_001, max: 12_000 }) },
      ),
      lie: rare(fc.constant(false), fc.constant(true), 6),
      signing: rare(
        fc.constant<Signing>("quorum"),
        fc.constantFrom<Signing>("belowQuorum", "tombstone", "tombstone", "oldVersion"),
        6,
      ),
    })
    .map((a) => new Report(a));
  const claim = fc
    .record({
      beneficiary: fc.integer({ min: 0, max: STAKERS.length - 1 }),
      picks: fc.array(
        fc.record({
          sel: selArb,
          fault: rare(
            fc.constant<ClaimFault>("none"),
            fc.constantFrom<ClaimFault>("double", "wrongAccount", "tampered", "unreported"),
            4,
          ),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    })
    .map((a) => new Claim(a));
  const withdrawVested = fc
    .record({
      owner: fc.integer({ min: 0, max: STAKERS.length - 1 }),
      position: selArb,
      unknown: rare(fc.constant(false), fc.constant(true)),
    })
    .map((a) => new WithdrawVested(a));
  const vestingJump = fc
    .record({
      position: selArb,
      ageDays: fc.constantFrom<30 | 90 | 180>(30, 90, 180),
      offset: fc.constantFrom<-1 | 0 | 1>(-1, 0, 1),
    })
    .map((a) => new VestingJump(a));
  const applySlaCredit = fc
    .record({
      rental: selArb,
      epoch: selArb,
      fault: rare(
        fc.constant<CreditFault>("none"),
        fc.constantFrom<CreditFault>(
          "otherNode",
          "badMetrics",
          "badProof",
          "unreported",
          "checkerLeaf",
          "unknownRental",
        ),
        6,
      ),
    })
    .map((a) => new ApplySlaCredit(a));
  const applySlaCredits = fc
    .record({
      epoch: selArb,
      node: providerArb,
      rentals: rare<"due" | number[]>(fc.constant("due"), fc.array(selArb, { minLength: 1, maxLength: 3 }), 3),
      fault: rare(
        fc.constant<BatchFault>("none"),
        fc.constantFrom<BatchFault>("duplicate", "otherNodeRental", "empty"),
        5,
      ),
    })
    .map((a) => new ApplySlaCredits(a));
  const slashForDowntime = fc
    .record({
      rental: selArb,
      epoch: selArb,
      fault: rare(
        fc.constant<DowntimeFault>("none"),
        fc.constantFrom<DowntimeFault>("one", "three", "otherNode", "notConsecutive", "stale"),
        5,
      ),
    })
    .map((a) => new SlashForDowntime(a));
  const slashForFraud = fc
    .record({
      epoch: selArb,
      node: providerArb,
      fault: rare(
        fc.constant<"none" | "badMetrics" | "unreported">("none"),
        fc.constantFrom<"none" | "badMetrics" | "unreported">("badMetrics", "unreported"),
        5,
      ),
    })
    .map((a) => new SlashForFraud(a));
  const closeOnJailedNode = fc
    .record({
      rentals: fc.oneof(
        { weight: 3, arbitrary: fc.constant<"jailed">("jailed") },
        { weight: 2, arbitrary: fc.array(selArb, { minLength: 1, maxLength: 3 }) },
      ),
    })
    .map((a) => new CloseOnJailedNode(a));
  const withdrawEarnings = fc
    .record({
      provider: rare<number | "ofRental">(fc.constant("ofRental"), providerArb, 3),
      rental: selArb,
      rentals: fc.oneof(
        { weight: 3, arbitrary: fc.constant<"own">("own") },
        { weight: 1, arbitrary: fc.array(selArb, { maxLength: 4 }) },
      ),
    })
    .map((a) => new WithdrawEarnings(a));
  const endRental = fc
    .record({ rental: selArb, caller: rare(fc.integer({ min: 0, max: 1 }), fc.constant(2), 6) })
    .map((a) => new EndRental(a));
  const stake = fc
    .record({
      provider: providerArb,
      amount: fc.oneof(
        { weight: 4, arbitrary: fc.constant<"shortfall">("shortfall") },
        { weight: 1, arbitrary: fc.constant<"zero">("zero") },
        { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: KAI(5_000) }) },
      ),
    })
    .map((a) => new Stake(a));
  const requestUnstake = fc
    .record({
      provider: providerArb,
      amount: fc.constantFrom<"unlocked" | "half" | "overStaked">("unlocked", "half", "overStaked"),
    })
    .map((a) => new RequestUnstake(a));

  // The checker side: licenses, operator stakes, governance's rotations, exclusions, equivocation proofs.
  const opArb = fc.nat({ max: 99 });
  const moveLicense = fc
    .record({
      action: fc.oneof(
        { weight: 6, arbitrary: fc.constant<LicenseAction>("delegate") },
        { weight: 3, arbitrary: fc.constant<LicenseAction>("undelegate") },
        { weight: 2, arbitrary: fc.constant<LicenseAction>("reinstate") },
      ),
      license: selArb,
      to: selArb,
      fault: rare(fc.constant<LicenseFault>("none"), fc.constantFrom<LicenseFault>("same", "notOwner", "unknownId"), 8),
      wait: fc.oneof(
        { weight: 8, arbitrary: fc.constant<"no">("no") },
        { weight: 2, arbitrary: fc.constantFrom<"ready" | "justBefore">("ready", "justBefore") },
      ),
    })
    .map((a) => new MoveLicense(a));
  const setDepartureCooldown = fc
    .record({
      cooldown: rare(
        fc.constantFrom(DAY, 2n * DAY, 14n * DAY, MAX_DEPARTURE_COOLDOWN),
        fc.constantFrom(MIN_DEPARTURE_COOLDOWN - 1n, MAX_DEPARTURE_COOLDOWN + 1n),
        4,
      ),
    })
    .map((a) => new SetDepartureCooldown(a));
  const checkerStake = fc
    .record({
      op: opArb,
      amount: fc.oneof(
        { weight: 4, arbitrary: fc.constant<"toMin">("toMin") },
        { weight: 1, arbitrary: fc.constant<"zero">("zero") },
        { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: KAI(5_000) }) },
      ),
    })
    .map((a) => new CheckerStake(a));
  const checkerRequestUnstake = fc
    .record({
      op: opArb,
      amount: fc.constantFrom<"all" | "half" | "belowMin" | "over">("all", "half", "belowMin", "belowMin", "over"),
    })
    .map((a) => new CheckerRequestUnstake(a));
  const checkerWithdrawUnstaked = fc
    .record({ op: opArb, wait: fc.boolean() })
    .map((a) => new CheckerWithdrawUnstaked(a));
  const rotateCheckers = fc
    .record({
      pick: fc.oneof(
        { weight: 8, arbitrary: fc.constant<RotationPick>("eligible") },
        { weight: 2, arbitrary: fc.constant<RotationPick>("withIneligible") },
        { weight: 1, arbitrary: fc.constantFrom<RotationPick>("unsorted", "badQuorum", "empty") },
      ),
      sel: selArb,
      quorum: fc.constantFrom<"min" | "max">("min", "max"),
    })
    .map((a) => new RotateCheckers(a));
  const excludeOperator = fc
    .record({
      index: selArb,
      caller: fc.constantFrom<"keeper" | "other" | "renter">("keeper", "other", "renter"),
      pick: rare(fc.constant(true), fc.constant(false), 3),
    })
    .map((a) => new ExcludeOperator(a));
  const proveEquivocation = fc
    .record({
      op: opArb,
      other: opArb,
      epoch: fc.constantFrom<ProofEpoch>("current", "past", "departure", "departureNext"),
      back: fc.nat({ max: 8 }),
      prover: fc.constantFrom<"keeper" | "other" | "self" | "otherOp">("keeper", "keeper", "other", "self", "otherOp"),
      licenses: rare(
        fc.constant<"keeper" | "none" | "extra">("keeper"),
        fc.constantFrom<"keeper" | "none" | "extra">("none", "extra"),
        3,
      ),
      fault: fc.oneof(
        { weight: 8, arbitrary: fc.constant<EquivocationFault | "again" | "repeat">("none") },
        { weight: 2, arbitrary: fc.constant<EquivocationFault | "again" | "repeat">("repeat") },
        {
          weight: 2,
          arbitrary: fc.constantFrom<EquivocationFault | "again" | "repeat">(
            "sameContent",
            "differentSigners",
            "again",
          ),
        },
      ),
    })
    .map((a) => new ProveEquivocation(a));

  // `fc.commands` picks uniformly among the arbitraries: repeat each as often as it should run.
  const weighted: [number, fc.Arbitrary<Step>][] = [
    [12, rent],
    [10, timeJump],
    [2, jumpToBoundary],
    [16, report],
    [7, claim],
    [3, withdrawVested],
    [1, vestingJump],
    [9, applySlaCredit],
    [4, applySlaCredits],
    [5, slashForDowntime],
    [3, slashForFraud],
    [2, fc.record({ pick: selArb }).map((a) => new PayStakeCredit(a))],
    [3, closeOnJailedNode],
    [4, withdrawEarnings],
    [3, endRental],
    [2, fc.record({ rental: selArb }).map((a) => new CloseRental(a))],
    [2, fc.record({ node: fc.integer({ min: 0, max: 2 }) }).map((a) => new ReleaseNode(a))],
    [
      2,
      fc
        .record({ node: fc.integer({ min: 0, max: 3 }), byOwner: rare(fc.constant(true), fc.constant(false)) })
        .map((a) => new ResumeNode(a)),
    ],
    [2, stake],
    [1, requestUnstake],
    [1, fc.record({ provider: providerArb }).map((a) => new WithdrawUnstaked(a))],
    [
      1,
      fc
        .record({ staker: providerArb, amount: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: KAI(5_000) })) })
        .map((a) => new DepositRewards(a)),
    ],
    [1, fc.record({ amount: fc.constantFrom(0n, KAI(500), KAI(2_000)) }).map((a) => new FundReserve(a))],
    [4, moveLicense],
    [1, setDepartureCooldown],
    [2, checkerStake],
    [2, checkerRequestUnstake],
    [1, checkerWithdrawUnstaked],
    [
      1,
      fc
        .record({
          staker: fc.integer({ min: PROVIDERS.length, max: STAKERS.length - 1 }),
          amount: fc.bigInt({ min: 1n, max: KAI(3_000) }),
        })
        .map((a) => new DepositRewards(a)),
    ],
    [2, rotateCheckers],
    [2, excludeOperator],
    [2, proveEquivocation],
    [
      1,
      fc
        .record({
          rate: rare(fc.constantFrom(...KAI_RATES), fc.constantFrom(MAX_KAI_PER_TOKEN, MAX_KAI_PER_TOKEN + 1n), 6),
        })
        .map((a) => new SetKaiPerToken(a)),
    ],
  ];
  return weighted.flatMap(([n, arb]) => Array<fc.Arbitrary<Step>>(n).fill(arb));
}

/**
 * Runs a sequence from the start state: the KAI rate `rate` for USD credits, the `opening` rentals
 * (so that the first reports have rentals to credit and slash), the `steps`, then the final drain.
 */
export async function runSequence(
  w: World,
  opening: Step[],
  steps: Iterable<fc.AsyncCommand<Model, World>>,
  rate: bigint,
): Promise<Model> {
  await resetWorld(w);
  const m = await initialModel(w);
  await checkInvariants(w, m);
  if (rate !== 0n) await new SetKaiPerToken({ rate }).run(m, w);
  for (const step of opening) await step.run(m, w);
  await fc.asyncModelRun(() => ({ model: m, real: w }), steps);
  await finalDrain(w, m);
  return m;
}
