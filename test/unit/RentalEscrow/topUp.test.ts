import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { Plan, RentalStatus, USD } from "../../fixtures";
import {
  payAsYouGoFixture,
  hourlyFixture,
  savingFixture,
  depletedPayAsYouGoFixture,
  flaggedPayAsYouGoFixture,
  closedPayAsYouGoFixture,
  pausedFixture,
  at,
  viewAt,
  GRACE,
  PAYG_RATE,
  PAYG_DEPOSIT,
  PAYG_UNITS,
  HOURLY_DEPOSIT,
  UINT32_MAX,
  revertsAmountTooLarge,
} from "../../helpers/escrow";

describe("RentalEscrow.topUp", () => {
  describe("given a running pay-as-you-go rental (USD 20, paid 35_971 s)", () => {
    describe("when the renter adds USD 10 100 seconds in", () => {
      const topUp = (c: Awaited<ReturnType<typeof payAsYouGoFixture>>) =>
        at(c.anchor + 100, () => c.escrow.connect(c.renter).topUp(c.rentalId, USD(10)));

      it("emits TopUpRental with the new deposit and floor(30_000_000 / 556) = 53_956 paid seconds", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(topUp(c))
          .to.emit(c.escrow, "TopUpRental")
          .withArgs(c.rentalId, USD(10), USD(30), c.anchor + 53_956);
      });

      it("moves USD 10 from the renter to the escrow", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(topUp(c)).to.changeTokenBalances(
          c.usd,
          [c.renter, c.provider, c.escrow, c.treasury],
          [-USD(10), 0, USD(10), 0],
        );
      });

      it("adds to the stored deposit", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await topUp(c);
        expect((await c.escrow.getRental(c.rentalId)).amount).to.equal(USD(30));
      });

      it("keeps the anchor: time already used stays charged", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await topUp(c);
        expect((await c.escrow.getRental(c.rentalId)).anchor).to.equal(c.anchor);
      });

      it("leaves the provider's accrual unchanged (200 s later: 200 x 556)", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await topUp(c);
        await viewAt(c.anchor + 200);
        expect(await c.escrow.withdrawable(c.rentalId)).to.equal(111_200);
      });
    });

    describe("when the renter adds 1 wei", () => {
      it("buys no time: 124 + 1 left over is still less than a 556 unit", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(c.escrow.connect(c.renter).topUp(c.rentalId, 1))
          .to.emit(c.escrow, "TopUpRental")
          .withArgs(c.rentalId, 1, PAYG_DEPOSIT + 1n, c.paidUntil);
      });
    });

    describe("when the renter adds the 432 that complete a unit", () => {
      it("buys exactly one more second", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        // 124 left over + 432 = 556.
        await expect(c.escrow.connect(c.renter).topUp(c.rentalId, 432))
          .to.emit(c.escrow, "TopUpRental")
          .withArgs(c.rentalId, 432, PAYG_DEPOSIT + 432n, c.paidUntil + 1);
      });
    });

    describe("when the amount is 0", () => {
      it("reverts with RentalEscrow_ZeroAmount", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(c.escrow.connect(c.renter).topUp(c.rentalId, 0)).to.be.revertedWithCustomError(
          c.escrow,
          "RentalEscrow_ZeroAmount",
        );
      });
    });

    describe("when the deposit would buy more than 2^32-1 seconds", () => {
      it("reverts with RentalEscrow_AmountTooLarge(deposit, 556 x (2^32-1))", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        const max = PAYG_RATE * UINT32_MAX;
        await revertsAmountTooLarge(
          c,
          c.escrow.connect(c.renter).topUp(c.rentalId, max - PAYG_DEPOSIT + 1n),
          max + 1n,
          max,
        );
      });
    });

    describe("when someone other than the renter tops up", () => {
      for (const who of ["renter2", "provider", "keeper"] as const) {
        it(`reverts with RentalEscrow_NotRenter for the ${who}`, async () => {
          const c = await loadFixture(payAsYouGoFixture);
          await expect(c.escrow.connect(c[who]).topUp(c.rentalId, USD(1)))
            .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NotRenter")
            .withArgs(c.rentalId, c[who].address);
        });
      }
    });

    describe("when the payment token has been disabled since the rental opened", () => {
      // Implemented deliberately (RentalEscrow.topUp: "running rentals are not stranded"), but
      // IRentalEscrow.setPaymentTokenEnabled says disabling stops top-ups: see the report.
      it("still tops up", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await c.escrow.setPaymentTokenEnabled(c.usdAddress, false);
        await expect(c.escrow.connect(c.renter).topUp(c.rentalId, USD(1))).to.emit(c.escrow, "TopUpRental");
      });
    });
  });

  describe("given the pay-as-you-go rental ran out and is in its grace period", () => {
    const resume = (c: Awaited<ReturnType<typeof depletedPayAsYouGoFixture>>) =>
      at(c.paidUntil + 1_200, () => c.escrow.connect(c.renter).topUp(c.rentalId, USD(10)));

    it("resumes from now: paid until now + 53_956 - 35_971 seconds", async () => {
      const c = await loadFixture(depletedPayAsYouGoFixture);
      await expect(resume(c))
        .to.emit(c.escrow, "TopUpRental")
        .withArgs(c.rentalId, USD(10), USD(30), c.paidUntil + 1_200 + (53_956 - PAYG_UNITS));
    });

    it("re-anchors by the 1_200 seconds of grace", async () => {
      const c = await loadFixture(depletedPayAsYouGoFixture);
      await resume(c);
      expect((await c.escrow.getRental(c.rentalId)).anchor).to.equal(c.anchor + 1_200);
    });

    it("does not charge the grace time: 10 s after resuming the provider has earned 35_981 seconds", async () => {
      const c = await loadFixture(depletedPayAsYouGoFixture);
      await resume(c);
      await viewAt(c.paidUntil + 1_210);
      // (35_971 + 10) x 556 = 20_005_436
      expect(await c.escrow.withdrawable(c.rentalId)).to.equal(20_005_436);
    });

    it("moves the top-up to the escrow", async () => {
      const c = await loadFixture(depletedPayAsYouGoFixture);
      await expect(resume(c)).to.changeTokenBalances(
        c.usd,
        [c.renter, c.provider, c.escrow, c.treasury],
        [-USD(10), 0, USD(10), 0],
      );
    });

    it("tops up one second before the grace period ends", async () => {
      const c = await loadFixture(depletedPayAsYouGoFixture);
      await expect(at(c.paidUntil + GRACE - 1, () => c.escrow.connect(c.renter).topUp(c.rentalId, USD(10)))).to.emit(
        c.escrow,
        "TopUpRental",
      );
    });

    describe("when the top-up buys less than a grace period of runtime", () => {
      // Resuming needs PAYG_UNITS + GRACE paid seconds in all: the left-over counts towards it.
      const minimum = (BigInt(PAYG_UNITS) + BigInt(GRACE)) * PAYG_RATE - PAYG_DEPOSIT;

      it("reverts with RentalEscrow_TopUpTooSmall(rentalId, amount, minimum)", async () => {
        const c = await loadFixture(depletedPayAsYouGoFixture);
        await expect(at(c.paidUntil + 1_200, () => c.escrow.connect(c.renter).topUp(c.rentalId, minimum - 1n)))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_TopUpTooSmall")
          .withArgs(c.rentalId, minimum - 1n, minimum);
      });

      it("accepts exactly the minimum, paid for a grace period from now", async () => {
        const c = await loadFixture(depletedPayAsYouGoFixture);
        await expect(at(c.paidUntil + 1_200, () => c.escrow.connect(c.renter).topUp(c.rentalId, minimum)))
          .to.emit(c.escrow, "TopUpRental")
          .withArgs(c.rentalId, minimum, PAYG_DEPOSIT + minimum, c.paidUntil + 1_200 + GRACE);
      });
    });

    describe("when the grace period has ended", () => {
      it("reverts with RentalEscrow_GraceExpired(rentalId, graceEnd)", async () => {
        const c = await loadFixture(depletedPayAsYouGoFixture);
        await expect(at(c.paidUntil + GRACE, () => c.escrow.connect(c.renter).topUp(c.rentalId, USD(10))))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_GraceExpired")
          .withArgs(c.rentalId, c.paidUntil + GRACE);
      });
    });
  });

  describe("given the rental was flagged as in grace", () => {
    it("sets it back to Active", async () => {
      const c = await loadFixture(flaggedPayAsYouGoFixture);
      await c.escrow.connect(c.renter).topUp(c.rentalId, USD(10));
      expect((await c.escrow.getRental(c.rentalId)).status).to.equal(RentalStatus.Active);
    });
  });

  describe("given a running hourly rental (USD 11, paid 5 hours)", () => {
    it("extends it by whole hours: USD 2 more buys a 6th hour", async () => {
      const c = await loadFixture(hourlyFixture);
      await expect(at(c.anchor + 10, () => c.escrow.connect(c.renter).topUp(c.rentalId, USD(2))))
        .to.emit(c.escrow, "TopUpRental")
        .withArgs(c.rentalId, USD(2), USD(13), c.anchor + 6 * 3600);
    });

    it("counts the left-over: USD 1 completes a 6th hour", async () => {
      const c = await loadFixture(hourlyFixture);
      await expect(c.escrow.connect(c.renter).topUp(c.rentalId, USD(1)))
        .to.emit(c.escrow, "TopUpRental")
        .withArgs(c.rentalId, USD(1), HOURLY_DEPOSIT + USD(1), c.anchor + 6 * 3600);
    });

    it("resumes from now when topped up inside the grace period", async () => {
      const c = await loadFixture(hourlyFixture);
      // 30 minutes into grace: anchor moves 1_800 s; 6 hours from the new anchor.
      await expect(at(c.paidUntil + 1_800, () => c.escrow.connect(c.renter).topUp(c.rentalId, USD(1))))
        .to.emit(c.escrow, "TopUpRental")
        .withArgs(c.rentalId, USD(1), USD(12), c.anchor + 1_800 + 6 * 3600);
    });
  });

  describe("given a saving plan", () => {
    it("reverts with RentalEscrow_TopUpNotAllowed(rentalId, Saving)", async () => {
      const c = await loadFixture(savingFixture);
      await expect(c.escrow.connect(c.renter).topUp(c.rentalId, USD(1)))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_TopUpNotAllowed")
        .withArgs(c.rentalId, Plan.Saving);
    });
  });

  describe("given the rental is closed", () => {
    it("reverts with RentalEscrow_RentalClosed", async () => {
      const c = await loadFixture(closedPayAsYouGoFixture);
      await expect(c.escrow.connect(c.renter).topUp(c.rentalId, USD(1)))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_RentalClosed")
        .withArgs(c.rentalId);
    });
  });

  describe("given the rental does not exist", () => {
    it("reverts with RentalEscrow_UnknownRental", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await expect(c.escrow.connect(c.renter).topUp(99, USD(1)))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownRental")
        .withArgs(99);
    });
  });

  describe("given the escrow is paused", () => {
    it("reverts with RentalEscrow_Paused", async () => {
      const c = await loadFixture(pausedFixture);
      await expect(c.escrow.connect(c.renter).topUp(c.rentalId, USD(1))).to.be.revertedWithCustomError(
        c.escrow,
        "RentalEscrow_Paused",
      );
    });

    it("tops up again once unpaused", async () => {
      const c = await loadFixture(pausedFixture);
      await c.escrow.connect(c.guardian).unpause();
      await expect(c.escrow.connect(c.renter).topUp(c.rentalId, USD(1))).to.emit(c.escrow, "TopUpRental");
    });
  });
});
