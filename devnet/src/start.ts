/**
 * `npm start`: the whole Kaisar network on this machine, fresh on each start (with `--persist`, the
 * network of the last `--persist` run, its chain replayed from .kaisar/persist/: ./saved.ts).
 *
 *  1. checks every port first (one in use: a message naming it and its variable, exit 1: ./ports.ts);
 *  2. starts Hardhat's network (127.0.0.1, chain id 31337, cancun) with block time on the wall clock
 *     and a block every second while idle, as a live chain (the checkers' epochs go by the wall clock,
 *     the keeper reads the current epoch from the latest block: ./chain.ts);
 *  3. deploys every contract with the Ignition module used for agung and peaq
 *     (deploy/modules/Kaisar.ts, deploy/parameters/local.json, epochs of KAISAR_EPOCH_SECONDS) and
 *     exports addresses and ABIs to deploy/exports/chain-31337.json;
 *  4. sets up what governance and the demo accounts do once: 3 checkers (license, stake, checker set,
 *     quorum 2), the reward reserve, KAI for the demo accounts; 5 providers register with the real
 *     `kaisar provider register` (in this process); a renter rents a healthy node and the flaky one
 *     (./scenario.ts, ./governance.ts, the cast in ./cast.ts);
 *  5. runs as child processes, each in its own process group, with prefixed logs: 5 provider agents,
 *     then (once they answer) 3 checkers, 1 keeper and the web app (frontend/, when it exists:
 *     ./programs.ts); one agent's network is down for 5% of every epoch (a real outage behind a proxy,
 *     ./demo.ts: ~95% uptime, so its renter gets an SLA credit each epoch and it is never slashed), and
 *     each epoch's report, credits and slashes are printed as they land; an agent, checker or the
 *     keeper that exits unexpectedly is restarted with backoff (./processes.ts, ./supervisor.ts), the
 *     chain's exit stops everything;
 *  6. prints the URLs, the contracts and the demo keys, writes .kaisar/local.json (./print.ts), and
 *     ends with the line "Kaisar is running locally.".
 *
 * SIGINT (Ctrl-C) or SIGTERM stops every child's process group and waits until every port is free
 * (with `--persist`, after the programs and before the chain, the chain is saved to .kaisar/persist/):
 * ./devnet.ts, the run as an object.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { connectContracts, rpcProvider } from "../../node/src/chain/contracts";
import { CHECKER_ACCOUNTS, KEEPER_ACCOUNT, type Built } from "./cast";
import { exportAddresses, startChain } from "./chain";
import { demoRules, flakyPlan, runOutages, watchEpochs } from "./demo";
import { Devnet } from "./devnet";
import { HELP } from "./help";
import { CHAIN_ID, DEVNET, LOCAL_JSON, LOGS, PERSIST } from "./paths";
import { checkPorts, portsOf, urlsOf } from "./ports";
import { demoAccounts, printSummary, writeLocalJson, type Running } from "./print";
import { checkersReady, kaisarEnv, startAgents, startCheckersAndKeeper, startWeb } from "./programs";
import { keepSaved, loadSaved, restoreChain, saveNetwork, type Saved } from "./saved";
import { accounts, buildNetwork } from "./scenario";
import { StartError, readSettings } from "./settings";

/**
 * A clean .kaisar/ for this run (a restored network keeps .kaisar/devnet/); returns the folder of the
 * programs' nvidia-smi: the agents declare their (simulated) hardware, one on this machine must not
 * replace it.
 */
function prepareState(persist: boolean, saved: Saved | undefined): string {
  if (!saved) {
    rmSync(DEVNET, { recursive: true, force: true });
    if (persist) rmSync(PERSIST, { recursive: true, force: true });
  }
  rmSync(LOCAL_JSON, { force: true });
  mkdirSync(LOGS, { recursive: true });
  const bin = path.join(DEVNET, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    path.join(bin, "nvidia-smi"),
    "#!/bin/sh\necho 'npm start: the local agents declare simulated hardware profiles' >&2\nexit 127\n",
  );
  chmodSync(path.join(bin, "nvidia-smi"), 0o755);
  return bin;
}

export async function start(d: Devnet, argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP);
    return;
  }
  const persist = argv.includes("--persist");
  let s = readSettings(argv);
  d.takeLock();
  const saved = persist ? loadSaved() : undefined;
  // Its agents' URLs are on chain and its programs' configs name its ports: the saved ones.
  if (saved) s = keepSaved(d.say, s, saved.network);
  const urls = urlsOf(s);
  const ports = portsOf(s);
  await checkPorts(ports);
  d.ports = ports;

  process.on("SIGINT", () => void d.shutdown(0));
  process.on("SIGTERM", () => void d.shutdown(0));

  const bin = prepareState(persist, saved);
  await startChain(d, s, urls.rpcUrl, saved?.dump.genesis.timestamp);

  const provider = rpcProvider(urls.rpcUrl, CHAIN_ID);
  const account = accounts(provider);
  let built: Built;
  if (saved) {
    await restoreChain(d, urls.rpcUrl, saved);
    exportAddresses(d, "(addresses and ABIs); the programs run on their saved state");
    built = { addresses: saved.network.addresses, nodes: saved.network.nodes, rentals: saved.network.rentals };
  } else {
    built = await buildNetwork(d, s, urls, provider, account);
  }
  const { addresses, nodes } = built;
  provider.destroy();

  // The agents first, the checkers once every agent answers: the checkers' first epoch is not scored
  // (they were not watching the nodes when it began), and from the next one every agent is up.
  const env = kaisarEnv(bin);
  const plan = flakyPlan(s.epochSeconds);
  const flakyProxy = await startAgents(d, s, env, nodes);
  startCheckersAndKeeper(d, s, env, urls, plan, CHECKER_ACCOUNTS.map(account), account(KEEPER_ACCOUNT));
  const webUp = startWeb(d, s, urls);
  // Ready when every program answers.
  await checkersReady(d, urls);
  const webUrl = await webUp();

  // The flaky node: down `plan.outageMs` of every epoch (./demo.ts), unless it is jailed.
  const flaky = nodes.find((n) => n.flaky)!;
  const clock = rpcProvider(urls.rpcUrl, CHAIN_ID);
  const chain = connectContracts(addresses, clock);
  const genesis = Number(await chain.ReportOracle.genesis());
  const rules = await demoRules(chain, plan, { name: flaky.name, rentalTierIndex: 1 });

  const running: Running = { ...built, urls, webUrl, epochSeconds: s.epochSeconds, accounts: demoAccounts(account) };
  writeLocalJson(d, running);
  if (persist && !saved) {
    // A fresh persistent network: Ctrl-C saves it from now on.
    saveNetwork(s, built);
    d.persistOnStop = { rpcUrl: urls.rpcUrl };
  }
  // A restarted program (./supervisor.ts) has a new pid: local.json keeps the running ones.
  d.processes.onStart = () => writeLocalJson(d, running);
  await printSummary(d, running, { plan, rules, persist });

  // From here on, one line each: the flaky node's outages, each epoch's report, credits and slashes.
  d.onShutdown(
    runOutages({
      plan,
      genesis,
      name: flaky.name,
      proxy: flakyProxy,
      status: async () => (await chain.NodeRegistry.getNode(flaky.nodeId)).status,
      say: d.say,
    }),
  );
  d.onShutdown(await watchEpochs({ contracts: chain, provider: clock, nodes, rentals: built.rentals, say: d.say }));
}

/** Entry point (scripts/start.js): one run, stopped on a failure. */
export function run(argv: string[]): void {
  const d = new Devnet();
  start(d, argv).catch(async (err) => {
    if (!d.stopping || !(err instanceof StartError)) {
      console.error(`[start] ${err instanceof StartError ? err.message : ((err as Error).stack ?? String(err))}`);
    }
    await d.shutdown(1);
  });
}
