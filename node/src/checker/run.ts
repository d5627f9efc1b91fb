/**
 * `kaisar checker run`: opens the sample database, probes the configured nodes on their schedule,
 * serves the read-only API and, given an epoch context (from the chain), takes part in the epoch-end
 * exchange: `exchange.settle` after each epoch ends it signs its observations, collects its peers'
 * and signs the epoch's report (exchange.ts). Reading the nodes from the NodeRegistry comes next.
 */
import { Wallet } from "ethers";

import { epochAt, epochStart, type ChainClock } from "../chain/chainClock";
import type { CheckerConfig } from "../config/load";
import type { CheckerNode } from "../config/nodes";
import { DEFAULT_SCORING_PARAMS, type ObservationWindow } from "../scoring/types";
import { startApi, type RunningApi } from "./api";
import {
  epochResultView,
  finalizeEpoch,
  freezeOwnBundle,
  type EpochContextProvider,
  type EpochResult,
} from "./exchange";
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
  /** The wall clock (tests: a ManualClock); ignored with `chainClock`. */
  clock?: Clock;
  /**
   * Chain time (src/chain/chainClock.ts), read once already: probes are stamped, epochs cut and settled
   * by it, and it is read again before each discovery and epoch-end exchange run. Without it (a checker
   * with no chain) the wall clock is used.
   */
  chainClock?: ChainClock;
  /**
   * What the chain says about an ended epoch (checker set, licenses, budget, report domain). Without
   * it the checker still serves its signed observations but computes no report.
   */
  epochContext?: EpochContextProvider;
  /** Told of each epoch's report once this run has signed it. */
  onReport?: (result: EpochResult) => void;
  /** Reads the nodes to probe (from the chain: src/chain/discovery.ts); replaces `config.nodes`. */
  discoverNodes?: () => Promise<CheckerNode[]>;
  /** How often `discoverNodes` runs (default 60 s). */
  discoverEveryMs?: number;
}

/** Longest single timer (setTimeout's limit is 2^31 - 1 ms); a later due time is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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

/** ReportOracle.epochAt of a time in Unix ms (chain/chainClock.ts `epochAt`). */
export function epochClock(genesisSeconds: number, lengthMs: number): (ms: number) => number {
  const schedule = { genesis: genesisSeconds, length: lengthMs };
  return (ms) => epochAt(schedule, ms / 1000);
}

/**
 * The window `observeNode` measures epoch `epoch` over: the epoch's span on the oracle's clock and the
 * probe schedule's heartbeat interval. (Only nodes probed since before the epoch began are observed,
 * `CheckerStore.observationsFor` with `watchedFromStart`, so the part of the epoch such a node was listed is
 * the whole of it.)
 */
export function epochWindow(
  genesisSeconds: number,
  lengthMs: number,
  heartbeatMs: number,
): (epoch: number) => ObservationWindow {
  const schedule = { genesis: genesisSeconds, length: lengthMs };
  return (epoch) => ({
    from: epochStart(schedule, epoch),
    to: epochStart(schedule, epoch + 1),
    heartbeatSeconds: heartbeatMs / 1000,
  });
}

/** Starts the checker described by `config`. */
export async function startChecker(config: CheckerConfig, options: StartCheckerOptions = {}): Promise<RunningChecker> {
  const log = options.log ?? (() => {});
  const chainClock = options.chainClock;
  const clock: Clock = chainClock ?? options.clock ?? systemClock;
  // A reading of the chain's clock before a decision by it; a failed one keeps the last offset.
  const readChain = async (at: string) => {
    try {
      await chainClock?.refresh();
    } catch (e) {
      log({ at, chainClock: false, error: (e as Error)?.message });
    }
  };
  const wallet = new Wallet(config.privateKey);
  const checker = wallet.address;
  const epochOf = epochClock(config.epoch.genesis, config.epoch.length);
  const windowOf = epochWindow(config.epoch.genesis, config.epoch.length, config.schedule.heartbeat);
  // Observations of an epoch are frozen `exchange.settle` after it ends: probes in flight at the end land first.
  const settledEpoch = () => epochOf(clock.now() - config.exchange.settle);
  const oracle = config.contracts.ReportOracle;
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
      observations: (epoch) => {
        if (oracle === undefined || epoch >= settledEpoch()) return undefined;
        // Freeze on request only epochs this checker measured, or the one just ended (peers expect it).
        if (!store.ownBundle(epoch) && !store.hasSamples(epoch) && epoch !== settledEpoch() - 1) return undefined;
        return freezeOwnBundle(store, wallet, {
          epoch,
          chainId: config.chainId,
          oracle,
          nodes: config.nodes,
          watchedFromStart: true,
          window: windowOf(epoch),
        });
      },
      report: (epoch) => {
        const r = store.epochResult(epoch);
        return r && epochResultView(r);
      },
      tree: (epoch) => store.epochResult(epoch)?.tree,
      onError: (e) => log({ at: "Checker#api", error: (e as Error)?.message }),
    });
  } catch (e) {
    store.close();
    throw e;
  }
  scheduler.setNodes(config.nodes);
  scheduler.start();
  log({ at: "Checker#listen", url: api.url, checker, database: config.database, nodes: config.nodes.length });

  // The epoch-end exchange: one run at a time, due when the settled epoch moves on, again after
  // `exchange.retry` when the context or the exchange failed.
  let stopped = false;
  let exchangeTimer: unknown;
  let exchanging: Promise<void> = Promise.resolve();
  let lastFinalized = -1;
  const exchangeAbort = new AbortController();
  const epochContext = options.epochContext;

  const finalizeEnded = async (): Promise<void> => {
    const epoch = settledEpoch() - 1;
    if (!epochContext || epoch < 0 || epoch <= lastFinalized) return;
    if (store.epochResult(epoch)) {
      lastFinalized = epoch; // signed before a restart: it is served as it is
      return;
    }
    const ctx = await epochContext(epoch);
    if (stopped) return;
    const chainId = ctx.domain.chainId ?? config.chainId;
    const verifying = ctx.domain.verifyingContract ?? oracle;
    if (verifying === undefined) throw new Error("the epoch context's domain has no verifyingContract");
    const nodes = config.nodes;
    // An epoch a node was not yet expected in (this checker was not probing it when the epoch began) is
    // no downtime: the node is left out of it (store.observationsFor).
    const ownBundle = freezeOwnBundle(store, wallet, {
      epoch,
      chainId: BigInt(chainId),
      oracle: verifying,
      nodes,
      watchedFromStart: true,
      window: windowOf(epoch),
    });
    const result = await finalizeEpoch({
      epoch,
      ownBundle,
      peers: config.peers,
      checkerSet: ctx.checkerSet,
      licenses: ctx.licenses,
      configVersion: ctx.configVersion,
      domain: ctx.domain,
      budget: ctx.budget,
      epochStart: ctx.epochStart,
      epochEnd: ctx.epochEnd,
      params: ctx.params ?? DEFAULT_SCORING_PARAMS,
      nodes: ctx.nodes,
      signer: wallet,
      store,
      fetch: {
        timeoutMs: config.exchange.timeout,
        waitMs: config.exchange.wait,
        retryMs: config.exchange.retry,
        signal: exchangeAbort.signal,
      },
      log,
    });
    lastFinalized = epoch;
    options.onReport?.(result);
  };

  const scheduleExchange = (ms: number) => {
    if (stopped) return;
    exchangeTimer = clock.setTimer(
      () => {
        exchanging = runExchange();
      },
      Math.min(Math.max(0, ms), MAX_TIMER_MS),
    );
  };
  const runExchange = async (): Promise<void> => {
    let wait: number;
    await readChain("Checker#exchange");
    try {
      await finalizeEnded();
      // Next due: when the settled epoch moves on, i.e. `settle` after the current one ends.
      const due = epochStart(config.epoch, settledEpoch() + 1) * 1000 + config.exchange.settle;
      wait = due - clock.now() + 10;
    } catch (e) {
      log({ at: "Checker#exchange", epoch: settledEpoch() - 1, error: (e as Error)?.message });
      wait = config.exchange.retry;
    }
    scheduleExchange(wait);
  };
  if (epochContext) scheduleExchange(0);
  chainClock?.start(undefined, (e) => log({ at: "Checker#chainClock", error: (e as Error)?.message }));

  // Discovery: the list replaces config.nodes, which the API and the exchange read.
  let discoverTimer: unknown;
  const discover = async () => {
    await readChain("Checker#discovery");
    try {
      const found = await options.discoverNodes!();
      if (stopped) return;
      config.nodes = found;
      scheduler.setNodes(found);
      log({ at: "Checker#discovery", nodes: found.length });
    } catch (e) {
      log({ at: "Checker#discovery", error: (e as Error)?.message });
    }
    if (!stopped) discoverTimer = clock.setTimer(() => void discover(), options.discoverEveryMs ?? 60_000);
  };
  if (options.discoverNodes) void discover();

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
        stopped = true;
        chainClock?.stop();
        if (exchangeTimer !== undefined) clock.clearTimer(exchangeTimer);
        if (discoverTimer !== undefined) clock.clearTimer(discoverTimer);
        exchangeAbort.abort();
        await exchanging;
        await scheduler.stop({ abort: true });
        await api.close();
        store.close();
      })()),
  };
}
