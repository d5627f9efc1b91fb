/**
 * The rentals an epoch's scoring reads, without reading every rental ever made: a persistent set
 * (one per checker process) built from the escrow's `OpenRental` and `CloseRental` events, read in
 * bounded block windows from a cursor that only moves forward. Each epoch reads the blocks added since
 * the last one (a few `eth_getLogs`, however many rentals they hold) and then the rentals open during
 * the epoch, in pages of `KaisarLens.getRentalScoring` (one call per page). A rental closed before the
 * epoch began is never read again, so dust rentals opened and closed cost nothing in later epochs.
 *
 * Also here: the last block before a time (binary search on block timestamps, cached), which pins an
 * epoch's reads to the state at its end, the same on every checker whenever it reads.
 */
import type { Provider } from "ethers";

import type { KaisarContracts } from "./contracts";

/** Blocks per `eth_getLogs` call (RPC providers commonly cap a range at 2,000 to 10,000 blocks). */
export const LOG_WINDOW_BLOCKS = 2_000;
/** Rentals per `KaisarLens.getRentalScoring` call. */
export const RENTAL_PAGE = 200;

interface Tracked {
  opened: number;
  /** Block of its `CloseRental`, if seen. */
  closed?: number;
}

/** A rental's scoring fields as `KaisarLens.getRentalScoring` returns them. */
export interface RentalScoring {
  rentalId: bigint;
  nodeId: number;
  gpus: bigint;
  plan: number;
  token: string;
  unitPrice: bigint;
  termsVersion: bigint;
  feeBps: bigint;
  serviceStart: bigint;
  serviceEnd: bigint;
}

export interface OpenRentalOptions {
  /** First block to read events from (the escrow's deployment block; default 0). */
  fromBlock?: number;
  /** Blocks per log read (default `LOG_WINDOW_BLOCKS`). */
  windowBlocks?: number;
  /** Rentals per lens call (default `RENTAL_PAGE`). */
  pageSize?: number;
}

/**
 * The escrow's rentals as its events tell them, kept between epochs. `rentalsDuring(startBlock, endBlock)`
 * gives the scoring fields of every rental open at some block in `(startBlock, endBlock]`, read at
 * `endBlock`. Closed rentals are dropped once an epoch after their close has been read.
 */
export class OpenRentalTracker {
  private readonly rentals = new Map<bigint, Tracked>();
  private cursor: number;
  private readonly first: number;
  private readonly window: number;
  private readonly page: number;
  /** Closed rentals up to this block are dropped: a `startBlock` below it needs a fresh build. */
  private prunedTo = -1;

  constructor(
    private readonly contracts: KaisarContracts,
    options: OpenRentalOptions = {},
  ) {
    this.first = this.cursor = options.fromBlock ?? 0;
    this.window = options.windowBlocks ?? LOG_WINDOW_BLOCKS;
    this.page = options.pageSize ?? RENTAL_PAGE;
    if (!Number.isSafeInteger(this.window) || this.window < 1)
      throw new RangeError(`windowBlocks = ${options.windowBlocks} is not a whole number >= 1`);
    if (!Number.isSafeInteger(this.page) || this.page < 1)
      throw new RangeError(`pageSize = ${options.pageSize} is not a whole number >= 1`);
  }

  /** Reads the escrow's rental events from the cursor up to `block` (inclusive), a window at a time. */
  async syncTo(block: number): Promise<void> {
    const escrow = this.contracts.RentalEscrow;
    const address = await escrow.getAddress();
    const open = escrow.interface.getEvent("OpenRental").topicHash;
    const close = escrow.interface.getEvent("CloseRental").topicHash;
    const provider = escrow.runner?.provider as Provider;
    while (this.cursor <= block) {
      const toBlock = Math.min(block, this.cursor + this.window - 1);
      const logs = await provider.getLogs({ address, topics: [[open, close]], fromBlock: this.cursor, toBlock });
      for (const log of logs) {
        const id = BigInt(log.topics[1]);
        if (log.topics[0] === open) this.rentals.set(id, { opened: log.blockNumber });
        else {
          const r = this.rentals.get(id);
          if (r) r.closed = log.blockNumber;
        }
      }
      this.cursor = toBlock + 1;
    }
  }

  /** Ids of rentals opened by `endBlock` and not closed by `startBlock`, ascending (after `syncTo(endBlock)`). */
  idsDuring(startBlock: number, endBlock: number): bigint[] {
    const ids: bigint[] = [];
    for (const [id, r] of this.rentals) {
      if (r.opened <= endBlock && (r.closed === undefined || r.closed > startBlock)) ids.push(id);
    }
    return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * The scoring fields, read at `endBlock` with service windows as of `asOf`, of every rental open at
   * some block in `(startBlock, endBlock]` (`startBlock`: the last block before the epoch began;
   * `endBlock`: the last one before it ended; `asOf`: its end). Then drops the rentals closed by
   * `startBlock`: epochs are scored in order.
   */
  async rentalsDuring(startBlock: number, endBlock: number, asOf: bigint): Promise<RentalScoring[]> {
    if (startBlock < this.prunedTo) this.reset(); // an older epoch: its closed rentals were dropped
    await this.syncTo(endBlock);
    const ids = this.idsDuring(startBlock, endBlock);
    const out: RentalScoring[] = [];
    for (let i = 0; i < ids.length; i += this.page) {
      const rows = await this.contracts.KaisarLens.getRentalScoring(ids.slice(i, i + this.page), asOf, {
        blockTag: endBlock,
      });
      for (const r of rows) {
        out.push({
          rentalId: r.rentalId,
          nodeId: Number(r.nodeId),
          gpus: r.gpus,
          plan: Number(r.plan),
          token: r.token,
          unitPrice: r.unitPrice,
          termsVersion: r.termsVersion,
          feeBps: r.feeBps,
          serviceStart: r.serviceStart,
          serviceEnd: r.serviceEnd,
        });
      }
    }
    this.prune(startBlock);
    return out;
  }

  /** Rentals tracked now (open, or closed after the last epoch read). */
  get size(): number {
    return this.rentals.size;
  }

  private prune(block: number): void {
    for (const [id, r] of this.rentals) if (r.closed !== undefined && r.closed <= block) this.rentals.delete(id);
    if (block > this.prunedTo) this.prunedTo = block;
  }

  private reset(): void {
    this.rentals.clear();
    this.cursor = this.first;
    this.prunedTo = -1;
  }
}

/**
 * The last block whose timestamp is before `time` (Unix seconds), by binary search on block timestamps;
 * -1 when even block 0 is not. Results are cached per `time` (an epoch's ends do not move).
 */
export function blockBefore(provider: Provider): (time: bigint) => Promise<number> {
  const cache = new Map<bigint, number>();
  const stamps = new Map<number, bigint>();
  const stamp = async (n: number): Promise<bigint> => {
    let t = stamps.get(n);
    if (t === undefined) {
      const block = await provider.getBlock(n);
      if (!block) throw new Error(`block ${n} is not known to the RPC`);
      stamps.set(n, (t = BigInt(block.timestamp)));
    }
    return t;
  };
  return async (time) => {
    const hit = cache.get(time);
    if (hit !== undefined) return hit;
    // Epochs are read in order: the block found for an earlier time bounds the search from below.
    let lo = -1; // timestamp < time (or -1)
    for (const [t, n] of cache) if (t < time && n > lo) lo = n;
    let hi = await provider.getBlockNumber();
    if ((await stamp(hi)) < time) return hi; // the chain has not passed `time` yet: not cached
    // Invariant: block `hi` is at or after `time`; `lo` is before it (or -1).
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if ((await stamp(mid)) < time) lo = mid;
      else hi = mid;
    }
    cache.set(time, lo);
    return lo;
  };
}
