/**
 * Fixtures and helpers for the ReportOracle unit tests (test/unit/ReportOracle). They build on
 * `test/helpers/oracle.ts` (deployOracle -> makeOperators -> deployWithCheckers) and on each
 * other, so `loadFixture` snapshots stay cheap and every test starts from a state it can name.
 */
import { ethers, network } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { Signature, type BaseWallet, type HDNodeWallet, type TypedDataDomain } from "ethers";

import { deployCore } from "../fixtures";
import {
  EPOCH_LENGTH,
  HALVING_EPOCHS,
  INITIAL_EMISSION,
  MIN_CHECKER_STAKE,
  deployOracle,
  deployWithCheckers,
  endEpoch,
  makeOperators,
  makeReport,
  signedBy,
  type WithCheckers,
} from "./oracle";
import { reportDomain, reportDigest, signReport, type Report } from "../../offchain/src/report";

/* -------------------------------------------------------------------------- */
/*                                  CONSTANTS                                 */
/* -------------------------------------------------------------------------- */

/** Role ids, as `ReportOracle` (and OpenZeppelin's AccessControl) define them. */
export const ORACLE_ROLES = {
  DEFAULT_ADMIN: ethers.ZeroHash,
  CONFIG: ethers.id("CONFIG_ROLE"),
} as const;

/** secp256k1 group order: `n - s` is the malleable twin of a signature's `s`. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
export const UINT48_MAX = 2n ** 48n - 1n;
export const UINT128_MAX = 2n ** 128n - 1n;
export const MAX_BOUNTY_BPS = 5_000n;
export const DEFAULT_BOUNTY_BPS = 1_000n;
export const BPS = 10_000n;
export const REASON_EQUIVOCATION = 100;
export const MIN_EPOCH_LENGTH = 10n;
export const MAX_EPOCH_LENGTH = 365n * 86_400n;
/** Bits of the reasons an operator is excluded from the set for (`ExcludeOperator`). */
export const EXCLUDED = { NO_LICENSE: 1n, UNDER_STAKED: 2n, EQUIVOCATION: 4n } as const;

/* -------------------------------------------------------------------------- */
/*                                   HELPERS                                  */
/* -------------------------------------------------------------------------- */

/** One signer record for `submitReport`, before packing. */
export interface RawRecord {
  index: number;
  signature: string; // 65 bytes (r, s, v), hex
}

/**
 * Packs records exactly as given (no sorting, no duplicate or membership check), so that tests
 * can build what `packSignatures` refuses to: duplicates, wrong order, foreign signers.
 */
export function packRaw(records: RawRecord[]): string {
  return ethers.concat(records.map(({ index, signature }) => ethers.concat([ethers.toBeHex(index, 1), signature])));
}

/** The 65-byte (r, s, v) signature of `signer` over `report` under `domain`. */
export function sign(signer: BaseWallet, domain: TypedDataDomain, report: Report): Promise<string> {
  return signReport(signer, domain, report);
}

/** Records by `signers`, with each signer's index in `c.operators`. */
export async function recordsOf(c: WithCheckers, report: Report, signers: HDNodeWallet[]): Promise<RawRecord[]> {
  return Promise.all(
    signers.map(async (s) => ({
      index: c.operators.findIndex((o) => o.address === s.address),
      signature: await sign(s, c.domain, report),
    })),
  );
}

/** The high-s twin of a low-s signature: s -> n - s and v flipped (27 <-> 28). Same signer. */
export function toHighS(signature: string): string {
  const sig = Signature.from(signature);
  const highS = SECP256K1_N - BigInt(sig.s);
  const v = sig.v === 27 ? 28 : 27;
  return ethers.concat([sig.r, ethers.toBeHex(highS, 32), ethers.toBeHex(v, 1)]);
}

/** A 65-byte signature with the given parts replaced. */
export function withParts(signature: string, parts: Partial<{ r: string; s: string; v: number }>): string {
  const sig = Signature.from(signature);
  return ethers.concat([parts.r ?? sig.r, parts.s ?? sig.s, ethers.toBeHex(parts.v ?? sig.v, 1)]);
}

/**
 * Records claiming the given indexes, each signed by its `signer` over `report` under `domain`:
 * any signer at any index, so that tests can claim indexes a signer does not hold.
 */
export async function recordsAt(
  domain: TypedDataDomain,
  report: Report,
  entries: { index: number; signer: BaseWallet }[],
): Promise<RawRecord[]> {
  return Promise.all(
    entries.map(async ({ index, signer }) => ({ index, signature: await sign(signer, domain, report) })),
  );
}

/** The 65-byte signature of the `position`-th 66-byte record of packed `signatures`. */
export function signatureAt(signatures: string, position: number): string {
  return ethers.dataSlice(signatures, position * 66 + 1, position * 66 + 66);
}

/** The records packed as index (1 byte) and the compact 64-byte EIP-2098 signature (r, yParityAndS). */
export function packCompact(records: RawRecord[]): string {
  return ethers.concat(
    records.map(({ index, signature }) => {
      const sig = Signature.from(signature);
      return ethers.concat([ethers.toBeHex(index, 1), sig.r, sig.yParityAndS]);
    }),
  );
}

/** Budget of `epoch` by the fixtures' schedule: 100,000 KAI halving every 26 epochs. */
export function budgetOf(epoch: bigint): bigint {
  return INITIAL_EMISSION / 2n ** (epoch / HALVING_EPOCHS);
}

/** Pins the next block's timestamp to `at`; returns the epoch running then and when it ends. */
export async function runningAt(c: { genesis: bigint }, at: bigint): Promise<{ epoch: bigint; endsAt: bigint }> {
  await time.setNextBlockTimestamp(at);
  const epoch = (at - c.genesis) / BigInt(EPOCH_LENGTH);
  return { epoch, endsAt: c.genesis + (epoch + 1n) * BigInt(EPOCH_LENGTH) };
}

/** The licenses delegated to `operator` (scans every id minted). */
export async function licenseIdsOf(c: Awaited<ReturnType<typeof deployOracle>>, operator: string): Promise<bigint[]> {
  const minted = await c.license.totalMinted();
  const ids: bigint[] = [];
  for (let id = 1n; id <= minted; id++) {
    if ((await c.license.operatorOf(id)) === operator) ids.push(id);
  }
  return ids;
}

/** A fresh funded wallet (10 ETH), not in any checker set. */
export async function freshWallet(): Promise<HDNodeWallet> {
  const w = ethers.Wallet.createRandom().connect(ethers.provider);
  await network.provider.send("hardhat_setBalance", [w.address, "0x8ac7230489e80000"]);
  return w;
}

/** `count` distinct non-zero addresses sorted ascending (no license, no stake). */
export function fakeSortedAddresses(count: number): string[] {
  return Array.from({ length: count }, (_, i) => ethers.getAddress(ethers.toBeHex(BigInt(i + 1), 20)));
}

/** The address the oracle's next CREATE (a new SSTORE2 data contract of the checker set) lands at. */
export async function nextPointer(oracle: { getAddress(): Promise<string> }): Promise<string> {
  const from = await oracle.getAddress();
  return ethers.getCreateAddress({ from, nonce: await ethers.provider.getTransactionCount(from) });
}

/** The revert data of a mined, failed transaction, decoded with the oracle's ABI. */
export async function revertOf(c: WithCheckers, hash: string) {
  const trace = await network.provider.send("debug_traceTransaction", [
    hash,
    { disableStorage: true, disableMemory: true, disableStack: true },
  ]);
  const error = c.oracle.interface.parseError("0x" + String(trace.returnValue).replace(/^0x/, ""));
  return error ? [error.name, ...error.args] : [];
}

/* -------------------------------------------------------------------------- */
/*                                  FIXTURES                                  */
/* -------------------------------------------------------------------------- */

/**
 * The core deployment, a license contract and an oracle fresh from its constructor: no roles
 * handed out, no minimum stake, no penalty, no emission schedule, no checker set.
 */
export async function deployBareOracle() {
  const core = await deployCore();
  const license = await ethers.deployContract("CheckerLicense", [core.admin.address]);
  const genesis = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const args = [
    core.admin.address,
    await core.registry.getAddress(),
    await license.getAddress(),
    core.treasury.address,
    genesis,
    EPOCH_LENGTH,
  ] as const;
  const oracle = await ethers.deployContract("ReportOracle", [...args]);
  return { ...core, license, oracle, genesis, args };
}

/** `deployOracle` plus four operators (licensed, staked exactly the minimum), no checker set yet. */
export async function deployWithFourOperators() {
  const c = await deployOracle();
  const operators = await makeOperators(c, 4);
  return { ...c, operators };
}

/** `deployOracle` plus 21 operators, no checker set yet (BFT quorum bounds at n = 21). */
export async function deployWith21Operators() {
  const c = await deployOracle();
  const operators = await makeOperators(c, 21);
  return { ...c, operators };
}

/** Four checkers (sorted, licensed, staked) in config version 1 with quorum 3 (f = 1). */
export async function deployWithFourCheckers() {
  return deployWithCheckers(4, 3);
}

/** `deployWithFourCheckers`, then epoch 3's report accepted (signed by operators 0, 1 and 2). */
export const REPORTED_EPOCH = 3n;
export async function deployWithReportedEpoch() {
  const c = await deployWithFourCheckers();
  const report = makeReport(REPORTED_EPOCH);
  await endEpoch(c, REPORTED_EPOCH);
  await c.oracle
    .connect(c.keeper)
    .submitReport(report, await signedBy(c, report, [c.operators[0], c.operators[1], c.operators[2]]));
  return { ...c, reported: report };
}

/**
 * `deployWithFourCheckers`, then governance rotated the set to version 2: operator 0 removed,
 * operators 1, 2 and 3 kept (quorum 3 of 3). `removed` is operator 0, `kept` the new set in order.
 */
export async function deployWithRotation() {
  const c = await deployWithFourCheckers();
  const removed = c.operators[0];
  const kept = c.operators.slice(1);
  await c.oracle.setCheckerConfig(
    kept.map((o) => o.address),
    3,
  );
  return { ...c, removed, kept };
}

/**
 * `deployWithFourCheckers`, then the owner of operator 2's only license undelegated it and a
 * keeper excluded operator 2 (`excluded`, index 2) from the set: checkers() is
 * [op0, op1, 0x0, op3], still config version 1 with quorum 3, three live operators.
 */
export const EXCLUDED_INDEX = 2;
export async function deployWithExcludedOperator() {
  const c = await deployWithFourCheckers();
  const excluded = c.operators[EXCLUDED_INDEX];
  const [excludedLicense] = await licenseIdsOf(c, excluded.address);
  await c.license.undelegate(excludedLicense);
  await c.oracle.connect(c.keeper).excludeOperator(EXCLUDED_INDEX);
  return { ...c, excluded, excludedLicense };
}

/**
 * `deployWithFourCheckers` plus a second oracle on the same registry and licenses, with the same
 * four checkers and quorum: the same signers sign for both, only the EIP-712 domain differs.
 */
export async function deployWithTwinOracle() {
  const c = await deployWithFourCheckers();
  const twin = await ethers.deployContract("ReportOracle", [
    c.admin.address,
    await c.registry.getAddress(),
    await c.license.getAddress(),
    c.treasury.address,
    c.genesis,
    EPOCH_LENGTH,
  ]);
  await twin.setEmissionSchedule(INITIAL_EMISSION, HALVING_EPOCHS);
  await twin.setMinCheckerStake(MIN_CHECKER_STAKE);
  await twin.setCheckerConfig(
    c.operators.map((o) => o.address),
    c.quorum,
  );
  const twinDomain = reportDomain((await ethers.provider.getNetwork()).chainId, await twin.getAddress());
  return { ...c, twin, twinDomain };
}

/**
 * `deployWithFourCheckers`, where operator 1 (`cheater`) holds two licenses (its own and a second
 * one governance minted and delegated to it) and `other` is a license of operator 2. `digestOf`
 * computes the oracle's digest off-chain.
 */
export const EQUIVOCATION_EPOCH = 7n;
export async function deployForEquivocation() {
  const c = await deployWithFourCheckers();
  const cheater = c.operators[1];
  const firstId = await c.license.mint.staticCall(c.admin.address, 1);
  await c.license.mint(c.admin.address, 1);
  await c.license.delegate(firstId, cheater.address);
  const cheaterLicenses = await licenseIdsOf(c, cheater.address);
  const [otherLicense] = await licenseIdsOf(c, c.operators[2].address);
  const reportA = makeReport(EQUIVOCATION_EPOCH);
  const reportB = makeReport(EQUIVOCATION_EPOCH, 1n, { root: ethers.id("a different root") });
  const signatureA = await sign(cheater, c.domain, reportA);
  const signatureB = await sign(cheater, c.domain, reportB);
  return {
    ...c,
    cheater,
    cheaterLicenses,
    otherLicense,
    reportA,
    reportB,
    signatureA,
    signatureB,
    digestA: reportDigest(c.domain, reportA),
    digestB: reportDigest(c.domain, reportB),
  };
}

/** The operator at the maximum set size: 255 checkers, quorum 169 (f = 84), no minimum stake. */
export const MAX_CHECKERS = 255;
export const MAX_SET_QUORUM = 169;
export async function deployWith255Checkers() {
  const c = await deployOracle();
  await c.oracle.setMinCheckerStake(0);
  const firstId = await c.license.mint.staticCall(c.admin.address, MAX_CHECKERS);
  await c.license.mint(c.admin.address, MAX_CHECKERS);
  const wallets = Array.from({ length: MAX_CHECKERS }, () => new ethers.Wallet(ethers.hexlify(ethers.randomBytes(32))));
  for (let i = 0; i < MAX_CHECKERS; i++) await c.license.delegate(firstId + BigInt(i), wallets[i].address);
  wallets.sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  await c.oracle.setCheckerConfig(
    wallets.map((w) => w.address),
    MAX_SET_QUORUM,
  );
  const domain = reportDomain((await ethers.provider.getNetwork()).chainId, await c.oracle.getAddress());
  return { ...c, wallets, domain };
}
