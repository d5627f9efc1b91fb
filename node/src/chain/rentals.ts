/**
 * Paged reads of a provider's standing through KaisarLens: its nodes, its rentals and its penalties,
 * for `provider status`, `provider withdraw` and the agent's rental watcher. (The names of the
 * on-chain enums: @kaisar/offchain's vocabulary.)
 */
import { decodeBytes32String } from "ethers";

import type { IKaisarLens } from "../../../typechain-types/contracts/lens/KaisarLens";
import type { KaisarContracts } from "./contracts";

export type NodeView = IKaisarLens.NodeViewStructOutput;
export type RentalView = IKaisarLens.RentalViewStructOutput;

const PAGE = 100;

/** Every node of `provider` (KaisarLens.getProviderNodes, paged). */
export async function providerNodes(contracts: KaisarContracts, provider: string): Promise<NodeView[]> {
  const out: NodeView[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await contracts.KaisarLens.getProviderNodes(provider, offset, PAGE);
    out.push(...page);
    if (page.length < PAGE) return out;
  }
}

/**
 * Rentals on nodes of `provider` with ids above `afterId`, newest first (KaisarLens.getProviderRentals,
 * paged by `scanLimit` ids).
 */
export async function providerRentals(
  contracts: KaisarContracts,
  provider: string,
  afterId = 0n,
  scanLimit = 500n,
): Promise<RentalView[]> {
  const out: RentalView[] = [];
  let before = 0n;
  for (;;) {
    const [rentals, next] = await contracts.KaisarLens.getProviderRentals(provider, before, scanLimit);
    for (const r of rentals) if (r.rentalId > afterId) out.push(r);
    if (next === 0n || next <= afterId + 1n) return out;
    before = next;
  }
}

/**
 * Every penalty recorded for `provider` (KaisarLens.getPenalties, paged), as plain objects: on an
 * ethers Result, `.at` is `Array.prototype.at` (a function), not the struct's `at` field.
 */
export async function providerPenalties(contracts: KaisarContracts, provider: string) {
  const out: { amount: bigint; at: bigint; reason: bigint; nodeId: bigint; evidence: string }[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await contracts.KaisarLens.getPenalties(provider, offset, PAGE);
    out.push(...page.map(([amount, at, reason, nodeId, evidence]) => ({ amount, at, reason, nodeId, evidence })));
    if (page.length < PAGE) return out;
  }
}

/** GPU class names by index, read once per index (NodeRegistry.getGpuClass). */
export function gpuClassNames(contracts: KaisarContracts): (index: number) => Promise<string> {
  const cache = new Map<number, Promise<string>>();
  return (index) => {
    let name = cache.get(index);
    if (!name) {
      name = contracts.NodeRegistry.getGpuClass(index).then((c) => decodeBytes32String(c.name));
      cache.set(index, name);
      name.catch(() => cache.delete(index));
    }
    return name;
  };
}

/** A bytes8 region code as text ("" when empty). */
export function regionText(region: string): string {
  return decodeBytes32String(region.padEnd(66, "0"));
}

/** The fields of a registered node's spec that `declaredSpec` reads (NodeRegistry's `Node`). */
interface NodeSpecFields {
  gpuClass: bigint;
  gpuCount: bigint;
  vramGiB: bigint;
  cpuCores: bigint;
  ramGiB: bigint;
  diskGiB: bigint;
  bandwidthMbps: bigint;
}

/** What a node registered, as a `DeclaredSpec` with its GPU class by name (`className` from `gpuClassNames`). */
export async function declaredSpec(n: NodeSpecFields, className: (index: number) => Promise<string>) {
  return {
    gpuClass: await className(Number(n.gpuClass)),
    gpuCount: Number(n.gpuCount),
    vramGiB: Number(n.vramGiB),
    cpuCores: Number(n.cpuCores),
    ramGiB: Number(n.ramGiB),
    diskGiB: Number(n.diskGiB),
    bandwidthMbps: Number(n.bandwidthMbps),
  };
}
