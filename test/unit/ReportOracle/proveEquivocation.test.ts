import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { KAI } from "../../fixtures";
import {
  endEpoch,
  EQUIVOCATION_PENALTY,
  makeReport,
  MIN_CHECKER_STAKE,
  revertsOracle,
  signedBy,
  submitSigned,
} from "../../helpers/oracle";
import {
  BPS,
  DEFAULT_BOUNTY_BPS,
  EQUIVOCATION_EPOCH,
  EXCLUDED,
  REASON_EQUIVOCATION,
  deployForEquivocation,
  freshWallet,
  nextPointer,
  packRaw,
  recordsOf,
  sign,
  toHighS,
  withParts,
} from "../../helpers/oracleTests";
import { DEPARTURE_COOLDOWN } from "../../helpers/license";
import { reportDigest } from "../../../offchain/src/report";

type Fixture = Awaited<ReturnType<typeof deployForEquivocation>>;

/** The evidence the oracle records: keccak256(abi.encode(digestA, digestB)). */
function evidenceOf(digestA: string, digestB: string) {
  return ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [digestA, digestB]));
}

/** Unix seconds epoch 7 (the equivocation's) starts at. */
async function epoch7Start(c: Fixture) {
  return c.oracle.epochStart(EQUIVOCATION_EPOCH);
}

/** The cheater's two reports of epoch 7, proven by `other`, with `licenseIds`. */
function prove(c: Fixture, licenseIds: bigint[] = c.cheaterLicenses) {
  return c.oracle.connect(c.other).proveEquivocation(c.reportA, c.signatureA, c.reportB, c.signatureB, licenseIds);
}

/** `prove(c)` emits the registry's Slash of the cheater: `fromStake` and `fromUnbonding`, paid to the oracle. */
async function emitsCheaterSlash(c: Fixture, fromStake: bigint, fromUnbonding: bigint) {
  await expect(prove(c))
    .to.emit(c.registry, "Slash")
    .withArgs(
      c.cheater.address,
      0n,
      REASON_EQUIVOCATION,
      evidenceOf(c.digestA, c.digestB),
      0n,
      fromStake,
      fromUnbonding,
      await c.oracle.getAddress(),
    );
}

describe("ReportOracle.proveEquivocation", function () {
  describe("given operator 1 (10,000 KAI staked, two licenses) signed two reports of epoch 7", function () {
    // Penalty 5,000 KAI <= stake: 5,000 slashed; bounty 10% = 500 to the prover, 4,500 to the treasury.
    const SLASHED = KAI(5_000);
    const BOUNTY = KAI(500);
    const TO_TREASURY = KAI(4_500);

    describe("when anyone proves it with both licenses", function () {
      it("emits ProveEquivocation(operator, 7, digestA, digestB, 5,000 KAI, 500 KAI, prover)", async function () {
        const c = await loadFixture(deployForEquivocation);
        await expect(prove(c))
          .to.emit(c.oracle, "ProveEquivocation")
          .withArgs(c.cheater.address, EQUIVOCATION_EPOCH, c.digestA, c.digestB, SLASHED, BOUNTY, c.other.address);
      });

      it("slashes through the registry: Slash(operator, 0, 100, evidence, 0, 5,000 KAI, 0, oracle)", async function () {
        const c = await loadFixture(deployForEquivocation);
        await emitsCheaterSlash(c, SLASHED, 0n);
      });

      it("pays 500 KAI to the prover and 4,500 KAI to the treasury, keeping nothing", async function () {
        const c = await loadFixture(deployForEquivocation);
        await expect(prove(c)).to.changeTokenBalances(
          c.kai,
          [c.other, c.treasury, c.registry, c.oracle],
          [BOUNTY, TO_TREASURY, -SLASHED, 0n],
        );
      });

      it("leaves the operator 5,000 KAI staked", async function () {
        const c = await loadFixture(deployForEquivocation);
        await prove(c);
        expect((await c.registry.getStake(c.cheater.address)).staked, "staked").to.equal(MIN_CHECKER_STAKE - SLASHED);
      });

      it("records the penalty in the registry (amount, reason 100, node 0, evidence)", async function () {
        const c = await loadFixture(deployForEquivocation);
        await prove(c);
        const p = await c.registry.penaltyAt(c.cheater.address, 0);
        expect([p.amount, p.reason, p.nodeId, p.evidence], "penalty").to.deep.equal([
          SLASHED,
          BigInt(REASON_EQUIVOCATION),
          0n,
          evidenceOf(c.digestA, c.digestB),
        ]);
      });

      it("suspends the first license with the evidence (SetSuspended)", async function () {
        const c = await loadFixture(deployForEquivocation);
        await expect(prove(c))
          .to.emit(c.license, "SetSuspended")
          .withArgs(c.cheaterLicenses[0], true, evidenceOf(c.digestA, c.digestB));
      });

      it("suspends the second license with the evidence (SetSuspended)", async function () {
        const c = await loadFixture(deployForEquivocation);
        await expect(prove(c))
          .to.emit(c.license, "SetSuspended")
          .withArgs(c.cheaterLicenses[1], true, evidenceOf(c.digestA, c.digestB));
      });

      it("drops the operator's license count from 2 to 0", async function () {
        const c = await loadFixture(deployForEquivocation);
        expect(await c.license.licensesOf(c.cheater.address), "licensesOf before").to.equal(2n);
        await prove(c);
        expect(await c.license.licensesOf(c.cheater.address), "licensesOf after").to.equal(0n);
      });

      it("marks the operator's equivocation in epoch 7 as proven", async function () {
        const c = await loadFixture(deployForEquivocation);
        await prove(c);
        expect(await c.oracle.equivocationProven(c.cheater.address, EQUIVOCATION_EPOCH), "proven").to.equal(true);
      });

      it("leaves the other operators' licenses alone", async function () {
        const c = await loadFixture(deployForEquivocation);
        await prove(c);
        expect(await c.license.isSuspended(c.otherLicense), "other license suspended").to.equal(false);
      });
    });

    describe("when the prover gives one of the two licenses", function () {
      it("suspends only that one (licensesOf 2 -> 1)", async function () {
        const c = await loadFixture(deployForEquivocation);
        await prove(c, [c.cheaterLicenses[1]]);
        expect(await c.license.licensesOf(c.cheater.address), "licensesOf").to.equal(1n);
      });
    });

    describe("when the prover gives no license", function () {
      it("slashes without suspending (no SetSuspended)", async function () {
        const c = await loadFixture(deployForEquivocation);
        await expect(prove(c, [])).not.to.emit(c.license, "SetSuspended");
      });

      it("still slashes 5,000 KAI", async function () {
        const c = await loadFixture(deployForEquivocation);
        await expect(prove(c, []))
          .to.emit(c.oracle, "ProveEquivocation")
          .withArgs(c.cheater.address, EQUIVOCATION_EPOCH, c.digestA, c.digestB, SLASHED, BOUNTY, c.other.address);
      });
    });

    describe("when the prover lists a license twice", function () {
      it("suspends it once", async function () {
        const c = await loadFixture(deployForEquivocation);
        const id = c.cheaterLicenses[0];
        const receipt = await (await prove(c, [id, id])).wait();
        const suspensions = receipt!.logs
          .map((l) => (l.address === c.license.target ? c.license.interface.parseLog(l) : null))
          .filter((l) => l?.name === "SetSuspended");
        expect(suspensions.length, "SetSuspended count").to.equal(1);
      });
    });

    describe("when the two reports are given in the other order", function () {
      it("emits the digests in that order (B, A)", async function () {
        const c = await loadFixture(deployForEquivocation);
        await expect(c.oracle.connect(c.other).proveEquivocation(c.reportB, c.signatureB, c.reportA, c.signatureA, []))
          .to.emit(c.oracle, "ProveEquivocation")
          .withArgs(c.cheater.address, EQUIVOCATION_EPOCH, c.digestB, c.digestA, SLASHED, BOUNTY, c.other.address);
      });
    });

    describe("when the reports differ only in a count (nodeCount)", function () {
      it("is equivocation too", async function () {
        const c = await loadFixture(deployForEquivocation);
        const reportC = { ...c.reportA, nodeCount: c.reportA.nodeCount + 1n };
        const signatureC = await sign(c.cheater, c.domain, reportC);
        await expect(
          c.oracle.connect(c.other).proveEquivocation(c.reportA, c.signatureA, reportC, signatureC, []),
        ).to.emit(c.oracle, "ProveEquivocation");
      });
    });

    describe("given the penalty (20,000 KAI) exceeds the stake (10,000 KAI)", function () {
      it("slashes the whole stake: 1,000 KAI to the prover, 9,000 KAI to the treasury", async function () {
        const c = await loadFixture(deployForEquivocation);
        await c.oracle.setEquivocationPenalty(KAI(20_000), DEFAULT_BOUNTY_BPS);
        await expect(prove(c)).to.changeTokenBalances(
          c.kai,
          [c.other, c.treasury, c.registry],
          [KAI(1_000), KAI(9_000), -KAI(10_000)],
        );
      });

      it("emits slashed = 10,000 KAI and bounty = 1,000 KAI", async function () {
        const c = await loadFixture(deployForEquivocation);
        await c.oracle.setEquivocationPenalty(KAI(20_000), DEFAULT_BOUNTY_BPS);
        await expect(prove(c))
          .to.emit(c.oracle, "ProveEquivocation")
          .withArgs(
            c.cheater.address,
            EQUIVOCATION_EPOCH,
            c.digestA,
            c.digestB,
            KAI(10_000),
            KAI(1_000),
            c.other.address,
          );
      });
    });

    describe("given the operator moved 8,000 of its 10,000 KAI into unbonding", function () {
      it("slashes 2,000 KAI from stake and 3,000 KAI from unbonding (Slash event)", async function () {
        const c = await loadFixture(deployForEquivocation);
        await c.registry.connect(c.cheater).requestUnstake(KAI(8_000));
        await emitsCheaterSlash(c, KAI(2_000), KAI(3_000));
      });
    });

    describe("given the bounty is set to 50% (the maximum)", function () {
      it("splits 2,500 / 2,500 KAI", async function () {
        const c = await loadFixture(deployForEquivocation);
        await c.oracle.setEquivocationPenalty(EQUIVOCATION_PENALTY, 5_000);
        await expect(prove(c)).to.changeTokenBalances(c.kai, [c.other, c.treasury], [KAI(2_500), KAI(2_500)]);
      });
    });

    describe("given the bounty is set to 0", function () {
      it("sends all 5,000 KAI to the treasury", async function () {
        const c = await loadFixture(deployForEquivocation);
        await c.oracle.setEquivocationPenalty(EQUIVOCATION_PENALTY, 0);
        await expect(prove(c)).to.changeTokenBalances(c.kai, [c.other, c.treasury], [0n, SLASHED]);
      });
    });

    describe("given a penalty of 9,999 wei (the bounty does not divide evenly)", function () {
      it("rounds the bounty down: 999 wei to the prover, 9,000 wei to the treasury", async function () {
        const c = await loadFixture(deployForEquivocation);
        await c.oracle.setEquivocationPenalty(9_999n, DEFAULT_BOUNTY_BPS);
        // 9,999 x 1,000 / 10,000 = 999.9 -> 999.
        expect((9_999n * DEFAULT_BOUNTY_BPS) / BPS, "bounty").to.equal(999n);
        await expect(prove(c)).to.changeTokenBalances(c.kai, [c.other, c.treasury], [999n, 9_000n]);
      });
    });

    describe("given the operator withdrew all its stake (nothing left to slash)", function () {
      async function drained() {
        const c = await loadFixture(deployForEquivocation);
        await c.registry.connect(c.cheater).requestUnstake(MIN_CHECKER_STAKE);
        await time.increase(await c.registry.unbondingPeriod());
        await c.registry.connect(c.cheater).withdrawUnstaked();
        return c;
      }

      it("emits ProveEquivocation with slashed 0 and bounty 0", async function () {
        const c = await drained();
        await expect(prove(c))
          .to.emit(c.oracle, "ProveEquivocation")
          .withArgs(c.cheater.address, EQUIVOCATION_EPOCH, c.digestA, c.digestB, 0n, 0n, c.other.address);
      });

      it("moves no KAI (no Transfer)", async function () {
        const c = await drained();
        await expect(prove(c)).not.to.emit(c.kai, "Transfer");
      });

      it("still records the proof (equivocationProven)", async function () {
        const c = await drained();
        await prove(c);
        expect(await c.oracle.equivocationProven(c.cheater.address, EQUIVOCATION_EPOCH), "proven").to.equal(true);
      });

      it("still suspends the licenses (licensesOf 0)", async function () {
        const c = await drained();
        await prove(c);
        expect(await c.license.licensesOf(c.cheater.address), "licensesOf").to.equal(0n);
      });

      it("records a zero penalty in the registry", async function () {
        const c = await drained();
        await prove(c);
        expect((await c.registry.penaltyAt(c.cheater.address, 0)).amount, "penalty amount").to.equal(0n);
      });
    });

    describe("given the equivocation in epoch 7 was proven", function () {
      it("reverts with EquivocationAlreadyProven(operator, 7) for the same pair again", async function () {
        const c = await loadFixture(deployForEquivocation);
        await prove(c);
        await revertsOracle(
          c,
          prove(c, []),
          "ReportOracle_EquivocationAlreadyProven",
          c.cheater.address,
          EQUIVOCATION_EPOCH,
        );
      });

      it("reverts with EquivocationAlreadyProven(operator, 7) for a third report of epoch 7", async function () {
        const c = await loadFixture(deployForEquivocation);
        await prove(c);
        const reportC = makeReport(EQUIVOCATION_EPOCH, 1n, { root: ethers.id("a third root") });
        const signatureC = await sign(c.cheater, c.domain, reportC);
        await revertsOracle(
          c,
          c.oracle.connect(c.keeper).proveEquivocation(c.reportA, c.signatureA, reportC, signatureC, []),
          "ReportOracle_EquivocationAlreadyProven",
          c.cheater.address,
          EQUIVOCATION_EPOCH,
        );
      });

      describe("when the operator equivocates again in epoch 8 (licenses already suspended)", function () {
        async function proveEpoch8(c: Fixture) {
          const a = makeReport(8n);
          const b = makeReport(8n, 1n, { root: ethers.id("epoch 8, other root") });
          return c.oracle
            .connect(c.keeper)
            .proveEquivocation(
              a,
              await sign(c.cheater, c.domain, a),
              b,
              await sign(c.cheater, c.domain, b),
              c.cheaterLicenses,
            );
        }

        it("slashes again (the remaining 5,000 KAI)", async function () {
          const c = await loadFixture(deployForEquivocation);
          await prove(c);
          await expect(proveEpoch8(c)).to.changeTokenBalance(c.kai, c.registry, -KAI(5_000));
        });

        it("skips the suspended licenses (no SetSuspended, no revert)", async function () {
          const c = await loadFixture(deployForEquivocation);
          await prove(c);
          await expect(proveEpoch8(c)).not.to.emit(c.license, "SetSuspended");
        });
      });
    });
  });

  describe("when the two reports are the same report", function () {
    it("reverts with NotEquivocation", async function () {
      const c = await loadFixture(deployForEquivocation);
      await expect(
        c.oracle.proveEquivocation(c.reportA, c.signatureA, c.reportA, c.signatureA, []),
      ).to.be.revertedWithCustomError(c.oracle, "ReportOracle_NotEquivocation");
    });
  });

  describe("when the two reports are of different epochs", function () {
    it("reverts with NotEquivocation", async function () {
      const c = await loadFixture(deployForEquivocation);
      const next = makeReport(EQUIVOCATION_EPOCH + 1n);
      await expect(
        c.oracle.proveEquivocation(c.reportA, c.signatureA, next, await sign(c.cheater, c.domain, next), []),
      ).to.be.revertedWithCustomError(c.oracle, "ReportOracle_NotEquivocation");
    });
  });

  describe("given an honest operator re-signed epoch 7's report after a config rotation", function () {
    // Threat 18: after a rotation, a report signed under the old version is refused, so the
    // checkers must sign the very same content again under the new version, and they do: the
    // version-2 report is accepted. The two signatures are then not equivocation: the content is
    // the same, only the version moved on. Slashing for it punishes following the protocol.
    it("reverts with NotEquivocation for its version-1 and version-2 signatures", async function () {
      const c = await loadFixture(deployForEquivocation);
      const v1 = makeReport(EQUIVOCATION_EPOCH, 1n);
      const v1Signature = await sign(c.cheater, c.domain, v1); // signed before the rotation
      await c.oracle.setCheckerConfig(
        c.operators.map((o) => o.address),
        c.quorum,
      );
      const v2 = makeReport(EQUIVOCATION_EPOCH, 2n);
      await endEpoch(c, EQUIVOCATION_EPOCH);
      await c.oracle.connect(c.keeper).submitReport(v2, await signedBy(c, v2, c.operators.slice(0, 3)));
      await expect(
        c.oracle
          .connect(c.other)
          .proveEquivocation(v1, v1Signature, v2, await sign(c.cheater, c.domain, v2), c.cheaterLicenses),
      ).to.be.revertedWithCustomError(c.oracle, "ReportOracle_NotEquivocation");
    });
  });

  describe("when the two signatures are by different operators", function () {
    it("reverts with DifferentSigners(operator 1, operator 2)", async function () {
      const c = await loadFixture(deployForEquivocation);
      const byOther = await sign(c.operators[2], c.domain, c.reportB);
      await revertsOracle(
        c,
        c.oracle.proveEquivocation(c.reportA, c.signatureA, c.reportB, byOther, []),
        "ReportOracle_DifferentSigners",
        c.cheater.address,
        c.operators[2].address,
      );
    });

    it("reverts with DifferentSigners(recoveredA, recoveredB) for signatures under another chain's domain", async function () {
      const c = await loadFixture(deployForEquivocation);
      const foreign = { ...c.domain, chainId: 1 };
      const sigA = await sign(c.cheater, foreign, c.reportA);
      const sigB = await sign(c.cheater, foreign, c.reportB);
      await revertsOracle(
        c,
        c.oracle.proveEquivocation(c.reportA, sigA, c.reportB, sigB, []),
        "ReportOracle_DifferentSigners",
        ethers.recoverAddress(c.digestA, sigA),
        ethers.recoverAddress(c.digestB, sigB),
      );
    });
  });

  describe("when a license is not delegated to the operator", function () {
    it("skips another operator's license: it stays unsuspended", async function () {
      const c = await loadFixture(deployForEquivocation);
      await prove(c, [c.cheaterLicenses[0], c.otherLicense]);
      expect(await c.license.isSuspended(c.otherLicense), "other license").to.equal(false);
      expect(await c.license.isSuspended(c.cheaterLicenses[0]), "cheater license").to.equal(true);
    });

    it("skips a license never minted (999) and still slashes", async function () {
      const c = await loadFixture(deployForEquivocation);
      await expect(prove(c, [999n])).to.emit(c.registry, "Slash");
    });

    it("skips a license that left the operator before epoch 7 started (it stays unsuspended)", async function () {
      const c = await loadFixture(deployForEquivocation);
      await c.license.undelegate(c.cheaterLicenses[0]);
      const [, until] = await c.license.departureOf(c.cheaterLicenses[0]);
      expect(until < (await epoch7Start(c)), "left before epoch 7").to.equal(true);
      await expect(prove(c))
        .to.emit(c.oracle, "ProveEquivocation")
        .withArgs(c.cheater.address, EQUIVOCATION_EPOCH, c.digestA, c.digestB, KAI(5_000), KAI(500), c.other.address);
      expect(await c.license.isSuspended(c.cheaterLicenses[0]), "license that left before").to.equal(false);
      expect(await c.license.isSuspended(c.cheaterLicenses[1]), "still delegated license").to.equal(true);
    });
  });

  describe("given the owner undelegated a license once epoch 7 had ended, to front-run the proof", function () {
    async function frontRun() {
      const c = await loadFixture(deployForEquivocation);
      await endEpoch(c, EQUIVOCATION_EPOCH);
      await c.license.undelegate(c.cheaterLicenses[0]);
      return c;
    }

    it("suspends that license too, with the evidence (SetSuspended)", async function () {
      const c = await frontRun();
      await expect(prove(c))
        .to.emit(c.license, "SetSuspended")
        .withArgs(c.cheaterLicenses[0], true, evidenceOf(c.digestA, c.digestB));
      expect(await c.license.isSuspended(c.cheaterLicenses[0]), "undelegated license").to.equal(true);
      expect(await c.license.isSuspended(c.cheaterLicenses[1]), "still delegated license").to.equal(true);
    });

    it("still slashes 5,000 KAI", async function () {
      const c = await frontRun();
      await expect(prove(c))
        .to.emit(c.oracle, "ProveEquivocation")
        .withArgs(c.cheater.address, EQUIVOCATION_EPOCH, c.digestA, c.digestB, KAI(5_000), KAI(500), c.other.address);
    });

    it("leaves it unable to be delegated again (Suspended)", async function () {
      const c = await frontRun();
      await prove(c);
      await expect(c.license.delegate(c.cheaterLicenses[0], c.other.address))
        .to.be.revertedWithCustomError(c.license, "CheckerLicense_Suspended")
        .withArgs(c.cheaterLicenses[0]);
    });

    describe("when the owner re-delegated it to a fresh key before the proof", function () {
      async function redelegated() {
        const c = await frontRun();
        const fresh = await freshWallet();
        await c.license.delegate(c.cheaterLicenses[0], fresh.address);
        return { ...c, fresh };
      }

      it("suspends it under the fresh key: the fresh key's licensesOf drops from 1 to 0", async function () {
        const c = await redelegated();
        expect(await c.license.licensesOf(c.fresh.address), "licensesOf(fresh) before").to.equal(1n);
        await prove(c);
        expect(await c.license.isSuspended(c.cheaterLicenses[0]), "suspended").to.equal(true);
        expect(await c.license.operatorOf(c.cheaterLicenses[0]), "still delegated to").to.equal(c.fresh.address);
        expect(await c.license.licensesOf(c.fresh.address), "licensesOf(fresh) after").to.equal(0n);
      });

      it("cannot launder the record by hopping on within the cooldown (DepartureCooldown)", async function () {
        const c = await redelegated();
        const [, until] = await c.license.departureOf(c.cheaterLicenses[0]);
        await expect(c.license.undelegate(c.cheaterLicenses[0]))
          .to.be.revertedWithCustomError(c.license, "CheckerLicense_DepartureCooldown")
          .withArgs(c.cheaterLicenses[0], until + DEPARTURE_COOLDOWN);
        await prove(c);
        expect(await c.license.isSuspended(c.cheaterLicenses[0]), "suspended").to.equal(true);
      });

      it("may hop on once the cooldown passed; a proof landing after that no longer finds the license", async function () {
        // The cooldown is the window a proof has, as unbonding is for the slash.
        const c = await redelegated();
        await time.increase(DEPARTURE_COOLDOWN);
        const third = await freshWallet();
        await expect(c.license.delegate(c.cheaterLicenses[0], third.address))
          .to.emit(c.license, "Delegate")
          .withArgs(c.cheaterLicenses[0], c.admin.address, third.address);
        await prove(c);
        expect(await c.license.isSuspended(c.cheaterLicenses[0]), "hopped license").to.equal(false);
      });
    });
  });

  describe("given a license left the operator exactly when epoch 7 started", function () {
    it("suspends it (a departure at or after the epoch's start counts)", async function () {
      const c = await loadFixture(deployForEquivocation);
      await time.setNextBlockTimestamp(await epoch7Start(c));
      await c.license.undelegate(c.cheaterLicenses[0]);
      await expect(prove(c))
        .to.emit(c.license, "SetSuspended")
        .withArgs(c.cheaterLicenses[0], true, evidenceOf(c.digestA, c.digestB));
    });

    it("skips it when it left one second earlier", async function () {
      const c = await loadFixture(deployForEquivocation);
      await time.setNextBlockTimestamp((await epoch7Start(c)) - 1n);
      await c.license.undelegate(c.cheaterLicenses[0]);
      await prove(c);
      expect(await c.license.isSuspended(c.cheaterLicenses[0]), "suspended").to.equal(false);
    });
  });

  describe("given a license of operator 2 that left it during epoch 7", function () {
    it("is skipped: its former operator is not the equivocator", async function () {
      const c = await loadFixture(deployForEquivocation);
      await endEpoch(c, EQUIVOCATION_EPOCH);
      await c.license.undelegate(c.otherLicense);
      await prove(c, [c.otherLicense]);
      expect(await c.license.isSuspended(c.otherLicense), "other license").to.equal(false);
    });
  });

  describe("when the operator is in the current set (index 1 of 4, quorum 3)", function () {
    it("excludes it: ExcludeOperator(1, 1, operator, EQUIVOCATION, 3 live, new pointer)", async function () {
      const c = await loadFixture(deployForEquivocation);
      const pointer = await nextPointer(c.oracle);
      await expect(prove(c))
        .to.emit(c.oracle, "ExcludeOperator")
        .withArgs(1n, 1n, c.cheater.address, EXCLUDED.EQUIVOCATION, 3n, pointer);
    });

    it("tombstones its entry in checkers() and keeps config version 1", async function () {
      const c = await loadFixture(deployForEquivocation);
      await prove(c);
      const expected = c.operators.map((o) => (o === c.cheater ? ethers.ZeroAddress : o.address));
      expect(await c.oracle.checkers(), "checkers").to.deep.equal(expected);
      expect((await c.oracle.config()).version, "version").to.equal(1n);
    });

    it("marks the key an equivocator (isEquivocator)", async function () {
      const c = await loadFixture(deployForEquivocation);
      expect(await c.oracle.isEquivocator(c.cheater.address), "before").to.equal(false);
      await prove(c);
      expect(await c.oracle.isEquivocator(c.cheater.address), "after").to.equal(true);
    });

    it("stops counting its signature: ExcludedSigner(1, 1) for a report it co-signed", async function () {
      const c = await loadFixture(deployForEquivocation);
      await prove(c);
      await endEpoch(c, EQUIVOCATION_EPOCH);
      const records = await recordsOf(c, c.reportA, c.operators.slice(0, 3));
      await revertsOracle(c, c.oracle.submitReport(c.reportA, packRaw(records)), "ReportOracle_ExcludedSigner", 1n, 1n);
    });

    it("still accepts the report of the three other operators", async function () {
      const c = await loadFixture(deployForEquivocation);
      await prove(c);
      await endEpoch(c, EQUIVOCATION_EPOCH);
      const others = c.operators.filter((o) => o !== c.cheater);
      await expect(submitSigned(c, c.reportA, others)).to.emit(c.oracle, "SubmitReport");
    });

    it("is refused by a later setCheckerConfig: OperatorEquivocated(operator)", async function () {
      const c = await loadFixture(deployForEquivocation);
      await prove(c);
      await revertsOracle(
        c,
        c.oracle.setCheckerConfig(
          c.operators.map((o) => o.address),
          3,
        ),
        "ReportOracle_OperatorEquivocated",
        c.cheater.address,
      );
    });

    it("excludes it once: a proof for epoch 8 emits no ExcludeOperator", async function () {
      const c = await loadFixture(deployForEquivocation);
      await prove(c);
      const a = makeReport(8n);
      const b = makeReport(8n, 1n, { root: ethers.id("epoch 8, other root") });
      await expect(
        c.oracle.proveEquivocation(a, await sign(c.cheater, c.domain, a), b, await sign(c.cheater, c.domain, b), []),
      ).not.to.emit(c.oracle, "ExcludeOperator");
    });

    describe("given the quorum is 4 of 4", function () {
      it("emits CheckerQuorumLost(2, 3 live, quorum 4): reports stall until a new config", async function () {
        const c = await loadFixture(deployForEquivocation);
        await c.oracle.setCheckerConfig(
          c.operators.map((o) => o.address),
          4,
        );
        const a = makeReport(EQUIVOCATION_EPOCH, 2n);
        const b = makeReport(EQUIVOCATION_EPOCH, 2n, { root: ethers.id("a different root") });
        await expect(
          c.oracle.proveEquivocation(a, await sign(c.cheater, c.domain, a), b, await sign(c.cheater, c.domain, b), []),
        )
          .to.emit(c.oracle, "CheckerQuorumLost")
          .withArgs(2n, 3n, 4n);
      });
    });
  });

  describe("when the operator is not in the current set (rotated out)", function () {
    it("slashes it and excludes no one", async function () {
      const c = await loadFixture(deployForEquivocation);
      const others = c.operators.filter((o) => o !== c.cheater);
      await c.oracle.setCheckerConfig(
        others.map((o) => o.address),
        3,
      );
      const tx = prove(c);
      await expect(tx).to.emit(c.oracle, "ProveEquivocation");
      await expect(tx).not.to.emit(c.oracle, "ExcludeOperator");
      expect(await c.oracle.checkers(), "checkers").to.deep.equal(others.map((o) => o.address));
    });
  });

  describe("when the operator proves its own equivocation", function () {
    it("slashes it in full and pays no bounty", async function () {
      const c = await loadFixture(deployForEquivocation);
      await expect(
        c.oracle
          .connect(c.cheater)
          .proveEquivocation(c.reportA, c.signatureA, c.reportB, c.signatureB, c.cheaterLicenses),
      )
        .to.emit(c.oracle, "ProveEquivocation")
        .withArgs(c.cheater.address, EQUIVOCATION_EPOCH, c.digestA, c.digestB, KAI(5_000), 0n, c.cheater.address);
    });
  });

  describe("when a signature has the wrong length", function () {
    it("reverts with InvalidSignatureLength(64) for a compact signature A", async function () {
      const c = await loadFixture(deployForEquivocation);
      const compact = ethers.Signature.from(c.signatureA).compactSerialized;
      await revertsOracle(
        c,
        c.oracle.proveEquivocation(c.reportA, compact, c.reportB, c.signatureB, []),
        "ReportOracle_InvalidSignatureLength",
        64,
      );
    });

    it("reverts with InvalidSignatureLength(66) for a signature B with an index byte", async function () {
      const c = await loadFixture(deployForEquivocation);
      const indexed = ethers.concat(["0x01", c.signatureB]);
      await revertsOracle(
        c,
        c.oracle.proveEquivocation(c.reportA, c.signatureA, c.reportB, indexed, []),
        "ReportOracle_InvalidSignatureLength",
        66,
      );
    });

    it("reverts with InvalidSignatureLength(0) for an empty signature B", async function () {
      const c = await loadFixture(deployForEquivocation);
      await revertsOracle(
        c,
        c.oracle.proveEquivocation(c.reportA, c.signatureA, c.reportB, "0x", []),
        "ReportOracle_InvalidSignatureLength",
        0,
      );
    });
  });

  describe("when a signature is malformed", function () {
    it("reverts with MalleableSignature(0) for the high-s twin of signature A", async function () {
      const c = await loadFixture(deployForEquivocation);
      await revertsOracle(
        c,
        c.oracle.proveEquivocation(c.reportA, toHighS(c.signatureA), c.reportB, c.signatureB, []),
        "ReportOracle_MalleableSignature",
        0,
      );
    });

    it("reverts with MalleableSignature(1) for the high-s twin of signature B", async function () {
      const c = await loadFixture(deployForEquivocation);
      await revertsOracle(
        c,
        c.oracle.proveEquivocation(c.reportA, c.signatureA, c.reportB, toHighS(c.signatureB), []),
        "ReportOracle_MalleableSignature",
        1,
      );
    });

    it("reverts with InvalidSignature(1) for v = 29 in signature B", async function () {
      const c = await loadFixture(deployForEquivocation);
      await revertsOracle(
        c,
        c.oracle.proveEquivocation(c.reportA, c.signatureA, c.reportB, withParts(c.signatureB, { v: 29 }), []),
        "ReportOracle_InvalidSignature",
        1,
      );
    });
  });

  it("the fixture's digests are the oracle's (off-chain encoder sanity)", async function () {
    const c = await loadFixture(deployForEquivocation);
    expect(await c.oracle.reportDigest(c.reportB), "digestB").to.equal(reportDigest(c.domain, c.reportB));
  });
});
