/**
 * A long run of the real keeper process with many kills (issue #17): not part of `npm test`.
 *
 *   cd node && npx ts-node --transpile-only test/helpers/keeperSoak.ts [epochs=20] [seed=1] [port=28971]
 *
 * On a local chain with the real checkers of keeperWorld.ts (their API and store), epochs are published one by one
 * (node 1 under its rental's 99.9% target in each: every epoch warrants a credit). For each epoch the
 * keeper (`kaisar keeper run` behind the fault proxy) meets a fault drawn from a seeded generator, at a
 * named point: SIGKILL after the chain answered a broadcast, SIGKILL at a "mined" line, SIGKILL during
 * startup (the RPC refusing), SIGTERM with a transaction pending, dropped broadcast answers, or a 502
 * burst. Each restart is timed until the keeper has caught up (every published epoch on chain, nothing
 * missing, no open intent). Prints one JSON line: kills, epochs, work missed (epochs not on chain, credits
 * not applied: must be 0), duplicates (two reports of an epoch, two credits of a rental and epoch: 0),
 * the longest catch-up after a restart (ms), and the ledgers that are not conserved (ledgers.ts: must be []).
 */
import { Wallet } from "ethers";

import { KeeperProcess, cleanEnv, keeperConfig, startFaultProxy } from "./keeper";
import { startKeeperWorld } from "./keeperWorld";
import { unconserved } from "./ledgers";

const [epochCount, seed0, port] = [
  Number(process.argv[2] ?? 20),
  Number(process.argv[3] ?? 1),
  Number(process.argv[4] ?? 28_971),
];
const FAULTS = [
  "kill-after-send",
  "kill-after-mined",
  "kill-during-startup",
  "term-pending",
  "drop-send-answers",
  "502",
] as const;

async function main() {
  let seed = seed0;
  /** mulberry32 */
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  // Epochs end as the run goes (chain time moved on before each is published): the relay looks at
  // recent epochs only (its catch-up window), as on a live chain.
  const world = await startKeeperWorld(1, 86_000);
  const proxy = await startFaultProxy(world.chain.rpcUrl);
  const key = new Wallet(world.chain.account(12).privateKey);
  const env = cleanEnv({
    KAISAR_CHAIN_ID: String(world.chain.chainId),
    KAISAR_RPC_URL: proxy.url,
    KAISAR_PRIVATE_KEY: key.privateKey,
    KAISAR_DEPLOYMENT: world.chain.deploymentFile,
    KAISAR_DATA_DIR: keeperConfig(world.chain, key).dataDir,
    KAISAR_CHECKERS: world.checkerUrls.join(","),
    KAISAR_LISTEN_HOST: "127.0.0.1",
    KAISAR_LISTEN_PORT: String(port),
    KAISAR_POLL_INTERVAL: "200ms",
    KAISAR_RPC_TIMEOUT: "2s",
    KAISAR_TX_TIMEOUT: "5s",
  });
  const oracle = world.chain.contracts.ReportOracle;
  const sla = world.chain.contracts.SlaEnforcer;
  const submitted = async () =>
    (await oracle.queryFilter(oracle.filters.SubmitReport())).map((e) => Number(e.args.epoch));
  const health = async () => {
    try {
      return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const automine = (on: boolean) => world.chain.provider.request({ method: "evm_setAutomine", params: [on] });
  const published: number[] = [];
  const caughtUp = async () => {
    const h = await health();
    const on = await submitted();
    return (
      published.every((e) => on.includes(e)) &&
      h?.status === "ok" &&
      h.pendingIntents === 0 &&
      (h.missingEpochs as unknown[]).length === 0
    );
  };
  const until = async (check: () => Promise<boolean>) => {
    while (!(await check())) await new Promise((r) => setTimeout(r, 100));
  };
  let keeper = new KeeperProcess(env, process.env.KEEPER_SOAK_LOG);
  let kills = 0;
  let longest = 0;
  const restart = async () => {
    await keeper.exited;
    const t0 = Date.now();
    keeper = new KeeperProcess(env, process.env.KEEPER_SOAK_LOG);
    await until(caughtUp);
    longest = Math.max(longest, Date.now() - t0);
  };
  await keeper.next((l) => l.at === "Keeper#start");
  for (let i = 0; i < epochCount; i++) {
    const epoch = world.first + i;
    // Ended, and past the relay's hold on an earlier epoch without quorum (2 epochs).
    while (Number(await oracle.epochAt(await world.chain.now())) <= epoch + 2) await world.chain.increaseTime(10);
    const fault = FAULTS[Math.floor(random() * FAULTS.length)];
    console.error(JSON.stringify({ at: "soak#epoch", epoch, fault, kills }));
    const send = () => proxy.next((e) => e.at === "answered" && e.method === "eth_sendRawTransaction");
    if (fault === "kill-after-send") {
      const sent = send();
      await world.publish(epoch, 9_500);
      published.push(epoch);
      await sent;
      keeper.kill("SIGKILL");
      kills++;
      await restart();
    } else if (fault === "kill-after-mined") {
      const mined = keeper.next((l) => l.at === "Keeper#mined");
      await world.publish(epoch, 9_500);
      published.push(epoch);
      await mined;
      keeper.kill("SIGKILL");
      kills++;
      await restart();
    } else if (fault === "kill-during-startup") {
      await world.publish(epoch, 9_500);
      published.push(epoch);
      keeper.kill("SIGKILL");
      kills++;
      await keeper.exited;
      proxy.fault = "refuse";
      keeper = new KeeperProcess(env, process.env.KEEPER_SOAK_LOG);
      await keeper.next((l) => l.at === "Keeper#rpcUnavailable");
      proxy.fault = undefined;
      const t0 = Date.now();
      await until(caughtUp);
      longest = Math.max(longest, Date.now() - t0);
    } else if (fault === "term-pending") {
      await automine(false);
      const sent = send();
      await world.publish(epoch, 9_500);
      published.push(epoch);
      await sent;
      keeper.kill("SIGTERM");
      kills++;
      await keeper.exited;
      await world.chain.provider.request({ method: "evm_mine", params: [] });
      await automine(true);
      await restart();
    } else {
      proxy.fault = fault;
      const hit =
        fault === "502"
          ? proxy.next((e) => e.at === "faulted")
          : proxy.next((e) => e.at === "answered" && e.method === "eth_sendRawTransaction");
      await world.publish(epoch, 9_500);
      published.push(epoch);
      await hit;
      proxy.fault = undefined;
      await until(caughtUp);
    }
  }
  await until(caughtUp);
  const events = await oracle.queryFilter(oracle.filters.SubmitReport());
  const credits = await sla.queryFilter(sla.filters.ApplySlaCredit(world.rentalId));
  const count = (list: number[]) => list.reduce((m, e) => m.set(e, (m.get(e) ?? 0) + 1), new Map<number, number>());
  const reports = count(events.map((e) => Number(e.args.epoch)));
  const credited = count(credits.map((e) => Number(e.args.epoch)));
  const unreported = published.filter((e) => !reports.has(e));
  const uncredited = published.filter((e) => !credited.has(e));
  const missed = unreported.length + uncredited.length;
  const duplicates =
    [...reports.values()].filter((n) => n > 1).length + [...credited.values()].filter((n) => n > 1).length;
  const broken = await unconserved(world.chain.contracts);
  console.log(
    JSON.stringify({
      seed: seed0,
      kills,
      epochs: published.length,
      missed,
      unreported,
      uncredited,
      duplicates,
      longestCatchUpMs: longest,
      unconserved: broken,
    }),
  );
  keeper.kill("SIGTERM");
  await keeper.exited;
  await proxy.close();
  await world.close();
  process.exit(missed === 0 && duplicates === 0 && broken.length === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
