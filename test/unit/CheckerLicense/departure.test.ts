/**
 * Departures: a license that leaves an operator (switched to another, undelegated, or taken back
 * by a transfer) records that former operator and the time (`departureOf`), and cannot leave an
 * operator again within `departureCooldown`, so that an equivocation proof against the former
 * operator still finds it (the record cannot be laundered by hopping through other keys).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse } from "ethers";

import {
  DEPARTURE_COOLDOWN,
  EVIDENCE,
  LICENSE_ROLES,
  MAX_DEPARTURE_COOLDOWN,
  MIN_DEPARTURE_COOLDOWN,
  aliceToCarol,
  deployDelegated,
  deployLicense,
  deployMinted,
  deploySwitched,
  expectLicense,
  expectUndelegate,
  licenseEvents,
} from "../../helpers/license";
import { expectRevert } from "../../helpers/reverts";

/** The timestamp of the block that mined `tx`. */
async function minedAt(tx: ContractTransactionResponse) {
  const receipt = await tx.wait();
  return BigInt((await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp);
}

describe("CheckerLicense departures", function () {
  describe("departureOf / departureCooldown", function () {
    it("departureCooldown starts at 14 days (the registry's default unbonding period)", async function () {
      const c = await loadFixture(deployLicense);
      expect(await c.license.departureCooldown(), "departureCooldown").to.equal(DEPARTURE_COOLDOWN);
    });

    it("departureOf is (0, 0) for a license that never left an operator, and for an unknown id", async function () {
      const c = await loadFixture(deployDelegated);
      expect(await c.license.departureOf(1), "departureOf(1)").to.deep.equal([ethers.ZeroAddress, 0n]);
      expect(await c.license.departureOf(999), "departureOf(999)").to.deep.equal([ethers.ZeroAddress, 0n]);
    });
  });

  describe("given a license is delegated for the first time", function () {
    it("records no departure", async function () {
      const c = await loadFixture(deployMinted);
      await c.license.connect(c.alice).delegate(1, c.op1.address);
      await expectLicense(c.license, 1, { operator: c.op1.address, former: ethers.ZeroAddress, until: 0n });
    });
  });

  describe("when a license leaves its operator", function () {
    it("records the former operator and the time on a switch", async function () {
      const c = await loadFixture(deployDelegated);
      const at = await minedAt(await c.license.connect(c.alice).delegate(1, c.op2.address));
      await expectLicense(c.license, 1, { operator: c.op2.address, former: c.op1.address, until: at });
    });

    it("records the former operator and the time on undelegate", async function () {
      const c = await loadFixture(deployDelegated);
      const at = await minedAt(await c.license.connect(c.alice).undelegate(1));
      await expectLicense(c.license, 1, { operator: ethers.ZeroAddress, former: c.op1.address, until: at });
    });

    it("records the former operator and the time on a transfer", async function () {
      const c = await loadFixture(deployDelegated);
      const tx = await aliceToCarol(c, 1);
      await expectLicense(c.license, 1, { owner: c.carol.address, former: c.op1.address, until: await minedAt(tx) });
    });

    it("records it for a suspended license too", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.suspender).suspend(1, EVIDENCE);
      const at = await minedAt(await c.license.connect(c.alice).undelegate(1));
      await expectLicense(c.license, 1, { suspended: true, former: c.op1.address, until: at });
    });

    it("leaves the other licenses' records alone", async function () {
      const c = await loadFixture(deployDelegated);
      await c.license.connect(c.alice).undelegate(1);
      await expectLicense(c.license, 2, { operator: c.op1.address, former: ethers.ZeroAddress, until: 0n });
    });
  });

  describe("given license 1 switched from op1 to op2 (within the cooldown)", function () {
    it("reverts a second switch with DepartureCooldown(id, switchedAt + 14 days)", async function () {
      const c = await loadFixture(deploySwitched);
      await expect(c.license.connect(c.alice).delegate(1, c.carol.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_DepartureCooldown")
        .withArgs(1, c.readyAt);
    });

    it("reverts a switch back to op1 with DepartureCooldown(id, readyAt)", async function () {
      const c = await loadFixture(deploySwitched);
      await expect(c.license.connect(c.alice).delegate(1, c.op1.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_DepartureCooldown")
        .withArgs(1, c.readyAt);
    });

    it("reverts undelegate with DepartureCooldown(id, readyAt)", async function () {
      const c = await loadFixture(deploySwitched);
      await expect(c.license.connect(c.alice).undelegate(1))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_DepartureCooldown")
        .withArgs(1, c.readyAt);
    });

    it("reverts a transfer (which would take it back from op2) with DepartureCooldown(id, readyAt)", async function () {
      const c = await loadFixture(deploySwitched);
      await expectRevert(c.license, aliceToCarol(c, 1), "CheckerLicense_DepartureCooldown", 1, c.readyAt);
    });

    it("still reverts one second before readyAt", async function () {
      const c = await loadFixture(deploySwitched);
      await time.setNextBlockTimestamp(c.readyAt - 1n);
      await expect(c.license.connect(c.alice).undelegate(1))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_DepartureCooldown")
        .withArgs(1, c.readyAt);
    });

    it("keeps op1's record through the refused hops", async function () {
      const c = await loadFixture(deploySwitched);
      await expect(c.license.connect(c.alice).undelegate(1)).to.be.reverted;
      await expectLicense(c.license, 1, { operator: c.op2.address, former: c.op1.address, until: c.switchedAt });
    });

    it("lets the other licenses move freely", async function () {
      const c = await loadFixture(deploySwitched);
      await expect(c.license.connect(c.alice).delegate(2, c.op2.address))
        .to.emit(c.license, "Delegate")
        .withArgs(2, c.alice.address, c.op2.address);
    });

    it("lets a transfer to the owner itself through (nothing leaves op2)", async function () {
      const c = await loadFixture(deploySwitched);
      await c.license.connect(c.alice).transferFrom(c.alice.address, c.alice.address, 1);
      await expectLicense(c.license, 1, { operator: c.op2.address });
    });

    describe("when the cooldown has passed (at readyAt exactly)", function () {
      it("allows the hop: Undelegate(id, op2) then Delegate(id, owner, carol)", async function () {
        const c = await loadFixture(deploySwitched);
        await time.setNextBlockTimestamp(c.readyAt);
        const tx = await c.license.connect(c.alice).delegate(1, c.carol.address);
        expect(await licenseEvents(c.license, tx), "events").to.deep.equal([
          ["Undelegate", 1n, c.op2.address],
          ["Delegate", 1n, c.alice.address, c.carol.address],
        ]);
      });

      it("replaces the record with op2 and the new time", async function () {
        const c = await loadFixture(deploySwitched);
        await time.setNextBlockTimestamp(c.readyAt);
        await c.license.connect(c.alice).undelegate(1);
        await expectLicense(c.license, 1, { operator: ethers.ZeroAddress, former: c.op2.address, until: c.readyAt });
      });
    });
  });

  describe("given license 1 was undelegated from op1 (within the cooldown)", function () {
    async function undelegated() {
      const c = await loadFixture(deployDelegated);
      const at = await minedAt(await c.license.connect(c.alice).undelegate(1));
      return { ...c, at, readyAt: at + DEPARTURE_COOLDOWN };
    }

    it("can be delegated again at once (a delegation is not a departure)", async function () {
      const c = await undelegated();
      await expect(c.license.connect(c.alice).delegate(1, c.op2.address))
        .to.emit(c.license, "Delegate")
        .withArgs(1, c.alice.address, c.op2.address);
      await expectLicense(c.license, 1, { operator: c.op2.address, former: c.op1.address, until: c.at });
    });

    it("cannot then leave that new operator before readyAt (DepartureCooldown)", async function () {
      const c = await undelegated();
      await c.license.connect(c.alice).delegate(1, c.op2.address);
      await expect(c.license.connect(c.alice).undelegate(1))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_DepartureCooldown")
        .withArgs(1, c.readyAt);
    });

    it("can be transferred (nothing to take back): the record stays", async function () {
      const c = await undelegated();
      await aliceToCarol(c, 1);
      await expectLicense(c.license, 1, { owner: c.carol.address, former: c.op1.address, until: c.at });
    });
  });

  describe("setDepartureCooldown", function () {
    it("emits SetDepartureCooldown(cooldown) and stores it", async function () {
      const c = await loadFixture(deployLicense);
      await expect(c.license.connect(c.admin).setDepartureCooldown(MIN_DEPARTURE_COOLDOWN))
        .to.emit(c.license, "SetDepartureCooldown")
        .withArgs(MIN_DEPARTURE_COOLDOWN);
      expect(await c.license.departureCooldown(), "departureCooldown").to.equal(MIN_DEPARTURE_COOLDOWN);
    });

    it("accepts the maximum, 90 days", async function () {
      const c = await loadFixture(deployLicense);
      await c.license.connect(c.admin).setDepartureCooldown(MAX_DEPARTURE_COOLDOWN);
      expect(await c.license.departureCooldown(), "departureCooldown").to.equal(MAX_DEPARTURE_COOLDOWN);
    });

    it("applies to a record already kept: a 1-day cooldown frees a license switched a day ago", async function () {
      const c = await loadFixture(deploySwitched);
      await c.license.connect(c.admin).setDepartureCooldown(MIN_DEPARTURE_COOLDOWN);
      await time.setNextBlockTimestamp(c.switchedAt + MIN_DEPARTURE_COOLDOWN);
      await expectUndelegate(c, c.license.connect(c.alice).undelegate(1), 1, c.op2.address);
    });

    it('reverts with ParameterOutOfBounds("departureCooldown", 1 day - 1, 1 day, 90 days)', async function () {
      const c = await loadFixture(deployLicense);
      await expect(c.license.connect(c.admin).setDepartureCooldown(MIN_DEPARTURE_COOLDOWN - 1n))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_ParameterOutOfBounds")
        .withArgs("departureCooldown", MIN_DEPARTURE_COOLDOWN - 1n, MIN_DEPARTURE_COOLDOWN, MAX_DEPARTURE_COOLDOWN);
    });

    it('reverts with ParameterOutOfBounds("departureCooldown", 90 days + 1, 1 day, 90 days)', async function () {
      const c = await loadFixture(deployLicense);
      await expect(c.license.connect(c.admin).setDepartureCooldown(MAX_DEPARTURE_COOLDOWN + 1n))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_ParameterOutOfBounds")
        .withArgs("departureCooldown", MAX_DEPARTURE_COOLDOWN + 1n, MIN_DEPARTURE_COOLDOWN, MAX_DEPARTURE_COOLDOWN);
    });

    it("reverts with AccessControlUnauthorizedAccount(caller, DEFAULT_ADMIN_ROLE) for the suspender", async function () {
      const c = await loadFixture(deployLicense);
      await expect(c.license.connect(c.suspender).setDepartureCooldown(MIN_DEPARTURE_COOLDOWN))
        .to.be.revertedWithCustomError(c.license, "AccessControlUnauthorizedAccount")
        .withArgs(c.suspender.address, LICENSE_ROLES.DEFAULT_ADMIN);
    });
  });
});
