/**
 * Fixtures for checker licenses and the report oracle: N operator wallets, each holding a
 * delegated license and the minimum stake, in a config with a quorum.
 */
import { expect } from "chai";
import { ethers, network } from "hardhat";
import type { HDNodeWallet } from "ethers";
import { deployCore, KAI } from "../fixtures";
import { packSignatures, reportDomain, signReport, type Report } from "../../offchain/src/report";

export const EPOCH_LENGTH = 60; // seconds, as on the local chain
export const MIN_CHECKER_STAKE = KAI(10_000);
export const EQUIVOCATION_PENALTY = KAI(5_000);
export const INITIAL_EMISSION = KAI(100_000);
export const HALVING_EPOCHS = 26n;

/** Licenses and oracle on top of the core deployment, no checker set yet (epochs of `epochLength` s). */
export async function deployOracle(epochLength: number = EPOCH_LENGTH) {
  const core = await deployCore();
  const { admin, treasury, registry, kai } = core;
  const license = await ethers.deployContract("CheckerLicense", [admin.address]);
  const latest = (await ethers.provider.getBlock("latest"))!.timestamp;
  const genesis = BigInt(latest);
  const oracle = await ethers.deployContract("ReportOracle", [
    admin.address,
    await registry.getAddress(),
    await license.getAddress(),
    treasury.address,
    genesis,
    epochLength,
  ]);
  await license.grantRole(await license.MINTER_ROLE(), admin.address);
  await license.grantRole(await license.SUSPENDER_ROLE(), await oracle.getAddress());
  await registry.grantRole(await registry.SLASHER_ROLE(), await oracle.getAddress());
  await oracle.setMinCheckerStake(MIN_CHECKER_STAKE);
  await oracle.setEquivocationPenalty(EQUIVOCATION_PENALTY, 1_000);
  await oracle.setEmissionSchedule(INITIAL_EMISSION, HALVING_EPOCHS);
  void kai;
  return { ...core, license, oracle, genesis, epochLength };
}

/** Creates `n` funded operator wallets, each with one delegated license and the minimum stake. */
export async function makeOperators(c: Awaited<ReturnType<typeof deployOracle>>, n: number) {
  const wallets: HDNodeWallet[] = [];
  for (let i = 0; i < n; i++) {
    const w = ethers.Wallet.createRandom().connect(ethers.provider);
    await network.provider.send("hardhat_setBalance", [w.address, "0x8ac7230489e80000"]); // 10 ETH
    await c.kai.connect(c.treasury).transfer(w.address, MIN_CHECKER_STAKE);
    await c.kai.connect(w).approve(await c.registry.getAddress(), MIN_CHECKER_STAKE);
    await c.registry.connect(w).stake(MIN_CHECKER_STAKE);
    const firstId = await c.license.mint.staticCall(c.admin.address, 1);
    await c.license.mint(c.admin.address, 1);
    await c.license.connect(c.admin).delegate(firstId, w.address);
    wallets.push(w);
  }
  wallets.sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  return wallets;
}

/** The oracle with `n` checkers configured at `quorum`. */
export async function deployWithCheckers(n = 4, quorum = 3, epochLength: number = EPOCH_LENGTH) {
  const c = await deployOracle(epochLength);
  const operators = await makeOperators(c, n);
  await c.oracle.setCheckerConfig(
    operators.map((o) => o.address),
    quorum,
  );
  const domain = reportDomain((await ethers.provider.getNetwork()).chainId, await c.oracle.getAddress());
  return { ...c, operators, quorum, domain };
}

export type WithCheckers = Awaited<ReturnType<typeof deployWithCheckers>>;

/** A report for `epoch` under config version `configVersion`. */
export function makeReport(epoch: bigint, configVersion = 1n, overrides: Partial<Report> = {}): Report {
  return {
    epoch,
    configVersion,
    root: ethers.id(`root-${epoch}`),
    nodeCount: 10n,
    totalReward: KAI(1_000),
    totalCapacityPoints: 1_000n,
    totalDeliveryPoints: 500n,
    ...overrides,
  };
}

/** Signatures by `signers`, packed for submitReport. */
export async function signedBy(c: WithCheckers, report: Report, signers: HDNodeWallet[]) {
  const signed = await Promise.all(
    signers.map(async (s) => ({ signer: s.address, signature: await signReport(s, c.domain, report) })),
  );
  return packSignatures(
    c.operators.map((o) => o.address),
    signed,
  );
}

/** Submits `report` signed by `signers` (by default the first three operators, a quorum of four). */
export async function submitSigned(c: WithCheckers, report: Report, signers = c.operators.slice(0, 3)) {
  return c.oracle.submitReport(report, await signedBy(c, report, signers));
}

/** Moves time past the end of `epoch`. */
export async function endEpoch(c: { genesis: bigint; epochLength?: number }, epoch: bigint) {
  const end = c.genesis + (epoch + 1n) * BigInt(c.epochLength ?? EPOCH_LENGTH);
  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  if (now < end) await network.provider.send("evm_setNextBlockTimestamp", [Number(end)]);
  await network.provider.send("evm_mine", []);
}

/** `tx` reverts with the oracle's custom error `name`, with `args`. */
export function revertsOracle(
  c: { oracle: WithCheckers["oracle"] },
  tx: Promise<unknown>,
  name: string,
  ...args: unknown[]
) {
  return expect(tx)
    .to.be.revertedWithCustomError(c.oracle, name)
    .withArgs(...args);
}
