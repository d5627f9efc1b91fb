import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { LICENSE_ROLES } from "../../helpers/license";

describe("CheckerLicense constructor", function () {
  async function deployBare() {
    const [deployer, admin] = await ethers.getSigners();
    const license = await ethers.deployContract("CheckerLicense", [admin.address]);
    return { license, deployer, admin };
  }

  describe("when the admin address is zero", function () {
    it("reverts with ZeroAddress", async function () {
      const factory = await ethers.getContractFactory("CheckerLicense");
      await expect(factory.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        factory,
        "CheckerLicense_ZeroAddress",
      );
    });
  });

  describe("when the admin address is valid", function () {
    it("grants DEFAULT_ADMIN_ROLE to the admin", async function () {
      const { license, admin } = await loadFixture(deployBare);
      expect(await license.hasRole(LICENSE_ROLES.DEFAULT_ADMIN, admin.address), "admin is admin").to.equal(true);
    });

    it("grants nothing to the deployer", async function () {
      const { license, deployer } = await loadFixture(deployBare);
      for (const [name, role] of Object.entries(LICENSE_ROLES)) {
        expect(await license.hasRole(role, deployer.address), `deployer has ${name}`).to.equal(false);
      }
    });

    it("grants neither MINTER_ROLE nor SUSPENDER_ROLE to the admin", async function () {
      const { license, admin } = await loadFixture(deployBare);
      expect(await license.hasRole(LICENSE_ROLES.MINTER, admin.address), "admin has MINTER").to.equal(false);
      expect(await license.hasRole(LICENSE_ROLES.SUSPENDER, admin.address), "admin has SUSPENDER").to.equal(false);
    });

    it("makes DEFAULT_ADMIN_ROLE the admin of every role", async function () {
      const { license } = await loadFixture(deployBare);
      for (const [name, role] of Object.entries(LICENSE_ROLES)) {
        expect(await license.getRoleAdmin(role), `admin of ${name}`).to.equal(LICENSE_ROLES.DEFAULT_ADMIN);
      }
    });

    it("starts with nothing minted", async function () {
      const { license, admin } = await loadFixture(deployBare);
      expect(await license.totalMinted(), "totalMinted").to.equal(0);
      expect(await license.balanceOf(admin.address), "balanceOf(admin)").to.equal(0);
    });
  });
});
