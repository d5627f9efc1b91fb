/**
 * Attacker walk of issue #15's part "stake" (attacks 1 and 4): a seeded, replayable fast-check walk
 * on the real contracts with MAINNET time parameters (deploy/parameters/peaq.json: 14-day epochs, 2
 * downtime epochs, a 3-day slash window, 45-day unbonding). An honest provider (node 1) and an honest
 * renter go about their business beside an attacker that owns node 2 and a renter wallet, and that
 * - unbonds and then misbehaves (fakes hardware, or stops its agent while rented) and tries to withdraw
 *   before the slash lands, also in the same block as the slash, in either order;
 * - rents its own node at a huge price, takes the earnings, and claims SLA credits from its own stake
 *   (in the same block as a fraud slash, in either order), hoping the credit exits the stake first;
 * - restakes, withdraws earnings, pays credits, lets time run.
 * In an epoch the attacker is honest, fakes hardware and stops its agent (the self-rented credit is
 * then its exit), or only stops its agent. Whether the attacker misbehaves in an epoch is fixed by the run's seed before the epoch starts, so
 * evidence is "pending" from the epoch's start until its deadline (`epochStart(e + 1) + slashWindow`)
 * or until a slash used it.
 *
 * Invariants after every step:
 * - rented floor: while node 2 has a GPU rented, the attacker's active stake is at least the node's
 *   requirement less what slashes took since the rental began;
 * - no exit ahead of a slash: a successful `withdrawUnstaked` never takes stake whose unbonding was
 *   requested after a misbehaving epoch began whose evidence is still pending (inside its window,
 *   not slashed) — a slash for evidence still inside its window finds the stake;
 * - credits never beat slashes: stake credits for epoch e are paid only after e's deadline, and at
 *   most `stakeCreditCapBps` of the node's requirement per node and epoch;
 * - profit: the attacker's KAI (wallets, registry stake, unbonding and rewards, its rentals'
 *   refundable deposits and unwithdrawn earnings) never exceeds what it started with.
 *
 * Defaults: KAISAR_FC_RUNS runs (150) of KAISAR_FC_MAX_COMMANDS steps (25) = 3,750 steps, seed
 * KAISAR_FC_SEED (1515); replay with KAISAR_FC_SEED/KAISAR_FC_PATH; KAISAR_FC_STATS=1 prints the step
 * count and the attacker's profit figures. Each run starts from one `evm_snapshot` (no redeploys).
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers, network } from "hardhat";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { ContractTransactionResponse, TransactionReceipt } from "ethers";

import { KAI, Plan, USD, registerNode, type Core } from "../fixtures";
import { deployWithCheckers } from "../helpers/oracle";
import { fcCount, fcPath, fcSeed } from "../helpers/fcEnv";
import { inOneBlock, metricsWith, reportNodes, type NodeEpochProof, type SlaFixture } from "../helpers/sla";

const SEED = fcSeed("KAISAR_FC_SEED", 1_515);
const RUNS = fcCount("KAISAR_FC_RUNS", 150);
const STEPS = fcCount("KAISAR_FC_MAX_COMMANDS", 25);
const PATH = fcPath("KAISAR_FC_PATH");
const STATS = process.env.KAISAR_FC_STATS === "1";

const PEAQ = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "deploy", "parameters", "peaq.json"), "utf8"));
const EPOCH = BigInt(PEAQ.epochLengthSeconds);
const STAKE = KAI(24_000); // an 8 x H100 node: 8 x 3 x 1,000 KAI
const HUGE_PRICES = [KAI(1), KAI(20), KAI(500)] as const; // KAI per GPU-hour of the attacker's own node
const REASON_SLA_CREDIT = 1n;

async function deployWorld() {
  const c = await deployWithCheckers(4, 3, Number(EPOCH));
  if (BigInt(PEAQ.unbondingPeriodSeconds) !== (await c.registry.unbondingPeriod())) {
    await c.registry.setUnbondingPeriod(PEAQ.unbondingPeriodSeconds);
  }
  const honestNode = await registerNode(c as unknown as Core, c.provider);
  await c.registry.connect(c.provider).stake(STAKE);
  const node = await registerNode(c as unknown as Core, c.provider2);
  await c.registry.connect(c.provider2).stake(STAKE);
  const sla = await ethers.deployContract("SlaEnforcer", [
    await c.oracle.getAddress(),
    await c.escrow.getAddress(),
    c.admin.address,
    c.treasury.address,
    PEAQ.slashWindowSeconds,
  ]);
  await c.escrow.grantRole(await c.escrow.ORACLE_ROLE(), await sla.getAddress());
  await c.registry.grantRole(await c.registry.SLASHER_ROLE(), await sla.getAddress());
  await sla.syncSlashLatency();
  await sla.setKaiPerToken(await c.kai.getAddress(), 10n ** 18n);
  await sla.setKaiPerToken(await c.usd.getAddress(), 10n ** 30n); // 1 KAI per USD
  await c.kai.connect(c.treasury).transfer(c.other.address, KAI(10_000_000));
  await c.kai.connect(c.other).approve(await c.escrow.getAddress(), ethers.MaxUint256);
  await c.kai.connect(c.provider2).approve(await c.registry.getAddress(), ethers.MaxUint256);
  return { ...c, sla, node, honestNode, window: BigInt(PEAQ.slashWindowSeconds) } as unknown as SlaFixture & {
    node: bigint;
    honestNode: bigint;
    window: bigint;
  };
}
type World = Awaited<ReturnType<typeof deployWorld>>;

type Action =
  | { t: "advance"; how: "small" | "epoch" | "deadline" }
  | { t: "honestRent" }
  | { t: "selfRent"; gpus: number; price: number }
  | { t: "endRental"; pick: number }
  | { t: "withdrawEarnings" }
  | { t: "unstake"; frac: 1 | 2 | 4 }
  | { t: "withdraw" }
  | { t: "restake"; amount: bigint }
  | { t: "report" }
  | { t: "credit"; pick: number }
  | { t: "slash"; pick: number; kind: "fraud" | "downtime" }
  | { t: "raceWithdraw"; pick: number; withdrawFirst: boolean }
  | { t: "raceCredit"; pick: number; creditFirst: boolean }
  | { t: "pay"; pick: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ t: fc.constant("advance" as const), how: fc.constantFrom("small", "epoch", "deadline") }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("honestRent" as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("selfRent" as const),
      gpus: fc.integer({ min: 1, max: 8 }),
      price: fc.nat({ max: 2 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("endRental" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("withdrawEarnings" as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("unstake" as const),
      frac: fc.constantFrom(1 as const, 2 as const, 4 as const),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("withdraw" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant("restake" as const), amount: fc.bigInt({ min: 1n, max: KAI(30_000) }) }),
  },
  { weight: 5, arbitrary: fc.record({ t: fc.constant("report" as const) }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant("credit" as const), pick: fc.nat() }) },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant("slash" as const),
      pick: fc.nat(),
      kind: fc.constantFrom("fraud" as const, "downtime" as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("raceWithdraw" as const), pick: fc.nat(), withdrawFirst: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("raceCredit" as const), pick: fc.nat(), creditFirst: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("pay" as const), pick: fc.nat() }) },
);

/** What the walk remembers of one run (the chain is the truth; this is what invariants need). */
interface Run {
  /** misbehave[e]: 0 honest, 1 fakes hardware, 2 stops its agent (fixed by the run's seed). */
  behaviour: (e: bigint) => 0 | 1 | 2;
  reported: Map<bigint, { attacker: NodeEpochProof; honest: NodeEpochProof }>;
  nextReport: bigint;
  /** Epochs whose fraud / downtime evidence a slash used (or that the cursors passed). */
  slashedFraud: Set<bigint>;
  slashedDowntime: Set<bigint>;
  attackerRentals: bigint[];
  honestRentals: bigint[];
  lastRequest: bigint | undefined;
  /** KAI slashed from the attacker's active stake since node 2's current rented period began. */
  rentedSince: boolean;
  slashedWhileRented: bigint;
  creditedPairs: [bigint, bigint][];
  initialWealth: bigint;
  maxProfit: bigint;
  stakeCreditPaid: bigint;
  slashedFromAttacker: bigint;
}

const now = async () => BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
const startOf = (w: World, e: bigint) => w.genesis + e * EPOCH;
const deadlineOf = (w: World, e: bigint) => startOf(w, e + 1n) + w.window;

async function tryTx(send: () => Promise<ContractTransactionResponse>): Promise<TransactionReceipt | undefined> {
  try {
    return (await (await send()).wait()) ?? undefined;
  } catch {
    return undefined;
  }
}

async function setTime(t: bigint) {
  if (t > (await now())) {
    await network.provider.send("evm_setNextBlockTimestamp", [Number(t)]);
    await network.provider.send("evm_mine", []);
  }
}

/** The attacker's KAI: wallets, registry holdings, its rentals' refundable deposits and its unwithdrawn earnings. */
async function wealth(w: World, r: Run): Promise<bigint> {
  const [a, b] = [await w.kai.balanceOf(w.provider2.address), await w.kai.balanceOf(w.other.address)];
  const s = await w.registry.getStake(w.provider2.address);
  let sum = a + b + s.staked + s.unbonding + s.rewardsOwed;
  const ids = [...r.attackerRentals];
  if (ids.length > 0) {
    for (const v of await w.lens.getRentals(ids)) sum += v.refundable + v.withdrawable;
  }
  return sum;
}

/** Slash events in `receipt` against the attacker, split by reason. */
function slashesIn(w: World, receipt: TransactionReceipt | undefined) {
  const out: { reason: bigint; fromStake: bigint; total: bigint }[] = [];
  for (const l of receipt?.logs ?? []) {
    const p = (() => {
      try {
        return w.registry.interface.parseLog(l);
      } catch {
        return null;
      }
    })();
    if (p?.name === "Slash" && p.args.provider === w.provider2.address) {
      out.push({
        reason: BigInt(p.args.reason),
        fromStake: p.args.fromStake,
        total: p.args.fromRewards + p.args.fromStake + p.args.fromUnbonding,
      });
    }
  }
  return out;
}

async function pendingEvidence(w: World, r: Run, t: bigint): Promise<bigint[]> {
  const out: bigint[] = [];
  const current = (t - w.genesis) / EPOCH;
  for (let e = current > 4n ? current - 4n : 0n; e <= current; e++) {
    const b = r.behaviour(e);
    if (b === 0 || t < startOf(w, e) || t > deadlineOf(w, e)) continue;
    if (b === 1 && r.slashedFraud.has(e)) continue;
    if (b === 2 && (r.slashedDowntime.has(e) || !(await servedDuring(w, r, e)))) continue;
    out.push(e);
  }
  return out;
}

/** Whether one of node 2's rentals ran during epoch `e` (downtime is slashable only then). */
async function servedDuring(w: World, r: Run, e: bigint): Promise<boolean> {
  for (const id of r.attackerRentals) {
    const [s, end] = await w.escrow.serviceWindow(id);
    if (s < startOf(w, e + 1n) && end > startOf(w, e)) return true;
  }
  return false;
}

describe("Attacker walk (stake): unbonding before misbehaviour, credits from stake, same-block races (issue #15, attacks 1 and 4)", function () {
  this.timeout(0);
  let w: World;
  let start: string;
  let steps = 0;
  let runs = 0;
  const profits: bigint[] = [];
  const outcomes = new Map<string, number>();
  let credited = 0n;
  let slashed = 0n;

  before(async function () {
    w = await deployWorld();
    start = await network.provider.send("evm_snapshot", []);
  });

  after(function () {
    if (STATS) {
      const max = profits.reduce((a, b) => (a > b ? a : b), -(10n ** 40n));
      console.log(
        `      attack-stake walk: ${runs} runs, ${steps} steps; attacker's best profit ${ethers.formatUnits(max, 18)} KAI` +
          ` (0 or less: no run gained); KAI slashed from it ${ethers.formatUnits(slashed, 18)}, stake credits paid` +
          ` ${ethers.formatUnits(credited, 18)}`,
      );
      console.log(
        `      outcomes: ${[...outcomes]
          .sort()
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
      );
    }
  });

  it("keeps the stake where a pending slash can reach it and the attacker's profit at or below 0", async function () {
    const property = fc.asyncProperty(
      fc.integer(),
      fc.array(actionArb, { minLength: STEPS, maxLength: STEPS }),
      async (seed, actions) => {
        await network.provider.send("evm_revert", [start]);
        start = await network.provider.send("evm_snapshot", []);
        runs++;
        const r: Run = {
          behaviour: (e) => (((seed ^ (Number(e) * 2_654_435_761)) >>> 0) % 3) as 0 | 1 | 2,
          reported: new Map(),
          nextReport: 0n,
          slashedFraud: new Set(),
          slashedDowntime: new Set(),
          attackerRentals: [],
          honestRentals: [],
          lastRequest: undefined,
          rentedSince: false,
          slashedWhileRented: 0n,
          creditedPairs: [],
          initialWealth: 0n,
          maxProfit: -(10n ** 40n),
          stakeCreditPaid: 0n,
          slashedFromAttacker: 0n,
        };
        r.initialWealth = await wealth(w, r);
        for (const [i, a] of actions.entries()) {
          steps++;
          const label = `step ${i + 1} ${JSON.stringify(a, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`;
          const receipts = await act(w, r, a);
          const key = `${a.t}:${receipts.some((x) => x) ? "mined" : "none"}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          await checkInvariants(w, r, a, receipts, label);
        }
        profits.push(r.maxProfit);
        credited += r.stakeCreditPaid;
        slashed += r.slashedFromAttacker;
      },
    );
    await fc.assert(property, { seed: SEED, numRuns: RUNS, path: PATH, endOnFailure: true });
  });

  /** Sends `a` (at most two transactions); returns the receipts of what was mined. */
  async function act(w: World, r: Run, a: Action): Promise<(TransactionReceipt | undefined)[]> {
    const kai = await w.kai.getAddress();
    const usd = await w.usd.getAddress();
    const t = await now();
    switch (a.t) {
      case "advance": {
        const e = (t - w.genesis) / EPOCH;
        if (a.how === "small") await setTime(t + 3_600n);
        else if (a.how === "epoch") await setTime(startOf(w, e + 1n));
        else await setTime(deadlineOf(w, e > 0n ? e - 1n : 0n));
        return [];
      }
      case "honestRent": {
        const p = {
          nodeId: w.honestNode,
          gpus: 1,
          token: usd,
          plan: Plan.PayAsYouGo,
          deposit: USD(2_000),
          termDays: 0,
          maxPricePerGpuHour: ethers.MaxUint256,
          slaTier: 1,
        };
        const rec = await tryTx(() => w.escrow.connect(w.renter).rent(p));
        if (rec) r.honestRentals.push(await w.escrow.rentalCount());
        return [rec];
      }
      case "selfRent": {
        const price = HUGE_PRICES[a.price];
        if ((await w.registry.nodePrice(w.node, kai)) !== price)
          await tryTx(() => w.registry.connect(w.provider2).setNodePrice(w.node, kai, price));
        const perSecond = (price * BigInt(a.gpus) + 3_599n) / 3_600n;
        const p = {
          nodeId: w.node,
          gpus: a.gpus,
          token: kai,
          plan: Plan.PayAsYouGo,
          deposit: perSecond * (EPOCH * 2n),
          termDays: 0,
          maxPricePerGpuHour: price,
          slaTier: 1,
        };
        const before = (await w.registry.getNode(w.node)).rentedGpus;
        const rec = await tryTx(() => w.escrow.connect(w.other).rent(p));
        if (rec) {
          r.attackerRentals.push(await w.escrow.rentalCount());
          if (before === 0n) {
            r.rentedSince = true;
            r.slashedWhileRented = 0n;
          }
        }
        return [rec];
      }
      case "endRental": {
        const open: bigint[] = [];
        for (const id of [...r.attackerRentals, ...r.honestRentals])
          if ((await w.escrow.getRental(id)).status !== 3n) open.push(id);
        if (open.length === 0) return [];
        const id = open[a.pick % open.length];
        const renter = r.attackerRentals.includes(id) ? w.other : w.renter;
        return [await tryTx(() => w.escrow.connect(renter).endRental(id))];
      }
      case "withdrawEarnings": {
        const ids = r.attackerRentals.filter(() => true);
        if (ids.length === 0) return [];
        return [await tryTx(() => w.escrow.connect(w.provider2).withdrawEarnings(kai, ids))];
      }
      case "unstake": {
        const staked = (await w.registry.getStake(w.provider2.address)).staked;
        const amount = staked / BigInt(a.frac);
        if (amount === 0n) return [];
        const rec = await tryTx(() => w.registry.connect(w.provider2).requestUnstake(amount));
        if (rec) r.lastRequest = BigInt((await ethers.provider.getBlock(rec.blockNumber))!.timestamp);
        return [rec];
      }
      case "withdraw":
        return [await tryTx(() => w.registry.connect(w.provider2).withdrawUnstaked())];
      case "restake":
        return [await tryTx(() => w.registry.connect(w.provider2).stake(a.amount))];
      case "report": {
        const e = r.nextReport;
        if (startOf(w, e + 1n) > t + 2n * EPOCH) return [];
        const b = r.behaviour(e);
        const [attacker, honest] = await reportNodes(w, e, [
          // Faking hardware (1) comes with the agent stopped too (the credit is the exit); 2: only stopped.
          { nodeId: w.node, metrics: metricsWith(b === 0 ? 10_000n : 0n, b === 1, Number(e)) },
          { nodeId: w.honestNode, metrics: metricsWith(10_000n, false, Number(e) + 1_000) },
        ]);
        r.reported.set(e, { attacker, honest });
        r.nextReport = e + 1n;
        return [
          (await ethers.provider.getTransactionReceipt((await ethers.provider.getBlock("latest"))!.transactions[0]))!,
        ];
      }
      case "credit": {
        const pairs = await creditable(w, r);
        if (pairs.length === 0) return [];
        const [id, e] = pairs[a.pick % pairs.length];
        const rec = await tryTx(() => w.sla.connect(w.other).applySlaCredit(id, r.reported.get(e)!.attacker));
        if (rec) r.creditedPairs.push([id, e]);
        return [rec];
      }
      case "slash": {
        const [rec] = await sendSlash(w, r, a.pick, a.kind, undefined);
        return [rec];
      }
      case "raceWithdraw": {
        const fraud = [...r.reported.keys()].filter((e) => r.behaviour(e) === 1 && !r.slashedFraud.has(e));
        if (fraud.length === 0) return [];
        const e = fraud[a.pick % fraud.length];
        const at = deadlineOf(w, e);
        if (at <= t) return [];
        const withdraw = (o: { gasLimit: bigint }) => w.registry.connect(w.provider2).withdrawUnstaked(o);
        const slash = (o: { gasLimit: bigint }) =>
          w.sla.connect(w.keeper).slashForHardwareFraud(r.reported.get(e)!.attacker, o);
        const recs = await inOneBlock(at, a.withdrawFirst ? [withdraw, slash] : [slash, withdraw]);
        const s = a.withdrawFirst ? recs[1] : recs[0];
        if (s.status === 1) r.slashedFraud.add(e);
        return recs.map((x) => (x.status === 1 ? x : undefined));
      }
      case "raceCredit": {
        const pairs = (await creditable(w, r)).filter(([, e]) => r.behaviour(e) === 1 && !r.slashedFraud.has(e));
        if (pairs.length === 0) return [];
        const [id, e] = pairs[a.pick % pairs.length];
        if (deadlineOf(w, e) <= t + 1n) return [];
        const p = r.reported.get(e)!.attacker;
        const credit = (o: { gasLimit: bigint }) => w.sla.connect(w.other).applySlaCredit(id, p, o);
        const slash = (o: { gasLimit: bigint }) => w.sla.connect(w.keeper).slashForHardwareFraud(p, o);
        const recs = await inOneBlock(t + 1n, a.creditFirst ? [credit, slash] : [slash, credit]);
        const [c, s] = a.creditFirst ? recs : [recs[1], recs[0]];
        if (s.status === 1) r.slashedFraud.add(e);
        if (c.status === 1) r.creditedPairs.push([id, e]);
        return recs.map((x) => (x.status === 1 ? x : undefined));
      }
      case "pay": {
        const due: [bigint, bigint][] = [];
        for (const [id, e] of r.creditedPairs) if ((await w.sla.stakeCreditDue(id, e)) > 0n) due.push([id, e]);
        if (due.length === 0) return [];
        const [id, e] = due[a.pick % due.length];
        return [await tryTx(() => w.sla.connect(w.keeper).payStakeCredit(id, e))];
      }
    }
  }

  /** (rental, epoch) pairs of node 2's rentals and reported epochs not credited yet. */
  async function creditable(w: World, r: Run): Promise<[bigint, bigint][]> {
    const out: [bigint, bigint][] = [];
    for (const e of r.reported.keys()) {
      if (r.behaviour(e) === 0) continue;
      for (const id of r.attackerRentals) {
        const [from, to] = await w.escrow.serviceWindow(id);
        if (from < startOf(w, e + 1n) && to > startOf(w, e) && !(await w.sla.isCredited(id, e))) out.push([id, e]);
      }
    }
    return out;
  }

  async function sendSlash(w: World, r: Run, pick: number, kind: "fraud" | "downtime", _o: unknown) {
    if (kind === "fraud") {
      const t = await now();
      // Like a keeper: evidence still inside its window, mostly the latest (sometimes an expired one).
      const es = [...r.reported.keys()].filter(
        (e) => r.behaviour(e) === 1 && !r.slashedFraud.has(e) && (pick % 8 === 7 || deadlineOf(w, e) >= t),
      );
      if (es.length === 0) return [undefined];
      const e = pick % 4 === 3 ? es[pick % es.length] : es[es.length - 1];
      const rec = await tryTx(() => w.sla.connect(w.keeper).slashForHardwareFraud(r.reported.get(e)!.attacker));
      if (rec) r.slashedFraud.add(e);
      return [rec];
    }
    const t = await now();
    const es = [...r.reported.keys()].filter(
      (e) =>
        e > 0n &&
        r.behaviour(e) !== 0 &&
        r.behaviour(e - 1n) !== 0 &&
        r.reported.has(e - 1n) &&
        !r.slashedDowntime.has(e) &&
        !r.slashedDowntime.has(e - 1n) &&
        (pick % 8 === 7 || deadlineOf(w, e) >= t),
    );
    if (es.length === 0) return [undefined];
    const e = es[pick % es.length];
    for (const id of r.attackerRentals) {
      const rec = await tryTx(() =>
        w.sla.connect(w.keeper).slashForDowntime(id, [r.reported.get(e - 1n)!.attacker, r.reported.get(e)!.attacker]),
      );
      if (rec) {
        r.slashedDowntime.add(e);
        r.slashedDowntime.add(e - 1n);
        return [rec];
      }
    }
    return [undefined];
  }

  async function checkInvariants(
    w: World,
    r: Run,
    a: Action,
    receipts: (TransactionReceipt | undefined)[],
    label: string,
  ) {
    const t = await now();
    const s = await w.registry.getStake(w.provider2.address);
    const node = await w.registry.getNode(w.node);
    // Books: slashes against the attacker in this step.
    for (const rec of receipts) {
      for (const sl of slashesIn(w, rec)) {
        r.slashedFromAttacker += sl.total;
        if (r.rentedSince) r.slashedWhileRented += sl.fromStake;
        if (sl.reason === REASON_SLA_CREDIT) {
          r.stakeCreditPaid += sl.total;
          // Credits never beat slashes: paid only after the deadline of the credit's epoch.
          const paid = rec!.logs
            .map((l) => {
              try {
                return w.sla.interface.parseLog(l);
              } catch {
                return null;
              }
            })
            .find((p) => p?.name === "PayStakeCredit");
          expect(paid, `${label}: a stake credit is paid only through payStakeCredit`).to.not.equal(undefined);
          const e = paid!.args.epoch as bigint;
          const at = BigInt((await ethers.provider.getBlock(rec!.blockNumber))!.timestamp);
          expect(at > deadlineOf(w, e), `${label}: the stake credit of epoch ${e} is paid after its deadline`).to.be
            .true;
        }
      }
    }
    // Cap per node and epoch.
    for (const e of r.reported.keys()) {
      const due = await w.sla.nodeStakeCreditDue(w.node, e);
      expect(due <= (STAKE * 1_000n) / 10_000n, `${label}: stake credits of node 2 for epoch ${e} within the cap`).to.be
        .true;
    }
    // Rented floor.
    if (node.rentedGpus === 0n) r.rentedSince = false;
    if (node.rentedGpus > 0n) {
      const floor = STAKE > r.slashedWhileRented ? STAKE - r.slashedWhileRented : 0n;
      expect(s.staked >= floor, `${label}: node 2 rented: stake ${s.staked} >= requirement less slashes ${floor}`).to.be
        .true;
    }
    // No exit ahead of a pending slash.
    if (a.t === "withdraw" || a.t === "raceWithdraw") {
      for (const rec of receipts) {
        const withdrew = rec?.logs.some((l) => {
          try {
            return w.registry.interface.parseLog(l)?.name === "WithdrawUnstaked";
          } catch {
            return false;
          }
        });
        if (!withdrew) continue;
        const at = BigInt((await ethers.provider.getBlock(rec!.blockNumber))!.timestamp);
        for (const e of await pendingEvidence(w, r, at)) {
          // Stake whose unbonding began after the misbehaviour did must still be there for the slash.
          expect(
            r.lastRequest !== undefined && r.lastRequest < startOf(w, e),
            `${label}: withdrew stake requested at ${r.lastRequest} while epoch ${e}'s evidence (deadline ${deadlineOf(w, e)}) is pending`,
          ).to.be.true;
        }
      }
    }
    // Profit.
    const profit = (await wealth(w, r)) - r.initialWealth;
    if (profit > r.maxProfit) r.maxProfit = profit;
    expect(profit <= 0n, `${label}: attacker profit ${ethers.formatUnits(profit, 18)} KAI at ${t}`).to.be.true;
  }
});
