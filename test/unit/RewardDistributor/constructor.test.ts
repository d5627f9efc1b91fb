import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { deployDistributor } from "../../helpers/rewards";

describe("RewardDistributor.constructor", function () {
  it("stores the token and the oracle, with an empty reserve", async function () {
    const c = await loadFixture(deployDistributor);
    expect(await c.distributor.kai(), "kai").to.equal(await c.kai.getAddress());
    expect(await c.distributor.oracle(), "oracle").to.equal(await c.oracle.getAddress());
    expect(await c.distributor.reserve(), "reserve").to.equal(0n);
  });

  it("reverts with ZeroAddress for a zero token", async function () {
    const c = await loadFixture(deployDistributor);
    const factory = await ethers.getContractFactory("RewardDistributor");
    await expect(factory.deploy(ethers.ZeroAddress, await c.oracle.getAddress())).to.be.revertedWithCustomError(
      c.distributor,
      "RewardDistributor_ZeroAddress",
    );
  });

  it("reverts with ZeroAddress for a zero oracle", async function () {
    const c = await loadFixture(deployDistributor);
    const factory = await ethers.getContractFactory("RewardDistributor");
    await expect(factory.deploy(await c.kai.getAddress(), ethers.ZeroAddress)).to.be.revertedWithCustomError(
      c.distributor,
      "RewardDistributor_ZeroAddress",
    );
  });
});
