/**
 * SLA credits, slashing and settlement, after each report is on chain: the passes that run the jobs of
 * jobs/ (one file each: `read` the state, a pure `check(state)` that names the calls, `execute` on the
 * crash-safe sender), in this order each tick:
 *
 * - Credits (jobs/credit.ts), per on-chain epoch; an epoch's pass is recorded as done ("sla:<e>") once
 *   nothing of it is in flight.
 * - Slashes, per on-chain epoch: hardware fraud (jobs/fraud.ts), then downtime (jobs/downtime.ts, with
 *   the enforcer's policy read each pass); recorded as done ("slash:<e>") once nothing is in flight.
 * - Jailed nodes (jobs/jailclose.ts) and settlement (jobs/close.ts), over the rentals from the
 *   settlement cursor on.
 * - Stake credits (jobs/stakecredit.ts), per on-chain epoch whose credit pass is done and whose
 *   slashing window has passed; recorded as done ("stakecredit:<e>") once nothing is in flight.
 *
 * Every slash or close is logged as one JSON line (`Keeper#slashFraud`, `Keeper#slashDowntime`,
 * `Keeper#closeJailed`; `Keeper#slashSkipped` for evidence too old), then the sender's own lines.
 * Reverts that mean another keeper (or a renter) was first count as done (`ALREADY_DONE` in tx.ts).
 *
 * Rentals are read through the lens's pages (jobs/rentals.ts); the `DeferStakeCredit` events of an
 * epoch by their indexed epoch (a large network would index them as they come).
 */
import { NodeStatus } from "@kaisar/offchain";

import type { KaisarContracts } from "../chain/contracts";
import { execute, settled, type ExecuteContext } from "./jobs/execute";
import * as close from "./jobs/close";
import * as credit from "./jobs/credit";
import * as downtime from "./jobs/downtime";
import * as fraud from "./jobs/fraud";
import * as jailclose from "./jobs/jailclose";
import { nodeProofs, type NodeEpochProof } from "./jobs/leaves";
import { readRentals } from "./jobs/rentals";
import * as stakecredit from "./jobs/stakecredit";
import type { RentalRow } from "./jobs/types";
import type { KeeperStore } from "./store";
import type { TxLogEntry, TxOutcome, TxSender } from "./tx";

export type { DowntimePolicy } from "./jobs/downtime";

/** `NodeStatus.Jailed`, as ethers reads it. */
export const JAILED = BigInt(NodeStatus.Jailed);

export interface SlaKeeperOptions {
  contracts: KaisarContracts;
  store: KeeperStore;
  sender: TxSender;
  log?: (entry: TxLogEntry) => void;
  /**
   * Whether the follow-up work of an on-chain epoch may run now (default: always). The keeper's
   * reconcile pass holds back the epochs after one whose tree it lacks: work runs in epoch order.
   */
  ready?: (epoch: number) => boolean;
  /** Run before each pass that reads `ready` (the reconciler refreshes the chain's finalized block). */
  beforePass?: () => Promise<void>;
}

/** SLA credits, slashing and rental settlement (see the file comment). */
export class SlaKeeper {
  private readonly ctx: ExecuteContext;

  constructor(private readonly o: SlaKeeperOptions) {
    this.ctx = { contracts: o.contracts, sender: o.sender, log: o.log ?? (() => {}) };
  }

  /** The stored on-chain epochs ready for follow-up work whose pass `job` is not done, oldest first. */
  private async epochsFor(job: string, extra: (epoch: number) => boolean = () => true): Promise<number[]> {
    await this.o.beforePass?.();
    const ready = this.o.ready ?? (() => true);
    return this.o.store
      .onChainReports()
      .map((r) => r.epoch)
      .filter((e) => ready(e) && extra(e) && !this.o.store.jobDone(`${job}:${e}`))
      .sort((a, b) => a - b);
  }

  /** The stored node leaves of `epoch`, parsed. */
  private leaves(epoch: number): NodeEpochProof[] {
    return nodeProofs(this.o.store.leaves(epoch));
  }

  /** The latest block's timestamp. */
  private async now(): Promise<bigint> {
    return BigInt((await this.o.contracts.RentalEscrow.runner!.provider!.getBlock("latest"))!.timestamp);
  }

  /** The first rental id not known to be closed (the settlement cursor). */
  private closeFrom(): bigint {
    return BigInt(this.o.store.getMeta("close.from") ?? "1");
  }

  /** Applies the SLA credits of one on-chain epoch; returns the outcomes sent. */
  async creditEpoch(epoch: number, rentals?: RentalRow[]): Promise<TxOutcome[]> {
    const all = rentals ?? (await readRentals(this.o.contracts));
    const state = await credit.read(this.o.contracts, epoch, this.leaves(epoch), all);
    return execute(this.ctx, credit.check(state));
  }

  /** Credits every on-chain epoch not yet passed over. */
  async creditAll(): Promise<TxOutcome[]> {
    const epochs = await this.epochsFor("sla");
    if (epochs.length === 0) return [];
    const rentals = await readRentals(this.o.contracts);
    const outcomes: TxOutcome[] = [];
    for (const epoch of epochs) {
      const sent = await this.creditEpoch(epoch, rentals);
      outcomes.push(...sent);
      if (settled(sent)) this.o.store.markJobDone(`sla:${epoch}`);
    }
    return outcomes;
  }

  /** Pays the stake credits due of every on-chain epoch whose credit pass is done and window has passed. */
  async payStakeCreditsAll(): Promise<TxOutcome[]> {
    const epochs = await this.epochsFor("stakecredit", (e) => this.o.store.jobDone(`sla:${e}`));
    if (epochs.length === 0) return [];
    const now = await this.now();
    const window = await this.o.contracts.SlaEnforcer.slashWindow();
    const outcomes: TxOutcome[] = [];
    for (const epoch of epochs) {
      const state = await stakecredit.read(this.o.contracts, epoch, now, window);
      if (!stakecredit.payable(state)) continue;
      const sent = await execute(this.ctx, stakecredit.check(state));
      outcomes.push(...sent);
      if (settled(sent)) this.o.store.markJobDone(`stakecredit:${epoch}`);
    }
    return outcomes;
  }

  /** The enforcer's downtime policy (read from the chain each pass: governance may change it). */
  async downtimePolicy(): Promise<downtime.DowntimePolicy> {
    const p = await this.o.contracts.SlaEnforcer.policy();
    return { thresholdBps: p.downtimeThresholdBps, epochs: Number(p.downtimeEpochs) };
  }

  /** The stored leaf of `nodeId` in `epoch`, when the epoch's stored report is the one on chain. */
  private proofOf(epoch: number, nodeId: bigint): NodeEpochProof | undefined {
    if (epoch < 0 || this.o.store.report(epoch)?.status !== "onchain") return undefined;
    const row = this.o.store.leafOfNode(epoch, nodeId.toString());
    return row ? nodeProofs([row])[0] : undefined;
  }

  /** Slashes every node whose leaf of on-chain `epoch` attests a hardware mismatch. */
  async slashFraudEpoch(epoch: number): Promise<TxOutcome[]> {
    return execute(this.ctx, fraud.check(await fraud.read(this.o.contracts, epoch, this.leaves(epoch))));
  }

  /**
   * Slashes every node down (under the policy's threshold) in the `policy.epochs` on-chain epochs
   * ending at `epoch`, naming one of its rentals that ran in each of them.
   */
  async slashDowntimeEpoch(
    epoch: number,
    policy: downtime.DowntimePolicy,
    rentals: () => Promise<RentalRow[]> = () => readRentals(this.o.contracts),
  ): Promise<TxOutcome[]> {
    const nodeIds = this.o.store
      .leaves(epoch)
      .filter((row) => row.kind === 0)
      .map((row) => BigInt(row.nodeId));
    const state = await downtime.read(this.o.contracts, epoch, policy, nodeIds, (e, n) => this.proofOf(e, n), rentals);
    return execute(this.ctx, downtime.check(state));
  }

  /** Runs the slashing pass (fraud, then downtime) of every on-chain epoch not yet passed over. */
  async slashAll(): Promise<TxOutcome[]> {
    const epochs = await this.epochsFor("slash");
    if (epochs.length === 0) return [];
    const policy = await this.downtimePolicy();
    // Read once per pass, and only if some node was down long enough.
    let read: Promise<RentalRow[]> | undefined;
    const rentals = () => (read ??= readRentals(this.o.contracts));
    const outcomes: TxOutcome[] = [];
    for (const epoch of epochs) {
      const sent = [...(await this.slashFraudEpoch(epoch)), ...(await this.slashDowntimeEpoch(epoch, policy, rentals))];
      outcomes.push(...sent);
      if (settled(sent)) this.o.store.markJobDone(`slash:${epoch}`);
    }
    return outcomes;
  }

  /** Closes the open rentals of every jailed node, one transaction per node. */
  async closeJailed(): Promise<TxOutcome[]> {
    const registry = this.o.contracts.NodeRegistry;
    // Rentals before the settlement cursor are closed (see closeExpired).
    const rentals = await readRentals(this.o.contracts, this.closeFrom());
    const nodes = [...jailclose.openByNode(rentals).keys()];
    const status = await Promise.all(nodes.map((id) => registry.getNode(id).then((n) => n.status)));
    const jailed = new Set(nodes.filter((_, i) => status[i] === JAILED));
    return execute(this.ctx, jailclose.check({ rentals, jailed }));
  }

  /** Closes every rental whose grace period or term has passed. */
  async closeExpired(): Promise<TxOutcome[]> {
    const now = await this.now();
    const from = this.closeFrom();
    const { steps, cursor } = close.check({ now, cursor: from, rentals: await readRentals(this.o.contracts, from) });
    const outcomes = await execute(this.ctx, steps);
    this.o.store.setMeta("close.from", cursor.toString());
    return outcomes;
  }
}
