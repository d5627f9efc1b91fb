/**
 * The keeper's transaction sender and RPC client against a real local chain: crashes around the
 * broadcast, stuck and dropped transactions, a faulty RPC, failover and chain id checks
 * (threats.md K1, K2, K4, K7, K8, K10, K11).
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { kai } from "../../devnet/src/governance";
import { FailoverRpcProvider, checkChainIds, KeeperStore, TxSender, startKeeper } from "../src/keeper";
import type { TxLogEntry, TxRequest } from "../src/keeper/tx";
import { startLocalChain, type LocalChain } from "./helpers/localChain";
import { keeperConfig, startFaultyProxy } from "./helpers/keeper";

class SimulatedCrash extends Error {}

describe("keeper transaction sender", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let keeper: Wallet;
  let provider: FailoverRpcProvider;
  const recipient = Wallet.createRandom().address;
  let transfers = 0;

  const automine = (on: boolean) => chain.provider.request({ method: "evm_setAutomine", params: [on] });
  const mine = () => chain.provider.request({ method: "evm_mine", params: [] });
  const pause = () => new Promise((r) => setTimeout(r, 20));
  /** The hash of the first transaction signed for `key` (stored before its broadcast). */
  const firstHash = async (store: KeeperStore, key: string) => {
    for (let i = 0; i < 500; i++) {
      const hash = store.txsOf(store.intent(key)?.id ?? -1)[0]?.hash;
      if (hash) return hash;
      await pause();
    }
    throw new Error(`no transaction signed for ${key}`);
  };
  /** Waits until the node has `hash` (a broadcast is logged, and its bytes stored, before it arrives). */
  const inMempool = async (hash: string) => {
    for (let i = 0; i < 500; i++) {
      if (await provider.send("eth_getTransactionByHash", [hash])) return;
      await pause();
    }
    throw new Error(`the node never received ${hash}`);
  };

  /** A KAI transfer to `recipient` as the work: a second effect would show in its balance. */
  function transfer(): TxRequest {
    const n = ++transfers;
    return {
      kind: "transfer",
      key: `transfer:${n}`,
      contract: "KaiToken",
      to: chain.addresses.KaiToken,
      data: chain.contracts.KaiToken.interface.encodeFunctionData("transfer", [recipient, kai(1)]),
    };
  }

  function sender(store: KeeperStore, extra: Partial<ConstructorParameters<typeof TxSender>[0]> = {}) {
    return new TxSender({
      store,
      provider,
      wallet: keeper,
      chainId: chain.chainId,
      feeBumpPercent: 20,
      txTimeoutMs: 5_000,
      pollMs: 50,
      ...extra,
    });
  }

  const dbFile = () => path.join(mkdtempSync(path.join(os.tmpdir(), "kaisar-keeper-tx-")), "keeper.sqlite");

  before(async () => {
    chain = await startLocalChain({ epochLengthSeconds: 10 });
    keeper = new Wallet(chain.account(10).privateKey);
    await (await chain.contracts.KaiToken.connect(chain.account(0)).transfer(keeper.address, kai(1_000))).wait();
    provider = new FailoverRpcProvider({ chainId: chain.chainId, urls: [chain.rpcUrl], timeoutMs: 5_000 });
  });
  after(async () => {
    await automine(true).catch(() => {});
    provider?.destroy();
    await chain?.close();
  });

  const received = async () => chain.contracts.KaiToken.balanceOf(recipient);

  it("given a crash after the broadcast, before the receipt is stored: a restart finds it mined, sends nothing more", async () => {
    const file = dbFile();
    const before = await received();
    const nonce = await provider.getTransactionCount(keeper.address, "latest");
    await automine(false);
    const store = new KeeperStore(file);
    const crashing = sender(store, {
      hooks: {
        afterBroadcast: () => {
          throw new SimulatedCrash("killed after broadcast");
        },
      },
    });
    const req = transfer();
    const error = await crashing.send(req).catch((e) => e);
    expect(error, "the crash hook fired").to.be.instanceOf(SimulatedCrash);
    store.close(); // the process is gone
    await mine();
    await automine(true);

    const restarted = new KeeperStore(file);
    expect(
      restarted.openIntents().map((i) => i.key),
      "the intent survived",
    ).to.deep.equal([req.key]);
    const outcomes = await sender(restarted).resume();
    expect(outcomes.map((o) => o.status)).to.deep.equal(["mined"]);
    expect(await received(), "exactly one transfer").to.equal(before + kai(1));
    expect(await provider.getTransactionCount(keeper.address, "latest"), "one nonce used").to.equal(nonce + 1);
    expect(restarted.txCount(), "one signed transaction").to.equal(1);
    // Asking again for the same work is a no-op.
    expect((await sender(restarted).send(req)).status).to.equal("mined");
    expect(await received()).to.equal(before + kai(1));
    restarted.close();
  });

  it("given a crash after the intent and signed bytes are stored, before the broadcast: a restart sends it exactly once", async () => {
    const file = dbFile();
    const before = await received();
    const store = new KeeperStore(file);
    const crashing = sender(store, {
      hooks: {
        beforeBroadcast: () => {
          throw new SimulatedCrash("killed before broadcast");
        },
      },
    });
    const req = transfer();
    expect(await crashing.send(req).catch((e) => e)).to.be.instanceOf(SimulatedCrash);
    store.close();
    expect(await received(), "nothing reached the chain").to.equal(before);

    const restarted = new KeeperStore(file);
    const logs: TxLogEntry[] = [];
    const outcomes = await sender(restarted, { log: (e) => logs.push(e) }).resume();
    expect(outcomes.map((o) => o.status)).to.deep.equal(["mined"]);
    expect(
      logs.map((l) => l.at),
      "the same signed bytes were re-broadcast",
    ).to.include("Keeper#rebroadcast");
    expect(await received()).to.equal(before + kai(1));
    expect(restarted.txCount()).to.equal(1);
    restarted.close();
  });

  it("when a transaction is not mined in time: replaces it with the same nonce and both fees raised >= 10%", async () => {
    const store = new KeeperStore(":memory:");
    const before = await received();
    await automine(false);
    const logs: TxLogEntry[] = [];
    const s = sender(store, { txTimeoutMs: 300, log: (e) => logs.push(e) });
    const req = transfer();
    const pending = s.send(req);
    const intentId = () => store.intent(req.key)?.id ?? -1;
    for (let i = 0; i < 500 && store.txsOf(intentId()).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    await mine();
    await automine(true);
    const outcome = await pending;
    expect(outcome.status).to.equal("mined");
    const txs = store.txsOf(intentId());
    expect(txs.length, "at least one replacement").to.be.at.least(2);
    expect(txs[1].nonce, "same nonce").to.equal(txs[0].nonce);
    expect(txs[1].maxFee * 100n >= txs[0].maxFee * 110n, "maxFeePerGas +10% at least").to.be.true;
    expect(txs[1].maxPriority * 100n >= txs[0].maxPriority * 110n, "maxPriorityFeePerGas +10% at least").to.be.true;
    expect(outcome.status === "mined" && txs.some((t) => t.hash === outcome.hash), "one of ours was mined").to.be.true;
    expect(await received(), "exactly one effect").to.equal(before + kai(1));
    expect(logs.some((l) => l.at === "Keeper#replace")).to.be.true;
  });

  it("when the fee cap leaves no room for a +10% bump: stops bumping, says which setting, keeps waiting", async () => {
    const store = new KeeperStore(":memory:");
    await automine(false);
    const logs: TxLogEntry[] = [];
    const fees = await provider.getFeeData();
    const s = sender(store, { txTimeoutMs: 200, maxFeePerGas: fees.maxFeePerGas!, log: (e) => logs.push(e) });
    const pending = s.send(transfer());
    for (let i = 0; i < 500 && !logs.some((l) => l.at === "Keeper#feeCapReached"); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await mine();
    await automine(true);
    expect((await pending).status).to.equal("mined");
    const capped = logs.find((l) => l.at === "Keeper#feeCapReached");
    expect(capped?.fix).to.include("maxFeePerGasGwei");
    expect(
      logs.some((l) => l.at === "Keeper#replace"),
      "never above the cap",
    ).to.be.false;
  });

  it("when the transaction is dropped from the mempool: re-broadcasts it with the same nonce", async () => {
    const store = new KeeperStore(":memory:");
    const before = await received();
    await automine(false);
    const logs: TxLogEntry[] = [];
    // However slow the machine, the sender keeps waiting (it would return "pending" after maxWaitMs).
    const s = sender(store, { log: (e) => logs.push(e), maxWaitMs: 120_000 });
    const req = transfer();
    const pending = s.send(req);
    const hash = await firstHash(store, req.key);
    await inMempool(hash);
    expect(
      await chain.provider.request({ method: "hardhat_dropTransaction", params: [hash] }),
      "dropped from the mempool",
    ).to.equal(true);
    for (let i = 0; i < 500 && !logs.some((l) => l.at === "Keeper#rebroadcast"); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // Mine once the node has the rebroadcast (a transaction left in the mempool when automine comes
    // back on stays there).
    await inMempool(hash);
    await mine();
    await automine(true);
    expect((await pending).status).to.equal("mined");
    expect(logs.some((l) => l.at === "Keeper#rebroadcast")).to.be.true;
    expect(await received()).to.equal(before + kai(1));
  });

  it("when another process used the nonce: re-syncs it from the chain and still does the work once", async () => {
    const store = new KeeperStore(":memory:");
    const before = await received();
    await automine(false);
    const s = sender(store, { txTimeoutMs: 60_000 });
    const req = transfer();
    const pending = s.send(req);
    // Ours reaches the node's mempool before the other process's transaction replaces it.
    await inMempool(await firstHash(store, req.key));
    // Another process with the same key takes the nonce with a higher fee; ours is replaced in the mempool.
    const tx = store.txsOf(store.intent(req.key)!.id)[0];
    const other = await keeper.signTransaction({
      type: 2,
      chainId: chain.chainId,
      nonce: tx.nonce,
      to: keeper.address,
      value: 0n,
      gasLimit: 21_000n,
      maxFeePerGas: tx.maxFee * 2n,
      maxPriorityFeePerGas: tx.maxPriority * 2n,
    });
    await provider.send("eth_sendRawTransaction", [other]);
    await mine();
    await automine(true);
    const outcome = await pending;
    expect(outcome.status).to.equal("mined");
    expect(await received(), "the transfer happened once, under a new nonce").to.equal(before + kai(1));
  });

  it("through an RPC that drops or delays a third of the requests: still sends, exactly once", async () => {
    const proxy = await startFaultyProxy(chain.rpcUrl, { faults: true, delayMs: 600 });
    const flaky = new FailoverRpcProvider({ chainId: chain.chainId, urls: [proxy.url], timeoutMs: 300 });
    const store = new KeeperStore(":memory:");
    const before = await received();
    try {
      const outcome = await new TxSender({
        store,
        provider: flaky,
        wallet: keeper,
        chainId: chain.chainId,
        feeBumpPercent: 20,
        txTimeoutMs: 5_000,
        pollMs: 50,
      }).send(transfer());
      expect(outcome.status).to.equal("mined");
      expect(await received()).to.equal(before + kai(1));
      expect(proxy.stats.dropped, "faults were injected").to.be.greaterThan(0);
      expect(proxy.stats.delayed).to.be.greaterThan(0);
    } finally {
      flaky.destroy();
      await proxy.close();
    }
  });

  it("when the first RPC is down: uses rpcUrlFallback", async () => {
    const proxy = await startFaultyProxy(chain.rpcUrl);
    await proxy.close(); // a port nobody listens on any more
    const failures: string[] = [];
    const both = new FailoverRpcProvider({
      chainId: chain.chainId,
      urls: [proxy.url, chain.rpcUrl],
      timeoutMs: 1_000,
      onFailure: (url) => failures.push(url),
    });
    try {
      expect(await checkChainIds(both, chain.chainId)).to.deep.equal([chain.rpcUrl]);
      const store = new KeeperStore(":memory:");
      const outcome = await new TxSender({
        store,
        provider: both,
        wallet: keeper,
        chainId: chain.chainId,
        feeBumpPercent: 20,
        txTimeoutMs: 5_000,
        pollMs: 50,
      }).send(transfer());
      expect(outcome.status).to.equal("mined");
      expect(failures, "the first URL was tried and failed").to.include(proxy.url);
    } finally {
      both.destroy();
    }
  });

  it("when an RPC serves another chain: refuses to start, naming chainId", async () => {
    const lying = await startFaultyProxy(chain.rpcUrl, { chainId: 1 });
    try {
      const error = await startKeeper(keeperConfig({ ...chain, rpcUrl: lying.url }, keeper), { api: false }).catch(
        (e: Error) => e,
      );
      expect((error as Error).message)
        .to.include("serves chain 1")
        .and.include("chainId (env KAISAR_CHAIN_ID) is 31337");
      const fallback = await startKeeper(
        keeperConfig({ ...chain, rpcUrl: chain.rpcUrl }, keeper, { rpcUrlFallback: lying.url }),
        { api: false },
      ).catch((e: Error) => e);
      expect((fallback as Error).message).to.include("rpcUrlFallback");
    } finally {
      await lying.close();
    }
  });

  it("refuses a fee bump below 10%, naming the setting", () => {
    expect(() => sender(new KeeperStore(":memory:"), { feeBumpPercent: 5 })).to.throw(/feeBumpPercent.*10 or more/);
  });
});
