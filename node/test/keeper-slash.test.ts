/**
 * The keeper's slashing against a real local chain, from reports relayed through its own relay
 * (checkers served over real HTTP, real signatures, real trees from the scoring code): downtime over
 * two consecutive epochs of a rental, hardware fraud, closing the rentals of jailed nodes (a saving plan
 * refunded in full), evidence too old, and a second pass that sends nothing.
 */
import { expect } from "chai";
import { Wallet } from "ethers";

import { kai, nodeSpecOf } from "../../devnet/src/governance";
import { startKeeper, type Keeper, type TickResult } from "../src/keeper";
import type { TxLogEntry } from "../src/keeper/tx";
import { fundRenter, setUpCheckerSet, startLocalChain, type LocalChain } from "./helpers/localChain";
import { keeperConfig, scoreFixture, signedBody, startFakeCheckers, type FakeCheckers } from "./helpers/keeper";

/** `NodeStatus.Jailed`, `RentalStatus.Closed`, `CloseReason.ProviderSlashed`, `Plan.Saving`. */
const JAILED = 3n;
const CLOSED = 3n;
const PROVIDER_SLASHED = 6n;
const SAVING = 2;

describe("keeper slashing", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let checkers: FakeCheckers;
  let operators: Wallet[];
  let version: bigint;
  let keeper: Keeper;
  const logs: TxLogEntry[] = [];
  const names = ["c1", "c2", "c3", "c4"];
  const providerA = () => chain.account(5); // node 1: 2 GPUs, rented, down two epochs
  const providerB = () => chain.account(11); // node 2: 1 GPU, hardware differs from the registration
  const renter = () => chain.account(6);
  let payg: bigint;
  let saving: bigint;
  let savingDeposit: bigint;
  let e1: number;
  let tick1: TickResult;
  const stakeA0 = kai(2_000);
  const stakeB0 = kai(1_000);

  /** Scores `epoch` (node 1 at `uptimeA`, node 2 at 99.99% and `mismatchB`) and has every checker serve it. */
  const serveEpoch = async (epoch: number, uptimeA: number, mismatchB: boolean) => {
    const e = BigInt(epoch);
    const f = scoreFixture(
      e,
      await chain.contracts.ReportOracle.epochBudget(e),
      version,
      operators.map((o) => o.address),
      [
        { nodeId: 1, provider: providerA().address, uptimeBps: uptimeA },
        { nodeId: 2, provider: providerB().address, uptimeBps: 9_999, hardwareMismatch: mismatchB },
      ],
    );
    for (let i = 0; i < 4; i++) {
      checkers.reports.set(
        `${names[i]}:${epoch}`,
        await signedBody(operators[i], chain.chainId, chain.addresses.ReportOracle, f.report),
      );
      checkers.trees.set(`${names[i]}:${epoch}`, f.tree);
    }
  };

  before(async () => {
    chain = await startLocalChain({ epochLengthSeconds: 10 });
    checkers = await startFakeCheckers();
    operators = [1, 2, 3, 4].map((i) => new Wallet(chain.account(i).privateKey));
    const gov = chain.account(0);
    const c = chain.contracts;
    version = await setUpCheckerSet(chain);

    const kaiToken = chain.addresses.KaiToken;
    const register = async (provider: Wallet, stake: bigint, gpuCount: number) => {
      await (await c.KaiToken.connect(gov).transfer(provider.address, stake)).wait();
      await (await c.KaiToken.connect(provider).approve(chain.addresses.NodeRegistry, stake)).wait();
      await (await c.NodeRegistry.connect(provider).stake(stake)).wait();
      const spec = await nodeSpecOf(c, {
        gpuClass: "RTX4090-24GB",
        gpuCount,
        vramGiB: 24,
        cpuCores: 16,
        ramGiB: 64,
        diskGiB: 500,
        bandwidthMbps: 1_000,
      });
      await (await c.NodeRegistry.connect(provider).registerNode(spec, "http://node", [kaiToken], [kai(1)])).wait();
    };
    await register(providerA(), stakeA0, 2);
    await register(providerB(), stakeB0, 1);

    // On node 1: a pay-as-you-go rental and a 7-day saving plan, one GPU each.
    await fundRenter(chain, renter(), kai(1_000));
    const rent = async (plan: number, deposit: bigint, termDays: number) => {
      const params = {
        nodeId: 1n,
        gpus: 1,
        token: kaiToken,
        plan,
        deposit,
        termDays,
        maxPricePerGpuHour: kai(1),
        slaTier: 0,
      };
      await (await c.RentalEscrow.connect(renter()).rent(params)).wait();
      return c.RentalEscrow.rentalCount();
    };
    payg = await rent(0, kai(100), 0);
    saving = await rent(SAVING, 0n, 7);
    savingDeposit = (await c.RentalEscrow.getRental(saving)).amount;

    // Both rentals run through epochs e1, e2 and e3, which end.
    e1 = Number(await c.ReportOracle.epochAt(await chain.now())) + 1;
    await chain.increaseTime(40);
    keeper = await startKeeper(
      keeperConfig(chain, new Wallet(chain.account(7).privateKey), { checkers: names.map((n) => checkers.url(n)) }),
      { api: false, pollMs: 50, log: (e) => logs.push(e) },
    );
  });
  after(async () => {
    await keeper?.close();
    await checkers?.close();
    await chain?.close();
  });

  it("reads the downtime policy from the SlaEnforcer", async () => {
    expect(await keeper.sla.downtimePolicy()).to.deep.equal({ thresholdBps: 9_000n, epochs: 2 });
  });

  describe("given node 1 below the downtime threshold in two consecutive epochs of its rentals, and node 2's hardware found different", () => {
    before(async () => {
      await serveEpoch(e1, 5_000, true);
      await serveEpoch(e1 + 1, 8_999, false);
      expect((await keeper.relay.submitEpoch(BigInt(e1))).status).to.equal("submitted");
      expect((await keeper.relay.submitEpoch(BigInt(e1 + 1))).status).to.equal("submitted");
      tick1 = await keeper.tick();
    });

    it("one pass slashes both nodes and closes the rentals of the jailed one", () => {
      expect(tick1.errors).to.deep.equal([]);
      expect(tick1.slashes.map((o) => [o.key, o.status])).to.deep.equal([
        [`fraud:${e1}:2`, "mined"],
        [`downtime:1:${e1 + 1}`, "mined"],
      ]);
      expect(tick1.jailCloses.map((o) => [o.key, o.status])).to.deep.equal([[`jailclose:${payg},${saving}`, "mined"]]);
      const ats = logs.map((l) => l.at);
      expect(ats).to.include.members(["Keeper#slashFraud", "Keeper#slashDowntime", "Keeper#closeJailed"]);
      const down = logs.find((l) => l.at === "Keeper#slashDowntime")!;
      expect(down).to.deep.include({ nodeId: "1", rentalId: String(payg), firstEpoch: e1, lastEpoch: e1 + 1 });
      expect(down.uptimeBps).to.deep.equal(["5000", "8999"]);
      // Every log entry is one JSON line.
      for (const l of logs) expect(JSON.parse(JSON.stringify(l))).to.deep.equal(l);
    });

    it("downtime: the provider's stake drops by a third of perGpuStake x gpuCount, the node is jailed", async () => {
      const c = chain.contracts;
      const perGpu = await c.SlaEnforcer.perGpuStake(1);
      expect(perGpu).to.equal(kai(1_000));
      const policy = await c.SlaEnforcer.policy();
      expect(policy.downtimeSlashBps).to.equal(3_333n);
      const slash = (perGpu * 2n * 3_333n) / 10_000n;
      expect((await c.NodeRegistry.getStake(providerA().address)).staked).to.equal(stakeA0 - slash);
      expect((await c.NodeRegistry.getNode(1)).status).to.equal(JAILED);
      const events = await c.SlaEnforcer.queryFilter(c.SlaEnforcer.filters.SlashDowntime(1n));
      expect(events).to.have.length(1);
      expect(events[0].args.rentalId).to.equal(payg);
      expect([events[0].args.firstEpoch, events[0].args.lastEpoch]).to.deep.equal([BigInt(e1), BigInt(e1 + 1)]);
      expect(events[0].args.slashed).to.equal(slash);
      const [downtimeFrom] = await c.SlaEnforcer.slashableFrom(1);
      expect(downtimeFrom).to.equal(BigInt(e1 + 2));
    });

    it("hardware fraud: the full per-GPU stake of every GPU is slashed, the node is jailed", async () => {
      const c = chain.contracts;
      expect((await c.NodeRegistry.getStake(providerB().address)).staked).to.equal(stakeB0 - kai(1_000));
      expect((await c.NodeRegistry.getNode(2)).status).to.equal(JAILED);
      const events = await c.SlaEnforcer.queryFilter(c.SlaEnforcer.filters.SlashHardwareFraud(2n));
      expect(events.map((e) => [e.args.epoch, e.args.slashed])).to.deep.equal([[BigInt(e1), kai(1_000)]]);
    });

    it("the rentals on the jailed node are closed for ProviderSlashed, the saving plan refunded in full", async () => {
      const c = chain.contracts;
      for (const id of [payg, saving]) {
        const r = await c.RentalEscrow.getRental(id);
        expect([r.status, r.closeReason], `rental ${id}`).to.deep.equal([CLOSED, PROVIDER_SLASHED]);
      }
      const [close] = await c.RentalEscrow.queryFilter(c.RentalEscrow.filters.CloseRental(saving));
      expect(close.args.refund, "the whole prepaid term").to.equal(savingDeposit);
      expect(close.args.providerAmount).to.equal(0n);
      expect((await c.RentalEscrow.getRental(saving)).amount, "nothing left to the provider").to.equal(0n);
    });

    it("a second pass sends nothing", async () => {
      const before = keeper.store.txCount();
      const again = await keeper.tick();
      expect(again.errors).to.deep.equal([]);
      expect([...again.slashes, ...again.jailCloses, ...again.credits, ...again.closes]).to.deep.equal([]);
      expect(keeper.store.txCount()).to.equal(before);
    });
  });

  describe("given node 1 down again in the next epoch", () => {
    it("skips the window whose first epoch a slash already used (evidence too old), sending nothing", async () => {
      const before = keeper.store.txCount();
      logs.length = 0;
      await serveEpoch(e1 + 2, 4_000, false);
      const result = await keeper.tick();
      expect(result.errors).to.deep.equal([]);
      expect(result.reports.map((r) => r.status)).to.include("submitted");
      expect(result.slashes).to.deep.equal([]);
      const skipped = logs.filter((l) => l.at === "Keeper#slashSkipped");
      expect(skipped).to.have.length(1);
      expect(skipped[0]).to.deep.include({
        kind: "downtime",
        nodeId: "1",
        epoch: e1 + 1,
        slashableFrom: String(e1 + 2),
      });
      expect(keeper.store.txCount(), "only the report").to.equal(before + 1);
      expect(
        await chain.contracts.SlaEnforcer.queryFilter(chain.contracts.SlaEnforcer.filters.SlashDowntime()),
      ).to.have.length(1);
    });
  });

  describe("when another keeper was first", () => {
    it("counts EvidenceTooOld and NothingToClose as done, sending nothing", async () => {
      const sla = chain.contracts.SlaEnforcer;
      const row = keeper.store.leafOfNode(e1, "2")!;
      const { leafFromJson } = await import("@kaisar/offchain");
      const { leaf, metrics } = leafFromJson(JSON.parse(row.leaf));
      const before = keeper.store.txCount();
      const fraud = await keeper.sender.send({
        kind: "fraud",
        key: "fraud:other-keeper",
        contract: "SlaEnforcer",
        to: chain.addresses.SlaEnforcer,
        data: sla.interface.encodeFunctionData("slashForHardwareFraud", [
          { leaf, metrics: metrics!, proof: row.proof },
        ]),
      });
      expect(fraud.status).to.equal("already");
      expect("reason" in fraud && fraud.reason).to.include("SlaEnforcer_EvidenceTooOld(2");
      const close = await keeper.sender.send({
        kind: "jailclose",
        key: "jailclose:other-keeper",
        contract: "SlaEnforcer",
        to: chain.addresses.SlaEnforcer,
        data: sla.interface.encodeFunctionData("closeOnJailedNode", [[payg, saving]]),
      });
      expect(close.status).to.equal("already");
      expect(keeper.store.txCount()).to.equal(before);
    });
  });
});
