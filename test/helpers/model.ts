/**
 * The money model behind `test/scenarios/moneyWalk.test.ts` and `regressions.test.ts`.
 *
 * A TypeScript model of NodeRegistry's stakes and RentalEscrow's books, built on the bigint mirror
 * `offchain/src/rentalMath.ts`. Every command resolves its (generated) arguments against the model,
 * predicts the exact outcome (success, or the exact custom error with its arguments), sends the
 * transaction at a timestamp the model chose, and applies the prediction. After every step
 * `checkInvariants` reads the whole chain state in one call (`MoneyWalkProbe`) and compares it with
 * the model field by field, then checks the money invariants of shared/threats.md.
 *
 * Every transaction is mined at a timestamp fixed by the model and sent with an explicit gas limit
 * (no estimate), so a sequence replays identically from a snapshot: same seed, same path, same
 * blocks.
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers, network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { BaseContract, ContractTransactionReceipt, ContractTransactionResponse, Interface } from "ethers";

import * as rm from "../../offchain/src/rentalMath";
import { CloseReason, ContractRevert, Plan } from "../../offchain/src/rentalMath";
import type { MockBlocklistToken, MoneyWalkProbe } from "../../typechain-types";
import {
  ENDPOINT,
  H100_MULTIPLIER_BPS,
  KAI,
  RTX_MULTIPLIER_BPS,
  USD,
  defaultSpec,
  deployCore,
  type Core,
} from "../fixtures";

/* ========================================================================== */
/*                                  CONSTANTS                                 */
/* ========================================================================== */

export const TOKENS = ["usd", "kai", "busd"] as const;
export type TokenKey = (typeof TOKENS)[number];
/** Index of each token in the escrow's allow-list (the order `setupWorld` lists them in). */
const TOKEN_INDEX: Record<TokenKey, number> = { usd: 0, kai: 1, busd: 2 };

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
  "escrow",
  "registry",
] as const;
export type Holder = (typeof HOLDERS)[number];
const PROVIDERS = ["provider", "provider2"] as const;
const RENTERS = ["renter", "renter2"] as const;
const STRANGERS = ["keeper", "other"] as const;

const GPU_CLASS_MULTIPLIER = [H100_MULTIPLIER_BPS, RTX_MULTIPLIER_BPS];
const BPS = 10_000n;
const HOUR = 3_600n;
const DAY = 86_400n;
const UNBONDING_PERIOD = 14n * DAY;
const REWARD_POOL_SHARE_BPS = 5_000n;
const SLA_TIER_COUNT = 3n;
const GAS_LIMIT = 8_000_000n;
/** Where every sequence starts (Unix seconds): a fixed time makes runs replay block for block. */
export const WALK_START = 2_000_000_000n;

const Status = { None: 0, Active: 1, Grace: 2, Closed: 3 } as const;
const NodeStatusN = { None: 0, Active: 1, Paused: 2, Jailed: 3, Retired: 4 } as const;
const ROLE = {
  SLASHER: ethers.id("SLASHER_ROLE"),
  ORACLE: ethers.id("ORACLE_ROLE"),
};

/* ========================================================================== */
/*                                    WORLD                                   */
/* ========================================================================== */

/** The deployed contracts and signers (the "real" system of the model-based test). */
export interface World {
  c: Core;
  busd: MockBlocklistToken;
  probe: MoneyWalkProbe;
  token: Record<TokenKey, BaseContract & { getAddress(): Promise<string> }>;
  tokenAddr: Record<TokenKey, string>;
  /** A listed-nowhere address, for TokenNotAllowed paths. */
  bogusToken: string;
  signer: Record<Exclude<Holder, "escrow" | "registry">, HardhatEthersSigner>;
  addr: Record<Holder, string>;
  /** `evm_snapshot` id of the start state. */
  snapshot: string;
}

/**
 * Deploys the core (fixtures' `deployCore`), adds a blocklist payment token (USDC-like: transfers
 * to a blocked renter fail, so refunds go to `refundCredit`), lists an 8xH100 node for `provider`
 * and a 4xRTX node for `provider2`, each staked exactly, moves time to {@link WALK_START} and takes
 * a snapshot.
 */
export async function setupWorld(): Promise<World> {
  const c = await deployCore();
  const busd = await ethers.deployContract("MockBlocklistToken");
  const probe = await ethers.deployContract("MoneyWalkProbe");
  await c.escrow.allowPaymentToken(await busd.getAddress());
  for (const who of [c.renter, c.renter2]) {
    await busd.mint(who.address, USD(1_000_000));
    await busd.connect(who).approve(await c.escrow.getAddress(), ethers.MaxUint256);
  }
  const tokenAddr = {
    usd: await c.usd.getAddress(),
    kai: await c.kai.getAddress(),
    busd: await busd.getAddress(),
  };
  await c.registry
    .connect(c.provider)
    .registerNode(defaultSpec, ENDPOINT, [tokenAddr.usd, tokenAddr.kai, tokenAddr.busd], INITIAL_NODE_PRICES);
  await c.registry.connect(c.provider).stake(await c.registry.requiredStake(c.provider.address));
  await c.registry
    .connect(c.provider2)
    .registerNode(SECOND_NODE_SPEC, ENDPOINT, [tokenAddr.usd, tokenAddr.kai, tokenAddr.busd], SECOND_NODE_PRICES);
  await c.registry.connect(c.provider2).stake(await c.registry.requiredStake(c.provider2.address));

  // Absolute times never change the math (only differences do), so a chain that some earlier test
  // file moved past WALK_START still walks; it just does not replay block for block.
  const latest = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const startAt = latest < WALK_START ? WALK_START : latest + 1n;
  await network.provider.send("evm_setNextBlockTimestamp", [Number(startAt)]);
  await network.provider.send("evm_mine", []);

  const signer = {
    admin: c.admin,
    treasury: c.treasury,
    rewardPool: c.rewardPool,
    guardian: c.guardian,
    oracle: c.oracle,
    provider: c.provider,
    provider2: c.provider2,
    renter: c.renter,
    renter2: c.renter2,
    keeper: c.keeper,
    other: c.other,
  };
  const addr = Object.fromEntries(Object.entries(signer).map(([k, s]) => [k, s.address])) as Record<Holder, string>;
  addr.escrow = await c.escrow.getAddress();
  addr.registry = await c.registry.getAddress();
  return {
    c,
    busd,
    probe,
    token: { usd: c.usd, kai: c.kai, busd },
    tokenAddr,
    bogusToken: await probe.getAddress(),
    signer,
    addr,
    snapshot: await network.provider.send("evm_snapshot", []),
  };
}

/** Back to the start state (and a fresh snapshot of it: a snapshot is used up by `evm_revert`). */
export async function resetWorld(w: World): Promise<void> {
  const ok = await network.provider.send("evm_revert", [w.snapshot]);
  expect(ok, "evm_revert").to.equal(true);
  w.snapshot = await network.provider.send("evm_snapshot", []);
}

const INITIAL_NODE_PRICES = [USD(2), KAI(20), USD(3)];
/** provider2's node: 4 x RTX 4090 (class 1), cheaper, and not accepting the blocklist token. */
const SECOND_NODE_SPEC = { ...defaultSpec, gpuClass: 1, gpuCount: 4, vramGiB: 24 };
const SECOND_NODE_PRICES = [USD(1) / 2n, KAI(7), 0n];

/* ========================================================================== */
/*                                    MODEL                                   */
/* ========================================================================== */

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
  totalStaked: bigint;
  slashedStake: bigint; // from active and unbonding stake
  withdrawnStake: bigint;
  totalRewards: bigint;
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
  totalStaked: 0n,
  slashedStake: 0n,
  withdrawnStake: 0n,
  totalRewards: 0n,
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
    st.totalStaked = st.staked;
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

const money = (r: ModelRental): rm.RentalMoney => ({
  plan: r.plan,
  anchor: r.anchor,
  unitPrice: r.unitPrice,
  deposit: r.amount,
});

function move(m: Model, token: TokenKey, from: Holder, to: Holder, amount: bigint) {
  if (amount === 0n) return;
  if (m.bal[token][from] < amount) throw new Error(`model: ${from} cannot pay ${amount} ${token}`);
  m.bal[token][from] -= amount;
  m.bal[token][to] += amount;
  if (to === "escrow") m.escrowIn[token] += amount;
  if (from === "escrow") m.escrowOut[token] += amount;
}

const requiredStake = (m: Model, p: number) => (m.baseStakePerGpu * m.stakes[p].listedWeight) / BPS;
const lockedStake = (m: Model, p: number) => (m.baseStakePerGpu * m.stakes[p].lockedWeight) / BPS;
/** `NodeRegistry.rentedStake`: the requirement of `p`'s nodes with at least one GPU rented. */
const rentedStake = (m: Model, p: number) =>
  (m.baseStakePerGpu *
    m.nodes
      .filter((n) => n.provider === p && n.rented > 0n)
      .reduce((a, n) => a + n.gpuCount * GPU_CLASS_MULTIPLIER[n.gpuClass], 0n)) /
  BPS;
/** What `requestUnstake` cannot take: the larger of the locked and the rented stake. */
const heldStake = (m: Model, p: number) => {
  const locked = lockedStake(m, p);
  const rented = rentedStake(m, p);
  return locked > rented ? locked : rented;
};
const isOpen = (r: ModelRental) => r.status === Status.Active || r.status === Status.Grace;
const nodeOf = (m: Model, nodeId: bigint) => m.nodes.find((n) => n.id === nodeId);

/** The outcome a transaction must have. */
export type Outcome =
  { ok: true } | { ok: false; contract: BaseContract; error: string; args: unknown[] } | { ok: false; reason: string };

const OK: Outcome = { ok: true };
const err = (contract: BaseContract, error: string, ...args: unknown[]): Outcome => ({
  ok: false,
  contract,
  error,
  args,
});

/** Why a token transfer from `from` would fail, if it would (blocklist first, then balance). */
function pullFailure(w: World, m: Model, token: TokenKey, from: Holder, amount: bigint): Outcome | undefined {
  const renterIdx = (RENTERS as readonly string[]).indexOf(from);
  if (token === "busd" && renterIdx >= 0 && m.blocked[renterIdx]) return { ok: false, reason: "blocked" };
  if (m.bal[token][from] < amount) {
    return err(w.token[token], "ERC20InsufficientBalance", w.addr[from], m.bal[token][from], amount);
  }
  return undefined;
}

/* ========================================================================== */
/*                             SENDING A STEP                                 */
/* ========================================================================== */

/** Outcome counts per action (`KAISAR_FC_STATS=1` prints them): shows what the generators reach. */
export const outcomeStats = new Map<string, number>();

/**
 * Sends one transaction at `m.next` and checks its outcome. Returns the receipt on success.
 * The explicit gas limit skips `eth_estimateGas`, so a reverting transaction is mined too (at the
 * model's timestamp) and its revert data decoded by the chai matchers.
 */
async function send(
  m: Model,
  outcome: Outcome,
  tx: (overrides: { gasLimit: bigint }) => Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt | undefined> {
  await network.provider.send("evm_setNextBlockTimestamp", [Number(m.next)]);
  const at = m.next;
  m.now = at;
  m.next = at + 1n;
  const step = (m.log[m.log.length - 1] ?? "?").split("(")[0].replace(/^new /, "");
  const label = `${step}: ${outcome.ok ? "ok" : "reason" in outcome ? outcome.reason : outcome.error}`;
  outcomeStats.set(label, (outcomeStats.get(label) ?? 0) + 1);
  m.outcomes.push(label);
  if (outcome.ok) {
    const receipt = await (await tx({ gasLimit: GAS_LIMIT })).wait();
    return receipt ?? undefined;
  }
  if ("reason" in outcome) {
    await expect(tx({ gasLimit: GAS_LIMIT }), `reverts "${outcome.reason}"`).to.be.revertedWith(outcome.reason);
  } else {
    await expect(tx({ gasLimit: GAS_LIMIT }), `reverts ${outcome.error}(${outcome.args.join(", ")})`)
      .to.be.revertedWithCustomError(outcome.contract, outcome.error)
      .withArgs(...outcome.args);
  }
  return undefined;
}

/** The arguments of the one `name` event `contract` emitted in `receipt`. */
function eventArgs(receipt: ContractTransactionReceipt | undefined, contract: BaseContract, name: string) {
  const iface = contract.interface as Interface;
  const target = contract.target.toString().toLowerCase();
  const found = receipt!.logs
    .filter((l) => l.address.toLowerCase() === target)
    .map((l) => iface.parseLog(l))
    .filter((l) => l?.name === name);
  expect(found.length, `one ${name} event`).to.equal(1);
  return found[0]!.args;
}

function expectEvent(
  receipt: ContractTransactionReceipt | undefined,
  contract: BaseContract,
  name: string,
  expected: unknown[],
) {
  const args = eventArgs(receipt, contract, name);
  const actual = [...args].map((a) => (typeof a === "string" ? a.toLowerCase() : a));
  const want = expected.map((a) => (typeof a === "string" ? a.toLowerCase() : typeof a === "number" ? BigInt(a) : a));
  expect(actual, `${name} arguments`).to.deep.equal(want);
}

/* ========================================================================== */
/*                       ACTIONS (predict, send, apply)                        */
/* ========================================================================== */
// Each action takes resolved arguments. Commands resolve generated selectors into them; the final
// drain calls them directly.

export async function actRegisterNode(
  w: World,
  m: Model,
  p: number,
  gpuClass: number,
  gpuCount: bigint,
  prices: Record<TokenKey, bigint>,
) {
  const who = PROVIDERS[p];
  const outcome = m.registryPaused ? err(w.c.registry, "EnforcedPause") : OK;
  const spec = { ...defaultSpec, gpuClass, gpuCount };
  await send(m, outcome, (o) =>
    w.c.registry.connect(w.signer[who]).registerNode(
      spec,
      ENDPOINT,
      [w.tokenAddr.usd, w.tokenAddr.kai, w.tokenAddr.busd],
      TOKENS.map((t) => prices[t]),
      o,
    ),
  );
  if (!outcome.ok) return;
  m.nodes.push({
    id: BigInt(m.nodes.length + 1),
    provider: p,
    gpuClass,
    gpuCount,
    rented: 0n,
    status: NodeStatusN.Active,
    price: { ...prices },
  });
  m.stakes[p].listedWeight += gpuCount * GPU_CLASS_MULTIPLIER[gpuClass];
}

export async function actStake(w: World, m: Model, p: number, amount: bigint) {
  const who = PROVIDERS[p];
  const outcome = m.registryPaused
    ? err(w.c.registry, "EnforcedPause")
    : amount === 0n
      ? err(w.c.registry, "NodeRegistry_ZeroAmount")
      : (pullFailure(w, m, "kai", who, amount) ?? OK);
  await send(m, outcome, (o) => w.c.registry.connect(w.signer[who]).stake(amount, o));
  if (!outcome.ok) return;
  m.stakes[p].staked += amount;
  m.stakes[p].totalStaked += amount;
  move(m, "kai", who, "registry", amount);
}

export async function actRequestUnstake(w: World, m: Model, p: number, amount: bigint) {
  const who = PROVIDERS[p];
  const s = m.stakes[p];
  const locked = heldStake(m, p);
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
  const who = PROVIDERS[p];
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

export async function actDepositRewards(w: World, m: Model, p: number, amount: bigint) {
  const outcome =
    amount === 0n ? err(w.c.registry, "NodeRegistry_ZeroAmount") : (pullFailure(w, m, "kai", "oracle", amount) ?? OK);
  await send(m, outcome, (o) => w.c.registry.connect(w.signer.oracle).depositRewards(w.addr[PROVIDERS[p]], amount, o));
  if (!outcome.ok) return;
  m.stakes[p].rewardsOwed += amount;
  m.stakes[p].totalRewards += amount;
  move(m, "kai", "oracle", "registry", amount);
}

export async function actWithdrawRewards(w: World, m: Model, p: number) {
  const who = PROVIDERS[p];
  const s = m.stakes[p];
  const outcome = s.rewardsOwed === 0n ? err(w.c.registry, "NodeRegistry_ZeroAmount") : OK;
  await send(m, outcome, (o) => w.c.registry.connect(w.signer[who]).withdrawRewards(o));
  if (!outcome.ok) return;
  move(m, "kai", "registry", who, s.rewardsOwed);
  s.withdrawnRewards += s.rewardsOwed;
  s.rewardsOwed = 0n;
}

/** Slash by the oracle (SLASHER_ROLE), or by a stranger (must revert); slashed KAI go to the treasury. */
export async function actSlash(w: World, m: Model, p: number, amount: bigint, asStranger: boolean) {
  const who = PROVIDERS[p];
  const s = m.stakes[p];
  const caller = asStranger ? "other" : "oracle";
  const outcome = asStranger ? err(w.c.registry, "AccessControlUnauthorizedAccount", w.addr.other, ROLE.SLASHER) : OK;
  const fromRewards = amount < s.rewardsOwed ? amount : s.rewardsOwed;
  const restAfterRewards = amount - fromRewards;
  const fromStake = restAfterRewards < s.staked ? restAfterRewards : s.staked;
  const rest = restAfterRewards - fromStake;
  const fromUnbonding = rest < s.unbonding ? rest : s.unbonding;
  const evidence = ethers.id(`walk-slash-${m.log.length}`);
  const receipt = await send(m, outcome, (o) =>
    w.c.registry.connect(w.signer[caller]).slash(w.addr[who], amount, 0, 7, evidence, w.addr.treasury, o),
  );
  if (!outcome.ok) return;
  expectEvent(receipt, w.c.registry, "Slash", [
    w.addr[who],
    0n,
    7n,
    evidence,
    fromRewards,
    fromStake,
    fromUnbonding,
    w.addr.treasury,
  ]);
  s.rewardsOwed -= fromRewards;
  s.staked -= fromStake;
  s.unbonding -= fromUnbonding;
  s.slashedRewards += fromRewards;
  s.slashedStake += fromStake + fromUnbonding;
  if (fromUnbonding !== 0n && s.unbonding === 0n) s.unbondingEnd = 0n;
  move(m, "kai", "registry", "treasury", fromRewards + fromStake + fromUnbonding);
}

export async function actPauseEscrow(w: World, m: Model, pause: boolean) {
  const outcome = m.escrowPaused === pause ? err(w.c.escrow, "RentalEscrow_AlreadySet") : OK;
  await send(m, outcome, (o) =>
    pause ? w.c.escrow.connect(w.signer.guardian).pause(o) : w.c.escrow.connect(w.signer.guardian).unpause(o),
  );
  if (outcome.ok) m.escrowPaused = pause;
}

export async function actPauseRegistry(w: World, m: Model, pause: boolean) {
  const outcome = m.registryPaused === pause ? err(w.c.registry, pause ? "EnforcedPause" : "ExpectedPause") : OK;
  await send(m, outcome, (o) =>
    pause ? w.c.registry.connect(w.signer.guardian).pause(o) : w.c.registry.connect(w.signer.guardian).unpause(o),
  );
  if (outcome.ok) m.registryPaused = pause;
}

/** The blocklist token blocks (or unblocks) a renter: refunds to it then go to `refundCredit`. */
export async function actSetBlocked(w: World, m: Model, renter: number, blocked: boolean) {
  await send(m, OK, (o) => w.busd.connect(w.signer.admin).setBlocked(w.addr[RENTERS[renter]], blocked, o));
  m.blocked[renter] = blocked;
}

export type NodeAction = "pause" | "resume" | "jail" | "unjail" | "retire" | "setPrice";

/**
 * What providers and the oracle do to nodes that changes who can rent and what stake is required:
 * pause / resume (provider), jail / unjail (oracle), retire (provider; drops the stake requirement),
 * set a price (provider; running rentals keep theirs). `byOwner: false` sends it from the other provider.
 */
export async function actNodeAdmin(
  w: World,
  m: Model,
  nodeId: bigint,
  action: NodeAction,
  byOwner: boolean,
  token: TokenKey,
  price: bigint,
) {
  const node = nodeOf(m, nodeId);
  const reg = w.c.registry;
  const owner = node?.provider ?? 0;
  const caller = action === "jail" || action === "unjail" ? "oracle" : PROVIDERS[byOwner ? owner : 1 - owner];
  let outcome: Outcome | undefined;
  if (!node) outcome = err(reg, "NodeRegistry_UnknownNode", nodeId);
  else if (caller !== "oracle" && !byOwner) outcome = err(reg, "NodeRegistry_NotNodeProvider", nodeId, w.addr[caller]);
  else {
    const st = node.status;
    const bad = err(reg, "NodeRegistry_InvalidNodeStatus", nodeId, st);
    switch (action) {
      case "pause":
        outcome = st !== NodeStatusN.Active ? bad : OK;
        break;
      case "resume":
        outcome = st !== NodeStatusN.Paused ? bad : OK;
        break;
      case "jail":
        outcome = st === NodeStatusN.Jailed || st === NodeStatusN.Retired ? bad : OK;
        break;
      case "unjail":
        outcome = st !== NodeStatusN.Jailed ? bad : OK;
        break;
      case "retire":
        // A jailed node stays listed (its stake required) until the oracle unjails it.
        outcome =
          st === NodeStatusN.Retired || st === NodeStatusN.Jailed
            ? bad
            : node.rented !== 0n
              ? err(reg, "NodeRegistry_NodeHasRentals", nodeId, node.rented)
              : OK;
        break;
      case "setPrice":
        outcome =
          st === NodeStatusN.Retired ? bad : node.price[token] === price ? err(reg, "NodeRegistry_AlreadySet") : OK;
        break;
    }
  }
  const r = reg.connect(w.signer[caller]);
  await send(m, outcome, (o) => {
    switch (action) {
      case "pause":
        return r.pauseNode(nodeId, o);
      case "resume":
        return r.resumeNode(nodeId, o);
      case "jail":
        return r.setNodeJailed(nodeId, true, o);
      case "unjail":
        return r.setNodeJailed(nodeId, false, o);
      case "retire":
        return r.retireNode(nodeId, o);
      case "setPrice":
        return r.setNodePrice(nodeId, w.tokenAddr[token], price, o);
    }
  });
  if (!outcome.ok) return;
  const n = node!;
  switch (action) {
    case "pause":
      n.status = NodeStatusN.Paused;
      break;
    case "resume":
      n.status = NodeStatusN.Active;
      break;
    case "jail":
      n.status = NodeStatusN.Jailed;
      break;
    case "unjail":
      n.status = NodeStatusN.Paused;
      break;
    case "retire":
      n.status = NodeStatusN.Retired;
      m.stakes[n.provider].listedWeight -= n.gpuCount * GPU_CLASS_MULTIPLIER[n.gpuClass];
      break;
    case "setPrice":
      n.price[token] = price;
      break;
  }
}

export interface RentArgs {
  renter: number;
  nodeId: bigint;
  gpus: bigint;
  token: TokenKey | "bogus";
  plan: Plan;
  /** Renter's deposit, or a function of the quoted unit price (PAYG/Hourly); 0 for saving. */
  deposit: bigint | ((unitPrice: bigint) => bigint);
  termDays: bigint;
  maxPrice: bigint | ((price: bigint) => bigint);
  slaTier: bigint;
}

/** Predicts `RentalEscrow.rent` (checks in the contract's order), sends it, and books the rental. */
export async function actRent(w: World, m: Model, a: RentArgs) {
  const who = RENTERS[a.renter];
  const saving = a.plan === Plan.Saving;
  const node = nodeOf(m, a.nodeId);
  const tokenAddr = a.token === "bogus" ? w.bogusToken : w.tokenAddr[a.token];
  const price = node && a.token !== "bogus" ? node.price[a.token] : 0n;
  const maxPrice = typeof a.maxPrice === "function" ? a.maxPrice(price) : a.maxPrice;
  let deposit = typeof a.deposit === "bigint" ? a.deposit : 0n;
  let unitPrice = 0n;
  let quoted: rm.Quote | undefined;

  let outcome: Outcome | undefined;
  if (m.escrowPaused) outcome = err(w.c.escrow, "RentalEscrow_Paused");
  else if (a.gpus === 0n || a.gpus > 255n) outcome = err(w.c.escrow, "RentalEscrow_InvalidGpuCount", a.gpus);
  else if (a.slaTier >= SLA_TIER_COUNT)
    outcome = err(w.c.escrow, "RentalEscrow_UnknownSlaTier", a.slaTier, SLA_TIER_COUNT);
  else if (saving ? ![7n, 30n, 90n].includes(a.termDays) : a.termDays !== 0n)
    outcome = err(w.c.escrow, "RentalEscrow_InvalidTerm", a.plan, a.termDays);
  else if (a.token === "bogus" || !m.tokenEnabled[a.token])
    outcome = err(w.c.escrow, "RentalEscrow_TokenNotAllowed", tokenAddr);
  else if (!node) outcome = err(w.c.registry, "NodeRegistry_UnknownNode", a.nodeId);
  else if (node.status !== NodeStatusN.Active)
    outcome = err(w.c.registry, "NodeRegistry_InvalidNodeStatus", a.nodeId, node.status);
  else if (a.gpus > node.gpuCount - node.rented)
    outcome = err(w.c.registry, "NodeRegistry_NotEnoughFreeGpus", a.nodeId, a.gpus, node.gpuCount - node.rented);
  else if (price === 0n) outcome = err(w.c.registry, "NodeRegistry_TokenNotAccepted", a.nodeId, tokenAddr);
  else if (m.stakes[node.provider].staked < requiredStake(m, node.provider))
    outcome = err(
      w.c.registry,
      "NodeRegistry_InsufficientStake",
      w.addr[PROVIDERS[node.provider]],
      m.stakes[node.provider].staked,
      requiredStake(m, node.provider),
    );
  else if (price > maxPrice) outcome = err(w.c.escrow, "RentalEscrow_PriceAboveCap", a.nodeId, price, maxPrice);
  else {
    // The deposit may be expressed in units of the quoted price: quote once with a deposit that
    // always passes (or 0 for saving) to learn the unit price, then with the real deposit.
    if (typeof a.deposit === "function") {
      const perHour = price * a.gpus;
      deposit = a.deposit(a.plan === Plan.PayAsYouGo ? (perHour + HOUR - 1n) / HOUR : perHour);
    }
    try {
      const discount = m.savingDiscount[a.termDays.toString()] ?? 0n;
      const grace = m.terms[m.terms.length - 1].gracePeriod;
      quoted = rm.quote(a.plan, price, a.gpus, deposit, a.termDays, discount, grace);
      unitPrice = quoted.unitPrice;
      outcome = pullFailure(w, m, a.token, who, quoted.deposit) ?? OK;
    } catch (e) {
      if (!(e instanceof ContractRevert)) throw e;
      outcome = err(w.c.escrow, e.errorName, ...e.args);
    }
  }
  const params = {
    nodeId: a.nodeId,
    gpus: a.gpus,
    token: tokenAddr,
    plan: a.plan,
    deposit,
    termDays: a.termDays,
    maxPricePerGpuHour: maxPrice,
    slaTier: a.slaTier,
  };
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer[who]).rent(params, o));
  if (!outcome.ok) return;
  const token = a.token as TokenKey;
  const id = BigInt(m.rentals.length + 1);
  expectEvent(receipt, w.c.escrow, "OpenRental", [
    id,
    w.addr[who],
    a.nodeId,
    tokenAddr,
    a.plan,
    a.gpus,
    quoted!.unitPrice,
    quoted!.deposit,
    a.termDays,
    a.slaTier,
  ]);
  m.rentals.push({
    id,
    renter: a.renter,
    nodeId: a.nodeId,
    provider: node!.provider,
    gpus: a.gpus,
    token,
    plan: a.plan,
    termDays: a.termDays,
    slaTier: a.slaTier,
    status: Status.Active,
    closeReason: CloseReason.None,
    termsVersion: m.terms.length - 1,
    amount: quoted!.deposit,
    unitPrice,
    anchor: m.now,
    withdrawnUnits: 0n,
    deposited: quoted!.deposit,
    grossWithdrawn: 0n,
    providerTotal: 0n,
    refunded: 0n,
  });
  node!.rented += a.gpus;
  if (saving) m.stakes[node!.provider].lockedWeight += a.gpus * GPU_CLASS_MULTIPLIER[node!.gpuClass];
  move(m, token, who, "escrow", quoted!.deposit);
}

/** `_openRental`: unknown or closed rentals revert first. */
function openRentalFailure(w: World, m: Model, id: bigint): Outcome | undefined {
  const r = m.rentals[Number(id) - 1];
  if (id === 0n || !r) return err(w.c.escrow, "RentalEscrow_UnknownRental", id);
  if (r.status === Status.Closed) return err(w.c.escrow, "RentalEscrow_RentalClosed", id);
  return undefined;
}

export async function actTopUp(w: World, m: Model, id: bigint, caller: Holder, amount: bigint) {
  const r = m.rentals[Number(id) - 1];
  const t = m.next;
  let outcome: Outcome | undefined = m.escrowPaused ? err(w.c.escrow, "RentalEscrow_Paused") : undefined;
  outcome ??= openRentalFailure(w, m, id);
  let newAnchor: bigint | undefined; // set when the top-up resumes a depleted rental
  if (!outcome) {
    if (w.addr[caller] !== w.addr[RENTERS[r.renter]])
      outcome = err(w.c.escrow, "RentalEscrow_NotRenter", id, w.addr[caller]);
    else if (r.plan === Plan.Saving) outcome = err(w.c.escrow, "RentalEscrow_TopUpNotAllowed", id, r.plan);
    else if (amount === 0n) outcome = err(w.c.escrow, "RentalEscrow_ZeroAmount");
    else {
      const until = rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount);
      if (t >= until) {
        const grace = m.terms[r.termsVersion].gracePeriod;
        const graceEnd = until + grace;
        // A top-up that resumes a depleted rental must buy at least a grace period of runtime.
        const unit = rm.unitSeconds(r.plan);
        const minimumUnits = r.amount / r.unitPrice + (grace + unit - 1n) / unit;
        if (t >= graceEnd) outcome = err(w.c.escrow, "RentalEscrow_GraceExpired", id, graceEnd);
        else if ((r.amount + amount) / r.unitPrice < minimumUnits) {
          outcome = err(w.c.escrow, "RentalEscrow_TopUpTooSmall", id, amount, minimumUnits * r.unitPrice - r.amount);
        } else newAnchor = t - (until - r.anchor);
      }
      if (!outcome) {
        try {
          rm.checkDeposit(r.amount + amount, r.unitPrice);
          outcome = pullFailure(w, m, r.token, caller, amount) ?? OK;
        } catch (e) {
          if (!(e instanceof ContractRevert)) throw e;
          outcome = err(w.c.escrow, e.errorName, ...e.args);
        }
      }
    }
  }
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer[caller as "renter"]).topUp(id, amount, o));
  if (!outcome.ok) return;
  const earnedBefore = rm.earnedUnits(r.plan, r.anchor, r.unitPrice, r.amount, m.now);
  if (newAnchor !== undefined) {
    r.anchor = newAnchor;
    r.status = Status.Active;
  }
  r.amount += amount;
  r.deposited += amount;
  // A top-up buys future time only: what was earned so far stays (grace time is not charged).
  expect(rm.earnedUnits(r.plan, r.anchor, r.unitPrice, r.amount, m.now), "top-up keeps earned units").to.equal(
    earnedBefore,
  );
  expectEvent(receipt, w.c.escrow, "TopUpRental", [
    id,
    amount,
    r.amount,
    rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount),
  ]);
  move(m, r.token, caller, "escrow", amount);
}

/**
 * `_close`: fixes the split at `t`, releases the GPUs (and the saving lock), pays or credits the
 * refund. Returns the revert the refund push would cause (a renter ending its own rental), if any.
 */
function predictClose(w: World, m: Model, r: ModelRental, reason: CloseReason, t: bigint) {
  let s = rm.split(money(r), t, reason, m.terms[r.termsVersion].penaltyBps);
  const withdrawn = rm.valueOf(r.plan, r.unitPrice, r.amount, r.withdrawnUnits);
  // Once closed, `amount` is what the provider has still to withdraw, `withdrawnUnits` the units paid for.
  // (A penalty the provider owes the renter comes out of it: the hold-back kept it there.)
  let remaining = s.providerAmount - withdrawn;
  let servedUnits = rm.earnedUnits(r.plan, r.anchor, r.unitPrice, r.amount, t);
  if (r.plan === Plan.Saving && reason === CloseReason.ProviderSlashed) {
    // Refunded in full: the provider keeps only what it already withdrew.
    s = { ...s, providerAmount: withdrawn, refund: s.refund + remaining };
    remaining = 0n;
    servedUnits = r.withdrawnUnits;
  }
  const blocked = r.token === "busd" && m.blocked[r.renter];
  const failure: Outcome | undefined =
    reason === CloseReason.Renter && s.refund > 0n && blocked ? { ok: false, reason: "blocked" } : undefined;
  const apply = (receipt: ContractTransactionReceipt | undefined, closedBy: string) => {
    expectEvent(receipt, w.c.escrow, "CloseRental", [r.id, reason, closedBy, s.providerAmount, s.refund, s.penalty]);
    r.amount = remaining;
    r.withdrawnUnits = servedUnits;
    r.status = Status.Closed;
    r.closeReason = reason;
    r.providerTotal = s.providerAmount;
    r.refunded = s.refund;
    const node = nodeOf(m, r.nodeId)!;
    node.rented -= r.gpus;
    if (r.plan === Plan.Saving) m.stakes[node.provider].lockedWeight -= r.gpus * GPU_CLASS_MULTIPLIER[node.gpuClass];
    if (s.refund === 0n) return;
    if (blocked) {
      // reason != Renter here: the push failed quietly and the refund waits as a credit.
      m.refundCredit[r.renter][r.token] += s.refund;
      expectEvent(receipt, w.c.escrow, "CreditRefund", [
        r.id,
        w.addr[RENTERS[r.renter]],
        w.tokenAddr[r.token],
        s.refund,
      ]);
    } else {
      move(m, r.token, "escrow", RENTERS[r.renter], s.refund);
    }
  };
  return { failure, apply, split: s };
}

export async function actEndRental(w: World, m: Model, id: bigint, caller: Holder) {
  let outcome = openRentalFailure(w, m, id);
  const r = m.rentals[Number(id) - 1];
  let close: ReturnType<typeof predictClose> | undefined;
  if (!outcome) {
    const reason =
      w.addr[caller] === w.addr[RENTERS[r.renter]]
        ? CloseReason.Renter
        : w.addr[caller] === w.addr[PROVIDERS[r.provider]]
          ? CloseReason.Provider
          : undefined;
    if (reason === undefined) outcome = err(w.c.escrow, "RentalEscrow_NotRentalParty", id, w.addr[caller]);
    else {
      close = predictClose(w, m, r, reason, m.next);
      outcome = close.failure ?? OK;
    }
  }
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer[caller as "renter"]).endRental(id, o));
  if (outcome.ok) close!.apply(receipt, w.addr[caller]);
}

export async function actFlagGrace(w: World, m: Model, id: bigint, caller: Holder) {
  let outcome = openRentalFailure(w, m, id);
  const r = m.rentals[Number(id) - 1];
  if (!outcome) {
    const until = rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount);
    if (r.plan === Plan.Saving) outcome = err(w.c.escrow, "RentalEscrow_NoGracePeriod", id);
    else if (r.status === Status.Grace) outcome = err(w.c.escrow, "RentalEscrow_AlreadyInGrace", id);
    else if (m.next < until) outcome = err(w.c.escrow, "RentalEscrow_NotDepleted", id, until);
    else outcome = OK;
  }
  const receipt = await send(m, outcome, (o) =>
    w.c.escrow.connect(w.signer[caller as "keeper"]).flagGracePeriod(id, o),
  );
  if (!outcome.ok) return;
  const until = rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount);
  expectEvent(receipt, w.c.escrow, "EnterGracePeriod", [
    id,
    w.addr[RENTERS[r.renter]],
    until,
    until + m.terms[r.termsVersion].gracePeriod,
  ]);
  r.status = Status.Grace;
}

export async function actCloseRental(w: World, m: Model, id: bigint, caller: Holder) {
  let outcome = openRentalFailure(w, m, id);
  const r = m.rentals[Number(id) - 1];
  let close: ReturnType<typeof predictClose> | undefined;
  if (!outcome) {
    const closable = rm.closableAt(money(r), m.terms[r.termsVersion].gracePeriod);
    if (m.next < closable) outcome = err(w.c.escrow, "RentalEscrow_NotClosable", id, closable);
    else {
      const reason = r.plan === Plan.Saving ? CloseReason.Expired : CloseReason.InsufficientFunds;
      close = predictClose(w, m, r, reason, m.next);
      outcome = OK;
    }
  }
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer[caller as "keeper"]).closeRental(id, o));
  if (outcome.ok) close!.apply(receipt, w.addr[caller]);
}

export async function actCloseForProviderFault(w: World, m: Model, id: bigint, reason: number, asOracle: boolean) {
  const caller = asOracle ? "oracle" : "other";
  let outcome: Outcome | undefined;
  let close: ReturnType<typeof predictClose> | undefined;
  if (!asOracle) outcome = err(w.c.escrow, "AccessControlUnauthorizedAccount", w.addr.other, ROLE.ORACLE);
  else if (reason !== CloseReason.SlaBreach && reason !== CloseReason.ProviderSlashed)
    outcome = err(w.c.escrow, "RentalEscrow_InvalidCloseReason", reason);
  else outcome = openRentalFailure(w, m, id);
  if (!outcome) {
    close = predictClose(w, m, m.rentals[Number(id) - 1], reason as CloseReason, m.next);
    outcome = OK;
  }
  const receipt = await send(m, outcome, (o) =>
    w.c.escrow.connect(w.signer[caller]).closeForProviderFault(id, reason, o),
  );
  if (outcome.ok) close!.apply(receipt, w.addr[caller]);
}

/** `withdrawEarnings`: the loop's checks in order, each rental collected once (duplicates collect 0). */
export async function actWithdrawEarnings(w: World, m: Model, p: number, token: TokenKey | "bogus", ids: bigint[]) {
  const who = PROVIDERS[p];
  const tokenAddr = token === "bogus" ? w.bogusToken : w.tokenAddr[token];
  let outcome: Outcome | undefined;
  const updates = new Map<bigint, { amount: bigint; withdrawnUnits: bigint; gross: bigint }>();
  let gross = 0n;
  let fee = 0n;
  if (token === "bogus") outcome = err(w.c.escrow, "RentalEscrow_TokenNotAllowed", tokenAddr);
  else {
    let checkedNode = 0n;
    for (const id of ids) {
      const r = m.rentals[Number(id) - 1];
      if (id === 0n || !r) {
        outcome = err(w.c.escrow, "RentalEscrow_UnknownRental", id);
        break;
      }
      if (TOKEN_INDEX[r.token] !== TOKEN_INDEX[token]) {
        outcome = err(w.c.escrow, "RentalEscrow_TokenMismatch", id, tokenAddr);
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
      if (r.status === Status.Closed) {
        amount = cur.amount;
        cur.amount = 0n;
      } else {
        const penaltyBps = m.terms[r.termsVersion].penaltyBps;
        const pd = rm.pending({ ...money(r), deposit: cur.amount }, cur.withdrawnUnits, m.next, penaltyBps);
        amount = pd.amount;
        if (amount !== 0n) cur.withdrawnUnits = pd.units;
      }
      cur.gross += amount;
      updates.set(id, cur);
      if (amount === 0n) continue;
      gross += amount;
      fee += rm.bpsOf(amount, m.terms[r.termsVersion].feeBps);
    }
    if (!outcome && gross === 0n) outcome = err(w.c.escrow, "RentalEscrow_NothingToWithdraw");
  }
  outcome ??= OK;
  const receipt = await send(m, outcome, (o) => w.c.escrow.connect(w.signer[who]).withdrawEarnings(tokenAddr, ids, o));
  if (!outcome.ok) return;
  expectEvent(receipt, w.c.escrow, "WithdrawEarnings", [w.addr[who], tokenAddr, BigInt(ids.length), gross, fee]);
  for (const [id, u] of updates) {
    const r = m.rentals[Number(id) - 1];
    r.amount = u.amount;
    r.withdrawnUnits = u.withdrawnUnits;
    r.grossWithdrawn += u.gross;
  }
  const t = token as TokenKey;
  m.accruedFees[t] += fee;
  move(m, t, "escrow", who, gross - fee);
}

export async function actClaimRefundCredit(w: World, m: Model, renter: number, token: TokenKey) {
  const who = RENTERS[renter];
  const amount = m.refundCredit[renter][token];
  const outcome: Outcome =
    amount === 0n
      ? err(w.c.escrow, "RentalEscrow_NothingToWithdraw")
      : token === "busd" && m.blocked[renter]
        ? { ok: false, reason: "blocked" }
        : OK;
  await send(m, outcome, (o) => w.c.escrow.connect(w.signer[who]).claimRefundCredit(w.tokenAddr[token], o));
  if (!outcome.ok) return;
  m.refundCredit[renter][token] = 0n;
  move(m, token, "escrow", who, amount);
}

export async function actWithdrawFees(w: World, m: Model, token: TokenKey, caller: Holder) {
  const amount = m.accruedFees[token];
  const outcome = amount === 0n ? err(w.c.escrow, "RentalEscrow_NothingToWithdraw") : OK;
  const receipt = await send(m, outcome, (o) =>
    w.c.escrow.connect(w.signer[caller as "keeper"]).withdrawFees(w.tokenAddr[token], o),
  );
  if (!outcome.ok) return;
  const toRewardPool = rm.bpsOf(amount, REWARD_POOL_SHARE_BPS);
  expectEvent(receipt, w.c.escrow, "WithdrawFees", [w.tokenAddr[token], amount - toRewardPool, toRewardPool]);
  m.accruedFees[token] = 0n;
  move(m, token, "escrow", "treasury", amount - toRewardPool);
  move(m, token, "escrow", "rewardPool", toRewardPool);
}

export type GovernanceArgs =
  | { kind: "fee"; value: bigint }
  | { kind: "penalty"; value: bigint }
  | { kind: "grace"; value: bigint }
  | { kind: "discount"; termDays: bigint; value: bigint }
  | { kind: "tokenEnabled"; token: TokenKey; enabled: boolean };

/** Governance changes that move money: they apply to new rentals only (terms versions). */
export async function actGovernance(w: World, m: Model, g: GovernanceArgs) {
  const e = w.c.escrow.connect(w.signer.admin);
  const cur = m.terms[m.terms.length - 1];
  let outcome: Outcome;
  let next: Terms | undefined;
  let send_: (o: { gasLimit: bigint }) => Promise<ContractTransactionResponse>;
  const bounds = (name: string, v: bigint, lo: bigint, hi: bigint) =>
    v < lo || v > hi ? err(w.c.escrow, "RentalEscrow_ParameterOutOfBounds", name, v, lo, hi) : undefined;
  switch (g.kind) {
    case "fee":
      outcome =
        bounds("feeBps", g.value, 0n, 2_000n) ??
        (g.value === cur.feeBps ? err(w.c.escrow, "RentalEscrow_AlreadySet") : OK);
      next = { ...cur, feeBps: g.value };
      send_ = (o) => e.setFeeBps(g.value, o);
      break;
    case "penalty":
      outcome =
        bounds("earlyExitPenaltyBps", g.value, 0n, 5_000n) ??
        (g.value === cur.penaltyBps ? err(w.c.escrow, "RentalEscrow_AlreadySet") : OK);
      next = { ...cur, penaltyBps: g.value };
      send_ = (o) => e.setEarlyExitPenaltyBps(g.value, o);
      break;
    case "grace":
      outcome =
        bounds("gracePeriod", g.value, 300n, 7n * DAY) ??
        (g.value === cur.gracePeriod ? err(w.c.escrow, "RentalEscrow_AlreadySet") : OK);
      next = { ...cur, gracePeriod: g.value };
      send_ = (o) => e.setGracePeriod(g.value, o);
      break;
    case "discount":
      outcome = ![7n, 30n, 90n].includes(g.termDays)
        ? err(w.c.escrow, "RentalEscrow_InvalidTerm", Plan.Saving, g.termDays)
        : (bounds("discountBps", g.value, 0n, 5_000n) ??
          (m.savingDiscount[g.termDays.toString()] === g.value ? err(w.c.escrow, "RentalEscrow_AlreadySet") : OK));
      next = undefined;
      send_ = (o) => e.setSavingDiscount(g.termDays, g.value, o);
      break;
    case "tokenEnabled":
      // A disabled token takes no new rentals; running ones still top up, end and pay out.
      outcome = m.tokenEnabled[g.token] === g.enabled ? err(w.c.escrow, "RentalEscrow_AlreadySet") : OK;
      next = undefined;
      send_ = (o) => e.setPaymentTokenEnabled(w.tokenAddr[g.token], g.enabled, o);
      break;
  }
  await send(m, outcome, send_);
  if (!outcome.ok) return;
  if (g.kind === "discount") m.savingDiscount[g.termDays.toString()] = g.value;
  else if (g.kind === "tokenEnabled") m.tokenEnabled[g.token] = g.enabled;
  else m.terms.push(next!);
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
    PROVIDERS.map((p) => w.addr[p]),
  );
}

/**
 * Reads the chain and checks it against the model and the invariants of shared/threats.md:
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
    ).to.equal(ms.totalStaked);
    expect(
      ms.slashedRewards + ms.withdrawnRewards + ms.rewardsOwed,
      at(`${p}: slashed + withdrawn + owed == total rewards`),
    ).to.equal(ms.totalRewards);
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

/* ========================================================================== */
/*                                FINAL DRAIN                                 */
/* ========================================================================== */

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
 * the step runs; `toString` prints a constructor call that `regressions.test.ts` can paste.
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

/** Picks an item of `list` from a generated selector; 1 in 16 selectors (or an empty list) gives none. */
const pick = <T>(list: readonly T[], sel: number): T | undefined =>
  sel % 16 === 15 || list.length === 0 ? undefined : list[sel % list.length];
/** A rental id from a selector: newest rentals first; 1 in 16 is one past the last, 1 in 16 is 0. */
function rentalId(m: Model, sel: number): bigint {
  const n = m.rentals.length;
  if (sel % 16 === 14) return 0n;
  if (sel % 16 === 15 || n === 0) return BigInt(n + 1);
  return BigInt(n - (sel % n));
}
const callerOf = (m: Model, id: bigint, who: number): Holder => {
  const r = m.rentals[Number(id) - 1];
  if (!r || who >= 2) return STRANGERS[who % 2];
  return who === 0 ? RENTERS[r.renter] : PROVIDERS[r.provider];
};

export class RegisterNode extends Step {
  readonly name = "RegisterNode";
  constructor(
    readonly args: { provider: number; gpuClass: number; gpuCount: number; prices: [bigint, bigint, bigint] },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const [usd, kai, busd] = this.args.prices;
    return actRegisterNode(w, m, this.args.provider, this.args.gpuClass, BigInt(this.args.gpuCount), {
      usd,
      kai,
      busd,
    });
  }
}

export class Stake extends Step {
  readonly name = "Stake";
  constructor(readonly args: { provider: number; amount: "shortfall" | "zero" | bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const p = this.args.provider;
    let amount: bigint;
    if (this.args.amount === "zero") amount = 0n;
    else if (this.args.amount === "shortfall") {
      const need = requiredStake(m, p) - m.stakes[p].staked;
      amount = need > 0n ? need : KAI(1);
    } else amount = this.args.amount;
    return actStake(w, m, p, amount);
  }
}

export class RequestUnstake extends Step {
  readonly name = "RequestUnstake";
  constructor(readonly args: { provider: number; amount: "unlocked" | "half" | "allStaked" | "overStaked" | "zero" }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const p = this.args.provider;
    const s = m.stakes[p];
    const locked = heldStake(m, p);
    const unlocked = s.staked > locked ? s.staked - locked : 0n;
    const amount = {
      unlocked,
      half: unlocked / 2n,
      allStaked: s.staked,
      overStaked: s.staked + 1n,
      zero: 0n,
    }[this.args.amount];
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

/** Ways a `rent` call can be wrong, one at a time (or none). */
export type RentFault =
  | "none"
  | "bogusToken"
  | "badSlaTier"
  | "badTerm"
  | "zeroGpus"
  | "maxGpus"
  | "tooManyGpus"
  | "belowGrace"
  | "zeroDeposit"
  | "hugeDeposit"
  | "priceBelow"
  | "unknownNode";

export class Rent extends Step {
  readonly name = "Rent";
  constructor(
    readonly args: {
      renter: number;
      node: number;
      gpus: number | "allFree";
      token: TokenKey;
      plan: Plan;
      /** Saving: 7, 30 or 90. */
      termDays: number;
      /** PAYG/Hourly: seconds of paid time, plus a remainder below one unit. */
      seconds: number;
      remainder: number;
      maxPrice: "exact" | "max";
      slaTier: number;
      fault: RentFault;
    },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const f = a.fault;
    const node = f === "unknownNode" ? undefined : pick(m.nodes, a.node);
    const nodeId = node?.id ?? BigInt(m.nodes.length + 1);
    const free = node ? node.gpuCount - node.rented : 1n;
    let gpus = a.gpus === "allFree" ? (free > 0n ? free : 1n) : BigInt(a.gpus);
    if (f === "zeroGpus") gpus = 0n;
    if (f === "maxGpus") gpus = 256n;
    if (f === "tooManyGpus") gpus = free + 1n;
    const saving = a.plan === Plan.Saving;
    let deposit: RentArgs["deposit"];
    if (saving)
      deposit = f === "hugeDeposit" ? 1n : 0n; // any deposit on a saving plan must revert
    else if (f === "zeroDeposit") deposit = 0n;
    else if (f === "belowGrace") {
      // One unit short of the least first deposit: the grace period's worth.
      const units = rm.graceUnits(a.plan, m.terms[m.terms.length - 1].gracePeriod);
      deposit = (u: bigint) => u * units - 1n;
    } else if (f === "hugeDeposit") deposit = (u: bigint) => u * (rm.UINT32_MAX + 1n);
    else {
      // At least the grace period of the current terms (the least first deposit).
      const unit = rm.unitSeconds(a.plan);
      const grace = m.terms[m.terms.length - 1].gracePeriod;
      const seconds = BigInt(a.seconds) > grace ? BigInt(a.seconds) : grace;
      deposit = (u: bigint) => ((seconds + unit - 1n) / unit || 1n) * u + (BigInt(a.remainder) % u);
    }
    const maxPrice =
      f === "priceBelow"
        ? (p: bigint) => (p > 0n ? p - 1n : 0n)
        : a.maxPrice === "max"
          ? ethers.MaxUint256
          : (p: bigint) => p;
    let termDays = saving ? BigInt(a.termDays) : 0n;
    if (f === "badTerm") termDays = saving ? 14n : 7n;
    return actRent(w, m, {
      renter: a.renter,
      nodeId,
      gpus,
      token: f === "bogusToken" ? "bogus" : a.token,
      plan: a.plan,
      deposit,
      termDays,
      maxPrice,
      slaTier: f === "badSlaTier" ? SLA_TIER_COUNT : BigInt(a.slaTier),
    });
  }
}

export class TopUp extends Step {
  readonly name = "TopUp";
  constructor(
    readonly args: { rental: number; caller: number; amount: { seconds: number } | "oneWei" | "zero" | "huge" },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const id = rentalId(m, this.args.rental);
    const r = m.rentals[Number(id) - 1];
    const caller = callerOf(m, id, this.args.caller);
    const a = this.args.amount;
    let amount: bigint;
    if (a === "zero") amount = 0n;
    else if (a === "oneWei") amount = 1n;
    else if (a === "huge") amount = r ? r.unitPrice * (rm.UINT32_MAX + 1n) : 1n;
    else
      amount = r
        ? ((BigInt(a.seconds) + rm.unitSeconds(r.plan) - 1n) / rm.unitSeconds(r.plan) || 1n) * r.unitPrice
        : 1n;
    return actTopUp(w, m, id, caller, amount);
  }
}

export class EndRental extends Step {
  readonly name = "EndRental";
  /** caller: 0 renter, 1 provider, 2-3 a stranger. */
  constructor(readonly args: { rental: number; caller: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const id = rentalId(m, this.args.rental);
    return actEndRental(w, m, id, callerOf(m, id, this.args.caller));
  }
}

export class FlagGracePeriod extends Step {
  readonly name = "FlagGracePeriod";
  constructor(readonly args: { rental: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actFlagGrace(w, m, rentalId(m, this.args.rental), "keeper");
  }
}

export class CloseRental extends Step {
  readonly name = "CloseRental";
  constructor(readonly args: { rental: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actCloseRental(w, m, rentalId(m, this.args.rental), "keeper");
  }
}

export class CloseForProviderFault extends Step {
  readonly name = "CloseForProviderFault";
  constructor(readonly args: { rental: number; reason: number; asOracle: boolean }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actCloseForProviderFault(w, m, rentalId(m, this.args.rental), this.args.reason, this.args.asOracle);
  }
}

export class WithdrawEarnings extends Step {
  readonly name = "WithdrawEarnings";
  /**
   * `provider: "ofRental"`: the provider and token of the rental `rental` selects. `rentals: "own"`:
   * every rental of the provider in the token; else selectors of any rentals (others', unknown, twice).
   */
  constructor(
    readonly args: {
      provider: number | "ofRental";
      token: TokenKey | "bogus" | "ofRental";
      rental: number;
      rentals: "own" | number[];
    },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const { rentals } = this.args;
    const of = m.rentals[Number(rentalId(m, this.args.rental)) - 1] ?? m.rentals[m.rentals.length - 1];
    const provider = this.args.provider === "ofRental" ? (of?.provider ?? 0) : this.args.provider;
    const token = this.args.token === "ofRental" ? (of?.token ?? "usd") : this.args.token;
    const ids =
      rentals === "own"
        ? m.rentals.filter((r) => r.provider === provider && r.token === token).map((r) => r.id)
        : rentals.map((sel) => rentalId(m, sel));
    return actWithdrawEarnings(w, m, provider, token, ids);
  }
}

export class NodeAdmin extends Step {
  readonly name = "NodeAdmin";
  constructor(readonly args: { node: number; action: NodeAction; byOwner: boolean; token: TokenKey; price: bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    const a = this.args;
    const nodeId = pick(m.nodes, a.node)?.id ?? BigInt(m.nodes.length + 1);
    return actNodeAdmin(w, m, nodeId, a.action, a.byOwner, a.token, a.price);
  }
}

export class ClaimRefundCredit extends Step {
  readonly name = "ClaimRefundCredit";
  constructor(readonly args: { renter: number; token: TokenKey }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actClaimRefundCredit(w, m, this.args.renter, this.args.token);
  }
}

export class WithdrawFees extends Step {
  readonly name = "WithdrawFees";
  constructor(readonly args: { token: TokenKey }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actWithdrawFees(w, m, this.args.token, "other");
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

/** Moves the clock to a boundary of a rental (paid-until, closable-at) or of an unbonding, +- 1 s. */
export class JumpToBoundary extends Step {
  readonly name = "JumpToBoundary";
  constructor(
    readonly args: { target: "paidUntil" | "closableAt" | "unbondingEnd"; index: number; offset: -1 | 0 | 1 },
  ) {
    super();
  }
  protected async exec(_w: World, m: Model) {
    let at: bigint | undefined;
    if (this.args.target === "unbondingEnd") {
      at = m.stakes[this.args.index % 2].unbondingEnd || undefined;
    } else {
      const open = m.rentals.filter(isOpen);
      const r = open[this.args.index % Math.max(open.length, 1)];
      if (r) {
        at =
          this.args.target === "paidUntil"
            ? rm.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount)
            : rm.closableAt(money(r), m.terms[r.termsVersion].gracePeriod);
      }
    }
    if (at !== undefined && at + BigInt(this.args.offset) > m.next) m.next = at + BigInt(this.args.offset);
  }
}

export class Slash extends Step {
  readonly name = "Slash";
  constructor(
    readonly args: {
      provider: number;
      amount: "zero" | "rewards" | "someStake" | "everything" | bigint;
      asStranger: boolean;
    },
  ) {
    super();
  }
  protected exec(w: World, m: Model) {
    const s = m.stakes[this.args.provider];
    const a = this.args.amount;
    const amount =
      typeof a === "bigint"
        ? a
        : {
            zero: 0n,
            rewards: s.rewardsOwed,
            someStake: s.rewardsOwed + s.staked / 3n + 1n,
            everything: s.rewardsOwed + s.staked + s.unbonding + 1n,
          }[a];
    return actSlash(w, m, this.args.provider, amount, this.args.asStranger);
  }
}

export class DepositRewards extends Step {
  readonly name = "DepositRewards";
  constructor(readonly args: { provider: number; amount: bigint }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actDepositRewards(w, m, this.args.provider, this.args.amount);
  }
}

export class WithdrawRewards extends Step {
  readonly name = "WithdrawRewards";
  constructor(readonly args: { provider: number }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actWithdrawRewards(w, m, this.args.provider);
  }
}

export class PauseEscrow extends Step {
  readonly name = "PauseEscrow";
  constructor(readonly args: { pause: boolean }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actPauseEscrow(w, m, this.args.pause);
  }
}

export class PauseRegistry extends Step {
  readonly name = "PauseRegistry";
  constructor(readonly args: { pause: boolean }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actPauseRegistry(w, m, this.args.pause);
  }
}

export class SetBlocked extends Step {
  readonly name = "SetBlocked";
  constructor(readonly args: { renter: number; blocked: boolean }) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actSetBlocked(w, m, this.args.renter, this.args.blocked);
  }
}

export class Governance extends Step {
  readonly name = "Governance";
  constructor(readonly args: GovernanceArgs) {
    super();
  }
  protected exec(w: World, m: Model) {
    return actGovernance(w, m, this.args);
  }
}

/* ========================================================================== */
/*                                 ARBITRARIES                                */
/* ========================================================================== */

const providerArb = fc.integer({ min: 0, max: 1 });
const renterArb = fc.integer({ min: 0, max: 1 });
const selArb = fc.nat({ max: 1_000 });
const tokenArb = fc.constantFrom<TokenKey>("usd", "kai", "busd");
const kaiArb = fc.oneof(fc.constantFrom(1n, KAI(1), KAI(1_000), KAI(24_000)), fc.bigInt({ min: 1n, max: KAI(50_000) }));
const secondsArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 2 * 3_600 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 * 86_400 }) },
  { weight: 1, arbitrary: fc.constantFrom(1, 59, 3_599, 3_600, 3_601, 86_400) },
);

/** Every command of the walk, weighted towards the ones that move money. */
export function stepArbitraries(): fc.Arbitrary<Step>[] {
  const rent = fc
    .record({
      renter: renterArb,
      node: selArb,
      gpus: fc.oneof(
        { weight: 6, arbitrary: fc.constant(1) },
        { weight: 3, arbitrary: fc.integer({ min: 2, max: 4 }) },
        { weight: 1, arbitrary: fc.constant<"allFree">("allFree") },
      ),
      token: tokenArb,
      plan: fc.constantFrom<Plan>(Plan.PayAsYouGo, Plan.Hourly, Plan.Saving),
      termDays: fc.constantFrom(7, 30, 90),
      seconds: secondsArb,
      remainder: fc.nat({ max: 1_000_000_000 }),
      maxPrice: fc.constantFrom<"exact" | "max">("exact", "max"),
      slaTier: fc.integer({ min: 0, max: 2 }),
      fault: fc.oneof(
        { weight: 12, arbitrary: fc.constant<RentFault>("none") },
        {
          weight: 3,
          arbitrary: fc.constantFrom<RentFault>(
            "bogusToken",
            "badSlaTier",
            "badTerm",
            "zeroGpus",
            "maxGpus",
            "tooManyGpus",
            "belowGrace",
            "zeroDeposit",
            "hugeDeposit",
            "priceBelow",
            "unknownNode",
          ),
        },
      ),
    })
    .map((a) => new Rent(a));
  const priceArb = (unit: bigint, typical: bigint) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(typical) },
      { weight: 2, arbitrary: fc.bigInt({ min: 1n, max: typical * 3n }) },
      { weight: 1, arbitrary: fc.constantFrom(0n, 1n, unit) },
    );
  const registerNode = fc
    .record({
      provider: providerArb,
      gpuClass: fc.integer({ min: 0, max: 1 }),
      gpuCount: fc.integer({ min: 1, max: 8 }),
      prices: fc.tuple(priceArb(1n, USD(2)), priceArb(1n, KAI(20)), priceArb(1n, USD(3))),
    })
    .map((a) => new RegisterNode(a));
  const stake = fc
    .record({
      provider: providerArb,
      amount: fc.oneof(
        { weight: 3, arbitrary: fc.constant<"shortfall">("shortfall") },
        { weight: 2, arbitrary: kaiArb },
        { weight: 1, arbitrary: fc.constant<"zero">("zero") },
      ),
    })
    .map((a) => new Stake(a));
  const requestUnstake = fc
    .record({
      provider: providerArb,
      amount: fc.constantFrom<"unlocked" | "half" | "allStaked" | "overStaked" | "zero">(
        "unlocked",
        "half",
        "allStaked",
        "overStaked",
        "zero",
      ),
    })
    .map((a) => new RequestUnstake(a));
  const topUp = fc
    .record({
      rental: selArb,
      caller: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
      ),
      amount: fc.oneof(
        { weight: 6, arbitrary: fc.record({ seconds: secondsArb }) },
        { weight: 1, arbitrary: fc.constantFrom<"oneWei" | "zero" | "huge">("oneWei", "zero", "huge") },
      ),
    })
    .map((a) => new TopUp(a));
  const endRental = fc
    .record({
      rental: selArb,
      caller: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 1 }) },
        { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }) },
      ),
    })
    .map((a) => new EndRental(a));
  const closeForProviderFault = fc
    .record({
      rental: selArb,
      reason: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom<number>(CloseReason.SlaBreach, CloseReason.ProviderSlashed) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) },
      ),
      asOracle: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    })
    .map((a) => new CloseForProviderFault(a));
  const withdrawEarnings = fc
    .record({
      provider: fc.oneof(
        { weight: 3, arbitrary: fc.constant<"ofRental">("ofRental") },
        { weight: 1, arbitrary: providerArb },
      ),
      token: fc.oneof(
        { weight: 9, arbitrary: fc.constant<"ofRental">("ofRental") },
        { weight: 3, arbitrary: tokenArb },
        { weight: 1, arbitrary: fc.constant<"bogus">("bogus") },
      ),
      rental: selArb,
      rentals: fc.oneof(
        { weight: 3, arbitrary: fc.constant<"own">("own") },
        { weight: 2, arbitrary: fc.array(selArb, { maxLength: 5 }) },
      ),
    })
    .map((a) => new WithdrawEarnings(a));
  const nodeAdmin = fc
    .record({
      node: selArb,
      action: fc.constantFrom<NodeAction>(
        "pause",
        "resume",
        "resume",
        "jail",
        "unjail",
        "unjail",
        "retire",
        "setPrice",
        "setPrice",
      ),
      byOwner: fc.oneof({ weight: 8, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      token: tokenArb,
      price: fc.oneof(fc.constantFrom(0n, 1n, USD(1), USD(2), KAI(20)), fc.bigInt({ min: 1n, max: KAI(40) })),
    })
    .map((a) => new NodeAdmin(a));
  const timeJump = fc
    .record({ seconds: fc.oneof(secondsArb, fc.integer({ min: 1, max: 15 * 86_400 })) })
    .map((a) => new TimeJump(a));
  const jumpToBoundary = fc
    .record({
      target: fc.constantFrom<"paidUntil" | "closableAt" | "unbondingEnd">("paidUntil", "closableAt", "unbondingEnd"),
      index: selArb,
      offset: fc.constantFrom<-1 | 0 | 1>(-1, 0, 1),
    })
    .map((a) => new JumpToBoundary(a));
  const slash = fc
    .record({
      provider: providerArb,
      amount: fc.oneof(
        fc.constantFrom<"zero" | "rewards" | "someStake" | "everything">("zero", "rewards", "someStake", "everything"),
        kaiArb,
      ),
      asStranger: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    })
    .map((a) => new Slash(a));
  const governance = fc
    .oneof(
      fc.record({
        kind: fc.constant<"fee">("fee"),
        value: fc.oneof(fc.constantFrom(0n, 1n, 1_000n, 2_000n, 2_001n), fc.bigInt({ min: 0n, max: 2_000n })),
      }),
      fc.record({
        kind: fc.constant<"penalty">("penalty"),
        value: fc.oneof(fc.constantFrom(0n, 1n, 5_000n, 5_001n), fc.bigInt({ min: 0n, max: 5_000n })),
      }),
      fc.record({
        kind: fc.constant<"grace">("grace"),
        value: fc.oneof(
          fc.constantFrom(299n, 300n, 3_600n, 7n * DAY, 7n * DAY + 1n),
          fc.bigInt({ min: 300n, max: 7n * DAY }),
        ),
      }),
      fc.record({
        kind: fc.constant<"discount">("discount"),
        termDays: fc.constantFrom(7n, 30n, 90n, 14n),
        value: fc.oneof(fc.constantFrom(0n, 5_000n, 5_001n), fc.bigInt({ min: 0n, max: 5_000n })),
      }),
      fc.record({
        kind: fc.constant<"tokenEnabled">("tokenEnabled"),
        token: tokenArb,
        enabled: fc.oneof({ weight: 1, arbitrary: fc.constant(false) }, { weight: 3, arbitrary: fc.constant(true) }),
      }),
    )
    .map((a) => new Governance(a as GovernanceArgs));

  // `fc.commands` picks uniformly among the arbitraries: repeat each as often as it should run
  // (about percent of the steps). Pauses and blocks are lifted three times as often as they are
  // set: most steps run in the normal state, and some in each paused or blocked one.
  const weighted: [number, fc.Arbitrary<Step>][] = [
    [20, rent],
    [8, topUp],
    [6, endRental],
    [8, withdrawEarnings],
    [10, timeJump],
    [5, jumpToBoundary],
    [3, fc.record({ rental: selArb }).map((a) => new FlagGracePeriod(a))],
    [4, fc.record({ rental: selArb }).map((a) => new CloseRental(a))],
    [3, closeForProviderFault],
    [3, stake],
    [2, requestUnstake],
    [2, fc.record({ provider: providerArb }).map((a) => new WithdrawUnstaked(a))],
    [2, slash],
    [
      2,
      fc.record({ provider: providerArb, amount: fc.oneof(kaiArb, fc.constant(0n)) }).map((a) => new DepositRewards(a)),
    ],
    [1, fc.record({ provider: providerArb }).map((a) => new WithdrawRewards(a))],
    [2, fc.record({ renter: renterArb, token: tokenArb }).map((a) => new ClaimRefundCredit(a))],
    [2, fc.record({ token: tokenArb }).map((a) => new WithdrawFees(a))],
    [1, registerNode],
    [3, nodeAdmin],
    [2, governance],
    [1, fc.constant(new PauseEscrow({ pause: true }))],
    [3, fc.constant(new PauseEscrow({ pause: false }))],
    [1, fc.constant(new PauseRegistry({ pause: true }))],
    [3, fc.constant(new PauseRegistry({ pause: false }))],
    [1, fc.record({ renter: renterArb }).map((a) => new SetBlocked({ ...a, blocked: true }))],
    [3, fc.record({ renter: renterArb }).map((a) => new SetBlocked({ ...a, blocked: false }))],
  ];
  return weighted.flatMap(([n, arb]) => Array<fc.Arbitrary<Step>>(n).fill(arb));
}

/** Runs `steps` from the start state, then the final drain. */
export async function runSequence(
  w: World,
  steps: Iterable<fc.AsyncCommand<Model, World>>,
  unpauseBeforeDrain: boolean,
): Promise<Model> {
  await resetWorld(w);
  const m = await initialModel(w);
  await checkInvariants(w, m);
  await fc.asyncModelRun(() => ({ model: m, real: w }), steps);
  await finalDrain(w, m, unpauseBeforeDrain);
  return m;
}
