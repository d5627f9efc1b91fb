/**
 * A small world for keeper tests on a real local chain: four checker operators (quorum 3), each a real
 * checker API (src/checker/api.ts) over its own real checker store (src/checker/store.ts, in memory), a
 * staked provider with node 1 rented pay-as-you-go on the 99.9% SLA tier, and epochs that have ended,
 * published on demand with the node's uptime.
 *
 * Publishing an epoch runs the checkers' own epoch-end code, not a copy of it: each checker's store gets
 * the heartbeat samples its probes would have recorded over the epoch (`uptimeBps` of the heartbeats the
 * schedule expects, `expectedHeartbeats`), freezes and signs its observations (`freezeOwnBundle`, served
 * to its peers by the API's `/epochs/:epoch/observations`), then collects its peers' bundles over HTTP,
 * scores them with the epoch context read from the chain (`chainEpochContext`: checker set, licenses,
 * budget, span, the rental's delivered GPU-seconds) and signs and stores its report and tree
 * (`finalizeEpoch`); the keeper fetches `/epochs/:epoch/report` and `/tree` from those APIs.
 *
 * Not run: the probe scheduler and the exchange timer of `startChecker` (they run on the wall clock and
 * would make a test's epochs depend on the machine's speed). The samples stand in for the probes; the
 * API's clock is the chain's (the time of the last block read at a publish), so its "has this epoch
 * ended" check uses chain time, as the keeper does.
 */
import { Wallet } from "ethers";

import { governanceExecute, kai } from "../../../devnet/src/governance";
import { chainEpochContext, readEpochClock } from "../../src/chain/epochContext";
import { startApi, type RunningApi } from "../../src/checker/api";
import { epochResultView, finalizeEpoch, freezeOwnBundle } from "../../src/checker/exchange";
import { epochClock, epochWindow } from "../../src/checker/run";
import { systemClock, type Clock } from "../../src/checker/scheduler";
import { openStore, type CheckerStore } from "../../src/checker/store";
import { DEFAULT_SCORING_PARAMS } from "../../src/scoring";
import { expectedHeartbeats } from "../../src/scoring/observe";
import { fundRenter, setUpCheckerSet, stakeAndList, startLocalChain, type LocalChain } from "./localChain";

export const CHECKER_NAMES = ["c1", "c2", "c3", "c4"];
/** The heartbeat interval the samples are recorded at (a 10 s epoch expects 99 of them). */
const HEARTBEAT_MS = 100;

/** One checker operator: its key, its store and its API. */
export interface WorldChecker {
  name: string;
  wallet: Wallet;
  store: CheckerStore;
  api: RunningApi;
}

export interface KeeperWorld {
  chain: LocalChain;
  checkers: WorldChecker[];
  checkerUrls: string[];
  rentalId: bigint;
  /** The first epoch the rental ran through. */
  first: number;
  /**
   * Every checker records node 1's heartbeats of `epoch` (`uptimeBps` of them answered, rounded up),
   * signs its observations, exchanges them with its peers and signs and serves its report and tree.
   */
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
  const gov = chain.account(0);
  const c = chain.contracts;
  await setUpCheckerSet(chain);
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
  await stakeAndList(chain, provider, { price });
  await fundRenter(chain, renter, kai(5_000));
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

  // The checkers: the oracle's epoch clock, read from the chain as `kaisar checker run` does.
  const epoch = await readEpochClock(c);
  const epochOf = epochClock(epoch.genesis, epoch.length);
  const windowOf = epochWindow(epoch.genesis, epoch.length, HEARTBEAT_MS);
  const nodes = [{ id: 1, provider: provider.address }];
  const context = chainEpochContext(c, chain.chainId, () => nodes);
  /** Chain time (ms) as of the last publish: the checkers' clock. */
  let chainMs = (await chain.now()) * 1000;
  const clock: Clock = { ...systemClock, now: () => chainMs };
  const hidden = new Set<number>();
  const checkers: WorldChecker[] = [];
  for (const [i, name] of CHECKER_NAMES.entries()) {
    const wallet = new Wallet(chain.account(i + 1).privateKey);
    const store = openStore(":memory:");
    const api = await startApi({
      host: "127.0.0.1",
      port: 0,
      store,
      nodes: () => [], // the live-monitoring routes are not used here
      epochOf,
      checker: wallet.address,
      clock,
      observations: (e) => {
        const b = store.ownBundle(e);
        return b && { bundle: b.bundle, signature: b.signature };
      },
      report: (e) => {
        const r = store.epochResult(e);
        return r && epochResultView(r);
      },
      tree: (e) => (hidden.has(e) ? undefined : store.epochResult(e)?.tree),
    });
    checkers.push({ name, wallet, store, api });
  }
  const checkerUrls = checkers.map((k) => k.api.url);

  return {
    chain,
    checkers,
    checkerUrls,
    rentalId,
    first,
    async publish(e, uptimeBps) {
      chainMs = Math.max(chainMs, (await chain.now()) * 1000);
      const window = windowOf(e);
      const answered = Math.ceil((uptimeBps * expectedHeartbeats(window)) / 10_000);
      const beats = Math.floor(((window.to - window.from) * 1000) / HEARTBEAT_MS);
      const bundles = checkers.map((k) => {
        if (!k.store.hasSamples(e)) {
          for (let b = 0; b < beats; b++) {
            const at = window.from * 1000 + b * HEARTBEAT_MS;
            k.store.recordSample({ epoch: e, nodeId: 1, kind: "heartbeat", at, ok: b < answered, latencyMs: 1 });
          }
        }
        return freezeOwnBundle(k.store, k.wallet, {
          epoch: e,
          chainId: chain.chainId,
          oracle: chain.addresses.ReportOracle,
          nodes,
          window,
        });
      });
      const ctx = await context(e);
      await Promise.all(
        checkers.map((k, i) =>
          finalizeEpoch({
            epoch: e,
            ownBundle: bundles[i],
            peers: checkerUrls.filter((_, j) => j !== i),
            checkerSet: ctx.checkerSet,
            licenses: ctx.licenses,
            configVersion: ctx.configVersion,
            domain: ctx.domain,
            budget: ctx.budget,
            epochStart: ctx.epochStart,
            epochEnd: ctx.epochEnd,
            params: DEFAULT_SCORING_PARAMS,
            nodes: ctx.nodes,
            signer: k.wallet,
            store: k.store,
            // Every peer has frozen its bundle: one round answers (a generous deadline otherwise).
            fetch: { timeoutMs: 30_000, waitMs: 60_000, retryMs: 100 },
          }),
        ),
      );
      const roots = new Set(checkers.map((k) => k.store.epochResult(e)!.root));
      if (roots.size !== 1) throw new Error(`the checkers signed ${roots.size} roots of epoch ${e}`);
    },
    hideTree(e, hide) {
      if (hide) hidden.add(e);
      else hidden.delete(e);
    },
    async close() {
      for (const k of checkers) {
        await k.api.close();
        k.store.close();
      }
      await chain.close();
    },
  };
}
