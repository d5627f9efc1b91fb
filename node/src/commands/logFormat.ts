/**
 * How `kaisar <role> run` prints its log: one JSON object a line (`{"time":...,"at":"Agent#listen",...}`)
 * for machines (stdout not a terminal, or --json), and a readable line on a terminal:
 *
 *   14:05:03  Agent#listen     url=http://127.0.0.1:8550 nodeId=3 chainId=31337
 *   14:05:09  Agent#challenge  ERROR  remote=10.0.0.2 n=65 error="n 65 is above maxN 64"
 */
import type { CommonOptions, Io } from "./common";

/** A readable line for one log entry (`at` first; an `error` field marks the line ERROR). */
export function formatLogLine(entry: { at: string } & Record<string, unknown>, time: Date): string {
  const { at, ...fields } = entry;
  const clock = time.toISOString().slice(11, 19);
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${value(v)}`);
  const level = "error" in fields ? "ERROR  " : "";
  return `${clock}  ${at.padEnd(16)} ${level}${parts.join(" ")}`.trimEnd();
}

function value(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "object" && v !== null) {
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
  }
  return String(v);
}

/**
 * The log writer of a `run` command: readable lines when `io` is a terminal and --json is not given,
 * JSON lines otherwise (bigints as decimal strings).
 */
export function runLogger(io: Io, opts: CommonOptions): (entry: { at: string } & Record<string, unknown>) => void {
  const readable = io.isTTY === true && !opts.json;
  return (entry) => {
    const time = new Date();
    io.out(
      (readable
        ? formatLogLine(entry, time)
        : JSON.stringify({ time: time.toISOString(), ...entry }, (_k, v) =>
            typeof v === "bigint" ? v.toString() : v,
          )) + "\n",
    );
  };
}
