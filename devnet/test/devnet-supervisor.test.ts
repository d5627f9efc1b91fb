/**
 * `npm start`'s supervisor (devnet/src/supervisor.ts) with real child processes (`node -e`
 * scripts that exit with a code, or that run until the test SIGKILLs them). The delay and the clock
 * are injected: the backoff sequence is checked without waiting real seconds, and every step waits
 * for the supervisor's events, not for time.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";

import { expect } from "chai";

import { Supervisor, backoffDelay, type Exit, type Restart, type Supervised } from "../src/supervisor";

const EXIT_3 = "process.exit(3)";
const EXIT_1 = "process.exit(1)";
const RUNS = "setInterval(() => {}, 1000)";

/** Launches `node -e <script>` for each run, the last script again once the list is used up. */
function programs(scripts: string[]) {
  const runs: Supervised[] = [];
  const launch = (): Supervised => {
    const script = scripts[Math.min(runs.length, scripts.length - 1)];
    const run = { proc: spawn(process.execPath, ["-e", script], { stdio: "ignore" }), stopping: false };
    runs.push(run);
    return run;
  };
  return { runs, launch };
}

/** Collects the supervisor's "restart" events; `next()` waits for the next one. */
function restarts(s: Supervisor) {
  const seen: Restart[] = [];
  const next = async (): Promise<Restart> => {
    const [r] = (await once(s, "restart")) as [Restart];
    return r;
  };
  s.on("restart", (r: Restart) => seen.push(r));
  return { seen, next };
}

const noWait = (delays: number[]) => async (ms: number) => {
  delays.push(ms);
};

describe("npm start's supervisor: a program that dies is restarted, with backoff", function () {
  this.timeout(60_000);
  let all: Supervised[] = [];
  let supervisor: Supervisor | undefined;

  afterEach(async () => {
    supervisor?.stop();
    for (const r of all) {
      if (r.proc.exitCode === null && r.proc.signalCode === null) {
        const gone = once(r.proc, "exit");
        r.proc.kill("SIGKILL");
        await gone;
      }
    }
    all = [];
    supervisor = undefined;
  });

  it("computes 1 s doubling to 30 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((a) => backoffDelay(a))).to.deep.equal([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it("restarts a program that keeps exiting, 1 s doubling to 30 s, one line each naming its exit code and attempt", async () => {
    const { runs, launch } = programs([EXIT_3]);
    all = runs;
    const delays: number[] = [];
    const lines: string[] = [];
    const s = (supervisor = new Supervisor("keeper", launch, { delay: noWait(delays), log: (l) => lines.push(l) }));
    const { seen } = restarts(s);
    // Stopped as the 7th restart is announced: that one is not carried out.
    s.on("restart", (r: Restart) => r.attempt === 7 && s.stop());
    const stopped = once(s, "stopped");
    s.start();
    await stopped;

    expect(seen.map((r) => r.attempt)).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(seen.map((r) => r.delayMs)).to.deep.equal([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(delays.slice(0, 7)).to.deep.equal([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(seen.every((r) => r.code === 3 && r.signal === null && r.name === "keeper")).to.equal(true);
    expect(lines[0]).to.equal("keeper exited (exit code 3); restarting in 1 s, attempt 1");
    expect(lines[6]).to.equal("keeper exited (exit code 3); restarting in 30 s, attempt 7");
    expect(lines).to.have.length(7);
    expect(runs).to.have.length(7, "the first run and 6 restarts; the 7th was stopped");
  });

  it("names the signal of a program killed with SIGKILL, and a run that stayed up resets the backoff", async () => {
    const { runs, launch } = programs([EXIT_1, EXIT_1, RUNS]);
    all = runs;
    let clock = 0;
    const s = (supervisor = new Supervisor("checker-1", launch, { delay: noWait([]), now: () => clock }));
    const { seen, next } = restarts(s);
    const third = new Promise<Supervised>((resolve) =>
      s.on("started", (run: Supervised) => runs.length === 3 && resolve(run)),
    );
    s.start();
    const run = await third;
    expect(seen.map((r) => [r.attempt, r.delayMs])).to.deep.equal([
      [1, 1000],
      [2, 2000],
    ]);

    // Not yet up long enough: the next restart would be the 3rd attempt. Up for a minute: the first.
    clock += 60_000;
    const restarted = next();
    run.proc.kill("SIGKILL");
    const r = await restarted;
    expect(r).to.include({ attempt: 1, delayMs: 1000, signal: "SIGKILL", code: null });
    expect(r.line).to.equal("checker-1 exited (SIGKILL); restarting in 1 s, attempt 1");
  });

  it("does not reset the backoff for a run shorter than a minute", async () => {
    const { runs, launch } = programs([EXIT_1, RUNS]);
    all = runs;
    let clock = 0;
    const s = (supervisor = new Supervisor("agent-a100", launch, { delay: noWait([]), now: () => clock }));
    const { next } = restarts(s);
    const second = new Promise<Supervised>((resolve) => s.on("started", (run: Supervised) => resolve(run)));
    s.start();
    const run = await second;
    clock += 59_999;
    const restarted = next();
    run.proc.kill("SIGKILL");
    expect(await restarted).to.include({ attempt: 2, delayMs: 2000, signal: "SIGKILL" });
  });

  it("does not restart a program stopped on purpose (its handle says stopping)", async () => {
    const { runs, launch } = programs([RUNS]);
    all = runs;
    const s = (supervisor = new Supervisor("agent-h100", launch, { delay: noWait([]) }));
    const { seen } = restarts(s);
    const run = s.start();
    const exit = once(s, "exit") as Promise<[Exit]>;
    const stopped = once(s, "stopped");
    run.stopping = true;
    run.proc.kill("SIGTERM");
    const [e] = await exit;
    await stopped;
    expect(e).to.deep.equal({ name: "agent-h100", code: null, signal: "SIGTERM", restart: false });
    expect(seen).to.have.length(0);
    expect(runs).to.have.length(1);
  });

  it("does not restart a program that exits after stop() (npm start's shutdown)", async () => {
    const { runs, launch } = programs([RUNS]);
    all = runs;
    const s = (supervisor = new Supervisor("keeper", launch, { delay: noWait([]) }));
    const { seen } = restarts(s);
    const run = s.start();
    s.stop();
    const exit = once(s, "exit") as Promise<[Exit]>;
    run.proc.kill("SIGKILL");
    const [e] = await exit;
    expect(e.restart).to.equal(false);
    expect(seen).to.have.length(0);
    expect(runs).to.have.length(1);
  });

  it("stop() cancels a restart still waiting out its delay (the real timer, aborted)", async () => {
    const { runs, launch } = programs([EXIT_1]);
    all = runs;
    let aborted!: () => void;
    const wasAborted = new Promise<void>((resolve) => (aborted = resolve));
    const s = (supervisor = new Supervisor("keeper", launch, {
      // The real timer, far too long to elapse during the test: only stop() ends it.
      backoff: { initialMs: 3_600_000, maxMs: 3_600_000, stableMs: 60_000 },
      delay: (ms, signal) =>
        sleep(ms, undefined, { signal }).catch((e: unknown) => {
          aborted();
          throw e;
        }),
    }));
    const { next } = restarts(s);
    s.start();
    const r = await next();
    expect(r).to.include({ attempt: 1, code: 1, delayMs: 3_600_000 });
    s.stop();
    await wasAborted;
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).to.have.length(1);
    expect(s.isStopped).to.equal(true);
  });
});
