/**
 * NodeRegistry.setSlashLatency (SLASHER_ROLE: the SlaEnforcer pushes its `slashLatency()`) and the
 * unbonding period's floor (issue #15, attack 1): the unbonding period is never below the latency.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { DAY } from "../../fixtures";
import { DEFAULT_UNBONDING_PERIOD, ROLES, deployWithEscrowCaller } from "../../helpers/registry";

describe("NodeRegistry.setSlashLatency", function () {
  it("reverts with AccessControlUnauthorizedAccount(caller, SLASHER_ROLE) for others", async function () {
    const c = await loadFixture(deployWithEscrowCaller);
    await expect(c.registry.connect(c.provider).setSlashLatency(1n))
      .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
      .withArgs(c.provider.address, ROLES.SLASHER);
  });

  it("records the latency (0 until then) and emits SetSlashLatency; the unbonding period itself is accepted", async function () {
    const c = await loadFixture(deployWithEscrowCaller);
    expect(await c.registry.slashLatency()).to.equal(0n);
    await expect(c.registry.connect(c.oracle).setSlashLatency(DEFAULT_UNBONDING_PERIOD))
      .to.emit(c.registry, "SetSlashLatency")
      .withArgs(DEFAULT_UNBONDING_PERIOD);
    expect(await c.registry.slashLatency()).to.equal(DEFAULT_UNBONDING_PERIOD);
  });

  it("reverts with UnbondingBelowSlashLatency(unbonding, latency) above the unbonding period", async function () {
    const c = await loadFixture(deployWithEscrowCaller);
    await expect(c.registry.connect(c.oracle).setSlashLatency(DEFAULT_UNBONDING_PERIOD + 1n))
      .to.be.revertedWithCustomError(c.registry, "NodeRegistry_UnbondingBelowSlashLatency")
      .withArgs(DEFAULT_UNBONDING_PERIOD, DEFAULT_UNBONDING_PERIOD + 1n);
  });

  describe("setUnbondingPeriod with a latency recorded (3 days)", function () {
    const LATENCY = BigInt(3 * DAY);
    async function deployWithLatency() {
      const c = await deployWithEscrowCaller();
      await c.registry.connect(c.oracle).setSlashLatency(LATENCY);
      return c;
    }

    it("reverts with UnbondingBelowSlashLatency(period, latency) 1 s below it", async function () {
      const c = await loadFixture(deployWithLatency);
      await expect(c.registry.setUnbondingPeriod(LATENCY - 1n))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_UnbondingBelowSlashLatency")
        .withArgs(LATENCY - 1n, LATENCY);
    });

    it("accepts exactly the latency", async function () {
      const c = await loadFixture(deployWithLatency);
      await expect(c.registry.setUnbondingPeriod(LATENCY)).to.emit(c.registry, "SetUnbondingPeriod").withArgs(LATENCY);
    });
  });
});
