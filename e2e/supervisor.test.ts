/**
 * `npm start` restarts a program that dies (devnet/src/supervisor.ts): the keeper of the running
 * network (started by ./hooks.ts) is SIGKILLed; npm start prints one line naming it, the signal, the
 * delay and the attempt, starts it again (its new pid in .kaisar/local.json) and its /health answers.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";

import { localNetwork, readLocalJson, startOutput } from "./hooks";

const ROOT = path.join(__dirname, "..");
/** All of npm start's output (startOutput keeps the last N lines). */
const ALL = 1_000_000;

async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms / 1000} s waiting for ${what}\n${startOutput(30)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const keeperPid = () => readLocalJson().processes.find((p) => p.name === "keeper")?.pid;

describe("npm start: a program that dies is restarted", function () {
  it("SIGKILL of the keeper: one restart line in the output and its log, a new keeper, /health answers again", async function () {
    this.timeout(300_000);
    const net = localNetwork();
    const before = keeperPid();
    expect(before, "the keeper's pid in .kaisar/local.json").to.be.a("number");
    const printed = startOutput(ALL).length;

    process.kill(before!, "SIGKILL");

    const line = await until("npm start's restart line for the keeper", 60_000, async () => {
      const m = /keeper exited \(SIGKILL\); restarting in (\d+(\.\d+)?) s, attempt (\d+)/.exec(
        startOutput(ALL).slice(printed),
      );
      return m ?? undefined;
    });
    expect(Number(line[1]), "the first restart's delay").to.equal(1);
    expect(Number(line[3]), "the first restart").to.equal(1);
    const log = readFileSync(path.join(ROOT, ".kaisar", "devnet", "logs", "keeper.log"), "utf8");
    expect(log).to.include(line[0]);

    const after = await until("the restarted keeper's pid in .kaisar/local.json", 60_000, async () => {
      const pid = keeperPid();
      return pid !== undefined && pid !== before ? pid : undefined;
    });
    process.kill(after, 0); // it runs (throws when it does not)

    // Answering, then ok once it has caught up with what the chain holds (an epoch reported while it
    // was down is listed as missing work until its restart reconciles it).
    let last: unknown;
    const health = await until(`the keeper's ${net.keeperUrl}/health answering ok again`, 180_000, async () => {
      const res = await fetch(`${net.keeperUrl}/health`, { signal: AbortSignal.timeout(5000) });
      last = res.ok ? await res.json() : `HTTP ${res.status}`;
      return (last as { ok?: boolean }).ok === true ? (last as Record<string, unknown>) : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nits last /health: ${JSON.stringify(last)}`);
    });
    expect(Number(health.chainId)).to.equal(31337);
    expect(health.missingEpochs).to.deep.equal([]);
  });
});
