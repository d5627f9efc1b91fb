import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { KAI } from "../../fixtures";
import { deployDistributor } from "../../helpers/rewards";

describe("RewardDistributor.fundReserve", function () {
  describe("given an empty reserve", function () {
    describe("when the treasury adds 1,000 KAI", function () {
      it("emits FundReserve(treasury, 1,000 KAI)", async function () {
        const c = await loadFixture(deployDistributor);
        await expect(c.distributor.connect(c.treasury).fundReserve(KAI(1_000)))
          .to.emit(c.distributor, "FundReserve")
          .withArgs(c.treasury.address, KAI(1_000));
      });

      it("moves 1,000 KAI from the treasury to the distributor", async function () {
        const c = await loadFixture(deployDistributor);
        await expect(c.distributor.connect(c.treasury).fundReserve(KAI(1_000))).to.changeTokenBalances(
          c.kai,
          [c.treasury, c.distributor],
          [-KAI(1_000), KAI(1_000)],
        );
      });

      it("sets the reserve to 1,000 KAI", async function () {
        const c = await loadFixture(deployDistributor);
        await c.distributor.connect(c.treasury).fundReserve(KAI(1_000));
        expect(await c.distributor.reserve(), "reserve").to.equal(KAI(1_000));
      });
    });

    describe("when two funders add to it", function () {
      it("sums their amounts, to the wei", async function () {
        const c = await loadFixture(deployDistributor);
        await c.kai.connect(c.keeper).approve(await c.distributor.getAddress(), 1n);
        await c.distributor.connect(c.treasury).fundReserve(KAI(1_000));
        await expect(c.distributor.connect(c.keeper).fundReserve(1n))
          .to.emit(c.distributor, "FundReserve")
          .withArgs(c.keeper.address, 1n);
        expect(await c.distributor.reserve(), "reserve").to.equal(KAI(1_000) + 1n);
        expect(await c.kai.balanceOf(await c.distributor.getAddress()), "balance").to.equal(KAI(1_000) + 1n);
      });
    });

    describe("when the amount is zero", function () {
      it("reverts with ZeroAmount", async function () {
        const c = await loadFixture(deployDistributor);
        await expect(c.distributor.connect(c.treasury).fundReserve(0n)).to.be.revertedWithCustomError(
          c.distributor,
          "RewardDistributor_ZeroAmount",
        );
      });
    });

    describe("when the funder has not approved the distributor", function () {
      it("reverts with the token's ERC20InsufficientAllowance", async function () {
        const c = await loadFixture(deployDistributor);
        await expect(c.distributor.connect(c.keeper).fundReserve(KAI(1)))
          .to.be.revertedWithCustomError(c.kai, "ERC20InsufficientAllowance")
          .withArgs(await c.distributor.getAddress(), 0n, KAI(1));
      });
    });
  });
});
