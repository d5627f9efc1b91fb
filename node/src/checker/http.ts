/**
 * One HTTP exchange with a node's agent, bounded in time and size: the building block of every probe.
 *
 * A node is untrusted. It may never answer, answer one byte a second (slow loris), stream forever,
 * send a body far larger than the probe needs, or close the connection halfway. The exchange has one
 * deadline for everything (connect, headers, body) and a cap on the body; whichever is hit first ends
 * it at once (the socket is destroyed, nothing more is read) and the probe fails with a typed error.
 *
 * Connections are not kept alive: each probe opens its own, so a node cannot hold a pooled socket
 * and one slow node never queues another node's probe behind it.
 */
import http from "node:http";
import https from "node:https";

/** Why an exchange failed. */
export type ProbeErrorCode =
  | "timeout" // the deadline passed
  | "refused" // nothing listens there
  | "network" // DNS, reset, closed early, malformed HTTP
  | "too-large" // the body went over the cap
  | "status" // not 200
  | "bad-json" // the body is not the JSON expected
  | "bad-answer" // well-formed, but wrong (wrong node, wrong size, ...)
  | "aborted" // the checker is stopping
  | "bad-url"; // the node's endpoint is not an http(s) URL

export class ProbeError extends Error {
  override name = "ProbeError";
  constructor(
    readonly code: ProbeErrorCode,
    message: string,
    /** For "status": the HTTP status, and the wait a 429 or 503 asked for (Retry-After), ms. */
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface ExchangeOptions {
  method?: "GET" | "POST";
  /** JSON request body (POST). */
  json?: unknown;
  /** Deadline for the whole exchange, milliseconds. */
  timeoutMs: number;
  /** Largest body accepted, bytes. */
  maxBytes: number;
  /** Ends the exchange early (the checker is stopping). */
  signal?: AbortSignal;
}

export interface Exchange {
  status: number;
  body: Buffer;
  /** performance.now() when the request was sent, when the headers arrived and when the body ended. */
  startedAt: number;
  headersAt: number;
  endedAt: number;
}

const httpAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const httpsAgent = new https.Agent({ keepAlive: false, maxSockets: Infinity });

/** `path` under the node's base URL (which may itself have a path): `endpointUrl("http://h:1/x", "health")`. */
export function endpointUrl(base: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(path.replace(/^\/+/, ""), base.endsWith("/") ? base : base + "/");
  } catch {
    throw new ProbeError("bad-url", `${JSON.stringify(base)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ProbeError("bad-url", `${JSON.stringify(base)} is not an http(s) URL`);
  }
  return url;
}

const NETWORK_CODES: Record<string, ProbeErrorCode> = {
  ECONNREFUSED: "refused",
  ECONNRESET: "network",
  ENOTFOUND: "network",
  EAI_AGAIN: "network",
  EHOSTUNREACH: "network",
  ENETUNREACH: "network",
  EPIPE: "network",
};

function networkError(e: unknown): ProbeError {
  if (e instanceof ProbeError) return e;
  const err = e as NodeJS.ErrnoException;
  const code = (err && err.code && NETWORK_CODES[err.code]) || "network";
  return new ProbeError(code, err?.code ? `${err.code}: ${err.message}` : String(err?.message ?? err));
}

/** Sends one request and reads the whole answer, within `timeoutMs` and `maxBytes`; throws a `ProbeError`. */
export function exchange(url: URL, options: ExchangeOptions): Promise<Exchange> {
  const { timeoutMs, maxBytes, signal } = options;
  const method = options.method ?? "GET";
  const payload = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json));
  return new Promise<Exchange>((resolve, reject) => {
    const startedAt = performance.now();
    let headersAt = startedAt;
    let settled = false;
    let req: http.ClientRequest | undefined;
    const finish = (err: ProbeError | null, value?: Exchange) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (err) {
        req?.destroy();
        reject(err);
      } else resolve(value!);
    };
    const timer = setTimeout(
      () => finish(new ProbeError("timeout", `no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => finish(new ProbeError("aborted", "the checker is stopping"));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });

    const headers: http.OutgoingHttpHeaders = { accept: "application/json", connection: "close" };
    if (payload) {
      headers["content-type"] = "application/json";
      headers["content-length"] = payload.length;
    }
    try {
      req = (url.protocol === "https:" ? https : http).request(url, {
        method,
        headers,
        agent: url.protocol === "https:" ? httpsAgent : httpAgent,
      });
    } catch (e) {
      return finish(networkError(e));
    }
    req.on("error", (e) => finish(networkError(e)));
    req.on("response", (res) => {
      headersAt = performance.now();
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        const retry = Number(res.headers["retry-after"]);
        const retryAfterMs = Number.isFinite(retry) && retry >= 0 ? retry * 1000 : undefined;
        return finish(new ProbeError("status", `HTTP ${status}`, status, retryAfterMs));
      }
      const declared = Number(res.headers["content-length"]);
      if (Number.isFinite(declared) && declared > maxBytes) {
        return finish(new ProbeError("too-large", `declares ${declared} bytes, more than the ${maxBytes} expected`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return finish(new ProbeError("too-large", `sent more than ${maxBytes} bytes`));
        chunks.push(chunk);
      });
      res.on("error", (e) => finish(networkError(e)));
      res.on("end", () =>
        finish(null, { status, body: Buffer.concat(chunks, size), startedAt, headersAt, endedAt: performance.now() }),
      );
      res.on("close", () => {
        if (!res.complete) finish(new ProbeError("network", "the connection closed before the answer ended"));
      });
    });
    req.end(payload);
  });
}

/** The body as JSON, or a "bad-json" `ProbeError`. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new ProbeError("bad-json", `the answer is not JSON (${body.length} bytes)`);
  }
}

/**
 * Runs `attempt` and, while the node answers 429 (busy: an agent runs one challenge at a time, and other
 * checkers probe it too), tries again after the wait it asks for (1 s if it names none, at most 5 s)
 * as long as that leaves time before `deadline` (performance.now() time). Other failures are final.
 */
export async function retryWhileBusy<T>(deadline: number, attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof ProbeError) || e.status !== 429) throw e;
      const wait = Math.min(e.retryAfterMs ?? 1_000, 5_000) + Math.random() * 100;
      if (performance.now() + wait >= deadline - 50 || signal?.aborted) throw e;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, wait);
        signal?.addEventListener("abort", done, { once: true }); // the next attempt then fails as "aborted"
      });
    }
  }
}
