import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { KAI } from "../../fixtures";
import {
  ALICE_CLAIMED,
  BPS,
  DAY_OFFSET,
  ONE_DAY,
  RESERVE,
  claimOf,
  deployClaimed,
  deployWithEpoch,
  nodeLeaf,
  positionsOf,
  postEpoch,
  type EpochFixture,
  claimOwn,
} from "../../helpers/rewards";

/*
 * alice's position (650 KAI) opened on `day`, claimed at 01:00 UTC; its clock starts at the day's
 * start. Each withdrawal is mined at an exact second with `time.setNextBlockTimestamp` (not
 * `time.increaseTo`, which mines its own block and leaves the next one's second to the wall clock).
 */

/** Withdraws alice's position of `c.day` in a block mined `age` seconds after that day ended. */
async function withdrawAt(c: EpochFixture, age: bigint) {
  // Never before the next block: slow runs (coverage) may already be past the time asked for in
  // the "right after the claim" row, whose share (25%) holds either way.
  const next = BigInt(await time.latest()) + 1n;
  const at = age < 0n ? c.dayStart + DAY_OFFSET + 60n : c.dayEnd + age;
  await time.setNextBlockTimestamp(at > next ? at : next);
  return c.distributor.connect(c.alice).withdrawVested(c.day);
}

const d = ONE_DAY;
const ROWS: { name: string; age: bigint; bps: bigint }[] = [
  { name: "right after the claim, the same day", age: -1n, bps: 2_500n },
  { name: "the moment the day ends", age: 0n, bps: 2_500n },
  { name: "30 days - 1 s", age: 30n * d - 1n, bps: 2_500n },
  { name: "30 days (a day less 1 h more than 30 days after the 01:00 claim)", age: 30n * d, bps: 5_000n },
  { name: "90 days - 1 s", age: 90n * d - 1n, bps: 5_000n },
  { name: "90 days", age: 90n * d, bps: 7_500n },
  { name: "180 days - 1 s", age: 180n * d - 1n, bps: 7_500n },
  { name: "180 days", age: 180n * d, bps: 10_000n },
  { name: "two years", age: 730n * d, bps: 10_000n },
];

describe("RewardDistributor.withdrawVested", function () {
  describe("given alice's position of 650 KAI", function () {
    for (const { name, age, bps } of ROWS) {
      const paid = (ALICE_CLAIMED * bps) / BPS;
      const forfeited = ALICE_CLAIMED - paid;

      describe(`when she withdraws ${age < 0n ? name : `at the day's end + ${name}`}`, function () {
        it(`emits WithdrawVested(alice, day, ${bps / 100n}% paid, the rest forfeited)`, async function () {
          const c = await loadFixture(deployClaimed);
          await expect(withdrawAt(c, age))
            .to.emit(c.distributor, "WithdrawVested")
            .withArgs(c.alice.address, c.day, paid, forfeited);
        });

        it(`pays her ${bps / 100n}% from the distributor`, async function () {
          const c = await loadFixture(deployClaimed);
          await expect(withdrawAt(c, age)).to.changeTokenBalances(c.kai, [c.alice, c.distributor], [paid, -paid]);
        });

        it("returns exactly the forfeited part to the reserve and zeroes the position", async function () {
          const c = await loadFixture(deployClaimed);
          await withdrawAt(c, age);
          expect(await c.distributor.reserve(), "reserve").to.equal(RESERVE - ALICE_CLAIMED + forfeited);
          expect(await positionsOf(c.distributor, c.alice.address), "positions").to.deep.equal([[c.day, 0n]]);
          expect(await c.kai.balanceOf(await c.distributor.getAddress()), "balance == reserve").to.equal(
            await c.distributor.reserve(),
          );
        });
      });
    }

    it("returns the amount paid", async function () {
      const c = await loadFixture(deployClaimed);
      await time.increaseTo(c.dayEnd + 90n * d); // eth_call runs on a block after this one
      expect(await c.distributor.connect(c.alice).withdrawVested.staticCall(c.day), "paid").to.equal(KAI(487.5));
    });

    it("reverts with UnknownPosition(alice, day) when withdrawn twice", async function () {
      const c = await loadFixture(deployClaimed);
      await c.distributor.connect(c.alice).withdrawVested(c.day);
      await expect(c.distributor.connect(c.alice).withdrawVested(c.day))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_UnknownPosition")
        .withArgs(c.alice.address, c.day);
    });

    it("reverts with UnknownPosition for a day she claimed nothing on", async function () {
      const c = await loadFixture(deployClaimed);
      for (const day of [c.day - 1n, c.day + 1n, 0n]) {
        await expect(c.distributor.connect(c.alice).withdrawVested(day), `day ${day}`)
          .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_UnknownPosition")
          .withArgs(c.alice.address, day);
      }
    });

    it("reverts with UnknownPosition(bob, day) when bob withdraws alice's day, leaving her position", async function () {
      const c = await loadFixture(deployClaimed);
      await expect(c.distributor.connect(c.bob).withdrawVested(c.day))
        .to.be.revertedWithCustomError(c.distributor, "RewardDistributor_UnknownPosition")
        .withArgs(c.bob.address, c.day);
      expect(await positionsOf(c.distributor, c.alice.address), "alice's positions").to.deep.equal([
        [c.day, ALICE_CLAIMED],
      ]);
    });

    it("reuses the day's entry when she claims again that day after withdrawing", async function () {
      const c = await loadFixture(deployClaimed);
      await c.distributor.connect(c.alice).withdrawVested(c.day);
      await postAndClaimAgain(c);
      expect(await positionsOf(c.distributor, c.alice.address), "positions").to.deep.equal([[c.day, KAI(10)]]);
    });
  });

  describe("given positions of two days", function () {
    async function deployTwoDays() {
      const c = await deployWithEpoch();
      await claimOwn(c, c.alice, c.leaves.aliceNode1);
      await time.increase(ONE_DAY);
      await claimOwn(c, c.alice, c.leaves.aliceNode2);
      return c;
    }

    it("counts each position's age from its own day", async function () {
      const c = await loadFixture(deployTwoDays);
      // 30 days after the first day's end: the first position is 30 days old, the second 29.
      await time.setNextBlockTimestamp(c.dayEnd + 30n * d);
      await expect(c.distributor.connect(c.alice).withdrawVested(c.day))
        .to.emit(c.distributor, "WithdrawVested")
        .withArgs(c.alice.address, c.day, KAI(250), KAI(250));
      await expect(c.distributor.connect(c.alice).withdrawVested(c.day + 1n))
        .to.emit(c.distributor, "WithdrawVested")
        .withArgs(c.alice.address, c.day + 1n, KAI(37.5), KAI(112.5));
    });

    it("leaves the other position untouched", async function () {
      const c = await loadFixture(deployTwoDays);
      await c.distributor.connect(c.alice).withdrawVested(c.day + 1n);
      expect(await positionsOf(c.distributor, c.alice.address), "positions").to.deep.equal([
        [c.day, KAI(500)],
        [c.day + 1n, 0n],
      ]);
    });
  });

  describe("given erin's position of 7 wei", function () {
    const dust: [bigint, bigint, bigint][] = [
      [0n, 1n, 6n],
      [30n * d, 3n, 4n],
      [90n * d, 5n, 2n],
      [180n * d, 7n, 0n],
    ];
    for (const [age, paid, forfeited] of dust) {
      it(`pays ${paid} wei and forfeits ${forfeited} at ${age / d} days (rounds down, forfeits the rest)`, async function () {
        const c = await loadFixture(deployWithEpoch);
        await claimOwn(c, c.erin, c.leaves.erinDust);
        // Age 0: the next block, whatever the clock says (coverage runs slowly and moves it on).
        await time.setNextBlockTimestamp(age === 0n ? BigInt(await time.latest()) + 1n : c.dayStart + ONE_DAY + age);
        await expect(c.distributor.connect(c.erin).withdrawVested(c.day))
          .to.emit(c.distributor, "WithdrawVested")
          .withArgs(c.erin.address, c.day, paid, forfeited);
        expect(await c.distributor.reserve(), "reserve").to.equal(RESERVE - 7n + forfeited);
        expect(await c.kai.balanceOf(c.erin.address), "erin's balance").to.equal(paid);
      });
    }
  });
});

/** Reports epoch 2 with a 10 KAI leaf for alice and has her claim it on the same day. */
async function postAndClaimAgain(c: EpochFixture) {
  const leaf = nodeLeaf(2n, c.alice.address, 1n, KAI(10), 0n);
  const tree = await postEpoch(c, 2n, [leaf]);
  await c.distributor.connect(c.alice).claim(c.alice.address, [claimOf(tree, leaf)]);
}
