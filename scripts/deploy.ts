/**
 * One command per network that deploys, resumes and sets up Kaisar:
 *
 *   npm run deploy -- --network agung      (peaq, localhost likewise)
 *
 * - Deploys the Ignition module (deploy/kaisarModule.ts) with deploy/parameters/<network>.json
 *   (KAISAR_PARAMETERS=<name> picks another file), without any prompt: it runs the same on a terminal,
 *   in CI and under nohup.
 * - Fixes the genesis once: `"genesis": "now"` becomes the chain's time on the first run, stored in
 *   deploy/deployments/<id>/kaisar-parameters.json (and read back from Ignition's journal if that file
 *   is missing); a rerun reuses it, so an interrupted deployment resumes where it stopped. A parameter
 *   changed since the first run stops the command naming the field.
 * - Passes the network's gasMultiplier (hardhat.config.ts; 1.75 on peaq networks) to Ignition's gas
 *   estimates.
 * - Writes deploy/exports/chain-<id>.json (scripts/export-deployment.ts).
 * - Runs the setup steps of the parameters' "setup" section (deploy/setup.ts), each skipped once done.
 *
 * A second run with nothing left to do sends no transaction. KAISAR_DEPLOYMENT_ID=<id> keeps a
 * deployment apart from the network's default (chain-<chainId>).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import hre from "hardhat";
import "@nomicfoundation/hardhat-ignition-ethers";

import { loadParameters, moduleParameters, validateParameters, type KaisarParameters } from "../deploy/config";
import { buildKaisarModule } from "../deploy/kaisarModule";
import { runSetup } from "../deploy/setup";
import { exportDeployment } from "./export-deployment";

const ROOT = path.join(__dirname, "..");
const say = (line: string) => console.log(`[deploy] ${line}`);

/** A stop with a sentence for people (no stack trace). */
class DeployError extends Error {}

type Provider = { request(args: { method: string; params?: unknown[] }): Promise<unknown> };

/** The genesis Ignition's journal recorded for ReportOracle's constructor (argument 4), if any. */
function genesisInJournal(dir: string): number | undefined {
  const journal = path.join(dir, "journal.jsonl");
  if (!existsSync(journal)) return undefined;
  for (const line of readFileSync(journal, "utf8").split("\n")) {
    if (!line.includes("Kaisar#ReportOracle")) continue;
    try {
      const entry = JSON.parse(line) as { futureId?: string; constructorArgs?: unknown[] };
      if (entry.futureId === "Kaisar#ReportOracle" && Array.isArray(entry.constructorArgs)) {
        const g = entry.constructorArgs[4] as unknown;
        const n =
          typeof g === "object" && g !== null && "value" in g ? Number((g as { value: string }).value) : Number(g);
        if (Number.isSafeInteger(n)) return n;
      }
    } catch {
      // a torn last line of an interrupted run
    }
  }
  return undefined;
}

/**
 * The module's parameters with the genesis fixed: from the deployment's stored parameters, else from
 * its journal, else the chain's latest block time (stored now, before anything is sent). Throws naming
 * the field when the parameters file changed since the deployment began.
 */
async function fixedParameters(p: KaisarParameters, dir: string, provider: Provider, source: string) {
  const file = path.join(dir, "kaisar-parameters.json");
  const stored = existsSync(file)
    ? (JSON.parse(readFileSync(file, "utf8")) as Omit<KaisarParameters, "setup">)
    : undefined;
  const wanted = moduleParameters(p);
  let genesis = stored?.genesis ?? genesisInJournal(dir);
  if (typeof genesis !== "number") {
    if (wanted.genesis === "now") {
      const block = (await provider.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as {
        timestamp: string;
      };
      genesis = Number(block.timestamp);
      say(
        `genesis "now" fixed at ${genesis} (${new Date(genesis * 1000).toISOString()}), stored in ${path.relative(ROOT, file)}`,
      );
    } else genesis = wanted.genesis;
  } else if (wanted.genesis !== "now" && wanted.genesis !== genesis) {
    throw new DeployError(
      `"genesis" in ${source} is ${wanted.genesis}, but this deployment began with genesis ${genesis} ` +
        `(${path.relative(ROOT, file)}): a deployed contract's argument cannot change. Set "genesis" back to ` +
        `${genesis} (or "now"), or start a new deployment with KAISAR_DEPLOYMENT_ID=<new id>`,
    );
  } else say(`genesis ${genesis} (${new Date(genesis * 1000).toISOString()}), fixed by this deployment's first run`);
  const fixed = { ...wanted, genesis };
  if (stored) {
    const changed = Object.keys({ ...stored, ...fixed }).filter(
      (k) => JSON.stringify(stored[k as keyof typeof stored]) !== JSON.stringify(fixed[k as keyof typeof fixed]),
    );
    if (changed.length) {
      throw new DeployError(
        `${source} changed since this deployment began (${changed.map((k) => `"${k}"`).join(", ")}; the first run's values ` +
          `are in ${path.relative(ROOT, file)}): Ignition cannot change what it deployed. Restore them, or start a new ` +
          `deployment with KAISAR_DEPLOYMENT_ID=<new id>`,
      );
    }
  } else {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify(fixed, null, 2) + "\n");
  }
  return fixed;
}

/** `provider` with eth_estimateGas answers multiplied by `multiplier` (Frontier's estimates run low). */
function withGasMultiplier(provider: Provider, multiplier: number): Provider {
  if (multiplier === 1) return provider;
  const scaled = BigInt(Math.round(multiplier * 1_000));
  return {
    request: async (args) => {
      const answer = await provider.request(args);
      if (args.method !== "eth_estimateGas") return answer;
      return "0x" + ((BigInt(answer as string) * scaled) / 1_000n).toString(16);
    },
  };
}

async function main() {
  const network = hre.network.name;
  const local = network === "hardhat" || network === "localhost";
  const source = process.env.KAISAR_PARAMETERS || (local ? "local" : network);
  const sourceFile = `deploy/parameters/${source}.json`;
  let parameters = loadParameters(source);
  if (local && process.env.KAISAR_EPOCH_SECONDS) {
    parameters = validateParameters(
      { ...parameters, epochLengthSeconds: Number(process.env.KAISAR_EPOCH_SECONDS) },
      `${source}.json with KAISAR_EPOCH_SECONDS`,
    );
  }
  const provider = hre.network.provider as Provider;
  const chainId = Number(await provider.request({ method: "eth_chainId" }));
  const configured = hre.network.config.chainId;
  if (configured !== undefined && configured !== chainId) {
    throw new DeployError(
      `the RPC of --network ${network} serves chain ${chainId}, but hardhat.config.ts says ${network} is chain ${configured}: fix its RPC URL`,
    );
  }
  const deploymentId = process.env.KAISAR_DEPLOYMENT_ID || `chain-${chainId}`;
  const dir = path.join(hre.config.paths.ignition, "deployments", deploymentId);
  const resuming = existsSync(path.join(dir, "journal.jsonl"));
  say(
    `${resuming ? "resuming" : "starting"} deployment ${deploymentId} on ${network} (chain ${chainId}) with ${sourceFile}`,
  );
  const fixed = await fixedParameters(parameters, dir, provider, sourceFile);

  const multiplier = (hre.network.config as { gasMultiplier?: number }).gasMultiplier ?? 1;
  if (multiplier !== 1) say(`gas estimates x ${multiplier} (gasMultiplier of ${network} in hardhat.config.ts)`);
  const Helper = hre.ignition.constructor as new (h: typeof hre, config: unknown, p: Provider) => typeof hre.ignition;
  const ignition = new Helper(hre, hre.config.ignition, withGasMultiplier(provider, multiplier));
  const [deployer, ...others] = await hre.ethers.getSigners();
  const sent = async () => hre.ethers.provider.getTransactionCount(deployer.address);
  const before = await sent();
  try {
    await ignition.deploy(buildKaisarModule(fixed), { deploymentId });
  } catch (e) {
    const message = (e as Error).message;
    throw new DeployError(
      /[Rr]econciliation/.test(message)
        ? `${message}\nThe deployment in ${path.relative(ROOT, dir)} was started with other arguments: see ${path.relative(ROOT, path.join(dir, "kaisar-parameters.json"))}`
        : message,
    );
  }
  const addressesFile = path.join(dir, "deployed_addresses.json");
  const addresses = Object.fromEntries(
    Object.entries(JSON.parse(readFileSync(addressesFile, "utf8")) as Record<string, string>).map(([k, v]) => [
      k.slice(k.indexOf("#") + 1),
      v,
    ]),
  );
  say(`contracts deployed (${Object.keys(addresses).length}): ${path.relative(ROOT, addressesFile)}`);
  if (deploymentId === `chain-${chainId}`) {
    say(`wrote ${path.relative(ROOT, exportDeployment(chainId, dir))} (addresses and ABIs for the web app)`);
  }

  const accounts = [deployer, ...others];
  const resolve = async (ref: string) => {
    if (ref.startsWith("account:")) return accounts[Number(ref.slice("account:".length))].getAddress();
    if (ref.startsWith("env:")) return hre.ethers.getAddress(process.env[ref.slice("env:".length)] as string);
    return hre.ethers.getAddress(ref);
  };
  const result = await runSetup(parameters.setup, { deployer, addresses, resolve, deploymentDir: dir, say });
  const after = await sent();
  say(
    result.waiting.length
      ? `not finished: ${result.waiting.length} step(s) waiting (above); run \`npm run deploy -- --network ${network}\` again when they can go on`
      : after === before
        ? "nothing to do: the deployment and its setup were complete already"
        : "done: deployed and set up",
  );
}

main().catch((e) => {
  console.error(e instanceof DeployError ? `[deploy] ${e.message}` : e);
  process.exitCode = 1;
});
