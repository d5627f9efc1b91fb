import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { CloseReason, RentalStatus, HOUR } from "../../fixtures";
import {
  payAsYouGoFixture,
  hourlyFixture,
  savingFixture,
  depletedPayAsYouGoFixture,
  closedPayAsYouGoFixture,
  feesAccruedFixture,
  pausedFixture,
  blocklistFixture,
  at,
  params,
  PAYG_DEPOSIT,
  PAYG_REMAINDER,
  HOURLY_REMAINDER,
  SAVING_DEPOSIT,
  SAVING_TERM,
} from "../../helpers/escrow";

type Fixture = Awaited<ReturnType<typeof payAsYouGoFixture>>;
const end = (c: Fixture, offset: number, who: "renter" | "provider") =>
  at(c.anchor + offset, () => c.escrow.connect(c[who]).endRental(c.rentalId));

describe("RentalEscrow.endRental", () => {
  describe("given a pay-as-you-go rental 100 seconds in (100 x 556 = 55_600 earned)", () => {
    describe("when the renter ends it", () => {
      it("emits CloseRental(Renter) with 55_600 to the provider and 19_944_400 back", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(end(c, 100, "renter"))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.rentalId, CloseReason.Renter, c.renter.address, 55_600, 19_944_400, 0);
      });

      it("refunds the unused 19_944_400 to the renter", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(end(c, 100, "renter")).to.changeTokenBalances(
          c.usd,
          [c.renter, c.provider, c.escrow, c.treasury],
          [19_944_400, 0, -19_944_400, 0],
        );
      });

      it("marks the rental Closed for reason Renter", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await end(c, 100, "renter");
        const r = await c.escrow.getRental(c.rentalId);
        expect([r.status, r.closeReason]).to.deep.equal([BigInt(RentalStatus.Closed), BigInt(CloseReason.Renter)]);
      });

      it("keeps the 55_600 the provider has still to withdraw", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await end(c, 100, "renter");
        expect((await c.escrow.getRental(c.rentalId)).amount).to.equal(55_600);
      });

      it("releases the GPU", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await end(c, 100, "renter");
        expect((await c.registry.getNode(c.nodeId)).rentedGpus).to.equal(0);
      });
    });

    describe("when the provider ends it", () => {
      it("emits CloseRental(Provider) with the same split", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(end(c, 100, "provider"))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.rentalId, CloseReason.Provider, c.provider.address, 55_600, 19_944_400, 0);
      });

      it("pushes the refund to the renter, not to the caller", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(end(c, 100, "provider")).to.changeTokenBalances(
          c.usd,
          [c.renter, c.provider, c.escrow, c.treasury],
          [19_944_400, 0, -19_944_400, 0],
        );
      });

      it("records reason Provider", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await end(c, 100, "provider");
        expect((await c.escrow.getRental(c.rentalId)).closeReason).to.equal(CloseReason.Provider);
      });
    });

    describe("when anyone else ends it", () => {
      for (const who of ["renter2", "provider2", "keeper", "admin", "oracle"] as const) {
        it(`reverts with RentalEscrow_NotRentalParty for the ${who}`, async () => {
          const c = await loadFixture(payAsYouGoFixture);
          await expect(c.escrow.connect(c[who]).endRental(c.rentalId))
            .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NotRentalParty")
            .withArgs(c.rentalId, c[who].address);
        });
      }
    });
  });

  describe("given the provider already withdrew the first 100 seconds", () => {
    it("reports the whole 150 seconds as the provider's share", async () => {
      const c = await loadFixture(feesAccruedFixture);
      // 150 x 556 = 83_400; 20_000_000 - 83_400 = 19_916_600
      await expect(end(c, 150, "renter"))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.Renter, c.renter.address, 83_400, 19_916_600, 0);
    });

    it("leaves only the 50 unwithdrawn seconds (27_800) to withdraw", async () => {
      const c = await loadFixture(feesAccruedFixture);
      await end(c, 150, "renter");
      expect((await c.escrow.getRental(c.rentalId)).amount).to.equal(27_800);
    });
  });

  describe("given the pay-as-you-go rental ran out (in grace)", () => {
    it("refunds the 124 that could not buy a second", async () => {
      const c = await loadFixture(depletedPayAsYouGoFixture);
      await expect(at(c.paidUntil + 700, () => c.escrow.connect(c.renter).endRental(c.rentalId)))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.Renter, c.renter.address, PAYG_DEPOSIT - PAYG_REMAINDER, PAYG_REMAINDER, 0);
    });

    it("pays the 124 to the renter", async () => {
      const c = await loadFixture(depletedPayAsYouGoFixture);
      await expect(
        at(c.paidUntil + 700, () => c.escrow.connect(c.renter).endRental(c.rentalId)),
      ).to.changeTokenBalances(c.usd, [c.renter, c.provider, c.escrow], [PAYG_REMAINDER, 0, -PAYG_REMAINDER]);
    });
  });

  describe("given an hourly rental (USD 11)", () => {
    const cases = [
      { offset: 1, hours: 1, label: "1 second in: the first hour is charged when it starts" },
      { offset: HOUR, hours: 1, label: "exactly 1 hour in: still one hour" },
      { offset: HOUR + 1, hours: 2, label: "1 hour and 1 second in: the second hour started" },
      { offset: 5 * HOUR + 10, hours: 5, label: "after the 5 paid hours: capped at 5" },
    ];
    for (const { offset, hours, label } of cases) {
      it(`charges ${hours} hour(s) ${label}`, async () => {
        const c = await loadFixture(hourlyFixture);
        const earned = 2_000_000n * BigInt(hours);
        await expect(end(c, offset, "renter"))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.rentalId, CloseReason.Renter, c.renter.address, earned, 11_000_000n - earned, 0);
      });
    }

    it("refunds the 1_000_000 left over after the paid hours", async () => {
      const c = await loadFixture(hourlyFixture);
      await expect(end(c, 5 * HOUR + 10, "renter")).to.changeTokenBalances(
        c.usd,
        [c.renter, c.provider, c.escrow],
        [HOURLY_REMAINDER, 0, -HOURLY_REMAINDER],
      );
    });
  });

  describe("given a 7-day saving plan one day in (45_600_000 earned, 10% penalty)", () => {
    describe("when the renter ends it early", () => {
      it("emits CloseRental with the penalty: 72_960_000 / 246_240_000 / 27_360_000", async () => {
        const c = await loadFixture(savingFixture);
        // unused 273_600_000; penalty 10% = 27_360_000; provider 45_600_000 + 27_360_000.
        await expect(end(c, 86_400, "renter"))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.rentalId, CloseReason.Renter, c.renter.address, 72_960_000, 246_240_000, 27_360_000);
      });

      it("refunds 246_240_000", async () => {
        const c = await loadFixture(savingFixture);
        await expect(end(c, 86_400, "renter")).to.changeTokenBalances(
          c.usd,
          [c.renter, c.provider, c.escrow, c.treasury],
          [246_240_000, 0, -246_240_000, 0],
        );
      });

      it("leaves earnings plus penalty (72_960_000) to the provider", async () => {
        const c = await loadFixture(savingFixture);
        await end(c, 86_400, "renter");
        expect((await c.escrow.getRental(c.rentalId)).amount).to.equal(72_960_000);
      });

      it("unlocks the provider's stake", async () => {
        const c = await loadFixture(savingFixture);
        await end(c, 86_400, "renter");
        expect(await c.registry.lockedStake(c.provider.address)).to.equal(0);
      });

      it("rounds earnings and penalty down at an odd second (1_000 s in)", async () => {
        const c = await loadFixture(savingFixture);
        // earned floor(319_200_000 x 1_000 / 604_800) = 527_777; unused 318_672_223;
        // penalty floor(31_867_222.3) = 31_867_222; refund 286_805_001.
        await expect(end(c, 1_000, "renter"))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.rentalId, CloseReason.Renter, c.renter.address, 32_394_999, 286_805_001, 31_867_222);
      });

      it("uses the penalty of the rental's terms, not a later one", async () => {
        const c = await loadFixture(savingFixture);
        await c.escrow.setEarlyExitPenaltyBps(5_000);
        await expect(end(c, 86_400, "renter"))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.rentalId, CloseReason.Renter, c.renter.address, 72_960_000, 246_240_000, 27_360_000);
      });
    });

    describe("when the provider ends it early", () => {
      it("attack 6: emits CloseRental(Provider) with the penalty paid to the renter", async () => {
        const c = await loadFixture(savingFixture);
        // unused 273_600_000; penalty 10% = 27_360_000 from the provider: 45_600_000 - 27_360_000.
        await expect(end(c, 86_400, "provider"))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.rentalId, CloseReason.Provider, c.provider.address, 18_240_000, 300_960_000, 27_360_000);
      });

      it("attack 6: pays the renter the unused part plus the penalty (273_600_000 + 27_360_000)", async () => {
        const c = await loadFixture(savingFixture);
        await expect(end(c, 86_400, "provider")).to.changeTokenBalances(
          c.usd,
          [c.renter, c.provider, c.escrow],
          [300_960_000, 0, -300_960_000],
        );
        // What stays for the provider: 45_600_000 earned less the 27_360_000 it paid.
        expect(await c.escrow.withdrawable(c.rentalId)).to.equal(18_240_000);
      });

      it("attack 6: the penalty is there after the provider withdrew all it could (the hold-back)", async () => {
        const c = await loadFixture(savingFixture);
        // Day 1: earned 45_600_000, held back 10% of the unused 273_600_000: 18_240_000 withdrawable.
        await expect(
          at(c.anchor + 86_400, () => c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId])),
        )
          .to.emit(c.escrow, "WithdrawEarnings")
          .withArgs(c.provider.address, c.usdAddress, 1, 18_240_000, 1_824_000);
        // Day 2: earned 91_200_000, unused 228_000_000, penalty 22_800_000: the renter gets 250_800_000.
        await expect(end(c, 2 * 86_400, "provider"))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.rentalId, CloseReason.Provider, c.provider.address, 68_400_000, 250_800_000, 22_800_000);
        // The provider still has 68_400_000 - 18_240_000 to withdraw.
        expect(await c.escrow.withdrawable(c.rentalId)).to.equal(50_160_000);
      });

      it("attack 6: pays at most what the rental earned: an hour in, the whole deposit goes back", async () => {
        const c = await loadFixture(savingFixture);
        // Earned 1_900_000 (an hour of 319_200_000 over 168 h); 10% of the unused part is more.
        await expect(end(c, HOUR, "provider"))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.rentalId, CloseReason.Provider, c.provider.address, 0, SAVING_DEPOSIT, 1_900_000);
        expect(await c.escrow.withdrawable(c.rentalId)).to.equal(0);
      });
    });

    describe("when the renter ends it after the term", () => {
      it("emits CloseRental with everything to the provider and no penalty", async () => {
        const c = await loadFixture(savingFixture);
        await expect(end(c, SAVING_TERM + 5, "renter"))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.rentalId, CloseReason.Renter, c.renter.address, SAVING_DEPOSIT, 0, 0);
      });

      it("moves no tokens", async () => {
        const c = await loadFixture(savingFixture);
        await expect(end(c, SAVING_TERM + 5, "renter")).to.changeTokenBalances(
          c.usd,
          [c.renter, c.provider, c.escrow],
          [0, 0, 0],
        );
      });
    });
  });

  describe("given the rental is already closed", () => {
    for (const who of ["renter", "provider"] as const) {
      it(`reverts with RentalEscrow_RentalClosed when the ${who} ends it again`, async () => {
        const c = await loadFixture(closedPayAsYouGoFixture);
        await expect(c.escrow.connect(c[who]).endRental(c.rentalId))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_RentalClosed")
          .withArgs(c.rentalId);
      });
    }
  });

  describe("given the rental does not exist", () => {
    it("reverts with RentalEscrow_UnknownRental", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await expect(c.escrow.connect(c.renter).endRental(99))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownRental")
        .withArgs(99);
    });

    it("reverts with RentalEscrow_UnknownRental for id 0", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await expect(c.escrow.connect(c.renter).endRental(0))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownRental")
        .withArgs(0);
    });
  });

  describe("given the renter cannot receive the token (blocklisted)", () => {
    async function blockedRenterFixture() {
      const c = await blocklistFixture();
      await c.token.setBlocked(c.renter.address, true);
      return c;
    }

    it("reverts the renter's own end with the token's error: it takes its refund or keeps the rental", async () => {
      const c = await loadFixture(blockedRenterFixture);
      await expect(at(c.anchor + 100, () => c.escrow.connect(c.renter).endRental(c.rentalId))).to.be.revertedWith(
        "blocked",
      );
      expect((await c.escrow.getRental(c.rentalId)).status).to.equal(RentalStatus.Active);
    });
    // The provider's end credits the refund instead: threats.test.ts #27.
  });

  describe("given the escrow is paused", () => {
    it("still ends the rental and refunds the renter", async () => {
      const c = await loadFixture(pausedFixture);
      await expect(end(c, 100, "renter")).to.changeTokenBalances(
        c.usd,
        [c.renter, c.escrow],
        [19_944_400, -19_944_400],
      );
    });

    it("still lets the provider end it", async () => {
      const c = await loadFixture(pausedFixture);
      await expect(end(c, 100, "provider"))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.Provider, c.provider.address, 55_600, 19_944_400, 0);
    });
  });

  describe("given the renter is a contract", () => {
    it("ends through the contract and refunds it", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      const wallet = await ethers.deployContract("MockRevertingReceiver");
      const walletAddress = await wallet.getAddress();
      await c.usd.mint(walletAddress, PAYG_DEPOSIT);
      await wallet.execute(
        c.usdAddress,
        c.usd.interface.encodeFunctionData("approve", [c.escrowAddress, PAYG_DEPOSIT]),
      );
      await wallet.execute(c.escrowAddress, c.escrow.interface.encodeFunctionData("rent", [await params(c)]));
      const id = await c.escrow.rentalCount();
      const anchor = await time.latest();
      // 10 seconds: 5_560 earned.
      await expect(
        at(anchor + 10, () =>
          wallet.execute(c.escrowAddress, c.escrow.interface.encodeFunctionData("endRental", [id])),
        ),
      ).to.changeTokenBalance(c.usd, walletAddress, PAYG_DEPOSIT - 5_560n);
    });
  });
});
