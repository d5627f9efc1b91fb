import { expect } from "chai";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import os from "os";
import path from "path";

import {
  CONTRACTS,
  ConfigError,
  ROLES,
  ROLE_CONTRACTS,
  SettingValueError,
  contractEnv,
  exampleConfig,
  loadConfig,
  parseAddress,
  parseChainId,
  parseDuration,
  parseHttpUrl,
  parseHttpUrlList,
  parsePort,
  parsePrivateKey,
  redacted,
  writeExampleConfig,
  type ConfigProblem,
  type Role,
} from "../src/config";

const KEY = "0x" + "ab".repeat(32);
const ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

/** A deployment file with every contract, as Ignition writes it. */
function deploymentJson(except: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  CONTRACTS.forEach((name, i) => {
    if (!except.includes(name)) out[`Kaisar#${name}`] = "0x" + (i + 1).toString(16).padStart(40, "0");
  });
  return out;
}

describe("config", () => {
  let dir: string;
  let repoRoot: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-config-"));
    repoRoot = path.join(dir, "repo");
    const deployments = path.join(repoRoot, "deploy", "deployments", "chain-31337");
    mkdirSync(deployments, { recursive: true });
    writeFileSync(path.join(deployments, "deployed_addresses.json"), JSON.stringify(deploymentJson()));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writeConfig = (obj: unknown, name = "kaisar.json") => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof obj === "string" ? obj : JSON.stringify(obj));
    return file;
  };
  const common = { chainId: 31337, rpcUrl: "http://127.0.0.1:8545" };
  const base = { ...common, publicUrl: "http://127.0.0.1:8550" };

  /** The problems loading fails with. */
  function problems(role: Role, file: string | undefined, env: NodeJS.ProcessEnv = {}): ConfigProblem[] {
    try {
      loadConfig(role, { file, env, cwd: dir, repoRoot });
    } catch (e) {
      expect(e, "a ConfigError").to.be.instanceOf(ConfigError);
      return (e as ConfigError).problems;
    }
    expect.fail("the configuration loaded");
  }

  describe("parsers", () => {
    it("parses private keys, with or without 0x, and refuses malformed ones without echoing them", () => {
      expect(parsePrivateKey(KEY), "0x").to.equal(KEY);
      expect(parsePrivateKey("AB".repeat(32)), "no 0x, upper case").to.equal(KEY);
      for (const bad of ["0x1234", "0x" + "zz".repeat(32), "0x" + "00".repeat(32), "0x" + "ff".repeat(32)]) {
        expect(() => parsePrivateKey(bad), bad).to.throw(SettingValueError);
        try {
          parsePrivateKey(bad);
        } catch (e) {
          expect((e as Error).message, "no echo").to.not.include(bad.slice(2, 6));
        }
      }
      expect(() => parsePrivateKey(42), "a number").to.throw(SettingValueError, /not a hex string/);
    });

    it("parses addresses: checksummed, lower case or upper case; refuses a wrong checksum", () => {
      expect(parseAddress(ADDRESS.toLowerCase()), "lower").to.equal(ADDRESS);
      expect(parseAddress(ADDRESS), "checksummed").to.equal(ADDRESS);
      expect(parseAddress("0x" + ADDRESS.slice(2).toUpperCase()), "upper").to.equal(ADDRESS);
      expect(() => parseAddress(ADDRESS.replace("F", "f")), "bad checksum").to.throw(SettingValueError, /checksum/);
      expect(() => parseAddress("0x1234"), "short").to.throw(SettingValueError, /40 hex digits/);
    });

    it("parses http(s) URLs only", () => {
      expect(parseHttpUrl(" https://rpc.example.com/v1?key=1 "), "https").to.equal("https://rpc.example.com/v1?key=1");
      expect(() => parseHttpUrl("ws://127.0.0.1:8546"), "ws").to.throw(SettingValueError, /not http or https/);
      expect(() => parseHttpUrl("localhost:8545"), "no scheme").to.throw(SettingValueError);
      expect(() => parseHttpUrl("nonsense"), "not a URL").to.throw(SettingValueError, /not a URL/);
      expect(parseHttpUrlList("http://a:1, https://b"), "comma list").to.deep.equal(["http://a:1", "https://b"]);
      expect(() => parseHttpUrlList(["http://a", "ftp://b"]), "bad item").to.throw(SettingValueError, /item 2/);
    });

    it("parses ports and chain ids", () => {
      expect(parsePort(8545), "number").to.equal(8545);
      expect(parsePort("8545"), "string").to.equal(8545);
      for (const bad of [0, 65_536, "80a", 1.5, -1])
        expect(() => parsePort(bad), String(bad)).to.throw(SettingValueError);
      expect(parseChainId("3338"), "peaq").to.equal(3338);
      expect(() => parseChainId(0), "0").to.throw(SettingValueError);
    });

    it("parses durations with units into milliseconds, and refuses bare numbers", () => {
      expect(parseDuration("500ms"), "ms").to.equal(500);
      expect(parseDuration("15m"), "minutes").to.equal(900_000);
      expect(parseDuration("1h30m"), "compound").to.equal(5_400_000);
      expect(parseDuration("14d"), "days").to.equal(14 * 86_400_000);
      for (const bad of [60, "60", "1 h", "0s", "1y", "-1s"]) {
        expect(() => parseDuration(bad), String(bad)).to.throw(SettingValueError);
      }
    });
  });

  describe("loadConfig", () => {
    it("loads a provider config from the file, addresses from the chain's deployment file", () => {
      const file = writeConfig({ ...base, privateKey: KEY, listen: { port: 9000 } });
      const config = loadConfig("provider", { file, env: {}, cwd: dir, repoRoot });
      expect(config.chainId, "chain").to.equal(31337);
      expect(config.listen, "listen").to.deep.equal({ host: "0.0.0.0", port: 9000 });
      expect(config.dataDir, "data dir relative to the file").to.equal(path.join(dir, ".kaisar", "provider"));
      expect(config.contracts.RentalEscrow, "escrow").to.equal(parseAddress(deploymentJson()["Kaisar#RentalEscrow"]));
      expect(config.deployment, "deployment file").to.equal(
        path.join(repoRoot, "deploy", "deployments", "chain-31337", "deployed_addresses.json"),
      );
      expect(config.configFile, "file").to.equal(file);
      expect(redacted(config).privateKey, "redacted").to.equal("<redacted>");
    });

    it("lets the environment override the file", () => {
      const file = writeConfig({ ...base, privateKey: KEY });
      const config = loadConfig("provider", {
        file,
        cwd: dir,
        repoRoot,
        env: {
          KAISAR_RPC_URL: "https://rpc.example.com",
          KAISAR_LISTEN_PORT: "9100",
          KAISAR_CONTRACT_RENTAL_ESCROW: ADDRESS.toLowerCase(),
          KAISAR_DATA_DIR: "state",
        },
      });
      expect(config.rpcUrl, "rpc").to.equal("https://rpc.example.com");
      expect(config.listen.port, "port").to.equal(9100);
      expect(config.contracts.RentalEscrow, "escrow override").to.equal(ADDRESS);
      expect(config.dataDir, "env paths are relative to the working directory").to.equal(path.join(dir, "state"));
    });

    it("works from the environment alone", () => {
      const config = loadConfig("keeper", {
        cwd: dir,
        repoRoot,
        env: {
          KAISAR_CHAIN_ID: "31337",
          KAISAR_RPC_URL: "http://x:8545",
          KAISAR_PRIVATE_KEY: KEY,
          KAISAR_POLL_INTERVAL: "5s",
        },
      });
      expect(config.configFile, "no file").to.equal(undefined);
      expect(config.pollInterval, "poll").to.equal(5_000);
      expect(config.checkers, "default").to.deep.equal([]);
      expect(Object.keys(config.contracts).sort(), "every contract of the deployment").to.deep.equal(
        [...CONTRACTS].sort(),
      );
    });

    it("reads the checker's schedule and peers", () => {
      const file = writeConfig({
        ...common,
        privateKey: KEY,
        schedule: { heartbeat: "30s" },
        peers: ["http://10.0.0.2:8551"],
      });
      const config = loadConfig("checker", { file, env: { KAISAR_PEERS: "" }, cwd: dir, repoRoot });
      expect(config.schedule, "schedule").to.deep.equal({
        heartbeat: 30_000,
        capacity: 900_000,
        hardware: 86_400_000,
        probeTimeout: 10_000,
      });
      expect(config.peers, "peers (an empty env value is unset)").to.deep.equal(["http://10.0.0.2:8551"]);
      expect(config.challenge.n, "challenge size").to.equal(1024);
    });

    it("names every missing setting with its file key, its env var and the fix", () => {
      const found = problems("provider", undefined);
      expect(
        found.map((p) => p.key),
        "missing",
      ).to.deep.equal(["chainId", "rpcUrl", "privateKey", "publicUrl"]);
      const key = found.find((p) => p.key === "privateKey")!;
      expect(key.env, "env").to.equal("KAISAR_PRIVATE_KEY");
      expect(key.problem, "problem").to.match(/is not set/);
      expect(key.fix, "fix").to.match(/export KAISAR_PRIVATE_KEY.*64 hex digits/);
    });

    it("reports malformed values with their source, and the message lists them all", () => {
      const file = writeConfig({ ...common, privateKey: "0x1234", rpcUrl: "ftp://x", listen: { port: 0 } });
      const env = { KAISAR_SCHEDULE_HEARTBEAT: "60" };
      let message = "";
      try {
        loadConfig("checker", { file, env, cwd: dir, repoRoot });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, "count").to.match(/has 4 problems/);
      expect(message, "url").to.include(`rpcUrl (env KAISAR_RPC_URL): (in ${file}) "ftp://x" is a ftp URL`);
      expect(message, "key").to.include("privateKey (env KAISAR_PRIVATE_KEY): (in");
      expect(message, "port").to.include("listen.port (env KAISAR_LISTEN_PORT)");
      expect(message, "duration").to.include(
        'schedule.heartbeat (env KAISAR_SCHEDULE_HEARTBEAT): (from KAISAR_SCHEDULE_HEARTBEAT) "60" is not a duration',
      );
      expect(message, "fix lines").to.include("    fix: ");
      expect(message, "the key is not echoed").to.not.include("0x1234");
    });

    it("refuses unknown keys, suggesting the right name", () => {
      const file = writeConfig({ ...base, privateKey: KEY, rpcURL: "http://x", listen: { prot: 1 }, $note: "comment" });
      const found = problems("provider", file);
      expect(
        found.map((p) => p.key),
        "unknown",
      ).to.deep.equal(["rpcURL", "listen.prot"]);
      expect(found[0].problem, "suggestion").to.include('did you mean "rpcUrl"?');
      expect(found[1].problem, "nested suggestion").to.include('did you mean "port"?');
    });

    it("refuses a setting of another role, a file of another role, bad JSON and a missing explicit file", () => {
      expect(
        problems("provider", writeConfig({ ...base, privateKey: KEY, peers: [] })).map((p) => p.key),
        "peers is the checker's",
      ).to.deep.equal(["peers"]);
      expect(
        problems("checker", writeConfig({ ...common, role: "provider", privateKey: KEY }))[0].key,
        "role",
      ).to.equal("role");
      expect(problems("keeper", writeConfig("{ chainId: 1 }"))[0].problem, "JSON").to.match(/not valid JSON/);
      expect(problems("keeper", path.join(dir, "nope.json"))[0].problem, "missing file").to.match(/does not exist/);
    });

    it("says which contract has no address and how to fix it", () => {
      const deployment = path.join(dir, "old.json");
      writeFileSync(deployment, JSON.stringify(deploymentJson(["SlaEnforcer"])));
      const file = writeConfig({ ...common, privateKey: KEY, deployment: "old.json" });
      const found = problems("keeper", file);
      expect(
        found.map((p) => p.key),
        "missing",
      ).to.deep.equal(["contracts.SlaEnforcer"]);
      expect(found[0].env, "env").to.equal("KAISAR_CONTRACT_SLA_ENFORCER");
      expect(found[0].problem, "why").to.include(`${deployment} has no "Kaisar#SlaEnforcer"`);
      // The override fixes it.
      const config = loadConfig("keeper", { file, env: { KAISAR_CONTRACT_SLA_ENFORCER: ADDRESS }, cwd: dir, repoRoot });
      expect(config.contracts.SlaEnforcer, "override").to.equal(ADDRESS);
    });

    it("reports a chain without a deployment file, for every contract the role needs", () => {
      const file = writeConfig({ ...base, chainId: 9990, privateKey: KEY });
      const found = problems("provider", file);
      expect(
        found.map((p) => p.key),
        "contracts",
      ).to.deep.equal(ROLE_CONTRACTS.provider.map((c) => `contracts.${c}`));
      expect(found[0].problem, "why").to.match(/chain-9990.*does not exist/);
      const all = Object.fromEntries(ROLE_CONTRACTS.provider.map((c) => [c, ADDRESS]));
      expect(
        loadConfig("provider", {
          file: writeConfig({ ...base, chainId: 9990, privateKey: KEY, contracts: all }),
          env: {},
          cwd: dir,
          repoRoot,
        }).deployment,
        "every address set",
      ).to.equal(undefined);
    });

    it("refuses a malformed contract address in an override", () => {
      const file = writeConfig({ ...base, privateKey: KEY, contracts: { NodeRegistry: "0x12" } });
      expect(
        problems("provider", file).map((p) => p.key),
        "override",
      ).to.deep.equal(["contracts.NodeRegistry"]);
    });

    it("names the contract env variables after the contracts", () => {
      expect(contractEnv("RentalEscrow"), "escrow").to.equal("KAISAR_CONTRACT_RENTAL_ESCROW");
      expect(contractEnv("KaiToken"), "token").to.equal("KAISAR_CONTRACT_KAI_TOKEN");
    });
  });

  describe("example config", () => {
    for (const role of ROLES) {
      it(`${role}: documents every setting and loads once the key is given`, () => {
        const file = writeExampleConfig(role, path.join(dir, `kaisar.${role}.json`));
        const json = JSON.parse(readFileSync(file, "utf8"));
        expect(json.role, "role").to.equal(role);
        expect(json.$chainId, "comment names the env var").to.include("KAISAR_CHAIN_ID");
        expect(json.listen.$port, "nested comment").to.include("KAISAR_LISTEN_PORT");
        expect(json.$contracts, "contracts comment").to.include(contractEnv("RentalEscrow"));
        expect(
          problems(role, file).map((p) => p.key),
          "only the key is missing",
        ).to.deep.equal(["privateKey"]);
        const config = loadConfig(role, { file, env: { KAISAR_PRIVATE_KEY: KEY }, cwd: dir, repoRoot });
        expect(config.role, "loaded").to.equal(role);
        expect(exampleConfig(role), "deterministic").to.deep.equal(json);
      });
    }

    it("refuses to overwrite without force", () => {
      const file = writeExampleConfig("keeper", path.join(dir, "k.json"));
      expect(() => writeExampleConfig("keeper", file), "exists").to.throw(/already exists/);
      expect(writeExampleConfig("keeper", file, true), "force").to.equal(file);
    });
  });
});
