/**
 * Attacks 2 and 3 of issue 15 on a real local chain: the checkers' real epoch context (eligibility read
 * from the registry at the epoch's end, fees of the escrow's rentals through the lens), the real
 * scoring, tree, oracle and distributor. Only the checkers' samples are generated, at the default probe
 * schedule (a heartbeat each minute, every one answered), for each node's listed part of the epoch.
 *
 * One epoch of an hour:
 * - node A (honest): staked, listed before the epoch, rented by a renter at 1 KAI per GPU-hour;
 * - node B (wash): staked, listed before the epoch at 1 wei per GPU-hour, rented by its own provider;
 * - node L (late): staked and registered 3 minutes before the epoch ends;
 * - node U (unstaked): listed before the epoch with no stake at all.
 * Before the fix the late and the unstaked nodes claimed what A claimed (uptime over the heartbeats
 * taken, no look at stake or listing time) and B took 2/3 of the delivery pool (GPU-seconds) for a few
 * hundred wei of fees.
 */
import { expect } from "chai";

import { Wallet, type ContractTransactionResponse } from "ethers";
import { LeafKind, packSignatures, reportDomain, signReport, type RewardLeaf } from "@kaisar/offchain";

import { fundRewardReserve, governanceExecute, kai, nodeSpecOf, setUpCheckers } from "../../devnet/src/governance";
import { chainEpochContext } from "../src/chain/epochContext";
import {
  DEFAULT_SCORING_PARAMS,
  epochReport,
  epochTree,
  observeNode,
  scoreEpoch,
  type EpochScores,
  type NodeObservation,
} from "../src/scoring";
import { startLocalChain, type LocalChain } from "./helpers/localChain";

const EPOCH_SECONDS = 3_600;
const HEARTBEAT_SECONDS = 60; // the default probe schedule
const LATE_SECONDS = 180;

/** The nodes' declared hardware: 2 RTX 4090. */
const SPEC = {
  gpuClass: "RTX4090-24GB",
  gpuCount: 2,
  vramGiB: 24,
  cpuCores: 16,
  ramGiB: 64,
  diskGiB: 500,
  bandwidthMbps: 1000,
};

describe("attacks 2 and 3 on a local chain: real epoch context, scoring, oracle, distributor and tree", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let scores: EpochScores;
  let tree: ReturnType<typeof epochTree>;
  let epoch: bigint;
  const ids = { honest: 0, wash: 0, late: 0, unstaked: 0 };
  const claimed = new Map<number, bigint>();
  let washFees = 0n;

  /** Sends `send()` in a block mined at exactly `timestamp`. */
  const at = async (timestamp: bigint, send: () => Promise<ContractTransactionResponse>) => {
    await chain.provider.request({ method: "evm_setNextBlockTimestamp", params: [Number(timestamp)] });
    return (await send()).wait();
  };

  /** Funds `who` with KAI, stakes `stake` of it (none: 0) and lists a 2-GPU node at `price` KAI units per GPU-hour. */
  async function listNode(who: Wallet, stake: bigint, price: bigint, when?: bigint): Promise<number> {
    const c = chain.contracts;
    const gov = chain.account(0);
    await (await c.KaiToken.connect(gov).transfer(who.address, kai(60_000))).wait();
    const registry = c.NodeRegistry.connect(who);
    await (await c.KaiToken.connect(who).approve(await registry.getAddress(), kai(60_000))).wait();
    if (stake > 0n) await (await registry.stake(stake)).wait();
    const spec = await nodeSpecOf(c, { ...SPEC });
    const register = () => registry.registerNode(spec, "http://127.0.0.1:1", [c.KaiToken.getAddress()], [price]);
    if (when === undefined) await (await register()).wait();
    else await at(when, register);
    return Number(await c.NodeRegistry.nodeCount());
  }

  /** `renter` rents `nodeId` pay-as-you-go for `deposit` KAI units, at `when`. */
  async function rent(renter: Wallet, nodeId: number, deposit: bigint, maxPrice: bigint, when: bigint) {
    const c = chain.contracts;
    const escrow = c.RentalEscrow.connect(renter);
    await (await c.KaiToken.connect(chain.account(0)).transfer(renter.address, kai(10))).wait();
    await (await c.KaiToken.connect(renter).approve(await escrow.getAddress(), kai(10))).wait();
    const token = await c.KaiToken.getAddress();
    const p = { nodeId, gpus: 2, token, plan: 0, deposit, termDays: 0, maxPricePerGpuHour: maxPrice, slaTier: 0 };
    await at(when, () => escrow.rent(p));
  }

  before(async () => {
    chain = await startLocalChain({ epochLengthSeconds: EPOCH_SECONDS });
    const c = chain.contracts;
    const gov = chain.account(0);
    const operators = [1, 2, 3, 4].map((i) => chain.account(i));
    const version = await setUpCheckers(c, chain.addresses.KaisarTimelock, gov, gov, { operators, quorum: 3 });
    await fundRewardReserve(c, gov, kai(5_000_000));
    // Governance lifts the price floor of the nodes' class (local deployments set one): the delivery cap
    // must hold on its own, whatever price a wash rental pays (the floor is tested in the escrow's tests).
    const gpuClass = (await nodeSpecOf(c, { ...SPEC })).gpuClass;
    await governanceExecute(chain.addresses.KaisarTimelock, gov, [
      {
        target: await c.RentalEscrow.getAddress(),
        data: c.RentalEscrow.interface.encodeFunctionData("setPriceFloor", [
          gpuClass,
          await c.KaiToken.getAddress(),
          0,
        ]),
      },
    ]);

    const [honest, wash, late, unstaked, renter] = [5, 6, 8, 9, 10].map((i) => chain.account(i));
    ids.honest = await listNode(honest, kai(50_000), kai(1));
    ids.wash = await listNode(wash, kai(50_000), 1n);
    ids.unstaked = await listNode(unstaked, 0n, kai(1));

    epoch = (await c.ReportOracle.epochAt(await chain.now())) + 1n;
    const start = await c.ReportOracle.epochStart(epoch);
    const end = await c.ReportOracle.epochStart(epoch + 1n);
    // The honest renter pays 1 KAI per GPU-hour for 2 GPUs, two hours' deposit; the wash renter 1 wei
    // per GPU-hour (1 wei a second, rounded up), an hour and a bit.
    await rent(renter, ids.honest, kai(4), kai(1), start + 1n);
    await rent(wash, ids.wash, 4_000n, 1n, start + 2n);
    ids.late = await listNode(late, kai(50_000), kai(1), end - BigInt(LATE_SECONDS));
    await chain.increaseTime(Number(end - BigInt(await chain.now())) + 30);

    // The checkers' context of the epoch, from the chain, as `kaisar checker run` reads it.
    const nodes = [ids.honest, ids.wash, ids.unstaked, ids.late].map((id, i) => ({
      id,
      provider: [honest, wash, unstaked, late][i].address,
    }));
    const ctx = await chainEpochContext(c, chain.chainId, () => nodes)(Number(epoch));
    expect([ctx.epochStart, ctx.epochEnd]).to.deep.equal([start, end]);
    washFees = ctx.nodes.find((n) => n.nodeId === ids.wash)!.feesKai;

    // Every checker saw every node answer each heartbeat of its listed part of the epoch, and the same hardware.
    const observations: NodeObservation[] = [];
    for (const n of nodes) {
      const listed = await c.NodeRegistry.listedSince(n.id);
      const from = Number(listed > start ? listed : start);
      const window = { from, to: Number(end), heartbeatSeconds: HEARTBEAT_SECONDS };
      const beats = Math.floor((window.to - from) / HEARTBEAT_SECONDS);
      const samples = {
        heartbeats: Array.from({ length: beats }, (_, i) => ({ at: from + 30 + i * HEARTBEAT_SECONDS, ok: true })),
        bandwidth: [{ at: from + 5, mbps: 1_000 }],
        capacity: [{ at: from + 10, n: 1_024, elapsedMs: 20, passed: true }],
        hardware: [{ at: from + 15, match: true }],
      };
      for (const o of operators) observations.push(observeNode(o.address, n.id, samples, window));
    }
    scores = scoreEpoch(
      {
        epoch,
        epochStart: ctx.epochStart,
        epochEnd: ctx.epochEnd,
        budget: ctx.budget,
        nodes: ctx.nodes,
        checkers: operators.map((o) => ({ operator: o.address, licenses: 1n, reportsSigned: 1n })),
        observations,
      },
      DEFAULT_SCORING_PARAMS,
    );
    tree = epochTree(scores);
    const report = epochReport(scores, tree.root, version);
    const domain = reportDomain(chain.chainId, chain.addresses.ReportOracle);
    const signed = await Promise.all(
      operators.map(async (o) => ({ signer: o.address, signature: await signReport(o, domain, report) })),
    );
    const set = [...(await c.ReportOracle.checkers())];
    await (await c.ReportOracle.connect(gov).submitReport(report, packSignatures(set, signed))).wait();

    // Each provider claims its node's leaf with its proof (a leaf of nothing has nothing to claim).
    for (const [i, id] of [ids.honest, ids.wash, ids.unstaked, ids.late].entries()) {
      const who = [honest, wash, unstaked, late][i];
      const index = scores.leaves.findIndex((l) => l.kind === LeafKind.Node && l.id === BigInt(id));
      const leaf: RewardLeaf = scores.leaves[index];
      const proof = tree.proof(index);
      if (leaf.capacityReward + leaf.deliveryReward === 0n) {
        const refused = await c.RewardDistributor.connect(who)
          .claim.staticCall(who.address, [{ leaf, proof }])
          .then(
            () => undefined,
            (e: { revert?: { name: string } }) => e.revert?.name,
          );
        expect(refused, "a leaf of nothing").to.equal("RewardDistributor_NothingToClaim");
        claimed.set(id, 0n);
        continue;
      }
      const receipt = await (await c.RewardDistributor.connect(who).claim(who.address, [{ leaf, proof }])).wait();
      const log = receipt!.logs.map((l) => c.RewardDistributor.interface.parseLog(l)).find((l) => l?.name === "Claim");
      claimed.set(id, log!.args.amount as bigint);
    }
    // Before the fix (scored by the old code) the late and the unstaked node each claimed the same
    // capacity reward as the honest node, and the wash node a share of the delivery pool by GPU-seconds.
    console.log(
      `      claims (KAI units): honest ${claimed.get(ids.honest)}, late ${claimed.get(ids.late)}, ` +
        `unstaked ${claimed.get(ids.unstaked)}, wash ${claimed.get(ids.wash)} ` +
        `(its delivery part ${scores.nodes.find((n) => n.nodeId === ids.wash)!.deliveryReward} for ${washFees} of fees)`,
    );
  });

  after(async () => {
    await chain?.close();
  });

  it("attack 2: a node registered 3 minutes before the epoch ends claims 3/60 of an always-eligible equal node, not all of it", () => {
    const honest = scores.nodes.find((n) => n.nodeId === ids.honest)!;
    const late = scores.nodes.find((n) => n.nodeId === ids.late)!;
    // What the honest node claimed for its capacity (its leaf's delivery part aside); the late node gets
    // its 180/3,600 of that (and a unit of rounding), where it used to get all of it.
    const honestCapacity = claimed.get(ids.honest)! - honest.deliveryReward;
    const lateClaim = claimed.get(ids.late)!;
    const share = (honestCapacity * BigInt(LATE_SECONDS)) / BigInt(EPOCH_SECONDS);
    expect(lateClaim <= share + 1n, `late ${lateClaim} <= 3/60 of ${honestCapacity}`).to.equal(true);
    expect(lateClaim > 0n, "it earns its eligible part").to.equal(true);
    expect(late.eligibleBps, "eligible for 180 s of 3,600").to.equal(500n);
    expect(late.metrics.uptimeBps, "answered every heartbeat of its listed part").to.equal(10_000n);
  });

  it("attack 2: a node with no stake gets a leaf with zero rewards and claims nothing", () => {
    const unstaked = scores.nodes.find((n) => n.nodeId === ids.unstaked)!;
    expect(claimed.get(ids.unstaked), "claimed").to.equal(0n);
    expect([unstaked.capacityReward, unstaked.deliveryReward]).to.deep.equal([0n, 0n]);
    expect(unstaked.eligibleBps, "not eligible").to.equal(0n);
    expect(unstaked.metrics.uptimeBps, "its uptime is still attested (SLA credits, slashes)").to.equal(10_000n);
  });

  it("attack 3: a wash rental at 1 wei per GPU-hour gets back at most half the fees it paid", () => {
    const wash = scores.nodes.find((n) => n.nodeId === ids.wash)!;
    const honest = scores.nodes.find((n) => n.nodeId === ids.honest)!;
    const delivered = [wash.metrics.deliveredGpuSeconds, honest.metrics.deliveredGpuSeconds];
    expect(delivered[0] + 2n >= delivered[1], `as many GPU-seconds as the honest node (${delivered})`).to.equal(true);
    expect(washFees > 0n && washFees < 1_000n, `a few hundred wei of fees (${washFees})`).to.equal(true);
    expect(wash.deliveryReward * 2n <= washFees, `${wash.deliveryReward}: at most 50% of its fees`).to.equal(true);
    // The honest node's fees: 10% of 2 KAI an hour for the 3,599 s of the epoch it ran.
    expect(honest.feesKai > kai("0.199") && honest.feesKai <= kai("0.2"), `${honest.feesKai}`).to.equal(true);
  });
});
