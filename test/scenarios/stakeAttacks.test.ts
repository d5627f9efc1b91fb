/**
 * Regressions of issue #15, attacks 1 and 4 (part "stake"): each test is the attack as an
 * adversarial provider plays it against the real contracts, and fails on the code before the fix.
 *
 * Attack 1, "unbonding outruns the slash", with MAINNET time parameters (deploy/parameters/peaq.json:
 * 14-day epochs, 2 downtime epochs, the 3-day slash window and the 45-day unbonding; the stake
 * amounts are the fixtures' 1,000 KAI per GPU): a provider unbonds when it starts to misbehave and
 * withdraws before the slash lands. Before the fix (14-day unbonding, no floor for rented nodes) it
 * withdrew its whole stake and the slash took 0. The same-block race is played in both orders
 * (automining off, two transactions in one block).
 *
 * Attack 4, "an SLA credit from stake is an instant exit": a provider prices its node very high,
 * rents it to itself, stops its agent and fakes hardware; the credit for the epoch and the fraud
 * slash land in the same block. Before the fix the credit paid its whole stake to its own renter
 * wallet at once and the fraud slash took 0. After: the credit is capped (10% of the node's
 * requirement) and deferred past the slashing window; the slash takes the stake first.
 *
 * Profit is measured in KAI on the attacker's wallets (provider + renter), against what the
 * evidence says it owes: `profit = KAI back - (KAI in - warranted slash)`; printed with
 * KAISAR_FC_STATS=1.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { readFileSync } from "node:fs";
import path from "node:path";

import { KAI, Plan, registerNode, type Core } from "../fixtures";
import { deployWithCheckers } from "../helpers/oracle";
import {
  deploySla,
  epochBounds,
  inOneBlock,
  metricsWith,
  minedRevertOf,
  reportNodes,
  afterSlashWindow,
  type SlaFixture,
} from "../helpers/sla";

const PEAQ = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "deploy", "parameters", "peaq.json"), "utf8"));
const EPOCH = Number(PEAQ.epochLengthSeconds);
const STAKE = KAI(24_000); // the fixture's 8 x H100 node: 8 x 3 x 1,000 KAI
const stats = process.env.KAISAR_FC_STATS === "1";

/** The contracts with the oracle's epochs, the registry's unbonding and the SLA window of peaq.json. */
async function deployMainnet() {
  const c = await deployWithCheckers(4, 3, EPOCH);
  if (BigInt(PEAQ.unbondingPeriodSeconds) !== (await c.registry.unbondingPeriod())) {
    await c.registry.setUnbondingPeriod(PEAQ.unbondingPeriodSeconds);
  }
  const nodeId = await registerNode(c as unknown as Core);
  await c.registry.connect(c.provider).stake(STAKE);
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
  return { ...c, nodeId, sla } as unknown as SlaFixture & { epochLength: number };
}

const start = (c: { genesis: bigint }, e: bigint) => c.genesis + e * BigInt(EPOCH);
const deadline = async (c: SlaFixture, lastEpoch: bigint) => start(c, lastEpoch + 1n) + (await c.sla.slashWindow());

/** The provider fakes hardware from the start of epoch 1 and asks for all its stake back then. */
async function deployFraudUnbonded() {
  const c = await deployMainnet();
  await time.setNextBlockTimestamp(start(c, 1n));
  await c.registry.connect(c.provider).requestUnstake(STAKE);
  const [p1] = await reportNodes(c, 1n, [{ nodeId: c.nodeId, metrics: metricsWith(10_000n, true, 1) }]);
  return { ...c, p1, at: await deadline(c, 1n) };
}

/** A renter rents 1 GPU from epoch 1; the provider stops its agent at the start of epoch 2 and
 * tries to unbond everything; epochs 2 and 3 are reported down. */
async function deployDowntime() {
  const c = await deployMainnet();
  const usd = await c.usd.getAddress();
  await time.setNextBlockTimestamp(start(c, 1n) + 10n);
  // 556 USD units a second for 4 epochs (56 days).
  const rentalId = await c.escrow.connect(c.renter).rent.staticCall({
    nodeId: c.nodeId,
    gpus: 1,
    token: usd,
    plan: Plan.PayAsYouGo,
    deposit: 556n * 4n * BigInt(EPOCH),
    termDays: 0,
    maxPricePerGpuHour: ethers.MaxUint256,
    slaTier: 1,
  });
  await c.escrow.connect(c.renter).rent({
    nodeId: c.nodeId,
    gpus: 1,
    token: usd,
    plan: Plan.PayAsYouGo,
    deposit: 556n * 4n * BigInt(EPOCH),
    termDays: 0,
    maxPricePerGpuHour: ethers.MaxUint256,
    slaTier: 1,
  });
  await time.setNextBlockTimestamp(start(c, 2n));
  const unstake = c.registry.connect(c.provider).requestUnstake(STAKE);
  let unstakeError: unknown;
  try {
    await unstake;
  } catch (e) {
    unstakeError = e;
  }
  const [p2] = await reportNodes(c, 2n, [{ nodeId: c.nodeId, metrics: metricsWith(0n, false, 2) }]);
  const [p3] = await reportNodes(c, 3n, [{ nodeId: c.nodeId, metrics: metricsWith(0n, false, 3) }]);
  return { ...c, rentalId, p2, p3, unstakeError, at: await deadline(c, 3n) };
}

function report(name: string, fields: Record<string, bigint>) {
  if (!stats) return;
  const kai = (v: bigint) => ethers.formatUnits(v, 18);
  console.log(
    `      [${name}] ` +
      Object.entries(fields)
        .map(([k, v]) => `${k} ${kai(v)} KAI`)
        .join(", "),
  );
}

describe("issue #15 stake attacks (regressions)", function () {
  describe("attack 1: unbonding outruns the slash (mainnet parameters: 14-day epochs, 45-day unbonding, 3-day window)", function () {
    it("attack 1: the parameters hold the relation: unbonding >= (2 + 1) x 14 days + 3 days", async function () {
      const c = await loadFixture(deployMainnet);
      expect(await c.sla.slashLatency()).to.equal(BigInt(3 * EPOCH + Number(PEAQ.slashWindowSeconds)));
      expect(await c.registry.unbondingPeriod()).to.be.at.least(await c.sla.slashLatency());
      expect(await c.registry.slashLatency()).to.equal(await c.sla.slashLatency());
    });

    for (const order of ["withdraw then slash", "slash then withdraw"] as const) {
      it(`attack 1: a provider unbonding when it starts faking hardware cannot withdraw before the fraud slash (one block: ${order})`, async function () {
        const c = await loadFixture(deployFraudUnbonded);
        const before = await c.kai.balanceOf(c.provider.address);
        const withdraw = (o: { gasLimit: bigint }) => c.registry.connect(c.provider).withdrawUnstaked(o);
        const slash = (o: { gasLimit: bigint }) => c.sla.connect(c.keeper).slashForHardwareFraud(c.p1, o);
        const sends = order === "withdraw then slash" ? [withdraw, slash] : [slash, withdraw];
        const receipts = await inOneBlock(c.at, sends);
        const [w, s] = order === "withdraw then slash" ? receipts : [receipts[1], receipts[0]];
        expect(s.status, "the slash lands at the reporting deadline").to.equal(1);
        const event = s.logs.map((l) => c.sla.interface.parseLog(l)).find((l) => l?.name === "SlashHardwareFraud");
        const got = (await c.kai.balanceOf(c.provider.address)) - before;
        report(`attack 1, fraud, ${order}`, { slashed: event!.args.slashed, withdrawn: got, profit: got });
        expect(event!.args.slashed, "the whole unbonding stake is slashed").to.equal(STAKE);
        expect(w.status, "the withdrawal fails: the unbonding period outlasts the slash latency").to.equal(0);
        expect((await minedRevertOf(c.registry, w.hash))?.name).to.equal("NodeRegistry_NothingToWithdraw");
        expect(got, "attacker profit").to.equal(0n);
      });
    }

    it("attack 1: a provider with an open rental cannot unbond its node's requirement when it stops its agent", async function () {
      const c = await loadFixture(deployDowntime);
      expect(c.unstakeError, "requestUnstake at the start of the downtime").to.not.equal(undefined);
      const data = (c.unstakeError as { data?: string }).data;
      const error = c.registry.interface.parseError(data!);
      expect(error?.name).to.equal("NodeRegistry_StakeLocked");
      expect([...error!.args]).to.deep.equal([c.provider.address, STAKE, 0n]);
    });

    for (const order of ["withdraw then slash", "slash then withdraw"] as const) {
      it(`attack 1: the downtime slash after 2 epochs finds the stake at the deadline (one block: ${order})`, async function () {
        const c = await loadFixture(deployDowntime);
        const before = await c.kai.balanceOf(c.provider.address);
        const withdraw = (o: { gasLimit: bigint }) => c.registry.connect(c.provider).withdrawUnstaked(o);
        const slash = (o: { gasLimit: bigint }) =>
          c.sla.connect(c.keeper).slashForDowntime(c.rentalId, [c.p2, c.p3], o);
        const sends = order === "withdraw then slash" ? [withdraw, slash] : [slash, withdraw];
        const receipts = await inOneBlock(c.at, sends);
        const [w, s] = order === "withdraw then slash" ? receipts : [receipts[1], receipts[0]];
        expect(s.status, "the slash lands at the reporting deadline").to.equal(1);
        const event = s.logs.map((l) => c.sla.interface.parseLog(l)).find((l) => l?.name === "SlashDowntime");
        const want = (STAKE * 3_333n) / 10_000n; // a third of the per-GPU stake of the node's 8 GPUs
        const got = (await c.kai.balanceOf(c.provider.address)) - before;
        report(`attack 1, downtime, ${order}`, { slashed: event!.args.slashed, withdrawn: got, profit: got });
        expect(event!.args.slashed, "slashed").to.equal(want);
        expect(w.status, "nothing was unbonding").to.equal(0);
        expect(got, "attacker profit").to.equal(0n);
      });
    }

    it("attack 1: evidence one second past the deadline expires (EvidenceExpired)", async function () {
      const c = await loadFixture(deployFraudUnbonded);
      await time.setNextBlockTimestamp(c.at + 1n);
      await expect(c.sla.slashForHardwareFraud(c.p1))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_EvidenceExpired")
        .withArgs(1n, c.at);
    });
  });

  describe("attack 4: an SLA credit from stake is an instant exit", function () {
    /** KAI per GPU-hour of the attacker's node: 8 GPUs x 180,000 / 3,600 = 400 KAI a second. */
    const PRICE = KAI(180_000);
    const PER_SECOND = (PRICE * 8n) / 3_600n;

    /**
     * The attacker (provider + its renter wallet `other`) rents its own 8xH100 node in KAI at 180,000
     * KAI per GPU-hour through epoch 2 (24,000 KAI for the epoch), ends the rental at the epoch's end,
     * withdraws the earnings, and epoch 2 is reported with uptime 0 and a hardware mismatch.
     */
    async function deploySelfRent() {
      const c = await deploySla();
      const kai = await c.kai.getAddress();
      await c.sla.connect(c.admin).setKaiPerToken(kai, 10n ** 18n);
      await c.kai.connect(c.treasury).transfer(c.other.address, KAI(3_000_000));
      await c.registry.connect(c.provider).setNodePrice(c.nodeId, kai, PRICE);
      const { from, to } = epochBounds(c, 2n);
      const attacker = [c.provider.address, c.other.address];
      const kaiOf = async () => {
        let sum = 0n;
        for (const a of attacker) sum += await c.kai.balanceOf(a);
        const s = await c.registry.getStake(c.provider.address);
        return sum + s.staked + s.unbonding + s.rewardsOwed;
      };
      const held0 = await kaiOf();
      const params = {
        nodeId: c.nodeId,
        gpus: 8,
        token: kai,
        plan: Plan.PayAsYouGo,
        deposit: PER_SECOND * 7_200n,
        termDays: 0,
        maxPricePerGpuHour: PRICE,
        slaTier: 1,
      };
      await time.setNextBlockTimestamp(from);
      const rentalId = await c.escrow.connect(c.other).rent.staticCall(params);
      await c.escrow.connect(c.other).rent(params);
      await time.setNextBlockTimestamp(to);
      await c.escrow.connect(c.other).endRental(rentalId);
      await c.escrow.connect(c.provider).withdrawEarnings(kai, [rentalId]);
      const [p2] = await reportNodes(c, 2n, [{ nodeId: c.nodeId, metrics: metricsWith(0n, true, 2) }]);
      return { ...c, rentalId, p2, kaiOf, held0 };
    }

    for (const order of ["credit then fraud slash", "fraud slash then credit"] as const) {
      it(`attack 4: the fraud slash takes the stake first; the credit is capped and deferred (one block: ${order})`, async function () {
        const c = await loadFixture(deploySelfRent);
        const at = (await time.latest()) + 5;
        const credit = (o: { gasLimit: bigint }) => c.sla.connect(c.other).applySlaCredit(c.rentalId, c.p2, o);
        const slash = (o: { gasLimit: bigint }) => c.sla.connect(c.keeper).slashForHardwareFraud(c.p2, o);
        const sends = order === "credit then fraud slash" ? [credit, slash] : [slash, credit];
        const receipts = await inOneBlock(BigInt(at), sends);
        const [cr, sl] = order === "credit then fraud slash" ? receipts : [receipts[1], receipts[0]];
        expect(sl.status, "fraud slash").to.equal(1);
        expect(cr.status, "credit").to.equal(1);
        const slashed = sl.logs.map((l) => c.sla.interface.parseLog(l)).find((l) => l?.name === "SlashHardwareFraud");
        expect(slashed!.args.slashed, "the fraud slash takes the whole stake").to.equal(STAKE);
        const deferred = cr.logs.map((l) => c.sla.interface.parseLog(l)).find((l) => l?.name === "DeferStakeCredit");
        expect(deferred!.args.kaiDue, "capped at 10% of the node's 24,000 KAI").to.equal(KAI(2_400));
        // After the window the renter is paid what the stake still holds: nothing.
        await afterSlashWindow(c, 2n);
        await expect(c.sla.payStakeCredit(c.rentalId, 2n))
          .to.emit(c.sla, "PayStakeCredit")
          .withArgs(c.rentalId, 2n, 0n);
        const held = await c.kaiOf();
        // In: its stake and the rent; back: what it holds now. The evidence warrants the whole stake.
        const profit = held - (c.held0 - STAKE);
        report(`attack 4, ${order}`, { attackerNet: held - c.held0, warrantedSlash: STAKE, profit });
        expect(profit, "attacker profit (KAI)").to.be.at.most(0n);
      });
    }
  });
});
