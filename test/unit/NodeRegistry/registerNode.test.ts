import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import {
  ENDPOINT,
  H100_MULTIPLIER_BPS,
  KAI_PRICE,
  NodeStatus,
  USD_PRICE,
  defaultSpec,
  deployCore,
  deployWithNode,
} from "../../fixtures";
import {
  DEFAULT_REQUIRED_STAKE,
  MAX_METADATA_URI_LENGTH,
  RTX,
  RTX_NODE_REQUIRED_STAKE,
  deployPaused,
  rtxSpec,
  specTuple,
} from "../../helpers/registry";
import { expectRevert } from "../../helpers/reverts";

describe("NodeRegistry.registerNode", function () {
  async function register(c: Awaited<ReturnType<typeof deployCore>>, spec = defaultSpec, uri = ENDPOINT) {
    return c.registry
      .connect(c.provider)
      .registerNode(spec, uri, [await c.usd.getAddress(), await c.kai.getAddress()], [USD_PRICE, KAI_PRICE]);
  }

  describe("given the registry is paused", function () {
    it("reverts with EnforcedPause", async function () {
      const c = await loadFixture(deployPaused);
      await expectRevert(c.registry, register(c), "EnforcedPause");
    });
  });

  describe("when the GPU class does not exist", function () {
    it("reverts with InvalidGpuClass", async function () {
      const c = await loadFixture(deployCore);
      await expectRevert(c.registry, register(c, { ...defaultSpec, gpuClass: 2 }), "NodeRegistry_InvalidGpuClass", 2);
    });
  });

  describe("given the GPU class was closed to new nodes", function () {
    it("reverts with InvalidGpuClass", async function () {
      const c = await loadFixture(deployCore);
      await c.registry.connect(c.admin).setGpuClassActive(RTX, false);
      await expectRevert(c.registry, register(c, rtxSpec), "NodeRegistry_InvalidGpuClass", RTX);
    });
  });

  describe("when a spec field is zero", function () {
    for (const field of ["gpuCount", "vramGiB", "cpuCores", "ramGiB", "diskGiB", "bandwidthMbps"] as const) {
      it(`reverts with InvalidSpec("${field}") for ${field} = 0`, async function () {
        const c = await loadFixture(deployCore);
        await expectRevert(c.registry, register(c, { ...defaultSpec, [field]: 0 }), "NodeRegistry_InvalidSpec", field);
      });
    }
  });

  describe("when tokens and prices differ in length", function () {
    it('reverts with InvalidSpec("prices")', async function () {
      const c = await loadFixture(deployCore);
      await expect(c.registry.connect(c.provider).registerNode(defaultSpec, ENDPOINT, [await c.usd.getAddress()], []))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidSpec")
        .withArgs("prices");
    });
  });

  describe("when the metadata URI is empty", function () {
    it("reverts with InvalidMetadataURI(0, 256)", async function () {
      const c = await loadFixture(deployCore);
      await expect(register(c, defaultSpec, ""))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMetadataURI")
        .withArgs(0, MAX_METADATA_URI_LENGTH);
    });
  });

  describe("when the metadata URI is 257 bytes", function () {
    it("reverts with InvalidMetadataURI(257, 256)", async function () {
      const c = await loadFixture(deployCore);
      await expect(register(c, defaultSpec, "a".repeat(257)))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMetadataURI")
        .withArgs(257, MAX_METADATA_URI_LENGTH);
    });
  });

  describe("when the metadata URI is exactly 256 bytes", function () {
    it("stores it", async function () {
      const c = await loadFixture(deployCore);
      const uri = "b".repeat(256);
      await register(c, defaultSpec, uri);
      expect((await c.registry.getNode(1)).metadataURI, "metadataURI").to.equal(uri);
    });
  });

  describe("when the input is valid", function () {
    it("emits RegisterNode with the id, provider, spec and URI", async function () {
      const c = await loadFixture(deployCore);
      await expect(register(c))
        .to.emit(c.registry, "RegisterNode")
        .withArgs(1, c.provider.address, specTuple(defaultSpec), ENDPOINT);
    });

    it("emits SetNodePrice for the first token", async function () {
      const c = await loadFixture(deployCore);
      await expect(register(c))
        .to.emit(c.registry, "SetNodePrice")
        .withArgs(1, await c.usd.getAddress(), USD_PRICE);
    });

    it("emits SetNodePrice for the second token", async function () {
      const c = await loadFixture(deployCore);
      await expect(register(c))
        .to.emit(c.registry, "SetNodePrice")
        .withArgs(1, await c.kai.getAddress(), KAI_PRICE);
    });

    it("returns the new id (ids start at 1)", async function () {
      const c = await loadFixture(deployCore);
      const id = await c.registry
        .connect(c.provider)
        .registerNode.staticCall(defaultSpec, ENDPOINT, [await c.usd.getAddress()], [USD_PRICE]);
      expect(id, "returned nodeId").to.equal(1);
    });

    it("stores the node Active with the declared hardware", async function () {
      const c = await loadFixture(deployCore);
      await register(c);
      const node = await c.registry.getNode(1);
      expect(node.provider, "provider").to.equal(c.provider.address);
      expect(node.status, "status").to.equal(NodeStatus.Active);
      expect(node.gpuClass, "gpuClass").to.equal(defaultSpec.gpuClass);
      expect(node.gpuCount, "gpuCount").to.equal(defaultSpec.gpuCount);
      expect(node.rentedGpus, "rentedGpus").to.equal(0);
      expect(node.vramGiB, "vramGiB").to.equal(defaultSpec.vramGiB);
      expect(node.cpuCores, "cpuCores").to.equal(defaultSpec.cpuCores);
      expect(node.ramGiB, "ramGiB").to.equal(defaultSpec.ramGiB);
      expect(node.diskGiB, "diskGiB").to.equal(defaultSpec.diskGiB);
      expect(node.bandwidthMbps, "bandwidthMbps").to.equal(defaultSpec.bandwidthMbps);
      expect(node.region, "region").to.equal(defaultSpec.region);
      expect(node.maintenanceStart, "maintenanceStart").to.equal(0);
      expect(node.maintenanceEnd, "maintenanceEnd").to.equal(0);
      expect(node.metadataURI, "metadataURI").to.equal(ENDPOINT);
    });

    it("stores the prices per token", async function () {
      const c = await loadFixture(deployCore);
      await register(c);
      expect(await c.registry.nodePrice(1, await c.usd.getAddress()), "USD price").to.equal(USD_PRICE);
      expect(await c.registry.nodePrice(1, await c.kai.getAddress()), "KAI price").to.equal(KAI_PRICE);
    });

    it("increments nodeCount and indexes the node under its provider", async function () {
      const c = await loadFixture(deployCore);
      await register(c);
      expect(await c.registry.nodeCount(), "nodeCount").to.equal(1);
      expect(await c.registry.providerNodeCount(c.provider.address), "providerNodeCount").to.equal(1);
      expect(await c.registry.providerNodeAt(c.provider.address, 0), "providerNodeAt(0)").to.equal(1);
    });

    it("raises the provider's listed weight and required stake (8 x 3x x 1,000 KAI)", async function () {
      const c = await loadFixture(deployCore);
      await register(c);
      const s = await c.registry.getStake(c.provider.address);
      expect(s.listedWeight, "listedWeight").to.equal(8n * H100_MULTIPLIER_BPS);
      expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(DEFAULT_REQUIRED_STAKE);
    });

    it("takes no KAI (staking is separate)", async function () {
      const c = await loadFixture(deployCore);
      await expect(register(c)).to.changeTokenBalances(c.kai, [c.provider, c.registry], [0, 0]);
    });
  });

  describe("when no payment token is given", function () {
    it("registers a node that accepts no token", async function () {
      const c = await loadFixture(deployCore);
      await c.registry.connect(c.provider).registerNode(defaultSpec, ENDPOINT, [], []);
      expect(await c.registry.nodePrice(1, await c.usd.getAddress()), "USD price").to.equal(0);
    });
  });

  describe("when the same token is listed twice", function () {
    it("keeps the last price", async function () {
      const c = await loadFixture(deployCore);
      const usd = await c.usd.getAddress();
      await c.registry.connect(c.provider).registerNode(defaultSpec, ENDPOINT, [usd, usd], [USD_PRICE, 7n]);
      expect(await c.registry.nodePrice(1, usd), "USD price").to.equal(7n);
    });
  });

  describe("given the provider already has a node", function () {
    it("gives the next node id 2", async function () {
      const c = await loadFixture(deployWithNode);
      await expect(register(c, rtxSpec))
        .to.emit(c.registry, "RegisterNode")
        .withArgs(2, c.provider.address, specTuple(rtxSpec), ENDPOINT);
    });

    it("adds the new node's requirement to the old one (24,000 + 4,000 KAI)", async function () {
      const c = await loadFixture(deployWithNode);
      await register(c, rtxSpec);
      expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(
        DEFAULT_REQUIRED_STAKE + RTX_NODE_REQUIRED_STAKE,
      );
    });

    it("lists both ids under the provider in order", async function () {
      const c = await loadFixture(deployWithNode);
      await register(c, rtxSpec);
      expect(await c.registry.providerNodeCount(c.provider.address), "providerNodeCount").to.equal(2);
      expect(await c.registry.providerNodeAt(c.provider.address, 1), "providerNodeAt(1)").to.equal(2);
    });
  });
});
