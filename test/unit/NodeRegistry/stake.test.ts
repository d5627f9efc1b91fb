import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { KAI } from "../../fixtures";
import {
  DEFAULT_REQUIRED_STAKE,
  UINT96_MAX,
  UNBONDING,
  deployPaused,
  deployWithEscrowCaller,
  deployWithMintableStakeToken,
  deployWithUnbonding,
  expectStake,
} from "../../helpers/registry";
import { signPermit } from "../../helpers/permit";
import { expectRevert } from "../../helpers/reverts";

describe("NodeRegistry.stake", function () {
  const AMOUNT = KAI(1_500);

  describe("given the registry is paused", function () {
    it("reverts with EnforcedPause", async function () {
      const c = await loadFixture(deployPaused);
      await expectRevert(c.registry, c.registry.connect(c.provider).stake(AMOUNT), "EnforcedPause");
    });
  });

  describe("when the amount is 0", function () {
    it("reverts with ZeroAmount", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expectRevert(c.registry, c.registry.connect(c.provider).stake(0), "NodeRegistry_ZeroAmount");
    });
  });

  describe("when the new stake would not fit uint96", function () {
    it("reverts with AmountTooLarge(staked + amount, 2^96 - 1)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const amount = UINT96_MAX - DEFAULT_REQUIRED_STAKE + 1n;
      await expect(c.registry.connect(c.provider).stake(amount))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_AmountTooLarge")
        .withArgs(UINT96_MAX + 1n, UINT96_MAX);
    });
  });

  describe("given a stake token with a supply above uint96", function () {
    it("accepts a stake of exactly 2^96 - 1", async function () {
      const c = await loadFixture(deployWithMintableStakeToken);
      await c.registry.connect(c.provider).stake(UINT96_MAX);
      await expectStake(c.registry, c.provider.address, { staked: UINT96_MAX });
    });

    it("rejects 1 more unit with AmountTooLarge(2^96, 2^96 - 1)", async function () {
      const c = await loadFixture(deployWithMintableStakeToken);
      await c.registry.connect(c.provider).stake(UINT96_MAX);
      await expect(c.registry.connect(c.provider).stake(1))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_AmountTooLarge")
        .withArgs(UINT96_MAX + 1n, UINT96_MAX);
    });
  });

  describe("when the caller has not approved the registry", function () {
    it("reverts with the token's ERC20InsufficientAllowance", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const fresh = (await ethers.getSigners())[12];
      await c.kai.connect(c.treasury).transfer(fresh.address, AMOUNT);
      await expect(c.registry.connect(fresh).stake(AMOUNT))
        .to.be.revertedWithCustomError(c.kai, "ERC20InsufficientAllowance")
        .withArgs(c.registryAddress, 0, AMOUNT);
    });
  });

  describe("when the caller's balance is too small", function () {
    it("reverts with the token's ERC20InsufficientBalance", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const balance = await c.kai.balanceOf(c.provider2.address);
      await expect(c.registry.connect(c.provider2).stake(balance + 1n))
        .to.be.revertedWithCustomError(c.kai, "ERC20InsufficientBalance")
        .withArgs(c.provider2.address, balance, balance + 1n);
    });
  });

  describe("given the provider already staked 24,000 KAI", function () {
    it("pulls the KAI from the provider into the registry", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).stake(AMOUNT)).to.changeTokenBalances(
        c.kai,
        [c.provider, c.registry],
        [-AMOUNT, AMOUNT],
      );
    });

    it("emits Stake(provider, amount, newStaked)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).stake(AMOUNT))
        .to.emit(c.registry, "Stake")
        .withArgs(c.provider.address, AMOUNT, DEFAULT_REQUIRED_STAKE + AMOUNT);
    });

    it("adds the amount to the active stake", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).stake(AMOUNT);
      await expectStake(c.registry, c.provider.address, {
        staked: DEFAULT_REQUIRED_STAKE + AMOUNT,
        unbonding: 0n,
        rewardsOwed: 0n,
      });
    });
  });

  describe("given the caller has no node and no stake", function () {
    it("emits Stake(provider, amount, amount)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider2).stake(1))
        .to.emit(c.registry, "Stake")
        .withArgs(c.provider2.address, 1, 1);
    });
  });

  describe("given part of the stake is unbonding", function () {
    it("leaves the unbonding amount and its end untouched", async function () {
      const c = await loadFixture(deployWithUnbonding);
      await c.registry.connect(c.provider).stake(AMOUNT);
      await expectStake(c.registry, c.provider.address, {
        staked: DEFAULT_REQUIRED_STAKE - UNBONDING + AMOUNT,
        unbonding: UNBONDING,
        unbondingEnd: c.unbondingEnd,
      });
    });
  });

  describe("when the allowance comes from an EIP-2612 permit", function () {
    it("stakes without a prior approve transaction", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const fresh = (await ethers.getSigners())[12];
      await c.kai.connect(c.treasury).transfer(fresh.address, AMOUNT);
      const deadline = BigInt((await time.latest()) + 3_600);
      const { v, r, s } = await signPermit(c.kai, fresh, c.registryAddress, AMOUNT, deadline);
      await c.kai.connect(fresh).permit(fresh.address, c.registryAddress, AMOUNT, deadline, v, r, s);
      await expect(c.registry.connect(fresh).stake(AMOUNT)).to.changeTokenBalances(
        c.kai,
        [fresh, c.registry],
        [-AMOUNT, AMOUNT],
      );
    });
  });
});
