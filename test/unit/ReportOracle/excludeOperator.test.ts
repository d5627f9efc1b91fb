/**
 * Operators that stop being active after the set was configured (their last license undelegated
 * or suspended, their stake below the minimum) are excluded by anyone: their entry in the SSTORE2
 * list becomes a tombstone (the zero address), their signatures stop counting, and every other
 * index, the config version and the reports already signed under it stay valid.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { KAI } from "../../fixtures";
import {
  MIN_CHECKER_STAKE,
  deployWithCheckers,
  endEpoch,
  makeReport,
  signedBy,
  type WithCheckers,
  submitSigned,
  revertsOracle,
} from "../../helpers/oracle";
import {
  EXCLUDED,
  EXCLUDED_INDEX,
  MAX_CHECKERS,
  deployWith255Checkers,
  deployWithExcludedOperator,
  deployWithFourCheckers,
  deployWithFourOperators,
  licenseIdsOf,
  nextPointer,
  packRaw,
  recordsOf,
} from "../../helpers/oracleTests";

/** The epoch the report tests submit. */
const EPOCH = 3n;

/** Takes back every license delegated to operator `i` (it holds one in these fixtures). */
async function undelegateAll(c: WithCheckers, i: number) {
  for (const id of await licenseIdsOf(c, c.operators[i].address)) await c.license.undelegate(id);
}

/** The set with operator `i`'s entry replaced by the zero address. */
function withTombstones(c: WithCheckers, indexes: number[]) {
  return c.operators.map((o, i) => (indexes.includes(i) ? ethers.ZeroAddress : o.address));
}

/** A set of 21 checkers with quorum 14, as the gas benchmark uses. */
async function deployWith21Checkers() {
  return deployWithCheckers(21, 14);
}

describe("ReportOracle.excludeOperator", function () {
  describe("given four checkers (quorum 3) and operator 2's only license undelegated", function () {
    async function undelegated() {
      const c = await loadFixture(deployWithFourCheckers);
      await undelegateAll(c, 2);
      return c;
    }

    it("emits ExcludeOperator(1, 2, operator, NO_LICENSE, 3 live, new pointer)", async function () {
      const c = await undelegated();
      const pointer = await nextPointer(c.oracle);
      await expect(c.oracle.connect(c.keeper).excludeOperator(2))
        .to.emit(c.oracle, "ExcludeOperator")
        .withArgs(1n, 2n, c.operators[2].address, EXCLUDED.NO_LICENSE, 3n, pointer);
    });

    it("returns the reasons (NO_LICENSE)", async function () {
      const c = await undelegated();
      expect(await c.oracle.connect(c.keeper).excludeOperator.staticCall(2), "reasons").to.equal(EXCLUDED.NO_LICENSE);
    });

    it("is open to anyone: a keeper with no role excludes it", async function () {
      const c = await undelegated();
      await expect(c.oracle.connect(c.other).excludeOperator(2)).to.emit(c.oracle, "ExcludeOperator");
    });

    it("replaces the operator with the zero address in checkers(), the others in place", async function () {
      const c = await undelegated();
      await c.oracle.connect(c.keeper).excludeOperator(2);
      expect(await c.oracle.checkers(), "checkers").to.deep.equal(withTombstones(c, [2]));
    });

    it("keeps config version 1, quorum 3 (config())", async function () {
      const c = await undelegated();
      await c.oracle.connect(c.keeper).excludeOperator(2);
      expect(await c.oracle.config(), "config").to.deep.equal([1n, 3n, 0n, false]);
    });

    it("drops liveCheckerCount from 4 to 3", async function () {
      const c = await undelegated();
      expect(await c.oracle.liveCheckerCount(), "live before").to.equal(4n);
      await c.oracle.connect(c.keeper).excludeOperator(2);
      expect(await c.oracle.liveCheckerCount(), "live after").to.equal(3n);
    });

    it("does not emit CheckerQuorumLost (3 live still meet the quorum of 3)", async function () {
      const c = await undelegated();
      await expect(c.oracle.connect(c.keeper).excludeOperator(2)).not.to.emit(c.oracle, "CheckerQuorumLost");
    });
  });

  describe("given operator 1's only license was suspended", function () {
    it("excludes it for NO_LICENSE", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const [id] = await licenseIdsOf(c, c.operators[1].address);
      await c.license.grantRole(await c.license.SUSPENDER_ROLE(), c.admin.address);
      await c.license.suspend(id, ethers.id("evidence"));
      await expect(c.oracle.excludeOperator(1))
        .to.emit(c.oracle, "ExcludeOperator")
        .withArgs(1n, 1n, c.operators[1].address, EXCLUDED.NO_LICENSE, 3n, await nextPointer(c.oracle));
    });
  });

  describe("given operator 3's only license was transferred (the transfer takes it back)", function () {
    it("excludes it for NO_LICENSE", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const [id] = await licenseIdsOf(c, c.operators[3].address);
      await c.license.transferFrom(c.admin.address, c.other.address, id);
      expect(await c.oracle.excludeOperator.staticCall(3), "reasons").to.equal(EXCLUDED.NO_LICENSE);
    });
  });

  describe("given operator 0 requested to unstake 1 wei (minimum - 1 staked)", function () {
    it("excludes it for UNDER_STAKED: unbonding stake does not count", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      await c.registry.connect(c.operators[0]).requestUnstake(1n);
      await expect(c.oracle.excludeOperator(0))
        .to.emit(c.oracle, "ExcludeOperator")
        .withArgs(1n, 0n, c.operators[0].address, EXCLUDED.UNDER_STAKED, 3n, await nextPointer(c.oracle));
    });
  });

  describe("given operator 0 unstaked everything and lost its license", function () {
    it("excludes it for NO_LICENSE | UNDER_STAKED (3)", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      await c.registry.connect(c.operators[0]).requestUnstake(MIN_CHECKER_STAKE);
      await undelegateAll(c, 0);
      expect(await c.oracle.excludeOperator.staticCall(0), "reasons").to.equal(
        EXCLUDED.NO_LICENSE | EXCLUDED.UNDER_STAKED,
      );
    });
  });

  describe("given governance raised minCheckerStake by 1 wei after the set was configured", function () {
    it("lets anyone exclude every operator at the old minimum (UNDER_STAKED)", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      await c.oracle.setMinCheckerStake(MIN_CHECKER_STAKE + 1n);
      expect(await c.oracle.excludeOperator.staticCall(3), "reasons").to.equal(EXCLUDED.UNDER_STAKED);
    });
  });

  describe("when the operator is still active", function () {
    it("reverts with OperatorActive(index, operator)", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      await revertsOracle(
        c,
        c.oracle.connect(c.keeper).excludeOperator(1),
        "ReportOracle_OperatorActive",
        1n,
        c.operators[1].address,
      );
    });

    it("reverts with OperatorActive for one that re-staked after unstaking (it counts now)", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const op = c.operators[0];
      await c.registry.connect(op).requestUnstake(KAI(1));
      await c.kai.connect(c.treasury).transfer(op.address, KAI(1));
      await c.kai.connect(op).approve(await c.registry.getAddress(), KAI(1));
      await c.registry.connect(op).stake(KAI(1));
      await revertsOracle(c, c.oracle.excludeOperator(0), "ReportOracle_OperatorActive", 0n, op.address);
    });

    it("reverts with OperatorActive for one that lost its license and was delegated a new one", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      await undelegateAll(c, 2);
      const id = await c.license.mint.staticCall(c.admin.address, 1);
      await c.license.mint(c.admin.address, 1);
      await c.license.delegate(id, c.operators[2].address);
      await revertsOracle(c, c.oracle.excludeOperator(2), "ReportOracle_OperatorActive", 2n, c.operators[2].address);
    });
  });

  describe("when the index is outside the set", function () {
    it("reverts with InvalidOperatorIndex(4, 4) past the last operator", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      await revertsOracle(c, c.oracle.excludeOperator(4), "ReportOracle_InvalidOperatorIndex", 4n, 4n);
    });

    it("reverts with InvalidOperatorIndex(2^256 - 1, 4) for the largest index", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      await revertsOracle(
        c,
        c.oracle.excludeOperator(ethers.MaxUint256),
        "ReportOracle_InvalidOperatorIndex",
        ethers.MaxUint256,
        4n,
      );
    });

    it("reverts with InvalidOperatorIndex(0, 0) before any checker set", async function () {
      const c = await loadFixture(deployWithFourOperators);
      await revertsOracle(c, c.oracle.excludeOperator(0), "ReportOracle_InvalidOperatorIndex", 0n, 0n);
    });
  });

  describe("given operator 2 was excluded", function () {
    it("reverts with OperatorAlreadyExcluded(2) for a second exclusion", async function () {
      const c = await loadFixture(deployWithExcludedOperator);
      await revertsOracle(
        c,
        c.oracle.excludeOperator(EXCLUDED_INDEX),
        "ReportOracle_OperatorAlreadyExcluded",
        EXCLUDED_INDEX,
      );
    });

    it("keeps it excluded even once it holds a license again, until governance sets a new config", async function () {
      const c = await loadFixture(deployWithExcludedOperator);
      await c.license.delegate(c.excludedLicense, c.excluded.address);
      await revertsOracle(
        c,
        c.oracle.excludeOperator(EXCLUDED_INDEX),
        "ReportOracle_OperatorAlreadyExcluded",
        EXCLUDED_INDEX,
      );
      expect((await c.oracle.checkers())[EXCLUDED_INDEX], "checkers()[2]").to.equal(ethers.ZeroAddress);
    });

    describe("when a report signed by operators 0, 1 and 3 is submitted", function () {
      it("is accepted with the bitmap 0b1011: the others keep their indexes", async function () {
        const c = await loadFixture(deployWithExcludedOperator);
        const report = makeReport(EPOCH);
        await endEpoch(c, EPOCH);
        const signatures = await signedBy(c, report, [c.operators[0], c.operators[1], c.operators[3]]);
        await expect(c.oracle.connect(c.keeper).submitReport(report, signatures))
          .to.emit(c.oracle, "SubmitReport")
          .withArgs(EPOCH, 1n, report.root, report.nodeCount, report.totalReward, 0b1011n, c.keeper.address);
      });

      it("is accepted when it was signed before the exclusion (same version, same digest)", async function () {
        const c = await loadFixture(deployWithFourCheckers);
        const report = makeReport(EPOCH);
        const signatures = await signedBy(c, report, [c.operators[0], c.operators[1], c.operators[3]]);
        await undelegateAll(c, 2);
        await c.oracle.excludeOperator(2);
        await endEpoch(c, EPOCH);
        await expect(c.oracle.submitReport(report, signatures)).to.emit(c.oracle, "SubmitReport");
      });
    });

    describe("when the report carries the excluded operator's signature", function () {
      it("reverts with ExcludedSigner(2, 2) for its signature at position 2 (operators 0, 1, 2, 3 signed)", async function () {
        const c = await loadFixture(deployWithExcludedOperator);
        const report = makeReport(EPOCH);
        await endEpoch(c, EPOCH);
        const records = await recordsOf(c, report, c.operators);
        await revertsOracle(c, c.oracle.submitReport(report, packRaw(records)), "ReportOracle_ExcludedSigner", 2n, 2n);
      });

      it("reverts with ExcludedSigner(1, 2) for another operator's signature claiming index 2", async function () {
        const c = await loadFixture(deployWithExcludedOperator);
        const report = makeReport(EPOCH);
        await endEpoch(c, EPOCH);
        const [byOp0, byOp3] = await recordsOf(c, report, [c.operators[0], c.operators[3]]);
        const records = [byOp0, { ...byOp3, index: 2 }, byOp3];
        await revertsOracle(c, c.oracle.submitReport(report, packRaw(records)), "ReportOracle_ExcludedSigner", 1n, 2n);
      });

      it("still reports UnknownSigner for a stranger's signature at a live index", async function () {
        const c = await loadFixture(deployWithExcludedOperator);
        const report = makeReport(EPOCH);
        await endEpoch(c, EPOCH);
        const records = await recordsOf(c, report, [c.operators[0], c.operators[1], c.operators[3]]);
        // Operator 3's signature presented as operator 1's.
        const swapped = [records[0], { ...records[2], index: 1 }, { ...records[1], index: 3 }];
        await revertsOracle(
          c,
          c.oracle.submitReport(report, packRaw(swapped)),
          "ReportOracle_UnknownSigner",
          1n,
          1n,
          c.operators[3].address,
        );
      });
    });

    describe("when a second operator (0) loses its license: 2 live, below the quorum of 3", function () {
      async function belowQuorum() {
        const c = await loadFixture(deployWithExcludedOperator);
        await undelegateAll(c, 0);
        return c;
      }

      it("emits CheckerQuorumLost(1, 2 live, quorum 3)", async function () {
        const c = await belowQuorum();
        await expect(c.oracle.excludeOperator(0)).to.emit(c.oracle, "CheckerQuorumLost").withArgs(1n, 2n, 3n);
      });

      it("emits ExcludeOperator with 2 live", async function () {
        const c = await belowQuorum();
        await expect(c.oracle.excludeOperator(0))
          .to.emit(c.oracle, "ExcludeOperator")
          .withArgs(1n, 0n, c.operators[0].address, EXCLUDED.NO_LICENSE, 2n, await nextPointer(c.oracle));
      });

      it("shows liveCheckerCount 2 and checkers() with two tombstones", async function () {
        const c = await belowQuorum();
        await c.oracle.excludeOperator(0);
        expect(await c.oracle.liveCheckerCount(), "live").to.equal(2n);
        expect(await c.oracle.checkers(), "checkers").to.deep.equal(withTombstones(c, [0, 2]));
      });

      it("stalls reports: the two live operators' signatures are BelowQuorum(2, 3)", async function () {
        const c = await belowQuorum();
        await c.oracle.excludeOperator(0);
        const report = makeReport(EPOCH);
        await endEpoch(c, EPOCH);
        await revertsOracle(
          c,
          submitSigned(c, report, [c.operators[1], c.operators[3]]),
          "ReportOracle_BelowQuorum",
          2n,
          3n,
        );
      });

      it("says it once: a third exclusion emits no CheckerQuorumLost", async function () {
        const c = await belowQuorum();
        await c.oracle.excludeOperator(0);
        await undelegateAll(c, 1);
        await expect(c.oracle.excludeOperator(1)).not.to.emit(c.oracle, "CheckerQuorumLost");
        expect(await c.oracle.liveCheckerCount(), "live").to.equal(1n);
      });

      it("resumes once governance sets a new config (version 2, no tombstones)", async function () {
        const c = await belowQuorum();
        await c.oracle.excludeOperator(0);
        const kept = [c.operators[1], c.operators[3]];
        await c.oracle.setCheckerConfig(
          kept.map((o) => o.address),
          2,
        );
        expect(await c.oracle.checkers(), "checkers").to.deep.equal(kept.map((o) => o.address));
        expect(await c.oracle.liveCheckerCount(), "live").to.equal(2n);
        const report = makeReport(EPOCH, 2n);
        await endEpoch(c, EPOCH);
        const signatures = packRaw([
          { index: 0, signature: (await recordsOf(c, report, [kept[0]]))[0].signature },
          { index: 1, signature: (await recordsOf(c, report, [kept[1]]))[0].signature },
        ]);
        await expect(c.oracle.submitReport(report, signatures)).to.emit(c.oracle, "SubmitReport");
      });
    });
  });

  describe("given 21 checkers (quorum 14)", function () {
    it("tombstones the first, a middle and the last entry without touching their neighbours", async function () {
      const c = await loadFixture(deployWith21Checkers);
      for (const i of [0, 10, 20]) {
        await undelegateAll(c, i);
        await c.oracle.excludeOperator(i);
      }
      expect(await c.oracle.checkers(), "checkers").to.deep.equal(withTombstones(c, [0, 10, 20]));
      expect(await c.oracle.liveCheckerCount(), "live").to.equal(18n);
    });

    it("accepts 14 live signatures around a tombstone", async function () {
      const c = await loadFixture(deployWith21Checkers);
      await undelegateAll(c, 5);
      await c.oracle.excludeOperator(5);
      const report = makeReport(EPOCH);
      await endEpoch(c, EPOCH);
      const signers = c.operators.filter((_, i) => i !== 5).slice(0, 14);
      await expect(submitSigned(c, report, signers)).to.emit(c.oracle, "SubmitReport");
    });
  });

  describe("given the maximum set (255 checkers)", function () {
    it("tombstones index 254, the last", async function () {
      const c = await loadFixture(deployWith255Checkers);
      const last = c.wallets[MAX_CHECKERS - 1].address;
      await c.license.undelegate((await licenseIdsOf(c, last))[0]);
      await expect(c.oracle.excludeOperator(MAX_CHECKERS - 1))
        .to.emit(c.oracle, "ExcludeOperator")
        .withArgs(1n, 254n, last, EXCLUDED.NO_LICENSE, 254n, await nextPointer(c.oracle));
      const list = await c.oracle.checkers();
      expect(list.length, "length").to.equal(MAX_CHECKERS);
      expect(list[MAX_CHECKERS - 1], "last").to.equal(ethers.ZeroAddress);
      expect(list[MAX_CHECKERS - 2], "second to last").to.equal(c.wallets[MAX_CHECKERS - 2].address);
    });
  });
});
