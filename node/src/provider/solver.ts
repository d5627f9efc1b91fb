/**
 * How the agent answers PoPW challenges: a `ChallengeSolver` runs `solveChallenge` with a matrix
 * kernel and resolves to the answer. The kernel stays behind this interface so a GPU one can be
 * added (a CUDA kernel, or an external program) without touching the server.
 *
 * The CPU kernel is synchronous and takes seconds at n = 1024, so `workerSolver` runs it in a worker
 * thread: the agent keeps answering /health (and measuring nothing wrong) while it multiplies.
 */
import path from "path";
import { Worker } from "worker_threads";

import type { ChallengeKernelName } from "../config/schema";
import { solveChallenge, type Challenge, type ChallengeAnswer } from "../popw/challenge";
import { cpuKernel, type MatmulKernel } from "../popw/kernel";

export interface ChallengeSolver {
  /** The kernel's name, as answers report it (e.g. "cpu-ikj"). */
  readonly kernel: string;
  /** Multiplies the challenge's matrices; rejects if the kernel fails. One call at a time is expected. */
  solve(challenge: Challenge): Promise<ChallengeAnswer>;
  /** Gets ready (starts the worker, loads the code) so the first challenge is not slowed down. */
  warm(): Promise<void>;
  /** Stops it; a solve in progress rejects. */
  close(): Promise<void>;
}

/** The implementation of each kernel name of the config (`challenge.kernel`). */
export const KERNELS: Record<ChallengeKernelName, MatmulKernel> = { cpu: cpuKernel };

/** Solves on the calling thread (blocks the event loop while it multiplies): for tests and custom kernels. */
export function inlineSolver(kernel: MatmulKernel): ChallengeSolver {
  return {
    kernel: kernel.name,
    solve: async (challenge) => solveChallenge(challenge, kernel),
    warm: async () => {},
    close: async () => {},
  };
}

/** Messages of the worker (src/provider/solverWorker.ts). */
export type WorkerRequest = { id: number; seed: string; n: number };
export type WorkerReply = { ready: true } | { id: number; answer: ChallengeAnswer } | { id: number; error: string };

const WORKER_FILE = path.join(__dirname, `solverWorker${path.extname(__filename)}`);
const TSCONFIG = path.join(__dirname, "..", "..", "tsconfig.json");

/**
 * Solves in a worker thread with the named kernel. The worker starts on `warm()` or the first
 * challenge, and is started again after a crash. Run from TypeScript sources (ts-node), the worker
 * registers ts-node (transpile only) itself: require hooks do not cross into worker threads.
 */
export function workerSolver(name: ChallengeKernelName): ChallengeSolver {
  const kernel = KERNELS[name];
  if (!kernel) throw new RangeError(`no kernel named ${JSON.stringify(name)}`);
  let worker: Worker | undefined;
  let ready: Promise<void> | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve(a: ChallengeAnswer): void; reject(e: Error): void }>();

  const failAll = (error: Error) => {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  const start = (): Promise<void> => {
    if (ready) return ready;
    const w = moduleWorker(WORKER_FILE, { name });
    worker = w;
    w.unref();
    ready = new Promise<void>((resolve, reject) => {
      w.on("message", (m: WorkerReply) => {
        if ("ready" in m) return resolve();
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if ("answer" in m) p.resolve(m.answer);
        else p.reject(new Error(m.error));
      });
      const gone = (error: Error) => {
        if (worker === w) [worker, ready] = [undefined, undefined];
        reject(error);
        failAll(error);
      };
      w.on("error", (e) => gone(new Error(`challenge worker failed: ${e.message}`)));
      w.on("exit", (code) => gone(new Error(`challenge worker exited (code ${code})`)));
    });
    return ready;
  };

  return {
    kernel: kernel.name,
    warm: start,
    async solve(challenge) {
      await start();
      const id = nextId++;
      return new Promise<ChallengeAnswer>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const request: WorkerRequest = { id, seed: challenge.seed, n: challenge.n };
        worker!.postMessage(request);
      });
    },
    async close() {
      const w = worker;
      [worker, ready] = [undefined, undefined];
      failAll(new Error("challenge solver closed"));
      if (w) await w.terminate();
    },
  };
}

/**
 * A worker thread running the module `file` (this folder's `.ts` or `.js` twin of the caller). Run from
 * TypeScript sources (ts-node), the worker registers ts-node (transpile only) itself: require hooks do
 * not cross into worker threads.
 */
export function moduleWorker(file: string, workerData: unknown): Worker {
  if (path.extname(file) !== ".ts") return new Worker(file, { workerData });
  const code =
    // Resolved here: an eval worker resolves modules from the working directory, not from this file.
    `require(${JSON.stringify(require.resolve("ts-node"))}).register({ project: ${JSON.stringify(TSCONFIG)}, transpileOnly: true });\n` +
    `require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true, workerData });
}
