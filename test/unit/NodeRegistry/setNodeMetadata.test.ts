import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { ENDPOINT } from "../../fixtures";
import { MAX_METADATA_URI_LENGTH, deployWithEscrowCaller } from "../../helpers/registry";
import { describeProviderGuards } from "../../helpers/registryCases";

describe("NodeRegistry.setNodeMetadata", function () {
  const NEW_URI = "https://node-7.kaisar.example/v1";

  describeProviderGuards(
    (c, from, nodeId) => c.registry.connect(from).setNodeMetadata(nodeId, NEW_URI),
    (c) => c.other,
  );

  describe("when the URI is empty", function () {
    it("reverts with InvalidMetadataURI(0, 256)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).setNodeMetadata(c.nodeId, ""))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMetadataURI")
        .withArgs(0, MAX_METADATA_URI_LENGTH);
    });
  });

  describe("when the URI is 257 bytes", function () {
    it("reverts with InvalidMetadataURI(257, 256)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).setNodeMetadata(c.nodeId, "x".repeat(257)))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMetadataURI")
        .withArgs(257, MAX_METADATA_URI_LENGTH);
    });
  });

  describe("when the URI counts bytes, not characters (86 x 3-byte chars = 258 bytes)", function () {
    it("reverts with InvalidMetadataURI(258, 256)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).setNodeMetadata(c.nodeId, "€".repeat(86)))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidMetadataURI")
        .withArgs(258, MAX_METADATA_URI_LENGTH);
    });
  });

  describe("when the URI is valid", function () {
    it("emits SetNodeMetadata(nodeId, uri)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).setNodeMetadata(c.nodeId, NEW_URI))
        .to.emit(c.registry, "SetNodeMetadata")
        .withArgs(c.nodeId, NEW_URI);
    });

    it("stores the new URI", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).setNodeMetadata(c.nodeId, NEW_URI);
      expect((await c.registry.getNode(c.nodeId)).metadataURI, "metadataURI").to.equal(NEW_URI);
    });

    it("stores a 256-byte URI", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const uri = "y".repeat(256);
      await c.registry.connect(c.provider).setNodeMetadata(c.nodeId, uri);
      expect((await c.registry.getNode(c.nodeId)).metadataURI, "metadataURI").to.equal(uri);
    });

    it("replaces a long URI by a shorter one without leftovers", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).setNodeMetadata(c.nodeId, "z".repeat(200));
      await c.registry.connect(c.provider).setNodeMetadata(c.nodeId, "ipfs://a");
      expect((await c.registry.getNode(c.nodeId)).metadataURI, "metadataURI").to.equal("ipfs://a");
    });
  });

  describe("when the URI is the one in force", function () {
    it("reverts with AlreadySet (setters reject no-op writes)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).setNodeMetadata(c.nodeId, ENDPOINT)).to.be.revertedWithCustomError(
        c.registry,
        "NodeRegistry_AlreadySet",
      );
    });
  });
});
