/**
 * Issue #17, fault injection: the real keeper process (`kaisar keeper run`) against a real local chain
 * through a fault proxy (keeperHelpers.startFaultProxy), and four real checkers (keeperWorld.ts): the
 * checker's own API over its own store, each epoch's report and tree made by the checker's epoch-end
 * code (signed observations exchanged over HTTP, scored with the epoch context read from the chain,
 * signed, stored). The checker processes' probe scheduler and exchange timer are not run: they tick on
 * the wall clock, which would make the suite depend on the machine's speed; the heartbeat samples their
 * probes would record are written to each checker's store instead when an epoch is published.
 *
 * Each fault fires at a named point, from an event (a JSON-RPC call seen by the proxy, a line of the
 * keeper's log), never from a timer:
 *
 *   during startup          the RPC refuses every call until the keeper says it waits for it
 *   after send              SIGKILL once the chain answered the keeper's first broadcast
 *   after mined             SIGKILL at the keeper's first "mined" line after the restart
 *   dropped broadcast answers, then 502s
 *   SIGTERM with a transaction pending (blocks not mined), then mined while the keeper is down
 *   stale nonce             SIGKILL with a signed transaction never broadcast, whose nonce another
 *                           transaction from the keeper's key then takes
 *
 * After recovery: every epoch a quorum signed is on chain once; every SLA credit it warrants (the node
 * under its rental's 99.9% target in every epoch) applied once; the downtime slash (the last two epochs
 * under 90%) applied once and the jailed node's rental closed; the proofs API serves every on-chain
 * epoch with the chain's root; /health lists nothing missing, no open intent, and the keeper's latest
 * nonce equals its pending one; the KAI supply equals the sum of every holder's balance and every
 * contract's balance its ledger (ledgers.ts: the escrow's deposits, earnings, fees and refund credits,
 * the registry's stakes, the distributor's reserve and positions; none kept by the enforcer or oracle).
 */
import { appendFileSync } from "node:fs";

import { expect } from "chai";
import { Transaction, Wallet } from "ethers";

import { KeeperProcess, cleanEnv, keeperConfig, startFaultProxy, type FaultProxy } from "./helpers/keeper";
import { startKeeperWorld, type KeeperWorld } from "./helpers/keeperWorld";
import { ledgers, unconserved } from "./helpers/ledgers";

/** The keeper API port of this file (the other programs' defaults, offset). */
const API_PORT = 28_970;
const UPTIMES = [9_500, 9_500, 9_500, 9_500, 5_000, 5_000];

describe("keeper fault injection (issue #17)", function () {
  this.timeout(240_000);
  let world: KeeperWorld;
  let proxy: FaultProxy;
  let keeperKey: Wallet;
  let env: NodeJS.ProcessEnv;
  let keeper: KeeperProcess | undefined;
  const epochs: number[] = [];
  const oracle = () => world.chain.contracts.ReportOracle;
  const mine = () => world.chain.provider.request({ method: "evm_mine", params: [] });
  const automine = (on: boolean) => world.chain.provider.request({ method: "evm_setAutomine", params: [on] });
  const start = () => (keeper = new KeeperProcess(env, process.env.KEEPER_FAULTS_LOG));
  /** Names the phase in the log KEEPER_FAULTS_LOG names (for a failure's diagnosis). */
  const phase = (name: string) => {
    if (process.env.KEEPER_FAULTS_LOG) appendFileSync(process.env.KEEPER_FAULTS_LOG, `### ${name}\n`);
  };
  const submitted = async () =>
    (await oracle().queryFilter(oracle().filters.SubmitReport())).map((e) => Number(e.args.epoch));
  /** Waits (a generous deadline, not a race) until `check` holds. */
  const until = async (what: string, check: () => Promise<boolean>, deadlineMs = 90_000) => {
    const end = Date.now() + deadlineMs;
    while (!(await check())) {
      if (Date.now() > end) {
        const state = { health: await health(), onChain: await submitted(), stderr: keeper?.stderr };
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(state)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const health = async () => {
    try {
      return (await (await fetch(`http://127.0.0.1:${API_PORT}/health`)).json()) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };

  before(async () => {
    // A slashing window of an hour: the downtime evidence stays fresh however slow the machine.
    world = await startKeeperWorld(UPTIMES.length + 1, 3_600);
    for (let i = 0; i < UPTIMES.length; i++) epochs.push(world.first + i);
    proxy = await startFaultProxy(world.chain.rpcUrl);
    keeperKey = new Wallet(world.chain.account(12).privateKey);
    const config = keeperConfig(world.chain, keeperKey);
    env = cleanEnv({
      KAISAR_CHAIN_ID: String(world.chain.chainId),
      KAISAR_RPC_URL: proxy.url,
      KAISAR_PRIVATE_KEY: keeperKey.privateKey,
      KAISAR_DEPLOYMENT: world.chain.deploymentFile,
      KAISAR_DATA_DIR: config.dataDir,
      KAISAR_CHECKERS: world.checkerUrls.join(","),
      KAISAR_LISTEN_HOST: "127.0.0.1",
      KAISAR_LISTEN_PORT: String(API_PORT),
      KAISAR_POLL_INTERVAL: "200ms",
      KAISAR_RPC_TIMEOUT: "2s",
      KAISAR_TX_TIMEOUT: "5s",
    });
  });
  after(async () => {
    keeper?.kill("SIGKILL");
    await keeper?.exited;
    await automine(true).catch(() => {});
    await proxy?.close();
    await world?.close();
  });

  it("recovers from every fault with nothing lost and nothing done twice", async () => {
    phase("During startup");
    // During startup: the RPC refuses until the keeper says it waits for it; its API says degraded.
    proxy.fault = "refuse";
    start();
    await keeper!.next((l) => l.at === "Keeper#rpcUnavailable");
    const starting = await health();
    expect(starting, "the API answers while the RPC is down").to.include({ status: "degraded" });
    const ready = keeper!.next((l) => l.at === "Keeper#start");
    proxy.fault = undefined;
    await ready;

    phase("After send");
    // After send: killed once the chain answered its first broadcast (the first epoch's report).
    const sent = proxy.next((e) => e.at === "answered" && e.method === "eth_sendRawTransaction");
    await world.publish(epochs[0], UPTIMES[0]);
    await sent;
    keeper!.kill("SIGKILL");
    expect((await keeper!.exited).signal).to.equal("SIGKILL");

    phase("After mined");
    // After mined: killed at the restarted keeper's first "mined" line.
    await world.publish(epochs[1], UPTIMES[1]);
    start();
    await keeper!.next((l) => l.at === "Keeper#mined");
    keeper!.kill("SIGKILL");
    await keeper!.exited;

    phase("Dropped broadcast answers");
    // Dropped broadcast answers, then 502s, while the next epochs are relayed.
    start();
    proxy.fault = "drop-send-answers";
    const dropped = proxy.next((e) => e.at === "answered" && e.method === "eth_sendRawTransaction");
    await world.publish(epochs[2], UPTIMES[2]);
    await dropped;
    proxy.fault = "502";
    let bad = 0;
    await proxy.next((e) => e.at === "faulted" && ++bad >= 3);
    proxy.fault = undefined;
    await until("the third epoch on chain", async () => (await submitted()).includes(epochs[2]));

    phase("SIGTERM with");
    // SIGTERM with a transaction pending: blocks stop; stopped at the next broadcast; mined while down.
    await automine(false);
    const pending = proxy.next((e) => e.at === "answered" && e.method === "eth_sendRawTransaction");
    await world.publish(epochs[3], UPTIMES[3]);
    await pending;
    keeper!.kill("SIGTERM");
    const term = await keeper!.exited;
    expect(term.code, keeper!.stderr).to.equal(0);
    const stopped = keeper!.lines.find((l) => l.at === "Keeper#stopped");
    expect(stopped?.pendingIntents, "stopped with its transaction pending").to.have.length.above(0);
    await mine();
    await automine(true);

    phase("Stale nonce");
    // Stale nonce: killed with a signed transaction that never reached the chain; another transaction
    // from the keeper's key takes its nonce.
    start();
    proxy.fault = "drop-sends";
    await world.publish(epochs[4], UPTIMES[4]);
    await proxy.next((e) => e.at === "faulted" && e.method === "eth_sendRawTransaction");
    keeper!.kill("SIGKILL");
    await keeper!.exited;
    proxy.fault = undefined;
    const rpc = world.chain.contracts.KaiToken.runner!.provider!;
    const nonce = await rpc.getTransactionCount(keeperKey.address, "latest");
    const fee = await rpc.getFeeData();
    const raw = await keeperKey.signTransaction(
      Transaction.from({
        type: 2,
        chainId: world.chain.chainId,
        nonce,
        to: keeperKey.address,
        value: 0n,
        gasLimit: 21_000n,
        maxFeePerGas: fee.maxFeePerGas! * 2n,
        maxPriorityFeePerGas: fee.maxPriorityFeePerGas!,
      }),
    );
    await world.chain.provider.request({ method: "eth_sendRawTransaction", params: [raw] });

    phase("Recovery:");
    // Recovery: the last epoch too; everything settles.
    await world.publish(epochs[5], UPTIMES[5]);
    start();
    await until("every epoch on chain, nothing missing, no open intent", async () => {
      const h = await health();
      return (
        (await submitted()).length === epochs.length &&
        h?.status === "ok" &&
        h.pendingIntents === 0 &&
        (h.missingEpochs as unknown[]).length === 0 &&
        (await world.chain.contracts.RentalEscrow.getRental(world.rentalId)).status === 3n
      );
    });

    // Every epoch a quorum signed: on chain once.
    const events = await oracle().queryFilter(oracle().filters.SubmitReport());
    expect(events.map((e) => Number(e.args.epoch))).to.deep.equal(epochs);
    // Every credit warranted (uptime under 99.9% in each epoch of the rental): applied once.
    const sla = world.chain.contracts.SlaEnforcer;
    const credits = await sla.queryFilter(sla.filters.ApplySlaCredit(world.rentalId));
    expect(credits.map((e) => Number(e.args.epoch)).sort((a, b) => a - b)).to.deep.equal(epochs);
    // The downtime of the last two epochs: slashed once; the jailed node's rental closed.
    const slashes = await sla.queryFilter(sla.filters.SlashDowntime(1n));
    expect(slashes.map((e) => [Number(e.args.firstEpoch), Number(e.args.lastEpoch)])).to.deep.equal([
      [epochs[4], epochs[5]],
    ]);
    // The proofs API serves every on-chain epoch, with the chain's root.
    for (const e of events) {
      const res = await fetch(`http://127.0.0.1:${API_PORT}/epochs/${e.args.epoch}`);
      expect(res.status, `epoch ${e.args.epoch}`).to.equal(200);
      expect(((await res.json()) as { root: string }).root).to.equal(e.args.root);
    }
    // No transaction left in flight: no open intent, and the latest nonce is the pending one.
    expect((await health())?.pendingIntents, "open intents").to.equal(0);
    expect(await rpc.getTransactionCount(keeperKey.address, "latest")).to.equal(
      await rpc.getTransactionCount(keeperKey.address, "pending"),
    );
    // Supply and every contract's ledger conserved (ledgers.ts), with money on the books that matter:
    // the escrow still owes the closed rental's earnings and refund credits, the registry holds stake.
    expect(await unconserved(world.chain.contracts), "supply and ledgers conserved").to.deep.equal([]);
    const books = await ledgers(world.chain.contracts);
    for (const name of ["RentalEscrow", "NodeRegistry", "RewardDistributor"]) {
      expect(books.find((l) => l.what.startsWith(name))!.owed > 0n, `${name} owes something`).to.equal(true);
    }
    // The faults happened.
    const seen = keeper!.lines.map((l) => l.at);
    expect(proxy.stats.refused).to.be.above(0);
    expect(proxy.stats.bad).to.be.at.least(3);
    expect(proxy.stats.dropped).to.be.above(0);
    expect(seen, "the stale nonce was seen").to.include("Keeper#nonceUsed");
  });
});
