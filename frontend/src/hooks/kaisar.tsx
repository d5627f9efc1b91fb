/**
 * The app's context: runtime config, addresses, the chain's client, the wallet, a ticking clock and
 * JSON from the node services. Components never call wagmi directly: they read through the hooks of
 * src/data/ and write through `useTransactor`.
 */
import { createContext, useContext, useEffect, useState } from "react";
import type { Address } from "viem";
import { useChainId, useConnection, usePublicClient } from "wagmi";

import type { Runtime } from "../config/runtime";

export const RuntimeContext = createContext<Runtime | null>(null);

export function useRuntime(): Runtime & { deployment: NonNullable<Runtime["deployment"]> } {
  const rt = useContext(RuntimeContext);
  if (!rt?.deployment) throw new Error("no deployment");
  return rt as Runtime & { deployment: NonNullable<Runtime["deployment"]> };
}

export function useAddresses() {
  return useRuntime().deployment.contracts;
}

/** A public client of the app's chain (whatever network the wallet is on). */
export function useClient() {
  const rt = useRuntime();
  const client = usePublicClient({ chainId: rt.chainId });
  if (!client) throw new Error(`no client for chain ${rt.chainId}`);
  return client;
}

/** The connected account and whether its wallet is on the app's chain. */
export function useWallet() {
  const rt = useRuntime();
  const { address, isConnected, chainId, connector } = useConnection();
  const appChain = useChainId();
  return {
    address: address as Address | undefined,
    isConnected,
    connectorName: connector?.name,
    wrongNetwork: isConnected && chainId !== undefined && chainId !== rt.chainId,
    appChain,
  };
}

/** Unix seconds, ticking every `ms`. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000));
  useEffect(() => {
    const t = setInterval(() => setNow(Math.floor(Date.now() / 1000)), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** JSON from a node service (keeper, checker); undefined on 404. */
export async function getJson<T>(url: string): Promise<T | undefined> {
  const res = await fetch(url);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
}
