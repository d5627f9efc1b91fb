/** A provider's standing on chain: stake and requirement (KaisarLens.getProvider), its nodes, penalties, vesting positions. */
import { useQuery } from "@tanstack/react-query";
import type { Address } from "viem";

import { kaisarLensAbi, rewardDistributorAbi } from "../contracts/generated";
import { useAddresses, useClient } from "../hooks/kaisar";
import { queryKeys } from "./keys";
import { toRow } from "./nodeRow";

export function useProviderView(address: Address | undefined) {
  const client = useClient();
  const { KaisarLens, RewardDistributor } = useAddresses();
  return useQuery({
    queryKey: queryKeys.provider(client.chain.id, address),
    enabled: !!address,
    refetchInterval: 5_000,
    queryFn: async () => {
      const view = await client.readContract({
        address: KaisarLens,
        abi: kaisarLensAbi,
        functionName: "getProvider",
        args: [address!],
      });
      const [nodes, penalties, positions] = await Promise.all([
        client.readContract({
          address: KaisarLens,
          abi: kaisarLensAbi,
          functionName: "getProviderNodes",
          args: [address!, 0n, 500n],
        }),
        client.readContract({
          address: KaisarLens,
          abi: kaisarLensAbi,
          functionName: "getPenalties",
          args: [address!, 0n, 200n],
        }),
        client.readContract({
          address: RewardDistributor,
          abi: rewardDistributorAbi,
          functionName: "positionsOf",
          args: [address!],
        }),
      ]);
      return { view, nodes: nodes.map(toRow), penalties, positions };
    },
  });
}
