/**
 * Attack 7 of issue 15: the checkers' epoch context must not read every rental ever made. An attacker
 * opens and closes dust rentals; the JSON-RPC calls a checker makes for a later epoch stay what they
 * are without them (counted at the provider: every request is one call, `batchMaxCount` 1). Before the
 * fix each epoch read every rental, one `serviceWindow` call each.
 */
import { expect } from "chai";

import { kai } from "../../devnet/src/governance";
import { connectContracts, rpcProvider } from "../src/chain/contracts";
import { chainEpochContext } from "../src/chain/epochContext";
import { listRentableNode, startLocalChain, type LocalChain } from "./helpers/localChain";

const EPOCH_SECONDS = 600;
const DUST = 30;

describe("attack 7: a checker's reads per epoch are bounded by the rentals open in it", function () {
  this.timeout(120_000);
  let chain: LocalChain;

  before(async () => {
    chain = await startLocalChain({ epochLengthSeconds: EPOCH_SECONDS });
  });
  after(async () => {
    await chain?.close();
  });

  it("attack 7: closed dust rentals of earlier epochs add no JSON-RPC call to a later epoch's context", async () => {
    const c = chain.contracts;
    const gov = chain.account(0);
    const [renter, attacker] = [6, 7].map((i) => chain.account(i));
    const escrowAddress = await c.RentalEscrow.getAddress();
    for (const who of [renter, attacker]) await (await c.KaiToken.connect(gov).transfer(who, kai(60_000))).wait();
    const { provider, nodeId, rentParams: params } = await listRentableNode(chain, 5);
    // One honest rental open through every epoch of the test.
    await (await c.KaiToken.connect(renter).approve(escrowAddress, kai(100))).wait();
    await (await c.RentalEscrow.connect(renter).rent(params(kai(10)))).wait();
    await (await c.KaiToken.connect(attacker).approve(escrowAddress, kai(1_000))).wait();

    // The checker's view: its own provider, counting every JSON-RPC request.
    const rpc = rpcProvider(chain.rpcUrl, chain.chainId);
    let calls = 0;
    await rpc.on("debug", (e: { action: string }) => {
      if (e.action === "sendRpcPayload") calls++;
    });
    const context = chainEpochContext(connectContracts(chain.addresses, rpc), chain.chainId, () => [
      { id: nodeId, provider: provider.address },
    ]);
    const epochAt = async () => Number(await c.ReportOracle.epochAt(await chain.now()));
    const toNextEpoch = async () => {
      const next = await c.ReportOracle.epochStart((await epochAt()) + 1);
      await chain.increaseTime(Number(next) - (await chain.now()) + 1);
    };
    const measure = async (epoch: number) => {
      calls = 0;
      const ctx = await context(epoch);
      return { calls, ctx };
    };

    try {
      await toNextEpoch();
      const e0 = (await epochAt()) - 1;
      await context(e0); // builds the open-rental set from the first block

      // Epoch e0 + 1: as many blocks as the attacker's epoch below, all empty. Epoch e0 + 2 is measured.
      await chain.provider.request({ method: "hardhat_mine", params: ["0x" + (2 * DUST).toString(16)] });
      await toNextEpoch();
      await toNextEpoch();
      const quiet = await measure(e0 + 2);

      // Epoch e0 + 3: the attacker opens and closes DUST rentals. Epoch e0 + 4 is measured.
      for (let i = 0; i < DUST; i++) {
        await (await c.RentalEscrow.connect(attacker).rent(params(kai(2)))).wait();
        await (await c.RentalEscrow.connect(attacker).endRental(await c.RentalEscrow.rentalCount())).wait();
      }
      await toNextEpoch();
      await toNextEpoch();
      const dusty = await measure(e0 + 4);

      console.log(
        `      JSON-RPC calls for an epoch's context: ${quiet.calls} after a quiet epoch, ` +
          `${dusty.calls} after ${DUST} dust rentals opened and closed`,
      );
      expect(Number(await c.RentalEscrow.rentalCount()), "the dust rentals exist").to.equal(1 + DUST);
      expect(dusty.calls, "calls after the dust epoch").to.equal(quiet.calls);
      // Still the right figures: the honest rental's GPU-seconds over the whole measured epoch.
      for (const { ctx } of [quiet, dusty]) {
        expect(ctx.nodes[0].deliveredGpuSeconds, "one GPU for the whole epoch").to.equal(BigInt(EPOCH_SECONDS));
      }
    } finally {
      rpc.destroy();
    }
  });
});
