/**
 * NodeRegistry's eligibility record (issue #15, attack 2's chain side): per node `listedSince`
 * (set when it becomes Active), per provider `coveredSince` (set when an operation makes
 * `staked >= requiredStake` true, cleared when one makes it false; event `SetCoveredSince`), and
 * the `eligibleSince` view checkers read at an epoch's last block.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { BASE_STAKE_PER_GPU, KAI, deployCore, defaultSpec, registerNode } from "../../fixtures";
import {
  DEFAULT_REQUIRED_STAKE,
  RTX_NODE_REQUIRED_STAKE,
  atNextBlock,
  deployWithEscrowCaller,
  rtxSpec,
} from "../../helpers/registry";

/** A provider with no node and no stake yet. */
async function deployBare() {
  return deployCore();
}

/** The fixture node, staked, with a second (RTX) node the stake does not cover. */
async function deployUncovered() {
  const c = await deployWithEscrowCaller();
  const second = await registerNode(c, c.provider, rtxSpec);
  return { ...c, second };
}

async function coveredSince(c: { registry: Awaited<ReturnType<typeof deployCore>>["registry"] }, who: string) {
  return (await c.registry.getStake(who)).coveredSince;
}

describe("NodeRegistry eligibility record", function () {
  describe("registerNode", function () {
    it("records listedSince = the block's time; no stake yet: not covered, eligibleSince 0", async function () {
      const c = await loadFixture(deployBare);
      const t = await atNextBlock();
      const nodeId = await registerNode(c);
      expect(await c.registry.listedSince(nodeId)).to.equal(t);
      expect(await coveredSince(c, c.provider.address)).to.equal(0n);
      expect(await c.registry.eligibleSince(nodeId)).to.equal(0n);
    });

    it("a provider staked ahead (nothing listed: no coverage recorded) is covered from its first listing", async function () {
      const c = await loadFixture(deployBare);
      await expect(c.registry.connect(c.provider).stake(DEFAULT_REQUIRED_STAKE)).to.not.emit(
        c.registry,
        "SetCoveredSince",
      );
      expect(await coveredSince(c, c.provider.address)).to.equal(0n);
      const tList = await atNextBlock(100);
      const tx = c.registry
        .connect(c.provider)
        .registerNode(defaultSpec, "http://n", [await c.usd.getAddress()], [KAI(1)]);
      await expect(tx).to.emit(c.registry, "SetCoveredSince").withArgs(c.provider.address, tList);
      expect(await c.registry.eligibleSince(1)).to.equal(tList);
    });

    it("clears coveredSince (SetCoveredSince(provider, 0)) when it raises the requirement above the stake", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).registerNode(rtxSpec, "http://n2", [], []))
        .to.emit(c.registry, "SetCoveredSince")
        .withArgs(c.provider.address, 0n);
      expect(await c.registry.eligibleSince(c.nodeId), "the covered node loses it too").to.equal(0n);
    });

    it("reverts with AmountTooLarge(weight, 2^40 - 1) when the listed weight would not fit 40 bits", async function () {
      const c = await loadFixture(deployBare);
      await c.registry.addGpuClass(ethers.encodeBytes32String("HUGE"), 1_000_000n);
      const spec = { ...defaultSpec, gpuClass: 2, gpuCount: 65_535 };
      const weight = 65_535n * 1_000_000n;
      const max = 2n ** 40n - 1n;
      const fits = max / weight;
      for (let i = 0n; i < fits; i++) await c.registry.connect(c.provider).registerNode(spec, "http://n", [], []);
      await expect(c.registry.connect(c.provider).registerNode(spec, "http://n", [], []))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_AmountTooLarge")
        .withArgs((fits + 1n) * weight, max);
    });
  });

  describe("stake", function () {
    it("sets coveredSince when it brings the stake to the requirement; eligibleSince = max(listed, covered)", async function () {
      const c = await loadFixture(deployBare);
      const tList = await atNextBlock();
      const nodeId = await registerNode(c);
      const tStake = await atNextBlock(50);
      await expect(c.registry.connect(c.provider).stake(DEFAULT_REQUIRED_STAKE))
        .to.emit(c.registry, "SetCoveredSince")
        .withArgs(c.provider.address, tStake);
      expect(await c.registry.listedSince(nodeId)).to.equal(tList);
      expect(await c.registry.eligibleSince(nodeId)).to.equal(tStake);
    });

    it("emits nothing when the stake stays below the requirement", async function () {
      const c = await loadFixture(deployBare);
      await registerNode(c);
      await expect(c.registry.connect(c.provider).stake(DEFAULT_REQUIRED_STAKE - 1n)).to.not.emit(
        c.registry,
        "SetCoveredSince",
      );
      expect(await c.registry.eligibleSince(1)).to.equal(0n);
    });

    it("emits nothing when the provider was covered already", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const before = await coveredSince(c, c.provider.address);
      await expect(c.registry.connect(c.provider).stake(KAI(1))).to.not.emit(c.registry, "SetCoveredSince");
      expect(await coveredSince(c, c.provider.address)).to.equal(before);
    });

    it("after governance raised the requirement: eligibleSince is 0 (live check), and a top-up restarts coverage", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const before = await coveredSince(c, c.provider.address);
      expect(before).to.not.equal(0n);
      await c.registry.setBaseStakePerGpu(BASE_STAKE_PER_GPU * 2n);
      expect(await c.registry.eligibleSince(c.nodeId)).to.equal(0n);
      expect(await coveredSince(c, c.provider.address), "not looped by governance").to.equal(before);
      const t = await atNextBlock(10);
      await expect(c.registry.connect(c.provider).stake(DEFAULT_REQUIRED_STAKE))
        .to.emit(c.registry, "SetCoveredSince")
        .withArgs(c.provider.address, t);
      expect(await c.registry.eligibleSince(c.nodeId)).to.equal(t);
    });
  });

  describe("requestUnstake", function () {
    it("clears coveredSince when it leaves the stake below the requirement; restaking starts it anew", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).requestUnstake(1n))
        .to.emit(c.registry, "SetCoveredSince")
        .withArgs(c.provider.address, 0n);
      expect(await c.registry.eligibleSince(c.nodeId)).to.equal(0n);
      const t = await atNextBlock(30);
      await expect(c.registry.connect(c.provider).stake(1n))
        .to.emit(c.registry, "SetCoveredSince")
        .withArgs(c.provider.address, t);
      expect(await c.registry.eligibleSince(c.nodeId)).to.equal(t);
    });

    it("emits nothing when the stake still covers the requirement", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).stake(KAI(10));
      await expect(c.registry.connect(c.provider).requestUnstake(KAI(10))).to.not.emit(c.registry, "SetCoveredSince");
    });
  });

  describe("slash", function () {
    it("clears coveredSince when it takes active stake below the requirement", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.oracle).slash(c.provider.address, 1n, 0, 2, ethers.ZeroHash, c.treasury))
        .to.emit(c.registry, "SetCoveredSince")
        .withArgs(c.provider.address, 0n);
      expect(await c.registry.eligibleSince(c.nodeId)).to.equal(0n);
    });

    it("emits nothing when it takes rewards only", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.oracle).depositRewards(c.provider.address, KAI(5));
      await expect(
        c.registry.connect(c.oracle).slash(c.provider.address, KAI(5), 0, 2, ethers.ZeroHash, c.treasury),
      ).to.not.emit(c.registry, "SetCoveredSince");
    });
  });

  describe("retireNode", function () {
    it("sets coveredSince when the listing leaving brings the stake back over the requirement", async function () {
      const c = await loadFixture(deployUncovered);
      expect(await coveredSince(c, c.provider.address)).to.equal(0n);
      const t = await atNextBlock(20);
      await expect(c.registry.connect(c.provider).retireNode(c.second))
        .to.emit(c.registry, "SetCoveredSince")
        .withArgs(c.provider.address, t);
      expect(await c.registry.eligibleSince(c.nodeId)).to.equal(t);
      expect(await c.registry.eligibleSince(c.second), "retired").to.equal(0n);
    });

    it("emits nothing when the provider stays uncovered", async function () {
      const c = await loadFixture(deployUncovered);
      await c.registry.connect(c.provider).requestUnstake(RTX_NODE_REQUIRED_STAKE + 1n);
      await expect(c.registry.connect(c.provider).retireNode(c.second)).to.not.emit(c.registry, "SetCoveredSince");
      expect(await c.registry.eligibleSince(c.nodeId)).to.equal(0n);
    });
  });

  describe("node status", function () {
    it("a paused node is not eligible; resuming re-lists it from the resume", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).pauseNode(c.nodeId);
      expect(await c.registry.eligibleSince(c.nodeId)).to.equal(0n);
      const t = await atNextBlock(40);
      await c.registry.connect(c.provider).resumeNode(c.nodeId);
      expect(await c.registry.listedSince(c.nodeId)).to.equal(t);
      expect(await c.registry.eligibleSince(c.nodeId)).to.equal(t);
    });

    it("a jailed node is not eligible; unjailed it stays paused until resumed", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true);
      expect(await c.registry.eligibleSince(c.nodeId)).to.equal(0n);
      await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, false);
      expect(await c.registry.eligibleSince(c.nodeId)).to.equal(0n);
      const t = await atNextBlock(5);
      await c.registry.connect(c.provider).resumeNode(c.nodeId);
      expect(await c.registry.eligibleSince(c.nodeId)).to.equal(t);
    });

    it("an unknown node is not eligible and was never listed", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      expect(await c.registry.eligibleSince(99)).to.equal(0n);
      expect(await c.registry.listedSince(99)).to.equal(0n);
    });
  });
});
