/**
 * Report relay: for each ended epoch not yet on chain, gather every checker's signed report, verify
 * each signature locally exactly as `ReportOracle.submitReport` will (EIP-712 digest under
 * `reportDomain(chainId, oracle)`, low s, recovers to the operator it names, operator in the current
 * set, current config version, total within the epoch budget), group by digest, require a quorum of
 * distinct operators, fetch the tree and check that it rebuilds to the root with leaves summing to the
 * report's total (within the budget), store the tree and proofs, then submit through the tx sender.
 *
 * An operator that signed two different reports of one epoch (seen now or earlier: every valid
 * signature is stored) is proven to equivocate through `ReportOracle.proveEquivocation`.
 *
 * Catch-up rule (docs/threats.md K17): epochs are submitted in order. The oracle refuses an epoch older than
 * the last reported one, so an epoch still without quorum holds the later ones back for
 * `holdEpochs` epochs after its end; after that it is skipped (its rewards are lost, the later ones paid).
 * Catching up after an outage starts at the epoch after the last reported one, never further on: an
 * old epoch that a quorum signed is submitted however far behind it is. A pass gathers at most
 * `maxCatchUp` epochs; an old one without quorum is set aside (logged once) and gathered again only
 * `RETRY_PASSES` passes later, so a long run of unsigned epochs cannot stall the catch-up, and an epoch
 * whose signatures come late is still submitted unless a later one got there first.
 */
import { Signature, TypedDataEncoder, ZeroAddress, getAddress, recoverAddress, AbiCoder, keccak256 } from "ethers";
import {
  buildRewardTreeFast,
  JsonShapeError,
  leafReward,
  leafToJson,
  packSignatures,
  reportDomain,
  reportFromJson,
  reportToJson,
  REPORT_TYPES,
  signedReportFromJson,
  treeFromJson,
  type Report,
  type TreeLeaf,
} from "@kaisar/offchain";

import { epochAt, type EpochSchedule } from "../chain/chainClock";
import type { KaisarContracts } from "../chain/contracts";
import { readEpochClock } from "../chain/epochContext";
import { chainReportFromEvent, type KeeperStore, type SubmitReportArgs } from "./store";
import type { TxLogEntry, TxOutcome, TxSender } from "./tx";

/** secp256k1n / 2: a signature with a larger s is refused by the oracle (malleable). */
export const HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

export interface ChainView {
  chainId: number;
  oracle: string;
  version: bigint;
  quorum: number;
  lastEpoch: bigint;
  anyReport: boolean;
  /**
   * `ReportOracle.checkers()`: sorted, checksummed, in signer index order. An operator excluded
   * from the set (`excludeOperator`, or proven to equivocate) is the zero address there: kept, so
   * that the others' indexes stay those the oracle checks signatures against.
   */
  checkers: string[];
  /** The epoch running now (by the latest block's time). */
  currentEpoch: bigint;
}

/** Why a checker's answer was not counted. */
export type Rejection =
  | "unreachable"
  | "not-ready"
  | "malformed"
  | "wrong-epoch"
  | "bad-signature"
  | "high-s"
  | "wrong-signer"
  | "unknown-signer"
  | "wrong-config-version"
  | "zero-root"
  | "over-budget";

export interface CheckerAnswer {
  url: string;
  signer?: string;
  digest?: string;
  rejected?: Rejection;
  detail?: string;
}

export interface Gathered {
  epoch: bigint;
  budget: bigint;
  answers: CheckerAnswer[];
  /** Accepted signatures by digest. */
  groups: Map<string, { report: Report; signed: { signer: string; signature: string; url: string }[] }>;
  /** The group with a quorum, if any. */
  quorum?: { digest: string; report: Report; signed: { signer: string; signature: string; url: string }[] };
}

export type EpochResult =
  | { epoch: bigint; status: "submitted" | "already-on-chain"; root: string; outcome?: TxOutcome }
  | { epoch: bigint; status: "no-quorum" | "refused" | "failed" | "pending"; reason: string };

export interface ReportRelayOptions {
  /** Contracts connected to the keeper's read provider. */
  contracts: KaisarContracts;
  chainId: number;
  checkers: string[];
  store: KeeperStore;
  sender: TxSender;
  /** Per-request timeout for checker APIs, ms. */
  fetchTimeoutMs?: number;
  /** Epochs an epoch without quorum holds later ones back (default 2). */
  holdEpochs?: number;
  /** Most epochs looked at per pass (default 16). */
  maxCatchUp?: number;
  log?: (entry: TxLogEntry) => void;
}

const coder = AbiCoder.defaultAbiCoder();

/** What a report says, without its config version (as `ReportOracle._contentHash`). */
export function contentHash(r: Report): string {
  return keccak256(
    coder.encode(
      ["uint256", "bytes32", "uint256", "uint256", "uint256", "uint256"],
      [r.epoch, r.root, r.nodeCount, r.totalReward, r.totalCapacityPoints, r.totalDeliveryPoints],
    ),
  );
}

/**
 * Recovers a 65-byte signature as the oracle does: refuses a high s and v other than 27/28 (0/1
 * accepted as 27/28, as signers emit both). Returns the signer or a rejection.
 */
export function recoverReportSigner(
  digest: string,
  signature: string,
): { signer: string } | { rejected: "bad-signature" | "high-s"; detail: string } {
  const hex = signature.slice(2);
  if (hex.length !== 130) return { rejected: "bad-signature", detail: "not 65 bytes" };
  const r = "0x" + hex.slice(0, 64);
  const s = "0x" + hex.slice(64, 128);
  let v = parseInt(hex.slice(128, 130), 16);
  if (v < 27) v += 27;
  if (BigInt(s) > HALF_CURVE_ORDER) return { rejected: "high-s", detail: "s above secp256k1n/2 (malleable)" };
  if (v !== 27 && v !== 28) return { rejected: "bad-signature", detail: `v = ${v}` };
  try {
    return { signer: recoverAddress(digest, Signature.from({ r, s, v })) };
  } catch (e) {
    return { rejected: "bad-signature", detail: (e as Error).message.slice(0, 120) };
  }
}

async function fetchJson(url: string, timeoutMs: number): Promise<{ status: number; body?: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) return { status: response.status };
  return { status: response.status, body: await response.json() };
}

/** The report relay (see the file comment). */
/** Passes an old epoch found without quorum waits before it is gathered again. */
const RETRY_PASSES = 20;

export class ReportRelay {
  private readonly fetchTimeoutMs: number;
  private readonly log: (entry: TxLogEntry) => void;
  readonly oracle: string;
  /** The oracle's epoch schedule (immutable), read once. */
  private schedule: Promise<EpochSchedule> | undefined;

  /** Old epochs found without quorum (see the catch-up rule), with the pass that set each aside. */
  private readonly setAside = new Map<bigint, number>();
  private passes = 0;

  constructor(private readonly o: ReportRelayOptions) {
    this.fetchTimeoutMs = o.fetchTimeoutMs ?? 10_000;
    this.log = o.log ?? (() => {});
    this.oracle = o.contracts.ReportOracle.target as string;
    // One path for a mined report, whether this relay saw it mined or the sender's resume found it.
    o.sender.onDone("report", async (intent, outcome) => {
      await this.recordOnChain(
        BigInt(intent.key.slice("report:".length)),
        outcome.status === "mined" ? outcome.hash : null,
      );
    });
  }

  /** Records `epoch` as on chain (its stored tree, when its root is the chain's): the effect of a done report. */
  async recordOnChain(epoch: bigint, txHash: string | null): Promise<string> {
    const oracle = this.o.contracts.ReportOracle;
    const root = await oracle.reportRoot(epoch);
    if (BigInt(root) === 0n) return root;
    this.adopt(epoch, root, txHash);
    // The event as the reconcile pass would read it (its block decides when the report is final).
    const receipt = txHash ? await oracle.runner!.provider!.getTransactionReceipt(txHash) : null;
    for (const entry of receipt?.logs ?? []) {
      if (entry.address.toLowerCase() !== this.oracle.toLowerCase()) continue;
      const e = oracle.interface.parseLog(entry);
      if (e?.name !== "SubmitReport") continue;
      this.o.store.recordChainReport(
        chainReportFromEvent(e.args as unknown as SubmitReportArgs, receipt!.hash, receipt!.blockNumber),
      );
    }
    this.log({ at: "Keeper#reportOnChain", epoch: epoch.toString(), root, txHash });
    return root;
  }

  /** The oracle's state and the epoch running now. */
  async view(): Promise<ChainView> {
    const oracle = this.o.contracts.ReportOracle;
    const provider = oracle.runner!.provider!;
    const [config, checkers, block, schedule] = await Promise.all([
      oracle.config(),
      oracle.checkers(),
      provider.getBlock("latest"),
      (this.schedule ??= readEpochClock(this.o.contracts).catch((e: unknown) => {
        this.schedule = undefined; // read again next time
        throw e;
      })),
    ]);
    return {
      chainId: this.o.chainId,
      oracle: this.oracle,
      version: config.version,
      quorum: Number(config.quorum),
      lastEpoch: config.lastEpoch,
      anyReport: config.anyReport,
      checkers: checkers.map((c) => getAddress(c)),
      // The checkers' epoch arithmetic (chain/chainClock.ts), on the latest block's time: what the oracle goes by.
      currentEpoch: BigInt(epochAt(schedule, block!.timestamp)),
    };
  }

  /** Ended epochs the oracle would still take, oldest first (at most `maxCatchUp`). */
  async pendingEpochs(view?: ChainView): Promise<bigint[]> {
    const v = view ?? (await this.view());
    const max = this.o.maxCatchUp ?? 16;
    const epochs: bigint[] = [];
    for (let e = v.anyReport ? v.lastEpoch + 1n : 0n; e < v.currentEpoch && epochs.length < max; e++) {
      const at = this.setAside.get(e);
      if (at === undefined || this.passes - at >= RETRY_PASSES) epochs.push(e);
    }
    return epochs;
  }

  /** Fetches and verifies every checker's report of `epoch` (storing each valid signature). */
  async gather(epoch: bigint, view?: ChainView): Promise<Gathered> {
    const v = view ?? (await this.view());
    const budget = await this.o.contracts.ReportOracle.epochBudget(epoch);
    const domain = reportDomain(v.chainId, v.oracle);
    // Tombstones (excluded operators) are no one's: no signature recovers to the zero address.
    const members = new Set(v.checkers.filter((c) => c !== ZeroAddress).map((c) => c.toLowerCase()));
    const answers = await Promise.all(
      this.o.checkers.map(async (base): Promise<CheckerAnswer & { report?: Report; signature?: string }> => {
        const url = `${base.replace(/\/+$/, "")}/epochs/${epoch}/report`;
        let raw: { status: number; body?: unknown };
        try {
          raw = await fetchJson(url, this.fetchTimeoutMs);
        } catch (e) {
          return { url: base, rejected: "unreachable", detail: (e as Error).message };
        }
        if (raw.body === undefined) return { url: base, rejected: "not-ready", detail: `HTTP ${raw.status}` };
        let signed;
        try {
          signed = signedReportFromJson(raw.body);
        } catch (e) {
          if (e instanceof JsonShapeError) return { url: base, rejected: "malformed", detail: e.message };
          throw e;
        }
        const { report, signature, signer } = signed;
        if (report.epoch !== epoch) {
          return { url: base, signer, rejected: "wrong-epoch", detail: `report of epoch ${report.epoch}` };
        }
        const digest = TypedDataEncoder.hash(domain, REPORT_TYPES, report);
        const recovered = recoverReportSigner(digest, signature);
        if ("rejected" in recovered) return { url: base, signer, digest, ...recovered };
        if (recovered.signer.toLowerCase() !== signer.toLowerCase()) {
          return { url: base, signer, digest, rejected: "wrong-signer", detail: `recovers to ${recovered.signer}` };
        }
        // A valid signature: kept even if the report is refused below (evidence of equivocation).
        this.o.store.recordSignature({
          epoch: Number(epoch),
          signer,
          digest,
          content: contentHash(report),
          report: JSON.stringify(reportToJson(report)),
          signature,
          source: base,
        });
        if (!members.has(signer.toLowerCase())) {
          const detail = "not in ReportOracle.checkers() (never, or excluded from the set)";
          return { url: base, signer, digest, rejected: "unknown-signer", detail };
        }
        if (report.configVersion !== v.version) {
          const detail = `signed for config ${report.configVersion}, current ${v.version}`;
          return { url: base, signer, digest, rejected: "wrong-config-version", detail };
        }
        if (BigInt(report.root) === 0n) return { url: base, signer, digest, rejected: "zero-root" };
        if (report.totalReward > budget) {
          const detail = `totalReward ${report.totalReward} > epochBudget ${budget}`;
          return { url: base, signer, digest, rejected: "over-budget", detail };
        }
        return { url: base, signer, digest, report, signature };
      }),
    );
    const groups: Gathered["groups"] = new Map();
    for (const a of answers) {
      if (a.rejected || !a.report) continue;
      const g = groups.get(a.digest!) ?? { report: a.report, signed: [] };
      if (!g.signed.some((s) => s.signer.toLowerCase() === a.signer!.toLowerCase())) {
        g.signed.push({ signer: a.signer!, signature: a.signature!, url: a.url });
      }
      groups.set(a.digest!, g);
    }
    let quorum: Gathered["quorum"];
    for (const [digest, g] of groups) {
      if (g.signed.length >= v.quorum && (!quorum || g.signed.length > quorum.signed.length)) {
        quorum = { digest, ...g };
      }
    }
    const summary = answers.map(({ url, signer, digest, rejected, detail }) => ({
      url,
      signer,
      digest,
      rejected,
      detail,
    }));
    for (const a of summary) {
      if (a.rejected && a.rejected !== "not-ready") {
        this.log({ at: "Keeper#reportRejected", epoch: epoch.toString(), ...a });
      }
    }
    return { epoch, budget, answers: summary, groups, quorum };
  }

  /** Fetches the tree of `report` from the checkers that signed it and checks it; the leaves, or why not. */
  async fetchTree(
    report: Report,
    budget: bigint,
    urls: string[],
  ): Promise<{ leaves: TreeLeaf[]; proofs: string[][] } | { reason: string }> {
    let reason = "no checker served the tree";
    for (const base of urls) {
      try {
        const raw = await fetchJson(`${base.replace(/\/+$/, "")}/epochs/${report.epoch}/tree`, this.fetchTimeoutMs);
        if (raw.body === undefined) {
          reason = `${base}: HTTP ${raw.status}`;
          continue;
        }
        const tree = treeFromJson(raw.body);
        const leaves = tree.leaves.map((l) => l.leaf);
        if (leaves.length === 0) throw new JsonShapeError("the tree has no leaves");
        const bad = leaves.findIndex((l) => l.epoch !== report.epoch);
        if (bad >= 0) throw new JsonShapeError(`leaf ${bad} is of epoch ${leaves[bad].epoch}`);
        const built = buildRewardTreeFast(leaves);
        if (built.root.toLowerCase() !== report.root.toLowerCase()) {
          throw new JsonShapeError(`the leaves rebuild to ${built.root}, not the signed root ${report.root}`);
        }
        const sum = leaves.reduce((s, l) => s + leafReward(l), 0n);
        if (sum > budget) {
          return { reason: `the leaves pay ${sum} in all, above epochBudget ${budget}: refused` };
        }
        if (sum !== report.totalReward) {
          throw new JsonShapeError(`the leaves pay ${sum} in all, the report says ${report.totalReward}`);
        }
        const nodes = BigInt(leaves.filter((l) => l.kind === 0).length);
        if (nodes !== report.nodeCount) {
          throw new JsonShapeError(`${nodes} node leaves, the report says ${report.nodeCount}`);
        }
        return { leaves: tree.leaves, proofs: leaves.map((_, i) => built.proof(i)) };
      } catch (e) {
        reason = `${base}: ${(e as Error).message}`;
        this.log({ at: "Keeper#treeRejected", epoch: report.epoch.toString(), url: base, reason });
      }
    }
    return { reason };
  }

  /**
   * The licenses a proof against `operator` may suspend: those delegated to it now, or whose last
   * departure was from it (`CheckerLicense.departureOf`; the oracle checks the time). Found from
   * the `Delegate` events naming it. None when the chain cannot say: the proof still slashes.
   */
  async licensesToSuspend(operator: string): Promise<bigint[]> {
    const license = this.o.contracts.CheckerLicense;
    try {
      const ids = new Set<bigint>();
      for (const e of await license.queryFilter(license.filters.Delegate(undefined, undefined, operator))) {
        ids.add(BigInt(e.args.tokenId));
      }
      const out: bigint[] = [];
      for (const id of [...ids].sort((a, b) => (a < b ? -1 : 1))) {
        const [current, [former], suspended] = await Promise.all([
          license.operatorOf(id),
          license.departureOf(id),
          license.isSuspended(id),
        ]);
        const mine = (a: string) => a.toLowerCase() === operator.toLowerCase();
        if (!suspended && (mine(current) || mine(former))) out.push(id);
      }
      return out;
    } catch (e) {
      this.log({ at: "Keeper#equivocationLicenses", operator, error: (e as Error).message.slice(0, 200) });
      return [];
    }
  }

  /** Proves every equivocation seen in `epoch` (one operator, two different signed contents). */
  async proveEquivocations(epoch: bigint): Promise<TxOutcome[]> {
    const bySigner = new Map<string, { report: string; signature: string; content: string }[]>();
    for (const s of this.o.store.signaturesOf(Number(epoch))) {
      const list = bySigner.get(s.signer) ?? [];
      if (!list.some((x) => x.content === s.content)) list.push(s);
      bySigner.set(s.signer, list);
    }
    const outcomes: TxOutcome[] = [];
    for (const [signer, list] of bySigner) {
      if (list.length < 2) continue;
      const [a, b] = list;
      const oracle = this.o.contracts.ReportOracle;
      const data = oracle.interface.encodeFunctionData("proveEquivocation", [
        reportFromJson(JSON.parse(a.report)),
        a.signature,
        reportFromJson(JSON.parse(b.report)),
        b.signature,
        await this.licensesToSuspend(signer),
      ]);
      this.log({ at: "Keeper#equivocation", epoch: epoch.toString(), operator: signer });
      outcomes.push(
        await this.o.sender.send({
          kind: "equivocation",
          key: `equivocation:${epoch}:${signer.toLowerCase()}`,
          contract: "ReportOracle",
          to: this.oracle,
          data,
        }),
      );
    }
    return outcomes;
  }

  /** Gathers, verifies and submits the report of `epoch` (once: keyed "report:<epoch>"). */
  async submitEpoch(epoch: bigint, view?: ChainView): Promise<EpochResult> {
    const v = view ?? (await this.view());
    const oracle = this.o.contracts.ReportOracle;
    const onChain = await oracle.reportRoot(epoch);
    if (BigInt(onChain) !== 0n) {
      this.adopt(epoch, onChain, null);
      return { epoch, status: "already-on-chain", root: onChain };
    }
    if (epoch >= v.currentEpoch) return { epoch, status: "refused", reason: `epoch ${epoch} has not ended` };
    const gathered = await this.gather(epoch, v);
    await this.proveEquivocations(epoch);
    if (!gathered.quorum) {
      const best = Math.max(0, ...[...gathered.groups.values()].map((g) => g.signed.length));
      return {
        epoch,
        status: "no-quorum",
        reason: `${best} matching valid signatures of ${v.quorum} needed (${gathered.answers.length} checkers asked)`,
      };
    }
    const { report, signed } = gathered.quorum;
    const tree = await this.fetchTree(
      report,
      gathered.budget,
      signed.map((s) => s.url),
    );
    if ("reason" in tree) return { epoch, status: "refused", reason: tree.reason };
    this.o.store.recordTree(
      Number(epoch),
      report.root,
      JSON.stringify(reportToJson(report)),
      signed.map((s) => s.signer),
      tree.leaves.map((l, i) => ({
        kind: l.leaf.kind,
        account: l.leaf.account,
        nodeId: l.leaf.id.toString(),
        leaf: JSON.stringify(leafToJson(l.leaf, l.metrics)),
        proof: tree.proofs[i],
      })),
    );
    const signatures = packSignatures(v.checkers, signed);
    const outcome = await this.o.sender.send({
      kind: "report",
      key: `report:${epoch}`,
      contract: "ReportOracle",
      to: this.oracle,
      data: oracle.interface.encodeFunctionData("submitReport", [report, signatures]),
    });
    if (outcome.status === "mined" || outcome.status === "already") {
      // Recorded by the sender's effect for "report" (see the constructor).
      const root = await oracle.reportRoot(epoch);
      return { epoch, status: outcome.status === "mined" ? "submitted" : "already-on-chain", root, outcome };
    }
    if (outcome.status === "pending") return { epoch, status: "pending", reason: "transaction in flight" };
    return { epoch, status: "failed", reason: outcome.reason };
  }

  /** Marks our stored tree as the one on chain when its root is the chain's. */
  adopt(epoch: bigint, root: string, txHash: string | null): void {
    const mine = this.o.store.report(Number(epoch));
    if (!mine) return;
    if (mine.root.toLowerCase() !== root.toLowerCase()) {
      this.log({ at: "Keeper#rootMismatch", epoch: epoch.toString(), chain: root, ours: mine.root });
      return;
    }
    if (mine.status !== "onchain") this.o.store.markOnChain(Number(epoch), txHash);
  }

  /**
   * One pass: every pending epoch in order (see the catch-up rule). Returns what happened to each epoch
   * looked at.
   */
  async tick(): Promise<EpochResult[]> {
    this.passes++;
    const v = await this.view();
    for (const e of this.setAside.keys()) if (v.anyReport && e <= v.lastEpoch) this.setAside.delete(e);
    const results: EpochResult[] = [];
    const hold = BigInt(this.o.holdEpochs ?? 2);
    for (const epoch of await this.pendingEpochs(v)) {
      const result = await this.submitEpoch(epoch, v);
      results.push(result);
      if (result.status === "submitted" || result.status === "already-on-chain") continue;
      // An epoch still without its report holds later ones back while it is recent.
      if (v.currentEpoch - epoch <= hold) break;
      if (result.status === "no-quorum") {
        if (!this.setAside.has(epoch)) {
          this.log({
            at: "Keeper#epochSetAside",
            epoch: epoch.toString(),
            reason: result.reason,
            retryInPasses: RETRY_PASSES,
          });
        }
        this.setAside.set(epoch, this.passes);
      }
    }
    return results;
  }
}
