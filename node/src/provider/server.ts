/**
 * The provider agent's checker-facing HTTP API (a Hono app on the shared HTTP layer, src/http; JSON):
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
import type { Context } from "hono";
import type { Server } from "http";
import type { AddressInfo } from "net";
import { z } from "zod";

import { version as packageVersion } from "../../package.json";
import { createApp, createHttpServer, HttpError, jsonAnswer, parseInput, readJsonBody, remoteAddress } from "../http";
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

/** The agent's error answers: `{"ok":false,"error":"..."}`. */
const errorBody = (e: HttpError) => ({ ok: false, error: e.message });

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

  const bandwidthBytes = z
    .string()
    .regex(/^\d{1,16}$/)
    .transform(Number)
    .pipe(z.number().min(1).max(maxBytes));
  const badSeed = (input: unknown) => `seed must be 0x and 1 to 32 hex digits, not ${JSON.stringify(input)}`;
  const badN = `n must be a whole number in 1..${maxN} (this agent's largest challenge)`;
  const challengeBody = z.object(
    {
      seed: z.string({ error: (issue) => badSeed(issue.input) }).transform((s, ctx) => {
        try {
          return seedHex(s);
        } catch {
          ctx.addIssue({ code: "custom", message: badSeed(s) });
          return z.NEVER;
        }
      }),
      n: z.number({ error: badN }).int({ error: badN }).min(1, { error: badN }).max(maxN, { error: badN }),
    },
    { error: 'the body must be a JSON object {"seed":"0x...","n":N}' },
  );

  const handlers: Record<string, { method: "GET" | "POST"; handle(c: Context): Promise<Response> }> = {
    "/health": {
      method: "GET",
      handle: async (c) => {
        const stake = options.stake?.();
        return jsonAnswer(c, 200, {
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
      handle: async (c) => {
        const body = await signHardwareReport(options.signer, options.hardware, {
          nodeId: options.nodeId,
          chainId: options.chainId,
        });
        return jsonAnswer(c, 200, body);
      },
    },
    "/bandwidth": {
      method: "GET",
      handle: async (c) => {
        const raw = c.req.query("bytes") ?? null;
        const parsed = bandwidthBytes.safeParse(raw);
        if (!parsed.success) {
          throw new HttpError(
            400,
            `bytes must be a whole number in 1..${maxBytes} (the bandwidth test limit), not ${JSON.stringify(raw)}`,
          );
        }
        if (streams >= maxStreams) {
          throw new HttpError(429, `${maxStreams} bandwidth tests are running; try again later`, undefined, {
            "retry-after": "1",
          });
        }
        const bytes = parsed.data;
        const remote = remoteAddress(c);
        streams++;
        const t0 = performance.now();
        let left = bytes;
        let done = false;
        const end = (entry: Record<string, unknown>) => {
          if (done) return;
          done = true;
          streams--;
          log({ at: "Agent#bandwidth", remote, bytes, ...entry });
        };
        // Fresh random bytes, in chunks, as fast as the socket takes them.
        const stream = new ReadableStream<Uint8Array>(
          {
            pull(controller) {
              if (left === 0) {
                controller.close();
                end({ ms: Math.round(performance.now() - t0) });
                return;
              }
              const size = Math.min(CHUNK, left);
              left -= size;
              controller.enqueue(randomBytes(size));
            },
            // The client went away mid-stream: nothing to answer.
            cancel(reason) {
              end({ aborted: reason instanceof Error ? reason.message : String(reason ?? "the client went away") });
            },
          },
          { highWaterMark: 0 },
        );
        return c.body(stream, 200, {
          "content-type": "application/octet-stream",
          "content-length": String(bytes),
          "cache-control": "no-store",
        });
      },
    },
    "/challenge": {
      method: "POST",
      handle: async (c) => {
        const busy = () =>
          new HttpError(429, "a challenge is running; one runs at a time", undefined, { "retry-after": "1" });
        if (challengeBusy) throw busy();
        const { seed: seedValue, n } = parseInput(challengeBody, await readJsonBody(c, maxBody));
        if (challengeBusy) throw busy();
        challengeBusy = true;
        const remote = remoteAddress(c);
        let answer: ChallengeAnswer;
        try {
          answer = await options.solver.solve({ seed: seedValue, n });
        } catch (e) {
          log({ at: "Agent#challenge", remote, n, error: (e as Error).message });
          throw new HttpError(500, `the kernel failed: ${(e as Error).message}`);
        } finally {
          challengeBusy = false;
        }
        log({
          at: "Agent#challenge",
          remote,
          seed: seedValue,
          n,
          kernel: answer.kernel,
          elapsedMs: Math.round(answer.elapsedMs),
        });
        return jsonAnswer(c, 200, answer);
      },
    },
  };

  const app = createApp({
    errorBody,
    notFound: (c) => new HttpError(404, `no such path: ${c.req.path} (paths: ${Object.keys(handlers).join(", ")})`),
    internal: (e, c) => {
      log({ at: "Agent#error", remote: remoteAddress(c), path: c.req.path, error: (e as Error).stack ?? String(e) });
      return new HttpError(500, "internal error");
    },
    onHttpError: (e, c) => {
      if (e.status >= 500 || e.status === 429) {
        log({ at: "Agent#refuse", remote: remoteAddress(c), path: c.req.path, status: e.status, error: e.message });
      }
    },
  });
  for (const [path, route] of Object.entries(handlers)) {
    app.all(path, (c) => {
      if (c.req.method !== route.method) {
        throw new HttpError(405, `${path} takes ${route.method}, not ${c.req.method}`, undefined, {
          allow: route.method,
        });
      }
      return route.handle(c);
    });
  }
  const http = createHttpServer(app, {
    errorBody,
    headersTimeoutMs: options.headersTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
  });

  return {
    server: http.server,
    listen: (port, host) => http.listen(port, host),
    async close() {
      await http.close();
      await options.solver.close();
    },
  };
}
