/**
 * A chain clock that only the tests move. Loaded by hardhat.config.ts for `hardhat test` and
 * `hardhat coverage` (never for a chain the node software runs against, KAISAR_WALL_CLOCK_CHAIN=1).
 *
 * Hardhat's network stamps a new block with the wall clock (plus the offset that
 * `evm_setNextBlockTimestamp` and `evm_increaseTime` leave), so a test that picks a time ahead of the
 * chain ("10 s into epoch 3") failed with "Timestamp … is lower than the previous block's timestamp"
 * whenever the machine was slow enough for the wall clock to pass that time first. Here every block
 * is stamped with its parent's time + 1 s, unless the test set the time of the next block
 * (`evm_setNextBlockTimestamp`, which `time.increase`/`increaseTo`/`setNextBlockTimestamp` send) or
 * moved it on (`evm_increaseTime`: the next block then comes that much later). Gas estimates see the
 * time the next block will have (`eth_call` sees the latest block's, as before). How fast the machine
 * runs no longer changes a single block time, so no test depends on it.
 *
 * It wraps the `request` of Hardhat's in-process provider class (every provider the test and
 * coverage tasks create, including solidity-coverage's own), one place for the whole suite.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { EdrProviderWrapper } = require("hardhat/internal/hardhat-network/provider/provider");

type Request = { method: string; params?: unknown[] };
type Raw = (this: unknown, args: Request) => Promise<unknown>;

/** Methods that may mine a block. */
const MINES = new Set(["eth_sendTransaction", "eth_sendRawTransaction", "evm_mine", "hardhat_mine"]);
/** Methods that run code in the context of the next block (`eth_call` runs in the latest block's). */
const RUNS = new Set(["eth_estimateGas", "eth_createAccessList"]);
/** Methods after which the pending time is unknown (the chain went back or was replaced). */
const RESETS = new Set(["evm_revert", "hardhat_reset", "evm_snapshot"]);

interface ClockState {
  /** The block number whose successor's time is pinned (by the test or by this clock). */
  pinnedAfter?: bigint;
  /** Seconds `evm_increaseTime` added since the last block. */
  increase: bigint;
}

const states = new WeakMap<object, ClockState>();

let installed = false;

/** Installs the clock (idempotent). */
export function installChainClock(): void {
  if (installed) return;
  installed = true;
  const raw: Raw = EdrProviderWrapper.prototype.request;

  async function latest(self: unknown): Promise<{ number: bigint; timestamp: bigint }> {
    const block = (await raw.call(self, { method: "eth_getBlockByNumber", params: ["latest", false] })) as {
      number: string;
      timestamp: string;
    };
    return { number: BigInt(block.number), timestamp: BigInt(block.timestamp) };
  }

  /** Pins the next block's time to the latest block's + 1 s (+ any increase), unless already pinned. */
  async function pin(self: object, state: ClockState): Promise<bigint> {
    const head = await latest(self);
    if (state.pinnedAfter !== head.number) {
      const next = head.timestamp + 1n + state.increase;
      await raw.call(self, { method: "evm_setNextBlockTimestamp", params: [`0x${next.toString(16)}`] });
      state.pinnedAfter = head.number;
      state.increase = 0n;
    }
    return head.number;
  }

  EdrProviderWrapper.prototype.request = async function request(this: object, args: Request): Promise<unknown> {
    let state = states.get(this);
    if (!state) states.set(this, (state = { increase: 0n }));
    const method = args.method;
    if (method === "evm_setNextBlockTimestamp") {
      const result = await raw.call(this, args);
      state.pinnedAfter = (await latest(this)).number;
      state.increase = 0n;
      return result;
    }
    if (method === "evm_increaseTime") {
      const result = await raw.call(this, args);
      state.increase += BigInt(args.params?.[0] as number | string);
      state.pinnedAfter = undefined;
      return result;
    }
    if (RESETS.has(method)) {
      const result = await raw.call(this, args);
      state.pinnedAfter = undefined;
      state.increase = 0n;
      return result;
    }
    if (MINES.has(method)) {
      const before = await pin(this, state);
      try {
        return await raw.call(this, args);
      } finally {
        // A block was mined: the pin is spent (hardhat_mine's later blocks follow its interval).
        if ((await latest(this)).number !== before) state.pinnedAfter = undefined;
      }
    }
    if (RUNS.has(method)) await pin(this, state);
    return raw.call(this, args);
  };
}
