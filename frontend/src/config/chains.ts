/** The three networks: the local chain, peaq's agung testnet and peaq, RPC URLs from config. */
import { defineChain, type Chain } from "viem";
import { agungTestnet, peaq } from "viem/chains";

import type { Runtime } from "./runtime";

const env = import.meta.env as Record<string, string | undefined>;

export function chainsOf(rt: Runtime): [Chain, ...Chain[]] {
  const localId = rt.local?.chainId ?? Number(env.VITE_LOCAL_CHAIN_ID ?? 31337);
  const localRpc = rt.local?.rpcUrl ?? env.VITE_LOCAL_RPC_URL ?? "http://127.0.0.1:8545";
  const local = defineChain({
    id: localId,
    name: "Kaisar local",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [localRpc] } },
    testnet: true,
  });
  const withRpc = (chain: Chain, url: string | undefined): Chain =>
    url ? { ...chain, rpcUrls: { ...chain.rpcUrls, default: { http: [url] } } } : chain;
  return [local, withRpc(agungTestnet, env.VITE_AGUNG_RPC_URL), withRpc(peaq, env.VITE_PEAQ_RPC_URL)];
}
