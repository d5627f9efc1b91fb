/**
 * The chain clock (src/chain/chainClock.ts): one definition of "now" and of epochs, from the chain.
 * Unit tests with an injected wall clock and a fake block source; no timer races.
 */
import { expect } from "chai";

import {
  CHAIN_CLOCK_MAX_LATENCY_MS,
  ChainClock,
  chainClockToleranceMs,
  epochAt,
  epochStart,
  settleProblem,
  type BlockStamp,
} from "../src/chain/chainClock";
import { epochClock, epochWindow } from "../src/checker/run";
import { ManualClock } from "../src/checker/scheduler";

/** A chain whose blocks the test makes; `delayMs` moves the wall clock while a reading is in flight. */
function fakeChain(wall: ManualClock) {
  const blocks: BlockStamp[] = [{ number: 0, timestamp: 1_000 }];
  let reads = 0;
  const chain = {
    delayMs: 0,
    get reads() {
      return reads;
    },
    mine(timestamp: number) {
      blocks.push({ number: blocks.length, timestamp });
    },
    source: async (tag: "latest" | number): Promise<BlockStamp> => {
      reads++;
      if (chain.delayMs) await wall.advance(chain.delayMs);
      const block = tag === "latest" ? blocks[blocks.length - 1] : blocks[tag];
      if (!block) throw new Error(`no block ${tag}`);
      return block;
    },
  };
  return chain;
}

describe("chain clock", () => {
  it("epochAt and epochStart are ReportOracle's arithmetic; the checker's epochs and windows use them", () => {
    const s = { genesis: 1_000, length: 60_000 };
    expect([0, 999, 1_000, 1_059, 1_060, 1_060.9].map((t) => epochAt(s, t))).to.deep.equal([0, 0, 0, 0, 1, 1]);
    expect([0, 1, 5].map((e) => epochStart(s, e))).to.deep.equal([1_000, 1_060, 1_300]);
    const epochOf = epochClock(s.genesis, s.length);
    expect([999_999, 1_059_999, 1_060_000].map(epochOf)).to.deep.equal([0, 0, 1]);
    expect(epochWindow(s.genesis, s.length, 1_000)(2)).to.deep.equal({ from: 1_120, to: 1_180, heartbeatSeconds: 1 });
  });

  it("is the latest block's time plus the wall time since it was read", async () => {
    const wall = new ManualClock(5_000_000);
    const chain = fakeChain(wall);
    const clock = new ChainClock(chain.source, wall);
    expect(() => clock.now(), "before any reading").to.throw(/refresh first/);
    await clock.refresh();
    expect(clock.now(), "right after the reading").to.equal(1_000_000);
    await wall.advance(1_500);
    expect(clock.now(), "1.5 s later on the wall").to.equal(1_001_500);
    expect(clock.latestBlock()).to.deep.equal({ number: 0, timestamp: 1_000 });
  });

  it("moves forward when a reading shows the chain further on, never backwards", async () => {
    const wall = new ManualClock(5_000_000);
    const chain = fakeChain(wall);
    const clock = new ChainClock(chain.source, wall);
    await clock.refresh();
    await wall.advance(10_000);
    // The same block read again 10 s later: it says nothing new; the clock keeps running.
    await clock.refresh();
    expect(clock.now(), "same block read later").to.equal(1_010_000);
    // A block stamped 3 s behind what the clock says (made before it was read: latency, rounding).
    chain.mine(1_007);
    await clock.refresh();
    expect(clock.now(), "an older-looking block does not set it back").to.equal(1_010_000);
    expect(clock.latestBlock()?.number, "but it is the latest block").to.equal(1);
    // A leap of the chain's time (a test chain's evm_increaseTime): seen at the next reading.
    chain.mine(1_100);
    await clock.refresh();
    expect(clock.now(), "leap").to.equal(1_100_000);
  });

  it("never goes backwards when the wall clock does (an NTP step)", async () => {
    let t = 5_000_000;
    const wall = { now: () => t, setTimer: () => undefined, clearTimer: () => {} };
    const clock = new ChainClock(async () => ({ number: 1, timestamp: 1_000 }), wall);
    await clock.refresh();
    t += 2_000;
    expect(clock.now()).to.equal(1_002_000);
    t -= 1_500;
    expect(clock.now(), "wall stepped back").to.equal(1_002_000);
    t += 2_000;
    expect(clock.now(), "and on again").to.equal(1_002_500);
  });

  it("a reading slower than the latency bound does not move it (except the first)", async () => {
    const wall = new ManualClock(5_000_000);
    const chain = fakeChain(wall);
    const clock = new ChainClock(chain.source, wall);
    chain.delayMs = CHAIN_CLOCK_MAX_LATENCY_MS + 100;
    await clock.refresh();
    expect(clock.now(), "first reading, slow: the offset is taken when the answer came").to.equal(1_000_000);
    chain.mine(1_050);
    await clock.refresh();
    expect(clock.now(), "slow reading of a newer block: ignored").to.equal(1_000_000 + 600);
    chain.delayMs = 0;
    await clock.refresh();
    expect(clock.now(), "a fast one moves it").to.equal(1_050_000);
  });

  it("reads the chain every refresh period once started, until stopped (a failed reading keeps the offset)", async () => {
    const wall = new ManualClock(5_000_000);
    const chain = fakeChain(wall);
    const clock = new ChainClock(chain.source, wall);
    await clock.refresh();
    const errors: unknown[] = [];
    let fail = false;
    const failing = new ChainClock(async (tag) => {
      if (fail) throw new Error("rpc down");
      return chain.source(tag);
    }, wall);
    await failing.refresh();
    clock.start(1_000);
    failing.start(1_000, (e) => errors.push(e));
    const before = chain.reads;
    chain.mine(1_100); // the chain leaps 100 s: the next periodic reading sees it
    await wall.advance(1_000);
    expect(chain.reads - before, "one reading each").to.equal(2);
    expect(clock.now()).to.equal(1_100_000);
    fail = true;
    await wall.advance(1_000);
    expect(errors.length, "error told").to.equal(1);
    expect(failing.now(), "offset kept").to.equal(1_100_000 + 1_000);
    fail = false;
    clock.stop();
    failing.stop();
    const stopped = chain.reads;
    await wall.advance(5_000);
    expect(chain.reads, "no reading after stop").to.equal(stopped);
    expect(wall.pending, "no timer left").to.equal(0);
  });

  it("measures the block interval as the median gap, whole seconds, at least 1 s", async () => {
    const wall = new ManualClock(0);
    const chain = fakeChain(wall);
    // A pause of 500 s (a restored chain) among 6-second blocks, then a burst in one second.
    let t = 1_000;
    for (let i = 0; i < 20; i++) chain.mine((t += 6));
    chain.mine((t += 500));
    for (let i = 0; i < 5; i++) chain.mine(t);
    expect(await new ChainClock(chain.source, wall).blockIntervalMs()).to.equal(6_000);
    const burst = fakeChain(wall);
    for (let i = 0; i < 40; i++) burst.mine(2_000);
    expect(await new ChainClock(burst.source, wall).blockIntervalMs(), "all in one second").to.equal(1_000);
    expect(await new ChainClock(fakeChain(wall).source, wall).blockIntervalMs(), "only genesis").to.equal(1_000);
  });

  it("exchange.settle must exceed the tolerance: refused naming the setting and the fix", () => {
    expect(chainClockToleranceMs(1_000)).to.equal(2_500);
    expect(chainClockToleranceMs(6_000)).to.equal(7_500);
    expect(settleProblem(3_000, 1_000), "3 s on a 1-second chain").to.equal(undefined);
    expect(settleProblem(120_000, 6_000), "the default on peaq").to.equal(undefined);
    const p = settleProblem(2_500, 1_000)!;
    expect(p).to.include({ key: "exchange.settle", env: "KAISAR_EXCHANGE_SETTLE" });
    expect(p.problem).to.include("is 2.5s").and.include("tolerance of 2.5s").and.include("block interval 1s");
    expect(p.fix).to.include('"settle": "3s"').and.include("KAISAR_EXCHANGE_SETTLE");
  });
});
