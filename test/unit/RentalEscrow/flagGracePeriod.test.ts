import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { RentalStatus, HOUR, USD } from "../../fixtures";
import {
  payAsYouGoFixture,
  hourlyFixture,
  savingFixture,
  flaggedPayAsYouGoFixture,
  closedPayAsYouGoFixture,
  pausedFixture,
  rent,
  at,
  GRACE,
  PAYG_DEPOSIT,
  PAYG_UNITS,
} from "../../helpers/escrow";

type Fixture = Awaited<ReturnType<typeof payAsYouGoFixture>>;
const flag = (c: Fixture, timestamp: number, who: "keeper" | "renter" | "provider" = "keeper") =>
  at(timestamp, () => c.escrow.connect(c[who]).flagGracePeriod(c.rentalId));

describe("RentalEscrow.flagGracePeriod", () => {
  describe("given a pay-as-you-go rental paid until P", () => {
    describe("when flagged before P", () => {
      it("reverts with RentalEscrow_NotDepleted(rentalId, P)", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(flag(c, c.paidUntil - 1))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NotDepleted")
          .withArgs(c.rentalId, c.paidUntil);
      });
    });

    describe("when a keeper flags it at P", () => {
      it("emits EnterGracePeriod(rentalId, renter, P, P + 1 hour)", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(flag(c, c.paidUntil))
          .to.emit(c.escrow, "EnterGracePeriod")
          .withArgs(c.rentalId, c.renter.address, c.paidUntil, c.paidUntil + GRACE);
      });

      it("sets the status to Grace", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await flag(c, c.paidUntil);
        expect((await c.escrow.getRental(c.rentalId)).status).to.equal(RentalStatus.Grace);
      });

      it("moves no tokens", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(flag(c, c.paidUntil)).to.changeTokenBalances(
          c.usd,
          [c.renter, c.provider, c.escrow, c.keeper, c.treasury],
          [0, 0, 0, 0, 0],
        );
      });
    });

    for (const who of ["renter", "provider"] as const) {
      it(`lets the ${who} flag it too`, async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(flag(c, c.paidUntil + 1, who)).to.emit(c.escrow, "EnterGracePeriod");
      });
    }

    it("still flags after the grace period ended (the graceEnd it reports is in the past)", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await expect(flag(c, c.paidUntil + GRACE + 10))
        .to.emit(c.escrow, "EnterGracePeriod")
        .withArgs(c.rentalId, c.renter.address, c.paidUntil, c.paidUntil + GRACE);
    });

    it("reports the grace period of the rental's terms, not a later one", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await c.escrow.setGracePeriod(2 * HOUR);
      await expect(flag(c, c.paidUntil))
        .to.emit(c.escrow, "EnterGracePeriod")
        .withArgs(c.rentalId, c.renter.address, c.paidUntil, c.paidUntil + GRACE);
    });

    it("reports a later grace period for a rental opened after the change", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await c.escrow.setGracePeriod(2 * HOUR);
      const { rentalId, anchor } = await rent(c, { deposit: PAYG_DEPOSIT }, c.renter2);
      await expect(at(anchor + PAYG_UNITS, () => c.escrow.connect(c.keeper).flagGracePeriod(rentalId)))
        .to.emit(c.escrow, "EnterGracePeriod")
        .withArgs(rentalId, c.renter2.address, anchor + PAYG_UNITS, anchor + PAYG_UNITS + 2 * HOUR);
    });
  });

  describe("given the rental is already flagged", () => {
    it("reverts with RentalEscrow_AlreadyInGrace", async () => {
      const c = await loadFixture(flaggedPayAsYouGoFixture);
      await expect(c.escrow.connect(c.keeper).flagGracePeriod(c.rentalId))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_AlreadyInGrace")
        .withArgs(c.rentalId);
    });

    it("can be flagged again after a top-up runs out", async () => {
      const c = await loadFixture(flaggedPayAsYouGoFixture);
      // Topped up 100 s into grace: re-anchored by 100 s, 53_956 seconds paid in all.
      await at(c.paidUntil + 100, () => c.escrow.connect(c.renter).topUp(c.rentalId, USD(10)));
      const newPaidUntil = c.anchor + 100 + 53_956;
      await expect(flag(c, newPaidUntil))
        .to.emit(c.escrow, "EnterGracePeriod")
        .withArgs(c.rentalId, c.renter.address, newPaidUntil, newPaidUntil + GRACE);
    });
  });

  describe("given an hourly rental paid 5 hours", () => {
    it("reverts with RentalEscrow_NotDepleted one second before the 5 hours end", async () => {
      const c = await loadFixture(hourlyFixture);
      await expect(at(c.anchor + 5 * HOUR - 1, () => c.escrow.connect(c.keeper).flagGracePeriod(c.rentalId)))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NotDepleted")
        .withArgs(c.rentalId, c.anchor + 5 * HOUR);
    });

    it("emits EnterGracePeriod when the 5 hours end", async () => {
      const c = await loadFixture(hourlyFixture);
      await expect(at(c.anchor + 5 * HOUR, () => c.escrow.connect(c.keeper).flagGracePeriod(c.rentalId)))
        .to.emit(c.escrow, "EnterGracePeriod")
        .withArgs(c.rentalId, c.renter.address, c.anchor + 5 * HOUR, c.anchor + 5 * HOUR + GRACE);
    });
  });

  describe("given a saving plan", () => {
    it("reverts with RentalEscrow_NoGracePeriod(rentalId): a prepaid plan has no grace period", async () => {
      const c = await loadFixture(savingFixture);
      await expect(at(c.paidUntil, () => c.escrow.connect(c.keeper).flagGracePeriod(c.rentalId)))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NoGracePeriod")
        .withArgs(c.rentalId);
    });
  });

  describe("given the rental is closed", () => {
    it("reverts with RentalEscrow_RentalClosed", async () => {
      const c = await loadFixture(closedPayAsYouGoFixture);
      await expect(c.escrow.connect(c.keeper).flagGracePeriod(c.rentalId))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_RentalClosed")
        .withArgs(c.rentalId);
    });
  });

  describe("given the rental does not exist", () => {
    it("reverts with RentalEscrow_UnknownRental", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await expect(c.escrow.connect(c.keeper).flagGracePeriod(99))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownRental")
        .withArgs(99);
    });
  });

  describe("given the escrow is paused", () => {
    it("still flags", async () => {
      const c = await loadFixture(pausedFixture);
      await expect(flag(c, c.paidUntil)).to.emit(c.escrow, "EnterGracePeriod");
    });
  });
});
