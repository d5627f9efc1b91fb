/**
 * How many heartbeat probes per second the checker sustains: `probesPerSecond({ agents: 500 })`.
 *
 * The fake agents are `agents` servers on the shared HTTP layer (benchAgents.ts), each on its own loopback port (distinct ports, as
 * real nodes are distinct hosts: every probe opens its own TCP connection), all in one worker thread
 * so that they do not share the checker's event loop. Each answers `GET /health` for its node id.
 * The checker side is the real thing: the scheduler (concurrency bound, per-(node, kind) jobs),
 * `probeHeartbeat` (deadline, size cap, fresh connection) and the SQLite store recording every result
 * (WAL, a file in the temporary folder). The heartbeat period is set so short that demand exceeds
 * what the checker can do; the figure is the probes completed per second after a warm-up.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CheckerNode } from "../config/nodes";
import { moduleWorker } from "../provider/solver";
import { probeHeartbeat } from "./probe";
import { ProbeScheduler } from "./scheduler";
import { openStore } from "./store";

export interface ProbeBenchOptions {
  /** Fake agents (nodes), default 500. */
  agents?: number;
  /** Measured time after the warm-up, ms (default 5,000). */
  durationMs?: number;
  /** Warm-up, ms (default 1,000). */
  warmupMs?: number;
  /** Probes in flight at once (default 64, the checker's default). */
  concurrency?: number;
}

export interface ProbeBenchResult {
  agents: number;
  concurrency: number;
  durationMs: number;
  /** Heartbeats completed (and recorded) per second. */
  perSecond: number;
  /** Share of them that succeeded. */
  okRatio: number;
  /** Median heartbeat latency, ms. */
  medianLatencyMs: number;
}

const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

const AGENTS_FILE = path.join(__dirname, `benchAgents${path.extname(__filename)}`);

/** Heartbeat probes per second the checker sustains against `agents` fake agents on loopback. */
export async function probesPerSecond(options: ProbeBenchOptions = {}): Promise<ProbeBenchResult> {
  const agents = options.agents ?? 500;
  const durationMs = options.durationMs ?? 5_000;
  const warmupMs = options.warmupMs ?? 1_000;
  const concurrency = options.concurrency ?? 64;

  const worker = moduleWorker(AGENTS_FILE, { agents, provider: PROVIDER });
  const ports = await new Promise<number[]>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-probe-bench-"));
  const store = openStore(path.join(dir, "checker.sqlite"));
  const nodes: CheckerNode[] = ports.map((port, i) => ({
    id: i + 1,
    url: `http://127.0.0.1:${port}`,
    provider: PROVIDER,
    spec: { gpuClass: "H100-80GB", gpuCount: 1, vramGiB: 80 },
  }));

  let counting = false;
  let done = 0;
  let ok = 0;
  const latencies: number[] = [];
  const scheduler = new ProbeScheduler<CheckerNode>({
    // Every node due every 10 ms: far more than the checker can do, so it runs flat out.
    intervals: { heartbeat: 10 },
    concurrency,
    jitter: 0,
    startSpreadMs: 0,
    run: async (node, _kind, signal) => {
      const at = Date.now();
      const result = await probeHeartbeat(node, { timeoutMs: 5_000, signal });
      if (signal.aborted) return;
      store.recordResult(0, node.id, at, result);
      if (counting) {
        done++;
        if (result.ok) ok++;
        latencies.push(result.latencyMs);
      }
    },
  });
  try {
    scheduler.setNodes(nodes);
    scheduler.start();
    await sleep(warmupMs);
    counting = true;
    const t0 = performance.now();
    await sleep(durationMs);
    counting = false;
    const elapsed = performance.now() - t0;
    latencies.sort((a, b) => a - b);
    return {
      agents,
      concurrency,
      durationMs: Math.round(elapsed),
      perSecond: Math.round((done / elapsed) * 1000),
      okRatio: done === 0 ? 0 : Math.round((ok / done) * 10_000) / 10_000,
      medianLatencyMs: latencies.length === 0 ? 0 : Math.round(latencies[latencies.length >> 1] * 100) / 100,
    };
  } finally {
    await scheduler.stop({ abort: true });
    worker.postMessage("close");
    await worker.terminate();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
