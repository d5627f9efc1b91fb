/**
 * Small helpers the node tests share: free ports, polling, JSON over HTTP, JSON-line logs, and a
 * machine without nvidia-smi.
 */
import http from "node:http";
import { createServer } from "node:net";

import type { RunProgram } from "../../src/provider";

/** nvidia-smi is not installed (whatever this machine has): hardware comes from the declared profile. */
export const NO_SMI: RunProgram = async () => {
  throw Object.assign(new Error("spawn nvidia-smi ENOENT"), { code: "ENOENT" });
};

/** A TCP port nothing listens on (right now). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` every `everyMs` until it returns something, or fails after `ms`. */
export async function until<T>(check: () => T | undefined, ms = 10_000, everyMs = 20): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** GET `url` as JSON on a connection of its own (nothing kept alive after the test). */
export function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
          } catch (e) {
            reject(e);
          }
        });
      })
      .on("error", reject);
  });
}

export type LogLine = { at: string; time: string } & Record<string, unknown>;

/** The JSON lines of a program's output (other lines skipped). */
export const jsonLines = (text: string): LogLine[] =>
  text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as LogLine);
