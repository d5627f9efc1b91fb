/**
 * What `npm start` shows a person watching: the flaky node's outage, the rules it runs under, and
 * each epoch's report, SLA credits and slashes as one readable line each.
 *
 * The flaky node (agent-3090) loses its network for `outageMs` of every epoch: `npm start` serves its
 * public URL through `OutageProxy`, which stops listening (connections refused, open ones cut) for
 * the outage and listens again after it. The agent process itself keeps running, so the outage lasts
 * exactly as long as planned (stopping and restarting the agent took its start-up time on top, which
 * on a busy machine made 18 s of outage read as 60% downtime), and the checkers' heartbeats fail at
 * once, at the same rate as they succeed (a hung agent would make them wait for their timeout: fewer
 * failures counted than the time down).
 *
 * The plan (`flakyPlan`): heartbeats every `heartbeatMs` (60 per epoch), an outage of 5% of the
 * epoch: ~95% uptime, under the rental's SLA target (99.9%: its renter is credited every epoch) and
 * over the enforcer's downtime threshold (90%: never slashed). The rules are read from the chain.
 */
import net from "node:net";

import { Contract, formatUnits, type JsonRpcProvider } from "ethers";

import type { KaisarContracts } from "../../node/src/chain/contracts";
import { formatKai } from "../../node/src/chain/tx";
import { JAILED } from "../../node/src/keeper/sla";

/** The flaky node's outage and the checkers' heartbeat period, for epochs of `epochSeconds`. */
export interface FlakyPlan {
  epochSeconds: number;
  /** The checkers' heartbeat period, ms. */
  heartbeatMs: number;
  /** Where in each epoch the outage begins, a fraction of the epoch. */
  startFraction: number;
  /** The outage, ms. */
  outageMs: number;
  /** The uptime the checkers should measure: the share of the epoch up, bps. */
  uptimeBps: number;
}

/** The share of each epoch the flaky node is down, bps. */
const OUTAGE_BPS = 500;

/**
 * 60 heartbeats an epoch (40 in epochs under 15 s: at most 4 a second) and an outage of 5% of it, at
 * least one heartbeat long: 2 or 3 failed heartbeats, so that the measured uptime stays inside (90%,
 * 99.9%) with a heartbeat fewer in the epoch and one failure more or less (a probe cut by the outage).
 */
export function flakyPlan(epochSeconds: number): FlakyPlan {
  const heartbeatMs = Math.max(250, Math.round((epochSeconds * 1000) / 60));
  const outageMs = Math.max(heartbeatMs, Math.round((epochSeconds * 1000 * OUTAGE_BPS) / 10_000));
  const uptimeBps = 10_000 - Math.round((outageMs * 10_000) / (epochSeconds * 1000));
  return { epochSeconds, heartbeatMs, startFraction: 0.35, outageMs, uptimeBps };
}

const pct = (bps: bigint | number) => `${(Number(bps) / 100).toFixed(Number(bps) % 100 === 0 ? 0 : 1)}%`;
const secs = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/** The rules the demo runs under, read from the chain, and what the flaky node will do under them. */
export async function demoRules(
  c: KaisarContracts,
  plan: FlakyPlan,
  flaky: { name: string; rentalTierIndex: number },
): Promise<string[]> {
  const [policy, tiers] = await Promise.all([c.SlaEnforcer.policy(), c.RentalEscrow.slaTiers()]);
  const target = Number(tiers[flaky.rentalTierIndex]);
  const threshold = Number(policy.downtimeThresholdBps);
  const n = Number(policy.downtimeEpochs);
  const expected = plan.uptimeBps;
  const verdict =
    expected < threshold
      ? `under the ${pct(threshold)} downtime threshold: it is slashed and jailed after ${n} such epochs`
      : `over the ${pct(threshold)} downtime threshold (no slash: a slash needs ${n} epochs in a row under ${pct(threshold)})`;
  return [
    `  The demo     ${flaky.name} is down ${secs(plan.outageMs)} of every epoch: uptime ~${pct(expected)}, under the ` +
      `${pct(target)} SLA (its renter is credited each epoch) and ${verdict}.`,
    `               A node is slashed for downtime (${pct(policy.downtimeSlashBps)} of the stake per GPU, and jailed) ` +
      `when the checkers attest under ${pct(threshold)} uptime in ${n} epochs in a row.`,
    "               An epoch a node was not yet expected in (the checkers were not watching it when the epoch " +
      "began) is not scored: no downtime, no credit, no reward.",
  ];
}

/** A TCP forwarder from `port` to `target`: down refuses connections and cuts open ones; up listens again. */
export class OutageProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly port: number,
    readonly target: number,
    readonly host = "127.0.0.1",
  ) {}

  get isUp(): boolean {
    return this.server !== undefined;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, this.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }
}

/** A free TCP port on 127.0.0.1 (the flaky agent's own, behind its proxy). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Takes the flaky node down for `plan.outageMs` from `plan.startFraction` of every epoch (epochs from
 * `genesis`, unix seconds), unless it is jailed: then it says so once and leaves it up for good.
 * Returns a function that stops the schedule (the proxy is left as it is).
 */
export function runOutages(o: {
  plan: FlakyPlan;
  genesis: number;
  name: string;
  proxy: OutageProxy;
  status: () => Promise<bigint>;
  say: (line: string) => void;
  now?: () => number;
}): () => void {
  const now = o.now ?? Date.now;
  const e = o.plan.epochSeconds * 1000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = () => {
    if (stopped) return;
    const t = now() - o.genesis * 1000;
    let epoch = Math.floor(t / e);
    let at = epoch * e + o.plan.startFraction * e;
    if (at <= t) at += e;
    epoch = Math.floor(at / e);
    timer = setTimeout(() => void outage(epoch), at - t);
  };
  const outage = async (epoch: number) => {
    if (stopped) return;
    let status: bigint | undefined;
    try {
      status = await o.status();
    } catch {
      // the chain did not answer: take it down as planned
    }
    if (status === JAILED) {
      o.say(
        `${o.name} is jailed (slashed): the demo no longer takes it down; its rentals are closed and the ` +
          "checkers stop probing it",
      );
      return;
    }
    await o.proxy.down();
    o.say(`${o.name} is down for ${secs(o.plan.outageMs)} (the simulated outage of epoch ${epoch})`);
    timer = setTimeout(() => {
      if (stopped) return;
      void o.proxy.up().then(
        () => {
          o.say(`${o.name} is back up`);
          next();
        },
        (err: Error) => o.say(`${o.name} could not come back up: ${err.message}`),
      );
    }, o.plan.outageMs);
  };
  next();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

/**
 * Prints each epoch's report, SLA credits and slashes as they land on chain (the contracts' events):
 * what the network promises, line by line. Returns a function that stops listening.
 */
export async function watchEpochs(o: {
  contracts: KaisarContracts;
  provider: JsonRpcProvider;
  nodes: { name: string; nodeId: number }[];
  rentals: { id: number; node: string }[];
  say: (line: string) => void;
}): Promise<() => void> {
  const { ReportOracle: oracle, SlaEnforcer: sla } = o.contracts;
  const o_ = new Contract(await oracle.getAddress(), oracle.interface, o.provider);
  const s_ = new Contract(await sla.getAddress(), sla.interface, o.provider);
  const nodeName = (id: bigint) => o.nodes.find((n) => BigInt(n.nodeId) === id)?.name ?? `node ${id}`;
  const rentalName = (id: bigint) => {
    const r = o.rentals.find((x) => BigInt(x.id) === id);
    return r ? `rental ${id} (on ${r.node})` : `rental ${id}`;
  };
  const kai = (v: bigint) => Number(formatUnits(v, 18)).toLocaleString("en-US", { maximumFractionDigits: 4 });
  await o_.on("SubmitReport", (epoch: bigint, _v: bigint, _root: string, nodeCount: bigint, totalReward: bigint) => {
    o.say(
      `epoch ${epoch}: report on chain: ${kai(totalReward)} KAI of rewards to ${nodeCount} node(s) and the checkers` +
        (nodeCount === 0n ? " (no node scored: the checkers were not watching the nodes when it began)" : ""),
    );
  });
  await s_.on("ApplySlaCredit", (rentalId: bigint, epoch: bigint, uptimeBps: bigint, credit: bigint) => {
    o.say(`epoch ${epoch}: ${rentalName(rentalId)} credited ${kai(credit)} KAI for ${pct(uptimeBps)} uptime`);
  });
  await s_.on("SlashDowntime", (nodeId: bigint, rentalId: bigint, first: bigint, last: bigint, slashed: bigint) => {
    o.say(
      `epochs ${first}..${last}: ${nodeName(nodeId)} slashed ${formatKai(slashed)} KAI for downtime and jailed ` +
        `(named rental: ${rentalName(rentalId)})`,
    );
  });
  await s_.on("SlashHardwareFraud", (nodeId: bigint, epoch: bigint, slashed: bigint) => {
    o.say(`epoch ${epoch}: ${nodeName(nodeId)} slashed ${formatKai(slashed)} KAI for hardware fraud and jailed`);
  });
  return () => {
    void o_.removeAllListeners();
    void s_.removeAllListeners();
  };
}
