/**
 * The checkers' open-rental set and block search (node/src/chain/openRentals.ts) and the per-node delivery
 * of an epoch (node/src/chain/epochContext.ts), on a real local chain.
 */
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { Plan } from "@kaisar/offchain";

import { connectContracts, rpcProvider } from "../src/chain/contracts";
import { kai, nodeSpecOf } from "../../devnet/src/governance";
import { epochDelivery } from "../src/chain/epochContext";
import { OpenRentalTracker, blockBefore, type RentalScoring } from "../src/chain/openRentals";
import { startLocalChain, type LocalChain } from "./helpers/localChain";

describe("checkers' open-rental set, block search and epoch delivery", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let nodeId: number;
  /** Rental ids: [0] stays open, [1] and [2] are closed, [3] opens last. */
  const rentals: bigint[] = [];
  /** Block numbers: after rental 0 opened, after rentals 1 and 2 closed, after rental 3 opened. */
  const blocks: number[] = [];

  before(async () => {
    chain = await startLocalChain({ epochLengthSeconds: 600 });
    const c = chain.contracts;
    const gov = chain.account(0);
    const [provider, renter] = [5, 6].map((i) => chain.account(i));
    for (const who of [provider, renter]) await (await c.KaiToken.connect(gov).transfer(who, kai(60_000))).wait();
    await (await c.KaiToken.connect(provider).approve(await c.NodeRegistry.getAddress(), kai(60_000))).wait();
    await (await c.NodeRegistry.connect(provider).stake(kai(50_000))).wait();
    const spec = await nodeSpecOf(c, {
      gpuClass: "RTX4090-24GB",
      gpuCount: 4,
      vramGiB: 24,
      cpuCores: 16,
      ramGiB: 64,
      diskGiB: 500,
      bandwidthMbps: 1000,
    });
    const token = await c.KaiToken.getAddress();
    await (await c.NodeRegistry.connect(provider).registerNode(spec, "http://127.0.0.1:1", [token], [kai(1)])).wait();
    nodeId = Number(await c.NodeRegistry.nodeCount());
    await (await c.KaiToken.connect(renter).approve(await c.RentalEscrow.getAddress(), kai(1_000))).wait();
    const rent = async () => {
      const p = {
        nodeId,
        gpus: 1,
        token,
        plan: 0,
        deposit: kai(5),
        termDays: 0,
        maxPricePerGpuHour: kai(1),
        slaTier: 0,
      };
      await (await c.RentalEscrow.connect(renter).rent(p)).wait();
      rentals.push(await c.RentalEscrow.rentalCount());
    };
    await rent();
    blocks.push(await chain.contracts.KaiToken.runner!.provider!.getBlockNumber());
    await rent();
    await rent();
    await (await c.RentalEscrow.connect(renter).endRental(rentals[1])).wait();
    await (await c.RentalEscrow.connect(renter).endRental(rentals[2])).wait();
    blocks.push(await chain.contracts.KaiToken.runner!.provider!.getBlockNumber());
    await rent();
    blocks.push(await chain.contracts.KaiToken.runner!.provider!.getBlockNumber());
  });
  after(async () => {
    await chain?.close();
  });

  /** The chain's contracts on a provider of their own, counting JSON-RPC calls by method. */
  function counted() {
    const rpc = rpcProvider(chain.rpcUrl, chain.chainId);
    const calls: string[] = [];
    void rpc.on("debug", (e: { action: string; payload?: { method: string } }) => {
      if (e.action === "sendRpcPayload" && e.payload) calls.push(e.payload.method);
    });
    return { rpc, calls, contracts: connectContracts(chain.addresses, rpc) };
  }

  it("reads the escrow's events in windows from a cursor, and only the new blocks afterwards", async () => {
    const { rpc, calls, contracts } = counted();
    try {
      const tracker = new OpenRentalTracker(contracts, { windowBlocks: 5 });
      await tracker.syncTo(blocks[1]);
      const logs = () => calls.filter((m) => m === "eth_getLogs").length;
      expect(logs(), "one read per 5 blocks").to.equal(Math.ceil((blocks[1] + 1) / 5));
      expect(tracker.idsDuring(blocks[1], blocks[1]), "open at the end: rental 0").to.deep.equal([rentals[0]]);
      expect(tracker.idsDuring(blocks[0], blocks[1]), "open during: 0, 1, 2").to.deep.equal(rentals.slice(0, 3));
      calls.length = 0;
      await tracker.syncTo(blocks[2]);
      expect(logs(), "the new blocks only").to.equal(Math.ceil((blocks[2] - blocks[1]) / 5));
      expect(tracker.idsDuring(blocks[1], blocks[2])).to.deep.equal([rentals[0], rentals[3]]);
    } finally {
      rpc.destroy();
    }
  });

  it("drops rentals closed before the epoch read began; an older epoch rebuilds the set", async () => {
    const { rpc, contracts } = counted();
    try {
      const tracker = new OpenRentalTracker(contracts, { pageSize: 2 });
      const asOf = BigInt(await chain.now());
      const during = await tracker.rentalsDuring(blocks[0], blocks[1], asOf);
      expect(
        during.map((r) => r.rentalId),
        "three rentals, in pages of 2",
      ).to.deep.equal(rentals.slice(0, 3));
      expect(during.every((r) => r.nodeId === nodeId && r.gpus === 1n && r.feeBps === 1_000n)).to.equal(true);
      expect(tracker.size, "before any epoch began after their close").to.equal(3);
      const later = await tracker.rentalsDuring(blocks[1], blocks[2], asOf);
      expect(later.map((r) => r.rentalId)).to.deep.equal([rentals[0], rentals[3]]);
      expect(tracker.size, "the two closed rentals dropped").to.equal(2);
      const again = await tracker.rentalsDuring(blocks[0], blocks[1], asOf);
      expect(
        again.map((r) => r.rentalId),
        "rebuilt from the first block",
      ).to.deep.equal(rentals.slice(0, 3));
    } finally {
      rpc.destroy();
    }
  });

  it("refuses a window or a page of less than one", () => {
    const { rpc, contracts } = counted();
    expect(() => new OpenRentalTracker(contracts, { windowBlocks: 0 })).to.throw(RangeError, /windowBlocks/);
    expect(() => new OpenRentalTracker(contracts, { pageSize: 0.5 })).to.throw(RangeError, /pageSize/);
    rpc.destroy();
  });

  it("finds the last block before a time by binary search, and remembers it", async () => {
    const { rpc, calls } = counted();
    try {
      const find = blockBefore(rpc);
      await chain.increaseTime(5); // a block after the time searched
      const latest = await rpc.getBlockNumber();
      const stamps: bigint[] = [];
      for (let n = 0; n <= latest; n++) stamps.push(BigInt((await rpc.getBlock(n))!.timestamp));
      const time = stamps[blocks[1]] + 1n;
      let expected = -1; // by a scan of every block
      stamps.forEach((t, n) => {
        if (t < time) expected = n;
      });
      calls.length = 0;
      expect(await find(time)).to.equal(expected);
      const searched = calls.length;
      expect(searched, "a search").to.be.greaterThan(0);
      expect(await find(time), "again").to.equal(expected);
      expect(calls.length, "no call the second time").to.equal(searched);
      expect(await find(0n), "before every block").to.equal(-1);
      expect(await find(BigInt(await chain.now()) + 10_000n), "after the latest block").to.equal(latest);
    } finally {
      rpc.destroy();
    }
  });

  it("sums each node's GPU-seconds and fees in KAI inside the epoch; a token without a rate brings no fees", () => {
    const KAI_TOKEN = "0x" + "aa".repeat(20);
    const row = (id: bigint, node: number, token: string, start: bigint, end: bigint, gpus = 2n): RentalScoring => ({
      rentalId: id,
      nodeId: node,
      gpus,
      plan: Plan.PayAsYouGo,
      token,
      unitPrice: 1_000n, // per second
      termsVersion: 0n,
      feeBps: 1_000n,
      serviceStart: start,
      serviceEnd: end,
    });
    const rows = [
      row(1n, 7, KAI_TOKEN.toUpperCase().replace("0X", "0x"), 50n, 150n), // 50 s inside [100, 200)
      row(2n, 7, KAI_TOKEN, 180n, 400n), // 20 s inside
      row(3n, 8, ZeroAddress, 100n, 200n), // a token without a rate
      row(4n, 9, KAI_TOKEN, 10n, 90n), // before the epoch
    ];
    const delivery = epochDelivery(rows, new Map([[KAI_TOKEN, 2n * 10n ** 18n]]), 100n, 200n);
    // 70 s x 1,000 per second paid, 10% fee = 7,000, at 2 KAI per token unit.
    expect(delivery.get(7)).to.deep.equal({ deliveredGpuSeconds: 140n, feesKai: 14_000n });
    expect(delivery.get(8)).to.deep.equal({ deliveredGpuSeconds: 200n, feesKai: 0n });
    expect(delivery.has(9), "nothing inside the epoch").to.equal(false);
  });
});
