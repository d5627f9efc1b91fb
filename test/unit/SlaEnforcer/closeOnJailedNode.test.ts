/**
 * SlaEnforcer.closeOnJailedNode: closes the open rentals on jailed nodes for `ProviderSlashed`.
 * Renters get the unused deposit back; saving plans are refunded in full, the provider's
 * unwithdrawn earnings included. Closed rentals are skipped; an unknown rental, a rental on a node
 * that is not jailed, or nothing to close reverts the whole batch.
 *
 * The rentals, both on node A, jailed for hardware fraud early in epoch 3:
 * - A: the renter's pay-as-you-go, 1 GPU at 556 per second, deposit 20_000_000, from 10 s into
 *   epoch 2;
 * - S: renter2's 7-day saving plan, 1 GPU at 1_900_000 per hour (5% off), deposit 319_200_000
 *   over 604_800 s, from 20 s into epoch 2.
 * Rental X, the renter's on provider2's node B, is never jailed. The batch closes at the start of
 * epoch 4: A has run 110 s (61_160 earned, 19_938_840 back); S has run 100 s.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { CloseReason, NodeStatus, Plan, RentalStatus } from "../../fixtures";
import {
  SLA_ROLES,
  addStakedNode,
  atTime,
  deploySla,
  epochBounds,
  metricsWith,
  openSlaRental,
  reportNodes,
  totalOf,
  type SlaFixture,
} from "../../helpers/sla";

const SAVING_DEPOSIT = 319_200_000n;
const PAYG_DEPOSIT = 20_000_000n;
/** A at the start of epoch 4: 110 s x 556. */
const A_EARNED = 61_160n;
const A_REFUND = PAYG_DEPOSIT - A_EARNED; // 19_938_840

/* -------------------------------------------------------------------------- */
/*                               LOCAL FIXTURES                               */
/* -------------------------------------------------------------------------- */

/** Rentals A, S (node A) and X (node B) open; node A jailed by a fraud slash for epoch 2. */
async function deployJailed() {
  const c = await deploySla();
  const nodeB = await addStakedNode(c);
  const { from } = epochBounds(c, 2n);
  const a = await atTime(from + 10n, () => openSlaRental(c, { slaTier: 1 }));
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

function close(c: Jailed, ids: bigint[], who = c.keeper) {
  return atTime(c.closeAt, () => c.sla.connect(who).closeOnJailedNode(ids));
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
      });
    });

    describe("when the provider withdrew S's earnings before (36_944 gross)", function () {
      it("refunds the rest of the deposit, 319_163_056, and the provider keeps only what it took", async function () {
        const c = await loadFixture(deployWithdrawnSaving);
        const tx = close(c, [c.s]);
        await expect(tx)
          .to.emit(c.escrow, "CloseRental")
          .withArgs(c.s, CloseReason.ProviderSlashed, await c.sla.getAddress(), 36_944n, SAVING_DEPOSIT - 36_944n, 0n);
        await expect(tx).to.changeTokenBalances(
          c.usd,
          [c.escrow, c.renter2, c.provider],
          [-(SAVING_DEPOSIT - 36_944n), SAVING_DEPOSIT - 36_944n, 0n],
        );
        expect(await c.escrow.withdrawable(c.s), "S").to.equal(0n);
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
