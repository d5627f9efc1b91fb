/**
 * The four probes a checker runs against a node's agent, each one bounded HTTP exchange
 * (`exchange`: one deadline, a body cap, a fresh connection) and a typed result. A probe never
 * throws: whatever the node does, it resolves to `{ ok: false, errorCode, error }` at the latest
 * when its deadline passes.
 *
 * - heartbeat: `GET /health` answers `{ ok: true, nodeId, provider, version, uptimeSeconds }` for this node.
 * - bandwidth: `GET /bandwidth?bytes=N` sends exactly N bytes; Mbps from the checker's own clock.
 * - challenge: `POST /challenge {seed, n}` answers a `ChallengeAnswer`, checked with Freivalds
 *   (`verifyAnswer`); the time is the checker's, around the whole exchange (not the agent's `elapsedMs`).
 *
 * An agent runs one challenge (and a few bandwidth tests) at a time and answers 429 to more: other
 * checkers probe it too. Those two probes then try again after the Retry-After wait, within their deadline.
 * - hardware: `GET /hardware` answers a signed report, checked against the registered spec (hardware.ts).
 */
import type { CheckerNode } from "../config/nodes";
import { newChallenge, verifyAnswer, type Challenge, type ChallengeAnswer, type ChallengeVerdict } from "../popw";
import { checkHardwareReport, type HardwareCheckOptions, type HardwareReport } from "./hardware";
import {
  ProbeError,
  endpointUrl,
  exchange,
  parseJson,
  retryWhileBusy,
  type Exchange,
  type ProbeErrorCode,
} from "./http";

export type ProbeKind = "heartbeat" | "bandwidth" | "challenge" | "hardware";
export const PROBE_KINDS: readonly ProbeKind[] = ["heartbeat", "bandwidth", "challenge", "hardware"];

/** What a probe needs of a node. */
export type ProbeTarget = Pick<CheckerNode, "id" | "url"> & Partial<Pick<CheckerNode, "provider">>;

interface ResultBase {
  kind: ProbeKind;
  /** The probe succeeded (for a challenge: the answer passed; for hardware: an authentic report). */
  ok: boolean;
  /** Milliseconds from sending the request to the end of the answer (or to the failure). */
  latencyMs: number;
  errorCode?: ProbeErrorCode;
  error?: string;
}

export interface HeartbeatResult extends ResultBase {
  kind: "heartbeat";
  version?: string;
  uptimeSeconds?: number;
}

export interface BandwidthResult extends ResultBase {
  kind: "bandwidth";
  /** Bytes asked for. */
  bytes: number;
  /** Megabits per second over the body's transfer (0 when the test failed). */
  mbps: number;
}

export interface ChallengeResult extends ResultBase {
  kind: "challenge";
  n: number;
  seed: string;
  /** What the checker measured around the exchange, ms (the hardware score's time). */
  elapsedMs: number;
  passed: boolean;
  /** What the agent says it spent multiplying (informative only). */
  agentElapsedMs?: number;
  kernel?: string;
}

export interface HardwareResult extends ResultBase {
  kind: "hardware";
  /**
   * The report matches the registered spec (true), does not or could not be authenticated (false), or
   * no answer came at all (null: the node is down or unreachable, which heartbeats already count).
   */
  match: boolean | null;
  reasons: string[];
  notes: string[];
  signer?: string;
  /** The signed report as received: evidence of what the provider claimed. */
  report?: HardwareReport;
  signature?: string;
}

export type ProbeResult = HeartbeatResult | BandwidthResult | ChallengeResult | HardwareResult;

export interface ProbeOptions {
  /** Deadline of the whole exchange, milliseconds. */
  timeoutMs: number;
  /** Ends the probe early (the checker is stopping). */
  signal?: AbortSignal;
}

/** Largest `/health` and `/hardware` answers accepted. */
export const MAX_HEALTH_BYTES = 16 * 1024;
export const MAX_HARDWARE_BYTES = 64 * 1024;

const elapsed = (since: number) => round3(performance.now() - since);
/** What is left of a `timeoutMs` deadline that started at `start` (at least 1 ms). */
const remaining = (start: number, timeoutMs: number) => Math.max(1, start + timeoutMs - performance.now());
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function failure(e: unknown): { errorCode: ProbeErrorCode; error: string } {
  if (e instanceof ProbeError) return { errorCode: e.code, error: e.message };
  return { errorCode: "bad-answer", error: (e as Error)?.message ?? String(e) };
}

/** `GET /health`: up, and answering as this node (and this provider, when known). */
export async function probeHeartbeat(node: ProbeTarget, options: ProbeOptions): Promise<HeartbeatResult> {
  const start = performance.now();
  try {
    const res = await exchange(endpointUrl(node.url, "health"), { ...options, maxBytes: MAX_HEALTH_BYTES });
    const health = parseJson(res.body);
    if (!isObject(health) || health.ok !== true) throw new ProbeError("bad-answer", "the answer is not { ok: true }");
    if (health.nodeId !== node.id) {
      throw new ProbeError("bad-answer", `answers as node ${JSON.stringify(health.nodeId)}, not ${node.id}`);
    }
    if (
      node.provider !== undefined &&
      (typeof health.provider !== "string" || health.provider.toLowerCase() !== node.provider.toLowerCase())
    ) {
      throw new ProbeError("bad-answer", `answers for provider ${JSON.stringify(health.provider)}`);
    }
    return {
      kind: "heartbeat",
      ok: true,
      latencyMs: round3(res.endedAt - res.startedAt),
      version: typeof health.version === "string" ? health.version.slice(0, 64) : undefined,
      uptimeSeconds: typeof health.uptimeSeconds === "number" ? health.uptimeSeconds : undefined,
    };
  } catch (e) {
    return { kind: "heartbeat", ok: false, latencyMs: elapsed(start), ...failure(e) };
  }
}

/**
 * Megabits per second of an exchange's body: its bytes over the time from the headers to its end (the
 * round trip before the first byte is not bandwidth); over the whole exchange if that is too short to time.
 */
export function transferMbps(bytes: number, res: Pick<Exchange, "startedAt" | "headersAt" | "endedAt">): number {
  let ms = res.endedAt - res.headersAt;
  if (!(ms >= 1)) ms = Math.max(res.endedAt - res.startedAt, 0.001);
  return round3((bytes * 8) / (ms * 1000));
}

/** `GET /bandwidth?bytes=N`: exactly N bytes, timed by the checker. */
export async function probeBandwidth(
  node: ProbeTarget,
  options: ProbeOptions & { bytes: number },
): Promise<BandwidthResult> {
  const start = performance.now();
  const bytes = options.bytes;
  try {
    const url = endpointUrl(node.url, `bandwidth?bytes=${bytes}`);
    const res = await retryWhileBusy(
      start + options.timeoutMs,
      () => exchange(url, { ...options, timeoutMs: remaining(start, options.timeoutMs), maxBytes: bytes }),
      options.signal,
    );
    if (res.body.length !== bytes) {
      throw new ProbeError("bad-answer", `sent ${res.body.length} bytes, not ${bytes}`);
    }
    return {
      kind: "bandwidth",
      ok: true,
      latencyMs: round3(res.endedAt - res.startedAt),
      bytes,
      mbps: transferMbps(bytes, res),
    };
  } catch (e) {
    return { kind: "bandwidth", ok: false, latencyMs: elapsed(start), bytes, mbps: 0, ...failure(e) };
  }
}

/** Largest JSON answer to a challenge of size n: C in base64 (4 bytes per entry) plus room for the rest. */
export function maxChallengeAnswerBytes(n: number): number {
  return 4 * Math.ceil((4 * n * n) / 3) + 4096;
}

export interface ChallengeOptions extends ProbeOptions {
  n: number;
  /** The challenge to send (default: a fresh one of size n with an unpredictable seed). */
  challenge?: Challenge;
  /** Checks an answer (default `verifyAnswer`, 10 Freivalds rounds with the OS's randomness). */
  verify?: (challenge: Challenge, answer: ChallengeAnswer) => ChallengeVerdict | Promise<ChallengeVerdict>;
}

/** `POST /challenge`: a matrix product checked with Freivalds, timed by the checker. */
export async function probeChallenge(node: ProbeTarget, options: ChallengeOptions): Promise<ChallengeResult> {
  const challenge = options.challenge ?? newChallenge(options.n);
  const base = { kind: "challenge" as const, n: challenge.n, seed: challenge.seed };
  const start = performance.now();
  try {
    const url = endpointUrl(node.url, "challenge");
    const res = await retryWhileBusy(
      start + options.timeoutMs,
      () =>
        exchange(url, {
          ...options,
          timeoutMs: remaining(start, options.timeoutMs),
          method: "POST",
          json: { seed: challenge.seed, n: challenge.n },
          maxBytes: maxChallengeAnswerBytes(challenge.n),
        }),
      options.signal,
    );
    // The checker's time, taken before verifying: checking is the checker's work, not the node's.
    const elapsedMs = round3(res.endedAt - res.startedAt);
    const answer = parseJson(res.body);
    if (!isObject(answer)) throw new ProbeError("bad-json", "the answer is not a JSON object");
    const verdict = await (options.verify ?? verifyAnswer)(challenge, answer as unknown as ChallengeAnswer);
    const extra = {
      agentElapsedMs: typeof answer.elapsedMs === "number" ? answer.elapsedMs : undefined,
      kernel: typeof answer.kernel === "string" ? answer.kernel.slice(0, 64) : undefined,
    };
    if (!verdict.ok) {
      return {
        ...base,
        ok: false,
        latencyMs: elapsedMs,
        elapsedMs,
        passed: false,
        errorCode: "bad-answer",
        error: verdict.reason,
        ...extra,
      };
    }
    return { ...base, ok: true, latencyMs: elapsedMs, elapsedMs, passed: true, ...extra };
  } catch (e) {
    const ms = Math.max(elapsed(start), 0.001);
    return { ...base, ok: false, latencyMs: ms, elapsedMs: ms, passed: false, ...failure(e) };
  }
}

export interface HardwareProbeOptions extends ProbeOptions, HardwareCheckOptions {}

/** Failures after which there is no verdict on the hardware: the node did not answer at all. */
const NO_ANSWER: readonly ProbeErrorCode[] = ["timeout", "refused", "network", "aborted", "bad-url"];

/** `GET /hardware`: the provider-signed report, checked against the registered spec. */
export async function probeHardware(
  node: Pick<CheckerNode, "id" | "url" | "provider" | "spec">,
  options: HardwareProbeOptions,
): Promise<HardwareResult> {
  const start = performance.now();
  try {
    const res = await exchange(endpointUrl(node.url, "hardware"), { ...options, maxBytes: MAX_HARDWARE_BYTES });
    const latencyMs = round3(res.endedAt - res.startedAt);
    const answer = parseJson(res.body);
    const verdict = checkHardwareReport(answer, node, options);
    const signed = isObject(answer) && isObject(answer.report) ? answer : undefined;
    return {
      kind: "hardware",
      ok: verdict.authentic,
      latencyMs,
      match: verdict.match,
      reasons: verdict.reasons,
      notes: verdict.notes,
      signer: verdict.signer,
      report: signed?.report as HardwareReport | undefined,
      signature: typeof signed?.signature === "string" ? signed.signature.slice(0, 200) : undefined,
      ...(verdict.authentic ? {} : { errorCode: "bad-answer" as const, error: verdict.reasons[0] }),
    };
  } catch (e) {
    const f = failure(e);
    // An answer that is there but is not a report (garbage, an error status, too large) proves nothing:
    // it counts as a mismatch, or a node could dodge every check by answering garbage.
    const match = NO_ANSWER.includes(f.errorCode) ? null : false;
    return { kind: "hardware", ok: false, latencyMs: elapsed(start), match, reasons: [f.error], notes: [], ...f };
  }
}
