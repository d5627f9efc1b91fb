import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { CloseReason, DAY, HOUR, Plan } from "../../fixtures";
import {
  escrowFixture,
  payAsYouGoFixture,
  hourlyFixture,
  savingFixture,
  closedPayAsYouGoFixture,
  blocklistFixture,
  pausedFixture,
  rent,
  at,
  ORACLE_ROLE,
  SAVING_DEPOSIT,
  SAVING_TERM,
  revertsNothingToWithdraw,
} from "../../helpers/escrow";

type Fixture = Awaited<ReturnType<typeof payAsYouGoFixture>>;
const fault = (c: Fixture, offset: number, reason: number = CloseReason.SlaBreach) =>
  at(c.anchor + offset, () => c.escrow.connect(c.oracle).closeForProviderFault(c.rentalId, reason));
const slash = (c: Fixture, offset: number) => fault(c, offset, CloseReason.ProviderSlashed);

/**
 * The saving plan with 12 hours (43_200 units = 22_800_000 gross, 2_280_000 fee) withdrawn, rented
 * under terms with no early-exit penalty (so nothing is held back from the provider).
 */
async function savingWithdrawnFixture() {
  const base = await escrowFixture();
  await base.escrow.setEarlyExitPenaltyBps(0);
  const opened = await rent(base, { plan: Plan.Saving, deposit: 0n, termDays: 7 });
  const c = { ...base, ...opened, paidUntil: opened.anchor + SAVING_TERM };
  await at(c.anchor + 12 * HOUR, () => c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId]));
  return c;
}

/** A 7-day saving plan (rental 2) paid in the blocklist token, its renter blocked. */
async function blockedSavingFixture() {
  const c = await blocklistFixture();
  const opened = await rent(c, { plan: Plan.Saving, deposit: 0n, termDays: 7, token: c.tokenAddress });
  await c.token.setBlocked(c.renter.address, true);
  return { ...c, ...opened };
}

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

  describe("given a 7-day saving plan one day in, closed for ProviderSlashed", () => {
    it("emits CloseRental(ProviderSlashed) with 0 to the provider and all 319_200_000 back", async () => {
      const c = await loadFixture(savingFixture);
      await expect(slash(c, DAY))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.ProviderSlashed, c.oracle.address, 0, SAVING_DEPOSIT, 0);
    });

    it("refunds the whole deposit, the day earned included", async () => {
      const c = await loadFixture(savingFixture);
      await expect(slash(c, DAY)).to.changeTokenBalances(
        c.usd,
        [c.renter, c.provider, c.escrow],
        [SAVING_DEPOSIT, 0, -SAVING_DEPOSIT],
      );
    });

    it("leaves the provider nothing: amount 0, 0 units served, nothing withdrawable", async () => {
      const c = await loadFixture(savingFixture);
      await slash(c, DAY);
      const r = await c.escrow.getRental(c.rentalId);
      expect([r.amount, r.withdrawnUnits, r.closeReason, await c.escrow.withdrawable(c.rentalId)]).to.deep.equal([
        0n,
        0n,
        BigInt(CloseReason.ProviderSlashed),
        0n,
      ]);
    });

    it("makes withdrawEarnings revert with RentalEscrow_NothingToWithdraw", async () => {
      const c = await loadFixture(savingFixture);
      await slash(c, DAY);
      await revertsNothingToWithdraw(c, c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId]));
    });

    it("leaves an empty service window [anchor, anchor)", async () => {
      const c = await loadFixture(savingFixture);
      await slash(c, DAY);
      expect([...(await c.escrow.serviceWindow(c.rentalId))]).to.deep.equal([BigInt(c.anchor), BigInt(c.anchor)]);
    });

    it("unlocks the provider's stake and releases the GPU", async () => {
      const c = await loadFixture(savingFixture);
      await slash(c, DAY);
      expect([
        await c.registry.lockedStake(c.provider.address),
        (await c.registry.getNode(c.nodeId)).rentedGpus,
      ]).to.deep.equal([0n, 0n]);
    });

    it("refunds in full even once the term has run out (not yet closed)", async () => {
      const c = await loadFixture(savingFixture);
      await expect(slash(c, SAVING_TERM + HOUR))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.ProviderSlashed, c.oracle.address, 0, SAVING_DEPOSIT, 0);
    });
  });

  describe("given the saving plan's provider withdrew 12 hours (22_800_000) before it is slashed a day in", () => {
    it("emits CloseRental with the 22_800_000 withdrawn as the provider's and 296_400_000 back", async () => {
      const c = await loadFixture(savingWithdrawnFixture);
      await expect(slash(c, DAY))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.ProviderSlashed, c.oracle.address, 22_800_000, 296_400_000, 0);
    });

    it("refunds the 296_400_000 not withdrawn, unwithdrawn earnings (22_800_000) included", async () => {
      const c = await loadFixture(savingWithdrawnFixture);
      await expect(slash(c, DAY)).to.changeTokenBalances(
        c.usd,
        [c.renter, c.provider, c.escrow],
        [296_400_000, 0, -296_400_000],
      );
    });

    it("leaves amount 0 and the 43_200 withdrawn units as the units served", async () => {
      const c = await loadFixture(savingWithdrawnFixture);
      await slash(c, DAY);
      const r = await c.escrow.getRental(c.rentalId);
      expect([r.amount, r.withdrawnUnits, await c.escrow.withdrawable(c.rentalId)]).to.deep.equal([0n, 43_200n, 0n]);
    });

    it("serves [anchor, anchor + 12 hours)", async () => {
      const c = await loadFixture(savingWithdrawnFixture);
      await slash(c, DAY);
      expect([...(await c.escrow.serviceWindow(c.rentalId))]).to.deep.equal([
        BigInt(c.anchor),
        BigInt(c.anchor + 12 * HOUR),
      ]);
    });

    it("conserves the deposit: 296_400_000 + 20_520_000 net + 2_280_000 fees, the escrow keeps only the fees", async () => {
      const c = await loadFixture(savingWithdrawnFixture);
      await slash(c, DAY);
      expect([await c.usd.balanceOf(c.escrowAddress), await c.escrow.accruedFees(c.usdAddress)]).to.deep.equal([
        2_280_000n,
        2_280_000n,
      ]);
      expect(296_400_000n + 20_520_000n + 2_280_000n).to.equal(SAVING_DEPOSIT);
    });
  });

  describe("given a blocked renter's saving plan slashed a day in", () => {
    it("credits the whole 319_200_000 to refundCredit", async () => {
      const c = await loadFixture(blockedSavingFixture);
      await expect(
        at(c.anchor + DAY, () =>
          c.escrow.connect(c.oracle).closeForProviderFault(c.rentalId, CloseReason.ProviderSlashed),
        ),
      )
        .to.emit(c.escrow, "CreditRefund")
        .withArgs(c.rentalId, c.renter.address, c.tokenAddress, SAVING_DEPOSIT);
      expect(await c.escrow.refundCredit(c.renter.address, c.tokenAddress)).to.equal(SAVING_DEPOSIT);
    });
  });

  describe("what ProviderSlashed does not refund in full (unchanged)", () => {
    it("pay-as-you-go: the provider keeps the 55_600 earned (amount 55_600, 100 units served)", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await slash(c, 100);
      const r = await c.escrow.getRental(c.rentalId);
      expect([r.amount, r.withdrawnUnits]).to.deep.equal([55_600n, 100n]);
    });

    it("hourly 1.5 hours in: emits CloseRental with 4_000_000 (2 hours) earned and 7_000_000 back", async () => {
      const c = await loadFixture(hourlyFixture);
      await expect(slash(c, 5_400))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.ProviderSlashed, c.oracle.address, 4_000_000, 7_000_000, 0);
    });

    it("hourly 1.5 hours in: leaves the provider 4_000_000, 2 units served", async () => {
      const c = await loadFixture(hourlyFixture);
      await slash(c, 5_400);
      const r = await c.escrow.getRental(c.rentalId);
      expect([r.amount, r.withdrawnUnits, await c.escrow.withdrawable(c.rentalId)]).to.deep.equal([
        4_000_000n,
        2n,
        4_000_000n,
      ]);
    });

    it("saving closed for SlaBreach a day in: the provider keeps 45_600_000, 86_400 units served", async () => {
      const c = await loadFixture(savingFixture);
      await fault(c, DAY);
      const r = await c.escrow.getRental(c.rentalId);
      expect([r.amount, r.withdrawnUnits]).to.deep.equal([45_600_000n, 86_400n]);
    });

    it("saving closed for SlaBreach after a 12-hour withdrawal: 45_600_000 earned, 22_800_000 left", async () => {
      const c = await loadFixture(savingWithdrawnFixture);
      await expect(fault(c, DAY))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.SlaBreach, c.oracle.address, 45_600_000, 273_600_000, 0);
      expect((await c.escrow.getRental(c.rentalId)).amount).to.equal(22_800_000);
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
