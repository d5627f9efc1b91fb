/**
 * One run of `npm start` as an object (no module-level state): its programs (./processes.ts), the
 * lock on .kaisar/, the ports it watches, what it stops on shutdown and, with `--persist`, the chain
 * it saves on the way out.
 *
 * Shutdown (SIGINT, SIGTERM, the chain's exit or a failed start): no program is restarted from then on;
 * what was registered with `onShutdown` is undone (last first: the epoch watcher, the outages, the
 * flaky node's proxy), then the programs stop, the chain last (with `--persist`, saved before it
 * stops), and every port must be free.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

import type { ChainDump } from "./persist";
import { LOCK, STATE } from "./paths";
import { stillInUse, type PortUse } from "./ports";
import { Processes } from "./processes";
import { saveChain } from "./saved";
import { StartError } from "./settings";

export class Devnet {
  readonly began = Date.now();
  readonly processes: Processes;
  /** The ports every program listens on: free again after the shutdown. */
  ports: PortUse[] = [];
  /** `--persist`, once the network is up (or restored): the chain to save on stop, and the save it was restored from. */
  persistOnStop: { rpcUrl: string; from?: ChainDump } | undefined;
  private closing = false;
  private lockTaken = false;
  private readonly cleanups: (() => void | Promise<void>)[] = [];

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {
    this.processes = new Processes(this.say);
  }

  /** One line of `npm start`'s own: "[start] ...". */
  readonly say = (msg: string): void => void this.out.write(`[start] ${msg}\n`);

  /** True once the shutdown has begun. */
  get stopping(): boolean {
    return this.closing;
  }

  /** `undo` runs at shutdown, before the programs stop (the last registered first). */
  onShutdown(undo: () => void | Promise<void>): void {
    this.cleanups.push(undo);
  }

  /** Resolves to `check`'s first defined value (errors count as none); throws after `ms` or once stopping. */
  async until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.closing) throw new StartError("stopped");
      const v = await check().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new StartError(`${what} did not happen within ${ms / 1000} s`);
      await sleep(250);
    }
  }

  /** Takes .kaisar/start.pid; throws naming the other `npm start` that holds it. */
  takeLock(): void {
    mkdirSync(STATE, { recursive: true });
    try {
      const other = Number(readFileSync(LOCK, "utf8"));
      if (other && other !== process.pid) {
        process.kill(other, 0); // throws when it is gone
        throw new StartError(
          `another npm start (pid ${other}) runs from this checkout and owns .kaisar/: stop it first ` +
            `(Ctrl-C in its terminal, or kill -INT ${other})`,
        );
      }
    } catch (e) {
      if (e instanceof StartError) throw e;
      // no lock, or its process is gone
    }
    writeFileSync(LOCK, String(process.pid));
    this.lockTaken = true;
  }

  /** Stops everything (once) and exits with `code`. */
  async shutdown(code: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // Programs stopped from here on are not restarted; a restart waiting out its delay is cancelled.
    this.processes.close();
    for (const undo of this.cleanups.reverse()) await undo();
    const all = this.processes.list();
    if (all.length) this.say("stopping every program");
    // The programs first, the chain last (they may be sending transactions while they stop).
    await Promise.all(all.filter((c) => c.name !== "chain").map((c) => this.processes.stop(c)));
    const chain = all.find((c) => c.name === "chain");
    if (this.persistOnStop && chain && this.processes.has("chain")) {
      await saveChain(this.say, this.persistOnStop.rpcUrl, this.persistOnStop.from);
    }
    if (chain) await this.processes.stop(chain);
    if (this.ports.length) {
      const busy = await stillInUse(this.ports);
      if (busy.length) this.say(`still in use after stopping: ${busy.map((u) => `${u.port} (${u.what})`).join(", ")}`);
      else this.say("stopped; every port is free");
    }
    if (this.lockTaken) rmSync(LOCK, { force: true });
    process.exit(code);
  }
}
