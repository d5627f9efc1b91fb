import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { DAY, HOUR, NodeStatus } from "../../fixtures";
import {
  DEFAULT_MAX_DURATION,
  DEFAULT_MIN_NOTICE,
  MAINTENANCE_LENGTH,
  UINT32_MAX,
  atNextBlock,
  deployWithEscrowCaller,
  deployWithJailedNode,
  deployWithMaintenance,
  deployWithPausedNode,
  deployWithRetiredNode,
} from "../../helpers/registry";
import { describeProviderGuards, expectInvalidStatus } from "../../helpers/registryCases";

describe("NodeRegistry.announceMaintenance", function () {
  describeProviderGuards(
    (c, from, nodeId) => c.registry.connect(from).announceMaintenance(nodeId, 0, 0),
    (c) => c.provider2,
  );

  describe("given the node is retired", function () {
    it("reverts with InvalidNodeStatus(Retired)", async function () {
      const c = await loadFixture(deployWithRetiredNode);
      const start = (await time.latest()) + 2 * DAY;
      await expectInvalidStatus(
        c,
        c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start + HOUR),
        "Retired",
      );
    });
  });

  describe("when the window starts less than minMaintenanceNotice ahead", function () {
    it("reverts with InvalidMaintenanceWindow (1 s short of the notice)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const now = BigInt(await atNextBlock());
      const earliest = now + DEFAULT_MIN_NOTICE;
      const start = earliest - 1n;
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start + 3_600n))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMaintenanceWindow")
        .withArgs(start, start + 3_600n, earliest, DEFAULT_MAX_DURATION);
    });
  });

  describe("when the window starts exactly minMaintenanceNotice ahead", function () {
    it("stores it", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const start = BigInt(await atNextBlock()) + DEFAULT_MIN_NOTICE;
      await c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start + 3_600n);
      expect((await c.registry.getNode(c.nodeId)).maintenanceStart, "maintenanceStart").to.equal(start);
    });
  });

  describe("when end equals start", function () {
    it("reverts with InvalidMaintenanceWindow", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const now = BigInt(await atNextBlock());
      const start = now + 2n * DEFAULT_MIN_NOTICE;
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMaintenanceWindow")
        .withArgs(start, start, now + DEFAULT_MIN_NOTICE, DEFAULT_MAX_DURATION);
    });
  });

  describe("when end is before start", function () {
    it("reverts with InvalidMaintenanceWindow", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const now = BigInt(await atNextBlock());
      const start = now + 2n * DEFAULT_MIN_NOTICE;
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start - 1n))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMaintenanceWindow")
        .withArgs(start, start - 1n, now + DEFAULT_MIN_NOTICE, DEFAULT_MAX_DURATION);
    });
  });

  describe("when the window lasts 1 s", function () {
    it("stores it (the shortest window)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const start = BigInt(await atNextBlock()) + DEFAULT_MIN_NOTICE;
      await c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start + 1n);
      expect((await c.registry.getNode(c.nodeId)).maintenanceEnd, "maintenanceEnd").to.equal(start + 1n);
    });
  });

  describe("when the window lasts exactly maxMaintenanceDuration", function () {
    it("stores it", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const start = BigInt(await atNextBlock()) + DEFAULT_MIN_NOTICE;
      await c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start + DEFAULT_MAX_DURATION);
      expect((await c.registry.getNode(c.nodeId)).maintenanceEnd, "maintenanceEnd").to.equal(
        start + DEFAULT_MAX_DURATION,
      );
    });
  });

  describe("when the window lasts 1 s more than maxMaintenanceDuration", function () {
    it("reverts with InvalidMaintenanceWindow", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const now = BigInt(await atNextBlock());
      const start = now + DEFAULT_MIN_NOTICE;
      const end = start + DEFAULT_MAX_DURATION + 1n;
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, end))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMaintenanceWindow")
        .withArgs(start, end, start, DEFAULT_MAX_DURATION);
    });
  });

  describe("when the window ends after 2106 (beyond uint32)", function () {
    it("reverts with InvalidMaintenanceWindow", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const now = BigInt(await atNextBlock());
      const end = UINT32_MAX + 1n;
      const start = end - 3_600n;
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, end))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMaintenanceWindow")
        .withArgs(start, end, now + DEFAULT_MIN_NOTICE, DEFAULT_MAX_DURATION);
    });
  });

  describe("when the window ends exactly at the uint32 limit", function () {
    it("stores it", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).announceMaintenance(c.nodeId, UINT32_MAX - 3_600n, UINT32_MAX);
      expect((await c.registry.getNode(c.nodeId)).maintenanceEnd, "maintenanceEnd").to.equal(UINT32_MAX);
    });
  });

  describe("when only start is 0", function () {
    it("reverts with InvalidMaintenanceWindow", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const now = BigInt(await atNextBlock());
      const end = now + 2n * DEFAULT_MIN_NOTICE;
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, 0, end))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMaintenanceWindow")
        .withArgs(0, end, now + DEFAULT_MIN_NOTICE, DEFAULT_MAX_DURATION);
    });
  });

  describe("when only end is 0", function () {
    it("reverts with InvalidMaintenanceWindow", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const now = BigInt(await atNextBlock());
      const start = now + 2n * DEFAULT_MIN_NOTICE;
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, 0))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMaintenanceWindow")
        .withArgs(start, 0, now + DEFAULT_MIN_NOTICE, DEFAULT_MAX_DURATION);
    });
  });

  describe("when the window is valid", function () {
    it("emits AnnounceMaintenance(nodeId, start, end)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const start = (await time.latest()) + 2 * DAY;
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start + 4 * HOUR))
        .to.emit(c.registry, "AnnounceMaintenance")
        .withArgs(c.nodeId, start, start + 4 * HOUR);
    });

    it("stores start and end", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const start = (await time.latest()) + 2 * DAY;
      await c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start + 4 * HOUR);
      const node = await c.registry.getNode(c.nodeId);
      expect(node.maintenanceStart, "maintenanceStart").to.equal(start);
      expect(node.maintenanceEnd, "maintenanceEnd").to.equal(start + 4 * HOUR);
    });

    it("keeps the node Active", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const start = (await time.latest()) + 2 * DAY;
      await c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start + 4 * HOUR);
      expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Active);
    });
  });

  describe("given a window was announced", function () {
    it("cancels it with (0, 0) and emits AnnounceMaintenance(nodeId, 0, 0)", async function () {
      const c = await loadFixture(deployWithMaintenance);
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, 0, 0))
        .to.emit(c.registry, "AnnounceMaintenance")
        .withArgs(c.nodeId, 0, 0);
    });

    it("clears start and end on cancel", async function () {
      const c = await loadFixture(deployWithMaintenance);
      await c.registry.connect(c.provider).announceMaintenance(c.nodeId, 0, 0);
      const node = await c.registry.getNode(c.nodeId);
      expect(node.maintenanceStart, "maintenanceStart").to.equal(0);
      expect(node.maintenanceEnd, "maintenanceEnd").to.equal(0);
    });

    it("lets the node take reservations inside the cancelled window", async function () {
      const c = await loadFixture(deployWithMaintenance);
      await c.registry.connect(c.provider).announceMaintenance(c.nodeId, 0, 0);
      await time.increaseTo(c.window.start);
      await c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 1, c.usdAddress, false);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(1);
    });

    it("replaces it with a new window", async function () {
      const c = await loadFixture(deployWithMaintenance);
      const start = c.window.start + DAY;
      await c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start + HOUR);
      const node = await c.registry.getNode(c.nodeId);
      expect(node.maintenanceStart, "maintenanceStart").to.equal(start);
      expect(node.maintenanceEnd, "maintenanceEnd").to.equal(start + HOUR);
    });

    it("cancels it from inside the window", async function () {
      const c = await loadFixture(deployWithMaintenance);
      await time.increaseTo(c.window.start + MAINTENANCE_LENGTH / 2);
      await c.registry.connect(c.provider).announceMaintenance(c.nodeId, 0, 0);
      await c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 1, c.usdAddress, false);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(1);
    });
  });

  describe("given no window was announced", function () {
    it("rejects a cancel (0, 0) as a no-op write with AlreadySet", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, 0, 0)).to.be.revertedWithCustomError(
        c.registry,
        "NodeRegistry_AlreadySet",
      );
    });
  });

  describe("given the node is paused", function () {
    it("accepts a window", async function () {
      const c = await loadFixture(deployWithPausedNode);
      const start = (await time.latest()) + 2 * DAY;
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start + HOUR))
        .to.emit(c.registry, "AnnounceMaintenance")
        .withArgs(c.nodeId, start, start + HOUR);
    });
  });

  describe("given the node is jailed", function () {
    it("accepts a window", async function () {
      const c = await loadFixture(deployWithJailedNode);
      const start = (await time.latest()) + 2 * DAY;
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, start + HOUR))
        .to.emit(c.registry, "AnnounceMaintenance")
        .withArgs(c.nodeId, start, start + HOUR);
    });
  });

  describe("given governance set a zero notice and a 1-hour maximum", function () {
    it("accepts a window starting in the same block", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.admin).setMaintenanceBounds(0, HOUR);
      const now = await atNextBlock();
      await c.registry.connect(c.provider).announceMaintenance(c.nodeId, now, now + HOUR);
      expect((await c.registry.getNode(c.nodeId)).maintenanceStart, "maintenanceStart").to.equal(now);
    });

    it("rejects a 1 h + 1 s window with the new maximum in the error", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.admin).setMaintenanceBounds(0, HOUR);
      const now = await atNextBlock();
      await expect(c.registry.connect(c.provider).announceMaintenance(c.nodeId, now, now + HOUR + 1))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMaintenanceWindow")
        .withArgs(now, now + HOUR + 1, now, HOUR);
    });
  });
});
