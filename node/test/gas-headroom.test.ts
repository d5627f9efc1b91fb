/**
 * The shared gas headroom (`gasLimitFor`, offchain/src/gas.ts). An estimate is exact for the block it
 * was simulated in; ending a rental in the second it was opened pays the provider nothing, one second
 * later it pays. A `.ci/run` on a busy machine failed when that second passed between the estimate and
 * the block: the transaction ran out of gas ("reverted without a reason string"). Block times are set
 * here, so the test does not depend on the machine's speed.
 */
import { expect } from "chai";
import { gasLimitFor } from "@kaisar/offchain";
import { Wallet } from "ethers";

import { kai } from "../../devnet/src/governance";
import { listRentableNode, startLocalChain, type LocalChain } from "./helpers/localChain";

describe("gas headroom: a transaction estimated in one block still fits in a later one", function () {
  this.timeout(120_000);
  let chain: LocalChain;

  before(async () => {
    chain = await startLocalChain();
  });
  after(async () => {
    await chain?.close();
  });

  it("ends a rental opened in the estimate's second, mined a second later: the bare estimate runs out of gas, gasLimitFor does not", async () => {
    const c = chain.contracts;
    const { rentParams } = await listRentableNode(chain, 5);
    // A plain wallet (no headroom) so that the bare estimate can be sent as it is.
    const renter = new Wallet(chain.account(6).privateKey, chain.contracts.KaiToken.runner!.provider);
    await (await c.KaiToken.connect(chain.account(0)).transfer(renter, kai(1_000))).wait();
    await (await c.KaiToken.connect(renter).approve(await c.RentalEscrow.getAddress(), kai(1_000))).wait();
    const escrow = c.RentalEscrow.connect(renter);
    const setNext = (t: number) => chain.provider.request({ method: "evm_setNextBlockTimestamp", params: [t] });

    const endAfterEstimate = async (gasLimit: (estimate: bigint) => bigint) => {
      const t = (await chain.now()) + 10;
      await setNext(t);
      await (await escrow.rent(rentParams(kai(2)))).wait();
      const id = await c.RentalEscrow.rentalCount();
      // Estimated against a block in the rental's own second; mined one second later.
      await setNext(t);
      const estimate = await escrow.endRental.estimateGas(id);
      await setNext(t + 1);
      try {
        const receipt = await (await escrow.endRental(id, { gasLimit: gasLimit(estimate) })).wait();
        return { estimate, ok: true, gasUsed: receipt!.gasUsed, reason: "" };
      } catch (e) {
        return { estimate, ok: false, gasUsed: 0n, reason: String(e) };
      }
    };

    const bare = await endAfterEstimate((e) => e);
    expect(bare.ok, "the bare estimate runs out of gas").to.equal(false);
    expect(bare.reason).to.contain("reverted without a reason string");
    const padded = await endAfterEstimate(gasLimitFor);
    expect(padded.ok, `with gasLimitFor it lands: ${padded.reason}`).to.equal(true);
    expect(
      padded.gasUsed > padded.estimate,
      `the later block took a dearer path: ${padded.gasUsed} > ${padded.estimate}`,
    ).to.equal(true);
    expect(gasLimitFor(padded.estimate) > padded.gasUsed, "headroom left").to.equal(true);
  });
});
