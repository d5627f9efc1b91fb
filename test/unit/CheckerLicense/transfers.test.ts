/**
 * ERC-721 transfers (`transferFrom`, both `safeTransferFrom`): a transfer takes the license back
 * from its operator; the new owner delegates anew.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import {
  EVIDENCE,
  aliceToCarol,
  deployDelegated,
  deployMinted,
  deploySuspended,
  expectLicense,
  expectLicensesOf,
  expectUndelegate,
  licenseEvents,
} from "../../helpers/license";

describe("CheckerLicense transfers", function () {
  describe("given the license is delegated", function () {
    it("emits Transfer(from, to, id) then Undelegate(id, operator)", async function () {
      const c = await loadFixture(deployDelegated);
      const tx = await aliceToCarol(c, 1);
      expect(await licenseEvents(c.license, tx), "events in order").to.deep.equal([
        ["Transfer", c.alice.address, c.carol.address, 1n],
        ["Undelegate", 1n, c.op1.address],
      ]);
    });

    it("clears the operator", async function () {
      const c = await loadFixture(deployDelegated);
      await aliceToCarol(c, 1);
      await expectLicense(c.license, 1, { owner: c.carol.address, operator: ethers.ZeroAddress, suspended: false });
    });

    it("subtracts 1 from the operator's licenses", async function () {
      const c = await loadFixture(deployDelegated);
      await aliceToCarol(c, 1);
      await expectLicensesOf(c, "op1", 1);
      await expectLicensesOf(c, "carol", 0);
    });

    it("lets the new owner delegate, to the old operator too", async function () {
      const c = await loadFixture(deployDelegated);
      await aliceToCarol(c, 1);
      await expect(c.license.connect(c.carol).delegate(1, c.op1.address))
        .to.emit(c.license, "Delegate")
        .withArgs(1, c.carol.address, c.op1.address);
      await expectLicensesOf(c, "op1", 2);
    });

    it("stops the old owner from delegating or undelegating", async function () {
      const c = await loadFixture(deployDelegated);
      await aliceToCarol(c, 1);
      await expect(c.license.connect(c.alice).delegate(1, c.op2.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_NotLicenseOwner")
        .withArgs(1, c.alice.address);
      await expect(c.license.connect(c.alice).undelegate(1))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_NotLicenseOwner")
        .withArgs(1, c.alice.address);
    });

    it("clears the delegation through safeTransferFrom(from, to, id)", async function () {
      const c = await loadFixture(deployDelegated);
      await expectUndelegate(
        c,
        c.license.connect(c.alice)["safeTransferFrom(address,address,uint256)"](c.alice.address, c.carol.address, 1),
        1,
        c.op1.address,
      );
      await expectLicense(c.license, 1, { owner: c.carol.address, operator: ethers.ZeroAddress });
    });

    it("clears the delegation through safeTransferFrom(from, to, id, data)", async function () {
      const c = await loadFixture(deployDelegated);
      const asAlice = c.license.connect(c.alice);
      await expectUndelegate(
        c,
        asAlice["safeTransferFrom(address,address,uint256,bytes)"](c.alice.address, c.carol.address, 1, "0x1234"),
        1,
        c.op1.address,
      );
      await expectLicensesOf(c, "op1", 1);
    });

    it("clears the delegation when an approved account moves the license", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.alice).approve(c.other.address, 1);
      await expectUndelegate(
        c,
        c.license.connect(c.other).transferFrom(c.alice.address, c.carol.address, 1),
        1,
        c.op1.address,
      );
      await expectLicensesOf(c, "op1", 1);
    });

    it("clears the delegation when an operator approved for all moves the license", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.alice).setApprovalForAll(c.other.address, true);
      await expectUndelegate(
        c,
        c.license.connect(c.other).transferFrom(c.alice.address, c.carol.address, 2),
        2,
        c.op1.address,
      );
      await expectLicensesOf(c, "op1", 1);
    });

    it("clears the delegation when the license goes to its own operator", async function () {
      const c = await loadFixture(deployDelegated);
      await expectUndelegate(
        c,
        c.license.connect(c.alice).transferFrom(c.alice.address, c.op1.address, 1),
        1,
        c.op1.address,
      );
      await expectLicensesOf(c, "op1", 1);
      await expectLicense(c.license, 1, { owner: c.op1.address, operator: ethers.ZeroAddress });
    });

    it("leaves the owner's other delegated licenses alone", async function () {
      const c = await loadFixture(deployDelegated);
      await aliceToCarol(c, 1);
      await expectLicense(c.license, 2, { owner: c.alice.address, operator: c.op1.address });
    });
  });

  describe("given the license is not delegated", function () {
    it("emits Transfer and no Undelegate", async function () {
      const c = await loadFixture(deployMinted);
      const tx = await aliceToCarol(c, 3);
      expect(await licenseEvents(c.license, tx), "events").to.deep.equal([
        ["Transfer", c.alice.address, c.carol.address, 3n],
      ]);
    });
  });

  describe("given the license is suspended and delegated", function () {
    it("keeps the license suspended", async function () {
      const c = await loadFixture(deploySuspended);
      await aliceToCarol(c, 1);
      await expectLicense(c.license, 1, { owner: c.carol.address, operator: ethers.ZeroAddress, suspended: true });
    });

    it("emits Undelegate(id, operator)", async function () {
      const c = await loadFixture(deploySuspended);
      await expectUndelegate(c, aliceToCarol(c, 1), 1, c.op1.address);
    });

    it("does not subtract from the operator a second time", async function () {
      const c = await loadFixture(deploySuspended);
      await aliceToCarol(c, 1);
      await expectLicensesOf(c, "op1", 1);
    });

    it("succeeds when the suspended license was its operator's only one (count already 0)", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.suspender).suspend(4, EVIDENCE);
      await expectLicensesOf(c, "op2", 0, "after suspend");
      await expectUndelegate(
        c,
        c.license.connect(c.bob).transferFrom(c.bob.address, c.carol.address, 4),
        4,
        c.op2.address,
      );
      await expectLicensesOf(c, "op2", 0, "after transfer");
    });

    it("stops the new owner from delegating it", async function () {
      const c = await loadFixture(deploySuspended);
      await aliceToCarol(c, 1);
      await expect(c.license.connect(c.carol).delegate(1, c.op2.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_Suspended")
        .withArgs(1);
    });
  });

  describe("given the license is suspended and not delegated", function () {
    it("transfers it, still suspended, with no Undelegate", async function () {
      const c = await loadFixture(deploySuspended);
      const tx = await aliceToCarol(c, 3);
      expect(await licenseEvents(c.license, tx), "events").to.deep.equal([
        ["Transfer", c.alice.address, c.carol.address, 3n],
      ]);
      await expectLicense(c.license, 3, { owner: c.carol.address, suspended: true });
    });
  });

  describe("when the owner transfers the license to itself", function () {
    // `_update` skips `from == to`: ownership does not change, so the delegation stands.
    it("keeps the delegation and emits no Undelegate", async function () {
      const c = await loadFixture(deployDelegated);
      const tx = await c.license.connect(c.alice).transferFrom(c.alice.address, c.alice.address, 1);
      expect(await licenseEvents(c.license, tx), "events").to.deep.equal([
        ["Transfer", c.alice.address, c.alice.address, 1n],
      ]);
      await expectLicense(c.license, 1, { owner: c.alice.address, operator: c.op1.address });
      await expectLicensesOf(c, "op1", 2);
    });
  });

  describe("when the caller may not move the license", function () {
    it("reverts with ERC721InsufficientApproval(caller, id) and keeps the delegation", async function () {
      const c = await loadFixture(deployDelegated);
      await expect(c.license.connect(c.op1).transferFrom(c.alice.address, c.op1.address, 1))
        .to.be.revertedWithCustomError(c.license, "ERC721InsufficientApproval")
        .withArgs(c.op1.address, 1);
      await expectLicense(c.license, 1, { owner: c.alice.address, operator: c.op1.address });
    });
  });

  describe("when the recipient is the zero address", function () {
    it("reverts with ERC721InvalidReceiver(0)", async function () {
      const c = await loadFixture(deployDelegated);
      await expect(c.license.connect(c.alice).transferFrom(c.alice.address, ethers.ZeroAddress, 1))
        .to.be.revertedWithCustomError(c.license, "ERC721InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
    });
  });
});
