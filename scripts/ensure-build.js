/**
 * Builds what the node software needs to run from a checkout when it is missing or stale: the compiled
 * contracts (artifacts/), their TypeChain bindings (typechain-types/) and the protocol's vocabulary
 * for the TypeScript packages (offchain/src/generated/protocol.ts), all written by `hardhat compile`. `npm start` and the `kaisar` command call it first, so a fresh clone runs after
 * `npm ci` alone. It says in one line what it builds and why, and nothing when all is up to date.
 *
 * Stale means: a `.sol` file under contracts/ (or hardhat.config.ts, or package-lock.json) is newer
 * than the last build (the stamp this script writes after one, else the bindings' own files), or an
 * output the node software needs is missing.
 * Hardhat's own cache then decides what to recompile.
 */
"use strict";
const { spawnSync } = require("node:child_process");
const { existsSync, readdirSync, statSync, writeFileSync, mkdirSync } = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const STAMP = path.join(ROOT, "cache", "kaisar-build.stamp");
/** Outputs the node software imports; a missing one means a build is needed. */
const OUTPUTS = [
  "typechain-types/index.ts",
  "typechain-types/factories/contracts/checker/CheckerLicense__factory.ts",
  "artifacts/contracts/escrow/RentalEscrow.sol/RentalEscrow.json",
  "offchain/src/generated/protocol.ts",
];
/** Inputs outside contracts/ whose change calls for a build. */
const INPUTS = ["hardhat.config.ts", "package-lock.json", "scripts/generate-protocol.js"];

/** The newest modification time (ms) of the `.sol` files under `dir`. */
function newestSol(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSol(p));
    else if (entry.name.endsWith(".sol")) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Why a build is needed (a sentence), or null when the outputs are up to date. */
function staleReason(root = ROOT) {
  const missing = OUTPUTS.filter((o) => !existsSync(path.join(root, o)));
  if (missing.length > 0) return `${missing[0]} is missing`;
  // The last build: this script's stamp, else the bindings' index (`hardhat compile` run by hand).
  const stamp = path.join(root, "cache", "kaisar-build.stamp");
  const built = statSync(existsSync(stamp) ? stamp : path.join(root, OUTPUTS[0])).mtimeMs;
  if (newestSol(path.join(root, "contracts")) > built)
    return "a contract under contracts/ changed since the last build";
  for (const input of INPUTS) {
    const p = path.join(root, input);
    if (existsSync(p) && statSync(p).mtimeMs > built) return `${input} changed since the last build`;
  }
  return null;
}

/**
 * Compiles when needed. `say` prints the one line (default: to stderr, prefixed `[build]`). Throws
 * with hardhat's exit status when the compilation fails (its output is shown).
 */
function ensureBuild(say = (line) => process.stderr.write(`[build] ${line}\n`)) {
  const reason = staleReason();
  if (reason === null) return false;
  say(`compiling the contracts and generating their TypeChain bindings (${reason}): hardhat compile`);
  const hardhat = path.join(ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js");
  if (!existsSync(hardhat)) {
    throw new Error(`Hardhat is not installed in ${ROOT}: run \`npm ci\` in the repository's root first`);
  }
  const result = spawnSync(process.execPath, [hardhat, "compile", "--quiet"], { cwd: ROOT, stdio: "inherit" });
  if (result.status !== 0) {
    throw new Error(
      `hardhat compile failed (exit ${result.status ?? result.signal}): fix the error above, then run again`,
    );
  }
  mkdirSync(path.dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  return true;
}

module.exports = { ensureBuild, staleReason };

if (require.main === module) {
  try {
    ensureBuild();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
