/**
 * What the app learns at run time, before it renders: the local network's description
 * (`/local.json`, written by `npm start` to .kaisar/local.json: RPC, service URLs, demo accounts) and
 * the deployment export of the chosen chain (`/deployments/chain-<id>.json`: addresses and ABIs).
 * Both are served by the Vite plugin in vite.config.ts; nothing here is hand-written.
 */
import type { Address, Hex } from "viem";

import { CONTRACT_NAMES, type ContractName } from "../contracts/generated";

export interface DemoAccount {
  name: string;
  role: string;
  address?: Address;
  privateKey: Hex;
}

export interface LocalNetwork {
  rpcUrl: string;
  chainId: number;
  keeperUrl?: string;
  checkerUrls: string[];
  agentUrls: string[];
  accounts: DemoAccount[];
}

export interface Deployment {
  chainId: number;
  network: string;
  contracts: Record<ContractName, Address>;
}

export interface Runtime {
  local?: LocalNetwork;
  /** The chain the app works on. */
  chainId: number;
  deployment?: Deployment;
  /** Why the deployment could not be read (shown instead of the app). */
  problem?: string;
  /** With a problem: the network to go back to (the last one that loaded, else the local one). */
  backTo?: number;
  keeperUrl?: string;
  checkerUrls: string[];
}

const env = import.meta.env as Record<string, string | undefined>;

/** Chain ids the app knows: local (31337 unless local.json says otherwise), agung, peaq. */
export const AGUNG_ID = 9990;
export const PEAQ_ID = 3338;

/** Accepts the demo accounts as a list or as `{ <role or name>: { address, privateKey } }`. */
export function parseAccounts(raw: unknown): DemoAccount[] {
  const list: unknown[] = Array.isArray(raw)
    ? raw
    : raw && typeof raw === "object"
      ? Object.entries(raw).map(([k, v]) => ({ name: k, ...(v as object) }))
      : [];
  const out: DemoAccount[] = [];
  for (const [i, item] of list.entries()) {
    const a = item as Record<string, unknown>;
    const key = (a.privateKey ?? a.key) as string | undefined;
    if (typeof key !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(key)) continue;
    const role = String(a.role ?? (Array.isArray(a.roles) ? a.roles.join(", ") : (a.name ?? "account")));
    out.push({
      name: String(a.name ?? role ?? `account ${i}`),
      role,
      address: a.address as Address | undefined,
      privateKey: key as Hex,
    });
  }
  return out;
}

function urls(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.filter((u): u is string => typeof u === "string");
  if (raw && typeof raw === "object") return Object.values(raw).filter((u): u is string => typeof u === "string");
  return typeof raw === "string" ? [raw] : [];
}

export function parseLocal(raw: Record<string, unknown>): LocalNetwork {
  return {
    rpcUrl: String(raw.rpcUrl ?? "http://127.0.0.1:8545"),
    chainId: Number(raw.chainId ?? 31337),
    keeperUrl: typeof raw.keeperUrl === "string" ? raw.keeperUrl : undefined,
    checkerUrls: urls(raw.checkerUrls),
    agentUrls: urls(raw.agentUrls),
    accounts: parseAccounts(raw.accounts ?? raw.demoAccounts),
  };
}

/** The export's `{ contracts: { Name: { address, abi } } }` → addresses of the contracts the app uses. */
export function parseDeployment(raw: Record<string, unknown>): Deployment {
  const contracts = (raw.contracts ?? {}) as Record<string, { address?: string } | string>;
  const out = {} as Record<ContractName, Address>;
  const missing: string[] = [];
  for (const name of CONTRACT_NAMES) {
    const c = contracts[name];
    const address = typeof c === "string" ? c : c?.address;
    if (typeof address === "string" && /^0x[0-9a-fA-F]{40}$/.test(address)) out[name] = address as Address;
    else if (name !== "SlaEnforcer") missing.push(name);
  }
  if (missing.length) throw new Error(`the deployment export lacks ${missing.join(", ")}`);
  return { chainId: Number(raw.chainId), network: String(raw.network ?? raw.chainId), contracts: out };
}

async function getJson(url: string): Promise<Record<string, unknown> | undefined> {
  const res = await fetch(url, { cache: "no-store" });
  if (!res.ok) return undefined;
  return (await res.json()) as Record<string, unknown>;
}

/** Where the last network that loaded is remembered (only a network with a deployment is). */
const STORED_CHAIN = "kaisar.chain";

/** The networks the app knows, by chain id, named for people. */
export function networkName(id: number, localId: number): string {
  return id === localId
    ? "the local network"
    : id === AGUNG_ID
      ? "agung (testnet)"
      : id === PEAQ_ID
        ? "peaq"
        : `chain ${id}`;
}

/** The chain chosen with `?chain=<id>`, else the last one that loaded, else VITE_DEFAULT_CHAIN_ID, else local. */
function chosenChain(localId: number): number {
  const fromUrl = new URLSearchParams(location.search).get("chain");
  const stored = localStorage.getItem(STORED_CHAIN);
  const id = Number(fromUrl ?? stored ?? env.VITE_DEFAULT_CHAIN_ID ?? localId);
  return [localId, AGUNG_ID, PEAQ_ID].includes(id) ? id : localId;
}

/**
 * Remembers `chainId` when its deployment loaded; forgets it when it did not, so that a reload
 * without `?chain=` never lands on a network without a deployment again. Returns the network to offer
 * as the way back: the last one that loaded, else the local one.
 */
function remember(chainId: number, loaded: boolean, localId: number): number | undefined {
  const stored = Number(localStorage.getItem(STORED_CHAIN) ?? NaN);
  if (loaded) {
    localStorage.setItem(STORED_CHAIN, String(chainId));
    return undefined;
  }
  if (stored === chainId) localStorage.removeItem(STORED_CHAIN);
  return stored !== chainId && [localId, AGUNG_ID, PEAQ_ID].includes(stored) ? stored : localId;
}

export async function loadRuntime(): Promise<Runtime> {
  let local: LocalNetwork | undefined;
  try {
    const raw = await getJson("/local.json");
    if (raw) local = parseLocal(raw);
  } catch {
    // no local network described: agung/peaq only
  }
  const localId = local?.chainId ?? Number(env.VITE_LOCAL_CHAIN_ID ?? 31337);
  const chainId = chosenChain(localId);
  const keeperUrl = chainId === localId ? (local?.keeperUrl ?? env.VITE_KEEPER_URL) : env.VITE_KEEPER_URL;
  const checkerUrls =
    chainId === localId && local?.checkerUrls.length ? local.checkerUrls : urls(env.VITE_CHECKER_URLS?.split(","));
  const base = { local, chainId, keeperUrl, checkerUrls };
  try {
    const raw = await getJson(`/deployments/chain-${chainId}.json`);
    if (!raw) {
      return {
        ...base,
        backTo: remember(chainId, false, localId),
        problem: `No deployment of Kaisar is known for ${networkName(chainId, localId)} (chain ${chainId}: deployments/chain-${chainId}.json).`,
      };
    }
    const deployment = parseDeployment(raw);
    remember(chainId, true, localId);
    return { ...base, deployment };
  } catch (e) {
    return {
      ...base,
      backTo: remember(chainId, false, localId),
      problem: `The deployment of chain ${chainId} cannot be read: ${(e as Error).message}`,
    };
  }
}
