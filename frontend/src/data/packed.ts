/**
 * Decoder of `KaisarLens.getNodesPacked`: fixed-size records of 2 + tokens.length words per node
 * (layout in contracts/interfaces/IKaisarLens.sol), read straight from the hex instead of through
 * the ABI decoder.
 */
import { getAddress, type Address, type Hex } from "viem";

import { bytesToText } from "../lib/format";
import type { NodeRow } from "./nodeRow";

const hexInt = (hex: string, at: number, chars: number) => parseInt(hex.slice(at, at + chars), 16);

/** Rows of the nodes `firstId`, `firstId + 1`, … in `packed`, with prices parallel to `tokens`. */
export function decodePackedNodes(firstId: number, tokens: readonly Address[], packed: Hex): NodeRow[] {
  const words = 2 + tokens.length;
  const record = words * 64; // hex characters
  const body = packed.slice(2);
  if (body.length % record !== 0) throw new Error(`packed nodes: ${body.length / 2} bytes is not a whole record`);
  const n = body.length / record;
  const rows: NodeRow[] = new Array(n);
  const checksummed = new Map<string, Address>();
  const regions = new Map<string, string>();
  const tokenList = [...tokens];
  for (let i = 0; i < n; i++) {
    const o = i * record;
    // word 0: provider | gpuClass | gpuCount | freeGpus | status | acceptsRentals | maintenanceStart
    const raw = body.slice(o, o + 40);
    let provider = checksummed.get(raw);
    if (!provider) checksummed.set(raw, (provider = getAddress(`0x${raw}`)));
    // word 1: maintenanceEnd | vramGiB | cpuCores | ramGiB | diskGiB | bandwidthMbps | region | 0
    const w1 = o + 64;
    const rawRegion = body.slice(w1 + 40, w1 + 56);
    let region = regions.get(rawRegion);
    if (region === undefined) regions.set(rawRegion, (region = bytesToText(`0x${rawRegion}`)));
    const prices: bigint[] = new Array(tokens.length);
    for (let t = 0; t < tokens.length; t++) prices[t] = BigInt(`0x${body.slice(o + 128 + t * 64, o + 192 + t * 64)}`);
    rows[i] = {
      id: firstId + i,
      provider,
      gpuClass: hexInt(body, o + 40, 4),
      gpuCount: hexInt(body, o + 44, 4),
      freeGpus: hexInt(body, o + 48, 4),
      status: hexInt(body, o + 52, 2),
      acceptsRentals: hexInt(body, o + 54, 2) === 1,
      maintenanceStart: hexInt(body, o + 56, 8),
      maintenanceEnd: hexInt(body, w1, 8),
      vramGiB: hexInt(body, w1 + 8, 4),
      cpuCores: hexInt(body, w1 + 12, 4),
      ramGiB: hexInt(body, w1 + 16, 8),
      bandwidthMbps: hexInt(body, w1 + 32, 8),
      region,
      prices,
      tokens: tokenList,
    };
  }
  return rows;
}
