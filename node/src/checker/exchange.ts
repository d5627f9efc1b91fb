/**
 * The epoch-end exchange: checkers trade signed observations, every honest checker scores the same
 * set the same way and signs the same report.
 *
 * 1. Once an epoch has ended (and a settle delay has passed, so that probes in flight at the end have
 *    landed), each checker freezes its observations of the epoch into a bundle,
 *    `{ type, epoch, chainId, oracle, checker, observations }`, signs its canonical JSON with EIP-191
 *    (`Wallet.signMessage`) and serves it at `GET /epochs/:epoch/observations`. A bundle is frozen
 *    once: peers asking twice get the same bytes.
 * 2. `finalizeEpoch` asks every peer for its bundle, concurrently, each request bounded in time and
 *    size, again after a pause while a peer is not ready or not reachable, until a deadline.
 *    Each bundle is verified (`verifyBundle`): signed by the checker it names, that checker in the
 *    oracle's checker set, for this epoch, chain and oracle, every observation well formed. Bad ones
 *    are left out and reported with the reason.
 * 3. It scores the bundles it has (`scoreEpoch`: checkers sorted, observations bucketed per node and
 *    sorted, integer arithmetic), builds the reward tree (`epochTree`), the report (`epochReport`) and
 *    signs it (EIP-712, `signReport`). Nothing depends on the order bundles arrived in.
 * 4. The signed report is stored before it is served, first write wins: a checker asked again for an
 *    epoch it has signed gets the stored report back, even after a restart, and never signs a second
 *    root for that epoch (the oracle slashes that as equivocation).
 */
import { Wallet, ZeroAddress, getAddress, type TypedDataDomain } from "ethers";
import {
  fastHashReady,
  reportFromJson,
  reportToJson,
  signReport,
  treeToJson,
  type Report,
  type TreeLeaf,
} from "@kaisar/offchain";

import { epochReport, epochTree, scoreEpoch, type EpochScores } from "../scoring/aggregate";
import type { EpochChecker, EpochNode, NodeObservation, ScoringParams } from "../scoring/types";
import { ProbeError, endpointUrl, exchange, parseJson } from "./http";
import type { CheckerStore, StoredEpochResult } from "./store";
import {
  BundleError,
  ExchangeError,
  MAX_BUNDLE_BYTES,
  bundleMessage,
  verifyBundle,
  type BundleExpectation,
  type BundleProblem,
  type SignedBundle,
} from "./bundle";
import { ENV } from "../config/schema";

export * from "./bundle";

/** A peer left out of the exchange, and why. */
export interface PeerExclusion {
  /** The peer's URL (the own checker's bundle is never left out). */
  peer: string;
  /** The checker the bundle named, when it got that far. */
  checker?: string;
  problem: BundleProblem | "no-answer" | "bad-url" | "conflicting";
  reason: string;
}

export interface CollectOptions {
  /** Deadline of each request, ms (default 30 s). */
  timeoutMs?: number;
  /** How long to keep asking a peer that is not ready or not reachable, ms (default 5 min). */
  waitMs?: number;
  /** Pause between tries of a peer, ms (default 10 s). */
  retryMs?: number;
  /** Largest bundle accepted, bytes (default `MAX_BUNDLE_BYTES`). */
  maxBytes?: number;
  signal?: AbortSignal;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Asks every peer for its bundle of `expected.epoch`, concurrently. A peer that answers with a bundle
 * is done (verified: kept; not: left out with the reason); one that does not answer, answers an HTTP
 * error (404 until it has frozen its bundle) or times out is asked again after `retryMs` until
 * `waitMs` has passed. Returns when every peer is done or the time is up, whichever comes first.
 */
export async function collectBundles(
  peers: readonly string[],
  expected: BundleExpectation,
  options: CollectOptions = {},
): Promise<{ bundles: { peer: string; signed: SignedBundle }[]; excluded: PeerExclusion[] }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const waitMs = options.waitMs ?? 300_000;
  const retryMs = options.retryMs ?? 10_000;
  const maxBytes = options.maxBytes ?? MAX_BUNDLE_BYTES;
  const { signal } = options;
  const deadline = performance.now() + waitMs;

  const ask = async (peer: string): Promise<{ peer: string; signed: SignedBundle } | PeerExclusion> => {
    let url: URL;
    try {
      url = endpointUrl(peer, `epochs/${expected.epoch}/observations`);
    } catch (e) {
      return { peer, problem: "bad-url", reason: `${(e as Error).message}: fix \`peers\` (env ${ENV.peers})` };
    }
    let tries = 0;
    let last = "not asked";
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0 || signal?.aborted) {
        return { peer, problem: "no-answer", reason: `no bundle within ${waitMs} ms (${tries} tries; last: ${last})` };
      }
      tries++;
      try {
        const answer = await exchange(url, { timeoutMs: Math.min(timeoutMs, left), maxBytes, signal });
        return { peer, signed: verifyBundle(parseJson(answer.body), expected) };
      } catch (e) {
        if (e instanceof BundleError) {
          return { peer, problem: e.problem, reason: e.message, ...(e.checker ? { checker: e.checker } : {}) };
        }
        // An answer that is not JSON or far too big is what the peer serves: asking again will not help.
        if (e instanceof ProbeError && (e.code === "bad-json" || e.code === "too-large")) {
          return { peer, problem: "malformed", reason: e.message };
        }
        last = (e as Error).message;
      }
      await pause(Math.min(retryMs, deadline - performance.now()), signal);
    }
  };

  const outcomes = await Promise.all(peers.map(ask));
  const bundles: { peer: string; signed: SignedBundle }[] = [];
  const excluded: PeerExclusion[] = [];
  for (const o of outcomes) {
    if ("signed" in o) bundles.push(o);
    else excluded.push(o);
  }
  return { bundles, excluded };
}

/** What the oracle and the chain say about an epoch: who checks, what they hold, what it pays. */
export interface EpochContext {
  /** The oracle's checker-set config version the report is signed under. */
  configVersion: bigint;
  /** Operator addresses of the active checkers, in the oracle's order (ascending address). */
  checkerSet: readonly string[];
  /** Licenses delegated to each operator (keys in any case; missing: 0). */
  licenses: ReadonlyMap<string, bigint> | Readonly<Record<string, bigint>>;
  /** ReportOracle.epochBudget(epoch), KAI units. */
  budget: bigint;
  /** The oracle's EIP-712 domain (`reportDomain(chainId, oracle)`). */
  domain: TypedDataDomain;
  /** The epoch's start and end (`ReportOracle.epochStart(epoch)`, `epochStart(epoch + 1)`), Unix seconds. */
  epochStart: bigint;
  epochEnd: bigint;
  /** The epoch's nodes with their delivered GPU-seconds, fees and eligibility. */
  nodes: readonly EpochNode[];
  /** Scoring parameters (default `DEFAULT_SCORING_PARAMS`). */
  params?: ScoringParams;
}

/** Reads an epoch's context (from the chain). Without one, `startChecker` does not exchange. */
export type EpochContextProvider = (epoch: number) => Promise<EpochContext>;

export interface FinalizeOptions {
  epoch: number;
  /** This checker's signed bundle of the epoch (`freezeOwnBundle`). */
  ownBundle: SignedBundle;
  /** Other checkers' API base URLs. */
  peers: readonly string[];
  /** Operator addresses of the epoch's checkers, sorted as the oracle's (zero-address tombstones are ignored). */
  checkerSet: readonly string[];
  licenses: ReadonlyMap<string, bigint> | Readonly<Record<string, bigint>>;
  configVersion: bigint;
  /** The oracle's EIP-712 domain: its chainId and verifyingContract bind the bundles too. */
  domain: TypedDataDomain;
  /** The epoch's reward budget, KAI units. */
  budget: bigint;
  /** The epoch's start and end, Unix seconds (eligibility is the part of it a node was eligible). */
  epochStart: bigint;
  epochEnd: bigint;
  params: ScoringParams;
  nodes: readonly EpochNode[];
  /** The checker's operator key (signs the report). */
  signer: Wallet;
  /** Where the signed report is kept (and looked for first). */
  store: CheckerStore;
  fetch?: CollectOptions;
  log?: (entry: { at: string; [key: string]: unknown }) => void;
}

/** An epoch's signed report and what it was computed from. */
export interface EpochResult {
  epoch: number;
  root: string;
  report: Report;
  configVersion: bigint;
  nodeCount: bigint;
  /** EIP-712 signature of `report` under the oracle's domain. */
  signature: string;
  /** Checksummed. */
  signer: string;
  /** The bundles scored, by checker address. */
  bundles: SignedBundle[];
  excluded: PeerExclusion[];
  /** True when computed and signed by this call; false when read back from the store. */
  fresh: boolean;
  /** The scores, when computed by this call. */
  scores?: EpochScores;
}

function fromStored(r: StoredEpochResult): EpochResult {
  const report = reportFromJson(r.report, "the stored report");
  return {
    epoch: r.epoch,
    root: r.root,
    report,
    configVersion: report.configVersion,
    nodeCount: report.nodeCount,
    signature: r.signature,
    signer: r.signer,
    bundles: r.bundles as SignedBundle[],
    excluded: r.excluded as PeerExclusion[],
    fresh: false,
  };
}

/**
 * What `GET /epochs/:epoch/report` answers: the signed report (bigints as decimal strings), its
 * signature and signer, and the checkers whose bundles were scored.
 */
export function epochResultView(r: StoredEpochResult): Record<string, unknown> {
  return {
    epoch: r.epoch,
    report: r.report,
    signature: r.signature,
    signer: r.signer,
    root: r.root,
    nodeCount: r.report.nodeCount,
    checkers: (r.bundles as SignedBundle[]).map((b) => b.bundle.checker),
    excluded: r.excluded,
  };
}

const licensesOf = (licenses: FinalizeOptions["licenses"]): Map<string, bigint> =>
  new Map(
    (licenses instanceof Map ? [...licenses.entries()] : Object.entries(licenses)).map(([k, v]) => [
      k.toLowerCase(),
      v,
    ]),
  );

/** Finalizations in flight, per store and epoch: a second call for the same epoch waits for the first. */
const inFlight = new WeakMap<CheckerStore, Map<number, Promise<EpochResult>>>();

/**
 * The epoch-end step, independent of the chain: collects the peers' bundles (`collectBundles`),
 * scores them with this checker's own (`scoreEpoch`, `epochTree`, `epochReport`), signs the report
 * (EIP-712) and keeps it in the store. If the store already holds a report for the epoch, returns
 * that one without asking anyone or signing anything: one root per epoch, ever.
 *
 * Each checker of `checkerSet` gets its licenses and `reportsSigned` = 1 if its bundle was scored,
 * 0 if not (so a checker that delivered nothing earns nothing). Observations of nodes outside `nodes`
 * are dropped (every checker drops the same ones). A checker that signed two different bundles seen
 * here is left out entirely.
 */
/** The tree's leaves in order, each node leaf with the metrics it commits to (for SLA proofs). */
function treeLeaves(scores: EpochScores): TreeLeaf[] {
  return scores.leaves.map((leaf, i) =>
    i < scores.nodes.length ? { leaf, metrics: scores.nodes[i].metrics } : { leaf },
  );
}

export function finalizeEpoch(options: FinalizeOptions): Promise<EpochResult> {
  let perStore = inFlight.get(options.store);
  if (!perStore) inFlight.set(options.store, (perStore = new Map()));
  const running = perStore.get(options.epoch);
  if (running) return running;
  const promise = finalize(options).finally(() => perStore.delete(options.epoch));
  perStore.set(options.epoch, promise);
  return promise;
}

async function finalize(options: FinalizeOptions): Promise<EpochResult> {
  const { epoch, store, signer } = options;
  const log = options.log ?? (() => {});
  const kept = store.epochResult(epoch);
  if (kept) return fromStored(kept);

  const { chainId, verifyingContract } = options.domain;
  if (chainId === undefined || chainId === null || typeof verifyingContract !== "string") {
    throw new ExchangeError("the report domain has no chainId or verifyingContract: build it with reportDomain()");
  }
  // `ReportOracle.checkers()` marks an excluded operator with the zero address: no checker.
  const checkerSet = options.checkerSet.map((c) => c.toLowerCase()).filter((c) => c !== ZeroAddress);
  const me = signer.address.toLowerCase();
  if (!checkerSet.includes(me)) {
    throw new ExchangeError(
      `this checker's operator ${signer.address} (from privateKey, env ${ENV.privateKey}) is not in the checker ` +
        `set of config version ${options.configVersion} (never added, or excluded for lack of a license or ` +
        `stake): delegate a license to it, stake the minimum and wait for the next config`,
    );
  }
  const expected = { epoch, chainId: BigInt(chainId), oracle: verifyingContract, checkers: checkerSet };
  const own = verifyBundle(options.ownBundle, expected);
  if (own.bundle.checker !== me) throw new ExchangeError(`ownBundle is ${own.bundle.checker}'s, not ${me}'s`);

  const collected = await collectBundles(options.peers, expected, options.fetch);
  // Stopping cuts the collection short: a report of whoever had answered by then is not this epoch's.
  if (options.fetch?.signal?.aborted)
    throw new ExchangeError(`stopped during the exchange of epoch ${epoch}: nothing signed`);
  const excluded = [...collected.excluded];

  // One bundle per checker. This checker's own wins; a checker seen with two different bundles is left out.
  const byChecker = new Map<string, { peer: string; signed: SignedBundle }[]>();
  for (const b of collected.bundles) {
    const list = byChecker.get(b.signed.bundle.checker) ?? [];
    list.push(b);
    byChecker.set(b.signed.bundle.checker, list);
  }
  const chosen = new Map<string, SignedBundle>([[me, own]]);
  for (const [checker, list] of byChecker) {
    if (checker === me) continue; // a peer at our own URL, or one replaying our bundle
    const messages = new Set(list.map((b) => bundleMessage(b.signed.bundle)));
    if (messages.size === 1) chosen.set(checker, list[0].signed);
    else {
      for (const b of list) {
        excluded.push({
          peer: b.peer,
          checker,
          problem: "conflicting",
          reason: `${checker} signed ${messages.size} different bundles of epoch ${epoch}`,
        });
      }
    }
  }
  for (const x of excluded)
    log({ at: "Checker#exchange", epoch, excluded: x.peer, problem: x.problem, reason: x.reason });

  const bundles = [...chosen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, b]) => b);
  const nodeIds = new Set(options.nodes.map((n) => n.nodeId));
  const observations: NodeObservation[] = [];
  let dropped = 0;
  for (const b of bundles) {
    for (const o of b.bundle.observations) {
      if (nodeIds.has(o.nodeId)) observations.push(o);
      else dropped++;
    }
  }
  if (dropped > 0) log({ at: "Checker#exchange", epoch, dropped, why: "observations of nodes not in the epoch" });

  const licenses = licensesOf(options.licenses);
  const checkers: EpochChecker[] = checkerSet.map((operator) => ({
    operator,
    licenses: licenses.get(operator) ?? 0n,
    reportsSigned: chosen.has(operator) ? 1n : 0n,
  }));
  await fastHashReady;
  const scores = scoreEpoch(
    {
      epoch: BigInt(epoch),
      epochStart: options.epochStart,
      epochEnd: options.epochEnd,
      budget: options.budget,
      nodes: options.nodes,
      checkers,
      observations,
    },
    options.params,
  );
  const root = epochTree(scores).root;
  const report = epochReport(scores, root, options.configVersion);

  // Another call may have stored a report while the peers were asked: that one stands, nothing is signed.
  const raced = store.epochResult(epoch);
  if (raced) return fromStored(raced);
  const signature = await signReport(signer, options.domain, report);
  const stored = store.saveEpochResult({
    epoch,
    root,
    configVersion: options.configVersion.toString(),
    report: { ...reportToJson(report) },
    signature,
    signer: getAddress(signer.address),
    bundles,
    excluded,
    tree: treeToJson(root, treeLeaves(scores)),
  });
  if (stored.root !== root || stored.signature !== signature) {
    // Someone else's write won (another process on the same file): serve it, drop ours unpublished.
    log({ at: "Checker#exchange", epoch, kept: stored.root, dropped: root, why: "a report was stored first" });
    return fromStored(stored);
  }
  log({
    at: "Checker#report",
    epoch,
    root,
    nodeCount: report.nodeCount.toString(),
    checkers: bundles.length,
    excluded: excluded.length,
  });
  return { ...fromStored(stored), fresh: true, scores };
}
