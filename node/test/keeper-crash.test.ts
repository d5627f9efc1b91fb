/**
 * A real keeper process killed (SIGKILL) around the broadcast of its report, then started again (as
 * `kaisar keeper submit`, a second process): the work is done exactly once (one SubmitReport, one nonce used, the intent
 * done with the transaction that was broadcast). The keeper runs as a child process
 * (helpers/keeperCrashChild.ts) against the local chain served by this process; threats.md K1, K2.
 */
import { spawn } from "node:child_process";
import path from "node:path";

import { expect } from "chai";
import { Wallet } from "ethers";

import type { KeeperConfig } from "../src/config/load";
import { KeeperStore, keeperDatabase, startKeeper } from "../src/keeper";
import { setUpCheckerSet, stakeAndList, startLocalChain, type LocalChain } from "./helpers/localChain";
import { keeperConfig, scoreFixture, signedBody, startFakeCheckers, type FakeCheckers } from "./helpers/keeper";

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` in node/ without blocking this process (it serves the chain the child talks to). */
function runNode(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: path.join(__dirname, ".."), env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The environment without any KAISAR_ setting of this process. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KAISAR_")));
  return { ...env, ...extra };
}

const lines = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { at: string; [k: string]: unknown });

describe("keeper process killed around the broadcast", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let checkers: FakeCheckers;
  let config: KeeperConfig;
  let keeper: Wallet;
  let epoch: number;
  const names = ["c1", "c2", "c3", "c4"];

  before(async () => {
    chain = await startLocalChain({ epochLengthSeconds: 10 });
    checkers = await startFakeCheckers();
    const operators = [1, 2, 3, 4].map((i) => new Wallet(chain.account(i).privateKey));
    const c = chain.contracts;
    const version = await setUpCheckerSet(chain);
    const provider = chain.account(5);
    await stakeAndList(chain, provider);

    // Two epochs end; every checker serves a signed report and tree of each.
    epoch = Number(await c.ReportOracle.epochAt(await chain.now()));
    await chain.increaseTime(20);
    for (const e of [epoch, epoch + 1]) {
      const f = scoreFixture(
        BigInt(e),
        await c.ReportOracle.epochBudget(e),
        version,
        operators.map((o) => o.address),
        [{ nodeId: 1, provider: provider.address, uptimeBps: 9_990 }],
      );
      for (let i = 0; i < 4; i++) {
        checkers.reports.set(
          `${names[i]}:${e}`,
          await signedBody(operators[i], chain.chainId, chain.addresses.ReportOracle, f.report),
        );
        checkers.trees.set(`${names[i]}:${e}`, f.tree);
      }
    }
    keeper = new Wallet(chain.account(7).privateKey);
    config = keeperConfig(chain, keeper, { checkers: names.map((n) => checkers.url(n)), rpcTimeout: 5_000 });
  });
  after(async () => {
    await chain?.provider.request({ method: "evm_setAutomine", params: [true] }).catch(() => {});
    await checkers?.close();
    await chain?.close();
  });

  /** A keeper process that submits `e` and kills itself at `when`; returns its log and the hash it signed. */
  async function crash(e: number, when: "after-broadcast" | "before-broadcast") {
    const child = await runNode(
      [
        "-r",
        "ts-node/register/transpile-only",
        path.join(__dirname, "helpers", "keeperCrashChild.ts"),
        JSON.stringify(config),
        String(e),
        when,
      ],
      cleanEnv(),
    );
    expect(child.signal, `killed by its hook (exit ${child.code}): ${child.stderr}`).to.equal("SIGKILL");
    const log = lines(child.stdout);
    expect(log.map((l) => l.at)).to.not.include("child#done");
    const sends = log.filter((l) => l.at === "Keeper#send");
    expect(sends, "one transaction signed").to.have.length(1);
    return { log, hash: sends[0].hash as string };
  }

  /** `kaisar keeper submit --epoch e --json`, the same keeper started again by its ordinary command. */
  async function restart(e: number) {
    const child = await runNode(
      [path.join(__dirname, "..", "bin", "kaisar.js"), "keeper", "submit", "--epoch", String(e), "--json"],
      cleanEnv({
        KAISAR_CHAIN_ID: String(chain.chainId),
        KAISAR_RPC_URL: chain.rpcUrl,
        KAISAR_PRIVATE_KEY: keeper.privateKey,
        KAISAR_DEPLOYMENT: chain.deploymentFile,
        KAISAR_DATA_DIR: config.dataDir,
        KAISAR_CHECKERS: names.map((n) => checkers.url(n)).join(","),
        KAISAR_RPC_TIMEOUT: "5s",
        KAISAR_TX_TIMEOUT: "5s",
      }),
    );
    expect(child.code, child.stderr).to.equal(0);
    return JSON.parse(child.stdout);
  }

  /** The keeper's intents, transactions and stored report of `e`, read from its database. */
  function stored(e: number) {
    const store = new KeeperStore(keeperDatabase(config));
    try {
      const intent = store.intent(`report:${e}`);
      return {
        intent,
        txs: intent ? store.txsOf(intent.id).map((t) => t.hash) : [],
        report: store.report(e)?.status,
      };
    } finally {
      store.close();
    }
  }

  const nonce = () => chain.contracts.KaiToken.runner!.provider!.getTransactionCount(keeper.address, "latest");
  const submitted = async (e: number) => {
    const oracle = chain.contracts.ReportOracle;
    return oracle.queryFilter(oracle.filters.SubmitReport(e));
  };

  it("killed after the broadcast, before the receipt is stored: the restart finds it mined and sends nothing", async () => {
    const nonce0 = await nonce();
    // Not mined until the keeper is dead: the transaction is in flight when the process goes.
    await chain.provider.request({ method: "evm_setAutomine", params: [false] });
    const { hash } = await crash(epoch, "after-broadcast");
    const dead = stored(epoch);
    expect(dead.intent?.status, "the intent survived, sent").to.equal("sent");
    expect(dead.txs).to.deep.equal([hash]);
    expect(await chain.provider.request({ method: "eth_getTransactionByHash", params: [hash] }), "broadcast").to.not.be
      .null;
    await chain.provider.request({ method: "evm_mine", params: [] });
    await chain.provider.request({ method: "evm_setAutomine", params: [true] });

    const answer = await restart(epoch);
    expect(answer).to.include({ ok: true, status: "already-on-chain" });
    const events = await submitted(epoch);
    expect(events, "exactly one SubmitReport").to.have.length(1);
    expect(events[0].transactionHash).to.equal(hash);
    expect(await nonce(), "one transaction from the keeper").to.equal(nonce0 + 1);
    const after = stored(epoch);
    expect(after.intent).to.deep.include({ status: "done", outcome: "mined", txHash: hash });
    expect(after.txs, "nothing signed again").to.deep.equal([hash]);
    expect(after.report).to.equal("onchain");
  });

  it("killed after storing the signed bytes, before the broadcast: the restart sends those bytes, once", async () => {
    const e = epoch + 1;
    const nonce0 = await nonce();
    const { hash } = await crash(e, "before-broadcast");
    expect(stored(e).intent?.status).to.equal("sent");
    expect(await chain.provider.request({ method: "eth_getTransactionByHash", params: [hash] }), "never sent").to.be
      .null;
    expect(await nonce()).to.equal(nonce0);

    // Started again in this process (the command's path: resume, then submit).
    const restarted = await startKeeper(config, { api: false, pollMs: 50 });
    try {
      expect((await restarted.sender.resume()).map((o) => o.status)).to.deep.equal(["mined"]);
      expect((await restarted.relay.submitEpoch(BigInt(e))).status).to.equal("already-on-chain");
    } finally {
      await restarted.close();
    }
    const events = await submitted(e);
    expect(events, "exactly one SubmitReport").to.have.length(1);
    expect(events[0].transactionHash, "the bytes signed before the crash").to.equal(hash);
    expect(await nonce()).to.equal(nonce0 + 1);
    const after = stored(e);
    expect(after.intent).to.deep.include({ status: "done", outcome: "mined", txHash: hash });
    expect(after.txs).to.deep.equal([hash]);
  });
});
