/**
 * The test chain's clock (test/helpers/chainClock.ts): it moves only when a test moves it, so no test
 * depends on how fast the machine runs.
 */
import { expect } from "chai";
import { ethers, network } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function mineAndRead(): Promise<number> {
  await network.provider.send("evm_mine", []);
  return time.latest();
}

describe("the test chain's clock", function () {
  it("stamps a block with its parent's time + 1 s, however long the wall clock ran in between", async function () {
    const first = await mineAndRead();
    await pause(2_100); // the wall clock moves on; the chain's must not
    expect(await mineAndRead()).to.equal(first + 1);
    const [signer] = await ethers.getSigners();
    await pause(1_100);
    const receipt = await (await signer.sendTransaction({ to: signer.address, value: 1n })).wait();
    expect((await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp).to.equal(first + 2);
  });

  it("keeps a time the test set, and moves on by what evm_increaseTime adds", async function () {
    const start = await mineAndRead();
    await time.setNextBlockTimestamp(start + 100);
    await pause(1_100);
    expect(await mineAndRead()).to.equal(start + 100);
    await network.provider.send("evm_increaseTime", [50]);
    expect(await mineAndRead()).to.equal(start + 151);
    await time.increase(10);
    expect(await time.latest()).to.equal(start + 161);
  });

  it("restarts from the snapshot's time after a revert", async function () {
    const start = await mineAndRead();
    const snapshot = await network.provider.send("evm_snapshot", []);
    await time.increase(1_000);
    await network.provider.send("evm_revert", [snapshot]);
    await pause(1_100);
    expect(await mineAndRead()).to.equal(start + 1);
  });

  it("gives a gas estimate the time the next block will have", async function () {
    const start = await mineAndRead();
    await pause(1_100);
    // Init code that reverts unless block.timestamp == start + 1: TIMESTAMP PUSH4 t EQ PUSH1 0x0e JUMPI
    // PUSH1 0 DUP1 REVERT JUMPDEST STOP.
    const t = (start + 1).toString(16).padStart(8, "0");
    const data = `0x4263${t}14600e57600080fd5b00`;
    await expect(ethers.provider.estimateGas({ data })).to.not.be.rejected;
  });
});
