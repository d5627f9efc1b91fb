/**
 * The keeper's checker-set upkeep against a real local chain: an operator whose owner takes back its only
 * license, and one that unstakes below the minimum, are excluded from the set (`excludeOperator`:
 * a tombstone at its index, same config version); an active set is never sent a transaction; a keeper
 * restarted after broadcasting an exclusion resumes it and sends no second one; when the live operators
 * fall below the quorum the keeper warns, once, and `keeper status` says so.
 */
import { expect } from "chai";
import { Wallet, ZeroAddress } from "ethers";

import { main } from "../src/cli";
import type { Io } from "../src/commands/common";
import { setUpCheckers } from "../../devnet/src/governance";
import { startKeeper, type Keeper, type TickResult } from "../src/keeper";
import type { TxLogEntry } from "../src/keeper/tx";
import { startLocalChain, type LocalChain } from "./helpers/localChain";
import { keeperConfig } from "./helpers/keeper";
import { until } from "./helpers/support";
import { clearKaisarEnv } from "./helpers/cli";

/** `ReportOracle.EXCLUDED_NO_LICENSE`, `EXCLUDED_UNDER_STAKED`. */
const NO_LICENSE = 1n;
const UNDER_STAKED = 2n;

describe("keeper checker-set exclusions", function () {
  this.timeout(30_000);
  let chain: LocalChain;
  let keeper: Keeper;
  let config: ReturnType<typeof keeperConfig>;
  let version: bigint;
  let logs: TxLogEntry[] = [];
  /** The index of the operator excluded first. */
  let excludedFirst: number;
  /** Makes the keeper stop right after its next broadcast (a crash with the transaction in flight). */
  let crashAfterBroadcast = false;
  const keeperWallet = () => new Wallet(chain.account(7).privateKey);
  const unlicensed = () => chain.account(2); // its owner takes back its only license
  const unstaker = () => chain.account(3); // unstakes below the minimum
  const indexOf = async (address: string) => (await chain.contracts.ReportOracle.checkers()).indexOf(address);
  const start = (dataDir?: string) => {
    config = keeperConfig(chain, keeperWallet(), { txTimeout: 30_000, ...(dataDir ? { dataDir } : {}) });
    return startKeeper(config, {
      api: false,
      pollMs: 50,
      log: (e) => logs.push(e),
      txHooks: {
        afterBroadcast: () => {
          if (crashAfterBroadcast) keeper.sender.stop();
        },
      },
    });
  };
  const keeperNonce = () => chain.contracts.ReportOracle.runner!.provider!.getTransactionCount(keeperWallet().address);
  const excludeEvents = () =>
    chain.contracts.ReportOracle.queryFilter(chain.contracts.ReportOracle.filters.ExcludeOperator());

  before(async () => {
    chain = await startLocalChain();
    const gov = chain.account(0);
    version = await setUpCheckers(chain.contracts, chain.addresses.KaisarTimelock, gov, gov, {
      operators: [1, 2, 3, 4].map((i) => chain.account(i)),
      quorum: 3,
    });
    keeper = await start();
  });
  after(async () => {
    await keeper?.close();
    await chain?.provider.request({ method: "evm_setAutomine", params: [true] });
    await chain?.close();
  });

  it("an active set: a pass sends nothing, no transaction from the keeper", async () => {
    const tick = await keeper.tick();
    expect(tick.errors).to.deep.equal([]);
    expect(tick.exclusions).to.deep.equal([]);
    expect(keeper.store.txCount()).to.equal(0);
    expect(await keeperNonce()).to.equal(0);
    const ats = logs.map((l) => l.at);
    expect(ats).to.not.include("Keeper#excludeOperator");
    expect(ats).to.not.include("Keeper#checkerQuorumLost");
  });

  describe("given the owner of one operator's only license undelegates it", () => {
    let index: number;
    let tick: TickResult;
    before(async () => {
      const op = unlicensed();
      const license = chain.contracts.CheckerLicense;
      const [delegated] = await license.queryFilter(license.filters.Delegate(undefined, undefined, op.address));
      await (await license.connect(op).undelegate(delegated.args.tokenId)).wait();
      index = excludedFirst = await indexOf(op.address);
      logs = [];
      tick = await keeper.tick();
    });

    it("the keeper excludes it: ExcludeOperator(version, index, operator, NO_LICENSE, 3 live)", async () => {
      expect(tick.errors).to.deep.equal([]);
      expect(tick.exclusions.map((o) => [o.key, o.status])).to.deep.equal([[`exclude:${version}:${index}`, "mined"]]);
      const events = await excludeEvents();
      expect(
        events.map((e) => [e.args.version, e.args.index, e.args.operator, e.args.reasons, e.args.live]),
      ).to.deep.equal([[version, BigInt(index), unlicensed().address, NO_LICENSE, 3n]]);
      expect(events[0].transactionHash).to.equal((tick.exclusions[0] as { hash: string }).hash);
    });

    it("checkers() has the zero address at its index, the others in place, the version unchanged", async () => {
      const set = [...(await chain.contracts.ReportOracle.checkers())];
      expect(set[index]).to.equal(ZeroAddress);
      expect(set.filter((a) => a !== ZeroAddress)).to.have.members([1, 3, 4].map((i) => chain.account(i).address));
      expect((await chain.contracts.ReportOracle.config()).version).to.equal(version);
    });

    it("logs the exclusion as one JSON line, and no quorum warning (3 live, quorum 3)", () => {
      const line = logs.find((l) => l.at === "Keeper#excludeOperator")!;
      expect(line).to.deep.include({
        version: String(version),
        index,
        operator: unlicensed().address,
        reasons: ["no-license"],
        licenses: "0",
      });
      expect(JSON.parse(JSON.stringify(line))).to.deep.equal(line);
      expect(logs.map((l) => l.at)).to.not.include("Keeper#checkerQuorumLost");
    });

    it("a second pass sends nothing; a repeat counts ReportOracle_OperatorAlreadyExcluded as done", async () => {
      const sent = keeper.store.txCount();
      const again = await keeper.tick();
      expect([again.errors, again.exclusions]).to.deep.equal([[], []]);
      expect(keeper.store.txCount()).to.equal(sent);
      const oracle = chain.contracts.ReportOracle;
      const repeat = await keeper.sender.send({
        kind: "exclude",
        key: `exclude:${version}:${index}:repeat`,
        contract: "ReportOracle",
        to: chain.addresses.ReportOracle,
        data: oracle.interface.encodeFunctionData("excludeOperator", [index]),
      });
      expect(repeat).to.deep.include({ status: "already" });
      expect((repeat as { reason: string }).reason).to.match(/^ReportOracle_OperatorAlreadyExcluded/);
      expect(keeper.store.txCount()).to.equal(sent);
    });
  });

  describe("given another operator unstakes below the minimum, and the keeper stops right after broadcasting", () => {
    let index: number;
    let hash: string;
    let first: TxLogEntry[];
    before(async () => {
      const op = unstaker();
      await (await chain.contracts.NodeRegistry.connect(op).requestUnstake(1n)).wait();
      index = await indexOf(op.address);
      // The exclusion stays in the mempool: the keeper broadcasts it, stops, and is closed.
      await chain.provider.request({ method: "evm_setAutomine", params: [false] });
      crashAfterBroadcast = true;
      logs = [];
      const tick = await keeper.tick();
      expect(tick.exclusions.map((o) => [o.key, o.status])).to.deep.equal([[`exclude:${version}:${index}`, "pending"]]);
      hash = (tick.exclusions[0] as { hash: string }).hash;
      await keeper.close();
      first = logs;
      crashAfterBroadcast = false;

      // Restarted on the same data: the operator is still in the set (nothing mined yet), so the pass
      // wants to exclude it again, under the same key: the one transaction in flight is waited for.
      logs = [];
      keeper = await start(config.dataDir);
      const pass = keeper.checkerSet.excludeAll();
      await until(() => logs.find((l) => l.at === "Keeper#excludeOperator"));
      await chain.provider.request({ method: "evm_mine", params: [] });
      await chain.provider.request({ method: "evm_setAutomine", params: [true] });
      const outcomes = await pass;
      expect(outcomes.map((o) => [o.key, o.status, (o as { hash?: string }).hash])).to.deep.equal([
        [`exclude:${version}:${index}`, "mined", hash],
      ]);
    });

    it("the keeper excludes it: ExcludeOperator(version, index, operator, UNDER_STAKED, 2 live)", async () => {
      const [, event] = await excludeEvents();
      expect([
        event.args.version,
        event.args.index,
        event.args.operator,
        event.args.reasons,
        event.args.live,
      ]).to.deep.equal([version, BigInt(index), unstaker().address, UNDER_STAKED, 2n]);
      expect((await chain.contracts.ReportOracle.checkers())[index]).to.equal(ZeroAddress);
      const line = first.find((l) => l.at === "Keeper#excludeOperator")!;
      expect(line).to.deep.include({ index, operator: unstaker().address, reasons: ["under-staked"] });
    });

    it("the restarted keeper sent no second transaction", async () => {
      expect(keeper.store.txCount(), "signed transactions").to.equal(2);
      expect(await keeperNonce(), "transactions on chain").to.equal(2);
      expect((await excludeEvents()).length).to.equal(2);
      expect(logs.map((l) => l.at)).to.not.include("Keeper#send");
      const again = await keeper.tick();
      expect([again.errors, again.exclusions]).to.deep.equal([[], []]);
      expect(await keeperNonce()).to.equal(2);
    });

    it("2 live < quorum 3: CheckerQuorumLost on chain, the keeper warns once", async () => {
      const oracle = chain.contracts.ReportOracle;
      const lost = await oracle.queryFilter(oracle.filters.CheckerQuorumLost());
      expect(lost.map((e) => [e.args.version, e.args.live, e.args.quorum])).to.deep.equal([[version, 2n, 3n]]);
      const warnings = logs.filter((l) => l.at === "Keeper#checkerQuorumLost");
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.deep.include({ level: "warn", version: String(version), live: 2, quorum: 3 });
      expect(warnings[0].excluded).to.have.members([excludedFirst, index]);
      expect(
        first.map((l) => l.at),
        "not while 3 were live",
      ).to.not.include("Keeper#checkerQuorumLost");
    });

    it("keeper status shows the set, the lost quorum and the exclusions", async () => {
      const s = await keeper.status();
      expect(s.checkerSet).to.deep.include({
        version: String(version),
        count: 4,
        live: 2,
        quorum: 3,
        quorumLost: true,
      });
      expect(s.checkerSet.excluded).to.have.members([excludedFirst, index]);
      expect(s.exclusions.map((x) => [x.key, x.status, x.outcome])).to.deep.equal([
        [`exclude:${version}:${index}`, "done", "mined"],
        [
          `exclude:${version}:${excludedFirst}:repeat`,
          "done",
          `already: ReportOracle_OperatorAlreadyExcluded(${excludedFirst})`,
        ],
        [`exclude:${version}:${excludedFirst}`, "done", "mined"],
      ]);

      await keeper.close();
      const saved = { ...process.env };
      let out = "";
      let err = "";
      const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t) };
      try {
        clearKaisarEnv();
        Object.assign(process.env, {
          KAISAR_CHAIN_ID: String(chain.chainId),
          KAISAR_RPC_URL: chain.rpcUrl,
          KAISAR_PRIVATE_KEY: chain.account(7).privateKey,
          KAISAR_DEPLOYMENT: chain.deploymentFile,
          KAISAR_DATA_DIR: config.dataDir,
        });
        expect(await main(["node", "kaisar", "keeper", "status"], io), err).to.equal(0);
      } finally {
        process.env = saved;
      }
      expect(out).to.include(`checkers   config ${version}: 2 of 4 live, quorum 3`);
      expect(out).to.include("warning    checker quorum lost");
      expect(out).to.include(`excluded   exclude:${version}:${index}: done (mined) tx ${hash}`);
    });
  });
});
