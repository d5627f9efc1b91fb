/**
 * Fixtures and helpers for the NodeRegistry unit tests. Each fixture builds on the one before it
 * (deployCore -> deployWithNode -> deployWithEscrowCaller -> ...), so `loadFixture` snapshots stay
 * cheap and every test starts from a state it can name.
 */
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";

import {
  BASE_STAKE_PER_GPU,
  DAY,
  HOUR,
  KAI,
  NodeStatus,
  RTX_MULTIPLIER_BPS,
  H100_MULTIPLIER_BPS,
  defaultSpec,
  deployCore,
  deployWithNode,
} from "../fixtures";

/** Role ids, as `NodeRegistry` defines them. */
export const ROLES = {
  DEFAULT_ADMIN: ethers.ZeroHash,
  SLASHER: ethers.id("SLASHER_ROLE"),
  ESCROW: ethers.id("ESCROW_ROLE"),
  REWARDER: ethers.id("REWARDER_ROLE"),
  PAUSER: ethers.id("PAUSER_ROLE"),
} as const;

/** Protocol constants and defaults of `NodeRegistry`. */
export const BPS = 10_000n;
export const MIN_MULTIPLIER_BPS = 1_000n;
export const MAX_MULTIPLIER_BPS = 1_000_000n;
export const MAX_BASE_STAKE_PER_GPU = KAI(1_000_000);
export const MIN_UNBONDING_PERIOD = BigInt(DAY);
export const MAX_UNBONDING_PERIOD = BigInt(90 * DAY);
export const DEFAULT_UNBONDING_PERIOD = BigInt(14 * DAY);
export const DEFAULT_MIN_NOTICE = BigInt(DAY);
export const DEFAULT_MAX_DURATION = BigInt(7 * DAY);
export const MAX_MAINTENANCE_NOTICE = BigInt(30 * DAY);
export const MIN_MAINTENANCE_DURATION = BigInt(HOUR);
export const MAX_MAINTENANCE_DURATION = BigInt(30 * DAY);
export const MAX_METADATA_URI_LENGTH = 256n;
export const UINT96_MAX = 2n ** 96n - 1n;
export const UINT32_MAX = 2n ** 32n - 1n;

/** GPU class ids the core fixture creates. */
export const H100 = 0;
export const RTX = 1;

/** The default node: 8 x H100 (3x) at base 1,000 KAI -> 24,000 KAI required. */
export const DEFAULT_NODE_GPUS = BigInt(defaultSpec.gpuCount);
export const DEFAULT_REQUIRED_STAKE = (BASE_STAKE_PER_GPU * DEFAULT_NODE_GPUS * H100_MULTIPLIER_BPS) / BPS;

/** A 4 x RTX 4090 node (1x): 4,000 KAI required at the default base. */
export const rtxSpec = { ...defaultSpec, gpuClass: RTX, gpuCount: 4, vramGiB: 24, cpuCores: 16, ramGiB: 128 };
export const RTX_NODE_REQUIRED_STAKE = (BASE_STAKE_PER_GPU * 4n * RTX_MULTIPLIER_BPS) / BPS;

/** The KAI stake that backs `gpus` GPUs of class multiplier `multiplierBps` at `base`. */
export function stakeFor(gpus: bigint, multiplierBps: bigint, base: bigint = BASE_STAKE_PER_GPU) {
  return (base * gpus * multiplierBps) / BPS;
}

/** The `NodeSpec` struct as the event decoder returns it (field order of `DataTypes.sol`). */
export function specTuple(spec: typeof defaultSpec) {
  return [
    spec.gpuClass,
    spec.gpuCount,
    spec.vramGiB,
    spec.cpuCores,
    spec.ramGiB,
    spec.diskGiB,
    spec.bandwidthMbps,
    spec.region,
  ];
}

/** Pins the timestamp of the next block and returns it. */
export async function atNextBlock(offset = 1) {
  const t = (await time.latest()) + offset;
  await time.setNextBlockTimestamp(t);
  return t;
}

/** Asserts the full stake record of a provider in one place, with a message per field. */
export async function expectStake(
  registry: Awaited<ReturnType<typeof deployCore>>["registry"],
  provider: string,
  want: Partial<{
    staked: bigint;
    unbonding: bigint;
    unbondingEnd: bigint | number;
    rewardsOwed: bigint;
    listedWeight: bigint;
    lockedWeight: bigint;
    rentedWeight: bigint;
    coveredSince: bigint | number;
  }>,
) {
  const s = await registry.getStake(provider);
  for (const [field, value] of Object.entries(want)) {
    expect(s[field as keyof typeof want], `stake.${field}`).to.equal(value);
  }
}

/* -------------------------------------------------------------------------- */
/*                                  FIXTURES                                  */
/* -------------------------------------------------------------------------- */

/**
 * `deployWithNode` plus a plain account granted ESCROW_ROLE, so that tests can call
 * `reserveGpus` / `releaseGpus` directly (the real escrow holds the role too).
 */
export async function deployWithEscrowCaller() {
  const c = await deployWithNode();
  const escrowCaller = (await ethers.getSigners())[11];
  await c.registry.grantRole(ROLES.ESCROW, escrowCaller.address);
  return {
    ...c,
    escrowCaller,
    usdAddress: await c.usd.getAddress(),
    kaiAddress: await c.kai.getAddress(),
    registryAddress: await c.registry.getAddress(),
  };
}

/** 3 GPUs of the node reserved on a non-saving plan (no stake locked). */
export const RENTED_GPUS = 3n;
export async function deployWithRentedGpus() {
  const c = await deployWithEscrowCaller();
  await c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, RENTED_GPUS, c.usdAddress, false);
  return c;
}

/** 2 GPUs of the node reserved on a saving plan: 2 x 3x x 1,000 = 6,000 KAI locked. */
export const LOCKED_GPUS = 2n;
export const LOCKED_STAKE = stakeFor(LOCKED_GPUS, H100_MULTIPLIER_BPS);
export async function deployWithLockedStake() {
  const c = await deployWithEscrowCaller();
  await c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, LOCKED_GPUS, c.usdAddress, true);
  return c;
}

/** The oracle credited 500 KAI of rewards to the provider. */
export const REWARDS = KAI(500);
export async function deployWithRewards() {
  const c = await deployWithEscrowCaller();
  await c.registry.connect(c.oracle).depositRewards(c.provider.address, REWARDS);
  return c;
}

/** The provider moved 6,000 of its 24,000 KAI stake into unbonding. */
export const UNBONDING = KAI(6_000);
export async function deployWithUnbonding() {
  const c = await deployWithEscrowCaller();
  await c.registry.connect(c.provider).requestUnstake(UNBONDING);
  const unbondingEnd = (await c.registry.getStake(c.provider.address)).unbondingEnd;
  return { ...c, unbondingEnd };
}

/**
 * All three pots a slash draws from: 500 KAI rewards owed, 18,000 KAI active stake,
 * 6,000 KAI unbonding.
 */
export const ACTIVE_AFTER_UNBONDING = DEFAULT_REQUIRED_STAKE - UNBONDING;
export async function deployWithAllStakeKinds() {
  const c = await deployWithRewards();
  await c.registry.connect(c.provider).requestUnstake(UNBONDING);
  const unbondingEnd = (await c.registry.getStake(c.provider.address)).unbondingEnd;
  return { ...c, unbondingEnd };
}

/** `deployWithAllStakeKinds`, then the pause guardian paused the registry. */
export async function deployPaused() {
  const c = await deployWithAllStakeKinds();
  await c.registry.connect(c.guardian).pause();
  return c;
}

/** The provider paused its node. */
export async function deployWithPausedNode() {
  const c = await deployWithEscrowCaller();
  await c.registry.connect(c.provider).pauseNode(c.nodeId);
  return c;
}

/** The oracle jailed the node. */
export async function deployWithJailedNode() {
  const c = await deployWithEscrowCaller();
  await c.registry.connect(c.oracle).setNodeJailed(c.nodeId, true);
  return c;
}

/** The provider retired its node. */
export async function deployWithRetiredNode() {
  const c = await deployWithEscrowCaller();
  await c.registry.connect(c.provider).retireNode(c.nodeId);
  return c;
}

/** A 6-hour maintenance window announced to start 2 days from now. */
export const MAINTENANCE_LENGTH = 6 * HOUR;
export async function deployWithMaintenance() {
  const c = await deployWithEscrowCaller();
  const start = (await time.latest()) + 2 * DAY;
  const end = start + MAINTENANCE_LENGTH;
  await c.registry.connect(c.provider).announceMaintenance(c.nodeId, start, end);
  return { ...c, window: { start, end } };
}

/**
 * A second registry whose stake token is a freely mintable ERC-20, to reach the uint96 bounds of
 * the packed stake record (KAI's whole supply, 1e27, is below 2^96 - 1 ~ 7.9e28).
 */
export async function deployWithMintableStakeToken() {
  const c = await deployCore();
  const stakeToken = await ethers.deployContract("MockERC20", ["Stake", "STK", 18]);
  const registry = await ethers.deployContract("NodeRegistry", [
    await stakeToken.getAddress(),
    c.admin.address,
    BASE_STAKE_PER_GPU,
  ]);
  await registry.grantRole(ROLES.REWARDER, c.oracle.address);
  await registry.grantRole(ROLES.SLASHER, c.oracle.address);
  for (const who of [c.provider, c.oracle]) {
    await stakeToken.mint(who.address, 4n * UINT96_MAX);
    await stakeToken.connect(who).approve(await registry.getAddress(), ethers.MaxUint256);
  }
  return { ...c, stakeToken, registry };
}

export { NodeStatus };
