/**
 * The keeper's read-only proofs API (node:http, JSON, CORS open to any origin: everything it serves is
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
import http from "node:http";
import type { AddressInfo } from "node:net";

import { isAddress } from "ethers";
import { keeperProofToJson, leafFromJson } from "@kaisar/offchain";

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

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function uintParam(name: string, raw: string): number {
  if (!/^(0|[1-9][0-9]{0,14})$/.test(raw)) throw new HttpError(400, `${name} "${raw}" is not a whole number`);
  return Number(raw);
}

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
  const onChain = (epoch: number) => {
    const r = o.store.report(epoch);
    if (!r || r.status !== "onchain") throw new HttpError(404, `no report of epoch ${epoch} on chain here`);
    return r;
  };
  const route = async (parts: string[]): Promise<unknown> => {
    if (parts.length === 1 && parts[0] === "health") {
      const reports = o.store.onChainReports(1);
      const h = o.health?.();
      const degraded = [
        ...(h && !h.rpc.ok ? [`RPC unavailable since ${new Date(h.rpc.since).toISOString()}: ${h.rpc.error}`] : []),
        ...(h?.missingEpochs.length
          ? [`${h.missingEpochs.length} on-chain epoch(s) missing work (missingEpochs)`]
          : []),
      ];
      return {
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
      };
    }
    if (parts[0] !== "epochs") throw new HttpError(404, "no such route");
    if (parts.length === 1) return { epochs: o.store.onChainReports().map(reportJson) };
    const epoch = uintParam("epoch", parts[1]);
    const report = onChain(epoch);
    if (parts.length === 2) {
      return {
        ...reportJson(report),
        leaves: o.store.leaves(epoch).map((l) => ({ index: l.idx, ...JSON.parse(l.leaf) })),
      };
    }
    let row: LeafRow | undefined;
    if (parts.length === 4 && parts[2] === "proofs") {
      row = o.store.leafAt(epoch, uintParam("index", parts[3]));
    } else if (parts.length === 5 && parts[2] === "nodes" && parts[4] === "proof") {
      row = o.store.leafOfNode(epoch, String(uintParam("node id", parts[3])));
    } else if (parts.length === 5 && parts[2] === "checkers" && parts[4] === "proof") {
      if (!isAddress(parts[3])) throw new HttpError(400, `"${parts[3]}" is not an address`);
      row = o.store.leafOfChecker(epoch, parts[3]);
    } else {
      throw new HttpError(404, "no such route");
    }
    if (!row) throw new HttpError(404, `no such leaf in epoch ${epoch}`);
    return proofJson(row);
  };

  const server = http.createServer((req, res) => {
    res.setHeader("access-control-allow-origin", "*");
    res.setHeader("access-control-allow-methods", "GET, HEAD, OPTIONS");
    res.setHeader("access-control-allow-headers", "content-type");
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(req.method === "HEAD" ? undefined : JSON.stringify(body));
    };
    if (req.method === "OPTIONS") {
      res.writeHead(204).end();
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(405, { error: "method not allowed", message: "the keeper API is read-only (GET)" });
      return;
    }
    const parts = new URL(req.url ?? "/", "http://keeper").pathname.split("/").filter(Boolean);
    route(parts).then(
      (body) => send(200, body),
      (e) =>
        e instanceof HttpError
          ? send(e.status, { error: e.status === 404 ? "not found" : "bad request", message: e.message })
          : send(500, { error: "internal", message: (e as Error).message }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : o.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
