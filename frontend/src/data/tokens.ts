/** The escrow's payment tokens and an account's balance of each. */
import { useQuery } from "@tanstack/react-query";
import type { Address } from "viem";

import { kaiTokenAbi, rentalEscrowAbi } from "../contracts/generated";
import { useAddresses, useClient } from "../hooks/kaisar";
import type { TokenInfo } from "../lib/format";
import { queryKeys } from "./keys";

/** The escrow's payment tokens with symbol and decimals. */
export function useTokens() {
  const client = useClient();
  const { RentalEscrow } = useAddresses();
  return useQuery({
    queryKey: queryKeys.tokens(client.chain.id, RentalEscrow),
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

/** `owner`'s balance of each payment token (refreshed after a transaction that moves tokens, by its key). */
export function useBalances(owner: Address | undefined) {
  const client = useClient();
  const tokens = useTokens();
  return useQuery({
    queryKey: queryKeys.balances(
      client.chain.id,
      owner,
      tokens.data?.map((t) => t.address),
    ),
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
