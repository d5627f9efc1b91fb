/**
 * `npm start` as a person runs it, driven from a program: start it as a child process group until it
 * prints "Kaisar is running locally.", then stop it like Ctrl-C (SIGINT to the whole foreground group)
 * and check that every program it started has exited and every port it used is free.
 *
 * Used by the end-to-end tests' root hooks (./hooks.ts) and by .ci/run's first step on a fresh clone
 * (./start-check.ts), which proves that `npm ci && npm start` works before anything else compiles.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

import { portFree } from "../devnet/src/ports";
import { readLocalJson, type LocalNetwork } from "./localJson";

const ROOT = path.join(__dirname, "..");
export const READY_LINE = "Kaisar is running locally.";

let child: ChildProcess | undefined;
let output = "";
let network: LocalNetwork | undefined;

/** The last lines `npm start` printed (for failure messages). */
export function startOutput(lines = 60): string {
  return output.split("\n").slice(-lines).join("\n");
}

/** The running network (after `startNetwork`). */
export function localNetwork(): LocalNetwork {
  if (!network) throw new Error("npm start is not running (the e2e root hooks did not start it)");
  return network;
}

/** Whether process `pid` runs (a zombie waiting for its parent to reap it does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return true; // no /proc: kill(pid, 0) said it exists
  }
}

/**
 * Runs `npm start` with `env` added until it is ready (at most `readyTimeoutMs`: a deadline against a
 * hang, not a measure of speed). `echo` copies its output to this process's as it comes.
 */
export async function startNetwork(
  env: NodeJS.ProcessEnv,
  readyTimeoutMs: number,
  echo = false,
): Promise<LocalNetwork> {
  output = "";
  child = spawn("npm", ["start"], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const c = child;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start was not ready in ${readyTimeoutMs / 1000} s:\n${startOutput()}`)),
      readyTimeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (echo) process.stdout.write(chunk);
      if (output.includes(READY_LINE)) {
        clearTimeout(timer);
        resolve();
      }
    };
    c.stdout!.on("data", onData);
    c.stderr!.on("data", onData);
    c.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}) before it was ready:\n${startOutput()}`));
    });
  });
  network = readLocalJson();
  return network;
}

/**
 * Stops the network like Ctrl-C in a terminal and throws unless, soon after, every program it started
 * has exited and every port it listed is free.
 */
export async function stopNetwork(): Promise<void> {
  const c = child;
  if (!c || c.exitCode !== null) return;
  // Like Ctrl-C in a terminal: SIGINT to the whole foreground group (npm and the start script).
  const exited = new Promise<number | null>((resolve) => c.once("exit", (code) => resolve(code)));
  process.kill(-c.pid!, "SIGINT");
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("timeout"), 30_000))]);
  if (code === "timeout") {
    process.kill(-c.pid!, "SIGKILL");
    throw new Error(`npm start did not exit within 30 s of SIGINT:\n${startOutput()}`);
  }
  // npm may return as soon as it has passed SIGINT on, while the start script still stops its
  // programs: give that a few seconds. Then every program it started has exited and every port is free.
  const pids = network ? readLocalJson().processes : [];
  const ports = Object.entries(network?.ports ?? {});
  let left = pids;
  let busy: string[] = [];
  for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
    left = pids.filter((p) => alive(p.pid));
    busy = [];
    for (const [what, port] of ports) if (!(await portFree(port))) busy.push(`${port} (${what})`);
    if (!left.length && !busy.length) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (left.length || busy.length) {
    throw new Error(
      `after SIGINT: npm start exited ${String(code)}; still running: ${left.map((p) => `${p.name} ${p.pid}`).join(", ") || "none"}; ` +
        `ports in use: ${busy.join(", ") || "none"}\n${startOutput(20)}`,
    );
  }
}
