/**
 * Mocha root hooks of the end-to-end tests (`npm run test:e2e`): before every test file, `npm start`
 * runs as a child process group (short epochs, its own ports) until it prints "Kaisar is running
 * locally."; the tests read `.kaisar/local.json` (`readLocalJson()` in ./localJson). After them it
 * gets SIGINT, like Ctrl-C, and every program it started must have exited and every port be free.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { portFree } from "../node/src/devnet/ports";
import path from "node:path";

import { readLocalJson, type LocalNetwork } from "./localJson";

export { readLocalJson, localAccount, LOCAL_JSON, type LocalNetwork } from "./localJson";

const ROOT = path.join(__dirname, "..");
const READY_LINE = "Kaisar is running locally.";
/** How long `npm start` may take to be ready: 180 s, or KAISAR_E2E_READY_SECONDS on a loaded machine. */
const READY_TIMEOUT_MS = Number(process.env.KAISAR_E2E_READY_SECONDS ?? 180) * 1000;

/**
 * Ports of the tested network: away from a developer's own `npm start` (8545, 855x, 5173).
 * KAISAR_E2E_PORT_OFFSET (default 0) moves them all, so that two checkouts can run the suite at once.
 */
const OFFSET = Number(process.env.KAISAR_E2E_PORT_OFFSET ?? 0);
export const E2E_ENV = {
  KAISAR_EPOCH_SECONDS: process.env.KAISAR_E2E_EPOCH_SECONDS ?? "20",
  KAISAR_RPC_PORT: String(18545 + OFFSET),
  KAISAR_AGENT_PORT: String(18550 + OFFSET),
  KAISAR_CHECKER_PORT: String(18560 + OFFSET),
  KAISAR_KEEPER_PORT: String(18570 + OFFSET),
  KAISAR_WEB_PORT: String(15173 + OFFSET),
};

let child: ChildProcess | undefined;
let output = "";
let network: LocalNetwork | undefined;

/** The last lines `npm start` printed (for failure messages). */
export function startOutput(lines = 60): string {
  return output.split("\n").slice(-lines).join("\n");
}

/** The running network (after the root beforeAll). */
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

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(READY_TIMEOUT_MS + 10_000);
    const began = Date.now();
    const env: NodeJS.ProcessEnv = { ...process.env, ...E2E_ENV };
    child = spawn("npm", ["start"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const c = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`npm start was not ready in ${READY_TIMEOUT_MS / 1000} s:\n${startOutput()}`)),
        READY_TIMEOUT_MS,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
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
    console.log(`      (npm start was ready in ${((Date.now() - began) / 1000).toFixed(1)} s)`);
  },

  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
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
  },
};
