/**
 * What a checker needs from the chain to score an epoch: the oracle's checker set, config version,
 * licenses, budget and EIP-712 domain, and per node what the chain says it earned the right to: the
 * GPU-seconds and protocol fees of its rentals inside the epoch, and since when it has been eligible.
 * Rentals and eligibility are read at the last block before the epoch's end (the same state on every
 * checker); rentals come from a persistent open-rental set (`OpenRentalTracker`), so the work per epoch
 * is bounded by the rentals open during it, not by every rental ever made.
 */
import { feesKaiInWindow, reportDomain, type Plan } from "@kaisar/offchain";
import { ZeroAddress, type Provider } from "ethers";

import type { EpochContext, EpochContextProvider } from "../checker/exchange";
import type { EpochNode } from "../scoring";
import type { KaisarContracts } from "./contracts";
import { readEligibleSince } from "./eligibility";
import { OpenRentalTracker, blockBefore, type OpenRentalOptions, type RentalScoring } from "./openRentals";

/** Seconds of overlap of [a0, a1) and [b0, b1). */
const overlap = (a0: bigint, a1: bigint, b0: bigint, b1: bigint) => {
  const lo = a0 > b0 ? a0 : b0;
  const hi = a1 < b1 ? a1 : b1;
  return hi > lo ? hi - lo : 0n;
};

/** What a node's rentals delivered inside an epoch. */
export interface NodeDelivery {
  /** GPU-seconds of paid service inside the epoch. */
  deliveredGpuSeconds: bigint;
  /** Protocol fees on that service, KAI units (`feesKaiInWindow`; a token without a rate weighs 0). */
  feesKai: bigint;
}

/**
 * Per node, the GPU-seconds and fees (in KAI at `kaiPerToken`, by lower-case token address) of `rentals`
 * inside `[from, to)`: the overlap of each rental's service window with the epoch.
 */
export function epochDelivery(
  rentals: readonly RentalScoring[],
  kaiPerToken: ReadonlyMap<string, bigint>,
  from: bigint,
  to: bigint,
): Map<number, NodeDelivery> {
  const out = new Map<number, NodeDelivery>();
  for (const r of rentals) {
    const seconds = overlap(r.serviceStart, r.serviceEnd, from, to) * r.gpus;
    if (seconds === 0n) continue;
    const rate = kaiPerToken.get(r.token.toLowerCase()) ?? 0n;
    const fees = feesKaiInWindow({ ...r, plan: r.plan as Plan }, rate, from, to);
    const d = out.get(r.nodeId) ?? { deliveredGpuSeconds: 0n, feesKai: 0n };
    out.set(r.nodeId, { deliveredGpuSeconds: d.deliveredGpuSeconds + seconds, feesKai: d.feesKai + fees });
  }
  return out;
}

/**
 * An EpochContextProvider reading the chain: config version, checker set (without the operators
 * excluded from it) and licenses as they are now (a report is signed under the current set), the
 * epoch's budget and span, and the nodes `nodes()` returns with their delivery, fees and
 * `eligibleSince` at the epoch's end. Keeps its open-rental set and block search between epochs.
 */
export function chainEpochContext(
  contracts: KaisarContracts,
  chainId: number,
  nodes: () => readonly { id: number; provider: string }[],
  options: OpenRentalOptions = {},
): EpochContextProvider {
  const tracker = new OpenRentalTracker(contracts, options);
  let findBlock: ((time: bigint) => Promise<number>) | undefined;
  return async (epoch: number): Promise<EpochContext> => {
    const oracle = contracts.ReportOracle;
    findBlock ??= blockBefore(oracle.runner?.provider as Provider);
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
    const startBlock = await findBlock(from);
    const endBlock = Math.max(0, await findBlock(to));
    const rentals = await tracker.rentalsDuring(startBlock, endBlock, to);
    const rates = new Map<string, bigint>();
    for (const token of new Set(rentals.map((r) => r.token.toLowerCase()))) {
      rates.set(token, await contracts.SlaEnforcer.kaiPerToken(token, { blockTag: endBlock }));
    }
    const delivery = epochDelivery(rentals, rates, from, to);
    const listed = nodes();
    const eligible = await readEligibleSince(
      contracts,
      listed.map((n) => n.id),
      endBlock,
    );
    const epochNodes: EpochNode[] = listed.map((n) => ({
      nodeId: n.id,
      provider: n.provider,
      deliveredGpuSeconds: delivery.get(n.id)?.deliveredGpuSeconds ?? 0n,
      feesKai: delivery.get(n.id)?.feesKai ?? 0n,
      eligibleSince: eligible.get(n.id) ?? 0n,
    }));
    return {
      configVersion: config.version,
      checkerSet: active,
      licenses,
      budget,
      epochStart: from,
      epochEnd: to,
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
