import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { KAI, DAY, HOUR, USD_PRICE, KAI_PRICE, NodeStatus } from "../../fixtures";
import { lensFixture, rent, viewAt, PAYG_DEPOSIT } from "../../helpers/escrow";

type Fixture = Awaited<ReturnType<typeof lensFixture>>;

/** A record of `getNodesPacked`, decoded by the layout IKaisarLens documents. */
interface Packed {
  nodeId: bigint;
  provider: string;
  gpuClass: bigint;
  gpuCount: bigint;
  freeGpus: bigint;
  status: bigint;
  acceptsRentals: boolean;
  maintenanceStart: bigint;
  maintenanceEnd: bigint;
  vramGiB: bigint;
  cpuCores: bigint;
  ramGiB: bigint;
  diskGiB: bigint;
  bandwidthMbps: bigint;
  region: string;
  pad: bigint;
  prices: bigint[];
}

function decode(firstId: bigint, tokens: readonly string[], packed: string): Packed[] {
  const bytes = ethers.getBytes(packed);
  const size = 64 + 32 * tokens.length;
  expect(bytes.length % size).to.equal(0, "whole records");
  const field = (at: number, len: number) => BigInt(ethers.hexlify(bytes.slice(at, at + len)));
  const out: Packed[] = [];
  for (let o = 0; o < bytes.length; o += size) {
    out.push({
      nodeId: firstId + BigInt(out.length),
      provider: ethers.getAddress(ethers.hexlify(bytes.slice(o, o + 20))),
      gpuClass: field(o + 20, 2),
      gpuCount: field(o + 22, 2),
      freeGpus: field(o + 24, 2),
      status: field(o + 26, 1),
      acceptsRentals: field(o + 27, 1) === 1n,
      maintenanceStart: field(o + 28, 4),
      maintenanceEnd: field(o + 32, 4),
      vramGiB: field(o + 36, 2),
      cpuCores: field(o + 38, 2),
      ramGiB: field(o + 40, 4),
      diskGiB: field(o + 44, 4),
      bandwidthMbps: field(o + 48, 4),
      region: ethers.hexlify(bytes.slice(o + 52, o + 60)),
      pad: field(o + 60, 4),
      prices: tokens.map((_, t) => field(o + 64 + 32 * t, 32)),
    });
  }
  return out;
}

async function packedPage(c: Fixture, firstId: number | bigint, limit: number) {
  const [tokens, packed] = await c.lens.getNodesPacked(firstId, limit);
  return {
    tokens,
    rows: decode(BigInt(firstId === 0 ? 1 : firstId), tokens, packed),
    bytes: ethers.dataLength(packed),
  };
}

/** `getNodes`' view of the same page, in the packed record's shape. */
async function viewPage(c: Fixture, firstId: number | bigint, limit: number): Promise<Packed[]> {
  return (await c.lens.getNodes(firstId, limit)).map((v) => ({
    nodeId: v.nodeId,
    provider: v.node.provider,
    gpuClass: v.node.gpuClass,
    gpuCount: v.node.gpuCount,
    freeGpus: v.freeGpus,
    status: v.node.status,
    acceptsRentals: v.acceptsRentals,
    maintenanceStart: v.node.maintenanceStart,
    maintenanceEnd: v.node.maintenanceEnd,
    vramGiB: v.node.vramGiB,
    cpuCores: v.node.cpuCores,
    ramGiB: v.node.ramGiB,
    diskGiB: v.node.diskGiB,
    bandwidthMbps: v.node.bandwidthMbps,
    region: v.node.region,
    pad: 0n,
    prices: [...v.pricesPerGpuHour],
  }));
}

const expectSameAsGetNodes = async (c: Fixture) =>
  expect((await packedPage(c, 1, 10)).rows).to.deep.equal(await viewPage(c, 1, 10));

describe("KaisarLens.getNodesPacked", () => {
  describe("pages", () => {
    const pages = [
      { firstId: 1, limit: 10, expected: [1n, 2n, 3n, 4n], label: "all nodes from id 1" },
      { firstId: 0, limit: 2, expected: [1n, 2n], label: "id 0 read as id 1" },
      { firstId: 2, limit: 2, expected: [2n, 3n], label: "a page in the middle" },
      { firstId: 3, limit: 10, expected: [3n, 4n], label: "a limit clamped to the last id" },
      { firstId: 4, limit: 1, expected: [4n], label: "the last node" },
      { firstId: 5, limit: 10, expected: [], label: "nothing beyond the end" },
      { firstId: 1, limit: 0, expected: [], label: "nothing for limit 0" },
    ];
    for (const { firstId, limit, expected, label } of pages) {
      it(`returns ${label} (firstId ${firstId}, limit ${limit})`, async () => {
        const c = await loadFixture(lensFixture);
        const page = await packedPage(c, firstId, limit);
        expect(page.rows.map((r) => r.nodeId)).to.deep.equal(expected);
        expect(page.bytes).to.equal(expected.length * (64 + 32 * 2));
      });
    }

    it("returns the escrow's payment tokens, which the prices follow", async () => {
      const c = await loadFixture(lensFixture);
      expect((await packedPage(c, 5, 10)).tokens).to.deep.equal([c.usdAddress, c.kaiAddress]);
      expect((await packedPage(c, 1, 1)).rows[0].prices).to.deep.equal([USD_PRICE, KAI_PRICE]);
    });
  });

  describe("records", () => {
    it("hold the node as stored, 2 GPUs rented of 8, accepting rentals", async () => {
      const c = await loadFixture(lensFixture);
      const [r] = (await packedPage(c, c.nodeId, 1)).rows;
      expect(r).to.deep.include({
        nodeId: c.nodeId,
        provider: c.provider.address,
        gpuCount: 8n,
        freeGpus: 6n,
        status: BigInt(NodeStatus.Active),
        acceptsRentals: true,
        vramGiB: 80n,
        cpuCores: 64n,
        ramGiB: 512n,
        diskGiB: 4_000n,
        bandwidthMbps: 10_000n,
        region: ethers.encodeBytes32String("eu-west").slice(0, 18),
      });
    });

    it("equal getNodes' views over two providers' interleaved nodes and a fully rented one", async () => {
      const c = await loadFixture(lensFixture);
      await rent({ ...c, nodeId: c.node2 }, { gpus: 2, deposit: PAYG_DEPOSIT });
      const rows = (await packedPage(c, 1, 10)).rows;
      expect(rows.map((r) => [r.provider, r.freeGpus, r.acceptsRentals])).to.deep.equal([
        [c.provider.address, 6n, true],
        [c.provider.address, 0n, false],
        [c.provider2.address, 6n, true],
        [c.provider.address, 4n, true],
      ]);
      await expectSameAsGetNodes(c);
    });

    it("show 0 for every token of a node that accepts none", async () => {
      const c = await loadFixture(lensFixture);
      await c.registry.connect(c.provider).setNodePrice(c.node4, c.kaiAddress, 0);
      await c.registry.connect(c.provider).setNodePrice(c.node4, c.usdAddress, 0);
      expect((await packedPage(c, c.node4, 1)).rows[0].prices).to.deep.equal([0n, 0n]);
      await expectSameAsGetNodes(c);
    });

    it("show 0 for a token the node does not accept", async () => {
      const c = await loadFixture(lensFixture);
      await c.registry.connect(c.provider).setNodePrice(c.node4, c.kaiAddress, 0);
      expect((await packedPage(c, c.node4, 1)).rows[0].prices).to.deep.equal([USD_PRICE, 0n]);
      await expectSameAsGetNodes(c);
    });

    it("equal getNodes' views for paused, jailed and retired nodes", async () => {
      const c = await loadFixture(lensFixture);
      await c.registry.connect(c.provider).pauseNode(c.nodeId);
      await c.registry.connect(c.oracle).setNodeJailed(c.node3, true);
      await c.registry.connect(c.provider).retireNode(c.node4);
      const rows = (await packedPage(c, 1, 10)).rows;
      expect(rows.map((r) => [r.status, r.acceptsRentals])).to.deep.equal([
        [BigInt(NodeStatus.Paused), false],
        [BigInt(NodeStatus.Active), true],
        [BigInt(NodeStatus.Jailed), false],
        [BigInt(NodeStatus.Retired), false],
      ]);
      await expectSameAsGetNodes(c);
    });

    it("equal getNodes' views when the provider's stake no longer covers its listings", async () => {
      const c = await loadFixture(lensFixture);
      await c.registry
        .connect(c.oracle)
        .slash(c.provider.address, KAI(100), c.nodeId, 7, ethers.id("report"), c.treasury.address);
      // provider (nodes 1, 2, 4) is short; provider2 (node 3) is not.
      expect((await packedPage(c, 1, 10)).rows.map((r) => r.acceptsRentals)).to.deep.equal([false, false, true, false]);
      await expectSameAsGetNodes(c);
    });

    it("equal getNodes' views before, inside and after a maintenance window", async () => {
      const c = await loadFixture(lensFixture);
      const start = (await time.latest()) + DAY + 100;
      const end = start + 2 * HOUR;
      await c.registry.connect(c.provider).announceMaintenance(c.node4, start, end);
      const seen: boolean[] = [];
      for (const t of [start - 1, start, end]) {
        await viewAt(t);
        const [r] = (await packedPage(c, c.node4, 1)).rows;
        expect([r.maintenanceStart, r.maintenanceEnd]).to.deep.equal([BigInt(start), BigInt(end)]);
        seen.push(r.acceptsRentals);
        await expectSameAsGetNodes(c);
      }
      expect(seen).to.deep.equal([true, false, true]);
    });
  });

  it("costs less gas than getNodes for the same page", async () => {
    const c = await loadFixture(lensFixture);
    const packed = await c.lens.getNodesPacked.estimateGas(1, 10);
    const views = await c.lens.getNodes.estimateGas(1, 10);
    expect(packed < views).to.equal(true);
  });
});
