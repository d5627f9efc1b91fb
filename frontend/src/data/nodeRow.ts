/**
 * A node as the app shows it: the row of the lens's NodeView (`toRow`) or of its packed pages
 * (./packed). Its own module so that the decoder and the hooks both import it without a cycle.
 */
import type { Address, ContractFunctionReturnType } from "viem";

import type { kaisarLensAbi } from "../contracts/generated";
import { bytesToText } from "../lib/format";

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
  /** Not in the marketplace's packed pages (`getNodesPacked`). */
  metadataURI?: string;
  /** Parallel to `tokens`: price per GPU-hour in token units, 0 = not accepted. */
  prices: bigint[];
  tokens: Address[];
  acceptsRentals: boolean;
}

/** One node as the lens's `getNodes` and `getProviderNodes` return it (typed from the generated ABI). */
export type NodeView = ContractFunctionReturnType<typeof kaisarLensAbi, "view", "getNodes">[number];

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
