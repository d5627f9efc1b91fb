/**
 * The local chain: Hardhat's network as a child program (127.0.0.1, chain id 31337, cancun) with block
 * time on the wall clock and a block every second while idle, and every contract deployed on it with
 * the Ignition module used for agung and peaq (deploy/modules/Kaisar.ts, deploy/parameters/local.json).
 */
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";

import { exportDeployment } from "../../scripts/export-deployment";
import { decodeChainLogLine } from "./chainLog";
import type { Devnet } from "./devnet";
import { CHILD_ENV, NODE_ENV_PREFIX } from "./env";
import { CHAIN_ID, DEPLOYED_ADDRESSES, DEPLOYMENT_DIR, HARDHAT, ROOT } from "./paths";
import { rpcCall } from "./persist";
import { StartError, type Settings } from "./settings";

/** The environment of the programs: none of this shell's KAISAR_* settings (they override config files). */
export function programEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith(NODE_ENV_PREFIX)) env[k] = v;
  return env;
}

/** With `genesis` (unix seconds: a saved chain's), the chain starts there and mines no interval blocks yet. */
export async function startChain(d: Devnet, s: Settings, rpcUrl: string, genesis?: number): Promise<void> {
  d.say(`starting the chain on ${rpcUrl} (Hardhat, chain id ${CHAIN_ID}, cancun)`);
  let started = false;
  d.processes.start(
    "chain",
    process.execPath,
    [HARDHAT, "node", "--hostname", "127.0.0.1", "--port", String(s.rpcPort)],
    {
      // Block time on the wall clock (hardhat.config.ts): the checkers' epochs go by the wall clock.
      env: {
        ...programEnv(),
        [CHILD_ENV.wallClockChain]: "1",
        ...(genesis !== undefined ? { [CHILD_ENV.chainInitialDate]: new Date(genesis * 1000).toISOString() } : {}),
      },
      verbose: s.verbose,
      // Hardhat prints its accounts and every RPC call: keep only what it says that is not one.
      drop: (line) => {
        if (!started) {
          if (/Started HTTP/.test(line)) started = true;
          return true;
        }
        return !/error/i.test(line);
      },
      // Reverts of the contracts' custom errors (the web app's, say), by name, arguments and sentence.
      map: decodeChainLogLine,
      // The base of everything: the programs cannot work without it, so it is not restarted.
      onExit: (code, _child, signal) => {
        d.say(
          `the chain exited (${signal ?? `exit code ${code}`}): stopping everything (the programs cannot run without it; see .kaisar/devnet/logs/chain.log)`,
        );
        void d.shutdown(1);
      },
    },
  );
  await d.until("the chain answering on " + rpcUrl, 60_000, async () =>
    (await rpcCall(rpcUrl, "eth_chainId")) ? true : undefined,
  );
  if (genesis === undefined) await liveBlocks(rpcUrl);
}

/**
 * A block every second while nobody sends a transaction, as a live chain: the chain's time moves
 * on (the keeper reads the current epoch from the latest block). Transactions still mine at once.
 */
export async function liveBlocks(rpcUrl: string): Promise<void> {
  await rpcCall(rpcUrl, "evm_setIntervalMining", [1000]);
}

/** Writes deploy/exports/chain-31337.json (addresses and ABIs) and says so, with `what` after it. */
export function exportAddresses(d: Devnet, what: string): void {
  const exported = exportDeployment(CHAIN_ID);
  d.say(`wrote ${path.relative(ROOT, exported)} ${what}`);
}

/** Deploys every contract; resolves to their addresses by contract name. */
export async function deploy(d: Devnet, s: Settings, rpcUrl: string): Promise<Record<string, string>> {
  d.say(
    `deploying every contract (Ignition: deploy/modules/Kaisar.ts, deploy/parameters/local.json, ${s.epochSeconds} s epochs)`,
  );
  rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
  const child = d.processes.start(
    "deploy",
    process.execPath,
    [HARDHAT, "ignition", "deploy", "deploy/modules/Kaisar.ts", "--network", "localhost"],
    {
      env: {
        ...programEnv(),
        [CHILD_ENV.localRpcUrl]: rpcUrl,
        [CHILD_ENV.ignitionConfirmReset]: "true",
        // The local parameters, whatever a .env says; epochs of the chosen length.
        [CHILD_ENV.parameters]: "local",
        [CHILD_ENV.epochSeconds]: String(s.epochSeconds),
      },
      verbose: false,
      drop: (line) => !/error|Error|failed/.test(line),
    },
  );
  const code = await child.exited;
  if (code !== 0) throw new StartError(`the deployment failed (exit ${code}); see .kaisar/devnet/logs/deploy.log`);
  const raw = JSON.parse(readFileSync(DEPLOYED_ADDRESSES, "utf8")) as Record<string, string>;
  exportAddresses(d, "(addresses and ABIs)");
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.slice(k.indexOf("#") + 1), v]));
}
