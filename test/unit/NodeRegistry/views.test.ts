import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { PANIC_CODES } from "@nomicfoundation/hardhat-chai-matchers/panic";

import {
  BASE_STAKE_PER_GPU,
  ENDPOINT,
  H100_MULTIPLIER_BPS,
  KAI,
  NodeStatus,
  RTX_MULTIPLIER_BPS,
  USD_PRICE,
  defaultSpec,
  deployCore,
  registerNode,
} from "../../fixtures";
import {
  DEFAULT_REQUIRED_STAKE,
  H100,
  LOCKED_STAKE,
  MAX_BASE_STAKE_PER_GPU,
  MAX_MAINTENANCE_DURATION,
  MAX_MAINTENANCE_NOTICE,
  MAX_METADATA_URI_LENGTH,
  MAX_MULTIPLIER_BPS,
  MAX_UNBONDING_PERIOD,
  MIN_MAINTENANCE_DURATION,
  MIN_MULTIPLIER_BPS,
  MIN_UNBONDING_PERIOD,
  ROLES,
  RTX,
  RTX_NODE_REQUIRED_STAKE,
  deployWithAllStakeKinds,
  deployWithEscrowCaller,
  deployWithLockedStake,
  rtxSpec,
} from "../../helpers/registry";

describe("NodeRegistry views", function () {
  describe("constants", function () {
    it("exposes the role ids as keccak256 of their names", async function () {
      const c = await loadFixture(deployCore);
      expect(await c.registry.SLASHER_ROLE(), "SLASHER_ROLE").to.equal(ROLES.SLASHER);
      expect(await c.registry.ESCROW_ROLE(), "ESCROW_ROLE").to.equal(ROLES.ESCROW);
      expect(await c.registry.REWARDER_ROLE(), "REWARDER_ROLE").to.equal(ROLES.REWARDER);
      expect(await c.registry.PAUSER_ROLE(), "PAUSER_ROLE").to.equal(ROLES.PAUSER);
    });

    it("exposes the parameter bounds", async function () {
      const c = await loadFixture(deployCore);
      expect(await c.registry.MIN_MULTIPLIER_BPS(), "MIN_MULTIPLIER_BPS").to.equal(MIN_MULTIPLIER_BPS);
      expect(await c.registry.MAX_MULTIPLIER_BPS(), "MAX_MULTIPLIER_BPS").to.equal(MAX_MULTIPLIER_BPS);
      expect(await c.registry.MAX_BASE_STAKE_PER_GPU(), "MAX_BASE_STAKE_PER_GPU").to.equal(MAX_BASE_STAKE_PER_GPU);
      expect(await c.registry.MIN_UNBONDING_PERIOD(), "MIN_UNBONDING_PERIOD").to.equal(MIN_UNBONDING_PERIOD);
      expect(await c.registry.MAX_UNBONDING_PERIOD(), "MAX_UNBONDING_PERIOD").to.equal(MAX_UNBONDING_PERIOD);
      expect(await c.registry.MAX_MAINTENANCE_NOTICE(), "MAX_MAINTENANCE_NOTICE").to.equal(MAX_MAINTENANCE_NOTICE);
      expect(await c.registry.MIN_MAINTENANCE_DURATION(), "MIN_MAINTENANCE_DURATION").to.equal(
        MIN_MAINTENANCE_DURATION,
      );
      expect(await c.registry.MAX_MAINTENANCE_DURATION(), "MAX_MAINTENANCE_DURATION").to.equal(
        MAX_MAINTENANCE_DURATION,
      );
      expect(await c.registry.MAX_METADATA_URI_LENGTH(), "MAX_METADATA_URI_LENGTH").to.equal(MAX_METADATA_URI_LENGTH);
    });

    it("supports the IAccessControl interface (ERC-165)", async function () {
      const c = await loadFixture(deployCore);
      expect(await c.registry.supportsInterface("0x7965db0b"), "IAccessControl").to.equal(true);
    });
  });

  describe("getNode", function () {
    it("reads an unknown id as an empty node with status None", async function () {
      const c = await loadFixture(deployCore);
      const node = await c.registry.getNode(42);
      expect(node.status, "status").to.equal(NodeStatus.None);
      expect(node.provider, "provider").to.equal(ethers.ZeroAddress);
      expect(node.gpuCount, "gpuCount").to.equal(0);
      expect(node.metadataURI, "metadataURI").to.equal("");
    });

    it("reads id 0 (never assigned) as empty", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect((await c.registry.getNode(0)).status, "status").to.equal(NodeStatus.None);
    });
  });

  describe("nodeProvider", function () {
    it("returns the provider of a known node", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect(await c.registry.nodeProvider(c.nodeId), "provider").to.equal(c.provider.address);
    });

    it("returns the zero address for an unknown node", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect(await c.registry.nodeProvider(99), "provider").to.equal(ethers.ZeroAddress);
    });
  });

  describe("nodePrice", function () {
    it("returns the price in an accepted token", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect(await c.registry.nodePrice(c.nodeId, c.usdAddress), "USD price").to.equal(USD_PRICE);
    });

    it("returns 0 for a token the node does not accept", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect(await c.registry.nodePrice(c.nodeId, c.registryAddress), "price").to.equal(0);
    });

    it("returns 0 for an unknown node", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect(await c.registry.nodePrice(99, c.usdAddress), "price").to.equal(0);
    });
  });

  describe("nodeCount / providerNodeCount / providerNodeAt", function () {
    it("counts nodes across providers", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await registerNode(c, c.provider2);
      await registerNode(c, c.provider, rtxSpec);
      expect(await c.registry.nodeCount(), "nodeCount").to.equal(3);
      expect(await c.registry.providerNodeCount(c.provider.address), "provider's count").to.equal(2);
      expect(await c.registry.providerNodeCount(c.provider2.address), "provider2's count").to.equal(1);
    });

    it("indexes each provider's ids in registration order", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await registerNode(c, c.provider2);
      await registerNode(c, c.provider, rtxSpec);
      expect(await c.registry.providerNodeAt(c.provider.address, 0), "provider[0]").to.equal(1);
      expect(await c.registry.providerNodeAt(c.provider.address, 1), "provider[1]").to.equal(3);
      expect(await c.registry.providerNodeAt(c.provider2.address, 0), "provider2[0]").to.equal(2);
    });

    it("returns 0 nodes for an account that never registered", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect(await c.registry.providerNodeCount(c.renter.address), "count").to.equal(0);
    });

    it("panics (array out of bounds) past the provider's last node", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.providerNodeAt(c.provider.address, 1)).to.be.revertedWithPanic(
        PANIC_CODES.ARRAY_ACCESS_OUT_OF_BOUNDS,
      );
    });
  });

  describe("getStake", function () {
    it("reads an unknown provider as all zeros", async function () {
      const c = await loadFixture(deployCore);
      const s = await c.registry.getStake(c.other.address);
      expect(s.staked + s.unbonding + s.unbondingEnd + s.rewardsOwed, "amounts").to.equal(0);
      expect(s.listedWeight + s.lockedWeight, "weights").to.equal(0);
    });

    it("reads rewards, active and unbonding stake", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      const s = await c.registry.getStake(c.provider.address);
      expect(s.rewardsOwed, "rewardsOwed").to.equal(KAI(500));
      expect(s.staked, "staked").to.equal(KAI(18_000));
      expect(s.unbonding, "unbonding").to.equal(KAI(6_000));
      expect(s.unbondingEnd, "unbondingEnd").to.equal(c.unbondingEnd);
    });
  });

  describe("requiredStake", function () {
    it("is base x gpuCount x multiplier / 10,000 for one node (8 x 3x x 1,000 = 24,000 KAI)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(KAI(24_000));
    });

    it("sums over the provider's nodes of different classes (24,000 + 4 x 1x x 1,000 = 28,000 KAI)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await registerNode(c, c.provider, rtxSpec);
      expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(
        DEFAULT_REQUIRED_STAKE + RTX_NODE_REQUIRED_STAKE,
      );
      expect(DEFAULT_REQUIRED_STAKE + RTX_NODE_REQUIRED_STAKE, "model").to.equal(KAI(28_000));
    });

    it("is 0 for an account with no node", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect(await c.registry.requiredStake(c.provider2.address), "requiredStake").to.equal(0);
    });

    it("counts a fractional multiplier (3 GPUs at 0.15x = 450 KAI)", async function () {
      const c = await loadFixture(deployCore);
      await c.registry.addGpuClass(ethers.encodeBytes32String("T4"), 1_500);
      await registerNode(c, c.provider, { ...defaultSpec, gpuClass: 2, gpuCount: 3 });
      expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(KAI(450));
    });

    it("rounds down (base 7 wei x 1 GPU x 0.15x = 1.05 -> 1 wei)", async function () {
      const c = await loadFixture(deployCore);
      await c.registry.setBaseStakePerGpu(7);
      await c.registry.addGpuClass(ethers.encodeBytes32String("T4"), 1_500);
      await registerNode(c, c.provider, { ...defaultSpec, gpuClass: 2, gpuCount: 1 });
      expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(1);
    });

    it("does not include other providers' nodes", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await registerNode(c, c.provider2, rtxSpec);
      expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(DEFAULT_REQUIRED_STAKE);
    });
  });

  describe("lockedStake", function () {
    it("is 0 with no saving plan", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect(await c.registry.lockedStake(c.provider.address), "lockedStake").to.equal(0);
    });

    it("is base x locked GPUs x multiplier / 10,000 (2 x 3x x 1,000 = 6,000 KAI)", async function () {
      const c = await loadFixture(deployWithLockedStake);
      expect(await c.registry.lockedStake(c.provider.address), "lockedStake").to.equal(KAI(6_000));
      expect(LOCKED_STAKE, "model").to.equal(KAI(6_000));
    });

    it("follows the base stake (base 2,000 KAI -> 12,000 KAI locked)", async function () {
      const c = await loadFixture(deployWithLockedStake);
      await c.registry.setBaseStakePerGpu(2n * BASE_STAKE_PER_GPU);
      expect(await c.registry.lockedStake(c.provider.address), "lockedStake").to.equal(KAI(12_000));
    });
  });

  describe("penaltyCount / penaltyAt", function () {
    it("is 0 for a provider never slashed", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect(await c.registry.penaltyCount(c.provider.address), "penaltyCount").to.equal(0);
    });

    it("panics (array out of bounds) past the last penalty", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.penaltyAt(c.provider.address, 0)).to.be.revertedWithPanic(
        PANIC_CODES.ARRAY_ACCESS_OUT_OF_BOUNDS,
      );
    });

    it("keeps penalties in order", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await c.registry.connect(c.oracle).slash(c.provider.address, KAI(1), c.nodeId, 1, ethers.ZeroHash, c.treasury);
      await c.registry.connect(c.oracle).slash(c.provider.address, KAI(2), 0, 2, ethers.id("e2"), c.treasury);
      const second = await c.registry.penaltyAt(c.provider.address, 1);
      expect(second.amount, "penalty[1].amount").to.equal(KAI(2));
      expect(second.reason, "penalty[1].reason").to.equal(2);
      expect(second.evidence, "penalty[1].evidence").to.equal(ethers.id("e2"));
    });
  });

  describe("gpuClassCount / getGpuClass", function () {
    it("counts the two classes of the fixture", async function () {
      const c = await loadFixture(deployCore);
      expect(await c.registry.gpuClassCount(), "gpuClassCount").to.equal(2);
    });

    it("reads class 0 (H100, 3x, active)", async function () {
      const c = await loadFixture(deployCore);
      const g = await c.registry.getGpuClass(H100);
      expect(g.name, "name").to.equal(ethers.encodeBytes32String("H100-80GB"));
      expect(g.multiplierBps, "multiplierBps").to.equal(H100_MULTIPLIER_BPS);
      expect(g.active, "active").to.equal(true);
    });

    it("reads class 1 (RTX 4090, 1x)", async function () {
      const c = await loadFixture(deployCore);
      expect((await c.registry.getGpuClass(RTX)).multiplierBps, "multiplierBps").to.equal(RTX_MULTIPLIER_BPS);
    });

    it("panics (array out of bounds) for an unknown class", async function () {
      const c = await loadFixture(deployCore);
      await expect(c.registry.getGpuClass(2)).to.be.revertedWithPanic(PANIC_CODES.ARRAY_ACCESS_OUT_OF_BOUNDS);
    });
  });

  describe("kai", function () {
    it("returns the KAI token", async function () {
      const c = await loadFixture(deployCore);
      expect(await c.registry.kai(), "kai").to.equal(await c.kai.getAddress());
    });
  });

  describe("getNode after registration", function () {
    it("returns the metadata URI given", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect((await c.registry.getNode(c.nodeId)).metadataURI, "metadataURI").to.equal(ENDPOINT);
    });
  });
});
