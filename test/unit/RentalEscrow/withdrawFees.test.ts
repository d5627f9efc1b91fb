import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { payAsYouGoFixture, feesAccruedFixture, at, revertsNothingToWithdraw } from "../../helpers/escrow";

/** Fees of 5_615 accrued (the provider withdrew 101 seconds: 56_156 gross). */
async function oddFeesFixture() {
  const c = await payAsYouGoFixture();
  await at(c.anchor + 101, () => c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId]));
  return c;
}

describe("RentalEscrow.withdrawFees", () => {
  describe("given 5_560 of fees accrued in USD (reward pool share 50%)", () => {
    it("emits WithdrawFees(token, 2_780, 2_780)", async () => {
      const c = await loadFixture(feesAccruedFixture);
      await expect(c.escrow.connect(c.keeper).withdrawFees(c.usdAddress))
        .to.emit(c.escrow, "WithdrawFees")
        .withArgs(c.usdAddress, 2_780, 2_780);
    });

    it("splits them between the treasury and the reward pool", async () => {
      const c = await loadFixture(feesAccruedFixture);
      await expect(c.escrow.connect(c.keeper).withdrawFees(c.usdAddress)).to.changeTokenBalances(
        c.usd,
        [c.treasury, c.rewardPool, c.escrow, c.provider, c.renter, c.keeper],
        [2_780, 2_780, -5_560, 0, 0, 0],
      );
    });

    it("resets the accrued fees", async () => {
      const c = await loadFixture(feesAccruedFixture);
      await c.escrow.connect(c.keeper).withdrawFees(c.usdAddress);
      expect(await c.escrow.accruedFees(c.usdAddress)).to.equal(0);
    });

    it("reverts with RentalEscrow_NothingToWithdraw when called again", async () => {
      const c = await loadFixture(feesAccruedFixture);
      await c.escrow.connect(c.keeper).withdrawFees(c.usdAddress);
      await revertsNothingToWithdraw(c, c.escrow.connect(c.keeper).withdrawFees(c.usdAddress));
    });

    it("reverts with RentalEscrow_NothingToWithdraw for a token without fees", async () => {
      const c = await loadFixture(feesAccruedFixture);
      await revertsNothingToWithdraw(c, c.escrow.connect(c.keeper).withdrawFees(c.kaiAddress));
    });

    it("sends everything to the treasury at a 0% reward pool share", async () => {
      const c = await loadFixture(feesAccruedFixture);
      await c.escrow.setFeeRecipients(c.treasury.address, c.rewardPool.address, 0);
      await expect(c.escrow.connect(c.keeper).withdrawFees(c.usdAddress)).to.changeTokenBalances(
        c.usd,
        [c.treasury, c.rewardPool, c.escrow],
        [5_560, 0, -5_560],
      );
    });

    it("sends everything to the reward pool at a 100% share", async () => {
      const c = await loadFixture(feesAccruedFixture);
      await c.escrow.setFeeRecipients(c.treasury.address, c.rewardPool.address, 10_000);
      await expect(c.escrow.connect(c.keeper).withdrawFees(c.usdAddress))
        .to.emit(c.escrow, "WithdrawFees")
        .withArgs(c.usdAddress, 0, 5_560);
    });

    it("pays the recipients in force when called (25% to a new pool)", async () => {
      const c = await loadFixture(feesAccruedFixture);
      await c.escrow.setFeeRecipients(c.other.address, c.keeper.address, 2_500);
      // 25% of 5_560 = 1_390 to the pool; 4_170 to the new treasury.
      await expect(c.escrow.connect(c.renter).withdrawFees(c.usdAddress)).to.changeTokenBalances(
        c.usd,
        [c.other, c.keeper, c.treasury, c.rewardPool, c.escrow],
        [4_170, 1_390, 0, 0, -5_560],
      );
    });

    it("still pays out while paused", async () => {
      const c = await loadFixture(feesAccruedFixture);
      await c.escrow.connect(c.guardian).pause();
      await expect(c.escrow.connect(c.keeper).withdrawFees(c.usdAddress))
        .to.emit(c.escrow, "WithdrawFees")
        .withArgs(c.usdAddress, 2_780, 2_780);
    });
  });

  describe("given an odd 5_615 of fees", () => {
    it("rounds the reward pool's half down and gives the treasury the rest (2_808 / 2_807)", async () => {
      const c = await loadFixture(oddFeesFixture);
      await expect(c.escrow.connect(c.keeper).withdrawFees(c.usdAddress))
        .to.emit(c.escrow, "WithdrawFees")
        .withArgs(c.usdAddress, 2_808, 2_807);
    });
  });

  describe("given no fees ever accrued", () => {
    it("reverts with RentalEscrow_NothingToWithdraw", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await revertsNothingToWithdraw(c, c.escrow.connect(c.keeper).withdrawFees(c.usdAddress));
    });
  });
});
