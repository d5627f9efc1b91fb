/**
 * Child process of the store's crash test: records `count` heartbeats of node 1 in epoch 0 of the
 * database at argv[2], then dies by SIGKILL without closing it (no chance to flush anything).
 */
import { openStore } from "../../src/checker/store";

const [file, count] = [process.argv[2], Number(process.argv[3])];
const store = openStore(file);
for (let i = 0; i < count; i++)
  store.recordSample({ epoch: 0, nodeId: 1, kind: "heartbeat", at: i, ok: true, latencyMs: 1 });
process.kill(process.pid, "SIGKILL");
