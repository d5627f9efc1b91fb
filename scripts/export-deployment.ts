/**
 * Writes the GENERATED file `deploy/exports/chain-<id>.json` from an Ignition deployment: every
 * contract's address and ABI, for the web app and anything else that talks to the chain:
 *
 *   { "generated": "by scripts/export-deployment.ts", chainId, network,
 *     contracts: { <Name>: { address, abi } } }
 *
 * Addresses come from `deploy/deployments/chain-<id>/deployed_addresses.json`, ABIs from the
 * artifacts Ignition stored with the deployment (what was deployed), else from Hardhat's artifacts/.
 * Never edit an export by hand: deploy, then run this again.
 *
 *   npx ts-node --transpile-only scripts/export-deployment.ts [chainId ...]   (default: every deployment)
 *
 * `npm start` runs it for chain 31337 after each deployment (that export is gitignored).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.join(__dirname, "..");
const DEPLOYMENTS = path.join(ROOT, "deploy", "deployments");
const EXPORTS = path.join(ROOT, "deploy", "exports");

/** Network names of the chains Kaisar deploys to (hardhat.config.ts). */
export const NETWORK_OF_CHAIN: Record<number, string> = { 31337: "localhost", 9990: "agung", 3338: "peaq" };

export interface DeploymentExport {
  generated: string;
  chainId: number;
  network: string;
  contracts: Record<string, { address: string; abi: unknown[] }>;
}

/** The Hardhat artifact of `contractName` under artifacts/contracts (undefined if none). */
function hardhatArtifact(contractName: string): { abi: unknown[] } | undefined {
  const walk = (dir: string): string | undefined => {
    if (!existsSync(dir)) return undefined;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = walk(p);
        if (found) return found;
      } else if (entry.name === `${contractName}.json`) return p;
    }
    return undefined;
  };
  const file = walk(path.join(ROOT, "artifacts", "contracts"));
  return file ? JSON.parse(readFileSync(file, "utf8")) : undefined;
}

/** The export of chain `chainId`'s deployment (read from deploy/deployments/chain-<id>/). */
export function buildExport(chainId: number, deploymentDir = path.join(DEPLOYMENTS, `chain-${chainId}`)) {
  const addressesFile = path.join(deploymentDir, "deployed_addresses.json");
  if (!existsSync(addressesFile)) {
    throw new Error(
      `no deployment of chain ${chainId}: ${path.relative(ROOT, addressesFile)} does not exist ` +
        `(deploy first: npx hardhat ignition deploy deploy/modules/Kaisar.ts --network <name>)`,
    );
  }
  const addresses = JSON.parse(readFileSync(addressesFile, "utf8")) as Record<string, string>;
  const contracts: DeploymentExport["contracts"] = {};
  for (const [futureId, address] of Object.entries(addresses).sort(([a], [b]) => a.localeCompare(b))) {
    const name = futureId.slice(futureId.indexOf("#") + 1);
    const stored = path.join(deploymentDir, "artifacts", `${futureId}.json`);
    const artifact = existsSync(stored) ? JSON.parse(readFileSync(stored, "utf8")) : hardhatArtifact(name);
    if (!artifact?.abi) throw new Error(`no ABI for ${futureId}: run \`npx hardhat compile\` first`);
    contracts[name] = { address, abi: artifact.abi };
  }
  const out: DeploymentExport = {
    generated: "by scripts/export-deployment.ts",
    chainId,
    network: NETWORK_OF_CHAIN[chainId] ?? `chain-${chainId}`,
    contracts,
  };
  return out;
}

/** Writes deploy/exports/chain-<id>.json; returns its path. */
export function exportDeployment(chainId: number, deploymentDir?: string): string {
  const data = buildExport(chainId, deploymentDir);
  mkdirSync(EXPORTS, { recursive: true });
  const file = path.join(EXPORTS, `chain-${chainId}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
  return file;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const ids = args.length
    ? args.map(Number)
    : readdirSync(DEPLOYMENTS)
        .filter((d) => /^chain-\d+$/.test(d))
        .map((d) => Number(d.slice("chain-".length)));
  for (const id of ids) {
    if (!Number.isInteger(id) || id <= 0) {
      console.error(`export-deployment: "${id}" is not a chain id (e.g. 9990 for agung, 3338 for peaq)`);
      process.exit(1);
    }
    try {
      console.log(`wrote ${path.relative(ROOT, exportDeployment(id))}`);
    } catch (e) {
      console.error(`export-deployment: ${(e as Error).message}`);
      process.exit(1);
    }
  }
}
