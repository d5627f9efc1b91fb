/**
 * `kaisar checker run`, the part built so far: opens the sample database, probes the configured
 * nodes on their schedule and serves the read-only API. Reading the nodes from the NodeRegistry and
 * the epoch-end exchange of observations come next.
 */
import { computeAddress } from "ethers";

import type { CheckerConfig } from "../config/load";
import type { CheckerNode } from "../config/nodes";
import { startApi, type RunningApi } from "./api";
import {
  probeBandwidth,
  probeChallenge,
  probeHardware,
  probeHeartbeat,
  type ProbeKind,
  type ProbeResult,
} from "./probe";
import { ProbeScheduler, systemClock, type Clock } from "./scheduler";
import { openStore, type CheckerStore } from "./store";

/** A structured log line: `at` says where (`Checker#probe`), the rest what happened. */
export interface CheckerLogEntry {
  at: string;
  [key: string]: unknown;
}

export interface StartCheckerOptions {
  log?: (entry: CheckerLogEntry) => void;
  version?: string;
  clock?: Clock;
}

export interface RunningChecker {
  /** The API's base URL. */
  url: string;
  /** The checker's operator address (from its private key). */
  checker: string;
  store: CheckerStore;
  scheduler: ProbeScheduler<CheckerNode>;
  api: RunningApi;
  epochOf(ms: number): number;
  /** Stops probing (in-flight probes are aborted and not recorded), closes the API, then the database. */
  stop(): Promise<void>;
}

/** ReportOracle.epochOf: epoch 0 until genesis, then one per `lengthMs` (whole seconds, as on chain). */
export function epochClock(genesisSeconds: number, lengthMs: number): (ms: number) => number {
  const length = Math.max(1, Math.round(lengthMs / 1000));
  return (ms) => {
    const t = Math.floor(ms / 1000);
    return t < genesisSeconds ? 0 : Math.floor((t - genesisSeconds) / length);
  };
}

/** Starts the checker described by `config`. */
export async function startChecker(config: CheckerConfig, options: StartCheckerOptions = {}): Promise<RunningChecker> {
  const log = options.log ?? (() => {});
  const clock = options.clock ?? systemClock;
  const checker = computeAddress(config.privateKey);
  const epochOf = epochClock(config.epoch.genesis, config.epoch.length);
  const store = openStore(config.database);
  const timeoutMs = config.schedule.probeTimeout;
  const lastHeartbeat = new Map<number, boolean>();

  const probe = (node: CheckerNode, kind: ProbeKind, signal: AbortSignal): Promise<ProbeResult> => {
    switch (kind) {
      case "heartbeat":
        return probeHeartbeat(node, { timeoutMs, signal });
      case "bandwidth":
        return probeBandwidth(node, { timeoutMs, signal, bytes: config.bandwidth.bytes });
      case "challenge":
        return probeChallenge(node, { timeoutMs: config.challenge.timeout, signal, n: config.challenge.n });
      case "hardware":
        return probeHardware(node, { timeoutMs, signal, chainId: config.chainId });
    }
  };

  const scheduler = new ProbeScheduler<CheckerNode>({
    intervals: {
      heartbeat: config.schedule.heartbeat,
      bandwidth: config.schedule.capacity,
      challenge: config.schedule.capacity,
      hardware: config.schedule.hardware,
    },
    concurrency: config.probe.concurrency,
    // Challenges and bandwidth tests are the long probes: each kind gets at most half of the slots,
    // so that heartbeats always find one.
    kindLimits: {
      challenge: Math.max(1, Math.floor(config.probe.concurrency / 2)),
      bandwidth: Math.max(1, Math.floor(config.probe.concurrency / 2)),
    },
    jitter: config.probe.jitterPercent / 100,
    clock,
    lastRun: (nodeId, kind) => store.lastRun(nodeId, kind),
    run: async (node, kind, signal) => {
      const at = clock.now();
      const result = await probe(node, kind, signal);
      if (signal.aborted) return; // the checker is stopping: whatever came back is not the node's fault
      store.recordResult(epochOf(at), node.id, at, result);
      if (kind === "heartbeat") {
        if (lastHeartbeat.get(node.id) !== result.ok) {
          log({ at: "Checker#heartbeat", node: node.id, up: result.ok, error: result.error });
        }
        lastHeartbeat.set(node.id, result.ok);
      } else if (!result.ok) {
        log({ at: `Checker#${kind}`, node: node.id, ok: false, errorCode: result.errorCode, error: result.error });
      }
    },
    onError: (e, node, kind) => log({ at: "Checker#error", node: node.id, kind, error: (e as Error)?.message }),
  });

  let api: RunningApi;
  try {
    api = await startApi({
      host: config.listen.host,
      port: config.listen.port,
      store,
      nodes: () => config.nodes,
      epochOf,
      checker,
      version: options.version,
      clock,
      probes: () => scheduler.stats(),
      onError: (e) => log({ at: "Checker#api", error: (e as Error)?.message }),
    });
  } catch (e) {
    store.close();
    throw e;
  }
  scheduler.setNodes(config.nodes);
  scheduler.start();
  log({ at: "Checker#listen", url: api.url, checker, database: config.database, nodes: config.nodes.length });

  let stopping: Promise<void> | undefined;
  return {
    url: api.url,
    checker,
    store,
    scheduler,
    api,
    epochOf,
    stop: () =>
      (stopping ??= (async () => {
        await scheduler.stop({ abort: true });
        await api.close();
        store.close();
      })()),
  };
}
