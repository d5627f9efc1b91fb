import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import {
  Plan,
  RentalStatus,
  CloseReason,
  NodeStatus,
  USD,
  USD_PRICE,
  KAI,
  DAY,
  HOUR,
  registerNode,
} from "../../fixtures";
import {
  escrowFixture,
  payAsYouGoFixture,
  params,
  rent,
  listToken,
  H100_STAKE_PER_GPU,
  PAYG_RATE,
  PAYG_DEPOSIT,
  PAYG_UNITS,
  HOURLY_RATE,
  HOURLY_DEPOSIT,
  HOURLY_HOURS,
  UINT32_MAX,
  UINT96_MAX,
  type EscrowFixture,
  revertsAmountTooLarge,
  KAI_PAYG_RATE,
} from "../../helpers/escrow";

/** Sets the fixture node's USD price per GPU-hour to `price`. */
async function withUsdPrice(c: EscrowFixture, price: bigint) {
  await c.registry.connect(c.provider).setNodePrice(c.nodeId, c.usdAddress, price);
}

describe("RentalEscrow.rent", () => {
  describe("given the escrow is paused", () => {
    async function pausedEscrowFixture() {
      const c = await escrowFixture();
      await c.escrow.connect(c.guardian).pause();
      return c;
    }

    it("reverts with RentalEscrow_Paused", async () => {
      const c = await loadFixture(pausedEscrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c))).to.be.revertedWithCustomError(
        c.escrow,
        "RentalEscrow_Paused",
      );
    });

    it("rents again once unpaused", async () => {
      const c = await loadFixture(pausedEscrowFixture);
      await c.escrow.connect(c.guardian).unpause();
      await expect(c.escrow.connect(c.renter).rent(await params(c))).to.emit(c.escrow, "OpenRental");
    });
  });

  describe("when the GPU count is out of range", () => {
    for (const gpus of [0, 256]) {
      it(`reverts with RentalEscrow_InvalidGpuCount for ${gpus} GPUs`, async () => {
        const c = await loadFixture(escrowFixture);
        await expect(c.escrow.connect(c.renter).rent(await params(c, { gpus })))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_InvalidGpuCount")
          .withArgs(gpus);
      });
    }
  });

  describe("when the SLA tier does not exist", () => {
    it("reverts with RentalEscrow_UnknownSlaTier(tier, count)", async () => {
      const c = await loadFixture(escrowFixture);
      // Tiers 0 (best effort), 1 (99.9%) and 2 (99.5%) exist.
      await expect(c.escrow.connect(c.renter).rent(await params(c, { slaTier: 3 })))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownSlaTier")
        .withArgs(3, 3);
    });
  });

  describe("when the term does not fit the plan", () => {
    const cases = [
      { plan: Plan.Saving, termDays: 0, label: "a saving plan without a term" },
      { plan: Plan.Saving, termDays: 14, label: "a saving plan of 14 days" },
      { plan: Plan.PayAsYouGo, termDays: 7, label: "pay-as-you-go with a term" },
      { plan: Plan.Hourly, termDays: 30, label: "hourly with a term" },
    ];
    for (const { plan, termDays, label } of cases) {
      it(`reverts with RentalEscrow_InvalidTerm for ${label}`, async () => {
        const c = await loadFixture(escrowFixture);
        const deposit = plan === Plan.Saving ? 0n : PAYG_DEPOSIT;
        await expect(c.escrow.connect(c.renter).rent(await params(c, { plan, termDays, deposit })))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_InvalidTerm")
          .withArgs(plan, termDays);
      });
    }
  });

  describe("when the token is not allowed", () => {
    it("reverts with RentalEscrow_TokenNotAllowed for a token never allow-listed", async () => {
      const c = await loadFixture(escrowFixture);
      const token = await ethers.deployContract("MockERC20", ["Other", "OTH", 6]);
      const address = await token.getAddress();
      await expect(c.escrow.connect(c.renter).rent(await params(c, { token: address })))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_TokenNotAllowed")
        .withArgs(address);
    });

    it("reverts with RentalEscrow_TokenNotAllowed for a disabled token", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setPaymentTokenEnabled(c.usdAddress, false);
      await expect(c.escrow.connect(c.renter).rent(await params(c)))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_TokenNotAllowed")
        .withArgs(c.usdAddress);
    });
  });

  describe("given the node cannot take the rental (registry errors bubble up)", () => {
    it("reverts with NodeRegistry_UnknownNode for an unknown node", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c, { nodeId: 99n })))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_UnknownNode")
        .withArgs(99);
    });

    it("reverts with NodeRegistry_InvalidNodeStatus for a paused node", async () => {
      const c = await loadFixture(escrowFixture);
      await c.registry.connect(c.provider).pauseNode(c.nodeId);
      await expect(c.escrow.connect(c.renter).rent(await params(c)))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Paused);
    });

    it("reverts with NodeRegistry_InvalidNodeStatus for a jailed node", async () => {
      const c = await loadFixture(escrowFixture);
      await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true);
      await expect(c.escrow.connect(c.renter).rent(await params(c)))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Jailed);
    });

    it("reverts with NodeRegistry_InvalidNodeStatus for a retired node", async () => {
      const c = await loadFixture(escrowFixture);
      await c.registry.connect(c.provider).retireNode(c.nodeId);
      await expect(c.escrow.connect(c.renter).rent(await params(c)))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Retired);
    });

    describe("given a maintenance window is announced", () => {
      async function maintenanceFixture() {
        const c = await escrowFixture();
        const start = (await time.latest()) + DAY + 100;
        const end = start + 2 * HOUR;
        await c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, end);
        return { ...c, start, end };
      }

      it("rents before the window starts", async () => {
        const c = await loadFixture(maintenanceFixture);
        await time.setNextBlockTimestamp(c.start - 1);
        await expect(c.escrow.connect(c.renter).rent(await params(c))).to.emit(c.escrow, "OpenRental");
      });

      it("reverts with NodeRegistry_InMaintenance(nodeId, end) inside the window", async () => {
        const c = await loadFixture(maintenanceFixture);
        const p = await params(c);
        await time.setNextBlockTimestamp(c.start);
        await expect(c.escrow.connect(c.renter).rent(p))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InMaintenance")
          .withArgs(c.nodeId, c.end);
      });

      it("rents again from the end of the window", async () => {
        const c = await loadFixture(maintenanceFixture);
        const p = await params(c);
        await time.setNextBlockTimestamp(c.end);
        await expect(c.escrow.connect(c.renter).rent(p)).to.emit(c.escrow, "OpenRental");
      });
    });

    it("reverts with NodeRegistry_InsufficientStake when the provider is under-staked", async () => {
      const c = await loadFixture(escrowFixture);
      // A second 8xH100 node doubles the requirement: 2 x 8 x 3,000 KAI; 24,000 KAI staked.
      await registerNode(c);
      await expect(c.escrow.connect(c.renter).rent(await params(c)))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InsufficientStake")
        .withArgs(c.provider.address, KAI(24_000), KAI(48_000));
    });

    it("reverts with NodeRegistry_NotEnoughFreeGpus when asking for more GPUs than the node has", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c, { gpus: 9 })))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_NotEnoughFreeGpus")
        .withArgs(c.nodeId, 9, 8);
    });

    it("reverts with NodeRegistry_NotEnoughFreeGpus when other rentals hold the GPUs", async () => {
      const c = await loadFixture(escrowFixture);
      await rent(c, { gpus: 6, deposit: USD(100) });
      await expect(c.escrow.connect(c.renter2).rent(await params(c, { gpus: 3 })))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_NotEnoughFreeGpus")
        .withArgs(c.nodeId, 3, 2);
    });

    it("reverts with NodeRegistry_TokenNotAccepted for an allow-listed token the node has no price in", async () => {
      const c = await loadFixture(escrowFixture);
      const token = await ethers.deployContract("MockERC20", ["Euro", "EURC", 6]);
      const address = await token.getAddress();
      await c.escrow.allowPaymentToken(address);
      await expect(c.escrow.connect(c.renter).rent(await params(c, { token: address })))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_TokenNotAccepted")
        .withArgs(c.nodeId, address);
    });

    it("reverts with NodeRegistry_TokenNotAccepted once the node's price in the token is 0", async () => {
      const c = await loadFixture(escrowFixture);
      await withUsdPrice(c, 0n);
      await expect(c.escrow.connect(c.renter).rent(await params(c)))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_TokenNotAccepted")
        .withArgs(c.nodeId, c.usdAddress);
    });
  });

  describe("when the node's price is above the renter's cap", () => {
    it("reverts with RentalEscrow_PriceAboveCap(nodeId, price, maxPrice)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c, { maxPricePerGpuHour: USD_PRICE - 1n })))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_PriceAboveCap")
        .withArgs(c.nodeId, USD_PRICE, USD_PRICE - 1n);
    });

    it("rents when the price equals the cap", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c, { maxPricePerGpuHour: USD_PRICE }))).to.emit(
        c.escrow,
        "OpenRental",
      );
    });
  });

  describe("when the first deposit does not pay for the grace period (1 hour)", () => {
    it("attack 5: a dust deposit (one second of 8 GPUs) cannot hold the node for the grace period", async () => {
      const c = await loadFixture(escrowFixture);
      // 8 GPUs at USD 2: 16_000_000 per hour = 4_445 per second (rounded up); 3_600 s of grace.
      await expect(c.escrow.connect(c.renter).rent(await params(c, { gpus: 8, deposit: 4_445n })))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_DepositBelowGrace")
        .withArgs(4_445, 4_445 * 3_600);
    });

    it("reverts with RentalEscrow_DepositBelowGrace(deposit, 556 x 3_600) for pay-as-you-go", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c, { deposit: PAYG_RATE * 3_600n - 1n })))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_DepositBelowGrace")
        .withArgs(2_001_599, 2_001_600);
    });

    it("reverts with RentalEscrow_DepositBelowGrace(deposit, one hour) for hourly", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c, { plan: Plan.Hourly, deposit: HOURLY_RATE - 1n })))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_DepositBelowGrace")
        .withArgs(1_999_999, 2_000_000);
    });

    it("rents exactly the grace period for a pay-as-you-go deposit of 556 x 3_600", async () => {
      const c = await loadFixture(escrowFixture);
      const { rentalId, anchor } = await rent(c, { deposit: PAYG_RATE * 3_600n });
      expect(await c.escrow.paidUntil(rentalId)).to.equal(anchor + 3_600);
    });

    it("follows the grace period of the current terms, rounded up to whole hours for hourly", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setGracePeriod(HOUR + 1);
      await expect(c.escrow.connect(c.renter).rent(await params(c, { plan: Plan.Hourly, deposit: HOURLY_RATE })))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_DepositBelowGrace")
        .withArgs(HOURLY_RATE, 2n * HOURLY_RATE);
      await c.escrow.setGracePeriod(300);
      const { rentalId, anchor } = await rent(c, { deposit: PAYG_RATE * 300n });
      expect(await c.escrow.paidUntil(rentalId)).to.equal(anchor + 300);
    });
  });

  describe("when a price floor is set for the node's GPU class", () => {
    it("attack 3: price floor refuses a node priced below it (a wash rental at dust prices)", async () => {
      const c = await loadFixture(escrowFixture);
      await withUsdPrice(c, 1n); // 1 unit per GPU-hour
      await c.escrow.setPriceFloor(0, c.usdAddress, USD(1));
      await expect(c.escrow.connect(c.renter).rent(await params(c, { plan: Plan.Saving, termDays: 7, deposit: 0n })))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_PriceBelowFloor")
        .withArgs(c.nodeId, 1, USD(1));
    });

    it("attack 3: price floor applies to rentWithPermit too", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setPriceFloor(0, c.usdAddress, USD_PRICE + 1n);
      await expect(c.escrow.connect(c.renter).rentWithPermit(await params(c), 0, 0, ethers.ZeroHash, ethers.ZeroHash))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_PriceBelowFloor")
        .withArgs(c.nodeId, USD_PRICE, USD_PRICE + 1n);
    });

    it("rents at a price equal to the floor", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setPriceFloor(0, c.usdAddress, USD_PRICE);
      const { rentalId } = await rent(c);
      expect(rentalId).to.equal(1n);
    });

    it("ignores floors of other GPU classes and other tokens, and a floor set back to 0", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setPriceFloor(1, c.usdAddress, USD_PRICE * 10n); // the RTX class
      await c.escrow.setPriceFloor(0, c.kaiAddress, KAI(1_000)); // H100 in KAI
      await rent(c);
      await c.escrow.setPriceFloor(0, c.usdAddress, USD_PRICE * 10n);
      await c.escrow.setPriceFloor(0, c.usdAddress, 0);
      await rent(c);
      expect(await c.escrow.rentalCount()).to.equal(2n);
    });
  });

  describe("when a saving plan comes with a deposit", () => {
    it("reverts with RentalEscrow_InvalidDeposit(deposit, 0)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c, { plan: Plan.Saving, termDays: 7, deposit: 1n })))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_InvalidDeposit")
        .withArgs(1, 0);
    });
  });

  describe("when an amount does not fit the packed storage", () => {
    it("reverts with RentalEscrow_AmountTooLarge when a pay-as-you-go deposit buys more than 2^32-1 seconds", async () => {
      const c = await loadFixture(escrowFixture);
      const max = PAYG_RATE * UINT32_MAX; // units are counted in 32 bits
      await revertsAmountTooLarge(
        c,
        c.escrow.connect(c.renter).rent(await params(c, { deposit: max + 1n })),
        max + 1n,
        max,
      );
    });

    it("accepts a pay-as-you-go deposit of exactly 2^32-1 seconds", async () => {
      const c = await loadFixture(escrowFixture);
      const max = PAYG_RATE * UINT32_MAX;
      await c.usd.mint(c.renter.address, max);
      const { rentalId, anchor } = await rent(c, { deposit: max });
      expect(await c.escrow.paidUntil(rentalId)).to.equal(BigInt(anchor) + UINT32_MAX);
    });

    it("reverts with RentalEscrow_AmountTooLarge when an hourly deposit buys more than 2^32-1 hours", async () => {
      const c = await loadFixture(escrowFixture);
      const max = HOURLY_RATE * UINT32_MAX;
      await revertsAmountTooLarge(
        c,
        c.escrow.connect(c.renter).rent(await params(c, { plan: Plan.Hourly, deposit: max + 1n })),
        max + 1n,
        max,
      );
    });

    it("reverts with RentalEscrow_AmountTooLarge when a deposit exceeds 2^96-1", async () => {
      const c = await loadFixture(escrowFixture);
      // KAI hourly: 20e18 per hour; 2^96-1 buys only ~3.96e9 hours, so the 96-bit bound binds.
      const p = await params(c, {
        token: c.kaiAddress,
        plan: Plan.Hourly,
        deposit: UINT96_MAX + 1n,
        maxPricePerGpuHour: KAI(20),
      });
      await revertsAmountTooLarge(c, c.escrow.connect(c.renter).rent(p), UINT96_MAX + 1n, UINT96_MAX);
    });

    for (const { plan, price, label } of [
      { plan: Plan.Hourly, price: 2n ** 96n, label: "an hourly" },
      { plan: Plan.PayAsYouGo, price: 3600n * 2n ** 96n, label: "a pay-as-you-go" },
      { plan: Plan.Saving, price: 2n ** 96n, label: "a saving" },
    ]) {
      it(`reverts with RentalEscrow_AmountTooLarge when ${label} unit price exceeds 2^96-1`, async () => {
        const c = await loadFixture(escrowFixture);
        await withUsdPrice(c, price);
        const saving = plan === Plan.Saving;
        const p = await params(c, {
          plan,
          termDays: saving ? 7 : 0,
          deposit: saving ? 0n : UINT96_MAX,
          maxPricePerGpuHour: price,
        });
        // The price itself is over 96 bits: refused before any multiplication.
        await revertsAmountTooLarge(c, c.escrow.connect(c.renter).rent(p), price, UINT96_MAX);
      });
    }

    it("reverts with RentalEscrow_AmountTooLarge when a saving deposit exceeds 2^96-1", async () => {
      const c = await loadFixture(escrowFixture);
      const price = 10n ** 26n;
      await withUsdPrice(c, price);
      // 90 days at 30% off: 7e25 per hour x 24 x 90 = 1.512e29 > 2^96-1 (~7.92e28).
      const p = await params(c, { plan: Plan.Saving, termDays: 90, deposit: 0n, maxPricePerGpuHour: price });
      await revertsAmountTooLarge(
        c,
        c.escrow.connect(c.renter).rent(p),
        151_200_000_000_000_000_000_000_000_000n,
        UINT96_MAX,
      );
    });

    it("reverts with RentalEscrow_AmountTooLarge(price, 2^96-1) when price x gpus would overflow 256 bits", async () => {
      const c = await loadFixture(escrowFixture);
      await withUsdPrice(c, 2n ** 255n);
      const p = await params(c, { plan: Plan.Hourly, gpus: 2, maxPricePerGpuHour: 2n ** 255n });
      await revertsAmountTooLarge(c, c.escrow.connect(c.renter).rent(p), 2n ** 255n, UINT96_MAX);
    });

    it("reverts with RentalEscrow_AmountTooLarge(perHour, 2^96-1) when an hourly unit price (price x gpus) exceeds 96 bits", async () => {
      const c = await loadFixture(escrowFixture);
      await withUsdPrice(c, 2n ** 95n);
      const p = await params(c, { plan: Plan.Hourly, gpus: 2, deposit: UINT96_MAX, maxPricePerGpuHour: 2n ** 95n });
      await revertsAmountTooLarge(c, c.escrow.connect(c.renter).rent(p), 2n ** 96n, UINT96_MAX);
    });
  });

  describe("when the renter has not approved the escrow", () => {
    it("reverts with the token's ERC20InsufficientAllowance", async () => {
      const c = await loadFixture(escrowFixture);
      const stranger = (await ethers.getSigners())[15];
      await c.usd.mint(stranger.address, PAYG_DEPOSIT);
      await expect(c.escrow.connect(stranger).rent(await params(c)))
        .to.be.revertedWithCustomError(c.usd, "ERC20InsufficientAllowance")
        .withArgs(c.escrowAddress, 0, PAYG_DEPOSIT);
    });
  });

  describe("when renting pay-as-you-go (1 GPU at USD 2/h, USD 20)", () => {
    it("emits OpenRental with a per-second unit price of ceil(2_000_000 / 3600) = 556", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c)))
        .to.emit(c.escrow, "OpenRental")
        .withArgs(1, c.renter.address, c.nodeId, c.usdAddress, Plan.PayAsYouGo, 1, 556, PAYG_DEPOSIT, 0, 0);
    });

    it("moves the deposit from the renter to the escrow", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c))).to.changeTokenBalances(
        c.usd,
        [c.renter, c.provider, c.escrow, c.treasury],
        [-PAYG_DEPOSIT, 0, PAYG_DEPOSIT, 0],
      );
    });

    it("stores the rental", async () => {
      const c = await loadFixture(escrowFixture);
      const { rentalId, anchor } = await rent(c);
      const r = await c.escrow.getRental(rentalId);
      expect([...r]).to.deep.equal([
        c.renter.address,
        c.nodeId,
        1n, // gpus
        0n, // token index (USD)
        BigInt(Plan.PayAsYouGo),
        BigInt(RentalStatus.Active),
        BigInt(CloseReason.None),
        0n, // SLA tier
        0n, // terms version
        PAYG_DEPOSIT,
        PAYG_RATE,
        BigInt(anchor),
        0n, // withdrawn units
      ]);
    });

    it("is paid for floor(20_000_000 / 556) = 35_971 seconds", async () => {
      const c = await loadFixture(escrowFixture);
      const { rentalId, anchor } = await rent(c);
      expect(await c.escrow.paidUntil(rentalId)).to.equal(anchor + PAYG_UNITS);
    });

    it("returns id 1 for the first rental", async () => {
      const c = await loadFixture(escrowFixture);
      expect(await c.escrow.connect(c.renter).rent.staticCall(await params(c))).to.equal(1);
    });

    it("numbers the next rental 2", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      const { rentalId } = await rent(c, {}, c.renter2);
      expect(rentalId).to.equal(2);
    });

    it("counts the rental", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      expect(await c.escrow.rentalCount()).to.equal(1);
    });

    it("reserves the GPU on the node", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus).to.equal(1);
    });

    it("locks no stake", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      expect(await c.registry.lockedStake(c.provider.address)).to.equal(0);
    });

    it("rounds the per-second price up: 3 GPUs at 1_234_567 per GPU-hour cost 1_029 per second", async () => {
      const c = await loadFixture(escrowFixture);
      await withUsdPrice(c, 1_234_567n);
      // 3 x 1_234_567 = 3_703_701 per hour; / 3600 = 1_028.8... -> 1_029.
      await expect(c.escrow.connect(c.renter).rent(await params(c, { gpus: 3 })))
        .to.emit(c.escrow, "OpenRental")
        .withArgs(1, c.renter.address, c.nodeId, c.usdAddress, Plan.PayAsYouGo, 3, 1_029, PAYG_DEPOSIT, 0, 0);
    });

    it("prices an 18-decimal token: 20 KAI per hour is 5_555_555_555_555_556 per second", async () => {
      const c = await loadFixture(escrowFixture);
      const p = await params(c, { token: c.kaiAddress, deposit: KAI(100), maxPricePerGpuHour: KAI(20) });
      await expect(c.escrow.connect(c.renter).rent(p))
        .to.emit(c.escrow, "OpenRental")
        .withArgs(1, c.renter.address, c.nodeId, c.kaiAddress, Plan.PayAsYouGo, 1, KAI_PAYG_RATE, KAI(100), 0, 0);
    });

    it("stores the token index of the token paid in (KAI is index 1)", async () => {
      const c = await loadFixture(escrowFixture);
      const { rentalId } = await rent(c, { token: c.kaiAddress, deposit: KAI(100), maxPricePerGpuHour: KAI(20) });
      expect((await c.escrow.getRental(rentalId)).tokenIndex).to.equal(1);
    });

    it("records the SLA tier chosen", async () => {
      const c = await loadFixture(escrowFixture);
      const { rentalId } = await rent(c, { slaTier: 2 });
      expect((await c.escrow.getRental(rentalId)).slaTier).to.equal(2);
    });

    it("emits the SLA tier chosen", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c, { slaTier: 2 })))
        .to.emit(c.escrow, "OpenRental")
        .withArgs(1, c.renter.address, c.nodeId, c.usdAddress, Plan.PayAsYouGo, 1, 556, PAYG_DEPOSIT, 0, 2);
    });

    it("snapshots the terms version in force", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setFeeBps(500);
      const { rentalId } = await rent(c);
      expect((await c.escrow.getRental(rentalId)).termsVersion).to.equal(1);
    });
  });

  describe("when renting hourly (USD 11: 5 hours and 1_000_000 over)", () => {
    const hourly = { plan: Plan.Hourly, deposit: HOURLY_DEPOSIT };

    it("emits OpenRental with a unit price of 2_000_000 per hour", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c, hourly)))
        .to.emit(c.escrow, "OpenRental")
        .withArgs(1, c.renter.address, c.nodeId, c.usdAddress, Plan.Hourly, 1, 2_000_000, HOURLY_DEPOSIT, 0, 0);
    });

    it("moves the whole deposit, remainder included, to the escrow", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c, hourly))).to.changeTokenBalances(
        c.usd,
        [c.renter, c.provider, c.escrow, c.treasury],
        [-HOURLY_DEPOSIT, 0, HOURLY_DEPOSIT, 0],
      );
    });

    it("is paid for 5 whole hours", async () => {
      const c = await loadFixture(escrowFixture);
      const { rentalId, anchor } = await rent(c, hourly);
      expect(await c.escrow.paidUntil(rentalId)).to.equal(anchor + HOURLY_HOURS * HOUR);
    });

    it("charges per GPU: 4 GPUs cost 8_000_000 per hour", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.renter).rent(await params(c, { ...hourly, gpus: 4 })))
        .to.emit(c.escrow, "OpenRental")
        .withArgs(1, c.renter.address, c.nodeId, c.usdAddress, Plan.Hourly, 4, 8_000_000, HOURLY_DEPOSIT, 0, 0);
    });

    it("locks no stake", async () => {
      const c = await loadFixture(escrowFixture);
      await rent(c, hourly);
      expect(await c.registry.lockedStake(c.provider.address)).to.equal(0);
    });
  });

  describe("when renting on a saving plan", () => {
    // 1 GPU at 2_000_000 per hour; discounts 5% / 15% / 30%.
    const terms = [
      { termDays: 7, unitPrice: 1_900_000n, deposit: 319_200_000n }, // 1_900_000 x 24 x 7
      { termDays: 30, unitPrice: 1_700_000n, deposit: 1_224_000_000n }, // 1_700_000 x 24 x 30
      { termDays: 90, unitPrice: 1_400_000n, deposit: 3_024_000_000n }, // 1_400_000 x 24 x 90
    ];
    for (const { termDays, unitPrice, deposit } of terms) {
      describe(`of ${termDays} days`, () => {
        const saving = { plan: Plan.Saving, termDays, deposit: 0n };

        it(`emits OpenRental with the discounted hourly price ${unitPrice} and deposit ${deposit}`, async () => {
          const c = await loadFixture(escrowFixture);
          await expect(c.escrow.connect(c.renter).rent(await params(c, saving)))
            .to.emit(c.escrow, "OpenRental")
            .withArgs(1, c.renter.address, c.nodeId, c.usdAddress, Plan.Saving, 1, unitPrice, deposit, termDays, 0);
        });

        it(`pulls the prepaid ${deposit}`, async () => {
          const c = await loadFixture(escrowFixture);
          await expect(c.escrow.connect(c.renter).rent(await params(c, saving))).to.changeTokenBalances(
            c.usd,
            [c.renter, c.provider, c.escrow, c.treasury],
            [-deposit, 0, deposit, 0],
          );
        });

        it(`runs until the end of the ${termDays}-day term`, async () => {
          const c = await loadFixture(escrowFixture);
          const { rentalId, anchor } = await rent(c, saving);
          expect(await c.escrow.paidUntil(rentalId)).to.equal(anchor + termDays * DAY);
        });
      });
    }

    it("locks the stake that backs the GPUs: 3,000 KAI per H100", async () => {
      const c = await loadFixture(escrowFixture);
      await rent(c, { plan: Plan.Saving, termDays: 7, deposit: 0n, gpus: 2 });
      expect(await c.registry.lockedStake(c.provider.address)).to.equal(H100_STAKE_PER_GPU * 2n);
    });

    it("rounds the discount down: 3 GPUs at 1_234_567 for 7 days cost 3_518_516 per hour", async () => {
      const c = await loadFixture(escrowFixture);
      await withUsdPrice(c, 1_234_567n);
      // 3_703_701 per hour; 5% = 185_185.05 -> 185_185; 3_518_516 x 168 hours = 591_110_688.
      await expect(
        c.escrow.connect(c.renter).rent(await params(c, { plan: Plan.Saving, termDays: 7, deposit: 0n, gpus: 3 })),
      )
        .to.emit(c.escrow, "OpenRental")
        .withArgs(1, c.renter.address, c.nodeId, c.usdAddress, Plan.Saving, 3, 3_518_516, 591_110_688, 7, 0);
    });

    it("uses the discount in force when it opens", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setSavingDiscount(7, 2_000);
      // 2_000_000 - 20% = 1_600_000; x 168 = 268_800_000.
      await expect(c.escrow.connect(c.renter).rent(await params(c, { plan: Plan.Saving, termDays: 7, deposit: 0n })))
        .to.emit(c.escrow, "OpenRental")
        .withArgs(1, c.renter.address, c.nodeId, c.usdAddress, Plan.Saving, 1, 1_600_000, 268_800_000, 7, 0);
    });
  });

  describe("when a token with its own price is used", () => {
    it("charges the node's price in that token", async () => {
      const c = await loadFixture(escrowFixture);
      const token = await ethers.deployContract("MockERC20", ["Euro", "EURC", 6]);
      const address = await listToken(c, await token.getAddress(), USD(3));
      // 3_000_000 per hour -> 834 per second (3600 x 833 = 2_998_800).
      await expect(c.escrow.connect(c.renter).rent(await params(c, { token: address, maxPricePerGpuHour: USD(3) })))
        .to.emit(c.escrow, "OpenRental")
        .withArgs(1, c.renter.address, c.nodeId, address, Plan.PayAsYouGo, 1, 834, PAYG_DEPOSIT, 0, 0);
    });
  });
});
