/**
 * The checker's read-only HTTP API, for the web app's live monitoring (a Hono app on the shared HTTP
 * layer, src/http; JSON, CORS open to any origin: it only ever reads public measurements).
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
import type { RequestListener, Server } from "node:http";
import { z } from "zod";

import type { CheckerNode } from "../config/nodes";
import {
  createApp,
  HttpError,
  jsonAnswer,
  parseInput,
  readOnlyCors,
  READ_ONLY_METHODS,
  requestListener,
  serve,
  uintParam,
} from "../http";
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

/** The API's error answers: `{ error, message }`. */
const errorBody = (e: HttpError) => ({ error: e.code ?? "bad request", message: e.message });

const nodeId = uintParam("node id", 0xffffffff);
const epochParam = uintParam("epoch");
const samplesQuery = z.object({
  epoch: epochParam.optional(),
  kind: z
    .enum(PROBE_KINDS, {
      error: (issue) => `kind ${JSON.stringify(issue.input)} is not one of ${PROBE_KINDS.join(", ")}`,
    })
    .optional(),
  limit: uintParam("limit", MAX_SAMPLE_LIMIT).optional(),
});

/** The request handler (exported for tests and for embedding in another server). */
export function apiHandler(options: ApiOptions): RequestListener {
  return requestListener(apiApp(options));
}

/** The API as a Hono app. */
function apiApp(options: ApiOptions) {
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
  /** An ended epoch from the path: 404 while it runs. */
  const endedEpoch = (raw: string) => {
    const epoch = parseInput(epochParam, raw);
    const current = options.epochOf(clock.now());
    if (epoch >= current) {
      throw new HttpError(404, `epoch ${epoch} has not ended (the current epoch is ${current})`, "not found");
    }
    return epoch;
  };
  /** A node probed here (or with samples here), from the path. */
  const probedNode = (raw: string) => {
    const id = parseInput(nodeId, raw);
    const latest = options.store.latestByNode();
    const known = options.nodes().find((n) => n.id === id);
    if (!known && !latest.has(id)) throw new HttpError(404, `node ${id} is not probed here`, "not found");
    return { id, node: known, latest: latest.get(id) };
  };
  const found = (value: unknown, missing: string) => {
    if (value === undefined) throw new HttpError(404, missing, "not found");
    return value;
  };

  const app = createApp({
    strict: false,
    errorBody,
    internal: (e) => {
      options.onError?.(e);
      return new HttpError(500, "the checker failed to answer; see its log", "internal error");
    },
  });
  app.use(readOnlyCors((method) => `${method} is not allowed: this API is read-only`));
  app.use(async (c, next) => {
    await next();
    c.header("access-control-allow-methods", READ_ONLY_METHODS);
    c.header("access-control-max-age", "86400");
    c.header("x-content-type-options", "nosniff");
  });
  app.get("/health", (c) => {
    const now = clock.now();
    return jsonAnswer(c, 200, {
      ok: true,
      role: "checker",
      version: options.version ?? null,
      checker: options.checker ?? null,
      epoch: options.epochOf(now),
      uptimeSeconds: Math.floor((now - startedAt) / 1000),
      nodes: options.nodes().length,
      probes: options.probes?.() ?? null,
    });
  });
  app.get("/epochs/:epoch/observations", (c) => {
    const epoch = endedEpoch(c.req.param("epoch"));
    const missing = `no signed observations of epoch ${epoch} here (yet: they are signed exchange.settle after the epoch ends)`;
    return jsonAnswer(c, 200, found(options.observations?.(epoch), missing));
  });
  app.get("/epochs/:epoch/report", (c) => {
    const epoch = endedEpoch(c.req.param("epoch"));
    return jsonAnswer(c, 200, found(options.report?.(epoch), `no report of epoch ${epoch} here (yet)`));
  });
  app.get("/epochs/:epoch/tree", (c) => {
    const epoch = endedEpoch(c.req.param("epoch"));
    return jsonAnswer(c, 200, found(options.tree?.(epoch), `no reward tree of epoch ${epoch} here (yet)`));
  });
  app.get("/nodes", (c) => {
    const latest = options.store.latestByNode();
    const known = new Map(options.nodes().map((n) => [n.id, n]));
    const ids = [...new Set([...known.keys(), ...latest.keys()])].sort((a, b) => a - b);
    return jsonAnswer(c, 200, {
      epoch: options.epochOf(clock.now()),
      nodes: ids.map((id) => nodeEntry(id, known.get(id), latest.get(id))),
    });
  });
  app.get("/nodes/:id", (c) => {
    const { id, node, latest } = probedNode(c.req.param("id"));
    return jsonAnswer(c, 200, nodeEntry(id, node, latest));
  });
  app.get("/nodes/:id/samples", (c) => {
    const { id } = probedNode(c.req.param("id"));
    const query = parseInput(samplesQuery, {
      epoch: c.req.query("epoch") || undefined,
      kind: c.req.query("kind"),
      limit: c.req.query("limit") || undefined,
    });
    const epoch = query.epoch ?? options.epochOf(clock.now());
    const samples = options.store.samplesOf(epoch, id, {
      kind: query.kind,
      limit: query.limit ?? DEFAULT_SAMPLE_LIMIT,
    });
    return jsonAnswer(c, 200, { nodeId: id, epoch, counts: options.store.countsOf(epoch, id), samples });
  });
  return app;
}

export interface RunningApi {
  server: Server;
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

/** Serves the API on `host:port` (port 0: any free port). */
export function startApi(options: ApiOptions & { host: string; port: number }): Promise<RunningApi> {
  return serve(apiApp(options), {
    host: options.host,
    port: options.port,
    errorBody,
  });
}
