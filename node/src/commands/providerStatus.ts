/**
 * `kaisar provider status` and `kaisar provider claim`: what a provider has on chain (nodes, stake,
 * rentals, penalties) and its epoch rewards (claimable leaves from the keeper's proofs API, checked
 * against the chain's root; vesting positions). Amounts read as people read them ("24,000 KAI") in
 * the text, and as exact decimal strings under --json.
 */
import {
  NodeStatus,
  NodeStatusNames,
  PlanNames,
  RentalStatusNames,
  penaltyText,
  underStakeSentence,
} from "@kaisar/offchain";
import { formatUnits } from "ethers";

import type { CommandResult } from "../chain/command";
import { connectContracts } from "../chain/contracts";
import {
  declaredSpec,
  gpuClassNames,
  providerNodes,
  providerPenalties,
  providerRentals,
  regionText,
} from "../chain/rentals";
import { OptionError, formatKai, sendTx } from "../chain/tx";
import type { Ctx } from "./provider";
import { displayAmount, displayKai, providerRewards, type ProviderRewards } from "./providerRewards";
import { ENV } from "../config";

const date = (seconds: bigint | number) => new Date(Number(seconds) * 1000).toISOString();

/** The JSON form of the rewards (exact decimal strings). */
function rewardsJson(r: ProviderRewards) {
  return {
    keeperUrl: r.keeperUrl ?? null,
    keeperProblem: r.keeperProblem ?? null,
    claimable: formatKai(r.claimable.reduce((s, c) => s + c.amount, 0n)),
    leaves: r.leaves.map((l) => ({
      epoch: l.epoch,
      nodeId: l.nodeId,
      amount: formatKai(l.amount),
      claimed: l.claimed,
      problem: l.problem ?? null,
    })),
    vesting: r.vesting.map((v) => ({
      day: v.day,
      date: v.date,
      amount: formatKai(v.amount),
      vestedBps: v.vestedBps,
      withdrawableNow: formatKai(v.withdrawableNow),
      nextStepAt: v.nextStepAt ?? null,
    })),
  };
}

/** The text lines of the rewards. */
function rewardsText(r: ProviderRewards): string[] {
  const lines: string[] = [];
  const total = r.claimable.reduce((s, c) => s + c.amount, 0n);
  if (!r.keeperUrl) {
    lines.push(
      `Rewards: no keeper to read proofs from: set keeperUrl (env ${ENV.keeperUrl}) to a keeper's API to see and claim them`,
    );
  } else if (r.keeperProblem) {
    lines.push(`Rewards: ${r.keeperProblem}`);
  } else if (r.claimable.length === 0) {
    lines.push(`Rewards: nothing to claim (proofs from ${r.keeperUrl}, checked against the chain's roots)`);
  } else {
    lines.push(
      `Rewards: ${displayKai(total)} to claim from epoch${r.claimable.length > 1 ? "s" : ""} ` +
        `${r.claimable.map((c) => `${c.epoch} (node ${c.nodeId}: ${displayKai(c.amount)})`).join(", ")}: ` +
        "`kaisar provider claim`",
    );
  }
  for (const problem of new Set(r.leaves.filter((l) => !l.claimed && l.problem).map((l) => l.problem!))) {
    lines.push(`  refused: ${problem}`);
  }
  lines.push(
    `Vesting (${r.vesting.length})${r.vesting.length ? ": `kaisar provider withdraw-vested --day <date>` withdraws one" : ""}:`,
  );
  for (const v of r.vesting) {
    lines.push(
      `  claimed ${v.date}: ${displayKai(v.amount)}, withdrawable now ${displayKai(v.withdrawableNow)} ` +
        `(${v.vestedBps / 100}%, the rest returns to the reward reserve)` +
        (v.nextStepAt ? `, more from ${date(v.nextStepAt)}` : ", fully vested"),
    );
  }
  return lines;
}

export async function status(ctx: Ctx): Promise<CommandResult> {
  const chain = await ctx.connect();
  const { contracts } = chain;
  const kaiAddress = await contracts.KaiToken.getAddress();
  const className = gpuClassNames(contracts);
  const [p, views, rentals, penalties, balance, now] = await Promise.all([
    contracts.KaisarLens.getProvider(chain.address),
    providerNodes(contracts, chain.address),
    providerRentals(contracts, chain.address),
    providerPenalties(contracts, chain.address),
    contracts.KaiToken.balanceOf(chain.address),
    chain.provider.getBlock("latest").then((b) => b!.timestamp),
  ]);
  /** A payment token amount for people: KAI, or the token's own symbol and decimals. */
  const tokens = new Map<string, Promise<{ symbol: string; decimals: number }>>();
  const show = async (token: string, amount: bigint) => {
    if (token === kaiAddress) return displayKai(amount);
    if (!tokens.has(token)) {
      const erc20 = connectContracts({ KaiToken: token }, chain.provider).KaiToken;
      tokens.set(
        token,
        Promise.all([erc20.symbol(), erc20.decimals()]).then(
          ([symbol, decimals]) => ({ symbol, decimals: Number(decimals) }),
          () => ({ symbol: `units of ${token}`, decimals: 0 }),
        ),
      );
    }
    const t = await tokens.get(token)!;
    return displayAmount(amount, t.symbol, t.decimals);
  };
  const nodes = [];
  const priceText = new Map<number, string>();
  for (const v of views) {
    const n = v.node;
    const kaiIndex = v.tokens.findIndex((t) => t === kaiAddress);
    priceText.set(
      Number(v.nodeId),
      kaiIndex >= 0 ? `${displayKai(v.pricesPerGpuHour[kaiIndex])}/GPU-hour` : "not priced in KAI",
    );
    nodes.push({
      nodeId: Number(v.nodeId),
      status: NodeStatusNames[Number(n.status)],
      jailed: Number(n.status) === NodeStatus.Jailed,
      metadataURI: n.metadataURI,
      spec: { ...(await declaredSpec(n, className)), region: regionText(n.region) },
      pricePerGpuHour: kaiIndex >= 0 ? formatKai(v.pricesPerGpuHour[kaiIndex]) : "0",
      prices: v.tokens.map((t, i) => ({ token: t, pricePerGpuHour: formatUnits(v.pricesPerGpuHour[i], 18) })),
      freeGpus: Number(v.freeGpus),
      rentedGpus: Number(n.rentedGpus),
      acceptsRentals: v.acceptsRentals,
      maintenance: n.maintenanceEnd > 0n ? { start: Number(n.maintenanceStart), end: Number(n.maintenanceEnd) } : null,
    });
  }
  const stake = {
    staked: formatKai(p.stake.staked),
    unbonding: formatKai(p.stake.unbonding),
    unbondingEnd: Number(p.stake.unbondingEnd),
    withdrawableNow: p.stake.unbonding > 0n && p.stake.unbondingEnd <= BigInt(now),
    required: formatKai(p.requiredStake),
    locked: formatKai(p.lockedStake),
    covered: p.stake.staked >= p.requiredStake,
    /** The shared sentence (offchain/src/stake.ts) when under the requirement, with how much to stake. */
    underStake: underStakeSentence(chain.address, { staked: p.stake.staked, required: p.requiredStake }) ?? null,
    rewardsOwed: formatKai(p.stake.rewardsOwed),
  };
  const earnings = rentals.map((r) => ({
    rentalId: r.rentalId.toString(),
    nodeId: Number(r.rental.nodeId),
    renter: r.rental.renter,
    status: RentalStatusNames[Number(r.rental.status)],
    plan: PlanNames[Number(r.rental.plan)],
    gpus: Number(r.rental.gpus),
    token: r.token,
    withdrawable: formatUnits(r.withdrawable, 18),
    paidUntil: Number(r.paidUntil),
  }));
  const penaltyList = penalties.map((x) => ({
    amount: formatKai(x.amount),
    at: Number(x.at),
    reasonCode: Number(x.reason),
    reason: penaltyText(x.reason),
    nodeId: Number(x.nodeId),
    evidence: x.evidence,
  }));
  const rewards = await providerRewards(
    contracts,
    ctx.config,
    chain.address,
    nodes.map((n) => n.nodeId),
    now,
  );
  const json = {
    provider: chain.address,
    chainId: ctx.config.chainId,
    kaiBalance: formatKai(balance),
    nodes,
    stake,
    earnings,
    penalties: penaltyList,
    rewards: rewardsJson(rewards),
  };
  const s = p.stake;
  const lines = [`Provider ${chain.address} on chain ${ctx.config.chainId} (balance ${displayKai(balance)})`];
  lines.push(
    `Stake: ${displayKai(s.staked)} staked, ${displayKai(p.requiredStake)} required` +
      `${stake.covered ? "" : " (NOT covered: `kaisar provider stake`)"}` +
      `, ${displayKai(p.lockedStake)} locked by saving plans, ${displayKai(s.unbonding)} unbonding` +
      (s.unbonding > 0n ? ` until ${date(s.unbondingEnd)}${stake.withdrawableNow ? " (withdrawable now)" : ""}` : "") +
      `, rewards owed ${displayKai(s.rewardsOwed)}`,
  );
  if (stake.underStake) lines.push(stake.underStake);
  lines.push(`Nodes (${nodes.length}):`);
  for (const n of nodes) {
    lines.push(
      `  #${n.nodeId} ${n.status}${n.jailed ? " (JAILED)" : ""}: ${n.spec.gpuCount} x ${n.spec.gpuClass}, ${n.freeGpus} free, ` +
        `${priceText.get(n.nodeId)}, ${n.metadataURI}`,
    );
  }
  const withdrawable = rentals.filter((r) => r.withdrawable > 0n);
  lines.push(`Rentals (${rentals.length}), withdrawable now on ${withdrawable.length}:`);
  for (const r of rentals) {
    lines.push(
      `  rental ${r.rentalId} on node ${r.rental.nodeId}: ${RentalStatusNames[Number(r.rental.status)]}, ${r.rental.gpus} GPU(s), ` +
        `withdrawable ${await show(r.token, r.withdrawable)}`,
    );
  }
  lines.push(...rewardsText(rewards));
  lines.push(`Penalties (${penaltyList.length}):`);
  for (const x of penalties) {
    lines.push(
      `  ${date(x.at)} ${displayKai(x.amount)} for ${penaltyText(x.reason)}` +
        `${x.nodeId ? ` on node ${x.nodeId}` : ""}, evidence ${x.evidence}`,
    );
  }
  return { json, text: lines.join("\n") };
}

/**
 * `kaisar provider claim`: claims every reward leaf of the provider's nodes that the keeper serves,
 * whose proof holds under the chain's root and that is not claimed yet, in one
 * RewardDistributor.claim; the KAI starts vesting that day (UTC).
 */
export async function claim(ctx: Ctx): Promise<CommandResult> {
  const chain = await ctx.connect();
  const { contracts } = chain;
  const now = (await chain.provider.getBlock("latest"))!.timestamp;
  const nodeIds = (await providerNodes(contracts, chain.address)).map((v) => Number(v.nodeId));
  const rewards = await providerRewards(contracts, ctx.config, chain.address, nodeIds, now);
  if (!rewards.keeperUrl) {
    throw new Error(
      `keeperUrl (env ${ENV.keeperUrl}) is not set: claims need a keeper's proofs; set it to a keeper's API, e.g. http://127.0.0.1:8570`,
    );
  }
  if (rewards.keeperProblem) throw new Error(rewards.keeperProblem);
  const refused = [...new Set(rewards.leaves.filter((l) => !l.claimed && l.problem).map((l) => l.problem!))];
  if (rewards.claimable.length === 0) {
    return {
      json: { claimed: "0", epochs: [], refused, rewards: rewardsJson(rewards) },
      text: ["Nothing to claim.", ...refused.map((r) => `refused: ${r}`)].join("\n"),
    };
  }
  const total = rewards.claimable.reduce((s, c) => s + c.amount, 0n);
  const epochs = rewards.claimable.map((c) => c.epoch);
  const receipt = await sendTx(
    `RewardDistributor.claim(${displayKai(total)} over ${rewards.claimable.length} leaf/leaves of epochs ${epochs.join(", ")})`,
    () =>
      contracts.RewardDistributor.claim(
        chain.address,
        rewards.claimable.map((c) => ({ leaf: c.leaf, proof: c.proof })),
      ),
    ctx.progress,
  );
  let day = Math.floor(now / 86_400);
  for (const log of receipt.logs) {
    try {
      const parsed = contracts.RewardDistributor.interface.parseLog(log);
      if (parsed?.name === "Claim") day = Number(parsed.args.day);
    } catch {
      // another contract's log
    }
  }
  const after = await providerRewards(contracts, ctx.config, chain.address, nodeIds, now);
  const position = after.vesting.find((v) => v.day === day);
  const text = [
    `Claimed ${displayKai(total)} of rewards from epochs ${epochs.join(", ")} (transaction ${receipt.hash}).`,
    position
      ? `It vests from the end of ${position.date} (UTC): withdrawable now ${displayKai(position.withdrawableNow)} ` +
        `of the day's ${displayKai(position.amount)} (${position.vestedBps / 100}%)` +
        (position.nextStepAt ? `, more from ${date(position.nextStepAt)}` : "") +
        "; `kaisar provider status` lists the positions."
      : "",
    ...refused.map((r) => `refused: ${r}`),
  ].filter(Boolean);
  return {
    json: {
      claimed: formatKai(total),
      epochs,
      day,
      transaction: receipt.hash,
      refused,
      rewards: rewardsJson(after),
    },
    text: text.join("\n"),
  };
}

/**
 * `kaisar provider withdraw-vested --day <YYYY-MM-DD>`: withdraws one vesting position. Before it is
 * fully vested, withdrawing forfeits the rest to the reward reserve: the command states both amounts
 * and sends nothing unless --accept-loss is given.
 */
export async function withdrawVested(opts: Record<string, unknown>, ctx: Ctx): Promise<CommandResult> {
  const raw = typeof opts.day === "string" ? opts.day : "";
  const chain = await ctx.connect();
  const now = (await chain.provider.getBlock("latest"))!.timestamp;
  const rewards = await providerRewards(chain.contracts, {}, chain.address, [], now);
  const days = rewards.vesting.map((v) => v.date).join(", ") || "none";
  if (!/^\d{4}-\d\d-\d\d$/.test(raw)) {
    throw new OptionError(`--day "${raw}" is not a date: give a position's day as YYYY-MM-DD (positions: ${days})`);
  }
  const position = rewards.vesting.find((v) => v.date === raw);
  if (!position)
    throw new OptionError(`--day ${raw}: ${chain.address} has no vesting position that day (positions: ${days})`);
  const lost = position.amount - position.withdrawableNow;
  if (lost > 0n && !opts.acceptLoss) {
    throw new OptionError(
      `withdrawing the position of ${raw} now pays ${displayKai(position.withdrawableNow)} of ${displayKai(position.amount)} ` +
        `(${position.vestedBps / 100}%) and forfeits ${displayKai(lost)} to the reward reserve` +
        (position.nextStepAt ? `; it pays more from ${date(position.nextStepAt)}` : "") +
        ": add --accept-loss to withdraw anyway",
    );
  }
  const before = await chain.contracts.KaiToken.balanceOf(chain.address);
  await sendTx(
    `RewardDistributor.withdrawVested(${position.day})`,
    () => chain.contracts.RewardDistributor.withdrawVested(position.day),
    ctx.progress,
  );
  const paid = (await chain.contracts.KaiToken.balanceOf(chain.address)) - before;
  return {
    json: { day: position.day, date: raw, paid: formatKai(paid), forfeited: formatKai(position.amount - paid) },
    text: `Withdrew ${displayKai(paid)} of the position of ${raw}${position.amount > paid ? `; ${displayKai(position.amount - paid)} returned to the reward reserve` : ""}.`,
  };
}
