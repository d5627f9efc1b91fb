/**
 * SlaEnforcer.payStakeCredit / payStakeCredits (issue #15, attack 4): the part of an SLA credit the
 * provider's earnings did not cover is recorded as due (`stakeCreditDue`), capped per node and epoch
 * at `stakeCreditCapBps` of the node's required stake, and paid to the renter from the provider's
 * stake only after the epoch's slashing window (`epochStart(epoch + 1) + slashWindow + 1`).
 *
 * The rental: 1 GPU of the fixture's 8xH100 node (24,000 KAI staked), opened 10 s into epoch 2, ended
 * at its end, its earnings withdrawn; epoch 2 reported at 80.00%: a 100% credit of 27_800 USD units,
 * none of it from earnings. At 10 KAI per USD that is 0.278 KAI due.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { KAI } from "../../fixtures";
import {
  atTime,
  deploySla,
  emitsStakeCreditSlash,
  epochBounds,
  metricsWith,
  openSlaRental,
  reportNodes,
  stakeCreditOpensAt,
} from "../../helpers/sla";

const E2 = 2n;
const TEN_KAI_PER_USD = 10n ** 31n;
const DUE = KAI("0.278");

async function deployDue() {
  const c = await deploySla();
  const usd = await c.usd.getAddress();
  const { from, to } = epochBounds(c, E2);
  const rentalId = await atTime(from + 10n, () => openSlaRental(c, { slaTier: 1 }));
  const rental2 = await atTime(from + 11n, () => openSlaRental(c, { slaTier: 1 }, c.renter2));
  const rental3 = await atTime(from + 12n, () => openSlaRental(c, { slaTier: 1 }, c.other));
  await atTime(to, () => c.escrow.connect(c.renter).endRental(rentalId));
  await c.escrow.connect(c.renter2).endRental(rental2);
  await c.escrow.connect(c.other).endRental(rental3);
  await c.escrow.connect(c.provider).withdrawEarnings(usd, [rentalId, rental2, rental3]);
  const [p2] = await reportNodes(c, E2, [{ nodeId: c.nodeId, metrics: metricsWith(8_000n) }]);
  await c.sla.connect(c.admin).setKaiPerToken(usd, TEN_KAI_PER_USD);
  await c.sla.applySlaCredit(rentalId, p2);
  return { ...c, rentalId, rental2, rental3, p2, opensAt: await stakeCreditOpensAt(c, E2) };
}

describe("SlaEnforcer.payStakeCredit", function () {
  it("records the due (stakeCreditDue, nodeStakeCreditDue) and moves no KAI at credit time", async function () {
    const c = await loadFixture(deployDue);
    expect(await c.sla.stakeCreditDue(c.rentalId, E2)).to.equal(DUE);
    expect(await c.sla.nodeStakeCreditDue(c.nodeId, E2)).to.equal(DUE);
    expect(await c.registry.penaltyCount(c.provider.address)).to.equal(0n);
  });

  it("reverts with SlashingWindowOpen(epoch, opensAt) one second before the window has passed", async function () {
    const c = await loadFixture(deployDue);
    await time.setNextBlockTimestamp(c.opensAt - 1n);
    await expect(c.sla.payStakeCredit(c.rentalId, E2))
      .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_SlashingWindowOpen")
      .withArgs(E2, c.opensAt);
  });

  it("pays the renter from the provider's stake from opensAt on, whoever calls: Slash (reason 1) and PayStakeCredit", async function () {
    const c = await loadFixture(deployDue);
    await time.setNextBlockTimestamp(c.opensAt);
    const tx = c.sla.connect(c.other).payStakeCredit(c.rentalId, E2);
    await emitsStakeCreditSlash(c, tx, c.rentalId, E2, DUE);
    await expect(tx).to.emit(c.sla, "PayStakeCredit").withArgs(c.rentalId, E2, DUE);
    await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.renter, c.other], [-DUE, DUE, 0n]);
    expect(await c.sla.stakeCreditDue(c.rentalId, E2)).to.equal(0n);
  });

  it("reverts with NothingDue(rental, epoch) once paid, and for a pair never credited from stake", async function () {
    const c = await loadFixture(deployDue);
    await time.setNextBlockTimestamp(c.opensAt);
    await c.sla.payStakeCredit(c.rentalId, E2);
    await expect(c.sla.payStakeCredit(c.rentalId, E2))
      .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NothingDue")
      .withArgs(c.rentalId, E2);
    await expect(c.sla.payStakeCredit(c.rental2, 3n))
      .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NothingDue")
      .withArgs(c.rental2, 3n);
  });

  describe("the cap per node and epoch (10% of 24,000 KAI = 2,400 KAI)", function () {
    it("gives a second rental of the node in the epoch only what is left of the cap", async function () {
      const c = await loadFixture(deployDue);
      // 1,000 KAI per USD unit x 1e6: the 27_800 units owe 27,800,000 KAI.
      await c.sla.connect(c.admin).setKaiPerToken(await c.usd.getAddress(), 10n ** 42n / 10n ** 2n);
      await expect(c.sla.applySlaCredit(c.rental2, c.p2))
        .to.emit(c.sla, "DeferStakeCredit")
        .withArgs(c.rental2, E2, KAI(2_400) - DUE);
      expect(await c.sla.nodeStakeCreditDue(c.nodeId, E2)).to.equal(KAI(2_400));
      // The cap is spent: a third rental's credit, none of it from earnings, pays nothing and stays available.
      await expect(c.sla.applySlaCredit(c.rental3, c.p2))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NothingPaid")
        .withArgs(c.rental3, E2);
      expect(await c.sla.isCredited(c.rental3, E2)).to.be.false;
    });
  });
});

describe("SlaEnforcer.payStakeCredits", function () {
  it("reverts with LengthMismatch(ids, epochs)", async function () {
    const c = await loadFixture(deployDue);
    await expect(c.sla.payStakeCredits([c.rentalId], [E2, E2]))
      .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_LengthMismatch")
      .withArgs(1n, 2n);
  });

  it("skips pairs with nothing due and pays the others, returning the KAI paid", async function () {
    const c = await loadFixture(deployDue);
    await time.setNextBlockTimestamp(c.opensAt);
    const tx = c.sla.payStakeCredits([c.rental2, c.rentalId, c.rentalId], [E2, E2, E2]);
    await expect(tx).to.emit(c.sla, "PayStakeCredit").withArgs(c.rentalId, E2, DUE);
    await expect(tx).to.changeTokenBalances(c.kai, [c.renter, c.renter2], [DUE, 0n]);
  });

  it("reverts as a whole with SlashingWindowOpen while a pair's window is open", async function () {
    const c = await loadFixture(deployDue);
    await expect(c.sla.payStakeCredits([c.rentalId], [E2]))
      .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_SlashingWindowOpen")
      .withArgs(E2, c.opensAt);
  });

  it("does nothing for an empty batch", async function () {
    const c = await loadFixture(deployDue);
    await expect(c.sla.payStakeCredits([], [])).not.to.emit(c.sla, "PayStakeCredit");
  });
});
