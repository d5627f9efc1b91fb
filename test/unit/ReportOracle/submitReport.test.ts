import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import {
  endEpoch,
  EPOCH_LENGTH,
  HALVING_EPOCHS,
  INITIAL_EMISSION,
  makeReport,
  revertsOracle,
  signedBy,
  submitSigned,
} from "../../helpers/oracle";
import {
  MAX_SET_QUORUM,
  REPORTED_EPOCH,
  deployWith255Checkers,
  deployWithFourCheckers,
  deployWithFourOperators,
  deployWithReportedEpoch,
  deployWithRotation,
  budgetOf,
  deployWithTwinOracle,
  freshWallet,
  packCompact,
  packRaw,
  recordsOf,
  revertOf,
  runningAt,
  sign,
  toHighS,
  withParts,
  type RawRecord,
} from "../../helpers/oracleTests";
import { packSignatures, reportDigest, type Report } from "../../../offchain/src/report";
import type { WithCheckers } from "../../helpers/oracle";

/** The epoch most tests report: ended by `endEpoch` before submitting. */
const EPOCH = 3n;

/** Ends `EPOCH` and returns a report for it signed by operators 0, 1 and 2 as raw records. */
async function readyReport(c: WithCheckers, overrides: Partial<Report> = {}) {
  const report = makeReport(EPOCH, 1n, overrides);
  await endEpoch(c, EPOCH);
  const records = await recordsOf(c, report, [c.operators[0], c.operators[1], c.operators[2]]);
  return { report, records };
}

describe("ReportOracle.submitReport", function () {
  describe("given four checkers with quorum 3 and the epoch ended", function () {
    describe("when a keeper with no role submits a report signed by operators 0, 2 and 3", function () {
      async function submitted() {
        const c = await loadFixture(deployWithFourCheckers);
        const report = makeReport(EPOCH);
        await endEpoch(c, EPOCH);
        const signatures = await signedBy(c, report, [c.operators[0], c.operators[2], c.operators[3]]);
        const tx = c.oracle.connect(c.keeper).submitReport(report, signatures);
        return { c, report, tx };
      }

      it("emits SubmitReport with the signer bitmap 0b1101 and the submitter", async function () {
        const { c, report, tx } = await submitted();
        await expect(tx)
          .to.emit(c.oracle, "SubmitReport")
          .withArgs(EPOCH, 1n, report.root, report.nodeCount, report.totalReward, 0b1101n, c.keeper.address);
      });

      it("stores the root (reportRoot)", async function () {
        const { c, report, tx } = await submitted();
        await tx;
        expect(await c.oracle.reportRoot(EPOCH), "reportRoot").to.equal(report.root);
      });

      it("records the epoch (config().lastEpoch, anyReport)", async function () {
        const { c, tx } = await submitted();
        await tx;
        expect(await c.oracle.config(), "config").to.deep.equal([1n, 3n, EPOCH, true]);
      });
    });

    describe("when all four operators sign (more than the quorum)", function () {
      it("emits the bitmap 0b1111", async function () {
        const c = await loadFixture(deployWithFourCheckers);
        const report = makeReport(EPOCH);
        await endEpoch(c, EPOCH);
        await expect(c.oracle.connect(c.other).submitReport(report, await signedBy(c, report, c.operators)))
          .to.emit(c.oracle, "SubmitReport")
          .withArgs(EPOCH, 1n, report.root, report.nodeCount, report.totalReward, 0b1111n, c.other.address);
      });
    });

    it("reportDigest equals the off-chain EIP-712 encoder's digest", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const report = makeReport(EPOCH);
      expect(await c.oracle.reportDigest(report), "digest").to.equal(reportDigest(c.domain, report));
    });

    describe("when the report is epoch 0, the first ever", function () {
      it("is accepted (anyReport true, lastEpoch 0)", async function () {
        const c = await loadFixture(deployWithFourCheckers);
        const report = makeReport(0n);
        await endEpoch(c, 0n);
        await submitSigned(c, report);
        expect(await c.oracle.config(), "config").to.deep.equal([1n, 3n, 0n, true]);
      });

      it("cannot be submitted twice (AlreadyProcessed(0))", async function () {
        const c = await loadFixture(deployWithFourCheckers);
        const report = makeReport(0n);
        await endEpoch(c, 0n);
        const signatures = await signedBy(c, report, c.operators.slice(0, 3));
        await c.oracle.submitReport(report, signatures);
        await revertsOracle(c, c.oracle.submitReport(report, signatures), "ReportOracle_AlreadyProcessed", 0n);
      });
    });

    describe("when the total reward equals the epoch's budget", function () {
      it("is accepted", async function () {
        const c = await loadFixture(deployWithFourCheckers);
        const { report, records } = await readyReport(c, { totalReward: budgetOf(EPOCH) });
        await expect(c.oracle.submitReport(report, packRaw(records))).to.emit(c.oracle, "SubmitReport");
      });
    });
  });

  describe("given the maximum set (255 checkers, quorum 169)", function () {
    describe("when the last 169 operators (indexes 86..254) sign", function () {
      it("emits the bitmap with bits 86..254 set", async function () {
        const c = await loadFixture(deployWith255Checkers);
        const epoch = 20n;
        const report = makeReport(epoch);
        await endEpoch(c, epoch);
        const signers = c.wallets.slice(255 - MAX_SET_QUORUM);
        const signed = await Promise.all(
          signers.map(async (w) => ({ signer: w.address, signature: await sign(w, c.domain, report) })),
        );
        const signatures = packSignatures(
          c.wallets.map((w) => w.address),
          signed,
        );
        const bitmap = ((1n << BigInt(MAX_SET_QUORUM)) - 1n) << BigInt(255 - MAX_SET_QUORUM);
        await expect(c.oracle.connect(c.keeper).submitReport(report, signatures))
          .to.emit(c.oracle, "SubmitReport")
          .withArgs(epoch, 1n, report.root, report.nodeCount, report.totalReward, bitmap, c.keeper.address);
      });
    });
  });

  describe("when the signatures bind another EIP-712 domain (threat 15)", function () {
    it("reverts with UnknownSigner(0, 0, recovered) for a domain with chain id 1", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const report = makeReport(EPOCH);
      await endEpoch(c, EPOCH);
      const foreign = { ...c.domain, chainId: 1 };
      const records: RawRecord[] = [];
      for (const i of [0, 1, 2]) records.push({ index: i, signature: await sign(c.operators[i], foreign, report) });
      const recovered = ethers.recoverAddress(reportDigest(c.domain, report), records[0].signature);
      await revertsOracle(
        c,
        c.oracle.submitReport(report, packRaw(records)),
        "ReportOracle_UnknownSigner",
        0,
        0,
        recovered,
      );
    });

    it("reverts with UnknownSigner(0, 0, recovered) when the first oracle's signatures are replayed on a twin", async function () {
      const c = await loadFixture(deployWithTwinOracle);
      const report = makeReport(EPOCH);
      await endEpoch(c, EPOCH);
      const signatures = await signedBy(c, report, c.operators.slice(0, 3));
      await c.oracle.submitReport(report, signatures);
      const first = ethers.dataSlice(signatures, 1, 66);
      const recovered = ethers.recoverAddress(reportDigest(c.twinDomain, report), first);
      await expect(c.twin.submitReport(report, signatures))
        .to.be.revertedWithCustomError(c.twin, "ReportOracle_UnknownSigner")
        .withArgs(0, 0, recovered);
    });

    it("the twin accepts the same report signed for its own domain", async function () {
      const c = await loadFixture(deployWithTwinOracle);
      const report = makeReport(EPOCH);
      await endEpoch(c, EPOCH);
      const records: RawRecord[] = [];
      for (const i of [0, 1, 2])
        records.push({ index: i, signature: await sign(c.operators[i], c.twinDomain, report) });
      await expect(c.twin.submitReport(report, packRaw(records))).to.emit(c.twin, "SubmitReport");
    });
  });

  describe("given epoch 3 was reported (threat 14)", function () {
    it("reverts with AlreadyProcessed(3) on a replay of the accepted report", async function () {
      const c = await loadFixture(deployWithReportedEpoch);
      const signatures = await signedBy(c, c.reported, c.operators.slice(0, 3));
      await revertsOracle(
        c,
        c.oracle.submitReport(c.reported, signatures),
        "ReportOracle_AlreadyProcessed",
        REPORTED_EPOCH,
      );
    });

    it("reverts with AlreadyProcessed(3) for a different report of epoch 3, also quorum-signed", async function () {
      const c = await loadFixture(deployWithReportedEpoch);
      const other = makeReport(REPORTED_EPOCH, 1n, { root: ethers.id("another root") });
      await revertsOracle(
        c,
        submitSigned(c, other, c.operators.slice(1)),
        "ReportOracle_AlreadyProcessed",
        REPORTED_EPOCH,
      );
    });

    it("keeps the accepted root after a rejected conflicting report", async function () {
      const c = await loadFixture(deployWithReportedEpoch);
      const other = makeReport(REPORTED_EPOCH, 1n, { root: ethers.id("another root") });
      await expect(submitSigned(c, other, c.operators.slice(1))).to.be.reverted;
      expect(await c.oracle.reportRoot(REPORTED_EPOCH), "reportRoot").to.equal(c.reported.root);
    });

    for (const older of [2n, 0n]) {
      it(`reverts with StaleEpoch(${older}, 3) for the older epoch ${older}`, async function () {
        const c = await loadFixture(deployWithReportedEpoch);
        const report = makeReport(older);
        await revertsOracle(c, submitSigned(c, report), "ReportOracle_StaleEpoch", older, REPORTED_EPOCH);
      });
    }

    describe("when epoch 6 is reported next (epochs 4 and 5 skipped)", function () {
      it("is accepted", async function () {
        const c = await loadFixture(deployWithReportedEpoch);
        const report = makeReport(6n);
        await endEpoch(c, 6n);
        await expect(submitSigned(c, report))
          .to.emit(c.oracle, "SubmitReport")
          .withArgs(6n, 1n, report.root, report.nodeCount, report.totalReward, 0b111n, c.admin.address);
      });

      it("moves lastEpoch to 6 and leaves the skipped epochs without a root", async function () {
        const c = await loadFixture(deployWithReportedEpoch);
        const report = makeReport(6n);
        await endEpoch(c, 6n);
        await submitSigned(c, report);
        expect(await c.oracle.config(), "config").to.deep.equal([1n, 3n, 6n, true]);
        expect(await c.oracle.reportRoot(4n), "reportRoot(4)").to.equal(ethers.ZeroHash);
        expect(await c.oracle.reportRoot(5n), "reportRoot(5)").to.equal(ethers.ZeroHash);
      });

      it("then refuses a skipped epoch with StaleEpoch(4, 6)", async function () {
        const c = await loadFixture(deployWithReportedEpoch);
        const report = makeReport(6n);
        await endEpoch(c, 6n);
        await submitSigned(c, report);
        const skipped = makeReport(4n);
        await revertsOracle(c, submitSigned(c, skipped), "ReportOracle_StaleEpoch", 4n, 6n);
      });
    });
  });

  describe("when the epoch has not ended (threat 37: future epoch)", function () {
    it("reverts with EpochNotEnded(epoch, endsAt) for the running epoch", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const { epoch, endsAt } = await runningAt(c, BigInt(await time.latest()) + 1n);
      const report = makeReport(epoch);
      await revertsOracle(c, submitSigned(c, report), "ReportOracle_EpochNotEnded", epoch, endsAt);
    });

    it("reverts with EpochNotEnded one second before the epoch ends", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const endsAt = c.genesis + (EPOCH + 1n) * BigInt(EPOCH_LENGTH);
      await runningAt(c, endsAt - 1n);
      const report = makeReport(EPOCH);
      await revertsOracle(c, submitSigned(c, report), "ReportOracle_EpochNotEnded", EPOCH, endsAt);
    });

    it("accepts the report at the very second the epoch ends", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const endsAt = c.genesis + (EPOCH + 1n) * BigInt(EPOCH_LENGTH);
      await runningAt(c, endsAt);
      const report = makeReport(EPOCH);
      await expect(submitSigned(c, report)).to.emit(c.oracle, "SubmitReport");
    });

    it("reverts with EpochNotEnded(epoch, never) for an epoch beyond 40 bits (2^200)", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const epoch = 2n ** 200n;
      const report = makeReport(epoch);
      await revertsOracle(c, submitSigned(c, report), "ReportOracle_EpochNotEnded", epoch, ethers.MaxUint256);
    });

    it("reverts with EpochNotEnded (not an overflow panic) for epoch 2^256 - 1", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const report = makeReport(ethers.MaxUint256);
      await revertsOracle(
        c,
        submitSigned(c, report),
        "ReportOracle_EpochNotEnded",
        ethers.MaxUint256,
        ethers.MaxUint256,
      );
    });

    it("reverts with EpochNotEnded and the real end for a near-future epoch (2^39)", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const epoch = 2n ** 39n;
      const report = makeReport(epoch);
      await revertsOracle(
        c,
        submitSigned(c, report),
        "ReportOracle_EpochNotEnded",
        epoch,
        c.genesis + (epoch + 1n) * BigInt(EPOCH_LENGTH),
      );
    });
  });

  describe("when the config version is wrong (threat 18)", function () {
    it("reverts with WrongConfigVersion(0, 0) before any checker set", async function () {
      const c = await loadFixture(deployWithFourOperators);
      await revertsOracle(
        c,
        c.oracle.submitReport(makeReport(0n, 0n), "0x"),
        "ReportOracle_WrongConfigVersion",
        0n,
        0n,
      );
    });

    it("reverts with WrongConfigVersion(2, 1) for a future version", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const report = makeReport(EPOCH, 2n);
      await endEpoch(c, EPOCH);
      await revertsOracle(c, submitSigned(c, report), "ReportOracle_WrongConfigVersion", 2n, 1n);
    });

    describe("given governance rotated the set (operator 0 removed, version 2)", function () {
      it("reverts with WrongConfigVersion(1, 2) for a report signed under version 1", async function () {
        const c = await loadFixture(deployWithRotation);
        const report = makeReport(EPOCH, 1n);
        await endEpoch(c, EPOCH);
        await revertsOracle(c, submitSigned(c, report), "ReportOracle_WrongConfigVersion", 1n, 2n);
      });

      it("reverts with UnknownSigner(0, 0, removed) when the removed operator signs at its old index", async function () {
        const c = await loadFixture(deployWithRotation);
        const report = makeReport(EPOCH, 2n);
        await endEpoch(c, EPOCH);
        const records: RawRecord[] = [
          { index: 0, signature: await sign(c.removed, c.domain, report) },
          { index: 1, signature: await sign(c.kept[1], c.domain, report) },
          { index: 2, signature: await sign(c.kept[2], c.domain, report) },
        ];
        await revertsOracle(
          c,
          c.oracle.submitReport(report, packRaw(records)),
          "ReportOracle_UnknownSigner",
          0,
          0,
          c.removed.address,
        );
      });

      it("reverts with UnknownSigner(2, 3, removed) when the removed operator signs at its old last index", async function () {
        const c = await loadFixture(deployWithRotation);
        const report = makeReport(EPOCH, 2n);
        await endEpoch(c, EPOCH);
        // Old set: operators 0..3; the removed one was 0, so claim the index the new set lacks (3).
        const records: RawRecord[] = [
          { index: 0, signature: await sign(c.kept[0], c.domain, report) },
          { index: 1, signature: await sign(c.kept[1], c.domain, report) },
          { index: 3, signature: await sign(c.removed, c.domain, report) },
        ];
        await revertsOracle(
          c,
          c.oracle.submitReport(report, packRaw(records)),
          "ReportOracle_UnknownSigner",
          2,
          3,
          c.removed.address,
        );
      });

      it("accepts a version-2 report signed by the new set at its new indexes", async function () {
        const c = await loadFixture(deployWithRotation);
        const report = makeReport(EPOCH, 2n);
        await endEpoch(c, EPOCH);
        const records: RawRecord[] = [];
        for (const [i, w] of c.kept.entries()) records.push({ index: i, signature: await sign(w, c.domain, report) });
        await expect(c.oracle.connect(c.keeper).submitReport(report, packRaw(records)))
          .to.emit(c.oracle, "SubmitReport")
          .withArgs(EPOCH, 2n, report.root, report.nodeCount, report.totalReward, 0b111n, c.keeper.address);
      });
    });
  });

  describe("when one operator signs twice, or indexes do not strictly increase", function () {
    // Each record is operator i's own valid signature at index i: only the order is wrong.
    const CASES: { name: string; indexes: number[]; position: number; index: number }[] = [
      { name: "the first two are the same signer", indexes: [0, 0, 1], position: 1, index: 0 },
      { name: "two in the middle are the same signer", indexes: [0, 1, 1, 2], position: 2, index: 1 },
      { name: "the last two are the same signer", indexes: [0, 1, 2, 2], position: 3, index: 2 },
      { name: "one signer fills the quorum alone", indexes: [2, 2, 2], position: 1, index: 2 },
      { name: "the first two are out of order", indexes: [1, 0, 2], position: 1, index: 0 },
      { name: "the last two are out of order", indexes: [0, 2, 1], position: 2, index: 1 },
    ];
    for (const { name, indexes, position, index } of CASES) {
      it(`reverts with DuplicateSigner(${position}, ${index}) when ${name}`, async function () {
        const c = await loadFixture(deployWithFourCheckers);
        const report = makeReport(EPOCH);
        await endEpoch(c, EPOCH);
        const records: RawRecord[] = [];
        for (const i of indexes) records.push({ index: i, signature: await sign(c.operators[i], c.domain, report) });
        await revertsOracle(
          c,
          c.oracle.submitReport(report, packRaw(records)),
          "ReportOracle_DuplicateSigner",
          position,
          index,
        );
      });
    }
  });

  describe("when a signature is not by the operator at its index", function () {
    it("reverts with UnknownSigner(1, 1, stranger) for a wallet outside the set", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const { report, records } = await readyReport(c);
      const stranger = await freshWallet();
      records[1] = { index: 1, signature: await sign(stranger, c.domain, report) };
      await revertsOracle(
        c,
        c.oracle.submitReport(report, packRaw(records)),
        "ReportOracle_UnknownSigner",
        1,
        1,
        stranger.address,
      );
    });

    for (const index of [4, 255]) {
      it(`reverts with UnknownSigner(2, ${index}, operator) for an index >= n (${index})`, async function () {
        const c = await loadFixture(deployWithFourCheckers);
        const { report, records } = await readyReport(c);
        records[2] = { index, signature: await sign(c.operators[3], c.domain, report) };
        await revertsOracle(
          c,
          c.oracle.submitReport(report, packRaw(records)),
          "ReportOracle_UnknownSigner",
          2,
          index,
          c.operators[3].address,
        );
      });
    }

    it("reverts with UnknownSigner(1, 1, operator 2) for an index pointing at another operator", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const report = makeReport(EPOCH);
      await endEpoch(c, EPOCH);
      const records: RawRecord[] = [
        { index: 0, signature: await sign(c.operators[0], c.domain, report) },
        { index: 1, signature: await sign(c.operators[2], c.domain, report) },
        { index: 3, signature: await sign(c.operators[3], c.domain, report) },
      ];
      await revertsOracle(
        c,
        c.oracle.submitReport(report, packRaw(records)),
        "ReportOracle_UnknownSigner",
        1,
        1,
        c.operators[2].address,
      );
    });

    it("reverts with UnknownSigner(2, 2, recovered) for a signature over another report", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const { report, records } = await readyReport(c);
      const signedElse = await sign(c.operators[2], c.domain, { ...report, nodeCount: report.nodeCount + 1n });
      records[2] = { index: 2, signature: signedElse };
      const recovered = ethers.recoverAddress(reportDigest(c.domain, report), signedElse);
      await revertsOracle(
        c,
        c.oracle.submitReport(report, packRaw(records)),
        "ReportOracle_UnknownSigner",
        2,
        2,
        recovered,
      );
    });
  });

  describe("when fewer operators than the quorum sign", function () {
    it("reverts with BelowQuorum(2, 3) for two signatures", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const { report, records } = await readyReport(c);
      await revertsOracle(
        c,
        c.oracle.submitReport(report, packRaw(records.slice(0, 2))),
        "ReportOracle_BelowQuorum",
        2,
        3,
      );
    });

    it("reverts with BelowQuorum(0, 3) for no signature", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const { report } = await readyReport(c);
      await revertsOracle(c, c.oracle.submitReport(report, "0x"), "ReportOracle_BelowQuorum", 0, 3);
    });
  });

  describe("when a signature is malformed", function () {
    it("reverts with MalleableSignature(1) for the high-s twin of a valid signature", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const { report, records } = await readyReport(c);
      records[1] = { index: 1, signature: toHighS(records[1].signature) };
      await revertsOracle(c, c.oracle.submitReport(report, packRaw(records)), "ReportOracle_MalleableSignature", 1);
    });

    const GARBAGE: { name: string; parts: Parameters<typeof withParts>[1] }[] = [
      { name: "v = 29", parts: { v: 29 } },
      { name: "v = 0", parts: { v: 0 } },
      { name: "r = 0", parts: { r: ethers.ZeroHash } },
      { name: "s = 0", parts: { s: ethers.ZeroHash } },
      { name: "r = 2^256 - 1 (above the curve order)", parts: { r: ethers.toBeHex(ethers.MaxUint256, 32) } },
    ];
    for (const { name, parts } of GARBAGE) {
      it(`reverts with InvalidSignature(2) for ${name}`, async function () {
        const c = await loadFixture(deployWithFourCheckers);
        const { report, records } = await readyReport(c);
        records[2] = { index: 2, signature: withParts(records[2].signature, parts) };
        await revertsOracle(c, c.oracle.submitReport(report, packRaw(records)), "ReportOracle_InvalidSignature", 2);
      });
    }
  });

  describe("when the packed signatures are not a multiple of 66 bytes", function () {
    it("reverts with InvalidSignatureLength(195) for compact 64-byte (EIP-2098) signatures", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const { report, records } = await readyReport(c);
      await revertsOracle(
        c,
        c.oracle.submitReport(report, packCompact(records)),
        "ReportOracle_InvalidSignatureLength",
        195,
      );
    });

    it("reverts with InvalidSignatureLength(195) for plain 65-byte signatures without indexes", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const { report, records } = await readyReport(c);
      await revertsOracle(
        c,
        c.oracle.submitReport(report, ethers.concat(records.map((r) => r.signature))),
        "ReportOracle_InvalidSignatureLength",
        195,
      );
    });

    it("reverts with InvalidSignatureLength(199) for one trailing byte", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const { report, records } = await readyReport(c);
      await revertsOracle(
        c,
        c.oracle.submitReport(report, ethers.concat([packRaw(records), "0x00"])),
        "ReportOracle_InvalidSignatureLength",
        199,
      );
    });

    it("reverts with InvalidSignatureLength(197) for one byte missing", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const { report, records } = await readyReport(c);
      await revertsOracle(
        c,
        c.oracle.submitReport(report, ethers.dataSlice(packRaw(records), 0, 197)),
        "ReportOracle_InvalidSignatureLength",
        197,
      );
    });
  });

  describe("when the report's content is out of range", function () {
    it("reverts with ZeroRoot for a zero root, even quorum-signed", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const { report, records } = await readyReport(c, { root: ethers.ZeroHash });
      await expect(c.oracle.submitReport(report, packRaw(records))).to.be.revertedWithCustomError(
        c.oracle,
        "ReportOracle_ZeroRoot",
      );
    });

    it("reverts with RewardAboveBudget(3, budget + 1, budget) 1 wei above the budget", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const budget = budgetOf(EPOCH); // 100,000 KAI: no halving before epoch 26
      const { report, records } = await readyReport(c, { totalReward: budget + 1n });
      await revertsOracle(
        c,
        c.oracle.submitReport(report, packRaw(records)),
        "ReportOracle_RewardAboveBudget",
        EPOCH,
        budget + 1n,
        budget,
      );
    });

    it("reverts with RewardAboveBudget at epoch 26 for the pre-halving budget (100,000 > 50,000 KAI)", async function () {
      const c = await loadFixture(deployWithFourCheckers);
      const epoch = HALVING_EPOCHS;
      const report = makeReport(epoch, 1n, { totalReward: INITIAL_EMISSION });
      await endEpoch(c, epoch);
      await revertsOracle(
        c,
        submitSigned(c, report),
        "ReportOracle_RewardAboveBudget",
        epoch,
        INITIAL_EMISSION,
        INITIAL_EMISSION / 2n,
      );
    });
  });

  describe("when two keepers submit the same report in one block (threat 38)", function () {
    async function race() {
      const c = await loadFixture(deployWithFourCheckers);
      const report = makeReport(EPOCH);
      await endEpoch(c, EPOCH);
      const signatures = await signedBy(c, report, c.operators.slice(0, 3));
      await network.provider.send("evm_setAutomine", [false]);
      try {
        const first = await c.oracle.connect(c.keeper).submitReport(report, signatures, { gasLimit: 1_000_000 });
        const second = await c.oracle.connect(c.other).submitReport(report, signatures, { gasLimit: 1_000_000 });
        await network.provider.send("evm_mine", []);
        const receipts = await Promise.all([first, second].map((tx) => ethers.provider.getTransactionReceipt(tx.hash)));
        return { c, report, txs: [first, second], receipts: receipts.map((r) => r!) };
      } finally {
        await network.provider.send("evm_setAutomine", [true]);
      }
    }

    it("mines both in the same block", async function () {
      const { receipts } = await race();
      expect(receipts[0].blockNumber, "block").to.equal(receipts[1].blockNumber);
    });

    it("exactly one succeeds", async function () {
      const { receipts } = await race();
      expect(receipts.map((r) => r.status).sort(), "statuses").to.deep.equal([0, 1]);
    });

    it("the other reverts with AlreadyProcessed(3)", async function () {
      const { c, txs, receipts } = await race();
      const loser = txs[receipts.findIndex((r) => r.status === 0)];
      expect(await revertOf(c, loser.hash), "revert").to.deep.equal(["ReportOracle_AlreadyProcessed", EPOCH]);
    });

    it("the loser spends less gas than the winner (it stops before checking signatures)", async function () {
      const { receipts } = await race();
      const winner = receipts.find((r) => r.status === 1)!;
      const loser = receipts.find((r) => r.status === 0)!;
      expect(loser.gasUsed, "loser gas").to.be.lessThan(winner.gasUsed);
    });

    it("stores the root once, with the winner as submitter in the one SubmitReport event", async function () {
      const { c, report, txs, receipts } = await race();
      const winner = receipts.findIndex((r) => r.status === 1);
      const events = await c.oracle.queryFilter(c.oracle.filters.SubmitReport(), receipts[0].blockNumber);
      expect(
        events.map((e) => [e.args.epoch, e.args.root, e.args.submitter]),
        "SubmitReport events",
      ).to.deep.equal([[EPOCH, report.root, txs[winner].from]]);
    });
  });
});
