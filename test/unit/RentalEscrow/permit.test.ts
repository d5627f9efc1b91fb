import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { KAI, KAI_PRICE, Plan, USD } from "../../fixtures";
import { escrowFixture, params, rent, KAI_PAYG_RATE } from "../../helpers/escrow";
import { signPermit } from "../../helpers/permit";

/**
 * rentWithPermit / topUpWithPermit: one EIP-2612 signature and one transaction, for exactly the
 * amount pulled. KAI is the fixture's permit token; the renter's standing KAI allowance to the
 * escrow is set to 0 first, so only the permit can pay.
 */
// Pay-as-you-go at ceil(20e18 / 3600) = 5_555_555_555_555_556 per second: 5_399 s, more than the 1-hour grace.
const KAI_DEPOSIT = KAI(30);
// Saving, 7 days, 1 GPU: 20 KAI - 5% = 19 KAI an hour, x 24 x 7 = 3_192 KAI.
const KAI_SAVING_DEPOSIT = KAI(3_192);

async function permitFixture() {
  const c = await escrowFixture();
  await c.kai.connect(c.renter).approve(c.escrowAddress, 0);
  const deadline = BigInt((await time.latest()) + 3_600);
  const kaiParams = (overrides: Parameters<typeof params>[1] = {}) =>
    params(c, { token: c.kaiAddress, maxPricePerGpuHour: KAI_PRICE, deposit: KAI_DEPOSIT, ...overrides });
  const sign = (value: bigint, signer = c.renter, overrides = {}) =>
    signPermit(c.kai, signer, c.escrowAddress, value, deadline, overrides);
  return { ...c, deadline, kaiParams, sign };
}

/** A pay-as-you-go rental paid in KAI (with a plain approval), then the allowance set back to 0. */
async function kaiRentalFixture() {
  const c = await permitFixture();
  await c.kai.connect(c.renter).approve(c.escrowAddress, KAI_DEPOSIT);
  const opened = await rent(c, { token: c.kaiAddress, maxPricePerGpuHour: KAI_PRICE, deposit: KAI_DEPOSIT });
  expect(await c.kai.allowance(c.renter.address, c.escrowAddress)).to.equal(0);
  return { ...c, ...opened };
}

describe("RentalEscrow.rentWithPermit", () => {
  describe("given a permit of exactly the deposit", () => {
    it("opens the rental: emits OpenRental and the permit's Approval", async () => {
      const c = await loadFixture(permitFixture);
      const { v, r, s } = await c.sign(KAI_DEPOSIT);
      const tx = c.escrow.connect(c.renter).rentWithPermit(await c.kaiParams(), c.deadline, v, r, s);
      await expect(tx)
        .to.emit(c.escrow, "OpenRental")
        .withArgs(1, c.renter.address, c.nodeId, c.kaiAddress, Plan.PayAsYouGo, 1, KAI_PAYG_RATE, KAI_DEPOSIT, 0, 0);
      await expect(tx).to.emit(c.kai, "Approval").withArgs(c.renter.address, c.escrowAddress, KAI_DEPOSIT);
    });

    it("moves exactly the deposit and leaves no allowance behind", async () => {
      const c = await loadFixture(permitFixture);
      const { v, r, s } = await c.sign(KAI_DEPOSIT);
      await expect(
        c.escrow.connect(c.renter).rentWithPermit(await c.kaiParams(), c.deadline, v, r, s),
      ).to.changeTokenBalances(c.kai, [c.renter, c.escrow], [-KAI_DEPOSIT, KAI_DEPOSIT]);
      expect(await c.kai.allowance(c.renter.address, c.escrowAddress)).to.equal(0);
      expect(await c.kai.nonces(c.renter.address)).to.equal(1);
    });

    it("takes a saving plan's prepaid term (3_192 KAI for 7 days) as the permit's value", async () => {
      const c = await loadFixture(permitFixture);
      const { v, r, s } = await c.sign(KAI_SAVING_DEPOSIT);
      const p = await c.kaiParams({ plan: Plan.Saving, deposit: 0n, termDays: 7 });
      await expect(c.escrow.connect(c.renter).rentWithPermit(p, c.deadline, v, r, s)).to.changeTokenBalances(
        c.kai,
        [c.renter, c.escrow],
        [-KAI_SAVING_DEPOSIT, KAI_SAVING_DEPOSIT],
      );
      expect((await c.escrow.getRental(1)).amount).to.equal(KAI_SAVING_DEPOSIT);
    });
  });

  describe("given a permit someone front-ran (submitted it to the token first)", () => {
    it("still opens the rental: the allowance the permit set pays", async () => {
      const c = await loadFixture(permitFixture);
      const { v, r, s } = await c.sign(KAI_DEPOSIT);
      await c.kai.connect(c.other).permit(c.renter.address, c.escrowAddress, KAI_DEPOSIT, c.deadline, v, r, s);
      const tx = c.escrow.connect(c.renter).rentWithPermit(await c.kaiParams(), c.deadline, v, r, s);
      await expect(tx).to.emit(c.escrow, "OpenRental");
      await expect(tx).to.changeTokenBalances(c.kai, [c.renter, c.escrow], [-KAI_DEPOSIT, KAI_DEPOSIT]);
      expect(await c.kai.allowance(c.renter.address, c.escrowAddress)).to.equal(0);
    });
  });

  describe("given a token without permit (the USD mock) and an approval", () => {
    it("opens the rental on the allowance", async () => {
      const c = await loadFixture(permitFixture);
      const p = await params(c);
      const tx = c.escrow.connect(c.renter).rentWithPermit(p, c.deadline, 27, ethers.ZeroHash, ethers.ZeroHash);
      await expect(tx).to.emit(c.escrow, "OpenRental");
      await expect(tx).to.changeTokenBalances(c.usd, [c.renter, c.escrow], [-USD(20), USD(20)]);
    });
  });

  describe("reverts", () => {
    it("with RentalEscrow_PermitFailed(token, allowance, deposit) for a token without permit and no approval", async () => {
      const c = await loadFixture(permitFixture);
      await c.usd.connect(c.renter).approve(c.escrowAddress, USD(5));
      await expect(
        c.escrow.connect(c.renter).rentWithPermit(await params(c), c.deadline, 27, ethers.ZeroHash, ethers.ZeroHash),
      )
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_PermitFailed")
        .withArgs(c.usdAddress, USD(5), USD(20));
    });

    it("with RentalEscrow_PermitFailed when the permit is for another amount", async () => {
      const c = await loadFixture(permitFixture);
      const { v, r, s } = await c.sign(KAI_DEPOSIT - 1n);
      await expect(c.escrow.connect(c.renter).rentWithPermit(await c.kaiParams(), c.deadline, v, r, s))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_PermitFailed")
        .withArgs(c.kaiAddress, 0, KAI_DEPOSIT);
    });

    it("with RentalEscrow_PermitFailed when the permit's deadline has passed", async () => {
      const c = await loadFixture(permitFixture);
      const { v, r, s } = await c.sign(KAI_DEPOSIT);
      await time.increaseTo(c.deadline + 1n);
      await expect(c.escrow.connect(c.renter).rentWithPermit(await c.kaiParams(), c.deadline, v, r, s))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_PermitFailed")
        .withArgs(c.kaiAddress, 0, KAI_DEPOSIT);
    });

    it("with RentalEscrow_PermitFailed when another account sends the renter's permit", async () => {
      const c = await loadFixture(permitFixture);
      const { v, r, s } = await c.sign(KAI_DEPOSIT);
      await c.kai.connect(c.renter2).approve(c.escrowAddress, 0);
      // The permit is checked against the sender as owner: the renter's signature does not recover to it.
      await expect(c.escrow.connect(c.renter2).rentWithPermit(await c.kaiParams(), c.deadline, v, r, s))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_PermitFailed")
        .withArgs(c.kaiAddress, 0, KAI_DEPOSIT);
    });

    it("as rent does, before any permit, e.g. RentalEscrow_InvalidGpuCount(0) and RentalEscrow_Paused", async () => {
      const c = await loadFixture(permitFixture);
      const { v, r, s } = await c.sign(KAI_DEPOSIT);
      await expect(c.escrow.connect(c.renter).rentWithPermit(await c.kaiParams({ gpus: 0 }), c.deadline, v, r, s))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_InvalidGpuCount")
        .withArgs(0);
      await c.escrow.connect(c.guardian).pause();
      await expect(
        c.escrow.connect(c.renter).rentWithPermit(await c.kaiParams(), c.deadline, v, r, s),
      ).to.be.revertedWithCustomError(c.escrow, "RentalEscrow_Paused");
      expect(await c.kai.nonces(c.renter.address)).to.equal(0);
    });
  });
});

describe("RentalEscrow.topUpWithPermit", () => {
  it("adds the amount: emits TopUpRental, moves exactly it, leaves no allowance", async () => {
    const c = await loadFixture(kaiRentalFixture);
    const { v, r, s } = await c.sign(KAI(10));
    const tx = c.escrow.connect(c.renter).topUpWithPermit(c.rentalId, KAI(10), c.deadline, v, r, s);
    // 30 KAI / 5_555_555_555_555_556 per second = 5_399 seconds.
    await expect(tx)
      .to.emit(c.escrow, "TopUpRental")
      .withArgs(c.rentalId, KAI(10), KAI(40), c.anchor + 7_199);
    await expect(tx).to.changeTokenBalances(c.kai, [c.renter, c.escrow], [-KAI(10), KAI(10)]);
    expect(await c.kai.allowance(c.renter.address, c.escrowAddress)).to.equal(0);
  });

  it("goes through when someone front-ran the permit", async () => {
    const c = await loadFixture(kaiRentalFixture);
    const { v, r, s } = await c.sign(KAI(10));
    await c.kai.connect(c.other).permit(c.renter.address, c.escrowAddress, KAI(10), c.deadline, v, r, s);
    await expect(c.escrow.connect(c.renter).topUpWithPermit(c.rentalId, KAI(10), c.deadline, v, r, s)).to.emit(
      c.escrow,
      "TopUpRental",
    );
  });

  it("reverts with RentalEscrow_PermitFailed(token, allowance, amount) for a bad permit", async () => {
    const c = await loadFixture(kaiRentalFixture);
    const { v, r, s } = await c.sign(KAI(9));
    await expect(c.escrow.connect(c.renter).topUpWithPermit(c.rentalId, KAI(10), c.deadline, v, r, s))
      .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_PermitFailed")
      .withArgs(c.kaiAddress, 0, KAI(10));
  });

  it("reverts as topUp does: RentalEscrow_NotRenter, RentalEscrow_ZeroAmount, RentalEscrow_Paused", async () => {
    const c = await loadFixture(kaiRentalFixture);
    const { v, r, s } = await c.sign(KAI(10));
    await expect(c.escrow.connect(c.other).topUpWithPermit(c.rentalId, KAI(10), c.deadline, v, r, s))
      .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NotRenter")
      .withArgs(c.rentalId, c.other.address);
    await expect(
      c.escrow.connect(c.renter).topUpWithPermit(c.rentalId, 0, c.deadline, v, r, s),
    ).to.be.revertedWithCustomError(c.escrow, "RentalEscrow_ZeroAmount");
    await c.escrow.connect(c.guardian).pause();
    await expect(
      c.escrow.connect(c.renter).topUpWithPermit(c.rentalId, KAI(10), c.deadline, v, r, s),
    ).to.be.revertedWithCustomError(c.escrow, "RentalEscrow_Paused");
  });
});
