import { expect } from "chai";
import { Wallet } from "ethers";
import { connect, createServer as createNetServer } from "net";
import type { AddressInfo } from "net";

import { version } from "../package.json";
import { cpuKernel, verifyAnswer, type Challenge, type ChallengeAnswer } from "../src/popw";
import {
  canonicalReportMessage,
  createAgentServer,
  inlineSolver,
  verifyHardwareReport,
  workerSolver,
  type AgentServerOptions,
  type ChallengeSolver,
  type HardwareInfo,
  type LogEntry,
} from "../src/provider";

const WALLET = new Wallet("0x" + "ab".repeat(32));
const OTHER = new Wallet("0x" + "cd".repeat(32));
const HARDWARE: HardwareInfo = {
  source: "profile",
  gpuModel: "NVIDIA GeForce RTX 4090",
  gpuCount: 2,
  vramGiB: 24,
  cpuCores: 16,
  ramGiB: 64,
  diskGiB: 1800,
  bandwidthMbps: 1000,
};
const MAX_BYTES = 1024 * 1024;
const MAX_N = 512;

/** Starts an agent server on 127.0.0.1, a free port; `base` is its URL. */
async function start(overrides: Partial<AgentServerOptions> = {}) {
  const logs: LogEntry[] = [];
  const agent = createAgentServer({
    signer: WALLET,
    nodeId: 7,
    chainId: 31337,
    hardware: HARDWARE,
    solver: inlineSolver(cpuKernel),
    maxChallengeN: MAX_N,
    maxBandwidthBytes: MAX_BYTES,
    log: (e) => logs.push(e),
    ...overrides,
  });
  const address = await agent.listen(0, "127.0.0.1");
  return { agent, address, base: `http://127.0.0.1:${address.port}`, logs };
}

function post(base: string, path: string, body: unknown | string) {
  return fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Expects a JSON error answer with `status` whose message matches `pattern`. */
async function expectError(res: Response, status: number, pattern: RegExp) {
  expect(res.status, "status").to.equal(status);
  expect(res.headers.get("content-type"), "content-type").to.match(/^application\/json/);
  const body = (await res.json()) as { ok: boolean; error: string };
  expect(body.ok, "ok").to.equal(false);
  expect(body.error, "error").to.match(pattern);
}

/** A solver that holds each challenge until `release()`: makes the one-at-a-time rule observable. */
function gatedSolver(): ChallengeSolver & { started: Promise<void>; release(): void } {
  let release = () => {};
  let started = () => {};
  const startedP = new Promise<void>((r) => (started = r));
  const gate = new Promise<void>((r) => (release = r));
  const inner = inlineSolver(cpuKernel);
  return {
    kernel: inner.kernel,
    started: startedP,
    release: () => release(),
    async solve(ch: Challenge) {
      started();
      await gate;
      return inner.solve(ch);
    },
    warm: async () => {},
    close: async () => {},
  };
}

describe("provider agent server", function () {
  this.timeout(10_000);
  let ctx: Awaited<ReturnType<typeof start>>;

  before(async () => {
    const solver = workerSolver("cpu");
    await solver.warm();
    ctx = await start({ solver });
  });
  after(async () => ctx.agent.close());

  describe("GET /health", () => {
    it("says the node id, the provider, the version and the uptime", async () => {
      const res = await fetch(ctx.base + "/health");
      expect(res.status, "status").to.equal(200);
      expect(res.headers.get("content-type"), "content-type").to.match(/^application\/json/);
      const body = await res.json();
      expect(body, "body").to.deep.equal({
        ok: true,
        nodeId: 7,
        provider: WALLET.address,
        version,
        uptimeSeconds: body.uptimeSeconds,
      });
      expect(body.uptimeSeconds, "uptime").to.be.a("number").and.to.be.at.least(0);
    });
  });

  describe("GET /hardware", () => {
    it("serves a report signed by the node's key that verifies", async () => {
      const res = await fetch(ctx.base + "/hardware");
      expect(res.status, "status").to.equal(200);
      const body = await res.json();
      const verdict = verifyHardwareReport(body, WALLET.address, 60, { nodeId: 7, chainId: 31337 });
      expect(verdict, "verdict").to.deep.equal({ ok: true, report: body.report });
      const { timestamp, ...rest } = body.report;
      expect(rest, "report").to.deep.equal({ nodeId: 7, chainId: 31337, provider: WALLET.address, ...HARDWARE });
      expect(Math.abs(timestamp - Date.now() / 1000), "timestamp is now, in seconds").to.be.below(5);
    });

    it("signs the canonical JSON: keys sorted, no whitespace", async () => {
      const body = await (await fetch(ctx.base + "/hardware")).json();
      const message = canonicalReportMessage(body.report);
      expect(message, "sorted keys").to.match(/^\{"bandwidthMbps":1000,"chainId":31337,"cpuCores":16,"diskGiB":1800,/);
      expect(message, "no whitespace outside strings").to.not.match(/[:,] /);
      expect(await WALLET.signMessage(message), "EIP-191 signature").to.equal(body.signature);
    });

    it("rejects a tampered report, another provider's key, a stale report and another node", async () => {
      const body = await (await fetch(ctx.base + "/hardware")).json();
      const tampered = { ...body, report: { ...body.report, gpuCount: 8 } };
      const tamperedVerdict = verifyHardwareReport(tampered, WALLET.address, 60);
      expect(tamperedVerdict.ok === false && tamperedVerdict.reason, "tampered").to.match(/signed by 0x/);
      const other = verifyHardwareReport(body, OTHER.address, 60);
      expect(other.ok, "expected another provider").to.equal(false);
      const forged = {
        report: { ...body.report, provider: OTHER.address },
        signature: await WALLET.signMessage(canonicalReportMessage({ ...body.report, provider: OTHER.address })),
      };
      const forgedVerdict = verifyHardwareReport(forged, OTHER.address, 60);
      expect(forgedVerdict.ok === false && forgedVerdict.reason, "signed by another key").to.match(/signed by/);
      const stale = verifyHardwareReport(body, WALLET.address, 60, { now: body.report.timestamp + 61 });
      expect(stale.ok === false && stale.reason, "stale").to.match(/old/);
      const future = verifyHardwareReport(body, WALLET.address, 60, { now: body.report.timestamp - 3600 });
      expect(future.ok === false && future.reason, "future").to.match(/future/);
      const node = verifyHardwareReport(body, WALLET.address, 60, { nodeId: 8 });
      expect(node.ok === false && node.reason, "another node").to.match(/node 7, not 8/);
      for (const bad of [null, "x", {}, { report: body.report }, { ...body, signature: "0x1234" }]) {
        expect(verifyHardwareReport(bad, WALLET.address, 60).ok, JSON.stringify(bad)).to.equal(false);
      }
    });
  });

  describe("GET /bandwidth", () => {
    for (const n of [1, 65_537, MAX_BYTES]) {
      it(`streams exactly ${n} bytes`, async () => {
        const res = await fetch(`${ctx.base}/bandwidth?bytes=${n}`);
        expect(res.status, "status").to.equal(200);
        expect(res.headers.get("content-type"), "content-type").to.equal("application/octet-stream");
        expect(res.headers.get("content-length"), "content-length").to.equal(String(n));
        const bytes = new Uint8Array(await res.arrayBuffer());
        expect(bytes.length, "bytes").to.equal(n);
        if (n > 1000) expect(new Set(bytes).size, "not constant").to.be.above(200);
      });
    }

    it("refuses 0, more than the cap and anything not a whole number, naming the limit", async () => {
      for (const q of ["bytes=0", `bytes=${MAX_BYTES + 1}`, "bytes=abc", "bytes=-5", "bytes=1.5", "bytes=1e3", ""]) {
        await expectError(await fetch(`${ctx.base}/bandwidth?${q}`), 400, new RegExp(`1\\.\\.${MAX_BYTES}`));
      }
    });
    it("frees a bandwidth slot when the client goes away mid-stream, and logs it", async function () {
      this.timeout(60_000);
      // 1 GiB: far more than the socket buffers hold, so the stream waits on the client.
      const other = await start({ maxConcurrentBandwidth: 1, maxBandwidthBytes: 2 ** 30 });
      try {
        const abort = new AbortController();
        const res = await fetch(`${other.base}/bandwidth?bytes=${2 ** 30}`, { signal: abort.signal });
        const reader = res.body!.getReader();
        await reader.read(); // the stream is running
        await expectError(await fetch(`${other.base}/bandwidth?bytes=1`), 429, /1 bandwidth tests are running/);
        abort.abort();
        await until(() => other.logs.some((l) => l.at === "Agent#bandwidth" && "aborted" in l));
        const again = await fetch(`${other.base}/bandwidth?bytes=10`);
        expect(again.status, "the slot is free again").to.equal(200);
        expect((await again.arrayBuffer()).byteLength, "bytes").to.equal(10);
        await until(() => other.logs.some((l) => l.at === "Agent#bandwidth" && l.bytes === 10 && "ms" in l));
      } finally {
        await other.agent.close();
      }
    });
  });

  describe("POST /challenge", () => {
    const challenge: Challenge = { seed: "0x00000000000000000000000000c0ffee", n: 96 };

    it("answers with a product that Freivalds accepts, and that fails for another seed", async () => {
      const res = await post(ctx.base, "/challenge", challenge);
      expect(res.status, "status").to.equal(200);
      expect(res.headers.get("content-type"), "content-type").to.match(/^application\/json/);
      const answer = (await res.json()) as ChallengeAnswer;
      expect(answer.kernel, "kernel").to.equal("cpu-ikj");
      expect(answer.n, "n").to.equal(96);
      expect(verifyAnswer(challenge, answer), "verifies").to.deep.equal({ ok: true });
      const otherSeed = { ...challenge, seed: "0x00000000000000000000000000c0ffef" };
      expect(verifyAnswer(otherSeed, answer).ok, "wrong seed").to.equal(false);
      expect(verifyAnswer(otherSeed, { ...answer, seed: otherSeed.seed }).ok, "product of another seed").to.equal(
        false,
      );
      const entry = ctx.logs.find((l) => l.at === "Agent#challenge");
      expect(entry, "logged").to.include({ n: 96, kernel: "cpu-ikj" });
    });

    it("refuses n above the configured maximum, naming it, and bad seeds or shapes", async () => {
      await expectError(await post(ctx.base, "/challenge", { ...challenge, n: MAX_N + 1 }), 400, /1\.\.512/);
      await expectError(await post(ctx.base, "/challenge", { ...challenge, n: 0 }), 400, /1\.\.512/);
      await expectError(await post(ctx.base, "/challenge", { ...challenge, n: "96" }), 400, /whole number/);
      await expectError(await post(ctx.base, "/challenge", { ...challenge, seed: "0xzz" }), 400, /seed/);
      await expectError(await post(ctx.base, "/challenge", { n: 96 }), 400, /seed/);
      await expectError(await post(ctx.base, "/challenge", [1, 2]), 400, /JSON object/);
    });

    it("answers 400 to a body that is not JSON, 413 to a large one, 405 to GET", async () => {
      await expectError(await post(ctx.base, "/challenge", "{seed:"), 400, /not valid JSON/);
      await expectError(await post(ctx.base, "/challenge", "x".repeat(100_000)), 413, /larger than/);
      await expectError(await fetch(ctx.base + "/challenge"), 405, /takes POST/);
    });

    it("keeps answering /health while the worker multiplies", async () => {
      const big = post(ctx.base, "/challenge", { seed: "0x1", n: 400 }).then(() => Date.now());
      await new Promise((r) => setTimeout(r, 20));
      const health = await fetch(ctx.base + "/health").then(async (r) => ({ at: Date.now(), status: r.status }));
      expect(health.status, "health").to.equal(200);
      expect(health.at, "health answered before the challenge").to.be.at.most(await big);
    });

    it("runs one challenge at a time: a concurrent one gets 429", async () => {
      const gated = gatedSolver();
      const other = await start({ solver: gated });
      try {
        const first = post(other.base, "/challenge", challenge);
        await gated.started;
        const second = await post(other.base, "/challenge", challenge);
        await expectError(second, 429, /one runs at a time/);
        expect(second.headers.get("retry-after"), "retry-after").to.equal("1");
        gated.release();
        const res = await first;
        expect(res.status, "the first one").to.equal(200);
        expect(verifyAnswer(challenge, (await res.json()) as ChallengeAnswer).ok, "verifies").to.equal(true);
        expect((await post(other.base, "/challenge", challenge)).status, "free again").to.equal(200);
      } finally {
        await other.agent.close();
      }
    });

    it("answers 500 when the kernel fails, and is free again afterwards", async () => {
      const failing: ChallengeSolver = {
        kernel: "broken",
        solve: async () => {
          throw new Error("GPU fell off the bus");
        },
        warm: async () => {},
        close: async () => {},
      };
      const other = await start({ solver: failing });
      try {
        await expectError(await post(other.base, "/challenge", challenge), 500, /GPU fell off the bus/);
        await expectError(await post(other.base, "/challenge", challenge), 500, /GPU fell off the bus/);
      } finally {
        await other.agent.close();
      }
    });
  });

  describe("other requests", () => {
    it("answers 404 in JSON to an unknown path", async () => {
      await expectError(await fetch(ctx.base + "/nope"), 404, /no such path: \/nope/);
      await expectError(await fetch(ctx.base + "/"), 404, /paths: \/health/);
    });

    it("answers 405 to a wrong method", async () => {
      await expectError(await post(ctx.base, "/health", {}), 405, /takes GET/);
    });
  });

  describe("close()", () => {
    it("frees the port, even with a keep-alive connection open", async () => {
      const other = await start();
      const res = await fetch(other.base + "/health", { headers: { connection: "keep-alive" } });
      await res.json();
      await other.agent.close();
      await expectFree(other.address);
    });

    it("refuses to listen on a port in use", async () => {
      const other = await start();
      const second = createAgentServer({
        signer: WALLET,
        nodeId: 7,
        chainId: 31337,
        hardware: HARDWARE,
        solver: inlineSolver(cpuKernel),
        maxChallengeN: MAX_N,
      });
      try {
        let error: unknown;
        await second.listen(other.address.port, "127.0.0.1").catch((e) => (error = e));
        expect((error as NodeJS.ErrnoException)?.code, "in use").to.equal("EADDRINUSE");
      } finally {
        await second.close();
        await other.agent.close();
      }
    });
  });
});

/** Resolves when a fresh server can listen on `address` (the agent let it go). */
function expectFree(address: AddressInfo): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once("error", reject);
    probe.listen(address.port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

describe("provider agent server: slow or broken clients", function () {
  this.timeout(5_000);

  /** Sends `data` on a raw connection; resolves to everything the server answered before closing. */
  function raw(port: number, data: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => socket.write(data));
      let got = "";
      socket.on("data", (d) => (got += d.toString()));
      socket.on("error", reject);
      socket.on("close", () => resolve(got));
    });
  }

  it("answers a request that is not HTTP with 400 JSON", async () => {
    const { agent, address } = await start();
    try {
      const answer = await raw(address.port, "GARBAGE\r\n\r\n");
      expect(answer, "status").to.match(/^HTTP\/1\.1 400 /);
      expect(answer, "content-type").to.match(/content-type: application\/json/i);
      expect(JSON.parse(answer.split("\r\n\r\n")[1]), "body").to.deep.equal({
        ok: false,
        error: "the request is not valid HTTP",
      });
    } finally {
      await agent.close();
    }
  });

  it("cuts off a client that does not finish its headers in time (408)", async () => {
    const { agent, address } = await start({ headersTimeoutMs: 200, requestTimeoutMs: 300 });
    try {
      const t0 = Date.now();
      const answer = await raw(address.port, "GET /health HTTP/1.1\r\nHost: x\r\n");
      expect(answer, "status").to.match(/^HTTP\/1\.1 408 /);
      expect(Date.now() - t0, "within a second").to.be.below(1_500);
    } finally {
      await agent.close();
    }
  });
});

/** Resolves once `condition()` holds (checked every 10 ms, for at most 30 s: a generous deadline). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("the condition did not hold within 30 s");
    await new Promise((r) => setTimeout(r, 10));
  }
}
