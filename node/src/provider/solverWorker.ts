/**
 * The worker thread of `workerSolver` (solver.ts): multiplies challenges with the kernel named in
 * `workerData.name` and posts the answers back, one at a time.
 */
import { parentPort, workerData } from "worker_threads";

import { solveChallenge } from "../popw/challenge";
import { KERNELS, type WorkerReply, type WorkerRequest } from "./solver";

const port = parentPort;
if (!port) throw new Error("solverWorker.ts runs in a worker thread (see workerSolver)");
const kernel = KERNELS[(workerData as { name: keyof typeof KERNELS }).name];

port.on("message", (m: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { id: m.id, answer: solveChallenge({ seed: m.seed, n: m.n }, kernel) };
  } catch (e) {
    reply = { id: m.id, error: (e as Error).message };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies WorkerReply);
