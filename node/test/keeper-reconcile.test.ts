/**
 * Issue #17: the keeper's work comes from the chain. On a real local chain, with the real checkers of
 * keeperWorld.ts (the checker's API and store, reports and trees from its epoch-end code):
 * - one path for a mined report: found mined by `resume` (the sender stopped while it was in flight),
 *   it is recorded as on chain just as when the sender sees it mined;
 * - a keeper with an empty store rebuilds every epoch the oracle holds (its tree fetched from the
 *   checkers, root checked) and applies each SLA credit once; a stored tree that disagrees with the
 *   chain is rebuilt; the event cursor is persisted;
 * - an on-chain epoch whose tree no checker serves is listed with why (`status()`, `/health`), and the
 *   later epochs' follow-up work waits for it (epoch order), then runs once it comes;
 * - an RPC that does not answer, at startup or while running, degrades `/health` and is waited for
 *   with backoff; the keeper neither throws nor stops.
 */
import { expect } from "chai";
import { Wallet } from "ethers";

import { startKeeper, type Keeper } from "../src/keeper";
import type { TxLogEntry } from "../src/keeper/tx";
import { keeperConfig, startFaultProxy } from "./helpers/keeper";
import { startKeeperWorld, type KeeperWorld } from "./helpers/keeperWorld";

/** The keeper API port of this test (offset from the other programs' defaults, see README). */
const API_PORT = 28_975;

describe("keeper reconciles with the chain (issue #17)", function () {
  this.timeout(120_000);
  let world: KeeperWorld;
  const started: Keeper[] = [];
  const keeperAt = async (account: number, dataDir?: string, deps: Parameters<typeof startKeeper>[1] = {}) => {
    const config = keeperConfig(world.chain, new Wallet(world.chain.account(account).privateKey), {
      checkers: world.checkerUrls,
      ...(dataDir ? { dataDir } : {}),
    });
    const k = await startKeeper(config, { api: false, pollMs: 50, ...deps });
    started.push(k);
    return { keeper: k, config };
  };
  const onChain = async () => {
    const oracle = world.chain.contracts.ReportOracle;
    return (await oracle.queryFilter(oracle.filters.SubmitReport())).map((e) => Number(e.args.epoch));
  };

  before(async () => {
    world = await startKeeperWorld(8);
    // Published as each test needs them (a keeper relays every published epoch it can).
    for (let e = world.first; e < world.first + 3; e++) await world.publish(e, 9_500);
  });
  afterEach(async () => {
    await world.chain.provider.request({ method: "evm_setAutomine", params: [true] });
    for (const k of started.splice(0)) await k.close();
  });
  after(async () => {
    await world?.close();
  });

  it("a report found mined by resume is recorded as on chain, as if the sender had seen it mined", async () => {
    const e = world.first;
    let stopSender = () => {};
    await world.chain.provider.request({ method: "evm_setAutomine", params: [false] });
    const { keeper: a, config } = await keeperAt(7, undefined, { txHooks: { afterBroadcast: () => stopSender() } });
    stopSender = () => a.sender.stop();
    const result = await a.relay.submitEpoch(BigInt(e));
    expect(result.status, "stopped while in flight").to.equal("pending");
    expect(a.store.report(e)?.status).to.equal("verified");
    await a.close();
    await world.chain.provider.request({ method: "evm_mine", params: [] });
    await world.chain.provider.request({ method: "evm_setAutomine", params: [true] });

    const { keeper: b } = await keeperAt(7, config.dataDir);
    expect((await b.sender.resume()).map((o) => o.status)).to.deep.equal(["mined"]);
    const stored = b.store.report(e);
    expect(stored?.status, "recorded by the resume").to.equal("onchain");
    const [event] = await world.chain.contracts.ReportOracle.queryFilter(
      world.chain.contracts.ReportOracle.filters.SubmitReport(e),
    );
    expect(stored?.txHash).to.equal(event.transactionHash);
    // On chain before its event is read: its follow-up work is listed as missing until done.
    expect(b.reconciler.missing()).to.deep.include({
      epoch: e,
      missing: "sla",
      reason: "not run yet (the next pass runs it)",
    });
  });

  it("a keeper with an empty store rebuilds every on-chain epoch from the chain and credits each once", async () => {
    // Another keeper relays two more epochs and does nothing else.
    const { keeper: other } = await keeperAt(8);
    for (const e of [world.first + 1, world.first + 2]) {
      expect((await other.relay.submitEpoch(BigInt(e))).status).to.equal("submitted");
    }
    const epochs = await onChain();
    expect(epochs).to.deep.equal([world.first, world.first + 1, world.first + 2]);

    const { keeper } = await keeperAt(9);
    const tick = await keeper.tick();
    expect(tick.errors).to.deep.equal([]);
    expect(tick.reconciled).to.deep.equal(epochs);
    for (const e of epochs) {
      expect(keeper.store.report(e)?.status, `epoch ${e}`).to.equal("onchain");
      expect(keeper.store.leaves(e)).to.have.length.above(0);
    }
    expect(tick.credits.map((o) => [o.key, o.status])).to.deep.equal(epochs.map((e) => [`sla:${e}:1`, "mined"]));
    for (const e of epochs)
      expect(await world.chain.contracts.SlaEnforcer.isCredited(world.rentalId, e)).to.equal(true);
    const oracle = world.chain.contracts.ReportOracle;
    const lastEvent = (await oracle.queryFilter(oracle.filters.SubmitReport())).at(-1)!.blockNumber;
    expect(Number(keeper.store.getMeta("reconcile.block")), "the event cursor, persisted").to.be.above(lastEvent);
    expect(keeper.reconciler.missing()).to.deep.equal([]);

    const before = keeper.store.txCount();
    const again = await keeper.tick();
    expect([...again.reconciled, ...again.credits, ...again.slashes]).to.deep.equal([]);
    expect(keeper.store.txCount(), "nothing sent twice").to.equal(before);

    // The store disagrees with the chain (another root, no leaves): rebuilt from the chain.
    const e = world.first + 1;
    const leaves = keeper.store.leaves(e).length;
    keeper.store.db.prepare("UPDATE reports SET root = ? WHERE epoch = ?").run("0x" + "ab".repeat(32), e);
    keeper.store.db.prepare("DELETE FROM leaves WHERE epoch = ?").run(e);
    const repaired = await keeper.tick();
    expect(repaired.reconciled).to.deep.equal([e]);
    expect(keeper.store.report(e)?.root).to.equal(await world.chain.contracts.ReportOracle.reportRoot(e));
    expect(keeper.store.leaves(e)).to.have.length(leaves);
    expect(
      repaired.credits.map((o) => o.status),
      "the credit was applied: nothing sent",
    ).to.deep.equal([]);
    expect(keeper.store.txCount()).to.equal(before);
  });

  it("lists an on-chain epoch whose tree no checker serves, holds later epochs' work, then catches up in order", async () => {
    const [e3, e4] = [world.first + 3, world.first + 4];
    for (const e of [e3, e4]) await world.publish(e, 9_500);
    const { keeper: other } = await keeperAt(8);
    for (const e of [e3, e4]) expect((await other.relay.submitEpoch(BigInt(e))).status).to.equal("submitted");
    world.hideTree(e3, true);

    const logs: TxLogEntry[] = [];
    const { keeper } = await keeperAt(10, undefined, { api: true, log: (l) => logs.push(l) });
    const tick = await keeper.tick();
    expect(tick.errors).to.deep.equal([]);
    expect(tick.reconciled).to.include(e4).and.not.include(e3);
    expect(keeper.store.report(e4)?.status, "e4's proofs are served").to.equal("onchain");
    expect(
      tick.credits.map((o) => o.key),
      "e4's credit waits for e3",
    ).to.deep.equal([]);
    const missing = keeper.reconciler.missing();
    expect(missing[0]).to.include({ epoch: e3, missing: "tree" });
    expect(missing[0].reason).to.match(/HTTP 404/);
    expect(missing).to.deep.include({
      epoch: e4,
      missing: "sla",
      reason: `waits for the tree of epoch ${e3} (follow-up work runs in epoch order)`,
    });
    const health = await (await fetch(`${keeper.api!.url}/health`)).json();
    expect(health).to.include({ ok: false, status: "degraded" });
    expect(health.missingEpochs).to.deep.equal(JSON.parse(JSON.stringify(missing)));
    const status = await keeper.status();
    expect(status.missingEpochs.map((m) => [m.epoch, m.missing])).to.deep.include([e3, "tree"]);
    expect(logs.find((l) => l.at === "Keeper#treeMissing")).to.include({ epoch: e3 });

    world.hideTree(e3, false);
    const caught = await keeper.tick();
    expect(caught.reconciled).to.deep.equal([e3]);
    expect(caught.credits.map((o) => [o.key, o.status])).to.deep.equal([
      [`sla:${e3}:1`, "mined"],
      [`sla:${e4}:1`, "mined"],
    ]);
    expect(keeper.reconciler.missing()).to.deep.equal([]);
    const healed = await (await fetch(`${keeper.api!.url}/health`)).json();
    expect(healed).to.include({ ok: true, status: "ok" });
    expect(healed.missingEpochs).to.deep.equal([]);
  });

  it("waits for an RPC that does not answer at startup and while running: degraded health, no exit", async () => {
    const proxy = await startFaultProxy(world.chain.rpcUrl);
    try {
      proxy.fault = "refuse";
      const logs: TxLogEntry[] = [];
      const waiters: { at: string; resolve: () => void }[] = [];
      const log = (l: TxLogEntry) => {
        logs.push(l);
        for (const w of waiters.filter((w) => w.at === l.at)) w.resolve();
      };
      const logged = (at: string) => new Promise<void>((resolve) => waiters.push({ at, resolve }));
      const config = keeperConfig(
        { ...world.chain, rpcUrl: proxy.url },
        new Wallet(world.chain.account(11).privateKey),
        {
          checkers: world.checkerUrls,
          listen: { host: "127.0.0.1", port: API_PORT },
          rpcTimeout: 1_000,
        },
      );
      const unavailable = logged("Keeper#rpcUnavailable");
      const starting = startKeeper(config, { pollMs: 50, log, waitForRpc: true });
      let settled = false;
      void starting.then(
        () => (settled = true),
        () => (settled = true),
      );
      await unavailable;
      const health = await (await fetch(`http://127.0.0.1:${API_PORT}/health`)).json();
      expect(health).to.include({ ok: false, status: "degraded" });
      expect(health.rpc.ok).to.equal(false);
      expect(health.degraded[0]).to.match(/RPC unavailable/);
      expect(settled, "still starting").to.equal(false);

      const recovered = logged("Keeper#rpcRecovered");
      proxy.fault = undefined;
      const keeper = await starting;
      started.push(keeper);
      await recovered;
      expect(keeper.rpcHealth.ok).to.equal(true);

      // While running: 502s at the first call of a pass, then the RPC is back.
      let stop = () => {};
      const stopped = new Promise<void>((r) => (stop = r));
      const down = logged("Keeper#rpcUnavailable");
      const running = keeper.run(stopped);
      await proxy.next((e) => e.at === "request");
      proxy.fault = "502";
      await down;
      const degraded = await (await fetch(`${keeper.api!.url}/health`)).json();
      expect(degraded).to.include({ status: "degraded" });
      const back = logged("Keeper#rpcRecovered");
      proxy.fault = undefined;
      await back;
      const ok = await (await fetch(`${keeper.api!.url}/health`)).json();
      expect(ok.rpc.ok).to.equal(true);
      stop();
      await running;
      expect(proxy.stats.refused + proxy.stats.bad).to.be.above(0);
    } finally {
      await proxy.close();
    }
  });

  it("runs follow-up work on finalized reports only, and forgets a report a reorg removed (then relays it again)", async () => {
    const e = world.first + 5;
    await world.publish(e, 9_500);
    const rpc = world.chain.provider;
    const proxy = await startFaultProxy(world.chain.rpcUrl);
    try {
      const snapshot = await rpc.request({ method: "evm_snapshot", params: [] });
      const beforeReport = await world.chain.provider.request({ method: "eth_blockNumber", params: [] });
      const { keeper: other } = await keeperAt(8);
      expect((await other.relay.submitEpoch(BigInt(e))).status).to.equal("submitted");
      const [event] = await world.chain.contracts.ReportOracle.queryFilter(
        world.chain.contracts.ReportOracle.filters.SubmitReport(e),
      );

      // The chain is final only up to the block before the report.
      proxy.finalizedBlock = Number(beforeReport);
      const logs: TxLogEntry[] = [];
      const config = keeperConfig(
        { ...world.chain, rpcUrl: proxy.url },
        new Wallet(world.chain.account(12).privateKey),
        {
          checkers: world.checkerUrls,
        },
      );
      const keeper = await startKeeper(config, { api: false, pollMs: 50, log: (l) => logs.push(l) });
      started.push(keeper);
      const tick = await keeper.tick();
      expect(tick.errors).to.deep.equal([]);
      expect(tick.reconciled, "its tree is held (its proofs are served)").to.include(e);
      expect(
        tick.credits.filter((o) => o.key === `sla:${e}:1`),
        "no credit before finality",
      ).to.deep.equal([]);
      expect(keeper.reconciler.missing()).to.deep.include({
        epoch: e,
        missing: "sla",
        reason: `waits for finality: its report is in block ${event.blockNumber}, the chain is final at ${Number(beforeReport)}`,
      });
      expect(Number(keeper.store.getMeta("reconcile.block")), "the cursor stays at the finalized block").to.equal(
        Number(beforeReport) + 1,
      );

      // A reorg takes the report away: forgotten, and this keeper relays it again itself.
      await rpc.request({ method: "evm_revert", params: [snapshot] });
      expect(BigInt(await world.chain.contracts.ReportOracle.reportRoot(e))).to.equal(0n);
      const after = await keeper.tick();
      expect(after.errors).to.deep.equal([]);
      expect(logs.find((l) => l.at === "Keeper#reportReorgedOut")).to.deep.include({ epochs: [e] });
      expect(after.reports.map((r) => [r.epoch, r.status])).to.deep.include([BigInt(e), "submitted"]);
      const [again] = await world.chain.contracts.ReportOracle.queryFilter(
        world.chain.contracts.ReportOracle.filters.SubmitReport(e),
      );
      expect(keeper.store.chainReport(e)?.txHash, "the new report's event").to.equal(again.transactionHash);

      // Final now: credited once.
      proxy.finalizedBlock = undefined;
      const final = await keeper.tick();
      expect(final.credits.filter((o) => o.key === `sla:${e}:1`).map((o) => o.status)).to.deep.equal(["mined"]);
      expect(await world.chain.contracts.SlaEnforcer.isCredited(world.rentalId, e)).to.equal(true);
      const more = await keeper.tick();
      expect(more.credits, "nothing twice").to.deep.equal([]);
    } finally {
      await proxy.close();
    }
  });

  it("catches up an old epoch a quorum signed however far behind it is, setting unsigned ones aside for a while", async () => {
    const last = Number((await world.chain.contracts.ReportOracle.config()).lastEpoch);
    // Thirty epochs later: one old epoch unsigned, the next one signed.
    await world.chain.increaseTime(30 * 10);
    const [unsigned, signed] = [last + 1, last + 2];
    await world.publish(signed, 9_500);
    const logs: TxLogEntry[] = [];
    const { keeper } = await keeperAt(13, undefined, { log: (l) => logs.push(l) });
    const tick = await keeper.tick();
    expect(tick.errors).to.deep.equal([]);
    expect(tick.reports.find((r) => r.epoch === BigInt(signed))?.status).to.equal("submitted");
    expect(await onChain()).to.include(signed);
    const givenUp = logs.filter((l) => l.at === "Keeper#epochSetAside").map((l) => Number(l.epoch));
    expect(givenUp, "the old unsigned epoch, set aside").to.include(unsigned).and.not.include(signed);
    const again = await keeper.tick();
    const gathered = again.reports.map((r) => Number(r.epoch));
    expect(
      gathered.filter((e) => givenUp.includes(e)),
      "a set-aside epoch is not gathered in the next pass",
    ).to.deep.equal([]);
  });
});
