import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { RentalStatus, Plan, USD_PRICE, KAI_PRICE, KAI, DAY, HOUR, registerNode } from "../fixtures";
import { lensFixture, rent, viewAt, GRACE, PAYG_DEPOSIT, PAYG_UNITS, H100_STAKE_PER_GPU } from "../helpers/escrow";

type Fixture = Awaited<ReturnType<typeof lensFixture>>;
type RentalRow = { rentalId: bigint };
type NodeRow = { nodeId: bigint };

const ids = (rows: readonly RentalRow[]) => rows.map((r) => r.rentalId);
const nodeIds = (rows: readonly NodeRow[]) => rows.map((n) => n.nodeId);
const acceptsRentals = async (c: Fixture, nodeId: bigint) => (await c.lens.getNodes(nodeId, 1))[0].acceptsRentals;

/** Two penalties on the provider: 100 KAI on node 1 (reason 7), then 50 KAI on node 2 (reason 3). */
async function penalizedFixture() {
  const c = await lensFixture();
  await c.registry
    .connect(c.oracle)
    .slash(c.provider.address, KAI(100), c.nodeId, 7, ethers.id("report-1"), c.treasury.address);
  const first = await time.latest();
  await c.registry
    .connect(c.oracle)
    .slash(c.provider.address, KAI(50), c.node2, 3, ethers.id("report-2"), c.treasury.address);
  return { ...c, first, second: await time.latest() };
}

describe("KaisarLens", () => {
  describe("getNodes", () => {
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
        expect(nodeIds(await c.lens.getNodes(firstId, limit))).to.deep.equal(expected);
      });
    }

    it("shows the node as stored by the registry", async () => {
      const c = await loadFixture(lensFixture);
      const [view] = await c.lens.getNodes(c.nodeId, 1);
      expect([view.node.provider, view.node.gpuCount, view.node.rentedGpus]).to.deep.equal([
        c.provider.address,
        8n,
        2n, // rentals 1 and 5
      ]);
    });

    it("counts free GPUs (8 - 2 rented)", async () => {
      const c = await loadFixture(lensFixture);
      expect((await c.lens.getNodes(c.nodeId, 1))[0].freeGpus).to.equal(6);
    });

    it("lists the escrow's payment tokens", async () => {
      const c = await loadFixture(lensFixture);
      expect((await c.lens.getNodes(c.nodeId, 1))[0].tokens).to.deep.equal([c.usdAddress, c.kaiAddress]);
    });

    it("gives the node's price per token, parallel to the tokens", async () => {
      const c = await loadFixture(lensFixture);
      expect((await c.lens.getNodes(c.nodeId, 1))[0].pricesPerGpuHour).to.deep.equal([USD_PRICE, KAI_PRICE]);
    });

    it("shows 0 for a token the node does not accept", async () => {
      const c = await loadFixture(lensFixture);
      await c.registry.connect(c.provider).setNodePrice(c.node4, c.kaiAddress, 0);
      expect((await c.lens.getNodes(c.node4, 1))[0].pricesPerGpuHour).to.deep.equal([USD_PRICE, 0n]);
    });
  });

  describe("getProviderNodes", () => {
    const pages = [
      { who: "provider", offset: 0, limit: 10, expected: [1n, 2n, 4n], label: "all of the provider's nodes" },
      { who: "provider", offset: 1, limit: 1, expected: [2n], label: "its second node" },
      { who: "provider", offset: 1, limit: 10, expected: [2n, 4n], label: "a clamped page" },
      { who: "provider", offset: 3, limit: 5, expected: [], label: "nothing past the end" },
      { who: "provider2", offset: 0, limit: 10, expected: [3n], label: "another provider's node" },
      { who: "other", offset: 0, limit: 10, expected: [], label: "nothing for an account without nodes" },
    ] as const;
    for (const { who, offset, limit, expected, label } of pages) {
      it(`returns ${label} (${who}, offset ${offset}, limit ${limit})`, async () => {
        const c = await loadFixture(lensFixture);
        expect(nodeIds(await c.lens.getProviderNodes(c[who].address, offset, limit))).to.deep.equal(expected);
      });
    }
  });

  describe("getRenterRentals", () => {
    it("returns the renter's rentals newest first", async () => {
      const c = await loadFixture(lensFixture);
      expect(ids((await c.lens.getRenterRentals(c.renter.address, 0, 10))[0])).to.deep.equal([4n, 3n, 1n]);
    });

    it("returns next = 0 when the scan reached id 1", async () => {
      const c = await loadFixture(lensFixture);
      const [, next] = await c.lens.getRenterRentals(c.renter.address, 0, 10);
      expect(next).to.equal(0);
    });

    it("returns another renter's rentals", async () => {
      const c = await loadFixture(lensFixture);
      expect(ids((await c.lens.getRenterRentals(c.renter2.address, 0, 10))[0])).to.deep.equal([5n, 2n]);
    });

    it("pages with next: scans of 2 ids find [4], then [3], then [1]", async () => {
      const c = await loadFixture(lensFixture);
      const pages: bigint[][] = [];
      const nexts: bigint[] = [];
      let before = 0n;
      do {
        const [rows, next] = await c.lens.getRenterRentals(c.renter.address, before, 2);
        pages.push(ids(rows));
        nexts.push(next);
        before = next;
      } while (before !== 0n);
      expect({ pages, nexts }).to.deep.equal({ pages: [[4n], [3n], [1n]], nexts: [4n, 2n, 0n] });
    });

    it("scans from the newest when beforeId is past the end", async () => {
      const c = await loadFixture(lensFixture);
      expect(ids((await c.lens.getRenterRentals(c.renter.address, 100, 10))[0])).to.deep.equal([4n, 3n, 1n]);
    });

    it("scans only below beforeId", async () => {
      const c = await loadFixture(lensFixture);
      expect(ids((await c.lens.getRenterRentals(c.renter.address, 4, 10))[0])).to.deep.equal([3n, 1n]);
    });

    it("scans one id for a scan limit of 0, so that paging on next always advances", async () => {
      const c = await loadFixture(lensFixture);
      const count = await c.escrow.rentalCount();
      const [rows, next] = await c.lens.getRenterRentals(c.renter.address, 0, 0);
      expect(rows.length, "at most the newest rental").to.be.at.most(1);
      expect(next, "next skips the scanned id").to.equal(count);
    });

    it("returns nothing, and next = 0, for an account that never rented", async () => {
      const c = await loadFixture(lensFixture);
      const [rows, next] = await c.lens.getRenterRentals(c.other.address, 0, 10);
      expect([rows.length, next]).to.deep.equal([0, 0n]);
    });

    it("returns nothing before the first rental exists", async () => {
      const c = await loadFixture(lensFixture);
      const fresh = await ethers.deployContract("KaisarLens", [
        await c.registry.getAddress(),
        await (
          await ethers.deployContract("RentalEscrow", [
            await c.registry.getAddress(),
            c.admin.address,
            c.treasury.address,
            c.rewardPool.address,
          ])
        ).getAddress(),
      ]);
      const [rows, next] = await fresh.getRenterRentals(c.renter.address, 0, 10);
      expect([rows.length, next]).to.deep.equal([0, 0n]);
    });

    describe("the live figures of a row", () => {
      async function rowOfRental1(c: Fixture, at: number) {
        await viewAt(at);
        const [rows] = await c.lens.getRenterRentals(c.renter.address, 2, 1);
        return rows[0];
      }

      it("carries the rental's token", async () => {
        const c = await loadFixture(lensFixture);
        const row = await rowOfRental1(c, c.rentals[0].anchor + 1_000);
        expect(row.token).to.equal(c.usdAddress);
      });

      it("shows withdrawable = 1_000 s x 556", async () => {
        const c = await loadFixture(lensFixture);
        const row = await rowOfRental1(c, c.rentals[0].anchor + 1_000);
        expect(row.withdrawable).to.equal(556_000);
      });

      it("shows refundable = 20_000_000 - 556_000", async () => {
        const c = await loadFixture(lensFixture);
        const row = await rowOfRental1(c, c.rentals[0].anchor + 1_000);
        expect(row.refundable).to.equal(19_444_000);
      });

      it("shows paidUntil and closableAt", async () => {
        const c = await loadFixture(lensFixture);
        const row = await rowOfRental1(c, c.rentals[0].anchor + 1_000);
        const paidUntil = c.rentals[0].anchor + PAYG_UNITS;
        expect([row.paidUntil, row.closableAt]).to.deep.equal([BigInt(paidUntil), BigInt(paidUntil + GRACE)]);
      });

      it("shows the stored rental", async () => {
        const c = await loadFixture(lensFixture);
        const row = await rowOfRental1(c, c.rentals[0].anchor + 1_000);
        expect([row.rental.renter, row.rental.amount, row.rental.plan]).to.deep.equal([
          c.renter.address,
          PAYG_DEPOSIT,
          BigInt(Plan.PayAsYouGo),
        ]);
      });
    });

    describe("a closed rental's row", () => {
      it("shows status Closed, 0 refundable and 0 closableAt", async () => {
        const c = await loadFixture(lensFixture);
        const [rows] = await c.lens.getRenterRentals(c.renter.address, 4, 1);
        expect([rows[0].rentalId, rows[0].rental.status, rows[0].refundable, rows[0].closableAt]).to.deep.equal([
          3n,
          BigInt(RentalStatus.Closed),
          0n,
          0n,
        ]);
      });

      it("shows the 50 s x 1_112 = 55_600 the provider has still to withdraw", async () => {
        const c = await loadFixture(lensFixture);
        const [rows] = await c.lens.getRenterRentals(c.renter.address, 4, 1);
        expect(rows[0].withdrawable).to.equal(55_600);
      });
    });
  });

  describe("getProviderRentals", () => {
    it("returns rentals on the provider's nodes newest first", async () => {
      const c = await loadFixture(lensFixture);
      expect(ids((await c.lens.getProviderRentals(c.provider.address, 0, 10))[0])).to.deep.equal([5n, 3n, 1n]);
    });

    it("returns another provider's rentals", async () => {
      const c = await loadFixture(lensFixture);
      expect(ids((await c.lens.getProviderRentals(c.provider2.address, 0, 10))[0])).to.deep.equal([4n, 2n]);
    });

    it("pages with next: scans of 3 ids find [5, 3], then [1]", async () => {
      const c = await loadFixture(lensFixture);
      const [first, next] = await c.lens.getProviderRentals(c.provider.address, 0, 3);
      const [second, last] = await c.lens.getProviderRentals(c.provider.address, next, 3);
      expect({ pages: [ids(first), ids(second)], nexts: [next, last] }).to.deep.equal({
        pages: [[5n, 3n], [1n]],
        nexts: [3n, 0n],
      });
    });

    it("returns nothing for an account without nodes", async () => {
      const c = await loadFixture(lensFixture);
      const [rows] = await c.lens.getProviderRentals(c.renter.address, 0, 10);
      expect(rows.length).to.equal(0);
    });
  });

  describe("getRentals", () => {
    it("returns the rentals asked for, in order", async () => {
      const c = await loadFixture(lensFixture);
      expect(ids(await c.lens.getRentals([4, 1, 99]))).to.deep.equal([4n, 1n, 99n]);
    });

    it("returns an unknown id with status None and zero figures", async () => {
      const c = await loadFixture(lensFixture);
      const [row] = await c.lens.getRentals([99]);
      expect([
        row.rental.status,
        row.rental.renter,
        row.token,
        row.withdrawable,
        row.refundable,
        row.paidUntil,
        row.closableAt,
      ]).to.deep.equal([BigInt(RentalStatus.None), ethers.ZeroAddress, ethers.ZeroAddress, 0n, 0n, 0n, 0n]);
    });

    it("shows a saving plan's term end as paidUntil and closableAt", async () => {
      const c = await loadFixture(lensFixture);
      const [row] = await c.lens.getRentals([4]);
      const end = BigInt(c.rentals[3].anchor + 7 * DAY);
      expect([row.paidUntil, row.closableAt]).to.deep.equal([end, end]);
    });

    it("shows an hourly rental's paid hours", async () => {
      const c = await loadFixture(lensFixture);
      const [row] = await c.lens.getRentals([2]);
      expect(row.paidUntil).to.equal(c.rentals[1].anchor + 5 * HOUR);
    });

    it("returns nothing for no ids", async () => {
      const c = await loadFixture(lensFixture);
      expect((await c.lens.getRentals([])).length).to.equal(0);
    });
  });

  describe("getProvider", () => {
    it("shows the stake and what it must cover (30,000 KAI each)", async () => {
      const c = await loadFixture(lensFixture);
      const view = await c.lens.getProvider(c.provider.address);
      expect([view.stake.staked, view.requiredStake]).to.deep.equal([KAI(30_000), KAI(30_000)]);
    });

    it("counts the provider's 3 nodes and no penalty", async () => {
      const c = await loadFixture(lensFixture);
      const view = await c.lens.getProvider(c.provider.address);
      expect([view.nodeCount, view.penaltyCount]).to.deep.equal([3n, 0n]);
    });

    it("shows the stake locked by a saving plan (1 H100: 3,000 KAI)", async () => {
      const c = await loadFixture(lensFixture);
      expect((await c.lens.getProvider(c.provider2.address)).lockedStake).to.equal(H100_STAKE_PER_GPU);
    });

    it("counts penalties and shows the slashed stake", async () => {
      const c = await loadFixture(penalizedFixture);
      const view = await c.lens.getProvider(c.provider.address);
      expect([view.penaltyCount, view.stake.staked]).to.deep.equal([2n, KAI(30_000 - 150)]);
    });

    it("shows an empty record for an unknown account", async () => {
      const c = await loadFixture(lensFixture);
      const view = await c.lens.getProvider(c.other.address);
      expect([view.stake.staked, view.requiredStake, view.nodeCount]).to.deep.equal([0n, 0n, 0n]);
    });
  });

  describe("getPenalties", () => {
    it("returns both penalties in order with their details", async () => {
      const c = await loadFixture(penalizedFixture);
      const page = await c.lens.getPenalties(c.provider.address, 0, 10);
      // `p.at` is shadowed by Array.prototype.at on ethers' Result: read the field by position.
      expect(page.map((p) => [p.amount, p[1], p.reason, p.nodeId, p.evidence])).to.deep.equal([
        [KAI(100), BigInt(c.first), 7n, c.nodeId, ethers.id("report-1")],
        [KAI(50), BigInt(c.second), 3n, c.node2, ethers.id("report-2")],
      ]);
    });

    it("pages from an offset", async () => {
      const c = await loadFixture(penalizedFixture);
      const page = await c.lens.getPenalties(c.provider.address, 1, 10);
      expect(page.map((p) => p.amount)).to.deep.equal([KAI(50)]);
    });

    it("limits the page", async () => {
      const c = await loadFixture(penalizedFixture);
      const page = await c.lens.getPenalties(c.provider.address, 0, 1);
      expect(page.map((p) => p.amount)).to.deep.equal([KAI(100)]);
    });

    it("returns nothing past the end", async () => {
      const c = await loadFixture(penalizedFixture);
      expect((await c.lens.getPenalties(c.provider.address, 2, 10)).length).to.equal(0);
    });

    it("returns nothing for a provider never penalized", async () => {
      const c = await loadFixture(penalizedFixture);
      expect((await c.lens.getPenalties(c.provider2.address, 0, 10)).length).to.equal(0);
    });
  });

  describe("acceptsRentals", () => {
    it("is true for an active, staked node with free GPUs", async () => {
      const c = await loadFixture(lensFixture);
      expect(await acceptsRentals(c, c.nodeId)).to.equal(true);
    });

    it("is false for a paused node", async () => {
      const c = await loadFixture(lensFixture);
      await c.registry.connect(c.provider).pauseNode(c.nodeId);
      expect(await acceptsRentals(c, c.nodeId)).to.equal(false);
    });

    it("is false for a jailed node", async () => {
      const c = await loadFixture(lensFixture);
      await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true);
      expect(await acceptsRentals(c, c.nodeId)).to.equal(false);
    });

    it("is false for a retired node", async () => {
      const c = await loadFixture(lensFixture);
      await c.registry.connect(c.provider).retireNode(c.node4);
      expect(await acceptsRentals(c, c.node4)).to.equal(false);
    });

    it("is false when the provider is under-staked (a new node raised its requirement)", async () => {
      const c = await loadFixture(lensFixture);
      await registerNode(c);
      expect(await acceptsRentals(c, c.nodeId)).to.equal(false);
    });

    it("is false when a slash leaves the provider under-staked", async () => {
      const c = await loadFixture(penalizedFixture);
      expect(await acceptsRentals(c, c.node4)).to.equal(false);
    });

    it("is false for a fully rented node", async () => {
      const c = await loadFixture(lensFixture);
      await rent({ ...c, nodeId: c.node2 }, { gpus: 2, deposit: PAYG_DEPOSIT });
      expect(await acceptsRentals(c, c.node2)).to.equal(false);
    });

    it("agrees with the escrow for a fully rented node: renting reverts", async () => {
      const c = await loadFixture(lensFixture);
      await rent({ ...c, nodeId: c.node2 }, { gpus: 2, deposit: PAYG_DEPOSIT });
      await expect(rent({ ...c, nodeId: c.node2 }, { gpus: 1, deposit: PAYG_DEPOSIT }))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_NotEnoughFreeGpus")
        .withArgs(c.node2, 1, 0);
    });

    describe("given a maintenance window on node 4", () => {
      async function maintenanceFixture() {
        const c = await lensFixture();
        const start = (await time.latest()) + DAY + 100;
        const end = start + 2 * HOUR;
        await c.registry.connect(c.provider).announceMaintenance(c.node4, start, end);
        return { ...c, start, end };
      }

      it("is true before it starts", async () => {
        const c = await loadFixture(maintenanceFixture);
        await viewAt(c.start - 1);
        expect(await acceptsRentals(c, c.node4)).to.equal(true);
      });

      it("is false inside it", async () => {
        const c = await loadFixture(maintenanceFixture);
        await viewAt(c.start);
        expect(await acceptsRentals(c, c.node4)).to.equal(false);
      });

      it("is true again from its end", async () => {
        const c = await loadFixture(maintenanceFixture);
        await viewAt(c.end);
        expect(await acceptsRentals(c, c.node4)).to.equal(true);
      });
    });
  });
});
