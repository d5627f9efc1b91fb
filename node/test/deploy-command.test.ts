/**
 * `npm run deploy -- --network <name>` (scripts/deploy.ts) against a local Hardhat node with chain id
 * 31337 standing in for agung (deploy/parameters/rehearsal.json: agung's figures, local accounts,
 * `"genesis": "now"`): a run killed midway resumes with the genesis of its first run, the network's
 * gas multiplier reaches Ignition's transactions, the setup steps run (and wait for the operators),
 * a changed parameter is named, and a run with nothing left to do sends no transaction.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

import { HDNodeWallet, JsonRpcProvider, Mnemonic } from "ethers";

import { connectContracts, rpcProvider, type KaisarContracts } from "../src/chain/contracts";
import { kai } from "../../devnet/src/governance";
import { LOCAL_CHAIN_ID } from "./helpers/localChain";

const ROOT = path.join(__dirname, "..", "..");
const HARDHAT = require.resolve("hardhat/internal/cli/cli", { paths: [ROOT] });
const MNEMONIC = "test test test test test test test test test test test junk";

describe("npm run deploy: deploy, resume, set up, on a local node standing in for agung", function () {
  this.timeout(900_000);
  const deploymentId = `test-deploy-${process.pid}`;
  const dir = path.join(ROOT, "deploy", "deployments", deploymentId);
  let rpcUrl: string;
  let request: (method: string, params?: unknown[]) => Promise<unknown>;
  let server: { close(): Promise<void> };
  let eth: JsonRpcProvider;
  let contracts: KaisarContracts;
  let addressesAfterKill: Record<string, string>;
  let genesis: number;
  /** Hardhat account i (0 deploys and is governance and treasury in rehearsal.json). */
  const account = (i: number) =>
    HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(MNEMONIC), `m/44'/60'/0'/0/${i}`).connect(eth);

  before(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const hre = require("hardhat") as typeof import("hardhat");
    const { TASK_NODE_CREATE_SERVER } = await import("hardhat/builtin-tasks/task-names");
    await hre.network.provider.request({ method: "hardhat_reset", params: [] });
    request = (method, params = []) => hre.network.provider.request({ method, params });
    // Blocks only when this test mines them: the first run can then be stopped at a known point.
    await request("evm_setIntervalMining", [0]);
    await request("evm_setAutomine", [false]);
    const s = (await hre.run(TASK_NODE_CREATE_SERVER, {
      hostname: "127.0.0.1",
      port: 0,
      provider: hre.network.provider,
    })) as { listen(): Promise<{ address: string; port: number }>; close(): Promise<void> };
    const { port } = await s.listen();
    server = s;
    rpcUrl = `http://127.0.0.1:${port}`;
    eth = rpcProvider(rpcUrl, LOCAL_CHAIN_ID);
    rmSync(dir, { recursive: true, force: true });
  });

  after(async () => {
    eth?.destroy();
    await request?.("evm_setAutomine", [true]);
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function deploy(env: Record<string, string> = {}): {
    child: ChildProcess;
    done: Promise<{ code: number | null; out: string }>;
  } {
    const child = spawn(
      process.execPath,
      [HARDHAT, "run", "--no-compile", "scripts/deploy.ts", "--network", "localhost"],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          LOCAL_RPC_URL: rpcUrl,
          KAISAR_PARAMETERS: "rehearsal",
          KAISAR_DEPLOYMENT_ID: deploymentId,
          KAISAR_GAS_MULTIPLIER: "1.75",
          KAISAR_EPOCH_SECONDS: "",
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const done = new Promise<{ code: number | null; out: string }>((resolve) =>
      child.on("exit", (code) => resolve({ code, out })),
    );
    return { child, done };
  }

  const journal = () =>
    existsSync(path.join(dir, "journal.jsonl")) ? readFileSync(path.join(dir, "journal.jsonl"), "utf8") : "";
  const nonceOf = (address: string) => eth.getTransactionCount(address, "latest");

  it("a run stopped after ReportOracle was sent resumes with the same genesis, however late", async () => {
    const first = deploy();
    let exited = false;
    void first.done.then(() => (exited = true));
    // Mine block by block until Ignition has recorded ReportOracle's constructor (genesis included).
    while (!/"futureId":"Kaisar#ReportOracle"/.test(journal())) {
      expect(exited, "the first run ended before it was stopped").to.equal(false);
      await request("evm_mine");
      await new Promise((r) => setTimeout(r, 25));
    }
    first.child.kill("SIGKILL");
    const firstRun = await first.done;
    expect(firstRun.out).to.include(`starting deployment ${deploymentId} on localhost (chain 31337)`);
    genesis = JSON.parse(readFileSync(path.join(dir, "kaisar-parameters.json"), "utf8")).genesis;
    expect(firstRun.out).to.include(`genesis "now" fixed at ${genesis}`);
    addressesAfterKill = existsSync(path.join(dir, "deployed_addresses.json"))
      ? JSON.parse(readFileSync(path.join(dir, "deployed_addresses.json"), "utf8"))
      : {};

    // Whatever was sent gets mined; then the chain runs on its own, an hour later.
    await request("evm_mine");
    await request("evm_setAutomine", [true]);
    await request("evm_increaseTime", [3_600]);
    await request("evm_mine");

    const second = await deploy().done;
    expect(second.code, second.out).to.equal(0);
    expect(second.out).to.include(`resuming deployment ${deploymentId}`);
    expect(second.out).to.include(`genesis ${genesis} (`).and.include("fixed by this deployment's first run");
    expect(second.out).to.not.include("has been changed");
    const addresses = JSON.parse(readFileSync(path.join(dir, "deployed_addresses.json"), "utf8"));
    expect(addresses, "what the first run deployed stays").to.include(addressesAfterKill);
    contracts = connectContracts(
      Object.fromEntries(Object.entries(addresses).map(([k, v]) => [k.slice(k.indexOf("#") + 1), v as string])),
      eth,
    );
    expect(await contracts.ReportOracle.genesis()).to.equal(BigInt(genesis));
    // The setup steps that governance and the treasury can do ran; the checker set waits for its operators.
    expect(await contracts.RewardDistributor.reserve()).to.equal(kai(1_000_000));
    expect(await contracts.CheckerLicense.totalMinted()).to.equal(3n);
    expect(second.out).to.include("setup: waiting: checker set:").and.include("`kaisar checker stake`");
    expect(second.out).to.include("not finished: 1 step(s) waiting");
  });

  it("passes the network's gas multiplier to Ignition: each deployment asks 1.75 x the estimate", async () => {
    const registry = await contracts.NodeRegistry.getAddress();
    const latest = await eth.getBlockNumber();
    let found = false;
    for (let b = 1; b <= latest && !found; b++) {
      const block = await eth.getBlock(b, true);
      for (const tx of block!.prefetchedTransactions) {
        const receipt = await eth.getTransactionReceipt(tx.hash);
        if (receipt?.contractAddress !== registry) continue;
        found = true;
        // The estimate is at least the gas used: 1.75 x the estimate is well above 1.7 x the gas used.
        expect(Number(tx.gasLimit) / Number(receipt.gasUsed)).to.be.greaterThan(1.7);
      }
    }
    expect(found, "NodeRegistry's deployment transaction").to.equal(true);
  });

  it("a changed parameter stops the resume, naming the field", async () => {
    const run = await deploy({ KAISAR_EPOCH_SECONDS: "120" }).done;
    expect(run.code).to.equal(1);
    expect(run.out).to.include(
      'deploy/parameters/rehearsal.json changed since this deployment began ("epochLengthSeconds"',
    );
  });

  it("once the operators stake and accept their licenses, the next run sets the checker set; then nothing is left", async () => {
    const treasury = account(0);
    const stake = await contracts.ReportOracle.minCheckerStake();
    for (const i of [1, 2, 3]) {
      const op = account(i);
      await (await contracts.KaiToken.connect(treasury).transfer(op.address, stake)).wait();
      await (await contracts.KaiToken.connect(op).approve(await contracts.NodeRegistry.getAddress(), stake)).wait();
      await (await contracts.NodeRegistry.connect(op).stake(stake)).wait();
      await (await contracts.CheckerLicense.connect(op).delegate(BigInt(i), op.address)).wait();
    }
    const third = await deploy().done;
    expect(third.code, third.out).to.equal(0);
    expect(third.out).to.include("setup: done: governance: set the checker set");
    expect(third.out).to.include("done: deployed and set up");
    const sorted = [1, 2, 3].map((i) => account(i).address).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    expect(await contracts.ReportOracle.checkers()).to.deep.equal(sorted);

    const deployer = account(0).address;
    const before = await nonceOf(deployer);
    const fourth = await deploy().done;
    expect(fourth.code, fourth.out).to.equal(0);
    expect(fourth.out).to.include("nothing to do: the deployment and its setup were complete already");
    expect(await nonceOf(deployer), "no transaction sent").to.equal(before);
  });
});
