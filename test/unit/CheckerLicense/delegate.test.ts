import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import {
  DEPARTURE_COOLDOWN,
  deployDelegated,
  deployMinted,
  deploySuspended,
  expectLicense,
  expectLicensesOf,
  expectUndelegate,
  licenseEvents,
} from "../../helpers/license";
import { expectRevert } from "../../helpers/reverts";

describe("CheckerLicense.delegate", function () {
  describe("when the license does not exist", function () {
    it("reverts with ERC721NonexistentToken(id) for id 0", async function () {
      const c = await loadFixture(deployMinted);
      await expectRevert(c.license, c.license.connect(c.alice).delegate(0, c.op1.address), "ERC721NonexistentToken", 0);
    });

    it("reverts with ERC721NonexistentToken(id) for an id past totalMinted", async function () {
      const c = await loadFixture(deployMinted);
      await expectRevert(c.license, c.license.connect(c.alice).delegate(5, c.op1.address), "ERC721NonexistentToken", 5);
    });
  });

  describe("when the caller is not the owner", function () {
    it("reverts with NotLicenseOwner(id, caller)", async function () {
      const c = await loadFixture(deployMinted);
      await expect(c.license.connect(c.bob).delegate(1, c.op1.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_NotLicenseOwner")
        .withArgs(1, c.bob.address);
    });

    it("reverts for an account approved for the license", async function () {
      const c = await loadFixture(deployMinted);
      await c.license.connect(c.alice).approve(c.bob.address, 1);
      await expect(c.license.connect(c.bob).delegate(1, c.op1.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_NotLicenseOwner")
        .withArgs(1, c.bob.address);
    });

    it("reverts for an operator approved for all of the owner's licenses", async function () {
      const c = await loadFixture(deployMinted);
      await c.license.connect(c.alice).setApprovalForAll(c.bob.address, true);
      await expect(c.license.connect(c.bob).delegate(1, c.op1.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_NotLicenseOwner")
        .withArgs(1, c.bob.address);
    });

    it("reverts for the current operator", async function () {
      const c = await loadFixture(deployDelegated);
      await expect(c.license.connect(c.op1).delegate(1, c.op2.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_NotLicenseOwner")
        .withArgs(1, c.op1.address);
    });

    it("checks ownership before the operator: NotLicenseOwner even for the zero operator", async function () {
      const c = await loadFixture(deployMinted);
      await expect(c.license.connect(c.bob).delegate(1, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_NotLicenseOwner")
        .withArgs(1, c.bob.address);
    });
  });

  describe("when the operator is the zero address", function () {
    it("reverts with ZeroAddress", async function () {
      const c = await loadFixture(deployMinted);
      await expect(c.license.connect(c.alice).delegate(1, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        c.license,
        "CheckerLicense_ZeroAddress",
      );
    });
  });

  describe("given the license is suspended", function () {
    it("reverts with Suspended(id) for a suspended delegated license", async function () {
      const c = await loadFixture(deploySuspended);
      await expect(c.license.connect(c.alice).delegate(1, c.op2.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_Suspended")
        .withArgs(1);
    });

    it("reverts with Suspended(id) for a suspended undelegated license", async function () {
      const c = await loadFixture(deploySuspended);
      await expect(c.license.connect(c.alice).delegate(3, c.op1.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_Suspended")
        .withArgs(3);
    });

    it("reverts with Suspended(id) even for its current operator", async function () {
      const c = await loadFixture(deploySuspended);
      await expect(c.license.connect(c.alice).delegate(1, c.op1.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_Suspended")
        .withArgs(1);
    });
  });

  describe("given the license is already delegated to the same operator", function () {
    it("reverts with AlreadyDelegated(id, operator)", async function () {
      const c = await loadFixture(deployDelegated);
      await expect(c.license.connect(c.alice).delegate(1, c.op1.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_AlreadyDelegated")
        .withArgs(1, c.op1.address);
    });
  });

  describe("given the license is not delegated", function () {
    it("emits Delegate(id, owner, operator)", async function () {
      const c = await loadFixture(deployMinted);
      await expect(c.license.connect(c.alice).delegate(1, c.op1.address))
        .to.emit(c.license, "Delegate")
        .withArgs(1, c.alice.address, c.op1.address);
    });

    it("emits no Undelegate", async function () {
      const c = await loadFixture(deployMinted);
      const tx = await c.license.connect(c.alice).delegate(1, c.op1.address);
      expect(await licenseEvents(c.license, tx), "events").to.deep.equal([
        ["Delegate", 1n, c.alice.address, c.op1.address],
      ]);
    });

    it("records the operator", async function () {
      const c = await loadFixture(deployMinted);
      await c.license.connect(c.alice).delegate(1, c.op1.address);
      await expectLicense(c.license, 1, { owner: c.alice.address, operator: c.op1.address, suspended: false });
    });

    it("adds 1 to the operator's licenses", async function () {
      const c = await loadFixture(deployMinted);
      await c.license.connect(c.alice).delegate(1, c.op1.address);
      await expectLicensesOf(c, "op1", 1);
      await expectLicensesOf(c, "alice", 0);
    });

    it("lets the owner delegate to itself", async function () {
      const c = await loadFixture(deployMinted);
      await expect(c.license.connect(c.alice).delegate(1, c.alice.address))
        .to.emit(c.license, "Delegate")
        .withArgs(1, c.alice.address, c.alice.address);
      await expectLicensesOf(c, "alice", 1);
    });

    it("counts licenses of different owners delegated to one operator once each", async function () {
      const c = await loadFixture(deployMinted);
      await c.license.connect(c.alice).delegate(1, c.op1.address);
      await c.license.connect(c.alice).delegate(3, c.op1.address);
      await c.license.connect(c.bob).delegate(4, c.op1.address);
      await expectLicensesOf(c, "op1", 3);
    });
  });

  describe("given the license is delegated to another operator", function () {
    it("emits Undelegate(id, old operator) then Delegate(id, owner, new operator)", async function () {
      const c = await loadFixture(deployDelegated);
      const tx = await c.license.connect(c.alice).delegate(1, c.op2.address);
      expect(await licenseEvents(c.license, tx), "events in order").to.deep.equal([
        ["Undelegate", 1n, c.op1.address],
        ["Delegate", 1n, c.alice.address, c.op2.address],
      ]);
    });

    it("emits Undelegate(id, old operator)", async function () {
      const c = await loadFixture(deployDelegated);
      await expectUndelegate(c, c.license.connect(c.alice).delegate(1, c.op2.address), 1, c.op1.address);
    });

    it("moves the license's count from the old operator to the new one", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.alice).delegate(1, c.op2.address);
      await expectLicensesOf(c, "op1", 1);
      await expectLicensesOf(c, "op2", 2);
    });

    it("records the new operator", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.alice).delegate(1, c.op2.address);
      await expectLicense(c.license, 1, { operator: c.op2.address });
      await expectLicense(c.license, 2, { operator: c.op1.address });
    });

    it("can move the license back after the departure cooldown: the counts return to where they were", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.alice).delegate(1, c.op2.address);
      await time.increase(DEPARTURE_COOLDOWN);
      await c.license.connect(c.alice).delegate(1, c.op1.address);
      await expectLicensesOf(c, "op1", 2);
      await expectLicensesOf(c, "op2", 1);
    });
  });

  describe("given the license was suspended and reinstated", function () {
    it("can be delegated again", async function () {
      const c = await loadFixture(deploySuspended);
      await c.license.connect(c.admin).reinstate(3);
      await expect(c.license.connect(c.alice).delegate(3, c.op2.address))
        .to.emit(c.license, "Delegate")
        .withArgs(3, c.alice.address, c.op2.address);
      await expectLicensesOf(c, "op2", 2);
    });
  });
});
