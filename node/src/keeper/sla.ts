/**
 * SLA credits, slashing and settlement, after each report is on chain.
 *
 * - Credits: for every node leaf of an on-chain epoch whose attested uptime is below the SLA target of
 *   one of the node's rentals that ran during the epoch (`serviceWindow` overlaps
 *   `[epochStart(e), epochStart(e + 1))`) and was not credited yet (`isCredited`), one
 *   `SlaEnforcer.applySlaCredits(rentalIds, proof)` per node (the proof verified once on chain), keyed
 *   "sla:<epoch>:<nodeId>". An epoch's pass is recorded as done once nothing of it is in flight.
 * - Hardware fraud: every node leaf of an on-chain epoch that attests `hardwareMismatch` is sent to
 *   `SlaEnforcer.slashForHardwareFraud(proof)`, keyed "fraud:<epoch>:<nodeId>", unless the node's fraud
 *   cursor (`slashableFrom`) has passed the epoch (the evidence is too old: a slash or a release since).
 * - Downtime: with the enforcer's policy (uptime below `downtimeThresholdBps` for `downtimeEpochs`
 *   consecutive epochs), for every on-chain epoch E and node whose leaves of the N epochs ending at E
 *   are all stored from on-chain reports and all below the threshold, the first of the node's rentals
 *   whose service window overlaps each of those epochs is named in
 *   `SlaEnforcer.slashForDowntime(rentalId, proofs in epoch order)`, keyed "downtime:<nodeId>:<E>",
 *   unless the first epoch is before the node's downtime cursor (a slash already used those epochs, or
 *   the node was released since). The slash is per node (its size does not depend on the rental named),
 *   so one rental is enough. An epoch's slashing pass is recorded as done once nothing of it is in flight.
 * - Stake credits: the part of a credit the provider's earnings did not cover is only recorded as due
 *   (`DeferStakeCredit`), payable once the epoch's slashing window has passed (slashes first). For
 *   every on-chain epoch whose credit pass is done and whose window has passed
 *   (`now >= epochStart(e + 1) + slashWindow + 1`), the rentals with `stakeCreditDue(id, e) > 0` among
 *   the epoch's `DeferStakeCredit` events are paid with one `SlaEnforcer.payStakeCredits(ids, epochs)`,
 *   keyed "stakecredit:<epoch>". An epoch is recorded as done once nothing of it is in flight.
 * - Jailed nodes: the open rentals of every jailed node are closed with
 *   `SlaEnforcer.closeOnJailedNode(ids)` (saving plans refunded in full), keyed "jailclose:<ids>".
 * - Settlement: every open rental whose grace period or term has passed (`closableAt(id) <= now`) is
 *   closed with `RentalEscrow.closeRental(id)`, keyed "close:<id>". A cursor skips the closed prefix.
 *
 * Every slash or close is logged as one JSON line (`Keeper#slashFraud`, `Keeper#slashDowntime`,
 * `Keeper#closeJailed`; `Keeper#slashSkipped` for evidence too old), then the sender's own lines.
 * Reverts that mean another keeper (or a renter) was first count as done (`ALREADY_DONE` in tx.ts).
 *
 * Rentals are read by id from the escrow (`rentalCount`, `getRental`): fine for a devnet and the first
 * networks; a large network would index `OpenRental` events by node instead.
 */
import { NodeStatus, RentalStatus, leafFromJson } from "@kaisar/offchain";

import type { KaisarContracts } from "../chain/contracts";
import type { KeeperStore } from "./store";
import type { TxLogEntry, TxOutcome, TxSender } from "./tx";

/** `RentalStatus.Closed`, as ethers reads it. */
const CLOSED = BigInt(RentalStatus.Closed);
/** `NodeStatus.Jailed`, as ethers reads it. */
export const JAILED = BigInt(NodeStatus.Jailed);

/** The enforcer's downtime policy, as the keeper uses it. */
export interface DowntimePolicy {
  thresholdBps: bigint;
  epochs: number;
}

/** A node's leaf of an on-chain epoch, as `SlaEnforcer` takes it. */
type NodeEpochProof = {
  leaf: ReturnType<typeof leafFromJson>["leaf"];
  metrics: NonNullable<ReturnType<typeof leafFromJson>["metrics"]>;
  proof: string[];
};

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

interface RentalInfo {
  id: bigint;
  nodeId: bigint;
  slaTier: number;
  status: bigint;
}

/** SLA credits, slashing and rental settlement (see the file comment). */
export class SlaKeeper {
  private readonly log: (entry: TxLogEntry) => void;

  constructor(private readonly o: SlaKeeperOptions) {
    this.log = o.log ?? (() => {});
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

  private async rentals(): Promise<RentalInfo[]> {
    const escrow = this.o.contracts.RentalEscrow;
    const count = await escrow.rentalCount();
    const out: RentalInfo[] = [];
    for (let id = 1n; id <= count; id++) {
      const r = await escrow.getRental(id);
      out.push({ id, nodeId: r.nodeId, slaTier: Number(r.slaTier), status: r.status });
    }
    return out;
  }

  /** Applies the SLA credits of one on-chain epoch; returns the outcomes sent. */
  async creditEpoch(epoch: number, rentals?: RentalInfo[]): Promise<TxOutcome[]> {
    const { RentalEscrow: escrow, SlaEnforcer: sla, ReportOracle: oracle } = this.o.contracts;
    const tiers = (await escrow.slaTiers()).map(Number);
    const maxTarget = Math.max(0, ...tiers);
    const [from, to] = await Promise.all([oracle.epochStart(epoch), oracle.epochStart(epoch + 1)]);
    const all = rentals ?? (await this.rentals());
    const outcomes: TxOutcome[] = [];
    for (const row of this.o.store.leaves(epoch)) {
      if (row.kind !== 0) continue;
      const { leaf, metrics } = leafFromJson(JSON.parse(row.leaf));
      if (!metrics || metrics.uptimeBps >= BigInt(maxTarget)) continue;
      const ids: bigint[] = [];
      for (const r of all) {
        if (r.nodeId !== leaf.id) continue;
        const target = tiers[r.slaTier] ?? 0;
        if (target === 0 || metrics.uptimeBps >= BigInt(target)) continue;
        const [start, end] = await escrow.serviceWindow(r.id);
        if (!(start < to && end > from)) continue;
        if (await sla.isCredited(r.id, epoch)) continue;
        if ((await escrow.slaCreditBps(target, metrics.uptimeBps)) === 0n) continue;
        ids.push(r.id);
      }
      if (ids.length === 0) continue;
      const proof = { leaf, metrics, proof: row.proof };
      this.log({
        at: "Keeper#slaCredit",
        epoch,
        nodeId: leaf.id.toString(),
        uptimeBps: metrics.uptimeBps.toString(),
        rentals: ids.map(String),
      });
      outcomes.push(
        await this.o.sender.send({
          kind: "sla",
          key: `sla:${epoch}:${leaf.id}`,
          contract: "SlaEnforcer",
          to: sla.target as string,
          data: sla.interface.encodeFunctionData("applySlaCredits", [ids, proof]),
        }),
      );
    }
    return outcomes;
  }

  /** Credits every on-chain epoch not yet passed over. */
  async creditAll(): Promise<TxOutcome[]> {
    const epochs = await this.epochsFor("sla");
    if (epochs.length === 0) return [];
    const rentals = await this.rentals();
    const outcomes: TxOutcome[] = [];
    for (const epoch of epochs) {
      const sent = await this.creditEpoch(epoch, rentals);
      outcomes.push(...sent);
      if (!sent.some((o) => o.status === "pending")) this.o.store.markJobDone(`sla:${epoch}`);
    }
    return outcomes;
  }

  /**
   * Pays the stake credits due of every on-chain epoch whose credit pass is done and whose slashing
   * window has passed (see the file comment). The epoch's `DeferStakeCredit` events are read by their
   * indexed epoch (a large network would index them as they come).
   */
  async payStakeCreditsAll(): Promise<TxOutcome[]> {
    const { SlaEnforcer: sla, ReportOracle: oracle } = this.o.contracts;
    const epochs = await this.epochsFor("stakecredit", (e) => this.o.store.jobDone(`sla:${e}`));
    if (epochs.length === 0) return [];
    const now = BigInt((await sla.runner!.provider!.getBlock("latest"))!.timestamp);
    const window = await sla.slashWindow();
    const outcomes: TxOutcome[] = [];
    for (const epoch of epochs) {
      const opensAt = (await oracle.epochStart(epoch + 1)) + window + 1n;
      if (now < opensAt) continue;
      const events = await sla.queryFilter(sla.filters.DeferStakeCredit(undefined, epoch));
      const ids: bigint[] = [];
      for (const id of new Set(events.map((e) => e.args.rentalId))) {
        if ((await sla.stakeCreditDue(id, epoch)) > 0n) ids.push(id);
      }
      if (ids.length > 0) {
        this.log({ at: "Keeper#payStakeCredit", epoch, rentals: ids.map(String) });
        const outcome = await this.o.sender.send({
          kind: "stakecredit",
          key: `stakecredit:${epoch}`,
          contract: "SlaEnforcer",
          to: sla.target as string,
          data: sla.interface.encodeFunctionData("payStakeCredits", [ids, ids.map(() => epoch)]),
        });
        outcomes.push(outcome);
        if (outcome.status === "pending") continue;
      }
      this.o.store.markJobDone(`stakecredit:${epoch}`);
    }
    return outcomes;
  }

  /** The enforcer's downtime policy (read from the chain each pass: governance may change it). */
  async downtimePolicy(): Promise<DowntimePolicy> {
    const p = await this.o.contracts.SlaEnforcer.policy();
    return { thresholdBps: p.downtimeThresholdBps, epochs: Number(p.downtimeEpochs) };
  }

  /** The stored leaf of `nodeId` in `epoch`, when the epoch's stored report is the one on chain. */
  private proofOf(epoch: number, nodeId: bigint): NodeEpochProof | undefined {
    if (epoch < 0 || this.o.store.report(epoch)?.status !== "onchain") return undefined;
    const row = this.o.store.leafOfNode(epoch, nodeId.toString());
    if (!row) return undefined;
    const { leaf, metrics } = leafFromJson(JSON.parse(row.leaf));
    return metrics ? { leaf, metrics, proof: row.proof } : undefined;
  }

  /** Slashes every node whose leaf of on-chain `epoch` attests a hardware mismatch. */
  async slashFraudEpoch(epoch: number): Promise<TxOutcome[]> {
    const sla = this.o.contracts.SlaEnforcer;
    const outcomes: TxOutcome[] = [];
    for (const row of this.o.store.leaves(epoch)) {
      if (row.kind !== 0) continue;
      const { leaf, metrics } = leafFromJson(JSON.parse(row.leaf));
      if (!metrics?.hardwareMismatch) continue;
      const [, fraudFrom] = await sla.slashableFrom(leaf.id);
      if (BigInt(epoch) < fraudFrom) {
        this.skipped("fraud", leaf.id, epoch, fraudFrom);
        continue;
      }
      this.log({ at: "Keeper#slashFraud", epoch, nodeId: leaf.id.toString(), provider: leaf.account });
      outcomes.push(
        await this.o.sender.send({
          kind: "fraud",
          key: `fraud:${epoch}:${leaf.id}`,
          contract: "SlaEnforcer",
          to: sla.target as string,
          data: sla.interface.encodeFunctionData("slashForHardwareFraud", [{ leaf, metrics, proof: row.proof }]),
        }),
      );
    }
    return outcomes;
  }

  /**
   * Slashes every node down (under the policy's threshold) in the `policy.epochs` on-chain epochs
   * ending at `epoch`, naming one of its rentals that ran in each of them.
   */
  async slashDowntimeEpoch(
    epoch: number,
    policy: DowntimePolicy,
    rentals: () => Promise<RentalInfo[]> = () => this.rentals(),
  ): Promise<TxOutcome[]> {
    const { RentalEscrow: escrow, SlaEnforcer: sla, ReportOracle: oracle } = this.o.contracts;
    const first = epoch - policy.epochs + 1;
    if (first < 0) return [];
    const outcomes: TxOutcome[] = [];
    for (const row of this.o.store.leaves(epoch)) {
      if (row.kind !== 0) continue;
      const nodeId = BigInt(row.nodeId);
      const proofs: NodeEpochProof[] = [];
      for (let e = first; e <= epoch; e++) {
        const p = this.proofOf(e, nodeId);
        if (!p || p.metrics.uptimeBps >= policy.thresholdBps) break;
        proofs.push(p);
      }
      if (proofs.length !== policy.epochs) continue;
      const [downtimeFrom] = await sla.slashableFrom(nodeId);
      if (BigInt(first) < downtimeFrom) {
        this.skipped("downtime", nodeId, first, downtimeFrom);
        continue;
      }
      // The windows of the epochs, [epochStart(e), epochStart(e + 1)).
      const bounds = await Promise.all(
        Array.from({ length: policy.epochs + 1 }, (_, i) => oracle.epochStart(first + i)),
      );
      let rentalId: bigint | undefined;
      for (const r of await rentals()) {
        if (r.nodeId !== nodeId) continue;
        const [start, end] = await escrow.serviceWindow(r.id);
        let during = true;
        for (let i = 0; i < policy.epochs && during; i++) during = start < bounds[i + 1] && end > bounds[i];
        if (during) {
          rentalId = r.id;
          break;
        }
      }
      if (rentalId === undefined) continue;
      this.log({
        at: "Keeper#slashDowntime",
        nodeId: nodeId.toString(),
        rentalId: rentalId.toString(),
        firstEpoch: first,
        lastEpoch: epoch,
        uptimeBps: proofs.map((p) => p.metrics.uptimeBps.toString()),
        thresholdBps: policy.thresholdBps.toString(),
      });
      outcomes.push(
        await this.o.sender.send({
          kind: "downtime",
          key: `downtime:${nodeId}:${epoch}`,
          contract: "SlaEnforcer",
          to: sla.target as string,
          data: sla.interface.encodeFunctionData("slashForDowntime", [rentalId, proofs]),
        }),
      );
    }
    return outcomes;
  }

  private skipped(kind: "fraud" | "downtime", nodeId: bigint, epoch: number, slashableFrom: bigint): void {
    this.log({
      at: "Keeper#slashSkipped",
      kind,
      nodeId: nodeId.toString(),
      epoch,
      slashableFrom: slashableFrom.toString(),
      reason: "evidence too old: a slash used these epochs, or the node was released since",
    });
  }

  /** Runs the slashing pass (fraud, then downtime) of every on-chain epoch not yet passed over. */
  async slashAll(): Promise<TxOutcome[]> {
    const epochs = await this.epochsFor("slash");
    if (epochs.length === 0) return [];
    const policy = await this.downtimePolicy();
    // Read once per pass, and only if some node was down long enough.
    let read: Promise<RentalInfo[]> | undefined;
    const rentals = () => (read ??= this.rentals());
    const outcomes: TxOutcome[] = [];
    for (const epoch of epochs) {
      const sent = [...(await this.slashFraudEpoch(epoch)), ...(await this.slashDowntimeEpoch(epoch, policy, rentals))];
      outcomes.push(...sent);
      if (!sent.some((o) => o.status === "pending")) this.o.store.markJobDone(`slash:${epoch}`);
    }
    return outcomes;
  }

  /** Closes the open rentals of every jailed node, one transaction per node. */
  async closeJailed(): Promise<TxOutcome[]> {
    const { RentalEscrow: escrow, NodeRegistry: registry, SlaEnforcer: sla } = this.o.contracts;
    const count = await escrow.rentalCount();
    // Rentals before the settlement cursor are closed (see closeExpired).
    const from = BigInt(this.o.store.getMeta("close.from") ?? "1");
    const byNode = new Map<bigint, bigint[]>();
    for (let id = from; id <= count; id++) {
      const r = await escrow.getRental(id);
      if (r.status === CLOSED) continue;
      const nodeId = BigInt(r.nodeId);
      byNode.set(nodeId, [...(byNode.get(nodeId) ?? []), id]);
    }
    const outcomes: TxOutcome[] = [];
    for (const [nodeId, ids] of byNode) {
      if ((await registry.getNode(nodeId)).status !== JAILED) continue;
      this.log({ at: "Keeper#closeJailed", nodeId: nodeId.toString(), rentals: ids.map(String) });
      outcomes.push(
        await this.o.sender.send({
          kind: "jailclose",
          key: `jailclose:${ids.join(",")}`,
          contract: "SlaEnforcer",
          to: sla.target as string,
          data: sla.interface.encodeFunctionData("closeOnJailedNode", [ids]),
        }),
      );
    }
    return outcomes;
  }

  /** Closes every rental whose grace period or term has passed. */
  async closeExpired(): Promise<TxOutcome[]> {
    const escrow = this.o.contracts.RentalEscrow;
    const provider = escrow.runner!.provider!;
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const count = await escrow.rentalCount();
    let cursor = BigInt(this.o.store.getMeta("close.from") ?? "1");
    let prefixClosed = true;
    const outcomes: TxOutcome[] = [];
    for (let id = cursor; id <= count; id++) {
      const closable = await escrow.closableAt(id);
      if (closable === 0n) {
        if (prefixClosed && (await escrow.getRental(id)).status === CLOSED) cursor = id + 1n;
        continue;
      }
      prefixClosed = false;
      if (closable > now) continue;
      this.log({ at: "Keeper#closeRental", rentalId: id.toString(), closableAt: closable.toString() });
      const outcome = await this.o.sender.send({
        kind: "close",
        key: `close:${id}`,
        contract: "RentalEscrow",
        to: escrow.target as string,
        data: escrow.interface.encodeFunctionData("closeRental", [id]),
      });
      outcomes.push(outcome);
    }
    this.o.store.setMeta("close.from", cursor.toString());
    return outcomes;
  }
}
