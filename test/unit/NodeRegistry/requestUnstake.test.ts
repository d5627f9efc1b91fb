import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { DAY, KAI } from "../../fixtures";
import {
  DEFAULT_REQUIRED_STAKE,
  DEFAULT_UNBONDING_PERIOD,
  LOCKED_GPUS,
  LOCKED_STAKE,
  RENTED_GPUS,
  UINT96_MAX,
  UNBONDING,
  atNextBlock,
  deployPaused,
  deployWithEscrowCaller,
  deployWithLockedStake,
  deployWithRentedGpus,
  deployWithMintableStakeToken,
  deployWithUnbonding,
  expectStake,
} from "../../helpers/registry";
import type { RegistryFixture } from "../../helpers/registryCases";
import { expectRevert } from "../../helpers/reverts";

describe("NodeRegistry.requestUnstake", function () {
  const unstake = (c: Pick<RegistryFixture, "registry" | "provider">, amount: bigint | number) =>
    c.registry.connect(c.provider).requestUnstake(amount);

  const AMOUNT = KAI(4_000);

  describe("when the amount is 0", function () {
    it("reverts with ZeroAmount", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expectRevert(c.registry, unstake(c, 0), "NodeRegistry_ZeroAmount");
    });
  });

  describe("when the amount exceeds the active stake", function () {
    it("reverts with InsufficientStaked(provider, amount, staked)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(unstake(c, DEFAULT_REQUIRED_STAKE + 1n))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InsufficientStaked")
        .withArgs(c.provider.address, DEFAULT_REQUIRED_STAKE + 1n, DEFAULT_REQUIRED_STAKE);
    });
  });

  describe("given the caller never staked", function () {
    it("reverts with InsufficientStaked(provider, 1, 0)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider2).requestUnstake(1))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InsufficientStaked")
        .withArgs(c.provider2.address, 1, 0);
    });
  });

  describe("given part of the stake is already unbonding", function () {
    it("counts only the active stake as available", async function () {
      const c = await loadFixture(deployWithUnbonding);
      const active = DEFAULT_REQUIRED_STAKE - UNBONDING;
      await expect(unstake(c, active + 1n))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InsufficientStaked")
        .withArgs(c.provider.address, active + 1n, active);
    });
  });

  describe("given 6,000 KAI of stake is locked by a saving plan (2 GPUs rented: the whole node is held)", function () {
    const UNLOCKED_AFTER_RELEASE = DEFAULT_REQUIRED_STAKE - LOCKED_STAKE;
    const EXTRA = KAI(100);

    it("reverts with StakeLocked(provider, 1, 0) while the node has the rental", async function () {
      const c = await loadFixture(deployWithLockedStake);
      await expectRevert(c.registry, unstake(c, 1n), "NodeRegistry_StakeLocked", c.provider.address, 1n, 0n);
    });

    it("reverts with StakeLocked when unstaking everything", async function () {
      const c = await loadFixture(deployWithLockedStake);
      await expect(unstake(c, DEFAULT_REQUIRED_STAKE))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_StakeLocked")
        .withArgs(c.provider.address, DEFAULT_REQUIRED_STAKE, 0n);
    });

    it("accepts exactly the stake above the node's requirement, and refuses 1 wei more", async function () {
      const c = await loadFixture(deployWithLockedStake);
      await c.registry.connect(c.provider).stake(EXTRA);
      await expect(unstake(c, EXTRA + 1n))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_StakeLocked")
        .withArgs(c.provider.address, EXTRA + 1n, EXTRA);
      await unstake(c, EXTRA);
      await expectStake(c.registry, c.provider.address, { staked: DEFAULT_REQUIRED_STAKE, unbonding: EXTRA });
    });

    it("accepts everything once the escrow unlocked the stake", async function () {
      const c = await loadFixture(deployWithLockedStake);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, LOCKED_GPUS, true);
      await unstake(c, DEFAULT_REQUIRED_STAKE);
      await expectStake(c.registry, c.provider.address, { staked: 0n, unbonding: DEFAULT_REQUIRED_STAKE });
    });

    it("still keeps the locked part once the GPUs are released without unlocking", async function () {
      const c = await loadFixture(deployWithLockedStake);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, LOCKED_GPUS, false);
      await expect(unstake(c, DEFAULT_REQUIRED_STAKE))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_StakeLocked")
        .withArgs(c.provider.address, DEFAULT_REQUIRED_STAKE, UNLOCKED_AFTER_RELEASE);
    });
  });

  describe("given 3 GPUs of the node are rented pay-as-you-go (rentedStake: the node's 24,000 KAI)", function () {
    const EXTRA = KAI(500);

    it("reverts with StakeLocked(provider, amount, staked - rentedStake)", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await c.registry.connect(c.provider).stake(EXTRA);
      expect(await c.registry.rentedStake(c.provider.address)).to.equal(DEFAULT_REQUIRED_STAKE);
      await expect(unstake(c, EXTRA + 1n))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_StakeLocked")
        .withArgs(c.provider.address, EXTRA + 1n, EXTRA);
      await unstake(c, EXTRA);
      await expectStake(c.registry, c.provider.address, { staked: DEFAULT_REQUIRED_STAKE, unbonding: EXTRA });
    });

    it("keeps holding the whole node while any GPU stays rented", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, RENTED_GPUS - 1n, false);
      await expectRevert(c.registry, unstake(c, 1n), "NodeRegistry_StakeLocked", c.provider.address, 1n, 0n);
    });

    it("frees it once the last GPU is released", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, RENTED_GPUS, false);
      expect(await c.registry.rentedStake(c.provider.address)).to.equal(0n);
      await unstake(c, DEFAULT_REQUIRED_STAKE);
      await expectStake(c.registry, c.provider.address, { staked: 0n, unbonding: DEFAULT_REQUIRED_STAKE });
    });
  });

  describe("given a slash left less active stake than the locked stake", function () {
    it("reverts with StakeLocked(provider, amount, 0)", async function () {
      const c = await loadFixture(deployWithLockedStake);
      // 24,000 - 20,000 = 4,000 KAI staked, below the 6,000 KAI locked.
      await c.registry
        .connect(c.oracle)
        .slash(c.provider.address, KAI(20_000), c.nodeId, 1, ethers.ZeroHash, c.treasury);
      await expectRevert(c.registry, unstake(c, 1), "NodeRegistry_StakeLocked", c.provider.address, 1, 0);
    });
  });

  describe("when the provider unstakes below its listing requirement", function () {
    // Allowed with no rental open: the node simply stops being rentable (and eligible).
    it("moves the amount into unbonding", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await unstake(c, AMOUNT);
      await expectStake(c.registry, c.provider.address, {
        staked: DEFAULT_REQUIRED_STAKE - AMOUNT,
        unbonding: AMOUNT,
      });
    });

    it("leaves the node unrentable (InsufficientStake)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await unstake(c, AMOUNT);
      await expect(c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 1, c.usdAddress, false))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InsufficientStake")
        .withArgs(c.provider.address, DEFAULT_REQUIRED_STAKE - AMOUNT, DEFAULT_REQUIRED_STAKE);
    });
  });

  describe("when the amount is valid", function () {
    it("emits RequestUnstake(provider, amount, now + 14 days)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const now = BigInt(await atNextBlock());
      await expect(unstake(c, AMOUNT))
        .to.emit(c.registry, "RequestUnstake")
        .withArgs(c.provider.address, AMOUNT, now + DEFAULT_UNBONDING_PERIOD);
    });

    it("moves the amount from staked to unbonding and sets the end", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const now = BigInt(await atNextBlock());
      await unstake(c, AMOUNT);
      await expectStake(c.registry, c.provider.address, {
        staked: DEFAULT_REQUIRED_STAKE - AMOUNT,
        unbonding: AMOUNT,
        unbondingEnd: now + DEFAULT_UNBONDING_PERIOD,
      });
    });

    it("moves no KAI yet", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(unstake(c, AMOUNT)).to.changeTokenBalances(c.kai, [c.provider, c.registry], [0, 0]);
    });
  });

  describe("given part of the stake is unbonding since 10 days", function () {
    it("adds to the unbonding amount", async function () {
      const c = await loadFixture(deployWithUnbonding);
      await time.increase(10 * DAY);
      await unstake(c, AMOUNT);
      await expectStake(c.registry, c.provider.address, { unbonding: UNBONDING + AMOUNT });
    });

    it("restarts the clock for everything unbonding", async function () {
      const c = await loadFixture(deployWithUnbonding);
      await time.increase(10 * DAY);
      const now = BigInt(await atNextBlock());
      await unstake(c, AMOUNT);
      await expectStake(c.registry, c.provider.address, { unbondingEnd: now + DEFAULT_UNBONDING_PERIOD });
    });

    it("makes the old end too early to withdraw", async function () {
      const c = await loadFixture(deployWithUnbonding);
      await time.increase(10 * DAY);
      const now = BigInt(await atNextBlock());
      await unstake(c, AMOUNT);
      await time.increaseTo(c.unbondingEnd);
      await expect(c.registry.connect(c.provider).withdrawUnstaked())
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_NothingToWithdraw")
        .withArgs(c.provider.address, now + DEFAULT_UNBONDING_PERIOD);
    });
  });

  describe("given governance shortened the unbonding period to 3 days", function () {
    it("uses the new period for new requests", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.admin).setUnbondingPeriod(3 * DAY);
      const now = await atNextBlock();
      await expect(unstake(c, AMOUNT))
        .to.emit(c.registry, "RequestUnstake")
        .withArgs(c.provider.address, AMOUNT, now + 3 * DAY);
    });
  });

  describe("given the registry is paused", function () {
    it("still moves stake into unbonding", async function () {
      const c = await loadFixture(deployPaused);
      const now = BigInt(await atNextBlock());
      await expect(unstake(c, AMOUNT))
        .to.emit(c.registry, "RequestUnstake")
        .withArgs(c.provider.address, AMOUNT, now + DEFAULT_UNBONDING_PERIOD);
    });
  });

  describe("given a stake token with a supply above uint96 (unbonding + amount > 2^96 - 1)", function () {
    // BUG (latent with KAI, whose whole supply fits uint96): `stake` bounds `staked` by uint96 but
    // not `staked + unbonding`, and `requestUnstake` adds to `unbonding` in an `unchecked` block, so
    // the sum wraps: here `unbonding` becomes 1 + (2^96 - 1) = 2^96 -> 0 and the stake is lost.
    // Either the last `stake` or the last `requestUnstake` should revert; the test accepts both.
    it("keeps staked + unbonding equal to the tokens it holds (no uint96 wrap-around)", async function () {
      const c = await loadFixture(deployWithMintableStakeToken);
      await c.registry.connect(c.provider).stake(UINT96_MAX);
      await unstake(c, 1);
      for (const step of [() => c.registry.connect(c.provider).stake(1), () => unstake(c, UINT96_MAX)]) {
        try {
          await step();
        } catch {
          // A revert here is a correct outcome: the record must simply never wrap.
        }
      }
      const s = await c.registry.getStake(c.provider.address);
      expect(s.staked + s.unbonding, "staked + unbonding vs. tokens held for the provider").to.equal(
        await c.stakeToken.balanceOf(await c.registry.getAddress()),
      );
    });
  });
});
