/**
 * The demo of `npm start` (devnet/src/demo.ts): the flaky node's outage keeps its measured uptime
 * between the downtime threshold and the SLA target, the outage proxy really refuses connections while
 * down, and a jailed node is not taken down.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

import { expect } from "chai";

import { JAILED } from "../../node/src/keeper/sla";
import { OutageProxy, flakyPlan, freePort, runOutages } from "../src/demo";

/** The enforcer's default downtime threshold (SlaEnforcer's constructor) and the demo rental's SLA target. */
const THRESHOLD_BPS = 9000;
const params = JSON.parse(
  readFileSync(path.join(__dirname, "..", "..", "deploy", "parameters", "local.json"), "utf8"),
) as { slaTiersBps: number[] };
const TARGET_BPS = params.slaTiersBps[0];

const get = (port: number) =>
  new Promise<number>((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/health", agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
      })
      .on("error", reject);
  });

describe("npm start's demo: the flaky node", () => {
  for (const e of [10, 20, 60, 300]) {
    it(`in ${e} s epochs: ~95% uptime, inside (90%, ${TARGET_BPS / 100}%) for a heartbeat more or less`, () => {
      const plan = flakyPlan(e);
      expect(plan.uptimeBps).to.equal(9500);
      const beats = Math.floor((e * 1000) / plan.heartbeatMs);
      expect(beats, "heartbeats an epoch").to.be.within(40, 60);
      const failed = Math.round(plan.outageMs / plan.heartbeatMs);
      // A heartbeat fewer in the epoch, and one more or one fewer failed (where the outage falls, a
      // probe in flight cut by it).
      for (const f of [failed - 1, failed, failed + 1]) {
        for (const n of [beats - 1, beats]) {
          const uptime = Math.floor(((n - Math.max(1, f)) * 10_000) / n);
          expect(uptime, `${Math.max(1, f)} of ${n} failed`)
            .to.be.at.least(THRESHOLD_BPS)
            .and.below(TARGET_BPS);
        }
      }
    });
  }

  it("the proxy serves the agent while up, refuses connections while down, and serves again after", async () => {
    const agent = http.createServer((_req, res) => res.end("ok"));
    await new Promise<void>((r) => agent.listen(0, "127.0.0.1", () => r()));
    const proxy = new OutageProxy(await freePort(), (agent.address() as AddressInfo).port);
    try {
      await proxy.up();
      expect(await get(proxy.port)).to.equal(200);
      await proxy.down();
      expect(proxy.isUp).to.equal(false);
      const refused = await get(proxy.port).then(
        () => "answered",
        (e: NodeJS.ErrnoException) => e.code,
      );
      expect(refused).to.equal("ECONNREFUSED");
      await proxy.up();
      expect(await get(proxy.port)).to.equal(200);
    } finally {
      await proxy.down();
      await new Promise((r) => agent.close(r));
    }
  });

  it("takes the node down at its time in the epoch and brings it back; leaves a jailed node up", async function () {
    this.timeout(20_000);
    const agent = http.createServer((_req, res) => res.end("ok"));
    await new Promise<void>((r) => agent.listen(0, "127.0.0.1", () => r()));
    const proxy = new OutageProxy(await freePort(), (agent.address() as AddressInfo).port);
    await proxy.up();
    const plan = { ...flakyPlan(10), epochSeconds: 2, outageMs: 300 };
    // The epoch began just before its outage: the outage is due at once.
    const genesis = Math.floor(Date.now() / 1000) - 3;
    const lines: string[] = [];
    let said: () => void = () => {};
    const say = (line: string) => {
      lines.push(line);
      said();
    };
    const next = () => new Promise<void>((r) => (said = r));
    let status = 1n; // Active
    const stop = runOutages({ plan, genesis, name: "agent-x", proxy, status: async () => status, say });
    try {
      await next();
      expect(lines.at(-1)).to.match(/^agent-x is down for 0.3 s \(the simulated outage of epoch \d+\)$/);
      expect(proxy.isUp, "down").to.equal(false);
      await next();
      expect(lines.at(-1)).to.equal("agent-x is back up");
      expect(proxy.isUp, "up again").to.equal(true);
      // Jailed before its next outage: left up, said once.
      status = JAILED;
      await next();
      expect(lines.at(-1)).to.match(/^agent-x is jailed \(slashed\): the demo no longer takes it down/);
      expect(proxy.isUp, "a jailed node stays up").to.equal(true);
    } finally {
      stop();
      await proxy.down();
      await new Promise((r) => agent.close(r));
    }
  });
});
