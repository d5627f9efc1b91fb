/**
 * NodeRegistry actions (predict, send, apply): stakes, unstakes, rewards, releases and resumes.
 */
import { NodeStatus } from "../../fixtures";
import { type Holder, PROVIDERS, STAKERS, UNBONDING_PERIOD } from "./constants";
import type { World } from "./world";
import { stakeActions } from "../walk/stakes";
import { type Model, cursorsOf, epochAt, lockedStake, move, nodeOf, rentedStake, setCursors } from "./state";
import { note, send } from "./send";
import { expectEvent, OK, err } from "../walk/send";

/**
 * `NodeRegistry.slash`: takes up to `amount` from rewards owed, then active stake, then unbonding
 * stake, and pays `recipient`. Returns what it takes, its `Slash` event's arguments, and a function
 * that applies it to the model.
 */
export function predictSlash(w: World, m: Model, p: number, amount: bigint, recipient: Holder) {
  const s = m.stakes[p];
  const fromRewards = amount < s.rewardsOwed ? amount : s.rewardsOwed;
  const fromStake = amount - fromRewards < s.staked ? amount - fromRewards : s.staked;
  const rest = amount - fromRewards - fromStake;
  const fromUnbonding = rest < s.unbonding ? rest : s.unbonding;
  const taken = fromRewards + fromStake + fromUnbonding;
  const event = (nodeId: bigint, reason: number, evidence: string) => [
    w.addr[STAKERS[p]],
    nodeId,
    reason,
    evidence,
    fromRewards,
    fromStake,
    fromUnbonding,
    w.addr[recipient],
  ];
  const apply = () => {
    s.rewardsOwed -= fromRewards;
    s.staked -= fromStake;
    s.unbonding -= fromUnbonding;
    if (fromUnbonding !== 0n && s.unbonding === 0n) s.unbondingEnd = 0n;
    s.slashedRewards += fromRewards;
    s.slashedStake += fromStake + fromUnbonding;
    move(m, "kai", "registry", recipient, taken);
    if (recipient === "treasury") m.slashedToTreasury += taken;
  };
  return { taken, event, apply };
}

/** Staker `p` is a provider or a checker operator: the registry's ledger is shared. */
export const { actStake, actRequestUnstake, actWithdrawUnstaked, actDepositRewards, actWithdrawRewards } = stakeActions<
  (typeof STAKERS)[number],
  World,
  Model
>({
  send,
  staker: (p) => STAKERS[p],
  moveKai: (m, from, to, amount) => move(m, "kai", from, to, amount),
  // The stake of saving plans, and the whole requirement of each listed node with an open rental.
  held: (m, p) => {
    const held = lockedStake(m, p);
    const rented = rentedStake(m, p);
    return held > rented ? held : rented;
  },
  unbondingPeriod: UNBONDING_PERIOD,
});

/**
 * The admin lifts a node's jailing (`SlaEnforcer.releaseNode`): it becomes paused, and is forgiven:
 * both of its cursors move to the epoch after the one the release is mined in (never backwards),
 * with `ReleaseNode(node, that epoch)`.
 */
export async function actReleaseNode(w: World, m: Model, nodeId: bigint) {
  const node = nodeOf(m, nodeId);
  const outcome = !node
    ? err(w.c.registry, "NodeRegistry_UnknownNode", nodeId)
    : node.status !== NodeStatus.Jailed
      ? err(w.c.registry, "NodeRegistry_InvalidNodeStatus", nodeId, node.status)
      : OK;
  const next = epochAt(w, m.next) + 1n;
  const receipt = await send(m, outcome, (o) => w.c.sla.connect(w.signer.admin).releaseNode(nodeId, o));
  if (!outcome.ok) return;
  expectEvent(receipt, w.c.sla, "ReleaseNode", [nodeId, next]);
  expectEvent(receipt, w.c.registry, "SetNodeStatus", [nodeId, NodeStatus.Paused]);
  const cur = cursorsOf(m, nodeId);
  // Reports only cover ended epochs, so a cursor is at most the current epoch and a release always
  // moves both; the "never backwards" rule is modelled all the same.
  note(`  release: ${cur.downtime < next && cur.fraud < next ? "moves both cursors" : "keeps a cursor"}`);
  setCursors(m, nodeId, {
    downtime: cur.downtime < next ? next : cur.downtime,
    fraud: cur.fraud < next ? next : cur.fraud,
  });
  node!.status = NodeStatus.Paused;
}

/** A provider resumes a paused node (`byOwner: false`: the other provider tries). */
export async function actResumeNode(w: World, m: Model, nodeId: bigint, byOwner: boolean) {
  const node = nodeOf(m, nodeId);
  const owner = node?.provider ?? 0;
  const caller = PROVIDERS[byOwner ? owner : 1 - owner];
  const outcome = !node
    ? err(w.c.registry, "NodeRegistry_UnknownNode", nodeId)
    : !byOwner
      ? err(w.c.registry, "NodeRegistry_NotNodeProvider", nodeId, w.addr[caller])
      : node.status !== NodeStatus.Paused
        ? err(w.c.registry, "NodeRegistry_InvalidNodeStatus", nodeId, node.status)
        : OK;
  await send(m, outcome, (o) => w.c.registry.connect(w.signer[caller]).resumeNode(nodeId, o));
  if (outcome.ok) node!.status = NodeStatus.Active;
}
