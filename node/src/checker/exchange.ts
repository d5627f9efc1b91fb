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
import { Wallet, ZeroAddress, getAddress, hashMessage, verifyMessage, type TypedDataDomain } from "ethers";
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
import { canonicalJson, type Canonical } from "../scoring/canonical";
import type { EpochChecker, EpochNode, NodeObservation, ObservationWindow, ScoringParams } from "../scoring/types";
import { ProbeError, endpointUrl, exchange, parseJson } from "./http";
import type { CheckerStore, StoredEpochResult } from "./store";

/** The `type` of an observation bundle: what the signed message is, and its version. */
export const BUNDLE_TYPE = "kaisar/observations/v1";

/** Largest bundle accepted from a peer: 100,000 nodes make about 26 MB. */
export const MAX_BUNDLE_BYTES = 128 * 1024 * 1024;

/** One checker's observations of an epoch, as signed. Addresses in lower case, observations by node id. */
export interface ObservationBundle {
  type: typeof BUNDLE_TYPE;
  epoch: number;
  chainId: number;
  /** The ReportOracle the epoch's report goes to. */
  oracle: string;
  /** The checker's operator address; every observation names it too. */
  checker: string;
  observations: NodeObservation[];
}

/** A bundle and the EIP-191 signature of `bundleMessage(bundle)` by its checker. */
export interface SignedBundle {
  bundle: ObservationBundle;
  signature: string;
}

/** What is wrong with a bundle (`BundleError.problem`). */
export type BundleProblem =
  | "malformed" // not the shape of a bundle, or an observation is not well formed (the message says which)
  | "wrong-epoch"
  | "wrong-chain"
  | "wrong-oracle"
  | "unknown-checker" // the checker it names is not in the epoch's checker set
  | "bad-signature" // the signature does not parse
  | "wrong-signer"; // signed by another key than the checker's

/** A bundle that cannot be used; `problem` says what kind of wrong, the message exactly what. */
export class BundleError extends Error {
  override name = "BundleError";
  constructor(
    readonly problem: BundleProblem,
    message: string,
    /** The checker the bundle names, once its shape is known to be right. */
    readonly checker?: string,
  ) {
    super(message);
  }
}

/** The exchange cannot run as configured; the message names the setting and how to fix it. */
export class ExchangeError extends Error {
  override name = "ExchangeError";
}

/** The message a bundle's checker signs (EIP-191): the bundle's canonical JSON. */
export function bundleMessage(bundle: ObservationBundle): string {
  return canonicalJson(bundle as unknown as Canonical);
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const BUNDLE_KEYS = ["chainId", "checker", "epoch", "observations", "oracle", "type"];
const OBSERVATION_KEYS = [
  "bandwidthMbps",
  "checker",
  "evidence",
  "hardwareMismatch",
  "hardwareScore",
  "nodeId",
  "uptimeBps",
];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isUint = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= max;

/** Throws a "malformed" BundleError unless `obj` has exactly `keys`. */
function exactKeys(what: string, obj: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of keys) if (!(k in obj)) throw new BundleError("malformed", `${what} has no ${k}`);
  for (const k of Object.keys(obj)) {
    if (!keys.includes(k)) throw new BundleError("malformed", `${what} has a field ${JSON.stringify(k)} it should not`);
  }
}

/** Checks one observation of a bundle by `checker`; returns it with only its own fields. */
function checkObservation(raw: unknown, i: number, checker: string): NodeObservation {
  if (!isRecord(raw)) throw new BundleError("malformed", `observations[${i}] is not an object`);
  const node = isUint(raw.nodeId, 0xffffffff) ? ` (node ${raw.nodeId})` : "";
  const what = `observations[${i}]${node}`;
  exactKeys(what, raw, OBSERVATION_KEYS);
  const bad = (field: string, expected: string) =>
    new BundleError("malformed", `${what}: ${field} ${JSON.stringify(raw[field])} is not ${expected}`);
  if (raw.checker !== checker) throw bad("checker", `the bundle's checker ${checker}`);
  if (!isUint(raw.nodeId, 0xffffffff)) throw bad("nodeId", "a node id (uint32)");
  if (!isUint(raw.uptimeBps, 10_000)) throw bad("uptimeBps", "a whole number in 0..10000");
  if (!isUint(raw.bandwidthMbps)) throw bad("bandwidthMbps", "a whole number >= 0");
  if (!isUint(raw.hardwareScore)) throw bad("hardwareScore", "a whole number >= 0");
  if (typeof raw.hardwareMismatch !== "boolean") throw bad("hardwareMismatch", "a boolean");
  if (typeof raw.evidence !== "string" || !BYTES32.test(raw.evidence)) throw bad("evidence", "0x and 64 hex digits");
  return {
    checker,
    nodeId: raw.nodeId,
    uptimeBps: raw.uptimeBps,
    bandwidthMbps: raw.bandwidthMbps,
    hardwareScore: raw.hardwareScore,
    hardwareMismatch: raw.hardwareMismatch,
    evidence: raw.evidence,
  };
}

/** The bundle's fields checked; observations copied with their own fields only. */
function checkShape(raw: unknown): ObservationBundle {
  if (!isRecord(raw)) throw new BundleError("malformed", "the bundle is not an object");
  exactKeys("the bundle", raw, BUNDLE_KEYS);
  if (raw.type !== BUNDLE_TYPE) {
    throw new BundleError("malformed", `type ${JSON.stringify(raw.type)} is not ${JSON.stringify(BUNDLE_TYPE)}`);
  }
  if (!isUint(raw.epoch))
    throw new BundleError("malformed", `epoch ${JSON.stringify(raw.epoch)} is not a whole number`);
  if (!isUint(raw.chainId) || raw.chainId === 0) {
    throw new BundleError("malformed", `chainId ${JSON.stringify(raw.chainId)} is not a chain id`);
  }
  for (const k of ["oracle", "checker"] as const) {
    const v = raw[k];
    if (typeof v !== "string" || !ADDRESS.test(v) || v !== v.toLowerCase()) {
      throw new BundleError("malformed", `${k} ${JSON.stringify(v)} is not a lower-case address`);
    }
  }
  if (!Array.isArray(raw.observations)) throw new BundleError("malformed", "observations is not a list");
  const checker = raw.checker as string;
  const observations = raw.observations.map((o, i) => checkObservation(o, i, checker));
  for (let i = 1; i < observations.length; i++) {
    // Strictly increasing: one observation per node, and one canonical order (the signed bytes are unique).
    if (observations[i].nodeId <= observations[i - 1].nodeId) {
      throw new BundleError(
        "malformed",
        `observations[${i}] (node ${observations[i].nodeId}) is not after node ${observations[i - 1].nodeId}: ` +
          "observations must be in increasing node id order, one per node",
      );
    }
  }
  return {
    type: BUNDLE_TYPE,
    epoch: raw.epoch,
    chainId: raw.chainId,
    oracle: raw.oracle as string,
    checker,
    observations,
  };
}

/** What a bundle must be for: the epoch, the chain and oracle (the report's domain), the checker set. */
export interface BundleExpectation {
  epoch: number;
  chainId: number | bigint;
  oracle: string;
  /** Operator addresses of the epoch's checkers (any case). */
  checkers: readonly string[];
}

/**
 * Verifies a bundle received from a peer (`{ bundle, signature }`, parsed JSON) and returns it, or
 * throws a `BundleError` saying what is wrong: malformed (naming the field or observation), another
 * epoch, chain or oracle, a checker outside `expected.checkers`, a signature that does not parse or
 * that another key made.
 */
export function verifyBundle(raw: unknown, expected: BundleExpectation): SignedBundle {
  if (!isRecord(raw)) throw new BundleError("malformed", "the answer is not an object");
  exactKeys("the answer", raw, ["bundle", "signature"]);
  const bundle = checkShape(raw.bundle);
  const who = bundle.checker;
  if (bundle.epoch !== expected.epoch) {
    throw new BundleError("wrong-epoch", `the bundle is for epoch ${bundle.epoch}, not ${expected.epoch}`, who);
  }
  if (BigInt(bundle.chainId) !== BigInt(expected.chainId)) {
    throw new BundleError("wrong-chain", `the bundle is for chain ${bundle.chainId}, not ${expected.chainId}`, who);
  }
  if (bundle.oracle !== expected.oracle.toLowerCase()) {
    throw new BundleError("wrong-oracle", `the bundle is for oracle ${bundle.oracle}, not ${expected.oracle}`, who);
  }
  if (!expected.checkers.some((c) => c.toLowerCase() === bundle.checker)) {
    throw new BundleError(
      "unknown-checker",
      `${bundle.checker} is not in the epoch's checker set (${expected.checkers.length} checkers)`,
      who,
    );
  }
  if (typeof raw.signature !== "string") throw new BundleError("bad-signature", "the signature is not a string", who);
  let signer: string;
  try {
    signer = verifyMessage(bundleMessage(bundle), raw.signature);
  } catch {
    throw new BundleError("bad-signature", "the signature is not a valid 65-byte signature", who);
  }
  if (signer.toLowerCase() !== bundle.checker) {
    throw new BundleError("wrong-signer", `signed by ${signer}, not by the checker it names (${bundle.checker})`, who);
  }
  return { bundle, signature: raw.signature };
}

/**
 * Signs `observations` of `epoch` as `signer`'s bundle for `chainId` and `oracle`. The observations
 * are copied in node id order; each must be the signer's own. Synchronous (the same signature as
 * `signer.signMessage(bundleMessage(bundle))`), so the API can freeze a bundle while it answers.
 */
export function signBundle(
  signer: Wallet,
  fields: { epoch: number; chainId: number | bigint; oracle: string; observations: readonly NodeObservation[] },
): SignedBundle {
  const checker = signer.address.toLowerCase();
  const observations = fields.observations
    .map((o) => {
      if (o.checker.toLowerCase() !== checker) {
        throw new ExchangeError(`observation of node ${o.nodeId} is by ${o.checker}, not by the signer ${checker}`);
      }
      return { ...o, checker };
    })
    .sort((a, b) => a.nodeId - b.nodeId);
  const bundle = checkShape({
    type: BUNDLE_TYPE,
    epoch: fields.epoch,
    chainId: Number(fields.chainId),
    oracle: fields.oracle.toLowerCase(),
    checker,
    observations,
  });
  const signature = signer.signingKey.sign(hashMessage(bundleMessage(bundle))).serialized;
  return { bundle, signature };
}

/**
 * This checker's signed observations of `epoch`: the ones it froze before if any (a bundle never
 * changes once signed), else its observations of `nodes` from the store, signed and kept now.
 * Throws an `ExchangeError` if the kept bundle was signed for another chain or oracle.
 */
export function freezeOwnBundle(
  store: CheckerStore,
  signer: Wallet,
  fields: {
    epoch: number;
    chainId: number | bigint;
    oracle: string;
    nodes: readonly (number | { id: number })[];
    /** Leave out nodes this checker was not yet probing when the epoch began (`CheckerStore.observationsFor`). */
    watchedFromStart?: boolean;
    /** The epoch's span and the heartbeat interval: uptime is over the heartbeats it expects (`observeNode`). */
    window: ObservationWindow;
  },
): SignedBundle {
  const expected = { epoch: fields.epoch, chainId: fields.chainId, oracle: fields.oracle, checkers: [signer.address] };
  let stored = store.ownBundle(fields.epoch);
  if (!stored) {
    const observations = store.observationsFor(fields.epoch, fields.nodes, signer.address, fields.window, {
      watchedFromStart: fields.watchedFromStart,
    });
    const signed = signBundle(signer, { ...fields, observations });
    stored = store.saveOwnBundle(fields.epoch, signed.bundle, signed.signature);
  }
  try {
    return verifyBundle({ bundle: stored.bundle, signature: stored.signature }, expected);
  } catch (e) {
    throw new ExchangeError(
      `${store.file} holds observations of epoch ${fields.epoch} that do not fit this checker ` +
        `(${(e as Error).message}): chainId, contracts.ReportOracle or privateKey changed; point \`database\` ` +
        "(env KAISAR_DATABASE) at a file of its own for each chain and key",
    );
  }
}

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
      return { peer, problem: "bad-url", reason: `${(e as Error).message}: fix \`peers\` (env KAISAR_PEERS)` };
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
      `this checker's operator ${signer.address} (from privateKey, env KAISAR_PRIVATE_KEY) is not in the checker ` +
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
