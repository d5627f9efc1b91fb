/**
 * Providers under their stake requirement (a credit from stake paid to a renter, a slash, a raised
 * requirement): their staked and required KAI (KaisarLens.getProvider) and the shared sentence saying
 * so with how much to stake (offchain/src/stake.ts), for the rent page, the marketplace and the node
 * page. Only providers whose nodes the chain already marks as taking no rentals are read.
 */
import { underStakeSentence } from "@kaisar/offchain/src/stake";
import { useQuery } from "@tanstack/react-query";
import { getAddress, type Address } from "viem";

import { kaisarLensAbi } from "../contracts/generated";
import { useAddresses, useClient } from "../hooks/kaisar";
import { queryKeys } from "./keys";

/** The sentence of each of `providers` that is under its requirement, by lower-case address. */
export function useUnderStake(providers: readonly Address[]) {
  const client = useClient();
  const { KaisarLens } = useAddresses();
  const unique = [...new Set(providers.map((p) => p.toLowerCase() as Address))].sort();
  return useQuery({
    queryKey: queryKeys.underStake(client.chain.id, unique),
    enabled: unique.length > 0,
    refetchInterval: 5_000,
    queryFn: async () => {
      const views = await Promise.all(
        unique.map((p) =>
          client.readContract({ address: KaisarLens, abi: kaisarLensAbi, functionName: "getProvider", args: [p] }),
        ),
      );
      const out = new Map<string, string>();
      views.forEach((v, i) => {
        // Checksummed, as the provider page (the connected account) names it.
        const s = underStakeSentence(getAddress(unique[i]), { staked: v.stake.staked, required: v.requiredStake });
        if (s) out.set(unique[i], s);
      });
      return out;
    },
  });
}
