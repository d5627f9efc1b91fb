import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { BASE_STAKE_PER_GPU } from "../../fixtures";
import {
  DEFAULT_MAX_DURATION,
  DEFAULT_MIN_NOTICE,
  DEFAULT_UNBONDING_PERIOD,
  MAX_BASE_STAKE_PER_GPU,
  ROLES,
} from "../../helpers/registry";

describe("NodeRegistry constructor", function () {
  async function deployBare() {
    const [deployer, admin] = await ethers.getSigners();
    const kai = await ethers.deployContract("KaiToken", [deployer.address]);
    const registry = await ethers.deployContract("NodeRegistry", [
      await kai.getAddress(),
      admin.address,
      BASE_STAKE_PER_GPU,
    ]);
    return { kai, registry, deployer, admin };
  }

  describe("when the KAI address is zero", function () {
    it("reverts with ZeroAddress", async function () {
      const [, admin] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("NodeRegistry");
      await expect(factory.deploy(ethers.ZeroAddress, admin.address, BASE_STAKE_PER_GPU)).to.be.revertedWithCustomError(
        factory,
        "NodeRegistry_ZeroAddress",
      );
    });
  });

  describe("when the admin address is zero", function () {
    it("reverts with ZeroAddress", async function () {
      const { kai } = await loadFixture(deployBare);
      const factory = await ethers.getContractFactory("NodeRegistry");
      await expect(
        factory.deploy(await kai.getAddress(), ethers.ZeroAddress, BASE_STAKE_PER_GPU),
      ).to.be.revertedWithCustomError(factory, "NodeRegistry_ZeroAddress");
    });
  });

  describe("when the base stake is 0", function () {
    it('reverts with ParameterOutOfBounds("baseStakePerGpu", 0, 1, 1M KAI)', async function () {
      const { kai, admin } = await loadFixture(deployBare);
      const factory = await ethers.getContractFactory("NodeRegistry");
      await expect(factory.deploy(await kai.getAddress(), admin.address, 0))
        .to.be.revertedWithCustomError(factory, "NodeRegistry_ParameterOutOfBounds")
        .withArgs("baseStakePerGpu", 0, 1, MAX_BASE_STAKE_PER_GPU);
    });
  });

  describe("when the base stake is above 1M KAI", function () {
    it("reverts with ParameterOutOfBounds", async function () {
      const { kai, admin } = await loadFixture(deployBare);
      const factory = await ethers.getContractFactory("NodeRegistry");
      await expect(factory.deploy(await kai.getAddress(), admin.address, MAX_BASE_STAKE_PER_GPU + 1n))
        .to.be.revertedWithCustomError(factory, "NodeRegistry_ParameterOutOfBounds")
        .withArgs("baseStakePerGpu", MAX_BASE_STAKE_PER_GPU + 1n, 1, MAX_BASE_STAKE_PER_GPU);
    });
  });

  describe("when the arguments are valid", function () {
    it("stores the KAI token", async function () {
      const { kai, registry } = await loadFixture(deployBare);
      expect(await registry.kai(), "kai").to.equal(await kai.getAddress());
    });

    it("stores the base stake", async function () {
      const { registry } = await loadFixture(deployBare);
      expect(await registry.baseStakePerGpu(), "baseStakePerGpu").to.equal(BASE_STAKE_PER_GPU);
    });

    it("starts with a 14-day unbonding period", async function () {
      const { registry } = await loadFixture(deployBare);
      expect(await registry.unbondingPeriod(), "unbondingPeriod").to.equal(DEFAULT_UNBONDING_PERIOD);
    });

    it("starts with 1 day of maintenance notice and 7 days of maximum length", async function () {
      const { registry } = await loadFixture(deployBare);
      expect(await registry.minMaintenanceNotice(), "minMaintenanceNotice").to.equal(DEFAULT_MIN_NOTICE);
      expect(await registry.maxMaintenanceDuration(), "maxMaintenanceDuration").to.equal(DEFAULT_MAX_DURATION);
    });

    it("starts with no node and no GPU class", async function () {
      const { registry } = await loadFixture(deployBare);
      expect(await registry.nodeCount(), "nodeCount").to.equal(0);
      expect(await registry.gpuClassCount(), "gpuClassCount").to.equal(0);
    });

    it("grants DEFAULT_ADMIN_ROLE to the admin", async function () {
      const { registry, admin } = await loadFixture(deployBare);
      expect(await registry.hasRole(ROLES.DEFAULT_ADMIN, admin.address), "admin is admin").to.equal(true);
    });

    it("grants nothing to the deployer", async function () {
      const { registry, deployer } = await loadFixture(deployBare);
      for (const [name, role] of Object.entries(ROLES)) {
        expect(await registry.hasRole(role, deployer.address), `deployer has ${name}`).to.equal(false);
      }
    });

    it("grants no operational role to the admin", async function () {
      const { registry, admin } = await loadFixture(deployBare);
      for (const role of ["SLASHER", "ESCROW", "REWARDER", "PAUSER"] as const) {
        expect(await registry.hasRole(ROLES[role], admin.address), `admin has ${role}`).to.equal(false);
      }
    });

    it("starts unpaused", async function () {
      const { registry } = await loadFixture(deployBare);
      expect(await registry.paused(), "paused").to.equal(false);
    });
  });
});
