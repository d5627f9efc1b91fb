/**
 * The devnet as its own workspace (issue #12, item 3): the node package holds none of it and imports
 * none of it, no devnet module keeps mutable state at module level, every file stays short, and its
 * environment variables live in one table (./src/env.ts) that `--help`, the settings, the port
 * messages and the e2e tests' ports all come from.
 */
import { readFileSync, readdirSync, existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";

import { expect } from "chai";

import { SETTINGS, shiftedPorts } from "../src/env";
import { HELP } from "../src/help";
import { checkPorts, portsOf } from "../src/ports";
import { StartError, readSettings } from "../src/settings";

const ROOT = path.resolve(__dirname, "..", "..");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

describe("devnet: its own workspace, one table of variables", function () {
  it("the node package holds no devnet code and imports none", function () {
    expect(existsSync(path.join(ROOT, "node", "src", "devnet"))).to.equal(false);
    expect(existsSync(path.join(ROOT, "node", "src", "chain", "devnet.ts"))).to.equal(false);
    const importsDevnet = tsFiles(path.join(ROOT, "node", "src")).filter((f) =>
      /from\s+["'][^"']*\/devnet(\/|["'])/.test(readFileSync(f, "utf8")),
    );
    expect(importsDevnet.map((f) => path.relative(ROOT, f))).to.deep.equal([]);
  });

  it("keeps no mutable state at module level, and every file under 400 lines", function () {
    for (const f of tsFiles(path.join(ROOT, "devnet", "src"))) {
      const lines = readFileSync(f, "utf8").split("\n");
      const name = path.relative(ROOT, f);
      expect(lines.length, `${name} has ${lines.length} lines`).to.be.below(400);
      const mutable = lines.filter(
        (l) => /^(export )?(let|var) /.test(l) || /^(export )?const \w+(: [^=]+)? = (new (Map|Set)\b|\[\])/.test(l),
      );
      expect(mutable, `${name}: module-level mutable state`).to.deep.equal([]);
    }
  });

  it("reads each setting from its variable, naming the variable when a value is bad", function () {
    const s = readSettings([], {});
    for (const [key, v] of Object.entries(SETTINGS)) expect(s[key as keyof typeof SETTINGS]).to.equal(v.fallback);
    expect(readSettings(["--verbose"], { KAISAR_RPC_PORT: "28845", KAISAR_EPOCH_SECONDS: "" })).to.include({
      rpcPort: 28845,
      epochSeconds: 60,
      verbose: true,
    });
    expect(() => readSettings([], { KAISAR_AGENT_PORT: "70000" }))
      .to.throw(StartError)
      .with.property("message", "KAISAR_AGENT_PORT=70000 is not a port (a whole number in 1..65535)");
    expect(() => readSettings([], { KAISAR_EPOCH_SECONDS: "9" })).to.throw(
      "KAISAR_EPOCH_SECONDS=9 is not an epoch length in seconds (a whole number in 10..86400)",
    );
  });

  it("--help lists every variable with its default, from the table", function () {
    for (const v of Object.values(SETTINGS)) {
      expect(HELP).to.include(`  ${`${v.name} [${v.fallback}]`.padEnd(28)}${v.help[0]}`);
    }
    expect(HELP).to.include("  KAISAR_RPC_PORT [8545]      the chain's JSON-RPC port\n");
  });

  it("shifts every port variable for the e2e tests (default + shift)", function () {
    expect(shiftedPorts(10_300)).to.deep.equal({
      KAISAR_RPC_PORT: "18845",
      KAISAR_WEB_PORT: "15473",
      KAISAR_AGENT_PORT: "18850",
      KAISAR_CHECKER_PORT: "18860",
      KAISAR_KEEPER_PORT: "18870",
    });
  });

  it("names the variable of a port set twice, and of a port in use", async function () {
    const s = { ...readSettings([], {}), web: true };
    let message = "";
    await checkPorts(portsOf({ ...s, keeperPort: s.rpcPort })).catch((e: Error) => {
      expect(e).to.be.instanceOf(StartError);
      message = e.message;
    });
    expect(message).to.equal(
      `port ${s.rpcPort} is set for both the chain's JSON-RPC (KAISAR_RPC_PORT) and the keeper's API (KAISAR_KEEPER_PORT): change one`,
    );
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const busy = (server.address() as net.AddressInfo).port;
    try {
      message = "";
      // The first agent's port only (whatever listens on the others is not this test's).
      const ports = portsOf({ ...s, agentPort: busy }).filter((u) => u.port === busy);
      await checkPorts(ports).catch((e: Error) => (message = e.message));
      expect(message).to.equal(
        `port ${busy} (provider agent agent-h100) is in use: stop whatever listens there, or set KAISAR_AGENT_PORT (the first of 5) to a free port`,
      );
    } finally {
      server.close();
    }
  });
});
