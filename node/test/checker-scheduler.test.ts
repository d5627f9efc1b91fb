import { expect } from "chai";

import { ManualClock, ProbeScheduler, settle, type SchedulerOptions } from "../src/checker/scheduler";
import type { ProbeKind } from "../src/checker/probe";

interface Node {
  id: number;
}

/** A run function whose probes end only when the test says so; it records what ran when. */
function controlledRun(clock: ManualClock) {
  const running = new Map<string, () => void>();
  const log: { node: number; kind: ProbeKind; at: number }[] = [];
  let now = 0;
  let max = 0;
  let overlap = false;
  const signals: AbortSignal[] = [];
  const run = (node: Node, kind: ProbeKind, signal: AbortSignal) => {
    const key = `${node.id}:${kind}`;
    if (running.has(key)) overlap = true;
    log.push({ node: node.id, kind, at: clock.now() });
    signals.push(signal);
    now++;
    max = Math.max(max, now);
    return new Promise<void>((resolve) => {
      const done = () => {
        if (running.get(key) !== done) return;
        running.delete(key);
        now--;
        resolve();
      };
      running.set(key, done);
      signal.addEventListener("abort", done, { once: true });
    });
  };
  return {
    run,
    log,
    signals,
    get running() {
      return now;
    },
    get max() {
      return max;
    },
    get overlap() {
      return overlap;
    },
    /** Ends the probes running now (all, or those of `kind`). */
    async finish(kind?: ProbeKind) {
      for (const [key, done] of [...running]) if (!kind || key.endsWith(`:${kind}`)) done();
      await settle();
    },
  };
}

const nodes = (n: number): Node[] => Array.from({ length: n }, (_, i) => ({ id: i + 1 }));

function scheduler(clock: ManualClock, options: Partial<SchedulerOptions<Node>> & Pick<SchedulerOptions<Node>, "run">) {
  return new ProbeScheduler<Node>({
    intervals: { heartbeat: 1_000 },
    concurrency: 4,
    jitter: 0,
    startSpreadMs: 0,
    clock,
    ...options,
  });
}

describe("checker scheduler", () => {
  it("never runs more probes at once than its concurrency bound", async () => {
    const clock = new ManualClock(0);
    const c = controlledRun(clock);
    const s = scheduler(clock, { concurrency: 3, run: c.run });
    s.setNodes(nodes(10));
    s.start();
    await clock.advance(0);
    expect(c.running, "3 started").to.equal(3);
    expect(s.stats().queued, "7 wait").to.equal(7);
    for (let i = 0; i < 5; i++) {
      await c.finish();
      await clock.advance(10);
      expect(c.running, `round ${i}`).to.be.at.most(3);
    }
    expect(c.max, "never more than 3").to.equal(3);
    expect(new Set(c.log.map((l) => l.node)).size, "every node ran").to.equal(10);
    await s.stop();
  });

  it("never overlaps two probes of one (node, kind), and runs the next one right after a long one", async () => {
    const clock = new ManualClock(0);
    const c = controlledRun(clock);
    const s = scheduler(clock, { intervals: { heartbeat: 100 }, run: c.run });
    s.setNodes(nodes(1));
    s.start();
    await clock.advance(1_000); // ten periods pass while the first probe runs
    expect(c.log.length, "still the first probe").to.equal(1);
    await c.finish();
    expect(c.log.length, "the next starts at once").to.equal(2);
    expect(c.log[1].at, "at the time the first ended").to.equal(1_000);
    await c.finish();
    await clock.advance(99);
    expect(c.log.length, "then one period later").to.equal(2);
    await clock.advance(1);
    expect(c.log.length, "one period after the start").to.equal(3);
    expect(c.overlap, "no overlap").to.be.false;
    await s.stop({ abort: true });
  });

  it("runs each kind on its own period", async () => {
    const clock = new ManualClock(0);
    const counts: Record<string, number> = {};
    const s = scheduler(clock, {
      intervals: { heartbeat: 100, challenge: 1_000, hardware: 10_000 },
      run: async (_n, kind) => {
        counts[kind] = (counts[kind] ?? 0) + 1;
      },
    });
    s.setNodes(nodes(2));
    s.start();
    await clock.advance(10_000);
    expect(counts, "runs in 10 s").to.deep.equal({ heartbeat: 2 * 101, challenge: 2 * 11, hardware: 2 * 2 });
    await s.stop();
  });

  it("keeps a kind under its limit so that long probes cannot take every slot", async () => {
    const clock = new ManualClock(0);
    const c = controlledRun(clock);
    let heartbeats = 0;
    const s = scheduler(clock, {
      intervals: { heartbeat: 100, challenge: 100 },
      concurrency: 4,
      kindLimits: { challenge: 2 },
      // Heartbeats end at once; challenges hang until the end.
      run: async (n, kind, signal) => {
        if (kind === "heartbeat") heartbeats++;
        else await c.run(n, kind, signal);
      },
    });
    s.setNodes(nodes(10));
    s.start();
    await clock.advance(1_000);
    expect(c.max, "at most 2 challenges at once").to.equal(2);
    expect(heartbeats, "heartbeats of every node, every period, meanwhile").to.equal(10 * 11);
    await s.stop({ abort: true });
  });

  it("spreads first runs, applies jitter within its bounds and resumes from the last run", async () => {
    const clock = new ManualClock(10_000);
    const starts: number[] = [];
    let r = 0;
    const randoms = [0.5, 0, 0.999];
    const s = new ProbeScheduler<Node>({
      intervals: { heartbeat: 1_000 },
      concurrency: 4,
      jitter: 0.2,
      clock,
      random: () => randoms[r++ % randoms.length],
      lastRun: (id) => (id === 2 ? 9_800 : undefined), // node 2 ran 200 ms ago (before a restart)
      run: async (node) => {
        if (node.id === 1) starts.push(clock.now());
      },
    });
    s.setNodes(nodes(2));
    s.start();
    await clock.advance(5_000);
    expect(starts[0], "node 1's first run: 0.5 into the spread").to.equal(10_500);
    for (let i = 1; i < starts.length; i++) {
      expect(starts[i] - starts[i - 1], `gap ${i}`).to.be.within(800, 1_200);
    }
    await s.stop();
  });

  it("resumes a node from its last run after a restart, not at once", async () => {
    const clock = new ManualClock(10_000);
    const starts: number[] = [];
    const s = scheduler(clock, {
      lastRun: () => 9_800,
      run: async () => {
        starts.push(clock.now());
      },
    });
    s.setNodes(nodes(1));
    s.start();
    await clock.advance(2_000);
    expect(starts, "one period after the last run, then on").to.deep.equal([10_800, 11_800]);
    await s.stop();
  });

  it("catches a probe's error, reports it and keeps the schedule", async () => {
    const clock = new ManualClock(0);
    const errors: string[] = [];
    let runs = 0;
    const s = scheduler(clock, {
      run: async () => {
        runs++;
        throw new Error(`boom ${runs}`);
      },
      onError: (e, node, kind) => {
        errors.push(`${node.id}/${kind}: ${(e as Error).message}`);
        throw new Error("a throwing handler is contained too");
      },
    });
    s.setNodes(nodes(1));
    s.start();
    await clock.advance(2_500);
    expect(runs, "runs").to.equal(3);
    expect(errors, "errors").to.deep.equal(["1/heartbeat: boom 1", "1/heartbeat: boom 2", "1/heartbeat: boom 3"]);
    expect(s.stats().errors, "counted").to.equal(3);
    await s.stop();
  });

  it("stop() waits for the probes in flight; with abort it signals them", async () => {
    const clock = new ManualClock(0);
    const c = controlledRun(clock);
    const s = scheduler(clock, { run: c.run });
    s.setNodes(nodes(2));
    s.start();
    await clock.advance(0);
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await settle();
    expect(stopped, "waits").to.be.false;
    await c.finish();
    await stopping;
    expect(stopped, "then resolves").to.be.true;
    await clock.advance(5_000);
    expect(c.log.length, "nothing runs after stop").to.equal(2);

    const c2 = controlledRun(clock);
    const s2 = scheduler(clock, { run: c2.run });
    s2.setNodes(nodes(1));
    s2.start();
    await clock.advance(0);
    await s2.stop({ abort: true });
    expect(c2.signals[0].aborted, "aborted").to.be.true;
  });

  it("drops removed nodes, adds new ones, and never doubles a node removed and re-added while running", async () => {
    const clock = new ManualClock(0);
    const c = controlledRun(clock);
    const s = scheduler(clock, { intervals: { heartbeat: 100 }, run: c.run });
    s.setNodes(nodes(2));
    s.start();
    await clock.advance(0);
    s.setNodes([{ id: 2 }, { id: 3 }]); // 1 goes (while running), 3 comes
    s.setNodes([{ id: 1 }, { id: 2 }, { id: 3 }]); // 1 comes back while its probe still runs
    await clock.advance(500);
    expect(c.overlap, "no second probe of node 1").to.be.false;
    await c.finish();
    await clock.advance(100);
    await c.finish();
    expect(s.stats().nodes, "nodes").to.equal(3);
    expect(new Set(c.log.map((l) => l.node)), "all three ran").to.deep.equal(new Set([1, 2, 3]));
    s.setNodes([{ id: 3 }]);
    const before = c.log.length;
    await c.finish();
    await clock.advance(1_000);
    await c.finish();
    expect(
      c.log.slice(before).every((l) => l.node === 3),
      "only node 3 afterwards",
    ).to.be.true;
    await s.stop({ abort: true });
  });

  it("refuses a bad concurrency or period", () => {
    const clock = new ManualClock(0);
    expect(() => scheduler(clock, { concurrency: 0, run: async () => {} }), "concurrency").to.throw(/concurrency/);
    expect(() => scheduler(clock, { intervals: { heartbeat: 0 }, run: async () => {} }), "period").to.throw(/period/);
  });
});
