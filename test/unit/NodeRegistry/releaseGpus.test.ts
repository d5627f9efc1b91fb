import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { PANIC_CODES } from "@nomicfoundation/hardhat-chai-matchers/panic";

import { H100_MULTIPLIER_BPS } from "../../fixtures";
import {
  DEFAULT_REQUIRED_STAKE,
  LOCKED_GPUS,
  LOCKED_STAKE,
  RENTED_GPUS,
  ROLES,
  deployWithEscrowCaller,
  deployWithLockedStake,
  deployWithRentedGpus,
  expectStake,
  stakeFor,
} from "../../helpers/registry";

describe("NodeRegistry.releaseGpus", function () {
  describe("when the caller lacks ESCROW_ROLE", function () {
    it("reverts with AccessControlUnauthorizedAccount(caller, ESCROW_ROLE)", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await expect(c.registry.connect(c.provider).releaseGpus(c.nodeId, 1, false))
        .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
        .withArgs(c.provider.address, ROLES.ESCROW);
    });
  });

  describe("given 3 GPUs are rented without a lock", function () {
    it("frees the released GPUs", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, 2, false);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(RENTED_GPUS - 2n);
    });

    it("keeps the node's requirement in rentedStake until its last GPU is released", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, 2, false);
      expect(await c.registry.rentedStake(c.provider.address), "1 GPU left").to.equal(DEFAULT_REQUIRED_STAKE);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, 1, false);
      expect(await c.registry.rentedStake(c.provider.address), "none left").to.equal(0n);
      await expectStake(c.registry, c.provider.address, { rentedWeight: 0n });
    });

    it("emits no event", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      const receipt = await (await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, 2, false)).wait();
      expect(receipt!.logs.length, "log count").to.equal(0);
    });

    it("makes the GPUs reservable again", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, RENTED_GPUS, false);
      await c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 8, c.usdAddress, false);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(8);
    });

    it("panics (arithmetic underflow) when releasing more than rented", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await expect(
        c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, RENTED_GPUS + 1n, false),
      ).to.be.revertedWithPanic(PANIC_CODES.ARITHMETIC_OVERFLOW);
    });

    it("panics (arithmetic underflow) when unlocking stake that was never locked", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await expect(c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, 1, true)).to.be.revertedWithPanic(
        PANIC_CODES.ARITHMETIC_OVERFLOW,
      );
    });
  });

  describe("given 2 GPUs are rented on a saving plan (6,000 KAI locked)", function () {
    it("unlocks the stake when asked", async function () {
      const c = await loadFixture(deployWithLockedStake);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, LOCKED_GPUS, true);
      expect(await c.registry.lockedStake(c.provider.address), "lockedStake").to.equal(0);
    });

    it("frees the GPUs and the locked weight", async function () {
      const c = await loadFixture(deployWithLockedStake);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, LOCKED_GPUS, true);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(0);
      await expectStake(c.registry, c.provider.address, { lockedWeight: 0n, staked: DEFAULT_REQUIRED_STAKE });
    });

    it("unlocks part of the stake for part of the GPUs (1 GPU: 3,000 KAI)", async function () {
      const c = await loadFixture(deployWithLockedStake);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, 1, true);
      expect(await c.registry.lockedStake(c.provider.address), "lockedStake").to.equal(
        stakeFor(1n, H100_MULTIPLIER_BPS),
      );
    });

    it("keeps the lock when not asked to unlock", async function () {
      const c = await loadFixture(deployWithLockedStake);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, LOCKED_GPUS, false);
      expect(await c.registry.lockedStake(c.provider.address), "lockedStake").to.equal(LOCKED_STAKE);
    });

    it("unlocks even after the node was jailed", async function () {
      const c = await loadFixture(deployWithLockedStake);
      await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, LOCKED_GPUS, true);
      expect(await c.registry.lockedStake(c.provider.address), "lockedStake").to.equal(0);
    });
  });

  describe("given nothing is rented", function () {
    it("releasing 0 GPUs is a no-op", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.escrowCaller).releaseGpus(c.nodeId, 0, false);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(0);
    });
  });
});
