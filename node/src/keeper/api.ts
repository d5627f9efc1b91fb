/**
 * The keeper's read-only proofs API (a Hono app on the shared HTTP layer, src/http; JSON, CORS open to any origin: everything it serves is
 * public), from the store, so a restart serves the same proofs.
 *
 *   GET /health                                  { ok, status: "ok" | "degraded", degraded: [why], chainId, block,
 *                                                lastEpochSubmitted, pendingIntents, rpc, missingEpochs }
 *                                                (degraded: the RPC does not answer, or an on-chain epoch
 *                                                lacks its tree or follow-up work, each with why; HTTP 200)
 *   GET /epochs                                  on-chain epochs: { epoch, root, signers, report, txHash }
 *   GET /epochs/:epoch                           one of them with its leaves (and node metrics)
 *   GET /epochs/:epoch/proofs/:index             leaf `index`: { epoch, index, root, leaf, metrics?, proof,
 *                                                claim: { leaf, proof } } (ready for RewardDistributor.claim)
 *   GET /epochs/:epoch/nodes/:nodeId/proof       the node's leaf, the same way
 *   GET /epochs/:epoch/checkers/:address/proof   the checker operator's leaf, the same way
 *
 * OPTIONS answers CORS preflights (204); other methods 405; unknown routes 404; bad numbers 400.
 */
import { isAddress } from "ethers";
import { keeperProofToJson, leafFromJson } from "@kaisar/offchain";

import { createApp, HttpError, jsonAnswer, parseInput, readOnlyCors, serve, uintParam } from "../http";
import type { KeeperStore, LeafRow, ReportRow } from "./store";

export interface KeeperApiOptions {
  store: KeeperStore;
  chainId: number;
  /** The latest block number (undefined if the RPC does not answer). */
  block: () => Promise<number | undefined>;
  host: string;
  port: number;
  /** The RPC's health and the on-chain epochs missing work (`/health`). */
  health?: () => {
    rpc: { ok: boolean; since: number; error: string | null; retryInMs: number | null };
    missingEpochs: { epoch: number; missing: string; reason: string }[];
  };
}

export interface KeeperApi {
  url: string;
  close(): Promise<void>;
}

/** The API's error answers: `{ error, message }`. */
const errorBody = (e: HttpError) => ({ error: e.code ?? "bad request", message: e.message });
const epochParam = uintParam("epoch");

function reportJson(r: ReportRow) {
  return { epoch: r.epoch, root: r.root, signers: r.signers, report: JSON.parse(r.report), txHash: r.txHash };
}

/** The stored leaf in the answer's shape, defined once with its reader (`keeperProofFromJson`). */
function proofJson(row: LeafRow) {
  const { leaf, metrics } = leafFromJson(JSON.parse(row.leaf));
  return keeperProofToJson(row.epoch, row.idx, row.root, { leaf, metrics, proof: row.proof });
}

/** Starts the proofs API. */
export async function startKeeperApi(o: KeeperApiOptions): Promise<KeeperApi> {
  const onChain = (raw: string) => {
    const epoch = parseInput(epochParam, raw);
    const r = o.store.report(epoch);
    if (!r || r.status !== "onchain")
      throw new HttpError(404, `no report of epoch ${epoch} on chain here`, "not found");
    return r;
  };
  const leaf = (epoch: number, row: LeafRow | undefined) => {
    if (!row) throw new HttpError(404, `no such leaf in epoch ${epoch}`, "not found");
    return proofJson(row);
  };

  const app = createApp({
    strict: false,
    errorBody,
    notFound: () => new HttpError(404, "no such route", "not found"),
    internal: (e) => new HttpError(500, (e as Error).message, "internal"),
  });
  app.use(readOnlyCors(() => "the keeper API is read-only (GET)"));
  app.get("/health", async (c) => {
    const reports = o.store.onChainReports(1);
    const h = o.health?.();
    const degraded = [
      ...(h && !h.rpc.ok ? [`RPC unavailable since ${new Date(h.rpc.since).toISOString()}: ${h.rpc.error}`] : []),
      ...(h?.missingEpochs.length ? [`${h.missingEpochs.length} on-chain epoch(s) missing work (missingEpochs)`] : []),
    ];
    return jsonAnswer(c, 200, {
      ok: degraded.length === 0,
      status: degraded.length === 0 ? "ok" : "degraded",
      degraded,
      role: "keeper",
      chainId: o.chainId,
      block: (await o.block()) ?? null,
      lastEpochSubmitted: reports[0]?.epoch ?? null,
      pendingIntents: o.store.openIntents().length,
      rpc: h?.rpc ?? null,
      missingEpochs: h?.missingEpochs ?? [],
    });
  });
  app.get("/epochs", (c) => jsonAnswer(c, 200, { epochs: o.store.onChainReports().map(reportJson) }));
  app.get("/epochs/:epoch", (c) => {
    const report = onChain(c.req.param("epoch"));
    const leaves = o.store.leaves(report.epoch).map((l) => ({ index: l.idx, ...JSON.parse(l.leaf) }));
    return jsonAnswer(c, 200, { ...reportJson(report), leaves });
  });
  app.get("/epochs/:epoch/proofs/:index", (c) => {
    const { epoch } = onChain(c.req.param("epoch"));
    return jsonAnswer(c, 200, leaf(epoch, o.store.leafAt(epoch, parseInput(uintParam("index"), c.req.param("index")))));
  });
  app.get("/epochs/:epoch/nodes/:nodeId/proof", (c) => {
    const { epoch } = onChain(c.req.param("epoch"));
    const node = parseInput(uintParam("node id"), c.req.param("nodeId"));
    return jsonAnswer(c, 200, leaf(epoch, o.store.leafOfNode(epoch, String(node))));
  });
  app.get("/epochs/:epoch/checkers/:address/proof", (c) => {
    const { epoch } = onChain(c.req.param("epoch"));
    const address = c.req.param("address");
    if (!isAddress(address)) throw new HttpError(400, `"${address}" is not an address`);
    return jsonAnswer(c, 200, leaf(epoch, o.store.leafOfChecker(epoch, address)));
  });
  const { url, close } = await serve(app, { host: o.host, port: o.port, errorBody });
  return { url, close };
}
