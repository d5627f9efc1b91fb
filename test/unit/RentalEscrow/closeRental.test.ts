import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { CloseReason, RentalStatus, HOUR } from "../../fixtures";
import {
  payAsYouGoFixture,
  hourlyFixture,
  savingFixture,
  flaggedPayAsYouGoFixture,
  closedPayAsYouGoFixture,
  feesAccruedFixture,
  blocklistFixture,
  pausedFixture,
  at,
  GRACE,
  PAYG_DEPOSIT,
  PAYG_REMAINDER,
  SAVING_DEPOSIT,
} from "../../helpers/escrow";

type Fixture = Pick<Awaited<ReturnType<typeof payAsYouGoFixture>>, "escrow" | "keeper" | "rentalId" | "paidUntil">;
const close = (c: Fixture, timestamp: number) =>
  at(timestamp, () => c.escrow.connect(c.keeper).closeRental(c.rentalId));

/** A keeper's close at `timestamp` reverts with RentalEscrow_NotClosable(rentalId, closableAt). */
const revertsNotClosable = (c: Fixture, timestamp: number, closableAt: number) =>
  expect(close(c, timestamp))
    .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NotClosable")
    .withArgs(c.rentalId, closableAt);

/** A keeper's close at P + grace emits CloseRental(InsufficientFunds): every paid second earned, the 124 back. */
const closesOutOfFunds = (c: Fixture) =>
  expect(close(c, c.paidUntil + GRACE))
    .to.emit(c.escrow, "CloseRental")
    .withArgs(
      c.rentalId,
      CloseReason.InsufficientFunds,
      c.keeper.address,
      PAYG_DEPOSIT - PAYG_REMAINDER,
      PAYG_REMAINDER,
      0,
    );

describe("RentalEscrow.closeRental", () => {
  describe("given a pay-as-you-go rental paid until P (grace 1 hour)", () => {
    describe("when closed before P + grace", () => {
      it("reverts with RentalEscrow_NotClosable(rentalId, P + grace) while it still runs", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await revertsNotClosable(c, c.anchor + 100, c.paidUntil + GRACE);
      });

      it("reverts with RentalEscrow_NotClosable one second before the grace period ends", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await revertsNotClosable(c, c.paidUntil + GRACE - 1, c.paidUntil + GRACE);
      });
    });

    describe("when a keeper closes it at P + grace", () => {
      it("emits CloseRental(InsufficientFunds) with all paid seconds to the provider and 124 back", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await closesOutOfFunds(c);
      });

      it("pushes the 124 left over to the renter (not the keeper)", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(close(c, c.paidUntil + GRACE)).to.changeTokenBalances(
          c.usd,
          [c.renter, c.provider, c.escrow, c.keeper, c.treasury],
          [PAYG_REMAINDER, 0, -PAYG_REMAINDER, 0, 0],
        );
      });

      it("marks it Closed for reason InsufficientFunds", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await close(c, c.paidUntil + GRACE);
        const r = await c.escrow.getRental(c.rentalId);
        expect([r.status, r.closeReason]).to.deep.equal([
          BigInt(RentalStatus.Closed),
          BigInt(CloseReason.InsufficientFunds),
        ]);
      });

      it("leaves the provider 19_999_876 to withdraw", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await close(c, c.paidUntil + GRACE);
        expect((await c.escrow.getRental(c.rentalId)).amount).to.equal(19_999_876);
      });

      it("releases the GPU", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await close(c, c.paidUntil + GRACE);
        expect((await c.registry.getNode(c.nodeId)).rentedGpus).to.equal(0);
      });
    });

    it("closes a rental flagged in grace the same way", async () => {
      const c = await loadFixture(flaggedPayAsYouGoFixture);
      await closesOutOfFunds(c);
    });

    it("keeps the grace period of the rental's terms after governance lengthens it", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await c.escrow.setGracePeriod(2 * HOUR);
      await expect(close(c, c.paidUntil + GRACE)).to.emit(c.escrow, "CloseRental");
    });

    it("lets the renter close it too (refund still pushed)", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await expect(
        at(c.paidUntil + GRACE, () => c.escrow.connect(c.renter).closeRental(c.rentalId)),
      ).to.changeTokenBalances(c.usd, [c.renter, c.escrow], [PAYG_REMAINDER, -PAYG_REMAINDER]);
    });
  });

  describe("given the provider withdrew the first 100 seconds", () => {
    it("leaves only the 35_871 unwithdrawn seconds (19_944_276) to withdraw", async () => {
      const c = await loadFixture(feesAccruedFixture);
      await close(c, c.paidUntil + GRACE);
      expect((await c.escrow.getRental(c.rentalId)).amount).to.equal(19_944_276);
    });
  });

  describe("given an hourly rental paid 5 hours (1_000_000 over)", () => {
    it("reverts with RentalEscrow_NotClosable before 5 hours + grace", async () => {
      const c = await loadFixture(hourlyFixture);
      await revertsNotClosable(c, c.anchor + 5 * HOUR + GRACE - 1, c.anchor + 5 * HOUR + GRACE);
    });

    it("emits CloseRental(InsufficientFunds) with 10_000_000 earned and 1_000_000 back", async () => {
      const c = await loadFixture(hourlyFixture);
      await expect(close(c, c.anchor + 5 * HOUR + GRACE))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.InsufficientFunds, c.keeper.address, 10_000_000, 1_000_000, 0);
    });
  });

  describe("given a 7-day saving plan", () => {
    it("reverts with RentalEscrow_NotClosable(rentalId, term end) one second before the term ends", async () => {
      const c = await loadFixture(savingFixture);
      await revertsNotClosable(c, c.paidUntil - 1, c.paidUntil);
    });

    describe("when closed at the end of the term", () => {
      it("emits CloseRental(Expired) with the whole deposit to the provider", async () => {
        const c = await loadFixture(savingFixture);
        await expect(close(c, c.paidUntil))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.rentalId, CloseReason.Expired, c.keeper.address, SAVING_DEPOSIT, 0, 0);
      });

      it("moves no tokens", async () => {
        const c = await loadFixture(savingFixture);
        await expect(close(c, c.paidUntil)).to.changeTokenBalances(
          c.usd,
          [c.renter, c.provider, c.escrow, c.keeper],
          [0, 0, 0, 0],
        );
      });

      it("unlocks the provider's stake", async () => {
        const c = await loadFixture(savingFixture);
        await close(c, c.paidUntil);
        expect(await c.registry.lockedStake(c.provider.address)).to.equal(0);
      });

      it("records reason Expired", async () => {
        const c = await loadFixture(savingFixture);
        await close(c, c.paidUntil);
        expect((await c.escrow.getRental(c.rentalId)).closeReason).to.equal(CloseReason.Expired);
      });
    });
  });

  describe("given the renter cannot receive the token (blocklisted)", () => {
    async function blockedRenterFixture() {
      const c = await blocklistFixture();
      await c.token.setBlocked(c.renter.address, true);
      return c;
    }

    it("still closes the rental", async () => {
      const c = await loadFixture(blockedRenterFixture);
      await closesOutOfFunds(c);
    });

    it("emits CreditRefund(rentalId, renter, token, 124)", async () => {
      const c = await loadFixture(blockedRenterFixture);
      await expect(close(c, c.paidUntil + GRACE))
        .to.emit(c.escrow, "CreditRefund")
        .withArgs(c.rentalId, c.renter.address, c.tokenAddress, PAYG_REMAINDER);
    });

    it("keeps the 124 in the escrow", async () => {
      const c = await loadFixture(blockedRenterFixture);
      await expect(close(c, c.paidUntil + GRACE)).to.changeTokenBalances(c.token, [c.renter, c.escrow], [0, 0]);
    });

    it("credits the 124 to the renter's refund credit", async () => {
      const c = await loadFixture(blockedRenterFixture);
      await close(c, c.paidUntil + GRACE);
      expect(await c.escrow.refundCredit(c.renter.address, c.tokenAddress)).to.equal(PAYG_REMAINDER);
    });
  });

  describe("given the rental is already closed", () => {
    it("reverts with RentalEscrow_RentalClosed", async () => {
      const c = await loadFixture(closedPayAsYouGoFixture);
      await expect(close(c, c.paidUntil + GRACE))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_RentalClosed")
        .withArgs(c.rentalId);
    });
  });

  describe("given the rental does not exist", () => {
    it("reverts with RentalEscrow_UnknownRental", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await expect(c.escrow.connect(c.keeper).closeRental(99))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownRental")
        .withArgs(99);
    });
  });

  describe("given the escrow is paused", () => {
    it("still closes and refunds", async () => {
      const c = await loadFixture(pausedFixture);
      await expect(close(c, c.paidUntil + GRACE)).to.changeTokenBalances(
        c.usd,
        [c.renter, c.escrow],
        [PAYG_REMAINDER, -PAYG_REMAINDER],
      );
    });
  });
});
