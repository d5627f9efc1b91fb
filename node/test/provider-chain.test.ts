import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import os from "os";
import path from "path";

import { contractInterface } from "../src/chain/contracts";
import { kai } from "../../devnet/src/governance";
import { decodeRevert } from "../src/chain/tx";
import { EXIT, main, type RunHooks } from "../src/cli";
import { gpuClassOfModel } from "../src/commands/provider";
import { cpuKernel } from "../src/popw";
import { inlineSolver } from "../src/provider";
import { startLocalChain, type LocalChain } from "./helpers/localChain";
import { NO_SMI, freeTcpPort as freePort, jsonLines, until } from "./helpers/support";
import { clearKaisarEnv, kaisar as run } from "./helpers/cli";

const PROFILE = { gpuModel: "NVIDIA GeForce RTX 4090", gpuCount: 2, vramGiB: 24, bandwidthMbps: 1000 };
describe("kaisar provider on a local chain: register, stake, status, unstake, withdraw, rentals", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let dir: string;
  let configFile: string;
  let nodeId: number;
  const saved = { ...process.env };
  const provider = () => chain.account(5);
  const renter = () => chain.account(6);

  before(async () => {
    chain = await startLocalChain();
    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-provider-chain-"));
    clearKaisarEnv();
    process.env.KAISAR_DEPLOYMENT = chain.deploymentFile;
    process.env.KAISAR_PRIVATE_KEY = provider().privateKey;
    writeFileSync(path.join(dir, "hardware.json"), JSON.stringify(PROFILE));
    configFile = path.join(dir, "kaisar.provider.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        role: "provider",
        chainId: chain.chainId,
        rpcUrl: chain.rpcUrl,
        publicUrl: "http://127.0.0.1:8550",
        dataDir: "state",
        hardwareProfile: "hardware.json",
        pricePerGpuHour: "2",
        region: "eu-west",
        rentals: { poll: "100ms" },
      }),
    );
    const k = chain.contracts.KaiToken.connect(chain.account(0));
    await (await k.transfer(provider().address, kai(10_000))).wait();
    await (await k.transfer(renter().address, kai(1_000))).wait();
  });

  after(async () => {
    process.env = { ...saved };
    await chain?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const kaisar = (args: string[], hooks: RunHooks = {}) => run(["provider", ...args, "--config", configFile], hooks);

  it("maps GPU models to the deployments' class names", () => {
    expect(gpuClassOfModel("NVIDIA H100 80GB HBM3")).to.equal("H100-80GB");
    expect(gpuClassOfModel("NVIDIA GeForce RTX 4090")).to.equal("RTX4090-24GB");
    expect(gpuClassOfModel("Tesla T4")).to.equal(undefined);
  });

  it("register stakes what the node requires, lists it and prints its id", async () => {
    const { code, out, err } = await kaisar(["register"]);
    expect(code, err).to.equal(EXIT.ok);
    expect(out, "stakes first").to.include("staking 2000 KAI first");
    expect(out, "progress").to.match(/sending NodeRegistry\.registerNode\(RTX4090-24GB x 2/);
    expect(out, "mined").to.match(/mined in block \d+/);
    const m = /Registered node (\d+): 2 x RTX4090-24GB/.exec(out);
    expect(m, out).to.not.equal(null);
    nodeId = Number(m![1]);
    expect(out, "next step").to.include(`Wrote "nodeId": ${nodeId} to ${configFile}; next: \`kaisar provider run\``);
    const written = JSON.parse(readFileSync(configFile, "utf8"));
    expect(written.nodeId, "the node id is in the config file").to.equal(nodeId);
    expect(written, "the other settings stay").to.deep.include({ role: "provider", pricePerGpuHour: "2" });
    expect((await chain.contracts.NodeRegistry.getStake(provider().address)).staked).to.equal(kai(2000));
  });

  it("register refuses to list the same endpoint twice, naming the node", async () => {
    const { code, err } = await kaisar(["register"]);
    expect(code).to.equal(EXIT.error);
    expect(err).to.include(`as node ${nodeId}`).and.include("nodeId");
  });

  it("stake adds --amount, and refuses garbage naming the option", async () => {
    const { code, out, err } = await kaisar(["stake", "--amount", "500"]);
    expect(code, err).to.equal(EXIT.ok);
    expect(out).to.include("sending NodeRegistry.stake(500 KAI)").and.include("2500 KAI staked, 2000 KAI required");
    for (const bad of ["-5", "abc", "0", "1.0000000000000000001"]) {
      const r = await kaisar(["stake", `--amount=${bad}`]);
      expect(r.code, bad).to.equal(EXIT.error);
      expect(r.err, bad).to.include("--amount");
    }
    const none = await kaisar(["stake"]);
    expect(none.out).to.include("Nothing to stake");
  });

  it("status --json: node spec, price, free GPUs, stake and requirement", async () => {
    const { code, out, err } = await kaisar(["status", "--json"]);
    expect(code, err).to.equal(EXIT.ok);
    const s = JSON.parse(out);
    expect(s.provider).to.equal(provider().address);
    expect(s.nodes).to.have.length(1);
    expect(s.nodes[0]).to.deep.include({
      nodeId,
      status: "Active",
      jailed: false,
      pricePerGpuHour: "2",
      freeGpus: 2,
      metadataURI: "http://127.0.0.1:8550",
    });
    expect(s.nodes[0].spec).to.deep.include({ gpuClass: "RTX4090-24GB", gpuCount: 2, vramGiB: 24, region: "eu-west" });
    expect(s.stake).to.deep.include({ staked: "2500", required: "2000", unbonding: "0", covered: true });
    expect(s.penalties).to.deep.equal([]);
    const text = await kaisar(["status"]);
    expect(text.out).to.include("Stake: 2,500 KAI staked, 2,000 KAI required").and.include("2 x RTX4090-24GB, 2 free");
  });

  it("unstake more than staked shows the custom error by name, with its sentence", async () => {
    const { code, err } = await kaisar(["unstake", "--amount", "99999"]);
    expect(code).to.equal(EXIT.error);
    expect(err).to.include("NodeRegistry_InsufficientStaked(");
    expect(err).to.include("Unstaking 99999 KAI exceeds the active stake 2500 KAI");
    const json = await kaisar(["unstake", "--amount", "99999", "--json"]);
    expect(JSON.parse(json.out).revert.name).to.equal("NodeRegistry_InsufficientStaked");
  });

  it("unstake starts unbonding; withdraw waits for it, then sends it back", async () => {
    const { code, out, err } = await kaisar(["unstake", "--amount", "500"]);
    expect(code, err).to.equal(EXIT.ok);
    expect(out).to.match(/500 KAI unbonds until \d{4}-\d\d-\d\dT/);
    const early = await kaisar(["withdraw"]);
    expect(early.code, early.err).to.equal(EXIT.ok);
    expect(early.out).to.include("500 KAI is still unbonding until");
    await chain.increaseTime(86_401);
    const later = await kaisar(["withdraw", "--json"]);
    expect(later.code, later.err).to.equal(EXIT.ok);
    expect(JSON.parse(later.out).unstaked).to.equal("500");
    expect(later.err, "progress on stderr under --json").to.include("sending NodeRegistry.withdrawUnstaked()");
  });

  it("a wrong chain id stops before anything is sent, naming chainId", async () => {
    process.env.KAISAR_CHAIN_ID = "3338";
    try {
      const { code, err } = await kaisar(["stake", "--amount", "1"]);
      expect(code).to.equal(EXIT.error);
      expect(err).to.include("chainId (env KAISAR_CHAIN_ID) is 3338");
    } finally {
      delete process.env.KAISAR_CHAIN_ID;
    }
  });

  it("a wrong chain id with no deployment file for it is reported as the wrong chain id, not as missing files", async () => {
    // The default deployment file of chain 9990 (deploy/deployments/chain-9990/) is not there: the
    // chain id is what is wrong, and the command says so first.
    delete process.env.KAISAR_DEPLOYMENT;
    process.env.KAISAR_CHAIN_ID = "9990";
    try {
      for (const command of [["status"], ["register"], ["run"]]) {
        const { code, err } = await kaisar(command);
        expect(code, `${command}: ${err}`).to.equal(EXIT.config);
        expect(err, command.join(" ")).to.include(
          `chainId (env KAISAR_CHAIN_ID): the RPC at ${chain.rpcUrl} serves chain 31337, but chainId (env KAISAR_CHAIN_ID) is 9990`,
        );
        expect(err, command.join(" ")).to.include("fix: point rpcUrl at a node of chain 9990, or set chainId to 31337");
        expect(err, command.join(" ")).to.not.include("does not exist");
      }
      const json = await kaisar(["status", "--json"]);
      expect(JSON.parse(json.out).problems[0]).to.deep.include({ key: "chainId", env: "KAISAR_CHAIN_ID" });
    } finally {
      delete process.env.KAISAR_CHAIN_ID;
      process.env.KAISAR_DEPLOYMENT = chain.deploymentFile;
    }
  });

  it("the running agent writes a rental's launch spec, marks it closed, and withdraw collects the earnings", async () => {
    const port = await freePort();
    process.env.KAISAR_NODE_ID = String(nodeId);
    process.env.KAISAR_LISTEN_PORT = String(port);
    process.env.KAISAR_LISTEN_HOST = "127.0.0.1";
    let stop: (s: string) => void = () => {};
    const shutdown = new Promise<string>((r) => (stop = r));
    let out = "";
    const io = { out: (t: string) => void (out += t), err: (t: string) => void (out += t) };
    const running = main(["node", "kaisar", "provider", "run", "--config", configFile], io, {
      shutdown: () => shutdown,
      agent: { detect: { run: NO_SMI }, solver: inlineSolver(cpuKernel) },
    });
    try {
      await until(() => jsonLines(out).find((l) => l.at === "Agent#listen"));
      const { KaiToken, RentalEscrow } = chain.contracts;
      const escrow = await RentalEscrow.getAddress();
      await (await KaiToken.connect(renter()).approve(escrow, kai(100))).wait();
      const params = {
        nodeId,
        gpus: 1,
        token: await KaiToken.getAddress(),
        plan: 0,
        deposit: kai(100),
        termDays: 0,
        maxPricePerGpuHour: kai(2),
        slaTier: 0,
      };
      const rentalId = await RentalEscrow.connect(renter()).rent.staticCall(params);
      await (await RentalEscrow.connect(renter()).rent(params)).wait();
      const opened = await until(() =>
        jsonLines(out).find((l) => l.at === "Agent#rental" && l.event === "open" && l.rentalId === String(rentalId)),
      );
      const file = path.join(dir, "state", "rentals", `${rentalId}.json`);
      expect(opened.file).to.equal(file);
      expect(opened.command).to.match(/^docker run .* --gpus 1 /);
      const written = JSON.parse(readFileSync(file, "utf8"));
      expect(written).to.deep.include({ rentalId: String(rentalId), nodeId, renter: renter().address, gpus: 1 });
      expect(written.template).to.equal("pytorch");
      expect(written.launch.spec.env.KAISAR_RENTAL_ID).to.equal(String(rentalId));

      await chain.increaseTime(1800);
      await (await RentalEscrow.connect(renter()).endRental(rentalId)).wait();
      const closed = await until(() =>
        jsonLines(out).find((l) => l.at === "Agent#rental" && l.event === "close" && l.rentalId === String(rentalId)),
      );
      expect(closed.reason).to.equal("Renter");
      expect(JSON.parse(readFileSync(file, "utf8")).closed.reason).to.equal("Renter");
      expect(jsonLines(out).filter((l) => l.at === "Agent#rental")).to.have.length(2);
    } finally {
      stop("SIGTERM");
      expect(await running).to.equal(EXIT.ok);
      for (const k of ["KAISAR_NODE_ID", "KAISAR_LISTEN_PORT", "KAISAR_LISTEN_HOST"]) delete process.env[k];
    }
    expect(existsSync(path.join(dir, "state", "rentals"))).to.equal(true);

    const status = JSON.parse((await kaisar(["status", "--json"])).out);
    expect(status.earnings).to.have.length(1);
    expect(Number(status.earnings[0].withdrawable)).to.be.greaterThan(0);
    const { code, out: text, err } = await kaisar(["withdraw"]);
    expect(code, err).to.equal(EXIT.ok);
    expect(text).to.match(/Withdrew [\d.]+ KAI of earnings from rentals 1 \(protocol fee [\d.]+ KAI\)/);
    const again = await kaisar(["withdraw"]);
    expect(again.out).to.include("No rental earnings to withdraw.");
  });

  it("decodes reverts of any Kaisar contract from raw revert data", () => {
    const data = contractInterface("RentalEscrow").encodeErrorResult("RentalEscrow_UnknownRental", [7n]);
    expect(decodeRevert({ data })).to.deep.equal({
      name: "RentalEscrow_UnknownRental",
      args: { rentalId: "7" },
      sentence: "Rental 7 does not exist.",
    });
  });
});
