/**
 * The conservation check of ledgers.ts on a real local chain (the keeper world: checkers staked, a
 * provider staked, a node rented, the reward reserve funded): it holds there, and a token the books do
 * not know of (sent straight to a contract) is named, with what is held and what is owed.
 */
import { expect } from "chai";

import { kai } from "../../devnet/src/governance";
import { ledgers, unconserved } from "./helpers/ledgers";
import { startKeeperWorld, type KeeperWorld } from "./helpers/keeperWorld";

describe("ledgers: supply and every contract's books, from the chain", function () {
  this.timeout(120_000);
  let world: KeeperWorld;

  before(async () => {
    world = await startKeeperWorld(1);
  });
  after(async () => {
    await world?.close();
  });

  it("hold on a deployment with stakes, a rental and a funded reserve", async () => {
    expect(await unconserved(world.chain.contracts)).to.deep.equal([]);
    const books = await ledgers(world.chain.contracts);
    const escrow = books.find((l) => l.what.startsWith("RentalEscrow"))!;
    expect(escrow.owed, "the rental's deposit is on the escrow's books").to.equal(kai(5_000));
    const stakes = books.find((l) => l.what.startsWith("NodeRegistry"))!.owed;
    expect(stakes > kai(1_000), "the provider's and the checkers' stakes").to.equal(true);
    expect(books.find((l) => l.what.startsWith("RewardDistributor"))!.owed).to.equal(kai(1_000_000));
  });

  it("name a contract that holds KAI its books do not account for", async () => {
    const c = world.chain.contracts;
    const gov = world.chain.account(0);
    await (await c.KaiToken.connect(gov).transfer(await c.RentalEscrow.getAddress(), 1n)).wait();
    await (await c.KaiToken.connect(gov).transfer(await c.SlaEnforcer.getAddress(), 2n)).wait();
    const broken = await unconserved(c);
    expect(broken).to.have.length(2);
    expect(broken[0]).to.match(/^RentalEscrow .*: holds 5000000000000000000001, owes 5000000000000000000000$/);
    expect(broken[1]).to.equal("SlaEnforcer KAI: keeps none: holds 2, owes 0");
  });
});
