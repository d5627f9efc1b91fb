import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Wallet, getAddress, verifyTypedData } from "ethers";
import {
  REPORT_TYPES,
  buildRewardTreeFast,
  checkerMetricsHash,
  packSignatures,
  reportDomain,
  reportToJson,
  treeFromJson,
} from "@kaisar/offchain";

import type { CheckerConfig } from "../src/config/load";
import { apiHandler } from "../src/checker/api";
import { startChecker } from "../src/checker/run";
import {
  BUNDLE_TYPE,
  BundleError,
  bundleMessage,
  epochResultView,
  finalizeEpoch,
  freezeOwnBundle,
  signBundle,
  verifyBundle,
  type EpochResult,
  type FinalizeOptions,
  type SignedBundle,
} from "../src/checker/exchange";
import { openStore, type CheckerStore } from "../src/checker/store";
import { canonicalJson } from "../src/scoring/canonical";
import { DEFAULT_SCORING_PARAMS, type NodeObservation } from "../src/scoring/types";
import {
  CHAIN_ID,
  PROVIDER,
  STRANGER,
  freePort,
  garbageAgent,
  hangingAgent,
  honestAgent,
  nodeAt,
  serve,
  sleep,
  type FakeServer,
} from "./helpers/checkerFakes";

const EPOCH = 5;
const T = 1_700_000_000_000;
const ORACLE = getAddress("0x" + "0c".repeat(20));
const DOMAIN = reportDomain(CHAIN_ID, ORACLE);
const NODE_IDS = [1, 2, 3, 4];
const NODES = NODE_IDS.map((id) => nodeAt(id, `http://10.0.0.${id}:8550`));
/** Epoch 5: 10 minutes from T, heartbeats each minute (10 expected, as `recordEpoch` takes). */
const START = T / 1000;
const WINDOW = { from: START, to: START + 600, heartbeatSeconds: 60 };
const EPOCH_NODES = NODE_IDS.map((nodeId) => ({
  nodeId,
  provider: PROVIDER.address,
  deliveredGpuSeconds: 3_600n,
  feesKai: 10n ** 18n,
  eligibleSince: BigInt(START - 1),
}));
const BUDGET = 1_000_000n * 10n ** 18n;
// Two observers are enough to score a node, so that leaving one checker out still scores every node.
const PARAMS = { ...DEFAULT_SCORING_PARAMS, minObservations: 2 };
const CONFIG_VERSION = 3n;

// Three checkers that measured the same samples, and a fourth whose heartbeats of nodes 1 and 2 all failed.
const A = new Wallet("0x" + "a1".repeat(32));
const B = new Wallet("0x" + "b2".repeat(32));
const C = new Wallet("0x" + "c3".repeat(32));
const D = new Wallet("0x" + "d4".repeat(32));
const WALLETS = [A, B, C, D];
const CHECKER_SET = WALLETS.map((w) => w.address).sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1));
const LICENSES = new Map(WALLETS.map((w, i) => [w.address, BigInt(i + 1)]));

/** GET `url`: status and parsed body, on a connection of its own. */
function get(url: string): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode!, text, body: JSON.parse(text) }));
      })
      .on("error", reject);
  });
}

/** An epoch of samples: 10 heartbeats, a bandwidth test, a challenge and a hardware check per node. */
function recordEpoch(store: CheckerStore, epoch: number, downNodes: readonly number[] = []): void {
  for (const nodeId of NODE_IDS) {
    for (let i = 0; i < 10; i++) {
      const ok = !downNodes.includes(nodeId);
      store.recordSample({ epoch, nodeId, kind: "heartbeat", at: T + i * 60_000, ok, latencyMs: 2 });
    }
    store.recordSample({ epoch, nodeId, kind: "bandwidth", at: T + 1, ok: true, latencyMs: 50, mbps: 900 + nodeId });
    store.recordSample({
      epoch,
      nodeId,
      kind: "challenge",
      at: T + 2,
      ok: true,
      latencyMs: 5,
      n: 64,
      elapsedMs: 4 + nodeId,
      passed: true,
    });
    store.recordSample({ epoch, nodeId, kind: "hardware", at: T + 3, ok: true, latencyMs: 3, match: true });
  }
}

interface TestChecker {
  wallet: Wallet;
  file: string;
  store: CheckerStore;
  handler: http.RequestListener;
  server: FakeServer;
}

/** Serves `handler`, each answer `delayMs` late. */
function serveDelayed(handler: http.RequestListener, delayMs: number): Promise<FakeServer> {
  return serve((req, res) => setTimeout(() => handler(req, res), delayMs));
}

describe("checker epoch-end exchange", () => {
  let dir: string;
  let checkers: TestChecker[];
  const extra: FakeServer[] = [];

  const handlerOf = (wallet: Wallet, store: CheckerStore) =>
    apiHandler({
      store,
      nodes: () => NODES,
      epochOf: () => EPOCH + 1,
      checker: wallet.address,
      observations: (epoch) =>
        freezeOwnBundle(store, wallet, { epoch, chainId: CHAIN_ID, oracle: ORACLE, nodes: NODES, window: WINDOW }),
      report: (epoch) => {
        const r = store.epochResult(epoch);
        return r && epochResultView(r);
      },
    });

  const startTestChecker = async (wallet: Wallet, downNodes: number[] = []): Promise<TestChecker> => {
    const file = path.join(dir, `${wallet.address}.sqlite`);
    const store = openStore(file);
    recordEpoch(store, EPOCH, downNodes);
    const handler = handlerOf(wallet, store);
    return { wallet, file, store, handler, server: await serve(handler) };
  };

  /** Another server for `c`'s API, answering `delayMs` late (a different arrival order per asker). */
  const mirror = async (c: TestChecker, delayMs: number) => {
    const s = await serveDelayed(c.handler, delayMs);
    extra.push(s);
    return s.url;
  };
  const fake = async (handler: http.RequestListener) => {
    const s = await serve(handler);
    extra.push(s);
    return s;
  };

  const options = (c: TestChecker, peers: string[], more: Partial<FinalizeOptions> = {}): FinalizeOptions => ({
    epoch: EPOCH,
    ownBundle: freezeOwnBundle(c.store, c.wallet, {
      epoch: EPOCH,
      chainId: CHAIN_ID,
      oracle: ORACLE,
      nodes: NODES,
      window: WINDOW,
    }),
    peers,
    checkerSet: CHECKER_SET,
    licenses: LICENSES,
    configVersion: CONFIG_VERSION,
    domain: DOMAIN,
    budget: BUDGET,
    epochStart: BigInt(WINDOW.from),
    epochEnd: BigInt(WINDOW.to),
    params: PARAMS,
    nodes: EPOCH_NODES,
    signer: c.wallet,
    store: c.store,
    fetch: { timeoutMs: 2_000, waitMs: 5_000, retryMs: 50 },
    ...more,
  });

  const peersOf = (c: TestChecker) => checkers.filter((x) => x !== c).map((x) => x.server.url);

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-exchange-"));
    checkers = [await startTestChecker(A), await startTestChecker(B), await startTestChecker(C)];
    checkers.push(await startTestChecker(D, [1, 2]));
  });

  afterEach(async () => {
    for (const s of extra.splice(0)) await s.close();
    for (const c of checkers) {
      await c.server.close();
      c.store.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  describe("signed observation bundles", () => {
    const expected = { epoch: EPOCH, chainId: CHAIN_ID, oracle: ORACLE, checkers: CHECKER_SET };
    let signed: SignedBundle;
    beforeEach(() => {
      signed = freezeOwnBundle(checkers[0].store, A, {
        epoch: EPOCH,
        chainId: CHAIN_ID,
        oracle: ORACLE,
        nodes: NODES,
        window: WINDOW,
      });
    });
    const problem = (raw: unknown, exp = expected): [string, string] => {
      try {
        verifyBundle(raw, exp);
      } catch (e) {
        if (e instanceof BundleError) return [e.problem, e.message];
        throw e;
      }
      throw new Error("verified");
    };
    const withObservation = (i: number, change: Record<string, unknown>) => {
      const bundle = structuredClone(signed.bundle) as unknown as { observations: Record<string, unknown>[] };
      bundle.observations[i] = { ...bundle.observations[i], ...change };
      return bundle;
    };
    /** `bundle` signed properly by `wallet` (its shape may be wrong: the verifier must still say what). */
    const resign = async (bundle: unknown, wallet = A) => ({
      bundle,
      signature: await wallet.signMessage(canonicalJson(bundle as never)),
    });

    it("with watchedFromStart, signs no observation of a node it was not probing when the epoch began", () => {
      const store = openStore(path.join(dir, "watched.sqlite"));
      try {
        recordEpoch(store, EPOCH, [1, 2]); // nodes 1 and 2 down all epoch long, as a checker started late sees them
        // Node 3 was probed in the epoch before too; nodes 1 and 2 were not.
        store.recordSample({ epoch: EPOCH - 1, nodeId: 3, kind: "heartbeat", at: T - 1, ok: true, latencyMs: 2 });
        const fields = {
          epoch: EPOCH,
          chainId: CHAIN_ID,
          oracle: ORACLE,
          nodes: NODES,
          watchedFromStart: true,
          window: WINDOW,
        };
        const signed = freezeOwnBundle(store, A, fields);
        expect(signed.bundle.observations.map((o) => o.nodeId)).to.deep.equal([3]);
      } finally {
        store.close();
      }
    });

    it("signs the canonical JSON of the bundle with EIP-191, observations by node id", async () => {
      expect(signed.bundle, "fields").to.deep.include({
        type: BUNDLE_TYPE,
        epoch: EPOCH,
        chainId: CHAIN_ID,
        oracle: ORACLE.toLowerCase(),
        checker: A.address.toLowerCase(),
      });
      expect(
        signed.bundle.observations.map((o) => o.nodeId),
        "node order",
      ).to.deep.equal(NODE_IDS);
      expect(signed.signature, "as Wallet.signMessage").to.equal(await A.signMessage(bundleMessage(signed.bundle)));
      expect(verifyBundle(JSON.parse(JSON.stringify(signed)), expected), "verifies").to.deep.equal(signed);
    });

    it("freezes a bundle: asked again after more samples, it answers the same bytes", () => {
      checkers[0].store.recordSample({
        epoch: EPOCH,
        nodeId: 1,
        kind: "heartbeat",
        at: T + 5,
        ok: false,
        latencyMs: 1,
      });
      const again = freezeOwnBundle(checkers[0].store, A, {
        epoch: EPOCH,
        chainId: CHAIN_ID,
        oracle: ORACLE,
        nodes: NODES,
        window: WINDOW,
      });
      expect(canonicalJson(again as never), "same bundle").to.equal(canonicalJson(signed as never));
    });

    it("rejects a bundle signed by another key than the checker it names", async () => {
      const [p, m] = problem(await resign(signed.bundle, B));
      expect(p, "problem").to.equal("wrong-signer");
      expect(m, "message").to.include(`signed by ${B.address}`);
      const tampered = { bundle: withObservation(0, { uptimeBps: 0 }), signature: signed.signature };
      expect(problem(tampered)[0], "tampered observation").to.equal("wrong-signer");
      expect(problem({ ...signed, signature: "0x1234" })[0], "not a signature").to.equal("bad-signature");
    });

    it("rejects a bundle of another epoch, chain or oracle", () => {
      expect(problem(signed, { ...expected, epoch: EPOCH + 1 }), "epoch").to.deep.equal([
        "wrong-epoch",
        `the bundle is for epoch ${EPOCH}, not ${EPOCH + 1}`,
      ]);
      expect(problem(signed, { ...expected, chainId: 9990 })[0], "chain").to.equal("wrong-chain");
      expect(problem(signed, { ...expected, oracle: "0x" + "0d".repeat(20) })[0], "oracle").to.equal("wrong-oracle");
    });

    it("rejects a bundle from an address outside the checker set", () => {
      const stranger = signBundle(STRANGER, {
        epoch: EPOCH,
        chainId: CHAIN_ID,
        oracle: ORACLE,
        observations: signed.bundle.observations.map((o) => ({ ...o, checker: STRANGER.address })),
      });
      const [p, m] = problem(stranger);
      expect(p, "problem").to.equal("unknown-checker");
      expect(m, "message").to.include(STRANGER.address.toLowerCase());
    });

    it("names what is malformed", async () => {
      const cases: [unknown, string][] = [
        ["garbage", "the answer is not an object"],
        [{ bundle: signed.bundle }, "the answer has no signature"],
        [await resign(withObservation(1, { uptimeBps: 12_000 })), "observations[1] (node 2): uptimeBps 12000"],
        [await resign(withObservation(0, { evidence: "0x12" })), "observations[0] (node 1): evidence"],
        [await resign(withObservation(2, { checker: B.address.toLowerCase() })), "observations[2] (node 3): checker"],
        [await resign(withObservation(3, { nodeId: 2 })), "observations[3] (node 2) is not after node 3"],
        [await resign(withObservation(0, { extra: 1 })), 'observations[0] (node 1) has a field "extra"'],
        [await resign({ ...signed.bundle, observations: {} }), "observations is not a list"],
        [await resign({ ...signed.bundle, type: "other" }), 'type "other" is not'],
        [await resign({ ...signed.bundle, checker: A.address }), "checker"],
      ];
      for (const [raw, message] of cases) {
        const [p, m] = problem(raw);
        expect(p, `problem of ${message}`).to.equal("malformed");
        expect(m, "message").to.include(message);
      }
    });
  });

  describe("API", () => {
    it("serves the signed observations of an ended epoch only, and the report once computed", async () => {
      const url = checkers[0].server.url;
      const current = await get(`${url}/epochs/${EPOCH + 1}/observations`);
      expect(current.status, "current epoch").to.equal(404);
      expect(current.body.message, "why").to.include(`epoch ${EPOCH + 1} has not ended`);
      expect((await get(`${url}/epochs/${EPOCH + 2}/report`)).status, "future").to.equal(404);
      expect((await get(`${url}/epochs/x/report`)).status, "bad epoch").to.equal(400);

      const obs = await get(`${url}/epochs/${EPOCH}/observations`);
      expect(obs.status, "ended epoch").to.equal(200);
      const expected = { epoch: EPOCH, chainId: CHAIN_ID, oracle: ORACLE, checkers: CHECKER_SET };
      expect(verifyBundle(obs.body, expected).bundle.checker, "A's bundle").to.equal(A.address.toLowerCase());

      const before = await get(`${url}/epochs/${EPOCH}/report`);
      expect(before.status, "before").to.equal(404);
      expect(before.body, "JSON error").to.deep.include({ error: "not found" });

      const result = await finalizeEpoch(options(checkers[0], peersOf(checkers[0])));
      const after = await get(`${url}/epochs/${EPOCH}/report`);
      expect(after.status, "after").to.equal(200);
      expect(after.body, "report").to.deep.include({
        epoch: EPOCH,
        signature: result.signature,
        signer: A.address,
        root: result.root,
        nodeCount: "4",
        report: reportToJson(result.report),
      });
      expect((after.body.report as Record<string, string>).totalReward, "bigints as decimal strings").to.match(/^\d+$/);
      expect(after.body.checkers, "bundles scored").to.have.length(4);
    });
  });

  describe("finalizeEpoch", () => {
    /** Each checker's peers in its own order, each answering after its own delay. */
    const runAll = async (): Promise<EpochResult[]> => {
      const orders = [
        [1, 2, 3],
        [3, 0, 2],
        [0, 3, 1],
        [2, 1, 0],
      ];
      return Promise.all(
        checkers.map(async (c, i) => {
          const peers = await Promise.all(orders[i].map((p, k) => mirror(checkers[p], (3 - k) * 40 + i * 15)));
          return finalizeEpoch(options(c, peers));
        }),
      );
    };

    it("gives four checkers byte-identical roots and reports whatever order the bundles arrive in", async function () {
      this.timeout(10_000);
      const results = await runAll();
      const reports = results.map((r) => canonicalJson({ ...reportToJson(r.report) }));
      expect(new Set(results.map((r) => r.root)).size, "one root").to.equal(1);
      expect(new Set(reports).size, "one report").to.equal(1);
      expect(
        results.map((r) => r.fresh),
        "all signed now",
      ).to.deep.equal([true, true, true, true]);
      expect(results[0].bundles.length, "all four scored").to.equal(4);
      expect(results[0].excluded, "none left out").to.deep.equal([]);
      expect(results[0].report, "report").to.deep.include({ epoch: BigInt(EPOCH), configVersion: CONFIG_VERSION });
      expect(results[0].nodeCount, "every node scored").to.equal(4n);
    });

    it("signs EIP-712 reports that recover to each checker and pack for the oracle", async function () {
      this.timeout(10_000);
      const results = await runAll();
      for (const [i, r] of results.entries()) {
        expect(verifyTypedData(DOMAIN, REPORT_TYPES, r.report, r.signature), `signer ${i}`).to.equal(
          WALLETS[i].address,
        );
        expect(r.signer, `signer field ${i}`).to.equal(WALLETS[i].address);
      }
      const packed = packSignatures(
        CHECKER_SET,
        results.map((r) => ({ signer: r.signer, signature: r.signature })),
      );
      expect((packed.length - 2) / 2, "4 x (index + 65 bytes)").to.equal(4 * 66);
      const indexes = [0, 1, 2, 3].map((k) => parseInt(packed.slice(2 + k * 132, 4 + k * 132), 16));
      expect(indexes, "increasing operator indexes").to.deep.equal([0, 1, 2, 3]);
    });

    it("gives the outlier checker its error rate in its checker leaf", async function () {
      this.timeout(10_000);
      const [result] = await runAll();
      const scores = result.scores!;
      const d = scores.checkers.find((s) => s.operator === D.address)!;
      expect(d.observations, "D observed 4 nodes").to.equal(4);
      expect(d.outliers, "2 outlying (nodes 1 and 2)").to.equal(2);
      expect(d.errorRateBps, "error rate").to.equal(5_000n);
      const a = scores.checkers.find((s) => s.operator === A.address)!;
      expect(a.errorRateBps, "A's").to.equal(0n);
      const leaf = scores.leaves.find((l) => l.kind === 1 && l.account === D.address)!;
      expect(leaf.metricsHash, "the leaf commits to it").to.equal(checkerMetricsHash(d.metrics));
      expect(d.metrics.errorRateBps, "in the metrics").to.equal(5_000n);
      expect(d.reward < (a.reward * d.licenses) / a.licenses, "paid less than A per license").to.equal(true);
      expect(
        scores.nodes.map((n) => n.metrics.uptimeBps),
        "medians ignore D",
      ).to.deep.equal([10_000n, 10_000n, 10_000n, 10_000n]);
    });

    it("leaves out tampered, garbage and unknown-key bundles; the others still agree", async function () {
      this.timeout(10_000);
      const [, b, c, d] = checkers;
      const dBundle = (await get(`${d.server.url}/epochs/${EPOCH}/observations`)).body as unknown as SignedBundle;
      const tampered = structuredClone(dBundle);
      tampered.bundle.observations[0].uptimeBps = 10_000; // D pretends it agreed
      const stranger = signBundle(STRANGER, {
        epoch: EPOCH,
        chainId: CHAIN_ID,
        oracle: ORACLE,
        observations: dBundle.bundle.observations.map((o: NodeObservation) => ({ ...o, checker: STRANGER.address })),
      });
      const json = (body: unknown): http.RequestListener => {
        return (_req, res) => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        };
      };
      const bad = [(await fake(json(tampered))).url, (await fake(garbageAgent)).url, (await fake(json(stranger))).url];
      const results = await Promise.all(
        checkers.slice(0, 3).map((x) => {
          const honest = [checkers[0], b, c].filter((y) => y !== x).map((y) => y.server.url);
          return finalizeEpoch(options(x, [...bad, ...honest]));
        }),
      );
      expect(new Set(results.map((r) => r.root)).size, "one root").to.equal(1);
      const r = results[0];
      expect(
        r.bundles.map((x) => x.bundle.checker),
        "A, B, C scored",
      ).to.have.members([A, B, C].map((w) => w.address.toLowerCase()));
      expect(
        r.excluded.map((x) => [x.peer, x.problem]),
        "left out, with why",
      ).to.deep.equal([
        [bad[0], "wrong-signer"],
        [bad[1], "malformed"],
        [bad[2], "unknown-checker"],
      ]);
      expect(r.excluded[0].checker, "who the tampered bundle named").to.equal(D.address.toLowerCase());
      const dScore = r.scores!.checkers.find((s) => s.operator === D.address)!;
      expect(dScore.reportsSigned, "D delivered nothing").to.equal(0n);
      expect(dScore.reward, "and earns nothing").to.equal(0n);
    });

    it("does not wait past the deadline for a slow, hanging or unreachable peer", async function () {
      this.timeout(10_000);
      const [a, b] = checkers;
      const notFound = await fake((_req, res) => {
        res.writeHead(404, { "content-type": "application/json" });
        res.end('{"error":"not found"}');
      });
      const peers = [
        b.server.url,
        (await fake(hangingAgent)).url,
        `http://127.0.0.1:${await freePort()}`,
        notFound.url,
        await mirror(checkers[2], 1_500),
      ];
      const started = performance.now();
      const r = await finalizeEpoch(options(a, peers, { fetch: { timeoutMs: 300, waitMs: 700, retryMs: 100 } }));
      const elapsed = performance.now() - started;
      expect(elapsed, "about the 700 ms deadline").to.be.within(650, 2_000);
      expect(
        r.bundles.map((x) => x.bundle.checker),
        "A and B",
      ).to.have.members([A, B].map((w) => w.address.toLowerCase()));
      expect(
        r.excluded.map((x) => x.problem),
        "the others",
      ).to.deep.equal(["no-answer", "no-answer", "no-answer", "no-answer"]);
      expect(r.excluded[1].reason, "the last error is said").to.match(/ECONNREFUSED|refused/);
      expect(notFound.hits.length, "a 404 is asked again").to.be.greaterThan(2);
    });

    it("after a restart serves the same signed report and signs nothing new", async function () {
      this.timeout(10_000);
      const a = checkers[0];
      const first = await finalizeEpoch(options(a, peersOf(a)));
      const served = (await get(`${a.server.url}/epochs/${EPOCH}/report`)).text;
      const bundle = (await get(`${a.server.url}/epochs/${EPOCH}/observations`)).text;
      await a.server.close();
      a.store.close();

      // Restart: the same file, another budget and no honest peer would give another root if computed again.
      a.store = openStore(a.file);
      a.handler = handlerOf(A, a.store);
      a.server = await serve(a.handler);
      const watcher = await fake(() => {});
      const again = await finalizeEpoch(options(a, [watcher.url], { budget: 1n }));
      expect(again.fresh, "read back").to.equal(false);
      expect(again.root, "same root").to.equal(first.root);
      expect(again.signature, "same signature").to.equal(first.signature);
      expect(watcher.hits, "no peer asked").to.deep.equal([]);
      expect((await get(`${a.server.url}/epochs/${EPOCH}/report`)).text, "same answer").to.equal(served);
      expect((await get(`${a.server.url}/epochs/${EPOCH}/observations`)).text, "same bundle").to.equal(bundle);
    });

    it("runs one finalization per epoch at a time: concurrent calls get the same signed report", async function () {
      this.timeout(10_000);
      const a = checkers[0];
      const [x, y] = await Promise.all([
        finalizeEpoch(options(a, peersOf(a))),
        finalizeEpoch(options(a, [], { budget: 1n })),
      ]);
      expect(y.signature, "one signature").to.equal(x.signature);
      expect(a.store.epochResult(EPOCH)!.signature, "stored").to.equal(x.signature);
    });

    it("refuses to sign when this checker is not in the checker set", async () => {
      const a = checkers[0];
      let message = "";
      await finalizeEpoch(options(a, [], { checkerSet: [B.address, C.address] })).catch(
        (e: Error) => (message = e.message),
      );
      expect(message, "why and how to fix").to.include("is not in the checker set").and.include("KAISAR_PRIVATE_KEY");
      expect(a.store.epochResult(EPOCH), "nothing stored").to.equal(undefined);
    });
  });
});

describe("kaisar checker run with an epoch context", () => {
  let dir: string;
  let agent: FakeServer;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-exchange-run-"));
    agent = await serve(honestAgent({ nodeId: 1 }));
  });
  afterEach(async () => {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("three checkers each finalize the ended epoch to the same root and serve it", async function () {
    this.timeout(20_000);
    const wallets = [A, B, C];
    const ports = [await freePort(), await freePort(), await freePort()];
    const set = wallets.map((w) => w.address).sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1));
    const reports = new Map<number, EpochResult[]>();
    const logs: Record<string, unknown>[] = [];
    // Asserted rather than annotated: fields added to CheckerConfig later need not be spelled out here.
    const config = (i: number) =>
      ({
        role: "checker",
        chainId: CHAIN_ID,
        rpcUrl: "http://127.0.0.1:8545",
        privateKey: wallets[i].privateKey,
        contracts: { ReportOracle: ORACLE },
        dataDir: dir,
        listen: { host: "127.0.0.1", port: ports[i] },
        schedule: { heartbeat: 100, capacity: 60_000, hardware: 60_000, probeTimeout: 1_000 },
        challenge: { n: 16, timeout: 2_000 },
        peers: ports.filter((_, k) => k !== i).map((p) => `http://127.0.0.1:${p}`),
        exchange: { settle: 300, wait: 4_000, timeout: 1_000, retry: 50 },
        bandwidth: { bytes: 4096 },
        probe: { concurrency: 4, jitterPercent: 0 },
        database: path.join(dir, `checker-${i}.sqlite`),
        epoch: { genesis: Math.floor(Date.now() / 1000) - 10, length: 1_000 },
        nodes: [nodeAt(1, agent.url)],
        discovery: { interval: 60_000 },
      }) as CheckerConfig;
    const genesis = config(0).epoch.genesis;
    const epochContext = async (epoch: number) => ({
      configVersion: 1n,
      checkerSet: set,
      licenses: { [A.address]: 1n, [B.address]: 1n, [C.address]: 1n },
      budget: BUDGET,
      epochStart: BigInt(genesis + epoch),
      epochEnd: BigInt(genesis + epoch + 1),
      domain: DOMAIN,
      nodes: [{ nodeId: 1, provider: PROVIDER.address, deliveredGpuSeconds: 0n, feesKai: 0n, eligibleSince: 1n }],
    });
    const running = await Promise.all(
      [0, 1, 2].map((i) =>
        startChecker(config(i), {
          epochContext,
          log: (e) => logs.push(e),
          onReport: (r) => reports.set(r.epoch, [...(reports.get(r.epoch) ?? []), r]),
        }),
      ),
    );
    try {
      // The first epoch after start: every checker finalizes it.
      const first = running[0].epochOf(Date.now());
      let epoch = -1;
      for (let i = 0; i < 150 && epoch < 0; i++) {
        await sleep(50);
        for (const [e, list] of reports) if (e >= first && list.length === 3) epoch = e;
      }
      expect(epoch, `an epoch reported by all three (logs: ${JSON.stringify(logs.slice(-5))})`).to.be.at.least(first);
      const list = reports.get(epoch)!;
      expect(new Set(list.map((r) => r.root)).size, "one root").to.equal(1);
      expect(
        list.map((r) => r.bundles.length),
        "all three bundles each",
      ).to.deep.equal([3, 3, 3]);
      const served = await Promise.all(running.map((c) => get(`${c.url}/epochs/${epoch}/report`)));
      expect(
        served.map((s) => s.body.root),
        "served",
      ).to.deep.equal([list[0].root, list[0].root, list[0].root]);
      expect(
        served.map((s) => s.body.signer),
        "each signed its own",
      ).to.have.members(set);
      // The tree keepers fetch: the same on every checker, and it rebuilds to the signed root.
      const trees = await Promise.all(running.map((c) => get(`${c.url}/epochs/${epoch}/tree`)));
      expect(new Set(trees.map((t) => t.text)).size, "one tree").to.equal(1);
      const tree = treeFromJson(trees[0].body);
      expect(tree.root, "tree root").to.equal(list[0].root);
      expect(buildRewardTreeFast(tree.leaves.map((l) => l.leaf)).root, "rebuilt").to.equal(list[0].root);
      expect(tree.leaves.filter((l) => l.metrics).length, "node leaves carry metrics").to.equal(
        Number(served[0].body.nodeCount),
      );
    } finally {
      await Promise.all(running.map((c) => c.stop()));
    }
  });
});
