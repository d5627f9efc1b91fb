/**
 * The money walk's world: the deployed contracts, signers and the start snapshot.
 */
import { expect } from "chai";
import { ethers, network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { BaseContract } from "ethers";

import type { MockBlocklistToken, MoneyWalkProbe } from "../../../typechain-types";
import { ENDPOINT, KAI, USD, defaultSpec, deployCore, type Core } from "../../fixtures";
import { type Holder, type TokenKey, WALK_START } from "./constants";

/** The deployed contracts and signers (the "real" system of the model-based test). */
export interface World {
  c: Core;
  busd: MockBlocklistToken;
  probe: MoneyWalkProbe;
  token: Record<TokenKey, BaseContract & { getAddress(): Promise<string> }>;
  tokenAddr: Record<TokenKey, string>;
  /** A listed-nowhere address, for TokenNotAllowed paths. */
  bogusToken: string;
  signer: Record<Exclude<Holder, "escrow" | "registry">, HardhatEthersSigner>;
  addr: Record<Holder, string>;
  /** `evm_snapshot` id of the start state. */
  snapshot: string;
}

/**
 * Deploys the core (fixtures' `deployCore`), adds a blocklist payment token (USDC-like: transfers
 * to a blocked renter fail, so refunds go to `refundCredit`), lists an 8xH100 node for `provider`
 * and a 4xRTX node for `provider2`, each staked exactly, moves time to {@link WALK_START} and takes
 * a snapshot.
 */
export async function setupWorld(): Promise<World> {
  const c = await deployCore();
  const busd = await ethers.deployContract("MockBlocklistToken");
  const probe = await ethers.deployContract("MoneyWalkProbe");
  await c.escrow.allowPaymentToken(await busd.getAddress());
  for (const who of [c.renter, c.renter2]) {
    await busd.mint(who.address, USD(1_000_000));
    await busd.connect(who).approve(await c.escrow.getAddress(), ethers.MaxUint256);
  }
  const tokenAddr = {
    usd: await c.usd.getAddress(),
    kai: await c.kai.getAddress(),
    busd: await busd.getAddress(),
  };
  await c.registry
    .connect(c.provider)
    .registerNode(defaultSpec, ENDPOINT, [tokenAddr.usd, tokenAddr.kai, tokenAddr.busd], INITIAL_NODE_PRICES);
  await c.registry.connect(c.provider).stake(await c.registry.requiredStake(c.provider.address));
  await c.registry
    .connect(c.provider2)
    .registerNode(SECOND_NODE_SPEC, ENDPOINT, [tokenAddr.usd, tokenAddr.kai, tokenAddr.busd], SECOND_NODE_PRICES);
  await c.registry.connect(c.provider2).stake(await c.registry.requiredStake(c.provider2.address));

  // Absolute times never change the math (only differences do), so a chain that some earlier test
  // file moved past WALK_START still walks; it just does not replay block for block.
  const latest = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const startAt = latest < WALK_START ? WALK_START : latest + 1n;
  await network.provider.send("evm_setNextBlockTimestamp", [Number(startAt)]);
  await network.provider.send("evm_mine", []);

  const signer = {
    admin: c.admin,
    treasury: c.treasury,
    rewardPool: c.rewardPool,
    guardian: c.guardian,
    oracle: c.oracle,
    provider: c.provider,
    provider2: c.provider2,
    renter: c.renter,
    renter2: c.renter2,
    keeper: c.keeper,
    other: c.other,
  };
  const addr = Object.fromEntries(Object.entries(signer).map(([k, s]) => [k, s.address])) as Record<Holder, string>;
  addr.escrow = await c.escrow.getAddress();
  addr.registry = await c.registry.getAddress();
  return {
    c,
    busd,
    probe,
    token: { usd: c.usd, kai: c.kai, busd },
    tokenAddr,
    bogusToken: await probe.getAddress(),
    signer,
    addr,
    snapshot: await network.provider.send("evm_snapshot", []),
  };
}

/** Back to the start state (and a fresh snapshot of it: a snapshot is used up by `evm_revert`). */
export async function resetWorld(w: World): Promise<void> {
  const ok = await network.provider.send("evm_revert", [w.snapshot]);
  expect(ok, "evm_revert").to.equal(true);
  w.snapshot = await network.provider.send("evm_snapshot", []);
}

export const INITIAL_NODE_PRICES = [USD(2), KAI(20), USD(3)];
/** provider2's node: 4 x RTX 4090 (class 1), cheaper, and not accepting the blocklist token. */
export const SECOND_NODE_SPEC = { ...defaultSpec, gpuClass: 1, gpuCount: 4, vramGiB: 24 };
export const SECOND_NODE_PRICES = [USD(1) / 2n, KAI(7), 0n];
