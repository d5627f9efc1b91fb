import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { KAI } from "../../fixtures";
import {
  ACTIVE_AFTER_UNBONDING,
  DEFAULT_REQUIRED_STAKE,
  REWARDS,
  UNBONDING,
  deployPaused,
  deployWithEscrowCaller,
  deployWithRewards,
  expectStake,
} from "../../helpers/registry";
import { expectPaysProvider } from "../../helpers/registryCases";
import { expectRevert } from "../../helpers/reverts";

describe("NodeRegistry.withdrawRewards", function () {
  describe("given no rewards are owed", function () {
    it("reverts with ZeroAmount", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expectRevert(c.registry, c.registry.connect(c.provider).withdrawRewards(), "NodeRegistry_ZeroAmount");
    });
  });

  describe("given 500 KAI of rewards are owed", function () {
    it("transfers them to the provider", async function () {
      const c = await loadFixture(deployWithRewards);
      await expectPaysProvider(c, c.registry.connect(c.provider).withdrawRewards(), REWARDS);
    });

    it("emits WithdrawRewards(provider, amount)", async function () {
      const c = await loadFixture(deployWithRewards);
      await expect(c.registry.connect(c.provider).withdrawRewards())
        .to.emit(c.registry, "WithdrawRewards")
        .withArgs(c.provider.address, REWARDS);
    });

    it("returns the amount", async function () {
      const c = await loadFixture(deployWithRewards);
      expect(await c.registry.connect(c.provider).withdrawRewards.staticCall(), "returned amount").to.equal(REWARDS);
    });

    it("zeroes rewardsOwed and leaves the stake", async function () {
      const c = await loadFixture(deployWithRewards);
      await c.registry.connect(c.provider).withdrawRewards();
      await expectStake(c.registry, c.provider.address, { rewardsOwed: 0n, staked: DEFAULT_REQUIRED_STAKE });
    });

    it("reverts with ZeroAmount on a second withdrawal", async function () {
      const c = await loadFixture(deployWithRewards);
      await c.registry.connect(c.provider).withdrawRewards();
      await expectRevert(c.registry, c.registry.connect(c.provider).withdrawRewards(), "NodeRegistry_ZeroAmount");
    });

    it("pays nothing to another caller", async function () {
      const c = await loadFixture(deployWithRewards);
      await expectRevert(c.registry, c.registry.connect(c.other).withdrawRewards(), "NodeRegistry_ZeroAmount");
    });
  });

  describe("given a slash took 200 KAI of the rewards", function () {
    it("pays out the 300 KAI left", async function () {
      const c = await loadFixture(deployWithRewards);
      await c.registry
        .connect(c.oracle)
        .slash(c.provider.address, KAI(200), c.nodeId, 2, ethers.ZeroHash, c.treasury.address);
      await expectPaysProvider(c, c.registry.connect(c.provider).withdrawRewards(), KAI(300));
    });
  });

  describe("given the registry is paused", function () {
    it("still pays out the rewards", async function () {
      const c = await loadFixture(deployPaused);
      await expectPaysProvider(c, c.registry.connect(c.provider).withdrawRewards(), REWARDS);
    });

    it("leaves the active and unbonding stake", async function () {
      const c = await loadFixture(deployPaused);
      await c.registry.connect(c.provider).withdrawRewards();
      await expectStake(c.registry, c.provider.address, { staked: ACTIVE_AFTER_UNBONDING, unbonding: UNBONDING });
    });
  });
});
