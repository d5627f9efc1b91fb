/**
 * Fixtures and helpers for the RewardDistributor unit tests (test/unit/RewardDistributor). They
 * build on `test/helpers/oracle.ts` and on each other:
 *
 *   deployDistributor  the distributor on the real ReportOracle (4 checkers, quorum 3), reserve 0
 *   -> deployReported  epoch 1's report accepted with the STANDARD leaves, reserve still 0
 *   -> deployWithEpoch the reserve funded with RESERVE, the clock at 01:00 UTC of the next day
 *   -> deployClaimed   alice claimed her two epoch-1 leaves (650 KAI) into her position of that day
 *
 * Every epoch is made claimable the way production does it: a quorum of checkers signs a report
 * whose root is the tree of `offchain/src/leaves.ts`, and a keeper submits it.
 */
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse } from "ethers";

import { DAY, KAI } from "../fixtures";
import { deployWithCheckers, endEpoch, makeReport, signedBy, type WithCheckers } from "./oracle";
import {
  LeafKind,
  buildRewardTree,
  checkerMetricsHash,
  nodeMetricsHash,
  proofOf,
  totalReward,
  type RewardLeaf,
} from "../../offchain/src/leaves";
import type { RewardDistributor } from "../../typechain-types";

/* -------------------------------------------------------------------------- */
/*                                  CONSTANTS                                 */
/* -------------------------------------------------------------------------- */

export const BPS = 10_000n;
export const ONE_DAY = BigInt(DAY);
/** Vesting steps: withdrawn before 30 days pays 25%, before 90 days 50%, before 180 days 75%. */
export const VESTING_STEPS = [
  { from: 0n, bps: 2_500n },
  { from: 30n * ONE_DAY, bps: 5_000n },
  { from: 90n * ONE_DAY, bps: 7_500n },
  { from: 180n * ONE_DAY, bps: 10_000n },
] as const;

/** What the treasury puts in the reserve in `deployWithEpoch`. */
export const RESERVE = KAI(1_000_000);
/** The epoch `deployReported` reports. */
export const EPOCH = 1n;
/** Seconds into its UTC day at which `deployWithEpoch` leaves the clock. */
export const DAY_OFFSET = 3_600n;

/* -------------------------------------------------------------------------- */
/*                                    LEAVES                                  */
/* -------------------------------------------------------------------------- */

/** Node measurements that differ per `seed`, so that two leaves never share a metrics hash. */
export function nodeMetrics(seed: number | bigint) {
  const s = BigInt(seed);
  return {
    uptimeBps: 9_000n + (s % 1_000n),
    bandwidthMbps: 1_000n + s,
    hardwareScore: 500n + s,
    deliveredGpuSeconds: 3_600n * s,
    capacityPoints: 10n + s,
    deliveryPoints: 5n + s,
    hardwareMismatch: false,
    evidence: ethers.id(`node samples ${s}`),
  };
}

/** A node leaf (kind 0): `capacity` and `delivery` in KAI units (wei). */
export function nodeLeaf(
  epoch: bigint,
  account: string,
  id: bigint,
  capacity: bigint,
  delivery: bigint,
  metricsSeed: number | bigint = id,
): RewardLeaf {
  return {
    kind: LeafKind.Node,
    epoch,
    account,
    id,
    capacityReward: capacity,
    deliveryReward: delivery,
    checkerReward: 0n,
    metricsHash: nodeMetricsHash(nodeMetrics(metricsSeed)),
  };
}

/** A checker leaf (kind 1, id 0) paying `reward` KAI units to the operator `account`. */
export function checkerLeaf(
  epoch: bigint,
  account: string,
  reward: bigint,
  metricsSeed: number | bigint = 0,
): RewardLeaf {
  return {
    kind: LeafKind.Checker,
    epoch,
    account,
    id: 0n,
    capacityReward: 0n,
    deliveryReward: 0n,
    checkerReward: reward,
    metricsHash: checkerMetricsHash({
      licenses: 1n,
      reportsSigned: 100n,
      errorRateBps: BigInt(metricsSeed),
      evidence: ethers.id(`checker samples ${account} ${metricsSeed}`),
    }),
  };
}

/** The claim subject of a leaf: its node id (kind 0) or its operator as a number (kind 1). */
export function subjectOf(leaf: RewardLeaf): bigint {
  return leaf.kind === LeafKind.Node ? leaf.id : BigInt(leaf.account);
}

/** The leaves of epoch 1 in `deployReported`. */
export function standardLeaves(a: Accounts, epoch = EPOCH) {
  return {
    /** alice's first node: 300 + 200 KAI. */
    aliceNode1: nodeLeaf(epoch, a.alice.address, 1n, KAI(300), KAI(200)),
    /** alice's second node: 100 + 50 KAI. */
    aliceNode2: nodeLeaf(epoch, a.alice.address, 2n, KAI(100), KAI(50)),
    /** bob's node: 400 KAI of capacity. */
    bobNode: nodeLeaf(epoch, a.bob.address, 3n, KAI(400), 0n),
    /** carol's checker reward: 250 KAI. */
    carolChecker: checkerLeaf(epoch, a.carol.address, KAI(250)),
    /** dave's node earned nothing. */
    daveZero: nodeLeaf(epoch, a.dave.address, 4n, 0n, 0n),
    /** erin's node earned 7 wei: shares of it round. */
    erinDust: nodeLeaf(epoch, a.erin.address, 5n, 7n, 0n),
  };
}

export type StandardLeaves = ReturnType<typeof standardLeaves>;

/** A leaf and its proof, as `claim` takes it. */
export function claimOf(tree: ReturnType<typeof buildRewardTree>, leaf: RewardLeaf) {
  return { leaf, proof: proofOf(tree, leaf) };
}

/** `who` claims `leaves` (each with its proof in `c.tree`) for itself. */
export function claimOwn(
  c: { distributor: RewardDistributor; tree: ReturnType<typeof buildRewardTree> },
  who: { address: string } & Parameters<RewardDistributor["connect"]>[0],
  ...leaves: RewardLeaf[]
) {
  return c.distributor.connect(who).claim(
    who.address,
    leaves.map((leaf) => claimOf(c.tree, leaf)),
  );
}

/* -------------------------------------------------------------------------- */
/*                                    CHAIN                                   */
/* -------------------------------------------------------------------------- */

export async function latestTimestamp(): Promise<bigint> {
  return BigInt(await time.latest());
}

/** The Unix day number of `timestamp` (what the distributor uses as a position id). */
export function dayOf(timestamp: bigint): bigint {
  return timestamp / ONE_DAY;
}

/** The Unix day of the block that mined `tx`. */
export async function dayOfTx(tx: ContractTransactionResponse): Promise<bigint> {
  const receipt = await tx.wait();
  const block = await ethers.provider.getBlock(receipt!.blockNumber);
  return dayOf(BigInt(block!.timestamp));
}

/** The age the distributor gives the position of `day` at `timestamp`: it opens when the day ends. */
export function positionAge(day: bigint, timestamp: bigint): bigint {
  const opened = (day + 1n) * ONE_DAY;
  return timestamp > opened ? timestamp - opened : 0n;
}

/** The `vestedBps` of a position `age` seconds old, as the interface documents it. */
export function vestedBpsOf(age: bigint): bigint {
  let bps = 0n;
  for (const step of VESTING_STEPS) if (age >= step.from) bps = step.bps;
  return bps;
}

/**
 * Makes `epoch` claimable with `leaves`: moves past its end, has operators 0-2 sign a report over
 * the tree's root and a keeper submit it. `reported` is the total the report states (by default
 * the leaves' sum); the oracle checks only that against the budget.
 */
export async function postEpoch(c: WithCheckers, epoch: bigint, leaves: RewardLeaf[], reported?: bigint) {
  const tree = buildRewardTree(leaves);
  const report = makeReport(epoch, 1n, {
    root: tree.root,
    nodeCount: BigInt(leaves.filter((l) => l.kind === LeafKind.Node).length),
    totalReward: reported ?? totalReward(leaves),
  });
  await endEpoch(c, epoch);
  await c.oracle.connect(c.keeper).submitReport(report, await signedBy(c, report, c.operators.slice(0, c.quorum)));
  return tree;
}

/** Moves the clock to `offset` seconds into the next UTC day (mines a block). */
export async function toNextDay(offset = DAY_OFFSET): Promise<bigint> {
  const day = dayOf(await latestTimestamp()) + 1n;
  await time.increaseTo(day * ONE_DAY + offset);
  return day;
}

/** The distributor's positions of `owner` as plain `[day, amount]` pairs. */
export async function positionsOf(distributor: RewardDistributor, owner: string): Promise<[bigint, bigint][]> {
  return (await distributor.positionsOf(owner)).map((p) => [p.day, p.amount]);
}

/* -------------------------------------------------------------------------- */
/*                                  FIXTURES                                  */
/* -------------------------------------------------------------------------- */

/** Leaf accounts: signers that hold no KAI in `deployCore`, so their balance is what they withdrew. */
export async function leafAccounts() {
  const signers = await ethers.getSigners();
  const [alice, bob, carol, dave, erin] = signers.slice(11, 16);
  return { alice, bob, carol, dave, erin };
}

export type Accounts = Awaited<ReturnType<typeof leafAccounts>>;

/** The distributor over the oracle of `deployWithCheckers`; the treasury approved it; reserve 0. */
export async function deployDistributor() {
  const c = await deployWithCheckers(4, 3);
  const accounts = await leafAccounts();
  const distributor = await ethers.deployContract("RewardDistributor", [
    await c.kai.getAddress(),
    await c.oracle.getAddress(),
  ]);
  await c.kai.connect(c.treasury).approve(await distributor.getAddress(), ethers.MaxUint256);
  return { ...c, ...accounts, distributor };
}

export type DistributorFixture = Awaited<ReturnType<typeof deployDistributor>>;

/** `deployDistributor`, then epoch 1 reported with the standard leaves; the reserve is empty. */
export async function deployReported() {
  const c = await deployDistributor();
  const leaves = standardLeaves(c);
  const tree = await postEpoch(c, EPOCH, Object.values(leaves));
  return { ...c, leaves, tree };
}

/** `deployReported`, the reserve funded with RESERVE, the clock at 01:00 UTC of a fresh day. */
export async function deployWithEpoch() {
  const c = await deployReported();
  await c.distributor.connect(c.treasury).fundReserve(RESERVE);
  const day = await toNextDay();
  return { ...c, day, dayStart: day * ONE_DAY, dayEnd: (day + 1n) * ONE_DAY };
}

export type EpochFixture = Awaited<ReturnType<typeof deployWithEpoch>>;

/** What alice claimed in `deployClaimed`: both her nodes of epoch 1. */
export const ALICE_CLAIMED = KAI(650);

/** `deployWithEpoch`, then alice claimed both her node leaves (650 KAI) on `day`. */
export async function deployClaimed() {
  const c = await deployWithEpoch();
  await c.distributor
    .connect(c.alice)
    .claim(c.alice.address, [claimOf(c.tree, c.leaves.aliceNode1), claimOf(c.tree, c.leaves.aliceNode2)]);
  return c;
}

/* -------------------------------------------------------------------------- */
/*                                   EVENTS                                   */
/* -------------------------------------------------------------------------- */

/** The distributor's events in `tx`, in order, as `[name, ...args]`. */
export async function distributorEvents(distributor: RewardDistributor, tx: ContractTransactionResponse) {
  const receipt = await tx.wait();
  const address = await distributor.getAddress();
  return receipt!.logs
    .filter((l) => l.address === address)
    .map((l) => distributor.interface.parseLog(l)!)
    .map((e) => [e.name, ...e.args.toArray()]);
}

/* -------------------------------------------------------------------------- */
/*                                  PROOFS                                    */
/* -------------------------------------------------------------------------- */

/** OpenZeppelin's commutative node hash: keccak256 of the two children, smaller first. */
export function nodeHash(a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? ethers.keccak256(ethers.concat([a, b])) : ethers.keccak256(ethers.concat([b, a]));
}

/** `MerkleProof.processProof`: the root `proof` leads to from `hash`. */
export function processProof(hash: string, proof: string[]): string {
  return proof.reduce((node, sibling) => nodeHash(node, sibling), hash);
}
