/**
 * What a checker needs from the chain to score an epoch: the oracle's checker set, config version,
 * licenses, budget and EIP-712 domain, and the GPU-seconds each node delivered to renters in the
 * epoch (from the escrow's service windows).
 */
import { reportDomain } from "@kaisar/offchain";
import { ZeroAddress } from "ethers";

import type { EpochContext, EpochContextProvider } from "../checker/exchange";
import type { EpochNode } from "../scoring";
import type { KaisarContracts } from "./contracts";

/** Rentals read per call. */
const PAGE = 200;

/** Seconds of overlap of [a0, a1) and [b0, b1). */
const overlap = (a0: bigint, a1: bigint, b0: bigint, b1: bigint) => {
  const lo = a0 > b0 ? a0 : b0;
  const hi = a1 < b1 ? a1 : b1;
  return hi > lo ? hi - lo : 0n;
};

/**
 * GPU-seconds each node delivered in [from, to): the overlap of every rental's service window
 * (`RentalEscrow.serviceWindow`: the time it paid for) with the epoch, times its GPUs. Reads every
 * rental: fine for a local network and a young one; a large network reads them from an indexer.
 */
export async function deliveredGpuSeconds(
  contracts: KaisarContracts,
  from: bigint,
  to: bigint,
): Promise<Map<number, bigint>> {
  const delivered = new Map<number, bigint>();
  const count = Number(await contracts.RentalEscrow.rentalCount());
  for (let first = 1; first <= count; first += PAGE) {
    const ids = Array.from({ length: Math.min(PAGE, count - first + 1) }, (_, i) => BigInt(first + i));
    const rentals = await contracts.KaisarLens.getRentals(ids);
    for (const view of rentals) {
      const [start, end] = await contracts.RentalEscrow.serviceWindow(view.rentalId);
      const seconds = overlap(start, end, from, to) * BigInt(view.rental.gpus);
      if (seconds === 0n) continue;
      const nodeId = Number(view.rental.nodeId);
      delivered.set(nodeId, (delivered.get(nodeId) ?? 0n) + seconds);
    }
  }
  return delivered;
}

/**
 * An EpochContextProvider reading the chain: config version, checker set (without the operators
 * excluded from it) and licenses as they are now (a report is signed under the current set), the
 * epoch's budget, and the nodes `nodes()` returns with the GPU-seconds they delivered in the epoch.
 */
export function chainEpochContext(
  contracts: KaisarContracts,
  chainId: number,
  nodes: () => readonly { id: number; provider: string }[],
): EpochContextProvider {
  return async (epoch: number): Promise<EpochContext> => {
    const oracle = contracts.ReportOracle;
    const [config, checkerSet, budget, from, to] = await Promise.all([
      oracle.config(),
      oracle.checkers(),
      oracle.epochBudget(epoch),
      oracle.epochStart(epoch),
      oracle.epochStart(epoch + 1),
    ]);
    // An operator excluded from the set (`ReportOracle.excludeOperator`, or a proof of
    // equivocation) is a zero-address tombstone in `checkers()`: it is no checker of the epoch.
    const active = checkerSet.filter((operator) => operator !== ZeroAddress);
    const licenses = new Map<string, bigint>();
    for (const operator of active) {
      licenses.set(operator.toLowerCase(), await contracts.CheckerLicense.licensesOf(operator));
    }
    const delivered = await deliveredGpuSeconds(contracts, from, to);
    const epochNodes: EpochNode[] = nodes().map((n) => ({
      nodeId: n.id,
      provider: n.provider,
      deliveredGpuSeconds: delivered.get(n.id) ?? 0n,
    }));
    return {
      configVersion: config.version,
      checkerSet: active,
      licenses,
      budget,
      domain: reportDomain(chainId, await oracle.getAddress()),
      nodes: epochNodes,
    };
  };
}

/** The oracle's epoch clock: genesis (Unix seconds) and epoch length (ms), as `checker run` keeps samples. */
export async function readEpochClock(contracts: KaisarContracts): Promise<{ genesis: number; length: number }> {
  const [start0, start1] = await Promise.all([
    contracts.ReportOracle.epochStart(0),
    contracts.ReportOracle.epochStart(1),
  ]);
  return { genesis: Number(start0), length: Number(start1 - start0) * 1000 };
}
