/**
 * NodeRegistry actions (predict, send, apply): nodes, stakes, unstakes, rewards, slashes,
 * pauses, node admin. Each takes resolved arguments; commands resolve generated selectors into them.
 */
import { ethers } from "hardhat";

import { ENDPOINT, defaultSpec } from "../../fixtures";
import {
  GPU_CLASS_MULTIPLIER,
  NodeStatusN,
  PROVIDERS,
  RENTERS,
  ROLE,
  TOKENS,
  type TokenKey,
  UNBONDING_PERIOD,
} from "./constants";
import type { World } from "./world";
import { stakeActions } from "../walk/stakes";
import { type Model, type Outcome, heldStake, move, nodeOf, pullFailure } from "./state";
import { send } from "./send";
import { expectEvent, OK, err } from "../walk/send";

// Each action takes resolved arguments. Commands resolve generated selectors into them; the final
// drain calls them directly.

export const { actStake, actRequestUnstake, actWithdrawUnstaked, actDepositRewards, actWithdrawRewards } = stakeActions<
  (typeof PROVIDERS)[number],
  World,
  Model
>({
  send,
  staker: (p) => PROVIDERS[p],
  moveKai: (m, from, to, amount) => move(m, "kai", from, to, amount),
  held: heldStake,
  unbondingPeriod: UNBONDING_PERIOD,
  paused: (w, m) => (m.registryPaused ? err(w.c.registry, "EnforcedPause") : undefined),
  pull: (w, m, from, amount) => pullFailure(w, m, "kai", from, amount),
});

export async function actRegisterNode(
  w: World,
  m: Model,
  p: number,
  gpuClass: number,
  gpuCount: bigint,
  prices: Record<TokenKey, bigint>,
) {
  const who = PROVIDERS[p];
  const outcome = m.registryPaused ? err(w.c.registry, "EnforcedPause") : OK;
  const spec = { ...defaultSpec, gpuClass, gpuCount };
  await send(m, outcome, (o) =>
    w.c.registry.connect(w.signer[who]).registerNode(
      spec,
      ENDPOINT,
      [w.tokenAddr.usd, w.tokenAddr.kai, w.tokenAddr.busd],
      TOKENS.map((t) => prices[t]),
      o,
    ),
  );
  if (!outcome.ok) return;
  m.nodes.push({
    id: BigInt(m.nodes.length + 1),
    provider: p,
    gpuClass,
    gpuCount,
    rented: 0n,
    status: NodeStatusN.Active,
    price: { ...prices },
  });
  m.stakes[p].listedWeight += gpuCount * GPU_CLASS_MULTIPLIER[gpuClass];
}

/** Slash by the oracle (SLASHER_ROLE), or by a stranger (must revert); slashed KAI go to the treasury. */
export async function actSlash(w: World, m: Model, p: number, amount: bigint, asStranger: boolean) {
  const who = PROVIDERS[p];
  const s = m.stakes[p];
  const caller = asStranger ? "other" : "oracle";
  const outcome = asStranger ? err(w.c.registry, "AccessControlUnauthorizedAccount", w.addr.other, ROLE.SLASHER) : OK;
  const fromRewards = amount < s.rewardsOwed ? amount : s.rewardsOwed;
  const restAfterRewards = amount - fromRewards;
  const fromStake = restAfterRewards < s.staked ? restAfterRewards : s.staked;
  const rest = restAfterRewards - fromStake;
  const fromUnbonding = rest < s.unbonding ? rest : s.unbonding;
  const evidence = ethers.id(`walk-slash-${m.log.length}`);
  const receipt = await send(m, outcome, (o) =>
    w.c.registry.connect(w.signer[caller]).slash(w.addr[who], amount, 0, 7, evidence, w.addr.treasury, o),
  );
  if (!outcome.ok) return;
  expectEvent(receipt, w.c.registry, "Slash", [
    w.addr[who],
    0n,
    7n,
    evidence,
    fromRewards,
    fromStake,
    fromUnbonding,
    w.addr.treasury,
  ]);
  s.rewardsOwed -= fromRewards;
  s.staked -= fromStake;
  s.unbonding -= fromUnbonding;
  s.slashedRewards += fromRewards;
  s.slashedStake += fromStake + fromUnbonding;
  if (fromUnbonding !== 0n && s.unbonding === 0n) s.unbondingEnd = 0n;
  move(m, "kai", "registry", "treasury", fromRewards + fromStake + fromUnbonding);
}

export async function actPauseEscrow(w: World, m: Model, pause: boolean) {
  const outcome = m.escrowPaused === pause ? err(w.c.escrow, "RentalEscrow_AlreadySet") : OK;
  await send(m, outcome, (o) =>
    pause ? w.c.escrow.connect(w.signer.guardian).pause(o) : w.c.escrow.connect(w.signer.guardian).unpause(o),
  );
  if (outcome.ok) m.escrowPaused = pause;
}

export async function actPauseRegistry(w: World, m: Model, pause: boolean) {
  const outcome = m.registryPaused === pause ? err(w.c.registry, pause ? "EnforcedPause" : "ExpectedPause") : OK;
  await send(m, outcome, (o) =>
    pause ? w.c.registry.connect(w.signer.guardian).pause(o) : w.c.registry.connect(w.signer.guardian).unpause(o),
  );
  if (outcome.ok) m.registryPaused = pause;
}

/** The blocklist token blocks (or unblocks) a renter: refunds to it then go to `refundCredit`. */
export async function actSetBlocked(w: World, m: Model, renter: number, blocked: boolean) {
  await send(m, OK, (o) => w.busd.connect(w.signer.admin).setBlocked(w.addr[RENTERS[renter]], blocked, o));
  m.blocked[renter] = blocked;
}

export type NodeAction = "pause" | "resume" | "jail" | "unjail" | "retire" | "setPrice";

/**
 * What providers and the oracle do to nodes that changes who can rent and what stake is required:
 * pause / resume (provider), jail / unjail (oracle), retire (provider; drops the stake requirement),
 * set a price (provider; running rentals keep theirs). `byOwner: false` sends it from the other provider.
 */
export async function actNodeAdmin(
  w: World,
  m: Model,
  nodeId: bigint,
  action: NodeAction,
  byOwner: boolean,
  token: TokenKey,
  price: bigint,
) {
  const node = nodeOf(m, nodeId);
  const reg = w.c.registry;
  const owner = node?.provider ?? 0;
  const caller = action === "jail" || action === "unjail" ? "oracle" : PROVIDERS[byOwner ? owner : 1 - owner];
  let outcome: Outcome | undefined;
  if (!node) outcome = err(reg, "NodeRegistry_UnknownNode", nodeId);
  else if (caller !== "oracle" && !byOwner) outcome = err(reg, "NodeRegistry_NotNodeProvider", nodeId, w.addr[caller]);
  else {
    const st = node.status;
    const bad = err(reg, "NodeRegistry_InvalidNodeStatus", nodeId, st);
    switch (action) {
      case "pause":
        outcome = st !== NodeStatusN.Active ? bad : OK;
        break;
      case "resume":
        outcome = st !== NodeStatusN.Paused ? bad : OK;
        break;
      case "jail":
        outcome = st === NodeStatusN.Jailed || st === NodeStatusN.Retired ? bad : OK;
        break;
      case "unjail":
        outcome = st !== NodeStatusN.Jailed ? bad : OK;
        break;
      case "retire":
        // A jailed node stays listed (its stake required) until the oracle unjails it.
        outcome =
          st === NodeStatusN.Retired || st === NodeStatusN.Jailed
            ? bad
            : node.rented !== 0n
              ? err(reg, "NodeRegistry_NodeHasRentals", nodeId, node.rented)
              : OK;
        break;
      case "setPrice":
        outcome =
          st === NodeStatusN.Retired ? bad : node.price[token] === price ? err(reg, "NodeRegistry_AlreadySet") : OK;
        break;
    }
  }
  const r = reg.connect(w.signer[caller]);
  await send(m, outcome, (o) => {
    switch (action) {
      case "pause":
        return r.pauseNode(nodeId, o);
      case "resume":
        return r.resumeNode(nodeId, o);
      case "jail":
        return r.setNodeJailed(nodeId, true, o);
      case "unjail":
        return r.setNodeJailed(nodeId, false, o);
      case "retire":
        return r.retireNode(nodeId, o);
      case "setPrice":
        return r.setNodePrice(nodeId, w.tokenAddr[token], price, o);
    }
  });
  if (!outcome.ok) return;
  const n = node!;
  switch (action) {
    case "pause":
      n.status = NodeStatusN.Paused;
      break;
    case "resume":
      n.status = NodeStatusN.Active;
      break;
    case "jail":
      n.status = NodeStatusN.Jailed;
      break;
    case "unjail":
      n.status = NodeStatusN.Paused;
      break;
    case "retire":
      n.status = NodeStatusN.Retired;
      m.stakes[n.provider].listedWeight -= n.gpuCount * GPU_CLASS_MULTIPLIER[n.gpuClass];
      break;
    case "setPrice":
      n.price[token] = price;
      break;
  }
}
