/**
 * offchain's one revert decoder (offchain/src/revert.ts, used by the `kaisar` CLI and the web app) on
 * real reverts of the deployed contracts: the errors ethers throws for a call, a gas estimate and a
 * sent transaction, decoded from the generated error table to the error's name, its arguments and
 * its NatSpec sentence.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { deploySla } from "../helpers/sla";
import { decodeRevert, decodeRevertData, revertDataOf, revertSentence } from "../../offchain/src/revert";

/** The error `action` throws (it must throw). */
async function thrown(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (e) {
    return e;
  }
  throw new Error("expected a revert");
}

describe("offchain revert decoder on real reverts", function () {
  it("decodes a call's revert to the error, its arguments and its NatSpec sentence", async function () {
    const c = await loadFixture(deploySla);
    const e = await thrown(() => c.escrow.closeRental.staticCall(999n));
    const decoded = decodeRevert(e);
    expect(decoded?.name).to.equal("RentalEscrow_UnknownRental");
    expect(decoded?.args).to.deep.equal([999n]);
    expect(decoded?.sentence).to.equal("Rental `rentalId` does not exist.");
    expect(revertSentence(decoded!)).to.equal("Rental 999 does not exist.");
  });

  it("decodes a sent transaction's revert (in its gas estimate), naming every argument", async function () {
    const c = await loadFixture(deploySla);
    const staked = (await c.registry.getStake(c.provider.address)).staked;
    const e = await thrown(() => c.registry.connect(c.provider).requestUnstake(staked + 1n));
    const decoded = decodeRevert(e)!;
    expect(decoded.name).to.equal("NodeRegistry_InsufficientStaked");
    expect(decoded.inputs.map((i) => i.name)).to.deep.equal(["provider", "amount", "staked"]);
    expect(decoded.args).to.deep.equal([c.provider.address, staked + 1n, staked]);
    expect(revertSentence(decoded, (v) => (typeof v === "bigint" ? `<${v}>` : String(v)))).to.equal(
      `Unstaking <${staked + 1n}> exceeds the active stake <${staked}>.`,
    );
  });

  it("decodes an OpenZeppelin error of a protocol contract (no sentence: its NatSpec is for developers)", async function () {
    const c = await loadFixture(deploySla);
    const role = await c.sla.DEFAULT_ADMIN_ROLE();
    const e = await thrown(() => c.sla.connect(c.provider).grantRole(role, c.provider.address));
    const decoded = decodeRevert(e)!;
    expect(decoded.name).to.equal("AccessControlUnauthorizedAccount");
    expect(decoded.args).to.deep.equal([c.provider.address, role]);
    expect(decoded.sentence).to.equal(undefined);
    expect(revertSentence(decoded)).to.equal(undefined);
  });

  it("finds the data in a JSON-RPC error's data.data, and leaves unknown selectors and plain errors alone", function () {
    const data = "0xdeadbeef" + "00".repeat(32);
    expect(revertDataOf({ error: { data: { data } } })).to.equal(data);
    expect(decodeRevertData("0xdeadbeef")).to.equal(undefined);
    expect(decodeRevert(new Error("execution reverted"))).to.equal(undefined);
  });
});
