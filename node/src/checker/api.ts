/**
 * The checker's read-only HTTP API, for the web app's live monitoring (node:http, JSON, CORS open to
 * any origin: it only ever reads public measurements).
 *
 *   GET /health                        { ok, role, version, checker, epoch, uptimeSeconds, nodes, probes }
 *   GET /nodes                         every node with its latest probe result of each kind
 *   GET /nodes/:id                     one node, the same way
 *   GET /nodes/:id/samples?epoch=N&kind=K&limit=L
 *                                      its samples in epoch N (default: the current one), oldest first
 *                                      (the most recent L, default 10,000), with per-kind counts
 *   GET /epochs/:epoch/observations    this checker's signed observations of an ended epoch (the epoch-end
 *                                      exchange: `{ bundle, signature }`, see exchange.ts); 404 until then
 *   GET /epochs/:epoch/report          its signed EIP-712 report of the epoch once computed: `{ epoch, report
 *                                      (bigints as decimal strings), signature, signer, root, nodeCount,
 *                                      checkers, excluded }`; 404 before
 *   GET /epochs/:epoch/tree            the reward tree of that report: `{ root, leaves }`, each node leaf with
 *                                      the metrics it commits to (offchain/src/json.ts); 404 before
 *
 * HEAD works wherever GET does; OPTIONS answers CORS preflights (204). Anything else: a JSON error
 * `{ error, message }` with 400 (bad parameter), 404 (no such route or node), 405 (method) or 500.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

import type { CheckerNode } from "../config/nodes";
import { PROBE_KINDS, type ProbeKind } from "./probe";
import { systemClock, type Clock, type SchedulerStats } from "./scheduler";
import type { CheckerStore, Sample } from "./store";

export interface ApiOptions {
  store: CheckerStore;
  /** The nodes being probed. */
  nodes: () => readonly CheckerNode[];
  /** The epoch of a Unix-ms time. */
  epochOf: (ms: number) => number;
  /** The checker's operator address. */
  checker?: string;
  version?: string;
  clock?: Clock;
  /** The scheduler's counters, shown by /health. */
  probes?: () => SchedulerStats;
  /**
   * This checker's signed observations of an ended epoch (frozen on first call), or undefined if it has
   * none yet (the settle delay has not passed) or none at all. Absent: the route answers 404.
   */
  observations?: (epoch: number) => unknown;
  /** The signed report of an epoch, or undefined before it is computed. Absent: the route answers 404. */
  report?: (epoch: number) => unknown;
  /** The reward tree of the epoch's signed report (`{root, leaves}`), or undefined. */
  tree?: (epoch: number) => unknown;
  /** Told of unexpected errors (answered 500). */
  onError?: (error: unknown) => void;
}

export const DEFAULT_SAMPLE_LIMIT = 10_000;
export const MAX_SAMPLE_LIMIT = 100_000;

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, OPTIONS",
  "access-control-max-age": "86400",
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

/** A sample as the API shows it in a node's latest results: its figures, without nulls or evidence. */
function view(s: Sample | undefined): Record<string, unknown> | null {
  if (!s) return null;
  const out: Record<string, unknown> = { at: s.at, epoch: s.epoch, ok: s.ok, latencyMs: s.latencyMs };
  for (const k of ["mbps", "n", "elapsedMs", "passed", "match", "errorCode", "error"] as const) {
    if (s[k] !== null) out[k] = s[k];
  }
  const ev = s.evidence as { reasons?: unknown; notes?: unknown } | null;
  if (s.kind === "hardware" && ev) {
    if (Array.isArray(ev.reasons) && ev.reasons.length > 0) out.reasons = ev.reasons;
    if (Array.isArray(ev.notes) && ev.notes.length > 0) out.notes = ev.notes;
  }
  return out;
}

function parseUint(name: string, raw: string | null, max: number): number | undefined {
  if (raw === null || raw === "") return undefined;
  if (!/^\d{1,16}$/.test(raw) || Number(raw) > max) {
    throw new HttpError(400, "bad request", `${name} ${JSON.stringify(raw)} is not a whole number in 0..${max}`);
  }
  return Number(raw);
}

/** The request handler (exported for tests and for embedding in another server). */
export function apiHandler(options: ApiOptions): http.RequestListener {
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();

  const nodeEntry = (
    id: number,
    node: CheckerNode | undefined,
    latest: Partial<Record<ProbeKind, Sample>> | undefined,
  ) => {
    const beat = latest?.heartbeat;
    return {
      nodeId: id,
      url: node?.url ?? null,
      provider: node?.provider ?? null,
      spec: node?.spec ?? null,
      probed: node !== undefined,
      status: beat ? (beat.ok ? "up" : "down") : "unknown",
      latest: Object.fromEntries(PROBE_KINDS.map((k) => [k, view(latest?.[k])])),
    };
  };

  const routes = (url: URL): unknown => {
    const parts = url.pathname.split("/").filter((p) => p !== "");
    const now = clock.now();
    if (parts.length === 1 && parts[0] === "health") {
      return {
        ok: true,
        role: "checker",
        version: options.version ?? null,
        checker: options.checker ?? null,
        epoch: options.epochOf(now),
        uptimeSeconds: Math.floor((now - startedAt) / 1000),
        nodes: options.nodes().length,
        probes: options.probes?.() ?? null,
      };
    }
    if (parts[0] === "epochs" && parts.length === 3 && ["observations", "report", "tree"].includes(parts[2])) {
      const epoch = parseUint("epoch", parts[1], Number.MAX_SAFE_INTEGER)!;
      const current = options.epochOf(now);
      if (epoch >= current) {
        throw new HttpError(404, "not found", `epoch ${epoch} has not ended (the current epoch is ${current})`);
      }
      if (parts[2] === "observations") {
        const bundle = options.observations?.(epoch);
        if (bundle === undefined) {
          throw new HttpError(
            404,
            "not found",
            `no signed observations of epoch ${epoch} here (yet: they are signed exchange.settle after the epoch ends)`,
          );
        }
        return bundle;
      }
      if (parts[2] === "tree") {
        const tree = options.tree?.(epoch);
        if (tree === undefined) throw new HttpError(404, "not found", `no reward tree of epoch ${epoch} here (yet)`);
        return tree;
      }
      const report = options.report?.(epoch);
      if (report === undefined) throw new HttpError(404, "not found", `no report of epoch ${epoch} here (yet)`);
      return report;
    }
    if (parts[0] !== "nodes" || parts.length > 3) throw new HttpError(404, "not found", `no route ${url.pathname}`);
    const latest = options.store.latestByNode();
    const known = new Map(options.nodes().map((n) => [n.id, n]));
    if (parts.length === 1) {
      const ids = [...new Set([...known.keys(), ...latest.keys()])].sort((a, b) => a - b);
      return { epoch: options.epochOf(now), nodes: ids.map((id) => nodeEntry(id, known.get(id), latest.get(id))) };
    }
    const id = parseUint("node id", parts[1], 0xffffffff)!;
    if (!known.has(id) && !latest.has(id)) throw new HttpError(404, "not found", `node ${id} is not probed here`);
    if (parts.length === 2) return nodeEntry(id, known.get(id), latest.get(id));
    if (parts[2] !== "samples") throw new HttpError(404, "not found", `no route ${url.pathname}`);
    const epoch = parseUint("epoch", url.searchParams.get("epoch"), Number.MAX_SAFE_INTEGER) ?? options.epochOf(now);
    const kindParam = url.searchParams.get("kind");
    if (kindParam !== null && !PROBE_KINDS.includes(kindParam as ProbeKind)) {
      throw new HttpError(
        400,
        "bad request",
        `kind ${JSON.stringify(kindParam)} is not one of ${PROBE_KINDS.join(", ")}`,
      );
    }
    const kind = (kindParam ?? undefined) as ProbeKind | undefined;
    const limit = parseUint("limit", url.searchParams.get("limit"), MAX_SAMPLE_LIMIT) ?? DEFAULT_SAMPLE_LIMIT;
    const samples = options.store.samplesOf(epoch, id, { kind, limit });
    return { nodeId: id, epoch, counts: options.store.countsOf(epoch, id), samples };
  };

  return (req, res) => {
    const send = (status: number, body: unknown, extra: http.OutgoingHttpHeaders = {}) => {
      const text = body === undefined ? "" : JSON.stringify(body);
      res.writeHead(status, {
        ...CORS,
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "content-length": Buffer.byteLength(text),
        ...extra,
      });
      res.end(req.method === "HEAD" ? undefined : text);
    };
    try {
      if (req.method === "OPTIONS") {
        const asked = req.headers["access-control-request-headers"];
        res.writeHead(204, {
          ...CORS,
          "access-control-allow-headers": typeof asked === "string" && asked !== "" ? asked : "content-type",
          "content-length": 0,
        });
        return res.end();
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        throw new HttpError(405, "method not allowed", `${req.method} is not allowed: this API is read-only`);
      }
      send(200, routes(new URL(req.url ?? "/", "http://checker")));
    } catch (e) {
      if (e instanceof HttpError) {
        send(e.status, { error: e.error, message: e.message }, e.status === 405 ? { allow: "GET, HEAD, OPTIONS" } : {});
      } else {
        options.onError?.(e);
        send(500, { error: "internal error", message: "the checker failed to answer; see its log" });
      }
    }
  };
}

export interface RunningApi {
  server: http.Server;
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

/** Serves the API on `host:port` (port 0: any free port). */
export function startApi(options: ApiOptions & { host: string; port: number }): Promise<RunningApi> {
  const server = http.createServer(apiHandler(options));
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve({
        server,
        url: `http://${host}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
