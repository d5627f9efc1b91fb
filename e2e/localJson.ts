/**
 * `.kaisar/local.json`: what `npm start` writes when the network is ready (devnet/src/start.ts).
 * The end-to-end tests (smoke and web) read it through `readLocalJson()`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export const LOCAL_JSON = path.join(__dirname, "..", ".kaisar", "local.json");

export interface LocalAccount {
  name: string;
  roles: string[];
  address: string;
  /** LOCAL-ONLY TEST KEY (Hardhat's public test mnemonic). */
  privateKey: string;
}

export interface LocalNetwork {
  rpcUrl: string;
  chainId: number;
  epochSeconds: number;
  /** Null when the web app does not run (no frontend/, or it failed to start). */
  webUrl: string | null;
  keeperUrl: string;
  checkerUrls: string[];
  agentUrls: string[];
  agents: { name: string; nodeId: number; url: string; gpus: string; flaky: boolean }[];
  /** Contract name -> address (ABIs: deploy/exports/chain-<chainId>.json, `exportFile`). */
  contracts: Record<string, string>;
  exportFile: string;
  rentals: { id: number; nodeId: number; node: string; gpus: number }[];
  accounts: LocalAccount[];
  processes: { name: string; pid: number }[];
  /** What listens -> port. */
  ports: Record<string, number>;
}

export function readLocalJson(file = LOCAL_JSON): LocalNetwork {
  return JSON.parse(readFileSync(file, "utf8")) as LocalNetwork;
}

/** The demo account called `name` ("you", "renter", "deployer", "provider-h100", ...). */
export function localAccount(network: LocalNetwork, name: string): LocalAccount {
  const a = network.accounts.find((x) => x.name === name);
  if (!a) throw new Error(`no demo account "${name}" in ${LOCAL_JSON} (${network.accounts.map((x) => x.name)})`);
  return a;
}
