/**
 * .ci/run's first step on a fresh clone, before anything else compiles: `npm start` on ports away from
 * the defaults (each default + 30000) until it is ready, then Ctrl-C (SIGINT to its process group);
 * every program it started must exit and every port be free. It proves that `npm ci && npm start`
 * works for a newcomer (building the contracts on the way), and prints the start's output as it goes.
 *
 *   npx ts-node --transpile-only e2e/start-check.ts
 */
import { shiftedPorts } from "../devnet/src/env";
import { startNetwork, stopNetwork } from "./network";

/** A deadline against a hang (a fresh clone compiles first), not a measure of speed. */
const READY_TIMEOUT_MS = 15 * 60_000;
const SHIFT = 30_000;

async function main(): Promise<void> {
  const env = shiftedPorts(SHIFT);
  const began = Date.now();
  const network = await startNetwork(env, READY_TIMEOUT_MS, true);
  const ready = (Date.now() - began) / 1000;
  await stopNetwork();
  const ports = Object.values(network.ports).sort((a, b) => a - b);
  console.log(
    `\nstart-check: npm start was ready in ${ready.toFixed(1)} s on ports ${ports.join(", ")}; ` +
      `after Ctrl-C all ${network.processes.length} programs exited and every port is free`,
  );
}

main().catch((e) => {
  console.error(`\nstart-check failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
