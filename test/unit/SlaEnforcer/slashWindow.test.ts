/**
 * SlaEnforcer's slashing deadline and the unbonding relation (issue #15, attack 1): `slashWindow`
 * (constructor, `setSlashWindow`), `slashLatency()`, the registry's copy (`syncSlashLatency`, pushed
 * by the setters once the enforcer holds the registry's SLASHER_ROLE), `UnbondingTooShort`, and
 * `EvidenceExpired` for downtime and fraud evidence; and the cap on stake credits
 * (`setStakeCreditCapBps`).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { DAY } from "../../fixtures";
import {
  EPOCH_LENGTH,
  SLASH_WINDOW,
  SLA_ROLES,
  atTime,
  deploySla,
  epochBounds,
  metricsWith,
  openSlaRental,
  reportNodes,
} from "../../helpers/sla";

const FOURTEEN_DAYS = BigInt(14 * DAY);
const MAX_WINDOW = BigInt(30 * DAY);
/** (2 downtime epochs + 1) x 60 s + the window. */
const LATENCY = 3n * BigInt(EPOCH_LENGTH) + SLASH_WINDOW;

async function deployArgs(c: Awaited<ReturnType<typeof deploySla>>, window: bigint) {
  return [await c.oracle.getAddress(), await c.escrow.getAddress(), c.admin.address, c.treasury.address, window];
}

/** A rental through epochs 2 and 3 of the fixture node, both reported down; epoch 2 also a mismatch. */
async function deployEvidence() {
  const c = await deploySla();
  const rentalId = await atTime(epochBounds(c, 2n).from + 10n, () => openSlaRental(c, { slaTier: 1 }));
  const [p2] = await reportNodes(c, 2n, [{ nodeId: c.nodeId, metrics: metricsWith(1_000n, true, 2) }]);
  const [p3] = await reportNodes(c, 3n, [{ nodeId: c.nodeId, metrics: metricsWith(1_000n, false, 3) }]);
  return { ...c, rentalId, p2, p3 };
}

describe("SlaEnforcer slash window and slash latency", function () {
  describe("constructor", function () {
    it("sets slashWindow, emits SetSlashWindow, and reports slashLatency = 3 x 60 s + window", async function () {
      const c = await loadFixture(deploySla);
      expect(await c.sla.slashWindow()).to.equal(SLASH_WINDOW);
      expect(await c.sla.slashLatency()).to.equal(LATENCY);
      expect(await c.sla.MIN_SLASH_WINDOW()).to.equal(60n);
      expect(await c.sla.MAX_SLASH_WINDOW()).to.equal(MAX_WINDOW);
      const sla = await ethers.deployContract("SlaEnforcer", await deployArgs(c, 60n));
      await expect(sla.deploymentTransaction()).to.emit(sla, "SetSlashWindow").withArgs(60n);
    });

    for (const window of [59n, MAX_WINDOW + 1n]) {
      it(`reverts with ParameterOutOfBounds("slashWindow", ${window}, 60, 30 days)`, async function () {
        const c = await loadFixture(deploySla);
        const factory = await ethers.getContractFactory("SlaEnforcer");
        await expect(factory.deploy(...((await deployArgs(c, window)) as [string, string, string, string, bigint])))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_ParameterOutOfBounds")
          .withArgs("slashWindow", window, 60n, MAX_WINDOW);
      });
    }

    it("reverts with UnbondingTooShort(14 days, latency) when the registry's unbonding is shorter", async function () {
      const c = await loadFixture(deploySla);
      const window = FOURTEEN_DAYS - 179n; // latency = 180 + 14 days - 179 = 14 days + 1
      const factory = await ethers.getContractFactory("SlaEnforcer");
      await expect(factory.deploy(...((await deployArgs(c, window)) as [string, string, string, string, bigint])))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_UnbondingTooShort")
        .withArgs(FOURTEEN_DAYS, FOURTEEN_DAYS + 1n);
      // At equality it deploys.
      await factory.deploy(...((await deployArgs(c, window - 1n)) as [string, string, string, string, bigint]));
    });
  });

  describe("syncSlashLatency", function () {
    it("lets anyone push the latency to the registry (SetSlashLatency)", async function () {
      const c = await loadFixture(deploySla);
      await expect(c.sla.connect(c.other).syncSlashLatency()).to.emit(c.registry, "SetSlashLatency").withArgs(LATENCY);
      expect(await c.registry.slashLatency()).to.equal(LATENCY);
    });

    it("reverts with the registry's AccessControlUnauthorizedAccount without SLASHER_ROLE", async function () {
      const c = await loadFixture(deploySla);
      await c.registry.revokeRole(SLA_ROLES.SLASHER, await c.sla.getAddress());
      await expect(c.sla.syncSlashLatency())
        .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
        .withArgs(await c.sla.getAddress(), SLA_ROLES.SLASHER);
    });
  });

  describe("setSlashWindow", function () {
    it("sets the window, emits SetSlashWindow, and pushes the new latency to the registry", async function () {
      const c = await loadFixture(deploySla);
      const tx = c.sla.connect(c.admin).setSlashWindow(3_600n);
      await expect(tx).to.emit(c.sla, "SetSlashWindow").withArgs(3_600n);
      await expect(tx)
        .to.emit(c.registry, "SetSlashLatency")
        .withArgs(180n + 3_600n);
      expect(await c.sla.slashWindow()).to.equal(3_600n);
      expect(await c.registry.slashLatency()).to.equal(180n + 3_600n);
    });

    it("does not push (nor revert) while the enforcer lacks the registry's SLASHER_ROLE", async function () {
      const c = await loadFixture(deploySla);
      await c.registry.revokeRole(SLA_ROLES.SLASHER, await c.sla.getAddress());
      await expect(c.sla.connect(c.admin).setSlashWindow(3_600n)).not.to.emit(c.registry, "SetSlashLatency");
      expect(await c.registry.slashLatency()).to.equal(LATENCY);
    });

    for (const window of [59n, MAX_WINDOW + 1n]) {
      it(`reverts with ParameterOutOfBounds("slashWindow", ${window}, 60, 30 days)`, async function () {
        const c = await loadFixture(deploySla);
        await expect(c.sla.connect(c.admin).setSlashWindow(window))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_ParameterOutOfBounds")
          .withArgs("slashWindow", window, 60n, MAX_WINDOW);
      });
    }

    it("reverts with UnbondingTooShort(14 days, latency) when the window would outlast the unbonding", async function () {
      const c = await loadFixture(deploySla);
      await expect(c.sla.connect(c.admin).setSlashWindow(FOURTEEN_DAYS))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_UnbondingTooShort")
        .withArgs(FOURTEEN_DAYS, FOURTEEN_DAYS + 180n);
    });
  });

  describe("setDowntimePolicy and the relation", function () {
    it("pushes the latency of the new policy: (3 + 1) x 60 s + window", async function () {
      const c = await loadFixture(deploySla);
      await expect(c.sla.connect(c.admin).setDowntimePolicy(9_000, 3, 3_333))
        .to.emit(c.registry, "SetSlashLatency")
        .withArgs(240n + SLASH_WINDOW);
    });

    it("reverts with UnbondingTooShort when more downtime epochs would outlast the unbonding", async function () {
      const c = await loadFixture(deploySla);
      await c.sla.connect(c.admin).setSlashWindow(FOURTEEN_DAYS - 180n);
      await expect(c.sla.connect(c.admin).setDowntimePolicy(9_000, 3, 3_333))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_UnbondingTooShort")
        .withArgs(FOURTEEN_DAYS, FOURTEEN_DAYS + 60n);
    });

    it("the registry then refuses an unbonding period below the latency", async function () {
      const c = await loadFixture(deploySla);
      await expect(c.registry.setUnbondingPeriod(BigInt(DAY)))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_UnbondingBelowSlashLatency")
        .withArgs(BigInt(DAY), LATENCY);
    });
  });

  describe("setStakeCreditCapBps", function () {
    it("sets the cap and emits SetStakeCreditCapBps; default 1,000", async function () {
      const c = await loadFixture(deploySla);
      expect(await c.sla.stakeCreditCapBps()).to.equal(1_000n);
      expect(await c.sla.DEFAULT_STAKE_CREDIT_CAP_BPS()).to.equal(1_000n);
      for (const bps of [1n, 10_000n]) {
        await expect(c.sla.connect(c.admin).setStakeCreditCapBps(bps))
          .to.emit(c.sla, "SetStakeCreditCapBps")
          .withArgs(bps);
        expect(await c.sla.stakeCreditCapBps()).to.equal(bps);
      }
    });

    for (const bps of [0n, 10_001n]) {
      it(`reverts with ParameterOutOfBounds("stakeCreditCapBps", ${bps}, 1, 10000)`, async function () {
        const c = await loadFixture(deploySla);
        await expect(c.sla.connect(c.admin).setStakeCreditCapBps(bps))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_ParameterOutOfBounds")
          .withArgs("stakeCreditCapBps", bps, 1n, 10_000n);
      });
    }
  });

  describe("EvidenceExpired", function () {
    it("a downtime slash lands at epochStart(last + 1) + window and not one second later", async function () {
      const c = await loadFixture(deployEvidence);
      const deadline = epochBounds(c, 4n).from + SLASH_WINDOW;
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(c.sla.slashForDowntime(c.rentalId, [c.p2, c.p3]))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_EvidenceExpired")
        .withArgs(3n, deadline);
    });

    it("a downtime slash at the deadline itself goes through", async function () {
      const c = await loadFixture(deployEvidence);
      const deadline = epochBounds(c, 4n).from + SLASH_WINDOW;
      await time.setNextBlockTimestamp(deadline);
      await expect(c.sla.slashForDowntime(c.rentalId, [c.p2, c.p3])).to.emit(c.sla, "SlashDowntime");
    });

    it("a fraud slash expires the same way, after its own epoch's deadline", async function () {
      const c = await loadFixture(deployEvidence);
      const deadline = epochBounds(c, 3n).from + SLASH_WINDOW;
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(c.sla.slashForHardwareFraud(c.p2))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_EvidenceExpired")
        .withArgs(2n, deadline);
    });

    it("a fraud slash at its deadline goes through", async function () {
      const c = await loadFixture(deployEvidence);
      await time.setNextBlockTimestamp(epochBounds(c, 3n).from + SLASH_WINDOW);
      await expect(c.sla.slashForHardwareFraud(c.p2)).to.emit(c.sla, "SlashHardwareFraud");
    });
  });
});
