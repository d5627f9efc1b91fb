/**
 * Environment variable names come from the settings table (src/config/schema.ts), and the code outside
 * src/config/ names them through it (`ENV.<key>`), never by hand.
 */
import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "fs";
import path from "path";

import { CONFIG_FILE_ENV, CONTRACTS, ENV, SETTINGS, contractEnv, envName, loadConfig } from "../src/config";

const SRC = path.join(__dirname, "..", "src");

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sources(file) : file.endsWith(".ts") ? [file] : [];
  });
}

describe("config: environment variable names", () => {
  it("derives each setting's variable from its key", () => {
    expect(envName("listen.port")).to.equal("KAISAR_LISTEN_PORT");
    expect(envName("nodeId")).to.equal("KAISAR_NODE_ID");
    expect(envName("challenge.maxN")).to.equal("KAISAR_CHALLENGE_MAX_N");
    expect(envName("maxFeePerGasGwei")).to.equal("KAISAR_MAX_FEE_PER_GAS_GWEI");
    expect(contractEnv("RentalEscrow")).to.equal("KAISAR_CONTRACT_RENTAL_ESCROW");
    expect(CONFIG_FILE_ENV).to.equal("KAISAR_CONFIG");
    // The one name older than the rule stays as deployed.
    expect(ENV["schedule.probeTimeout"]).to.equal("KAISAR_PROBE_TIMEOUT");
    for (const s of SETTINGS) {
      expect(ENV[s.key as keyof typeof ENV], s.key).to.equal(s.env);
      if (s.key !== "schedule.probeTimeout") expect(s.env, s.key).to.equal(envName(s.key));
    }
  });

  it("gives every setting and contract a variable of its own", () => {
    const names = [...SETTINGS.map((s) => s.env), ...CONTRACTS.map(contractEnv), CONFIG_FILE_ENV];
    expect(new Set(names).size).to.equal(names.length);
  });

  it("reads a setting from its derived variable", () => {
    const config = loadConfig("keeper", {
      env: {
        [ENV.chainId]: "31337",
        [ENV.rpcUrl]: "http://127.0.0.1:8545",
        [ENV.privateKey]: "0x" + "ab".repeat(32),
        [ENV.feeBumpPercent]: "35",
        ...Object.fromEntries(CONTRACTS.map((c, i) => [contractEnv(c), "0x" + (i + 1).toString(16).padStart(40, "0")])),
      },
    });
    expect(config.feeBumpPercent).to.equal(35);
  });

  it("names no setting's variable by hand outside src/config/", () => {
    // src/devnet and chain/devnet.ts leave the package (issue #12, item 3).
    const skip = [path.join(SRC, "config"), path.join(SRC, "devnet"), path.join(SRC, "chain", "devnet.ts")];
    const settingNames = new Set([...SETTINGS.map((s) => s.env), CONFIG_FILE_ENV]);
    const found: string[] = [];
    for (const file of sources(SRC).filter((f) => !skip.some((s) => f.startsWith(s)))) {
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          for (const m of line.matchAll(/KAISAR_[A-Z0-9_]+/g)) {
            if (settingNames.has(m[0]) || m[0].startsWith("KAISAR_CONTRACT_")) {
              found.push(`${path.relative(SRC, file)}:${i + 1} ${m[0]}`);
            }
          }
        });
    }
    expect(found, "use ENV.<key> from src/config").to.deep.equal([]);
  });
});
