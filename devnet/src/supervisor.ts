/**
 * `npm start`'s supervisor (./start.ts): a program that exits when nobody stopped it is started again
 * after a delay that doubles from `initialMs` to at most `maxMs` (1 s, 2 s, 4 s ... 30 s by default),
 * back to `initialMs` once a run has lasted `stableMs`. Each restart is one line naming the program,
 * its exit code or signal, the delay and the attempt:
 *
 *     keeper exited (SIGKILL); restarting in 2 s, attempt 2
 *
 * A deliberate stop is not restarted: a program whose handle says `stopping` (./start.ts sets it
 * before it signals the program), or any after `stop()` (npm start's shutdown), which also cancels a
 * restart still waiting out its delay.
 *
 * Events: "restart" (a `Restart`, before the delay), "started" (the new handle, after it),
 * "exit" (an `Exit` for every exit, restarted or not), "stopped" (once: no more restarts).
 */
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";

/** A running program: its process and whether it is being stopped on purpose. */
export interface Supervised {
  proc: ChildProcess;
  stopping: boolean;
}

export interface Backoff {
  /** The first restart's delay. */
  initialMs: number;
  /** The longest delay. */
  maxMs: number;
  /** A run at least this long resets the delay (and the attempt count) to the first. */
  stableMs: number;
}

export const BACKOFF: Backoff = { initialMs: 1000, maxMs: 30_000, stableMs: 60_000 };

export interface Exit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** False for a deliberate stop. */
  restart: boolean;
}

export interface Restart extends Exit {
  /** 1 for the first restart since the program last ran `stableMs`. */
  attempt: number;
  delayMs: number;
  /** "keeper exited (SIGKILL); restarting in 2 s, attempt 2" */
  line: string;
}

export interface SupervisorOptions {
  backoff?: Backoff;
  /** Waits `ms` (rejecting when `signal` aborts); tests inject one that does not wait real time. */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The clock that measures how long a run lasted (ms). */
  now?: () => number;
  /** Where restart lines go (npm start: its output and the program's log file). */
  log?: (line: string) => void;
}

/** The delay before restart number `attempt` (1-based). */
export function backoffDelay(attempt: number, b: Backoff = BACKOFF): number {
  return Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, attempt - 1));
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

export class Supervisor extends EventEmitter {
  /** The program's current (or last) run. */
  current: Supervised | undefined;
  private attempt = 0;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private readonly delay: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly now: () => number;

  constructor(
    readonly name: string,
    private readonly launch: () => Supervised,
    private readonly options: SupervisorOptions = {},
  ) {
    super();
    this.backoff = options.backoff ?? BACKOFF;
    this.delay = options.delay ?? ((ms, signal) => sleep(ms, undefined, { signal }));
    this.now = options.now ?? Date.now;
  }

  /** Starts the program (its first run). */
  start(): Supervised {
    const run = this.launch();
    this.current = run;
    const startedAt = this.now();
    let seen = false;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      if (seen) return;
      seen = true;
      void this.exited(run, this.now() - startedAt, code, signal);
    };
    run.proc.once("exit", onExit);
    // A spawn that fails (no such command) may emit no "exit".
    run.proc.once("error", () => {
      if (run.proc.pid === undefined) onExit(null, null);
    });
    return run;
  }

  /** No more restarts (a pending one is cancelled); the running program is left to its owner to stop. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.emit("stopped");
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private async exited(run: Supervised, upMs: number, code: number | null, signal: NodeJS.Signals | null) {
    const restart = !this.stopped && !run.stopping;
    this.emit("exit", { name: this.name, code, signal, restart } satisfies Exit);
    if (!restart) return this.stop();
    if (upMs >= this.backoff.stableMs) this.attempt = 0;
    this.attempt += 1;
    const delayMs = backoffDelay(this.attempt, this.backoff);
    const how = signal ?? (code === null ? "failed to start" : `exit code ${code}`);
    const line = `${this.name} exited (${how}); restarting in ${seconds(delayMs)}, attempt ${this.attempt}`;
    this.options.log?.(line);
    this.emit("restart", {
      name: this.name,
      code,
      signal,
      restart,
      attempt: this.attempt,
      delayMs,
      line,
    } satisfies Restart);
    try {
      await this.delay(delayMs, this.abort.signal);
    } catch {
      return; // stopped while waiting
    }
    if (this.stopped) return;
    this.emit("started", this.start());
  }
}
