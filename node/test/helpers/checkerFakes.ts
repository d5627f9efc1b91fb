/**
 * Fake provider agents on loopback for the checker's tests: an honest one that follows the agent's
 * HTTP contract (health, signed hardware report, bandwidth, challenge) and hostile ones.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Wallet } from "ethers";

import type { CheckerNode } from "../../src/config/nodes";
import { hardwareReportMessage, type HardwareReport } from "../../src/checker/hardware";
import { cpuKernel, solveChallenge, type Challenge, type ChallengeAnswer } from "../../src/popw";

export interface FakeServer {
  url: string;
  port: number;
  /** Requests received, by path. */
  hits: string[];
  close(): Promise<void>;
}

/** Serves `handler` on a free loopback port. */
export async function serve(handler: http.RequestListener): Promise<FakeServer> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? "");
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on (taken, then freed). */
export async function freePort(): Promise<number> {
  const s = await serve(() => {});
  await s.close();
  return s.port;
}

// Hardhat's account #1 (the provider) and an arbitrary key.
export const PROVIDER = new Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
export const STRANGER = new Wallet("0x" + "22".repeat(32));
export const CHAIN_ID = 31337;

export const SPEC = { gpuClass: "H100-80GB", gpuCount: 8, vramGiB: 80 };

/** A hardware report of node `nodeId` as an honest agent makes it (overridable). */
export function report(nodeId: number, overrides: Partial<HardwareReport> = {}): HardwareReport {
  return {
    nodeId,
    chainId: CHAIN_ID,
    provider: PROVIDER.address,
    source: "nvidia-smi",
    gpuModel: "NVIDIA H100 80GB HBM3",
    gpuCount: 8,
    vramGiB: 79.6,
    cpuCores: 64,
    ramGiB: 512,
    diskGiB: 2000,
    bandwidthMbps: 10_000,
    timestamp: Math.floor(Date.now() / 1000),
    ...overrides,
  };
}

/** `{ report, signature }` signed by `signer` (the provider by default). */
export async function signedReport(r: HardwareReport, signer: Wallet = PROVIDER) {
  return { report: r, signature: await signer.signMessage(hardwareReportMessage(r)) };
}

export interface HonestAgentOptions {
  nodeId: number;
  /** What GET /hardware answers (default: a matching report signed by the provider). */
  hardware?: () => Promise<unknown>;
  /** Alters the answer to a challenge (to tamper with it). */
  answer?: (a: ChallengeAnswer) => ChallengeAnswer;
  /** Waits this long before answering a challenge, ms. */
  challengeDelayMs?: number;
  /** Waits this long before answering /health, ms. */
  healthDelayMs?: number;
}

function json(res: http.ServerResponse, body: unknown, status = 200) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = "";
    req.on("data", (c) => (s += c));
    req.on("end", () => resolve(s));
  });
}

/** An agent that follows the contract. */
export function honestAgent(options: HonestAgentOptions): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://agent");
    if (url.pathname === "/health") {
      setTimeout(
        () =>
          json(res, {
            ok: true,
            nodeId: options.nodeId,
            provider: PROVIDER.address,
            version: "test",
            uptimeSeconds: 5,
          }),
        options.healthDelayMs ?? 0,
      );
    } else if (url.pathname === "/hardware") {
      void (options.hardware?.() ?? signedReport(report(options.nodeId))).then((body) => json(res, body));
    } else if (url.pathname === "/bandwidth") {
      const bytes = Number(url.searchParams.get("bytes"));
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes });
      res.end(Buffer.alloc(bytes, 7));
    } else if (url.pathname === "/challenge" && req.method === "POST") {
      void readBody(req).then((text) => {
        const ch = JSON.parse(text) as Challenge;
        const answer = solveChallenge(ch, cpuKernel);
        setTimeout(() => json(res, options.answer ? options.answer(answer) : answer), options.challengeDelayMs ?? 0);
      });
    } else json(res, { error: "not found" }, 404);
  };
}

/** The node a checker would probe at `url`. */
export function nodeAt(id: number, url: string): CheckerNode {
  return { id, url, provider: PROVIDER.address, spec: { ...SPEC } };
}

/** Never answers (the connection stays open until the server closes). */
export const hangingAgent: http.RequestListener = () => {};

/** Answers 200 with something that is not JSON. */
export const garbageAgent: http.RequestListener = (_req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end("{ this is not json <html>");
};

/** Streams bytes forever (no content-length), until the client goes away. */
export const endlessAgent: http.RequestListener = (req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const timer = setInterval(() => res.write(chunk), 1);
  const stop = () => clearInterval(timer);
  res.on("close", stop);
  req.on("close", stop);
};

/** Sends its headers at once, then one byte every 50 ms (slow loris). */
export const trickleAgent: http.RequestListener = (req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  const timer = setInterval(() => res.write(" "), 50);
  res.on("close", () => clearInterval(timer));
};

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
