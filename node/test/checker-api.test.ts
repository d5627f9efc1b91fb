import { expect } from "chai";
import http from "node:http";

import { startApi, type RunningApi } from "../src/checker/api";
import { ManualClock } from "../src/checker/scheduler";
import { openStore, type CheckerStore } from "../src/checker/store";
import { nodeAt } from "./helpers/checkerFakes";

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => Record<string, unknown>;
}

function request(url: string, method = "GET", headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () =>
        resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("checker API", () => {
  const T = 1_700_000_000_000;
  let store: CheckerStore;
  let api: RunningApi;
  const clock = new ManualClock(T + 30_000);
  const nodes = [nodeAt(1, "http://10.0.0.1:8550"), nodeAt(2, "http://10.0.0.2:8550")];

  before(async () => {
    store = openStore(":memory:");
    store.recordSample({ epoch: 7, nodeId: 1, kind: "heartbeat", at: T, ok: true, latencyMs: 3.5 });
    store.recordSample({
      epoch: 7,
      nodeId: 1,
      kind: "heartbeat",
      at: T + 10_000,
      ok: false,
      latencyMs: 10_000,
      errorCode: "timeout",
      error: "no complete answer within 10000 ms",
    });
    store.recordSample({ epoch: 7, nodeId: 1, kind: "bandwidth", at: T + 1, ok: true, latencyMs: 80, mbps: 940.5 });
    store.recordSample({
      epoch: 7,
      nodeId: 1,
      kind: "hardware",
      at: T + 2,
      ok: true,
      latencyMs: 5,
      match: false,
      evidence: { reasons: ["4 GPUs, registered 8"], report: { gpuCount: 4 } },
    });
    store.recordSample({ epoch: 6, nodeId: 1, kind: "heartbeat", at: T - 1e6, ok: true, latencyMs: 2 });
    store.recordSample({ epoch: 7, nodeId: 9, kind: "heartbeat", at: T, ok: true, latencyMs: 2 }); // no longer configured
    api = await startApi({
      host: "127.0.0.1",
      port: 0,
      store,
      nodes: () => nodes,
      epochOf: () => 7,
      checker: "0x00000000000000000000000000000000000c0ffe",
      version: "9.9.9",
      clock,
    });
  });
  after(async () => {
    await api.close();
    store.close();
  });

  it("answers /health with CORS open to any origin", async () => {
    const r = await request(`${api.url}/health`, "GET", { origin: "https://app.kaisar.io" });
    expect(r.status, "status").to.equal(200);
    expect(r.headers["access-control-allow-origin"], "CORS").to.equal("*");
    expect(r.headers["content-type"], "JSON").to.match(/^application\/json/);
    expect(r.json(), "body").to.deep.include({ ok: true, role: "checker", version: "9.9.9", epoch: 7, nodes: 2 });
  });

  it("answers a CORS preflight with 204 and the allowed methods and headers", async () => {
    const r = await request(`${api.url}/nodes`, "OPTIONS", {
      origin: "https://app.kaisar.io",
      "access-control-request-method": "GET",
      "access-control-request-headers": "x-requested-with",
    });
    expect(r.status, "status").to.equal(204);
    expect(r.headers["access-control-allow-origin"], "origin").to.equal("*");
    expect(r.headers["access-control-allow-methods"], "methods").to.equal("GET, HEAD, OPTIONS");
    expect(r.headers["access-control-allow-headers"], "headers").to.equal("x-requested-with");
    expect(r.text, "no body").to.equal("");
  });

  it("lists every node with its latest result of each kind", async () => {
    const r = await request(`${api.url}/nodes`);
    const body = r.json() as { epoch: number; nodes: Record<string, unknown>[] };
    expect(body.epoch, "epoch").to.equal(7);
    expect(
      body.nodes.map((n) => [n.nodeId, n.status, n.probed]),
      "nodes",
    ).to.deep.equal([
      [1, "down", true],
      [2, "unknown", true],
      [9, "up", false],
    ]);
    const latest = body.nodes[0].latest as Record<string, Record<string, unknown> | null>;
    expect(latest.heartbeat, "latest heartbeat").to.deep.equal({
      at: T + 10_000,
      epoch: 7,
      ok: false,
      latencyMs: 10_000,
      errorCode: "timeout",
      error: "no complete answer within 10000 ms",
    });
    expect(latest.bandwidth?.mbps, "bandwidth").to.equal(940.5);
    expect(latest.hardware, "hardware with its reasons").to.deep.include({
      match: false,
      reasons: ["4 GPUs, registered 8"],
    });
    expect(latest.challenge, "never probed").to.equal(null);
    expect(body.nodes[0].url, "url").to.equal("http://10.0.0.1:8550");
  });

  it("serves a node's samples of the current epoch or of the one asked for", async () => {
    const r = await request(`${api.url}/nodes/1/samples`);
    const body = r.json() as {
      epoch: number;
      samples: { at: number; evidence: unknown }[];
      counts: Record<string, unknown>;
    };
    expect(body.epoch, "current epoch").to.equal(7);
    expect(
      body.samples.map((s) => s.at),
      "oldest first",
    ).to.deep.equal([T, T + 1, T + 2, T + 10_000]);
    expect(body.counts.heartbeat, "counts").to.deep.equal({ total: 2, ok: 1 });
    expect(body.samples[2].evidence, "with evidence").to.deep.equal({
      reasons: ["4 GPUs, registered 8"],
      report: { gpuCount: 4 },
    });
    const old = (await request(`${api.url}/nodes/1/samples?epoch=6`)).json() as { samples: unknown[] };
    expect(old.samples, "epoch 6").to.have.length(1);
    const beats = (await request(`${api.url}/nodes/1/samples?kind=heartbeat&limit=1`)).json() as {
      samples: { at: number }[];
    };
    expect(
      beats.samples.map((s) => s.at),
      "latest heartbeat only",
    ).to.deep.equal([T + 10_000]);
    expect((await request(`${api.url}/nodes/2`)).json().status, "one node").to.equal("unknown");
  });

  it("answers JSON errors: 400 on a bad parameter, 404 on no route or node, 405 on a write", async () => {
    const cases: [string, string, number, RegExp][] = [
      ["GET", "/nodes/1/samples?epoch=-1", 400, /epoch "-1" is not a whole number/],
      ["GET", "/nodes/1/samples?kind=ping", 400, /kind "ping"/],
      ["GET", "/nodes/x", 400, /node id "x"/],
      ["GET", "/nodes/1/samples?limit=100001", 400, /limit/],
      ["GET", "/nodes/3", 404, /node 3 is not probed here/],
      ["GET", "/nodes/1/other", 404, /no route/],
      ["GET", "/", 404, /no route/],
      ["GET", "/admin", 404, /no route/],
      ["POST", "/nodes", 405, /read-only/],
      ["DELETE", "/nodes/1", 405, /read-only/],
    ];
    for (const [method, path, status, message] of cases) {
      const r = await request(`${api.url}${path}`, method);
      expect(r.status, `${method} ${path}`).to.equal(status);
      expect(r.headers["access-control-allow-origin"], `${path}: CORS on errors too`).to.equal("*");
      expect(r.json().message, `${method} ${path}`).to.match(message);
    }
    expect((await request(`${api.url}/nodes`, "POST")).headers.allow, "allow").to.equal("GET, HEAD, OPTIONS");
  });

  it("answers HEAD with the headers only", async () => {
    const r = await request(`${api.url}/nodes`, "HEAD");
    expect(r.status, "status").to.equal(200);
    expect(r.text, "no body").to.equal("");
    expect(Number(r.headers["content-length"]), "length of the GET body").to.be.greaterThan(100);
  });
});
