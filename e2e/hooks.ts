/**
 * Mocha root hooks of the end-to-end tests (`npm run test:e2e`): before every test file, `npm start`
 * runs as a child process group (short epochs, its own ports) until it prints "Kaisar is running
 * locally."; the tests read `.kaisar/local.json` (`readLocalJson()` in ./localJson). After them it
 * gets SIGINT, like Ctrl-C, and every program it started must have exited and every port be free
 * (./network.ts).
 */
import { SETTINGS, shiftedPorts } from "../devnet/src/env";
import { startNetwork, stopNetwork } from "./network";

export { localNetwork, startOutput } from "./network";
export { readLocalJson, localAccount, LOCAL_JSON, type LocalNetwork } from "./localJson";

/** How long `npm start` may take to be ready: 180 s, or KAISAR_E2E_READY_SECONDS on a loaded machine. */
const READY_TIMEOUT_MS = Number(process.env.KAISAR_E2E_READY_SECONDS ?? 180) * 1000;

/**
 * Ports of the tested network: each default + 10000 (18545, 1855x ...), away from a developer's own
 * `npm start` (8545, 855x, 5173).
 * KAISAR_E2E_PORT_OFFSET (default 0) moves them all, so that two checkouts can run the suite at once.
 */
const OFFSET = Number(process.env.KAISAR_E2E_PORT_OFFSET ?? 0);
export const E2E_ENV = {
  [SETTINGS.epochSeconds.name]: process.env.KAISAR_E2E_EPOCH_SECONDS ?? "20",
  ...shiftedPorts(10_000 + OFFSET),
};

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(READY_TIMEOUT_MS + 10_000);
    const began = Date.now();
    await startNetwork(E2E_ENV, READY_TIMEOUT_MS);
    console.log(`      (npm start was ready in ${((Date.now() - began) / 1000).toFixed(1)} s)`);
  },

  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopNetwork();
  },
};
