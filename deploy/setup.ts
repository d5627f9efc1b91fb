/**
 * The steps after the contracts are deployed (`npm run deploy`), each read from the chain first and
 * skipped once done, so that running them again changes nothing:
 *
 *  1. checker licenses: governance mints them through the timelock (`setup.licenses`);
 *  2. the checker set: governance names the operators and quorum through the timelock
 *     (`setup.checkers`), once every operator holds a delegated license and the minimum stake;
 *  3. the reward reserve: the treasury funds RewardDistributor up to `setup.rewardReserveKai`.
 *
 * Governance steps go through the timelock: when the deployer may propose and execute there (a
 * rehearsal), it schedules the batch and executes it once the delay has passed (run the command again
 * after it); otherwise the batch is written to the deployment's folder for governance to schedule.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { AbiCoder, ZeroHash, formatUnits, getAddress, id, keccak256, parseUnits, type Signer } from "ethers";

import type { SetupParams } from "./config";
import { CheckerLicense__factory } from "../typechain-types/factories/contracts/checker/CheckerLicense__factory";
import { KaiToken__factory } from "../typechain-types/factories/contracts/token/KaiToken__factory";
import { KaisarTimelock__factory } from "../typechain-types/factories/contracts/governance/KaisarTimelock__factory";
import { NodeRegistry__factory } from "../typechain-types/factories/contracts/registry/NodeRegistry__factory";
import { ReportOracle__factory } from "../typechain-types/factories/contracts/oracle/ReportOracle__factory";
import { RewardDistributor__factory } from "../typechain-types/factories/contracts/rewards/RewardDistributor__factory";

export interface SetupContext {
  deployer: Signer;
  /** Deployed addresses by contract name (KaiToken, CheckerLicense, ReportOracle, ...). */
  addresses: Record<string, string>;
  /** Resolves an address reference of the parameters file ("account:N", "env:NAME", 0x...). */
  resolve(ref: string): Promise<string>;
  /** Where the governance batch is written when the deployer cannot schedule it. */
  deploymentDir: string;
  say(line: string): void;
}

/** What the setup did: steps done now, already done, and waiting (with what they wait for). */
export interface SetupResult {
  done: string[];
  skipped: string[];
  waiting: string[];
}

interface Call {
  target: string;
  data: string;
  what: string;
}

/** KAI units as "1000000 KAI". */
const kaiText = (units: bigint) => `${formatUnits(units, 18).replace(/\.0$/, "")} KAI`;

export async function runSetup(setup: SetupParams | undefined, ctx: SetupContext): Promise<SetupResult> {
  const result: SetupResult = { done: [], skipped: [], waiting: [] };
  if (!setup) {
    ctx.say('setup: no "setup" section in the parameters file: nothing to set up');
    return result;
  }
  const a = ctx.addresses;
  const license = CheckerLicense__factory.connect(a.CheckerLicense, ctx.deployer);
  const oracle = ReportOracle__factory.connect(a.ReportOracle, ctx.deployer);
  const registry = NodeRegistry__factory.connect(a.NodeRegistry, ctx.deployer);
  const governance: Call[] = [];

  for (const l of setup.licenses ?? []) {
    const to = await ctx.resolve(l.to);
    const held = Number(await license.balanceOf(to));
    if (held >= l.count) result.skipped.push(`licenses: ${to} holds ${held} (${l.count} wanted)`);
    else {
      governance.push({
        target: a.CheckerLicense,
        data: license.interface.encodeFunctionData("mint", [to, l.count - held]),
        what: `mint ${l.count - held} checker license(s) to ${to}`,
      });
    }
  }

  if (setup.checkers) {
    const operators = (await Promise.all(setup.checkers.operators.map((o) => ctx.resolve(o)))).sort((x, y) =>
      BigInt(x) < BigInt(y) ? -1 : 1,
    );
    const [current, config] = await Promise.all([oracle.checkers(), oracle.config()]);
    const same =
      current.length === operators.length &&
      current.every((c, i) => getAddress(c) === operators[i]) &&
      config.quorum === BigInt(setup.checkers.quorum);
    if (same) result.skipped.push(`checker set: ${operators.length} operators, quorum ${setup.checkers.quorum}`);
    else {
      const minimum = await oracle.minCheckerStake();
      const missing: string[] = [];
      for (const o of operators) {
        if ((await license.licensesOf(o)) === 0n) {
          missing.push(
            `${o} has no delegated license (the owner delegates; the operator runs \`kaisar checker delegate-accept\`)`,
          );
        }
        const staked = (await registry.getStake(o)).staked;
        if (staked < minimum)
          missing.push(`${o} stakes ${kaiText(staked)} of the ${kaiText(minimum)} required (\`kaisar checker stake\`)`);
      }
      // Licenses minted in this same run are not delegated yet: the checker set waits for a later run.
      if (missing.length) result.waiting.push(`checker set: ${missing.join("; ")}; then run this command again`);
      else {
        governance.push({
          target: a.ReportOracle,
          data: oracle.interface.encodeFunctionData("setCheckerConfig", [operators, setup.checkers.quorum]),
          what: `set the checker set: ${operators.join(", ")} with quorum ${setup.checkers.quorum}`,
        });
      }
    }
  }

  if (governance.length) await throughTimelock(governance, ctx, result);

  if (setup.rewardReserveKai !== undefined) {
    const distributor = RewardDistributor__factory.connect(a.RewardDistributor, ctx.deployer);
    const target = parseUnits(setup.rewardReserveKai, 18);
    const reserve = await distributor.reserve();
    if (reserve >= target) result.skipped.push(`reward reserve: ${setup.rewardReserveKai} KAI reached`);
    else {
      const missing = target - reserve;
      const kai = KaiToken__factory.connect(a.KaiToken, ctx.deployer);
      const me = await ctx.deployer.getAddress();
      if ((await kai.balanceOf(me)) >= missing) {
        ctx.say(`setup: funding the reward reserve with ${kaiText(missing)} from ${me}`);
        await (await kai.approve(a.RewardDistributor, missing)).wait();
        await (await distributor.fundReserve(missing)).wait();
        result.done.push(`reward reserve: funded to ${setup.rewardReserveKai} KAI`);
      } else {
        result.waiting.push(
          `reward reserve: ${kaiText(missing)} short of ${setup.rewardReserveKai} KAI: the treasury approves ` +
            `RewardDistributor ${a.RewardDistributor} and calls fundReserve(${missing}), or sends the deployer the KAI and runs this command again`,
        );
      }
    }
  }
  for (const line of result.done) ctx.say(`setup: done: ${line}`);
  for (const line of result.skipped) ctx.say(`setup: already done: ${line}`);
  for (const line of result.waiting) ctx.say(`setup: waiting: ${line}`);
  return result;
}

/**
 * Schedules `calls` as one timelock batch (salt derived from the calls, so a rerun finds the same
 * operation) and executes it when ready; or, when the deployer is no proposer, writes the batch for
 * governance to schedule.
 */
async function throughTimelock(calls: Call[], ctx: SetupContext, result: SetupResult) {
  const timelock = KaisarTimelock__factory.connect(ctx.addresses.KaisarTimelock, ctx.deployer);
  const targets = calls.map((c) => c.target);
  const values = calls.map(() => 0n);
  const datas = calls.map((c) => c.data);
  const salt = keccak256(AbiCoder.defaultAbiCoder().encode(["address[]", "bytes[]"], [targets, datas]));
  const opId = await timelock.hashOperationBatch(targets, values, datas, ZeroHash, salt);
  const what = calls.map((c) => c.what).join("; ");
  const me = await ctx.deployer.getAddress();
  const [proposer, executor] = await Promise.all([
    timelock.hasRole(id("PROPOSER_ROLE"), me),
    timelock.hasRole(id("EXECUTOR_ROLE"), me),
  ]);
  if (!proposer || !executor) {
    const file = path.join(ctx.deploymentDir, "governance-batch.json");
    const batch = {
      timelock: ctx.addresses.KaisarTimelock,
      operationId: opId,
      targets,
      values: values.map(String),
      datas,
      predecessor: ZeroHash,
      salt,
      calls: calls.map((c) => c.what),
    };
    const previous = existsSync(file) ? readFileSync(file, "utf8") : "";
    const text = JSON.stringify(batch, null, 2) + "\n";
    if (previous !== text) writeFileSync(file, text);
    result.waiting.push(
      `governance: ${what}: ${me} is not a timelock proposer and executor, so governance schedules ` +
        `(scheduleBatch) and later executes (executeBatch) the batch in ${path.relative(process.cwd(), file)}; then run this command again`,
    );
    return;
  }
  if (await timelock.isOperationDone(opId)) {
    result.skipped.push(`governance: ${what} (executed before)`);
    return;
  }
  if (!(await timelock.isOperation(opId))) {
    const delay = await timelock.getMinDelay();
    ctx.say(`setup: scheduling in the timelock (delay ${delay} s): ${what}`);
    await (await timelock.scheduleBatch(targets, values, datas, ZeroHash, salt, delay)).wait();
  }
  if (await timelock.isOperationReady(opId)) {
    ctx.say(`setup: executing through the timelock: ${what}`);
    await (await timelock.executeBatch(targets, values, datas, ZeroHash, salt)).wait();
    result.done.push(`governance: ${what}`);
  } else {
    const at = Number(await timelock.getTimestamp(opId));
    result.waiting.push(
      `governance: ${what}: scheduled, executable from ${new Date(at * 1000).toISOString()}: run this command again then`,
    );
  }
}
