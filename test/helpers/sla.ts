/**
 * Fixtures and helpers for SLA credits and PoPW slashing (test/unit/SlaEnforcer, the escrow's
 * `creditSla`, the PoPW walk and the gas bench).
 *
 *   deploySla  the core contracts (test/fixtures), the real ReportOracle with 4 checkers at quorum
 *              3, a provider with the default 8xH100 node staked to its requirement, and the
 *              SlaEnforcer wired as the deployment wires it (escrow ORACLE_ROLE, registry
 *              SLASHER_ROLE); `admin` administers it; slashes go to `treasury`; no KAI rate yet.
 *
 * Epochs are EPOCH_LENGTH (60 s) long from the oracle's genesis. A node's epoch is reported the way
 * production does it: checkers sign a report whose root is the tree of `offchain/src/leaves.ts`.
 *
 * A node's "slashable from" cursors (`slashableFrom`: the first epoch whose downtime / fraud evidence
 * may still slash it) are read as a plain `[downtime, fraud]` pair with `slashableFromOf`; a release
 * moves both to the epoch after the one it is mined in (`releaseCursor`).
 */
import { ethers, network } from "hardhat";
import type { BaseContract, ContractTransactionResponse, TransactionReceipt } from "ethers";

import { registerNode, type Core } from "../fixtures";
import { deployWithCheckers, EPOCH_LENGTH } from "./oracle";
import { postEpoch } from "./rewards";
import { LeafKind, nodeMetricsHash, type NodeMetrics, type RewardLeaf } from "../../offchain/src/leaves";
import { nodeEpochProof } from "../../offchain/src/sla";

export { EPOCH_LENGTH };

/** The fixture's `slashWindow`: evidence of epoch e slashes until `epochStart(e + 1) + SLASH_WINDOW`
 * (a day: the 60-s epochs of the tests stay far inside it unless a test moves time on). */
export const SLASH_WINDOW = 86_400n;

/** Slash reason codes of the SlaEnforcer (the oracle's equivocation is 100). */
export const Reason = { SlaCredit: 1, Downtime: 2, HardwareFraud: 3, SavingRefund: 4 } as const;

/** Node metrics with the given uptime (and optionally a hardware mismatch); the rest fixed. */
export function metricsWith(uptimeBps: bigint, hardwareMismatch = false, seed = 0): NodeMetrics {
  return {
    uptimeBps,
    bandwidthMbps: 1_000n,
    hardwareScore: 900n,
    deliveredGpuSeconds: 3_600n,
    capacityPoints: 10n,
    deliveryPoints: 5n,
    hardwareMismatch,
    evidence: ethers.id(`samples ${uptimeBps} ${hardwareMismatch} ${seed}`),
  };
}

/** A node leaf with no reward (SLA proofs need none) committing to `metrics`. */
export function slaLeaf(epoch: bigint, provider: string, nodeId: bigint, metrics: NodeMetrics): RewardLeaf {
  return {
    kind: LeafKind.Node,
    epoch,
    account: provider,
    id: nodeId,
    capacityReward: 0n,
    deliveryReward: 0n,
    checkerReward: 0n,
    metricsHash: nodeMetricsHash(metrics),
  };
}

export async function deploySla() {
  const c = await deployWithCheckers(4, 3);
  const nodeId = await registerNode(c as unknown as Core);
  await c.registry.connect(c.provider).stake(await c.registry.requiredStake(c.provider.address));
  const sla = await ethers.deployContract("SlaEnforcer", [
    await c.oracle.getAddress(),
    await c.escrow.getAddress(),
    c.admin.address,
    c.treasury.address,
    SLASH_WINDOW,
  ]);
  await c.escrow.grantRole(await c.escrow.ORACLE_ROLE(), await sla.getAddress());
  await c.registry.grantRole(await c.registry.SLASHER_ROLE(), await sla.getAddress());
  await sla.syncSlashLatency();
  return { ...c, nodeId, sla };
}

export type SlaFixture = Awaited<ReturnType<typeof deploySla>>;

/** Start and end (exclusive) of `epoch`, Unix seconds. */
export function epochBounds(c: { genesis: bigint }, epoch: bigint) {
  const length = BigInt(EPOCH_LENGTH);
  return { from: c.genesis + epoch * length, to: c.genesis + (epoch + 1n) * length };
}

/**
 * Reports `epoch` with one leaf per entry (node id and metrics; the account is the node's
 * provider) and returns each entry's `NodeEpochProof`, in the order given.
 */
export async function reportNodes(c: SlaFixture, epoch: bigint, entries: { nodeId: bigint; metrics: NodeMetrics }[]) {
  const leaves: RewardLeaf[] = [];
  for (const e of entries) leaves.push(slaLeaf(epoch, await c.registry.nodeProvider(e.nodeId), e.nodeId, e.metrics));
  // A tree needs two leaves to have proofs of any length: pad with a leaf no one uses.
  const padded = leaves.length === 1 ? [...leaves, slaLeaf(epoch, c.other.address, 999_999n, metricsWith(1n))] : leaves;
  const tree = await postEpoch(c, epoch, padded);
  return entries.map((e, i) => nodeEpochProof(tree, leaves[i], e.metrics));
}

/* -------------------------------------------------------------------------- */
/*                   HELPERS OF THE SlaEnforcer UNIT TESTS                    */
/* -------------------------------------------------------------------------- */

import { time } from "@nomicfoundation/hardhat-network-helpers";
import { defaultSpec } from "../fixtures";
import { DEFAULT_CREDIT_SCHEDULE, slaCredit, type SlaRental } from "../../offchain/src/sla";
import type { Plan } from "../../offchain/src/rentalMath";

/** Role ids the enforcer needs elsewhere (escrow ORACLE_ROLE, registry SLASHER_ROLE) and its own admin role. */
export const SLA_ROLES = {
  DEFAULT_ADMIN: ethers.ZeroHash,
  ORACLE: ethers.id("ORACLE_ROLE"),
  SLASHER: ethers.id("SLASHER_ROLE"),
} as const;

/** The enforcer's policy at deployment: uptime < 90.00% for 2 epochs slashes 33.33%; fraud 100%. */
export const DEFAULT_POLICY = {
  downtimeThresholdBps: 9_000n,
  downtimeEpochs: 2n,
  downtimeSlashBps: 3_333n,
  fraudSlashBps: 10_000n,
} as const;

/** KAI staked per H100 GPU in `deploySla`: 1,000 KAI base x 3 (class multiplier). */
export const H100_PER_GPU_STAKE = 3_000n * 10n ** 18n;

/** `SlaEnforcer.MAX_KAI_PER_TOKEN`: the largest rate governance may set (1e40 KAI units per 1e18 token units). */
export const MAX_KAI_PER_TOKEN = 10n ** 40n;

/**
 * A downtime slash under the default policy: `downtimeSlashBps` (33.33%) of the per-GPU stake for
 * each of the NODE's GPUs (not the rented ones). 8 H100s: 3,000 x 8 x 33.33% = 7,999.2 KAI.
 */
export function downtimeSlashOf(gpuCount: bigint | number, perGpuStake = H100_PER_GPU_STAKE) {
  return (perGpuStake * BigInt(gpuCount) * DEFAULT_POLICY.downtimeSlashBps) / 10_000n;
}

/** `slashableFrom(nodeId)` as a plain `[downtimeEpoch, fraudEpoch]` pair. */
export async function slashableFromOf(c: SlaFixture, nodeId: bigint): Promise<[bigint, bigint]> {
  const [downtime, fraud] = await c.sla.slashableFrom(nodeId);
  return [downtime, fraud];
}

/** The epoch a block mined at `timestamp` falls in (the enforcer's clock: the oracle's). */
export function epochAt(c: { genesis: bigint }, timestamp: bigint): bigint {
  return (timestamp - c.genesis) / BigInt(EPOCH_LENGTH);
}

/** Where `releaseNode` mined at `timestamp` moves a node's cursors (at least): the next epoch. */
export function releaseCursor(c: { genesis: bigint }, timestamp: bigint): bigint {
  return epochAt(c, timestamp) + 1n;
}

/**
 * Sends `sends` (each given an explicit gas limit, so that nothing is estimated against a stale
 * state) into one block mined at `timestamp`, in order, with automining off meanwhile. Returns
 * their receipts (a reverted transaction's too: status 0). Models a front-run: a transaction that
 * lands in the same block, just before another.
 */
export async function inOneBlock(
  timestamp: bigint,
  sends: ((overrides: { gasLimit: bigint }) => Promise<ContractTransactionResponse>)[],
): Promise<TransactionReceipt[]> {
  const hashes: string[] = [];
  await network.provider.send("evm_setAutomine", [false]);
  try {
    for (const send of sends) hashes.push((await send({ gasLimit: 2_000_000n })).hash);
    await network.provider.send("evm_mine", [Number(timestamp)]);
  } finally {
    await network.provider.send("evm_setAutomine", [true]);
  }
  return Promise.all(hashes.map(async (h) => (await ethers.provider.getTransactionReceipt(h))!));
}

/**
 * The custom error (name and arguments) a mined, reverted transaction reverted with, decoded with
 * `contract`'s ABI from the transaction's trace (`debug_traceTransaction`): the chai matchers only
 * read reverts of transactions rejected when sent.
 */
export async function minedRevertOf(contract: BaseContract, hash: string) {
  const trace = await network.provider.send("debug_traceTransaction", [
    hash,
    { disableStorage: true, disableMemory: true, disableStack: true },
  ]);
  if (!trace.failed) return undefined;
  const data = String(trace.returnValue).startsWith("0x") ? trace.returnValue : `0x${trace.returnValue}`;
  const error = contract.interface.parseError(data);
  return error ? { name: error.name, args: [...error.args] } : { name: "?", args: [data] };
}

/** A rental as `offchain/src/sla.ts` reads it, from the escrow's storage now. */
export async function slaRentalOf(c: Pick<SlaFixture, "escrow">, rentalId: bigint): Promise<SlaRental> {
  const r = await c.escrow.getRental(rentalId);
  return {
    plan: Number(r.plan) as Plan,
    anchor: r.anchor,
    unitPrice: r.unitPrice,
    amount: r.amount,
    withdrawnUnits: r.withdrawnUnits,
    closed: Number(r.status) === 3,
    earlyExitPenaltyBps: (await c.escrow.rentalTerms(r.termsVersion)).earlyExitPenaltyBps,
  };
}

/**
 * What `offchain/src/sla.ts` says crediting `rentalId` for `uptimeBps` in `epoch` at `now` gives,
 * against the rental's SLA target and the default credit schedule (null: the escrow reverts).
 */
export async function modelCredit(c: SlaFixture, rentalId: bigint, epoch: bigint, uptimeBps: bigint, now: bigint) {
  const r = await c.escrow.getRental(rentalId);
  const target = BigInt((await c.escrow.slaTiers())[Number(r.slaTier)]);
  const { from, to } = epochBounds(c, epoch);
  return slaCredit(await slaRentalOf(c, rentalId), DEFAULT_CREDIT_SCHEDULE, target, uptimeBps, from, to, now);
}

/**
 * Registers a node of `spec` for `who` and stakes what its listing adds to the requirement.
 * Returns the node id.
 */
export async function addStakedNode(c: SlaFixture, who = c.provider2, spec = defaultSpec): Promise<bigint> {
  const nodeId = await registerNode(c as unknown as Core, who, spec);
  const required = await c.registry.requiredStake(who.address);
  const staked = (await c.registry.getStake(who.address)).staked;
  if (required > staked) await c.registry.connect(who).stake(required - staked);
  return nodeId;
}

/** Sends `send()` in a block mined at exactly `timestamp`. */
export async function atTime<T>(timestamp: bigint, send: () => Promise<T>): Promise<T> {
  await time.setNextBlockTimestamp(timestamp);
  return send();
}

/** `token` balances of `holders`, in order. */
export async function balancesOf(
  token: { balanceOf(a: string): Promise<bigint> },
  holders: { getAddress(): Promise<string> }[],
): Promise<bigint[]> {
  return Promise.all(holders.map(async (h) => token.balanceOf(await h.getAddress())));
}

/** The sum of `balancesOf`. */
export async function totalOf(
  token: { balanceOf(a: string): Promise<bigint> },
  holders: { getAddress(): Promise<string> }[],
): Promise<bigint> {
  return (await balancesOf(token, holders)).reduce((a, b) => a + b, 0n);
}

/** A copy of `p` with `leaf` fields changed (the proof and metrics kept). */
export function withLeaf(p: NodeEpochProof, leaf: Partial<RewardLeaf>): NodeEpochProof {
  return { ...p, leaf: { ...p.leaf, ...leaf } };
}

/** A copy of `p` with `metrics` fields changed (the leaf and proof kept). */
export function withMetrics(p: NodeEpochProof, metrics: Partial<NodeMetrics>): NodeEpochProof {
  return { ...p, metrics: { ...p.metrics, ...metrics } };
}

/** The proof struct `reportNodes` returns. */
export type NodeEpochProof = Awaited<ReturnType<typeof reportNodes>>[number];

/**
 * Penalty `index` of `provider` in the registry as a plain object (a `Result` has an `at` method
 * that shadows the field).
 */
export async function penaltyOf(c: SlaFixture, provider: string, index: number | bigint) {
  const [amount, at, reason, nodeId, evidence] = await c.registry.penaltyAt(provider, index);
  return { amount, at, reason: Number(reason), nodeId, evidence };
}

import { openRental, rentParams } from "../fixtures";

type RentOverrides = Parameters<typeof rentParams>[1];

/** `openRental` (test/fixtures) on the SLA fixture, whose `oracle` is the oracle contract, not a signer. */
export function openSlaRental(c: SlaFixture, overrides: RentOverrides = {}, who = c.renter): Promise<bigint> {
  return openRental(c as unknown as Core & { nodeId: bigint }, overrides, who);
}

/** `rentParams` (test/fixtures) on the SLA fixture, with the token filled in (USD unless overridden). */
export async function slaRentParams(c: SlaFixture, overrides: RentOverrides = {}) {
  const p = rentParams(c as unknown as Core & { nodeId: bigint }, overrides);
  if (!p.token) p.token = await c.usd.getAddress();
  return p;
}

/** The evidence `payStakeCredit` records with its `Slash`: `keccak256(abi.encode(rentalId, epoch))`. */
export function stakeCreditEvidence(rentalId: bigint, epoch: bigint): string {
  return ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [rentalId, epoch]));
}

/** The first second `payStakeCredit` accepts for `epoch`: its slashing window has passed. */
export async function stakeCreditOpensAt(c: SlaFixture, epoch: bigint): Promise<bigint> {
  return epochBounds(c, epoch + 1n).from + (await c.sla.slashWindow()) + 1n;
}

/** Moves the clock to the first second the stake credits of `epoch` are payable (if not past it). */
export async function afterSlashWindow(c: SlaFixture, epoch: bigint): Promise<bigint> {
  const at = await stakeCreditOpensAt(c, epoch);
  if (BigInt(await time.latest()) < at) await time.setNextBlockTimestamp(at);
  return at;
}

import { expect } from "chai";

/** `tx` reverts with SlaEnforcer_EvidenceTooOld(node, epoch, cursor): its evidence starts before the node's cursor. */
export function revertsEvidenceTooOld(
  c: Pick<SlaFixture, "sla" | "nodeId">,
  tx: Promise<unknown>,
  epoch: bigint,
  cursor: bigint,
) {
  return expect(tx)
    .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_EvidenceTooOld")
    .withArgs(c.nodeId, epoch, cursor);
}

/**
 * `tx` emits the registry's Slash of node `c.nodeId`'s provider for `reason` with `evidence`, taking
 * `[fromRewards, fromStake, fromUnbonding]`, to `to`.
 */
export function emitsSlash(
  c: Pick<SlaFixture, "registry" | "provider" | "nodeId">,
  tx: Promise<unknown>,
  reason: number,
  evidence: string,
  [fromRewards, fromStake, fromUnbonding]: [bigint, bigint, bigint],
  to: string,
) {
  return expect(tx)
    .to.emit(c.registry, "Slash")
    .withArgs(c.provider.address, c.nodeId, reason, evidence, fromRewards, fromStake, fromUnbonding, to);
}

/** `tx` emits the registry's Slash paying a stake credit: `amount` of the provider's active stake to the renter. */
export function emitsStakeCreditSlash(
  c: Pick<SlaFixture, "registry" | "provider" | "nodeId" | "renter">,
  tx: Promise<unknown>,
  rentalId: bigint,
  epoch: bigint,
  amount: bigint,
) {
  return emitsSlash(c, tx, Reason.SlaCredit, stakeCreditEvidence(rentalId, epoch), [0n, amount, 0n], c.renter.address);
}

/**
 * Penalty `index` of node `c.nodeId`'s provider is `amount` for `reason` with `evidence`, recorded at
 * the time of `tx`'s block, for the node.
 */
export async function expectPenalty(
  c: SlaFixture,
  tx: ContractTransactionResponse | Promise<ContractTransactionResponse>,
  index: number,
  label: string,
  penalty: { amount: bigint; reason: number; evidence: string },
) {
  const block = await ethers.provider.getBlock((await tx).blockNumber!);
  expect(await penaltyOf(c, c.provider.address, index), label).to.deep.equal({
    amount: penalty.amount,
    at: BigInt(block!.timestamp),
    reason: penalty.reason,
    nodeId: c.nodeId,
    evidence: penalty.evidence,
  });
}
