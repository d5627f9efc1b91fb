/**
 * A full epoch on a real local chain, with the real programs: two provider agents (one of them down),
 * three checkers that discover the nodes on chain, probe them, exchange observations and sign the
 * report, and a keeper that gathers the signatures, submits the report, serves the proofs and applies
 * the SLA credit of the rental on the node that was down. Then a provider claims its reward with the
 * keeper's proof.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { encodeBytes32String, type Wallet } from "ethers";

import { fundRewardReserve, kai, nodeSpecOf, setUpCheckers } from "../../devnet/src/governance";
import { main } from "../src/cli";
import { startLocalChain, type LocalChain } from "./helpers/localChain";
import { NO_SMI, freeTcpPort as freePort, getJson } from "./helpers/support";
import { clearKaisarEnv } from "./helpers/cli";

const EPOCH_SECONDS = 10;
/** Polls `check` every 250 ms until it returns a value; fails after `ms` with `what` and the logs' tail. */
async function until<T>(what: string, check: () => Promise<T | undefined>, ms: number, logs: () => string) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last logs:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A `kaisar <role> run` in this process, stopped by `stop()`; its JSON-line logs in `lines`. */
function runKaisar(role: string, configFile: string) {
  let release: (signal: string) => void = () => {};
  const lines: string[] = [];
  const io = {
    out: (t: string) => void lines.push(...t.split("\n").filter(Boolean)),
    err: (t: string) => void lines.push(...t.split("\n").filter(Boolean)),
  };
  const exited = main(["node", "kaisar", role, "run", "--config", configFile], io, {
    shutdown: () => new Promise<string>((resolve) => (release = resolve)),
    agent: { detect: { run: NO_SMI } },
  });
  return {
    lines,
    exited,
    stop: async () => {
      release("SIGTERM");
      return exited;
    },
  };
}

describe("a full epoch on a local chain: probes, exchange, report, proofs, a claim and an SLA credit", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let dir: string;
  const running: ReturnType<typeof runKaisar>[] = [];
  const saved = { ...process.env };
  // What went wrong, if anything: every line but the routine probe results, the last ones of each program.
  const routine =
    /"at":"(Agent#(challenge|bandwidth|hardware|health)|Checker#(bandwidth|challenge|hardware|discovery))"/;
  const tail = () =>
    running
      .flatMap((r) => r.lines.filter((l) => !routine.test(l)).slice(-8))
      .join("\n")
      .slice(-6000);

  before(async () => {
    chain = await startLocalChain({ epochLengthSeconds: EPOCH_SECONDS, blockEveryMs: 1000 });
    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-epoch-"));
    clearKaisarEnv();
    process.env.KAISAR_DEPLOYMENT = chain.deploymentFile;
  });

  after(async () => {
    await Promise.all(running.map((r) => r.stop()));
    process.env = { ...saved };
    await chain?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const writeConfig = (name: string, config: Record<string, unknown>) => {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ chainId: chain.chainId, rpcUrl: chain.rpcUrl, ...config }));
    return file;
  };

  /** Stakes and registers a node for `provider` at `url` (1 KAI per GPU-hour); returns its id. */
  async function registerNode(provider: Wallet, url: string, gpuClass: string, gpuCount: number, vramGiB: number) {
    const c = chain.contracts;
    await (await c.KaiToken.connect(chain.account(0)).transfer(provider.address, kai(100_000))).wait();
    const spec = await nodeSpecOf(c, {
      gpuClass,
      gpuCount,
      vramGiB,
      cpuCores: 16,
      ramGiB: 64,
      diskGiB: 500,
      bandwidthMbps: 1000,
    });
    const registry = c.NodeRegistry.connect(provider);
    await (await c.KaiToken.connect(provider).approve(await registry.getAddress(), kai(100_000))).wait();
    await (await registry.stake(kai(50_000))).wait();
    await (await registry.registerNode(spec, url, [await c.KaiToken.getAddress()], [kai(1)])).wait();
    return Number(await c.NodeRegistry.nodeCount());
  }

  it("runs an epoch end to end", async () => {
    const c = chain.contracts;
    const [good, flaky, renter, keeperKey] = [chain.account(4), chain.account(5), chain.account(6), chain.account(7)];
    const operators = [1, 2, 3].map((i) => chain.account(i));
    await setUpCheckers(c, chain.addresses.KaisarTimelock, chain.account(0), chain.account(0), {
      operators,
      quorum: 2,
    });
    await fundRewardReserve(c, chain.account(0), kai(10_000_000));

    // Two nodes: the first one's agent answers, the second one's never starts.
    const [goodPort, flakyPort] = [await freePort(), await freePort()];
    const goodNode = await registerNode(good, `http://127.0.0.1:${goodPort}`, "RTX4090-24GB", 2, 24);
    const flakyNode = await registerNode(flaky, `http://127.0.0.1:${flakyPort}`, "L40S-48GB", 1, 48);
    writeFileSync(
      path.join(dir, "hw-good.json"),
      JSON.stringify({ gpuModel: "NVIDIA GeForce RTX 4090", gpuCount: 2, vramGiB: 24 }),
    );
    running.push(
      runKaisar(
        "provider",
        writeConfig("provider-good", {
          role: "provider",
          privateKey: good.privateKey,
          nodeId: goodNode,
          listen: { host: "127.0.0.1", port: goodPort },
          publicUrl: `http://127.0.0.1:${goodPort}`,
          dataDir: "provider-good",
          hardwareProfile: "hw-good.json",
          pricePerGpuHour: "1",
          rentals: { poll: "500ms" },
        }),
      ),
    );

    // A renter rents the node that is down, pay-as-you-go, at the strictest SLA tier (99.9%).
    const escrow = c.RentalEscrow.connect(renter);
    await (await c.KaiToken.connect(chain.account(0)).transfer(renter.address, kai(1_000))).wait();
    await (await c.KaiToken.connect(renter).approve(await escrow.getAddress(), kai(1_000))).wait();
    await (
      await escrow.rent({
        nodeId: flakyNode,
        gpus: 1,
        token: await c.KaiToken.getAddress(),
        plan: 0,
        deposit: kai(100),
        termDays: 0,
        maxPricePerGpuHour: kai(1),
        slaTier: 1, // slaTiers()[0] is "no SLA"; 1 is 99.9%
      })
    ).wait();
    const rentalId = await c.RentalEscrow.rentalCount();
    const before = await c.KaiToken.balanceOf(renter.address);

    // Three checkers that read the nodes from the registry and each other's observations.
    const ports = [await freePort(), await freePort(), await freePort()];
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);
    operators.forEach((op, i) =>
      running.push(
        runKaisar(
          "checker",
          writeConfig(`checker-${i}`, {
            role: "checker",
            privateKey: op.privateKey,
            listen: { host: "127.0.0.1", port: ports[i] },
            dataDir: `checker-${i}`,
            peers: urls.filter((_, j) => j !== i),
            schedule: { heartbeat: "250ms", capacity: "1s", hardware: "1s", probeTimeout: "1s" },
            // n = 128: a score of at least 1 MFLOP/s unless a challenge takes over 4 s (a busy machine).
            challenge: { n: 128, timeout: "3s" },
            bandwidth: { bytes: 4096 },
            probe: { concurrency: 8, jitterPercent: 0 },
            discovery: { interval: "1s" },
            // settle above the chain clock's tolerance on a 1-second chain (2.5 s: src/chain/chainClock.ts).
            exchange: { settle: "3s", wait: "4s", timeout: "1s", retry: "250ms" },
          }),
        ),
      ),
    );
    const keeperPort = await freePort();
    await (await chain.account(0).sendTransaction({ to: keeperKey.address, value: 10n ** 18n })).wait();
    running.push(
      runKaisar(
        "keeper",
        writeConfig("keeper", {
          role: "keeper",
          privateKey: keeperKey.privateKey,
          listen: { host: "127.0.0.1", port: keeperPort },
          dataDir: "keeper",
          checkers: urls,
          pollInterval: "500ms",
        }),
      ),
    );

    // The first epoch every checker measured from its start (a checker scores a node only in epochs it
    // was probing it when they began): the one after each has a heartbeat of both nodes. Its report lands.
    const firstBeats = await Promise.all(
      urls.map((u) =>
        until(
          `${u} probing both nodes`,
          async () => {
            const { body } = await getJson(`${u}/nodes`);
            const nodes = (body as { nodes: { nodeId: number; latest: { heartbeat: { epoch: number } | null } }[] })
              .nodes;
            const epochs = [goodNode, flakyNode].map(
              (id) => nodes.find((n) => n.nodeId === id)?.latest.heartbeat?.epoch,
            );
            return epochs.every((x) => x !== undefined) ? Math.max(...(epochs as number[])) : undefined;
          },
          30_000,
          tail,
        ),
      ),
    );
    const epoch = Math.max(...firstBeats) + 1;
    const root = await until(
      `the report of epoch ${epoch} on chain`,
      async () => {
        const r = await c.ReportOracle.reportRoot(epoch);
        return r === encodeBytes32String("") ? undefined : r;
      },
      (EPOCH_SECONDS * 3 + 20) * 1000,
      tail,
    );

    // The keeper serves the good node's leaf and proof; its provider claims with them.
    const keeperUrl = `http://127.0.0.1:${keeperPort}`;
    const served = await until(
      "the keeper's proof of the good node",
      async () => {
        const r = await getJson(`${keeperUrl}/epochs/${epoch}/nodes/${goodNode}/proof`);
        return r.status === 200 ? r.body : undefined;
      },
      10_000,
      tail,
    );
    expect(served.root ?? root, "the proof's root").to.equal(root);
    const leaf = served.leaf as Record<string, string>;
    const reward = BigInt(leaf.capacityReward) + BigInt(leaf.deliveryReward);
    expect(reward > 0n, `the good node earned something (${reward})`).to.equal(true);
    const claim = {
      kind: Number(leaf.kind),
      epoch: BigInt(leaf.epoch),
      account: leaf.account,
      id: BigInt(leaf.id),
      capacityReward: BigInt(leaf.capacityReward),
      deliveryReward: BigInt(leaf.deliveryReward),
      checkerReward: BigInt(leaf.checkerReward),
      metricsHash: leaf.metricsHash,
    };
    const rewards = c.RewardDistributor.connect(good);
    await (await rewards.claim(good.address, [{ leaf: claim, proof: served.proof as string[] }])).wait();
    expect(await c.RewardDistributor.isClaimed(epoch, 0, goodNode), "claimed").to.equal(true);

    // The node that was down: its renter is credited for the epoch, by the keeper, with no claim.
    await until(
      `the SLA credit of rental ${rentalId} for epoch ${epoch}`,
      async () => ((await c.SlaEnforcer.isCredited(rentalId, epoch)) ? true : undefined),
      15_000,
      tail,
    );

    const credited = (await c.KaiToken.balanceOf(renter.address)) - before;
    expect(credited > 0n, `the renter received its credit (${credited})`).to.equal(true);

    for (const r of running.splice(0)) expect(await r.stop(), "exit code").to.equal(0);
  });
});
