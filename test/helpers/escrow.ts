/**
 * Fixtures and actions for the RentalEscrow and KaisarLens unit tests.
 *
 * Fixtures build on each other (escrowFixture -> payAsYouGoFixture -> depletedPayAsYouGoFixture ...)
 * by calling one another directly; tests load them with `loadFixture`.
 *
 * Expected amounts in the tests are literals whose derivation is written beside them; no test asks
 * the escrow for the number it is being tested on.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse } from "ethers";

import {
  type Core,
  deployWithNode,
  registerNode,
  rentParams,
  defaultSpec,
  Plan,
  USD,
  USD_PRICE,
  KAI,
  DAY,
  HOUR,
} from "../fixtures";

/* ------------------------------------------------------------------ */
/*                       CONSTANTS OF THE ESCROW                      */
/* ------------------------------------------------------------------ */

/** Grace period of terms v0, set by the constructor (fee and early-exit penalty are 10% each). */
export const GRACE = 3_600; // 1 hour
/** Early-exit penalty of terms v0, bps: a saving plan ended early by either side moves 10% of its unused part. */
export const PENALTY_BPS = 1_000n;
export const UINT32_MAX = 2n ** 32n - 1n;
export const UINT96_MAX = 2n ** 96n - 1n;
export const ADMIN_ROLE = ethers.ZeroHash;
export const ORACLE_ROLE = ethers.id("ORACLE_ROLE");
export const PAUSER_ROLE = ethers.id("PAUSER_ROLE");
export const H100_STAKE_PER_GPU = KAI(3_000); // 1,000 KAI base x 3 (H100 multiplier)

/* ------------------------------------------------------------------ */
/*                 THE CANONICAL RENTALS (1 GPU, USD 2/h)             */
/* ------------------------------------------------------------------ */

/** Pay-as-you-go: ceil(2_000_000 / 3600) = 556 per second (3600 x 555 = 1_998_000 < 2_000_000). */
export const PAYG_RATE = 556n;
export const PAYG_DEPOSIT = USD(20); // 20_000_000
/** floor(20_000_000 / 556) = 35_971 seconds (556 x 35_971 = 19_999_876). */
export const PAYG_UNITS = 35_971;
export const PAYG_REMAINDER = 124n; // 20_000_000 - 19_999_876

/** Hourly: 2_000_000 per hour; USD 11 buys 5 hours and leaves 1_000_000. */
export const HOURLY_RATE = 2_000_000n;
export const HOURLY_DEPOSIT = USD(11);
export const HOURLY_HOURS = 5;
export const HOURLY_REMAINDER = 1_000_000n;

/** Saving, 7 days at 5% off: 2_000_000 - 100_000 = 1_900_000 per hour; x 24 x 7 = 319_200_000. */
export const SAVING_DEPOSIT = 319_200_000n;
export const SAVING_TERM = 7 * DAY; // 604_800 seconds

/** Pay-as-you-go in KAI at 20 KAI per GPU-hour: ceil(20e18 / 3600) = 5_555_555_555_555_556 per second. */
export const KAI_PAYG_RATE = 5_555_555_555_555_556n;

/* ------------------------------------------------------------------ */
/*                               ACTIONS                              */
/* ------------------------------------------------------------------ */

export type RentOverrides = Parameters<typeof rentParams>[1];

export interface Opened {
  rentalId: bigint;
  /** Unix seconds of the block that opened the rental. */
  anchor: number;
}

/** Opens a rental now and returns its id and the block timestamp it was opened at. */
export async function rent(
  c: Core & { nodeId: bigint },
  overrides: RentOverrides = {},
  who: HardhatEthersSigner = c.renter,
): Promise<Opened> {
  const p = rentParams(c, overrides);
  if (!p.token) p.token = await c.usd.getAddress();
  const receipt = await (await c.escrow.connect(who).rent(p)).wait();
  const log = receipt!.logs.map((l) => c.escrow.interface.parseLog(l)).find((l) => l?.name === "OpenRental");
  const block = await ethers.provider.getBlock(receipt!.blockNumber);
  return { rentalId: log!.args.rentalId as bigint, anchor: block!.timestamp };
}

/** Rent parameters with the token filled in (USD unless overridden). */
export async function params(c: Core & { nodeId: bigint }, overrides: RentOverrides = {}) {
  const p = rentParams(c, overrides);
  if (!p.token) p.token = await c.usd.getAddress();
  return p;
}

/** Sends `send()` in a block mined at exactly `timestamp` (returns the pending transaction). */
export async function at(timestamp: number, send: () => Promise<ContractTransactionResponse>) {
  await time.setNextBlockTimestamp(timestamp);
  return send();
}

/** Mines an empty block at `timestamp`, so that views read that time. */
export async function viewAt(timestamp: number) {
  await time.increaseTo(timestamp);
}

/** Allow-lists the token at `address` in the escrow, prices the fixture node in it and funds both renters. */
export async function listToken(
  c: Core & { nodeId: bigint },
  address: string,
  price: bigint = USD_PRICE,
  funding: bigint = USD(1_000_000),
) {
  // Every mock has `mint` and `approve`; the MockERC20 ABI reaches them all (return values unused).
  const token = await ethers.getContractAt("MockERC20", address);
  await c.escrow.allowPaymentToken(address);
  await c.registry.connect(c.provider).setNodePrice(c.nodeId, address, price);
  for (const who of [c.renter, c.renter2]) {
    await token.mint(who.address, funding);
    await token.connect(who).approve(await c.escrow.getAddress(), ethers.MaxUint256);
  }
  return address;
}

/* ------------------------------------------------------------------ */
/*                               FIXTURES                             */
/* ------------------------------------------------------------------ */

/** The core deployment with one 8xH100 node (provider staked exactly), plus handy addresses. */
export async function escrowFixture() {
  const c = await deployWithNode();
  return {
    ...c,
    usdAddress: await c.usd.getAddress(),
    kaiAddress: await c.kai.getAddress(),
    escrowAddress: await c.escrow.getAddress(),
  };
}
export type EscrowFixture = Awaited<ReturnType<typeof escrowFixture>>;

/** Rental 1: pay-as-you-go, 1 GPU, USD 20 (35_971 seconds, 124 left over). */
export async function payAsYouGoFixture() {
  const c = await escrowFixture();
  const opened = await rent(c, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT });
  return { ...c, ...opened, paidUntil: opened.anchor + PAYG_UNITS };
}

/** Rental 1: hourly, 1 GPU, USD 11 (5 hours, 1_000_000 left over). */
export async function hourlyFixture() {
  const c = await escrowFixture();
  const opened = await rent(c, { plan: Plan.Hourly, deposit: HOURLY_DEPOSIT });
  return { ...c, ...opened, paidUntil: opened.anchor + HOURLY_HOURS * HOUR };
}

/** Rental 1: saving, 7 days, 1 GPU, 319_200_000 prepaid. */
export async function savingFixture() {
  const c = await escrowFixture();
  const opened = await rent(c, { plan: Plan.Saving, deposit: 0n, termDays: 7 });
  return { ...c, ...opened, paidUntil: opened.anchor + SAVING_TERM };
}

/** The pay-as-you-go rental, 10 minutes into its grace period (not flagged). */
export async function depletedPayAsYouGoFixture() {
  const c = await payAsYouGoFixture();
  await time.increaseTo(c.paidUntil + 600);
  return c;
}

/** The pay-as-you-go rental, flagged by the keeper the second it ran out. */
export async function flaggedPayAsYouGoFixture() {
  const c = await payAsYouGoFixture();
  await at(c.paidUntil, () => c.escrow.connect(c.keeper).flagGracePeriod(c.rentalId));
  return c;
}

/** The pay-as-you-go rental, ended by the renter 100 seconds in (provider owed 55_600). */
export async function closedPayAsYouGoFixture() {
  const c = await payAsYouGoFixture();
  await at(c.anchor + 100, () => c.escrow.connect(c.renter).endRental(c.rentalId));
  return { ...c, closedAt: c.anchor + 100 };
}

/** The pay-as-you-go rental with 5_560 of fees accrued (provider withdrew 100 seconds). */
export async function feesAccruedFixture() {
  const c = await payAsYouGoFixture();
  await at(c.anchor + 100, () => c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId]));
  return c;
}

/** The escrow paused by the guardian, with the pay-as-you-go rental running. */
export async function pausedFixture() {
  const c = await payAsYouGoFixture();
  await c.escrow.connect(c.guardian).pause();
  return c;
}

/** A USDC-like token with a blocklist, and rental 1 paid in it (pay-as-you-go, 20 units of 6 decimals). */
export async function blocklistFixture() {
  const c = await escrowFixture();
  const token = await ethers.deployContract("MockBlocklistToken");
  const tokenAddress = await listToken(c, await token.getAddress());
  const opened = await rent(c, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT, token: tokenAddress });
  return { ...c, token, tokenAddress, ...opened, paidUntil: opened.anchor + PAYG_UNITS };
}

/** The blocklist rental closed by the keeper while the renter was blocked: 124 credited. */
export async function creditedRefundFixture() {
  const c = await blocklistFixture();
  await c.token.setBlocked(c.renter.address, true);
  await at(c.paidUntil + GRACE, () => c.escrow.connect(c.keeper).closeRental(c.rentalId));
  return c;
}

/** An ERC-777-like hook token, allow-listed and priced, and an attacker contract funded with it. */
export async function hookTokenFixture() {
  const c = await escrowFixture();
  const token = await ethers.deployContract("MockHookToken");
  const tokenAddress = await listToken(c, await token.getAddress());
  const attacker = await ethers.deployContract("ReentrancyAttacker");
  const attackerAddress = await attacker.getAddress();
  await token.mint(attackerAddress, USD(1_000));
  await attacker.execute(
    tokenAddress,
    token.interface.encodeFunctionData("approve", [c.escrowAddress, ethers.MaxUint256]),
  );
  return { ...c, token, tokenAddress, attacker, attackerAddress };
}

/** The attacker contract rents (pay-as-you-go, hook token) and has its hook registered. */
export async function attackerRenterFixture() {
  const c = await hookTokenFixture();
  const p = await params(c, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT, token: c.tokenAddress });
  await c.attacker.execute(c.escrowAddress, c.escrow.interface.encodeFunctionData("rent", [p]));
  const rentalId = await c.escrow.rentalCount();
  const anchor = await time.latest();
  await c.token.setHooked(c.attackerAddress, true);
  return { ...c, rentalId, anchor, paidUntil: anchor + PAYG_UNITS };
}

/** The attacker contract is the provider of a node priced in the hook token; the renter rents it. */
export async function attackerProviderFixture() {
  const c = await hookTokenFixture();
  const { registry, kai, treasury, attacker, attackerAddress, tokenAddress } = c;
  const registryAddress = await registry.getAddress();
  await kai.connect(treasury).transfer(attackerAddress, KAI(24_000));
  await attacker.execute(
    await kai.getAddress(),
    kai.interface.encodeFunctionData("approve", [registryAddress, ethers.MaxUint256]),
  );
  await attacker.execute(registryAddress, registry.interface.encodeFunctionData("stake", [KAI(24_000)]));
  await attacker.execute(
    registryAddress,
    registry.interface.encodeFunctionData("registerNode", [
      defaultSpec,
      "http://attacker",
      [tokenAddress],
      [USD_PRICE],
    ]),
  );
  const attackerNodeId = await registry.nodeCount();
  const opened = await rent(
    { ...c, nodeId: attackerNodeId },
    { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT, token: tokenAddress },
  );
  await c.token.setHooked(attackerAddress, true);
  return { ...c, attackerNodeId, ...opened };
}

/** A USDT-like token whose transfers return nothing, allow-listed and priced like USD. */
export async function noReturnTokenFixture() {
  const c = await escrowFixture();
  const token = await ethers.deployContract("MockNoReturnToken");
  const tokenAddress = await listToken(c, await token.getAddress());
  return { ...c, token, tokenAddress };
}

/** A token that burns 1% of every transfer, allow-listed by mistake and priced like USD. */
export async function feeOnTransferFixture() {
  const c = await escrowFixture();
  const token = await ethers.deployContract("MockFeeOnTransferToken");
  const tokenAddress = await listToken(c, await token.getAddress());
  return { ...c, token, tokenAddress };
}

/** A rebasing token allow-listed by mistake, with rental 1 (pay-as-you-go, 20 units) paid in it. */
export async function rebasingFixture() {
  const c = await escrowFixture();
  const token = await ethers.deployContract("MockRebasingToken");
  const tokenAddress = await listToken(c, await token.getAddress());
  const opened = await rent(c, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT, token: tokenAddress });
  return { ...c, token, tokenAddress, ...opened };
}

/** A second provider with its own node (id 2), staked exactly. */
export async function twoProvidersFixture() {
  const c = await escrowFixture();
  const nodeId2 = await registerNode(c, c.provider2);
  await c.registry.connect(c.provider2).stake(H100_STAKE_PER_GPU * 8n);
  return { ...c, nodeId2 };
}

/**
 * The lens's world: 4 nodes (provider: 1, 2 and 4; provider2: 3), 5 rentals
 * (1: renter on node 1, 2: renter2 on node 3, 3: renter on node 2 (2 GPUs), 4: renter on node 3
 * (saving), 5: renter2 on node 1), rental 3 closed 50 s in. Provider staked exactly 30,000 KAI.
 */
export async function lensFixture() {
  const c = await escrowFixture();
  const node2 = await registerNode(c, c.provider, { ...defaultSpec, gpuClass: 1, gpuCount: 2 });
  const node3 = await registerNode(c, c.provider2);
  const node4 = await registerNode(c, c.provider, { ...defaultSpec, gpuClass: 1, gpuCount: 4 });
  // provider: 8 x 3 + 2 x 1 + 4 x 1 = 30 GPU-weights; it staked 24 already.
  await c.registry.connect(c.provider).stake(KAI(6_000));
  await c.registry.connect(c.provider2).stake(H100_STAKE_PER_GPU * 8n);
  const r1 = await rent(c, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT });
  const r2 = await rent({ ...c, nodeId: node3 }, { plan: Plan.Hourly, deposit: HOURLY_DEPOSIT }, c.renter2);
  const r3 = await rent({ ...c, nodeId: node2 }, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT, gpus: 2 });
  const r4 = await rent({ ...c, nodeId: node3 }, { plan: Plan.Saving, deposit: 0n, termDays: 7 });
  const r5 = await rent(c, { plan: Plan.PayAsYouGo, deposit: PAYG_DEPOSIT }, c.renter2);
  // Rental 3 (2 RTX at 2_000_000 each: 1_112 per second) ends 50 s in: 55_600 to the provider.
  await at(r3.anchor + 50, () => c.escrow.connect(c.renter).endRental(r3.rentalId));
  return { ...c, node2, node3, node4, rentals: [r1, r2, r3, r4, r5] };
}

/** `tx` reverts with RentalEscrow_NothingToWithdraw. */
export function revertsNothingToWithdraw(c: { escrow: EscrowFixture["escrow"] }, tx: Promise<unknown>) {
  return expect(tx).to.be.revertedWithCustomError(c.escrow, "RentalEscrow_NothingToWithdraw");
}

/** `tx` reverts with RentalEscrow_AmountTooLarge(amount, max). */
export function revertsAmountTooLarge(
  c: { escrow: EscrowFixture["escrow"] },
  tx: Promise<unknown>,
  amount: bigint,
  max: bigint,
) {
  return expect(tx).to.be.revertedWithCustomError(c.escrow, "RentalEscrow_AmountTooLarge").withArgs(amount, max);
}
