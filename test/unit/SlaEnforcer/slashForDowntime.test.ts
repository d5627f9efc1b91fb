/**
 * SlaEnforcer.slashForDowntime: `downtimeEpochs` (2) consecutive leaves of a rental's node, each
 * with uptime below `downtimeThresholdBps` (90.00%), each epoch overlapping the rental's service
 * window, slash `downtimeSlashBps` (33.33%) of the per-GPU stake (3,000 KAI for an H100) of each of
 * the NODE's GPUs to the treasury, and jail the node. The rental is only the evidence that the node
 * was down while rented: which of the node's rentals is named does not change the amount.
 *
 * A node's downtime cursor (`slashableFrom(node).downtimeEpoch`) is the first epoch whose evidence
 * may still slash it: a slash of epochs [a..b] moves it to b + 1, a release to the epoch after the
 * release's; evidence starting before it reverts `EvidenceTooOld(node, first epoch, cursor)`. So
 * no epoch slashes twice, and downtime windows only move forward.
 *
 * By hand, for the default 8xH100 node: 3,000 KAI x 8 x 3_333 / 10_000 = 7,999.2 KAI.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { KAI, NodeStatus, RentalStatus } from "../../fixtures";
import { defaultSpec } from "../../fixtures";
import {
  addStakedNode,
  atTime,
  DEFAULT_POLICY,
  deploySla,
  downtimeSlashOf,
  emitsSlash,
  epochBounds,
  expectPenalty,
  H100_PER_GPU_STAKE,
  metricsWith,
  openSlaRental,
  penaltyOf,
  Reason,
  releaseCursor,
  reportNodes,
  revertsEvidenceTooOld,
  slaRentParams,
  slashableFromOf,
  totalOf,
  withLeaf,
  withMetrics,
  type NodeEpochProof,
  type SlaFixture,
} from "../../helpers/sla";
import { nodeMetricsHash, rewardLeafHash } from "../../../offchain/src/leaves";

/* -------------------------------------------------------------------------- */
/*                                  CONSTANTS                                 */
/* -------------------------------------------------------------------------- */

/** Uptime of the fixture node in epochs 2..7: below 90% in 2-5, exactly 90% in 6, 95% in 7. */
const UPTIMES: [bigint, bigint][] = [
  [2n, 8_000n],
  [3n, 8_000n],
  [4n, 5_000n],
  [5n, 8_999n],
  [6n, 9_000n],
  [7n, 9_500n],
];
const STAKE = KAI(24_000);
/** 3,000 KAI x 8 GPUs (the node's) x 3_333 / 10_000. */
const SLASH_NODE = KAI("7999.2");

/** The evidence of a downtime slash: keccak256 of the leaf hashes, packed. */
function evidenceOf(...proofs: NodeEpochProof[]) {
  return ethers.keccak256(ethers.concat(proofs.map((p) => rewardLeafHash(p.leaf))));
}

/* -------------------------------------------------------------------------- */
/*                               LOCAL FIXTURES                               */
/* -------------------------------------------------------------------------- */

/** Reports each epoch of `uptimes` for node A (and node B, if given, with the same uptimes). */
async function reportUptimes(c: SlaFixture, uptimes: [bigint, bigint][], nodeB?: bigint) {
  const a = new Map<bigint, NodeEpochProof>();
  const b = new Map<bigint, NodeEpochProof>();
  for (const [epoch, uptime] of uptimes) {
    const entries = [{ nodeId: c.nodeId, metrics: metricsWith(uptime, false, Number(epoch)) }];
    if (nodeB !== undefined) entries.push({ nodeId: nodeB, metrics: metricsWith(uptime, false, 100 + Number(epoch)) });
    const proofs = await reportNodes(c, epoch, entries);
    a.set(epoch, proofs[0]);
    if (nodeB !== undefined) b.set(epoch, proofs[1]);
  }
  return { a, b };
}

/**
 * Rental A: the renter's 2 GPUs of node A from 10 s into epoch 2; rental A2: renter2's 1 GPU of
 * the same node from 20 s in; provider2's node B, rented by renter2 too. Epochs 2..7 reported
 * for both nodes with UPTIMES.
 */
async function deployDowntime() {
  const c = await deploySla();
  const nodeB = await addStakedNode(c);
  const { from } = epochBounds(c, 2n);
  const rentalA = await atTime(from + 10n, () => openSlaRental(c, { gpus: 2, slaTier: 1 }));
  const rentalA2 = await atTime(from + 20n, () => openSlaRental(c, { slaTier: 1 }, c.renter2));
  const rentalB = await openSlaRental(c, { nodeId: nodeB, slaTier: 1 }, c.renter2);
  const { a, b } = await reportUptimes(c, UPTIMES, nodeB);
  const P = (e: bigint) => a.get(e)!;
  const Q = (e: bigint) => b.get(e)!;
  return { ...c, nodeB, rentalA, rentalA2, rentalB, P, Q };
}

type Downtime = Awaited<ReturnType<typeof deployDowntime>>;

/** `deployDowntime`, then epochs 2-3 slashed on rental A by a keeper. */
async function deploySlashed() {
  const c = await deployDowntime();
  await c.sla.connect(c.keeper).slashForDowntime(c.rentalA, [c.P(2n), c.P(3n)]);
  return c;
}

/**
 * A 2-GPU rental from 10 s into epoch 2 that the renter ends 1 s into epoch 3; epochs 2..4
 * reported below the threshold.
 */
async function deployEndedRental() {
  const c = await deploySla();
  const rentalId = await atTime(epochBounds(c, 2n).from + 10n, () => openSlaRental(c, { gpus: 2, slaTier: 1 }));
  await atTime(epochBounds(c, 3n).from + 1n, () => c.escrow.connect(c.renter).endRental(rentalId));
  const { a } = await reportUptimes(c, [
    [2n, 8_000n],
    [3n, 8_000n],
    [4n, 8_000n],
  ]);
  return { ...c, rentalId, P: (e: bigint) => a.get(e)! };
}

/** A 2-GPU rental opened 10 s into epoch 4; epochs 2..5 reported below the threshold. */
async function deployLateRental() {
  const c = await deploySla();
  const rentalId = await atTime(epochBounds(c, 4n).from + 10n, () => openSlaRental(c, { gpus: 2, slaTier: 1 }));
  const { a } = await reportUptimes(c, [
    [2n, 8_000n],
    [3n, 8_000n],
    [4n, 8_000n],
    [5n, 8_000n],
  ]);
  return { ...c, rentalId, P: (e: bigint) => a.get(e)! };
}

function holders(c: SlaFixture) {
  return [c.escrow, c.registry, c.renter, c.renter2, c.provider, c.provider2, c.treasury, c.keeper, c.sla];
}

/* -------------------------------------------------------------------------- */
/*                                    TESTS                                   */
/* -------------------------------------------------------------------------- */

describe("SlaEnforcer.slashForDowntime", function () {
  describe("given a 2-GPU rental and epochs 2-7 reported at 80, 80, 50, 89.99, 90 and 95%", function () {
    describe("when a keeper slashes epochs 2 and 3", function () {
      async function slash() {
        const c = await loadFixture(deployDowntime);
        const tx = c.sla.connect(c.keeper).slashForDowntime(c.rentalA, [c.P(2n), c.P(3n)]);
        return { c, tx };
      }

      it("returns 7,999.2 KAI (3,000 x the node's 8 GPUs x 33.33%; the rental has 2)", async function () {
        const c = await loadFixture(deployDowntime);
        expect(
          await c.sla.connect(c.keeper).slashForDowntime.staticCall(c.rentalA, [c.P(2n), c.P(3n)]),
          "slashed",
        ).to.equal(SLASH_NODE);
        expect((H100_PER_GPU_STAKE * 8n * DEFAULT_POLICY.downtimeSlashBps) / 10_000n, "by the policy").to.equal(
          SLASH_NODE,
        );
        expect(downtimeSlashOf(8), "helper").to.equal(SLASH_NODE);
        expect((await c.escrow.getRental(c.rentalA)).gpus, "rented GPUs").to.equal(2n);
      });

      it("emits SlashDowntime(node, rental, 2, 3, 7,999.2 KAI, keccak256(leaf hashes))", async function () {
        const { c, tx } = await slash();
        await expect(tx)
          .to.emit(c.sla, "SlashDowntime")
          .withArgs(c.nodeId, c.rentalA, 2n, 3n, SLASH_NODE, evidenceOf(c.P(2n), c.P(3n)));
      });

      it("slashes the provider's active stake to the treasury (registry Slash, reason 2)", async function () {
        const { c, tx } = await slash();
        await emitsSlash(
          c,
          tx,
          Reason.Downtime,
          evidenceOf(c.P(2n), c.P(3n)),
          [0n, SLASH_NODE, 0n],
          c.treasury.address,
        );
        await expect(tx).to.changeTokenBalances(
          c.kai,
          [c.registry, c.treasury, c.keeper, c.renter, c.provider],
          [-SLASH_NODE, SLASH_NODE, 0n, 0n, 0n],
        );
        expect((await c.registry.getStake(c.provider.address)).staked, "stake").to.equal(STAKE - SLASH_NODE);
      });

      it("records the penalty: 7,999.2 KAI, the time, reason 2, the node, the evidence", async function () {
        const { c, tx } = await slash();
        await tx; // mined before the count is read
        expect(await c.registry.penaltyCount(c.provider.address), "count").to.equal(1n);
        await expectPenalty(c, tx, 0, "penalty", {
          amount: SLASH_NODE,
          reason: Reason.Downtime,
          evidence: evidenceOf(c.P(2n), c.P(3n)),
        });
      });

      it("jails the node (SetNodeStatus Jailed), so that it takes no new rental", async function () {
        const { c, tx } = await slash();
        await expect(tx).to.emit(c.registry, "SetNodeStatus").withArgs(c.nodeId, NodeStatus.Jailed);
        expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Jailed);
        const p = await slaRentParams(c);
        await expect(c.escrow.connect(c.renter2).rent(p))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Jailed);
      });

      it("moves node A's downtime cursor past epoch 3 (slashableFrom = (4, 0)); node B is untouched", async function () {
        const { c, tx } = await slash();
        await tx;
        expect(await slashableFromOf(c, c.nodeId), "node A").to.deep.equal([4n, 0n]);
        expect(await slashableFromOf(c, c.nodeB), "node B").to.deep.equal([0n, 0n]);
        expect((await c.registry.getNode(c.nodeB)).status, "node B status").to.equal(NodeStatus.Active);
      });

      it("leaves the rentals open (closeOnJailedNode closes them)", async function () {
        const { c, tx } = await slash();
        await tx;
        expect((await c.escrow.getRental(c.rentalA)).status, "rental A").to.equal(RentalStatus.Active);
        expect((await c.escrow.getRental(c.rentalA2)).status, "rental A2").to.equal(RentalStatus.Active);
      });

      it("conserves KAI and USD across the escrow, registry, renters, providers, treasury and keeper", async function () {
        const c = await loadFixture(deployDowntime);
        const kai = await totalOf(c.kai, holders(c));
        const usd = await totalOf(c.usd, holders(c));
        await c.sla.connect(c.keeper).slashForDowntime(c.rentalA, [c.P(2n), c.P(3n)]);
        expect(await totalOf(c.kai, holders(c)), "KAI").to.equal(kai);
        expect(await totalOf(c.usd, holders(c)), "USD").to.equal(usd);
      });
    });

    describe("when epochs 4 (50%) and 5 (89.99%, just below the threshold) are slashed", function () {
      it("slashes 7,999.2 KAI for epochs 4-5 and moves the cursor to 6", async function () {
        const c = await loadFixture(deployDowntime);
        await expect(c.sla.slashForDowntime(c.rentalA, [c.P(4n), c.P(5n)]))
          .to.emit(c.sla, "SlashDowntime")
          .withArgs(c.nodeId, c.rentalA, 4n, 5n, SLASH_NODE, evidenceOf(c.P(4n), c.P(5n)));
        expect(await slashableFromOf(c, c.nodeId), "node A").to.deep.equal([6n, 0n]);
      });
    });

    describe("when the rental named is renter2's 1-GPU rental on the same node", function () {
      it("slashes the same 7,999.2 KAI: the node's GPUs count, not the rental's", async function () {
        const c = await loadFixture(deployDowntime);
        expect((await c.escrow.getRental(c.rentalA2)).gpus, "rented GPUs").to.equal(1n);
        const tx = c.sla.slashForDowntime(c.rentalA2, [c.P(2n), c.P(3n)]);
        await expect(tx)
          .to.emit(c.sla, "SlashDowntime")
          .withArgs(c.nodeId, c.rentalA2, 2n, 3n, SLASH_NODE, evidenceOf(c.P(2n), c.P(3n)));
        await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.treasury], [-SLASH_NODE, SLASH_NODE]);
      });
    });

    describe("given epochs 2-3 were slashed already (the cursor at 4)", function () {
      for (const [name, epochs] of [
        ["epochs 2-3 again", [2n, 3n]],
        ["epochs 3-4 (overlapping epoch 3)", [3n, 4n]],
      ] as const) {
        it(`reverts with EvidenceTooOld(node, ${epochs[0]}, 4) for ${name}`, async function () {
          const c = await loadFixture(deploySlashed);
          await revertsEvidenceTooOld(
            c,
            c.sla.slashForDowntime(c.rentalA, [c.P(epochs[0]), c.P(epochs[1])]),
            epochs[0],
            4n,
          );
        });
      }

      it("reverts with EvidenceTooOld(node, 2, 4) for the same epochs through the node's other rental", async function () {
        const c = await loadFixture(deploySlashed);
        await revertsEvidenceTooOld(c, c.sla.slashForDowntime(c.rentalA2, [c.P(2n), c.P(3n)]), 2n, 4n);
      });

      it("checks the cursor before the proofs: tampered leaves of epochs 2-3 still revert EvidenceTooOld(node, 2, 4)", async function () {
        const c = await loadFixture(deploySlashed);
        await revertsEvidenceTooOld(
          c,
          c.sla.slashForDowntime(c.rentalA, [withLeaf(c.P(2n), { kind: 1 }), c.Q(3n)]),
          2n,
          4n,
        );
      });

      it("checks the proof count and the rental before the cursor", async function () {
        const c = await loadFixture(deploySlashed);
        await expect(c.sla.slashForDowntime(c.rentalA, [c.P(2n)]))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_WrongProofCount")
          .withArgs(1n, 2n);
        await expect(c.sla.slashForDowntime(99n, [c.P(2n), c.P(3n)]))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownRental")
          .withArgs(99n);
      });

      it("slashes epochs 4-5 again without jailing twice (the node stays jailed)", async function () {
        const c = await loadFixture(deploySlashed);
        const tx = c.sla.slashForDowntime(c.rentalA, [c.P(4n), c.P(5n)]);
        await expect(tx)
          .to.emit(c.sla, "SlashDowntime")
          .withArgs(c.nodeId, c.rentalA, 4n, 5n, SLASH_NODE, evidenceOf(c.P(4n), c.P(5n)));
        await expect(tx).not.to.emit(c.registry, "SetNodeStatus");
        expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Jailed);
        expect(await slashableFromOf(c, c.nodeId), "cursors").to.deep.equal([6n, 0n]);
        expect((await c.registry.getStake(c.provider.address)).staked, "stake").to.equal(STAKE - 2n * SLASH_NODE);
        expect(await c.registry.penaltyCount(c.provider.address), "penalties").to.equal(2n);
      });

      it("slashes node B for the same epochs (the cursor is per node): 7,999.2 KAI for its 8 GPUs", async function () {
        const c = await loadFixture(deploySlashed);
        // Rental B: 1 GPU of provider2's 8xH100 node; the slash counts the node's 8.
        await expect(c.sla.slashForDowntime(c.rentalB, [c.Q(2n), c.Q(3n)]))
          .to.emit(c.sla, "SlashDowntime")
          .withArgs(c.nodeB, c.rentalB, 2n, 3n, SLASH_NODE, evidenceOf(c.Q(2n), c.Q(3n)));
        expect(await slashableFromOf(c, c.nodeB), "node B").to.deep.equal([4n, 0n]);
        expect(await slashableFromOf(c, c.nodeId), "node A").to.deep.equal([4n, 0n]);
      });
    });

    describe("given epochs 4-5 were slashed first (the cursor at 6)", function () {
      it("refuses the earlier epochs 2-3, never slashed, with EvidenceTooOld(node, 2, 6): windows only move forward", async function () {
        const c = await loadFixture(deployDowntime);
        await c.sla.slashForDowntime(c.rentalA, [c.P(4n), c.P(5n)]);
        await revertsEvidenceTooOld(c, c.sla.slashForDowntime(c.rentalA, [c.P(2n), c.P(3n)]), 2n, 6n);
        await revertsEvidenceTooOld(c, c.sla.slashForDowntime(c.rentalA2, [c.P(3n), c.P(4n)]), 3n, 6n);
      });
    });

    describe("given the 1-GPU rental was named first", function () {
      it("the node's 2-GPU rental can no longer be used for the same epochs, and nothing was lost by the choice", async function () {
        const c = await loadFixture(deployDowntime);
        await c.sla.slashForDowntime(c.rentalA2, [c.P(2n), c.P(3n)]);
        await revertsEvidenceTooOld(c, c.sla.slashForDowntime(c.rentalA, [c.P(2n), c.P(3n)]), 2n, 4n);
        expect((await c.registry.getStake(c.provider.address)).staked, "stake").to.equal(STAKE - SLASH_NODE);
      });
    });

    describe("reverts", function () {
      for (const count of [0, 1, 3]) {
        it(`with WrongProofCount(${count}, 2) for ${count} proofs`, async function () {
          const c = await loadFixture(deployDowntime);
          const proofs = [c.P(2n), c.P(3n), c.P(4n)].slice(0, count);
          await expect(c.sla.slashForDowntime(c.rentalA, proofs))
            .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_WrongProofCount")
            .withArgs(count, 2);
        });
      }

      it("with the escrow's UnknownRental(99) for a rental that does not exist", async function () {
        const c = await loadFixture(deployDowntime);
        await expect(c.sla.slashForDowntime(99n, [c.P(2n), c.P(3n)]))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownRental")
          .withArgs(99n);
      });

      it("with WrongNode(1, node B, node A) for node B's leaf second", async function () {
        const c = await loadFixture(deployDowntime);
        await expect(c.sla.slashForDowntime(c.rentalA, [c.P(2n), c.Q(3n)]))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_WrongNode")
          .withArgs(1n, c.nodeB, c.nodeId);
      });

      it("with WrongNode(0, node B, node A) for node B's leaves on node A's rental", async function () {
        const c = await loadFixture(deployDowntime);
        await expect(c.sla.slashForDowntime(c.rentalA, [c.Q(2n), c.Q(3n)]))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_WrongNode")
          .withArgs(0n, c.nodeB, c.nodeId);
      });

      for (const [name, epochs, bad] of [
        ["a gap (epochs 2 and 4)", [2n, 4n], 4n],
        ["the epochs reversed (3 then 2)", [3n, 2n], 2n],
        ["the same epoch twice (2, 2)", [2n, 2n], 2n],
      ] as const) {
        it(`with NotConsecutive(1, ${bad}) for ${name}`, async function () {
          const c = await loadFixture(deployDowntime);
          await expect(c.sla.slashForDowntime(c.rentalA, [c.P(epochs[0]), c.P(epochs[1])]))
            .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NotConsecutive")
            .withArgs(1n, bad);
        });
      }

      it("with UptimeAboveThreshold(6, 9000, 9000) for an epoch exactly at the threshold (second)", async function () {
        const c = await loadFixture(deployDowntime);
        await expect(c.sla.slashForDowntime(c.rentalA, [c.P(5n), c.P(6n)]))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_UptimeAboveThreshold")
          .withArgs(6n, 9_000n, 9_000n);
      });

      it("with UptimeAboveThreshold(6, 9000, 9000) for it first", async function () {
        const c = await loadFixture(deployDowntime);
        await expect(c.sla.slashForDowntime(c.rentalA, [c.P(6n), c.P(7n)]))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_UptimeAboveThreshold")
          .withArgs(6n, 9_000n, 9_000n);
      });

      const VERIFY: {
        name: string;
        error: string;
        proofs: (c: Downtime) => NodeEpochProof[];
        args: (c: Downtime) => unknown[];
      }[] = [
        {
          name: "a checker leaf first",
          error: "SlaEnforcer_NotNodeLeaf",
          proofs: (c) => [withLeaf(c.P(2n), { kind: 1 }), c.P(3n)],
          args: () => [1],
        },
        {
          name: "the second leaf's uptime lowered by the caller (epoch 6 at 90% presented as 10%)",
          error: "SlaEnforcer_MetricsMismatch",
          proofs: (c) => [c.P(5n), withMetrics(c.P(6n), { uptimeBps: 1_000n })],
          args: (c) => [nodeMetricsHash({ ...c.P(6n).metrics, uptimeBps: 1_000n }), c.P(6n).leaf.metricsHash],
        },
        {
          name: "a leaf of an epoch with no report (9)",
          error: "SlaEnforcer_NoReport",
          proofs: (c) => [c.P(2n), withLeaf(c.P(3n), { epoch: 9n })],
          args: () => [9n],
        },
        {
          name: "a reward off by one in the second leaf",
          error: "SlaEnforcer_InvalidProof",
          proofs: (c) => [c.P(2n), withLeaf(c.P(3n), { capacityReward: 1n })],
          args: (c) => [3n, c.nodeId],
        },
        {
          name: "the epoch-2 leaf relabelled as epoch 3's",
          error: "SlaEnforcer_InvalidProof",
          proofs: (c) => [c.P(2n), withLeaf(c.P(2n), { epoch: 3n })],
          args: (c) => [3n, c.nodeId],
        },
      ];
      for (const { name, error, proofs, args } of VERIFY) {
        it(`with ${error.replace("SlaEnforcer_", "")} for ${name}`, async function () {
          const c = await loadFixture(deployDowntime);
          await expect(c.sla.slashForDowntime(c.rentalA, proofs(c)))
            .to.be.revertedWithCustomError(c.sla, error)
            .withArgs(...args(c));
          expect(await slashableFromOf(c, c.nodeId), "cursors unmoved").to.deep.equal([0n, 0n]);
        });
      }
    });
  });

  describe("given a rental ended 1 s into epoch 3 (service window: 10 s into epoch 2 to 1 s into epoch 3)", function () {
    it("slashes epochs 2-3 (epoch 3 overlaps the window by one second)", async function () {
      const c = await loadFixture(deployEndedRental);
      await expect(c.sla.slashForDowntime(c.rentalId, [c.P(2n), c.P(3n)]))
        .to.emit(c.sla, "SlashDowntime")
        .withArgs(c.nodeId, c.rentalId, 2n, 3n, SLASH_NODE, evidenceOf(c.P(2n), c.P(3n)));
    });

    it("reverts with NotDuringRental(rental, 4) for epochs 3-4", async function () {
      const c = await loadFixture(deployEndedRental);
      await expect(c.sla.slashForDowntime(c.rentalId, [c.P(3n), c.P(4n)]))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NotDuringRental")
        .withArgs(c.rentalId, 4n);
    });

    describe("and the provider retired the node since", function () {
      it("slashes it but does not jail it: it stays Retired", async function () {
        const c = await loadFixture(deployEndedRental);
        await c.registry.connect(c.provider).retireNode(c.nodeId);
        const tx = c.sla.slashForDowntime(c.rentalId, [c.P(2n), c.P(3n)]);
        await expect(tx).to.emit(c.sla, "SlashDowntime");
        await expect(tx).not.to.emit(c.registry, "SetNodeStatus");
        await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.treasury], [-SLASH_NODE, SLASH_NODE]);
        expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Retired);
      });
    });
  });

  describe("given a rental opened 10 s into epoch 4", function () {
    it("reverts with NotDuringRental(rental, 2) for epochs 2-3", async function () {
      const c = await loadFixture(deployLateRental);
      await expect(c.sla.slashForDowntime(c.rentalId, [c.P(2n), c.P(3n)]))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NotDuringRental")
        .withArgs(c.rentalId, 2n);
    });

    it("reverts with NotDuringRental(rental, 3) for epochs 3-4", async function () {
      const c = await loadFixture(deployLateRental);
      await expect(c.sla.slashForDowntime(c.rentalId, [c.P(3n), c.P(4n)]))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_NotDuringRental")
        .withArgs(c.rentalId, 3n);
    });

    it("slashes epochs 4-5", async function () {
      const c = await loadFixture(deployLateRental);
      await expect(c.sla.slashForDowntime(c.rentalId, [c.P(4n), c.P(5n)]))
        .to.emit(c.sla, "SlashDowntime")
        .withArgs(c.nodeId, c.rentalId, 4n, 5n, SLASH_NODE, evidenceOf(c.P(4n), c.P(5n)));
    });
  });

  describe("the amount scales with the node's GPUs, not the rented ones", function () {
    for (const gpus of [1, 3, 8]) {
      it(`slashes 7,999.2 KAI (3,000 x 8 x 33.33%) for a ${gpus}-GPU rental of the 8xH100 node`, async function () {
        const c = await loadFixture(deploySla);
        const id = await atTime(epochBounds(c, 2n).from + 10n, () => openSlaRental(c, { gpus, slaTier: 1 }));
        const { a } = await reportUptimes(c, [
          [2n, 0n],
          [3n, 0n],
        ]);
        await expect(c.sla.slashForDowntime(id, [a.get(2n)!, a.get(3n)!]))
          .to.emit(c.sla, "SlashDowntime")
          .withArgs(c.nodeId, id, 2n, 3n, SLASH_NODE, evidenceOf(a.get(2n)!, a.get(3n)!));
      });
    }

    for (const { name, spec, gpus, amount, by } of [
      {
        name: "a 2xH100 node",
        spec: { ...defaultSpec, gpuCount: 2 },
        gpus: 1,
        amount: KAI("1999.8"),
        by: "3,000 x 2 x 33.33%",
      },
      {
        name: "a 4xRTX 4090 node (1,000 KAI per GPU)",
        spec: { ...defaultSpec, gpuClass: 1, gpuCount: 4, vramGiB: 24 },
        gpus: 3,
        amount: KAI("1333.2"),
        by: "1,000 x 4 x 33.33%",
      },
    ]) {
      it(`slashes ${by} for ${name} rented ${gpus} GPU(s)`, async function () {
        const c = await loadFixture(deploySla);
        const node = await addStakedNode(c, c.provider2, spec);
        expect(downtimeSlashOf(spec.gpuCount, await c.sla.perGpuStake(node)), "helper").to.equal(amount);
        const id = await atTime(epochBounds(c, 2n).from + 10n, () =>
          openSlaRental(c, { nodeId: node, gpus, slaTier: 1 }),
        );
        const [p2] = await reportNodes(c, 2n, [{ nodeId: node, metrics: metricsWith(0n) }]);
        const [p3] = await reportNodes(c, 3n, [{ nodeId: node, metrics: metricsWith(0n, false, 3) }]);
        const tx = c.sla.slashForDowntime(id, [p2, p3]);
        await expect(tx).to.emit(c.sla, "SlashDowntime").withArgs(node, id, 2n, 3n, amount, evidenceOf(p2, p3));
        await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.treasury], [-amount, amount]);
      });
    }
  });

  describe("given governance's policy: below 95% for 3 epochs slashes 50%", function () {
    async function deployPolicy() {
      const c = await deployDowntime();
      await c.sla.connect(c.admin).setDowntimePolicy(9_500, 3, 5_000);
      return c;
    }

    it("slashes 12,000 KAI (3,000 x 8 x 50%) for epochs 4-6 (90% now counts as downtime); the cursor moves to 7", async function () {
      const c = await loadFixture(deployPolicy);
      await expect(c.sla.slashForDowntime(c.rentalA, [c.P(4n), c.P(5n), c.P(6n)]))
        .to.emit(c.sla, "SlashDowntime")
        .withArgs(c.nodeId, c.rentalA, 4n, 6n, KAI(12_000), evidenceOf(c.P(4n), c.P(5n), c.P(6n)));
      expect(await slashableFromOf(c, c.nodeId), "cursors").to.deep.equal([7n, 0n]);
    });

    it("reverts with WrongProofCount(2, 3) for two proofs", async function () {
      const c = await loadFixture(deployPolicy);
      await expect(c.sla.slashForDowntime(c.rentalA, [c.P(2n), c.P(3n)]))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_WrongProofCount")
        .withArgs(2n, 3n);
    });

    it("reverts with UptimeAboveThreshold(7, 9500, 9500) for epochs 5-7", async function () {
      const c = await loadFixture(deployPolicy);
      await expect(c.sla.slashForDowntime(c.rentalA, [c.P(5n), c.P(6n), c.P(7n)]))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_UptimeAboveThreshold")
        .withArgs(7n, 9_500n, 9_500n);
    });
  });

  describe("given a one-epoch policy", function () {
    it("slashes each epoch on its own, once", async function () {
      const c = await loadFixture(deployDowntime);
      await c.sla.connect(c.admin).setDowntimePolicy(9_000, 1, 3_333);
      await expect(c.sla.slashForDowntime(c.rentalA, [c.P(2n)]))
        .to.emit(c.sla, "SlashDowntime")
        .withArgs(c.nodeId, c.rentalA, 2n, 2n, SLASH_NODE, evidenceOf(c.P(2n)));
      await revertsEvidenceTooOld(c, c.sla.slashForDowntime(c.rentalA, [c.P(2n)]), 2n, 3n);
      await expect(c.sla.slashForDowntime(c.rentalA, [c.P(3n)]))
        .to.emit(c.sla, "SlashDowntime")
        .withArgs(c.nodeId, c.rentalA, 3n, 3n, SLASH_NODE, evidenceOf(c.P(3n)));
    });
  });

  describe("slashes are capped by what the provider has", function () {
    it("takes the whole stake (28,000 KAI: 24,000 active, 4,000 unbonding) when the policy asks for more", async function () {
      const c = await loadFixture(deployDowntime);
      // Governance raises the base stake to 100,000 KAI: 300,000 KAI per H100, so the slash asks
      // for 300,000 x 8 x 33.33% = 799,920 KAI, far more than the 24,000 KAI there is.
      // The provider stakes 4,000 KAI more than its rented node holds, and unbonds them.
      await c.registry.connect(c.provider).stake(KAI(4_000));
      await c.registry.connect(c.provider).requestUnstake(KAI(4_000));
      await c.registry.connect(c.admin).setBaseStakePerGpu(KAI(100_000));
      const tx = c.sla.slashForDowntime(c.rentalA, [c.P(2n), c.P(3n)]);
      await expect(tx)
        .to.emit(c.sla, "SlashDowntime")
        .withArgs(c.nodeId, c.rentalA, 2n, 3n, STAKE + KAI(4_000), evidenceOf(c.P(2n), c.P(3n)));
      await emitsSlash(
        c,
        tx,
        Reason.Downtime,
        evidenceOf(c.P(2n), c.P(3n)),
        [0n, STAKE, KAI(4_000)],
        c.treasury.address,
      );
      await expect(tx).to.changeTokenBalances(
        c.kai,
        [c.registry, c.treasury],
        [-(STAKE + KAI(4_000)), STAKE + KAI(4_000)],
      );
    });

    it("takes nothing (and records a 0 penalty) after a fraud slash took everything: the cursors are separate", async function () {
      const c = await loadFixture(deploySla);
      const id = await atTime(epochBounds(c, 2n).from + 10n, () => openSlaRental(c, { gpus: 2, slaTier: 1 }));
      const [p2] = await reportNodes(c, 2n, [{ nodeId: c.nodeId, metrics: metricsWith(8_000n, true) }]);
      const [p3] = await reportNodes(c, 3n, [{ nodeId: c.nodeId, metrics: metricsWith(8_000n) }]);
      await c.sla.slashForHardwareFraud(p2);
      expect(await slashableFromOf(c, c.nodeId), "after the fraud slash").to.deep.equal([0n, 3n]);
      const tx = c.sla.slashForDowntime(id, [p2, p3]);
      await expect(tx).to.emit(c.sla, "SlashDowntime").withArgs(c.nodeId, id, 2n, 3n, 0n, evidenceOf(p2, p3));
      await expect(tx).not.to.emit(c.registry, "SetNodeStatus");
      await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.treasury], [0n, 0n]);
      expect((await penaltyOf(c, c.provider.address, 1)).amount, "second penalty").to.equal(0n);
      expect(await slashableFromOf(c, c.nodeId), "after both").to.deep.equal([4n, 3n]);
    });
  });

  describe("given node A slashed for epochs 2-3 in epoch 8, then released by governance 30 s into epoch 8", function () {
    // The clock: epochs 2-7 are reported (the last at the start of epoch 8), the slash is mined
    // early in epoch 8 and the release 30 s into it, so the release forgives epochs up to 8.
    async function deployReleased() {
      const c = await deploySlashed();
      const at = epochBounds(c, 8n).from + 30n;
      const release = await atTime(at, () => c.sla.connect(c.admin).releaseNode(c.nodeId));
      return { ...c, release, releasedAt: at };
    }

    /** `deployReleased`, then epochs 8-10 reported with nodes A and B below the threshold. */
    async function deployAfterRelease() {
      const c = await deployReleased();
      const { a, b } = await reportUptimes(
        c,
        [
          [8n, 1_000n],
          [9n, 2_000n],
          [10n, 3_000n],
        ],
        c.nodeB,
      );
      return { ...c, P: (e: bigint) => a.get(e) ?? c.P(e), Q: (e: bigint) => b.get(e) ?? c.Q(e) };
    }

    it("emits ReleaseNode(node A, 9) and moves both of its cursors to 9; node B's stay", async function () {
      const c = await loadFixture(deployReleased);
      expect(releaseCursor(c, c.releasedAt), "the epoch after the release's").to.equal(9n);
      await expect(c.release).to.emit(c.sla, "ReleaseNode").withArgs(c.nodeId, 9n);
      await expect(c.release).to.emit(c.registry, "SetNodeStatus").withArgs(c.nodeId, NodeStatus.Paused);
      expect(await slashableFromOf(c, c.nodeId), "node A").to.deep.equal([9n, 9n]);
      expect(await slashableFromOf(c, c.nodeB), "node B").to.deep.equal([0n, 0n]);
    });

    it("forgives downtime before the release never slashed: epochs 4-5 revert EvidenceTooOld(node A, 4, 9)", async function () {
      const c = await loadFixture(deployReleased);
      await revertsEvidenceTooOld(c, c.sla.slashForDowntime(c.rentalA, [c.P(4n), c.P(5n)]), 4n, 9n);
      await revertsEvidenceTooOld(c, c.sla.slashForDowntime(c.rentalA2, [c.P(4n), c.P(5n)]), 4n, 9n);
    });

    it("forgives the epoch of the release itself: epochs 8-9 revert EvidenceTooOld(node A, 8, 9)", async function () {
      const c = await loadFixture(deployAfterRelease);
      await revertsEvidenceTooOld(c, c.sla.slashForDowntime(c.rentalA, [c.P(8n), c.P(9n)]), 8n, 9n);
    });

    it("slashes downtime after the release (epochs 9-10): 7,999.2 KAI, and jails the paused node again", async function () {
      const c = await loadFixture(deployAfterRelease);
      expect((await c.registry.getNode(c.nodeId)).status, "paused").to.equal(NodeStatus.Paused);
      const tx = c.sla.slashForDowntime(c.rentalA, [c.P(9n), c.P(10n)]);
      await expect(tx)
        .to.emit(c.sla, "SlashDowntime")
        .withArgs(c.nodeId, c.rentalA, 9n, 10n, SLASH_NODE, evidenceOf(c.P(9n), c.P(10n)));
      await expect(tx).to.emit(c.registry, "SetNodeStatus").withArgs(c.nodeId, NodeStatus.Jailed);
      await expect(tx).to.changeTokenBalances(c.kai, [c.registry, c.treasury], [-SLASH_NODE, SLASH_NODE]);
      expect(await slashableFromOf(c, c.nodeId), "cursors").to.deep.equal([11n, 9n]);
    });

    it("leaves node B's evidence alone: its epochs 4-5 still slash it", async function () {
      const c = await loadFixture(deployAfterRelease);
      await expect(c.sla.slashForDowntime(c.rentalB, [c.Q(4n), c.Q(5n)]))
        .to.emit(c.sla, "SlashDowntime")
        .withArgs(c.nodeB, c.rentalB, 4n, 5n, SLASH_NODE, evidenceOf(c.Q(4n), c.Q(5n)));
    });
  });

  describe("the slash recipient", function () {
    it("is governance's: a new recipient receives the next slash", async function () {
      const c = await loadFixture(deployDowntime);
      await c.sla.connect(c.admin).setSlashRecipient(c.other.address);
      await expect(c.sla.slashForDowntime(c.rentalA, [c.P(2n), c.P(3n)])).to.changeTokenBalances(
        c.kai,
        [c.other, c.treasury],
        [SLASH_NODE, 0n],
      );
    });
  });
});
