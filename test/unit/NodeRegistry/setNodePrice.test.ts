import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { USD_PRICE } from "../../fixtures";
import {
  deployPaused,
  deployWithEscrowCaller,
  deployWithJailedNode,
  deployWithRentedGpus,
  deployWithRetiredNode,
} from "../../helpers/registry";
import { describeProviderGuards, expectInvalidStatus } from "../../helpers/registryCases";

describe("NodeRegistry.setNodePrice", function () {
  const NEW_PRICE = USD_PRICE * 3n;

  describeProviderGuards(
    (c, from, nodeId) => c.registry.connect(from).setNodePrice(nodeId, c.usdAddress, NEW_PRICE),
    (c) => c.provider2,
  );

  describe("when the price is the one in force", function () {
    it("reverts with AlreadySet", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(
        c.registry.connect(c.provider).setNodePrice(c.nodeId, c.usdAddress, USD_PRICE),
      ).to.be.revertedWithCustomError(c.registry, "NodeRegistry_AlreadySet");
    });
  });

  describe("when stopping a token that was never accepted (0 -> 0)", function () {
    it("reverts with AlreadySet", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(
        c.registry.connect(c.provider).setNodePrice(c.nodeId, c.registryAddress, 0),
      ).to.be.revertedWithCustomError(c.registry, "NodeRegistry_AlreadySet");
    });
  });

  describe("when the provider changes the price", function () {
    it("emits SetNodePrice(nodeId, token, price)", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).setNodePrice(c.nodeId, c.usdAddress, NEW_PRICE))
        .to.emit(c.registry, "SetNodePrice")
        .withArgs(c.nodeId, c.usdAddress, NEW_PRICE);
    });

    it("stores the new price", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).setNodePrice(c.nodeId, c.usdAddress, NEW_PRICE);
      expect(await c.registry.nodePrice(c.nodeId, c.usdAddress), "USD price").to.equal(NEW_PRICE);
    });

    it("quotes the new price to the next reservation", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).setNodePrice(c.nodeId, c.usdAddress, NEW_PRICE);
      const [, price] = await c.registry
        .connect(c.escrowCaller)
        .reserveGpus.staticCall(c.nodeId, 1, c.usdAddress, false);
      expect(price, "quoted price").to.equal(NEW_PRICE);
    });
  });

  describe("when the provider sets a price for a new token", function () {
    it("starts accepting it", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).setNodePrice(c.nodeId, c.registryAddress, 5n);
      expect(await c.registry.nodePrice(c.nodeId, c.registryAddress), "new token price").to.equal(5n);
    });
  });

  describe("when the price is set to 0", function () {
    it("emits SetNodePrice with price 0", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(c.registry.connect(c.provider).setNodePrice(c.nodeId, c.usdAddress, 0))
        .to.emit(c.registry, "SetNodePrice")
        .withArgs(c.nodeId, c.usdAddress, 0);
    });

    it("stops accepting the token for new reservations", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await c.registry.connect(c.provider).setNodePrice(c.nodeId, c.usdAddress, 0);
      await expect(c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 1, c.usdAddress, false))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_TokenNotAccepted")
        .withArgs(c.nodeId, c.usdAddress);
    });

    it("leaves the other token's price alone", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      const kaiPrice = await c.registry.nodePrice(c.nodeId, c.kaiAddress);
      await c.registry.connect(c.provider).setNodePrice(c.nodeId, c.usdAddress, 0);
      expect(await c.registry.nodePrice(c.nodeId, c.kaiAddress), "KAI price").to.equal(kaiPrice);
    });
  });

  describe("given GPUs are rented", function () {
    it("changes the price without touching the reservation", async function () {
      const c = await loadFixture(deployWithRentedGpus);
      await c.registry.connect(c.provider).setNodePrice(c.nodeId, c.usdAddress, NEW_PRICE);
      expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rentedGpus").to.equal(3);
    });
  });

  describe("given the node is jailed", function () {
    it("still lets the provider set a price", async function () {
      const c = await loadFixture(deployWithJailedNode);
      await expect(c.registry.connect(c.provider).setNodePrice(c.nodeId, c.usdAddress, NEW_PRICE))
        .to.emit(c.registry, "SetNodePrice")
        .withArgs(c.nodeId, c.usdAddress, NEW_PRICE);
    });
  });

  describe("given the node is retired", function () {
    it("reverts with InvalidNodeStatus(nodeId, Retired)", async function () {
      const c = await loadFixture(deployWithRetiredNode);
      await expectInvalidStatus(
        c,
        c.registry.connect(c.provider).setNodePrice(c.nodeId, c.usdAddress, NEW_PRICE),
        "Retired",
      );
    });
  });

  describe("given the registry is paused", function () {
    it("still lets the provider set a price", async function () {
      const c = await loadFixture(deployPaused);
      await expect(c.registry.connect(c.provider).setNodePrice(c.nodeId, c.usdAddress, NEW_PRICE))
        .to.emit(c.registry, "SetNodePrice")
        .withArgs(c.nodeId, c.usdAddress, NEW_PRICE);
    });
  });
});
