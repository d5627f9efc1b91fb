import { expect } from "chai";
import { spawn } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { createServer } from "net";
import os from "os";
import path from "path";

import { EXIT, main, type RunHooks } from "../src/cli";
import { CHALLENGE_KERNELS, CONTRACTS, loadConfig } from "../src/config";
import { cpuKernel } from "../src/popw";
import { KERNELS, inlineSolver, type RunProgram } from "../src/provider";
import { NO_SMI, freeTcpPort as freePort, jsonLines, until } from "./helpers/support";
import { clearKaisarEnv, kaisar as run } from "./helpers/cli";

const KEY = "0x" + "ab".repeat(32);
const PROFILE = { gpuModel: "NVIDIA GeForce RTX 4090", gpuCount: 2, vramGiB: 24, bandwidthMbps: 1000 };
describe("kaisar provider (cli): register --dry-run and run", function () {
  this.timeout(10_000);
  let dir: string;
  const saved = { ...process.env };

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-provider-cli-"));
    clearKaisarEnv();
    const deployment = path.join(dir, "deployed_addresses.json");
    const addresses = CONTRACTS.map((name, i) => [`Kaisar#${name}`, "0x" + (i + 1).toString(16).padStart(40, "0")]);
    writeFileSync(deployment, JSON.stringify(Object.fromEntries(addresses)));
    process.env.KAISAR_DEPLOYMENT = deployment;
    process.env.KAISAR_PRIVATE_KEY = KEY;
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    process.env = { ...saved };
  });

  /** A provider config file (with a hardware profile beside it unless `profile` is null). */
  function writeConfig(extra: Record<string, unknown> = {}, profile: unknown = PROFILE): string {
    if (profile !== null) writeFileSync(path.join(dir, "hardware.json"), JSON.stringify(profile));
    const file = path.join(dir, "kaisar.provider.json");
    const config = {
      role: "provider",
      chainId: 31337,
      rpcUrl: "http://127.0.0.1:8545",
      publicUrl: "http://127.0.0.1:8550",
      dataDir: "state",
      ...(profile !== null ? { hardwareProfile: "hardware.json" } : {}),
      ...extra,
    };
    writeFileSync(file, JSON.stringify(config));
    return file;
  }

  const kaisar = (args: string[], hooks: RunHooks = {}) => run([...args], hooks);

  describe("config", () => {
    it("defaults the agent's settings: cpu kernel, n up to 2048, 64 MiB bandwidth tests, no node id", () => {
      const config = loadConfig("provider", { file: writeConfig() });
      expect(config.nodeId, "node id").to.equal(undefined);
      expect(config.challenge, "challenge").to.deep.equal({ kernel: "cpu", maxN: 2048 });
      expect(config.bandwidth, "bandwidth").to.deep.equal({ maxBytes: 64 * 1024 * 1024 });
      for (const kernel of CHALLENGE_KERNELS) expect(KERNELS[kernel], `${kernel} is implemented`).to.exist;
    });

    it("reads them from the environment", () => {
      const config = loadConfig("provider", {
        file: writeConfig(),
        env: {
          ...process.env,
          KAISAR_NODE_ID: "12",
          KAISAR_CHALLENGE_KERNEL: "cpu",
          KAISAR_CHALLENGE_MAX_N: "1024",
          KAISAR_BANDWIDTH_MAX_BYTES: "1048576",
        },
      });
      expect(config.nodeId, "node id").to.equal(12);
      expect(config.challenge, "challenge").to.deep.equal({ kernel: "cpu", maxN: 1024 });
      expect(config.bandwidth.maxBytes, "bandwidth").to.equal(1_048_576);
    });
  });

  describe("register --dry-run", () => {
    it("prints the hardware and says it comes from the declared profile", async () => {
      const file = writeConfig();
      const text = await kaisar(["provider", "register", "--dry-run", "--config", file]);
      expect(text.code, "exit code").to.equal(EXIT.ok);
      expect(text.out, "source").to.match(/^Hardware from the declared profile \(nvidia-smi is not usable/);
      expect(text.out, "gpus").to.include("2 x NVIDIA GeForce RTX 4090, 24 GiB each");
      expect(text.out, "dry run").to.include("nothing was sent");

      const json = await kaisar(["provider", "register", "--dry-run", "--config", file, "--json"]);
      const body = JSON.parse(json.out);
      expect(body.ok, "ok").to.equal(true);
      expect(body.hardware, "hardware").to.include({ source: "profile", ...PROFILE });
      expect(body.reason, "reason").to.match(/nvidia-smi not found; using .*hardware\.json/);
    });

    it("says it uses nvidia-smi where it runs", async () => {
      const file = writeConfig({}, null);
      const smi: RunProgram = async () => "NVIDIA H100 80GB HBM3, 81559\n";
      const { code, out } = await kaisar(["provider", "register", "--dry-run", "--config", file, "--json"], {
        agent: { detect: { run: smi } },
      });
      expect(code, "exit code").to.equal(EXIT.ok);
      expect(JSON.parse(out).hardware, "hardware").to.include({ source: "nvidia-smi", gpuCount: 1, vramGiB: 80 });
    });

    it("stops with 78 naming hardwareProfile when there is neither nvidia-smi nor a profile", async () => {
      const file = writeConfig({}, null);
      const { code, err } = await kaisar(["provider", "register", "--dry-run", "--config", file]);
      expect(code, "exit code").to.equal(EXIT.config);
      expect(err, "setting").to.include("hardwareProfile (env KAISAR_HARDWARE_PROFILE)");
      expect(err, "why").to.include("nvidia-smi not found");
    });

    it("stops with 78 naming the profile's bad field", async () => {
      const file = writeConfig({}, { gpuModel: "X", gpuCount: "two", vramGiB: 24 });
      const { code, out } = await kaisar(["provider", "register", "--dry-run", "--config", file, "--json"]);
      expect(code, "exit code").to.equal(EXIT.config);
      const problem = JSON.parse(out).problems[0];
      expect(problem.key, "key").to.equal("hardwareProfile");
      expect(problem.problem, "field").to.match(/"gpuCount" is "two"/);
    });

    it("registers without --dry-run, which needs a price: 78 naming pricePerGpuHour", async () => {
      const { code, err } = await kaisar(["provider", "register", "--config", writeConfig()]);
      expect(code, "exit code").to.equal(EXIT.config);
      expect(err, "setting").to.include("pricePerGpuHour (env KAISAR_PRICE_PER_GPU_HOUR): is not set");
    });
  });

  describe("run", () => {
    it("stops with 78 when the node id is not set", async () => {
      const { code, err } = await kaisar(["provider", "run", "--config", writeConfig()]);
      expect(code, "exit code").to.equal(EXIT.config);
      expect(err, "names it").to.include("nodeId (env KAISAR_NODE_ID): is not set");
    });

    it("stops with 78 when a new setting is wrong, naming it", async () => {
      const file = writeConfig({ nodeId: 3, challenge: { kernel: "gpu", maxN: 5000 }, bandwidth: { maxBytes: 0 } });
      const { code, out } = await kaisar(["provider", "run", "--config", file, "--json"]);
      expect(code, "exit code").to.equal(EXIT.config);
      const keys = JSON.parse(out).problems.map((p: { key: string }) => p.key);
      expect(keys, "problems").to.deep.equal(["challenge.kernel", "challenge.maxN", "bandwidth.maxBytes"]);
    });

    it("serves checkers until shutdown, logging JSON lines", async () => {
      const port = await freePort();
      const file = writeConfig({ nodeId: 3, listen: { host: "127.0.0.1", port }, challenge: { maxN: 64 } });
      let stop: (signal: string) => void = () => {};
      const shutdown = new Promise<string>((r) => (stop = r));
      let out = "";
      const io = { out: (t: string) => void (out += t), err: (t: string) => void (out += t) };
      const running = main(["node", "kaisar", "provider", "run", "--config", file], io, {
        shutdown: () => shutdown,
        agent: { detect: { run: NO_SMI }, solver: inlineSolver(cpuKernel) },
      });
      const listen = await until(() => jsonLines(out).find((l) => l.at === "Agent#listen"));
      expect(listen, "listen").to.include({ port, nodeId: 3, chainId: 31337 });
      const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
      expect(health, "health").to.include({ ok: true, nodeId: 3 });
      const tooBig = await fetch(`http://127.0.0.1:${port}/challenge`, {
        method: "POST",
        body: JSON.stringify({ seed: "0x1", n: 65 }),
      });
      expect(tooBig.status, "the configured maxN").to.equal(400);

      stop("SIGTERM");
      expect(await running, "exit code").to.equal(EXIT.ok);
      const lines = jsonLines(out);
      expect(
        lines.map((l) => l.at),
        "log",
      ).to.deep.equal(["Agent#hardware", "Agent#kernel", "Agent#listen", "Agent#shutdown", "Agent#stop"]);
      expect(lines[0], "hardware").to.include({ source: "profile", gpuCount: 2 });
      expect(lines[3], "signal").to.include({ signal: "SIGTERM" });
      for (const l of lines) expect(Date.parse(l.time), "time").to.be.a("number").and.not.NaN;
      await fetch(`http://127.0.0.1:${port}/health`).then(
        () => expect.fail("still listening"),
        () => {},
      );
    });

    it("on a terminal prints readable lines; --json (or no terminal) keeps JSON lines", async () => {
      for (const json of [false, true]) {
        const port = await freePort();
        const file = writeConfig({ nodeId: 3, listen: { host: "127.0.0.1", port } });
        let stop: (signal: string) => void = () => {};
        const shutdown = new Promise<string>((r) => (stop = r));
        let out = "";
        const io = { out: (t: string) => void (out += t), err: (t: string) => void (out += t), isTTY: true };
        const running = main(["node", "kaisar", "provider", "run", "--config", file, ...(json ? ["--json"] : [])], io, {
          shutdown: () => shutdown,
          agent: { detect: { run: NO_SMI }, solver: inlineSolver(cpuKernel) },
        });
        await until(() => out.includes("Agent#listen"));
        stop("SIGINT");
        expect(await running).to.equal(EXIT.ok);
        const lines = out.trimEnd().split("\n");
        if (json) {
          expect(
            jsonLines(out).map((l) => l.at),
            out,
          ).to.include("Agent#listen");
          continue;
        }
        expect(jsonLines(out), "no JSON line").to.deep.equal([]);
        const listen = lines.find((l) => l.includes("Agent#listen"))!;
        expect(listen).to.match(/^\d\d:\d\d:\d\d {2}Agent#listen +/);
        expect(listen).to.include(`port=${port}`).and.include("nodeId=3").and.include("chainId=31337");
        expect(lines.find((l) => l.includes("Agent#shutdown"))).to.include("signal=SIGINT");
      }
    });

    it("exits 1 when the port is taken", async () => {
      const blocker = createServer();
      await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
      const port = (blocker.address() as { port: number }).port;
      try {
        const file = writeConfig({ nodeId: 3, listen: { host: "127.0.0.1", port } });
        const { code, out } = await kaisar(["provider", "run", "--config", file], {
          shutdown: () => new Promise(() => {}),
          agent: { detect: { run: NO_SMI }, solver: inlineSolver(cpuKernel) },
        });
        expect(code, "exit code").to.equal(EXIT.error);
        expect(jsonLines(out).pop(), "error").to.deep.include({ at: "Agent#error" });
        expect(out, "why").to.include("EADDRINUSE");
      } finally {
        blocker.close();
      }
    });

    it("runs as the installed binary and stops cleanly on SIGTERM", async function () {
      this.timeout(45_000);
      const port = await freePort();
      const file = writeConfig({ nodeId: 5, listen: { host: "127.0.0.1", port } });
      const bin = path.join(__dirname, "..", "bin", "kaisar.js");
      // From another folder: the worker must find ts-node and its code from there too.
      const child = spawn(process.execPath, [bin, "provider", "run", "--config", file], {
        cwd: dir,
        env: { ...process.env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      try {
        // The binary loads its TypeScript through ts-node: seconds on a loaded machine.
        await until(() => jsonLines(out).find((l) => l.at === "Agent#listen"), 30_000);
        const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
        expect(health, "health").to.include({ ok: true, nodeId: 5 });
        const answer = await fetch(`http://127.0.0.1:${port}/challenge`, {
          method: "POST",
          body: JSON.stringify({ seed: "0x2a", n: 32 }),
        });
        expect((await answer.json()).kernel, "the worker's kernel").to.equal("cpu-ikj");
        child.kill("SIGTERM");
        expect(await exited, "exit code").to.equal(0);
        expect(
          jsonLines(out).map((l) => l.at),
          "log",
        ).to.include.members(["Agent#shutdown", "Agent#stop"]);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    });
  });
});
