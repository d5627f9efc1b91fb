/**
 * The one HTTP layer of the node software, on Hono (https://hono.dev) and @hono/node-server: the agent's
 * checker-facing API (provider/server.ts), the checker's read-only API (checker/api.ts) and the keeper's
 * proofs API (keeper/api.ts) are Hono apps built with `createApp` and served by `createHttpServer`, the
 * only place a node:http server is created. Hono because the next surfaces need WebSockets
 * (@hono/node-ws) and server-sent events (hono/streaming `streamSSE`) on the same apps.
 *
 * What every server shares, written once here:
 * - `HttpError`: an error answered as JSON with its status (and headers); each app says the body's shape
 *   (`errorBody`); any other error is logged by the app and answered 500 (`internal`).
 * - `jsonAnswer`: JSON with a content-type, a content-length and `cache-control: no-store`.
 * - `readJsonBody`: a JSON body of at most N bytes (413 above it, 400 when it does not parse).
 * - `readOnlyCors`: CORS open to any origin for GET/HEAD APIs; OPTIONS answered 204, other methods 405.
 * - `parseQuery`: query parameters or path parameters through a zod schema, 400 naming the first issue.
 * - limits on slow clients (headers and request timeouts, idle sockets), and requests node:http cannot
 *   parse or that come too slowly answered in JSON (400, 408, 431) before the socket is closed.
 */
import { createAdaptorServer, getRequestListener } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { RequestListener, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

/** An error answered as JSON with `status`; `code` is the short label some APIs answer beside the message. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly code?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface AppOptions {
  /** The JSON body of an error answer. */
  errorBody: (error: HttpError) => unknown;
  /**
   * An error that is not an `HttpError` (a bug, a failed dependency): log it, and say what to answer
   * (a 500 `HttpError`).
   */
  internal: (error: unknown, c: Context) => HttpError;
  /** Told of every `HttpError` answered (to log refusals). */
  onHttpError?: (error: HttpError, c: Context) => void;
  /** No route matches: the error to answer (default 404 "no route <path>", code "not found"). */
  notFound?: (c: Context) => HttpError;
}

/** A Hono app whose errors and unknown routes are answered as JSON in the app's shape. */
export function createApp(options: AppOptions & { strict?: boolean }): Hono {
  const app = new Hono({ strict: options.strict ?? true });
  const answer = (error: HttpError, c: Context) => {
    options.onHttpError?.(error, c);
    return jsonAnswer(c, error.status, options.errorBody(error), error.headers);
  };
  app.notFound((c) => answer(options.notFound?.(c) ?? new HttpError(404, `no route ${c.req.path}`, "not found"), c));
  app.onError((e, c) => answer(e instanceof HttpError ? e : options.internal(e, c), c));
  return app;
}

/** `body` as JSON with `status`: content-type, content-length and no caching, plus `headers`. */
export function jsonAnswer(
  c: Context,
  status: ContentfulStatusCode,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  const text = JSON.stringify(body);
  return c.body(text, status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    ...headers,
  });
}

/**
 * The JSON body of the request, at most `limit` bytes: 413 above it (the connection is closed after the
 * answer, so the rest is not read), 400 when it does not parse.
 */
export async function readJsonBody(c: Context, limit: number): Promise<unknown> {
  const tooLarge = () =>
    new HttpError(413, `the body is larger than ${limit} bytes`, "too large", { connection: "close" });
  let text = "";
  await bodyLimit({
    maxSize: limit,
    onError: () => {
      throw tooLarge();
    },
  })(c, async () => {
    text = await c.req.text();
  });
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON: ${(e as Error).message}`, "bad request");
  }
}

/** `input` through `schema`, or a 400 `HttpError` with the first issue's message (the schema words it). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new HttpError(400, result.error.issues[0].message, "bad request");
  return result.data;
}

/**
 * A path or query parameter that is a whole number in 0..`max` (written in decimal, at most 16 digits):
 * anything else is a 400 naming the parameter (`name`), the value and the range.
 */
export function uintParam(name: string, max = Number.MAX_SAFE_INTEGER) {
  const bad = (input: unknown) => `${name} ${JSON.stringify(input)} is not a whole number in 0..${max}`;
  return z
    .string({ error: (issue) => bad(issue.input) })
    .regex(/^\d{1,16}$/, { error: (issue) => bad(issue.input) })
    .transform(Number)
    .refine((n) => n <= max, { error: (issue) => bad(String(issue.input)) });
}

/** The methods of a read-only API. */
export const READ_ONLY_METHODS = "GET, HEAD, OPTIONS";

/**
 * CORS open to any origin for a read-only API (everything it serves is public): preflights answered 204
 * (echoing the asked headers), and any method other than GET, HEAD or OPTIONS refused 405 with `message`.
 */
export function readOnlyCors(message: (method: string) => string): MiddlewareHandler {
  const allowCors = cors({ origin: "*", allowMethods: [READ_ONLY_METHODS], maxAge: 86_400 });
  return async (c, next) => {
    const method = c.req.method;
    if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS") {
      c.header("access-control-allow-origin", "*");
      throw new HttpError(405, message(method), "method not allowed", { allow: READ_ONLY_METHODS });
    }
    return allowCors(c, next);
  };
}

/** The client's address, for logs. */
export function remoteAddress(c: Context): string | undefined {
  return getConnInfo(c).remote.address;
}

export interface ServerOptions {
  /** The JSON body of an answer to a request node:http cannot take (not HTTP, too slow, headers too large). */
  errorBody: (error: HttpError) => unknown;
  /** Time to receive the request headers, ms. Default 10 s. */
  headersTimeoutMs?: number;
  /** Time to receive the whole request, ms. Default 30 s. */
  requestTimeoutMs?: number;
  /** A socket idle this long is closed, ms. Default: node:http's (none). */
  idleTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept, ms. Default 5 s. */
  keepAliveTimeoutMs?: number;
}

export interface HttpServer {
  readonly server: Server;
  /** Starts listening; resolves to the bound address and its URL (port 0 picks a free port). */
  listen(port: number, host?: string): Promise<AddressInfo & { url: string }>;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** A node:http server for `app`, not yet listening: the one place the node software creates one. */
export function createHttpServer(app: Hono, options: ServerOptions): HttpServer {
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(options.requestTimeoutMs ?? 30_000, headersTimeout);
  // node:http enforces both timeouts on a timer of `connectionsCheckingInterval` (30 s by default).
  const checkEvery = Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4)));
  const server = createAdaptorServer({
    fetch: app.fetch,
    serverOptions: {
      headersTimeout,
      requestTimeout,
      connectionsCheckingInterval: checkEvery,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
    },
  }) as Server;
  if (options.idleTimeoutMs !== undefined) server.setTimeout(options.idleTimeoutMs, (socket) => socket.destroy());
  // Requests node:http cannot parse, or that come too slowly: answered in JSON too, then closed.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return void socket.destroy();
    const [status, reason, message] =
      err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request Timeout", "the request took too long"]
        : err.code === "HPE_HEADER_OVERFLOW"
          ? [431, "Request Header Fields Too Large", "the request headers are too large"]
          : [400, "Bad Request", "the request is not valid HTTP"];
    const body = JSON.stringify(
      options.errorBody(new HttpError(status as ContentfulStatusCode, message, reason.toLowerCase())),
    );
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        server.once("error", onError);
        server.listen(port, host, () => {
          server.off("error", onError);
          const address = server.address() as AddressInfo;
          resolve({ ...address, url: urlOf(address) });
        });
      });
    },
    close() {
      const closed = new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
      });
      server.closeAllConnections();
      return closed;
    },
  };
}

/** `app` as a node:http request listener, to embed in another server (tests). */
export function requestListener(app: Hono): RequestListener {
  return getRequestListener(app.fetch);
}

/** A server for `app` listening on `host:port` (port 0: any free port). */
export async function serve(
  app: Hono,
  options: ServerOptions & { host: string; port: number },
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const http = createHttpServer(app, options);
  const { url } = await http.listen(options.port, options.host);
  return { server: http.server, url, close: () => http.close() };
}

/** http://host:port of a bound address; a wildcard address is reached on loopback. */
function urlOf(address: AddressInfo): string {
  const wildcard = address.address === "0.0.0.0" || address.address === "::";
  const host = wildcard ? "127.0.0.1" : address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
