import { expect } from "chai";

import { setUpCheckers, fundRewardReserve, kai } from "../../devnet/src/governance";
import { checkChainId, rpcProvider } from "../src/chain/contracts";
import { startLocalChain, type LocalChain } from "./helpers/localChain";

describe("local chain fixture and devnet setup", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  before(async () => {
    chain = await startLocalChain({ epochLengthSeconds: 10 });
  });
  after(async () => chain?.close());

  it("serves the deployed contracts over JSON-RPC", async () => {
    expect(await chain.contracts.KaiToken.symbol()).to.equal("KAI");
    expect(Number(await chain.contracts.NodeRegistry.gpuClassCount())).to.equal(5);
  });

  it("checks the chain id, naming the setting on a mismatch", async () => {
    const provider = rpcProvider(chain.rpcUrl, 31337);
    await checkChainId(provider, 31337, chain.rpcUrl);
    let message = "";
    await checkChainId(provider, 3338, chain.rpcUrl).catch((e: Error) => (message = e.message));
    expect(message).to.include("serves chain 31337").and.include("chainId (env KAISAR_CHAIN_ID) is 3338");
    provider.destroy();
  });

  it("sets up three checkers through the timelock and funds the reward reserve", async () => {
    const operators = [1, 2, 3].map((i) => chain.account(i));
    const version = await setUpCheckers(
      chain.contracts,
      chain.addresses.KaisarTimelock,
      chain.account(0),
      chain.account(0),
      { operators, quorum: 3 },
    );
    expect(version).to.equal(1n);
    const set = await chain.contracts.ReportOracle.checkers();
    expect(set.map((a) => a.toLowerCase()).sort()).to.deep.equal(operators.map((o) => o.address.toLowerCase()).sort());
    await fundRewardReserve(chain.contracts, chain.account(0), kai(1_000_000));
    expect(await chain.contracts.RewardDistributor.reserve()).to.equal(kai(1_000_000));
  });
});
