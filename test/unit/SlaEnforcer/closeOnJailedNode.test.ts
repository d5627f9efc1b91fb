/**
 * SlaEnforcer.closeOnJailedNode: closes the open rentals on jailed nodes for `ProviderSlashed`.
 * Renters get the unused deposit back; saving plans are refunded in full: the escrow returns all but
 * what the provider already withdrew (its unwithdrawn earnings included), and the enforcer pays that
 * part from the provider's stake, in KAI at the governance rate (registry `Slash` reason 4, evidence
 * `keccak256(abi.encode(rentalId))`, `RefundSavingFromStake`), less SLA credits already paid to the
 * renter from earnings. No rate, or an empty stake, pays less (0) without stopping the close.
 * Closed rentals are skipped; an unknown rental, a rental on a node that is not jailed, or nothing to
 * close reverts the whole batch.
 *
 * The rentals, both on node A, jailed for hardware fraud early in epoch 3:
 * - A: the renter's pay-as-you-go, 1 GPU at 556 per second, deposit 20_000_000, from 10 s into
 *   epoch 2;
 * - S: renter2's 7-day saving plan, 1 GPU at 1_900_000 per hour (5% off), deposit 319_200_000
 *   over 604_800 s, from 20 s into epoch 2.
 * Rental X, the renter's on provider2's node B, is never jailed. The batch closes at the start of
 * epoch 4: A has run 110 s (61_160 earned, 19_938_840 back); S has run 100 s.
 * The fraud slash takes the provider's whole stake (8 x 3,000 KAI): for KAI to come from stake, the
 * fixtures below stake again afterwards. Rates: 10 KAI per USD (1e31 KAI units per 1e18 USD units),
 * so 1 USD unit is 1e13 KAI units.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { CloseReason, KAI, NodeStatus, Plan, RentalStatus } from "../../fixtures";
import {
  addStakedNode,
  afterSlashWindow,
  atTime,
  deploySla,
  emitsSlash,
  epochBounds,
  expectPenalty,
  metricsWith,
  openSlaRental,
  Reason,
  reportNodes,
  SLA_ROLES,
  totalOf,
  type SlaFixture,
} from "../../helpers/sla";

const SAVING_DEPOSIT = 319_200_000n;
const PAYG_DEPOSIT = 20_000_000n;
/** A at the start of epoch 4: 110 s x 556. */
const A_EARNED = 61_160n;
const A_REFUND = PAYG_DEPOSIT - A_EARNED; // 19_938_840
/** What the provider withdrew from S (70 s of the term, gross) and what the escrow then refunds. */
const S_WITHDRAWN = 36_944n;
const S_REFUND = SAVING_DEPOSIT - S_WITHDRAWN; // 319_163_056
/** 10 KAI per USD: 1e31 KAI units per 1e18 USD units. */
const TEN_KAI_PER_USD = 10n ** 31n;
/** S_WITHDRAWN at 10 KAI per USD: 36_944 x 1e31 / 1e18 = 0.36944 KAI. */
const S_KAI = KAI("0.36944");

/* -------------------------------------------------------------------------- */
/*                               LOCAL FIXTURES                               */
/* -------------------------------------------------------------------------- */

/** Rentals A, S (node A) and X (node B) open; node A jailed by a fraud slash for epoch 2. */
async function deployJailed() {
  const c = await deploySla();
  const nodeB = await addStakedNode(c);
  const { from } = epochBounds(c, 2n);
  const a = await atTime(from + 10n, () => openSlaRental(c, { slaTier: 1 }));
  // S under terms with no early-exit penalty: nothing is held back, the provider can withdraw at once.
  await c.escrow.setEarlyExitPenaltyBps(0);
  const s = await atTime(from + 20n, () =>
    openSlaRental(c, { plan: Plan.Saving, termDays: 7, deposit: 0n, slaTier: 1 }, c.renter2),
  );
  const x = await openSlaRental(c, { nodeId: nodeB, slaTier: 1 });
  const [p2] = await reportNodes(c, 2n, [{ nodeId: c.nodeId, metrics: metricsWith(9_999n, true) }]);
  await c.sla.slashForHardwareFraud(p2);
  return { ...c, nodeB, a, s, x, closeAt: epochBounds(c, 4n).from };
}

type Jailed = Awaited<ReturnType<typeof deployJailed>>;

/**
 * `deployJailed`, and the provider withdrew S's earnings 30 s into epoch 3: 70 s of the term,
 * 319_200_000 x 70 / 604_800 = 36_944 (rounded down), gross.
 */
async function deployWithdrawnSaving() {
  const c = await deployJailed();
  await atTime(epochBounds(c, 3n).from + 30n, () =>
    c.escrow.connect(c.provider).withdrawEarnings(c.usd.getAddress(), [c.s]),
  );
  return c;
}

/** `deployJailed`, then the provider stakes 1 KAI again and governance sets 10 KAI per USD. */
async function deployRestaked() {
  const c = await deployJailed();
  await c.registry.connect(c.provider).stake(KAI(1));
  await c.sla.connect(c.admin).setKaiPerToken(await c.usd.getAddress(), TEN_KAI_PER_USD);
  return c;
}

/** `deployWithdrawnSaving`, then the provider stakes 1 KAI again and governance sets 10 KAI per USD. */
async function deployRefundable() {
  const c = await deployWithdrawnSaving();
  await c.registry.connect(c.provider).stake(KAI(1));
  await c.sla.connect(c.admin).setKaiPerToken(await c.usd.getAddress(), TEN_KAI_PER_USD);
  return c;
}

/** The registry's evidence for the refund of rental `id` from stake. */
const refundEvidence = (id: bigint) => ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["uint256"], [id]));

function close(c: Jailed, ids: bigint[], who = c.keeper) {
  return atTime(c.closeAt, () => c.sla.connect(who).closeOnJailedNode(ids));
}

/** `tx` emits the escrow's CloseRental of `id` for ProviderSlashed, by the enforcer: `earned` kept, `refund` back. */
async function emitsSlashedClose(c: Jailed, tx: Promise<unknown>, id: bigint, earned: bigint, refund: bigint) {
  await expect(tx)
    .to.emit(c.escrow, "CloseRental")
    .withArgs(id, CloseReason.ProviderSlashed, await c.sla.getAddress(), earned, refund, 0n);
}

function holders(c: SlaFixture) {
  return [c.escrow, c.registry, c.renter, c.renter2, c.provider, c.provider2, c.treasury, c.rewardPool, c.keeper];
}

/* -------------------------------------------------------------------------- */
/*                                    TESTS                                   */
/* -------------------------------------------------------------------------- */

describe("SlaEnforcer.closeOnJailedNode", function () {
  describe("given rentals A (pay-as-you-go) and S (saving) on jailed node A", function () {
    describe("when a keeper closes both", function () {
      it("returns 2", async function () {
        const c = await loadFixture(deployJailed);
        expect(await c.sla.connect(c.keeper).closeOnJailedNode.staticCall([c.a, c.s]), "closed").to.equal(2n);
      });

      it("emits CloseRental(A, ProviderSlashed, enforcer, 61_160 earned, 19_938_840 back, 0)", async function () {
        const c = await loadFixture(deployJailed);
        await expect(close(c, [c.a, c.s]))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.a, CloseReason.ProviderSlashed, await c.sla.getAddress(), A_EARNED, A_REFUND, 0n);
      });

      it("emits CloseRental(S, ProviderSlashed, enforcer, 0, the whole deposit 319_200_000, 0)", async function () {
        const c = await loadFixture(deployJailed);
        await expect(close(c, [c.a, c.s]))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.s, CloseReason.ProviderSlashed, await c.sla.getAddress(), 0n, SAVING_DEPOSIT, 0n);
      });

      it("refunds the renters: 19_938_840 to the renter, 319_200_000 to renter2, nothing to the provider", async function () {
        const c = await loadFixture(deployJailed);
        await expect(close(c, [c.a, c.s])).to.changeTokenBalances(
          c.usd,
          [c.escrow, c.renter, c.renter2, c.provider, c.keeper],
          [-(A_REFUND + SAVING_DEPOSIT), A_REFUND, SAVING_DEPOSIT, 0n, 0n],
        );
      });

      it("closes both for ProviderSlashed; the provider keeps A's 61_160 and nothing of S", async function () {
        const c = await loadFixture(deployJailed);
        await close(c, [c.a, c.s]);
        for (const id of [c.a, c.s]) {
          const r = await c.escrow.getRental(id);
          expect(r.status, `status of ${id}`).to.equal(RentalStatus.Closed);
          expect(r.closeReason, `reason of ${id}`).to.equal(CloseReason.ProviderSlashed);
        }
        expect(await c.escrow.withdrawable(c.a), "A").to.equal(A_EARNED);
        expect(await c.escrow.withdrawable(c.s), "S").to.equal(0n);
      });

      it("releases the GPUs and the stake S locked", async function () {
        const c = await loadFixture(deployJailed);
        expect(await c.registry.lockedStake(c.provider.address), "locked before").to.be.gt(0n);
        await close(c, [c.a, c.s]);
        expect((await c.registry.getNode(c.nodeId)).rentedGpus, "rented GPUs").to.equal(0n);
        expect(await c.registry.lockedStake(c.provider.address), "locked after").to.equal(0n);
        expect((await c.registry.getNode(c.nodeId)).status, "still jailed").to.equal(NodeStatus.Jailed);
      });

      it("conserves USD and KAI", async function () {
        const c = await loadFixture(deployJailed);
        const usd = await totalOf(c.usd, holders(c));
        const kai = await totalOf(c.kai, holders(c));
        await close(c, [c.a, c.s]);
        expect(await totalOf(c.usd, holders(c)), "USD").to.equal(usd);
        expect(await totalOf(c.kai, holders(c)), "KAI").to.equal(kai);
      });

      it("leaves nothing to credit on S afterwards (refunded in full), while A is credited from what it owes", async function () {
        const c = await loadFixture(deployJailed);
        await close(c, [c.a, c.s]);
        const [p3] = await reportNodes(c, 3n, [{ nodeId: c.nodeId, metrics: metricsWith(8_000n) }]);
        const { from, to } = epochBounds(c, 3n);
        await expect(c.sla.applySlaCredit(c.s, p3))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NothingToCredit")
          .withArgs(c.s, from, to);
        // A ran all of epoch 3 (60 x 556 = 33_360); 80% is 100%: paid from the 61_160 it owes.
        await expect(c.sla.applySlaCredit(c.a, p3))
          .to.emit(c.sla, "ApplySlaCredit")
          .withArgs(c.a, 3n, 8_000n, 33_360n, 33_360n, 0n);
        expect(await c.escrow.withdrawable(c.a), "A owes").to.equal(A_EARNED - 33_360n);
        expect(await c.sla.savingCreditedFromEarnings(c.a), "not a saving plan: not counted").to.equal(0n);
      });
    });

    describe("when the provider withdrew S's earnings before (36_944 gross)", function () {
      it("the escrow refunds the rest of the deposit, 319_163_056; the provider keeps what it took in USD", async function () {
        const c = await loadFixture(deployWithdrawnSaving);
        const tx = close(c, [c.s]);
        await emitsSlashedClose(c, tx, c.s, S_WITHDRAWN, S_REFUND);
        await expect(tx).to.changeTokenBalances(c.usd, [c.escrow, c.renter2, c.provider], [-S_REFUND, S_REFUND, 0n]);
        expect(await c.escrow.withdrawable(c.s), "S").to.equal(0n);
      });

      it("with the stake exhausted by the fraud slash (and no rate): closes S, pays no KAI, RefundSavingFromStake(S, 36_944, 0)", async function () {
        const c = await loadFixture(deployWithdrawnSaving);
        const s = await c.registry.getStake(c.provider.address);
        expect([s.staked, s.unbonding, s.rewardsOwed], "nothing left to take").to.deep.equal([0n, 0n, 0n]);
        const tx = close(c, [c.s]);
        await expect(tx).to.emit(c.sla, "RefundSavingFromStake").withArgs(c.s, S_WITHDRAWN, 0n);
        await expect(tx).not.to.emit(c.registry, "Slash");
        await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.renter2], [0n, 0n]);
        expect((await c.escrow.getRental(c.s)).status, "closed").to.equal(RentalStatus.Closed);
      });

      describe("and the provider staked 1 KAI again, but no rate is set for USD", function () {
        async function deployNoRate() {
          const c = await deployWithdrawnSaving();
          await c.registry.connect(c.provider).stake(KAI(1));
          return c;
        }

        it("closes S, refunds 319_163_056 USD, takes nothing from stake: RefundSavingFromStake(S, 36_944, 0)", async function () {
          const c = await loadFixture(deployNoRate);
          const tx = close(c, [c.s]);
          await expect(tx).to.emit(c.sla, "RefundSavingFromStake").withArgs(c.s, S_WITHDRAWN, 0n);
          await expect(tx).not.to.emit(c.registry, "Slash");
          await expect(tx).to.changeTokenBalance(c.usd, c.renter2, S_REFUND);
          await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.renter2], [0n, 0n]);
          expect((await c.registry.getStake(c.provider.address)).staked, "stake").to.equal(KAI(1));
        });
      });

      describe("and the provider staked 1 KAI again, at 10 KAI per USD", function () {
        it("returns 1", async function () {
          const c = await loadFixture(deployRefundable);
          expect(await c.sla.connect(c.keeper).closeOnJailedNode.staticCall([c.s]), "closed").to.equal(1n);
        });

        it("refunds 319_163_056 USD from the escrow and the withdrawn 36_944 as 0.36944 KAI from the stake", async function () {
          const c = await loadFixture(deployRefundable);
          const tx = close(c, [c.s]);
          await expect(tx).to.changeTokenBalances(
            c.usd,
            [c.escrow, c.renter2, c.provider, c.keeper],
            [-S_REFUND, S_REFUND, 0n, 0n],
          );
          await expect(tx).to.changeTokenBalances(
            c.kai,
            [c.registry, c.renter2, c.provider, c.treasury, c.keeper],
            [-S_KAI, S_KAI, 0n, 0n, 0n],
          );
          expect((await c.registry.getStake(c.provider.address)).staked, "stake left").to.equal(KAI(1) - S_KAI);
        });

        it("emits the registry's Slash(provider, node A, reason 4, keccak256(abi.encode(S)), 0, 0.36944 KAI, 0, renter2)", async function () {
          const c = await loadFixture(deployRefundable);
          await expect(close(c, [c.s]))
            .to.emit(c.registry, "Slash")
            .withArgs(
              c.provider.address,
              c.nodeId,
              Reason.SavingRefund,
              refundEvidence(c.s),
              0n,
              S_KAI,
              0n,
              c.renter2.address,
            );
        });

        it("records the penalty: 0.36944 KAI, the time, reason 4, node A, the rental's evidence", async function () {
          const c = await loadFixture(deployRefundable);
          const tx = await close(c, [c.s]);
          expect(await c.registry.penaltyCount(c.provider.address), "fraud, then the refund").to.equal(2n);
          await expectPenalty(c, tx, 1, "penalty 1", {
            amount: S_KAI,
            reason: Reason.SavingRefund,
            evidence: refundEvidence(c.s),
          });
        });

        it("emits RefundSavingFromStake(S, 36_944, 0.36944 KAI) after the escrow's CloseRental", async function () {
          const c = await loadFixture(deployRefundable);
          const tx = await close(c, [c.s]);
          await expect(tx).to.emit(c.sla, "RefundSavingFromStake").withArgs(c.s, S_WITHDRAWN, S_KAI);
          const names = (await tx.wait())!.logs.map(
            (l) =>
              c.escrow.interface.parseLog(l)?.name ??
              c.registry.interface.parseLog(l)?.name ??
              c.sla.interface.parseLog(l)?.name,
          );
          const order = names.filter((n) => ["CloseRental", "Slash", "RefundSavingFromStake"].includes(n ?? ""));
          expect(order, "event order").to.deep.equal(["CloseRental", "Slash", "RefundSavingFromStake"]);
        });

        it("conserves USD and KAI", async function () {
          const c = await loadFixture(deployRefundable);
          const usd = await totalOf(c.usd, holders(c));
          const kai = await totalOf(c.kai, holders(c));
          await close(c, [c.s]);
          expect(await totalOf(c.usd, holders(c)), "USD").to.equal(usd);
          expect(await totalOf(c.kai, holders(c)), "KAI").to.equal(kai);
        });

        it("takes rewards owed first: 0.2 KAI of rewards, then 0.16944 KAI of stake", async function () {
          const c = await loadFixture(deployRefundable);
          const rewarder = (await ethers.getSigners())[4]; // deployCore's `oracle` signer holds REWARDER_ROLE
          await c.registry.connect(rewarder).depositRewards(c.provider.address, KAI("0.2"));
          const tx = close(c, [c.s]);
          await emitsSlash(
            c,
            tx,
            Reason.SavingRefund,
            refundEvidence(c.s),
            [KAI("0.2"), KAI("0.16944"), 0n],
            c.renter2.address,
          );
          await expect(tx).to.emit(c.sla, "RefundSavingFromStake").withArgs(c.s, S_WITHDRAWN, S_KAI);
        });

        it("pays what is left when the stake holds less (0.1 KAI of 0.36944), and closes all the same", async function () {
          const c = await loadFixture(deployWithdrawnSaving);
          await c.registry.connect(c.provider).stake(KAI("0.1"));
          await c.sla.connect(c.admin).setKaiPerToken(await c.usd.getAddress(), TEN_KAI_PER_USD);
          const tx = close(c, [c.s]);
          await expect(tx).to.emit(c.sla, "RefundSavingFromStake").withArgs(c.s, S_WITHDRAWN, KAI("0.1"));
          await emitsSlash(c, tx, Reason.SavingRefund, refundEvidence(c.s), [0n, KAI("0.1"), 0n], c.renter2.address);
          await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.renter2], [-KAI("0.1"), KAI("0.1")]);
          await expect(tx).to.changeTokenBalance(c.usd, c.renter2, S_REFUND);
          expect((await c.escrow.getRental(c.s)).status, "closed").to.equal(RentalStatus.Closed);
          expect((await c.registry.getStake(c.provider.address)).staked, "stake").to.equal(0n);
        });

        it("with A in the batch: A's refund only (no KAI), one Slash and one RefundSavingFromStake, for S", async function () {
          const c = await loadFixture(deployRefundable);
          const tx = await close(c, [c.a, c.s]);
          await expect(tx).to.changeTokenBalances(c.usd, [c.renter, c.renter2], [A_REFUND, S_REFUND]);
          await expect(tx).to.changeTokenBalances(c.kai, [c.renter, c.renter2], [0n, S_KAI]);
          const logs = (await tx.wait())!.logs;
          const refunds = logs
            .map((l) => c.sla.interface.parseLog(l))
            .filter((l) => l?.name === "RefundSavingFromStake");
          const slashes = logs
            .map((l) => c.registry.interface.parseLog(l))
            .filter((l) => l?.name === "Slash" && l.args.reason === BigInt(Reason.SavingRefund));
          expect(
            refunds.map((l) => [...l!.args]),
            "RefundSavingFromStake",
          ).to.deep.equal([[c.s, S_WITHDRAWN, S_KAI]]);
          expect(slashes.length, "Slash").to.equal(1);
        });
      });

      describe("and S was credited for epoch 3 (80%) from the provider's earnings, then closed", function () {
        /**
         * Epoch 3 reported at 80.00%; 10 s into epoch 4 (S has earned 110 s: 58_055) S is credited
         * 100% of the 60 s it paid in epoch 3 (31_666): 21_111 from earnings (units 70 -> 110),
         * 10_555 from stake (0.10555 KAI). One second later S closes: the escrow refunds the deposit
         * less the value of 110 units, 319_141_945; of those 58_055, the renter was credited 21_111
         * and the provider withdrew 36_944, which alone comes from stake.
         */
        async function deployCredited() {
          const c = await deployRefundable();
          const [p3] = await reportNodes(c, 3n, [{ nodeId: c.nodeId, metrics: metricsWith(8_000n) }]);
          await atTime(c.closeAt + 10n, () => c.sla.applySlaCredit(c.s, p3));
          return { ...c, closeAt: c.closeAt + 11n };
        }

        it("counted the 21_111 credited from earnings (savingCreditedFromEarnings)", async function () {
          const c = await loadFixture(deployCredited);
          expect(await c.sla.savingCreditedFromEarnings(c.s), "S").to.equal(21_111n);
          expect((await c.escrow.getRental(c.s)).withdrawnUnits, "S's units").to.equal(110n);
        });

        it("refunds 319_141_945 USD and pays only the 36_944 withdrawn from stake (0.36944 KAI)", async function () {
          const c = await loadFixture(deployCredited);
          const tx = close(c, [c.s]);
          await emitsSlashedClose(c, tx, c.s, 58_055n, 319_141_945n);
          await expect(tx).to.emit(c.sla, "RefundSavingFromStake").withArgs(c.s, S_WITHDRAWN, S_KAI);
          await expect(tx).to.changeTokenBalances(c.usd, [c.escrow, c.renter2], [-319_141_945n, 319_141_945n]);
          await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.renter2], [-S_KAI, S_KAI]);
        });

        it("gives renter2 back the deposit less 36_944 in USD over the credit and the close, and 0.36944 + 0.10555 KAI", async function () {
          const c = await loadFixture(deployRefundable);
          const [usd0, kai0] = [await c.usd.balanceOf(c.renter2), await c.kai.balanceOf(c.renter2)];
          const [p3] = await reportNodes(c, 3n, [{ nodeId: c.nodeId, metrics: metricsWith(8_000n) }]);
          await atTime(c.closeAt + 10n, () => c.sla.applySlaCredit(c.s, p3));
          await atTime(c.closeAt + 11n, () => c.sla.connect(c.keeper).closeOnJailedNode([c.s]));
          // The credit's stake part is paid after epoch 3's slashing window.
          await afterSlashWindow(c, 3n);
          await c.sla.connect(c.keeper).payStakeCredit(c.s, 3n);
          expect((await c.usd.balanceOf(c.renter2)) - usd0, "USD: 21_111 credited + 319_141_945 refunded").to.equal(
            SAVING_DEPOSIT - S_WITHDRAWN,
          );
          expect((await c.kai.balanceOf(c.renter2)) - kai0, "KAI: the credit's stake part + the refund").to.equal(
            KAI("0.10555") + S_KAI,
          );
          expect((await c.registry.getStake(c.provider.address)).staked, "stake left").to.equal(
            KAI(1) - KAI("0.10555") - S_KAI,
          );
        });
      });
    });

    describe("when S's provider withdrew nothing, at 10 KAI per USD with 1 KAI staked again", function () {
      it("refunds the whole deposit from the escrow and takes nothing from stake (no Slash, no RefundSavingFromStake)", async function () {
        const c = await loadFixture(deployRestaked);
        const tx = close(c, [c.s]);
        await expect(tx).to.changeTokenBalance(c.usd, c.renter2, SAVING_DEPOSIT);
        await expect(tx).not.to.emit(c.registry, "Slash");
        await expect(tx).not.to.emit(c.sla, "RefundSavingFromStake");
        await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.renter2], [0n, 0n]);
      });
    });

    describe("when A (pay-as-you-go) closes at 10 KAI per USD with 1 KAI staked again", function () {
      it("refunds the unused deposit only, 19_938_840; the provider keeps 61_160 to withdraw; no KAI moves", async function () {
        const c = await loadFixture(deployRestaked);
        const tx = close(c, [c.a]);
        await emitsSlashedClose(c, tx, c.a, A_EARNED, A_REFUND);
        await expect(tx).to.changeTokenBalance(c.usd, c.renter, A_REFUND);
        await expect(tx).not.to.emit(c.registry, "Slash");
        await expect(tx).not.to.emit(c.sla, "RefundSavingFromStake");
        await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.renter], [0n, 0n]);
        expect(await c.escrow.withdrawable(c.a), "A").to.equal(A_EARNED);
      });

      it("even after the provider withdrew from A", async function () {
        const c = await loadFixture(deployRestaked);
        await atTime(epochBounds(c, 3n).from + 30n, () =>
          c.escrow.connect(c.provider).withdrawEarnings(c.usd.getAddress(), [c.a]),
        );
        const tx = close(c, [c.a]);
        await expect(tx).to.changeTokenBalance(c.usd, c.renter, A_REFUND);
        await expect(tx).not.to.emit(c.sla, "RefundSavingFromStake");
        await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.renter], [0n, 0n]);
      });
    });

    describe("when A was closed by its renter already", function () {
      async function deployEnded() {
        const c = await deployJailed();
        await c.escrow.connect(c.renter).endRental(c.a);
        return c;
      }

      it("skips A and closes S: returns 1, one CloseRental", async function () {
        const c = await loadFixture(deployEnded);
        expect(await c.sla.closeOnJailedNode.staticCall([c.a, c.s]), "closed").to.equal(1n);
        const tx = await close(c, [c.a, c.s]);
        const receipt = await tx.wait();
        const closes = receipt!.logs
          .map((l) => c.escrow.interface.parseLog(l))
          .filter((l) => l?.name === "CloseRental")
          .map((l) => l!.args.rentalId);
        expect(closes, "closed").to.deep.equal([c.s]);
      });

      it("reverts with NothingToClose for A alone", async function () {
        const c = await loadFixture(deployEnded);
        await expect(c.sla.closeOnJailedNode([c.a])).to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NothingToClose");
      });
    });

    describe("when A is listed twice", function () {
      it("closes it once and returns 1", async function () {
        const c = await loadFixture(deployJailed);
        expect(await c.sla.closeOnJailedNode.staticCall([c.a, c.a]), "closed").to.equal(1n);
        await expect(close(c, [c.a, c.a])).to.changeTokenBalance(c.usd, c.renter, A_REFUND);
      });
    });

    describe("when the provider itself calls it", function () {
      it("closes the rentals all the same", async function () {
        const c = await loadFixture(deployJailed);
        await expect(close(c, [c.s], c.provider))
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.s, CloseReason.ProviderSlashed, await c.sla.getAddress(), 0n, SAVING_DEPOSIT, 0n);
      });
    });

    describe("reverts", function () {
      it("with NothingToClose for an empty list", async function () {
        const c = await loadFixture(deployJailed);
        await expect(c.sla.closeOnJailedNode([])).to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NothingToClose");
      });

      it("with the escrow's UnknownRental(99) anywhere in the list, closing nothing", async function () {
        const c = await loadFixture(deployJailed);
        await expect(c.sla.closeOnJailedNode([c.a, 99n]))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownRental")
          .withArgs(99n);
        expect((await c.escrow.getRental(c.a)).status, "A").to.equal(RentalStatus.Active);
      });

      it("with NodeNotJailed(X, node B) for a rental on an active node, closing nothing", async function () {
        const c = await loadFixture(deployJailed);
        await expect(c.sla.closeOnJailedNode([c.a, c.x]))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NodeNotJailed")
          .withArgs(c.x, c.nodeB);
        expect((await c.escrow.getRental(c.a)).status, "A").to.equal(RentalStatus.Active);
      });

      it("with NodeNotJailed(A, node A) once governance released the node (now paused)", async function () {
        const c = await loadFixture(deployJailed);
        await c.sla.connect(c.admin).releaseNode(c.nodeId);
        expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Paused);
        await expect(c.sla.closeOnJailedNode([c.a]))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NodeNotJailed")
          .withArgs(c.a, c.nodeId);
      });

      it("with the escrow's AccessControlUnauthorizedAccount once the enforcer lost ORACLE_ROLE", async function () {
        const c = await loadFixture(deployJailed);
        await c.escrow.revokeRole(SLA_ROLES.ORACLE, await c.sla.getAddress());
        await expect(c.sla.closeOnJailedNode([c.a]))
          .to.be.revertedWithCustomError(c.escrow, "AccessControlUnauthorizedAccount")
          .withArgs(await c.sla.getAddress(), SLA_ROLES.ORACLE);
      });
    });
  });
});
