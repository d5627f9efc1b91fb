/** Marketplace data: every node through KaisarLens.getNodes pages, GPU classes, and the latest epoch's attested figures. */
import { useQuery } from "@tanstack/react-query";
import type { Address } from "viem";

import { kaisarLensAbi, nodeRegistryAbi } from "../../contracts/generated";
import { getJson, useAddresses, useClient, useRuntime } from "../../hooks/kaisar";
import { bytesToText } from "../../lib/format";

export const PAGE_SIZE = 400;
const PARALLEL = 6;

export interface NodeRow {
  id: number;
  provider: Address;
  gpuClass: number;
  gpuCount: number;
  freeGpus: number;
  vramGiB: number;
  cpuCores: number;
  ramGiB: number;
  bandwidthMbps: number;
  region: string;
  status: number;
  maintenanceStart: number;
  maintenanceEnd: number;
  metadataURI: string;
  /** Parallel to `tokens`: price per GPU-hour in token units, 0 = not accepted. */
  prices: bigint[];
  tokens: Address[];
  acceptsRentals: boolean;
}

type NodeView = {
  nodeId: bigint;
  node: {
    provider: Address;
    gpuClass: number;
    gpuCount: number;
    rentedGpus: number;
    status: number;
    maintenanceStart: number;
    maintenanceEnd: number;
    vramGiB: number;
    cpuCores: number;
    ramGiB: number;
    diskGiB: number;
    bandwidthMbps: number;
    region: `0x${string}`;
    metadataURI: string;
  };
  freeGpus: bigint;
  tokens: readonly Address[];
  pricesPerGpuHour: readonly bigint[];
  acceptsRentals: boolean;
};

export function toRow(v: NodeView): NodeRow {
  const n = v.node;
  return {
    id: Number(v.nodeId),
    provider: n.provider,
    gpuClass: n.gpuClass,
    gpuCount: n.gpuCount,
    freeGpus: Number(v.freeGpus),
    vramGiB: n.vramGiB,
    cpuCores: n.cpuCores,
    ramGiB: n.ramGiB,
    bandwidthMbps: n.bandwidthMbps,
    region: bytesToText(n.region),
    status: n.status,
    maintenanceStart: n.maintenanceStart,
    maintenanceEnd: n.maintenanceEnd,
    metadataURI: n.metadataURI,
    prices: [...v.pricesPerGpuHour],
    tokens: [...v.tokens],
    acceptsRentals: v.acceptsRentals,
  };
}

/** Every node, read PAGE_SIZE at a time from the lens, PARALLEL pages in flight. */
export function useNodes() {
  const client = useClient();
  const { KaisarLens, NodeRegistry } = useAddresses();
  return useQuery({
    queryKey: ["nodes", client.chain.id],
    refetchInterval: 15_000,
    queryFn: async () => {
      const count = Number(
        await client.readContract({ address: NodeRegistry, abi: nodeRegistryAbi, functionName: "nodeCount" }),
      );
      const pages = Math.ceil(count / PAGE_SIZE);
      const out: NodeRow[][] = new Array(pages);
      let next = 0;
      const worker = async () => {
        while (next < pages) {
          const p = next++;
          const views = await client.readContract({
            address: KaisarLens,
            abi: kaisarLensAbi,
            functionName: "getNodes",
            args: [BigInt(1 + p * PAGE_SIZE), BigInt(PAGE_SIZE)],
          });
          out[p] = (views as readonly NodeView[]).map(toRow);
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, pages) }, worker));
      return out.flat();
    },
  });
}

/** One node (rent page). */
export function useNode(nodeId: number) {
  const client = useClient();
  const { KaisarLens } = useAddresses();
  return useQuery({
    queryKey: ["node", client.chain.id, nodeId],
    refetchInterval: 5_000,
    queryFn: async () => {
      const [v] = await client.readContract({
        address: KaisarLens,
        abi: kaisarLensAbi,
        functionName: "getNodes",
        args: [BigInt(nodeId), 1n],
      });
      return v ? toRow(v as NodeView) : undefined;
    },
  });
}

export interface GpuClassInfo {
  index: number;
  name: string;
  multiplierBps: number;
  active: boolean;
}

export function useGpuClasses() {
  const client = useClient();
  const { NodeRegistry } = useAddresses();
  return useQuery({
    queryKey: ["gpuClasses", client.chain.id],
    staleTime: 60_000,
    queryFn: async (): Promise<GpuClassInfo[]> => {
      const n = Number(
        await client.readContract({ address: NodeRegistry, abi: nodeRegistryAbi, functionName: "gpuClassCount" }),
      );
      return Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const c = await client.readContract({
            address: NodeRegistry,
            abi: nodeRegistryAbi,
            functionName: "getGpuClass",
            args: [BigInt(i)],
          });
          return { index: i, name: bytesToText(c.name), multiplierBps: Number(c.multiplierBps), active: c.active };
        }),
      );
    },
  });
}

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
    queryKey: ["keeper", "epochs", keeperUrl],
    enabled: !!keeperUrl,
    refetchInterval: 10_000,
    queryFn: async () => {
      const r = await getJson<{ epochs: KeeperEpoch[] }>(`${keeperUrl}/epochs`);
      return [...(r?.epochs ?? [])].sort((a, b) => b.epoch - a.epoch);
    },
  });
}

export function useKeeperEpoch(epoch: number | undefined) {
  const { keeperUrl } = useRuntime();
  return useQuery({
    queryKey: ["keeper", "epoch", keeperUrl, epoch],
    enabled: !!keeperUrl && epoch !== undefined,
    staleTime: Infinity,
    queryFn: () => getJson<KeeperEpoch>(`${keeperUrl}/epochs/${epoch}`),
  });
}

/** Attested uptime (bps) and hardware score per node id from the latest reported epoch. */
export function useLatestMetrics() {
  const epochs = useKeeperEpochs();
  const latest = epochs.data?.[0]?.epoch;
  const epoch = useKeeperEpoch(latest);
  const map = new Map<number, { uptimeBps: number; hardwareScore: number }>();
  for (const l of epoch.data?.leaves ?? []) {
    if (l.kind === 0 && l.metrics)
      map.set(Number(l.id), { uptimeBps: Number(l.metrics.uptimeBps), hardwareScore: Number(l.metrics.hardwareScore) });
  }
  return { epoch: latest, metrics: map };
}
