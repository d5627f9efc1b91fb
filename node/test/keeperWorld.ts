/**
 * A small world for keeper tests on a real local chain: four checker operators (quorum 3) served by
 * fake checker APIs (real HTTP, real signatures, real trees from the scoring code), a staked provider
 * with node 1 rented pay-as-you-go on the 99.9% SLA tier, and epochs that have ended, published on
 * demand with the node's uptime.
 */
import { Wallet } from "ethers";

import { fundRewardReserve, governanceExecute, kai, nodeSpecOf, setUpCheckers } from "../src/chain/devnet";
import { startLocalChain, type LocalChain } from "./localChain";
import { scoreFixture, signedBody, startFakeCheckers, type FakeCheckers } from "./keeperHelpers";

export const CHECKER_NAMES = ["c1", "c2", "c3", "c4"];

export interface KeeperWorld {
  chain: LocalChain;
  checkers: FakeCheckers;
  checkerUrls: string[];
  rentalId: bigint;
  /** The first epoch the rental ran through. */
  first: number;
  /** Serves every checker's signed report and tree of `epoch` (node 1 at `uptimeBps`). */
  publish(epoch: number, uptimeBps: number): Promise<void>;
  /** Stops serving the tree of `epoch` (every checker), or serves it again. */
  hideTree(epoch: number, hidden: boolean): void;
  close(): Promise<void>;
}

/**
 * Starts the world with `ended` epochs ended after the rental started; `slashWindowSeconds` sets the
 * enforcer's slashing window (through the timelock), so that evidence stays fresh however slow the run.
 */
export async function startKeeperWorld(ended: number, slashWindowSeconds?: number): Promise<KeeperWorld> {
  const chain = await startLocalChain({ epochLengthSeconds: 10 });
  const checkers = await startFakeCheckers();
  const operators = [1, 2, 3, 4].map((i) => new Wallet(chain.account(i).privateKey));
  const gov = chain.account(0);
  const c = chain.contracts;
  const version = await setUpCheckers(c, chain.addresses.KaisarTimelock, gov, gov, {
    operators: [1, 2, 3, 4].map((i) => chain.account(i)),
    quorum: 3,
  });
  await fundRewardReserve(c, gov, kai(1_000_000));
  if (slashWindowSeconds !== undefined) {
    await governanceExecute(chain.addresses.KaisarTimelock, gov, [
      {
        target: chain.addresses.SlaEnforcer,
        data: c.SlaEnforcer.interface.encodeFunctionData("setSlashWindow", [slashWindowSeconds]),
      },
    ]);
  }
  const provider = chain.account(5);
  const renter = chain.account(6);
  const kaiToken = chain.addresses.KaiToken;
  const price = kai(3_600);
  await (await c.KaiToken.connect(gov).transfer(provider.address, kai(1_000))).wait();
  await (await c.KaiToken.connect(provider).approve(chain.addresses.NodeRegistry, kai(1_000))).wait();
  await (await c.NodeRegistry.connect(provider).stake(kai(1_000))).wait();
  const spec = await nodeSpecOf(c, {
    gpuClass: "RTX4090-24GB",
    gpuCount: 1,
    vramGiB: 24,
    cpuCores: 16,
    ramGiB: 64,
    diskGiB: 500,
    bandwidthMbps: 1_000,
  });
  await (await c.NodeRegistry.connect(provider).registerNode(spec, "http://node", [kaiToken], [price])).wait();
  await (await c.KaiToken.connect(gov).transfer(renter.address, kai(5_000))).wait();
  await (await c.KaiToken.connect(renter).approve(chain.addresses.RentalEscrow, kai(5_000))).wait();
  const tier = (await c.RentalEscrow.slaTiers()).findIndex((t) => t === 9_990n);
  await (
    await c.RentalEscrow.connect(renter).rent({
      nodeId: 1n,
      gpus: 1,
      token: kaiToken,
      plan: 0,
      deposit: kai(5_000),
      termDays: 0,
      maxPricePerGpuHour: price,
      slaTier: tier,
    })
  ).wait();
  const rentalId = await c.RentalEscrow.rentalCount();
  const first = Number(await c.ReportOracle.epochAt(await chain.now())) + 1;
  await chain.increaseTime(10 * (ended + 1));
  const trees = new Map<number, unknown>();
  return {
    chain,
    checkers,
    checkerUrls: CHECKER_NAMES.map((n) => checkers.url(n)),
    rentalId,
    first,
    async publish(epoch, uptimeBps) {
      const f = scoreFixture(
        BigInt(epoch),
        await c.ReportOracle.epochBudget(epoch),
        version,
        operators.map((o) => o.address),
        [{ nodeId: 1, provider: provider.address, uptimeBps }],
      );
      trees.set(epoch, f.tree);
      for (let i = 0; i < CHECKER_NAMES.length; i++) {
        checkers.reports.set(
          `${CHECKER_NAMES[i]}:${epoch}`,
          await signedBody(operators[i], chain.chainId, chain.addresses.ReportOracle, f.report),
        );
        checkers.trees.set(`${CHECKER_NAMES[i]}:${epoch}`, f.tree);
      }
    },
    hideTree(epoch, hidden) {
      for (const n of CHECKER_NAMES) {
        if (hidden) checkers.trees.delete(`${n}:${epoch}`);
        else checkers.trees.set(`${n}:${epoch}`, trees.get(epoch));
      }
    },
    async close() {
      await checkers.close();
      await chain.close();
    },
  };
}
