/** A checker's standing: licenses owned and delegated (with their operators), stake, set membership, vesting positions. */
import { useQuery } from "@tanstack/react-query";
import type { Address } from "viem";

import { checkerLicenseAbi, nodeRegistryAbi, reportOracleAbi, rewardDistributorAbi } from "../contracts/generated";
import { useAddresses, useClient } from "../hooks/kaisar";
import { queryKeys } from "./keys";

export function useChecker(address: Address | undefined) {
  const client = useClient();
  const { CheckerLicense, NodeRegistry, ReportOracle, RewardDistributor } = useAddresses();
  return useQuery({
    queryKey: queryKeys.checker(client.chain.id, address),
    enabled: !!address,
    refetchInterval: 10_000,
    queryFn: async () => {
      const account = address!;
      const license = { address: CheckerLicense, abi: checkerLicenseAbi } as const;
      const oracle = { address: ReportOracle, abi: reportOracleAbi } as const;
      const [owned, asOperator, stake, minimum, checkers, positions, minted] = await Promise.all([
        client.readContract({ ...license, functionName: "balanceOf", args: [account] }),
        client.readContract({ ...license, functionName: "licensesOf", args: [account] }),
        client.readContract({ address: NodeRegistry, abi: nodeRegistryAbi, functionName: "getStake", args: [account] }),
        client.readContract({ ...oracle, functionName: "minCheckerStake" }),
        client.readContract({ ...oracle, functionName: "checkers" }),
        client.readContract({
          address: RewardDistributor,
          abi: rewardDistributorAbi,
          functionName: "positionsOf",
          args: [account],
        }),
        client.readContract({ ...license, functionName: "totalMinted" }),
      ]);
      // The licenses this account owns, with their operator (bounded scan of the minted ids).
      const licenses: { id: bigint; operator: Address }[] = [];
      if (owned > 0n) {
        for (let id = 1n; id <= minted && id <= 2_000n && BigInt(licenses.length) < owned; id++) {
          const owner = await client
            .readContract({ ...license, functionName: "ownerOf", args: [id] })
            .catch(() => undefined);
          if (owner?.toLowerCase() === account.toLowerCase()) {
            licenses.push({
              id,
              operator: await client.readContract({ ...license, functionName: "operatorOf", args: [id] }),
            });
          }
        }
      }
      return {
        owned,
        asOperator,
        stake,
        minimum,
        active: checkers.some((c) => c.toLowerCase() === account.toLowerCase()),
        positions,
        licenses,
      };
    },
  });
}
