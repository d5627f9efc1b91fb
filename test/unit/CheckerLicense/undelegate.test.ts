import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import {
  deployDelegated,
  deploySuspended,
  expectLicense,
  expectLicensesOf,
  expectUndelegate,
  licenseEvents,
} from "../../helpers/license";
import { expectRevert } from "../../helpers/reverts";

describe("CheckerLicense.undelegate", function () {
  describe("when the license does not exist", function () {
    it("reverts with ERC721NonexistentToken(id)", async function () {
      const c = await loadFixture(deployDelegated);
      await expectRevert(c.license, c.license.connect(c.alice).undelegate(5), "ERC721NonexistentToken", 5);
    });
  });

  describe("when the caller is not the owner", function () {
    it("reverts with NotLicenseOwner(id, caller)", async function () {
      const c = await loadFixture(deployDelegated);
      await expect(c.license.connect(c.bob).undelegate(1))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_NotLicenseOwner")
        .withArgs(1, c.bob.address);
    });

    it("reverts for the operator itself: only the owner takes a license back", async function () {
      const c = await loadFixture(deployDelegated);
      await expect(c.license.connect(c.op1).undelegate(1))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_NotLicenseOwner")
        .withArgs(1, c.op1.address);
    });

    it("reverts for an account approved for the license", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.alice).approve(c.bob.address, 1);
      await expect(c.license.connect(c.bob).undelegate(1))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_NotLicenseOwner")
        .withArgs(1, c.bob.address);
    });
  });

  describe("given the license is not delegated", function () {
    it("reverts with NotDelegated(id)", async function () {
      const c = await loadFixture(deployDelegated);
      await expectRevert(c.license, c.license.connect(c.alice).undelegate(3), "CheckerLicense_NotDelegated", 3);
    });

    it("reverts with NotDelegated(id) after an earlier undelegate", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.alice).undelegate(1);
      await expectRevert(c.license, c.license.connect(c.alice).undelegate(1), "CheckerLicense_NotDelegated", 1);
    });
  });

  describe("given the license is delegated", function () {
    it("emits Undelegate(id, operator), and nothing else", async function () {
      const c = await loadFixture(deployDelegated);
      const tx = await c.license.connect(c.alice).undelegate(1);
      await expectUndelegate(c, tx, 1, c.op1.address);
      expect(await licenseEvents(c.license, tx), "events").to.deep.equal([["Undelegate", 1n, c.op1.address]]);
    });

    it("clears the operator", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.alice).undelegate(1);
      await expectLicense(c.license, 1, { owner: c.alice.address, operator: ethers.ZeroAddress, suspended: false });
    });

    it("subtracts 1 from the operator's licenses, and only from its", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.alice).undelegate(1);
      await expectLicensesOf(c, "op1", 1);
      await expectLicensesOf(c, "op2", 1);
      await expectLicense(c.license, 2, { operator: c.op1.address });
    });

    it("brings the operator to 0 when it takes back its last license", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.bob).undelegate(4);
      await expectLicensesOf(c, "op2", 0);
    });

    it("lets the owner delegate the license again", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.alice).undelegate(1);
      await c.license.connect(c.alice).delegate(1, c.op2.address);
      await expectLicensesOf(c, "op2", 2);
    });
  });

  describe("given the license is suspended and delegated", function () {
    it("emits Undelegate(id, operator)", async function () {
      const c = await loadFixture(deploySuspended);
      await expectUndelegate(c, c.license.connect(c.alice).undelegate(1), 1, c.op1.address);
    });

    it("clears the operator and keeps the license suspended", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.alice).undelegate(1);
      await expectLicense(c.license, 1, { operator: ethers.ZeroAddress, suspended: true });
    });

    it("leaves the operator's count alone: the suspension already removed it", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.alice).undelegate(1);
      await expectLicensesOf(c, "op1", 1);
    });

    it("does not restore the count when the license is later reinstated", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.alice).undelegate(1);
      await c.license.connect(c.admin).reinstate(1);
      await expectLicensesOf(c, "op1", 1);
    });
  });
});
