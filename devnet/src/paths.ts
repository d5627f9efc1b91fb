/**
 * Where `npm start` reads and writes (all under the repository's root), and the local chain's fixed
 * facts. Constants only.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const HARDHAT = path.join(ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js");
export const KAISAR_BIN = path.join(ROOT, "node", "bin", "kaisar.js");
export const STATE = path.join(ROOT, ".kaisar");
/** The programs' configs, databases and logs of this run (a plain start replaces it). */
export const DEVNET = path.join(STATE, "devnet");
export const LOGS = path.join(DEVNET, "logs");
export const LOCAL_JSON = path.join(STATE, "local.json");
/** The pid of the `npm start` that owns .kaisar/ (one per checkout: a second would overwrite its files). */
export const LOCK = path.join(STATE, "start.pid");
export const DEPLOYMENT_DIR = path.join(ROOT, "deploy", "deployments", "chain-31337");
export const DEPLOYED_ADDRESSES = path.join(DEPLOYMENT_DIR, "deployed_addresses.json");
/** `--persist`: the saved chain (chain.json) and what the next start needs to run on it (network.json). */
export const PERSIST = path.join(STATE, "persist");
export const CHAIN_DUMP = path.join(PERSIST, "chain.json");
export const NETWORK_JSON = path.join(PERSIST, "network.json");
/** The id of the saved network whose programs' state .kaisar/devnet/ holds (a plain start replaces it). */
export const DEVNET_ID = path.join(DEVNET, "persist-id");
export const CHAIN_ID = 31337;
/** The export of the deployment (addresses and ABIs), relative to the root. */
export const EXPORT_FILE = path.join("deploy", "exports", `chain-${CHAIN_ID}.json`);
/** Hardhat's public test mnemonic: its keys are known to everyone. */
export const MNEMONIC = "test test test test test test test test test test test junk";

/** A program's log file: .kaisar/devnet/logs/<name>.log. */
export const logFile = (name: string) => path.join(LOGS, `${name}.log`);

/** Writes `data` as indented JSON (creating the folder); returns `file`. */
export function writeJson(file: string, data: unknown): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
  return file;
}
