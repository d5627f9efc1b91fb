/**
 * Observation bundles of the epoch-end exchange (see ./exchange.ts): a checker's observations of an
 * epoch, frozen once into `{ type, epoch, chainId, oracle, checker, observations }`, signed over their
 * canonical JSON with EIP-191, and checked field by field when a peer's arrives.
 */
import { Wallet, hashMessage, verifyMessage } from "ethers";

import { canonicalJson, type Canonical } from "../scoring/canonical";
import type { NodeObservation, ObservationWindow } from "../scoring/types";
import type { CheckerStore } from "./store";
import { ENV } from "../config/schema";

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
        `(env ${ENV.database}) at a file of its own for each chain and key`,
    );
  }
}
