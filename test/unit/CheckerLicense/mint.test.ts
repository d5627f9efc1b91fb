import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import {
  LICENSE_ROLES,
  MAX_SUPPLY,
  TOTAL_MINTED_SLOT,
  deployLicense,
  deployMinted,
  expectLicense,
  expectLicensesOf,
  licenseEvents,
  setTotalMinted,
} from "../../helpers/license";
import { expectRevert } from "../../helpers/reverts";

describe("CheckerLicense.mint", function () {
  /** A license just below the cap: `totalMinted` written to 29,997 (minting it for real takes ~26 full blocks). */
  async function deployNearCap() {
    const c = await deployLicense();
    await setTotalMinted(c.license, MAX_SUPPLY - 1n);
    return c;
  }

  /** A license at the cap. */
  async function deployAtCap() {
    const c = await deployLicense();
    await setTotalMinted(c.license, MAX_SUPPLY);
    return c;
  }

  describe("when the caller lacks MINTER_ROLE", function () {
    it("reverts with AccessControlUnauthorizedAccount(caller, MINTER_ROLE)", async function () {
      const c = await loadFixture(deployLicense);
      await expect(c.license.connect(c.alice).mint(c.alice.address, 1))
        .to.be.revertedWithCustomError(c.license, "AccessControlUnauthorizedAccount")
        .withArgs(c.alice.address, LICENSE_ROLES.MINTER);
    });

    it("reverts for the admin too: the admin role does not imply MINTER_ROLE", async function () {
      const c = await loadFixture(deployLicense);
      await expect(c.license.connect(c.admin).mint(c.alice.address, 1))
        .to.be.revertedWithCustomError(c.license, "AccessControlUnauthorizedAccount")
        .withArgs(c.admin.address, LICENSE_ROLES.MINTER);
    });

    it("reverts for the suspender too", async function () {
      const c = await loadFixture(deployLicense);
      await expect(c.license.connect(c.suspender).mint(c.alice.address, 1))
        .to.be.revertedWithCustomError(c.license, "AccessControlUnauthorizedAccount")
        .withArgs(c.suspender.address, LICENSE_ROLES.MINTER);
    });
  });

  describe("when the count is 0", function () {
    it("reverts with ZeroAmount", async function () {
      const c = await loadFixture(deployLicense);
      await expectRevert(c.license, c.license.connect(c.minter).mint(c.alice.address, 0), "CheckerLicense_ZeroAmount");
    });
  });

  describe("when the recipient is the zero address", function () {
    it("reverts with ERC721InvalidReceiver(0)", async function () {
      const c = await loadFixture(deployLicense);
      await expect(c.license.connect(c.minter).mint(ethers.ZeroAddress, 1))
        .to.be.revertedWithCustomError(c.license, "ERC721InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("when the recipient is a contract that does not accept ERC-721 tokens", function () {
    it("reverts with ERC721InvalidReceiver(recipient) and mints nothing", async function () {
      const c = await loadFixture(deployLicense);
      const token = await ethers.deployContract("MockERC20", ["Not a receiver", "NAR", 18]);
      await expect(c.license.connect(c.minter).mint(await token.getAddress(), 2))
        .to.be.revertedWithCustomError(c.license, "ERC721InvalidReceiver")
        .withArgs(await token.getAddress());
      expect(await c.license.totalMinted(), "totalMinted").to.equal(0);
    });
  });

  describe("given nothing was minted", function () {
    it("returns 1 as the first id", async function () {
      const c = await loadFixture(deployLicense);
      expect(await c.license.connect(c.minter).mint.staticCall(c.alice.address, 3), "firstId").to.equal(1);
    });

    it("gives ids 1..count to the recipient", async function () {
      const c = await loadFixture(deployLicense);
      await c.license.connect(c.minter).mint(c.alice.address, 3);
      for (const id of [1, 2, 3]) await expectLicense(c.license, id, { owner: c.alice.address });
      expect(await c.license.balanceOf(c.alice.address), "balanceOf(alice)").to.equal(3);
      await expect(c.license.ownerOf(4), "ownerOf(4)")
        .to.be.revertedWithCustomError(c.license, "ERC721NonexistentToken")
        .withArgs(4);
    });

    it("emits Transfer(0, to, id) for each id, in order, and nothing else", async function () {
      const c = await loadFixture(deployLicense);
      const tx = await c.license.connect(c.minter).mint(c.alice.address, 3);
      expect(await licenseEvents(c.license, tx), "events").to.deep.equal(
        [1n, 2n, 3n].map((id) => ["Transfer", ethers.ZeroAddress, c.alice.address, id]),
      );
    });

    it("emits Transfer(0, to, 1) for a single license", async function () {
      const c = await loadFixture(deployLicense);
      await expect(c.license.connect(c.minter).mint(c.alice.address, 1))
        .to.emit(c.license, "Transfer")
        .withArgs(ethers.ZeroAddress, c.alice.address, 1);
    });

    it("adds the count to totalMinted", async function () {
      const c = await loadFixture(deployLicense);
      await c.license.connect(c.minter).mint(c.alice.address, 3);
      expect(await c.license.totalMinted(), "totalMinted").to.equal(3);
    });

    it("mints licenses undelegated and unsuspended, counting for no one", async function () {
      const c = await loadFixture(deployLicense);
      await c.license.connect(c.minter).mint(c.alice.address, 2);
      for (const id of [1, 2]) {
        await expectLicense(c.license, id, { operator: ethers.ZeroAddress, suspended: false });
      }
      await expectLicensesOf(c, "alice", 0);
    });

    it("reverts with SupplyCapReached(0, 29,999) for one more than the cap", async function () {
      const c = await loadFixture(deployLicense);
      await expect(c.license.connect(c.minter).mint(c.alice.address, MAX_SUPPLY + 1n))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_SupplyCapReached")
        .withArgs(0, MAX_SUPPLY + 1n);
    });

    it("reverts with SupplyCapReached(0, 2^256 - 1) for the largest count", async function () {
      const c = await loadFixture(deployLicense);
      await expect(c.license.connect(c.minter).mint(c.alice.address, ethers.MaxUint256))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_SupplyCapReached")
        .withArgs(0, ethers.MaxUint256);
    });
  });

  describe("given 4 licenses were minted", function () {
    it("continues the ids: returns 5 and mints 5..6", async function () {
      const c = await loadFixture(deployMinted);
      expect(await c.license.connect(c.minter).mint.staticCall(c.carol.address, 2), "firstId").to.equal(5);
      await expect(c.license.connect(c.minter).mint(c.carol.address, 2))
        .to.emit(c.license, "Transfer")
        .withArgs(ethers.ZeroAddress, c.carol.address, 6);
      await expectLicense(c.license, 5, { owner: c.carol.address });
      await expectLicense(c.license, 6, { owner: c.carol.address });
      expect(await c.license.totalMinted(), "totalMinted").to.equal(6);
    });

    it("leaves the earlier licenses with their owners", async function () {
      const c = await loadFixture(deployMinted);
      await c.license.connect(c.minter).mint(c.carol.address, 2);
      await expectLicense(c.license, 3, { owner: c.alice.address });
      await expectLicense(c.license, 4, { owner: c.bob.address });
    });

    it("stores totalMinted in slot 7 (the layout the cap tests rely on)", async function () {
      const c = await loadFixture(deployMinted);
      const address = await c.license.getAddress();
      expect(BigInt(await ethers.provider.getStorage(address, TOTAL_MINTED_SLOT)), "slot 7").to.equal(4);
      // And writing the slot is what totalMinted() reads.
      await network.provider.send("hardhat_setStorageAt", [
        address,
        ethers.toQuantity(TOTAL_MINTED_SLOT),
        ethers.zeroPadValue("0x2a", 32),
      ]);
      expect(await c.license.totalMinted(), "totalMinted after the write").to.equal(42);
    });

    it("reverts with SupplyCapReached(4, 2^256 - 1) for the largest count", async function () {
      // The spec: minting `count` more than the cap allows reverts with SupplyCapReached(minted, count).
      // `minted + count` is computed before the comparison, so this overflows (Panic 0x11) instead.
      const c = await loadFixture(deployMinted);
      await expect(c.license.connect(c.minter).mint(c.alice.address, ethers.MaxUint256))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_SupplyCapReached")
        .withArgs(4, ethers.MaxUint256);
    });
  });

  describe("given 29,997 licenses were minted", function () {
    it("mints the last one, with id 29,998", async function () {
      const c = await loadFixture(deployNearCap);
      await expect(c.license.connect(c.minter).mint(c.alice.address, 1))
        .to.emit(c.license, "Transfer")
        .withArgs(ethers.ZeroAddress, c.alice.address, MAX_SUPPLY);
      await expectLicense(c.license, MAX_SUPPLY, { owner: c.alice.address });
      expect(await c.license.totalMinted(), "totalMinted").to.equal(MAX_SUPPLY);
    });

    it("reverts with SupplyCapReached(29,997, 2) for two more", async function () {
      const c = await loadFixture(deployNearCap);
      await expect(c.license.connect(c.minter).mint(c.alice.address, 2))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_SupplyCapReached")
        .withArgs(MAX_SUPPLY - 1n, 2);
    });
  });

  describe("given the cap is reached", function () {
    it("reverts with SupplyCapReached(29,998, 1)", async function () {
      const c = await loadFixture(deployAtCap);
      await expect(c.license.connect(c.minter).mint(c.alice.address, 1))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_SupplyCapReached")
        .withArgs(MAX_SUPPLY, 1);
    });
  });
});
