import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import {
  INTERFACE_IDS,
  LICENSE_ROLES,
  MAX_SUPPLY,
  aliceToCarol,
  deployDelegated,
  deployLicense,
  deployMinted,
  deploySuspended,
  expectLicensesOf,
} from "../../helpers/license";

describe("CheckerLicense views", function () {
  describe("operatorOf", function () {
    it("is the operator of a delegated license", async function () {
      const c = await loadFixture(deployDelegated);
      expect(await c.license.operatorOf(1), "operatorOf(1)").to.equal(c.op1.address);
      expect(await c.license.operatorOf(4), "operatorOf(4)").to.equal(c.op2.address);
    });

    it("is zero for an undelegated license", async function () {
      const c = await loadFixture(deployDelegated);
      expect(await c.license.operatorOf(3), "operatorOf(3)").to.equal(ethers.ZeroAddress);
    });

    it("is zero for a license that does not exist (no revert)", async function () {
      const c = await loadFixture(deployDelegated);
      expect(await c.license.operatorOf(0), "operatorOf(0)").to.equal(ethers.ZeroAddress);
      expect(await c.license.operatorOf(1_000), "operatorOf(1000)").to.equal(ethers.ZeroAddress);
    });

    it("still names the operator of a suspended license", async function () {
      const c = await loadFixture(deploySuspended);
      expect(await c.license.operatorOf(1), "operatorOf(1)").to.equal(c.op1.address);
    });
  });

  describe("isSuspended", function () {
    it("is true for a suspended license, false for the others", async function () {
      const c = await loadFixture(deploySuspended);
      expect(await c.license.isSuspended(1), "isSuspended(1)").to.equal(true);
      expect(await c.license.isSuspended(2), "isSuspended(2)").to.equal(false);
      expect(await c.license.isSuspended(3), "isSuspended(3)").to.equal(true);
      expect(await c.license.isSuspended(4), "isSuspended(4)").to.equal(false);
    });

    it("is false for a license that does not exist (no revert)", async function () {
      const c = await loadFixture(deploySuspended);
      expect(await c.license.isSuspended(1_000), "isSuspended(1000)").to.equal(false);
    });
  });

  describe("licensesOf", function () {
    it("counts the unsuspended licenses delegated to the operator", async function () {
      const c = await loadFixture(deploySuspended);
      await expectLicensesOf(c, "op1", 1);
      await expectLicensesOf(c, "op2", 1);
    });

    it("does not count licenses an account owns", async function () {
      const c = await loadFixture(deployDelegated);
      await expectLicensesOf(c, "alice", 0);
      await expectLicensesOf(c, "bob", 0);
    });

    it("is 0 for an unknown account and for the zero address", async function () {
      const c = await loadFixture(deployDelegated);
      await expectLicensesOf(c, "other", 0);
      expect(await c.license.licensesOf(ethers.ZeroAddress), "licensesOf(0)").to.equal(0);
    });
  });

  describe("totalMinted", function () {
    it("is 0 before any mint", async function () {
      const c = await loadFixture(deployLicense);
      expect(await c.license.totalMinted(), "totalMinted").to.equal(0);
    });

    it("is the number of licenses minted", async function () {
      const c = await loadFixture(deployMinted);
      expect(await c.license.totalMinted(), "totalMinted").to.equal(4);
    });

    it("does not change on a transfer, a suspension or a delegation", async function () {
      const c = await loadFixture(deploySuspended);
      await aliceToCarol(c, 2);
      expect(await c.license.totalMinted(), "totalMinted").to.equal(4);
    });
  });

  describe("supportsInterface", function () {
    it("supports ERC-721 (0x80ac58cd)", async function () {
      const c = await loadFixture(deployLicense);
      expect(await c.license.supportsInterface(INTERFACE_IDS.ERC721), "ERC721").to.equal(true);
    });

    it("supports AccessControl (0x7965db0b)", async function () {
      const c = await loadFixture(deployLicense);
      expect(await c.license.supportsInterface(INTERFACE_IDS.AccessControl), "AccessControl").to.equal(true);
    });

    it("supports ERC-165 (0x01ffc9a7) and ERC-721 metadata (0x5b5e139f)", async function () {
      const c = await loadFixture(deployLicense);
      expect(await c.license.supportsInterface(INTERFACE_IDS.ERC165), "ERC165").to.equal(true);
      expect(await c.license.supportsInterface(INTERFACE_IDS.ERC721Metadata), "ERC721Metadata").to.equal(true);
    });

    it("does not claim ERC-721 enumerable (0x780e9d63) or 0xffffffff", async function () {
      const c = await loadFixture(deployLicense);
      expect(await c.license.supportsInterface(INTERFACE_IDS.ERC721Enumerable), "ERC721Enumerable").to.equal(false);
      expect(await c.license.supportsInterface(INTERFACE_IDS.Invalid), "0xffffffff").to.equal(false);
    });
  });

  describe("constants and metadata", function () {
    it("caps the supply at 29,998", async function () {
      const c = await loadFixture(deployLicense);
      expect(await c.license.MAX_SUPPLY(), "MAX_SUPPLY").to.equal(MAX_SUPPLY);
    });

    it("names the roles keccak256('MINTER_ROLE') and keccak256('SUSPENDER_ROLE')", async function () {
      const c = await loadFixture(deployLicense);
      expect(await c.license.MINTER_ROLE(), "MINTER_ROLE").to.equal(LICENSE_ROLES.MINTER);
      expect(await c.license.SUSPENDER_ROLE(), "SUSPENDER_ROLE").to.equal(LICENSE_ROLES.SUSPENDER);
    });

    it("is named 'Kaisar Checker License' (KCL)", async function () {
      const c = await loadFixture(deployLicense);
      expect(await c.license.name(), "name").to.equal("Kaisar Checker License");
      expect(await c.license.symbol(), "symbol").to.equal("KCL");
    });

    it("has an empty token URI for a minted license", async function () {
      const c = await loadFixture(deployMinted);
      expect(await c.license.tokenURI(1), "tokenURI(1)").to.equal("");
    });
  });
});
