/**
 * Test helpers for the keeper: fake checker APIs (real HTTP, real signatures, real trees), a
 * fault-injecting JSON-RPC proxy, and a keeper config.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { id, type Signer } from "ethers";
import { reportDomain, signReport, signedReportToJson, treeToJson, type Report, type TreeLeaf } from "@kaisar/offchain";

import type { KeeperConfig } from "../src/config/load";
import { epochReport, epochTree, scoreEpoch, DEFAULT_SCORING_PARAMS, type NodeObservation } from "../src/scoring";

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
