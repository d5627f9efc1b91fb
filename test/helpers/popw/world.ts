/**
 * The PoPW walk's world: the deployed contracts, signers, operators, licenses and the start snapshot.
 */
import { expect } from "chai";
import { ethers, network } from "hardhat";
import type { ContractRunner } from "ethers";

import type { MoneyWalkProbe, PopwWalkProbe, RewardDistributor } from "../../../typechain-types";
import { registerNode, type Core } from "../../fixtures";
import { deploySla, type SlaFixture } from "../sla";
import {
  type Actor,
  DEPLOY_AT,
  EMISSION,
  EPOCH,
  EXTRA_LICENSES,
  type Holder,
  INITIAL_RESERVE,
  NODE2_SPEC,
  OPERATOR_FUNDS,
  type TokenKey,
  WALK_OFFSET_EPOCHS,
} from "./constants";

/** The deployed contracts and signers (the "real" system of the model-based test). */
export interface World {
  c: SlaFixture;
  distributor: RewardDistributor;
  probe: MoneyWalkProbe;
  /** Reads the oracle, licenses, distributor, enforcer and supplies (beyond `probe`) in one call. */
  walkProbe: PopwWalkProbe;
  /**
   * License ids in an order that does not depend on the operators' random keys: op0's license
   * first, ..., op3's, then the free ones. Generators pick licenses by position in it, so that a
   * sequence does the same in any process.
   */
  licenseOrder: bigint[];
  tokenAddr: Record<TokenKey, string>;
  signer: Record<Actor, ContractRunner & { address: string }>;
  addr: Record<Holder, string>;
  /** Unix seconds epoch 0 starts at. */
  genesis: bigint;
  /** Epoch the walk starts in (each sequence starts at its first second). */
  startEpoch: bigint;
  /** `evm_snapshot` id of the start state. */
  snapshot: string;
}

/**
 * `deploySla` (core, real oracle with 4 checkers at quorum 3, the SlaEnforcer wired, provider's
 * 8xH100 node staked), plus provider2's 4xRTX node staked exactly, a RewardDistributor on the
 * oracle funded with {@link INITIAL_RESERVE} by the treasury, the {@link EMISSION} schedule, two
 * more checker licenses for the admin (undelegated; the admin owns all six), {@link OPERATOR_FUNDS}
 * KAI for each operator's top-ups, and the clock moved to an epoch boundary; then a snapshot.
 */
export async function setupWorld(): Promise<World> {
  // Deploy at a fixed time, so that genesis (and every epoch and day boundary) replays exactly.
  const latest = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  if (latest < DEPLOY_AT) await network.provider.send("evm_setNextBlockTimestamp", [Number(DEPLOY_AT)]);
  const c = await deploySla();
  await registerNode(c as unknown as Core, c.provider2, NODE2_SPEC);
  await c.registry.connect(c.provider2).stake(await c.registry.requiredStake(c.provider2.address));
  const distributor = await ethers.deployContract("RewardDistributor", [
    await c.kai.getAddress(),
    await c.oracle.getAddress(),
  ]);
  await c.kai.connect(c.treasury).approve(await distributor.getAddress(), ethers.MaxUint256);
  await distributor.connect(c.treasury).fundReserve(INITIAL_RESERVE);
  await c.oracle.connect(c.admin).setEmissionSchedule(EMISSION.initial, EMISSION.halvingEpochs);
  const probe = await ethers.deployContract("MoneyWalkProbe");
  // `makeOperators` minted license k for the k-th key it created, then sorted the keys.
  const minted = await c.license.totalMinted();
  const holder = new Map<bigint, number>();
  for (let id = 1n; id <= minted; id++) {
    const op = await c.license.operatorOf(id);
    holder.set(
      id,
      c.operators.findIndex((o) => o.address === op),
    );
  }
  const walkProbe = await ethers.deployContract("PopwWalkProbe");
  await c.license.connect(c.admin).mint(c.admin.address, EXTRA_LICENSES);
  for (const op of c.operators) {
    await c.kai.connect(c.treasury).transfer(op.address, OPERATOR_FUNDS);
    await c.kai.connect(op).approve(await c.registry.getAddress(), ethers.MaxUint256);
  }

  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  let start = c.genesis + WALK_OFFSET_EPOCHS * EPOCH;
  if (start <= now) start = c.genesis + ((now - c.genesis) / EPOCH + 1n) * EPOCH;
  await network.provider.send("evm_setNextBlockTimestamp", [Number(start)]);
  await network.provider.send("evm_mine", []);

  // `c.oracle` is the ReportOracle; the core's `oracle` account (REWARDER_ROLE) is signer 4.
  const oracleAccount = (await ethers.getSigners())[4];
  const signer: World["signer"] = {
    admin: c.admin,
    treasury: c.treasury,
    rewardPool: c.rewardPool,
    guardian: c.guardian,
    oracle: oracleAccount,
    provider: c.provider,
    provider2: c.provider2,
    renter: c.renter,
    renter2: c.renter2,
    keeper: c.keeper,
    other: c.other,
    op0: c.operators[0],
    op1: c.operators[1],
    op2: c.operators[2],
    op3: c.operators[3],
  };
  const addr = Object.fromEntries(Object.entries(signer).map(([k, s]) => [k, s.address])) as Record<Holder, string>;
  addr.escrow = await c.escrow.getAddress();
  addr.registry = await c.registry.getAddress();
  addr.distributor = await distributor.getAddress();
  addr.sla = await c.sla.getAddress();
  addr.reportOracle = await c.oracle.getAddress();
  return {
    c,
    distributor,
    probe,
    walkProbe,
    licenseOrder: [
      ...[...holder.entries()].sort(([, a], [, b]) => a - b).map(([id]) => id),
      ...Array.from({ length: Number(EXTRA_LICENSES) }, (_, i) => minted + 1n + BigInt(i)),
    ],
    tokenAddr: { usd: await c.usd.getAddress(), kai: await c.kai.getAddress() },
    signer,
    addr,
    genesis: c.genesis,
    startEpoch: (start - c.genesis) / EPOCH,
    snapshot: await network.provider.send("evm_snapshot", []),
  };
}

/** Back to the start state (and a fresh snapshot of it: a snapshot is used up by `evm_revert`). */
export async function resetWorld(w: World): Promise<void> {
  const ok = await network.provider.send("evm_revert", [w.snapshot]);
  expect(ok, "evm_revert").to.equal(true);
  w.snapshot = await network.provider.send("evm_snapshot", []);
}
