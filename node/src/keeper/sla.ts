/**
 * SLA credits and settlement, after each report is on chain.
 *
 * - Credits: for every node leaf of an on-chain epoch whose attested uptime is below the SLA target of
 *   one of the node's rentals that ran during the epoch (`serviceWindow` overlaps
 *   `[epochStart(e), epochStart(e + 1))`) and was not credited yet (`isCredited`), one
 *   `SlaEnforcer.applySlaCredits(rentalIds, proof)` per node (the proof verified once on chain), keyed
 *   "sla:<epoch>:<nodeId>". An epoch's pass is recorded as done once nothing of it is in flight.
 * - Settlement: every open rental whose grace period or term has passed (`closableAt(id) <= now`) is
 *   closed with `RentalEscrow.closeRental(id)`, keyed "close:<id>". A cursor skips the closed prefix.
 *
 * Rentals are read by id from the escrow (`rentalCount`, `getRental`): fine for a devnet and the first
 * networks; a large network would index `OpenRental` events by node instead.
 */
import type { KaisarContracts } from "../chain/contracts";
import { leafFromJson } from "./json";
import type { KeeperStore } from "./store";
import type { TxLogEntry, TxOutcome, TxSender } from "./tx";

/** `RentalStatus.Closed`. */
const CLOSED = 3n;

export interface SlaKeeperOptions {
  contracts: KaisarContracts;
  store: KeeperStore;
  sender: TxSender;
  log?: (entry: TxLogEntry) => void;
}

interface RentalInfo {
  id: bigint;
  nodeId: bigint;
  slaTier: number;
  status: bigint;
}

/** SLA credits and rental settlement (see the file comment). */
export class SlaKeeper {
  private readonly log: (entry: TxLogEntry) => void;

  constructor(private readonly o: SlaKeeperOptions) {
    this.log = o.log ?? (() => {});
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
    const epochs = this.o.store
      .onChainReports()
      .map((r) => r.epoch)
      .filter((e) => !this.o.store.jobDone(`sla:${e}`))
      .sort((a, b) => a - b);
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
