/**
 * One definition of "now" and of epochs, from the chain (issue #17 item 5): checkers cut epochs, settle
 * and observation windows by it, and the keeper's current epoch comes from the same arithmetic.
 *
 * Epochs: `epochAt` is ReportOracle.epochAt (epoch 0 until genesis, then one per epoch length), the only
 * place off chain that does this arithmetic; the schedule (genesis, length) is read from the oracle.
 *
 * Chain time (`ChainClock.now()`): the latest block's timestamp plus the wall time elapsed since that
 * block was read, i.e. `wall.now() + offset` with `offset = block.timestamp - (wall time the answer came)`,
 * the largest offset any reading gave (a block seen again later gives a smaller one: it is ignored). It is
 * refreshed on every discovery and epoch-end exchange run of the checker and every `refreshMs` besides,
 * and never goes backwards. The keeper goes by the latest block itself (`epochAt(block.timestamp)`): the
 * oracle accepts a report by that time.
 *
 * Tolerance (`chainClockToleranceMs`): chain time and the latest block's time as the keeper (or the
 * oracle) reads it differ by at most
 *   - one block interval: the chain's time moves in block steps, and the keeper's latest block may be
 *     up to an interval old (chain time runs on between blocks);
 *   - 1 s: block timestamps are whole seconds (a block stamped t may be made up to 1 s after t);
 *   - the RPC latency of the reading, at most `CHAIN_CLOCK_MAX_LATENCY_MS` (a slower answer does not
 *     move the offset, except the first);
 * The refresh period adds nothing while the chain's time runs at the rate of the wall clock (Hardhat's and
 * peaq's blocks are stamped from their producer's clock): between readings both move together. A leap of
 * the chain's time (a test chain's `evm_increaseTime`) is seen at the next reading, and the checker reads
 * before each epoch-end decision. Chain time is never ahead of the chain's next block (offset taken after
 * the answer came), so `exchange.settle`, which must exceed the tolerance (`settleProblem`), is a margin
 * for the keeper's view, the block interval and timestamp rounding, not a guess about the wall clock.
 */
import type { ConfigProblem } from "../config/load";
import { systemClock, type Clock } from "../checker/scheduler";
import { ENV } from "../config/schema";

/** The oracle's epoch schedule: genesis in Unix seconds, length in milliseconds (whole seconds). */
export interface EpochSchedule {
  genesis: number;
  length: number;
}

const lengthSeconds = (s: EpochSchedule) => Math.max(1, Math.round(s.length / 1000));

/** ReportOracle.epochAt: epoch 0 until genesis, then one per epoch length (`seconds`: Unix seconds). */
export function epochAt(s: EpochSchedule, seconds: number): number {
  const t = Math.floor(seconds);
  return t < s.genesis ? 0 : Math.floor((t - s.genesis) / lengthSeconds(s));
}

/** ReportOracle.epochStart: Unix seconds epoch `epoch` begins at. */
export function epochStart(s: EpochSchedule, epoch: number): number {
  return s.genesis + epoch * lengthSeconds(s);
}

/** A block as the clock needs it. */
export interface BlockStamp {
  number: number;
  /** Unix seconds. */
  timestamp: number;
}

/** Reads a block: the latest, or by number. */
export type BlockSource = (tag: "latest" | number) => Promise<BlockStamp>;

/** Slowest reading that still moves the clock's offset (a slower one says less about when the block was). */
export const CHAIN_CLOCK_MAX_LATENCY_MS = 500;
/** Block timestamps are whole seconds. */
const TIMESTAMP_STEP_MS = 1000;
/** Default period of the clock's own readings, besides those before each discovery and exchange. */
export const CHAIN_CLOCK_REFRESH_MS = 5000;
/** Blocks the startup measurement of the block interval averages over. */
const INTERVAL_BLOCKS = 32;

/** How far chain time and the latest block's time can disagree (see the file comment). */
export function chainClockToleranceMs(blockIntervalMs: number): number {
  return blockIntervalMs + TIMESTAMP_STEP_MS + CHAIN_CLOCK_MAX_LATENCY_MS;
}

/** `exchange.settle` must exceed the chain clock's tolerance: the problem when it does not. */
export function settleProblem(settleMs: number, blockIntervalMs: number): ConfigProblem | undefined {
  const tolerance = chainClockToleranceMs(blockIntervalMs);
  if (settleMs > tolerance) return undefined;
  const s = (ms: number) => `${ms / 1000}s`;
  const enough = `${Math.ceil((tolerance + 1) / 1000)}s`;
  return {
    key: "exchange.settle",
    env: ENV["exchange.settle"],
    problem:
      `is ${s(settleMs)}, not more than the chain clock's tolerance of ${s(tolerance)} (block interval ` +
      `${s(blockIntervalMs)} + ${s(TIMESTAMP_STEP_MS)} for whole-second block timestamps + ` +
      `${s(CHAIN_CLOCK_MAX_LATENCY_MS)} RPC latency): the checker could sign an epoch the chain has not ended`,
    fix:
      `set it to "${enough}" or more: "exchange": {"settle": "${enough}"} in the config file, ` +
      `or export ${ENV["exchange.settle"]}=${enough}`,
  };
}

/** "now" on the chain's clock (see the file comment). Timers are the wall clock's (durations). */
export class ChainClock implements Clock {
  private offset: number | undefined;
  private last = -Infinity;
  private latest: BlockStamp | undefined;
  private timer: unknown;
  private running = false;

  constructor(
    private readonly source: BlockSource,
    private readonly wall: Clock = systemClock,
  ) {}

  /** Reads the latest block and moves the offset forward when it says the chain is further on. */
  async refresh(): Promise<void> {
    const asked = this.wall.now();
    const block = await this.source("latest");
    const answered = this.wall.now();
    if (!this.latest || block.number >= this.latest.number) this.latest = block;
    const offset = block.timestamp * 1000 - answered;
    if (this.offset !== undefined && answered - asked > CHAIN_CLOCK_MAX_LATENCY_MS) return;
    if (this.offset === undefined || offset > this.offset) this.offset = offset;
  }

  /** Chain time, Unix ms; never earlier than an earlier answer. Needs one `refresh` first. */
  now(): number {
    if (this.offset === undefined) throw new Error("the chain clock has not read the chain yet (refresh first)");
    this.last = Math.max(this.last, this.wall.now() + this.offset);
    return this.last;
  }

  /** The latest block read (what the keeper and the oracle go by). */
  latestBlock(): BlockStamp | undefined {
    return this.latest;
  }

  /**
   * The chain's block interval, ms: the median gap between the last blocks' timestamps, rounded up to
   * whole seconds, at least 1 s (a median: one long pause, or a chain restored after a stop, does not count).
   */
  async blockIntervalMs(): Promise<number> {
    const head = await this.source("latest");
    const back = Math.min(INTERVAL_BLOCKS, head.number);
    if (back === 0) return TIMESTAMP_STEP_MS;
    const blocks = await Promise.all(Array.from({ length: back }, (_, i) => this.source(head.number - back + i)));
    blocks.push(head);
    const gaps = blocks.slice(1).map((b, i) => b.timestamp - blocks[i].timestamp);
    gaps.sort((a, b) => a - b);
    return Math.max(1, Math.ceil(gaps[Math.floor(gaps.length / 2)])) * TIMESTAMP_STEP_MS;
  }

  /** Reads the chain every `everyMs` until `stop` (a failed reading keeps the offset; `onError` is told). */
  start(everyMs = CHAIN_CLOCK_REFRESH_MS, onError: (e: unknown) => void = () => {}): void {
    const tick = () => {
      if (!this.running) return;
      this.timer = this.wall.setTimer(() => {
        this.refresh().then(tick, (e: unknown) => {
          onError(e);
          tick();
        });
      }, everyMs);
    };
    if (this.running) return;
    this.running = true;
    tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.wall.clearTimer(this.timer);
    this.timer = undefined;
  }

  setTimer(fn: () => void, ms: number): unknown {
    return this.wall.setTimer(fn, ms);
  }

  clearTimer(handle: unknown): void {
    this.wall.clearTimer(handle);
  }
}

/** A BlockSource over an ethers provider. */
export function providerBlocks(provider: {
  getBlock(tag: "latest" | number): Promise<{ number: number; timestamp: number } | null>;
}): BlockSource {
  return async (tag) => {
    const block = await provider.getBlock(tag);
    if (!block) throw new Error(`the RPC has no block ${tag}`);
    return { number: block.number, timestamp: block.timestamp };
  };
}
