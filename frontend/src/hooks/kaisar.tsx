/**
 * The app's context (runtime config and addresses) and the domain hooks every page uses. Components
 * never call wagmi directly: they use these hooks and `useTransactor`.
 */
import { useQuery } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState } from "react";
import type { Address } from "viem";
import { useChainId, useConnection, usePublicClient } from "wagmi";

import type { Runtime } from "../config/runtime";
import { kaiTokenAbi, rentalEscrowAbi } from "../contracts/generated";
import type { TokenInfo } from "../lib/format";

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

/** The escrow's payment tokens with symbol and decimals. */
export function useTokens() {
  const client = useClient();
  const { RentalEscrow } = useAddresses();
  return useQuery({
    queryKey: ["tokens", client.chain.id, RentalEscrow],
    staleTime: Infinity,
    queryFn: async (): Promise<TokenInfo[]> => {
      const addrs = await client.readContract({
        address: RentalEscrow,
        abi: rentalEscrowAbi,
        functionName: "paymentTokens",
      });
      return Promise.all(
        addrs.map(async (address) => {
          const [symbol, decimals] = await Promise.all([
            client.readContract({ address, abi: kaiTokenAbi, functionName: "symbol" }),
            client.readContract({ address, abi: kaiTokenAbi, functionName: "decimals" }),
          ]);
          return { address, symbol, decimals };
        }),
      );
    },
  });
}

export function tokenOf(tokens: TokenInfo[] | undefined, address: string | undefined): TokenInfo {
  const t = tokens?.find((x) => x.address.toLowerCase() === address?.toLowerCase());
  return t ?? { address: (address ?? "0x") as Address, symbol: "tokens", decimals: 18 };
}

/** `owner`'s balance of each payment token (refreshed after every transaction by invalidation). */
export function useBalances(owner: Address | undefined) {
  const client = useClient();
  const tokens = useTokens();
  return useQuery({
    queryKey: ["balances", client.chain.id, owner, tokens.data?.map((t) => t.address)],
    enabled: !!owner && !!tokens.data,
    refetchInterval: 4_000,
    queryFn: async () =>
      Promise.all(
        tokens.data!.map(async (t) => ({
          token: t,
          balance: await client.readContract({
            address: t.address,
            abi: kaiTokenAbi,
            functionName: "balanceOf",
            args: [owner!],
          }),
        })),
      ),
  });
}

/** JSON from a node service (keeper, checker); undefined on 404. */
export async function getJson<T>(url: string): Promise<T | undefined> {
  const res = await fetch(url);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
}
