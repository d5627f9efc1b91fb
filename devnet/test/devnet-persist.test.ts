import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";

import { expect } from "chai";
import { JsonRpcSigner, type Provider } from "ethers";

import { connectContracts, rpcProvider } from "../../node/src/chain/contracts";
import { dumpChain, replayChain, rpcCall, type ChainDump } from "../src/persist";
import { startLocalChain, type LocalChain } from "../../node/test/helpers/localChain";

const ROOT = path.resolve(__dirname, "..", "..");
const HARDHAT = path.join(ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js");

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** `hardhat node` as `npm start -- --persist` starts it: its genesis at `genesis` (unix seconds). */
async function startNode(genesis: number): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [HARDHAT, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: ROOT,
    env: {
      ...process.env,
      KAISAR_WALL_CLOCK_CHAIN: "1",
      KAISAR_CHAIN_INITIAL_DATE: new Date(genesis * 1000).toISOString(),
    },
    stdio: "ignore",
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await rpcCall(url, "eth_chainId").catch(() => undefined)) return { url, proc };
    if (Date.now() > deadline) throw new Error("hardhat node did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("npm start --persist: the chain recorded and replayed (devnet/persist)", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let node: ChildProcess | undefined;
  let dump: ChainDump;
  const signed: string[] = [];
  let impersonated: string;
  let state: { balances: bigint[]; minted: bigint; latest: number; timestamps: number[] };

  const stateOf = async (provider: Provider, addresses: LocalChain["addresses"]) => {
    const c = connectContracts(addresses, provider);
    const balances = [];
    for (const i of [0, 1, 2, 3]) balances.push(await c.KaiToken.balanceOf(chain.account(i).address));
    return { balances, minted: await c.CheckerLicense.totalMinted() };
  };

  before(async () => {
    chain = await startLocalChain();
    const { KaiToken, CheckerLicense } = chain.contracts;
    const p = chain.provider;
    // Signed transactions, one a block (automine).
    for (const i of [1, 2])
      signed.push(
        (await KaiToken.connect(chain.account(0)).transfer(chain.account(i).address, 1000n + BigInt(i))).hash,
      );
    // Empty blocks, then a block of three signed transactions from two senders.
    await p.request({ method: "hardhat_mine", params: ["0x5", "0x1"] });
    await p.request({ method: "evm_setAutomine", params: [false] });
    const t0 = chain.account(0);
    const n0 = await t0.getNonce();
    signed.push((await KaiToken.connect(t0).transfer(chain.account(3).address, 7n, { nonce: n0 })).hash);
    signed.push((await KaiToken.connect(chain.account(1)).transfer(chain.account(3).address, 5n)).hash);
    signed.push((await KaiToken.connect(t0).transfer(chain.account(2).address, 9n, { nonce: n0 + 1 })).hash);
    await p.request({ method: "evm_mine", params: [] });
    await p.request({ method: "evm_setAutomine", params: [true] });
    // An impersonated one (the timelock mints a checker license), gas from hardhat_setBalance.
    const timelock = chain.addresses.KaisarTimelock;
    const provider = rpcProvider(chain.rpcUrl, 31337);
    await provider.send("hardhat_impersonateAccount", [timelock]);
    await provider.send("hardhat_setBalance", [timelock, "0x56BC75E2D63100000"]);
    impersonated = (
      await CheckerLicense.connect(new JsonRpcSigner(provider, timelock)).mint(chain.account(3).address, 1)
    ).hash;
    await provider.send("hardhat_stopImpersonatingAccount", [timelock]);
    // Later blocks, time moved on.
    await chain.increaseTime(30);
    signed.push((await KaiToken.connect(chain.account(2)).transfer(chain.account(0).address, 3n)).hash);
    await p.request({ method: "hardhat_mine", params: ["0x3", "0x1"] });

    dump = JSON.parse(JSON.stringify(await dumpChain(chain.rpcUrl))) as ChainDump;
    const blocks = [];
    for (const b of dump.blocks) blocks.push(b.timestamp);
    state = {
      ...(await stateOf(provider, chain.addresses)),
      latest: dump.latest.number,
      timestamps: blocks,
    };
    provider.destroy();
    await chain.close();
  });

  after(() => {
    if (node?.pid) process.kill(-node.pid, "SIGKILL");
  });

  it("records the blocks with transactions: signed ones as their bytes, impersonated ones as fields", () => {
    const txs = dump.blocks.flatMap((b) => b.txs);
    for (const h of signed) expect(txs.find((t) => t.hash === h)).to.have.property("raw");
    const imp = txs.find((t) => t.hash === impersonated)!;
    expect(imp).to.have.property("send");
    expect(imp).to.have.property("balanceBefore");
    expect(
      dump.blocks.find((b) => b.txs.length === 3),
      "the block of three",
    ).to.not.equal(undefined);
    expect(dump.blocks.every((b) => b.txs.length > 0)).to.equal(true);
    expect(dump.latest.number).to.be.greaterThan(dump.blocks.at(-1)!.number);
  });

  it("replays them on a fresh chain: same hashes, block numbers, timestamps and state", async () => {
    const started = await startNode(dump.genesis.timestamp);
    node = started.proc;
    const replayed = await replayChain(started.url, dump);
    expect(replayed.blocks).to.equal(dump.blocks.length);
    expect(replayed.transactions).to.equal(dump.blocks.reduce((n, b) => n + b.txs.length, 0));

    const provider = rpcProvider(started.url, 31337);
    for (const h of [...signed, impersonated]) expect((await provider.getTransactionReceipt(h))?.status).to.equal(1);
    const latest = (await provider.getBlock("latest"))!;
    expect(latest.number).to.equal(state.latest);
    expect(latest.stateRoot).to.equal(dump.latest.stateRoot);
    const timestamps = [];
    for (const b of dump.blocks) timestamps.push((await provider.getBlock(b.number))!.timestamp);
    expect(timestamps).to.deep.equal(state.timestamps);
    const after = await stateOf(provider, chain.addresses);
    expect(after.balances).to.deep.equal(state.balances);
    expect(after.minted).to.equal(state.minted);

    // A replayed chain can be dumped again from where the dump ended (automine is back on).
    const more = await connectContracts(chain.addresses, provider)
      .KaiToken.connect(chain.account(0).connect(provider))
      .transfer(chain.account(1).address, 1n);
    await more.wait();
    const again = await dumpChain(started.url, dump);
    expect(again.blocks.length).to.equal(dump.blocks.length + 1);
    expect(again.blocks.at(-1)!.txs[0].hash).to.equal(more.hash);

    // It refuses a chain that is not fresh.
    let message = "";
    await replayChain(started.url, dump).catch((e: Error) => (message = e.message));
    expect(message).to.include("already has");
    provider.destroy();
  });
});
