import "@nomicfoundation/hardhat-toolbox";
import "@nomicfoundation/hardhat-ignition-ethers";
import { subtask, task } from "hardhat/config";
import { TASK_COMPILE, TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig, NetworkUserConfig } from "hardhat/types";

// Variables from a local .env file, if there is one (see .env.example); the shell wins.
try {
  process.loadEnvFile(".env");
} catch {
  // no .env: the environment alone
}

// The solc version pinned in package.json. Hardhat would download a native compiler; this
// machine (and CI) has no network beyond npm, so we hand it the solc-js build from npm instead.
const SOLC_VERSION = "0.8.28";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc");
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: solc.version() as string,
  };
});

// Every compile also writes the protocol's vocabulary for the TypeScript packages (enums, custom errors
// and their NatSpec sentences) into offchain/src/generated/protocol.ts: scripts/generate-protocol.js.
// Not from coverage's instrumented build (KAISAR_COVERAGE_PATHS), which must not rewrite shared outputs.
task(TASK_COMPILE, async (args, hre, runSuper) => {
  const result = await runSuper(args);
  if (process.env.KAISAR_COVERAGE_PATHS !== "1") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const line: string = require("./scripts/generate-protocol").generateProtocol(hre.config.paths.artifacts);
    if (!(args as { quiet?: boolean }).quiet) console.log(`Generated ${line}`);
  }
  return result;
});

// `hardhat test` and `hardhat coverage` run on a chain whose clock only the tests move (each block its
// parent's time + 1 s unless a test sets it): no test depends on how fast the machine runs.
if (process.env.KAISAR_WALL_CLOCK_CHAIN !== "1" && ["test", "coverage"].some((t) => process.argv.includes(t))) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("./test/helpers/chainClock").installChainClock();
}

/** The --network of this command (or HARDHAT_NETWORK). */
const NETWORK_ARG = process.argv.indexOf("--network");
const SELECTED_NETWORK = NETWORK_ARG >= 0 ? process.argv[NETWORK_ARG + 1] : process.env.HARDHAT_NETWORK;

/** A remote network whose RPC URL and deployer key come from the environment only. */
function remoteNetwork(name: string, urlVar: string, chainId: number): NetworkUserConfig {
  const key = process.env.DEPLOYER_PRIVATE_KEY;
  // Selected without its settings: say which variable is missing instead of Hardhat's HH117.
  if (SELECTED_NETWORK === name) {
    const deploying = process.argv.some((a) => a === "deploy" || a.endsWith("scripts/deploy.ts"));
    const missing = [urlVar, ...(deploying ? ["DEPLOYER_PRIVATE_KEY"] : [])].filter((v) => !process.env[v]);
    if (missing.length) {
      throw new Error(
        `--network ${name} needs ${missing.join(" and ")}: set it in .env (see .env.example) or export it`,
      );
    }
  }
  return {
    url: process.env[urlVar] ?? "",
    chainId,
    accounts: key ? [key] : [],
    // Frontier's gas estimates can come in low (see shared/peaq.md): Hardhat's own transactions and
    // `npm run deploy`'s (scripts/deploy.ts hands it to Ignition) ask for this much more gas.
    gasMultiplier: 1.75,
  };
}

function compilerSettings(runs: number) {
  return {
    version: SOLC_VERSION,
    settings: {
      // peaq's Frontier runs Cancun; OZ 5 needs mcopy, and we use transient storage.
      evmVersion: "cancun",
      optimizer: { enabled: true, runs },
      viaIR: false,
    },
  };
}

// The escrow is the largest contract: at 10,000 runs it sits a few bytes under the 24,576-byte
// limit, at 2,000 it keeps ~2.8 KB of room for a few hundred gas per call (see bench/README.md).
const ESCROW_SETTINGS = compilerSettings(2_000);

const config: HardhatUserConfig = {
  solidity: {
    compilers: [compilerSettings(10_000)],
    overrides: {
      "contracts/escrow/RentalEscrow.sol": ESCROW_SETTINGS,
      // The harness adds test entry points to the whole escrow: fewer runs keep it under the limit
      // (its gas is never measured; the behaviour does not depend on the optimizer's runs).
      "contracts/test/RentalModelHarness.sol": compilerSettings(200),
    },
  },
  networks: {
    hardhat: {
      hardfork: "cancun",
      chainId: 31337,
      // A network the node software runs against (npm start, the node tests) keeps block time on the wall
      // clock, as checkers and keepers do: a burst of transactions must not push it ahead by a second a block.
      allowBlocksWithSameTimestamp: process.env.KAISAR_WALL_CLOCK_CHAIN === "1",
      // `npm start -- --persist` replays a saved chain on one whose genesis has the saved genesis time.
      ...(process.env.KAISAR_CHAIN_INITIAL_DATE ? { initialDate: process.env.KAISAR_CHAIN_INITIAL_DATE } : {}),
    },
    localhost: {
      url: process.env.LOCAL_RPC_URL ?? "http://127.0.0.1:8545",
      chainId: 31337,
      // A rehearsal of a peaq deployment on a local node can take peaq's multiplier (KAISAR_GAS_MULTIPLIER=1.75).
      gasMultiplier: Number(process.env.KAISAR_GAS_MULTIPLIER || 1),
    },
    agung: remoteNetwork("agung", "AGUNG_RPC_URL", 9990),
    peaq: remoteNetwork("peaq", "PEAQ_RPC_URL", 3338),
  },
  sourcify: { enabled: true },
  etherscan: { enabled: false },
  paths: {
    ignition: "deploy",
    // `npm test` runs coverage beside other Hardhat runs: solidity-coverage compiles its instrumented
    // contracts into the configured artifacts and cache, which must then not be the shared ones.
    ...(process.env.KAISAR_COVERAGE_PATHS === "1"
      ? { artifacts: ".coverage/artifacts", cache: ".coverage/cache" }
      : {}),
  },
  // Nor may its compile rewrite the types the other checks read (the plain compile made them first).
  typechain: {
    outDir: "typechain-types",
    target: "ethers-v6",
    dontOverrideCompile: process.env.KAISAR_COVERAGE_PATHS === "1",
  },
  gasReporter: { enabled: process.env.REPORT_GAS === "true" },
  mocha: { timeout: 120_000 },
};

export default config;
