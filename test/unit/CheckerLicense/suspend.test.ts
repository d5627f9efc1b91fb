import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import {
  EVIDENCE,
  LICENSE_ROLES,
  deployDelegated,
  deploySuspended,
  expectLicense,
  expectLicensesOf,
  licenseEvents,
} from "../../helpers/license";
import { expectRevert } from "../../helpers/reverts";

describe("CheckerLicense.suspend", function () {
  describe("when the caller lacks SUSPENDER_ROLE", function () {
    it("reverts with AccessControlUnauthorizedAccount(caller, SUSPENDER_ROLE)", async function () {
      const c = await loadFixture(deployDelegated);
      await expect(c.license.connect(c.other).suspend(1, EVIDENCE))
        .to.be.revertedWithCustomError(c.license, "AccessControlUnauthorizedAccount")
        .withArgs(c.other.address, LICENSE_ROLES.SUSPENDER);
    });

    it("reverts for the admin too", async function () {
      const c = await loadFixture(deployDelegated);
      await expect(c.license.connect(c.admin).suspend(1, EVIDENCE))
        .to.be.revertedWithCustomError(c.license, "AccessControlUnauthorizedAccount")
        .withArgs(c.admin.address, LICENSE_ROLES.SUSPENDER);
    });

    it("reverts for the license's owner", async function () {
      const c = await loadFixture(deployDelegated);
      await expect(c.license.connect(c.alice).suspend(1, EVIDENCE))
        .to.be.revertedWithCustomError(c.license, "AccessControlUnauthorizedAccount")
        .withArgs(c.alice.address, LICENSE_ROLES.SUSPENDER);
    });
  });

  describe("when the license does not exist", function () {
    it("reverts with ERC721NonexistentToken(id)", async function () {
      const c = await loadFixture(deployDelegated);
      await expectRevert(c.license, c.license.connect(c.suspender).suspend(5, EVIDENCE), "ERC721NonexistentToken", 5);
    });
  });

  describe("given the license is already suspended", function () {
    it("reverts with Suspended(id)", async function () {
      const c = await loadFixture(deploySuspended);
      await expectRevert(c.license, c.license.connect(c.suspender).suspend(1, EVIDENCE), "CheckerLicense_Suspended", 1);
    });

    it("reverts with Suspended(id) whatever the evidence", async function () {
      const c = await loadFixture(deploySuspended);
      await expect(c.license.connect(c.suspender).suspend(3, ethers.id("other evidence")))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_Suspended")
        .withArgs(3);
    });
  });

  describe("given the license is delegated", function () {
    it("emits SetSuspended(id, true, evidence), and nothing else", async function () {
      const c = await loadFixture(deployDelegated);
      const tx = await c.license.connect(c.suspender).suspend(1, EVIDENCE);
      await expect(tx).to.emit(c.license, "SetSuspended").withArgs(1, true, EVIDENCE);
      expect(await licenseEvents(c.license, tx), "events").to.deep.equal([["SetSuspended", 1n, true, EVIDENCE]]);
    });

    it("marks the license suspended", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.suspender).suspend(1, EVIDENCE);
      expect(await c.license.isSuspended(1), "isSuspended(1)").to.equal(true);
      expect(await c.license.isSuspended(2), "isSuspended(2)").to.equal(false);
    });

    it("stops counting it for its operator", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.suspender).suspend(1, EVIDENCE);
      await expectLicensesOf(c, "op1", 1);
      await expectLicensesOf(c, "op2", 1);
    });

    it("keeps it delegated and owned: the record shows who had it", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.suspender).suspend(1, EVIDENCE);
      await expectLicense(c.license, 1, { owner: c.alice.address, operator: c.op1.address, suspended: true });
    });

    it("brings the operator to 0 when all its licenses are suspended", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.suspender).suspend(1, EVIDENCE);
      await c.license.connect(c.suspender).suspend(2, EVIDENCE);
      await expectLicensesOf(c, "op1", 0);
    });
  });

  describe("given the license is not delegated", function () {
    it("emits SetSuspended(id, true, evidence)", async function () {
      const c = await loadFixture(deployDelegated);
      await expect(c.license.connect(c.suspender).suspend(3, EVIDENCE))
        .to.emit(c.license, "SetSuspended")
        .withArgs(3, true, EVIDENCE);
    });

    it("changes no operator's count", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.suspender).suspend(3, EVIDENCE);
      await expectLicensesOf(c, "op1", 2);
      await expectLicensesOf(c, "op2", 1);
      await expectLicensesOf(c, "alice", 0);
      await expectLicense(c.license, 3, { operator: ethers.ZeroAddress, suspended: true });
    });
  });

  describe("when the evidence is zero", function () {
    it("suspends and emits SetSuspended(id, true, 0)", async function () {
      const c = await loadFixture(deployDelegated);
      await expect(c.license.connect(c.suspender).suspend(1, ethers.ZeroHash))
        .to.emit(c.license, "SetSuspended")
        .withArgs(1, true, ethers.ZeroHash);
      expect(await c.license.isSuspended(1), "isSuspended(1)").to.equal(true);
    });
  });

  describe("given the license was suspended and reinstated", function () {
    it("can be suspended again, with new evidence", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.admin).reinstate(1);
      const evidence = ethers.id("second offence");
      await expect(c.license.connect(c.suspender).suspend(1, evidence))
        .to.emit(c.license, "SetSuspended")
        .withArgs(1, true, evidence);
      await expectLicensesOf(c, "op1", 1);
    });
  });
});
