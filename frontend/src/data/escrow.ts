/** The escrow's terms for a new rental, as the rent page checks and previews them. */
import { useQuery } from "@tanstack/react-query";
import type { Address } from "viem";

import { rentalEscrowAbi } from "../contracts/generated";
import { useAddresses, useClient } from "../hooks/kaisar";
import { SAVING_TERMS } from "../lib/cost";
import { queryKeys } from "./keys";

/** The escrow's current rental terms, SLA tiers, pause and saving-plan discounts. */
export function useEscrowTerms() {
  const client = useClient();
  const { RentalEscrow } = useAddresses();
  return useQuery({
    queryKey: queryKeys.escrowTerms(client.chain.id),
    staleTime: 30_000,
    queryFn: async () => {
      const escrow = { address: RentalEscrow, abi: rentalEscrowAbi } as const;
      const version = await client.readContract({ ...escrow, functionName: "currentTermsVersion" });
      const [terms, tiers, paused, discounts] = await Promise.all([
        client.readContract({ ...escrow, functionName: "rentalTerms", args: [version] }),
        client.readContract({ ...escrow, functionName: "slaTiers" }),
        client.readContract({ ...escrow, functionName: "paused" }),
        Promise.all(
          SAVING_TERMS.map((d) =>
            client.readContract({ ...escrow, functionName: "savingDiscountBps", args: [BigInt(d)] }),
          ),
        ),
      ]);
      return {
        terms,
        tiers: [...tiers],
        paused,
        discounts: Object.fromEntries(SAVING_TERMS.map((d, i) => [d, discounts[i]])) as Record<number, bigint>,
      };
    },
  });
}

/** Whether the escrow takes `token` now. */
export function useTokenEnabled(token: Address | undefined) {
  const client = useClient();
  const { RentalEscrow } = useAddresses();
  return useQuery({
    queryKey: queryKeys.tokenEnabled(client.chain.id, token),
    enabled: !!token,
    queryFn: () =>
      client.readContract({
        address: RentalEscrow,
        abi: rentalEscrowAbi,
        functionName: "isPaymentTokenEnabled",
        args: [token!],
      }),
  });
}
