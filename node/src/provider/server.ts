/**
 * The provider agent's checker-facing HTTP API (node:http, JSON):
 *
 *   GET  /health            200 {"ok":true,"nodeId","provider","version","uptimeSeconds","stake"?}: `ok` is
 *                           the agent answering; `stake` (stake.ts, while the agent watches the chain)
 *                           {"ok":false,"staked","required","shortfall","message"} when the provider is
 *                           under its stake requirement and its nodes take no rentals
 *   GET  /hardware          200 {"report":{...},"signature":"0x..."}: the hardware report, signed now
 *                           by the node's key (see hardware.ts: canonicalReportMessage, verifyHardwareReport)
 *   GET  /bandwidth?bytes=N 200 application/octet-stream: exactly N pseudo-random bytes, 1 <= N <= the cap
 *   POST /challenge         {"seed":"0x...","n":N} -> 200 ChallengeAnswer (src/popw/challenge.ts)
 *
 * Errors are JSON `{"ok":false,"error":"..."}`: 400 bad input (the message names the limit), 404
 * unknown path, 405 wrong method, 413 body too large, 429 busy (one challenge at a time, a few
 * bandwidth tests at a time: a checker cannot tie the node up), 500 the kernel failed.
 * Every response has a content-type. Slow clients are cut off by headersTimeout/requestTimeout.
 */
import { randomBytes } from "crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "http";
import type { AddressInfo } from "net";
import { Readable } from "stream";
import { pipeline } from "stream/promises";

import { version as packageVersion } from "../../package.json";
import { MAX_N } from "../popw/matrix";
import { seedHex } from "../popw/prng";
import type { ChallengeAnswer } from "../popw/challenge";
import { signHardwareReport, type HardwareInfo, type MessageSigner } from "./hardware";
import type { ChallengeSolver } from "./solver";
import type { StakeHealth } from "./stake";

/** A structured log line: `{ at: "Agent#challenge", ... }`. */
export type LogEntry = { at: string } & Record<string, unknown>;
export type Logger = (entry: LogEntry) => void;

export interface AgentServerOptions {
  /** The node's key (an ethers Wallet): signs hardware reports; its address is the provider. */
  signer: MessageSigner;
  nodeId: number;
  chainId: number;
  /** Detected once at start (`detectHardware`). */
  hardware: HardwareInfo;
  /** Answers challenges; the server owns it and closes it on `close()`. */
  solver: ChallengeSolver;
  /** Largest challenge n accepted (at most 4096). */
  maxChallengeN: number;
  /** Largest bandwidth test, bytes. Default 64 MiB. */
  maxBandwidthBytes?: number;
  /** Bandwidth tests streaming at once; more get 429. Default 4. */
  maxConcurrentBandwidth?: number;
  /** Largest request body, bytes. Default 16 KiB. */
  maxBodyBytes?: number;
  /** Time to receive the request headers, ms. Default 10 s. */
  headersTimeoutMs?: number;
  /** Time to receive the whole request, ms. Default 30 s. */
  requestTimeoutMs?: number;
  /** A socket idle this long is closed, ms (a challenge must finish within it). Default 5 min. */
  idleTimeoutMs?: number;
  /** The provider's stake against its requirement, reported by /health as `stake` (stake.ts). */
  stake?: () => StakeHealth | undefined;
  /** Reported by /health. Default: @kaisar/node's version. */
  version?: string;
  log?: Logger;
}

export interface AgentServer {
  /** Starts listening; resolves to the bound address (port 0 picks a free port). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Stops listening, drops open connections and closes the solver. */
  close(): Promise<void>;
  readonly server: Server;
}

const DEFAULT_MAX_BANDWIDTH = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** An error answered as JSON with `status`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function createAgentServer(options: AgentServerOptions): AgentServer {
  const log = options.log ?? (() => {});
  const version = options.version ?? packageVersion;
  const maxN = options.maxChallengeN;
  if (!Number.isInteger(maxN) || maxN < 1 || maxN > MAX_N) {
    throw new RangeError(`maxChallengeN = ${maxN} is not an integer in 1..${MAX_N}`);
  }
  const maxBytes = options.maxBandwidthBytes ?? DEFAULT_MAX_BANDWIDTH;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`maxBandwidthBytes = ${maxBytes} is not a positive integer`);
  }
  const maxStreams = options.maxConcurrentBandwidth ?? 4;
  const maxBody = options.maxBodyBytes ?? 16 * 1024;
  const provider = options.signer.address;
  const started = Date.now();
  let challengeBusy = false;
  let streams = 0;

  const handlers: Record<
    string,
    { method: "GET" | "POST"; handle(req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> }
  > = {
    "/health": {
      method: "GET",
      handle: async (_req, _url, res) => {
        const stake = options.stake?.();
        sendJson(res, 200, {
          ok: true,
          nodeId: options.nodeId,
          provider,
          version,
          uptimeSeconds: Math.floor((Date.now() - started) / 1000),
          ...(stake && { stake }),
        });
      },
    },
    "/hardware": {
      method: "GET",
      handle: async (_req, _url, res) => {
        const body = await signHardwareReport(options.signer, options.hardware, {
          nodeId: options.nodeId,
          chainId: options.chainId,
        });
        sendJson(res, 200, body);
      },
    },
    "/bandwidth": {
      method: "GET",
      handle: async (req, url, res) => {
        const raw = url.searchParams.get("bytes");
        if (raw === null || !/^\d{1,16}$/.test(raw) || Number(raw) < 1 || Number(raw) > maxBytes) {
          throw new HttpError(
            400,
            `bytes must be a whole number in 1..${maxBytes} (the bandwidth test limit), not ${JSON.stringify(raw)}`,
          );
        }
        if (streams >= maxStreams) {
          throw new HttpError(429, `${maxStreams} bandwidth tests are running; try again later`, {
            "retry-after": "1",
          });
        }
        const bytes = Number(raw);
        streams++;
        const t0 = performance.now();
        try {
          res.writeHead(200, {
            "content-type": "application/octet-stream",
            "content-length": String(bytes),
            "cache-control": "no-store",
          });
          await pipeline(randomStream(bytes), res);
          log({ at: "Agent#bandwidth", remote: remote(req), bytes, ms: Math.round(performance.now() - t0) });
        } catch (e) {
          // The client went away mid-stream: nothing to answer.
          log({ at: "Agent#bandwidth", remote: remote(req), bytes, aborted: (e as Error).message });
          res.destroy();
        } finally {
          streams--;
        }
      },
    },
    "/challenge": {
      method: "POST",
      handle: async (req, _url, res) => {
        const busy = () => new HttpError(429, "a challenge is running; one runs at a time", { "retry-after": "1" });
        if (challengeBusy) throw busy();
        const body = await readJson(req, maxBody);
        if (typeof body !== "object" || body === null || Array.isArray(body)) {
          throw new HttpError(400, 'the body must be a JSON object {"seed":"0x...","n":N}');
        }
        const { seed, n } = body as { seed?: unknown; n?: unknown };
        let seedValue: string;
        try {
          seedValue = seedHex(typeof seed === "string" ? seed : "");
        } catch {
          throw new HttpError(400, `seed must be 0x and 1 to 32 hex digits, not ${JSON.stringify(seed)}`);
        }
        if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > maxN) {
          throw new HttpError(400, `n must be a whole number in 1..${maxN} (this agent's largest challenge)`);
        }
        if (challengeBusy) throw busy();
        challengeBusy = true;
        let answer: ChallengeAnswer;
        try {
          answer = await options.solver.solve({ seed: seedValue, n });
        } catch (e) {
          log({ at: "Agent#challenge", remote: remote(req), n, error: (e as Error).message });
          throw new HttpError(500, `the kernel failed: ${(e as Error).message}`);
        } finally {
          challengeBusy = false;
        }
        log({
          at: "Agent#challenge",
          remote: remote(req),
          seed: seedValue,
          n,
          kernel: answer.kernel,
          elapsedMs: Math.round(answer.elapsedMs),
        });
        sendJson(res, 200, answer);
      },
    },
  };

  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(options.requestTimeoutMs ?? 30_000, headersTimeout);
  // node:http enforces both timeouts on a timer of `connectionsCheckingInterval` (30 s by default).
  const checkEvery = Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4)));
  const serverOptions = { headersTimeout, requestTimeout, connectionsCheckingInterval: checkEvery };
  const server = createServer(serverOptions, (req, res) => {
    const url = new URL(req.url ?? "/", "http://agent");
    const route = handlers[url.pathname];
    const run = async () => {
      if (!route)
        throw new HttpError(404, `no such path: ${url.pathname} (paths: ${Object.keys(handlers).join(", ")})`);
      if (req.method !== route.method) {
        throw new HttpError(405, `${url.pathname} takes ${route.method}, not ${req.method}`, { allow: route.method });
      }
      await route.handle(req, url, res);
    };
    run().catch((e: unknown) => {
      if (e instanceof HttpError) {
        if (e.status >= 500 || e.status === 429) {
          log({ at: "Agent#refuse", remote: remote(req), path: url.pathname, status: e.status, error: e.message });
        }
        // A body not read is dropped by node:http once the answer is sent.
        sendJson(res, e.status, { ok: false, error: e.message }, e.headers);
      } else {
        log({ at: "Agent#error", remote: remote(req), path: url.pathname, error: (e as Error).stack ?? String(e) });
        sendJson(res, 500, { ok: false, error: "internal error" });
      }
    });
  });
  server.setTimeout(options.idleTimeoutMs ?? 300_000, (socket) => socket.destroy());
  // Requests node:http cannot parse, or that come too slowly: answered in JSON too, then closed.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return void socket.destroy();
    const [status, reason, message] =
      err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request Timeout", "the request took too long"]
        : err.code === "HPE_HEADER_OVERFLOW"
          ? [431, "Request Header Fields Too Large", "the request headers are too large"]
          : [400, "Bad Request", "the request is not valid HTTP"];
    const body = JSON.stringify({ ok: false, error: message });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });

  return {
    server,
    listen(port, host) {
      return new Promise<AddressInfo>((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        server.once("error", onError);
        server.listen(port, host, () => {
          server.off("error", onError);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
      });
      server.closeAllConnections();
      await closed;
      await options.solver.close();
    },
  };
}

function remote(req: IncomingMessage): string | undefined {
  return req.socket.remoteAddress;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/**
 * Reads a JSON body of at most `limit` bytes: 413 above it (the rest is read and dropped, and the
 * connection closed after the answer), 400 if it does not parse.
 */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () => new HttpError(413, `the body is larger than ${limit} bytes`, { connection: "close" });
  if (Number(req.headers["content-length"]) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off("data", onData).off("end", onEnd);
      req.resume();
      reject(tooLarge());
    };
    const onEnd = () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (e) {
        reject(new HttpError(400, `the body is not valid JSON: ${(e as Error).message}`));
      }
    };
    req.on("data", onData).on("end", onEnd).on("error", reject);
  });
}

/** `bytes` fresh random bytes, in chunks, as fast as the socket takes them. */
function randomStream(bytes: number): Readable {
  let left = bytes;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const size = Math.min(CHUNK, left);
      left -= size;
      this.push(randomBytes(size));
    },
  });
}
