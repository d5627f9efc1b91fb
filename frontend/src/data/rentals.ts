/** The renter's rentals and what belongs to them on chain: terms (penalty), close events, SLA credits. */
import { useQuery } from "@tanstack/react-query";
import type { Address, ContractFunctionReturnType } from "viem";

import { kaisarLensAbi, rentalEscrowAbi, slaEnforcerAbi } from "../contracts/generated";
import { useAddresses, useClient } from "../hooks/kaisar";
import { queryKeys } from "./keys";

/** One rental as the lens's scans return it (typed from the generated ABI). */
export type RentalRow = ContractFunctionReturnType<typeof kaisarLensAbi, "view", "getRenterRentals">[0][number];

/** All rentals of `who` (renter or provider), newest first, through the lens's bounded scans. */
export function useRentalsOf(who: Address | undefined, asProvider = false) {
  const client = useClient();
  const { KaisarLens } = useAddresses();
  return useQuery({
    queryKey: queryKeys.rentals(client.chain.id, who, asProvider),
    enabled: !!who,
    refetchInterval: 5_000,
    queryFn: async () => {
      const out: RentalRow[] = [];
      let before = 0n;
      for (let i = 0; i < 20; i++) {
        const [rentals, next] = await client.readContract({
          address: KaisarLens,
          abi: kaisarLensAbi,
          functionName: asProvider ? "getProviderRentals" : "getRenterRentals",
          args: [who!, before, 2_000n],
        });
        out.push(...rentals);
        if (next === 0n) break;
        before = next;
      }
      return out;
    },
  });
}

/** The early-exit penalty (bps) of terms version `version` (terms never change once set). */
export function usePenaltyBps(version: number) {
  const client = useClient();
  const { RentalEscrow } = useAddresses();
  return useQuery({
    queryKey: queryKeys.penaltyBps(client.chain.id, version),
    staleTime: Infinity,
    queryFn: async () => {
      const t = await client.readContract({
        address: RentalEscrow,
        abi: rentalEscrowAbi,
        functionName: "rentalTerms",
        args: [BigInt(version)],
      });
      return BigInt(t.earlyExitPenaltyBps);
    },
  });
}

/** What a closed rental paid out (its CloseRental event). */
export interface CloseFigures {
  providerAmount: bigint;
  refund: bigint;
  penalty: bigint;
}

/** CloseRental events of `rentalIds`, by rental id. */
export function useCloseFigures(rentalIds: bigint[]) {
  const client = useClient();
  const { RentalEscrow } = useAddresses();
  return useQuery({
    queryKey: queryKeys.closeFigures(client.chain.id, rentalIds.map(String)),
    enabled: rentalIds.length > 0,
    queryFn: async () => {
      const logs = await client.getContractEvents({
        address: RentalEscrow,
        abi: rentalEscrowAbi,
        eventName: "CloseRental",
        args: { rentalId: rentalIds },
        fromBlock: 0n,
      });
      const m = new Map<string, CloseFigures>();
      for (const l of logs) {
        m.set(String(l.args.rentalId), {
          providerAmount: l.args.providerAmount ?? 0n,
          refund: l.args.refund ?? 0n,
          penalty: l.args.penalty ?? 0n,
        });
      }
      return m;
    },
  });
}

/**
 * SLA credits paid to `renter` (CreditSla events from the deployment block), each with its epoch
 * (SlaEnforcer's ApplySlaCredit of the same rental in the same transaction).
 */
export function useSlaCredits(renter: Address | undefined) {
  const client = useClient();
  const { RentalEscrow, SlaEnforcer } = useAddresses() as { RentalEscrow: Address; SlaEnforcer?: Address };
  return useQuery({
    queryKey: queryKeys.slaCredits(client.chain.id, renter),
    enabled: !!renter,
    refetchInterval: 15_000,
    queryFn: async () => {
      const credits = await client.getContractEvents({
        address: RentalEscrow,
        abi: rentalEscrowAbi,
        eventName: "CreditSla",
        args: { renter },
        fromBlock: 0n,
      });
      const ids = [...new Set(credits.map((c) => c.args.rentalId!))];
      const applied =
        SlaEnforcer && ids.length
          ? await client.getContractEvents({
              address: SlaEnforcer,
              abi: slaEnforcerAbi,
              eventName: "ApplySlaCredit",
              args: { rentalId: ids },
              fromBlock: 0n,
            })
          : [];
      const epochOf = new Map(applied.map((a) => [`${a.transactionHash}-${a.args.rentalId}`, Number(a.args.epoch)]));
      return credits.map((c) => ({ ...c, epoch: epochOf.get(`${c.transactionHash}-${c.args.rentalId}`) }));
    },
  });
}
