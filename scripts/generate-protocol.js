/**
 * Writes offchain/src/generated/protocol.ts (gitignored, never edited) from the compiled contracts:
 * the protocol's vocabulary, so that no package restates it.
 *
 * - every enum of the protocol's sources (contracts/, not contracts/test/), from the compiler's AST:
 *   `export const Plan = { PayAsYouGo: 0, ... } as const`, its type, and `PlanNames` (names by value);
 * - the file-level constants of contracts/types/DataTypes.sol (e.g. `EQUIVOCATION_PENALTY_CODE`);
 * - `PROTOCOL_ERRORS`: every custom error in the ABIs of the protocol's contracts, by name, with its
 *   selector, its inputs and the sentence of its NatSpec (`/// @notice` in contracts/interfaces), and
 *   `kaisarErrorsAbi`, the same errors as ABI fragments (to decode a revert data blob).
 *
 * Run by `hardhat compile` (the task override in hardhat.config.ts), so everything that compiles first
 * (`npm start`, `npm test`, scripts/ensure-build.js, the web app's `generate`) has it; `node
 * scripts/generate-protocol.js` runs it alone on the artifacts already there.
 */
"use strict";
const { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const OUT = path.join(ROOT, "offchain", "src", "generated", "protocol.ts");
const CONSTANTS_SOURCE = "contracts/types/DataTypes.sol";

/** The artifacts (`<name>.json` beside `<name>.dbg.json`) under `dir`, recursively. */
function artifactFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...artifactFiles(p));
    else if (entry.name.endsWith(".dbg.json")) out.push(p.replace(/\.dbg\.json$/, ".json"));
  }
  return out;
}

/** The selector (0x + 8 hex digits) of an error signature. */
function selectorOf(signature) {
  // ethers is the root's dev dependency (Hardhat's toolbox): present wherever contracts compile.
  const { id } = require("ethers");
  return id(signature).slice(0, 10);
}

/** An ABI parameter's canonical type (tuples spelled out), for signatures. */
function canonicalType(input) {
  if (!input.type.startsWith("tuple")) return input.type;
  return `(${input.components.map(canonicalType).join(",")})${input.type.slice("tuple".length)}`;
}

/** A NatSpec notice as one line. */
const oneLine = (text) => text.replace(/\s+/g, " ").trim();

/** The vocabulary read from the artifacts in `artifactsDir`. */
function collect(artifactsDir) {
  const contractsDir = path.join(artifactsDir, "contracts");
  if (!existsSync(contractsDir)) {
    throw new Error(`${path.relative(ROOT, contractsDir)} is missing: run \`npx hardhat compile\` first`);
  }
  const buildInfos = new Map();
  const buildInfo = (file) => {
    if (!buildInfos.has(file)) buildInfos.set(file, JSON.parse(readFileSync(file, "utf8")));
    return buildInfos.get(file);
  };
  const enums = new Map();
  const constants = new Map();
  const errors = new Map();
  const seenSources = new Set();
  for (const file of artifactFiles(contractsDir).sort()) {
    const artifact = JSON.parse(readFileSync(file, "utf8"));
    const source = artifact.sourceName;
    if (!source.startsWith("contracts/") || source.startsWith("contracts/test/")) continue;
    const dbg = JSON.parse(readFileSync(file.replace(/\.json$/, ".dbg.json"), "utf8"));
    const info = buildInfo(path.resolve(path.dirname(file), dbg.buildInfo));
    const output = info.output.contracts[source]?.[artifact.contractName];
    const metadata = output?.metadata ? JSON.parse(output.metadata) : undefined;
    const notices = metadata?.output?.userdoc?.errors ?? {};
    for (const item of artifact.abi) {
      if (item.type !== "error") continue;
      const signature = `${item.name}(${item.inputs.map(canonicalType).join(",")})`;
      const known = errors.get(item.name);
      if (known && known.signature !== signature) {
        throw new Error(`two custom errors are named ${item.name}: ${known.signature} and ${signature}; rename one`);
      }
      const notice = notices[signature]?.map((d) => d.notice).find(Boolean);
      if (!known || (!known.sentence && notice)) {
        errors.set(item.name, {
          signature,
          selector: selectorOf(signature),
          inputs: item.inputs.map((i) => ({ name: i.name, type: canonicalType(i) })),
          ...(notice ? { sentence: oneLine(notice) } : {}),
          fragment: item,
        });
      }
    }
  }
  // Enums and constants from the AST of every protocol source, each from the newest build that
  // compiled it (an incremental build leaves older build-info files, with older ASTs, beside it).
  const newestFirst = [...buildInfos.keys()].sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const file of newestFirst) {
    for (const [name, { ast }] of Object.entries(buildInfo(file).output.sources)) {
      if (!name.startsWith("contracts/") || name.startsWith("contracts/test/") || seenSources.has(name)) continue;
      seenSources.add(name);
      walk(ast, (node) => {
        if (node.nodeType === "EnumDefinition")
          enums.set(
            node.canonicalName,
            node.members.map((m) => m.name),
          );
      });
      if (name === CONSTANTS_SOURCE) {
        for (const node of ast.nodes) {
          if (node.nodeType === "VariableDeclaration" && node.constant && node.value?.nodeType === "Literal") {
            constants.set(node.name, node.value.value);
          }
        }
      }
    }
  }
  return { enums, constants, errors };
}

function walk(node, visit) {
  if (!node || typeof node !== "object") return;
  if (node.nodeType) visit(node);
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) value.forEach((v) => walk(v, visit));
    else if (value && typeof value === "object") walk(value, visit);
  }
}

/** The TypeScript text of `protocol.ts`. */
function render({ enums, constants, errors }) {
  const lines = [
    "// Generated by scripts/generate-protocol.js from the compiled contracts (hardhat compile). Do not edit.",
    "",
  ];
  for (const [name, members] of [...enums].sort(([a], [b]) => a.localeCompare(b))) {
    const id = name.replace(/\./g, "_");
    lines.push(
      `/** \`enum ${name}\`, numbered as on chain. */`,
      `export const ${id} = { ${members.map((m, i) => `${m}: ${i}`).join(", ")} } as const;`,
      `export type ${id} = (typeof ${id})[keyof typeof ${id}];`,
      `/** The names of \`enum ${name}\`, by value. */`,
      `export const ${id}Names = ${JSON.stringify(members)} as const;`,
      `export type ${id}Name = (typeof ${id}Names)[number];`,
      "",
    );
  }
  for (const [name, value] of [...constants].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`/** \`${name}\` of ${CONSTANTS_SOURCE}. */`, `export const ${name} = ${value};`, "");
  }
  const sorted = [...errors].sort(([a], [b]) => a.localeCompare(b));
  const table = Object.fromEntries(
    sorted.map(([name, { signature, selector, inputs, sentence }]) => [
      name,
      { signature, selector, inputs, sentence },
    ]),
  );
  lines.push(
    "/** A custom error of the contracts: its selector, inputs and NatSpec sentence (`name` in backticks: an input). */",
    "export interface ProtocolError {",
    "  signature: string;",
    "  selector: string;",
    "  inputs: readonly { name: string; type: string }[];",
    "  sentence?: string;",
    "}",
    "",
    "/** Every custom error in the ABIs of the protocol's contracts, by name. */",
    `export const PROTOCOL_ERRORS: Record<string, ProtocolError> = ${JSON.stringify(table, null, 2)};`,
    "",
    "/** The same errors as ABI fragments, to decode revert data with any ABI library. */",
    `export const kaisarErrorsAbi = ${JSON.stringify(sorted.map(([, e]) => e.fragment))} as const;`,
    "",
  );
  return lines.join("\n");
}

/**
 * Writes protocol.ts from `artifactsDir` (default: artifacts/) when its text changed. Returns a
 * summary line.
 */
function generateProtocol(artifactsDir = path.join(ROOT, "artifacts"), out = OUT) {
  const vocabulary = collect(artifactsDir);
  const text = render(vocabulary);
  mkdirSync(path.dirname(out), { recursive: true });
  if (!existsSync(out) || readFileSync(out, "utf8") !== text) writeFileSync(out, text);
  return `${path.relative(ROOT, out)}: ${vocabulary.enums.size} enums, ${vocabulary.errors.size} custom errors`;
}

module.exports = { generateProtocol, collect, OUT };

if (require.main === module) {
  try {
    console.log(`[generate] ${generateProtocol()}`);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
