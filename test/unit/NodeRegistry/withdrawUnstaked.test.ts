import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { KAI } from "../../fixtures";
import {
  ACTIVE_AFTER_UNBONDING,
  REWARDS,
  UNBONDING,
  deployPaused,
  deployWithEscrowCaller,
  deployWithUnbonding,
  expectStake,
} from "../../helpers/registry";
import { type RegistryFixture, expectPaysProvider } from "../../helpers/registryCases";
import { expectRevert } from "../../helpers/reverts";

describe("NodeRegistry.withdrawUnstaked", function () {
  const withdraw = (c: RegistryFixture, from = c.provider) => c.registry.connect(from).withdrawUnstaked();

  describe("given nothing is unbonding", function () {
    it("reverts with NothingToWithdraw(provider, 0)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expectRevert(c.registry, withdraw(c), "NodeRegistry_NothingToWithdraw", c.provider.address, 0);
    });
  });

  describe("given 6,000 KAI is unbonding", function () {
    describe("when the unbonding period has not passed (1 s early)", function () {
      it("reverts with NothingToWithdraw(provider, unbondingEnd)", async function () {
        const c = await loadFixture(deployWithUnbonding);
        await time.setNextBlockTimestamp(c.unbondingEnd - 1n);
        await expect(withdraw(c))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_NothingToWithdraw")
          .withArgs(c.provider.address, c.unbondingEnd);
      });
    });

    describe("when the unbonding period has just passed (at unbondingEnd)", function () {
      it("transfers the unbonded KAI to the provider", async function () {
        const c = await loadFixture(deployWithUnbonding);
        await time.setNextBlockTimestamp(c.unbondingEnd);
        await expectPaysProvider(c, withdraw(c), UNBONDING);
      });

      it("emits WithdrawUnstaked(provider, amount)", async function () {
        const c = await loadFixture(deployWithUnbonding);
        await time.setNextBlockTimestamp(c.unbondingEnd);
        await expect(withdraw(c)).to.emit(c.registry, "WithdrawUnstaked").withArgs(c.provider.address, UNBONDING);
      });

      it("returns the amount", async function () {
        const c = await loadFixture(deployWithUnbonding);
        await time.increaseTo(c.unbondingEnd);
        expect(await c.registry.connect(c.provider).withdrawUnstaked.staticCall(), "returned amount").to.equal(
          UNBONDING,
        );
      });

      it("clears unbonding and its end, and leaves the active stake", async function () {
        const c = await loadFixture(deployWithUnbonding);
        await time.setNextBlockTimestamp(c.unbondingEnd);
        await withdraw(c);
        await expectStake(c.registry, c.provider.address, {
          staked: ACTIVE_AFTER_UNBONDING,
          unbonding: 0n,
          unbondingEnd: 0n,
        });
      });
    });

    describe("when the provider withdraws a second time", function () {
      it("reverts with NothingToWithdraw(provider, 0)", async function () {
        const c = await loadFixture(deployWithUnbonding);
        await time.increaseTo(c.unbondingEnd);
        await withdraw(c);
        await expectRevert(c.registry, withdraw(c), "NodeRegistry_NothingToWithdraw", c.provider.address, 0);
      });
    });

    describe("when someone else calls", function () {
      it("reverts with NothingToWithdraw for the caller (no withdrawal on another's behalf)", async function () {
        const c = await loadFixture(deployWithUnbonding);
        await time.increaseTo(c.unbondingEnd);
        await expectRevert(c.registry, withdraw(c, c.other), "NodeRegistry_NothingToWithdraw", c.other.address, 0);
      });
    });
  });

  describe("given a slash took 2,000 KAI of the unbonding stake (threat 9)", function () {
    it("pays out only the 4,000 KAI left", async function () {
      const c = await loadFixture(deployWithUnbonding);
      // 18,000 active + 2,000 of the 6,000 unbonding.
      await c.registry
        .connect(c.oracle)
        .slash(c.provider.address, KAI(20_000), c.nodeId, 1, ethers.ZeroHash, c.treasury.address);
      await time.increaseTo(c.unbondingEnd);
      await expectPaysProvider(c, withdraw(c), KAI(4_000));
    });
  });

  describe("given a slash took all of the unbonding stake", function () {
    it("reverts with NothingToWithdraw(provider, 0): the slash cleared the unbonding end", async function () {
      const c = await loadFixture(deployWithUnbonding);
      await c.registry
        .connect(c.oracle)
        .slash(c.provider.address, KAI(24_000), c.nodeId, 1, ethers.ZeroHash, c.treasury.address);
      await time.increaseTo(c.unbondingEnd);
      await expectRevert(c.registry, withdraw(c), "NodeRegistry_NothingToWithdraw", c.provider.address, 0);
    });
  });

  describe("given the registry is paused", function () {
    it("still pays out the unbonded KAI", async function () {
      const c = await loadFixture(deployPaused);
      await time.increaseTo(c.unbondingEnd);
      await expectPaysProvider(c, withdraw(c), UNBONDING);
    });

    it("leaves the rewards owed for withdrawRewards", async function () {
      const c = await loadFixture(deployPaused);
      await time.increaseTo(c.unbondingEnd);
      await withdraw(c);
      await expectStake(c.registry, c.provider.address, { rewardsOwed: REWARDS, unbonding: 0n });
    });
  });
});
