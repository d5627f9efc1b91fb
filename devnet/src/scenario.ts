/**
 * The demo scenario on a fresh chain: every contract deployed, governance's one-time set-up (3
 * checkers with license, stake, checker set and quorum 2; the reward reserve), KAI for the demo
 * accounts, 5 providers registered with the real `kaisar provider register` (in this process), and
 * the demo renter's rentals of a healthy node and of the flaky one.
 */
import path from "node:path";

import { HDNodeWallet, Mnemonic, type JsonRpcProvider, type Wallet } from "ethers";

import { connectContracts, walletOn } from "../../node/src/chain/contracts";
import { main as kaisar } from "../../node/src/cli";
import type { RunProgram } from "../../node/src/provider";
import {
  CHECKER_ACCOUNTS,
  DEMO_RENTALS,
  DEPLOYER_ACCOUNT,
  PROVIDERS,
  RENTER_ACCOUNT,
  YOU_ACCOUNT,
  type Built,
  type NodeInfo,
  type RentalInfo,
} from "./cast";
import { deploy } from "./chain";
import type { Devnet } from "./devnet";
import { asTimelock, fundRewardReserve, kai, setUpCheckersWith } from "./governance";
import { CHAIN_ID, DEVNET, MNEMONIC, writeJson } from "./paths";
import type { Urls } from "./ports";
import { StartError, type Settings } from "./settings";

/** Hardhat account `i` of the public test mnemonic, on `provider`. */
export function accounts(provider: JsonRpcProvider): (i: number) => Wallet {
  const mnemonic = Mnemonic.fromPhrase(MNEMONIC);
  return (i) => walletOn(HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`).privateKey, provider);
}

const NO_SMI: RunProgram = async () => {
  throw Object.assign(new Error("npm start declares each agent's hardware (simulated GPUs)"), { code: "ENOENT" });
};

/** Runs `kaisar <args>` in this process; resolves to its JSON output (throws with its messages on failure). */
async function kaisarJson(args: string[]): Promise<Record<string, unknown>> {
  let out = "";
  let err = "";
  const code = await kaisar(
    ["node", "kaisar", ...args, "--json"],
    { out: (t) => void (out += t), err: (t) => void (err += t) },
    { agent: { detect: { run: NO_SMI } } },
  );
  if (code !== 0) throw new StartError(`kaisar ${args.join(" ")} failed (exit ${code}):\n${err}${out}`);
  // The last JSON document printed (progress may come before it).
  const text = out.trim();
  const at = text.startsWith("{") ? 0 : text.lastIndexOf("\n{") + 1;
  return JSON.parse(text.slice(at)) as Record<string, unknown>;
}

/** A fresh network: deployment, set-up, providers, demo rentals. */
export async function buildNetwork(
  d: Devnet,
  s: Settings,
  urls: Urls,
  provider: JsonRpcProvider,
  account: (i: number) => Wallet,
): Promise<Built> {
  const addresses = await deploy(d, s, urls.rpcUrl);
  const c = connectContracts(addresses, provider);
  const treasury = account(DEPLOYER_ACCOUNT);

  d.say("setting up: 3 checkers (license, stake, checker set, quorum 2), the reward reserve, demo accounts");
  await setUpCheckersWith(
    c,
    treasury,
    { operators: CHECKER_ACCOUNTS.map(account), quorum: 2 },
    asTimelock(urls.rpcUrl, CHAIN_ID, addresses.KaisarTimelock),
  );
  await fundRewardReserve(c, treasury, kai(10_000_000));
  for (const p of PROVIDERS)
    await (await c.KaiToken.connect(treasury).transfer(account(p.account).address, kai(100_000))).wait();
  for (const i of [RENTER_ACCOUNT, YOU_ACCOUNT]) {
    await (await c.KaiToken.connect(treasury).transfer(account(i).address, kai(10_000))).wait();
  }

  d.say("registering 5 providers with `kaisar provider register` (stake, spec, price)");
  const nodes: NodeInfo[] = [];
  for (const [i, p] of PROVIDERS.entries()) {
    const wallet = account(p.account);
    const profile = writeJson(path.join(DEVNET, `${p.name}.hardware.json`), {
      ...p.profile,
      diskGiB: p.disk,
      bandwidthMbps: p.bandwidth,
    });
    const config = path.join(DEVNET, `${p.name}.json`);
    const settings = {
      role: "provider",
      ...urls.base,
      privateKey: wallet.privateKey,
      listen: { host: "127.0.0.1", port: s.agentPort + i },
      publicUrl: urls.agentUrl(i),
      dataDir: path.join(DEVNET, "data", p.name),
      hardwareProfile: profile,
      pricePerGpuHour: p.price,
      region: p.region,
      challenge: { maxN: 256 },
      rentals: { poll: "2s" },
      // `kaisar provider status --config .kaisar/devnet/<name>.json` shows its claimable rewards from here.
      keeperUrl: urls.keeperUrl,
    };
    writeJson(config, settings);
    const result = await kaisarJson(["provider", "register", "--config", config]);
    const nodeId = Number(result.nodeId);
    writeJson(config, { ...settings, nodeId });
    const gpus = `${p.profile.gpuCount} x ${String(result.gpuClass)}`;
    nodes.push({ name: p.name, nodeId, url: urls.agentUrl(i), config, gpus, flaky: "flaky" in p && p.flaky });
    d.say(`  ${p.name}: node ${nodeId}, ${gpus} at ${p.price} KAI per GPU-hour`);
  }

  const renter = account(RENTER_ACCOUNT);
  const escrow = c.RentalEscrow.connect(renter);
  const token = addresses.KaiToken;
  await (await c.KaiToken.connect(renter).approve(addresses.RentalEscrow, kai(1_000))).wait();
  const rentals: RentalInfo[] = [];
  for (const { provider: at, gpus } of DEMO_RENTALS) {
    const node = nodes[at];
    await (
      await escrow.rent({
        nodeId: node.nodeId,
        gpus,
        token,
        plan: 0, // pay-as-you-go
        deposit: kai(100),
        termDays: 0,
        maxPricePerGpuHour: kai(PROVIDERS[at].price),
        slaTier: 1, // slaTiers()[0] is "no SLA"; 1 is 99.9%
      })
    ).wait();
    const id = Number(await c.RentalEscrow.rentalCount());
    rentals.push({ id, nodeId: node.nodeId, node: node.name, gpus });
    d.say(`  rental ${id}: the demo renter rents ${gpus} GPU(s) on ${node.name} (pay-as-you-go, SLA 99.9%)`);
  }
  return { addresses, nodes, rentals };
}
