import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import {
  LICENSE_ROLES,
  aliceToCarol,
  deployDelegated,
  deploySuspended,
  expectLicense,
  expectLicensesOf,
  licenseEvents,
} from "../../helpers/license";
import { expectRevert } from "../../helpers/reverts";

describe("CheckerLicense.reinstate", function () {
  describe("when the caller lacks DEFAULT_ADMIN_ROLE", function () {
    it("reverts with AccessControlUnauthorizedAccount(caller, DEFAULT_ADMIN_ROLE)", async function () {
      const c = await loadFixture(deploySuspended);
      await expect(c.license.connect(c.alice).reinstate(1))
        .to.be.revertedWithCustomError(c.license, "AccessControlUnauthorizedAccount")
        .withArgs(c.alice.address, LICENSE_ROLES.DEFAULT_ADMIN);
    });

    it("reverts for the suspender: the oracle cannot undo a suspension", async function () {
      const c = await loadFixture(deploySuspended);
      await expect(c.license.connect(c.suspender).reinstate(1))
        .to.be.revertedWithCustomError(c.license, "AccessControlUnauthorizedAccount")
        .withArgs(c.suspender.address, LICENSE_ROLES.DEFAULT_ADMIN);
    });

    it("reverts for the minter", async function () {
      const c = await loadFixture(deploySuspended);
      await expect(c.license.connect(c.minter).reinstate(1))
        .to.be.revertedWithCustomError(c.license, "AccessControlUnauthorizedAccount")
        .withArgs(c.minter.address, LICENSE_ROLES.DEFAULT_ADMIN);
    });
  });

  describe("given the license is not suspended", function () {
    it("reverts with NotSuspended(id)", async function () {
      const c = await loadFixture(deploySuspended);
      await expectRevert(c.license, c.license.connect(c.admin).reinstate(2), "CheckerLicense_NotSuspended", 2);
    });

    it("reverts with NotSuspended(id) when reinstated twice", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.admin).reinstate(1);
      await expectRevert(c.license, c.license.connect(c.admin).reinstate(1), "CheckerLicense_NotSuspended", 1);
    });

    it("reverts with NotSuspended(id) for a license that does not exist", async function () {
      const c = await loadFixture(deploySuspended);
      await expectRevert(c.license, c.license.connect(c.admin).reinstate(99), "CheckerLicense_NotSuspended", 99);
    });
  });

  describe("given the license is suspended and still delegated", function () {
    it("emits SetSuspended(id, false, 0), and nothing else", async function () {
      const c = await loadFixture(deploySuspended);
      const tx = await c.license.connect(c.admin).reinstate(1);
      await expect(tx).to.emit(c.license, "SetSuspended").withArgs(1, false, ethers.ZeroHash);
      expect(await licenseEvents(c.license, tx), "events").to.deep.equal([
        ["SetSuspended", 1n, false, ethers.ZeroHash],
      ]);
    });

    it("clears the suspension and keeps the operator", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.admin).reinstate(1);
      await expectLicense(c.license, 1, { owner: c.alice.address, operator: c.op1.address, suspended: false });
    });

    it("counts the license for its operator again", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.admin).reinstate(1);
      await expectLicensesOf(c, "op1", 2);
    });

    it("lets the owner re-delegate it", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.admin).reinstate(1);
      await c.license.connect(c.alice).delegate(1, c.op2.address);
      await expectLicensesOf(c, "op1", 1);
      await expectLicensesOf(c, "op2", 2);
    });
  });

  describe("given the license is suspended and not delegated", function () {
    it("emits SetSuspended(id, false, 0)", async function () {
      const c = await loadFixture(deploySuspended);
      await expect(c.license.connect(c.admin).reinstate(3))
        .to.emit(c.license, "SetSuspended")
        .withArgs(3, false, ethers.ZeroHash);
    });

    it("clears the suspension and changes no operator's count", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.admin).reinstate(3);
      await expectLicense(c.license, 3, { operator: ethers.ZeroAddress, suspended: false });
      await expectLicensesOf(c, "op1", 1);
      await expectLicensesOf(c, "op2", 1);
      expect(await c.license.licensesOf(ethers.ZeroAddress), "licensesOf(0)").to.equal(0);
    });
  });

  describe("given the license was undelegated while suspended", function () {
    it("restores no count: the license is no longer delegated", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.alice).undelegate(1);
      await c.license.connect(c.admin).reinstate(1);
      await expectLicense(c.license, 1, { operator: ethers.ZeroAddress, suspended: false });
      await expectLicensesOf(c, "op1", 1);
    });
  });

  describe("given the license was transferred while suspended", function () {
    it("restores no count, to the old operator or anyone", async function () {
      const c = await loadFixture(deploySuspended);
      await aliceToCarol(c, 1);
      await c.license.connect(c.admin).reinstate(1);
      await expectLicense(c.license, 1, { owner: c.carol.address, operator: ethers.ZeroAddress, suspended: false });
      await expectLicensesOf(c, "op1", 1);
      await expectLicensesOf(c, "carol", 0);
    });
  });

  describe("given the role was granted to another account", function () {
    it("lets any DEFAULT_ADMIN_ROLE holder reinstate", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.admin).grantRole(LICENSE_ROLES.DEFAULT_ADMIN, c.other.address);
      await expect(c.license.connect(c.other).reinstate(1))
        .to.emit(c.license, "SetSuspended")
        .withArgs(1, false, ethers.ZeroHash);
    });
  });

  describe("given two licenses are suspended", function () {
    it("reinstates only the one named", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.admin).reinstate(1);
      expect(await c.license.isSuspended(3), "isSuspended(3)").to.equal(true);
    });
  });

  describe("given a suspension and a reinstatement of the same delegated license", function () {
    it("returns every count to where it was", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.suspender).suspend(4, ethers.id("x"));
      await c.license.connect(c.admin).reinstate(4);
      await expectLicensesOf(c, "op2", 1);
      await expectLicensesOf(c, "op1", 2);
    });
  });
});
