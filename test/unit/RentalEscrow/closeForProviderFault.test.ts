import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { CloseReason, DAY } from "../../fixtures";
import {
  payAsYouGoFixture,
  savingFixture,
  closedPayAsYouGoFixture,
  blocklistFixture,
  pausedFixture,
  at,
  ORACLE_ROLE,
} from "../../helpers/escrow";

type Fixture = Awaited<ReturnType<typeof payAsYouGoFixture>>;
const fault = (c: Fixture, offset: number, reason: number = CloseReason.SlaBreach) =>
  at(c.anchor + offset, () => c.escrow.connect(c.oracle).closeForProviderFault(c.rentalId, reason));

describe("RentalEscrow.closeForProviderFault", () => {
  describe("given a pay-as-you-go rental 100 seconds in", () => {
    for (const [name, reason] of [
      ["SlaBreach", CloseReason.SlaBreach],
      ["ProviderSlashed", CloseReason.ProviderSlashed],
    ] as const) {
      describe(`when the oracle closes it for ${name}`, () => {
        it(`emits CloseRental(${name}) with 55_600 earned and 19_944_400 back`, async () => {
          const c = await loadFixture(payAsYouGoFixture);
          await expect(fault(c, 100, reason))
            .to.emit(c.escrow, "CloseRental")
            .withArgs(c.rentalId, reason, c.oracle.address, 55_600, 19_944_400, 0);
        });

        it("pushes the unused 19_944_400 to the renter", async () => {
          const c = await loadFixture(payAsYouGoFixture);
          await expect(fault(c, 100, reason)).to.changeTokenBalances(
            c.usd,
            [c.renter, c.provider, c.escrow, c.oracle, c.treasury],
            [19_944_400, 0, -19_944_400, 0, 0],
          );
        });

        it(`records reason ${name}`, async () => {
          const c = await loadFixture(payAsYouGoFixture);
          await fault(c, 100, reason);
          expect((await c.escrow.getRental(c.rentalId)).closeReason).to.equal(reason);
        });
      });
    }

    it("releases the GPU", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await fault(c, 100);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus).to.equal(0);
    });

    it("leaves the provider what it earned (55_600)", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await fault(c, 100);
      expect((await c.escrow.getRental(c.rentalId)).amount).to.equal(55_600);
    });

    describe("when the reason is not a provider fault", () => {
      for (const [name, reason] of [
        ["None", CloseReason.None],
        ["Renter", CloseReason.Renter],
        ["Provider", CloseReason.Provider],
        ["Expired", CloseReason.Expired],
        ["InsufficientFunds", CloseReason.InsufficientFunds],
      ] as const) {
        it(`reverts with RentalEscrow_InvalidCloseReason(${name})`, async () => {
          const c = await loadFixture(payAsYouGoFixture);
          await expect(c.escrow.connect(c.oracle).closeForProviderFault(c.rentalId, reason))
            .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_InvalidCloseReason")
            .withArgs(reason);
        });
      }
    });

    describe("when the caller lacks ORACLE_ROLE", () => {
      for (const who of ["admin", "guardian", "provider", "renter", "keeper"] as const) {
        it(`reverts with AccessControlUnauthorizedAccount for the ${who}`, async () => {
          const c = await loadFixture(payAsYouGoFixture);
          await expect(c.escrow.connect(c[who]).closeForProviderFault(c.rentalId, CloseReason.SlaBreach))
            .to.be.revertedWithCustomError(c.escrow, "AccessControlUnauthorizedAccount")
            .withArgs(c[who].address, ORACLE_ROLE);
        });
      }
    });
  });

  describe("given a 7-day saving plan one day in", () => {
    it("emits CloseRental with every unused unit back and no penalty", async () => {
      const c = await loadFixture(savingFixture);
      await expect(fault(c, DAY))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.SlaBreach, c.oracle.address, 45_600_000, 273_600_000, 0);
    });

    it("refunds 273_600_000 to the renter", async () => {
      const c = await loadFixture(savingFixture);
      await expect(fault(c, DAY)).to.changeTokenBalances(
        c.usd,
        [c.renter, c.provider, c.escrow],
        [273_600_000, 0, -273_600_000],
      );
    });

    it("unlocks the provider's stake", async () => {
      const c = await loadFixture(savingFixture);
      await fault(c, DAY);
      expect(await c.registry.lockedStake(c.provider.address)).to.equal(0);
    });
  });

  describe("given the renter cannot receive the token (blocklisted)", () => {
    it("credits the refund instead of reverting", async () => {
      const c = await loadFixture(blocklistFixture);
      await c.token.setBlocked(c.renter.address, true);
      await expect(
        at(c.anchor + 100, () => c.escrow.connect(c.oracle).closeForProviderFault(c.rentalId, CloseReason.SlaBreach)),
      )
        .to.emit(c.escrow, "CreditRefund")
        .withArgs(c.rentalId, c.renter.address, c.tokenAddress, 19_944_400);
    });
  });

  describe("given the rental is closed", () => {
    it("reverts with RentalEscrow_RentalClosed", async () => {
      const c = await loadFixture(closedPayAsYouGoFixture);
      await expect(c.escrow.connect(c.oracle).closeForProviderFault(c.rentalId, CloseReason.SlaBreach))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_RentalClosed")
        .withArgs(c.rentalId);
    });
  });

  describe("given the rental does not exist", () => {
    it("reverts with RentalEscrow_UnknownRental", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await expect(c.escrow.connect(c.oracle).closeForProviderFault(99, CloseReason.SlaBreach))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownRental")
        .withArgs(99);
    });
  });

  describe("given the escrow is paused", () => {
    it("still closes", async () => {
      const c = await loadFixture(pausedFixture);
      await expect(fault(c, 100))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.SlaBreach, c.oracle.address, 55_600, 19_944_400, 0);
    });
  });
});
