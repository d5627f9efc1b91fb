import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import os from "os";
import path from "path";

import { Interface } from "ethers";

import { discoverNodes } from "../src/chain/discovery";
import { governanceExecute, kai, nodeSpecOf } from "../../devnet/src/governance";
import { EXIT, main, type RunHooks } from "../src/cli";
import { startLocalChain, type LocalChain } from "./helpers/localChain";
import { freeTcpPort as freePort, until } from "./helpers/support";
import { clearKaisarEnv, kaisar as run } from "./helpers/cli";

describe("kaisar checker on a local chain: stake, delegate-accept, status, node discovery", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let dir: string;
  let configFile: string;
  const saved = { ...process.env };
  const operator = () => chain.account(7);

  before(async () => {
    chain = await startLocalChain();
    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-checker-chain-"));
    clearKaisarEnv();
    process.env.KAISAR_DEPLOYMENT = chain.deploymentFile;
    process.env.KAISAR_PRIVATE_KEY = operator().privateKey;
    configFile = path.join(dir, "kaisar.checker.json");
    writeFileSync(
      configFile,
      JSON.stringify({ role: "checker", chainId: chain.chainId, rpcUrl: chain.rpcUrl, dataDir: "state" }),
    );
    await (await chain.contracts.KaiToken.connect(chain.account(0)).transfer(operator().address, kai(20_000))).wait();
  });

  after(async () => {
    process.env = { ...saved };
    await chain?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const kaisar = (args: string[], hooks: RunHooks = {}) => run(["checker", ...args, "--config", configFile], hooks);

  it("status before anything: no license, no stake, not in the set, with what to do", async () => {
    const { code, out, err } = await kaisar(["status", "--json"]);
    expect(code, err).to.equal(EXIT.ok);
    const s = JSON.parse(out);
    expect(s).to.deep.include({ operator: operator().address, licenses: 0, staked: "0", minimum: "10000" });
    expect(s).to.deep.include({ inSet: false, stakeOk: false, configVersion: 0, lastReportEpoch: null });
    expect(s.currentEpoch).to.be.a("number");
    expect(s.nextSteps.join("\n")).to.include("CheckerLicense.delegate(").and.include("kaisar checker stake");
  });

  it("stake defaults to the checker minimum, and names --amount on garbage", async () => {
    const bad = await kaisar(["stake", "--amount", "lots"]);
    expect(bad.code).to.equal(EXIT.error);
    expect(bad.err).to.include('--amount "lots" is not an amount of KAI');
    const { code, out, err } = await kaisar(["stake"]);
    expect(code, err).to.equal(EXIT.ok);
    expect(out).to.include("sending NodeRegistry.stake(10000 KAI)").and.include("10000 KAI staked");
    expect((await chain.contracts.NodeRegistry.getStake(operator().address)).staked).to.equal(kai(10_000));
  });

  it("delegate-accept delegates a license the key owns to itself and says what governance must do", async () => {
    const license = new Interface(["function mint(address to, uint256 count)"]);
    await governanceExecute(chain.addresses.KaisarTimelock, chain.account(0), [
      {
        target: chain.addresses.CheckerLicense,
        data: license.encodeFunctionData("mint", [operator().address, 1]),
      },
    ]);
    const { code, out, err } = await kaisar(["delegate-accept"]);
    expect(code, err).to.equal(EXIT.ok);
    expect(out).to.include("sending CheckerLicense.delegate(1,").and.include("Delegated license 1");
    expect(out).to.include("1 license(s) delegated").and.include("ReportOracle.setCheckerConfig([");
    expect(await chain.contracts.CheckerLicense.licensesOf(operator().address)).to.equal(1n);
    const again = JSON.parse((await kaisar(["delegate-accept", "--json"])).out);
    expect(again).to.deep.include({ licenses: 1, delegated: [], inSet: false });
  });

  it("status shows it in the checker set once governance adds it", async () => {
    const oracle = chain.contracts.ReportOracle;
    await governanceExecute(chain.addresses.KaisarTimelock, chain.account(0), [
      {
        target: chain.addresses.ReportOracle,
        data: oracle.interface.encodeFunctionData("setCheckerConfig", [[operator().address], 1]),
      },
    ]);
    const { code, out, err } = await kaisar(["status"]);
    expect(code, err).to.equal(EXIT.ok);
    expect(out).to.match(/checker set\s+yes \(1 operators, config version 1, quorum 1\)/);
    expect(out).to.match(/licenses delegated\s+1/);
  });

  it("a wrong chain id names chainId", async () => {
    process.env.KAISAR_CHAIN_ID = "9990";
    try {
      const { code, err } = await kaisar(["status"]);
      expect(code).to.equal(EXIT.error);
      expect(err).to.include("chainId (env KAISAR_CHAIN_ID) is 9990");
    } finally {
      delete process.env.KAISAR_CHAIN_ID;
    }
  });

  it("discovery reads the registered nodes with their URLs and specs; `checker run` probes them", async () => {
    const registry = chain.contracts.NodeRegistry;
    const kaiAddress = chain.addresses.KaiToken;
    const specs = [
      { url: "http://127.0.0.1:1/", spec: { gpuClass: "H100-80GB", gpuCount: 8, vramGiB: 80 } },
      { url: "not a url", spec: { gpuClass: "RTX4090-24GB", gpuCount: 1, vramGiB: 24 } },
      { url: "http://127.0.0.1:2", spec: { gpuClass: "RTX4090-24GB", gpuCount: 1, vramGiB: 24 } },
    ];
    const provider = chain.account(8);
    for (const s of specs) {
      const spec = await nodeSpecOf(chain.contracts, {
        ...s.spec,
        cpuCores: 16,
        ramGiB: 64,
        diskGiB: 500,
        bandwidthMbps: 1000,
      });
      await (await registry.connect(provider).registerNode(spec, s.url, [kaiAddress], [kai(1)])).wait();
    }
    await (await registry.connect(provider).pauseNode(3)).wait();
    const skipped: number[] = [];
    const nodes = await discoverNodes(chain.contracts, { pageSize: 2, onSkip: (id) => skipped.push(id) });
    expect(skipped).to.deep.equal([2]);
    expect(nodes).to.deep.equal([
      {
        id: 1,
        url: "http://127.0.0.1:1/",
        provider: provider.address,
        spec: {
          gpuClass: "H100-80GB",
          gpuCount: 8,
          vramGiB: 80,
          cpuCores: 16,
          ramGiB: 64,
          diskGiB: 500,
          bandwidthMbps: 1000,
        },
      },
      {
        id: 3,
        url: "http://127.0.0.1:2",
        provider: provider.address,
        spec: {
          gpuClass: "RTX4090-24GB",
          gpuCount: 1,
          vramGiB: 24,
          cpuCores: 16,
          ramGiB: 64,
          diskGiB: 500,
          bandwidthMbps: 1000,
        },
      },
    ]);

    // `kaisar checker run` with no static nodes reads them from the chain.
    const port = await freePort();
    process.env.KAISAR_LISTEN_PORT = String(port);
    process.env.KAISAR_LISTEN_HOST = "127.0.0.1";
    process.env.KAISAR_DISCOVERY_INTERVAL = "200ms";
    let stop: (s: string) => void = () => {};
    const shutdown = new Promise<string>((r) => (stop = r));
    let out = "";
    const io = { out: (t: string) => void (out += t), err: (t: string) => void (out += t) };
    const running = main(["node", "kaisar", "checker", "run", "--config", configFile], io, {
      shutdown: () => shutdown,
    });
    try {
      const found = await until(() =>
        out
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as { at: string; nodes?: number })
          .find((l) => l.at === "Checker#discovery" && l.nodes === 2),
      );
      expect(found.nodes).to.equal(2);
      const api = (await (await fetch(`http://127.0.0.1:${port}/nodes`)).json()) as unknown;
      expect(JSON.stringify(api)).to.include("http://127.0.0.1:2");
    } finally {
      stop("SIGTERM");
      expect(await running).to.equal(EXIT.ok);
      for (const k of ["KAISAR_LISTEN_PORT", "KAISAR_LISTEN_HOST", "KAISAR_DISCOVERY_INTERVAL"]) delete process.env[k];
    }
  });
});
