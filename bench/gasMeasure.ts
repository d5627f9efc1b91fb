/**
 * The gas benchmark's measurement: each operation as its own transaction in a steady state (warm
 * token balances, an existing provider and renter), whole-transaction gas from the receipt.
 * `bench/gas.ts` (`npm run bench:gas`) prints it and writes bench/gas.json and the README table;
 * test/gas/goals.test.ts (`npm run test:gas-bounds`) checks it against the goals and the committed
 * figures. Every operation runs on fresh deployments, so it measures the same in either.
 */
import { ethers, network } from "hardhat";
import { deployWithNode, openRental, registerNode, Plan, KAI, USD, defaultSpec, ENDPOINT } from "../test/fixtures";
import { deployWithCheckers, makeReport, signedBy, endEpoch } from "../test/helpers/oracle";
import { LeafKind, totalReward, type RewardLeaf } from "../offchain/src/leaves";
import { buildRewardTreeFast, fastHashReady, keccak256Fast, type FastRewardTree } from "../offchain/src/fastTree";
import { deploySla, metricsWith, slaLeaf, EPOCH_LENGTH } from "../test/helpers/sla";

export type Goal = { key: string; label: string; goal: number };

export const GOALS: Goal[] = [
  { key: "stake.first", label: "first stake of a provider", goal: 80_000 },
  { key: "stake.topup", label: "add stake", goal: 60_000 },
  { key: "unstake.request", label: "request unstake", goal: 60_000 },
  { key: "unstake.withdraw", label: "withdraw after unbonding", goal: 55_000 },
  { key: "node.register", label: "register a node", goal: 180_000 },
  { key: "rent.payg", label: "rent, pay-as-you-go", goal: 130_000 },
  { key: "rent.saving", label: "rent, saving plan", goal: 140_000 },
  { key: "rental.topup", label: "top up", goal: 50_000 },
  { key: "rental.end", label: "renter ends early", goal: 65_000 },
  { key: "provider.withdraw", label: "provider withdraws from 1 rental", goal: 55_000 },
  { key: "provider.withdraw10", label: "provider withdraws from 10 rentals in one call", goal: 120_000 },
  { key: "report.submit14of21", label: "submit a report signed by 14 of 21 checkers", goal: 130_000 },
  { key: "report.perSigner", label: "marginal gas per extra signature", goal: 5_000 },
  { key: "reward.claim", label: "claim one epoch's reward with a proof in a 100,000-leaf tree", goal: 90_000 },
  { key: "reward.claim10", label: "claim 10 epochs in one call", goal: 300_000 },
  { key: "sla.credit", label: "apply one SLA credit (proof in a 100,000-leaf tree)", goal: 80_000 },
  { key: "checker.delegate", label: "delegate a license", goal: 60_000 },
];

/** Not goals: the report's gas at three tree sizes shows an epoch's cost does not grow with nodes. */
export const SCALE_KEYS = ["report.leaves10", "report.leaves1000", "report.leaves100000"];
/** Not goals: what a keeper pays per credit when one proof serves several rentals of a node. */
export const BATCH_KEYS = ["sla.creditEachOf6"];

/**
 * Leaf fields for trees of 100,000 leaves, fast: `ethers.id(text)` (keccak256 of the UTF-8 bytes)
 * and the address `n` in lower case (checksumming costs a keccak256 each; the ABI encoding and so
 * the leaf hash and the calldata do not depend on the case).
 */
const idFast = (text: string) => keccak256Fast(Buffer.from(text, "utf8"));
const addressOf = (n: number) => "0x" + n.toString(16).padStart(40, "0");

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  const receipt = await (await tx).wait();
  return Number(receipt!.gasUsed);
}

/** Measures every key of GOALS, SCALE_KEYS and BATCH_KEYS; returns gas used by key. */
export async function measureGas(): Promise<Record<string, number>> {
  await fastHashReady;
  const c = await deployWithNode();
  const { registry, escrow, usd, provider, provider2, renter } = c;
  const usdAddress = await usd.getAddress();
  const gas: Record<string, number> = {};

  // Steady state: the renter has rented before, the escrow holds USD and has accrued fees, the
  // provider has withdrawn before.
  const warm = await openRental(c, { deposit: USD(100) });
  await network.provider.send("evm_increaseTime", [60]);
  await escrow.connect(provider).withdrawEarnings(usdAddress, [warm]);

  // Staking by a second provider (its first stake), then a top-up.
  gas["stake.first"] = await gasOf(registry.connect(provider2).stake(KAI(10_000)));
  gas["stake.topup"] = await gasOf(registry.connect(provider2).stake(KAI(1_000)));
  gas["unstake.request"] = await gasOf(registry.connect(provider2).requestUnstake(KAI(500)));
  await network.provider.send("evm_increaseTime", [Number(await registry.unbondingPeriod())]);
  gas["unstake.withdraw"] = await gasOf(registry.connect(provider2).withdrawUnstaked());

  // A second node by an existing provider.
  gas["node.register"] = await gasOf(
    registry.connect(provider).registerNode({ ...defaultSpec, gpuCount: 4 }, ENDPOINT, [usdAddress], [USD(2)]),
  );
  await registry.connect(provider).stake(await registry.requiredStake(provider.address));

  const base = { nodeId: c.nodeId, gpus: 1, token: usdAddress, maxPricePerGpuHour: USD(2), slaTier: 0 };
  gas["rent.payg"] = await gasOf(
    escrow.connect(renter).rent({ ...base, plan: Plan.PayAsYouGo, deposit: USD(20), termDays: 0 }),
  );
  const paygId = await escrow.rentalCount();
  gas["rent.saving"] = await gasOf(
    escrow.connect(renter).rent({ ...base, plan: Plan.Saving, deposit: 0, termDays: 30 }),
  );
  await network.provider.send("evm_increaseTime", [600]);
  gas["rental.topup"] = await gasOf(escrow.connect(renter).topUp(paygId, USD(10)));
  gas["provider.withdraw"] = await gasOf(escrow.connect(provider).withdrawEarnings(usdAddress, [paygId]));
  await network.provider.send("evm_increaseTime", [600]);
  gas["rental.end"] = await gasOf(escrow.connect(renter).endRental(paygId));

  // Ten running rentals on one node (free GPUs: 8, so use two nodes of the provider).
  const node2 = await registerNode(c, provider, { ...defaultSpec, gpuCount: 8 });
  await registry.connect(provider).stake(await registry.requiredStake(provider.address));
  const ids: bigint[] = [];
  for (let i = 0; i < 10; i++) {
    ids.push(await openRental({ ...c, nodeId: i < 5 ? c.nodeId : node2 }, { deposit: USD(20) }));
  }
  await network.provider.send("evm_increaseTime", [900]);
  gas["provider.withdraw10"] = await gasOf(escrow.connect(provider).withdrawEarnings(usdAddress, ids));

  Object.assign(gas, await oracleGas());
  Object.assign(gas, await slaGas());

  return gas;
}

/** Report, claims and delegation, on a fresh deployment with 21 checkers and a quorum of 14. */
async function oracleGas(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const c = await deployWithCheckers(21, 14);
  const distributor = await ethers.deployContract("RewardDistributor", [
    await c.kai.getAddress(),
    await c.oracle.getAddress(),
  ]);
  await c.kai.connect(c.treasury).approve(await distributor.getAddress(), ethers.MaxUint256);
  await distributor.connect(c.treasury).fundReserve(KAI(10_000_000));

  // Trees of 10, 1,000 and 100,000 node leaves for epochs 0, 1 and 2; epochs 3..12 reuse small trees.
  const provider = c.provider.address;
  const makeLeaves = (epoch: bigint, n: number): RewardLeaf[] =>
    Array.from({ length: n }, (_, i) => ({
      kind: LeafKind.Node,
      epoch,
      account: i === 0 ? provider : addressOf(i + 1),
      id: BigInt(i + 1),
      capacityReward: 1_000n,
      deliveryReward: 500n,
      checkerReward: 0n,
      metricsHash: idFast(`metrics-${epoch}-${i}`),
    }));
  const sizes: [bigint, number, string][] = [
    [0n, 10, "report.leaves10"],
    [1n, 1_000, "report.leaves1000"],
    [2n, 100_000, "report.leaves100000"],
  ];
  // The fast builder gives buildRewardTree's root and proofs (offchain/test checks it), so the
  // calldata is the same; the reference builder takes about 35 s for 100,000 leaves.
  const trees = new Map<bigint, { tree: FastRewardTree; leaves: RewardLeaf[] }>();
  const submit = async (epoch: bigint, leaves: RewardLeaf[], signers: number) => {
    const tree = buildRewardTreeFast(leaves);
    trees.set(epoch, { tree, leaves });
    const report = makeReport(epoch, 1n, {
      root: tree.root,
      nodeCount: BigInt(leaves.length),
      totalReward: totalReward(leaves),
    });
    await endEpoch(c, epoch);
    const sigs = await signedBy(c, report, c.operators.slice(0, signers));
    return gasOf(c.oracle.submitReport(report, sigs));
  };
  for (const [epoch, n, key] of sizes) out[key] = await submit(epoch, makeLeaves(epoch, n), 14);
  out["report.submit14of21"] = out["report.leaves100000"];
  const with15 = await submit(3n, makeLeaves(3n, 10), 15);
  const with21 = await submit(4n, makeLeaves(4n, 10), 21);
  out["report.perSigner"] = Math.round((with21 - with15) / 6);
  for (let e = 5n; e < 15n; e++) await submit(e, makeLeaves(e, 1_000), 14);

  // Steady state: the provider has claimed before (its positions array exists), and another node
  // of the same epoch claimed first (the epoch's counter and the claim bitmap word exist).
  const claimOf = (epoch: bigint, i = 0) => {
    const { tree, leaves } = trees.get(epoch)!;
    return { leaf: leaves[i], proof: tree.proof(i) };
  };
  await distributor.claim(provider, [claimOf(0n)]);
  for (let e = 2n; e < 15n; e++) {
    if (e === 3n || e === 4n) continue;
    const other = claimOf(e, 1);
    await distributor.claim(other.leaf.account, [other]);
  }
  out["reward.claim"] = await gasOf(distributor.claim(provider, [claimOf(2n)]));
  const ten = [];
  for (let e = 5n; e < 15n; e++) ten.push(claimOf(e));
  out["reward.claim10"] = await gasOf(distributor.claim(provider, ten));

  // Delegation of a fresh license to an operator that already holds one.
  const id = await c.license.mint.staticCall(c.admin.address, 1);
  await c.license.mint(c.admin.address, 1);
  out["checker.delegate"] = await gasOf(c.license.delegate(id, c.operators[0].address));
  return out;
}

/**
 * One SLA credit paid from the provider's unwithdrawn earnings (the usual case), with a proof in a
 * 100,000-leaf tree. Steady state: another rental was credited for the same epoch first (the
 * bitmap word exists) and the renter holds the token.
 */
async function slaGas(): Promise<Record<string, number>> {
  const c = await deploySla();
  const usd = await c.usd.getAddress();
  const rent = (who: typeof c.renter) =>
    c.escrow.connect(who).rent({
      nodeId: c.nodeId,
      gpus: 1,
      token: usd,
      plan: Plan.PayAsYouGo,
      deposit: USD(100),
      termDays: 0,
      maxPricePerGpuHour: USD(2),
      slaTier: 1,
    });
  // Rentals 1 and 2 for the single credit; 3 to 8 (six more renters, the node's other GPUs) for a
  // keeper's batch. Every renter holds the token already.
  await rent(c.renter);
  await rent(c.renter2);
  const batchRenters = (await ethers.getSigners()).slice(11, 17);
  for (const who of batchRenters) {
    await c.usd.mint(who.address, USD(1_000));
    await c.usd.connect(who).approve(await c.escrow.getAddress(), ethers.MaxUint256);
    await rent(who);
  }
  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const epoch = (now - c.genesis) / BigInt(EPOCH_LENGTH) + 1n; // the first epoch both rentals cover whole
  const metrics = metricsWith(9_900n); // 0.9 points under the 99.9% target: a 10% credit
  const leaf = slaLeaf(epoch, c.provider.address, c.nodeId, metrics);
  // Filler: `slaLeaf(epoch, address i + 2, node i + 2, metrics)` with its own metrics hash (spelt
  // out: slaLeaf hashes the metrics, some 30 s for 99,999 leaves, and the hash is replaced anyway).
  const filler: RewardLeaf[] = Array.from({ length: 99_999 }, (_, i) => ({
    ...leaf,
    account: addressOf(i + 2),
    id: BigInt(i + 2),
    metricsHash: idFast(`filler-${i}`),
  }));
  // What test/helpers/rewards.ts `postEpoch` does, with the fast tree builder (same root and proofs).
  const leaves = [leaf, ...filler];
  const tree = buildRewardTreeFast(leaves);
  const report = makeReport(epoch, 1n, {
    root: tree.root,
    nodeCount: BigInt(leaves.length),
    totalReward: totalReward(leaves),
  });
  await endEpoch(c, epoch);
  await c.oracle.connect(c.keeper).submitReport(report, await signedBy(c, report, c.operators.slice(0, c.quorum)));
  const proof = { leaf, metrics, proof: tree.proof(0) }; // offchain/src/sla.ts `nodeEpochProof`
  await c.sla.applySlaCredit(2n, proof);
  const single = await gasOf(c.sla.applySlaCredit(1n, proof));
  const batch = await gasOf(c.sla.applySlaCredits([3n, 4n, 5n, 6n, 7n, 8n], proof));
  return { "sla.credit": single, "sla.creditEachOf6": Math.round(batch / 6) };
}
