import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { Plan } from "../../fixtures";
import {
  blocklistFixture,
  creditedRefundFixture,
  rent,
  at,
  PAYG_DEPOSIT,
  PAYG_REMAINDER,
  revertsNothingToWithdraw,
} from "../../helpers/escrow";

/** The credited fixture with the renter unblocked again. */
async function unblockedFixture() {
  const c = await creditedRefundFixture();
  await c.token.setBlocked(c.renter.address, false);
  return c;
}

describe("RentalEscrow.claimRefundCredit", () => {
  describe("given the renter has 124 credited and can receive again", () => {
    it("emits ClaimRefundCredit(renter, token, 124)", async () => {
      const c = await loadFixture(unblockedFixture);
      await expect(c.escrow.connect(c.renter).claimRefundCredit(c.tokenAddress))
        .to.emit(c.escrow, "ClaimRefundCredit")
        .withArgs(c.renter.address, c.tokenAddress, PAYG_REMAINDER);
    });

    it("pays the 124 to the renter", async () => {
      const c = await loadFixture(unblockedFixture);
      await expect(c.escrow.connect(c.renter).claimRefundCredit(c.tokenAddress)).to.changeTokenBalances(
        c.token,
        [c.renter, c.provider, c.escrow, c.treasury],
        [PAYG_REMAINDER, 0, -PAYG_REMAINDER, 0],
      );
    });

    it("returns the amount claimed", async () => {
      const c = await loadFixture(unblockedFixture);
      expect(await c.escrow.connect(c.renter).claimRefundCredit.staticCall(c.tokenAddress)).to.equal(PAYG_REMAINDER);
    });

    it("clears the credit", async () => {
      const c = await loadFixture(unblockedFixture);
      await c.escrow.connect(c.renter).claimRefundCredit(c.tokenAddress);
      expect(await c.escrow.refundCredit(c.renter.address, c.tokenAddress)).to.equal(0);
    });

    it("reverts with RentalEscrow_NothingToWithdraw on a second claim", async () => {
      const c = await loadFixture(unblockedFixture);
      await c.escrow.connect(c.renter).claimRefundCredit(c.tokenAddress);
      await revertsNothingToWithdraw(c, c.escrow.connect(c.renter).claimRefundCredit(c.tokenAddress));
    });

    it("reverts with RentalEscrow_NothingToWithdraw in another token", async () => {
      const c = await loadFixture(unblockedFixture);
      await revertsNothingToWithdraw(c, c.escrow.connect(c.renter).claimRefundCredit(c.usdAddress));
    });

    it("pays the caller only: another account has nothing to claim", async () => {
      const c = await loadFixture(unblockedFixture);
      await revertsNothingToWithdraw(c, c.escrow.connect(c.renter2).claimRefundCredit(c.tokenAddress));
    });

    it("still claims while the escrow is paused", async () => {
      const c = await loadFixture(unblockedFixture);
      await c.escrow.connect(c.guardian).pause();
      await expect(c.escrow.connect(c.renter).claimRefundCredit(c.tokenAddress)).to.changeTokenBalance(
        c.token,
        c.renter,
        PAYG_REMAINDER,
      );
    });
  });

  describe("given the renter is still blocked", () => {
    it("reverts with the token's error and keeps the credit for later", async () => {
      const c = await loadFixture(creditedRefundFixture);
      await expect(c.escrow.connect(c.renter).claimRefundCredit(c.tokenAddress)).to.be.revertedWith("blocked");
    });
  });

  describe("given refunds of two rentals were credited", () => {
    it("adds them up: 124 + 19_944_400", async () => {
      const c = await loadFixture(unblockedFixture);
      const { rentalId, anchor } = await rent(c, {
        plan: Plan.PayAsYouGo,
        deposit: PAYG_DEPOSIT,
        token: c.tokenAddress,
      });
      await c.token.setBlocked(c.renter.address, true);
      // The provider ends it 100 s in: 55_600 earned, 19_944_400 credited.
      await at(anchor + 100, () => c.escrow.connect(c.provider).endRental(rentalId));
      expect(await c.escrow.refundCredit(c.renter.address, c.tokenAddress)).to.equal(PAYG_REMAINDER + 19_944_400n);
    });
  });

  describe("given nothing was ever credited", () => {
    it("reverts with RentalEscrow_NothingToWithdraw", async () => {
      const c = await loadFixture(blocklistFixture);
      await revertsNothingToWithdraw(c, c.escrow.connect(c.renter).claimRefundCredit(c.tokenAddress));
    });
  });
});
