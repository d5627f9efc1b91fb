/**
 * The fake agents of the probe benchmark (bench.ts), run in a worker thread: `workerData.agents` servers,
 * each on its own loopback port, answering `GET /health` as an agent does for its node id. Posts the
 * ports once all listen; closes them all on any message.
 */
import { parentPort, workerData } from "node:worker_threads";

import { createApp, createHttpServer, HttpError, jsonAnswer } from "../http";

const port = parentPort;
if (!port) throw new Error("benchAgents.ts runs in a worker thread (see probesPerSecond)");
const { agents, provider } = workerData as { agents: number; provider: string };
const started = Date.now();
const errorBody = (e: HttpError) => ({ ok: false, error: e.message });

const servers = Array.from({ length: agents }, (_, i) => {
  const nodeId = i + 1;
  const app = createApp({ errorBody, internal: () => new HttpError(500, "internal error") });
  app.get("/health", (c) =>
    jsonAnswer(c, 200, {
      ok: true,
      nodeId,
      provider,
      version: "bench",
      uptimeSeconds: Math.floor((Date.now() - started) / 1000),
    }),
  );
  return createHttpServer(app, { errorBody });
});

void Promise.all(servers.map((s) => s.listen(0, "127.0.0.1"))).then((addresses) =>
  port.postMessage(addresses.map((a) => a.port)),
);
port.on("message", () => {
  void Promise.all(servers.map((s) => s.close())).then(() => port.close());
});
