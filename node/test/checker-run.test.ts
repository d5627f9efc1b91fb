import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { EXIT, main } from "../src/cli";
import { CONTRACTS, ConfigError, loadConfig } from "../src/config";
import { epochClock, startChecker } from "../src/checker/run";
import { openStore } from "../src/checker/store";
import { CHAIN_ID, PROVIDER, SPEC, freePort, honestAgent, serve, sleep, type FakeServer } from "./helpers/checkerFakes";
import { getJson } from "./helpers/support";
import { clearKaisarEnv } from "./helpers/cli";

const KEY = "0x" + "ab".repeat(32);

describe("kaisar checker run", () => {
  let dir: string;
  let agent: FakeServer;
  let port: number;
  const saved = { ...process.env };

  /** A checker config probing node 1 (the fake agent) fast, on a free port, with a database in `dir`. */
  const writeConfig = (extra: Record<string, unknown> = {}) => {
    const file = path.join(dir, "kaisar.checker.json");
    const config = {
      role: "checker",
      chainId: CHAIN_ID,
      rpcUrl: "http://127.0.0.1:8545",
      listen: { host: "127.0.0.1", port },
      schedule: { heartbeat: "100ms", capacity: "300ms", hardware: "300ms", probeTimeout: "2s" },
      challenge: { n: 64, timeout: "5s" },
      bandwidth: { bytes: 4096 },
      probe: { concurrency: 4, jitterPercent: 0 },
      database: "db/checker.sqlite",
      epoch: { genesis: 0, length: "1d" },
      nodes: [{ id: 1, url: agent.url, provider: PROVIDER.address, spec: SPEC }],
      ...extra,
    };
    writeFileSync(file, JSON.stringify(config));
    return file;
  };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-checker-"));
    clearKaisarEnv();
    const deployment = path.join(dir, "deployed_addresses.json");
    const addresses = CONTRACTS.map((name, i) => [`Kaisar#${name}`, "0x" + (i + 1).toString(16).padStart(40, "0")]);
    writeFileSync(deployment, JSON.stringify(Object.fromEntries(addresses)));
    process.env.KAISAR_DEPLOYMENT = deployment;
    process.env.KAISAR_PRIVATE_KEY = KEY;
    agent = await serve(honestAgent({ nodeId: 1 }));
    port = await freePort();
  });

  afterEach(async () => {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
    process.env = { ...saved };
  });

  it("reads the probe settings, with the database in dataDir by default", () => {
    const file = writeConfig({ database: "" });
    const config = loadConfig("checker", { file });
    expect(config.database, "default database").to.equal(path.join(dir, ".kaisar", "checker", "checker.sqlite"));
    expect(config.challenge, "challenge").to.deep.equal({ n: 64, timeout: 5_000 });
    expect(config.probe, "probe").to.deep.equal({ concurrency: 4, jitterPercent: 0 });
    expect(config.epoch, "epoch").to.deep.equal({ genesis: 0, length: 86_400_000 });
    expect(config.nodes[0], "node").to.deep.equal({ id: 1, url: agent.url, provider: PROVIDER.address, spec: SPEC });
  });

  it("names the setting, the node and the field of a bad node list", () => {
    const nodes = [
      { id: 3, url: "http://10.0.0.3:8550", provider: "0x123", spec: SPEC },
      { id: 3, url: "http://10.0.0.4:8550", provider: PROVIDER.address, spec: SPEC },
    ];
    const bad = (extra: Record<string, unknown>) => {
      try {
        loadConfig("checker", { file: writeConfig(extra) });
      } catch (e) {
        if (e instanceof ConfigError) return e.problems;
      }
      throw new Error("no ConfigError");
    };
    const [p] = bad({ nodes });
    expect(p.key, "key").to.equal("nodes");
    expect(p.env, "env").to.equal("KAISAR_NODES");
    expect(p.problem, "which node and field").to.include("item 1 (node 3): provider").and.include("is not 0x and 40");
    expect(bad({ nodes: [nodes[1], nodes[1]] })[0].problem, "duplicate").to.include("node 3 is listed twice");
    expect(bad({ nodes: [{ ...nodes[1], spec: { ...SPEC, gpus: 2 } }] })[0].problem, "unknown field").to.include(
      "spec.gpus is not a field",
    );
    const keys = bad({ probe: { concurrency: 0, jitterPercent: 90 }, challenge: { n: 64, timeout: "soon" } }).map(
      (x) => x.key,
    );
    expect(keys, "each setting named").to.deep.equal(["challenge.timeout", "probe.concurrency", "probe.jitterPercent"]);
    process.env.KAISAR_NODES = "[{";
    expect(bad({})[0].problem, "env JSON").to.include("(from KAISAR_NODES) is not a JSON list");
  });

  it("computes epochs as the ReportOracle does", () => {
    const epochOf = epochClock(1_000, 60_000);
    expect([0, 999_999, 1_000_000, 1_059_999, 1_060_000].map(epochOf), "epochs").to.deep.equal([0, 0, 0, 0, 1]);
  });

  it("probes the configured nodes, serves what it saw, and keeps it across a restart", async function () {
    this.timeout(10_000);
    const config = loadConfig("checker", { file: writeConfig() });
    const logs: Record<string, unknown>[] = [];
    const checker = await startChecker(config, { log: (e) => logs.push(e), version: "test" });
    try {
      let nodes: { status: string; latest: Record<string, Record<string, unknown> | null> }[] = [];
      // All four kinds of probe start together and finish in any order on a busy machine: wait for each.
      for (let i = 0; i < 100; i++) {
        await sleep(50);
        nodes = ((await getJson(`${checker.url}/nodes`)).body as { nodes: typeof nodes }).nodes;
        const latest = nodes[0]?.latest;
        if (latest?.heartbeat && latest.challenge && latest.hardware && latest.bandwidth) break;
      }
      const latest = nodes[0].latest;
      expect(nodes[0].status, "up").to.equal("up");
      expect(latest.challenge?.passed, "challenge").to.equal(true);
      expect(latest.hardware?.match, `hardware ${JSON.stringify(latest.hardware)}`).to.equal(true);
      expect(latest.bandwidth?.mbps, "bandwidth").to.be.greaterThan(0);
      // Three heartbeats at least (100 ms apart), however slow the machine is today.
      const epochNow = checker.epochOf(Date.now());
      for (let i = 0; i < 100 && checker.store.samplesOf(epochNow, 1, { kind: "heartbeat" }).length < 3; i++) {
        await sleep(50);
      }
    } finally {
      await checker.stop();
    }
    expect(logs[0], "listen log").to.deep.include({ at: "Checker#listen", nodes: 1, checker: checker.checker });

    const epoch = checker.epochOf(Date.now());
    const store = openStore(config.database);
    try {
      const beats = store.samplesOf(epoch, 1, { kind: "heartbeat" });
      expect(beats.length, "heartbeats kept").to.be.at.least(3);
      expect(
        beats.every((b) => b.ok),
        "all ok (none recorded as failed by the shutdown)",
      ).to.be.true;
      // Over the seconds its heartbeats span, at their interval (the epoch itself is a day long).
      const from = Math.floor(beats[0].at / 1000);
      const to = Math.floor(beats[beats.length - 1].at / 1000) + 1;
      const expected = Math.max(1, Math.floor((to - from) / 0.1));
      const window = { from, to, heartbeatSeconds: (to - from) / Math.min(expected, beats.length) };
      const [o] = store.observationsFor(epoch, config.nodes, checker.checker, window);
      expect(o, "observation").to.deep.include({ uptimeBps: 10_000, hardwareMismatch: false });
      expect(o.hardwareScore, "hardware score").to.be.greaterThan(0);
    } finally {
      store.close();
    }
  });

  it("runs from the command line until told to stop (exit 0), and exits 78 on a bad config", async function () {
    this.timeout(10_000);
    const file = writeConfig();
    let out = "";
    let release: (signal: string) => void = () => {};
    const shutdown = () => new Promise<string>((resolve) => (release = resolve));
    const running = main(
      ["node", "kaisar", "checker", "run", "--config", file],
      { out: (t) => (out += t), err: (t) => (out += t) },
      {
        shutdown,
      },
    );
    let health: Record<string, unknown> = {};
    for (let i = 0; i < 100 && !health.ok; i++) {
      await sleep(50);
      health = await getJson(`http://127.0.0.1:${port}/health`).then(
        (r) => r.body,
        () => ({}),
      );
    }
    expect(health, "health").to.deep.include({ ok: true, role: "checker", nodes: 1 });
    release("SIGTERM");
    expect(await running, "exit code").to.equal(EXIT.ok);
    const lines = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { at: string });
    // No chain answers at rpcUrl: a static node list still runs, probe-only, and says so first.
    expect(lines[0], "first log line").to.deep.include({ at: "Checker#chain", ok: false, exchange: false });
    expect(lines[1].at, "then").to.equal("Checker#listen");
    expect(lines[lines.length - 1], "last").to.deep.include({ at: "Checker#shutdown", signal: "SIGTERM" });

    let err = "";
    const bad = writeConfig({ probe: { concurrency: "many" } });
    const code = await main(["node", "kaisar", "checker", "run", "--config", bad], {
      out: () => {},
      err: (t) => (err += t),
    });
    expect(code, "config error").to.equal(EXIT.config);
    expect(err, "names the setting").to.include("probe.concurrency (env KAISAR_PROBE_CONCURRENCY)");
  });
});
