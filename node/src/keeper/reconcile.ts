/**
 * Work comes from the chain, not from memory of what was sent. Every pass (on startup and on every
 * tick, before any other job):
 *
 * 1. Reads the oracle's `SubmitReport` events from a persisted block cursor (meta "reconcile.block")
 *    to the latest block, in windows of `windowBlocks` (at most `maxWindows` per pass): never a scan
 *    from block 0 each tick. The cursor never passes the chain's `finalized` block (peaq: finalized
 *    15-20 s after inclusion; short reorgs before that are possible): the blocks above it are read
 *    again every pass, their rows dropped first, so an event a reorg removed is forgotten and one it
 *    moved is re-read. An RPC that does not know the `finalized` tag is taken as final at `latest`. The first pass starts at the oracle's deployment block, found by a binary
 *    search of `eth_getCode` (about 25 reads on a long chain). Each event is one epoch the oracle holds
 *    (table `chain_reports`).
 * 2. For every such epoch whose stored tree is missing, not marked on chain, or of another root, it
 *    gets the tree: the stored one when its root is the chain's, else the checkers' report of that
 *    root (its node count and total checked against the event) and tree (rebuilt to the root), fetched
 *    as the relay does. The store is a cache of chain truth: a tree that disagrees with the chain is
 *    replaced, and a report marked on chain that the chain does not hold is unmarked.
 * 3. Follow-up work (SLA credits, downtime and fraud slashes, closes, deferred stake credits) runs in
 *    epoch order, on finalized reports only (`ready`): an epoch after the first on-chain epoch still
 *    without its tree waits for it, so a downtime run is never judged with an epoch missing, and an
 *    epoch whose report is not final (or not yet read from the chain) waits for that.
 *
 * `missing()` lists the on-chain epochs whose tree or follow-up work is missing, each with why (served
 * by `/health` and `kaisar keeper status`).
 */
import { getAddress, type Provider } from "ethers";
import { leafToJson, reportFromJson, reportToJson, signedReportFromJson, type Report } from "@kaisar/offchain";

import { epochStart, type EpochSchedule } from "../chain/chainClock";
import type { KaisarContracts } from "../chain/contracts";
import { opensAt, payable } from "./jobs/stakecredit";
import type { ReportRelay } from "./reports";
import { rpcUnavailable } from "../chain/rpc";
import { chainReportFromEvent, type ChainReportRow, type KeeperStore } from "./store";
import type { TxLogEntry } from "./tx";

/** What an on-chain epoch lacks: its tree, or one of its follow-up passes. */
export type MissingWork = "tree" | "sla" | "slash" | "stakecredit";

export interface MissingEpoch {
  epoch: number;
  missing: MissingWork;
  reason: string;
}

export interface ReconcilerOptions {
  contracts: KaisarContracts;
  store: KeeperStore;
  relay: ReportRelay;
  /** The checkers' API URLs (where missing trees are fetched). */
  checkers: string[];
  /** Blocks per `eth_getLogs` window (default 2,000). */
  windowBlocks?: number;
  /** Windows read per pass (default 50); the rest on the next pass. */
  maxWindows?: number;
  /** Trees fetched per pass (default 16). */
  maxFetches?: number;
  log?: (entry: TxLogEntry) => void;
}

export interface ReconcileResult {
  /** Epochs whose tree was adopted or rebuilt from the chain this pass. */
  adopted: number[];
  /** The block the cursor reached (next to read). */
  cursor: number;
}

const CURSOR = "reconcile.block";

/** The reconcile pass (see the file comment). */
export class Reconciler {
  private readonly log: (entry: TxLogEntry) => void;
  /** Why the tree of an epoch could not be had (last pass). */
  private readonly treeProblems = new Map<number, string>();
  /** The first on-chain epoch without its tree (last pass); undefined when none. */
  private gap: number | undefined;
  /** The chain's finalized block (last pass). */
  private finalized = -1;
  /** The slashing window and the epoch clock, for the reasons of stake credits not yet due. */
  private clock?: { schedule: EpochSchedule; window: bigint; now: bigint };

  constructor(private readonly o: ReconcilerOptions) {
    this.log = o.log ?? (() => {});
  }

  private get provider(): Provider {
    return this.o.contracts.ReportOracle.runner!.provider!;
  }

  /** The oracle's deployment block: the first block with its code (binary search). */
  async deploymentBlock(latest: number): Promise<number> {
    const oracle = this.o.contracts.ReportOracle.target as string;
    let lo = 0;
    let hi = latest;
    if ((await this.provider.getCode(oracle, hi)) === "0x") return latest + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await this.provider.getCode(oracle, mid)) === "0x") lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Reads `SubmitReport` events from the cursor on (step 1); returns the new cursor. */
  async readEvents(): Promise<number> {
    const oracle = this.o.contracts.ReportOracle;
    const latest = await this.provider.getBlockNumber();
    const finalized = Math.min(latest, (await this.finalizedBlock()) ?? latest);
    const stored = this.o.store.getMeta(CURSOR);
    let from = stored === undefined ? await this.deploymentBlock(latest) : Number(stored);
    // Rows from blocks not final at the last pass: read again below, as the chain has them now.
    const first = from;
    const dropped = this.o.store.dropChainReportsFrom(from);
    this.finalized = finalized;
    const size = this.o.windowBlocks ?? 2_000;
    for (let w = 0; w < (this.o.maxWindows ?? 50) && from <= latest; w++) {
      const to = Math.min(from + size - 1, latest);
      for (const e of await oracle.queryFilter(oracle.filters.SubmitReport(), from, to)) {
        this.o.store.recordChainReport(chainReportFromEvent(e.args, e.transactionHash, e.blockNumber));
      }
      from = to + 1;
      this.o.store.setMeta(CURSOR, String(Math.min(from, finalized + 1)));
    }
    const gone = dropped.filter((e) => !this.o.store.chainReport(e));
    if (gone.length) this.log({ at: "Keeper#reportReorgedOut", level: "warn", epochs: gone, fromBlock: first });
    return from;
  }

  /**
   * Reads the chain's finalized block again when a report read or recorded since the last pass is above
   * it (a report this keeper's relay just sent): no call otherwise.
   */
  async refreshFinality(): Promise<void> {
    if (!this.o.store.chainReportAbove(this.finalized)) return;
    this.finalized = (await this.finalizedBlock()) ?? (await this.provider.getBlockNumber());
  }

  /** The chain's finalized block number, or undefined when the RPC does not know the tag. */
  private async finalizedBlock(): Promise<number | undefined> {
    try {
      return (await this.provider.getBlock("finalized"))?.number ?? undefined;
    } catch (e) {
      if (rpcUnavailable(String(e))) throw e;
      return undefined;
    }
  }

  /** One pass (steps 1 and 2); errors of one epoch are kept as its reason, not thrown. */
  async tick(): Promise<ReconcileResult> {
    const cursor = await this.readEvents();
    const store = this.o.store;
    const oracle = this.o.contracts.ReportOracle;
    // A report marked on chain with no event read: unmarked if the chain holds no root for its epoch.
    for (const epoch of store.onChainWithoutEvent()) {
      if (BigInt(await oracle.reportRoot(epoch)) === 0n) {
        this.log({ at: "Keeper#reconcileUnmark", epoch, reason: "the oracle holds no report of this epoch" });
        store.markNotOnChain(epoch);
      }
    }
    const adopted: number[] = [];
    this.treeProblems.clear();
    let fetches = 0;
    for (const chain of store.chainReportsNotHeld()) {
      const mine = store.report(chain.epoch);
      if (mine && mine.root.toLowerCase() === chain.root.toLowerCase()) {
        store.markOnChain(chain.epoch, chain.txHash);
        adopted.push(chain.epoch);
        continue;
      }
      if (fetches >= (this.o.maxFetches ?? 16)) {
        this.treeProblems.set(chain.epoch, "not fetched yet (later in this catch-up)");
        continue;
      }
      fetches++;
      const problem = await this.fetchTree(chain).catch((e: Error) => e.message ?? String(e));
      if (problem) {
        this.treeProblems.set(chain.epoch, problem);
        this.log({ at: "Keeper#treeMissing", epoch: chain.epoch, root: chain.root, reason: problem });
      } else {
        adopted.push(chain.epoch);
        this.log({
          at: "Keeper#treeFromChain",
          epoch: chain.epoch,
          root: chain.root,
          replaced: mine ? mine.root : null,
        });
      }
    }
    const lacking = store.chainReportsNotHeld();
    this.gap = lacking.length ? lacking[0].epoch : undefined;
    for (const l of lacking) {
      if (!this.treeProblems.has(l.epoch)) this.treeProblems.set(l.epoch, "not fetched yet");
    }
    await this.readClock().catch(() => {});
    return { adopted, cursor };
  }

  /** Gets the tree of an on-chain epoch from the checkers and stores it as on chain; a problem, or undefined. */
  private async fetchTree(chain: ChainReportRow): Promise<string | undefined> {
    const epoch = BigInt(chain.epoch);
    const store = this.o.store;
    const sameRoot = (r: Report) => r.root.toLowerCase() === chain.root.toLowerCase();
    // The full report of that root: signed copies already stored, else the checkers' answers now.
    let found = store
      .signaturesOf(chain.epoch)
      .map((s) => reportFromJson(JSON.parse(s.report)))
      .find(sameRoot);
    if (!found) {
      for (const base of this.o.checkers) {
        try {
          const res = await fetch(`${base.replace(/\/+$/, "")}/epochs/${epoch}/report`, {
            signal: AbortSignal.timeout(10_000),
          });
          if (!res.ok) continue;
          const { report } = signedReportFromJson(await res.json());
          if (report.epoch === epoch && sameRoot(report)) {
            found = report;
            break;
          }
        } catch {
          // the next checker
        }
      }
    }
    if (!found) return `no checker serves a report of epoch ${epoch} with the chain's root ${chain.root}`;
    if (found.nodeCount !== chain.nodeCount || found.totalReward !== chain.totalReward) {
      return `the checkers' report of root ${chain.root} says ${found.nodeCount} nodes and ${found.totalReward} in all, the chain ${chain.nodeCount} and ${chain.totalReward}`;
    }
    const budget = await this.o.contracts.ReportOracle.epochBudget(epoch);
    const tree = await this.o.relay.fetchTree(found, budget, this.o.checkers);
    if ("reason" in tree) return tree.reason;
    const signers = store
      .signaturesOf(chain.epoch)
      .filter((s) => sameRoot(reportFromJson(JSON.parse(s.report))))
      .map((s) => getAddress(s.signer));
    store.replaceOnChainTree(
      chain.epoch,
      chain.root,
      JSON.stringify(reportToJson(found)),
      [...new Set(signers)],
      chain.txHash,
      tree.leaves.map((l, i) => ({
        kind: l.leaf.kind,
        account: l.leaf.account,
        nodeId: l.leaf.id.toString(),
        leaf: JSON.stringify(leafToJson(l.leaf, l.metrics)),
        proof: tree.proofs[i],
      })),
    );
    return undefined;
  }

  private async readClock(): Promise<void> {
    const { ReportOracle: oracle, SlaEnforcer: sla } = this.o.contracts;
    const [schedule, window, block] = await Promise.all([
      this.clock?.schedule ??
        Promise.all([oracle.genesis(), oracle.epochLength()]).then(([genesis, length]) => ({
          genesis: Number(genesis),
          length: Number(length) * 1000,
        })),
      sla.slashWindow(),
      this.provider.getBlock("latest"),
    ]);
    this.clock = { schedule, window, now: BigInt(block!.timestamp) };
  }

  /**
   * Whether the follow-up work of on-chain `epoch` may run: every on-chain epoch up to it has its tree,
   * and its report was read from the chain in a finalized block.
   */
  ready(epoch: number): boolean {
    return (this.gap === undefined || epoch < this.gap) && this.final(epoch);
  }

  private final(epoch: number): boolean {
    const row = this.o.store.chainReport(epoch);
    return row !== undefined && row.block <= this.finalized;
  }

  /** The on-chain epochs whose tree or follow-up work is missing, and why (as of the last pass). */
  missing(): MissingEpoch[] {
    const out: MissingEpoch[] = [];
    for (const [epoch, reason] of [...this.treeProblems].sort((a, b) => a[0] - b[0])) {
      out.push({ epoch, missing: "tree", reason });
    }
    const open = this.o.store.openIntents().map((i) => i.key);
    for (const { epoch, jobs } of this.o.store.chainEpochsWithOpenJobs()) {
      if (this.treeProblems.has(epoch)) continue;
      for (const job of jobs) {
        let reason: string;
        // The intents of the pass: "sla:<e>:<node>", "stakecredit:<e>", "fraud:<e>:<node>", "downtime:<node>:<e>".
        const inFlight = open.find((k) =>
          job === "slash"
            ? k.startsWith(`fraud:${epoch}:`) || new RegExp(`^downtime:\\d+:${epoch}$`).test(k)
            : k === `${job}:${epoch}` || k.startsWith(`${job}:${epoch}:`),
        );
        const row = this.o.store.chainReport(epoch);
        if (this.gap !== undefined && epoch >= this.gap)
          reason = `waits for the tree of epoch ${this.gap} (follow-up work runs in epoch order)`;
        else if (!row) reason = "waits for its report's event to be read from the chain";
        else if (!this.final(epoch) && this.finalized >= 0)
          reason = `waits for finality: its report is in block ${row.block}, the chain is final at ${this.finalized}`;
        else if (inFlight) reason = `transaction in flight (${inFlight})`;
        else if (job === "stakecredit" && this.clock && this.o.store.jobDone(`sla:${epoch}`)) {
          const { schedule, window, now } = this.clock;
          if (!payable({ now, opensAt: opensAt(BigInt(epochStart(schedule, epoch + 1)), window) })) {
            // Not missing: not due yet.
            continue;
          }
          reason = "due: the slashing window has passed, the next pass pays it";
        } else if (job === "stakecredit") reason = "waits for the epoch's SLA credits";
        else reason = "not run yet (the next pass runs it)";
        out.push({ epoch, missing: job, reason });
      }
    }
    return out;
  }
}
