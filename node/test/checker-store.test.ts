import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";

import { SCHEMA_VERSION, openStore, type CheckerStore, type SampleInput } from "../src/checker/store";
import { observeNode } from "../src/scoring";

const CHECKER = "0x00000000000000000000000000000000000c0ffe";

describe("checker store", () => {
  let dir: string;
  let file: string;
  const open: CheckerStore[] = [];
  const openAt = (f = file) => {
    const s = openStore(f);
    open.push(s);
    return s;
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-store-"));
    file = path.join(dir, "sub", "checker.sqlite");
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const T = 1_700_000_000_000; // Unix ms
  /** Epoch 3's window: 5 minutes from T, heartbeats each minute (4 expected: one of tolerance). */
  const W = { from: T / 1000, to: T / 1000 + 300, heartbeatSeconds: 60 };
  /** Epoch 4's, in the tests that have one: 6 minutes, heartbeats each 2 (2 expected). */
  const W4 = { ...W, to: T / 1000 + 360, heartbeatSeconds: 120 };
  /** Node 5's samples of epoch 3: what `observationsFor` sums up. */
  const epochSamples: SampleInput[] = [
    // 3 of 4 heartbeats ok: 7,500 bps
    { epoch: 3, nodeId: 5, kind: "heartbeat", at: T, ok: true, latencyMs: 2 },
    { epoch: 3, nodeId: 5, kind: "heartbeat", at: T + 60_000, ok: false, latencyMs: 10_000, errorCode: "timeout" },
    { epoch: 3, nodeId: 5, kind: "heartbeat", at: T + 120_000, ok: true, latencyMs: 3 },
    { epoch: 3, nodeId: 5, kind: "heartbeat", at: T + 180_000, ok: true, latencyMs: 4 },
    // bandwidth 100, 300.7 and a failed test (0): median 100
    { epoch: 3, nodeId: 5, kind: "bandwidth", at: T + 1_000, ok: true, latencyMs: 90, mbps: 300.7 },
    { epoch: 3, nodeId: 5, kind: "bandwidth", at: T + 2_000, ok: true, latencyMs: 90, mbps: 100 },
    { epoch: 3, nodeId: 5, kind: "bandwidth", at: T + 3_000, ok: false, latencyMs: 5, mbps: 0, errorCode: "refused" },
    // n = 1024: 2 * 1024^3 flop in 1 s = 2,147 MFLOP/s; in 0.5 s 4,294; a failed one 0: median 2,147
    {
      epoch: 3,
      nodeId: 5,
      kind: "challenge",
      at: T + 4_000,
      ok: true,
      latencyMs: 1_000,
      n: 1024,
      elapsedMs: 1_000,
      passed: true,
    },
    {
      epoch: 3,
      nodeId: 5,
      kind: "challenge",
      at: T + 5_000,
      ok: true,
      latencyMs: 500,
      n: 1024,
      elapsedMs: 500,
      passed: true,
    },
    {
      epoch: 3,
      nodeId: 5,
      kind: "challenge",
      at: T + 6_000,
      ok: false,
      latencyMs: 80,
      n: 1024,
      elapsedMs: 80,
      passed: false,
    },
    // hardware: 2 mismatches of 3 verdicts (and one probe without an answer, left out): a mismatch
    { epoch: 3, nodeId: 5, kind: "hardware", at: T + 7_000, ok: true, latencyMs: 4, match: true },
    {
      epoch: 3,
      nodeId: 5,
      kind: "hardware",
      at: T + 8_000,
      ok: true,
      latencyMs: 4,
      match: false,
      evidence: { reasons: ["4 GPUs, registered 8"] },
    },
    { epoch: 3, nodeId: 5, kind: "hardware", at: T + 9_000, ok: false, latencyMs: 4, match: false },
    {
      epoch: 3,
      nodeId: 5,
      kind: "hardware",
      at: T + 9_500,
      ok: false,
      latencyMs: 4,
      match: null,
      errorCode: "timeout",
    },
  ];

  it("creates a WAL database with a versioned schema, and opening again changes nothing", () => {
    const s = openAt();
    expect(s.journalMode, "WAL").to.equal("wal");
    expect(s.schemaVersion, "version").to.equal(SCHEMA_VERSION);
    s.recordSample(epochSamples[0]);
    s.close();
    const again = openAt();
    expect(again.schemaVersion, "same version").to.equal(SCHEMA_VERSION);
    expect(again.samplesOf(3, 5), "same samples").to.have.length(1);
  });

  it("keeps every sample, the latest of each kind and the evidence across a restart", () => {
    const s = openAt();
    for (const x of epochSamples) s.recordSample(x);
    const before = s.samplesOf(3, 5);
    const observed = s.observationsFor(3, [5], CHECKER, W);
    s.close(); // a restart: close, then open the same file
    const r = openAt();
    expect(r.samplesOf(3, 5), "samples").to.deep.equal(before);
    expect(before.find((x) => x.kind === "hardware" && x.evidence)?.evidence, "evidence").to.deep.equal({
      reasons: ["4 GPUs, registered 8"],
    });
    const latest = r.latestByNode().get(5)!;
    expect(latest.heartbeat?.at, "latest heartbeat").to.equal(T + 180_000);
    expect(latest.hardware?.match, "latest hardware").to.equal(null);
    expect(r.lastRun(5, "challenge"), "last challenge").to.equal(T + 6_000);
    expect(r.lastRun(6, "challenge"), "never probed").to.equal(undefined);
    expect(r.observationsFor(3, [5], CHECKER, W), "same figures after the restart").to.deep.equal(observed);
  });

  it("sums an epoch's samples up into the scoring module's observation", () => {
    const s = openAt();
    for (const x of epochSamples) s.recordSample(x);
    s.recordSample({ epoch: 4, nodeId: 5, kind: "heartbeat", at: T + 9e6, ok: false, latencyMs: 1 }); // another epoch
    const [o] = s.observationsFor(3, [{ id: 5 }], CHECKER, W);
    expect(o, "figures").to.deep.include({
      checker: CHECKER,
      nodeId: 5,
      uptimeBps: 7_500,
      bandwidthMbps: 100,
      hardwareScore: 2_147,
      hardwareMismatch: true,
    });
    expect(o.evidence, "evidence is observeNode's hash of the samples").to.equal(
      observeNode(CHECKER, 5, s.nodeSamples(3, 5), W).evidence,
    );
    expect(s.nodeSamples(3, 5).hardware, "no-answer hardware probes left out").to.have.length(3);
  });

  it("gives the same evidence whatever order the samples were recorded in", () => {
    const a = openAt(path.join(dir, "a.sqlite"));
    const b = openAt(path.join(dir, "b.sqlite"));
    for (const x of epochSamples) a.recordSample(x);
    for (const x of [...epochSamples].reverse()) b.recordSample(x);
    expect(b.observationsFor(3, [5], CHECKER, W), "same observation").to.deep.equal(
      a.observationsFor(3, [5], CHECKER, W),
    );
  });

  it("leaves out nodes it has no sample of in the epoch", () => {
    const s = openAt();
    s.recordSample(epochSamples[0]);
    const obs = s.observationsFor(3, [5, 6, 7], CHECKER, W);
    expect(
      obs.map((o) => o.nodeId),
      "only node 5",
    ).to.deep.equal([5]);
    expect(s.observationsFor(2, [5], CHECKER, W), "nothing in epoch 2").to.deep.equal([]);
  });

  it("with watchedFromStart, leaves out nodes it was not probing when the epoch began (no downtime)", () => {
    const s = openAt();
    // Node 5 listed midway through epoch 3 (registered, or the checker started): every heartbeat from
    // then on failed (its agent still starting). Without the rule it reads 0% uptime for the epoch.
    for (const at of [T + 40_000, T + 45_000, T + 50_000]) {
      s.recordSample({ epoch: 3, nodeId: 5, kind: "heartbeat", at, ok: false, latencyMs: 1, errorCode: "refused" });
    }
    expect(s.observationsFor(3, [5], CHECKER, W)[0].uptimeBps, "without the rule: 0%").to.equal(0);
    expect(s.watchedFromStart(3, 5), "not watched when epoch 3 began").to.equal(false);
    expect(s.observationsFor(3, [5], CHECKER, W, { watchedFromStart: true }), "no observation").to.deep.equal([]);
    // Probed (down, even) before epoch 4 began: epoch 4 is scored, its downtime counts.
    s.recordSample({ epoch: 4, nodeId: 5, kind: "heartbeat", at: T + 60_000, ok: false, latencyMs: 1 });
    s.recordSample({ epoch: 4, nodeId: 5, kind: "heartbeat", at: T + 65_000, ok: true, latencyMs: 1 });
    expect(s.watchedFromStart(4, 5)).to.equal(true);
    expect(s.observationsFor(4, [5], CHECKER, W4, { watchedFromStart: true })).to.deep.equal([
      observeNode(CHECKER, 5, s.nodeSamples(4, 5), W4),
    ]);
    expect(s.observationsFor(4, [5], CHECKER, W4, { watchedFromStart: true })[0].uptimeBps).to.equal(5_000);
    // Only heartbeats say it was watched: another probe of the epoch before does not; epoch 0 never is.
    s.recordSample({ epoch: 0, nodeId: 6, kind: "bandwidth", at: T, ok: true, latencyMs: 1, mbps: 10 });
    s.recordSample({ epoch: 1, nodeId: 6, kind: "heartbeat", at: T + 60_000, ok: true, latencyMs: 1 });
    expect(s.watchedFromStart(1, 6), "a bandwidth test of epoch 0 only").to.equal(false);
    expect(s.watchedFromStart(0, 6), "epoch 0").to.equal(false);
    expect(s.watchedFromStart(2, 6)).to.equal(true);
  });

  it("filters and limits samples, counts them per kind, and prunes old epochs but not the latest", () => {
    const s = openAt();
    for (const x of epochSamples) s.recordSample(x);
    expect(
      s.samplesOf(3, 5, { kind: "heartbeat", limit: 2 }).map((x) => x.at),
      "the 2 most recent, oldest first",
    ).to.deep.equal([T + 120_000, T + 180_000]);
    expect(s.countsOf(3, 5).heartbeat, "counts").to.deep.equal({ total: 4, ok: 3 });
    expect(s.countsOf(3, 5).challenge, "counts").to.deep.equal({ total: 3, ok: 2 });
    s.recordSample({ epoch: 9, nodeId: 6, kind: "heartbeat", at: T, ok: true, latencyMs: 1 });
    const deleted = s.prune(9);
    expect(deleted, "all of node 5's but its 4 latest").to.equal(epochSamples.length - 4);
    expect(s.epochs(), "epochs").to.deep.equal([
      { epoch: 3, samples: 4 },
      { epoch: 9, samples: 1 },
    ]);
  });

  it("records a probe result in columns and evidence", () => {
    const s = openAt(":memory:");
    s.recordResult(1, 2, T, {
      kind: "challenge",
      ok: false,
      latencyMs: 12,
      n: 64,
      seed: "0x" + "ab".repeat(16),
      elapsedMs: 12,
      passed: false,
      errorCode: "bad-answer",
      error: "product is wrong",
      kernel: "cpu",
    });
    const [x] = s.samplesOf(1, 2);
    expect(x, "sample").to.deep.include({ n: 64, elapsedMs: 12, passed: false, errorCode: "bad-answer", ok: false });
    expect((x.evidence as { seed: string }).seed, "seed").to.equal("0x" + "ab".repeat(16));
  });

  it("keeps every committed sample when the process is killed without closing the database", function () {
    this.timeout(20_000);
    const child = spawnSync(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", path.join(__dirname, "helpers", "checkerCrashChild.ts"), file, "300"],
      { cwd: path.join(__dirname, ".."), encoding: "utf8" },
    );
    expect(child.signal, `killed (${child.stderr})`).to.equal("SIGKILL");
    const s = openAt();
    expect(s.samplesOf(0, 1), "all 300 samples").to.have.length(300);
    expect(s.lastRun(1, "heartbeat"), "and the latest").to.equal(299);
  });

  it("refuses a database written by a newer version", () => {
    openAt().close();
    const db = new Database(file);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION + 1));
    db.close();
    expect(() => openAt(), "newer").to.throw(/newer than this checker's/);
  });
});
