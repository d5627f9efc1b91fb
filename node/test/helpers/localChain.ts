/**
 * A real local chain for the node software's integration tests: Hardhat's network in this process,
 * served over JSON-RPC on a loopback port (what the programs under test connect to), with every
 * contract deployed by the Ignition module and local parameters (timelock delay 0, short epochs).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { HDNodeWallet, Mnemonic, type Signer, type Wallet } from "ethers";

import { fundRewardReserve, kai, nodeSpecOf, setUpCheckers } from "../../../devnet/src/governance";
import { connectContracts, HeadroomWallet, rpcProvider, type KaisarContracts } from "../../src/chain/contracts";
import { CONTRACTS, type ContractName } from "../../src/config";

export const LOCAL_CHAIN_ID = 31337;
const MNEMONIC = "test test test test test test test test test test test junk";

export interface LocalChain {
  rpcUrl: string;
  chainId: number;
  /** A deployed_addresses.json for KAISAR_DEPLOYMENT. */
  deploymentFile: string;
  addresses: Record<ContractName, string> & { KaisarTimelock: string };
  /** Hardhat account i with its private key (funded with ETH; 0 is deployer, governance, treasury). */
  account(i: number): Wallet;
  /** The contracts, read through the JSON-RPC server. */
  contracts: KaisarContracts;
  /** Moves chain time forward (and mines a block). */
  increaseTime(seconds: number): Promise<void>;
  /** Latest block timestamp. */
  now(): Promise<number>;
  /** Hardhat's in-process provider (for evm_* calls). */
  provider: { request(a: { method: string; params?: unknown[] }): Promise<unknown> };
  close(): Promise<void>;
}

/**
 * Deploys Kaisar on a fresh in-process Hardhat network (one per test file: `hardhat_reset` first)
 * and serves it on a free loopback port.
 */
export async function startLocalChain(
  options: {
    epochLengthSeconds?: number;
    blockEveryMs?: number;
    /**
     * Sets the chain's clock this many seconds behind the wall clock instead of on it (its blocks then
     * keep that lag). Hardhat's clock cannot be set back: a chain started within that many seconds of
     * loading Hardhat waits out the rest first (none with KAISAR_CHAIN_INITIAL_DATE in the past).
     */
    behindWallSeconds?: number;
  } = {},
): Promise<LocalChain> {
  // Block time stays on the wall clock (hardhat.config.ts), as the checkers' epochs are.
  process.env.KAISAR_WALL_CLOCK_CHAIN = "1";
  // Loaded here: requiring Hardhat compiles nothing (the test command compiled) but reads its config.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hre = require("hardhat") as typeof import("hardhat") & {
    // hardhat-ignition-ethers' extension (its type augmentation is loaded by hardhat.config.ts only)
    ignition: { deploy(module: unknown): Promise<unknown> };
  };
  const { TASK_NODE_CREATE_SERVER } = await import("hardhat/builtin-tasks/task-names");
  const { buildKaisarModule } = await import("../../../deploy/kaisarModule");
  const { loadParameters } = await import("../../../deploy/config");

  await hre.network.provider.request({ method: "hardhat_reset", params: [] });
  // A reset keeps the mining mode an earlier test file left (automine off, an interval): start from
  // Hardhat's defaults every time.
  await hre.network.provider.request({ method: "evm_setAutomine", params: [true] });
  await hre.network.provider.request({ method: "evm_setIntervalMining", params: [0] });
  // A reset chain's clock lags the wall clock by the time since Hardhat started: set it to now, which
  // the deployment's genesis ("now") and the programs' epoch clocks go by.
  const latestBlock = async () =>
    (await hre.network.provider.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as {
      timestamp: string;
    };
  let latest = await latestBlock();
  // A reset chain starts at the time Hardhat was loaded: to be set `behindWallSeconds` back it must have
  // been loaded that long ago (or with KAISAR_CHAIN_INITIAL_DATE in the past). Otherwise wait until it was
  // and reset again: the lag is then at least that, however fast the machine.
  const short = (options.behindWallSeconds ?? 0) + 1 - (Math.floor(Date.now() / 1000) - Number(latest.timestamp));
  if (options.behindWallSeconds && short > 0) {
    await new Promise((resolve) => setTimeout(resolve, short * 1000));
    await hre.network.provider.request({ method: "hardhat_reset", params: [] });
    latest = await latestBlock();
  }
  const wall = Math.floor(Date.now() / 1000) - (options.behindWallSeconds ?? 0);
  if (wall > Number(latest.timestamp)) {
    await hre.network.provider.request({ method: "evm_setNextBlockTimestamp", params: [wall] });
    await hre.network.provider.request({ method: "evm_mine", params: [] });
  } else if (options.behindWallSeconds) {
    throw new Error(
      `the chain's clock is at ${latest.timestamp}, not ${options.behindWallSeconds} s behind the wall clock: ` +
        "set KAISAR_CHAIN_INITIAL_DATE to a past date before Hardhat is loaded",
    );
  }
  const params = {
    ...loadParameters("local"),
    timelockMinDelay: 0,
    // Epoch 0 starts now on the chain's clock (the wall clock's, unless set behind it).
    genesis: options.behindWallSeconds ? wall : ("now" as const),
    epochLengthSeconds: options.epochLengthSeconds ?? 60,
  };
  const deployed = (await hre.ignition.deploy(buildKaisarModule(params))) as Record<
    string,
    { getAddress(): Promise<string> }
  >;
  const keyOf: Record<ContractName | "KaisarTimelock", string> = {
    KaiToken: "kai",
    NodeRegistry: "registry",
    RentalEscrow: "escrow",
    KaisarLens: "lens",
    CheckerLicense: "license",
    ReportOracle: "oracle",
    RewardDistributor: "rewards",
    SlaEnforcer: "sla",
    KaisarTimelock: "timelock",
  };
  const addresses = {} as LocalChain["addresses"];
  for (const name of [...CONTRACTS, "KaisarTimelock" as const]) {
    addresses[name] = await deployed[keyOf[name]].getAddress();
  }

  // With `blockEveryMs`, blocks besides the automined ones, as a live chain makes them: the chain's time
  // moves on while nobody sends a transaction (keepers read the current epoch from the latest block).
  if (options.blockEveryMs) {
    await hre.network.provider.request({ method: "evm_setIntervalMining", params: [options.blockEveryMs] });
  }

  const server = (await hre.run(TASK_NODE_CREATE_SERVER, {
    hostname: "127.0.0.1",
    port: 0,
    provider: hre.network.provider,
  })) as { listen(): Promise<{ address: string; port: number }>; close(): Promise<void> };
  const { port } = await server.listen();
  const rpcUrl = `http://127.0.0.1:${port}`;

  const dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-chain-"));
  const deploymentFile = path.join(dir, "deployed_addresses.json");
  writeFileSync(
    deploymentFile,
    JSON.stringify(Object.fromEntries(Object.entries(addresses).map(([k, v]) => [`Kaisar#${k}`, v]))),
  );
  const provider = rpcProvider(rpcUrl, LOCAL_CHAIN_ID);
  const mnemonic = Mnemonic.fromPhrase(MNEMONIC);
  const account = (i: number) =>
    new HeadroomWallet(HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`).privateKey, provider);

  return {
    rpcUrl,
    chainId: LOCAL_CHAIN_ID,
    deploymentFile,
    addresses,
    account,
    contracts: connectContracts(addresses, provider),
    provider: hre.network.provider,
    increaseTime: async (seconds) => {
      await hre.network.provider.request({ method: "evm_increaseTime", params: [seconds] });
      await hre.network.provider.request({ method: "evm_mine", params: [] });
    },
    now: async () => Number((await provider.getBlock("latest"))!.timestamp),
    close: async () => {
      if (options.blockEveryMs) await hre.network.provider.request({ method: "evm_setIntervalMining", params: [0] });
      provider.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The machine the tests list: RTX 4090s (24 GiB each), 16 cores, 64 GiB RAM, 500 GiB disk, 1 Gbps. */
export const RTX4090 = {
  gpuClass: "RTX4090-24GB",
  gpuCount: 1,
  vramGiB: 24,
  cpuCores: 16,
  ramGiB: 64,
  diskGiB: 500,
  bandwidthMbps: 1_000,
};

export interface ListOptions {
  /** KAI governance (account 0) gives the provider, all approved to the registry; default `stake`. */
  funds?: bigint;
  /** KAI staked; default 1,000. */
  stake?: bigint;
  gpuCount?: number;
  url?: string;
  /** KAI per GPU-hour; default 1. */
  price?: bigint;
}

/**
 * `provider` funded by governance, staked and listing one node of RTX 4090s (`RTX4090`) priced in KAI;
 * resolves to the node's id.
 */
export async function stakeAndList(chain: LocalChain, provider: Signer, options: ListOptions = {}): Promise<number> {
  const { stake = kai(1_000), gpuCount = 1, url = "http://node", price = kai(1) } = options;
  const funds = options.funds ?? stake;
  const c = chain.contracts;
  await (await c.KaiToken.connect(chain.account(0)).transfer(provider, funds)).wait();
  await (await c.KaiToken.connect(provider).approve(chain.addresses.NodeRegistry, funds)).wait();
  await (await c.NodeRegistry.connect(provider).stake(stake)).wait();
  const spec = await nodeSpecOf(c, { ...RTX4090, gpuCount });
  await (await c.NodeRegistry.connect(provider).registerNode(spec, url, [chain.addresses.KaiToken], [price])).wait();
  return Number(await c.NodeRegistry.nodeCount());
}

/** `renter` given `amount` KAI by governance, all approved to the escrow. */
export async function fundRenter(chain: LocalChain, renter: Signer, amount: bigint): Promise<void> {
  const c = chain.contracts;
  await (await c.KaiToken.connect(chain.account(0)).transfer(renter, amount)).wait();
  await (await c.KaiToken.connect(renter).approve(chain.addresses.RentalEscrow, amount)).wait();
}

/**
 * The checker set of `operators` (account indexes) with `quorum`, set up by governance (account 0)
 * through the timelock, and `reserve` KAI in the reward reserve; resolves to the set's config version.
 */
export async function setUpCheckerSet(
  chain: LocalChain,
  { operators = [1, 2, 3, 4], quorum = 3, reserve = kai(1_000_000) } = {},
): Promise<bigint> {
  const gov = chain.account(0);
  const version = await setUpCheckers(chain.contracts, chain.addresses.KaisarTimelock, gov, gov, {
    operators: operators.map((i) => chain.account(i)),
    quorum,
  });
  await fundRewardReserve(chain.contracts, gov, reserve);
  return version;
}

/**
 * A provider (`account(providerIndex)`) funded, staked and listing one 2 × RTX4090 node at 1 KAI per
 * GPU-hour in KAI; `rentParams` are the escrow's `rent` arguments for one GPU, pay-as-you-go.
 */
export async function listRentableNode(chain: LocalChain, providerIndex: number) {
  const provider = chain.account(providerIndex);
  const kaiToken = chain.addresses.KaiToken;
  const nodeId = await stakeAndList(chain, provider, {
    funds: kai(60_000),
    stake: kai(50_000),
    gpuCount: 2,
    url: "http://127.0.0.1:1",
  });
  const rentParams = (deposit: bigint) => ({
    nodeId,
    gpus: 1,
    token: kaiToken,
    plan: 0,
    deposit,
    termDays: 0,
    maxPricePerGpuHour: kai(1),
    slaTier: 0,
  });
  return { provider, nodeId, rentParams };
}
