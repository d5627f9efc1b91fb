/**
 * Checkers and keeper agree on epochs from chain time (issue #17 item 5), on a real local chain whose
 * clock runs seconds behind the wall clock (as the devnet's did: 1.5-2 s). The checker's wall time is
 * injected (a ManualClock under the chain clock), so the instant compared is exact and no timer races.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { ChainClock, epochAt, epochStart, providerBlocks } from "../src/chain/chainClock";
import { rpcProvider } from "../src/chain/contracts";
import { readEpochClock } from "../src/chain/epochContext";
import { startChecker } from "../src/checker/run";
import { ManualClock } from "../src/checker/scheduler";
import { EXIT, main } from "../src/cli";
import { loadConfig } from "../src/config";
import { ReportRelay } from "../src/keeper/reports";
import type { KeeperStore } from "../src/keeper/store";
import type { TxSender } from "../src/keeper/tx";
import { PROVIDER, SPEC, freePort, honestAgent, serve, type FakeServer } from "./helpers/checkerFakes";
import { startLocalChain, type LocalChain } from "./helpers/localChain";
import { getJson, until } from "./helpers/support";
import { clearKaisarEnv } from "./helpers/cli";

const EPOCH_SECONDS = 10;
/** How far behind the wall clock the chain starts (it may then move up to an epoch less behind). */
const BEHIND_SECONDS = EPOCH_SECONDS + 5;

describe("checkers and keeper agree on epochs from chain time (chain behind the wall clock)", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let agent: FakeServer;
  let dir: string;
  const saved = { ...process.env };

  before(async () => {
    // Hardhat's clock cannot be set back: when this file loads Hardhat, it starts in the past (without,
    // startLocalChain waits until Hardhat was loaded BEHIND_SECONDS ago).
    process.env.KAISAR_CHAIN_INITIAL_DATE ??= "2020-01-01T00:00:00Z";
    chain = await startLocalChain({ epochLengthSeconds: EPOCH_SECONDS, behindWallSeconds: BEHIND_SECONDS });
    clearKaisarEnv();
    process.env.KAISAR_DEPLOYMENT = chain.deploymentFile;
    process.env.KAISAR_PRIVATE_KEY = chain.account(9).privateKey;
    agent = await serve(honestAgent({ nodeId: 1 }));
    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-chainclock-"));
  });

  after(async () => {
    process.env = { ...saved };
    await agent?.close();
    await chain?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const writeConfig = async (name: string, extra: Record<string, unknown> = {}) => {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        role: "checker",
        chainId: chain.chainId,
        rpcUrl: chain.rpcUrl,
        listen: { host: "127.0.0.1", port: await freePort() },
        dataDir: path.join(dir, name),
        // Every probe kind's first run falls within the first second; small challenges and bandwidth tests.
        schedule: { heartbeat: "1s", capacity: "1d", hardware: "1d", probeTimeout: "2s" },
        challenge: { n: 64, timeout: "5s" },
        bandwidth: { bytes: 4096 },
        probe: { concurrency: 4, jitterPercent: 0 },
        nodes: [{ id: 1, url: agent.url, provider: PROVIDER.address, spec: SPEC }],
        exchange: { settle: "3s" },
        ...extra,
      }),
    );
    return file;
  };

  it("the checker's epoch, probe stamps included, is the keeper's and the oracle's epochAt(latest block)", async () => {
    const c = chain.contracts;
    const schedule = await readEpochClock(c);
    // The latest block one second before an epoch ends, on the chain's clock (the chain stays behind the wall).
    const latest = await chain.now();
    const e = epochAt(schedule, latest);
    const last = epochStart(schedule, e + 1) - 1;
    await chain.provider.request({ method: "evm_setNextBlockTimestamp", params: [last] });
    await chain.provider.request({ method: "evm_mine", params: [] });
    expect(await chain.now()).to.equal(last);
    const oracleEpoch = Number(await c.ReportOracle.epochAt(last));
    expect(oracleEpoch, "oracle").to.equal(e);
    // By the wall clock, epoch e has ended already: what the checkers went by before.
    const wallNow = Date.now() / 1000;
    expect(
      epochAt(schedule, wallNow),
      `the wall clock's epoch (wall ${wallNow}, chain ${last}, epoch ${e})`,
    ).to.be.greaterThan(e);

    const wall = new ManualClock(1_000_000);
    const provider = rpcProvider(chain.rpcUrl, chain.chainId);
    const clock = new ChainClock(providerBlocks(provider), wall);
    await clock.refresh();
    const config = { ...loadConfig("checker", { file: await writeConfig("in-process") }), epoch: schedule };
    const checker = await startChecker(config, { chainClock: clock });
    try {
      const health = (await getJson(`${checker.url}/health`)).body;
      expect(health.epoch, "checker /health").to.equal(e);
      expect(checker.epochOf(clock.now()), "checker").to.equal(e);

      const relay = new ReportRelay({
        contracts: c,
        chainId: chain.chainId,
        checkers: [],
        store: {} as KeeperStore, // view() reads the chain only
        sender: { onDone: () => {} } as unknown as TxSender,
      });
      expect(Number((await relay.view()).currentEpoch), "keeper").to.equal(e);

      // A heartbeat due within the next second of wall time is stamped with chain time: in epoch e.
      await wall.advance(999);
      const at = await until(() => checker.store.lastRun(1, "heartbeat"), 30_000);
      expect(at, "stamped on the chain's clock").to.be.within(last * 1000, last * 1000 + 999);
      expect(checker.store.samplesOf(e, 1, { kind: "heartbeat" }).length, "sample in epoch e").to.equal(1);
      // One more second on the checker's clock: epoch e has ended on its chain time, while the chain has
      // no new block and the keeper still says e (the block interval, part of the tolerance).
      await wall.advance(1);
      expect(checker.epochOf(clock.now()), "an epoch later on chain time").to.equal(e + 1);
    } finally {
      await checker.stop();
      provider.destroy();
    }
  });

  it("`kaisar checker run` refuses exchange.settle not above the chain clock's tolerance, naming the fix", async () => {
    let err = "";
    const io = { out: () => {}, err: (t: string) => void (err += t) };
    const code = await main(
      ["node", "kaisar", "checker", "run", "--config", await writeConfig("refused", { exchange: { settle: "2s" } })],
      io,
      { shutdown: () => new Promise(() => {}) },
    );
    expect(code, err).to.equal(EXIT.config);
    expect(err).to.include("exchange.settle").and.include("KAISAR_EXCHANGE_SETTLE").and.include("tolerance of 2.5s");
    expect(err).to.include('"settle": "3s"');
  });
});
