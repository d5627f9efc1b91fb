/**
 * Test helpers for the keeper: fake checker APIs (real HTTP, real signatures, real trees), fault-injecting
 * JSON-RPC proxies, a keeper config, and a `kaisar keeper run` process whose log lines can be waited for.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, mkdtempSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

import { id, type Signer } from "ethers";
import { reportDomain, signReport, signedReportToJson, treeToJson, type Report, type TreeLeaf } from "@kaisar/offchain";

import type { KeeperConfig } from "../../src/config/load";
import { epochReport, epochTree, scoreEpoch, DEFAULT_SCORING_PARAMS, type NodeObservation } from "../../src/scoring";

/** Serves `/<name>/epochs/:epoch/report` and `/<name>/epochs/:epoch/tree` from mutable maps. */
export interface FakeCheckers {
  base: string;
  /** The URL of checker `name` (what the keeper's `checkers` setting lists). */
  url(name: string): string;
  reports: Map<string, unknown>;
  trees: Map<string, unknown>;
  /** Requests served. */
  hits: number;
  close(): Promise<void>;
}

export async function startFakeCheckers(): Promise<FakeCheckers> {
  const reports = new Map<string, unknown>();
  const trees = new Map<string, unknown>();
  const state = { hits: 0 };
  const server = http.createServer((req, res) => {
    state.hits++;
    const m = /^\/([^/]+)\/epochs\/(\d+)\/(report|tree)$/.exec(req.url ?? "");
    const body = m ? (m[3] === "report" ? reports : trees).get(`${m[1]}:${m[2]}`) : undefined;
    if (body === undefined) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    url: (name) => `${base}/${name}`,
    reports,
    trees,
    get hits() {
      return state.hits;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A scored epoch: its report (unsigned), tree body and leaves. */
export interface EpochFixture {
  report: Report;
  root: string;
  leaves: TreeLeaf[];
  tree: ReturnType<typeof treeToJson>;
}

/**
 * Scores `epoch` for `nodes` (uptime per node, and whether the checkers found its hardware differs from
 * the registration) observed by every operator, with the real scoring code, and builds its tree and report.
 */
export function scoreFixture(
  epoch: bigint,
  budget: bigint,
  configVersion: bigint,
  operators: string[],
  nodes: {
    nodeId: number;
    provider: string;
    uptimeBps: number;
    deliveredGpuSeconds?: bigint;
    /** Protocol fees its rentals paid in the epoch, KAI units (default 0). */
    feesKai?: bigint;
    /** `NodeRegistry.eligibleSince` at the epoch's end (default: the epoch's start, eligible throughout). */
    eligibleSince?: bigint;
    hardwareMismatch?: boolean;
  }[],
  /** The epoch's start and end, Unix seconds (default: a two-week epoch from 1). */
  span: { start: bigint; end: bigint } = { start: 1n, end: 1n + 1_209_600n },
): EpochFixture {
  const observations: NodeObservation[] = [];
  for (const n of nodes) {
    for (const c of operators) {
      observations.push({
        checker: c,
        nodeId: n.nodeId,
        uptimeBps: n.uptimeBps,
        bandwidthMbps: 1_000,
        hardwareScore: 50_000,
        hardwareMismatch: n.hardwareMismatch ?? false,
        evidence: id(`samples ${epoch} ${n.nodeId} ${c}`),
      });
    }
  }
  const scores = scoreEpoch(
    {
      epoch,
      epochStart: span.start,
      epochEnd: span.end,
      budget,
      nodes: nodes.map((n) => ({
        nodeId: n.nodeId,
        provider: n.provider,
        deliveredGpuSeconds: n.deliveredGpuSeconds ?? 3_600n,
        feesKai: n.feesKai ?? 0n,
        eligibleSince: n.eligibleSince ?? span.start,
      })),
      checkers: operators.map((operator) => ({ operator, licenses: 1n, reportsSigned: 10n })),
      observations,
    },
    { ...DEFAULT_SCORING_PARAMS, minObservations: 1 },
  );
  const tree = epochTree(scores);
  const leaves: TreeLeaf[] = scores.leaves.map((leaf) => {
    const node = leaf.kind === 0 ? scores.nodes.find((n) => BigInt(n.nodeId) === leaf.id) : undefined;
    return node ? { leaf, metrics: node.metrics } : { leaf };
  });
  return {
    report: epochReport(scores, tree.root, configVersion),
    root: tree.root,
    leaves,
    tree: treeToJson(tree.root, leaves),
  };
}

/** The body a checker serves for `report` signed by `wallet` (claiming `signer`, default the wallet). */
export async function signedBody(
  wallet: Signer & { address: string },
  chainId: number,
  oracle: string,
  report: Report,
  signer?: string,
): Promise<unknown> {
  const signature = await signReport(wallet, reportDomain(chainId, oracle), report);
  return signedReportToJson({ report, signature, signer: signer ?? wallet.address });
}

/**
 * A JSON-RPC proxy in front of `target` that, with `faults`, drops the connection of one request in six
 * and delays another one in six by `delayMs` (longer than the keeper's timeout), drawn from a seeded
 * generator (replayable); `chainId` rewrites eth_chainId answers.
 */
export async function startFaultyProxy(
  target: string,
  options: { faults?: boolean; delayMs?: number; chainId?: number } = {},
): Promise<{ url: string; stats: { dropped: number; delayed: number; forwarded: number }; close(): Promise<void> }> {
  const stats = { dropped: 0, delayed: 0, forwarded: 0 };
  let seed = 0x5eed;
  /** mulberry32 */
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const r = random();
      if (options.faults && r < 1 / 6) {
        stats.dropped++;
        req.socket.destroy();
        return;
      }
      if (options.faults && r < 1 / 3) {
        stats.delayed++;
        await new Promise((r) => setTimeout(r, options.delayMs ?? 1_000));
      }
      const body = Buffer.concat(chunks).toString();
      try {
        const answer = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
        let text = await answer.text();
        if (options.chainId !== undefined && body.includes('"eth_chainId"')) {
          const parsed = JSON.parse(text);
          parsed.result = "0x" + options.chainId.toString(16);
          text = JSON.stringify(parsed);
        }
        stats.forwarded++;
        if (!res.destroyed) res.writeHead(answer.status, { "content-type": "application/json" }).end(text);
      } catch {
        if (!res.destroyed) res.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A keeper config for the local chain (a fresh data folder; fast timeouts). */
export function keeperConfig(
  chain: { rpcUrl: string; chainId: number; addresses: KeeperConfig["contracts"] },
  wallet: { privateKey: string },
  overrides: Partial<KeeperConfig> = {},
): KeeperConfig {
  return {
    role: "keeper",
    configFile: undefined,
    chainId: chain.chainId,
    rpcUrl: chain.rpcUrl,
    rpcUrlFallback: undefined,
    privateKey: wallet.privateKey,
    deployment: undefined,
    contracts: chain.addresses,
    dataDir: mkdtempSync(path.join(os.tmpdir(), "kaisar-keeper-")),
    listen: { host: "127.0.0.1", port: 0 },
    pollInterval: 200,
    checkers: [],
    feeBumpPercent: 20,
    txTimeout: 2_000,
    rpcTimeout: 2_000,
    ...overrides,
  } as KeeperConfig;
}

/**
 * A fault the proxy applies to every request while it is set: "refuse" resets the connection unanswered
 * (nothing forwarded), "502" answers HTTP 502 (nothing forwarded), "drop-answers" forwards the call and
 * drops its answer, "drop-send-answers" does that to `eth_sendRawTransaction` only (the broadcast
 * happens, the keeper never hears so), "drop-sends" resets `eth_sendRawTransaction` calls unforwarded
 * (the transaction never reaches the chain).
 */
export type RpcFault = "refuse" | "502" | "drop-answers" | "drop-send-answers" | "drop-sends";

/**
 * Told of each JSON-RPC call: "request" before it is forwarded, "answered" once the chain answered it
 * (whether or not the answer was dropped), "faulted" when a fault kept it from the chain.
 */
export type ProxyEvent = {
  at: "request" | "answered" | "faulted";
  method: string;
  params: unknown[];
  result?: unknown;
};

/**
 * A JSON-RPC proxy in front of `target` whose faults are set by the test (`fault`), typically from a
 * listener (`on`) at a named point (the first `eth_sendRawTransaction` answered, ...), never by a timer.
 */
export interface FaultProxy {
  url: string;
  fault: RpcFault | undefined;
  /** When set, the chain's `finalized` (and `safe`) block is this one (a chain whose finality lags). */
  finalizedBlock?: number;
  /** Calls `fn` for each event; remove it with the function returned. */
  on(fn: (e: ProxyEvent) => void): () => void;
  /** Resolves at the first event `match` accepts (checked from now on). */
  next(match: (e: ProxyEvent) => boolean): Promise<ProxyEvent>;
  stats: { refused: number; bad: number; dropped: number; forwarded: number };
  close(): Promise<void>;
}

export async function startFaultProxy(target: string, port = 0): Promise<FaultProxy> {
  const listeners = new Set<(e: ProxyEvent) => void>();
  const stats = { refused: 0, bad: 0, dropped: 0, forwarded: 0 };
  const emit = (e: ProxyEvent) => [...listeners].forEach((l) => l(e));
  const proxy: FaultProxy = {
    url: "",
    fault: undefined,
    on(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    next(match) {
      return new Promise((resolve) => {
        const off = proxy.on((e) => {
          if (match(e)) {
            off();
            resolve(e);
          }
        });
      });
    },
    stats,
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      let body = Buffer.concat(chunks).toString();
      let calls: { method: string; params?: unknown[] }[] = [];
      try {
        const parsed = JSON.parse(body);
        calls = Array.isArray(parsed) ? parsed : [parsed];
        const final = proxy.finalizedBlock;
        const tagged = (c: { method: string; params?: unknown[] }) =>
          c.method === "eth_getBlockByNumber" && (c.params?.[0] === "finalized" || c.params?.[0] === "safe");
        if (final !== undefined && calls.some(tagged)) {
          for (const c of calls.filter(tagged)) c.params![0] = "0x" + final.toString(16);
          body = JSON.stringify(Array.isArray(parsed) ? calls : calls[0]);
        }
      } catch {
        // forwarded as is
      }
      const fault = proxy.fault;
      const faulted = () => calls.forEach((c) => emit({ at: "faulted", method: c.method, params: c.params ?? [] }));
      if (fault === "refuse" || (fault === "drop-sends" && calls.some((c) => c.method === "eth_sendRawTransaction"))) {
        stats.refused++;
        req.socket.destroy();
        faulted();
        return;
      }
      if (fault === "502") {
        stats.bad++;
        res.writeHead(502).end("bad gateway");
        faulted();
        return;
      }
      for (const c of calls) emit({ at: "request", method: c.method, params: c.params ?? [] });
      let text: string;
      try {
        const answer = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
        text = await answer.text();
      } catch {
        if (!res.destroyed) res.writeHead(502).end();
        return;
      }
      stats.forwarded++;
      let results: unknown[] = [];
      try {
        const parsed = JSON.parse(text);
        results = (Array.isArray(parsed) ? parsed : [parsed]).map((a: { result?: unknown }) => a?.result);
      } catch {
        // no results to tell
      }
      const drop =
        proxy.fault === "drop-answers" ||
        (proxy.fault === "drop-send-answers" && calls.some((c) => c.method === "eth_sendRawTransaction"));
      if (drop) {
        stats.dropped++;
        req.socket.destroy();
      } else if (!res.destroyed) {
        res.writeHead(200, { "content-type": "application/json" }).end(text);
      }
      calls.forEach((c, i) => emit({ at: "answered", method: c.method, params: c.params ?? [], result: results[i] }));
    });
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return proxy;
}

/** The environment without any KAISAR_ setting of this process. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KAISAR_")));
  return { ...env, ...extra };
}

export type LogLine = { at: string; [k: string]: unknown };

/** A `kaisar keeper run` process; its JSON log lines, each told to the listeners. */
export class KeeperProcess {
  readonly lines: LogLine[] = [];
  private readonly listeners = new Set<(l: LogLine) => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  stderr = "";

  /** Starts `kaisar keeper run --json` with `env`; each log line is appended to `logFile` if named. */
  constructor(env: NodeJS.ProcessEnv, logFile?: string) {
    this.child = spawn(
      process.execPath,
      [path.join(__dirname, "..", "..", "bin", "kaisar.js"), "keeper", "run", "--json"],
      {
        cwd: path.join(__dirname, "..", ".."),
        env,
      },
    );
    let buffer = "";
    this.child.stdout!.on("data", (d) => {
      buffer += d;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const p of parts) {
        let line: LogLine;
        try {
          line = JSON.parse(p) as LogLine;
        } catch {
          // Not a log line (the keeper prints nothing else on stdout in --json mode): kept for a failure's report.
          this.stderr += `stdout: ${p}\n`;
          if (logFile) appendFileSync(logFile, `NOT JSON: ${p}\n`);
          continue;
        }
        if (logFile) appendFileSync(logFile, p + "\n");
        this.lines.push(line);
        for (const l of [...this.listeners]) l(line);
      }
    });
    this.child.stderr!.on("data", (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on("close", (code, signal) => resolve({ code, signal })));
  }

  /** Resolves at the first line (from now on) `match` accepts. */
  next(match: (l: LogLine) => boolean): Promise<LogLine> {
    return new Promise((resolve) => {
      const fn = (l: LogLine) => {
        if (match(l)) {
          this.listeners.delete(fn);
          resolve(l);
        }
      };
      this.listeners.add(fn);
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
