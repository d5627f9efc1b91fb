import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { KAI } from "../../fixtures";
import { HALVING_EPOCHS, INITIAL_EMISSION } from "../../helpers/oracle";
import {
  EPOCH,
  ONE_DAY,
  RESERVE,
  checkerLeaf,
  claimOf,
  deployDistributor,
  deployReported,
  deployWithEpoch,
  distributorEvents,
  nodeHash,
  nodeLeaf,
  positionsOf,
  postEpoch,
  processProof,
  toNextDay,
  claimOwn,
} from "../../helpers/rewards";
import { LeafKind, buildRewardTree, leafReward, rewardLeafHash, type RewardLeaf } from "../../../offchain/src/leaves";

/* -------------------------------------------------------------------------- */
/*                               LOCAL FIXTURES                               */
/* -------------------------------------------------------------------------- */

/** Epochs 1 to 10 reported, each with a leaf of alice's node 1 (100 + e KAI) and one of bob's. */
const TEN_EPOCHS = Array.from({ length: 10 }, (_, i) => BigInt(i + 1));
function aliceLeafOf(alice: string, epoch: bigint) {
  return nodeLeaf(epoch, alice, 1n, KAI(100 + Number(epoch)), epoch, epoch);
}
async function deployTenEpochs() {
  const c = await deployDistributor();
  const trees = new Map<bigint, ReturnType<typeof buildRewardTree>>();
  for (const epoch of TEN_EPOCHS) {
    const leaves = [aliceLeafOf(c.alice.address, epoch), nodeLeaf(epoch, c.bob.address, 2n, KAI(1), 0n)];
    trees.set(epoch, await postEpoch(c, epoch, leaves));
  }
  await c.distributor.connect(c.treasury).fundReserve(RESERVE);
  const day = await toNextDay();
  const claims = TEN_EPOCHS.map((e) => claimOf(trees.get(e)!, aliceLeafOf(c.alice.address, e)));
  return { ...c, trees, claims, day };
}

/** Node ids at the edges of the 256-bit words of the claimed bitmap, all alice's, 1 KAI each. */
const EDGE_IDS = [0n, 255n, 256n, 511n, 512n, ethers.MaxUint256];
async function deployBitmapEdges() {
  const c = await deployDistributor();
  const leaves = EDGE_IDS.map((id, i) => nodeLeaf(EPOCH, c.alice.address, id, KAI(1), 0n, i));
  const tree = await postEpoch(c, EPOCH, leaves);
  await c.distributor.connect(c.treasury).fundReserve(RESERVE);
  await toNextDay();
  return { ...c, leaves, tree };
}

/**
 * A bad root (say, a buggy aggregator): node 7 appears twice (alice 100 KAI, bob 200 KAI) and
 * checker carol twice (50 KAI, 60 KAI). The reported total is within the budget.
 */
async function deployDuplicateSubjects() {
  const c = await deployDistributor();
  const dup = {
    aliceNode7: nodeLeaf(EPOCH, c.alice.address, 7n, KAI(100), 0n, 1),
    bobNode7: nodeLeaf(EPOCH, c.bob.address, 7n, KAI(200), 0n, 2),
    carolChecker1: checkerLeaf(EPOCH, c.carol.address, KAI(50), 1),
    carolChecker2: checkerLeaf(EPOCH, c.carol.address, KAI(60), 2),
  };
  const tree = await postEpoch(c, EPOCH, Object.values(dup));
  await c.distributor.connect(c.treasury).fundReserve(RESERVE);
  await toNextDay();
  return { ...c, dup, tree };
}

/**
 * Epoch 26 (first halving: budget 50,000 KAI) reported with leaves summing 60,000 KAI, while the
 * report states 50,000: the oracle checks only the stated total.
 */
const OVER_EPOCH = HALVING_EPOCHS;
const OVER_BUDGET = INITIAL_EMISSION >> 1n;
async function deployOverBudget() {
  const c = await deployDistributor();
  const over = {
    alice: nodeLeaf(OVER_EPOCH, c.alice.address, 1n, KAI(20_000), KAI(10_000)),
    bob: nodeLeaf(OVER_EPOCH, c.bob.address, 2n, KAI(15_000), 0n),
    carol: checkerLeaf(OVER_EPOCH, c.carol.address, KAI(10_000)),
    dave: nodeLeaf(OVER_EPOCH, c.dave.address, 3n, 0n, KAI(5_000)),
  };
  const tree = await postEpoch(c, OVER_EPOCH, Object.values(over), OVER_BUDGET);
  await c.distributor.connect(c.treasury).fundReserve(RESERVE);
  await toNextDay();
  return { ...c, over, tree };
}

/** `deployReported` with only 499 KAI in the reserve: one KAI short of alice's first leaf. */
async function deployShortReserve() {
  const c = await deployReported();
  await c.distributor.connect(c.treasury).fundReserve(KAI(499));
  await toNextDay();
  return c;
}

/* -------------------------------------------------------------------------- */
/*                                    TESTS                                   */
/* -------------------------------------------------------------------------- */

describe("RewardDistributor.claim", function () {
  describe("given epoch 1 is reported and the reserve is funded", function () {
    describe("when alice claims her first node leaf (500 KAI)", function () {
      const AMOUNT = KAI(500);

      async function claimFirst() {
        const c = await loadFixture(deployWithEpoch);
        const tx = await claimOwn(c, c.alice, c.leaves.aliceNode1);
        return { c, tx };
      }

      it("emits ClaimLeaf(epoch, leafHash, alice, 500 KAI) then Claim(alice, today, 500 KAI, 1), and nothing else", async function () {
        const { c, tx } = await claimFirst();
        expect(await distributorEvents(c.distributor, tx), "events").to.deep.equal([
          ["ClaimLeaf", EPOCH, rewardLeafHash(c.leaves.aliceNode1), c.alice.address, AMOUNT],
          ["Claim", c.alice.address, c.day, AMOUNT, 1n],
        ]);
      });

      it("returns today's Unix day", async function () {
        const c = await loadFixture(deployWithEpoch);
        const day = await c.distributor
          .connect(c.alice)
          .claim.staticCall(c.alice.address, [claimOf(c.tree, c.leaves.aliceNode1)]);
        expect(day, "returned day").to.equal(c.day);
      });

      it("takes the amount from the reserve and moves no tokens", async function () {
        const c = await loadFixture(deployWithEpoch);
        await expect(claimOwn(c, c.alice, c.leaves.aliceNode1)).to.changeTokenBalances(
          c.kai,
          [c.distributor, c.alice],
          [0n, 0n],
        );
        expect(await c.distributor.reserve(), "reserve").to.equal(RESERVE - AMOUNT);
      });

      it("counts the amount in claimedOf(epoch)", async function () {
        const { c } = await claimFirst();
        expect(await c.distributor.claimedOf(EPOCH), "claimedOf(1)").to.equal(AMOUNT);
        expect(await c.distributor.claimedOf(EPOCH + 1n), "claimedOf(2)").to.equal(0n);
      });

      it("marks node 1 claimed for epoch 1, and no other subject", async function () {
        const { c } = await claimFirst();
        expect(await c.distributor.isClaimed(EPOCH, LeafKind.Node, 1n), "node 1").to.be.true;
        expect(await c.distributor.isClaimed(EPOCH, LeafKind.Node, 2n), "node 2").to.be.false;
        expect(await c.distributor.isClaimed(EPOCH + 1n, LeafKind.Node, 1n), "node 1, epoch 2").to.be.false;
        expect(await c.distributor.isClaimed(EPOCH, LeafKind.Checker, 1n), "checker 1").to.be.false;
      });

      it("opens alice's position of today with 500 KAI", async function () {
        const { c } = await claimFirst();
        expect(await positionsOf(c.distributor, c.alice.address), "alice's positions").to.deep.equal([[c.day, AMOUNT]]);
      });
    });

    describe("when carol claims her checker leaf (250 KAI)", function () {
      async function claimChecker() {
        const c = await loadFixture(deployWithEpoch);
        const tx = await claimOwn(c, c.carol, c.leaves.carolChecker);
        return { c, tx };
      }

      it("emits ClaimLeaf(epoch, leafHash, carol, 250 KAI) then Claim(carol, today, 250 KAI, 1)", async function () {
        const { c, tx } = await claimChecker();
        expect(await distributorEvents(c.distributor, tx), "events").to.deep.equal([
          ["ClaimLeaf", EPOCH, rewardLeafHash(c.leaves.carolChecker), c.carol.address, KAI(250)],
          ["Claim", c.carol.address, c.day, KAI(250), 1n],
        ]);
      });

      it("marks operator carol claimed as a checker, not as a node", async function () {
        const { c } = await claimChecker();
        const carol = BigInt(c.carol.address);
        expect(await c.distributor.isClaimed(EPOCH, LeafKind.Checker, carol), "checker carol").to.be.true;
        expect(await c.distributor.isClaimed(EPOCH, LeafKind.Node, carol), "node #carol").to.be.false;
        expect(await c.distributor.isClaimed(EPOCH, LeafKind.Checker, 0n), "checker 0 (the leaf's id)").to.be.false;
      });

      it("takes 250 KAI from the reserve into carol's position of today", async function () {
        const { c } = await claimChecker();
        expect(await c.distributor.reserve(), "reserve").to.equal(RESERVE - KAI(250));
        expect(await c.distributor.claimedOf(EPOCH), "claimedOf").to.equal(KAI(250));
        expect(await positionsOf(c.distributor, c.carol.address), "carol's positions").to.deep.equal([
          [c.day, KAI(250)],
        ]);
      });
    });

    describe("when a keeper submits alice's claim", function () {
      it("emits Claim for alice", async function () {
        const c = await loadFixture(deployWithEpoch);
        await expect(c.distributor.connect(c.keeper).claim(c.alice.address, [claimOf(c.tree, c.leaves.aliceNode1)]))
          .to.emit(c.distributor, "Claim")
          .withArgs(c.alice.address, c.day, KAI(500), 1n);
      });

      it("opens the position for alice, none for the keeper", async function () {
        const c = await loadFixture(deployWithEpoch);
        await c.distributor.connect(c.keeper).claim(c.alice.address, [claimOf(c.tree, c.leaves.aliceNode1)]);
        expect(await positionsOf(c.distributor, c.alice.address), "alice's positions").to.deep.equal([
          [c.day, KAI(500)],
        ]);
        expect(await positionsOf(c.distributor, c.keeper.address), "keeper's positions").to.deep.equal([]);
      });
    });

    describe("when alice claims both node leaves in one call", function () {
      it("emits one ClaimLeaf per leaf then Claim(alice, today, 650 KAI, 2)", async function () {
        const c = await loadFixture(deployWithEpoch);
        const tx = await claimOwn(c, c.alice, c.leaves.aliceNode1, c.leaves.aliceNode2);
        expect(await distributorEvents(c.distributor, tx), "events").to.deep.equal([
          ["ClaimLeaf", EPOCH, rewardLeafHash(c.leaves.aliceNode1), c.alice.address, KAI(500)],
          ["ClaimLeaf", EPOCH, rewardLeafHash(c.leaves.aliceNode2), c.alice.address, KAI(150)],
          ["Claim", c.alice.address, c.day, KAI(650), 2n],
        ]);
      });

      it("opens one position of 650 KAI and counts 650 KAI for the epoch", async function () {
        const c = await loadFixture(deployWithEpoch);
        await claimOwn(c, c.alice, c.leaves.aliceNode2, c.leaves.aliceNode1);
        expect(await positionsOf(c.distributor, c.alice.address), "positions").to.deep.equal([[c.day, KAI(650)]]);
        expect(await c.distributor.claimedOf(EPOCH), "claimedOf").to.equal(KAI(650));
        expect(await c.distributor.reserve(), "reserve").to.equal(RESERVE - KAI(650));
      });
    });

    describe("when alice claims her two leaves in two calls on the same day", function () {
      it("adds the second claim to the same position", async function () {
        const c = await loadFixture(deployWithEpoch);
        await claimOwn(c, c.alice, c.leaves.aliceNode1);
        await expect(claimOwn(c, c.alice, c.leaves.aliceNode2))
          .to.emit(c.distributor, "Claim")
          .withArgs(c.alice.address, c.day, KAI(150), 1n);
        expect(await positionsOf(c.distributor, c.alice.address), "positions").to.deep.equal([[c.day, KAI(650)]]);
      });
    });

    describe("when alice claims her second leaf on a later day", function () {
      it("opens a second position, after the first", async function () {
        const c = await loadFixture(deployWithEpoch);
        await claimOwn(c, c.alice, c.leaves.aliceNode1);
        await time.increase(ONE_DAY);
        await expect(claimOwn(c, c.alice, c.leaves.aliceNode2))
          .to.emit(c.distributor, "Claim")
          .withArgs(c.alice.address, c.day + 1n, KAI(150), 1n);
        expect(await positionsOf(c.distributor, c.alice.address), "positions").to.deep.equal([
          [c.day, KAI(500)],
          [c.day + 1n, KAI(150)],
        ]);
      });
    });

    describe("when alice claims one leaf and bob another, in either order", function () {
      for (const order of [
        ["aliceNode1", "bobNode"],
        ["bobNode", "aliceNode1"],
      ] as const) {
        it(`pays both (${order.join(" then ")}) and then refuses each replay`, async function () {
          const c = await loadFixture(deployWithEpoch);
          const ownerOf = { aliceNode1: c.alice, bobNode: c.bob };
          for (const name of order) {
            await c.distributor.connect(ownerOf[name]).claim(ownerOf[name].address, [claimOf(c.tree, c.leaves[name])]);
          }
          expect(await c.distributor.claimedOf(EPOCH), "claimedOf").to.equal(KAI(900));
          for (const name of order) {
            await expect(
              c.distributor.connect(ownerOf[name]).claim(ownerOf[name].address, [claimOf(c.tree, c.leaves[name])]),
              `replay of ${name}`,
            )
              .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_AlreadyClaimed")
              .withArgs(EPOCH, LeafKind.Node, c.leaves[name].id);
          }
        });
      }
    });
  });

  describe("given ten epochs are reported", function () {
    it("pays alice's leaves of all ten epochs in one call: ten ClaimLeaf then Claim(alice, today, sum, 10)", async function () {
      const c = await loadFixture(deployTenEpochs);
      const tx = await c.distributor.connect(c.keeper).claim(c.alice.address, c.claims);
      const sum = c.claims.reduce((s, cl) => s + leafReward(cl.leaf), 0n);
      expect(await distributorEvents(c.distributor, tx), "events").to.deep.equal([
        ...c.claims.map((cl) => [
          "ClaimLeaf",
          cl.leaf.epoch,
          rewardLeafHash(cl.leaf),
          c.alice.address,
          leafReward(cl.leaf),
        ]),
        ["Claim", c.alice.address, c.day, sum, 10n],
      ]);
    });

    it("counts each epoch's leaf in its own claimedOf and opens one position", async function () {
      const c = await loadFixture(deployTenEpochs);
      await c.distributor.connect(c.alice).claim(c.alice.address, c.claims);
      for (const cl of c.claims) {
        expect(await c.distributor.claimedOf(cl.leaf.epoch), `claimedOf(${cl.leaf.epoch})`).to.equal(
          leafReward(cl.leaf),
        );
        expect(await c.distributor.isClaimed(cl.leaf.epoch, LeafKind.Node, 1n), `node 1, epoch ${cl.leaf.epoch}`).to.be
          .true;
      }
      const sum = c.claims.reduce((s, cl) => s + leafReward(cl.leaf), 0n);
      expect(await positionsOf(c.distributor, c.alice.address), "positions").to.deep.equal([[c.day, sum]]);
      expect(await c.distributor.reserve(), "reserve").to.equal(RESERVE - sum);
    });

    it("pays the leaves in any epoch order (each epoch's root looked up again when the epoch changes)", async function () {
      const c = await loadFixture(deployTenEpochs);
      const shuffled = [c.claims[6], c.claims[0], c.claims[9], c.claims[3], c.claims[1]];
      await c.distributor.connect(c.alice).claim(c.alice.address, shuffled);
      for (const [i, cl] of c.claims.entries()) {
        expect(await c.distributor.claimedOf(cl.leaf.epoch), `claimedOf(${cl.leaf.epoch})`).to.equal(
          [0, 1, 3, 6, 9].includes(i) ? leafReward(cl.leaf) : 0n,
        );
      }
    });

    it("refuses the batch when its last leaf repeats its first (AlreadyClaimed), claiming none", async function () {
      const c = await loadFixture(deployTenEpochs);
      await expect(c.distributor.connect(c.alice).claim(c.alice.address, [...c.claims, c.claims[0]]))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_AlreadyClaimed")
        .withArgs(1n, LeafKind.Node, 1n);
    });
  });

  describe("given node ids at the edges of the claimed bitmap's words (0, 255, 256, 511, 512, 2^256-1)", function () {
    it("marks exactly the claimed id", async function () {
      const c = await loadFixture(deployBitmapEdges);
      for (const [i, id] of EDGE_IDS.entries()) {
        await claimOwn(c, c.alice, c.leaves[i]);
        for (const [j, other] of EDGE_IDS.entries()) {
          expect(await c.distributor.isClaimed(EPOCH, LeafKind.Node, other), `after ${id}: node ${other}`).to.equal(
            j <= i,
          );
        }
        expect(
          await c.distributor.isClaimed(EPOCH, LeafKind.Node, id + (id === ethers.MaxUint256 ? -1n : 1n)),
          "neighbour",
        ).to.be.false;
      }
    });

    it("refuses a second claim of the largest id", async function () {
      const c = await loadFixture(deployBitmapEdges);
      const last = claimOf(c.tree, c.leaves[EDGE_IDS.length - 1]);
      await c.distributor.connect(c.alice).claim(c.alice.address, [last]);
      await expect(c.distributor.connect(c.alice).claim(c.alice.address, [last]))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_AlreadyClaimed")
        .withArgs(EPOCH, LeafKind.Node, ethers.MaxUint256);
    });
  });

  describe("Uniswap merkle-distributor set (threat 19)", function () {
    describe("when the same leaf is claimed twice", function () {
      it("reverts with AlreadyClaimed(epoch, kind, node id) within one call, and claims nothing", async function () {
        const c = await loadFixture(deployWithEpoch);
        const once = claimOf(c.tree, c.leaves.aliceNode1);
        await expect(
          c.distributor.connect(c.alice).claim(c.alice.address, [once, claimOf(c.tree, c.leaves.aliceNode2), once]),
        )
          .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_AlreadyClaimed")
          .withArgs(EPOCH, LeafKind.Node, 1n);
        expect(await c.distributor.isClaimed(EPOCH, LeafKind.Node, 1n), "node 1").to.be.false;
        expect(await c.distributor.isClaimed(EPOCH, LeafKind.Node, 2n), "node 2").to.be.false;
        expect(await c.distributor.reserve(), "reserve").to.equal(RESERVE);
      });

      it("reverts with AlreadyClaimed across calls", async function () {
        const c = await loadFixture(deployWithEpoch);
        await claimOwn(c, c.alice, c.leaves.aliceNode1);
        await expect(c.distributor.connect(c.keeper).claim(c.alice.address, [claimOf(c.tree, c.leaves.aliceNode1)]))
          .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_AlreadyClaimed")
          .withArgs(EPOCH, LeafKind.Node, 1n);
      });

      it("reverts with AlreadyClaimed(epoch, 1, operator) for a checker leaf", async function () {
        const c = await loadFixture(deployWithEpoch);
        await claimOwn(c, c.carol, c.leaves.carolChecker);
        await expect(claimOwn(c, c.carol, c.leaves.carolChecker))
          .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_AlreadyClaimed")
          .withArgs(EPOCH, LeafKind.Checker, BigInt(c.carol.address));
      });
    });

    describe("when a leaf is altered or sent with another leaf's proof", function () {
      type Case = { name: string; alter: (c: Awaited<ReturnType<typeof deployWithEpoch>>) => RewardLeaf };
      const cases: Case[] = [
        { name: "bob's leaf with alice's proof", alter: (c) => c.leaves.bobNode },
        {
          name: "alice's leaf with the account set to bob",
          alter: (c) => ({ ...c.leaves.aliceNode1, account: c.bob.address }),
        },
        { name: "alice's leaf with the node id of bob's node", alter: (c) => ({ ...c.leaves.aliceNode1, id: 3n }) },
        {
          name: "capacityReward + 1",
          alter: (c) => ({ ...c.leaves.aliceNode1, capacityReward: c.leaves.aliceNode1.capacityReward + 1n }),
        },
        {
          name: "capacityReward - 1",
          alter: (c) => ({ ...c.leaves.aliceNode1, capacityReward: c.leaves.aliceNode1.capacityReward - 1n }),
        },
        {
          name: "deliveryReward + 1",
          alter: (c) => ({ ...c.leaves.aliceNode1, deliveryReward: c.leaves.aliceNode1.deliveryReward + 1n }),
        },
        { name: "checkerReward + 1 on a node leaf", alter: (c) => ({ ...c.leaves.aliceNode1, checkerReward: 1n }) },
        {
          name: "capacity moved to delivery (same total)",
          alter: (c) => ({ ...c.leaves.aliceNode1, capacityReward: KAI(200), deliveryReward: KAI(300) }),
        },
        { name: "another metrics hash", alter: (c) => ({ ...c.leaves.aliceNode1, metricsHash: ethers.id("forged") }) },
        { name: "kind 1 (checker) instead of 0", alter: (c) => ({ ...c.leaves.aliceNode1, kind: LeafKind.Checker }) },
      ];
      for (const { name, alter } of cases) {
        it(`reverts with InvalidProof(epoch, account, id): ${name}`, async function () {
          const c = await loadFixture(deployWithEpoch);
          const leaf = alter(c);
          const proof = claimOf(c.tree, c.leaves.aliceNode1).proof;
          await expect(c.distributor.connect(c.keeper).claim(leaf.account, [{ leaf, proof }]))
            .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_InvalidProof")
            .withArgs(leaf.epoch, leaf.account, leaf.id);
        });
      }

      it("reverts with InvalidProof: carol's checker leaf with checkerReward + 1", async function () {
        const c = await loadFixture(deployWithEpoch);
        const leaf = { ...c.leaves.carolChecker, checkerReward: c.leaves.carolChecker.checkerReward + 1n };
        await expect(
          c.distributor
            .connect(c.carol)
            .claim(c.carol.address, [{ leaf, proof: claimOf(c.tree, c.leaves.carolChecker).proof }]),
        )
          .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_InvalidProof")
          .withArgs(EPOCH, c.carol.address, 0n);
      });

      it("reverts with InvalidProof: a valid leaf of epoch 1 presented as epoch 2's (reported with another tree)", async function () {
        const c = await loadFixture(deployWithEpoch);
        await postEpoch(c, 2n, [nodeLeaf(2n, c.bob.address, 3n, KAI(1), 0n)]);
        const leaf = { ...c.leaves.aliceNode1, epoch: 2n };
        await expect(
          c.distributor
            .connect(c.alice)
            .claim(c.alice.address, [{ leaf, proof: claimOf(c.tree, c.leaves.aliceNode1).proof }]),
        )
          .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_InvalidProof")
          .withArgs(2n, c.alice.address, 1n);
      });

      it("reverts with InvalidProof: an empty proof, and a proof with an extra sibling", async function () {
        const c = await loadFixture(deployWithEpoch);
        const { leaf, proof } = claimOf(c.tree, c.leaves.aliceNode1);
        for (const bad of [[], [...proof, ethers.id("extra")], [ethers.id("extra"), ...proof]]) {
          await expect(
            c.distributor.connect(c.alice).claim(c.alice.address, [{ leaf, proof: bad }]),
            `proof of ${bad.length}`,
          )
            .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_InvalidProof")
            .withArgs(EPOCH, c.alice.address, 1n);
        }
      });
    });

    describe("when an internal node of the tree is presented as a leaf", function () {
      /*
       * The node above alice's leaf, N = hash(leafHash, proof[0]), is proven by the rest of the
       * proof: a verifier that took a bare hash would accept N. The distributor only takes a leaf's
       * fields and hashes them twice, so no leaf can hash to N, and neither the leaf with the short
       * proof nor a leaf carrying N's two children as its data passes.
       */
      it("the premise: N with the proof's tail leads to the root", async function () {
        const c = await loadFixture(deployWithEpoch);
        const { proof } = claimOf(c.tree, c.leaves.aliceNode1);
        const internal = nodeHash(rewardLeafHash(c.leaves.aliceNode1), proof[0]);
        expect(processProof(internal, proof.slice(1)), "root from N").to.equal(c.tree.root);
        expect(proof.length, "proof length").to.be.greaterThan(1);
      });

      it("reverts with InvalidProof for the leaf with the proof's tail (its parent taken as the leaf)", async function () {
        const c = await loadFixture(deployWithEpoch);
        const { leaf, proof } = claimOf(c.tree, c.leaves.aliceNode1);
        await expect(c.distributor.connect(c.alice).claim(c.alice.address, [{ leaf, proof: proof.slice(1) }]))
          .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_InvalidProof")
          .withArgs(EPOCH, c.alice.address, 1n);
      });

      it("reverts with InvalidProof for a leaf whose fields carry N's children, with the proof's tail", async function () {
        const c = await loadFixture(deployWithEpoch);
        const { leaf, proof } = claimOf(c.tree, c.leaves.aliceNode1);
        const [left, right] = [rewardLeafHash(leaf), proof[0]].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
        // N's preimage is its two children: put them in the leaf as data (id, metricsHash).
        const forged: RewardLeaf = {
          ...leaf,
          epoch: EPOCH,
          id: BigInt(left),
          metricsHash: right,
          capacityReward: 0n,
          deliveryReward: 0n,
          checkerReward: KAI(1),
        };
        expect(await c.distributor.leafHash(forged), "forged leaf's hash").to.not.equal(nodeHash(left, right));
        await expect(c.distributor.connect(c.alice).claim(c.alice.address, [{ leaf: forged, proof: proof.slice(1) }]))
          .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_InvalidProof")
          .withArgs(EPOCH, c.alice.address, BigInt(left));
      });

      it("hashes a leaf twice: its single hash, a 32-byte node, is not what the tree holds", async function () {
        // The outer hash is over 32 bytes and an internal node over 64: the two never meet.
        const c = await loadFixture(deployWithEpoch);
        const { leaf, proof } = claimOf(c.tree, c.leaves.aliceNode1);
        const singleHash = ethers.keccak256(
          ethers.AbiCoder.defaultAbiCoder().encode(
            ["uint8", "uint256", "address", "uint256", "uint256", "uint256", "uint256", "bytes32"],
            [
              leaf.kind,
              leaf.epoch,
              leaf.account,
              leaf.id,
              leaf.capacityReward,
              leaf.deliveryReward,
              leaf.checkerReward,
              leaf.metricsHash,
            ],
          ),
        );
        expect(await c.distributor.leafHash(leaf), "double hash").to.equal(ethers.keccak256(singleHash));
        expect(processProof(singleHash, proof), "the single hash is not in the tree").to.not.equal(c.tree.root);
      });
    });
  });

  describe("given a bad root with two leaves for node 7 and two for checker carol", function () {
    it("pays alice's node-7 leaf, then refuses bob's with AlreadyClaimed(epoch, 0, 7)", async function () {
      const c = await loadFixture(deployDuplicateSubjects);
      await claimOwn(c, c.alice, c.dup.aliceNode7);
      await expect(claimOwn(c, c.bob, c.dup.bobNode7))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_AlreadyClaimed")
        .withArgs(EPOCH, LeafKind.Node, 7n);
      expect(await c.distributor.claimedOf(EPOCH), "claimedOf").to.equal(KAI(100));
    });

    it("pays bob's node-7 leaf when it comes first, then refuses alice's", async function () {
      const c = await loadFixture(deployDuplicateSubjects);
      await claimOwn(c, c.bob, c.dup.bobNode7);
      await expect(claimOwn(c, c.alice, c.dup.aliceNode7))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_AlreadyClaimed")
        .withArgs(EPOCH, LeafKind.Node, 7n);
      expect(await c.distributor.claimedOf(EPOCH), "claimedOf").to.equal(KAI(200));
      expect(await positionsOf(c.distributor, c.alice.address), "alice's positions").to.deep.equal([]);
    });

    it("refuses carol's two checker leaves in one call with AlreadyClaimed(epoch, 1, carol)", async function () {
      const c = await loadFixture(deployDuplicateSubjects);
      await expect(claimOwn(c, c.carol, c.dup.carolChecker2, c.dup.carolChecker1))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_AlreadyClaimed")
        .withArgs(EPOCH, LeafKind.Checker, BigInt(c.carol.address));
    });

    it("pays only carol's first checker leaf across calls", async function () {
      const c = await loadFixture(deployDuplicateSubjects);
      await claimOwn(c, c.carol, c.dup.carolChecker2);
      await expect(claimOwn(c, c.carol, c.dup.carolChecker1))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_AlreadyClaimed")
        .withArgs(EPOCH, LeafKind.Checker, BigInt(c.carol.address));
      expect(await c.distributor.claimedOf(EPOCH), "claimedOf").to.equal(KAI(60));
    });
  });

  describe("given an epoch without a report (threat 23)", function () {
    it("reverts with NoReport(epoch) for a leaf of an ended, unreported epoch (root zero)", async function () {
      const c = await loadFixture(deployWithEpoch);
      const leaf = nodeLeaf(2n, c.alice.address, 1n, KAI(1), 0n);
      const tree = buildRewardTree([leaf, nodeLeaf(2n, c.bob.address, 3n, KAI(1), 0n)]);
      expect(await c.oracle.reportRoot(2n), "oracle root of epoch 2").to.equal(ethers.ZeroHash);
      await expect(c.distributor.connect(c.alice).claim(c.alice.address, [claimOf(tree, leaf)]))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_NoReport")
        .withArgs(2n);
    });

    it("reverts with NoReport for an epoch that has not ended, whatever the proof", async function () {
      const c = await loadFixture(deployWithEpoch);
      const future = (await c.oracle.epochAt(await time.latest())) + 5n;
      const leaf = nodeLeaf(future, c.alice.address, 1n, KAI(1), 0n);
      for (const proof of [[], [ethers.ZeroHash]]) {
        await expect(c.distributor.connect(c.alice).claim(c.alice.address, [{ leaf, proof }]))
          .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_NoReport")
          .withArgs(future);
      }
    });

    it("reverts with NoReport(2^256 - 1) for a leaf of epoch 2^256 - 1 (the batch's epoch sentinel)", async function () {
      // `claim` starts with `epoch = type(uint256).max` as "no epoch yet", so a first leaf of that
      // epoch skips the root lookup and the zero-root check; only the proof check (against root 0)
      // stops it, with the wrong error.
      const c = await loadFixture(deployWithEpoch);
      const leaf = nodeLeaf(ethers.MaxUint256, c.alice.address, 1n, KAI(1), 0n);
      expect(await c.oracle.reportRoot(ethers.MaxUint256), "oracle root").to.equal(ethers.ZeroHash);
      await expect(c.distributor.connect(c.alice).claim(c.alice.address, [{ leaf, proof: [] }]))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_NoReport")
        .withArgs(ethers.MaxUint256);
    });

    it("reverts the whole batch when a later leaf's epoch has no report", async function () {
      const c = await loadFixture(deployWithEpoch);
      const leaf = nodeLeaf(2n, c.alice.address, 9n, KAI(1), 0n);
      await expect(
        c.distributor
          .connect(c.alice)
          .claim(c.alice.address, [claimOf(c.tree, c.leaves.aliceNode1), { leaf, proof: [] }]),
      )
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_NoReport")
        .withArgs(2n);
      expect(await c.distributor.isClaimed(EPOCH, LeafKind.Node, 1n), "node 1").to.be.false;
    });
  });

  describe("given a root whose leaves sum past the epoch budget (threat 22)", function () {
    it("the premise: the oracle accepted the report at 50,000 KAI of a 50,000 KAI budget", async function () {
      const c = await loadFixture(deployOverBudget);
      expect(await c.oracle.epochBudget(OVER_EPOCH), "budget").to.equal(OVER_BUDGET);
      const [root, budget] = await c.oracle.rootAndBudget(OVER_EPOCH);
      expect([root, budget], "rootAndBudget").to.deep.equal([c.tree.root, OVER_BUDGET]);
    });

    it("pays claims until the next would pass the budget: BudgetExceeded(epoch, claimed, budget)", async function () {
      const c = await loadFixture(deployOverBudget);
      await claimOwn(c, c.alice, c.over.alice);
      await claimOwn(c, c.bob, c.over.bob);
      await expect(claimOwn(c, c.carol, c.over.carol))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_BudgetExceeded")
        .withArgs(OVER_EPOCH, KAI(55_000), OVER_BUDGET);
      expect(await c.distributor.claimedOf(OVER_EPOCH), "claimedOf").to.equal(KAI(45_000));
    });

    it("pays a claim that reaches the budget exactly, then refuses any other", async function () {
      const c = await loadFixture(deployOverBudget);
      for (const [who, name] of [
        [c.alice, "alice"],
        [c.bob, "bob"],
        [c.dave, "dave"],
      ] as const) {
        await c.distributor.connect(who).claim(who.address, [claimOf(c.tree, c.over[name])]);
      }
      expect(await c.distributor.claimedOf(OVER_EPOCH), "claimedOf").to.equal(OVER_BUDGET);
      await expect(claimOwn(c, c.carol, c.over.carol))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_BudgetExceeded")
        .withArgs(OVER_EPOCH, KAI(60_000), OVER_BUDGET);
      expect(await c.distributor.reserve(), "reserve").to.equal(RESERVE - OVER_BUDGET);
    });
  });

  describe("given governance changes the emission schedule after an epoch was reported", function () {
    /*
     * IReportOracle.setEmissionSchedule "applies to epochs not yet reported", and the distributor
     * promises that an epoch never pays more than "the oracle's budget for it". But
     * `rootAndBudget` computes the budget from the current schedule, so the cap of an epoch
     * already reported moves with later schedule changes.
     */
    async function deployReportedAt60k() {
      const c = await deployDistributor();
      const leaves = {
        alice: nodeLeaf(EPOCH, c.alice.address, 1n, KAI(30_000), 0n),
        bob: nodeLeaf(EPOCH, c.bob.address, 2n, KAI(30_000), 0n),
      };
      const tree = await postEpoch(c, EPOCH, Object.values(leaves));
      await c.distributor.connect(c.treasury).fundReserve(RESERVE);
      await toNextDay();
      return { ...c, leaves, tree };
    }

    it("still pays the leaves of a report accepted within its budget after the emission is halved", async function () {
      const c = await loadFixture(deployReportedAt60k);
      await c.oracle.connect(c.admin).setEmissionSchedule(INITIAL_EMISSION / 2n, HALVING_EPOCHS);
      await claimOwn(c, c.alice, c.leaves.alice);
      await expect(claimOwn(c, c.bob, c.leaves.bob), "bob's leaf, accepted at report time under a 100,000 KAI budget")
        .to.not.be.reverted;
    });

    it("keeps the cap of an over-budget root at the budget it was reported under after the emission is raised", async function () {
      const c = await loadFixture(deployOverBudget);
      await c.oracle.connect(c.admin).setEmissionSchedule(INITIAL_EMISSION * 2n, HALVING_EPOCHS);
      for (const [who, name] of [
        [c.alice, "alice"],
        [c.bob, "bob"],
      ] as const) {
        await c.distributor.connect(who).claim(who.address, [claimOf(c.tree, c.over[name])]);
      }
      await expect(claimOwn(c, c.carol, c.over.carol))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_BudgetExceeded")
        .withArgs(OVER_EPOCH, KAI(55_000), OVER_BUDGET);
    });
  });

  describe("given the reserve holds less than the claim", function () {
    it("reverts with InsufficientReserve(amount, 0) on an empty reserve", async function () {
      const c = await loadFixture(deployReported);
      await expect(claimOwn(c, c.alice, c.leaves.aliceNode1))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_InsufficientReserve")
        .withArgs(KAI(500), 0n);
    });

    it("reverts with InsufficientReserve(500 KAI, 499 KAI) one KAI short", async function () {
      const c = await loadFixture(deployShortReserve);
      await expect(claimOwn(c, c.alice, c.leaves.aliceNode1))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_InsufficientReserve")
        .withArgs(KAI(500), KAI(499));
    });

    it("pays once the reserve is topped up to exactly the claim, leaving it empty", async function () {
      const c = await loadFixture(deployShortReserve);
      await c.distributor.connect(c.treasury).fundReserve(KAI(1));
      await claimOwn(c, c.alice, c.leaves.aliceNode1);
      expect(await c.distributor.reserve(), "reserve").to.equal(0n);
    });
  });

  describe("when the leaves pay different accounts", function () {
    it("reverts with WrongBeneficiary(beneficiary, account) for bob's leaf in alice's claim", async function () {
      const c = await loadFixture(deployWithEpoch);
      await expect(claimOwn(c, c.alice, c.leaves.aliceNode1, c.leaves.bobNode))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_WrongBeneficiary")
        .withArgs(c.alice.address, c.bob.address);
    });

    it("reverts with WrongBeneficiary when a keeper names itself the beneficiary of alice's leaf", async function () {
      const c = await loadFixture(deployWithEpoch);
      await expect(claimOwn(c, c.keeper, c.leaves.aliceNode1))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_WrongBeneficiary")
        .withArgs(c.keeper.address, c.alice.address);
    });
  });

  describe("when a leaf has a kind other than node (0) or checker (1)", function () {
    it("reverts with InvalidKind(2) before looking at the proof", async function () {
      const c = await loadFixture(deployWithEpoch);
      const valid = claimOf(c.tree, c.leaves.aliceNode1);
      const kind2 = { leaf: { ...valid.leaf, kind: 2 }, proof: valid.proof };
      await expect(c.distributor.connect(c.alice).claim(c.alice.address, [kind2]))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_InvalidKind")
        .withArgs(2);
    });
  });

  describe("when the claims pay nothing", function () {
    it("reverts with NothingToClaim for dave's all-zero leaf, which stays unclaimed", async function () {
      const c = await loadFixture(deployWithEpoch);
      await expect(claimOwn(c, c.dave, c.leaves.daveZero)).to.be.revertedWithCustomError(
        c.distributor,
        "RewardDistributor_NothingToClaim",
      );
      expect(await c.distributor.isClaimed(EPOCH, LeafKind.Node, c.leaves.daveZero.id), "node 4").to.be.false;
    });

    it("reverts with NothingToClaim for an empty list", async function () {
      const c = await loadFixture(deployWithEpoch);
      await expect(c.distributor.connect(c.alice).claim(c.alice.address, [])).to.be.revertedWithCustomError(
        c.distributor,
        "RewardDistributor_NothingToClaim",
      );
    });
  });

  describe("when the beneficiary is the zero address", function () {
    it("reverts with ZeroAddress", async function () {
      const c = await loadFixture(deployWithEpoch);
      await expect(
        c.distributor.connect(c.alice).claim(ethers.ZeroAddress, [claimOf(c.tree, c.leaves.aliceNode1)]),
      ).to.be.revertedWithCustomError(c.distributor, "RewardDistributor_ZeroAddress");
    });

    it("reverts with ZeroAddress even for a leaf of the zero address", async function () {
      const c = await loadFixture(deployWithEpoch);
      const leaf = nodeLeaf(EPOCH, ethers.ZeroAddress, 99n, KAI(1), 0n);
      await expect(
        c.distributor.connect(c.alice).claim(ethers.ZeroAddress, [{ leaf, proof: [] }]),
      ).to.be.revertedWithCustomError(c.distributor, "RewardDistributor_ZeroAddress");
    });
  });
});
