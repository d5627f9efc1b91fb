import { expect } from "chai";

import {
  checkHardwareReport,
  gpuModelMatchesClass,
  probeBandwidth,
  probeChallenge,
  probeHardware,
  probeHeartbeat,
  transferMbps,
} from "../src/checker";
import { ProbeScheduler } from "../src/checker/scheduler";
import type { CheckerNode } from "../src/config";
import { newChallenge, type ChallengeAnswer } from "../src/popw";
import {
  CHAIN_ID,
  PROVIDER,
  STRANGER,
  endlessAgent,
  freePort,
  garbageAgent,
  hangingAgent,
  honestAgent,
  nodeAt,
  report,
  serve,
  signedReport,
  trickleAgent,
  type FakeServer,
} from "./helpers/checkerFakes";

describe("checker probes", () => {
  const servers: FakeServer[] = [];
  const start = async (handler: Parameters<typeof serve>[0]) => {
    const s = await serve(handler);
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  describe("heartbeat", () => {
    it("succeeds against a healthy agent", async () => {
      const s = await start(honestAgent({ nodeId: 7 }));
      const r = await probeHeartbeat(nodeAt(7, s.url), { timeoutMs: 2_000 });
      expect(r.ok, r.error).to.be.true;
      expect(r.version, "version").to.equal("test");
      expect(r.latencyMs, "latency").to.be.greaterThan(0).and.lessThan(2_000);
    });

    it("fails when the agent answers as another node or for another provider", async () => {
      const s = await start(honestAgent({ nodeId: 8 }));
      const r = await probeHeartbeat(nodeAt(7, s.url), { timeoutMs: 2_000 });
      expect(r.ok, "ok").to.be.false;
      expect(r.errorCode, "code").to.equal("bad-answer");
      expect(r.error, "error").to.include("answers as node 8");
      const other = await probeHeartbeat({ ...nodeAt(8, s.url), provider: STRANGER.address }, { timeoutMs: 2_000 });
      expect(other.error, "provider").to.include("answers for provider");
    });

    it("fails fast at its deadline against an agent that never answers", async () => {
      const s = await start(hangingAgent);
      const t0 = performance.now();
      const r = await probeHeartbeat(nodeAt(1, s.url), { timeoutMs: 200 });
      const ms = performance.now() - t0;
      expect(r.ok, "ok").to.be.false;
      expect(r.errorCode, "code").to.equal("timeout");
      expect(ms, "time taken").to.be.within(190, 600);
    });

    it("fails at its deadline against a slow-loris answer (headers, then a byte at a time)", async () => {
      const s = await start(trickleAgent);
      const r = await probeHeartbeat(nodeAt(1, s.url), { timeoutMs: 300 });
      expect(r.errorCode, "code").to.equal("timeout");
      expect(r.latencyMs, "latency").to.be.within(290, 800);
    });

    it("fails on garbage JSON", async () => {
      const s = await start(garbageAgent);
      const r = await probeHeartbeat(nodeAt(1, s.url), { timeoutMs: 2_000 });
      expect(r.ok, "ok").to.be.false;
      expect(r.errorCode, "code").to.equal("bad-json");
    });

    it("stops reading an endless stream at the size cap", async () => {
      const s = await start(endlessAgent);
      const t0 = performance.now();
      const r = await probeHeartbeat(nodeAt(1, s.url), { timeoutMs: 5_000 });
      expect(r.errorCode, "code").to.equal("too-large");
      expect(performance.now() - t0, "fails fast, long before the deadline").to.be.lessThan(1_000);
    });

    it("refuses a body whose declared length is over the cap, without reading it", async () => {
      const s = await start((_req, res) => {
        res.writeHead(200, { "content-length": 10_000_000 });
        res.write("{");
      });
      const r = await probeHeartbeat(nodeAt(1, s.url), { timeoutMs: 2_000 });
      expect(r.errorCode, "code").to.equal("too-large");
      expect(r.latencyMs, "at once").to.be.lessThan(1_000);
    });

    it("reports a refused connection, an HTTP error and a bad URL", async () => {
      const port = await freePort();
      const refused = await probeHeartbeat(nodeAt(1, `http://127.0.0.1:${port}`), { timeoutMs: 2_000 });
      expect(refused.errorCode, "refused").to.equal("refused");
      const s = await start((_req, res) => {
        res.writeHead(503);
        res.end();
      });
      expect((await probeHeartbeat(nodeAt(1, s.url), { timeoutMs: 2_000 })).errorCode, "503").to.equal("status");
      expect((await probeHeartbeat(nodeAt(1, "ftp://x"), { timeoutMs: 2_000 })).errorCode, "ftp").to.equal("bad-url");
    });

    it("aborts when the checker stops", async () => {
      const s = await start(hangingAgent);
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 50);
      const r = await probeHeartbeat(nodeAt(1, s.url), { timeoutMs: 5_000, signal: abort.signal });
      expect(r.errorCode, "code").to.equal("aborted");
      expect(r.latencyMs, "at once").to.be.lessThan(1_000);
    });

    it("lets 20 healthy nodes finish while 5 hang, through a pool smaller than the nodes", async () => {
      const healthy = await Promise.all(Array.from({ length: 20 }, (_, i) => start(honestAgent({ nodeId: i + 1 }))));
      const hanging = await Promise.all(Array.from({ length: 5 }, () => start(hangingAgent)));
      const nodes = [...hanging.map((s, i) => nodeAt(100 + i, s.url)), ...healthy.map((s, i) => nodeAt(i + 1, s.url))];
      const timeoutMs = 1_500;
      const t0 = performance.now();
      const healthyDone: number[] = [];
      const failed: number[] = [];
      const scheduler = new ProbeScheduler<CheckerNode>({
        intervals: { heartbeat: 60_000 },
        concurrency: 8, // the 5 hanging nodes take 5 slots: the 20 healthy share the other 3
        startSpreadMs: 0,
        run: async (node) => {
          const r = await probeHeartbeat(node, { timeoutMs });
          (r.ok ? healthyDone : failed).push(performance.now() - t0);
        },
      });
      scheduler.setNodes(nodes);
      scheduler.start();
      while (healthyDone.length + failed.length < 25 && performance.now() - t0 < 5_000) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await scheduler.stop();
      expect(healthyDone.length, "healthy nodes probed").to.equal(20);
      expect(Math.max(...healthyDone), "the healthy all finish before the hanging time out").to.be.lessThan(timeoutMs);
      expect(failed.length, "hanging nodes").to.equal(5);
      expect(Math.min(...failed), "the hanging fail at their deadline").to.be.at.least(timeoutMs - 10);
      expect(Math.max(...failed), "and not much later").to.be.lessThan(timeoutMs + 1_000);
    });
  });

  describe("bandwidth", () => {
    it("measures exactly the bytes asked for", async () => {
      const s = await start(honestAgent({ nodeId: 1 }));
      const r = await probeBandwidth(nodeAt(1, s.url), { timeoutMs: 5_000, bytes: 2 * 1024 * 1024 });
      expect(r.ok, r.error).to.be.true;
      expect(r.bytes, "bytes").to.equal(2 * 1024 * 1024);
      expect(r.mbps, "Mbps").to.be.greaterThan(1);
    });

    it("fails on a byte more (size cap) or a byte less", async () => {
      const more = await start((_req, res) => res.end(Buffer.alloc(1025)));
      const less = await start((_req, res) => res.end(Buffer.alloc(1023)));
      const a = await probeBandwidth(nodeAt(1, more.url), { timeoutMs: 2_000, bytes: 1024 });
      const b = await probeBandwidth(nodeAt(1, less.url), { timeoutMs: 2_000, bytes: 1024 });
      expect([a.errorCode, b.errorCode], "codes").to.deep.equal(["too-large", "bad-answer"]);
      expect([a.mbps, b.mbps], "a failed test measures 0").to.deep.equal([0, 0]);
    });

    it("computes Mbps over the body's transfer", () => {
      expect(transferMbps(1_000_000, { startedAt: 0, headersAt: 50, endedAt: 130 }), "8 Mbit in 80 ms").to.equal(100);
      const short = transferMbps(1_000, { startedAt: 0, headersAt: 10, endedAt: 10.5 });
      expect(short, "too short to time: over the whole exchange, 8 kbit in 10.5 ms").to.equal(0.762);
    });
  });

  describe("challenge", () => {
    it("passes a real answer, timed by the checker, not by the agent", async () => {
      const s = await start(honestAgent({ nodeId: 1, challengeDelayMs: 120, answer: (a) => ({ ...a, elapsedMs: 1 }) }));
      const challenge = newChallenge(32);
      const r = await probeChallenge(nodeAt(1, s.url), { timeoutMs: 5_000, n: 32, challenge });
      expect(r.passed, r.error).to.be.true;
      expect(r.ok, "ok").to.be.true;
      expect(r.seed, "seed").to.equal(challenge.seed);
      expect(r.agentElapsedMs, "the agent's claim").to.equal(1);
      expect(r.elapsedMs, "the checker's measure").to.be.at.least(115);
      expect(r.kernel, "kernel").to.equal("cpu-ikj");
    });

    it("fails a tampered product, a wrong seed and a short product", async () => {
      const tamper = (a: ChallengeAnswer): ChallengeAnswer => {
        const c = Buffer.from(a.c, "base64");
        c.writeUInt32LE(c.readUInt32LE(40) + 1, 40);
        return { ...a, c: c.toString("base64") };
      };
      const cases: [string, (a: ChallengeAnswer) => ChallengeAnswer, string][] = [
        ["tampered", tamper, "product is wrong"],
        ["wrong seed", (a) => ({ ...a, seed: "0x" + "1".repeat(32) }), "answer is for seed"],
        ["short", (a) => ({ ...a, c: Buffer.from(a.c, "base64").subarray(4).toString("base64") }), "does not hold"],
      ];
      for (const [what, answer, reason] of cases) {
        const s = await start(honestAgent({ nodeId: 1, answer }));
        const r = await probeChallenge(nodeAt(1, s.url), { timeoutMs: 5_000, n: 16 });
        expect(r.passed, what).to.be.false;
        expect(r.errorCode, what).to.equal("bad-answer");
        expect(r.error, what).to.include(reason);
        expect(r.elapsedMs, `${what}: still timed`).to.be.greaterThan(0);
      }
    });

    it("tries again while the agent is busy with another checker's challenge (429), within its deadline", async () => {
      let calls = 0;
      const honest = honestAgent({ nodeId: 1 });
      const s = await start((req, res) => {
        if (++calls <= 2) {
          res.writeHead(429, { "retry-after": "0" });
          return res.end();
        }
        honest(req, res);
      });
      const r = await probeChallenge(nodeAt(1, s.url), { timeoutMs: 5_000, n: 16 });
      expect(r.passed, r.error).to.be.true;
      expect(calls, "two refusals, then the answer").to.equal(3);
      const always = await start((_req, res) => {
        res.writeHead(429, { "retry-after": "1" });
        res.end();
      });
      const busy = await probeChallenge(nodeAt(1, always.url), { timeoutMs: 300, n: 16 });
      expect([busy.passed, busy.errorCode, busy.error], "busy until the deadline").to.deep.equal([
        false,
        "status",
        "HTTP 429",
      ]);
    });

    it("fails on garbage, on an oversized answer and at its deadline", async () => {
      const garbage = await start(garbageAgent);
      const endless = await start(endlessAgent);
      const hanging = await start(hangingAgent);
      const g = await probeChallenge(nodeAt(1, garbage.url), { timeoutMs: 2_000, n: 16 });
      const e = await probeChallenge(nodeAt(1, endless.url), { timeoutMs: 5_000, n: 16 });
      const h = await probeChallenge(nodeAt(1, hanging.url), { timeoutMs: 200, n: 16 });
      expect([g.errorCode, e.errorCode, h.errorCode], "codes").to.deep.equal(["bad-json", "too-large", "timeout"]);
      expect([g.passed, e.passed, h.passed], "none passed").to.deep.equal([false, false, false]);
      expect(h.elapsedMs, "timed out at the deadline").to.be.within(190, 800);
    });
  });

  describe("hardware", () => {
    const check = (answer: unknown, opts = {}) =>
      checkHardwareReport(answer, nodeAt(3, "http://x"), { chainId: CHAIN_ID, ...opts });

    it("matches a report signed by the provider that meets the registered spec", async () => {
      const s = await start(honestAgent({ nodeId: 3 }));
      const r = await probeHardware(nodeAt(3, s.url), { timeoutMs: 2_000, chainId: CHAIN_ID });
      expect(r.ok, r.error).to.be.true;
      expect(r.match, r.reasons.join("; ")).to.be.true;
      expect(r.signer, "signer").to.equal(PROVIDER.address);
      expect(r.report?.gpuModel, "the report is kept as evidence").to.equal("NVIDIA H100 80GB HBM3");
      expect(r.signature, "with its signature").to.match(/^0x[0-9a-f]{130}$/);
    });

    it("flags a report signed by another key as not authentic (a mismatch)", async () => {
      const s = await start(honestAgent({ nodeId: 3, hardware: () => signedReport(report(3), STRANGER) }));
      const r = await probeHardware(nodeAt(3, s.url), { timeoutMs: 2_000, chainId: CHAIN_ID });
      expect(r.ok, "ok").to.be.false;
      expect(r.match, "match").to.be.false;
      expect(r.reasons[0], "reason").to.include(`signed by ${STRANGER.address}, not by the provider`);
    });

    it("flags hardware below the registered spec, with every reason", async () => {
      const s = await start(
        honestAgent({
          nodeId: 3,
          hardware: () => signedReport(report(3, { gpuCount: 4, vramGiB: 24, gpuModel: "NVIDIA GeForce RTX 4090" })),
        }),
      );
      const r = await probeHardware(nodeAt(3, s.url), { timeoutMs: 2_000, chainId: CHAIN_ID });
      expect(r.ok, "authentic").to.be.true;
      expect(r.match, "match").to.be.false;
      expect(r.reasons, "reasons").to.have.length(3);
      expect(r.reasons.join("; "), "reasons")
        .to.include("4 GPUs, registered 8")
        .and.include("24 GiB")
        .and.include("is not of class H100-80GB");
    });

    it("flags a report of another node, chain or provider, a stale one and a tampered one", async () => {
      const cases: [string, unknown, string][] = [
        ["other node", await signedReport(report(4)), "for node 4"],
        ["other chain", await signedReport(report(3, { chainId: 1 })), "for chain 1"],
        ["other provider", await signedReport(report(3, { provider: STRANGER.address })), "names provider"],
        ["stale", await signedReport(report(3, { timestamp: Math.floor(Date.now() / 1000) - 7_200 })), "stale"],
        ["no signature", { report: report(3) }, "not { report, signature }"],
        ["bad signature", { report: report(3), signature: "0x1234" }, "malformed"],
      ];
      const tampered = await signedReport(report(3));
      tampered.report.gpuCount = 16;
      cases.push(["tampered", tampered, "not by the provider"]);
      for (const [what, answer, reason] of cases) {
        const v = check(answer);
        expect(v.authentic, what).to.be.false;
        expect(v.match, what).to.be.false;
        expect(v.reasons.join("; "), what).to.include(reason);
      }
    });

    it("tolerates VRAM a little under the class's marketing figure, and notes CPU shortfalls", async () => {
      const node = { ...nodeAt(3, "http://x"), spec: { ...nodeAt(3, "http://x").spec, cpuCores: 128 } };
      const v = checkHardwareReport(await signedReport(report(3, { vramGiB: 76.5 })), node, { chainId: CHAIN_ID });
      expect(v.match, v.reasons.join("; ")).to.be.true;
      expect(v.notes, "notes").to.deep.equal(["cpuCores 64, registered 128"]);
      expect(check(await signedReport(report(3, { vramGiB: 75 }))).match, "75 GiB is too little").to.be.false;
      expect(check(await signedReport(report(3, { gpuCount: 9 }))).match, "more GPUs is fine").to.be.true;
    });

    it("has no verdict when the node does not answer, and a mismatch on garbage", async () => {
      const port = await freePort();
      const refused = await probeHardware(nodeAt(3, `http://127.0.0.1:${port}`), { timeoutMs: 2_000 });
      expect(refused.match, "refused").to.equal(null);
      const g = await start(garbageAgent);
      const garbage = await probeHardware(nodeAt(3, g.url), { timeoutMs: 2_000 });
      expect(garbage.match, "garbage").to.equal(false);
      expect(garbage.errorCode, "code").to.equal("bad-json");
    });

    it("accepts the report the provider agent signs (same canonical message)", async () => {
      const { signHardwareReport } = await import("../src/provider/hardware");
      const hardware = { ...report(3), source: "nvidia-smi" as const, vramGiB: 80 };
      const signed = await signHardwareReport(PROVIDER, hardware, { nodeId: 3, chainId: CHAIN_ID });
      const v = check(JSON.parse(JSON.stringify(signed)));
      expect(v.authentic, v.reasons.join("; ")).to.be.true;
      expect(v.match, v.reasons.join("; ")).to.be.true;
    });

    it("matches GPU models to classes on token boundaries", () => {
      const table: [string, string, boolean][] = [
        ["NVIDIA H100 80GB HBM3", "H100-80GB", true],
        ["NVIDIA H100 NVL", "H100-80GB", true],
        ["NVIDIA A100-SXM4-80GB", "A100-80GB", true],
        ["NVIDIA GeForce RTX 4090", "RTX4090-24GB", true],
        ["NVIDIA L40S", "L40S-48GB", true],
        ["NVIDIA L40", "L40S-48GB", false],
        ["NVIDIA A10", "A100-80GB", false],
        ["NVIDIA A100 80GB PCIe", "A10-24GB", false],
        ["NVIDIA GeForce RTX 3090", "RTX4090-24GB", false],
        ["GH100", "H100-80GB", false],
      ];
      for (const [model, cls, want] of table)
        expect(gpuModelMatchesClass(model, cls), `${model} / ${cls}`).to.equal(want);
    });
  });
});
