/**
 * `npm start -- --persist`: the saved network in .kaisar/persist/ (the chain's transactions in
 * chain.json, ./persist.ts; what the next start runs on it in network.json) and .kaisar/devnet/ (the
 * programs' configs and databases), loaded, restored on a fresh chain and saved again on stop.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

import { connectContracts, rpcProvider } from "../../node/src/chain/contracts";
import type { Built } from "./cast";
import { liveBlocks } from "./chain";
import type { Devnet } from "./devnet";
import { CHAIN_DUMP, CHAIN_ID, DEPLOYED_ADDRESSES, DEVNET_ID, NETWORK_JSON, PERSIST, ROOT, writeJson } from "./paths";
import { PersistError, dumpChain, replayChain, rpcCall, type ChainDump } from "./persist";
import { StartError, type Settings } from "./settings";

/** .kaisar/persist/network.json: what a restored network runs with. */
export interface SavedNetwork extends Built {
  id: string;
  savedAt: string;
  ports: { rpc: number; web: number; agent: number; checker: number; keeper: number };
  epochSeconds: number;
}

export interface Saved {
  network: SavedNetwork;
  dump: ChainDump;
}

const cannotRestore = (why: string) =>
  new StartError(
    `cannot restore the network saved in .kaisar/persist/: ${why}. ` +
      "Remove .kaisar/persist/ to start a fresh persistent network (or start without --persist).",
  );

/** The saved network of an earlier `--persist` run, or undefined when there is none (a fresh start). */
export function loadSaved(): Saved | undefined {
  if (!existsSync(CHAIN_DUMP)) return undefined;
  if (!existsSync(NETWORK_JSON)) throw cannotRestore("network.json is missing");
  const network = JSON.parse(readFileSync(NETWORK_JSON, "utf8")) as SavedNetwork;
  const dump = JSON.parse(readFileSync(CHAIN_DUMP, "utf8")) as ChainDump;
  const devnetId = existsSync(DEVNET_ID) ? readFileSync(DEVNET_ID, "utf8").trim() : "";
  if (devnetId !== network.id) {
    throw cannotRestore(
      "the programs' state in .kaisar/devnet/ is not its own any more (a plain `npm start` replaced it)",
    );
  }
  if (!existsSync(DEPLOYED_ADDRESSES)) throw cannotRestore(`${path.relative(ROOT, DEPLOYED_ADDRESSES)} is missing`);
  for (const n of network.nodes) if (!existsSync(n.config)) throw cannotRestore(`${n.config} is missing`);
  return { network, dump };
}

/** The settings with the saved network's ports and epoch length (its agents' URLs are on chain). */
export function keepSaved(say: (msg: string) => void, s: Settings, network: SavedNetwork): Settings {
  const p = network.ports;
  const kept = {
    rpcPort: p.rpc,
    webPort: p.web,
    agentPort: p.agent,
    checkerPort: p.checker,
    keeperPort: p.keeper,
    epochSeconds: network.epochSeconds,
  };
  if (Object.entries(kept).some(([k, v]) => s[k as keyof typeof kept] !== v)) {
    say(
      "the saved network keeps its ports and epoch length (its agents' URLs are on chain): KAISAR_* settings ignored",
    );
  }
  return { ...s, ...kept };
}

/** A fresh persistent network: writes network.json and marks .kaisar/devnet/ as its own. */
export function saveNetwork(s: Settings, built: Built): void {
  const id = `${Date.now().toString(36)}-${process.pid}`;
  writeJson(NETWORK_JSON, {
    id,
    savedAt: new Date().toISOString(),
    ports: { rpc: s.rpcPort, web: s.webPort, agent: s.agentPort, checker: s.checkerPort, keeper: s.keeperPort },
    epochSeconds: s.epochSeconds,
    ...built,
  } satisfies SavedNetwork);
  writeFileSync(DEVNET_ID, id + "\n");
}

/** Saves the chain (every block with transactions) to .kaisar/persist/chain.json; the old save stays on failure. */
export async function saveChain(say: (msg: string) => void, rpcUrl: string, from?: ChainDump): Promise<void> {
  try {
    await rpcCall(rpcUrl, "evm_setIntervalMining", [0]); // no more blocks while it is read
    const dump = await dumpChain(rpcUrl, from);
    mkdirSync(PERSIST, { recursive: true });
    writeFileSync(CHAIN_DUMP + ".tmp", JSON.stringify(dump));
    renameSync(CHAIN_DUMP + ".tmp", CHAIN_DUMP);
    const txs = dump.blocks.reduce((n, b) => n + b.txs.length, 0);
    say(
      `saved the chain to .kaisar/persist/chain.json: ${dump.latest.number} blocks, ${dump.blocks.length} with ` +
        `transactions (${txs} transactions); \`npm start -- --persist\` restores it`,
    );
  } catch (e) {
    say(`could not save the chain (${(e as Error).message}); .kaisar/persist/ keeps what it had`);
  }
}

const duration = (seconds: number) => {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${seconds % 60} s` : `${seconds} s`;
};

/** Replays the saved chain, moves it to the wall clock and checks it; resolves when it runs live. */
export async function restoreChain(d: Devnet, rpcUrl: string, saved: Saved): Promise<void> {
  const { dump, network } = saved;
  const txs = dump.blocks.reduce((n, b) => n + b.txs.length, 0);
  d.say(
    `restoring the network saved ${new Date(dump.dumpedAt * 1000).toISOString()}: replaying ${dump.blocks.length} ` +
      `blocks with ${txs} transactions (of ${dump.latest.number} blocks)`,
  );
  const began = Date.now();
  try {
    await replayChain(rpcUrl, dump);
  } catch (e) {
    if (!(e instanceof PersistError)) throw e;
    throw cannotRestore(e.message);
  }
  // The time it was stopped passes on the chain: from here on, block time is the wall clock again.
  const now = Math.floor(Date.now() / 1000);
  await rpcCall(rpcUrl, "evm_mine", [Math.max(now, dump.latest.timestamp)]);
  await liveBlocks(rpcUrl);
  const provider = rpcProvider(rpcUrl, CHAIN_ID);
  try {
    for (const [name, a] of Object.entries(network.addresses)) {
      if ((await provider.getCode(a)) === "0x") throw new StartError(`restored chain: ${name} (${a}) has no code`);
    }
    const c = connectContracts(network.addresses, provider);
    const nodeCount = Number(await c.NodeRegistry.nodeCount());
    const rentalCount = Number(await c.RentalEscrow.rentalCount());
    if (nodeCount < network.nodes.length || rentalCount < Math.max(0, ...network.rentals.map((r) => r.id))) {
      throw new StartError(`restored chain: ${nodeCount} nodes and ${rentalCount} rentals, fewer than saved`);
    }
    d.say(
      `restored in ${((Date.now() - began) / 1000).toFixed(1)} s: ${dump.latest.number} blocks (${txs} transactions, ` +
        `hashes and state roots as saved), ${nodeCount} nodes, ${rentalCount} rentals; the network was stopped for ` +
        `${duration(Math.max(0, now - dump.latest.timestamp))}: that time passed on the chain (rentals were charged ` +
        "for it, the epochs in between got no report)",
    );
  } finally {
    provider.destroy();
  }
  d.persistOnStop = { rpcUrl, from: dump };
}
