/**
 * The node software's one log writer, on pino: every entry has a level (the one it says, `level: "warn"`;
 * otherwise `error` when it carries an `error` field, else `info`), a time and its tag (`at`). `kaisar
 * <role> run` prints one JSON object a line for machines (stdout not a terminal, or --json):
 *
 *   {"level":"info","time":"2026-12-07T14:05:03.120Z","at":"Agent#listen","url":"http://127.0.0.1:8550",...}
 *
 * and, on a terminal, the same entries through a readable pino destination:
 *
 *   14:05:03  Agent#listen     url=http://127.0.0.1:8550 nodeId=3 chainId=31337
 *   14:05:09  Agent#challenge  ERROR  remote=10.0.0.2 n=65 error="n 65 is above maxN 64"
 *
 * Bigints are written as decimal strings (`jsonWithBigints`, the one bigint-safe serializer).
 */
import pino, { type DestinationStream, type Level } from "pino";

import type { CommonOptions, Io } from "./common";

/** A log entry: its tag (`Agent#listen`), its level when not the default, and its fields. */
export type LogEntry = { at: string; level?: Level } & Record<string, unknown>;

/** JSON with bigints as decimal strings. */
export function jsonWithBigints(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** An entry's level: the one it says, else `error` when it carries an error, else `info`. */
export function levelOf(entry: { level?: Level } & Record<string, unknown>): Level {
  return entry.level ?? ("error" in entry ? "error" : "info");
}

/** A readable line for one entry (`at` first; errors and warnings marked). */
export function formatLogLine(entry: { at: string; level?: string } & Record<string, unknown>, time: Date): string {
  const { at, level, ...fields } = entry;
  const clock = time.toISOString().slice(11, 19);
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${value(v)}`);
  const mark = level === "error" || level === "fatal" || level === "warn" ? `${level.toUpperCase().padEnd(5)}  ` : "";
  return `${clock}  ${at.padEnd(16)} ${mark}${parts.join(" ")}`.trimEnd();
}

function value(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === "object" && v !== null) return jsonWithBigints(v);
  return String(v);
}

/**
 * A logger writing each entry to `write`: a JSON line, or a readable line (`readable`). Entries are
 * written at once (a synchronous destination), in order.
 */
export function createLogger(write: (text: string) => void, readable: boolean): (entry: LogEntry) => void {
  const destination: DestinationStream = {
    write: readable
      ? (line) => {
          const { time, ...entry } = JSON.parse(line) as LogEntry & { time: string };
          write(formatLogLine(entry, new Date(time)) + "\n");
        }
      : write,
  };
  const logger = pino(
    {
      level: "trace",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // Bigints (token amounts, ids) as decimal strings, in nested fields too.
        log: (fields) => JSON.parse(jsonWithBigints(fields)) as Record<string, unknown>,
      },
    },
    destination,
  );
  return (entry) => {
    const { level: _level, ...fields } = entry;
    logger[levelOf(entry)](fields);
  };
}

/**
 * The log writer of a `run` command: readable lines when `io` is a terminal and --json is not given,
 * JSON lines otherwise.
 */
export function runLogger(io: Io, opts: CommonOptions): (entry: LogEntry) => void {
  return createLogger(io.out, io.isTTY === true && !opts.json);
}
