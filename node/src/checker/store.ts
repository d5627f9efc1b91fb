/**
 * The checker's samples, in an embedded SQLite database (better-sqlite3), so that a restart loses
 * nothing and an epoch's samples survive a crash.
 *
 * - WAL journal with `synchronous = NORMAL`: every recorded sample is committed before
 *   `recordSample` returns and survives the process crashing; only a power cut or an OS crash can
 *   lose the last few commits (FULL would fsync each of hundreds of samples a second).
 * - One row per probe in `samples` (epoch, node, kind, time, outcome, the figures of its kind and
 *   its evidence as JSON); `latest` points at each (node, kind)'s newest sample (by time) for the live API.
 * - The schema is versioned in `meta` (`schema_version`); `openStore` applies the migrations the file
 *   lacks (storeSchema.ts), each in a transaction, so opening is idempotent, and refuses a file from a newer version.
 * - At the epoch's end `observationsFor` turns each node's samples into the `NodeObservation` the
 *   checker exchanges (`observeNode` of src/scoring: uptime, median bandwidth, median challenge
 *   throughput, hardware mismatch by majority, evidence = keccak256 of the samples' canonical JSON).
 * - For the epoch-end exchange (exchange.ts) it keeps this checker's signed observations of each ended
 *   epoch (`own_bundles`) and each epoch's signed report (`epoch_results`); both are written once and
 *   never replaced, so a restart serves the same bytes and never signs a second root for an epoch.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

import { observeNode } from "../scoring/observe";
import type {
  BandwidthSample,
  CapacitySample,
  HardwareSample,
  HeartbeatSample,
  NodeObservation,
  NodeSamples,
  ObservationWindow,
} from "../scoring/types";
import { PROBE_KINDS, type ProbeKind, type ProbeResult } from "./probe";
import { migrate, readVersion } from "./storeSchema";

export { SCHEMA_VERSION } from "./storeSchema";

export interface SampleInput {
  epoch: number;
  nodeId: number;
  kind: ProbeKind;
  /** Unix milliseconds, when the probe started. */
  at: number;
  ok: boolean;
  latencyMs: number;
  mbps?: number | null;
  n?: number | null;
  elapsedMs?: number | null;
  passed?: boolean | null;
  match?: boolean | null;
  errorCode?: string | null;
  error?: string | null;
  /** Anything JSON: what backs the sample (the signed hardware report, the challenge's seed, ...). */
  evidence?: unknown;
}

export interface Sample {
  id: number;
  epoch: number;
  nodeId: number;
  kind: ProbeKind;
  at: number;
  ok: boolean;
  latencyMs: number;
  mbps: number | null;
  n: number | null;
  elapsedMs: number | null;
  passed: boolean | null;
  match: boolean | null;
  errorCode: string | null;
  error: string | null;
  evidence: unknown;
}

interface Row {
  id: number;
  epoch: number;
  node_id: number;
  kind: ProbeKind;
  at: number;
  ok: number;
  latency_ms: number;
  mbps: number | null;
  n: number | null;
  elapsed_ms: number | null;
  passed: number | null;
  match: number | null;
  error_code: string | null;
  error: string | null;
  evidence: string | null;
}

const bool = (v: number | null) => (v === null ? null : v === 1);
const bit = (v: boolean | null | undefined) => (v === null || v === undefined ? null : v ? 1 : 0);
const MAX_ERROR = 500;

function fromRow(r: Row): Sample {
  return {
    id: r.id,
    epoch: r.epoch,
    nodeId: r.node_id,
    kind: r.kind,
    at: r.at,
    ok: r.ok === 1,
    latencyMs: r.latency_ms,
    mbps: r.mbps,
    n: r.n,
    elapsedMs: r.elapsed_ms,
    passed: bool(r.passed),
    match: bool(r.match),
    errorCode: r.error_code,
    error: r.error,
    evidence: r.evidence === null ? null : JSON.parse(r.evidence),
  };
}

/** The sample of a probe's result: its figures in columns, what backs them in `evidence`. */
export function sampleOf(epoch: number, nodeId: number, at: number, r: ProbeResult): SampleInput {
  const base = {
    epoch,
    nodeId,
    kind: r.kind,
    at,
    ok: r.ok,
    latencyMs: r.latencyMs,
    errorCode: r.errorCode ?? null,
    error: r.error ?? null,
  };
  switch (r.kind) {
    case "heartbeat":
      return { ...base, evidence: { version: r.version, uptimeSeconds: r.uptimeSeconds } };
    case "bandwidth":
      return { ...base, mbps: r.mbps, evidence: { bytes: r.bytes } };
    case "challenge":
      return {
        ...base,
        n: r.n,
        elapsedMs: r.elapsedMs,
        passed: r.passed,
        evidence: { seed: r.seed, agentElapsedMs: r.agentElapsedMs, kernel: r.kernel },
      };
    case "hardware":
      return {
        ...base,
        match: r.match,
        evidence: { reasons: r.reasons, notes: r.notes, signer: r.signer, report: r.report, signature: r.signature },
      };
  }
}

/** This checker's signed observations of an epoch, as stored (`bundle` is the signed object). */
export interface StoredBundle {
  epoch: number;
  bundle: unknown;
  signature: string;
  /** Unix milliseconds. */
  createdAt: number;
}

/** The signed report of an epoch, as stored (JSON fields parsed back). */
export interface StoredEpochResult {
  epoch: number;
  root: string;
  /** Decimal string. */
  configVersion: string;
  /** The report with its bigints as decimal strings. */
  report: Record<string, string>;
  signature: string;
  signer: string;
  bundles: unknown[];
  excluded: unknown[];
  /** The reward tree's JSON (`treeToJson`: root and leaves with node metrics); absent in older rows. */
  tree?: unknown;
  /** Unix milliseconds. */
  createdAt: number;
}

export interface SampleQuery {
  kind?: ProbeKind;
  /** The most recent `limit` samples (still returned oldest first). */
  limit?: number;
}

/** Per kind, how many samples an epoch has of a node and how many were ok. */
export type SampleCounts = Record<ProbeKind, { total: number; ok: number }>;

export class CheckerStore {
  private readonly insertSample;
  private readonly upsertLatest;
  private readonly selectSamples;
  private readonly selectSamplesOfKind;
  private readonly selectLatest;
  private readonly selectLastRun;
  private readonly selectCounts;
  private readonly record;
  private readonly selectHasSamples;
  private readonly selectHasHeartbeat;
  private readonly selectBundle;
  private readonly insertBundle;
  private readonly selectResult;
  private readonly insertResult;

  private constructor(
    private readonly db: Database.Database,
    /** The database file (":memory:" for none). */
    readonly file: string,
  ) {
    this.insertSample = db.prepare<unknown[], never>(
      `INSERT INTO samples (epoch, node_id, kind, at, ok, latency_ms, mbps, n, elapsed_ms, passed, match,
         error_code, error, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.upsertLatest = db.prepare<[number, string, number | bigint, number], never>(
      `INSERT INTO latest (node_id, kind, sample_id, at) VALUES (?, ?, ?, ?)
       ON CONFLICT (node_id, kind) DO UPDATE SET sample_id = excluded.sample_id, at = excluded.at
       WHERE excluded.at >= latest.at`,
    );
    this.selectSamples = db.prepare<[number, number, number], Row>(
      `SELECT * FROM (SELECT * FROM samples WHERE epoch = ? AND node_id = ? ORDER BY at DESC, id DESC LIMIT ?)
       ORDER BY at, id`,
    );
    this.selectSamplesOfKind = db.prepare<[number, number, string, number], Row>(
      `SELECT * FROM (SELECT * FROM samples WHERE epoch = ? AND node_id = ? AND kind = ?
         ORDER BY at DESC, id DESC LIMIT ?) ORDER BY at, id`,
    );
    this.selectLatest = db.prepare<[], Row>(
      `SELECT s.* FROM latest l JOIN samples s ON s.id = l.sample_id ORDER BY s.node_id, s.kind`,
    );
    this.selectLastRun = db.prepare<[number, string], { at: number }>(
      `SELECT at FROM latest WHERE node_id = ? AND kind = ?`,
    );
    this.selectCounts = db.prepare<[number, number], { kind: ProbeKind; total: number; ok: number }>(
      `SELECT kind, COUNT(*) AS total, SUM(ok) AS ok FROM samples WHERE epoch = ? AND node_id = ? GROUP BY kind`,
    );
    this.selectHasSamples = db.prepare<[number], { one: number }>(
      `SELECT 1 AS one FROM samples WHERE epoch = ? LIMIT 1`,
    );
    this.selectHasHeartbeat = db.prepare<[number, number], { one: number }>(
      `SELECT 1 AS one FROM samples WHERE epoch = ? AND node_id = ? AND kind = 'heartbeat' LIMIT 1`,
    );
    this.selectBundle = db.prepare<[number], { epoch: number; bundle: string; signature: string; created_at: number }>(
      `SELECT * FROM own_bundles WHERE epoch = ?`,
    );
    // First write wins (DO NOTHING): the caller reads back what is stored and serves that.
    this.insertBundle = db.prepare<[number, string, string, number], never>(
      `INSERT INTO own_bundles (epoch, bundle, signature, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (epoch) DO NOTHING`,
    );
    this.selectResult = db.prepare<[number], ResultRow>(`SELECT * FROM epoch_results WHERE epoch = ?`);
    this.insertResult = db.prepare<unknown[], never>(
      `INSERT INTO epoch_results (epoch, root, config_version, report, signature, signer, bundles, excluded, created_at, tree)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (epoch) DO NOTHING`,
    );
    this.record = db.transaction((s: SampleInput): number => {
      const info = this.insertSample.run(
        s.epoch,
        s.nodeId,
        s.kind,
        Math.round(s.at),
        bit(s.ok),
        s.latencyMs,
        s.mbps ?? null,
        s.n ?? null,
        s.elapsedMs ?? null,
        bit(s.passed),
        bit(s.match),
        s.errorCode ?? null,
        s.error === null || s.error === undefined ? null : s.error.slice(0, MAX_ERROR),
        s.evidence === undefined || s.evidence === null ? null : JSON.stringify(s.evidence),
      );
      const id = Number(info.lastInsertRowid);
      this.upsertLatest.run(s.nodeId, s.kind, id, Math.round(s.at));
      return id;
    });
  }

  /**
   * Opens (creating it and its folder if needed) the database at `file`, or an in-memory one for
   * ":memory:", and brings its schema up to date.
   */
  static open(file: string): CheckerStore {
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("busy_timeout = 5000");
      migrate(db, file);
    } catch (e) {
      db.close();
      throw e;
    }
    return new CheckerStore(db, file);
  }

  /** The schema version of the open file. */
  get schemaVersion(): number {
    return readVersion(this.db);
  }

  /** The journal mode in force ("wal" for a file). */
  get journalMode(): string {
    return String(this.db.pragma("journal_mode", { simple: true }));
  }

  /** Records one sample (committed on return); returns its id. */
  recordSample(sample: SampleInput): number {
    return this.record(sample);
  }

  /** Records a probe's result as a sample of `epoch`, taken at `at` (Unix ms). */
  recordResult(epoch: number, nodeId: number, at: number, result: ProbeResult): number {
    return this.record(sampleOf(epoch, nodeId, at, result));
  }

  /** The samples of `nodeId` in `epoch`, oldest first. */
  samplesOf(epoch: number, nodeId: number, query: SampleQuery = {}): Sample[] {
    const limit = query.limit ?? -1; // SQLite: a negative LIMIT is no limit
    const rows = query.kind
      ? this.selectSamplesOfKind.all(epoch, nodeId, query.kind, limit)
      : this.selectSamples.all(epoch, nodeId, limit);
    return rows.map(fromRow);
  }

  /** Per kind, the count of `nodeId`'s samples in `epoch` and of those that were ok. */
  countsOf(epoch: number, nodeId: number): SampleCounts {
    const counts = Object.fromEntries(PROBE_KINDS.map((k) => [k, { total: 0, ok: 0 }])) as SampleCounts;
    for (const r of this.selectCounts.all(epoch, nodeId)) counts[r.kind] = { total: r.total, ok: r.ok };
    return counts;
  }

  /** Each node's newest sample of each kind, by node id. */
  latestByNode(): Map<number, Partial<Record<ProbeKind, Sample>>> {
    const out = new Map<number, Partial<Record<ProbeKind, Sample>>>();
    for (const row of this.selectLatest.all()) {
      const s = fromRow(row);
      let entry = out.get(s.nodeId);
      if (!entry) out.set(s.nodeId, (entry = {}));
      entry[s.kind] = s;
    }
    return out;
  }

  /** When `nodeId` was last probed for `kind` (Unix ms), if ever. */
  lastRun(nodeId: number, kind: ProbeKind): number | undefined {
    return this.selectLastRun.get(nodeId, kind)?.at;
  }

  /**
   * `nodeId`'s samples of `epoch` as the scoring module takes them. Times become Unix seconds; a failed
   * bandwidth test counts 0 Mbps and a failed challenge counts as not passed (0 MFLOP/s); hardware
   * probes that got no answer at all (match NULL) are left out: the heartbeats count that downtime.
   */
  nodeSamples(epoch: number, nodeId: number): NodeSamples {
    const samples = {
      heartbeats: [] as HeartbeatSample[],
      bandwidth: [] as BandwidthSample[],
      capacity: [] as CapacitySample[],
      hardware: [] as HardwareSample[],
    };
    for (const s of this.samplesOf(epoch, nodeId)) {
      const at = Math.floor(s.at / 1000);
      switch (s.kind) {
        case "heartbeat":
          samples.heartbeats.push({ at, ok: s.ok });
          break;
        case "bandwidth":
          samples.bandwidth.push({ at, mbps: s.ok && s.mbps !== null ? s.mbps : 0 });
          break;
        case "challenge":
          if (s.n === null) break;
          samples.capacity.push({
            at,
            n: s.n,
            elapsedMs: Math.max(s.elapsedMs ?? s.latencyMs, 0.001),
            passed: s.passed === true,
          });
          break;
        case "hardware":
          if (s.match !== null) samples.hardware.push({ at, match: s.match });
          break;
      }
    }
    return samples;
  }

  /**
   * Whether this checker was already probing `nodeId` when `epoch` began: it has a heartbeat of the
   * node in the epoch before. A node registered (or first listed by this checker) after an epoch began,
   * or an epoch this checker joined midway (its first run, a restart after a stop), has none.
   */
  watchedFromStart(epoch: number, nodeId: number): boolean {
    return epoch > 0 && this.selectHasHeartbeat.get(epoch - 1, nodeId) !== undefined;
  }

  /**
   * The checker's observation of each of `nodes` over `epoch` (`observeNode`), in the order given, with
   * uptime over the heartbeats `window` (the epoch, at the probe schedule's heartbeat interval) expects.
   * Nodes without a sample in the epoch are left out: this checker did not observe them. With
   * `watchedFromStart`, so are nodes it was not yet probing when the epoch began (`watchedFromStart`):
   * an epoch a node was not yet expected in is no downtime (heartbeats from the epoch's middle on
   * would read as the whole epoch), no SLA credit and no reward; the node is scored from the next one.
   */
  observationsFor(
    epoch: number,
    nodes: readonly (number | { id: number })[],
    checkerAddress: string,
    window: ObservationWindow,
    options: { watchedFromStart?: boolean } = {},
  ): NodeObservation[] {
    const out: NodeObservation[] = [];
    for (const node of nodes) {
      const id = typeof node === "number" ? node : node.id;
      if (options.watchedFromStart && !this.watchedFromStart(epoch, id)) continue;
      const samples = this.nodeSamples(epoch, id);
      const count =
        samples.heartbeats.length + samples.bandwidth.length + samples.capacity.length + samples.hardware.length;
      if (count > 0) out.push(observeNode(checkerAddress, id, samples, window));
    }
    return out;
  }

  /** Whether `epoch` has any sample (cheap: one index probe). */
  hasSamples(epoch: number): boolean {
    return this.selectHasSamples.get(epoch) !== undefined;
  }

  /** This checker's signed observations of `epoch`, if it signed them. */
  ownBundle(epoch: number): StoredBundle | undefined {
    const r = this.selectBundle.get(epoch);
    return r && { epoch: r.epoch, bundle: JSON.parse(r.bundle), signature: r.signature, createdAt: r.created_at };
  }

  /**
   * Keeps this checker's signed observations of `epoch` unless some are kept already; returns what is
   * kept (the earlier bundle if there was one: a bundle, once served, never changes).
   */
  saveOwnBundle(epoch: number, bundle: unknown, signature: string, at = Date.now()): StoredBundle {
    this.insertBundle.run(epoch, JSON.stringify(bundle), signature, Math.round(at));
    return this.ownBundle(epoch)!;
  }

  /** The signed report of `epoch`, if one was computed. */
  epochResult(epoch: number): StoredEpochResult | undefined {
    const r = this.selectResult.get(epoch);
    return r && resultFromRow(r);
  }

  /**
   * Keeps the signed report of `epoch` unless one is kept already; returns what is kept. The first
   * write wins, so a second, different root for the same epoch is never stored (nor served).
   */
  saveEpochResult(result: Omit<StoredEpochResult, "createdAt"> & { createdAt?: number }): StoredEpochResult {
    this.insertResult.run(
      result.epoch,
      result.root,
      result.configVersion,
      JSON.stringify(result.report),
      result.signature,
      result.signer,
      JSON.stringify(result.bundles),
      JSON.stringify(result.excluded),
      Math.round(result.createdAt ?? Date.now()),
      result.tree === undefined ? null : JSON.stringify(result.tree),
    );
    return this.epochResult(result.epoch)!;
  }

  /** Epochs with samples, ascending, with their sample counts. */
  epochs(): { epoch: number; samples: number }[] {
    return this.db
      .prepare<[], { epoch: number; samples: number }>(
        "SELECT epoch, COUNT(*) AS samples FROM samples GROUP BY epoch ORDER BY epoch",
      )
      .all();
  }

  /** Deletes the samples of epochs before `epoch` (except each node's latest); returns how many. */
  prune(epoch: number): number {
    return this.db
      .prepare("DELETE FROM samples WHERE epoch < ? AND id NOT IN (SELECT sample_id FROM latest)")
      .run(epoch).changes;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

interface ResultRow {
  epoch: number;
  root: string;
  config_version: string;
  report: string;
  signature: string;
  signer: string;
  bundles: string;
  excluded: string;
  created_at: number;
  tree: string | null;
}

function resultFromRow(r: ResultRow): StoredEpochResult {
  return {
    epoch: r.epoch,
    root: r.root,
    configVersion: r.config_version,
    report: JSON.parse(r.report) as Record<string, string>,
    signature: r.signature,
    signer: r.signer,
    bundles: JSON.parse(r.bundles) as unknown[],
    excluded: JSON.parse(r.excluded) as unknown[],
    ...(r.tree !== null && { tree: JSON.parse(r.tree) as unknown }),
    createdAt: r.created_at,
  };
}

/** Opens the checker's database (see `CheckerStore.open`). */
export function openStore(file: string): CheckerStore {
  return CheckerStore.open(file);
}
