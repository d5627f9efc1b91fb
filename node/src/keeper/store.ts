/**
 * The keeper's state, in SQLite (better-sqlite3, WAL, `synchronous = FULL`: an intent or a signed
 * transaction is on disk before it is broadcast, so a crash never forgets a transaction in flight).
 *
 * - `intents`: one per piece of work, by key ("report:12", "sla:12:7", "close:3", "exclude:1:2"): what to call, the
 *   status (pending -> sent -> done | failed) and how it ended.
 * - `txs`: every signed transaction of an intent (replacements included), raw bytes kept so that a
 *   restart can re-broadcast the very same transaction.
 * - `signatures`: every correctly signed report seen from a checker (gathered signatures, and the
 *   evidence of an equivocation).
 * - `reports`, `leaves`: verified trees of epochs and, once on chain, what the proofs API serves.
 * - `jobs`: work finished for good (the SLA pass and the slashing pass of an epoch).
 * - `chain_reports`: the oracle's `SubmitReport` events, read in block windows from a cursor
 *   (meta "reconcile.block"): what the chain holds, that the rest of the store is reconciled against.
 *
 * The tables' definitions: storeSchema.ts.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

import { applySchema } from "./storeSchema";

export { SCHEMA_VERSION } from "./storeSchema";

export type IntentStatus = "pending" | "sent" | "done" | "failed";

export interface IntentRow {
  id: number;
  key: string;
  kind: string;
  contract: string;
  to: string;
  data: string;
  sender: string;
  status: IntentStatus;
  outcome: string | null;
  txHash: string | null;
  block: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface TxRow {
  hash: string;
  intentId: number;
  nonce: number;
  gasLimit: bigint;
  maxFee: bigint;
  maxPriority: bigint;
  raw: string;
  sentAt: number;
}

export interface SignatureRow {
  epoch: number;
  signer: string;
  digest: string;
  content: string;
  report: string;
  signature: string;
  source: string;
}

export interface ReportRow {
  epoch: number;
  root: string;
  report: string;
  signers: string[];
  status: "verified" | "onchain";
  txHash: string | null;
  recordedAt: number;
}

/** A `SubmitReport` event: an epoch the oracle holds. */
/** A `SubmitReport` event's arguments, as ethers decodes them. */
export interface SubmitReportArgs {
  epoch: bigint;
  root: string;
  configVersion: bigint;
  nodeCount: bigint;
  totalReward: bigint;
  signers: bigint;
}

/** The row of a `SubmitReport` event mined in `block` by `txHash`. */
export function chainReportFromEvent(args: SubmitReportArgs, txHash: string, block: number): ChainReportRow {
  const { root, configVersion, nodeCount, totalReward, signers } = args;
  return { epoch: Number(args.epoch), root, configVersion, nodeCount, totalReward, signers, txHash, block };
}

export interface ChainReportRow {
  epoch: number;
  root: string;
  configVersion: bigint;
  nodeCount: bigint;
  totalReward: bigint;
  signers: bigint;
  txHash: string;
  block: number;
}

export interface LeafRow {
  epoch: number;
  idx: number;
  root: string;
  kind: number;
  account: string;
  nodeId: string;
  leaf: string;
  proof: string[];
}

/* eslint-disable @typescript-eslint/no-explicit-any */
const intentOf = (r: any): IntentRow => ({
  id: r.id,
  key: r.key,
  kind: r.kind,
  contract: r.contract,
  to: r.to_addr,
  data: r.data,
  sender: r.sender,
  status: r.status,
  outcome: r.outcome,
  txHash: r.tx_hash,
  block: r.block,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const txOf = (r: any): TxRow => ({
  hash: r.hash,
  intentId: r.intent_id,
  nonce: r.nonce,
  gasLimit: BigInt(r.gas_limit),
  maxFee: BigInt(r.max_fee),
  maxPriority: BigInt(r.max_priority),
  raw: r.raw,
  sentAt: r.sent_at,
});
const reportOf = (r: any): ReportRow => ({
  epoch: r.epoch,
  root: r.root,
  report: r.report,
  signers: JSON.parse(r.signers),
  status: r.status,
  txHash: r.tx_hash,
  recordedAt: r.recorded_at,
});
const leafOf = (r: any): LeafRow => ({
  epoch: r.epoch,
  idx: r.idx,
  root: r.root,
  kind: r.kind,
  account: r.account,
  nodeId: r.node_id,
  leaf: r.leaf,
  proof: JSON.parse(r.proof),
});
const chainReportOf = (r: any): ChainReportRow => ({
  epoch: r.epoch,
  root: r.root,
  configVersion: BigInt(r.config_version),
  nodeCount: BigInt(r.node_count),
  totalReward: BigInt(r.total_reward),
  signers: BigInt(r.signers),
  txHash: r.tx_hash,
  block: r.block,
});
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The keeper's SQLite store. */
export class KeeperStore {
  readonly db: Database.Database;

  /** Opens (creating) the database file; `:memory:` for tests that need no restart. */
  constructor(
    readonly file: string,
    private readonly now: () => number = Date.now,
  ) {
    if (file !== ":memory:") mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    applySchema(this.db, file);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /* ------------------------------ intents ------------------------------ */

  intent(key: string): IntentRow | undefined {
    const r = this.db.prepare("SELECT * FROM intents WHERE key = ?").get(key);
    return r ? intentOf(r) : undefined;
  }

  intentById(id: number): IntentRow | undefined {
    const r = this.db.prepare("SELECT * FROM intents WHERE id = ?").get(id);
    return r ? intentOf(r) : undefined;
  }

  /** Records a new intent (status pending), or returns the existing one of `key`. */
  createIntent(i: {
    key: string;
    kind: string;
    contract: string;
    to: string;
    data: string;
    sender: string;
  }): IntentRow {
    const at = this.now();
    this.db
      .prepare(
        `INSERT INTO intents (key, kind, contract, to_addr, data, sender, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (key) DO NOTHING`,
      )
      .run(i.key, i.kind, i.contract, i.to, i.data, i.sender, at, at);
    return this.intent(i.key)!;
  }

  /** Re-opens a failed intent with new calldata (a later retry of the same work). */
  reopenIntent(id: number, data: string): void {
    this.db
      .prepare("UPDATE intents SET status = 'pending', data = ?, outcome = NULL, updated_at = ? WHERE id = ?")
      .run(data, this.now(), id);
  }

  /** Records a signed transaction of an intent and marks it sent, in one commit (before broadcast). */
  recordTx(intentId: number, tx: Omit<TxRow, "intentId" | "sentAt">): void {
    const at = this.now();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO txs (hash, intent_id, nonce, gas_limit, max_fee, max_priority, raw, sent_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          tx.hash,
          intentId,
          tx.nonce,
          tx.gasLimit.toString(),
          tx.maxFee.toString(),
          tx.maxPriority.toString(),
          tx.raw,
          at,
        );
      this.db.prepare("UPDATE intents SET status = 'sent', updated_at = ? WHERE id = ?").run(at, intentId);
    })();
  }

  /** Marks a transaction re-broadcast now (restarts its mining timeout). */
  touchTx(hash: string): void {
    this.db.prepare("UPDATE txs SET sent_at = ? WHERE hash = ?").run(this.now(), hash);
  }

  txsOf(intentId: number): TxRow[] {
    return this.db.prepare("SELECT * FROM txs WHERE intent_id = ? ORDER BY sent_at, rowid").all(intentId).map(txOf);
  }

  /** Ends an intent. */
  finishIntent(id: number, status: "done" | "failed", outcome: string, txHash?: string, block?: number): void {
    this.db
      .prepare("UPDATE intents SET status = ?, outcome = ?, tx_hash = ?, block = ?, updated_at = ? WHERE id = ?")
      .run(status, outcome, txHash ?? null, block ?? null, this.now(), id);
  }

  /** Intents not finished (pending or sent), oldest first. */
  openIntents(): IntentRow[] {
    return this.db.prepare("SELECT * FROM intents WHERE status IN ('pending', 'sent') ORDER BY id").all().map(intentOf);
  }

  recentIntents(limit = 20): IntentRow[] {
    return this.db.prepare("SELECT * FROM intents ORDER BY id DESC LIMIT ?").all(limit).map(intentOf);
  }

  /** The latest intents of one kind ("exclude", ...), newest first. */
  intentsOfKind(kind: string, limit = 20): IntentRow[] {
    return this.db
      .prepare("SELECT * FROM intents WHERE kind = ? ORDER BY id DESC LIMIT ?")
      .all(kind, limit)
      .map(intentOf);
  }

  /** Every transaction broadcast (all intents), for tests and status. */
  txCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM txs").get() as { n: number }).n;
  }

  /* ----------------------------- signatures ---------------------------- */

  recordSignature(s: SignatureRow): void {
    this.db
      .prepare(
        `INSERT INTO signatures (epoch, signer, digest, content, report, signature, source, seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .run(s.epoch, s.signer, s.digest, s.content, s.report, s.signature, s.source, this.now());
  }

  signaturesOf(epoch: number): SignatureRow[] {
    return this.db
      .prepare("SELECT * FROM signatures WHERE epoch = ? ORDER BY signer, seen_at")
      .all(epoch) as SignatureRow[];
  }

  /** Signatures gathered per epoch (distinct signers), newest epochs first. */
  signatureCounts(limit = 20): { epoch: number; signers: number; reports: number }[] {
    return this.db
      .prepare(
        `SELECT epoch, count(DISTINCT signer) AS signers, count(DISTINCT digest) AS reports
         FROM signatures GROUP BY epoch ORDER BY epoch DESC LIMIT ?`,
      )
      .all(limit) as { epoch: number; signers: number; reports: number }[];
  }

  /* ------------------------------ reports ------------------------------ */

  /** Stores a verified tree of `epoch` (replacing any earlier one not yet on chain). */
  recordTree(
    epoch: number,
    root: string,
    report: string,
    signers: string[],
    leaves: { kind: number; account: string; nodeId: string; leaf: string; proof: string[] }[],
  ): void {
    this.db.transaction(() => {
      const existing = this.report(epoch);
      if (existing?.status === "onchain") return;
      this.db.prepare("DELETE FROM leaves WHERE epoch = ?").run(epoch);
      this.db
        .prepare(
          `INSERT OR REPLACE INTO reports (epoch, root, report, signers, status, tx_hash, recorded_at)
           VALUES (?, ?, ?, ?, 'verified', NULL, ?)`,
        )
        .run(epoch, root, report, JSON.stringify(signers), this.now());
      const insert = this.db.prepare(
        "INSERT INTO leaves (epoch, idx, root, kind, account, node_id, leaf, proof) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      );
      leaves.forEach((l, i) =>
        insert.run(epoch, i, root, l.kind, l.account.toLowerCase(), l.nodeId, l.leaf, JSON.stringify(l.proof)),
      );
    })();
  }

  /**
   * Stores the tree of `epoch` as the one on chain, replacing whatever the store held for it (a tree
   * that disagrees with the chain's root); the epoch's follow-up passes are done again.
   */
  replaceOnChainTree(
    epoch: number,
    root: string,
    report: string,
    signers: string[],
    txHash: string | null,
    leaves: { kind: number; account: string; nodeId: string; leaf: string; proof: string[] }[],
  ): void {
    this.db.transaction(() => {
      const existing = this.report(epoch);
      if (existing && existing.root.toLowerCase() !== root.toLowerCase()) {
        for (const job of ["sla", "slash", "stakecredit"])
          this.db.prepare("DELETE FROM jobs WHERE name = ?").run(`${job}:${epoch}`);
      }
      this.db.prepare("DELETE FROM leaves WHERE epoch = ?").run(epoch);
      this.db
        .prepare(
          `INSERT OR REPLACE INTO reports (epoch, root, report, signers, status, tx_hash, recorded_at)
           VALUES (?, ?, ?, ?, 'onchain', ?, ?)`,
        )
        .run(epoch, root, report, JSON.stringify(signers), txHash, this.now());
      const insert = this.db.prepare(
        "INSERT INTO leaves (epoch, idx, root, kind, account, node_id, leaf, proof) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      );
      leaves.forEach((l, i) =>
        insert.run(epoch, i, root, l.kind, l.account.toLowerCase(), l.nodeId, l.leaf, JSON.stringify(l.proof)),
      );
    })();
  }

  /** A stored report the chain does not hold (its epoch has no root there) is no longer on chain. */
  markNotOnChain(epoch: number): void {
    this.db.prepare("UPDATE reports SET status = 'verified', tx_hash = NULL WHERE epoch = ?").run(epoch);
  }

  /* --------------------------- chain reports --------------------------- */

  /** Records a `SubmitReport` event (the oracle takes one report per epoch: the first is kept). */
  recordChainReport(r: ChainReportRow): void {
    this.db
      .prepare(
        `INSERT INTO chain_reports (epoch, root, config_version, node_count, total_reward, signers, tx_hash, block)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (epoch) DO NOTHING`,
      )
      .run(
        r.epoch,
        r.root,
        r.configVersion.toString(),
        r.nodeCount.toString(),
        r.totalReward.toString(),
        r.signers.toString(),
        r.txHash,
        r.block,
      );
  }

  /** Whether a chain report was read from a block after `block`. */
  chainReportAbove(block: number): boolean {
    return this.db.prepare("SELECT 1 FROM chain_reports WHERE block > ? LIMIT 1").get(block) !== undefined;
  }

  /** Forgets the chain reports read from block `block` on (to be read again); returns their epochs. */
  dropChainReportsFrom(block: number): number[] {
    const rows = this.db.prepare("SELECT epoch FROM chain_reports WHERE block >= ? ORDER BY epoch").all(block) as {
      epoch: number;
    }[];
    this.db.prepare("DELETE FROM chain_reports WHERE block >= ?").run(block);
    return rows.map((r) => r.epoch);
  }

  chainReport(epoch: number): ChainReportRow | undefined {
    const r = this.db.prepare("SELECT * FROM chain_reports WHERE epoch = ?").get(epoch);
    return r ? chainReportOf(r) : undefined;
  }

  /** Every epoch the oracle holds (as read so far), oldest first. */
  chainReports(): ChainReportRow[] {
    return this.db.prepare("SELECT * FROM chain_reports ORDER BY epoch").all().map(chainReportOf);
  }

  /** Epochs the chain holds whose stored tree is missing, not marked on chain, or of another root. */
  chainReportsNotHeld(): ChainReportRow[] {
    return this.db
      .prepare(
        `SELECT c.* FROM chain_reports c LEFT JOIN reports r ON r.epoch = c.epoch
         WHERE r.epoch IS NULL OR r.status != 'onchain' OR lower(r.root) != lower(c.root)
         ORDER BY c.epoch`,
      )
      .all()
      .map(chainReportOf);
  }

  /**
   * On-chain epochs (by their events, or stored as on chain by the keeper's own mined report before its
   * event is read) with a follow-up pass not done, oldest first.
   */
  chainEpochsWithOpenJobs(): { epoch: number; jobs: ("sla" | "slash" | "stakecredit")[] }[] {
    const rows = this.db
      .prepare(
        `SELECT c.epoch,
           EXISTS (SELECT 1 FROM jobs WHERE name = 'sla:' || c.epoch) AS sla,
           EXISTS (SELECT 1 FROM jobs WHERE name = 'slash:' || c.epoch) AS slash,
           EXISTS (SELECT 1 FROM jobs WHERE name = 'stakecredit:' || c.epoch) AS stakecredit
         FROM (SELECT epoch FROM chain_reports UNION SELECT epoch FROM reports WHERE status = 'onchain') c
         ORDER BY c.epoch`,
      )
      .all() as { epoch: number; sla: number; slash: number; stakecredit: number }[];
    return rows
      .map((r) => ({
        epoch: r.epoch,
        jobs: (["sla", "slash", "stakecredit"] as const).filter((j) => !r[j]),
      }))
      .filter((r) => r.jobs.length > 0);
  }

  /** Stored reports marked on chain that no `SubmitReport` event read so far confirms. */
  onChainWithoutEvent(): number[] {
    return (
      this.db
        .prepare(
          `SELECT r.epoch FROM reports r LEFT JOIN chain_reports c ON c.epoch = r.epoch
           WHERE r.status = 'onchain' AND c.epoch IS NULL ORDER BY r.epoch`,
        )
        .all() as { epoch: number }[]
    ).map((r) => r.epoch);
  }

  /** Marks `epoch`'s verified tree as the one on chain. */
  markOnChain(epoch: number, txHash: string | null): void {
    this.db.prepare("UPDATE reports SET status = 'onchain', tx_hash = ? WHERE epoch = ?").run(txHash, epoch);
  }

  report(epoch: number): ReportRow | undefined {
    const r = this.db.prepare("SELECT * FROM reports WHERE epoch = ?").get(epoch);
    return r ? reportOf(r) : undefined;
  }

  onChainReports(limit = 1000): ReportRow[] {
    return this.db
      .prepare("SELECT * FROM reports WHERE status = 'onchain' ORDER BY epoch DESC LIMIT ?")
      .all(limit)
      .map(reportOf);
  }

  leaves(epoch: number): LeafRow[] {
    return this.db.prepare("SELECT * FROM leaves WHERE epoch = ? ORDER BY idx").all(epoch).map(leafOf);
  }

  leafAt(epoch: number, idx: number): LeafRow | undefined {
    const r = this.db.prepare("SELECT * FROM leaves WHERE epoch = ? AND idx = ?").get(epoch, idx);
    return r ? leafOf(r) : undefined;
  }

  leafOfNode(epoch: number, nodeId: string): LeafRow | undefined {
    const r = this.db.prepare("SELECT * FROM leaves WHERE epoch = ? AND kind = 0 AND node_id = ?").get(epoch, nodeId);
    return r ? leafOf(r) : undefined;
  }

  leafOfChecker(epoch: number, account: string): LeafRow | undefined {
    const r = this.db
      .prepare("SELECT * FROM leaves WHERE epoch = ? AND kind = 1 AND account = ?")
      .get(epoch, account.toLowerCase());
    return r ? leafOf(r) : undefined;
  }

  /* -------------------------------- jobs ------------------------------- */

  jobDone(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM jobs WHERE name = ?").get(name) !== undefined;
  }

  markJobDone(name: string): void {
    this.db.prepare("INSERT OR IGNORE INTO jobs (name, done_at) VALUES (?, ?)").run(name, this.now());
  }

  getMeta(key: string): string | undefined {
    return (this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)").run(key, value);
  }
}
