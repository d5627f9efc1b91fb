import { expect } from "chai";
import { ethers } from "hardhat";
import { getStorageAt, loadFixture, setStorageAt } from "@nomicfoundation/hardhat-network-helpers";

import { BASE_STAKE_PER_GPU, DAY, H100_MULTIPLIER_BPS, HOUR, KAI, defaultSpec, deployCore } from "../../fixtures";
import {
  DEFAULT_MAX_DURATION,
  DEFAULT_MIN_NOTICE,
  DEFAULT_NODE_GPUS,
  DEFAULT_UNBONDING_PERIOD,
  H100,
  MAX_BASE_STAKE_PER_GPU,
  MAX_MAINTENANCE_DURATION,
  MAX_MAINTENANCE_NOTICE,
  MAX_MULTIPLIER_BPS,
  MAX_UNBONDING_PERIOD,
  MIN_MAINTENANCE_DURATION,
  MIN_MULTIPLIER_BPS,
  MIN_UNBONDING_PERIOD,
  ROLES,
  RTX,
  deployWithEscrowCaller,
  deployWithUnbonding,
  expectStake,
  stakeFor,
} from "../../helpers/registry";
import { expectRevert } from "../../helpers/reverts";

type Core = Awaited<ReturnType<typeof deployCore>>;
type Registry = Core["registry"];

const A100 = ethers.encodeBytes32String("A100-40GB");

/**
 * Shared behaviour (threat 24): every governance entry point called by an account without its
 * role reverts with OZ's AccessControlUnauthorizedAccount(account, role), and changes nothing.
 */
const RESTRICTED: {
  name: string;
  role: keyof typeof ROLES;
  call: (r: Registry) => Promise<unknown>;
}[] = [
  { name: "addGpuClass", role: "DEFAULT_ADMIN", call: (r) => r.addGpuClass(A100, 20_000) },
  { name: "setGpuClassActive", role: "DEFAULT_ADMIN", call: (r) => r.setGpuClassActive(RTX, false) },
  { name: "setBaseStakePerGpu", role: "DEFAULT_ADMIN", call: (r) => r.setBaseStakePerGpu(KAI(2_000)) },
  { name: "setUnbondingPeriod", role: "DEFAULT_ADMIN", call: (r) => r.setUnbondingPeriod(7 * DAY) },
  { name: "setMaintenanceBounds", role: "DEFAULT_ADMIN", call: (r) => r.setMaintenanceBounds(2 * DAY, DAY) },
  { name: "pause", role: "PAUSER", call: (r) => r.pause() },
  { name: "unpause", role: "PAUSER", call: (r) => r.unpause() },
];

describe("NodeRegistry governance", function () {
  describe("access control", function () {
    for (const { name, role, call } of RESTRICTED) {
      describe(`${name} (needs ${role}_ROLE)`, function () {
        it("reverts for an account with no role", async function () {
          const c = await loadFixture(deployCore);
          await expect(call(c.registry.connect(c.other)))
            .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
            .withArgs(c.other.address, ROLES[role]);
        });

        it("reverts for an account holding every other protocol role", async function () {
          const c = await loadFixture(deployCore);
          // The oracle holds SLASHER and REWARDER; give it ESCROW and whichever of PAUSER /
          // DEFAULT_ADMIN the function does not need.
          await c.registry.grantRole(ROLES.ESCROW, c.oracle.address);
          const otherRole = role === "PAUSER" ? ROLES.DEFAULT_ADMIN : ROLES.PAUSER;
          await c.registry.grantRole(otherRole, c.oracle.address);
          await expect(call(c.registry.connect(c.oracle)))
            .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
            .withArgs(c.oracle.address, ROLES[role]);
        });
      });
    }

    it("does not give the admin PAUSER_ROLE implicitly", async function () {
      const c = await loadFixture(deployCore);
      await expect(c.registry.connect(c.admin).pause())
        .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
        .withArgs(c.admin.address, ROLES.PAUSER);
    });

    it("lets only the admin grant roles", async function () {
      const c = await loadFixture(deployCore);
      await expect(c.registry.connect(c.guardian).grantRole(ROLES.PAUSER, c.other.address))
        .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
        .withArgs(c.guardian.address, ROLES.DEFAULT_ADMIN);
    });
  });

  describe("addGpuClass", function () {
    describe("when the multiplier is below 0.1x", function () {
      it('reverts with ParameterOutOfBounds("multiplierBps", 999, 1000, 1000000)', async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.addGpuClass(A100, MIN_MULTIPLIER_BPS - 1n))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_ParameterOutOfBounds")
          .withArgs("multiplierBps", MIN_MULTIPLIER_BPS - 1n, MIN_MULTIPLIER_BPS, MAX_MULTIPLIER_BPS);
      });

      it("reverts for a 0 multiplier", async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.addGpuClass(A100, 0))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_ParameterOutOfBounds")
          .withArgs("multiplierBps", 0, MIN_MULTIPLIER_BPS, MAX_MULTIPLIER_BPS);
      });
    });

    describe("when the multiplier is above 100x", function () {
      it('reverts with ParameterOutOfBounds("multiplierBps", 1000001, 1000, 1000000)', async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.addGpuClass(A100, MAX_MULTIPLIER_BPS + 1n))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_ParameterOutOfBounds")
          .withArgs("multiplierBps", MAX_MULTIPLIER_BPS + 1n, MIN_MULTIPLIER_BPS, MAX_MULTIPLIER_BPS);
      });
    });

    describe("when the multiplier is at a bound", function () {
      it("accepts 0.1x", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.addGpuClass(A100, MIN_MULTIPLIER_BPS);
        expect((await c.registry.getGpuClass(2)).multiplierBps, "multiplierBps").to.equal(MIN_MULTIPLIER_BPS);
      });

      it("accepts 100x", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.addGpuClass(A100, MAX_MULTIPLIER_BPS);
        expect((await c.registry.getGpuClass(2)).multiplierBps, "multiplierBps").to.equal(MAX_MULTIPLIER_BPS);
      });
    });

    describe("when the multiplier is valid (2x)", function () {
      it("emits AddGpuClass(id, name, multiplierBps)", async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.addGpuClass(A100, 20_000)).to.emit(c.registry, "AddGpuClass").withArgs(2, A100, 20_000);
      });

      it("returns the next id (2)", async function () {
        const c = await loadFixture(deployCore);
        expect(await c.registry.addGpuClass.staticCall(A100, 20_000), "gpuClass").to.equal(2);
      });

      it("stores the class active", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.addGpuClass(A100, 20_000);
        const g = await c.registry.getGpuClass(2);
        expect(g.name, "name").to.equal(A100);
        expect(g.multiplierBps, "multiplierBps").to.equal(20_000);
        expect(g.active, "active").to.equal(true);
      });

      it("increments gpuClassCount", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.addGpuClass(A100, 20_000);
        expect(await c.registry.gpuClassCount(), "gpuClassCount").to.equal(3);
      });

      it("opens the class to new nodes", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.addGpuClass(A100, 20_000);
        await c.registry.connect(c.provider).registerNode({ ...defaultSpec, gpuClass: 2 }, "uri", [], []);
        expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(
          stakeFor(DEFAULT_NODE_GPUS, 20_000n),
        );
      });
    });

    describe("given 65,535 classes exist (the uint16 id space is full)", function () {
      // 65,535 transactions would take minutes: write the array length straight into storage.
      // Layout: AccessControl._roles (0), Pausable._paused (1), then NodeRegistry's variables;
      // `_gpuClasses` is slot 12. The first assertion guards that assumption.
      const GPU_CLASSES_SLOT = 12;

      async function withClassCount(count: number) {
        const c = await deployCore();
        const registry = await c.registry.getAddress();
        expect(BigInt(await getStorageAt(registry, GPU_CLASSES_SLOT)), "slot 12 is _gpuClasses.length").to.equal(2);
        await setStorageAt(registry, GPU_CLASSES_SLOT, count);
        expect(await c.registry.gpuClassCount(), "gpuClassCount").to.equal(count);
        return c;
      }

      it('reverts with ParameterOutOfBounds("gpuClassCount", 65535, 0, 65535)', async function () {
        const c = await withClassCount(65_535);
        await expect(c.registry.addGpuClass(A100, 20_000))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_ParameterOutOfBounds")
          .withArgs("gpuClassCount", 65_535, 0, 65_535);
      });

      it("still adds the last class (id 65,534) when 65,534 exist", async function () {
        const c = await withClassCount(65_534);
        await expect(c.registry.addGpuClass(A100, 20_000))
          .to.emit(c.registry, "AddGpuClass")
          .withArgs(65_534, A100, 20_000);
      });
    });

    describe("when the name is already used", function () {
      // Names are labels, not keys: a second class with the same name gets a new id.
      it("adds a second class", async function () {
        const c = await loadFixture(deployCore);
        const h100 = (await c.registry.getGpuClass(H100)).name;
        await expect(c.registry.addGpuClass(h100, 40_000)).to.emit(c.registry, "AddGpuClass").withArgs(2, h100, 40_000);
      });
    });
  });

  describe("setGpuClassActive", function () {
    describe("when the class does not exist", function () {
      it("reverts with InvalidGpuClass(id)", async function () {
        const c = await loadFixture(deployCore);
        await expectRevert(c.registry, c.registry.setGpuClassActive(2, false), "NodeRegistry_InvalidGpuClass", 2);
      });
    });

    describe("when the value is the one in force", function () {
      it("reverts with AlreadySet", async function () {
        const c = await loadFixture(deployCore);
        await expectRevert(c.registry, c.registry.setGpuClassActive(RTX, true), "NodeRegistry_AlreadySet");
      });
    });

    describe("when closing an open class", function () {
      it("emits SetGpuClassActive(id, false)", async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.setGpuClassActive(RTX, false))
          .to.emit(c.registry, "SetGpuClassActive")
          .withArgs(RTX, false);
      });

      it("stores active = false and keeps name and multiplier", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.setGpuClassActive(RTX, false);
        const g = await c.registry.getGpuClass(RTX);
        expect(g.active, "active").to.equal(false);
        expect(g.multiplierBps, "multiplierBps").to.equal(10_000);
        expect(g.name, "name").to.equal(ethers.encodeBytes32String("RTX4090-24GB"));
      });

      it("keeps the requirement of nodes already listed in the class", async function () {
        const c = await loadFixture(deployWithEscrowCaller);
        await c.registry.setGpuClassActive(H100, false);
        expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(
          stakeFor(DEFAULT_NODE_GPUS, H100_MULTIPLIER_BPS),
        );
      });
    });

    describe("when reopening a closed class", function () {
      it("emits SetGpuClassActive(id, true)", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.setGpuClassActive(RTX, false);
        await expect(c.registry.setGpuClassActive(RTX, true))
          .to.emit(c.registry, "SetGpuClassActive")
          .withArgs(RTX, true);
      });
    });
  });

  describe("setBaseStakePerGpu", function () {
    describe("when the amount is 0", function () {
      it('reverts with ParameterOutOfBounds("baseStakePerGpu", 0, 1, 1M KAI)', async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.setBaseStakePerGpu(0))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_ParameterOutOfBounds")
          .withArgs("baseStakePerGpu", 0, 1, MAX_BASE_STAKE_PER_GPU);
      });
    });

    describe("when the amount is above 1M KAI", function () {
      it("reverts with ParameterOutOfBounds", async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.setBaseStakePerGpu(MAX_BASE_STAKE_PER_GPU + 1n))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_ParameterOutOfBounds")
          .withArgs("baseStakePerGpu", MAX_BASE_STAKE_PER_GPU + 1n, 1, MAX_BASE_STAKE_PER_GPU);
      });
    });

    describe("when the amount is the one in force", function () {
      it("reverts with AlreadySet", async function () {
        const c = await loadFixture(deployCore);
        await expectRevert(c.registry, c.registry.setBaseStakePerGpu(BASE_STAKE_PER_GPU), "NodeRegistry_AlreadySet");
      });
    });

    describe("when the amount is at a bound", function () {
      it("accepts 1 wei", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.setBaseStakePerGpu(1);
        expect(await c.registry.baseStakePerGpu(), "baseStakePerGpu").to.equal(1);
      });

      it("accepts 1M KAI", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.setBaseStakePerGpu(MAX_BASE_STAKE_PER_GPU);
        expect(await c.registry.baseStakePerGpu(), "baseStakePerGpu").to.equal(MAX_BASE_STAKE_PER_GPU);
      });
    });

    describe("when the amount is valid (2,000 KAI)", function () {
      it("emits SetBaseStakePerGpu(amount)", async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.setBaseStakePerGpu(KAI(2_000)))
          .to.emit(c.registry, "SetBaseStakePerGpu")
          .withArgs(KAI(2_000));
      });

      it("doubles every listed provider's requirement (48,000 KAI)", async function () {
        const c = await loadFixture(deployWithEscrowCaller);
        await c.registry.setBaseStakePerGpu(KAI(2_000));
        expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(KAI(48_000));
      });

      it("leaves the stake itself alone", async function () {
        const c = await loadFixture(deployWithEscrowCaller);
        await c.registry.setBaseStakePerGpu(KAI(2_000));
        await expectStake(c.registry, c.provider.address, { staked: KAI(24_000) });
      });
    });
  });

  describe("setUnbondingPeriod", function () {
    const cases = [
      { label: "0", value: 0n },
      { label: "1 day - 1 s", value: MIN_UNBONDING_PERIOD - 1n },
      { label: "90 days + 1 s", value: MAX_UNBONDING_PERIOD + 1n },
      { label: "uint256 max", value: ethers.MaxUint256 },
    ];
    for (const { label, value } of cases) {
      describe(`when the period is ${label}`, function () {
        it('reverts with ParameterOutOfBounds("unbondingPeriod", value, 1 day, 90 days)', async function () {
          const c = await loadFixture(deployCore);
          await expect(c.registry.setUnbondingPeriod(value))
            .to.be.revertedWithCustomError(c.registry, "NodeRegistry_ParameterOutOfBounds")
            .withArgs("unbondingPeriod", value, MIN_UNBONDING_PERIOD, MAX_UNBONDING_PERIOD);
        });
      });
    }

    describe("when the period is the one in force (14 days)", function () {
      it("reverts with AlreadySet", async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.setUnbondingPeriod(DEFAULT_UNBONDING_PERIOD)).to.be.revertedWithCustomError(
          c.registry,
          "NodeRegistry_AlreadySet",
        );
      });
    });

    describe("when the period is at a bound", function () {
      it("accepts 1 day", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.setUnbondingPeriod(MIN_UNBONDING_PERIOD);
        expect(await c.registry.unbondingPeriod(), "unbondingPeriod").to.equal(MIN_UNBONDING_PERIOD);
      });

      it("accepts 90 days", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.setUnbondingPeriod(MAX_UNBONDING_PERIOD);
        expect(await c.registry.unbondingPeriod(), "unbondingPeriod").to.equal(MAX_UNBONDING_PERIOD);
      });
    });

    describe("when the period is valid (7 days)", function () {
      it("emits SetUnbondingPeriod(period)", async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.setUnbondingPeriod(7 * DAY))
          .to.emit(c.registry, "SetUnbondingPeriod")
          .withArgs(7 * DAY);
      });

      it("does not move the end of stake already unbonding (applies going forward)", async function () {
        const c = await loadFixture(deployWithUnbonding);
        await c.registry.setUnbondingPeriod(7 * DAY);
        await expectStake(c.registry, c.provider.address, { unbondingEnd: c.unbondingEnd });
      });
    });
  });

  describe("setMaintenanceBounds", function () {
    describe("when the notice is above 30 days", function () {
      it('reverts with ParameterOutOfBounds("minMaintenanceNotice", value, 0, 30 days)', async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.setMaintenanceBounds(MAX_MAINTENANCE_NOTICE + 1n, DEFAULT_MAX_DURATION))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_ParameterOutOfBounds")
          .withArgs("minMaintenanceNotice", MAX_MAINTENANCE_NOTICE + 1n, 0, MAX_MAINTENANCE_NOTICE);
      });
    });

    describe("when the maximum length is below 1 hour", function () {
      it('reverts with ParameterOutOfBounds("maxMaintenanceDuration", value, 1 hour, 30 days)', async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.setMaintenanceBounds(DEFAULT_MIN_NOTICE, MIN_MAINTENANCE_DURATION - 1n))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_ParameterOutOfBounds")
          .withArgs(
            "maxMaintenanceDuration",
            MIN_MAINTENANCE_DURATION - 1n,
            MIN_MAINTENANCE_DURATION,
            MAX_MAINTENANCE_DURATION,
          );
      });
    });

    describe("when the maximum length is above 30 days", function () {
      it("reverts with ParameterOutOfBounds", async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.setMaintenanceBounds(DEFAULT_MIN_NOTICE, MAX_MAINTENANCE_DURATION + 1n))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_ParameterOutOfBounds")
          .withArgs(
            "maxMaintenanceDuration",
            MAX_MAINTENANCE_DURATION + 1n,
            MIN_MAINTENANCE_DURATION,
            MAX_MAINTENANCE_DURATION,
          );
      });
    });

    describe("when both values are the ones in force", function () {
      it("reverts with AlreadySet", async function () {
        const c = await loadFixture(deployCore);
        await expect(
          c.registry.setMaintenanceBounds(DEFAULT_MIN_NOTICE, DEFAULT_MAX_DURATION),
        ).to.be.revertedWithCustomError(c.registry, "NodeRegistry_AlreadySet");
      });
    });

    describe("when only the notice changes", function () {
      it("emits SetMaintenanceBounds(notice, maxDuration)", async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.setMaintenanceBounds(2 * DAY, DEFAULT_MAX_DURATION))
          .to.emit(c.registry, "SetMaintenanceBounds")
          .withArgs(2 * DAY, DEFAULT_MAX_DURATION);
      });
    });

    describe("when only the maximum length changes", function () {
      it("stores it and keeps the notice", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.setMaintenanceBounds(DEFAULT_MIN_NOTICE, 2 * HOUR);
        expect(await c.registry.maxMaintenanceDuration(), "maxMaintenanceDuration").to.equal(2 * HOUR);
        expect(await c.registry.minMaintenanceNotice(), "minMaintenanceNotice").to.equal(DEFAULT_MIN_NOTICE);
      });
    });

    describe("when both are at their extreme bounds (0 notice, 30 days; 30 days notice, 1 hour)", function () {
      it("accepts notice 0 and length 30 days", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.setMaintenanceBounds(0, MAX_MAINTENANCE_DURATION);
        expect(await c.registry.minMaintenanceNotice(), "minMaintenanceNotice").to.equal(0);
        expect(await c.registry.maxMaintenanceDuration(), "maxMaintenanceDuration").to.equal(MAX_MAINTENANCE_DURATION);
      });

      it("accepts notice 30 days and length 1 hour", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.setMaintenanceBounds(MAX_MAINTENANCE_NOTICE, MIN_MAINTENANCE_DURATION);
        expect(await c.registry.minMaintenanceNotice(), "minMaintenanceNotice").to.equal(MAX_MAINTENANCE_NOTICE);
        expect(await c.registry.maxMaintenanceDuration(), "maxMaintenanceDuration").to.equal(MIN_MAINTENANCE_DURATION);
      });
    });
  });

  describe("pause", function () {
    describe("given the registry is not paused", function () {
      it("emits Paused(guardian)", async function () {
        const c = await loadFixture(deployCore);
        await expect(c.registry.connect(c.guardian).pause()).to.emit(c.registry, "Paused").withArgs(c.guardian.address);
      });

      it("sets paused() to true", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.connect(c.guardian).pause();
        expect(await c.registry.paused(), "paused").to.equal(true);
      });
    });

    describe("given the registry is paused", function () {
      it("reverts with EnforcedPause", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.connect(c.guardian).pause();
        await expectRevert(c.registry, c.registry.connect(c.guardian).pause(), "EnforcedPause");
      });
    });
  });

  describe("unpause", function () {
    describe("given the registry is not paused", function () {
      it("reverts with ExpectedPause", async function () {
        const c = await loadFixture(deployCore);
        await expectRevert(c.registry, c.registry.connect(c.guardian).unpause(), "ExpectedPause");
      });
    });

    describe("given the registry is paused", function () {
      it("emits Unpaused(guardian)", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.connect(c.guardian).pause();
        await expect(c.registry.connect(c.guardian).unpause())
          .to.emit(c.registry, "Unpaused")
          .withArgs(c.guardian.address);
      });

      it("lets providers stake again", async function () {
        const c = await loadFixture(deployCore);
        await c.registry.connect(c.guardian).pause();
        await c.registry.connect(c.guardian).unpause();
        await expect(c.registry.connect(c.provider).stake(KAI(1))).to.changeTokenBalances(
          c.kai,
          [c.provider, c.registry],
          [-KAI(1), KAI(1)],
        );
      });
    });
  });
});
