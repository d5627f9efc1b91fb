/**
 * Every report-validation rule of `ReportOracle.submitReport` as one table. Each row starts from
 * a submission its fixture's oracle accepts as is (the controls below prove that), breaks one
 * rule, and names the custom error with its exact arguments. After each rejection the oracle's
 * state (config and the epoch's root) must be what it was before.
 *
 * To add a rule: append a row to ROWS. If it needs a state no fixture has, add a fixture that
 * returns a `Ctx` (and a control for it to CONTROLS), then name it in the row's `given`.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { BaseWallet, HDNodeWallet, TypedDataDomain } from "ethers";

import type { ReportOracle } from "../../../typechain-types";
import type { Report } from "../../../offchain/src/report";
import { EPOCH_LENGTH, INITIAL_EMISSION, endEpoch, makeReport, type WithCheckers } from "../../helpers/oracle";
import {
  REPORTED_EPOCH,
  budgetOf,
  deployWithReportedEpoch,
  deployWithRotation,
  deployWithTwinOracle,
  packCompact,
  packRaw,
  recordsAt,
  runningAt,
  signatureAt,
  toHighS,
  withParts,
  type RawRecord,
} from "../../helpers/oracleTests";

/** The epoch the `fourCheckers` and `rotated` fixtures report (ended, not yet reported). */
const EPOCH = 3n;
/** The epoch the `reported` fixture reports next (ended, after the accepted `REPORTED_EPOCH`). */
const NEXT_EPOCH = REPORTED_EPOCH + 1n;
/** Signs anything, holds no license, is in no checker set. */
const STRANGER = new ethers.Wallet(ethers.id("a stranger to every checker set"));

/* -------------------------------------------------------------------------- */
/*                                    TYPES                                   */
/* -------------------------------------------------------------------------- */

/** What a row starts from: a deployment and a quorum-signed report its `oracle` accepts as is. */
interface Ctx {
  c: WithCheckers; // c.operators: the four checkers of config version 1 (sorted)
  oracle: ReportOracle; // the oracle the valid submission targets
  domain: TypedDataDomain; // its EIP-712 domain
  set: HDNodeWallet[]; // its current checker set, in index order
  quorum: number;
  report: Report; // an ended, unreported epoch under the current config version
  records: RawRecord[]; // set[0 .. quorum - 1], each at its own index: a valid quorum for `report`
  twin?: { oracle: ReportOracle; domain: TypedDataDomain }; // `fourCheckers`: same set, another address
  accepted?: Report; // `reported`: the accepted report of REPORTED_EPOCH
  removed?: HDNodeWallet; // `rotated`: operator 0 of version 1, not in version 2
}

/** What a row submits: a report, its packed signatures, and the oracle they go to. */
interface Submission {
  report: Report;
  signatures: string;
  oracle: ReportOracle;
}

type OracleError = `ReportOracle_${string}`;

interface Row {
  rule: string;
  given: () => Promise<Ctx>; // a fixture below (loadFixture snapshots it once)
  build: (ctx: Ctx) => Promise<Submission>; // the bad submission, from the valid one
  error: OracleError;
  args: (ctx: Ctx, sub: Submission) => unknown[] | Promise<unknown[]>; // the error's exact arguments
}

/* -------------------------------------------------------------------------- */
/*                                   HELPERS                                  */
/* -------------------------------------------------------------------------- */

/** `ctx`'s valid submission with some parts changed (`records` are packed as given). */
function submission(ctx: Ctx, change: Partial<Submission> & { records?: RawRecord[] } = {}): Submission {
  return {
    report: change.report ?? ctx.report,
    signatures: change.signatures ?? packRaw(change.records ?? ctx.records),
    oracle: change.oracle ?? ctx.oracle,
  };
}

/** Records claiming each `[index, signer]` pair, signed over `report` under `domain`. */
function signedAt(
  ctx: Ctx,
  report: Report,
  pairs: [number, BaseWallet][],
  domain: TypedDataDomain = ctx.domain,
): Promise<RawRecord[]> {
  return recordsAt(
    domain,
    report,
    pairs.map(([index, signer]) => ({ index, signer })),
  );
}

/** `set[0 .. quorum - 1]` at their own indexes, signed over `report` under `domain`. */
function quorumOf(ctx: Ctx, report: Report, set = ctx.set, domain = ctx.domain): Promise<RawRecord[]> {
  return signedAt(
    ctx,
    report,
    set.slice(0, ctx.quorum).map((signer, index): [number, BaseWallet] => [index, signer]),
    domain,
  );
}

/** `ctx.report` signed by `set[i]` at index `i`, for each of `indexes` in order. */
function byIndexes(ctx: Ctx, indexes: number[]): Promise<RawRecord[]> {
  return signedAt(
    ctx,
    ctx.report,
    indexes.map((i): [number, BaseWallet] => [i, ctx.set[i]]),
  );
}

/** A report for `epoch` under the current config version, quorum-signed. */
async function quorumSigned(ctx: Ctx, report: Report): Promise<Submission> {
  return submission(ctx, { report, records: await quorumOf(ctx, report) });
}

/** The unix second `epoch` ends at (the fixtures' genesis and epoch length). */
function endOf(ctx: Ctx, epoch: bigint): bigint {
  return ctx.c.genesis + (epoch + 1n) * BigInt(EPOCH_LENGTH);
}

/**
 * The address the target oracle recovers from the `position`-th record (over its own digest),
 * asserted to be no operator of any config: what a signature over another digest yields.
 */
async function recoveredAt(ctx: Ctx, sub: Submission, position: number): Promise<string> {
  const digest = await sub.oracle.reportDigest(sub.report);
  const recovered = ethers.recoverAddress(digest, signatureAt(sub.signatures, position));
  const operators = ctx.c.operators.map((o) => o.address);
  expect(operators, `recovered ${recovered} is an operator`).not.to.include(recovered);
  return recovered;
}

/** The signer bitmap of packed records: bit i set for operator index i. */
function bitmapOf(signatures: string): bigint {
  const bytes = ethers.getBytes(signatures);
  let bitmap = 0n;
  for (let p = 0; p < bytes.length; p += 66) bitmap |= 1n << BigInt(bytes[p]);
  return bitmap;
}

/** What a rejected submission must not change: the config and the reported epoch's root. */
async function stateOf(oracle: ReportOracle, epoch: bigint) {
  const [version, quorum, lastEpoch, anyReport] = await oracle.config();
  return { version, quorum, lastEpoch, anyReport, root: await oracle.reportRoot(epoch) };
}

/* -------------------------------------------------------------------------- */
/*                                  FIXTURES                                  */
/* -------------------------------------------------------------------------- */

/** Fills in `records`: the first `quorum` operators of `set`, each at its index. */
async function withQuorum(ctx: Omit<Ctx, "records">): Promise<Ctx> {
  const partial = { ...ctx, records: [] };
  return { ...ctx, records: await quorumOf(partial, ctx.report) };
}

/** Four checkers, quorum 3, version 1, EPOCH ended; a twin oracle with the same set. */
async function fourCheckers(): Promise<Ctx> {
  const c = await deployWithTwinOracle();
  await endEpoch(c, EPOCH);
  return withQuorum({
    c,
    oracle: c.oracle,
    domain: c.domain,
    set: c.operators,
    quorum: c.quorum,
    report: makeReport(EPOCH),
    twin: { oracle: c.twin, domain: c.twinDomain },
  });
}

/** `fourCheckers` (without the twin) after REPORTED_EPOCH's report was accepted; NEXT_EPOCH ended. */
async function reported(): Promise<Ctx> {
  const c = await deployWithReportedEpoch();
  await endEpoch(c, NEXT_EPOCH);
  return withQuorum({
    c,
    oracle: c.oracle,
    domain: c.domain,
    set: c.operators,
    quorum: c.quorum,
    report: makeReport(NEXT_EPOCH),
    accepted: c.reported,
  });
}

/** `fourCheckers` (without the twin) rotated to version 2: operator 0 removed, quorum 3 of 3; EPOCH ended. */
async function rotated(): Promise<Ctx> {
  const c = await deployWithRotation();
  await endEpoch(c, EPOCH);
  return withQuorum({
    c,
    oracle: c.oracle,
    domain: c.domain,
    set: c.kept,
    quorum: 3,
    report: makeReport(EPOCH, 2n),
    removed: c.removed,
  });
}

/* -------------------------------------------------------------------------- */
/*                                    TABLE                                   */
/* -------------------------------------------------------------------------- */

/** Each record is operator i's own valid signature at index i: only the order is wrong. */
const DUPLICATES: { name: string; indexes: number[]; position: number; index: number }[] = [
  { name: "first position (the first two are one signer)", indexes: [0, 0, 1], position: 1, index: 0 },
  { name: "middle position (two in the middle are one signer)", indexes: [0, 1, 1, 2], position: 2, index: 1 },
  { name: "last position (the last two are one signer)", indexes: [0, 1, 2, 2], position: 3, index: 2 },
  { name: "one signer fills the quorum alone", indexes: [2, 2, 2], position: 1, index: 2 },
  { name: "index not strictly increasing (first two swapped)", indexes: [1, 0, 2], position: 1, index: 0 },
  { name: "index not strictly increasing (last two swapped)", indexes: [0, 2, 1], position: 2, index: 1 },
];

/** Invalid (r, s, v) parts of record 2: ecrecover yields the zero address. */
const GARBAGE: { name: string; parts: Parameters<typeof withParts>[1] }[] = [
  { name: "v = 29", parts: { v: 29 } },
  { name: "v = 0", parts: { v: 0 } },
  { name: "v = 1", parts: { v: 1 } },
  { name: "r = 0", parts: { r: ethers.ZeroHash } },
  { name: "s = 0", parts: { s: ethers.ZeroHash } },
];

const UINT40_MAX = 2n ** 40n - 1n;

const ROWS: Row[] = [
  /* ---------------------------- EIP-712 domain ---------------------------- */
  {
    rule: "wrong chain id in the EIP-712 domain (chain 1)",
    given: fourCheckers,
    build: async (ctx) =>
      submission(ctx, { records: await quorumOf(ctx, ctx.report, ctx.set, { ...ctx.domain, chainId: 1 }) }),
    error: "ReportOracle_UnknownSigner",
    args: async (ctx, sub) => [0, 0, await recoveredAt(ctx, sub, 0)],
  },
  {
    rule: "wrong domain version ('2')",
    given: fourCheckers,
    build: async (ctx) =>
      submission(ctx, { records: await quorumOf(ctx, ctx.report, ctx.set, { ...ctx.domain, version: "2" }) }),
    error: "ReportOracle_UnknownSigner",
    args: async (ctx, sub) => [0, 0, await recoveredAt(ctx, sub, 0)],
  },
  {
    rule: "wrong verifying contract (signed for the oracle, submitted to its twin)",
    given: fourCheckers,
    build: async (ctx) => submission(ctx, { oracle: ctx.twin!.oracle }),
    error: "ReportOracle_UnknownSigner",
    args: async (ctx, sub) => [0, 0, await recoveredAt(ctx, sub, 0)],
  },

  /* ------------------------- epoch order and replay ------------------------ */
  {
    rule: "replay of the accepted report",
    given: reported,
    build: (ctx) => quorumSigned(ctx, ctx.accepted!),
    error: "ReportOracle_AlreadyProcessed",
    args: () => [REPORTED_EPOCH],
  },
  {
    rule: "a different report for the accepted epoch, quorum-signed by operators 1..3",
    given: reported,
    build: async (ctx) => {
      const report = { ...ctx.accepted!, root: ethers.id("another root") };
      return submission(ctx, {
        report,
        records: await signedAt(ctx, report, [
          [1, ctx.set[1]],
          [2, ctx.set[2]],
          [3, ctx.set[3]],
        ]),
      });
    },
    error: "ReportOracle_AlreadyProcessed",
    args: () => [REPORTED_EPOCH],
  },
  ...[REPORTED_EPOCH - 1n, 0n].map((older): Row => ({
    rule: `an older epoch (${older} after ${REPORTED_EPOCH})`,
    given: reported,
    build: (ctx) => quorumSigned(ctx, makeReport(older)),
    error: "ReportOracle_StaleEpoch",
    args: () => [older, REPORTED_EPOCH],
  })),

  /* ---------------------------- config version ---------------------------- */
  {
    rule: "older config version (1, signed by the version-1 set, after the rotation to 2)",
    given: rotated,
    build: async (ctx) => {
      const report = { ...ctx.report, configVersion: 1n };
      return submission(ctx, { report, records: await quorumOf(ctx, report, ctx.c.operators) });
    },
    error: "ReportOracle_WrongConfigVersion",
    args: () => [1n, 2n],
  },
  ...[2n, 0n].map((version): Row => ({
    rule: `${version === 0n ? "zero" : "future"} config version (${version} under version 1)`,
    given: fourCheckers,
    build: (ctx) => quorumSigned(ctx, { ...ctx.report, configVersion: version }),
    error: "ReportOracle_WrongConfigVersion",
    args: () => [version, 1n],
  })),

  /* ------------------------------ duplicates ------------------------------ */
  ...DUPLICATES.map(({ name, indexes, position, index }): Row => ({
    rule: `duplicate signer: ${name}, indexes [${indexes.join(", ")}]`,
    given: fourCheckers,
    build: async (ctx) => submission(ctx, { records: await byIndexes(ctx, indexes) }),
    error: "ReportOracle_DuplicateSigner",
    args: () => [position, index],
  })),

  /* ---------------------------- unknown signer ---------------------------- */
  {
    rule: "unknown signer: a stranger's wallet at index 1",
    given: fourCheckers,
    build: async (ctx) => {
      const records = [...ctx.records];
      [records[1]] = await signedAt(ctx, ctx.report, [[1, STRANGER]]);
      return submission(ctx, { records });
    },
    error: "ReportOracle_UnknownSigner",
    args: () => [1, 1, STRANGER.address],
  },
  ...[4, 255].map((index): Row => ({
    rule: `unknown signer: index ${index} >= n (4), signed by operator 3`,
    given: fourCheckers,
    build: async (ctx) => {
      const records = [...ctx.records];
      [records[2]] = await signedAt(ctx, ctx.report, [[index, ctx.set[3]]]);
      return submission(ctx, { records });
    },
    error: "ReportOracle_UnknownSigner",
    args: (ctx) => [2, index, ctx.set[3].address],
  })),
  {
    rule: "unknown signer: index 1 signed by operator 2 (an index pointing at another operator)",
    given: fourCheckers,
    build: async (ctx) =>
      submission(ctx, {
        records: await signedAt(ctx, ctx.report, [
          [0, ctx.set[0]],
          [1, ctx.set[2]],
          [3, ctx.set[3]],
        ]),
      }),
    error: "ReportOracle_UnknownSigner",
    args: (ctx) => [1, 1, ctx.set[2].address],
  },
  {
    rule: "unknown signer: operator 2's signature over another report (nodeCount + 1)",
    given: fourCheckers,
    build: async (ctx) => {
      const records = [...ctx.records];
      [records[2]] = await signedAt(ctx, { ...ctx.report, nodeCount: ctx.report.nodeCount + 1n }, [[2, ctx.set[2]]]);
      return submission(ctx, { records });
    },
    error: "ReportOracle_UnknownSigner",
    args: async (ctx, sub) => [2, 2, await recoveredAt(ctx, sub, 2)],
  },
  {
    rule: "removed signer after the rotation, at its old index 0",
    given: rotated,
    build: async (ctx) =>
      submission(ctx, {
        records: await signedAt(ctx, ctx.report, [
          [0, ctx.removed!],
          [1, ctx.set[1]],
          [2, ctx.set[2]],
        ]),
      }),
    error: "ReportOracle_UnknownSigner",
    args: (ctx) => [0, 0, ctx.removed!.address],
  },
  {
    rule: "removed signer after the rotation, at index 3 (which the new set of 3 lacks)",
    given: rotated,
    build: async (ctx) =>
      submission(ctx, {
        records: await signedAt(ctx, ctx.report, [
          [0, ctx.set[0]],
          [1, ctx.set[1]],
          [3, ctx.removed!],
        ]),
      }),
    error: "ReportOracle_UnknownSigner",
    args: (ctx) => [2, 3, ctx.removed!.address],
  },

  /* -------------------------- malformed signatures ------------------------- */
  {
    rule: "high-s malleable twin of operator 1's valid signature",
    given: fourCheckers,
    build: async (ctx) => {
      const records = [...ctx.records];
      records[1] = { index: 1, signature: toHighS(records[1].signature) };
      return submission(ctx, { records });
    },
    error: "ReportOracle_MalleableSignature",
    args: () => [1],
  },
  ...GARBAGE.map(({ name, parts }): Row => ({
    rule: `invalid signature: record 2 with ${name}`,
    given: fourCheckers,
    build: async (ctx) => {
      const records = [...ctx.records];
      records[2] = { index: 2, signature: withParts(records[2].signature, parts) };
      return submission(ctx, { records });
    },
    error: "ReportOracle_InvalidSignature",
    args: () => [2],
  })),
  {
    rule: "compact 64-byte (EIP-2098) signatures: 3 x 65 bytes with the index",
    given: fourCheckers,
    build: async (ctx) => submission(ctx, { signatures: packCompact(ctx.records) }),
    error: "ReportOracle_InvalidSignatureLength",
    args: () => [195],
  },
  {
    rule: "65-byte signatures without the index byte: 3 x 65 bytes",
    given: fourCheckers,
    build: async (ctx) => submission(ctx, { signatures: ethers.concat(ctx.records.map((r) => r.signature)) }),
    error: "ReportOracle_InvalidSignatureLength",
    args: () => [195],
  },
  {
    rule: "one trailing byte after the valid records",
    given: fourCheckers,
    build: async (ctx) => submission(ctx, { signatures: ethers.concat([packRaw(ctx.records), "0x00"]) }),
    error: "ReportOracle_InvalidSignatureLength",
    args: () => [199],
  },
  {
    rule: "the valid records' last byte missing",
    given: fourCheckers,
    build: async (ctx) => submission(ctx, { signatures: ethers.dataSlice(packRaw(ctx.records), 0, 197) }),
    error: "ReportOracle_InvalidSignatureLength",
    args: () => [197],
  },

  /* --------------------------------- quorum -------------------------------- */
  {
    rule: "below quorum: quorum - 1 valid signatures",
    given: fourCheckers,
    build: async (ctx) => submission(ctx, { records: ctx.records.slice(0, ctx.quorum - 1) }),
    error: "ReportOracle_BelowQuorum",
    args: (ctx) => [ctx.quorum - 1, ctx.quorum],
  },
  {
    rule: "below quorum: no signature at all",
    given: fourCheckers,
    build: async (ctx) => submission(ctx, { signatures: "0x" }),
    error: "ReportOracle_BelowQuorum",
    args: (ctx) => [0, ctx.quorum],
  },
  {
    rule: "below quorum after the rotation: the 2 kept operators that signed, of 3 needed",
    given: rotated,
    build: async (ctx) => submission(ctx, { records: ctx.records.slice(0, 2) }),
    error: "ReportOracle_BelowQuorum",
    args: () => [2, 3],
  },

  /* ------------------------------- content -------------------------------- */
  {
    rule: "zero root, quorum-signed",
    given: fourCheckers,
    build: (ctx) => quorumSigned(ctx, { ...ctx.report, root: ethers.ZeroHash }),
    error: "ReportOracle_ZeroRoot",
    args: () => [],
  },
  {
    rule: "total reward 1 wei above the epoch's budget",
    given: fourCheckers,
    build: (ctx) => quorumSigned(ctx, { ...ctx.report, totalReward: budgetOf(EPOCH) + 1n }),
    error: "ReportOracle_RewardAboveBudget",
    args: () => [EPOCH, budgetOf(EPOCH) + 1n, budgetOf(EPOCH)],
  },
  {
    rule: "total reward at the pre-halving budget in the first halved epoch (26)",
    given: fourCheckers,
    build: async (ctx) => {
      await endEpoch(ctx.c, 26n);
      return quorumSigned(ctx, makeReport(26n, 1n, { totalReward: INITIAL_EMISSION }));
    },
    error: "ReportOracle_RewardAboveBudget",
    args: () => [26n, INITIAL_EMISSION, INITIAL_EMISSION / 2n],
  },

  /* ------------------------------ future epoch ----------------------------- */
  {
    rule: "future epoch: the running epoch",
    given: fourCheckers,
    build: async (ctx) => {
      const { epoch } = await runningAt(ctx.c, BigInt(await time.latest()) + 1n);
      return quorumSigned(ctx, makeReport(epoch));
    },
    error: "ReportOracle_EpochNotEnded",
    args: (ctx, sub) => [sub.report.epoch, endOf(ctx, sub.report.epoch)],
  },
  {
    rule: "future epoch: one second before the running epoch ends",
    given: fourCheckers,
    build: async (ctx) => {
      const epoch = (BigInt(await time.latest()) + 1n - ctx.c.genesis) / BigInt(EPOCH_LENGTH);
      await runningAt(ctx.c, endOf(ctx, epoch) - 1n);
      return quorumSigned(ctx, makeReport(epoch));
    },
    error: "ReportOracle_EpochNotEnded",
    args: (ctx, sub) => [sub.report.epoch, endOf(ctx, sub.report.epoch)],
  },
  {
    rule: "future epoch: 2^40 - 2, the largest with a real end",
    given: fourCheckers,
    build: (ctx) => quorumSigned(ctx, makeReport(UINT40_MAX - 1n)),
    error: "ReportOracle_EpochNotEnded",
    args: (ctx) => [UINT40_MAX - 1n, endOf(ctx, UINT40_MAX - 1n)],
  },
  ...(
    [
      [UINT40_MAX, "2^40 - 1"],
      [2n ** 200n, "2^200"],
      [ethers.MaxUint256, "2^256 - 1"],
    ] as const
  ).map(([epoch, label]): Row => ({
    rule: `future epoch: absurdly large (${label}), never ends`,
    given: fourCheckers,
    build: (ctx) => quorumSigned(ctx, makeReport(epoch)),
    error: "ReportOracle_EpochNotEnded",
    args: () => [epoch, ethers.MaxUint256],
  })),
];

/** The valid submission of each fixture, accepted as is: a row's rejection is its change's doing. */
const CONTROLS: { name: string; given: () => Promise<Ctx>; build: (ctx: Ctx) => Promise<Submission> }[] = [
  { name: "four checkers, version 1", given: fourCheckers, build: async (ctx) => submission(ctx) },
  {
    name: "the twin oracle, signed for its own domain",
    given: fourCheckers,
    build: async (ctx) =>
      submission(ctx, {
        oracle: ctx.twin!.oracle,
        records: await quorumOf(ctx, ctx.report, ctx.set, ctx.twin!.domain),
      }),
  },
  { name: "the next epoch after a reported one", given: reported, build: async (ctx) => submission(ctx) },
  { name: "the rotated set, version 2", given: rotated, build: async (ctx) => submission(ctx) },
];

/* -------------------------------------------------------------------------- */
/*                                    TESTS                                   */
/* -------------------------------------------------------------------------- */

describe("ReportOracle.submitReport: validation table", function () {
  describe("controls: the valid submission is accepted", function () {
    for (const control of CONTROLS) {
      it(`[${control.given.name}] ${control.name}: emits SubmitReport`, async function () {
        const ctx = await loadFixture(control.given);
        const sub = await control.build(ctx);
        const { report } = sub;
        await expect(sub.oracle.connect(ctx.c.keeper).submitReport(report, sub.signatures))
          .to.emit(sub.oracle, "SubmitReport")
          .withArgs(
            report.epoch,
            report.configVersion,
            report.root,
            report.nodeCount,
            report.totalReward,
            bitmapOf(sub.signatures),
            ctx.c.keeper.address,
          );
        expect(await sub.oracle.reportRoot(report.epoch), "reportRoot").to.equal(report.root);
      });
    }
  });

  describe("rules: each broken one reverts with its error and leaves the oracle as it was", function () {
    for (const row of ROWS) {
      it(`[${row.given.name}] ${row.rule}: ${row.error.replace("ReportOracle_", "")}`, async function () {
        const ctx = await loadFixture(row.given);
        const sub = await row.build(ctx);
        const watched = [...new Set([ctx.oracle, sub.oracle])];
        const before = await Promise.all(watched.map((o) => stateOf(o, sub.report.epoch)));
        const args = await row.args(ctx, sub);

        await expect(sub.oracle.connect(ctx.c.keeper).submitReport(sub.report, sub.signatures))
          .to.be.revertedWithCustomError(sub.oracle, row.error)
          .withArgs(...args);

        const after = await Promise.all(watched.map((o) => stateOf(o, sub.report.epoch)));
        expect(after, "oracle state (config, reportRoot) after the rejection").to.deep.equal(before);
      });
    }
  });
});
