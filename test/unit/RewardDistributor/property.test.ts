/**
 * Claim walk: a seeded, replayable, model-based property test of RewardDistributor on the real
 * ReportOracle. Each run reports 1-3 random epochs (halvings included), each with a tree of 1-50
 * random leaves (nodes with ids across several bitmap words, checkers, all-zero leaves). An epoch
 * is honest (distinct subjects, leaves summing to at most its budget) or bad: a root with
 * duplicate subjects whose leaves sum up to 3x the budget, under a report that states no more than
 * the budget. The reserve starts funded at 0-120% of the leaves' sum.
 *
 * The same epochs are then claimed twice from one snapshot, in two random orders: batches of 1-6
 * leaves of one account, interleaved with replays of paid leaves, top-ups of the reserve, days
 * passing and withdrawals (of known and unknown days). Every call's outcome (events with their
 * arguments, or the custom error with its arguments) is predicted by a TypeScript model. After
 * every step:
 *
 * - `claimedOf(epoch) <= budget` for every epoch, and equals the model's;
 * - every leaf pays at most once: no leaf hash appears in two ClaimLeaf events, and `isClaimed`
 *   holds for the subjects just paid;
 * - `reserve() + sum of positions + sum paid out == sum funded`, and the distributor holds
 *   exactly `reserve() + sum of positions`; `positionsOf` and balances match the model.
 *
 * Each walk ends with a drain: the reserve topped up, every unpaid leaf retried, 180 days, every
 * position withdrawn in full. Then the claim order must not matter (threat 32): in both orders,
 * each account received exactly its leaves of the honest epochs, and every honest epoch paid its
 * whole tree.
 *
 * Replay a failure with the line it prints: `KAISAR_FC_SEED=<seed> KAISAR_FC_PATH=<path> npx
 * hardhat test test/unit/RewardDistributor/property.test.ts`; more runs with `KAISAR_FC_RUNS=<n>`.
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers, network } from "hardhat";
import { loadFixture, takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse, Interface } from "ethers";

import { HALVING_EPOCHS, INITIAL_EMISSION } from "../../helpers/oracle";
import {
  BPS,
  ONE_DAY,
  checkerLeaf,
  claimOf,
  dayOf,
  deployDistributor,
  distributorEvents,
  nodeLeaf,
  positionAge,
  postEpoch,
  subjectOf,
  vestedBpsOf,
  type DistributorFixture,
} from "../../helpers/rewards";
import { leafReward, rewardLeafHash, type RewardLeaf } from "../../../offchain/src/leaves";
import { fcCount, fcPath, fcSeed } from "../../helpers/fcEnv";

const SEED = fcSeed("KAISAR_FC_SEED", 3_232);
const PATH = fcPath("KAISAR_FC_PATH");
const RUNS = fcCount("KAISAR_FC_RUNS", 10);
const ACCOUNTS = 5;
const MAX_LEAVES = 50;
const MAX_EPOCHS = 3;
/** Epochs drawn from 0..MAX_EPOCH: budgets of 100,000 down to 6,250 KAI (four halvings). */
const MAX_EPOCH = 120;
/** Outcome counts over all runs, printed with `KAISAR_FC_STATS=1` (to see what the walks reach). */
const STATS = new Map<string, number>();
const count = (what: string) => STATS.set(what, (STATS.get(what) ?? 0) + 1);

/* -------------------------------------------------------------------------- */
/*                                  SCENARIOS                                 */
/* -------------------------------------------------------------------------- */

interface LeafSpec {
  checker: boolean;
  account: number;
  id: number; // node id; 0..600 spans three words of the claimed bitmap
  weights: [number, number, number];
}
interface EpochSpec {
  epoch: number;
  bad: boolean;
  load: number; // percent of the budget the leaves sum to (before rounding down)
  leaves: LeafSpec[];
}
interface Step {
  batch: number; // leaves of one account in this claim
  days: number; // days passing after it
  withdraw: number | null; // index into the account's positions (past the end: an unknown day)
  fund: number | null; // top-up, percent of the leaves' sum
  replay: number | null; // index into the paid leaves, claimed again
}
interface Order {
  perm: number[];
  steps: Step[];
}

const weightArb = fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.nat(1_000), weight: 3 });
const leafSpecArb: fc.Arbitrary<LeafSpec> = fc.record({
  checker: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))), // ~1 in 4
  account: fc.nat(ACCOUNTS - 1),
  id: fc.nat(600),
  weights: fc.tuple(weightArb, weightArb, weightArb),
});
const epochSpecArb = (epoch: number): fc.Arbitrary<EpochSpec> =>
  fc.boolean().chain((bad) =>
    fc.record({
      epoch: fc.constant(epoch),
      bad: fc.constant(bad),
      load: bad ? fc.integer({ min: 50, max: 300 }) : fc.integer({ min: 1, max: 100 }),
      leaves: fc.array(leafSpecArb, { minLength: 1, maxLength: MAX_LEAVES, size: "max" }),
    }),
  );
interface Scenario {
  epochs: EpochSpec[];
  fundPct: number;
}
const scenarioArb: fc.Arbitrary<Scenario> = fc
  .uniqueArray(fc.integer({ min: 0, max: MAX_EPOCH }), { minLength: 1, maxLength: MAX_EPOCHS })
  .chain((epochs) =>
    fc.record({
      epochs: fc.tuple(...[...epochs].sort((a, b) => a - b).map(epochSpecArb)).map((t) => [...t]),
      fundPct: fc.integer({ min: 0, max: 120 }),
    }),
  );
const stepArb: fc.Arbitrary<Step> = fc.record({
  batch: fc.integer({ min: 1, max: 6 }),
  days: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 100 }), weight: 1 }),
  withdraw: fc.option(fc.nat(4), { freq: 4 }),
  fund: fc.option(fc.integer({ min: 1, max: 40 }), { freq: 3 }),
  replay: fc.option(fc.nat(200), { freq: 4 }),
});
const orderArb = (n: number): fc.Arbitrary<Order> =>
  fc.record({
    perm: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    steps: fc.array(stepArb, { minLength: n, maxLength: n }),
  });
const walkArb = scenarioArb.chain((scenario) => {
  const n = scenario.epochs.reduce((s, e) => s + e.leaves.length, 0);
  return fc.tuple(fc.constant(scenario), orderArb(n), orderArb(n));
});

/* -------------------------------------------------------------------------- */
/*                                    MODEL                                   */
/* -------------------------------------------------------------------------- */

interface Built {
  leaf: RewardLeaf;
  proof: string[];
  hash: string;
  account: number;
  honest: boolean;
  key: string; // epoch, kind, subject
}
interface Setup {
  leaves: Built[];
  budgets: Map<bigint, bigint>;
  honestEpochs: Set<bigint>;
  sum: bigint; // of all leaves
}

function budgetOf(epoch: bigint) {
  return INITIAL_EMISSION >> (epoch / HALVING_EPOCHS);
}

/** The epochs' leaves, scaled to their load of the budget; honest epochs keep one leaf per subject. */
function leavesOf(spec: EpochSpec, accounts: string[]): RewardLeaf[] {
  const epoch = BigInt(spec.epoch);
  const seen = new Set<string>();
  const kept = spec.leaves.filter((l) => {
    const subject = l.checker ? `c${l.account}` : `n${l.id}`;
    if (spec.bad) return true;
    if (seen.has(subject)) return false;
    seen.add(subject);
    return true;
  });
  const total = BigInt(kept.reduce((s, l) => s + l.weights[0] + l.weights[1] + l.weights[2], 0));
  const scale = (w: number) => (total === 0n ? 0n : (BigInt(w) * budgetOf(epoch) * BigInt(spec.load)) / (100n * total));
  return kept.map((l, i) => {
    const account = accounts[l.account];
    const salt = spec.epoch * 1_000 + i;
    if (l.checker) {
      const reward = scale(l.weights[0]) + scale(l.weights[1]) + scale(l.weights[2]);
      return checkerLeaf(epoch, account, reward, salt);
    }
    return nodeLeaf(epoch, account, BigInt(l.id), scale(l.weights[0]), scale(l.weights[1]), salt);
  });
}

class Model {
  reserve = 0n;
  funded = 0n;
  claimed = new Map<bigint, bigint>();
  keys = new Set<string>();
  paidLeaves = new Set<number>(); // indexes into setup.leaves
  paidHashes = new Set<string>();
  positions: { day: bigint; amount: bigint }[][] = Array.from({ length: ACCOUNTS }, () => []);
  paidOut: bigint[] = Array(ACCOUNTS).fill(0n);
  /** What each account claimed, per epoch. */
  claimedBy: Map<bigint, bigint>[] = Array.from({ length: ACCOUNTS }, () => new Map());

  constructor(readonly setup: Setup) {}

  /** The custom error `claim` must revert with, or null when it pays. */
  predictClaim(batch: number[]): [string, ...unknown[]] | null {
    const keys = new Set(this.keys);
    const claimed = new Map(this.claimed);
    let total = 0n;
    for (const i of batch) {
      const b = this.setup.leaves[i];
      const epoch = b.leaf.epoch;
      if (keys.has(b.key)) return ["RewardDistributor_AlreadyClaimed", epoch, b.leaf.kind, subjectOf(b.leaf)];
      const amount = leafReward(b.leaf);
      const next = (claimed.get(epoch) ?? 0n) + amount;
      const budget = this.setup.budgets.get(epoch)!;
      if (next > budget) return ["RewardDistributor_BudgetExceeded", epoch, next, budget];
      keys.add(b.key);
      claimed.set(epoch, next);
      total += amount;
    }
    if (total === 0n) return ["RewardDistributor_NothingToClaim"];
    if (total > this.reserve) return ["RewardDistributor_InsufficientReserve", total, this.reserve];
    return null;
  }

  applyClaim(batch: number[], day: bigint) {
    let total = 0n;
    for (const i of batch) {
      const b = this.setup.leaves[i];
      const amount = leafReward(b.leaf);
      this.keys.add(b.key);
      this.paidLeaves.add(i);
      this.claimed.set(b.leaf.epoch, (this.claimed.get(b.leaf.epoch) ?? 0n) + amount);
      const by = this.claimedBy[b.account];
      by.set(b.leaf.epoch, (by.get(b.leaf.epoch) ?? 0n) + amount);
      total += amount;
    }
    const account = this.setup.leaves[batch[0]].account;
    this.reserve -= total;
    const list = this.positions[account];
    const last = list[list.length - 1];
    if (last?.day === day) last.amount += total;
    else list.push({ day, amount: total });
    return total;
  }

  applyWithdraw(account: number, day: bigint, timestamp: bigint): [bigint, bigint] {
    const p = this.positions[account].find((q) => q.day === day)!;
    const paid = (p.amount * vestedBpsOf(positionAge(day, timestamp))) / BPS;
    const forfeited = p.amount - paid;
    p.amount = 0n;
    this.reserve += forfeited;
    this.paidOut[account] += paid;
    return [paid, forfeited];
  }
}

/* -------------------------------------------------------------------------- */
/*                                    CHAIN                                   */
/* -------------------------------------------------------------------------- */

type Walk = DistributorFixture & { accounts: string[]; address: string };

/** A view through a raw `eth_call` (faster than the contract object at ~15 reads per step). */
async function read(c: Walk, fn: string, args: unknown[]) {
  const iface: Interface = c.distributor.interface;
  const result = await network.provider.send("eth_call", [
    { to: c.address, data: iface.encodeFunctionData(fn, args) },
    "latest",
  ]);
  return iface.decodeFunctionResult(fn, result)[0];
}

async function kaiBalance(c: Walk, who: string): Promise<bigint> {
  const iface: Interface = c.kai.interface;
  const result = await network.provider.send("eth_call", [
    { to: await c.kai.getAddress(), data: iface.encodeFunctionData("balanceOf", [who]) },
    "latest",
  ]);
  return iface.decodeFunctionResult("balanceOf", result)[0];
}

async function blockTimestamp(tx: ContractTransactionResponse): Promise<bigint> {
  const receipt = await tx.wait();
  return BigInt((await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp);
}

async function checkInvariants(c: Walk, m: Model, label: string) {
  const [reserve, held, ...rest] = await Promise.all([
    read(c, "reserve", []) as Promise<bigint>,
    kaiBalance(c, c.address),
    ...c.accounts.map((a) => read(c, "positionsOf", [a])),
    ...c.accounts.map((a) => kaiBalance(c, a)),
    ...[...m.setup.budgets.keys()].map((e) => read(c, "claimedOf", [e])),
  ]);
  const positions = rest.slice(0, ACCOUNTS) as { day: bigint; amount: bigint }[][];
  const balances = rest.slice(ACCOUNTS, 2 * ACCOUNTS) as bigint[];
  const claimedOf = rest.slice(2 * ACCOUNTS) as bigint[];

  expect(reserve, `${label}: reserve`).to.equal(m.reserve);
  let vesting = 0n;
  for (let a = 0; a < ACCOUNTS; a++) {
    const got = positions[a].map((p) => [p.day, p.amount]);
    expect(got, `${label}: positionsOf(account ${a})`).to.deep.equal(m.positions[a].map((p) => [p.day, p.amount]));
    vesting += positions[a].reduce((s, p) => s + p.amount, 0n);
    expect(balances[a], `${label}: balance of account ${a}`).to.equal(m.paidOut[a]);
  }
  const paidOut = balances.reduce((s, b) => s + b, 0n);
  expect(reserve + vesting + paidOut, `${label}: reserve + positions + paid == funded`).to.equal(m.funded);
  expect(held, `${label}: distributor holds reserve + positions`).to.equal(reserve + vesting);
  for (const [i, [epoch, budget]] of [...m.setup.budgets].entries()) {
    expect(claimedOf[i], `${label}: claimedOf(${epoch})`).to.equal(m.claimed.get(epoch) ?? 0n);
    expect(claimedOf[i] <= budget, `${label}: claimedOf(${epoch}) ${claimedOf[i]} <= budget ${budget}`).to.be.true;
  }
}

async function fund(c: Walk, m: Model, amount: bigint, label: string) {
  await expect(c.distributor.connect(c.treasury).fundReserve(amount), label)
    .to.emit(c.distributor, "FundReserve")
    .withArgs(c.treasury.address, amount);
  m.reserve += amount;
  m.funded += amount;
}

/** Claims `batch` (leaf indexes, one account) through a keeper; checks the outcome the model predicts. */
async function claim(c: Walk, m: Model, batch: number[], label: string) {
  const leaves = batch.map((i) => m.setup.leaves[i]);
  const beneficiary = leaves[0].leaf.account;
  const send = () =>
    c.distributor.connect(c.keeper).claim(
      beneficiary,
      leaves.map((b) => ({ leaf: b.leaf, proof: b.proof })),
    );
  const error = m.predictClaim(batch);
  count(error ? error[0] : `claim of ${Math.min(batch.length, 3)}${batch.length > 2 ? "+" : ""} leaves`);
  if (error) {
    const [name, ...args] = error;
    await expect(send(), `${label}: ${name}`)
      .to.be.revertedWithCustomError(c.distributor, name)
      .withArgs(...args);
    return false;
  }
  const tx = await send();
  const day = dayOf(await blockTimestamp(tx));
  const total = m.applyClaim(batch, day);
  const events = await distributorEvents(c.distributor, tx);
  expect(events, `${label}: events`).to.deep.equal([
    ...leaves.map((b) => ["ClaimLeaf", b.leaf.epoch, b.hash, b.leaf.account, leafReward(b.leaf)]),
    ["Claim", beneficiary, day, total, BigInt(batch.length)],
  ]);
  for (const b of leaves) {
    expect(m.paidHashes.has(b.hash), `${label}: leaf ${b.hash} paid twice`).to.be.false;
    m.paidHashes.add(b.hash);
    expect(await read(c, "isClaimed", [b.leaf.epoch, b.leaf.kind, subjectOf(b.leaf)]), `${label}: isClaimed`).to.be
      .true;
  }
  return true;
}

async function withdraw(c: Walk, m: Model, account: number, day: bigint, label: string) {
  const signer = [c.alice, c.bob, c.carol, c.dave, c.erin][account];
  const position = m.positions[account].find((p) => p.day === day);
  count(!position || position.amount === 0n ? "UnknownPosition" : "withdrawVested");
  if (!position || position.amount === 0n) {
    await expect(c.distributor.connect(signer).withdrawVested(day), `${label}: UnknownPosition`)
      .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_UnknownPosition")
      .withArgs(signer.address, day);
    return;
  }
  const tx = await c.distributor.connect(signer).withdrawVested(day);
  const [paid, forfeited] = m.applyWithdraw(account, day, await blockTimestamp(tx));
  expect(await distributorEvents(c.distributor, tx), `${label}: events`).to.deep.equal([
    ["WithdrawVested", signer.address, day, paid, forfeited],
  ]);
}

/** One walk of `order` from the reported epochs: claims, extras, then the drain. */
async function walk(c: Walk, setup: Setup, order: Order, fundPct: number, name: string) {
  const m = new Model(setup);
  if (fundPct > 0) await fund(c, m, (setup.sum * BigInt(fundPct)) / 100n + 1n, `${name} initial fund`);
  await checkInvariants(c, m, `${name} start`);

  const queue = [...order.perm];
  let k = 0;
  while (queue.length > 0) {
    const step = order.steps[k];
    const label = `${name} step ${k}`;
    const first = queue.shift()!;
    const account = setup.leaves[first].account;
    const batch = [first];
    for (let j = 0; j < queue.length && batch.length < step.batch;) {
      if (setup.leaves[queue[j]].account === account) batch.push(...queue.splice(j, 1));
      else j++;
    }
    await claim(c, m, batch, `${label} claim [${batch}]`);
    await checkInvariants(c, m, `${label} after claim`);

    if (step.replay !== null && m.paidLeaves.size > 0) {
      const paid = [...m.paidLeaves];
      const i = paid[step.replay % paid.length];
      await claim(c, m, [i], `${label} replay ${i}`);
    }
    if (step.fund !== null) await fund(c, m, (setup.sum * BigInt(step.fund)) / 100n + 1n, `${label} fund`);
    if (step.days > 0) await time.increase(BigInt(step.days) * ONE_DAY);
    if (step.withdraw !== null) {
      const list = m.positions[account];
      const day = step.withdraw < list.length ? list[step.withdraw].day : dayOf(BigInt(await time.latest())) + 1n;
      await withdraw(c, m, account, day, `${label} withdraw day ${day}`);
    }
    await checkInvariants(c, m, `${label} after extras`);
    k++;
  }

  // Drain: enough reserve for everything, every unpaid leaf retried alone, then 181 days (180
  // after the last claim's day ends) and every position withdrawn in full.
  await fund(c, m, setup.sum + 1n, `${name} drain fund`);
  for (const [i] of setup.leaves.entries()) {
    if (!m.paidLeaves.has(i)) await claim(c, m, [i], `${name} drain claim ${i}`);
  }
  await checkInvariants(c, m, `${name} after drain claims`);
  await time.increase(181n * ONE_DAY);
  for (let a = 0; a < ACCOUNTS; a++) {
    for (const p of m.positions[a].filter((q) => q.amount > 0n)) {
      await withdraw(c, m, a, p.day, `${name} drain withdraw ${a}/${p.day}`);
    }
  }
  await checkInvariants(c, m, `${name} end`);
  for (const [i, b] of setup.leaves.entries()) {
    expect(
      await read(c, "isClaimed", [b.leaf.epoch, b.leaf.kind, subjectOf(b.leaf)]),
      `${name}: leaf ${i} subject`,
    ).to.equal(m.keys.has(b.key));
  }
  return m;
}

/** Honest-epoch totals per account, in order of accounts, as `epoch:amount` strings. */
function honestTotals(m: Model) {
  return m.claimedBy.map((by) =>
    [...by]
      .filter(([epoch, amount]) => m.setup.honestEpochs.has(epoch) && amount > 0n)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([epoch, amount]) => `${epoch}:${amount}`),
  );
}

async function deployWalk() {
  const c = await deployDistributor();
  const accounts = [c.alice, c.bob, c.carol, c.dave, c.erin].map((s) => s.address);
  return { ...c, accounts, address: await c.distributor.getAddress() };
}

async function runWalk(s: Scenario, a: Order, b: Order) {
  const c: Walk = await loadFixture(deployWalk);

  const all: RewardLeaf[] = [];
  const budgets = new Map<bigint, bigint>();
  const honestEpochs = new Set<bigint>();
  const trees = new Map<bigint, Awaited<ReturnType<typeof postEpoch>>>();
  for (const spec of s.epochs) {
    const epoch = BigInt(spec.epoch);
    const leaves = leavesOf(spec, c.accounts);
    const budget = budgetOf(epoch);
    const sum = leaves.reduce((t, l) => t + leafReward(l), 0n);
    trees.set(epoch, await postEpoch(c, epoch, leaves, sum < budget ? sum : budget));
    expect((await c.oracle.rootAndBudget(epoch))[1], `budget of ${epoch}`).to.equal(budget);
    budgets.set(epoch, budget);
    count(`${spec.bad ? "bad" : "honest"} epoch, ${Math.ceil(leaves.length / 10) * 10} leaves or fewer`);
    if (!spec.bad) honestEpochs.add(epoch);
    all.push(...leaves);
  }
  const leaves: Built[] = all.map((leaf) => ({
    leaf,
    proof: claimOf(trees.get(leaf.epoch)!, leaf).proof,
    hash: rewardLeafHash(leaf),
    account: c.accounts.indexOf(leaf.account),
    honest: honestEpochs.has(leaf.epoch),
    key: `${leaf.epoch}:${leaf.kind}:${subjectOf(leaf)}`,
  }));
  const setup: Setup = { leaves, budgets, honestEpochs, sum: all.reduce((t, l) => t + leafReward(l), 0n) };
  // Orders were drawn for the spec's leaf count; honest epochs may have dropped duplicates.
  const fit = (o: Order): Order => ({
    perm: o.perm.filter((i) => i < leaves.length),
    steps: o.steps,
  });

  const snapshot = await takeSnapshot();
  const first = await walk(c, setup, fit(a), s.fundPct, "order A");
  await snapshot.restore();
  const second = await walk(c, setup, fit(b), s.fundPct, "order B");

  // Threat 32: the order of claims changes no account's total over the honest epochs, and each
  // account got exactly its leaves there.
  const expected = Array.from({ length: ACCOUNTS }, (_, i) => {
    const by = new Map<bigint, bigint>();
    for (const l of leaves.filter((x) => x.honest && x.account === i && leafReward(x.leaf) > 0n)) {
      by.set(l.leaf.epoch, (by.get(l.leaf.epoch) ?? 0n) + leafReward(l.leaf));
    }
    return [...by].sort(([x], [y]) => (x < y ? -1 : 1)).map(([e, v]) => `${e}:${v}`);
  });
  expect(honestTotals(first), "order A: honest totals per account").to.deep.equal(expected);
  expect(honestTotals(second), "order B: honest totals per account").to.deep.equal(expected);
  for (const [epoch, budget] of budgets) {
    for (const [name, m] of [
      ["A", first],
      ["B", second],
    ] as const) {
      const claimed = m.claimed.get(epoch) ?? 0n;
      expect(claimed <= budget, `order ${name}: claimed ${claimed} of epoch ${epoch} <= ${budget}`).to.be.true;
    }
  }
}

describe("RewardDistributor property: claims in any order pay each leaf once, within budget", function () {
  this.timeout(10 * 60_000);

  it(`keeps reserve + positions + paid == funded and order-independent totals (seed ${SEED}, ${RUNS} runs)`, async function () {
    const property = fc.asyncProperty(walkArb, ([scenario, a, b]) => runWalk(scenario, a, b));
    try {
      await fc.assert(property, { seed: SEED, path: PATH, numRuns: RUNS, endOnFailure: PATH !== undefined });
    } catch (e) {
      const replay = /seed: (-?\d+), path: "([^"]*)"/.exec(e instanceof Error ? e.message : String(e));
      if (replay) {
        console.error(
          `\nReplay: KAISAR_FC_SEED=${replay[1]} KAISAR_FC_PATH=${replay[2]}` +
            " npx hardhat test test/unit/RewardDistributor/property.test.ts\n",
        );
      }
      throw e;
    } finally {
      if (process.env.KAISAR_FC_STATS) console.log([...STATS].sort());
    }
  });
});
