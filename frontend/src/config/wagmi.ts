/**
 * The one wagmi config: the three chains with their RPC URLs, injected wallets (EIP-6963 discovery is
 * on by default) and, on the local chain only, one "local test account" connector per demo key.
 */
import { QueryClient } from "@tanstack/react-query";
import { createConfig, fallback, http, injected, type CreateConnectorFn } from "wagmi";

import { localAccountProvider } from "../lib/localAccount";
import { chainsOf } from "./chains";
import type { Runtime } from "./runtime";

export function makeWagmiConfig(rt: Runtime) {
  const chains = chainsOf(rt);
  const local = chains[0];
  const connectors: CreateConnectorFn[] = [injected()];
  if (rt.local && rt.chainId === local.id) {
    for (const acct of rt.local.accounts) {
      const provider = localAccountProvider(acct.privateKey, local);
      connectors.push(
        injected({
          target: {
            id: `kaisar-local-${provider.address.toLowerCase()}`,
            name: `Local test account: ${acct.name}${acct.role && acct.role !== acct.name ? ` (${acct.role})` : ""}`,
            provider: provider as never,
          },
          shimDisconnect: true,
        }),
      );
    }
  }
  return createConfig({
    chains,
    connectors,
    transports: Object.fromEntries(
      chains.map((c) => [
        c.id,
        fallback(c.rpcUrls.default.http.map((u) => http(u, { batch: { batchSize: 16, wait: 4 } }))),
      ]),
    ),
    pollingInterval: 1_000,
  });
}

export type KaisarConfig = ReturnType<typeof makeWagmiConfig>;

declare module "wagmi" {
  interface Register {
    config: KaisarConfig;
  }
}

/** Chain state changes each block: short staleness, a few retries, no refetch storms on focus. */
export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 2_000, gcTime: 5 * 60_000, retry: 2, refetchOnWindowFocus: false },
    },
  });
}
