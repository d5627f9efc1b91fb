/**
 * Fixtures and helpers for the CheckerLicense unit tests. The fixtures build on each other
 * (deployLicense -> deployMinted -> deployDelegated -> deploySuspended), so `loadFixture`
 * snapshots stay cheap and every test starts from a state it can name.
 *
 * The license is deployed on its own (not through `deployOracle`): the suspender is a plain
 * account standing in for the oracle, so that suspensions can be driven directly.
 */
import { expect } from "chai";
import { ethers, network } from "hardhat";
import type { ContractTransactionResponse } from "ethers";

import type { CheckerLicense } from "../../typechain-types";

/** Role ids, as `CheckerLicense` defines them. */
export const LICENSE_ROLES = {
  DEFAULT_ADMIN: ethers.ZeroHash,
  MINTER: ethers.id("MINTER_ROLE"),
  SUSPENDER: ethers.id("SUSPENDER_ROLE"),
} as const;

/** The supply cap. */
export const MAX_SUPPLY = 29_998n;

/**
 * Storage slot of `totalMinted`: after ERC721 (`_name`, `_symbol`, `_owners`, `_balances`,
 * `_tokenApprovals`, `_operatorApprovals`: slots 0-5) and AccessControl (`_roles`: slot 6).
 * `mint.test.ts` checks this before the cap tests rely on it.
 */
export const TOTAL_MINTED_SLOT = 7;

/** The default departure cooldown (the registry's default unbonding period) and its bounds. */
export const DEPARTURE_COOLDOWN = 14n * 86_400n;
export const MIN_DEPARTURE_COOLDOWN = 86_400n;
export const MAX_DEPARTURE_COOLDOWN = 90n * 86_400n;

/** Evidence a suspension carries (in production, the hash of the two conflicting reports). */
export const EVIDENCE = ethers.id("equivocation: epoch 7, two roots");

/** Interface ids for ERC-165. */
export const INTERFACE_IDS = {
  ERC165: "0x01ffc9a7",
  ERC721: "0x80ac58cd",
  ERC721Metadata: "0x5b5e139f",
  ERC721Enumerable: "0x780e9d63",
  AccessControl: "0x7965db0b",
  Invalid: "0xffffffff",
} as const;

/** A bare license: `minter` holds MINTER_ROLE, `suspender` SUSPENDER_ROLE, `admin` the admin role. */
export async function deployLicense() {
  const [admin, minter, suspender, alice, bob, carol, op1, op2, other] = await ethers.getSigners();
  const license = await ethers.deployContract("CheckerLicense", [admin.address]);
  await license.grantRole(LICENSE_ROLES.MINTER, minter.address);
  await license.grantRole(LICENSE_ROLES.SUSPENDER, suspender.address);
  return { license, admin, minter, suspender, alice, bob, carol, op1, op2, other };
}

export type LicenseFixture = Awaited<ReturnType<typeof deployLicense>>;

/** Licenses 1-3 held by alice, license 4 by bob; none delegated. */
export async function deployMinted() {
  const c = await deployLicense();
  await c.license.connect(c.minter).mint(c.alice.address, 3);
  await c.license.connect(c.minter).mint(c.bob.address, 1);
  return c;
}

/** As `deployMinted`, with alice's 1 and 2 delegated to op1, bob's 4 to op2; 3 stays undelegated. */
export async function deployDelegated() {
  const c = await deployMinted();
  await c.license.connect(c.alice).delegate(1, c.op1.address);
  await c.license.connect(c.alice).delegate(2, c.op1.address);
  await c.license.connect(c.bob).delegate(4, c.op2.address);
  return c;
}

/** As `deployDelegated`, with license 1 (delegated to op1) and 3 (undelegated) suspended. */
export async function deploySuspended() {
  const c = await deployDelegated();
  await c.license.connect(c.suspender).suspend(1, EVIDENCE);
  await c.license.connect(c.suspender).suspend(3, EVIDENCE);
  return c;
}

/**
 * As `deployDelegated`, then alice switched license 1 from op1 to op2 (`switchedAt`): op1 is its
 * former operator, and it cannot leave op2 before `readyAt` (`switchedAt` + the cooldown).
 */
export async function deploySwitched() {
  const c = await deployDelegated();
  const tx = await c.license.connect(c.alice).delegate(1, c.op2.address);
  const switchedAt = BigInt((await ethers.provider.getBlock((await tx.wait())!.blockNumber))!.timestamp);
  return { ...c, switchedAt, readyAt: switchedAt + DEPARTURE_COOLDOWN };
}

/** Overwrites `totalMinted`, as if `minted` licenses had been minted (none is created). */
export async function setTotalMinted(license: CheckerLicense, minted: bigint) {
  await network.provider.send("hardhat_setStorageAt", [
    await license.getAddress(),
    ethers.toQuantity(TOTAL_MINTED_SLOT),
    ethers.zeroPadValue(ethers.toBeHex(minted), 32),
  ]);
}

/** Asserts what the license records for `tokenId`. */
export async function expectLicense(
  license: CheckerLicense,
  tokenId: bigint | number,
  expected: Partial<{ owner: string; operator: string; suspended: boolean; former: string; until: bigint }>,
) {
  if (expected.owner !== undefined) {
    expect(await license.ownerOf(tokenId), `ownerOf(${tokenId})`).to.equal(expected.owner);
  }
  if (expected.operator !== undefined) {
    expect(await license.operatorOf(tokenId), `operatorOf(${tokenId})`).to.equal(expected.operator);
  }
  if (expected.suspended !== undefined) {
    expect(await license.isSuspended(tokenId), `isSuspended(${tokenId})`).to.equal(expected.suspended);
  }
  if (expected.former !== undefined || expected.until !== undefined) {
    const [former, until] = await license.departureOf(tokenId);
    if (expected.former !== undefined) expect(former, `departureOf(${tokenId}).former`).to.equal(expected.former);
    if (expected.until !== undefined) expect(until, `departureOf(${tokenId}).until`).to.equal(expected.until);
  }
}

/** A decoded license event, as a plain tuple for deep comparison. */
export type LicenseEvent = [name: string, ...args: (string | bigint | boolean)[]];

/** The CheckerLicense events of a transaction, in log order, with their arguments. */
export async function licenseEvents(license: CheckerLicense, tx: ContractTransactionResponse) {
  const receipt = await tx.wait();
  const address = await license.getAddress();
  const events: LicenseEvent[] = [];
  for (const log of receipt!.logs) {
    if (log.address !== address) continue;
    const parsed = license.interface.parseLog(log);
    if (parsed) events.push([parsed.name, ...(parsed.args.toArray() as (string | bigint | boolean)[])]);
  }
  return events;
}

/** The fixture's accounts, by name. */
export type LicenseAccount = Exclude<keyof LicenseFixture, "license">;

/** Alice (owner of licenses 1-3) transfers license `tokenId` to carol. */
export function aliceToCarol(c: LicenseFixture, tokenId: bigint | number) {
  return c.license.connect(c.alice).transferFrom(c.alice.address, c.carol.address, tokenId);
}

/** Asserts `licensesOf(who)`; `note` is appended to the assertion's label. */
export async function expectLicensesOf(c: LicenseFixture, who: LicenseAccount, count: bigint | number, note?: string) {
  const label = `licensesOf(${who})${note === undefined ? "" : ` ${note}`}`;
  expect(await c.license.licensesOf(c[who].address), label).to.equal(count);
}

/** Expects `tx` to emit `Undelegate(tokenId, operator)`. */
export async function expectUndelegate(
  c: LicenseFixture,
  tx: Promise<unknown> | ContractTransactionResponse,
  tokenId: bigint | number,
  operator: string,
) {
  await expect(tx).to.emit(c.license, "Undelegate").withArgs(tokenId, operator);
}
