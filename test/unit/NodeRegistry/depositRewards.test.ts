import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { KAI } from "../../fixtures";
import {
  DEFAULT_REQUIRED_STAKE,
  REWARDS,
  ROLES,
  UINT96_MAX,
  deployPaused,
  deployWithEscrowCaller,
  deployWithMintableStakeToken,
  deployWithRewards,
  expectStake,
} from "../../helpers/registry";

describe("NodeRegistry.depositRewards", function () {
  const AMOUNT = KAI(750);

  describe("when the caller lacks REWARDER_ROLE", function () {
    it("reverts with AccessControlUnauthorizedAccount(caller, REWARDER_ROLE)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).depositRewards(c.provider.address, AMOUNT))
        .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
        .withArgs(c.provider.address, ROLES.REWARDER);
    });
  });

  describe("when the provider is the zero address", function () {
    it("reverts with ZeroAddress", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(
        c.registry.connect(c.oracle).depositRewards(ethers.ZeroAddress, AMOUNT),
      ).to.be.revertedWithCustomError(c.registry, "NodeRegistry_ZeroAddress");
    });
  });

  describe("when the amount is 0", function () {
    it("reverts with ZeroAmount", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.oracle).depositRewards(c.provider.address, 0)).to.be.revertedWithCustomError(
        c.registry,
        "NodeRegistry_ZeroAmount",
      );
    });
  });

  describe("when the owed rewards would not fit uint96", function () {
    it("reverts with AmountTooLarge(owed + amount, 2^96 - 1)", async function () {
      const c = await loadFixture(deployWithRewards);
      await expect(c.registry.connect(c.oracle).depositRewards(c.provider.address, UINT96_MAX))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_AmountTooLarge")
        .withArgs(UINT96_MAX + REWARDS, UINT96_MAX);
    });
  });

  describe("given a reward token with a supply above uint96", function () {
    it("accepts rewards owed of exactly 2^96 - 1", async function () {
      const c = await loadFixture(deployWithMintableStakeToken);
      await c.registry.connect(c.oracle).depositRewards(c.provider.address, UINT96_MAX);
      await expectStake(c.registry, c.provider.address, { rewardsOwed: UINT96_MAX });
    });

    it("rejects 1 more unit with AmountTooLarge(2^96, 2^96 - 1)", async function () {
      const c = await loadFixture(deployWithMintableStakeToken);
      await c.registry.connect(c.oracle).depositRewards(c.provider.address, UINT96_MAX);
      await expect(c.registry.connect(c.oracle).depositRewards(c.provider.address, 1))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_AmountTooLarge")
        .withArgs(UINT96_MAX + 1n, UINT96_MAX);
    });
  });

  describe("when the rewarder deposits 750 KAI", function () {
    it("pulls the KAI from the rewarder into the registry", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.oracle).depositRewards(c.provider.address, AMOUNT)).to.changeTokenBalances(
        c.kai,
        [c.oracle, c.registry, c.provider],
        [-AMOUNT, AMOUNT, 0],
      );
    });

    it("emits DepositRewards(provider, from, amount)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.oracle).depositRewards(c.provider.address, AMOUNT))
        .to.emit(c.registry, "DepositRewards")
        .withArgs(c.provider.address, c.oracle.address, AMOUNT);
    });

    it("credits rewardsOwed and leaves the stake", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.oracle).depositRewards(c.provider.address, AMOUNT);
      await expectStake(c.registry, c.provider.address, { rewardsOwed: AMOUNT, staked: DEFAULT_REQUIRED_STAKE });
    });
  });

  describe("given 500 KAI are already owed", function () {
    it("adds to them (1,250 KAI)", async function () {
      const c = await loadFixture(deployWithRewards);
      await c.registry.connect(c.oracle).depositRewards(c.provider.address, AMOUNT);
      await expectStake(c.registry, c.provider.address, { rewardsOwed: REWARDS + AMOUNT });
    });
  });

  describe("when the provider has no node and no stake", function () {
    it("still credits the rewards", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.oracle).depositRewards(c.provider2.address, AMOUNT);
      await expectStake(c.registry, c.provider2.address, { rewardsOwed: AMOUNT, staked: 0n });
    });
  });

  describe("when the rewarder has not approved the registry", function () {
    it("reverts with the token's ERC20InsufficientAllowance", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.admin).grantRole(ROLES.REWARDER, c.rewardPool.address);
      await expect(c.registry.connect(c.rewardPool).depositRewards(c.provider.address, AMOUNT))
        .to.be.revertedWithCustomError(c.kai, "ERC20InsufficientAllowance")
        .withArgs(c.registryAddress, 0, AMOUNT);
    });
  });

  describe("given the registry is paused", function () {
    it("still credits rewards", async function () {
      const c = await loadFixture(deployPaused);
      await expect(c.registry.connect(c.oracle).depositRewards(c.provider.address, AMOUNT))
        .to.emit(c.registry, "DepositRewards")
        .withArgs(c.provider.address, c.oracle.address, AMOUNT);
    });
  });
});
