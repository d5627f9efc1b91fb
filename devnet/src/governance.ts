/**
 * Setting up a local Kaisar network after the Ignition deployment: what governance (through the
 * timelock) and the demo accounts do once so that checkers can sign reports and providers can be
 * rented. Used by the node software's integration tests and by `npm start`; never by anything on agung
 * or peaq.
 */
import { Interface, JsonRpcSigner, encodeBytes32String, parseUnits, type Signer } from "ethers";

import { rpcProvider, type KaisarContracts } from "../../node/src/chain/contracts";
import type { DeclaredSpec } from "../../node/src/config/nodes";
import { KaisarTimelock__factory } from "../../typechain-types/factories/contracts/governance/KaisarTimelock__factory";

/** One call governance makes through the timelock. */
export interface GovernanceCall {
  target: string;
  data: string;
}

/**
 * Schedules `calls` as one timelock batch and executes it. With a minimum delay above zero,
 * `waitDelay` must make the delay pass (wall clock on a live node, `evm_increaseTime` in tests).
 */
export async function governanceExecute(
  timelockAddress: string,
  governance: Signer,
  calls: GovernanceCall[],
  waitDelay: (seconds: number) => Promise<void> = async () => {},
): Promise<void> {
  const timelock = KaisarTimelock__factory.connect(timelockAddress, governance);
  const delay = await timelock.getMinDelay();
  const targets = calls.map((c) => c.target);
  const values = calls.map(() => 0n);
  const datas = calls.map((c) => c.data);
  const salt = encodeBytes32String(`kaisar-devnet-${Date.now() % 1e9}-${Math.random().toString(36).slice(2, 8)}`);
  await (await timelock.scheduleBatch(targets, values, datas, encodeBytes32String(""), salt, delay)).wait();
  if (delay > 0n) await waitDelay(Number(delay) + 1);
  await (await timelock.executeBatch(targets, values, datas, encodeBytes32String(""), salt)).wait();
}

/** How governance makes `calls`: scheduled through the timelock (`governanceExecute`) or at once (`asTimelock`). */
export type Govern = (calls: GovernanceCall[]) => Promise<void>;

/**
 * Local-only governance: the timelock (admin of everything, 60 s minimum delay in local.json) makes
 * `calls` at once through Hardhat's account impersonation instead of scheduling and waiting out the
 * delay (`npm start`'s chain runs on the wall clock). Nothing like this exists on agung or peaq, where
 * governance schedules through the timelock.
 */
export function asTimelock(rpcUrl: string, chainId: number, timelock: string): Govern {
  return async (calls) => {
    const provider = rpcProvider(rpcUrl, chainId);
    await provider.send("hardhat_impersonateAccount", [timelock]);
    await provider.send("hardhat_setBalance", [timelock, "0x56BC75E2D63100000"]); // 100 ETH for gas
    try {
      const gov = new JsonRpcSigner(provider, timelock);
      for (const call of calls) await (await gov.sendTransaction({ to: call.target, data: call.data })).wait();
    } finally {
      await provider.send("hardhat_stopImpersonatingAccount", [timelock]);
      provider.destroy();
    }
  };
}

/** KAI with 18 decimals from a decimal string. */
export const kai = (amount: string | number) => parseUnits(String(amount), 18);

/** The `NodeSpec` struct of a declared spec, with the GPU class resolved to its index by name. */
export async function nodeSpecOf(contracts: KaisarContracts, spec: DeclaredSpec, region = "local") {
  const count = Number(await contracts.NodeRegistry.gpuClassCount());
  let gpuClass = -1;
  for (let i = 0; i < count && gpuClass < 0; i++) {
    const c = await contracts.NodeRegistry.getGpuClass(i);
    if (c.name === encodeBytes32String(spec.gpuClass)) gpuClass = i;
  }
  if (gpuClass < 0) throw new Error(`GPU class "${spec.gpuClass}" is not registered on chain`);
  return {
    gpuClass,
    gpuCount: spec.gpuCount,
    vramGiB: spec.vramGiB,
    cpuCores: spec.cpuCores ?? 0,
    ramGiB: spec.ramGiB ?? 0,
    diskGiB: spec.diskGiB ?? 0,
    bandwidthMbps: spec.bandwidthMbps ?? 0,
    region: encodeBytes32String(region).slice(0, 18),
  };
}

export interface CheckerSetup {
  /** The operators' wallets (each gets a license, KAI, and stakes the minimum). */
  operators: Signer[];
  quorum: number;
}

/**
 * Gives each operator KAI from the treasury, stakes the oracle's minimum, mints it a license (as
 * governance, through the timelock) which it delegates to itself, then sets the checker set and
 * quorum. Returns the config version.
 */
export async function setUpCheckers(
  contracts: KaisarContracts,
  timelock: string,
  governance: Signer,
  treasury: Signer,
  setup: CheckerSetup,
  waitDelay?: (seconds: number) => Promise<void>,
): Promise<bigint> {
  return setUpCheckersWith(contracts, treasury, setup, (calls) =>
    governanceExecute(timelock, governance, calls, waitDelay),
  );
}

/** `setUpCheckers` with governance's calls made by `govern`. */
export async function setUpCheckersWith(
  contracts: KaisarContracts,
  treasury: Signer,
  setup: CheckerSetup,
  govern: Govern,
): Promise<bigint> {
  const minimum = await contracts.ReportOracle.minCheckerStake();
  const stake = minimum > 0n ? minimum : kai(1);
  const addresses = await Promise.all(setup.operators.map((o) => o.getAddress()));
  for (const [i, operator] of setup.operators.entries()) {
    await (await contracts.KaiToken.connect(treasury).transfer(addresses[i], stake)).wait();
    await (await contracts.KaiToken.connect(operator).approve(await contracts.NodeRegistry.getAddress(), stake)).wait();
    await (await contracts.NodeRegistry.connect(operator).stake(stake)).wait();
  }
  const license = new Interface(["function mint(address to, uint256 count)"]);
  const licenseAddress = await contracts.CheckerLicense.getAddress();
  const first = (await contracts.CheckerLicense.totalMinted()) + 1n;
  await govern(addresses.map((a) => ({ target: licenseAddress, data: license.encodeFunctionData("mint", [a, 1]) })));
  for (const [i, operator] of setup.operators.entries()) {
    await (await contracts.CheckerLicense.connect(operator).delegate(first + BigInt(i), addresses[i])).wait();
  }
  const sorted = [...addresses].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  await govern([
    {
      target: await contracts.ReportOracle.getAddress(),
      data: contracts.ReportOracle.interface.encodeFunctionData("setCheckerConfig", [sorted, setup.quorum]),
    },
  ]);
  return (await contracts.ReportOracle.config()).version;
}

/** The treasury funds the reward reserve with `amount` KAI units. */
export async function fundRewardReserve(contracts: KaisarContracts, treasury: Signer, amount: bigint): Promise<void> {
  const distributor = await contracts.RewardDistributor.getAddress();
  await (await contracts.KaiToken.connect(treasury).approve(distributor, amount)).wait();
  await (await contracts.RewardDistributor.connect(treasury).fundReserve(amount)).wait();
}
