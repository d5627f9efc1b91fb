/**
 * What a newcomer needs once the network is up: .kaisar/local.json (URLs, contracts, demo accounts
 * with their keys, the running programs) and the printed summary that ends with "Kaisar is running
 * locally.".
 */
import { formatUnits, type Wallet } from "ethers";

import { connectContracts, rpcProvider } from "../../node/src/chain/contracts";
import { DEMO_ACCOUNTS, type Built } from "./cast";
import type { FlakyPlan } from "./demo";
import type { Devnet } from "./devnet";
import { SETTINGS } from "./env";
import { CHAIN_ID, EXPORT_FILE, LOCAL_JSON, writeJson } from "./paths";
import type { Urls } from "./ports";

export interface Account {
  name: string;
  roles: string[];
  address: string;
  privateKey: string;
}

/** The demo accounts with their addresses and keys. */
export function demoAccounts(account: (i: number) => Wallet): Account[] {
  return DEMO_ACCOUNTS.map(({ name, roles, index }) => ({
    name,
    roles,
    address: account(index).address,
    privateKey: account(index).privateKey,
  }));
}

/** The running network, as the summary and local.json tell it. */
export interface Running extends Built {
  urls: Urls;
  webUrl: string | null;
  epochSeconds: number;
  accounts: Account[];
}

/** Writes .kaisar/local.json (again after each program's restart: its pid changed). */
export function writeLocalJson(d: Devnet, r: Running): void {
  writeJson(LOCAL_JSON, {
    $comment: "Written by npm start (devnet/src/start.ts) for this run. LOCAL-ONLY TEST KEYS.",
    rpcUrl: r.urls.rpcUrl,
    chainId: CHAIN_ID,
    epochSeconds: r.epochSeconds,
    webUrl: r.webUrl,
    keeperUrl: r.urls.keeperUrl,
    checkerUrls: r.urls.checkerUrls,
    agentUrls: r.nodes.map((n) => n.url),
    agents: r.nodes.map(({ name, nodeId, url, gpus, flaky: f }) => ({ name, nodeId, url, gpus, flaky: f })),
    contracts: r.addresses,
    exportFile: EXPORT_FILE,
    rentals: r.rentals,
    accounts: r.accounts.map(({ name, roles, address, privateKey }) => ({ name, roles, address, privateKey })),
    processes: d.processes.list().map((ch) => ({ name: ch.name, pid: ch.proc.pid })),
    ports: Object.fromEntries(d.ports.map((u) => [u.what, u.port])),
  });
}

const kaiText = (units: bigint) => Number(formatUnits(units, 18)).toLocaleString("en-US", { maximumFractionDigits: 2 });

/** Prints the summary: URLs, agents, epochs, rewards, rentals, the demo's rules, contracts and demo keys. */
export async function printSummary(
  d: Devnet,
  r: Running,
  extra: { plan: FlakyPlan; rules: string[]; persist: boolean },
): Promise<void> {
  const { urls, nodes, rentals, addresses } = r;
  const reader = rpcProvider(urls.rpcUrl, CHAIN_ID);
  const chain = connectContracts(addresses, reader);
  const oracle = chain.ReportOracle;
  const budget = kaiText(await oracle.epochBudget(await oracle.epochAt(Math.floor(Date.now() / 1000))));
  const lines = [
    "",
    `  Web app       ${r.webUrl ?? "(not running)"}`,
    `  RPC URL       ${urls.rpcUrl}   (chain id ${CHAIN_ID}; in MetaMask: add a network with this URL and id)`,
    `  Keeper API    ${urls.keeperUrl}`,
    `  Checker APIs  ${urls.checkerUrls.join("  ")}`,
    "  Provider agents:",
    ...nodes.map(
      (n) =>
        `    ${n.name.padEnd(11)} node ${n.nodeId}  ${n.gpus.padEnd(17)} ${n.url}` +
        (n.flaky ? `  flaky: down ${(extra.plan.outageMs / 1000).toFixed(1)} s of each epoch` : ""),
    ),
    `  Epochs        ${r.epochSeconds} s (${SETTINGS.epochSeconds.name}); the first report that scores the nodes lands about two epochs after start`,
    `  Rewards       ${budget} KAI per epoch, peaq's emission per second (local.json: emissionScaledFrom)`,
    `  Rentals       ${rentals.map((x) => `${x.id} on ${x.node}`).join(", ")} (pay-as-you-go, SLA 99.9%)`,
    ...extra.rules,
    "",
    `  Contracts (addresses and ABIs: deploy/exports/chain-${CHAIN_ID}.json):`,
    ...Object.entries(addresses).map(([name, a]) => `    ${name.padEnd(18)} ${a}`),
    "",
    "  Demo accounts: LOCAL-ONLY TEST KEYS (Hardhat's public test mnemonic: anyone can take what they hold;",
    "  never send real funds to them or use them on agung or peaq). Import a key into MetaMask:",
  ];
  for (const a of r.accounts) {
    const balance = kaiText(await chain.KaiToken.balanceOf(a.address));
    lines.push(`    ${a.name.padEnd(14)} ${a.address}  ${a.roles.join(", ")}  (${balance} KAI)`);
    lines.push(`    ${"".padEnd(14)} key ${a.privateKey}`);
  }
  reader.destroy();
  lines.push(
    "",
    extra.persist
      ? "  --persist: Ctrl-C saves the chain to .kaisar/persist/ (and keeps .kaisar/devnet/); `npm start -- --persist` restores it."
      : "  Every start is a fresh chain (`npm start -- --persist` keeps the network across restarts).",
    "  .kaisar/local.json holds all of this as JSON; logs: .kaisar/devnet/logs/<name>.log. Ctrl-C stops everything.",
    `  Ready in ${((Date.now() - d.began) / 1000).toFixed(1)} s.`,
    "",
    "Kaisar is running locally.",
  );
  process.stdout.write(lines.join("\n") + "\n");
}
