/**
 * Attacker walk of the escrow part of issue #15 (attacks 3, 5 and 6): a seeded, replayable
 * fast-check walk on the real NodeRegistry and RentalEscrow, with honest renters and providers and
 * three attackers taking random actions:
 *
 * - the dust depositor (attack 5): rents whole nodes with deposits worth seconds, hoping to hold
 *   the GPUs through the uncharged grace period;
 * - the provider who ends saving plans early (attack 6), after withdrawing all it can;
 * - the wash renter (attack 3): prices its own node at dust and rents it to itself.
 *
 * After every step it asserts the invariants that kill the attacks:
 * - every pay-as-you-go or hourly rental paid for at least the grace period it can hold uncharged,
 *   and the GPU-seconds the dust depositor held uncharged never exceed the GPU-seconds it paid for;
 * - a renter whose saving plan the provider ends gets the unused part plus the early-exit penalty
 *   (at most what the rental earned), and withdrawals never ate into that;
 * - no rental opens below the price floor of its GPU class;
 * - the tokens are conserved (every holder's USD adds up to what was minted).
 *
 * Each run starts from one `evm_snapshot` of a deployment (no redeploys). Replay a failure with
 * `KAISAR_FC_SEED=<seed> KAISAR_FC_PATH=<path> npx hardhat test test/scenarios/attack-escrow.test.ts`;
 * `KAISAR_FC_STATS=1` prints the steps taken and the outcome counts. The attackers' profits are
 * printed at the end of every run of the file.
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers, network } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import * as rm from "../../offchain/src/rentalMath";
import { CloseReason, Plan } from "../../offchain/src/rentalMath";
import { deployWithNode, registerNode, USD, USD_PRICE, HOUR, DAY } from "../fixtures";
import { fcCount, fcPath, fcSeed } from "../helpers/fcEnv";

const SEED = fcSeed("KAISAR_FC_SEED", 15_005);
const RUNS = fcCount("KAISAR_FC_RUNS", 50);
const STEPS = fcCount("KAISAR_FC_MAX_COMMANDS", 72);
const PATH = fcPath("KAISAR_FC_PATH");

/** Governance floor of the H100 class (class 0) in USD: 1 USD per GPU-hour. */
const FLOOR = USD(1);
const GRACE = BigInt(HOUR); // terms v0
const PENALTY_BPS = 1_000n; // terms v0

type Actor = "honest" | "dust" | "washer";

interface WalkRental {
  id: bigint;
  actor: Actor;
  node: 0 | 1;
  plan: rm.Plan;
  gpus: bigint;
  unitPrice: bigint;
  open: boolean;
}

/** What the attackers got, summed over every run of the file. */
const profit = {
  dustRefused: 0,
  /** GPU-seconds the refused dust deposits would have held uncharged under the old rule, less what they paid. */
  dustHypotheticalGpuSeconds: 0n,
  dustUnchargedGpuSeconds: 0n,
  dustPaidGpuSeconds: 0n,
  earlyExits: 0,
  /** Paid by the provider to renters when it ended saving plans early (0 before the fix). */
  compensationPaid: 0n,
  /** The same exits' unused parts: what the renters got back (all they got before the fix). */
  unusedRefunded: 0n,
  washRefused: 0,
  washOpened: 0,
  washFeesPaid: 0n,
};
const outcomes = new Map<string, number>();
const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
let stepsTaken = 0;

type Step =
  | { kind: "rent"; actor: Actor; node: 0 | 1; plan: rm.Plan; gpus: number; seconds: number }
  | { kind: "price"; level: "dust" | "below" | "floor" | "above" }
  | { kind: "topUp"; pick: number; seconds: number }
  | { kind: "renterEnd"; pick: number }
  | { kind: "providerEnd"; pick: number }
  | { kind: "withdraw"; node: 0 | 1 }
  | { kind: "close"; pick: number }
  | { kind: "time"; seconds: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("rent" as const),
      actor: fc.constantFrom<Actor>("honest", "dust", "washer"),
      node: fc.constantFrom<0 | 1>(0, 1),
      plan: fc.constantFrom<rm.Plan>(Plan.PayAsYouGo, Plan.Hourly, Plan.Saving),
      gpus: fc.integer({ min: 1, max: 8 }),
      seconds: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 3 * HOUR })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("price" as const),
      level: fc.constantFrom("dust", "below", "floor", "above"),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("topUp" as const),
      pick: fc.nat(),
      seconds: fc.integer({ min: 1, max: 2 * HOUR }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("renterEnd" as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("providerEnd" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("withdraw" as const), node: fc.constantFrom<0 | 1>(0, 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("close" as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("time" as const),
      seconds: fc.oneof(fc.integer({ min: 1, max: 2 * HOUR }), fc.integer({ min: 1, max: 3 * DAY })),
    }),
  },
);

type World = Awaited<ReturnType<typeof setup>>;

async function setup() {
  const c = await deployWithNode(); // node 1: the honest provider's 8 x H100 at USD 2
  const attackerNode = await registerNode(c, c.provider2); // node 2: the attacker's 8 x H100
  await c.registry.connect(c.provider2).stake(await c.registry.requiredStake(c.provider2.address));
  const usd = await c.usd.getAddress();
  await c.escrow.setPriceFloor(0, usd, FLOOR);
  const holders = [c.escrow, c.provider, c.provider2, c.renter, c.renter2, c.treasury, c.rewardPool, c.keeper];
  holders.push(c.other, c.oracle);
  const addresses = await Promise.all(holders.map((h) => h.getAddress()));
  const supply = await c.usd.totalSupply();
  return { c, usd, nodes: [c.nodeId, attackerNode] as const, addresses, supply };
}

/** The revert of `send`, decoded by name; undefined when it went through. */
async function attempt(w: World, send: () => Promise<{ wait(): Promise<unknown> }>) {
  try {
    await (await send()).wait();
    return undefined;
  } catch (e) {
    const data = (e as { data?: string }).data;
    if (!data) throw e;
    for (const contract of [w.c.escrow, w.c.registry]) {
      const parsed = contract.interface.parseError(data);
      if (parsed) return { name: parsed.name, args: [...parsed.args] as bigint[] };
    }
    throw e;
  }
}

async function runWalk(w: World, steps: Step[]) {
  const { c } = w;
  const renterOf: Record<Actor, HardhatEthersSigner> = { honest: c.renter, dust: c.renter2, washer: c.provider2 };
  const providerOf = [c.provider, c.provider2];
  const price: [bigint, bigint] = [USD_PRICE, USD_PRICE];
  const rentals: WalkRental[] = [];
  const open = () => rentals.filter((r) => r.open);
  const pick = <T>(xs: T[], i: number) => (xs.length === 0 ? undefined : xs[i % xs.length]);
  const free = (node: 0 | 1) => 8n - open().reduce((a, r) => a + (r.node === node ? r.gpus : 0n), 0n);
  /** Pins the next block one second on and returns its time. */
  const nextBlock = async () => {
    const t = (await time.latest()) + 1;
    await time.setNextBlockTimestamp(t);
    return BigInt(t);
  };
  const rentalOf = async (id: bigint) => {
    const r = await c.escrow.getRental(id);
    return {
      money: { plan: Number(r.plan) as rm.Plan, anchor: r.anchor, unitPrice: r.unitPrice, deposit: r.amount },
      withdrawnUnits: r.withdrawnUnits,
      status: Number(r.status),
    };
  };

  for (const step of steps) {
    stepsTaken++;
    switch (step.kind) {
      case "rent": {
        const who = renterOf[step.actor];
        // The washer rents its own node; the others either.
        const node: 0 | 1 = step.actor === "washer" ? 1 : step.node;
        const gpus = BigInt(step.gpus);
        const p = price[node];
        const perHour = p * gpus;
        const unitPrice = step.plan === Plan.PayAsYouGo ? (perHour + BigInt(HOUR) - 1n) / BigInt(HOUR) : perHour;
        const unit = rm.unitSeconds(step.plan);
        // Honest renters pay for what they want, at least the grace period; attackers pay for `seconds`.
        let seconds = BigInt(step.seconds);
        if (step.actor === "honest" && seconds < GRACE) seconds = GRACE;
        const deposit = step.plan === Plan.Saving ? 0n : ((seconds + unit - 1n) / unit) * unitPrice;
        let expected: { name: string; args: bigint[] } | undefined;
        if (gpus > free(node))
          expected = { name: "NodeRegistry_NotEnoughFreeGpus", args: [w.nodes[node], gpus, free(node)] };
        else if (p < FLOOR) expected = { name: "RentalEscrow_PriceBelowFloor", args: [w.nodes[node], p, FLOOR] };
        else {
          try {
            rm.quote(step.plan, p, gpus, deposit, step.plan === Plan.Saving ? 7n : 0n, 500n, GRACE);
          } catch (e) {
            if (!(e instanceof rm.ContractRevert)) throw e;
            expected = { name: e.errorName, args: [...e.args] };
          }
        }
        const params = {
          nodeId: w.nodes[node],
          gpus,
          token: w.usd,
          plan: step.plan,
          deposit,
          termDays: step.plan === Plan.Saving ? 7 : 0,
          maxPricePerGpuHour: ethers.MaxUint256,
          slaTier: 0,
        };
        const got = await attempt(w, () => c.escrow.connect(who).rent(params));
        expect(got, `rent ${JSON.stringify(step)}`).to.deep.equal(expected);
        count(`rent ${step.actor}: ${got?.name ?? "ok"}`);
        if (got?.name === "RentalEscrow_DepositBelowGrace" && step.actor === "dust") {
          profit.dustRefused++;
          // Under the old rule this deposit held `gpus` through a whole grace period it did not pay for.
          const paid = (deposit / unitPrice) * unit;
          profit.dustHypotheticalGpuSeconds += gpus * (GRACE - paid);
        }
        if (got?.name === "RentalEscrow_PriceBelowFloor" && step.actor === "washer") profit.washRefused++;
        if (got) break;
        const id = await c.escrow.rentalCount();
        const stored = await rentalOf(id);
        // Attack 3: nothing opens below the floor. Attack 5: the first deposit pays for the grace period.
        expect(p >= FLOOR, `rental ${id} opened at ${p}, below the floor ${FLOOR}`).to.be.true;
        if (step.plan !== Plan.Saving) {
          const paidSeconds = rm.totalUnits(step.plan, stored.money.unitPrice, stored.money.deposit) * unit;
          expect(paidSeconds >= GRACE, `rental ${id} pays ${paidSeconds} s < grace ${GRACE} s`).to.be.true;
        }
        if (step.actor === "washer") {
          profit.washOpened++;
          profit.washFeesPaid += rm.bpsOf(stored.money.deposit, 1_000n); // the fee on all it paid itself
        }
        rentals.push({
          id,
          actor: step.actor,
          node,
          plan: step.plan,
          gpus,
          unitPrice: stored.money.unitPrice,
          open: true,
        });
        break;
      }
      case "price": {
        const to = { dust: 1n, below: FLOOR - 1n, floor: FLOOR, above: 3n * FLOOR }[step.level];
        if (to === price[1]) break;
        await c.registry.connect(c.provider2).setNodePrice(w.nodes[1], w.usd, to);
        price[1] = to;
        count(`price ${step.level}`);
        break;
      }
      case "topUp": {
        const r = pick(
          open().filter((x) => x.plan !== Plan.Saving),
          step.pick,
        );
        if (!r) break;
        const amount = ((BigInt(step.seconds) + rm.unitSeconds(r.plan) - 1n) / rm.unitSeconds(r.plan)) * r.unitPrice;
        const got = await attempt(w, () => c.escrow.connect(renterOf[r.actor]).topUp(r.id, amount));
        // A top-up that resumes from grace must buy a grace period; after grace the rental is closable.
        expect([undefined, "RentalEscrow_TopUpTooSmall", "RentalEscrow_GraceExpired"]).to.include(got?.name);
        count(`topUp: ${got?.name ?? "ok"}`);
        break;
      }
      case "renterEnd": {
        const r = pick(open(), step.pick);
        if (!r) break;
        const before = await rentalOf(r.id);
        const t = await nextBlock();
        const s = rm.split(before.money, t, CloseReason.Renter, PENALTY_BPS);
        await c.escrow.connect(renterOf[r.actor]).endRental(r.id);
        await settle(r, before, t);
        expect(await c.escrow.withdrawable(r.id)).to.equal(s.providerAmount - withdrawnValue(before));
        count("renterEnd");
        break;
      }
      case "providerEnd": {
        // The attacker ends the saving plans of others on its node (and anything else there) early.
        // (Its own wash rentals it ends as their renter: `endRental` asks the renter first.)
        const r = pick(
          open().filter((x) => x.node === 1 && x.actor !== "washer"),
          step.pick,
        );
        if (!r) break;
        const renterAddress = await renterOf[r.actor].getAddress();
        const balance = await c.usd.balanceOf(renterAddress);
        const before = await rentalOf(r.id);
        const t = await nextBlock();
        await c.escrow.connect(c.provider2).endRental(r.id);
        await settle(r, before, t);
        const received = (await c.usd.balanceOf(renterAddress)) - balance;
        // Attack 6: the renter gets the unused part plus the penalty, at most what the rental earned.
        const m = before.money;
        const earned = rm.valueOf(
          m.plan,
          m.unitPrice,
          m.deposit,
          rm.earnedUnits(m.plan, m.anchor, m.unitPrice, m.deposit, t),
        );
        const unused = m.deposit - earned;
        let compensation = 0n;
        if (r.plan === Plan.Saving) {
          const penalty = (unused * PENALTY_BPS) / 10_000n;
          compensation = penalty < earned ? penalty : earned;
          profit.earlyExits++;
          profit.compensationPaid += compensation;
          profit.unusedRefunded += unused;
        }
        expect(received, `rental ${r.id} ended by its provider: the renter gets unused + penalty`).to.equal(
          unused + compensation,
        );
        count(`providerEnd ${rm.Plan.Saving === r.plan ? "saving" : "other"}`);
        break;
      }
      case "withdraw": {
        const mine = rentals.filter((x) => x.node === step.node).map((x) => x.id);
        if (mine.length === 0) break;
        const got = await attempt(w, () => c.escrow.connect(providerOf[step.node]).withdrawEarnings(w.usd, mine));
        expect([undefined, "RentalEscrow_NothingToWithdraw"]).to.include(got?.name);
        // Attack 6: what is left of every open saving plan still covers the penalty owed on an early end.
        const now = BigInt(await time.latest());
        for (const x of open().filter((y) => y.plan === Plan.Saving && y.node === step.node)) {
          const s = await rentalOf(x.id);
          const m = s.money;
          const earned = rm.valueOf(
            m.plan,
            m.unitPrice,
            m.deposit,
            rm.earnedUnits(m.plan, m.anchor, m.unitPrice, m.deposit, now),
          );
          const held = rm.bpsOf(m.deposit - earned, PENALTY_BPS);
          const owed = held < earned ? held : earned;
          expect(earned - withdrawnValue(s) >= owed, `rental ${x.id}: the hold-back covers ${owed}`).to.be.true;
        }
        count(`withdraw: ${got?.name ?? "ok"}`);
        break;
      }
      case "close": {
        const r = pick(open(), step.pick);
        if (!r) break;
        const closable = await c.escrow.closableAt(r.id);
        const before = await rentalOf(r.id);
        const t = await nextBlock();
        if (t < closable) {
          const got = await attempt(w, () => c.escrow.connect(c.keeper).closeRental(r.id));
          expect(got).to.deep.equal({ name: "RentalEscrow_NotClosable", args: [r.id, closable] });
          count("close: early");
          break;
        }
        await c.escrow.connect(c.keeper).closeRental(r.id);
        await settle(r, before, t);
        count("close");
        break;
      }
      case "time":
        await time.increase(step.seconds);
        break;
    }
    // Tokens are conserved: the holders' USD always adds up to what was minted.
    const balances = await Promise.all(w.addresses.map((a) => c.usd.balanceOf(a)));
    expect(
      balances.reduce((a, b) => a + b, 0n),
      "USD conserved",
    ).to.equal(w.supply);
    // Attack 5: the dust depositor never held more GPU-seconds uncharged than it paid for.
    expect(profit.dustUnchargedGpuSeconds <= profit.dustPaidGpuSeconds, "dust: uncharged <= paid").to.be.true;
  }

  /** Records a closed rental: the GPU-seconds it held uncharged (grace) and paid for. */
  async function settle(r: WalkRental, before: Awaited<ReturnType<typeof rentalOf>>, t: bigint) {
    r.open = false;
    const m = before.money;
    if (m.plan === Plan.Saving || r.actor !== "dust") return;
    const paidUntil = rm.paidUntil(m.plan, m.anchor, m.unitPrice, m.deposit);
    const unit = rm.unitSeconds(m.plan);
    // Held uncharged: from the paid time's end to the close, at most the grace period (after it
    // anyone may close the rental and free the GPUs; the renter can no longer resume).
    const late = t > paidUntil ? t - paidUntil : 0n;
    const uncharged = late < GRACE ? late : GRACE;
    profit.dustUnchargedGpuSeconds += r.gpus * uncharged;
    profit.dustPaidGpuSeconds += r.gpus * rm.totalUnits(m.plan, m.unitPrice, m.deposit) * unit;
  }
}

function withdrawnValue(s: { money: rm.RentalMoney; withdrawnUnits: bigint }) {
  return rm.valueOf(s.money.plan, s.money.unitPrice, s.money.deposit, s.withdrawnUnits);
}

describe("Attacker walk (escrow): dust deposits, early provider exits, wash rentals below the floor", function () {
  this.timeout(30 * 60_000);
  let world: World;
  let start: string;

  before(async () => {
    start = await network.provider.send("evm_snapshot", []);
    world = await setup();
  });

  after(async () => {
    const p = profit;
    console.log(
      `    attacker walk (escrow): ${stepsTaken} steps\n` +
        `    attack 5 (dust deposit): ${p.dustRefused} dust rents refused; under the old rule they would have held ` +
        `${p.dustHypotheticalGpuSeconds} GPU-seconds uncharged beyond what they paid (profit before); now held ` +
        `${p.dustUnchargedGpuSeconds} uncharged for ${p.dustPaidGpuSeconds} paid (profit after: ` +
        `${p.dustUnchargedGpuSeconds - p.dustPaidGpuSeconds} <= 0)\n` +
        `    attack 6 (provider ends saving plans): ${p.earlyExits} early exits; renters got ${p.unusedRefunded} unused ` +
        `+ ${p.compensationPaid} compensation (before the fix: + 0); the provider's profit from exiting: ` +
        `-${p.compensationPaid}\n` +
        `    attack 3 (wash rentals): ${p.washRefused} self-rentals below the floor refused, ${p.washOpened} opened at ` +
        `or above it, paying ${p.washFeesPaid} USD units of fees on their deposits`,
    );
    if (process.env.KAISAR_FC_STATS) {
      const rows = [...outcomes.entries()].sort(([a], [b]) => a.localeCompare(b));
      console.log(rows.map(([k, n]) => `${String(n).padStart(6)}  ${k}`).join("\n"));
    }
    await network.provider.send("evm_revert", [start]);
  });

  it(`keeps the attackers' profit at or below zero after every step (seed ${SEED}, ${RUNS} runs of ${STEPS} steps)`, async () => {
    const property = fc.asyncProperty(fc.array(stepArb, { minLength: STEPS, maxLength: STEPS }), async (steps) => {
      const snapshot = await network.provider.send("evm_snapshot", []);
      try {
        await runWalk(world, steps);
      } finally {
        await network.provider.send("evm_revert", [snapshot]);
      }
    });
    await fc.assert(property, { seed: SEED, path: PATH, numRuns: RUNS, endOnFailure: PATH !== undefined });
    expect(stepsTaken).to.be.at.least(RUNS * STEPS);
  });
});
