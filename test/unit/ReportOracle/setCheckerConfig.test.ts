import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { MIN_CHECKER_STAKE, revertsOracle } from "../../helpers/oracle";
import {
  MAX_CHECKERS,
  MAX_SET_QUORUM,
  ORACLE_ROLES,
  deployWith21Operators,
  deployWith255Checkers,
  deployWithFourCheckers,
  deployWithFourOperators,
  deployWithReportedEpoch,
  fakeSortedAddresses,
  freshWallet,
  licenseIdsOf,
  REPORTED_EPOCH,
} from "../../helpers/oracleTests";

type Operators = Awaited<ReturnType<typeof deployWithFourOperators>>;

/** The address the oracle's next CREATE (the SSTORE2 data contract) lands at. */
async function nextPointer(c: Operators) {
  const from = await c.oracle.getAddress();
  return ethers.getCreateAddress({ from, nonce: await ethers.provider.getTransactionCount(from) });
}

/** A fresh wallet staked `stake` KAI, with a license delegated to it when `licensed`. */
async function outsider(c: Operators, stake: bigint, licensed: boolean) {
  const w = await freshWallet();
  if (stake > 0n) {
    await c.kai.connect(c.treasury).transfer(w.address, stake);
    await c.kai.connect(w).approve(await c.registry.getAddress(), stake);
    await c.registry.connect(w).stake(stake);
  }
  if (licensed) {
    const id = await c.license.mint.staticCall(c.admin.address, 1);
    await c.license.mint(c.admin.address, 1);
    await c.license.delegate(id, w.address);
  }
  return w;
}

function sorted(addresses: string[]) {
  return [...addresses].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
}

describe("ReportOracle.setCheckerConfig", function () {
  describe("given no checker set yet", function () {
    it("checkers() is empty", async function () {
      const c = await loadFixture(deployWithFourOperators);
      expect(await c.oracle.checkers(), "checkers").to.deep.equal([]);
    });

    it("config() is all zero", async function () {
      const c = await loadFixture(deployWithFourOperators);
      expect(await c.oracle.config(), "config").to.deep.equal([0n, 0n, 0n, false]);
    });

    describe("when governance sets four sorted operators with quorum 3", function () {
      it("returns version 1", async function () {
        const c = await loadFixture(deployWithFourOperators);
        const addresses = c.operators.map((o) => o.address);
        expect(await c.oracle.setCheckerConfig.staticCall(addresses, 3), "version").to.equal(1n);
      });

      it("emits SetCheckerConfig(1, operators, 3, pointer)", async function () {
        const c = await loadFixture(deployWithFourOperators);
        const addresses = c.operators.map((o) => o.address);
        const pointer = await nextPointer(c);
        await expect(c.oracle.setCheckerConfig(addresses, 3))
          .to.emit(c.oracle, "SetCheckerConfig")
          .withArgs(1n, addresses, 3n, pointer);
      });

      it("writes the operators, 20 bytes each after a STOP byte, into the pointer's code", async function () {
        const c = await loadFixture(deployWithFourOperators);
        const addresses = c.operators.map((o) => o.address);
        const pointer = await nextPointer(c);
        await c.oracle.setCheckerConfig(addresses, 3);
        const expected = ethers.concat(["0x00", ...addresses]).toLowerCase();
        expect(await ethers.provider.getCode(pointer), "pointer code").to.equal(expected);
      });

      it("checkers() returns the operators in order", async function () {
        const c = await loadFixture(deployWithFourOperators);
        const addresses = c.operators.map((o) => o.address);
        await c.oracle.setCheckerConfig(addresses, 3);
        expect(await c.oracle.checkers(), "checkers").to.deep.equal(addresses);
      });

      it("config() returns version 1, quorum 3, no report", async function () {
        const c = await loadFixture(deployWithFourOperators);
        await c.oracle.setCheckerConfig(
          c.operators.map((o) => o.address),
          3,
        );
        expect(await c.oracle.config(), "config").to.deep.equal([1n, 3n, 0n, false]);
      });
    });
  });

  describe("given a checker set at version 1", function () {
    describe("when governance sets a new set (operators 1..3, quorum 2)", function () {
      it("emits SetCheckerConfig with version 2", async function () {
        const c = await loadFixture(deployWithFourCheckers);
        const kept = c.operators.slice(1).map((o) => o.address);
        const pointer = await nextPointer(c);
        await expect(c.oracle.setCheckerConfig(kept, 2))
          .to.emit(c.oracle, "SetCheckerConfig")
          .withArgs(2n, kept, 2n, pointer);
      });

      it("checkers() returns the new set", async function () {
        const c = await loadFixture(deployWithFourCheckers);
        const kept = c.operators.slice(1).map((o) => o.address);
        await c.oracle.setCheckerConfig(kept, 2);
        expect(await c.oracle.checkers(), "checkers").to.deep.equal(kept);
      });

      it("config() returns version 2 and quorum 2", async function () {
        const c = await loadFixture(deployWithFourCheckers);
        await c.oracle.setCheckerConfig(
          c.operators.slice(1).map((o) => o.address),
          2,
        );
        expect(await c.oracle.config(), "config").to.deep.equal([2n, 2n, 0n, false]);
      });
    });

    describe("when governance sets the very same set again", function () {
      it("still increments the version (to 2)", async function () {
        const c = await loadFixture(deployWithFourCheckers);
        const addresses = c.operators.map((o) => o.address);
        expect(await c.oracle.setCheckerConfig.staticCall(addresses, 3), "version").to.equal(2n);
      });
    });
  });

  describe("given a report was accepted (epoch 3)", function () {
    describe("when governance rotates the set", function () {
      it("keeps lastEpoch and anyReport", async function () {
        const c = await loadFixture(deployWithReportedEpoch);
        await c.oracle.setCheckerConfig(
          c.operators.slice(1).map((o) => o.address),
          3,
        );
        expect(await c.oracle.config(), "config").to.deep.equal([2n, 3n, REPORTED_EPOCH, true]);
      });
    });
  });

  describe("given the maximum set size (255 checkers)", function () {
    it("accepts the set (checkers() has 255 entries)", async function () {
      const c = await loadFixture(deployWith255Checkers);
      expect((await c.oracle.checkers()).length, "checkers().length").to.equal(MAX_CHECKERS);
    });

    it("checkers() returns every operator in order", async function () {
      const c = await loadFixture(deployWith255Checkers);
      expect(await c.oracle.checkers(), "checkers").to.deep.equal(c.wallets.map((w) => w.address));
    });

    it("rejects quorum 168 (f = 84, 2f = 168)", async function () {
      const c = await loadFixture(deployWith255Checkers);
      await revertsOracle(
        c,
        c.oracle.setCheckerConfig(
          c.wallets.map((w) => w.address),
          168,
        ),
        "ReportOracle_InvalidQuorum",
        168n,
        255n,
      );
    });

    it(`accepts quorum ${MAX_SET_QUORUM}`, async function () {
      const c = await loadFixture(deployWith255Checkers);
      expect(await c.oracle.config(), "config").to.deep.equal([1n, BigInt(MAX_SET_QUORUM), 0n, false]);
    });
  });

  describe("when the caller lacks CONFIG_ROLE", function () {
    it("reverts with AccessControlUnauthorizedAccount(caller, CONFIG_ROLE)", async function () {
      const c = await loadFixture(deployWithFourOperators);
      await expect(
        c.oracle.connect(c.other).setCheckerConfig(
          c.operators.map((o) => o.address),
          3,
        ),
      )
        .to.be.revertedWithCustomError(c.oracle, "AccessControlUnauthorizedAccount")
        .withArgs(c.other.address, ORACLE_ROLES.CONFIG);
    });
  });

  describe("when the caller holds CONFIG_ROLE but not DEFAULT_ADMIN_ROLE", function () {
    it("sets the config", async function () {
      const c = await loadFixture(deployWithFourOperators);
      await c.oracle.grantRole(ORACLE_ROLES.CONFIG, c.keeper.address);
      await expect(
        c.oracle.connect(c.keeper).setCheckerConfig(
          c.operators.map((o) => o.address),
          3,
        ),
      ).to.emit(c.oracle, "SetCheckerConfig");
    });
  });

  describe("when the set size is out of range (threat 36)", function () {
    for (const count of [0, 256, 300]) {
      it(`reverts with InvalidCheckerCount(${count})`, async function () {
        const c = await loadFixture(deployWithFourOperators);
        await revertsOracle(
          c,
          c.oracle.setCheckerConfig(fakeSortedAddresses(count), 1),
          "ReportOracle_InvalidCheckerCount",
          count,
        );
      });
    }
  });

  describe("when the operators are unsorted or repeat one (threat 36)", function () {
    // Each case: the list (by operator index in the sorted fixture set) and where it breaks.
    const CASES: { name: string; list: number[]; at: number }[] = [
      { name: "the first two are swapped", list: [1, 0, 2, 3], at: 1 },
      { name: "the last two are swapped", list: [0, 1, 3, 2], at: 3 },
      { name: "the list is descending", list: [3, 2, 1, 0], at: 1 },
      { name: "the first two are the same operator", list: [0, 0, 1, 2], at: 1 },
      { name: "two in the middle are the same operator", list: [0, 1, 1, 2, 3], at: 2 },
      { name: "the last two are the same operator", list: [0, 1, 2, 2], at: 3 },
      { name: "the first operator comes back last", list: [0, 1, 2, 0], at: 3 },
    ];
    for (const { name, list, at } of CASES) {
      it(`reverts with UnsortedOrDuplicateOperator(${at}, operator) when ${name}`, async function () {
        const c = await loadFixture(deployWithFourOperators);
        const addresses = list.map((i) => c.operators[i].address);
        await revertsOracle(
          c,
          c.oracle.setCheckerConfig(addresses, addresses.length),
          "ReportOracle_UnsortedOrDuplicateOperator",
          at,
          addresses[at],
        );
      });
    }
  });

  describe("when an operator is the zero address (threat 36)", function () {
    it("reverts with ZeroAddress when it comes first", async function () {
      const c = await loadFixture(deployWithFourOperators);
      const addresses = [ethers.ZeroAddress, ...c.operators.slice(0, 3).map((o) => o.address)];
      await expect(c.oracle.setCheckerConfig(addresses, 3)).to.be.revertedWithCustomError(
        c.oracle,
        "ReportOracle_ZeroAddress",
      );
    });

    it("reverts with ZeroAddress when it comes in the middle", async function () {
      const c = await loadFixture(deployWithFourOperators);
      const addresses = c.operators.map((o) => o.address);
      addresses.splice(2, 0, ethers.ZeroAddress);
      await expect(c.oracle.setCheckerConfig(addresses, 4)).to.be.revertedWithCustomError(
        c.oracle,
        "ReportOracle_ZeroAddress",
      );
    });
  });

  describe("when an operator has no delegated, unsuspended license", function () {
    it("reverts with OperatorWithoutLicense for one never delegated a license", async function () {
      const c = await loadFixture(deployWithFourOperators);
      const unlicensed = await outsider(c, MIN_CHECKER_STAKE, false);
      const addresses = sorted([...c.operators.slice(0, 3).map((o) => o.address), unlicensed.address]);
      await revertsOracle(
        c,
        c.oracle.setCheckerConfig(addresses, 3),
        "ReportOracle_OperatorWithoutLicense",
        unlicensed.address,
      );
    });

    it("reverts with OperatorWithoutLicense for one whose license was undelegated", async function () {
      const c = await loadFixture(deployWithFourOperators);
      const target = c.operators[2].address;
      const [id] = await licenseIdsOf(c, target);
      await c.license.undelegate(id);
      await revertsOracle(
        c,
        c.oracle.setCheckerConfig(
          c.operators.map((o) => o.address),
          3,
        ),
        "ReportOracle_OperatorWithoutLicense",
        target,
      );
    });

    it("reverts with OperatorWithoutLicense for one whose license was transferred", async function () {
      const c = await loadFixture(deployWithFourOperators);
      const target = c.operators[1].address;
      const [id] = await licenseIdsOf(c, target);
      await c.license.transferFrom(c.admin.address, c.other.address, id);
      await revertsOracle(
        c,
        c.oracle.setCheckerConfig(
          c.operators.map((o) => o.address),
          3,
        ),
        "ReportOracle_OperatorWithoutLicense",
        target,
      );
    });

    it("reverts with OperatorWithoutLicense for one whose only license is suspended", async function () {
      const c = await loadFixture(deployWithFourOperators);
      const target = c.operators[3].address;
      const [id] = await licenseIdsOf(c, target);
      await c.license.grantRole(await c.license.SUSPENDER_ROLE(), c.admin.address);
      await c.license.suspend(id, ethers.id("evidence"));
      await revertsOracle(
        c,
        c.oracle.setCheckerConfig(
          c.operators.map((o) => o.address),
          3,
        ),
        "ReportOracle_OperatorWithoutLicense",
        target,
      );
    });
  });

  describe("when an operator stakes less than minCheckerStake", function () {
    it("reverts with OperatorUnderStaked(operator, minimum - 1, minimum) for one 1 wei short", async function () {
      const c = await loadFixture(deployWithFourOperators);
      const short = await outsider(c, MIN_CHECKER_STAKE - 1n, true);
      const addresses = sorted([...c.operators.slice(0, 3).map((o) => o.address), short.address]);
      await revertsOracle(
        c,
        c.oracle.setCheckerConfig(addresses, 3),
        "ReportOracle_OperatorUnderStaked",
        short.address,
        MIN_CHECKER_STAKE - 1n,
        MIN_CHECKER_STAKE,
      );
    });

    it("reverts with OperatorUnderStaked(operator, 0, minimum) for one with a license and no stake", async function () {
      const c = await loadFixture(deployWithFourOperators);
      const unstaked = await outsider(c, 0n, true);
      const addresses = sorted([...c.operators.slice(0, 3).map((o) => o.address), unstaked.address]);
      await revertsOracle(
        c,
        c.oracle.setCheckerConfig(addresses, 3),
        "ReportOracle_OperatorUnderStaked",
        unstaked.address,
        0n,
        MIN_CHECKER_STAKE,
      );
    });

    it("does not count unbonding stake (1 wei unbonding -> minimum - 1 staked)", async function () {
      const c = await loadFixture(deployWithFourOperators);
      const target = c.operators[2];
      await c.registry.connect(target).requestUnstake(1n);
      await revertsOracle(
        c,
        c.oracle.setCheckerConfig(
          c.operators.map((o) => o.address),
          3,
        ),
        "ReportOracle_OperatorUnderStaked",
        target.address,
        MIN_CHECKER_STAKE - 1n,
        MIN_CHECKER_STAKE,
      );
    });

    it("reverts for the first operator once governance raises the minimum by 1 wei", async function () {
      const c = await loadFixture(deployWithFourOperators);
      await c.oracle.setMinCheckerStake(MIN_CHECKER_STAKE + 1n);
      await revertsOracle(
        c,
        c.oracle.setCheckerConfig(
          c.operators.map((o) => o.address),
          3,
        ),
        "ReportOracle_OperatorUnderStaked",
        c.operators[0].address,
        MIN_CHECKER_STAKE,
        MIN_CHECKER_STAKE + 1n,
      );
    });
  });

  describe("when the quorum is checked against the set size (threat 36: 2f < quorum <= n)", function () {
    // f = floor((n - 1) / 3) faults tolerated; each row states the outcome on its own.
    const CASES: { n: number; quorum: number; accepted: boolean; why: string }[] = [
      { n: 1, quorum: 0, accepted: false, why: "quorum 0" },
      { n: 1, quorum: 1, accepted: true, why: "f = 0, 0 < 1 <= 1" },
      { n: 1, quorum: 2, accepted: false, why: "quorum above n" },
      { n: 4, quorum: 0, accepted: false, why: "quorum 0" },
      { n: 4, quorum: 2, accepted: false, why: "f = 1, 2 <= 2f" },
      { n: 4, quorum: 3, accepted: true, why: "f = 1, 2 < 3 <= 4" },
      { n: 4, quorum: 4, accepted: true, why: "quorum = n" },
      { n: 4, quorum: 5, accepted: false, why: "quorum above n" },
      { n: 7, quorum: 4, accepted: false, why: "f = 2, 4 <= 2f" },
      { n: 7, quorum: 5, accepted: true, why: "f = 2, 4 < 5" },
      { n: 21, quorum: 12, accepted: false, why: "f = 6, 12 <= 2f" },
      { n: 21, quorum: 13, accepted: true, why: "f = 6, 12 < 13" },
      { n: 21, quorum: 14, accepted: true, why: "f = 6, 12 < 14" },
      { n: 21, quorum: 21, accepted: true, why: "quorum = n" },
      { n: 21, quorum: 22, accepted: false, why: "quorum above n" },
    ];
    for (const { n, quorum, accepted, why } of CASES) {
      if (accepted) {
        it(`accepts n = ${n}, quorum = ${quorum} (${why})`, async function () {
          const c = await loadFixture(deployWith21Operators);
          const addresses = c.operators.slice(0, n).map((o) => o.address);
          await expect(c.oracle.setCheckerConfig(addresses, quorum))
            .to.emit(c.oracle, "SetCheckerConfig")
            .withArgs(1n, addresses, quorum, await nextPointer(c));
        });
      } else {
        it(`rejects n = ${n}, quorum = ${quorum} with InvalidQuorum (${why})`, async function () {
          const c = await loadFixture(deployWith21Operators);
          const addresses = c.operators.slice(0, n).map((o) => o.address);
          await revertsOracle(c, c.oracle.setCheckerConfig(addresses, quorum), "ReportOracle_InvalidQuorum", quorum, n);
        });
      }
    }
  });
});
