/**
 * A provider pushed under its stake requirement by a credit from stake (issue #17, item 6), on a real
 * local chain: a renter's SLA credit for an epoch the node was down is paid from the provider's stake
 * by the keeper (`SlaEnforcer.payStakeCredits`, after the slashing window), which leaves 990 KAI
 * staked of the 1,000 KAI its node requires. Then the registry refuses every rent of the node
 * (`NodeRegistry_InsufficientStake`), and the provider is told, with how much to stake: the running
 * agent's /health (`stake`, read from the chain while it keeps serving) and `kaisar provider status`
 * say the shared sentence (offchain/src/stake.ts); `kaisar provider stake` stakes the shortfall.
 */
import { PENALTY_REASON_TEXT, underStakeSentence } from "@kaisar/offchain";
import { expect } from "chai";
import { Wallet } from "ethers";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import os from "os";
import path from "path";

import { kai, nodeSpecOf } from "../../devnet/src/governance";
import { decodeRevert } from "../src/chain/tx";
import { EXIT, main } from "../src/cli";
import { startKeeper, type Keeper } from "../src/keeper";
import { cpuKernel } from "../src/popw";
import { inlineSolver } from "../src/provider";
import { setUpCheckerSet, startLocalChain, type LocalChain } from "./helpers/localChain";
import { keeperConfig, scoreFixture, signedBody, startFakeCheckers, type FakeCheckers } from "./helpers/keeper";
import { NO_SMI, freeTcpPort, getJson, jsonLines } from "./helpers/support";
import { clearKaisarEnv, kaisar as run } from "./helpers/cli";

/** Polls `check` until it returns a value (a generous deadline: no race with the agent's timer). */
async function eventually<T>(check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a provider under its stake requirement after a credit from stake is told", function () {
  this.timeout(90_000);
  let chain: LocalChain;
  let checkers: FakeCheckers;
  let keeper: Keeper;
  let dir: string;
  let configFile: string;
  let agentUrl: string;
  let agentOut = "";
  let stopAgent: (s: string) => void = () => {};
  let agentExit: Promise<number>;
  const saved = { ...process.env };
  const names = ["c1", "c2", "c3", "c4"];
  const provider = () => chain.account(5);
  const renter = () => chain.account(6);
  /** 1 KAI a second for the rented GPU: the 10-s epoch paid 10 KAI, credited from stake. */
  const PRICE = kai(3_600);
  const CREDIT = kai(10);
  const REQUIRED = kai(1_000);
  let rentParams: {
    nodeId: bigint;
    gpus: number;
    token: string;
    plan: number;
    deposit: bigint;
    termDays: number;
    maxPricePerGpuHour: bigint;
    slaTier: number;
  };

  const health = async () =>
    (await getJson(`${agentUrl}/health`)).body as { ok: boolean; stake?: Record<string, string | boolean> };

  const kaisar = (args: string[]) => run(["provider", ...args, "--config", configFile]);

  before(async () => {
    chain = await startLocalChain({ epochLengthSeconds: 10 });
    checkers = await startFakeCheckers();
    const operators = [1, 2, 3, 4].map((i) => new Wallet(chain.account(i).privateKey));
    const gov = chain.account(0);
    const c = chain.contracts;
    const version = await setUpCheckerSet(chain);
    const kaiToken = chain.addresses.KaiToken;
    // The provider stakes exactly its one RTX 4090's requirement and keeps 100 KAI to stake later.
    await (await c.KaiToken.connect(gov).transfer(provider().address, kai(1_100))).wait();
    await (await c.KaiToken.connect(provider()).approve(chain.addresses.NodeRegistry, REQUIRED)).wait();
    await (await c.NodeRegistry.connect(provider()).stake(REQUIRED)).wait();
    const spec = await nodeSpecOf(c, {
      gpuClass: "RTX4090-24GB",
      gpuCount: 1,
      vramGiB: 24,
      cpuCores: 16,
      ramGiB: 64,
      diskGiB: 500,
      bandwidthMbps: 1_000,
    });
    await (await c.NodeRegistry.connect(provider()).registerNode(spec, "http://node", [kaiToken], [PRICE])).wait();
    expect(await c.NodeRegistry.requiredStake(provider().address)).to.equal(REQUIRED);
    await (await c.KaiToken.connect(gov).transfer(renter().address, kai(3_000))).wait();
    const tier = (await c.RentalEscrow.slaTiers()).findIndex((t) => t === 9_990n);
    rentParams = {
      nodeId: 1n,
      gpus: 1,
      token: kaiToken,
      plan: 0,
      deposit: kai(1_000),
      termDays: 0,
      maxPricePerGpuHour: PRICE,
      slaTier: tier,
    };
    await (await c.KaiToken.connect(renter()).approve(chain.addresses.RentalEscrow, kai(1_000))).wait();
    await (await c.RentalEscrow.connect(renter()).rent(rentParams)).wait();
    const rentalId = await c.RentalEscrow.rentalCount();
    // The rental runs through epoch e1 and ends; the provider takes its earnings, so the renter's
    // credit for e1 can only come from the provider's stake.
    const e1 = Number(await c.ReportOracle.epochAt(await chain.now())) + 1;
    await chain.increaseTime(25);
    await (await c.RentalEscrow.connect(renter()).endRental(rentalId)).wait();
    await (await c.RentalEscrow.connect(provider()).withdrawEarnings(kaiToken, [rentalId])).wait();

    // The provider's agent runs, watching the chain (rentals.poll: 100 ms).
    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-understake-"));
    clearKaisarEnv();
    process.env.KAISAR_DEPLOYMENT = chain.deploymentFile;
    process.env.KAISAR_PRIVATE_KEY = provider().privateKey;
    writeFileSync(
      path.join(dir, "hardware.json"),
      JSON.stringify({ gpuModel: "NVIDIA GeForce RTX 4090", gpuCount: 1, vramGiB: 24, bandwidthMbps: 1000 }),
    );
    const port = await freeTcpPort();
    configFile = path.join(dir, "kaisar.provider.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        role: "provider",
        chainId: chain.chainId,
        rpcUrl: chain.rpcUrl,
        publicUrl: "http://node",
        dataDir: "state",
        hardwareProfile: "hardware.json",
        pricePerGpuHour: "3600",
        nodeId: 1,
        listen: { host: "127.0.0.1", port },
        rentals: { poll: "100ms" },
      }),
    );
    agentUrl = `http://127.0.0.1:${port}`;
    const shutdown = new Promise<string>((r) => (stopAgent = r));
    const io = { out: (t: string) => void (agentOut += t), err: (t: string) => void (agentOut += t) };
    agentExit = main(["node", "kaisar", "provider", "run", "--config", configFile], io, {
      shutdown: () => shutdown,
      agent: { detect: { run: NO_SMI }, solver: inlineSolver(cpuKernel) },
    });

    // Epoch e1: the node was down the whole epoch; the keeper credits the renter, deferring the stake part.
    keeper = await startKeeper(
      keeperConfig(chain, new Wallet(chain.account(7).privateKey), { checkers: names.map((n) => checkers.url(n)) }),
      { api: false, pollMs: 50, log: () => {} },
    );
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
    expect((await keeper.tick()).errors).to.deep.equal([]);
    expect(await c.SlaEnforcer.stakeCreditDue(rentalId, e1)).to.equal(CREDIT);
  });

  after(async () => {
    stopAgent("SIGTERM");
    if (agentExit) await agentExit;
    await keeper?.close();
    await checkers?.close();
    await chain?.close();
    process.env = { ...saved };
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("before the credit is paid, the agent's /health reads the stake as covering the node", async () => {
    const h = await eventually(async () => ((await health()).stake ? health() : undefined));
    expect(h.ok).to.equal(true);
    expect(h.stake).to.deep.include({ ok: true, staked: "1000", required: "1000", shortfall: "0" });
    expect(h.stake).to.not.have.property("message");
  });

  it("the keeper pays the credit from stake: the registry now refuses every rent of the node", async () => {
    const c = chain.contracts;
    const e1 = Number((await c.SlaEnforcer.queryFilter(c.SlaEnforcer.filters.DeferStakeCredit()))[0].args.epoch);
    const opensAt = (await c.ReportOracle.epochStart(e1 + 1)) + (await c.SlaEnforcer.slashWindow()) + 1n;
    const now = BigInt(await chain.now());
    if (now < opensAt) await chain.increaseTime(Number(opensAt - now));
    const tick = await keeper.tick();
    expect(tick.errors).to.deep.equal([]);
    expect(tick.stakeCredits.map((o) => o.status)).to.deep.equal(["mined"]);
    expect(
      (await c.SlaEnforcer.queryFilter(c.SlaEnforcer.filters.PayStakeCredit())).map((e) => e.args.kaiPaid),
    ).to.deep.equal([CREDIT]);
    expect((await c.NodeRegistry.getStake(provider().address)).staked).to.equal(REQUIRED - CREDIT);
    // What the chain does then: `rent` reverts with the registry's error, after the renter paid gas.
    await (await c.KaiToken.connect(renter()).approve(chain.addresses.RentalEscrow, kai(1_000))).wait();
    const revert = await c.RentalEscrow.connect(renter())
      .rent.staticCall(rentParams)
      .then(
        () => undefined,
        (e) => decodeRevert(e),
      );
    expect(revert).to.deep.include({
      name: "NodeRegistry_InsufficientStake",
      args: { provider: provider().address, staked: "990 KAI", required: "1000 KAI" },
    });
    expect((await c.KaisarLens.getNodes(1, 1))[0].acceptsRentals).to.equal(false);
  });

  it("the agent's /health says so with the shared sentence and how much to stake, and keeps serving", async () => {
    const sentence = underStakeSentence(provider().address, { staked: REQUIRED - CREDIT, required: REQUIRED })!;
    expect(sentence).to.include("990 KAI staked of 1,000 KAI required").and.include("Stake 10 KAI more");
    const h = await eventually(async () => {
      const b = await health();
      return b.stake?.ok === false ? b : undefined;
    });
    expect(h.ok, "the agent itself answers").to.equal(true);
    expect(h.stake).to.deep.include({ ok: false, staked: "990", required: "1000", shortfall: "10", message: sentence });
    const logged = jsonLines(agentOut).filter((l) => l.at === "Agent#stake");
    expect(logged.map((l) => l.ok)).to.deep.equal([true, false]);
    expect(logged[1].message).to.equal(sentence);
    expect((await getJson(`${agentUrl}/hardware`)).status, "still serving checkers").to.equal(200);
  });

  it("`kaisar provider status` says the same sentence, in text and in --json", async () => {
    const sentence = underStakeSentence(provider().address, { staked: REQUIRED - CREDIT, required: REQUIRED })!;
    const text = await kaisar(["status"]);
    expect(text.code, text.err).to.equal(EXIT.ok);
    expect(text.out).to.include(sentence);
    const json = await kaisar(["status", "--json"]);
    const status = JSON.parse(json.out);
    expect(status.stake).to.deep.include({ covered: false, underStake: sentence });
    // The credit from stake is listed as a penalty with its time (a Result's `.at` is Array#at).
    expect(status.penalties).to.have.length(1);
    expect(status.penalties[0]).to.deep.include({ amount: "10", reason: PENALTY_REASON_TEXT.SlaCredit, nodeId: 1 });
    expect(status.penalties[0].at).to.be.a("number").above(0);
    expect(text.out).to.match(/Penalties \(1\):\n {2}\d{4}-\d\d-\d\dT[\d:.]+Z 10 KAI for SLA credit paid to a renter/);
    expect(text.out).to.include(`10 KAI for ${PENALTY_REASON_TEXT.SlaCredit} on node 1`);
  });

  it("`kaisar provider stake` stakes the shortfall: /health is covered again and the rent goes through", async () => {
    const r = await kaisar(["stake"]);
    expect(r.code, r.err).to.equal(EXIT.ok);
    expect(r.out).to.include("Staked 10 KAI: 1000 KAI staked, 1000 KAI required.");
    const h = await eventually(async () => {
      const b = await health();
      return b.stake?.ok === true ? b : undefined;
    });
    expect(h.stake).to.deep.include({ staked: "1000", shortfall: "0" });
    expect(JSON.parse((await kaisar(["status", "--json"])).out).stake.underStake).to.equal(null);
    await chain.contracts.RentalEscrow.connect(renter()).rent.staticCall(rentParams);
  });
});
