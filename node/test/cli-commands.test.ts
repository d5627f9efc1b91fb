import { expect } from "chai";
import { execFileSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import os from "os";
import path from "path";

import { EXIT, main } from "../src/cli";
import { CONTRACTS } from "../src/config";
import { clearKaisarEnv } from "./helpers/cli";

const KEY = "0x" + "ab".repeat(32);

/** Runs `kaisar ...args` in-process; returns the exit code and what it printed. */
async function kaisar(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(["node", "kaisar", ...args], { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const SUBCOMMANDS = {
  provider: ["init", "register", "stake", "unstake", "withdraw", "status", "run"],
  checker: ["init", "stake", "delegate-accept", "run", "status"],
  keeper: ["init", "run", "submit", "status"],
};

describe("kaisar (cli)", () => {
  let dir: string;
  const saved = { ...process.env };

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-cli-"));
    clearKaisarEnv();
    // A deployment with every contract (the repository's local one is not committed, and may be stale).
    const deployment = path.join(dir, "deployed_addresses.json");
    const addresses = CONTRACTS.map((name, i) => [`Kaisar#${name}`, "0x" + (i + 1).toString(16).padStart(40, "0")]);
    writeFileSync(deployment, JSON.stringify(Object.fromEntries(addresses)));
    process.env.KAISAR_DEPLOYMENT = deployment;
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    process.env = { ...saved };
  });

  it("lists the three roles in --help", async () => {
    const { code, out } = await kaisar("--help");
    expect(code, "exit code").to.equal(0);
    for (const role of Object.keys(SUBCOMMANDS)) expect(out, role).to.include(role);
    expect(out, "exit codes").to.include("78 configuration error");
  });

  for (const [role, names] of Object.entries(SUBCOMMANDS)) {
    it(`lists the ${role}'s subcommands, each with --help, --config and --json`, async () => {
      const { code, out } = await kaisar(role, "--help");
      expect(code, "exit code").to.equal(0);
      for (const name of names) expect(out, name).to.match(new RegExp(`^  ${name} `, "m"));
      for (const name of names) {
        const help = await kaisar(role, name, "--help");
        expect(help.code, `${name} --help`).to.equal(0);
        expect(help.out, `${name} --config`).to.include("--config <file>");
        expect(help.out, `${name} --json`).to.include("--json");
      }
    });
  }

  it("writes an example config with init, and refuses to overwrite it", async () => {
    const file = path.join(dir, "provider.json");
    const first = await kaisar("provider", "init", "--config", file);
    expect(first.code, "exit code").to.equal(EXIT.ok);
    expect(first.out, "says where").to.include(file);
    expect(JSON.parse(readFileSync(file, "utf8")).role, "role").to.equal("provider");
    const again = await kaisar("provider", "init", "--config", file, "--json");
    expect(again.code, "exit code").to.equal(EXIT.error);
    expect(JSON.parse(again.out).error, "json error").to.match(/already exists/);
    expect((await kaisar("provider", "init", "--config", file, "--force")).code, "--force").to.equal(EXIT.ok);
  });

  it("stops with 78 and every problem when the config is bad", async () => {
    const { code, err } = await kaisar("checker", "run", "--config", path.join(dir, "missing.json"));
    expect(code, "exit code").to.equal(EXIT.config);
    expect(err, "names the file").to.include("missing.json does not exist");
    expect(err, "says how to fix").to.include("kaisar checker init --config");
  });

  it("prints config problems as JSON with --json", async () => {
    const file = path.join(dir, "keeper.json");
    await kaisar("keeper", "init", "--config", file);
    const { code, out } = await kaisar("keeper", "status", "--config", file, "--json");
    expect(code, "exit code").to.equal(EXIT.config);
    const json = JSON.parse(out);
    expect(
      json.problems.map((p: { key: string }) => p.key),
      "problems",
    ).to.deep.equal(["privateKey"]);
    expect(json.problems[0].env, "env").to.equal("KAISAR_PRIVATE_KEY");
  });

  it("validates the config, then reaches for the chain: exit 1 naming rpcUrl when no node answers", async () => {
    const file = path.join(dir, "provider.json");
    await kaisar("provider", "init", "--config", file);
    process.env.KAISAR_PRIVATE_KEY = KEY;
    process.env.KAISAR_RPC_URL = "http://127.0.0.1:9"; // discard: nothing answers JSON-RPC there
    // `run` serves checkers and `register` detects hardware first (test/provider-cli.test.ts, provider-chain.test.ts).
    for (const name of ["stake", "withdraw", "status"]) {
      const { code, err } = await kaisar("provider", name, "--config", file);
      expect(code, `${name} exit code`).to.equal(EXIT.error);
      expect(err, name).to.include(`kaisar provider ${name}: no JSON-RPC endpoint answered`).and.include("rpcUrl");
    }
    const unstake = await kaisar("provider", "unstake", "--config", file);
    expect(unstake.err, "unstake needs --amount").to.include("--amount is required");
    const { out } = await kaisar("provider", "status", "--config", file, "--json");
    expect(JSON.parse(out), "json").to.deep.include({ ok: false });
    expect(JSON.parse(out).error, "json error").to.include("rpcUrl (env KAISAR_RPC_URL) http://127.0.0.1:9");
  });

  it("reads the config file from KAISAR_CONFIG", async () => {
    const file = path.join(dir, "checker.json");
    process.env.KAISAR_CONFIG = file;
    expect((await kaisar("checker", "init")).code, "init").to.equal(EXIT.ok);
    expect(existsSync(file), "written where KAISAR_CONFIG says").to.be.true;
  });

  it("exits 1 on an unknown command or option", async () => {
    expect((await kaisar("miner")).code, "unknown role").to.equal(1);
    expect((await kaisar("provider", "mine")).code, "unknown command").to.equal(1);
    expect((await kaisar("provider", "status", "--frobnicate")).code, "unknown option").to.equal(1);
  });

  it("runs as the installed `kaisar` binary (bin/kaisar.js)", function () {
    this.timeout(30_000);
    const bin = path.join(__dirname, "..", "bin", "kaisar.js");
    const out = execFileSync(process.execPath, [bin, "provider", "--help"], { encoding: "utf8" });
    expect(out, "help").to.include("Usage: kaisar provider");
    let code = 0;
    try {
      execFileSync(process.execPath, [bin, "keeper", "submit", "--config", path.join(dir, "none.json")], {
        stdio: "pipe",
      });
    } catch (e) {
      code = (e as { status: number }).status;
    }
    expect(code, "exit code of a config error").to.equal(EXIT.config);
  });
});
