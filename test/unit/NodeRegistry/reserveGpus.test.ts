import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { BASE_STAKE_PER_GPU, H100_MULTIPLIER_BPS, KAI, KAI_PRICE, USD_PRICE, registerNode } from "../../fixtures";
import {
  DEFAULT_NODE_GPUS,
  DEFAULT_REQUIRED_STAKE,
  H100,
  LOCKED_GPUS,
  LOCKED_STAKE,
  RENTED_GPUS,
  ROLES,
  RTX_NODE_REQUIRED_STAKE,
  deployPaused,
  deployWithEscrowCaller,
  deployWithJailedNode,
  deployWithLockedStake,
  deployWithMaintenance,
  deployWithPausedNode,
  deployWithRentedGpus,
  deployWithRetiredNode,
  expectStake,
  rtxSpec,
  stakeFor,
} from "../../helpers/registry";
import { expectInvalidStatus } from "../../helpers/registryCases";
import { expectRevert } from "../../helpers/reverts";

describe("NodeRegistry.reserveGpus", function () {
  type Fixture = Awaited<ReturnType<typeof deployWithEscrowCaller>>;
  function reserve(c: Fixture, gpus: bigint | number, lockStake = false, nodeId: bigint | number = c.nodeId) {
    return c.registry.connect(c.escrowCaller).reserveGpus(nodeId, gpus, c.usdAddress, lockStake);
  }

  describe("when the caller lacks ESCROW_ROLE", function () {
    it("reverts with AccessControlUnauthorizedAccount(caller, ESCROW_ROLE)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).reserveGpus(c.nodeId, 1, c.usdAddress, false))
        .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
        .withArgs(c.provider.address, ROLES.ESCROW);
    });
  });

  describe("when the node does not exist", function () {
    it("reverts with UnknownNode", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expectRevert(c.registry, reserve(c, 1, false, 99), "NodeRegistry_UnknownNode", 99);
    });
  });

  describe("given the node is not active", function () {
    it("reverts with InvalidNodeStatus(Paused) for a paused node", async function () {
      const c = await loadFixture(deployWithPausedNode);
      await expectInvalidStatus(c, reserve(c, 1), "Paused");
    });

    it("reverts with InvalidNodeStatus(Jailed) for a jailed node", async function () {
      const c = await loadFixture(deployWithJailedNode);
      await expectInvalidStatus(c, reserve(c, 1), "Jailed");
    });

    it("reverts with InvalidNodeStatus(Retired) for a retired node", async function () {
      const c = await loadFixture(deployWithRetiredNode);
      await expectInvalidStatus(c, reserve(c, 1), "Retired");
    });
  });

  describe("given a maintenance window is announced", function () {
    it("reserves 1 s before the window starts", async function () {
      const c = await loadFixture(deployWithMaintenance);
      await time.setNextBlockTimestamp(c.window.start - 1);
      await reserve(c, 1);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(1);
    });

    it("reverts with InMaintenance(nodeId, end) when the window starts", async function () {
      const c = await loadFixture(deployWithMaintenance);
      await time.setNextBlockTimestamp(c.window.start);
      await expectRevert(c.registry, reserve(c, 1), "NodeRegistry_InMaintenance", c.nodeId, c.window.end);
    });

    it("reverts with InMaintenance(nodeId, end) in the window's last second", async function () {
      const c = await loadFixture(deployWithMaintenance);
      await time.setNextBlockTimestamp(c.window.end - 1);
      await expectRevert(c.registry, reserve(c, 1), "NodeRegistry_InMaintenance", c.nodeId, c.window.end);
    });

    it("reserves again at the window's end (exclusive)", async function () {
      const c = await loadFixture(deployWithMaintenance);
      await time.setNextBlockTimestamp(c.window.end);
      await reserve(c, 1);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(1);
    });
  });

  describe("when the node does not accept the token", function () {
    it("reverts with TokenNotAccepted(nodeId, token)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 1, c.registryAddress, false))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_TokenNotAccepted")
        .withArgs(c.nodeId, c.registryAddress);
    });
  });

  describe("when more GPUs are requested than the node has", function () {
    it("reverts with NotEnoughFreeGpus(nodeId, 9, 8)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expectRevert(c.registry, reserve(c, 9), "NodeRegistry_NotEnoughFreeGpus", c.nodeId, 9, DEFAULT_NODE_GPUS);
    });
  });

  describe("given 3 of the 8 GPUs are rented", function () {
    it("reverts with NotEnoughFreeGpus(nodeId, 6, 5) for 6 more", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await expect(reserve(c, 6))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_NotEnoughFreeGpus")
        .withArgs(c.nodeId, 6, DEFAULT_NODE_GPUS - RENTED_GPUS);
    });

    it("reserves exactly the 5 free GPUs", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await reserve(c, 5);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(DEFAULT_NODE_GPUS);
    });
  });

  describe("given all 8 GPUs are rented", function () {
    it("reverts with NotEnoughFreeGpus(nodeId, 1, 0)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await reserve(c, 8);
      await expectRevert(c.registry, reserve(c, 1), "NodeRegistry_NotEnoughFreeGpus", c.nodeId, 1, 0);
    });
  });

  describe("given the provider's stake does not cover its listing", function () {
    it("reverts with InsufficientStake(provider, 0, required) when it never staked", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const nodeId = await registerNode(c, c.provider2);
      await expect(reserve(c, 1, false, nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InsufficientStake")
        .withArgs(c.provider2.address, 0, DEFAULT_REQUIRED_STAKE);
    });

    it("reverts with InsufficientStake after a 1-wei slash", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.oracle).slash(c.provider.address, 1, c.nodeId, 1, ethers.ZeroHash, c.treasury.address);
      await expect(reserve(c, 1))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InsufficientStake")
        .withArgs(c.provider.address, DEFAULT_REQUIRED_STAKE - 1n, DEFAULT_REQUIRED_STAKE);
    });

    it("reverts with InsufficientStake after governance raised the base stake to 1,001 KAI", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.admin).setBaseStakePerGpu(KAI(1_001));
      await expect(reserve(c, 1))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InsufficientStake")
        .withArgs(
          c.provider.address,
          DEFAULT_REQUIRED_STAKE,
          stakeFor(DEFAULT_NODE_GPUS, H100_MULTIPLIER_BPS, KAI(1_001)),
        );
    });

    it("reverts with InsufficientStake after the provider listed a second node without topping up", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await registerNode(c, c.provider, rtxSpec);
      await expect(reserve(c, 1))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InsufficientStake")
        .withArgs(c.provider.address, DEFAULT_REQUIRED_STAKE, DEFAULT_REQUIRED_STAKE + RTX_NODE_REQUIRED_STAKE);
    });

    it("does not count rewards owed as stake", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).requestUnstake(KAI(1));
      await c.registry.connect(c.oracle).depositRewards(c.provider.address, KAI(1_000));
      await expect(reserve(c, 1))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InsufficientStake")
        .withArgs(c.provider.address, DEFAULT_REQUIRED_STAKE - KAI(1), DEFAULT_REQUIRED_STAKE);
    });

    it("reserves again once the provider tops up", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.admin).setBaseStakePerGpu(KAI(1_001));
      await c.registry.connect(c.provider).stake(KAI(24));
      await reserve(c, 1);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(1);
    });
  });

  describe("when the node can take the rental (pay-as-you-go, 3 GPUs)", function () {
    it("returns the provider and the price in the token", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const [provider, price] = await c.registry
        .connect(c.escrowCaller)
        .reserveGpus.staticCall(c.nodeId, 3, c.usdAddress, false);
      expect(provider, "provider").to.equal(c.provider.address);
      expect(price, "pricePerGpuHour").to.equal(USD_PRICE);
    });

    it("returns the KAI price when paid in KAI", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const [, price] = await c.registry
        .connect(c.escrowCaller)
        .reserveGpus.staticCall(c.nodeId, 3, c.kaiAddress, false);
      expect(price, "pricePerGpuHour").to.equal(KAI_PRICE);
    });

    it("adds the GPUs to rentedGpus", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await reserve(c, 3);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(3);
    });

    it("holds the node's whole requirement in rentedStake (rentedWeight 8 x 3x), once per node", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await reserve(c, 3);
      const weight = 8n * H100_MULTIPLIER_BPS;
      expect((await c.registry.getStake(c.provider.address)).rentedWeight, "rentedWeight").to.equal(weight);
      expect(await c.registry.rentedStake(c.provider.address), "rentedStake").to.equal(DEFAULT_REQUIRED_STAKE);
      await reserve(c, 2);
      expect((await c.registry.getStake(c.provider.address)).rentedWeight, "second rental: unchanged").to.equal(weight);
    });

    it("locks no stake", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await reserve(c, 3);
      expect(await c.registry.lockedStake(c.provider.address), "lockedStake").to.equal(0);
    });

    it("emits no event", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const receipt = await (await reserve(c, 3)).wait();
      expect(receipt!.logs.length, "log count").to.equal(0);
    });

    it("moves no token", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(reserve(c, 3)).to.changeTokenBalances(c.kai, [c.registry, c.provider], [0, 0]);
    });
  });

  describe("when the rental is a saving plan (lockStake, 2 GPUs)", function () {
    it("locks 2 x 3x x 1,000 = 6,000 KAI", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await reserve(c, LOCKED_GPUS, true);
      expect(await c.registry.lockedStake(c.provider.address), "lockedStake").to.equal(LOCKED_STAKE);
    });

    it("adds the GPUs' weight to lockedWeight", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await reserve(c, LOCKED_GPUS, true);
      await expectStake(c.registry, c.provider.address, { lockedWeight: LOCKED_GPUS * H100_MULTIPLIER_BPS });
    });
  });

  describe("given 6,000 KAI is already locked", function () {
    it("adds a second lock on top (3 more GPUs: 15,000 KAI)", async function () {
      const c = await loadFixture(deployWithLockedStake);
      await reserve(c, 3, true);
      expect(await c.registry.lockedStake(c.provider.address), "lockedStake").to.equal(
        stakeFor(LOCKED_GPUS + 3n, H100_MULTIPLIER_BPS),
      );
    });
  });

  describe("given the node's GPU class was closed to new nodes", function () {
    it("still reserves on the existing node", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.admin).setGpuClassActive(H100, false);
      await reserve(c, 1);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(1);
    });
  });

  describe("given the registry is paused", function () {
    // The registry pause stops stakes and registrations only; the escrow has its own pause.
    it("still reserves", async function () {
      const c = await loadFixture(deployPaused);
      // deployPaused unbonded 6,000 KAI: top the stake back up is impossible while paused, so
      // lower the base stake instead to make the provider's 18,000 KAI cover its listing.
      await c.registry.connect(c.admin).setBaseStakePerGpu(BASE_STAKE_PER_GPU / 2n);
      await reserve(c, 1);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(1);
    });
  });

  describe("when 0 GPUs are requested", function () {
    it("reverts with NotEnoughFreeGpus(nodeId, 0, 0)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expectRevert(c.registry, reserve(c, 0), "NodeRegistry_NotEnoughFreeGpus", c.nodeId, 0, 0);
    });
  });
});
