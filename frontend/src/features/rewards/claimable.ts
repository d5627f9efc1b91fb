/**
 * Reward leaves the keeper serves for a provider's nodes or a checker operator, each checked against
 * the chain (ReportOracle.reportRoot) before the rewards card offers it.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";

import { reportOracleAbi, rewardDistributorAbi } from "../../contracts/generated";
import { keeperEpochQuery, useKeeperEpochs } from "../../data/keeper";
import { queryKeys } from "../../data/keys";
import { getJson, useAddresses, useClient, useRuntime } from "../../hooks/kaisar";
import { checkKeeperProof, type CheckedProof } from "./verify";

/** A reward leaf the keeper serves, checked against the chain (`problem` says why it cannot be claimed). */
export type Proof = CheckedProof & { epoch: number; claimed: boolean };

/**
 * Reward leaves of `subjects` (node ids, kind 0, or a checker operator as a number, kind 1), from the
 * keeper's proofs API. Only leaves the epoch lists are asked for (`/epochs/:e/proofs/:index`): an epoch
 * without a leaf of ours is a normal state, not a failed fetch (no 404s in the console). Each answer
 * is read with the shared decoder and its proof checked against the epoch's root on chain
 * (ReportOracle.reportRoot) before it is offered.
 */
export function useClaimable(kind: 0 | 1, subjects: bigint[]) {
  const { keeperUrl } = useRuntime();
  const epochs = useKeeperEpochs();
  const client = useClient();
  const queryClient = useQueryClient();
  const { ReportOracle, RewardDistributor } = useAddresses();
  return useQuery({
    queryKey: queryKeys.claimable(
      keeperUrl,
      kind,
      subjects.map(String),
      epochs.data?.map((e) => e.epoch),
    ),
    enabled: !!keeperUrl && !!epochs.data && subjects.length > 0,
    refetchInterval: 10_000,
    queryFn: async () => {
      const out: Proof[] = [];
      for (const e of epochs.data!.slice(0, 30)) {
        // The epoch with its leaves, from the cache the other pages share.
        const leaves = (await queryClient.fetchQuery(keeperEpochQuery(keeperUrl, e.epoch)))?.leaves ?? [];
        const ours = leaves.filter(
          (l) => l.kind === kind && subjects.includes(kind === 0 ? BigInt(l.id) : BigInt(l.account)),
        );
        if (ours.length === 0) continue;
        // The chain's root, read once per epoch: the keeper's own `root` is not trusted.
        const root = client.readContract({
          address: ReportOracle,
          abi: reportOracleAbi,
          functionName: "reportRoot",
          args: [BigInt(e.epoch)],
        });
        for (const l of ours) {
          const subject = kind === 0 ? BigInt(l.id) : BigInt(l.account);
          const raw = await getJson<unknown>(`${keeperUrl}/epochs/${e.epoch}/proofs/${l.index}`);
          if (raw === undefined) continue;
          const [claimed, chainRoot] = await Promise.all([
            client.readContract({
              address: RewardDistributor,
              abi: rewardDistributorAbi,
              functionName: "isClaimed",
              args: [BigInt(e.epoch), kind, subject],
            }),
            root,
          ]);
          out.push({ ...checkKeeperProof(raw, { epoch: e.epoch, kind, subject }, chainRoot), epoch: e.epoch, claimed });
        }
      }
      return out;
    },
  });
}
