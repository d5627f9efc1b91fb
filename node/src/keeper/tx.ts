/**
 * The keeper's one transaction sender: simulate -> persist -> sign -> persist -> broadcast -> wait ->
 * replace if stuck, with every step recorded in the store so that a crash at any point is resumed
 * without doing the work twice.
 *
 * - Work has a key ("report:12"). A key that is done is never sent again; one that is open is resumed.
 * - Before anything is sent the call is simulated (`eth_call`, then `eth_estimateGas`; gas limit = `gasLimitFor` of
 *   the estimate). A revert that means the work is already done (`ALREADY_DONE`: another keeper was
 *   first, the rental is already closed...) ends the intent as done; any other revert is returned as a
 *   failure, nothing sent.
 * - The signed transaction (raw bytes and hash) is committed BEFORE it is broadcast. On restart
 *   (`resume`), every hash of every open intent is looked up: mined -> done; unknown to the node ->
 *   the same signed bytes are broadcast again; its nonce used by another transaction -> re-simulated
 *   (done, or re-sent with a nonce re-synced from the chain).
 * - A transaction not mined within `txTimeoutMs` is replaced (same nonce) with maxFeePerGas and
 *   maxPriorityFeePerGas raised by `feeBumpPercent` (at least 10, what nodes require) or to the network's
 *   current fee if higher, never above the `maxFeePerGas` cap: at the cap it stops bumping, logs, and waits.
 * - One transaction in flight at a time (calls are queued), so nonces never leave gaps.
 * - One path for a finished intent: whether the call that sent it saw it mined, or `resume` found it
 *   mined (or done by someone else) after a restart, a stop or an RPC error, the effect registered
 *   for its kind (`onDone`: the relay records a report's epoch as on chain) runs the same way.
 */
import { gasLimitFor } from "@kaisar/offchain";
import { Transaction, type JsonRpcApiProvider, type Wallet } from "ethers";

import { CONTRACTS, ENV, type ContractName } from "../config/schema";
import { contractInterface } from "../chain/contracts";
import type { IntentRow, KeeperStore, TxRow } from "./store";

/** Custom errors that mean the work was already done by someone (the keeper counts them as success). */
export const ALREADY_DONE: readonly string[] = [
  "ReportOracle_AlreadyProcessed",
  "ReportOracle_StaleEpoch",
  "ReportOracle_EquivocationAlreadyProven",
  // excludeOperator on a tombstone (another keeper, or a proof of equivocation, was first).
  "ReportOracle_OperatorAlreadyExcluded",
  "SlaEnforcer_AlreadyCredited",
  // payStakeCredit(s) of a credit someone (the renter) already paid.
  "SlaEnforcer_NothingDue",
  "SlaEnforcer_NothingToClose",
  // A slash whose epochs a slash already used (another keeper was first), or a node released since.
  "SlaEnforcer_EvidenceTooOld",
  // closeOnJailedNode on a node no longer jailed (released by governance since).
  "SlaEnforcer_NodeNotJailed",
  "RentalEscrow_RentalClosed",
];

export interface TxRequest {
  /** What kind of work ("report", "equivocation", "sla", "fraud", "downtime", "jailclose", "close", "stakecredit", "exclude"). */
  kind: string;
  /** Unique per piece of work, e.g. "report:12". */
  key: string;
  /** The contract called (its ABI decodes the reverts). */
  contract: ContractName;
  to: string;
  data: string;
}

export type TxOutcome =
  | { status: "mined"; key: string; hash: string; block: number }
  | { status: "already"; key: string; reason: string; hash?: string }
  | { status: "failed"; key: string; reason: string; error?: DecodedRevert }
  /** Still in flight (the sender stopped, or gave up waiting for now); resumed later. */
  | { status: "pending"; key: string; hash?: string };

export interface DecodedRevert {
  /** The custom error's name (e.g. "ReportOracle_BelowQuorum"), or "revert" when it has none. */
  name: string;
  args: string[];
  /** `name(args...)`. */
  message: string;
}

export interface TxLogEntry {
  at: string;
  [field: string]: unknown;
}

export interface TxSenderOptions {
  store: KeeperStore;
  provider: JsonRpcApiProvider;
  /** Signs the transactions (its provider is not used). */
  wallet: Wallet;
  chainId: number;
  /** Percent by which a replacement raises both fees; at least 10. */
  feeBumpPercent: number;
  /** Highest maxFeePerGas ever sent, wei (none: no cap). */
  maxFeePerGas?: bigint;
  /** A transaction not mined this long (ms) is replaced. */
  txTimeoutMs: number;
  /** How often receipts are polled, ms (default 250). */
  pollMs?: number;
  /** Longest one call waits for its transaction before returning "pending" (default 10 x txTimeoutMs). */
  maxWaitMs?: number;
  log?: (entry: TxLogEntry) => void;
  /** Fault injection for tests: called right before / after a transaction is broadcast. */
  hooks?: { beforeBroadcast?(key: string, hash: string): void; afterBroadcast?(key: string, hash: string): void };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const INTERFACES = CONTRACTS.map((name) => contractInterface(name));

/** Decodes a revert (an ethers CALL_EXCEPTION, or revert data) with every Kaisar contract's errors; undefined if `e` is no revert. */
export function decodeRevert(e: unknown): DecodedRevert | undefined {
  const err = e as { code?: string; data?: string; error?: { data?: string }; info?: { error?: { data?: unknown } } };
  if (err?.code !== "CALL_EXCEPTION") return undefined;
  const data = typeof err.data === "string" ? err.data : undefined;
  if (data && data.length >= 10) {
    for (const iface of INTERFACES) {
      try {
        const parsed = iface.parseError(data);
        if (parsed) {
          const args = parsed.args.map((a) => String(a));
          return { name: parsed.name, args, message: `${parsed.name}(${args.join(", ")})` };
        }
      } catch {
        // not this contract's error
      }
    }
  }
  const reason = (e as { reason?: string }).reason ?? (e as Error).message;
  return { name: "revert", args: [reason ?? ""], message: `revert (${reason}; data ${data ?? "none"})` };
}

/** `value * (100 + percent) / 100`, rounded up. */
export function bumped(value: bigint, percent: number): bigint {
  const num = value * BigInt(100 + Math.ceil(percent));
  return (num + 99n) / 100n;
}

/** The keeper's transaction sender (see the file comment). */
export class TxSender {
  private queue: Promise<unknown> = Promise.resolve();
  private stopping = false;
  readonly address: string;
  private readonly pollMs: number;
  private readonly maxWaitMs: number;
  private readonly log: (entry: TxLogEntry) => void;
  private readonly effects = new Map<string, (intent: IntentRow, outcome: TxOutcome) => Promise<void> | void>();

  constructor(private readonly o: TxSenderOptions) {
    if (!(o.feeBumpPercent >= 10)) {
      throw new RangeError(`feeBumpPercent is ${o.feeBumpPercent}: set it (env ${ENV.feeBumpPercent}) to 10 or more`);
    }
    this.address = o.wallet.address;
    this.pollMs = o.pollMs ?? 250;
    this.maxWaitMs = o.maxWaitMs ?? 10 * o.txTimeoutMs;
    this.log = o.log ?? (() => {});
  }

  /** Stops waiting: calls in flight return "pending" soon (their intents resume on the next start). */
  stop(): void {
    this.stopping = true;
  }

  /**
   * Registers what a finished ("mined" or "already") intent of `kind` changes in the keeper's store. It
   * runs wherever the intent ends: in the call that sent it or in `resume`. A failing effect is logged;
   * the reconcile pass repairs what it left undone.
   */
  onDone(kind: string, effect: (intent: IntentRow, outcome: TxOutcome) => Promise<void> | void): void {
    this.effects.set(kind, effect);
  }

  /** Ends `intent` as done and runs its kind's effect; returns `outcome`. */
  private async finishDone(
    intent: IntentRow,
    outcome: Extract<TxOutcome, { status: "mined" | "already" }>,
    block?: number,
  ): Promise<TxOutcome> {
    const result = outcome.status === "mined" ? "mined" : `already: ${outcome.reason}`;
    this.o.store.finishIntent(intent.id, "done", result, outcome.hash, block);
    const effect = this.effects.get(intent.kind);
    if (effect) {
      try {
        await effect(intent, outcome);
      } catch (e) {
        this.log({
          at: "Keeper#effectFailed",
          key: intent.key,
          error: ((e as Error).message ?? String(e)).slice(0, 300),
        });
      }
    }
    return outcome;
  }

  /** Runs `fn` after every earlier call: one transaction in flight at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Does the work of `req` once: simulated, persisted, sent and waited for (see the file comment). */
  send(req: TxRequest): Promise<TxOutcome> {
    return this.serial(() => this.sendNow(req));
  }

  /** Drives every open intent (left by a crash or a stop) to its end. */
  resume(): Promise<TxOutcome[]> {
    return this.serial(async () => {
      const outcomes: TxOutcome[] = [];
      for (const intent of this.o.store.openIntents()) {
        if (intent.sender.toLowerCase() !== this.address.toLowerCase()) continue;
        this.log({ at: "Keeper#resume", key: intent.key, status: intent.status });
        outcomes.push(await this.drive(intent));
      }
      return outcomes;
    });
  }

  /** Simulates a call from the keeper: the gas estimate, or the decoded revert. */
  async simulate(to: string, data: string): Promise<{ ok: true; gas: bigint } | { ok: false; revert: DecodedRevert }> {
    const tx = { from: this.address, to, data };
    try {
      await this.o.provider.call(tx);
      return { ok: true, gas: await this.o.provider.estimateGas(tx) };
    } catch (e) {
      const revert = decodeRevert(e);
      if (!revert) throw e;
      return { ok: false, revert };
    }
  }

  private async sendNow(req: TxRequest): Promise<TxOutcome> {
    const store = this.o.store;
    let intent = store.intent(req.key);
    if (intent?.status === "done") {
      return intent.outcome === "mined"
        ? { status: "mined", key: req.key, hash: intent.txHash!, block: intent.block ?? 0 }
        : { status: "already", key: req.key, reason: intent.outcome ?? "done", hash: intent.txHash ?? undefined };
    }
    if (intent && intent.status !== "failed") return this.drive(intent);
    // Stopping: no new work is started (the next start derives it again from the chain).
    if (this.stopping) return { status: "pending", key: req.key };

    const sim = await this.simulate(req.to, req.data);
    if (!sim.ok) {
      if (ALREADY_DONE.includes(sim.revert.name)) {
        intent = intent ?? store.createIntent({ ...req, sender: this.address });
        this.log({ at: "Keeper#alreadyDone", key: req.key, reason: sim.revert.message });
        return this.finishDone(intent, { status: "already", key: req.key, reason: sim.revert.message });
      }
      this.log({ at: "Keeper#simulationFailed", key: req.key, reason: sim.revert.message });
      return { status: "failed", key: req.key, reason: sim.revert.message, error: sim.revert };
    }
    if (intent) store.reopenIntent(intent.id, req.data);
    intent = intent ? store.intentById(intent.id)! : store.createIntent({ ...req, sender: this.address });
    return this.drive(intent, gasLimitFor(sim.gas));
  }

  /** The chain's next nonce for the keeper (the larger of latest and pending). */
  private async chainNonce(): Promise<number> {
    const [latest, pending] = await Promise.all([
      this.o.provider.getTransactionCount(this.address, "latest"),
      this.o.provider.getTransactionCount(this.address, "pending"),
    ]);
    return Math.max(latest, pending);
  }

  /** Fees for a new transaction: the network's suggestion, under the cap. */
  private async fees(): Promise<{ maxFee: bigint; maxPriority: bigint }> {
    const data = await this.o.provider.getFeeData();
    let maxFee = data.maxFeePerGas ?? data.gasPrice ?? 1_000_000_000n;
    let maxPriority = data.maxPriorityFeePerGas ?? 1_000_000_000n;
    if (this.o.maxFeePerGas !== undefined && maxFee > this.o.maxFeePerGas) maxFee = this.o.maxFeePerGas;
    if (maxPriority > maxFee) maxPriority = maxFee;
    return { maxFee, maxPriority };
  }

  /** Signs and records (before broadcasting) a transaction of `intent`, then broadcasts it. */
  private async signAndSend(
    intent: IntentRow,
    nonce: number,
    gasLimit: bigint,
    fees: { maxFee: bigint; maxPriority: bigint },
  ): Promise<TxRow> {
    const raw = await this.o.wallet.signTransaction({
      type: 2,
      chainId: this.o.chainId,
      nonce,
      to: intent.to,
      data: intent.data,
      value: 0n,
      gasLimit,
      maxFeePerGas: fees.maxFee,
      maxPriorityFeePerGas: fees.maxPriority,
    });
    const hash = Transaction.from(raw).hash!;
    const row = { hash, nonce, gasLimit, maxFee: fees.maxFee, maxPriority: fees.maxPriority, raw };
    this.o.store.recordTx(intent.id, row);
    this.log({
      at: "Keeper#send",
      key: intent.key,
      hash,
      nonce,
      maxFeePerGas: fees.maxFee.toString(),
      maxPriorityFeePerGas: fees.maxPriority.toString(),
    });
    await this.broadcast(intent.key, hash, raw);
    return { ...row, intentId: intent.id, sentAt: Date.now() };
  }

  /** Broadcasts signed bytes; a node that already has them is fine; other refusals are logged (the wait loop re-checks). */
  private async broadcast(key: string, hash: string, raw: string): Promise<void> {
    this.o.hooks?.beforeBroadcast?.(key, hash);
    try {
      await this.o.provider.send("eth_sendRawTransaction", [raw]);
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      if (!/already known|known transaction|already imported/i.test(message)) {
        this.log({ at: "Keeper#broadcastRefused", key, hash, error: message.slice(0, 300) });
      }
    }
    this.o.hooks?.afterBroadcast?.(key, hash);
  }

  /** Waits for `intent` to be mined, replacing stuck transactions; resolves to how it ended. */
  private async drive(intent: IntentRow, gasLimit?: bigint): Promise<TxOutcome> {
    const store = this.o.store;
    const started = Date.now();
    for (;;) {
      let txs = store.txsOf(intent.id);
      if (txs.length === 0) {
        // Never signed (a crash before the first broadcast, or a new intent).
        const gas = gasLimit ?? (await this.regas(intent));
        if (typeof gas !== "bigint") return gas;
        await this.signAndSend(intent, await this.chainNonce(), gas, await this.fees());
        continue;
      }
      // Mined?
      for (const tx of txs) {
        const receipt = await this.o.provider.getTransactionReceipt(tx.hash);
        if (!receipt) continue;
        if (receipt.status === 1) {
          this.log({ at: "Keeper#mined", key: intent.key, hash: tx.hash, block: receipt.blockNumber });
          const mined = { status: "mined" as const, key: intent.key, hash: tx.hash, block: receipt.blockNumber };
          return this.finishDone(intent, mined, receipt.blockNumber);
        }
        // Reverted on chain (someone was first in the same block, or the state moved): why, now?
        const sim = await this.simulate(intent.to, intent.data);
        if (!sim.ok && ALREADY_DONE.includes(sim.revert.name)) {
          this.log({ at: "Keeper#alreadyDone", key: intent.key, hash: tx.hash, reason: sim.revert.message });
          const already = { status: "already" as const, key: intent.key, reason: sim.revert.message, hash: tx.hash };
          return this.finishDone(intent, already, receipt.blockNumber);
        }
        const reason = sim.ok ? "reverted on chain (the simulation passes now)" : sim.revert.message;
        store.finishIntent(intent.id, "failed", reason, tx.hash, receipt.blockNumber);
        this.log({ at: "Keeper#reverted", key: intent.key, hash: tx.hash, reason });
        return { status: "failed", key: intent.key, reason };
      }
      const latest = txs[txs.length - 1];
      const chainLatest = await this.o.provider.getTransactionCount(this.address, "latest");
      if (chainLatest > latest.nonce) {
        // The nonce was used, but none of our hashes is mined: re-check once (a receipt may have landed
        // between the two reads), then re-derive whether the work remains.
        const again = await Promise.all(txs.map((t) => this.o.provider.getTransactionReceipt(t.hash)));
        if (again.some((r) => r)) continue;
        this.log({ at: "Keeper#nonceUsed", key: intent.key, nonce: latest.nonce });
        const gas = await this.regas(intent);
        if (typeof gas !== "bigint") return gas;
        await this.signAndSend(intent, await this.chainNonce(), gas, await this.fees());
        continue;
      }
      // Known to the node? If not (dropped, or never broadcast before a crash), send the same bytes again.
      const known = await this.o.provider.send("eth_getTransactionByHash", [latest.hash]);
      if (!known) {
        this.log({ at: "Keeper#rebroadcast", key: intent.key, hash: latest.hash, nonce: latest.nonce });
        store.touchTx(latest.hash);
        await this.broadcast(intent.key, latest.hash, latest.raw);
        txs = store.txsOf(intent.id);
      } else if (Date.now() - latest.sentAt >= this.o.txTimeoutMs) {
        await this.replace(intent, latest);
      }
      if (this.stopping || Date.now() - started > this.maxWaitMs) {
        this.log({ at: "Keeper#stillPending", key: intent.key, hash: latest.hash });
        return { status: "pending", key: intent.key, hash: latest.hash };
      }
      await sleep(this.pollMs);
    }
  }

  /** Re-simulates an intent whose transaction must be signed anew: its gas limit, or how it ended. */
  private async regas(intent: IntentRow): Promise<bigint | TxOutcome> {
    const sim = await this.simulate(intent.to, intent.data);
    if (sim.ok) return gasLimitFor(sim.gas);
    if (ALREADY_DONE.includes(sim.revert.name)) {
      this.log({ at: "Keeper#alreadyDone", key: intent.key, reason: sim.revert.message });
      return this.finishDone(intent, { status: "already", key: intent.key, reason: sim.revert.message });
    }
    this.o.store.finishIntent(intent.id, "failed", sim.revert.message);
    this.log({ at: "Keeper#simulationFailed", key: intent.key, reason: sim.revert.message });
    return { status: "failed", key: intent.key, reason: sim.revert.message, error: sim.revert };
  }

  /** Replaces a stuck transaction with the same nonce and both fees raised (within the cap). */
  private async replace(intent: IntentRow, stuck: TxRow): Promise<void> {
    const p = this.o.feeBumpPercent;
    const current = await this.fees();
    let maxFee = bumped(stuck.maxFee, p);
    let maxPriority = bumped(stuck.maxPriority, p);
    if (current.maxFee > maxFee) maxFee = current.maxFee;
    if (current.maxPriority > maxPriority) maxPriority = current.maxPriority;
    const cap = this.o.maxFeePerGas;
    if (cap !== undefined && maxFee > cap) maxFee = cap;
    if (maxPriority > maxFee) maxPriority = maxFee;
    if (maxFee < bumped(stuck.maxFee, 10) || maxPriority < bumped(stuck.maxPriority, 10)) {
      // A replacement below +10% is refused by nodes: keep waiting at the cap.
      this.log({
        at: "Keeper#feeCapReached",
        key: intent.key,
        hash: stuck.hash,
        maxFeePerGas: stuck.maxFee.toString(),
        cap: cap?.toString(),
        fix: `raise maxFeePerGasGwei (env ${ENV.maxFeePerGasGwei}) to pay more, or wait for fees to fall`,
      });
      this.o.store.touchTx(stuck.hash);
      return;
    }
    this.log({ at: "Keeper#replace", key: intent.key, stuck: stuck.hash, nonce: stuck.nonce });
    await this.signAndSend(intent, stuck.nonce, stuck.gasLimit, { maxFee, maxPriority });
  }
}
