import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { Plan, HOUR, DAY, KAI, USD_PRICE, defaultSpec, registerNode } from "../../fixtures";
import {
  payAsYouGoFixture,
  savingFixture,
  closedPayAsYouGoFixture,
  twoProvidersFixture,
  pausedFixture,
  rent,
  params,
  at,
  viewAt,
  PAYG_DEPOSIT,
  HOURLY_DEPOSIT,
  SAVING_DEPOSIT,
  revertsNothingToWithdraw,
} from "../../helpers/escrow";

type Fixture = Awaited<ReturnType<typeof payAsYouGoFixture>>;
const withdraw = (c: Fixture, timestamp: number, ids: bigint[] = [c.rentalId]) =>
  at(timestamp, () => c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, ids));

/** Rental 2 (renter2, pay-as-you-go USD 20) opened 10 s after rental 1. */
async function twoRentalsFixture() {
  const c = await payAsYouGoFixture();
  const p = await params(c, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT, maxPricePerGpuHour: USD_PRICE });
  await at(c.anchor + 10, () => c.escrow.connect(c.renter2).rent(p));
  return { ...c, rentalId2: 2n };
}

describe("RentalEscrow.withdrawEarnings", () => {
  describe("given a pay-as-you-go rental 100 seconds in (55_600 gross)", () => {
    describe("when the provider withdraws", () => {
      it("emits WithdrawEarnings(provider, token, 1, 55_600, 5_560)", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(withdraw(c, c.anchor + 100))
          .to.emit(c.escrow, "WithdrawEarnings")
          .withArgs(c.provider.address, c.usdAddress, 1, 55_600, 5_560);
      });

      it("pays 50_040 net of the 10% fee", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(withdraw(c, c.anchor + 100)).to.changeTokenBalances(
          c.usd,
          [c.renter, c.provider, c.escrow, c.treasury],
          [0, 50_040, -50_040, 0],
        );
      });

      it("returns the net amount", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await viewAt(c.anchor + 100);
        expect(await c.escrow.connect(c.provider).withdrawEarnings.staticCall(c.usdAddress, [c.rentalId])).to.equal(
          50_040,
        );
      });

      it("accrues the 5_560 fee", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await withdraw(c, c.anchor + 100);
        expect(await c.escrow.accruedFees(c.usdAddress)).to.equal(5_560);
      });

      it("records 100 units withdrawn", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await withdraw(c, c.anchor + 100);
        expect((await c.escrow.getRental(c.rentalId)).withdrawnUnits).to.equal(100);
      });

      it("leaves the renter's deposit untouched", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await withdraw(c, c.anchor + 100);
        expect((await c.escrow.getRental(c.rentalId)).amount).to.equal(PAYG_DEPOSIT);
      });
    });

    describe("when the provider withdraws again 50 seconds later", () => {
      it("pays only the 50 new seconds: 27_800 gross, 2_780 fee", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await withdraw(c, c.anchor + 100);
        await expect(withdraw(c, c.anchor + 150))
          .to.emit(c.escrow, "WithdrawEarnings")
          .withArgs(c.provider.address, c.usdAddress, 1, 27_800, 2_780);
      });
    });

    describe("when the same id is listed twice", () => {
      it("pays it once (the count still says 2)", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(withdraw(c, c.anchor + 100, [c.rentalId, c.rentalId]))
          .to.emit(c.escrow, "WithdrawEarnings")
          .withArgs(c.provider.address, c.usdAddress, 2, 55_600, 5_560);
      });
    });

    describe("when someone other than the node's provider withdraws", () => {
      for (const who of ["renter", "provider2", "keeper", "admin", "treasury"] as const) {
        it(`reverts with RentalEscrow_NotProvider for the ${who}`, async () => {
          const c = await loadFixture(payAsYouGoFixture);
          await expect(c.escrow.connect(c[who]).withdrawEarnings(c.usdAddress, [c.rentalId]))
            .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NotProvider")
            .withArgs(c.rentalId, c[who].address);
        });
      }
    });

    describe("when the token is not allow-listed", () => {
      it("reverts with RentalEscrow_TokenNotAllowed", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(c.escrow.connect(c.provider).withdrawEarnings(c.other.address, [c.rentalId]))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_TokenNotAllowed")
          .withArgs(c.other.address);
      });
    });

    describe("when the rental is paid in another token", () => {
      it("reverts with RentalEscrow_TokenMismatch(rentalId, token)", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(c.escrow.connect(c.provider).withdrawEarnings(c.kaiAddress, [c.rentalId]))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_TokenMismatch")
          .withArgs(c.rentalId, c.kaiAddress);
      });
    });

    describe("when a rental id does not exist", () => {
      it("reverts with RentalEscrow_UnknownRental(rentalId)", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await expect(c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId, 99n]))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownRental")
          .withArgs(99);
      });
    });

    describe("when the list is empty", () => {
      it("reverts with RentalEscrow_NothingToWithdraw", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await revertsNothingToWithdraw(c, c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, []));
      });
    });

    describe("when the token has been disabled", () => {
      it("still pays out", async () => {
        const c = await loadFixture(payAsYouGoFixture);
        await c.escrow.setPaymentTokenEnabled(c.usdAddress, false);
        await expect(withdraw(c, c.anchor + 100)).to.changeTokenBalance(c.usd, c.provider, 50_040);
      });
    });
  });

  describe("given two pay-as-you-go rentals on the node", () => {
    it("pays both in one call, rounding the fee down per rental", async () => {
      const c = await loadFixture(twoRentalsFixture);
      // Rental 1: 111 s = 61_716 (fee 6_171.6 -> 6_171); rental 2: 101 s = 56_156 (fee 5_615.6 -> 5_615).
      await expect(withdraw(c, c.anchor + 111, [c.rentalId, c.rentalId2]))
        .to.emit(c.escrow, "WithdrawEarnings")
        .withArgs(c.provider.address, c.usdAddress, 2, 117_872, 11_786);
    });

    it("pays the provider 117_872 - 11_786 = 106_086", async () => {
      const c = await loadFixture(twoRentalsFixture);
      await expect(withdraw(c, c.anchor + 111, [c.rentalId, c.rentalId2])).to.changeTokenBalances(
        c.usd,
        [c.provider, c.escrow],
        [106_086, -106_086],
      );
    });

    it("takes each rental's fee from its own terms (10% and, after a change, 5%)", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await c.escrow.setFeeBps(500);
      const second = await rent(c, { deposit: PAYG_DEPOSIT }, c.renter2);
      // Rental 1: (second.anchor + 100 - anchor) s at 10%; rental 2: 100 s = 55_600 at 5% = 2_780.
      const first = BigInt(second.anchor + 100 - c.anchor) * 556n;
      await expect(withdraw(c, second.anchor + 100, [c.rentalId, second.rentalId]))
        .to.emit(c.escrow, "WithdrawEarnings")
        .withArgs(c.provider.address, c.usdAddress, 2, first + 55_600n, first / 10n + 2_780n);
    });
  });

  describe("given rentals on two nodes of the same provider", () => {
    it("pays both in one call", async () => {
      const c = await loadFixture(twoProvidersFixture);
      // An 8xRTX node (1x): 8,000 KAI more stake.
      const nodeB = await registerNode(c, c.provider, { ...defaultSpec, gpuClass: 1 });
      await c.registry.connect(c.provider).stake(KAI(8_000));
      const r1 = await rent(c, { deposit: PAYG_DEPOSIT });
      const r2 = await rent({ ...c, nodeId: nodeB }, { plan: Plan.Hourly, deposit: HOURLY_DEPOSIT });
      // Rental 1: (r2.anchor + 10 - r1.anchor) s x 556; rental 2: one hour = 2_000_000.
      const first = BigInt(r2.anchor + 10 - r1.anchor) * 556n;
      await expect(
        at(r2.anchor + 10, () =>
          c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [r1.rentalId, r2.rentalId]),
        ),
      )
        .to.emit(c.escrow, "WithdrawEarnings")
        .withArgs(c.provider.address, c.usdAddress, 2, first + 2_000_000n, first / 10n + 200_000n);
    });

    it("reverts with RentalEscrow_NotProvider when one rental runs on another provider's node", async () => {
      const c = await loadFixture(twoProvidersFixture);
      const r1 = await rent(c, { deposit: PAYG_DEPOSIT });
      const r2 = await rent({ ...c, nodeId: c.nodeId2 }, { deposit: PAYG_DEPOSIT });
      await expect(c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [r1.rentalId, r2.rentalId]))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NotProvider")
        .withArgs(r2.rentalId, c.provider.address);
    });
  });

  describe("given the rental was closed 100 seconds in", () => {
    it("pays the 55_600 the rental left the provider", async () => {
      const c = await loadFixture(closedPayAsYouGoFixture);
      await expect(c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId]))
        .to.emit(c.escrow, "WithdrawEarnings")
        .withArgs(c.provider.address, c.usdAddress, 1, 55_600, 5_560);
    });

    it("pays the same however long after the close", async () => {
      const c = await loadFixture(closedPayAsYouGoFixture);
      await expect(withdraw(c, c.anchor + 10 * DAY)).to.changeTokenBalance(c.usd, c.provider, 50_040);
    });

    it("zeroes what is left to withdraw", async () => {
      const c = await loadFixture(closedPayAsYouGoFixture);
      await c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId]);
      expect((await c.escrow.getRental(c.rentalId)).amount).to.equal(0);
    });

    it("reverts with RentalEscrow_NothingToWithdraw once everything is withdrawn", async () => {
      const c = await loadFixture(closedPayAsYouGoFixture);
      await c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId]);
      await revertsNothingToWithdraw(c, c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId]));
    });
  });

  describe("given a 7-day saving plan", () => {
    it("attack 6: streams linearly less the hold-back: one day in, 18_240_000 gross and 1_824_000 fee", async () => {
      const c = await loadFixture(savingFixture);
      // 45_600_000 earned less 10% of the unused 273_600_000 (what it owes the renter if it ends early).
      await expect(at(c.anchor + DAY, () => c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId])))
        .to.emit(c.escrow, "WithdrawEarnings")
        .withArgs(c.provider.address, c.usdAddress, 1, 18_240_000, 1_824_000);
    });

    it("attack 6: withdraws nothing while earnings are below the hold-back, everything at the term's end", async () => {
      const c = await loadFixture(savingFixture);
      // An hour in: 1_900_000 earned, 31_730_000 held back.
      await revertsNothingToWithdraw(
        c,
        at(c.anchor + HOUR, () => c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId])),
      );
      await expect(
        at(c.anchor + 7 * DAY, () => c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId])),
      )
        .to.emit(c.escrow, "WithdrawEarnings")
        .withArgs(c.provider.address, c.usdAddress, 1, SAVING_DEPOSIT, SAVING_DEPOSIT / 10n);
    });

    it("pays earnings plus the early-exit penalty after the renter ends early", async () => {
      const c = await loadFixture(savingFixture);
      await at(c.anchor + DAY, () => c.escrow.connect(c.renter).endRental(c.rentalId));
      // 45_600_000 earned + 27_360_000 penalty = 72_960_000; fee 7_296_000; net 65_664_000.
      await expect(c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId])).to.changeTokenBalances(
        c.usd,
        [c.provider, c.escrow, c.renter],
        [65_664_000, -65_664_000, 0],
      );
    });
  });

  describe("given an hourly rental", () => {
    it("pays a started hour in full", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      const h = await rent(c, { plan: Plan.Hourly, deposit: HOURLY_DEPOSIT }, c.renter2);
      await expect(
        at(h.anchor + HOUR + 1, () => c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [h.rentalId])),
      )
        .to.emit(c.escrow, "WithdrawEarnings")
        .withArgs(c.provider.address, c.usdAddress, 1, 4_000_000, 400_000);
    });
  });

  describe("given the escrow is paused", () => {
    it("still pays out", async () => {
      const c = await loadFixture(pausedFixture);
      await expect(withdraw(c, c.anchor + 100)).to.changeTokenBalance(c.usd, c.provider, 50_040);
    });
  });
});
