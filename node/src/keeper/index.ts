/**
 * The keeper: relays quorum-signed epoch reports, serves reward proofs, applies SLA credits, slashes
 * for downtime and hardware fraud, closes the rentals of jailed nodes, closes expired rentals and
 * excludes checker operators no longer active (no license, or under the minimum stake) from the set.
 * `startKeeper` opens the store, serves the API, and checks the chain id of every RPC URL before it
 * signs anything (with `waitForRpc`, an RPC that does not answer is waited for, with backoff and a
 * degraded `/health`, not an exit; a wrong chain id still stops it). `tick` is one pass of every job,
 * each catching its own errors: resume the transactions left in flight, reconcile with the chain
 * (reconcile.ts: every epoch the oracle holds has its tree, follow-up work in epoch order), relay
 * reports, then the follow-up work. `run` ticks every `pollInterval` (backing off while the RPC is
 * unavailable) until told to stop, then lets the pass in progress end (a transaction still unmined
 * stays recorded and is resumed on the next start).
 */
import path from "node:path";

import { Wallet, ZeroAddress, formatEther, parseUnits } from "ethers";

import { connectContracts, type KaisarContracts } from "../chain/contracts";
import type { KeeperConfig } from "../config/load";
import { startKeeperApi, type KeeperApi } from "./api";
import { CheckerSetKeeper } from "./checkers";
import { ReportRelay, type EpochResult } from "./reports";
import { Reconciler, type MissingEpoch } from "./reconcile";
import { FailoverRpcProvider, RpcUnavailableError, checkChainIds, rpcUnavailable } from "../chain/rpc";
import { SlaKeeper } from "./sla";
import { KeeperStore } from "./store";
import { TxSender, type TxLogEntry, type TxOutcome, type TxSenderOptions } from "./tx";

// The JSON forms the keeper reads and serves live in the shared package (offchain/src/json.ts).
export {
  JsonShapeError,
  keeperProofFromJson,
  keeperProofToJson,
  leafFromJson,
  leafToJson,
  metricsFromJson,
  metricsToJson,
  reportFromJson,
  reportToJson,
  signedReportFromJson,
  signedReportToJson,
  treeFromJson,
  treeToJson,
  type KeeperProof,
  type KeeperProofJson,
  type LeafJson,
  type NodeMetricsJson,
  type ReportJson,
  type SignedReport,
  type TreeJson,
  type TreeLeaf,
} from "@kaisar/offchain";
export { ALREADY_DONE, TxSender, bumped, decodeRevert, type TxOutcome, type TxRequest } from "./tx";
export { KeeperStore } from "./store";
export { ReportRelay, contentHash, recoverReportSigner } from "./reports";
export { SlaKeeper, type DowntimePolicy } from "./sla";
export { CheckerSetKeeper } from "./checkers";
export { reasonNames, type CheckerSetView, type InactiveOperator } from "./jobs/exclude";
export { FailoverRpcProvider, checkChainIds, rpcUnavailable } from "../chain/rpc";
export { startKeeperApi } from "./api";
export { Reconciler, type MissingEpoch } from "./reconcile";

/** Thrown by `startKeeper` when `stop` resolves while it waits for the RPC. */
export class KeeperStoppedError extends Error {}

export interface KeeperDeps {
  log?: (entry: TxLogEntry) => void;
  /** Fault injection for tests (see TxSenderOptions.hooks). */
  txHooks?: TxSenderOptions["hooks"];
  /** Receipt polling, ms (default 500). */
  pollMs?: number;
  /** Serve the proofs API on `listen` (default true). */
  api?: boolean;
  /** Wait (with backoff) for an RPC that does not answer at startup instead of throwing (`kaisar keeper run`). */
  waitForRpc?: boolean;
  /** Resolves to stop waiting for the RPC at startup (`KeeperStoppedError`). */
  stop?: Promise<unknown>;
}

/** The keeper's RPC health: degraded while calls fail for want of an RPC. */
export interface RpcHealth {
  ok: boolean;
  /** Unix ms of the last change. */
  since: number;
  error: string | null;
  /** The next try, ms from the last failure (while degraded). */
  retryInMs: number | null;
}

export interface TickResult {
  resumed: TxOutcome[];
  reports: EpochResult[];
  credits: TxOutcome[];
  /** Hardware fraud and downtime slashes. */
  slashes: TxOutcome[];
  /** Rentals on jailed nodes closed. */
  jailCloses: TxOutcome[];
  closes: TxOutcome[];
  /** Stake credits paid after their epoch's slashing window (`SlaEnforcer.payStakeCredits`). */
  stakeCredits: TxOutcome[];
  /** Checker operators excluded from the set (`ReportOracle.excludeOperator`). */
  exclusions: TxOutcome[];
  /** Epochs adopted from the chain by the reconcile pass. */
  reconciled: number[];
  errors: { job: string; error: string }[];
}

export interface Keeper {
  address: string;
  store: KeeperStore;
  sender: TxSender;
  relay: ReportRelay;
  sla: SlaKeeper;
  checkerSet: CheckerSetKeeper;
  reconciler: Reconciler;
  rpcHealth: RpcHealth;
  contracts: KaisarContracts;
  provider: FailoverRpcProvider;
  api?: KeeperApi;
  tick(): Promise<TickResult>;
  /** Ticks every `pollInterval` until `stop` resolves, then finishes the pass in progress. */
  run(stop: Promise<unknown>): Promise<void>;
  status(): Promise<KeeperStatus>;
  close(): Promise<void>;
}

export interface KeeperStatus {
  keeper: string;
  balanceWei: string;
  balance: string;
  chainId: number;
  block: number;
  oracle: { configVersion: string; quorum: number; lastEpoch: string | null; currentEpoch: string };
  /** The current checker set: `excluded` are the indexes of its tombstones. */
  checkerSet: { version: string; count: number; live: number; quorum: number; quorumLost: boolean; excluded: number[] };
  /** The latest exclusions this keeper sent or found done (`exclude:<version>:<index>`), newest first. */
  exclusions: { key: string; status: string; outcome: string | null; txHash: string | null; updatedAt: number }[];
  pendingEpochs: string[];
  signatures: { epoch: number; signers: number; reports: number }[];
  submitted: { epoch: number; root: string; signers: string[]; txHash: string | null }[];
  pendingIntents: { key: string; status: string; updatedAt: number }[];
  /** On-chain epochs whose tree or follow-up work is missing, and why. */
  missingEpochs: MissingEpoch[];
}

/** The keeper's database file. */
export function keeperDatabase(config: KeeperConfig): string {
  return path.join(config.dataDir, "keeper.sqlite");
}

/** Starts a keeper from its config (see the file comment). Throws naming the setting on a wrong chain id. */
export async function startKeeper(config: KeeperConfig, deps: KeeperDeps = {}): Promise<Keeper> {
  const log = deps.log ?? (() => {});
  const provider = new FailoverRpcProvider({
    chainId: config.chainId,
    urls: [config.rpcUrl, config.rpcUrlFallback ?? ""],
    timeoutMs: config.rpcTimeout,
    onFailure: (url, method, error) => log({ at: "Keeper#rpcFailure", url, method, error }),
  });
  const rpcHealth: RpcHealth = { ok: true, since: Date.now(), error: null, retryInMs: null };
  const setRpc = (ok: boolean, error: string | null, retryInMs: number | null) => {
    if (ok !== rpcHealth.ok) {
      rpcHealth.since = Date.now();
      log(ok ? { at: "Keeper#rpcRecovered" } : { at: "Keeper#rpcUnavailable", level: "warn", error, retryInMs });
    } else if (!ok) log({ at: "Keeper#rpcUnavailable", level: "warn", error, retryInMs });
    Object.assign(rpcHealth, { ok, error, retryInMs });
  };
  const store = new KeeperStore(keeperDatabase(config));
  const wallet = new Wallet(config.privateKey);
  const contracts = connectContracts(config.contracts, provider);
  const sender = new TxSender({
    store,
    provider,
    wallet,
    chainId: config.chainId,
    feeBumpPercent: config.feeBumpPercent,
    maxFeePerGas:
      config.maxFeePerGasGwei === undefined ? undefined : parseUnits(config.maxFeePerGasGwei.toFixed(9), "gwei"),
    txTimeoutMs: config.txTimeout,
    pollMs: deps.pollMs ?? 500,
    log,
    hooks: deps.txHooks,
  });
  const relay = new ReportRelay({
    contracts,
    chainId: config.chainId,
    checkers: config.checkers,
    store,
    sender,
    fetchTimeoutMs: config.rpcTimeout,
    log,
  });
  const reconciler = new Reconciler({ contracts, store, relay, checkers: config.checkers, log });
  const sla = new SlaKeeper({
    contracts,
    store,
    sender,
    log,
    ready: (e) => reconciler.ready(e),
    beforePass: () => reconciler.refreshFinality(),
  });
  const checkerSet = new CheckerSetKeeper({ contracts, sender, log });
  let api: KeeperApi | undefined;
  const cleanUp = async () => {
    await api?.close();
    store.close();
    provider.destroy();
  };
  try {
    if (deps.api !== false) {
      api = await startKeeperApi({
        store,
        chainId: config.chainId,
        block: () => provider.getBlockNumber().catch(() => undefined),
        host: config.listen.host,
        port: config.listen.port,
        health: () => ({ rpc: rpcHealth, missingEpochs: reconciler.missing() }),
      });
      log({ at: "Keeper#listen", url: api.url });
    }
    // The chain id of every URL before anything is signed; an RPC that does not answer is waited for.
    let stopped = false;
    void deps.stop?.then(() => (stopped = true));
    for (let wait = 500; ; wait = Math.min(wait * 2, 30_000)) {
      try {
        await checkChainIds(provider, config.chainId);
        if (!rpcHealth.ok) setRpc(true, null, null);
        break;
      } catch (e) {
        if (!(e instanceof RpcUnavailableError) || !deps.waitForRpc) throw e;
        setRpc(false, e.message, wait);
        await Promise.race([new Promise((r) => setTimeout(r, wait)), deps.stop]);
        if (stopped) throw new KeeperStoppedError("stopped before the RPC answered");
      }
    }
  } catch (e) {
    await cleanUp();
    throw e;
  }

  const job = async <T>(name: string, errors: TickResult["errors"], fn: () => Promise<T[]>): Promise<T[]> => {
    try {
      return await fn();
    } catch (e) {
      const error = (e as Error).message ?? String(e);
      errors.push({ job: name, error });
      log({ at: `Keeper#${name}`, error: error.slice(0, 500) });
      return [];
    }
  };
  let closed = false;
  const tick = async (): Promise<TickResult> => {
    const errors: TickResult["errors"] = [];
    // Once a job fails for want of an RPC, the rest of the pass is skipped (each would wait as long).
    const down = () => errors.some((e) => rpcUnavailable(e.error));
    const run = <T>(name: string, skip: boolean, fn: () => Promise<T[]>) =>
      skip || down() ? Promise.resolve([] as T[]) : job(name, errors, fn);
    const resumed = await run("resume", false, () => sender.resume());
    // Chain truth first: every epoch the oracle holds has its tree before any follow-up work.
    const reconciled = await run("reconcile", false, async () => (await reconciler.tick()).adopted);
    // One transaction in flight at a time: new work waits for the resumed one.
    const busy = resumed.some((o) => o.status === "pending");
    const reports = await run("reports", busy, () => relay.tick());
    // Each epoch's credits before its slashes; a node jailed by a slash has its rentals closed in the same pass.
    const credits = await run("sla", busy, () => sla.creditAll());
    const slashes = await run("slash", busy, () => sla.slashAll());
    const jailCloses = await run("jailclose", busy, () => sla.closeJailed());
    const closes = await run("close", busy, () => sla.closeExpired());
    const stakeCredits = await run("stakecredit", busy, () => sla.payStakeCreditsAll());
    const exclusions = await run("exclude", busy, () => checkerSet.excludeAll());
    return { resumed, reports, credits, slashes, jailCloses, closes, stakeCredits, exclusions, reconciled, errors };
  };

  const keeper: Keeper = {
    address: wallet.address,
    store,
    sender,
    relay,
    sla,
    checkerSet,
    reconciler,
    rpcHealth,
    contracts,
    provider,
    api,
    tick,
    async run(stop) {
      let stopped = false;
      let wake: () => void = () => {};
      void stop.then(() => {
        stopped = true;
        sender.stop();
        wake();
      });
      let backoff = config.pollInterval;
      while (!stopped) {
        const result = await tick();
        for (const r of result.reports) {
          if (r.status !== "no-quorum")
            log({ at: "Keeper#epoch", ...r, epoch: r.epoch.toString(), outcome: undefined });
        }
        // No RPC: the next pass after a growing pause (up to 30 s), and /health says so; back: at once.
        const failed = result.errors.find((e) => rpcUnavailable(e.error));
        if (failed) {
          backoff = Math.min(Math.max(backoff * 2, 500), 30_000);
          setRpc(false, failed.error, backoff);
        } else {
          backoff = config.pollInterval;
          if (!rpcHealth.ok) setRpc(true, null, null);
        }
        if (stopped) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, failed ? backoff : config.pollInterval);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
    async status() {
      // What the chain holds, reconciled first, so that the missing epochs are today's.
      await reconciler.tick();
      const view = await relay.view();
      const [balance, block] = await Promise.all([provider.getBalance(wallet.address), provider.getBlockNumber()]);
      const live = view.checkers.filter((c) => c !== ZeroAddress).length;
      return {
        keeper: wallet.address,
        balanceWei: balance.toString(),
        balance: formatEther(balance),
        chainId: config.chainId,
        block,
        oracle: {
          configVersion: view.version.toString(),
          quorum: view.quorum,
          lastEpoch: view.anyReport ? view.lastEpoch.toString() : null,
          currentEpoch: view.currentEpoch.toString(),
        },
        checkerSet: {
          version: view.version.toString(),
          count: view.checkers.length,
          live,
          quorum: view.quorum,
          quorumLost: live < view.quorum,
          excluded: view.checkers.flatMap((c, i) => (c === ZeroAddress ? [i] : [])),
        },
        exclusions: store.intentsOfKind("exclude").map((i) => ({
          key: i.key,
          status: i.status,
          outcome: i.outcome,
          txHash: i.txHash,
          updatedAt: i.updatedAt,
        })),
        pendingEpochs: (await relay.pendingEpochs(view)).map(String),
        signatures: store.signatureCounts(),
        submitted: store
          .onChainReports(20)
          .map((r) => ({ epoch: r.epoch, root: r.root, signers: r.signers, txHash: r.txHash })),
        pendingIntents: store.openIntents().map((i) => ({ key: i.key, status: i.status, updatedAt: i.updatedAt })),
        missingEpochs: reconciler.missing(),
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      sender.stop();
      await cleanUp();
    },
  };
  return keeper;
}
