/**
 * What the SLA enforcer did, per epoch, from its events: SLA credits paid to renters
 * (SlaEnforcer.ApplySlaCredit, with the rental's token from RentalEscrow.CreditSla of the same
 * transaction) and slashes (SlashDowntime over a run of epochs, SlashHardwareFraud in one epoch).
 * Used by the Epochs page (per epoch) and the provider page (its own nodes).
 */
import { useQuery } from "@tanstack/react-query";
import type { Address, Hash, Hex } from "viem";

import { rentalEscrowAbi, slaEnforcerAbi } from "../contracts/generated";
import { useAddresses, useClient } from "../hooks/kaisar";
import { queryKeys } from "./keys";

export interface SlaCredit {
  epoch: number;
  rentalId: bigint;
  uptimeBps: number;
  /** In the rental's token. */
  credit: bigint;
  token?: Address;
  renter?: Address;
  fromEarnings: bigint;
  kaiFromStake: bigint;
  tx: Hash;
}

export interface SlaSlash {
  reason: "downtime" | "hardware fraud";
  nodeId: number;
  rentalId?: bigint;
  firstEpoch: number;
  /** The epoch the slash is shown under (the last epoch of a downtime run). */
  epoch: number;
  slashed: bigint;
  evidence: Hex;
  tx: Hash;
}

export function useSlaEvents() {
  const client = useClient();
  const { SlaEnforcer, RentalEscrow } = useAddresses();
  return useQuery({
    queryKey: queryKeys.slaEvents(client.chain.id, SlaEnforcer),
    refetchInterval: 15_000,
    queryFn: async (): Promise<{ credits: SlaCredit[]; slashes: SlaSlash[] }> => {
      // A deployment without an SLA enforcer has neither credits nor slashes.
      if (!SlaEnforcer) return { credits: [], slashes: [] };
      const [applied, escrowCredits, downtime, fraud] = await Promise.all([
        client.getContractEvents({
          address: SlaEnforcer,
          abi: slaEnforcerAbi,
          eventName: "ApplySlaCredit",
          fromBlock: 0n,
        }),
        client.getContractEvents({
          address: RentalEscrow,
          abi: rentalEscrowAbi,
          eventName: "CreditSla",
          fromBlock: 0n,
        }),
        client.getContractEvents({
          address: SlaEnforcer,
          abi: slaEnforcerAbi,
          eventName: "SlashDowntime",
          fromBlock: 0n,
        }),
        client.getContractEvents({
          address: SlaEnforcer,
          abi: slaEnforcerAbi,
          eventName: "SlashHardwareFraud",
          fromBlock: 0n,
        }),
      ]);
      const credits = applied.map((e): SlaCredit => {
        const paid = escrowCredits.find(
          (c) => c.transactionHash === e.transactionHash && c.args.rentalId === e.args.rentalId,
        );
        return {
          epoch: Number(e.args.epoch),
          rentalId: e.args.rentalId!,
          uptimeBps: Number(e.args.uptimeBps),
          credit: e.args.credit!,
          token: paid?.args.token,
          renter: paid?.args.renter,
          fromEarnings: e.args.fromEarnings!,
          kaiFromStake: e.args.kaiFromStake!,
          tx: e.transactionHash,
        };
      });
      const slashes: SlaSlash[] = [
        ...downtime.map((e): SlaSlash => ({
          reason: "downtime",
          nodeId: Number(e.args.nodeId),
          rentalId: e.args.rentalId,
          firstEpoch: Number(e.args.firstEpoch),
          epoch: Number(e.args.lastEpoch),
          slashed: e.args.slashed!,
          evidence: e.args.evidence!,
          tx: e.transactionHash,
        })),
        ...fraud.map((e): SlaSlash => ({
          reason: "hardware fraud",
          nodeId: Number(e.args.nodeId),
          firstEpoch: Number(e.args.epoch),
          epoch: Number(e.args.epoch),
          slashed: e.args.slashed!,
          evidence: e.args.evidence!,
          tx: e.transactionHash,
        })),
      ];
      return { credits, slashes };
    },
  });
}
