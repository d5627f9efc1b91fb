/**
 * The keeper's report relay, proofs API, SLA credits, settlement and commands against a real local
 * chain, with checkers served over real HTTP (real signatures by the checker set's wallets, real trees
 * from the scoring code). threats.md #22, #38, K3, K13, K14.
 */
import { expect } from "chai";
import { Signature, Wallet, ZeroHash } from "ethers";
import { reportDomain, signReport, signedReportToJson, type Report } from "@kaisar/offchain";

import { main, type Io } from "../src/cli";
import { kai } from "../../devnet/src/governance";
import { startKeeper, startKeeperApi, type Keeper } from "../src/keeper";
import { HALF_CURVE_ORDER } from "../src/keeper/reports";
import { fundRenter, setUpCheckerSet, stakeAndList, startLocalChain, type LocalChain } from "./helpers/localChain";
import {
  keeperConfig,
  scoreFixture,
  signedBody,
  startFakeCheckers,
  startFaultyProxy,
  type EpochFixture,
  type FakeCheckers,
} from "./helpers/keeper";
import { clearKaisarEnv } from "./helpers/cli";

const SECP256K1_N = HALF_CURVE_ORDER * 2n + 1n;

describe("keeper report relay, proofs, SLA and settlement", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let checkers: FakeCheckers;
  let operators: Wallet[];
  let version: bigint;
  let oracle: string;
  let keeperA: Keeper;
  let keeperB: Keeper;
  const provider = () => chain.account(5);
  const renter = () => chain.account(6);
  let nodeId: bigint;
  let slaRental: bigint;
  let shortRental: bigint;
  let epoch: bigint;
  let fixture: EpochFixture;
  const names = ["c1", "c2", "c3", "c4"];

  const currentEpoch = async () => chain.contracts.ReportOracle.epochAt(await chain.now());
  const budgetOf = (e: bigint) => chain.contracts.ReportOracle.epochBudget(e);
  /** Every checker serves nothing for `e`. */
  const clear = (e: bigint) => {
    for (const n of names) {
      checkers.reports.delete(`${n}:${e}`);
      checkers.trees.delete(`${n}:${e}`);
    }
  };
  /** Checker `i` serves `report` signed by its operator (and the tree). */
  const serve = async (i: number, e: bigint, report: Report, tree?: unknown) => {
    checkers.reports.set(`${names[i]}:${e}`, await signedBody(operators[i], chain.chainId, oracle, report));
    if (tree) checkers.trees.set(`${names[i]}:${e}`, tree);
  };

  before(async () => {
    chain = await startLocalChain({ epochLengthSeconds: 10 });
    checkers = await startFakeCheckers();
    operators = [1, 2, 3, 4].map((i) => new Wallet(chain.account(i).privateKey));
    version = await setUpCheckerSet(chain);
    oracle = chain.addresses.ReportOracle;

    // A provider with one RTX 4090 node, rented twice in KAI: one rental with the 99.9% SLA tier, one
    // that runs out in 20 seconds.
    const c = chain.contracts;
    const kaiToken = chain.addresses.KaiToken;
    await stakeAndList(chain, provider(), { stake: kai(2_000), gpuCount: 2, price: kai(36) });
    nodeId = 1n;
    await fundRenter(chain, renter(), kai(1_000));
    const rent = async (deposit: bigint, slaTier: number) => {
      const params = {
        nodeId,
        gpus: 1,
        token: kaiToken,
        plan: 0,
        deposit,
        termDays: 0,
        maxPricePerGpuHour: kai(36),
        slaTier,
      };
      await (await c.RentalEscrow.connect(renter()).rent(params)).wait();
      return c.RentalEscrow.rentalCount();
    };
    slaRental = await rent(kai(100), 1);
    // The least first deposit: the grace period's worth (300 s at 0.01 KAI a second).
    shortRental = await rent(kai(3), 0);

    // Three epochs end: two for the refused reports (a checker signing two reports of one epoch would
    // equivocate), then the one reported.
    epoch = (await currentEpoch()) + 2n;
    await chain.increaseTime(30);
    fixture = scoreFixture(
      epoch,
      await budgetOf(epoch),
      version,
      operators.map((o) => o.address),
      [{ nodeId: Number(nodeId), provider: provider().address, uptimeBps: 9_000 }],
    );
    const base = { checkers: names.map((n) => checkers.url(n)), rpcTimeout: 3_000 };
    keeperA = await startKeeper(keeperConfig(chain, new Wallet(chain.account(7).privateKey), base), {
      api: false,
      pollMs: 50,
    });
    keeperB = await startKeeper(keeperConfig(chain, new Wallet(chain.account(8).privateKey), base), {
      api: false,
      pollMs: 50,
    });
  });
  after(async () => {
    await keeperA?.close();
    await keeperB?.close();
    await checkers?.close();
    await chain?.close();
  });

  const sent = () => keeperA.store.txCount() + keeperB.store.txCount();

  describe("given fewer valid signatures than the quorum", () => {
    it("sends nothing", async () => {
      clear(epoch);
      await serve(0, epoch, fixture.report, fixture.tree);
      await serve(1, epoch, fixture.report, fixture.tree);
      const result = await keeperA.relay.submitEpoch(epoch);
      expect(result.status).to.equal("no-quorum");
      expect("reason" in result && result.reason).to.include("2 matching valid signatures of 3");
      expect(sent(), "no transaction").to.equal(0);
      expect(await chain.contracts.ReportOracle.reportRoot(epoch)).to.equal(ZeroHash);
    });

    it("refuses bad, high-s, misattributed and unknown signatures locally", async () => {
      clear(epoch);
      const rogue = Wallet.createRandom();
      const domain = reportDomain(chain.chainId, oracle);
      // c1: a high-s twin of a valid signature (valid for ecrecover, refused by the oracle).
      const good = Signature.from(await signReport(operators[0], domain, fixture.report));
      const highS = (SECP256K1_N - BigInt(good.s)).toString(16).padStart(64, "0");
      checkers.reports.set(`c1:${epoch}`, {
        ...signedReportToJson({ report: fixture.report, signature: good.serialized, signer: operators[0].address }),
        signature: good.r + highS + (55 - good.v).toString(16),
      });
      // c2: signed by someone else than the operator it names.
      checkers.reports.set(
        `c2:${epoch}`,
        await signedBody(rogue, chain.chainId, oracle, fixture.report, operators[1].address),
      );
      // c3: signed by an address outside the checker set.
      checkers.reports.set(`c3:${epoch}`, await signedBody(rogue, chain.chainId, oracle, fixture.report));
      // c4: valid.
      await serve(3, epoch, fixture.report, fixture.tree);
      const gathered = await keeperA.relay.gather(epoch);
      expect(gathered.answers.map((a) => a.rejected)).to.deep.equal([
        "high-s",
        "wrong-signer",
        "unknown-signer",
        undefined,
      ]);
      expect(gathered.quorum).to.equal(undefined);
      expect((await keeperA.relay.submitEpoch(epoch)).status).to.equal("no-quorum");
      expect(sent()).to.equal(0);
    });

    it("refuses a report signed for another config version", async () => {
      clear(epoch);
      const stale = { ...fixture.report, configVersion: version + 1n };
      for (let i = 0; i < 4; i++) await serve(i, epoch, stale);
      const gathered = await keeperA.relay.gather(epoch);
      expect(gathered.answers.every((a) => a.rejected === "wrong-config-version")).to.be.true;
      expect(sent()).to.equal(0);
    });
  });

  describe("given a quorum over a report above the epoch budget", () => {
    it("refuses a total reward above epochBudget before spending gas", async () => {
      const e = epoch - 2n;
      const budget = await budgetOf(e);
      const over = { ...fixture.report, epoch: e, totalReward: budget + 1n };
      for (let i = 0; i < 4; i++) await serve(i, e, over, fixture.tree);
      const gathered = await keeperA.relay.gather(e);
      expect(gathered.answers.map((a) => a.rejected)).to.deep.equal(Array(4).fill("over-budget"));
      expect((await keeperA.relay.submitEpoch(e)).status).to.equal("no-quorum");
      expect(sent()).to.equal(0);
    });

    it("refuses a tree whose leaves pay more than the budget, whatever the report says", async () => {
      const e = epoch - 1n;
      const budget = await budgetOf(e);
      const inflated = scoreFixture(
        e,
        budget * 2n,
        version,
        operators.map((o) => o.address),
        [{ nodeId: Number(nodeId), provider: provider().address, uptimeBps: 9_000 }],
      );
      const lying = { ...inflated.report, totalReward: budget };
      for (let i = 0; i < 4; i++) await serve(i, e, lying, inflated.tree);
      const result = await keeperA.relay.submitEpoch(e);
      expect(result.status).to.equal("refused");
      expect("reason" in result && result.reason).to.include("above epochBudget");
      expect(sent()).to.equal(0);
    });
  });

  describe("given a quorum of valid signatures", () => {
    it("two keepers on one epoch: one report on chain, the other sees success", async () => {
      clear(epoch);
      for (let i = 0; i < 4; i++) await serve(i, epoch, fixture.report, fixture.tree);
      const [a, b] = await Promise.all([keeperA.relay.submitEpoch(epoch), keeperB.relay.submitEpoch(epoch)]);
      expect([a.status, b.status].sort()).to.deep.equal(["already-on-chain", "submitted"]);
      expect(await chain.contracts.ReportOracle.reportRoot(epoch)).to.equal(fixture.root);
      const events = await chain.contracts.ReportOracle.queryFilter(
        chain.contracts.ReportOracle.filters.SubmitReport(epoch),
      );
      expect(events.length, "exactly one SubmitReport").to.equal(1);
      // Neither spins: asking again sends nothing.
      const before = sent();
      expect((await keeperB.relay.submitEpoch(epoch)).status).to.equal("already-on-chain");
      expect(sent()).to.equal(before);
    });

    it("serves the proofs, and a claim with a served proof succeeds on RewardDistributor", async () => {
      const api = await startKeeperApi({
        store: keeperA.store,
        chainId: chain.chainId,
        block: async () => chain.provider.request({ method: "eth_blockNumber" }).then(Number),
        host: "127.0.0.1",
        port: 0,
      });
      try {
        const get = async (p: string) => {
          const res = await fetch(api.url + p);
          return { status: res.status, body: await res.json(), cors: res.headers.get("access-control-allow-origin") };
        };
        const health = await get("/health");
        expect(health.body).to.include({ ok: true, chainId: 31337, lastEpochSubmitted: Number(epoch) });
        expect(health.cors).to.equal("*");
        const list = await get("/epochs");
        expect(list.body.epochs[0]).to.include({ epoch: Number(epoch), root: fixture.root });
        expect(list.body.epochs[0].signers).to.have.length(4);
        const one = await get(`/epochs/${epoch}`);
        expect(one.body.leaves).to.have.length(fixture.leaves.length);
        const byNode = await get(`/epochs/${epoch}/nodes/${nodeId}/proof`);
        expect(byNode.body.metrics.uptimeBps).to.equal("9000");
        const byIndex = await get(`/epochs/${epoch}/proofs/${byNode.body.index}`);
        expect(byIndex.body.proof).to.deep.equal(byNode.body.proof);
        const byChecker = await get(`/epochs/${epoch}/checkers/${operators[2].address}/proof`);
        expect(byChecker.body.leaf.kind).to.equal(1);
        expect((await get(`/epochs/${epoch + 50n}`)).status).to.equal(404);
        expect((await get(`/epochs/x`)).status).to.equal(400);

        const distributor = chain.contracts.RewardDistributor.connect(provider());
        await (await distributor.claim(provider().address, [byNode.body.claim])).wait();
        expect(await chain.contracts.RewardDistributor.isClaimed(epoch, 0, nodeId)).to.be.true;
        const checker = chain.contracts.RewardDistributor.connect(chain.account(3));
        await (await checker.claim(operators[2].address, [byChecker.body.claim])).wait();
        expect(await chain.contracts.RewardDistributor.isClaimed(epoch, 1, operators[2].address)).to.be.true;
      } finally {
        await api.close();
      }
    });

    it("applies the SLA credit of a node whose uptime was below its rental's target, once", async () => {
      expect(await chain.contracts.SlaEnforcer.isCredited(slaRental, epoch)).to.be.false;
      // The escrow's and the lens's functions keeper A reads, seen on its provider.
      const reads: string[] = [];
      const { RentalEscrow: escrow, KaisarLens: lens } = chain.contracts;
      const call = keeperA.provider.call;
      keeperA.provider.call = async (tx) => {
        const target = [escrow, lens].find((c) => (c.target as string).toLowerCase() === String(tx.to).toLowerCase());
        const name = target?.interface.parseTransaction({ data: tx.data ?? "0x" })?.name;
        if (name) reads.push(name);
        return call.call(keeperA.provider, tx);
      };
      const outcomes = await keeperA.sla.creditAll().finally(() => (keeperA.provider.call = call));
      expect(outcomes.map((o) => o.status)).to.deep.equal(["mined"]);
      expect(await chain.contracts.SlaEnforcer.isCredited(slaRental, epoch)).to.be.true;
      // Rentals through the lens's pages, never one id at a time.
      expect(reads).to.include.members(["getRentals", "getRentalScoring"]);
      expect(reads).to.not.include.members(["getRental"]);
      expect(reads).to.not.include.members(["serviceWindow"]);
      expect(await chain.contracts.SlaEnforcer.isCredited(shortRental, epoch), "best-effort tier").to.be.false;
      // Keeper B stored the same tree: its pass finds the credit applied and sends nothing.
      const before = keeperB.store.txCount();
      const again = await keeperB.sla.creditAll();
      expect(again.every((o) => o.status !== "mined")).to.be.true;
      expect(keeperB.store.txCount()).to.equal(before);
    });
  });

  describe("given one operator signed two different reports of one epoch", () => {
    it("proves the equivocation on chain", async () => {
      const other = { ...fixture.report, root: "0x" + "ab".repeat(32) };
      await serve(0, epoch, other);
      await keeperA.relay.gather(epoch);
      const outcomes = await keeperA.relay.proveEquivocations(epoch);
      expect(outcomes.map((o) => o.status)).to.deep.equal(["mined"]);
      expect(await chain.contracts.ReportOracle.equivocationProven(operators[0].address, epoch)).to.be.true;
      expect((await keeperA.relay.proveEquivocations(epoch)).map((o) => o.status)).to.deep.equal(["mined"]);
    });
  });

  describe("the kaisar keeper commands", () => {
    const saved = { ...process.env };
    let out = "";
    let err = "";
    const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t) };
    afterEach(() => {
      process.env = { ...saved };
      out = err = "";
    });
    const env = (rpcUrl: string, dataDir: string) => {
      clearKaisarEnv();
      Object.assign(process.env, {
        KAISAR_CHAIN_ID: "31337",
        KAISAR_RPC_URL: rpcUrl,
        KAISAR_PRIVATE_KEY: chain.account(9).privateKey,
        KAISAR_DEPLOYMENT: chain.deploymentFile,
        KAISAR_DATA_DIR: dataDir,
        KAISAR_CHECKERS: names.map((n) => checkers.url(n)).join(","),
        KAISAR_RPC_TIMEOUT: "300ms",
        KAISAR_TX_TIMEOUT: "5s",
        KAISAR_POLL_INTERVAL: "100ms",
        KAISAR_LISTEN_HOST: "127.0.0.1",
        KAISAR_LISTEN_PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
      });
    };
    let next: bigint;
    let dataDir: string;

    it("submit --epoch N through an RPC that drops or delays a third of the requests", async () => {
      await chain.increaseTime(10);
      next = (await currentEpoch()) - 1n;
      const f = scoreFixture(
        next,
        await budgetOf(next),
        version,
        operators.map((o) => o.address),
        [{ nodeId: Number(nodeId), provider: provider().address, uptimeBps: 9_995 }],
      );
      for (let i = 0; i < 4; i++) await serve(i, next, f.report, f.tree);
      const proxy = await startFaultyProxy(chain.rpcUrl, { faults: true, delayMs: 600 });
      dataDir = keeperConfig(chain, operators[0]).dataDir;
      env(proxy.url, dataDir);
      try {
        const code = await main(["node", "kaisar", "keeper", "submit", "--epoch", String(next), "--json"], io);
        expect(code, err).to.equal(0);
        expect(JSON.parse(out)).to.include({ ok: true, status: "submitted", root: f.root });
        expect(proxy.stats.dropped + proxy.stats.delayed).to.be.greaterThan(0);
      } finally {
        await proxy.close();
      }
      expect(await chain.contracts.ReportOracle.reportRoot(next)).to.equal(f.root);
    });

    it("status --json: submitted reports, signatures gathered, balance, pending intents", async () => {
      env(chain.rpcUrl, dataDir);
      expect(await main(["node", "kaisar", "keeper", "status", "--json"], io), err).to.equal(0);
      const s = JSON.parse(out);
      expect(s.ok).to.be.true;
      expect(s.keeper).to.equal(chain.account(9).address);
      expect(s.oracle.lastEpoch).to.equal(String(next));
      expect(s.submitted[0]).to.include({ epoch: Number(next) });
      expect(s.signatures[0]).to.include({ epoch: Number(next), signers: 4 });
      expect(s.pendingIntents).to.deep.equal([]);
      expect(BigInt(s.balanceWei) > 0n).to.be.true;
    });

    it("run: closes the rental whose grace period passed, logs JSON lines, stops on the signal", async () => {
      await chain.increaseTime(700); // 300 s of deposit + 300 s grace
      expect((await chain.contracts.RentalEscrow.closableAt(shortRental)) > 0n).to.be.true;
      env(chain.rpcUrl, dataDir);
      let stop: (s: string) => void = () => {};
      const shutdown = () => new Promise<string>((r) => (stop = r));
      const running = main(["node", "kaisar", "keeper", "run"], io, { shutdown });
      for (let i = 0; i < 500 && !out.includes("Keeper#mined"); i++) await new Promise((r) => setTimeout(r, 100));
      stop("SIGTERM");
      expect(await running, err).to.equal(0);
      const lines = out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const ats = lines.map((l) => l.at);
      expect(ats).to.include.members(["Keeper#start", "Keeper#closeRental", "Keeper#shutdown", "Keeper#stopped"]);
      expect(await chain.contracts.RentalEscrow.closableAt(shortRental), "closed").to.equal(0n);
      expect((await chain.contracts.RentalEscrow.getRental(shortRental)).status).to.equal(3n);
      expect(await chain.contracts.RentalEscrow.closableAt(slaRental), "the funded rental stays open").to.not.equal(0n);
    });
  });
});
