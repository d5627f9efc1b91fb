/**
 * The keeper pays deferred stake credits (issue #15, attack 4) against a real local chain: a credit
 * whose part from stake is recorded as due (`DeferStakeCredit`) is paid with
 * `SlaEnforcer.payStakeCredits` only once the epoch's slashing window has passed, once, and a second
 * pass sends nothing. Reports are relayed through the keeper's own relay (checkers served over real
 * HTTP, real signatures, real trees from the scoring code).
 */
import { expect } from "chai";
import { Wallet } from "ethers";

import { kai } from "../../devnet/src/governance";
import { startKeeper, type Keeper } from "../src/keeper";
import type { TxLogEntry } from "../src/keeper/tx";
import { fundRenter, setUpCheckerSet, stakeAndList, startLocalChain, type LocalChain } from "./helpers/localChain";
import { keeperConfig, scoreFixture, signedBody, startFakeCheckers, type FakeCheckers } from "./helpers/keeper";

describe("keeper stake credits", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let checkers: FakeCheckers;
  let operators: Wallet[];
  let version: bigint;
  let keeper: Keeper;
  const logs: TxLogEntry[] = [];
  const names = ["c1", "c2", "c3", "c4"];
  const provider = () => chain.account(5);
  const renter = () => chain.account(6);
  let rentalId: bigint;
  let e1: number;
  /** 1 KAI a second for the rented GPU: the 10-s epoch paid 10 KAI. */
  const PRICE = kai(3_600);
  const EPOCH_PAID = kai(10);

  before(async () => {
    chain = await startLocalChain({ epochLengthSeconds: 10 });
    checkers = await startFakeCheckers();
    operators = [1, 2, 3, 4].map((i) => new Wallet(chain.account(i).privateKey));
    const c = chain.contracts;
    version = await setUpCheckerSet(chain);
    const kaiToken = chain.addresses.KaiToken;
    await stakeAndList(chain, provider(), { price: PRICE });
    await fundRenter(chain, renter(), kai(2_000));
    const tier = (await c.RentalEscrow.slaTiers()).findIndex((t) => t === 9_990n);
    const params = {
      nodeId: 1n,
      gpus: 1,
      token: kaiToken,
      plan: 0,
      deposit: kai(1_000),
      termDays: 0,
      maxPricePerGpuHour: PRICE,
      slaTier: tier,
    };
    await (await c.RentalEscrow.connect(renter()).rent(params)).wait();
    rentalId = await c.RentalEscrow.rentalCount();
    // The rental runs through epoch e1, then ends; the provider takes its earnings: a credit for e1
    // can only come from its stake.
    e1 = Number(await c.ReportOracle.epochAt(await chain.now())) + 1;
    await chain.increaseTime(25);
    await (await c.RentalEscrow.connect(renter()).endRental(rentalId)).wait();
    await (await c.RentalEscrow.connect(provider()).withdrawEarnings(kaiToken, [rentalId])).wait();
    keeper = await startKeeper(
      keeperConfig(chain, new Wallet(chain.account(7).privateKey), { checkers: names.map((n) => checkers.url(n)) }),
      { api: false, pollMs: 50, log: (e) => logs.push(e) },
    );
    // Epoch e1: the node was down the whole epoch (uptime 0: the renter is credited 100%).
    const f = scoreFixture(
      BigInt(e1),
      await c.ReportOracle.epochBudget(e1),
      version,
      operators.map((o) => o.address),
      [{ nodeId: 1, provider: provider().address, uptimeBps: 0 }],
    );
    for (let i = 0; i < 4; i++) {
      checkers.reports.set(
        `${names[i]}:${e1}`,
        await signedBody(operators[i], chain.chainId, chain.addresses.ReportOracle, f.report),
      );
      checkers.trees.set(`${names[i]}:${e1}`, f.tree);
    }
    expect((await keeper.relay.submitEpoch(BigInt(e1))).status).to.equal("submitted");
  });
  after(async () => {
    await keeper?.close();
    await checkers?.close();
    await chain?.close();
  });

  it("credits the epoch, records the stake part as due and pays nothing while the slashing window is open", async () => {
    const sla = chain.contracts.SlaEnforcer;
    const before = await chain.contracts.KaiToken.balanceOf(renter().address);
    const tick = await keeper.tick();
    expect(tick.errors).to.deep.equal([]);
    expect(tick.credits.map((o) => [o.key, o.status])).to.deep.equal([[`sla:${e1}:1`, "mined"]]);
    expect(tick.stakeCredits).to.deep.equal([]);
    expect(await sla.stakeCreditDue(rentalId, e1), "the epoch's 10 KAI, under the 100 KAI cap").to.equal(EPOCH_PAID);
    expect(await chain.contracts.KaiToken.balanceOf(renter().address), "nothing paid yet").to.equal(before);
  });

  it("pays the due credit once the window has passed, to the renter, from the provider's stake", async () => {
    const c = chain.contracts;
    const window = await c.SlaEnforcer.slashWindow();
    const opensAt = (await c.ReportOracle.epochStart(e1 + 1)) + window + 1n;
    const now = await chain.now();
    if (BigInt(now) < opensAt) await chain.increaseTime(Number(opensAt - BigInt(now)));
    const before = await c.KaiToken.balanceOf(renter().address);
    const stake0 = (await c.NodeRegistry.getStake(provider().address)).staked;
    const tick = await keeper.tick();
    expect(tick.errors).to.deep.equal([]);
    expect(tick.stakeCredits.map((o) => [o.key, o.status])).to.deep.equal([[`stakecredit:${e1}`, "mined"]]);
    expect((await c.KaiToken.balanceOf(renter().address)) - before).to.equal(EPOCH_PAID);
    expect((await c.NodeRegistry.getStake(provider().address)).staked).to.equal(stake0 - EPOCH_PAID);
    expect(await c.SlaEnforcer.stakeCreditDue(rentalId, e1)).to.equal(0n);
    const events = await c.SlaEnforcer.queryFilter(c.SlaEnforcer.filters.PayStakeCredit(rentalId, e1));
    expect(events.map((e) => e.args.kaiPaid)).to.deep.equal([EPOCH_PAID]);
    expect(logs.find((l) => l.at === "Keeper#payStakeCredit")).to.deep.include({
      epoch: e1,
      rentals: [String(rentalId)],
    });
  });

  it("a second pass sends nothing", async () => {
    const before = keeper.store.txCount();
    const again = await keeper.tick();
    expect(again.errors).to.deep.equal([]);
    expect([...again.stakeCredits, ...again.credits]).to.deep.equal([]);
    expect(keeper.store.txCount()).to.equal(before);
  });
});
