/**
 * `kaisar provider status` and `kaisar provider claim` on a real local chain: amounts as people read
 * them, the rewards a keeper's proofs API serves for the provider's node (real checker set, real
 * signatures, a report the keeper relays on chain), checked against the chain's root before a claim,
 * the claim itself and the vesting position it opens; a keeper serving a doctored leaf is refused.
 */
import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { Wallet } from "ethers";

import { kai } from "../../devnet/src/governance";
import { formatKai } from "../src/chain/tx";
import { EXIT, main } from "../src/cli";
import { displayKai } from "../src/commands/providerRewards";
import { startKeeper, type Keeper } from "../src/keeper";
import { setUpCheckerSet, startLocalChain, type LocalChain } from "./helpers/localChain";
import { keeperConfig, scoreFixture, signedBody, startFakeCheckers, type FakeCheckers } from "./helpers/keeper";
import { clearKaisarEnv, kaisar as run } from "./helpers/cli";

const PROFILE = { gpuModel: "NVIDIA GeForce RTX 4090", gpuCount: 2, vramGiB: 24, bandwidthMbps: 1000 };

describe("kaisar provider status and claim on a local chain: formatted amounts, rewards, vesting", function () {
  this.timeout(90_000);
  let chain: LocalChain;
  let checkers: FakeCheckers;
  let keeper: Keeper;
  let doctored: http.Server;
  let doctoredUrl: string;
  let dir: string;
  let configFile: string;
  let epoch: bigint;
  let reward: bigint;
  const saved = { ...process.env };
  const provider = () => chain.account(5);
  const names = ["c1", "c2", "c3", "c4"];

  before(async () => {
    chain = await startLocalChain({ epochLengthSeconds: 10 });
    checkers = await startFakeCheckers();
    const gov = chain.account(0);
    const operators = [1, 2, 3, 4].map((i) => new Wallet(chain.account(i).privateKey));
    const version = await setUpCheckerSet(chain);
    await (await chain.contracts.KaiToken.connect(gov).transfer(provider().address, kai(24_000))).wait();

    dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-provider-claim-"));
    clearKaisarEnv();
    process.env.KAISAR_DEPLOYMENT = chain.deploymentFile;
    process.env.KAISAR_PRIVATE_KEY = provider().privateKey;
    writeFileSync(path.join(dir, "hardware.json"), JSON.stringify(PROFILE));
    keeper = await startKeeper(
      keeperConfig(chain, new Wallet(chain.account(7).privateKey), {
        checkers: names.map((n) => checkers.url(n)),
        rpcTimeout: 3_000,
      }),
      { pollMs: 50 },
    );
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
        pricePerGpuHour: "1234.5",
        keeperUrl: keeper.api!.url,
      }),
    );
    const registered = await kaisar(["register"]);
    expect(registered.code, registered.err).to.equal(EXIT.ok);

    // An epoch that has ended, scored for the node with the real scoring code, signed by every operator.
    epoch = await chain.contracts.ReportOracle.epochAt(await chain.now());
    await chain.increaseTime(30);
    const fixture = scoreFixture(
      epoch,
      await chain.contracts.ReportOracle.epochBudget(epoch),
      version,
      operators.map((o) => o.address),
      [{ nodeId: 1, provider: provider().address, uptimeBps: 9_500 }],
    );
    const leaf = fixture.leaves.find((l) => l.leaf.kind === 0)!.leaf;
    reward = leaf.capacityReward + leaf.deliveryReward + leaf.checkerReward;
    for (const [i, o] of operators.entries()) {
      checkers.reports.set(
        `${names[i]}:${epoch}`,
        await signedBody(o, chain.chainId, chain.addresses.ReportOracle, fixture.report),
      );
      checkers.trees.set(`${names[i]}:${epoch}`, fixture.tree);
    }
    expect((await keeper.relay.submitEpoch(epoch)).status).to.equal("submitted");

    // A keeper that serves the real leaf with its reward doubled (and the real proof).
    doctored = http.createServer((req, res) => {
      void fetch(keeper.api!.url + req.url).then(async (answer) => {
        const body = await answer.json();
        if (/\/proof$/.test(req.url ?? "")) body.leaf.capacityReward = String(BigInt(body.leaf.capacityReward) * 2n);
        res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => doctored.listen(0, "127.0.0.1", r));
    doctoredUrl = `http://127.0.0.1:${(doctored.address() as AddressInfo).port}`;
  });

  after(async () => {
    process.env = { ...saved };
    await keeper?.close();
    await checkers?.close();
    await new Promise((r) => (doctored ? doctored.close(r) : r(undefined)));
    await chain?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const kaisar = (args: string[]) => run(["provider", ...args, "--config", configFile]);

  it("formats amounts for people: thousands separated, at most 4 decimals, dust named", () => {
    expect(displayKai(kai(24_000))).to.equal("24,000 KAI");
    expect(displayKai(kai("412616.123456789"))).to.equal("412,616.1234 KAI");
    expect(displayKai(1n)).to.equal("< 0.0001 KAI");
    expect(displayKai(0n)).to.equal("0 KAI");
  });

  it("status prints formatted amounts, and the verified rewards waiting to be claimed", async () => {
    const { code, out, err } = await kaisar(["status"]);
    expect(code, err).to.equal(EXIT.ok);
    expect(out).to.include("(balance 22,000 KAI)");
    expect(out).to.include("Stake: 2,000 KAI staked, 2,000 KAI required");
    expect(out).to.include("1,234.5 KAI/GPU-hour");
    expect(out).to.not.match(/\d{19}/);
    expect(out).to.include(
      `Rewards: ${displayKai(reward)} to claim from epoch ${epoch} (node 1: ${displayKai(reward)})`,
    );
    expect(out).to.include("Vesting (0):");
    const json = JSON.parse((await kaisar(["status", "--json"])).out);
    expect(json.stake.staked, "JSON keeps exact decimals").to.equal("2000");
    expect(json.rewards.claimable).to.equal(formatKai(reward));
    expect(json.rewards.leaves).to.deep.equal([
      { epoch: Number(epoch), nodeId: 1, amount: formatKai(reward), claimed: false, problem: null },
    ]);
  });

  it("a keeper serving a leaf the chain's root refuses: status says so, claim sends nothing", async () => {
    process.env.KAISAR_KEEPER_URL = doctoredUrl;
    try {
      const status = await kaisar(["status"]);
      expect(status.out).to.include("Rewards: nothing to claim");
      expect(status.out).to.include(`refused: The keeper's proof for epoch ${epoch} does not match the on-chain root`);
      const claim = await kaisar(["claim"]);
      expect(claim.code, claim.err).to.equal(EXIT.ok);
      expect(claim.out).to.include("Nothing to claim.");
      expect(await chain.contracts.RewardDistributor.isClaimed(epoch, 0, 1)).to.equal(false);
    } finally {
      delete process.env.KAISAR_KEEPER_URL;
    }
  });

  it("claim claims the verified leaf; the KAI vests, and status lists the position", async () => {
    const before = await chain.contracts.RewardDistributor.reserve();
    const { code, out, err } = await kaisar(["claim"]);
    expect(code, err).to.equal(EXIT.ok);
    expect(out).to.match(/sending RewardDistributor\.claim\(/);
    expect(out).to.include(`Claimed ${displayKai(reward)} of rewards from epochs ${epoch}`);
    expect(out).to.match(/withdrawable now .* \(25%\)/);
    expect(await chain.contracts.RewardDistributor.isClaimed(epoch, 0, 1)).to.equal(true);
    expect(before - (await chain.contracts.RewardDistributor.reserve())).to.equal(reward);
    const [position] = await chain.contracts.RewardDistributor.positionsOf(provider().address);
    expect(position.amount).to.equal(reward);

    const status = await kaisar(["status"]);
    expect(status.out).to.include("Rewards: nothing to claim");
    expect(status.out).to.include("Vesting (1): `kaisar provider withdraw-vested --day <date>` withdraws one:");
    expect(status.out).to.include(
      `withdrawable now ${displayKai((reward * 2_500n) / 10_000n)} (25%, the rest returns to the reward reserve), more from`,
    );
    const again = await kaisar(["claim", "--json"]);
    expect(again.code, again.err).to.equal(EXIT.ok);
    expect(JSON.parse(again.out)).to.deep.include({ claimed: "0", epochs: [] });
  });

  it("withdraw-vested states what an early withdrawal forfeits and sends nothing without --accept-loss", async () => {
    const [position] = await chain.contracts.RewardDistributor.positionsOf(provider().address);
    const date = new Date(Number(position.day) * 86_400_000).toISOString().slice(0, 10);
    const paid = (reward * 2_500n) / 10_000n;
    const refused = await kaisar(["withdraw-vested", "--day", date]);
    expect(refused.code).to.equal(EXIT.error);
    expect(refused.err).to.include(
      `withdrawing the position of ${date} now pays ${displayKai(paid)} of ${displayKai(reward)} (25%) and forfeits ${displayKai(reward - paid)} to the reward reserve`,
    );
    expect(refused.err).to.include("add --accept-loss to withdraw anyway");
    const wrongDay = await kaisar(["withdraw-vested", "--day", "2001-01-01"]);
    expect(wrongDay.err).to.include(`has no vesting position that day (positions: ${date})`);
    const before = await chain.contracts.KaiToken.balanceOf(provider().address);
    const { code, out, err } = await kaisar(["withdraw-vested", "--day", date, "--accept-loss"]);
    expect(code, err).to.equal(EXIT.ok);
    expect(out).to.include(
      `Withdrew ${displayKai(paid)} of the position of ${date}; ${displayKai(reward - paid)} returned to the reward reserve.`,
    );
    expect((await chain.contracts.KaiToken.balanceOf(provider().address)) - before).to.equal(paid);
  });

  it("claim without keeperUrl names the setting", async () => {
    process.env.KAISAR_KEEPER_URL = "";
    const file = path.join(dir, "no-keeper.json");
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(configFile, "utf8")), keeperUrl: "" }));
    let err = "";
    const code = await main(["node", "kaisar", "provider", "claim", "--config", file], {
      out: () => {},
      err: (t) => void (err += t),
    });
    expect(code).to.equal(EXIT.error);
    expect(err).to.include("keeperUrl (env KAISAR_KEEPER_URL) is not set");
  });
});
