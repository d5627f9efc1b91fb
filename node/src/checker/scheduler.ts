/**
 * Runs every node's probes on their periods: heartbeat each minute, capacity (challenge, bandwidth)
 * each 15 minutes, hardware daily by default.
 *
 * - Each (node, kind) is one job that is waiting, queued or running, never two of them: a probe of a
 *   node never overlaps the previous probe of the same kind of that node. Its next run is one period
 *   (with jitter) after its start, or right after it ends if it ran longer than that.
 * - At most `concurrency` probes run at once (a promise pool fed by a single timer on a min-heap of
 *   due times), and each kind at most its `kindLimits` share, so slow challenges can never take every
 *   slot from heartbeats. Probes carry their own deadlines, so a hanging node holds one slot for at most
 *   its timeout and never blocks the others.
 * - Ready jobs run in the order they fell due; under overload the schedule stretches instead of piling up.
 * - Errors are caught and handed to `onError`; the job keeps its schedule.
 * - `stop()` lets in-flight probes finish (or aborts them) and resolves once they have.
 * - The clock is injectable (`ManualClock` in tests).
 */
import { setMaxListeners } from "node:events";

import { PROBE_KINDS, type ProbeKind } from "./probe";

/** Time and timers (Unix milliseconds). */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** The real clock. Timers do not keep the process alive (the API server does). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A clock that moves only when told to (tests). */
export class ManualClock implements Clock {
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  constructor(private time = 0) {}
  now(): number {
    return this.time;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return timer;
  }
  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t !== handle);
  }
  /** Timers set and not yet fired. */
  get pending(): number {
    return this.timers.length;
  }
  /** Moves time forward by `ms`, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** Lets pending promise callbacks (and I/O callbacks already queued) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface SchedulerOptions<N extends { id: number }> {
  /** Period of each kind, milliseconds; kinds left out are not run. */
  intervals: Partial<Record<ProbeKind, number>>;
  /** Most probes in flight at once. */
  concurrency: number;
  /** Most probes of a kind in flight at once (default: `concurrency`). */
  kindLimits?: Partial<Record<ProbeKind, number>>;
  /** Spread of each next run, a fraction of the period either way (0..0.5; default 0.1). */
  jitter?: number;
  /**
   * Never-probed jobs start at a random point of their first period, at most this far away
   * (default: the shortest period), so a start does not probe every node at once.
   */
  startSpreadMs?: number;
  clock?: Clock;
  /** Uniform in [0, 1) (default Math.random). */
  random?: () => number;
  /** When (node, kind) was last probed, Unix ms (from the store), so that a restart keeps the rhythm. */
  lastRun?: (nodeId: number, kind: ProbeKind) => number | undefined;
  /** Runs one probe (and records it). Rejections go to `onError`. */
  run: (node: N, kind: ProbeKind, signal: AbortSignal) => Promise<unknown>;
  onError?: (error: unknown, node: N, kind: ProbeKind) => void;
}

interface Job<N> {
  node: N;
  kind: ProbeKind;
  due: number;
  state: "waiting" | "queued" | "running";
  removed: boolean;
}

export interface SchedulerStats {
  nodes: number;
  running: number;
  queued: number;
  started: number;
  completed: number;
  errors: number;
  /** Most probes ever in flight at once. */
  maxRunning: number;
}

/** A FIFO with O(1) push and shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    const x = this.items[this.head];
    if (x === undefined) return undefined;
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
  clear(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
}

/** A binary min-heap of jobs by due time. */
class DueHeap<N> {
  private a: Job<N>[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Job<N> | undefined {
    return this.a[0];
  }
  push(job: Job<N>): void {
    const a = this.a;
    a.push(job);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].due <= a[i].due) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): Job<N> | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l].due < a[m].due) m = l;
        if (r < a.length && a[r].due < a[m].due) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class ProbeScheduler<N extends { id: number }> {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly kinds: ProbeKind[];
  private readonly jitter: number;
  private readonly startSpreadMs: number;
  private readonly jobs = new Map<string, Job<N>>();
  /** Jobs of removed nodes whose probe is still running. */
  private readonly draining = new Map<string, Job<N>>();
  private readonly heap = new DueHeap<N>();
  private readonly queues = new Map<ProbeKind, Fifo<Job<N>>>();
  private readonly runningOf = new Map<ProbeKind, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private timer: unknown;
  private timerDue = Infinity;
  private started = false;
  private stopped = false;
  private nodeCount = 0;
  private counts = { running: 0, started: 0, completed: 0, errors: 0, maxRunning: 0 };

  constructor(private readonly options: SchedulerOptions<N>) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`concurrency ${options.concurrency} is not a whole number >= 1`);
    }
    // Every probe in flight listens to the one abort signal.
    setMaxListeners(0, this.abort.signal);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.jitter = Math.min(Math.max(options.jitter ?? 0.1, 0), 0.5);
    this.kinds = PROBE_KINDS.filter((k) => options.intervals[k] !== undefined);
    for (const k of this.kinds) {
      const ms = options.intervals[k]!;
      if (!(ms > 0)) throw new RangeError(`the ${k} period ${ms} ms is not > 0`);
      this.queues.set(k, new Fifo());
      this.runningOf.set(k, 0);
    }
    this.startSpreadMs = options.startSpreadMs ?? Math.min(...this.kinds.map((k) => options.intervals[k]!));
  }

  /** Sets the nodes to probe: new ones are scheduled, missing ones dropped (a running probe finishes). */
  setNodes(nodes: readonly N[]): void {
    const ids = new Set(nodes.map((n) => n.id));
    for (const [key, job] of this.jobs) {
      if (!ids.has(job.node.id)) {
        job.removed = true;
        this.jobs.delete(key);
        if (job.state === "running") this.draining.set(key, job);
      }
    }
    const now = this.clock.now();
    for (const node of nodes) {
      for (const kind of this.kinds) {
        const key = `${node.id}:${kind}`;
        const job = this.jobs.get(key);
        if (job) {
          job.node = node;
          continue;
        }
        const back = this.draining.get(key);
        if (back) {
          // Removed while running, and back: the same job goes on (never two probes of one kind at once).
          this.draining.delete(key);
          back.removed = false;
          back.node = node;
          this.jobs.set(key, back);
          continue;
        }
        const last = this.options.lastRun?.(node.id, kind);
        const due =
          last !== undefined
            ? Math.max(now, last + this.period(kind))
            : now + this.random() * Math.min(this.options.intervals[kind]!, this.startSpreadMs);
        const fresh: Job<N> = { node, kind, due, state: "waiting", removed: false };
        this.jobs.set(key, fresh);
        this.heap.push(fresh);
      }
    }
    this.nodeCount = ids.size;
    if (this.started) this.tick();
  }

  /** Starts running due probes. */
  start(): void {
    if (this.stopped) throw new Error("the scheduler was stopped; make a new one");
    this.started = true;
    this.tick();
  }

  /**
   * Stops: no new probe starts; resolves when the probes in flight have finished. With `abort`, they
   * are told to stop now (their results say "aborted").
   */
  async stop(options: { abort?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    for (const q of this.queues.values()) q.clear();
    if (options.abort) this.abort.abort();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  stats(): SchedulerStats {
    let queued = 0;
    for (const q of this.queues.values()) queued += q.length;
    return { nodes: this.nodeCount, queued, ...this.counts };
  }

  /** A period of `kind` with jitter. */
  private period(kind: ProbeKind): number {
    const base = this.options.intervals[kind]!;
    return base * (1 + this.jitter * (2 * this.random() - 1));
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    for (let job = this.heap.peek(); job && job.due <= now; job = this.heap.peek()) {
      this.heap.pop();
      if (job.removed) continue;
      job.state = "queued";
      this.queues.get(job.kind)!.push(job);
    }
    this.dispatch();
    this.arm();
  }

  /** Starts queued jobs while there are free slots, the earliest due first among kinds under their limit. */
  private dispatch(): void {
    const limits = this.options.kindLimits ?? {};
    while (this.counts.running < this.options.concurrency) {
      let pick: Fifo<Job<N>> | undefined;
      for (const kind of this.kinds) {
        const q = this.queues.get(kind)!;
        while (q.peek()?.removed) q.shift();
        const head = q.peek();
        if (!head || this.runningOf.get(kind)! >= (limits[kind] ?? Infinity)) continue;
        if (!pick || head.due < pick.peek()!.due) pick = q;
      }
      if (!pick) return;
      this.launch(pick.shift()!);
    }
  }

  private launch(job: Job<N>): void {
    job.state = "running";
    const startedAt = this.clock.now();
    this.counts.running++;
    this.counts.started++;
    this.counts.maxRunning = Math.max(this.counts.maxRunning, this.counts.running);
    this.runningOf.set(job.kind, this.runningOf.get(job.kind)! + 1);
    const done: Promise<void> = Promise.resolve()
      .then(async () => {
        await this.options.run(job.node, job.kind, this.abort.signal);
      })
      .catch((e: unknown) => {
        this.counts.errors++;
        try {
          this.options.onError?.(e, job.node, job.kind);
        } catch {
          // An error handler that throws must not stop the scheduler.
        }
      })
      .finally(() => {
        this.inFlight.delete(done);
        this.counts.running--;
        this.counts.completed++;
        this.runningOf.set(job.kind, this.runningOf.get(job.kind)! - 1);
        if (job.removed) this.draining.delete(`${job.node.id}:${job.kind}`);
        if (job.removed || this.stopped) return;
        job.state = "waiting";
        job.due = Math.max(this.clock.now(), startedAt + this.period(job.kind));
        this.heap.push(job);
        this.tick();
      });
    this.inFlight.add(done);
  }

  /** One timer, for the earliest due job. */
  private arm(): void {
    while (this.heap.peek()?.removed) this.heap.pop();
    const next = this.heap.peek();
    const due = next ? next.due : Infinity;
    if (due === this.timerDue && this.timer !== undefined) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerDue = due;
    if (due === Infinity) return;
    const wait = Math.min(Math.max(0, due - this.clock.now()), MAX_TIMER_MS);
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.tick();
    }, wait);
  }
}
