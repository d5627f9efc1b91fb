/** The keeper's API: its epochs on chain, one epoch with its leaves, the latest epoch's attested figures. */
import { queryOptions, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";

import { getJson, useRuntime } from "../hooks/kaisar";
import { queryKeys } from "./keys";

export interface KeeperLeaf {
  index: number;
  kind: number;
  epoch: string;
  account: string;
  id: string;
  capacityReward: string;
  deliveryReward: string;
  checkerReward: string;
  metricsHash: string;
  metrics?: {
    uptimeBps: string;
    bandwidthMbps: string;
    hardwareScore: string;
    deliveredGpuSeconds: string;
    hardwareMismatch: boolean;
    evidence: string;
  };
}

export interface KeeperEpoch {
  epoch: number;
  root: string;
  signers: string[];
  report: Record<string, string>;
  txHash: string | null;
  leaves?: KeeperLeaf[];
}

/** The keeper's list of epochs on chain (newest first), empty without a keeper. */
export function useKeeperEpochs() {
  const { keeperUrl } = useRuntime();
  return useQuery({
    queryKey: queryKeys.keeperEpochs(keeperUrl),
    enabled: !!keeperUrl,
    refetchInterval: 10_000,
    queryFn: async () => {
      const r = await getJson<{ epochs: KeeperEpoch[] }>(`${keeperUrl}/epochs`);
      return [...(r?.epochs ?? [])].sort((a, b) => b.epoch - a.epoch);
    },
  });
}

/**
 * One epoch of the keeper with its leaves (null: the keeper does not know it), cached for good: an
 * epoch's report never changes. Shared by every page that reads epochs one by one (useQueries,
 * fetchQuery), so each is fetched once.
 */
export const keeperEpochQuery = (keeperUrl: string | undefined, epoch: number | undefined) =>
  queryOptions({
    queryKey: queryKeys.keeperEpoch(keeperUrl, epoch),
    enabled: !!keeperUrl && epoch !== undefined,
    staleTime: Infinity,
    queryFn: async () => (await getJson<KeeperEpoch>(`${keeperUrl}/epochs/${epoch}`)) ?? null,
  });

export function useKeeperEpoch(epoch: number | undefined) {
  return useQuery(keeperEpochQuery(useRuntime().keeperUrl, epoch));
}

/** Attested uptime (bps) and hardware score per node id from the latest reported epoch. */
export function useLatestMetrics() {
  const epochs = useKeeperEpochs();
  const latest = epochs.data?.[0]?.epoch;
  const epoch = useKeeperEpoch(latest);
  // One map per epoch read: the marketplace re-filters its nodes when it changes.
  const map = useMemo(() => {
    const m = new Map<number, { uptimeBps: number; hardwareScore: number }>();
    for (const l of epoch.data?.leaves ?? []) {
      if (l.kind === 0 && l.metrics)
        m.set(Number(l.id), { uptimeBps: Number(l.metrics.uptimeBps), hardwareScore: Number(l.metrics.hardwareScore) });
    }
    return m;
  }, [epoch.data]);
  return { epoch: latest, metrics: map };
}
