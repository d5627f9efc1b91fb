import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { feeInWindow } from "@kaisar/offchain";

import { RentalStatus, Plan } from "../../fixtures";
import { lensFixture, rent, viewAt, PAYG_DEPOSIT } from "../../helpers/escrow";

type Fixture = Awaited<ReturnType<typeof lensFixture>>;

/** What `getRentalScoring` should say of `rentalId`, read field by field from the escrow. */
async function expected(c: Fixture, rentalId: bigint) {
  const r = await c.escrow.getRental(rentalId);
  const tokens = await c.escrow.paymentTokens();
  const [start, end] = await c.escrow.serviceWindow(rentalId);
  return [
    rentalId,
    r.nodeId,
    r.gpus,
    r.plan,
    r.status,
    tokens[Number(r.tokenIndex)],
    r.unitPrice,
    r.termsVersion,
    (await c.escrow.rentalTerms(r.termsVersion)).feeBps,
    start,
    end,
  ];
}

describe("KaisarLens.getRentalScoring", () => {
  it("gives each rental's node, GPUs, plan, status, token, unit price, terms, fee and service window", async () => {
    const c = await loadFixture(lensFixture);
    const ids = c.rentals.map((r) => r.rentalId);
    const rows = await c.lens.getRentalScoring(ids, 0);
    expect(rows.length).to.equal(ids.length);
    for (let i = 0; i < ids.length; i++) {
      expect([...rows[i]], `rental ${ids[i]}`).to.deep.equal(await expected(c, ids[i]));
    }
    // The fixture has every plan and one closed rental.
    expect(rows.map((r) => Number(r.plan))).to.include.members([Plan.PayAsYouGo, Plan.Hourly, Plan.Saving]);
    expect(Number(rows[2].status), "rental 3 ended").to.equal(RentalStatus.Closed);
  });

  it("with asOf, gives an open rental's window as serviceWindow would read at that time", async () => {
    const c = await loadFixture(lensFixture);
    const r1 = c.rentals[0];
    const asOf = r1.anchor + 1_000;
    const [early] = await c.lens.getRentalScoring([r1.rentalId], asOf);
    const [open] = await c.lens.getRentalScoring([r1.rentalId], asOf + 500);
    await viewAt(asOf);
    const [start, end] = await c.escrow.serviceWindow(r1.rentalId);
    expect([early.serviceStart, early.serviceEnd], "as serviceWindow at asOf").to.deep.equal([start, end]);
    expect(open.serviceEnd - early.serviceEnd, "500 s more of PAYG").to.equal(500n);
    const [closed] = await c.lens.getRentalScoring([c.rentals[2].rentalId], asOf + 500);
    expect(closed.serviceEnd - closed.serviceStart, "a closed rental's window does not move").to.equal(50n);
  });

  it("gives a closed rental the window it paid for (50 s), not one that grows", async () => {
    const c = await loadFixture(lensFixture);
    const [row] = await c.lens.getRentalScoring([c.rentals[2].rentalId], 0);
    expect(row.serviceEnd - row.serviceStart).to.equal(50n);
    await viewAt(c.rentals[2].anchor + 10_000);
    const [later] = await c.lens.getRentalScoring([c.rentals[2].rentalId], 0);
    expect(later.serviceEnd - later.serviceStart).to.equal(50n);
  });

  it("reads each rental's own terms version: a fee change applies to rentals opened after it", async () => {
    const c = await loadFixture(lensFixture);
    await c.escrow.setFeeBps(500);
    const opened = await rent(c, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT });
    const rows = await c.lens.getRentalScoring([c.rentals[0].rentalId, opened.rentalId, c.rentals[1].rentalId], 0);
    expect(rows.map((r) => [r.termsVersion, r.feeBps])).to.deep.equal([
      [0n, 1_000n],
      [1n, 500n],
      [0n, 1_000n],
    ]);
  });

  it("gives what the fee math of an epoch needs: 10% of the 50 s rental 3 paid (55,600) = 5,560", async () => {
    const c = await loadFixture(lensFixture);
    const [row] = await c.lens.getRentalScoring([c.rentals[2].rentalId], 0);
    const fee = feeInWindow(
      {
        plan: Number(row.plan) as Plan,
        unitPrice: row.unitPrice,
        feeBps: row.feeBps,
        serviceStart: row.serviceStart,
        serviceEnd: row.serviceEnd,
      },
      0n,
      2n ** 40n,
    );
    expect(fee).to.equal(5_560n);
  });

  it("returns an unknown id with status None and zero fields", async () => {
    const c = await loadFixture(lensFixture);
    const [row] = await c.lens.getRentalScoring([99], 0);
    expect([...row]).to.deep.equal([
      99n,
      0n,
      0n,
      0n,
      BigInt(RentalStatus.None),
      ethers.ZeroAddress,
      0n,
      0n,
      0n,
      0n,
      0n,
    ]);
  });

  it("returns nothing for no ids", async () => {
    const c = await loadFixture(lensFixture);
    expect((await c.lens.getRentalScoring([], 0)).length).to.equal(0);
  });
});
