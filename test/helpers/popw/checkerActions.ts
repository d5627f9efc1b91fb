/**
 * Checker actions (predict, send, apply): licenses, the checker set, exclusions, equivocation proofs.
 */
import { expect } from "chai";
import { ethers } from "hardhat";

import { signReport } from "../../../offchain/src/report";
import { EQUIVOCATION_PENALTY, MIN_CHECKER_STAKE, makeReport } from "../oracle";
import {
  type Actor,
  BOUNTY_BPS,
  BPS,
  EXCLUDED_EQUIVOCATION,
  EXCLUDED_NO_LICENSE,
  EXCLUDED_UNDER_STAKED,
  MAX_DEPARTURE_COOLDOWN,
  MIN_DEPARTURE_COOLDOWN,
  OPERATORS,
  PROVIDERS,
  REASON_EQUIVOCATION,
} from "./constants";
import type { World } from "./world";
import { type Model, epochStart, move } from "./state";
import { note, send } from "./send";
import { eventsOf, expectEvent, expectEvents, norm, OK, type Outcome, err } from "../walk/send";
import { predictSlash } from "./registryActions";
import { digestOf, liveCount } from "./oracleActions";

export const opAddr = (w: World, op: number) => w.addr[OPERATORS[op]];
/** `CheckerLicense.licensesOf`: the operator's delegated licenses that are not suspended. */
export const licensesOf = (m: Model, op: number) => m.licenses.filter((l) => l.operator === op && !l.suspended).length;
export const opStake = (m: Model, op: number) => m.stakes[PROVIDERS.length + op];
/** What `setCheckerConfig` accepts of an operator: no proven equivocation, a license, the minimum stake. */
export const eligible = (m: Model, op: number) =>
  !m.equivocator[op] && licensesOf(m, op) > 0 && opStake(m, op).staked >= MIN_CHECKER_STAKE;
/** `excludeOperator`'s reasons for an operator (0: it is active). */
export const exclusionReasons = (m: Model, op: number) =>
  (licensesOf(m, op) === 0 ? EXCLUDED_NO_LICENSE : 0n) |
  (opStake(m, op).staked < MIN_CHECKER_STAKE ? EXCLUDED_UNDER_STAKED : 0n);
export const provenKey = (op: number, epoch: bigint) => `${op}:${epoch}`;
export const provenPair = (key: string) => {
  const [op, epoch] = key.split(":");
  return [Number(op), BigInt(epoch)] as const;
};
/** The lowest valid quorum of a set of `n`: more than 2f, f = (n - 1) / 3 faulty operators. */
export const minQuorum = (n: number) => Math.floor((n - 1) / 3) * 2 + 1;

/** The address the oracle's next CREATE (a new SSTORE2 list of the set) lands at. */
async function nextPointer(w: World): Promise<string> {
  const nonce = await ethers.provider.getTransactionCount(w.addr.reportOracle);
  return ethers.getCreateAddress({ from: w.addr.reportOracle, nonce });
}

/** `_recordDeparture`: a license that left an operator less than `departureCooldown` ago cannot leave one again. */
function departureFailure(w: World, m: Model, id: bigint): Outcome | undefined {
  const l = m.licenses[Number(id) - 1];
  if (l.until === 0n) return undefined;
  const readyAt = l.until + m.departureCooldown;
  return m.next < readyAt ? err(w.c.license, "CheckerLicense_DepartureCooldown", id, readyAt) : undefined;
}

/** The model's license `id` (undefined for an id never minted). */
export const licenseOf = (m: Model, id: bigint) => (id >= 1n ? m.licenses[Number(id) - 1] : undefined);

/**
 * `CheckerLicense.delegate(id, operator)` by `caller` (the admin owns every license): a first
 * delegation, or a switch from another operator, which records the departure (refused within the
 * cooldown of the last one) and emits `Undelegate` before `Delegate`.
 */
export async function actDelegate(w: World, m: Model, id: bigint, op: number, caller: Actor) {
  const lic = w.c.license;
  const l = licenseOf(m, id);
  const outcome = !l
    ? err(lic, "ERC721NonexistentToken", id)
    : caller !== "admin"
      ? err(lic, "CheckerLicense_NotLicenseOwner", id, w.addr[caller])
      : l.suspended
        ? err(lic, "CheckerLicense_Suspended", id)
        : l.operator === op
          ? err(lic, "CheckerLicense_AlreadyDelegated", id, opAddr(w, op))
          : ((l.operator >= 0 ? departureFailure(w, m, id) : undefined) ?? OK);
  const receipt = await send(m, outcome, (o) => lic.connect(w.signer[caller]).delegate(id, opAddr(w, op), o));
  if (!outcome.ok) return;
  const previous = l!.operator;
  expectEvents(receipt, lic, "Undelegate", previous >= 0 ? [[id, opAddr(w, previous)]] : []);
  expectEvent(receipt, lic, "Delegate", [id, w.addr.admin, opAddr(w, op)]);
  note(`  delegate: ${previous < 0 ? "first" : "switch"}${l!.until > 0n ? " (left one before)" : ""}`);
  if (previous >= 0) {
    l!.former = previous;
    l!.until = m.now;
  }
  l!.operator = op;
}

/** `CheckerLicense.undelegate(id)` by `caller`: records the departure (a suspended license too). */
export async function actUndelegate(w: World, m: Model, id: bigint, caller: Actor) {
  const lic = w.c.license;
  const l = licenseOf(m, id);
  const outcome = !l
    ? err(lic, "ERC721NonexistentToken", id)
    : caller !== "admin"
      ? err(lic, "CheckerLicense_NotLicenseOwner", id, w.addr[caller])
      : l.operator < 0
        ? err(lic, "CheckerLicense_NotDelegated", id)
        : (departureFailure(w, m, id) ?? OK);
  const receipt = await send(m, outcome, (o) => lic.connect(w.signer[caller]).undelegate(id, o));
  if (!outcome.ok) return;
  expectEvent(receipt, lic, "Undelegate", [id, opAddr(w, l!.operator)]);
  if (l!.suspended) note("  undelegate: suspended license");
  l!.former = l!.operator;
  l!.until = m.now;
  l!.operator = -1;
}

/** The admin lifts a license's suspension (it counts for its operator again, if it has one). */
export async function actReinstate(w: World, m: Model, id: bigint) {
  const lic = w.c.license;
  const l = licenseOf(m, id);
  const outcome = !l?.suspended ? err(lic, "CheckerLicense_NotSuspended", id) : OK;
  const receipt = await send(m, outcome, (o) => lic.connect(w.signer.admin).reinstate(id, o));
  if (!outcome.ok) return;
  expectEvent(receipt, lic, "SetSuspended", [id, false, ethers.ZeroHash]);
  l!.suspended = false;
}

/** The admin sets the departure cooldown (1 to 90 days); it applies to departures already recorded. */
export async function actSetDepartureCooldown(w: World, m: Model, cooldown: bigint) {
  const lic = w.c.license;
  const outcome =
    cooldown < MIN_DEPARTURE_COOLDOWN || cooldown > MAX_DEPARTURE_COOLDOWN
      ? err(
          lic,
          "CheckerLicense_ParameterOutOfBounds",
          "departureCooldown",
          cooldown,
          MIN_DEPARTURE_COOLDOWN,
          MAX_DEPARTURE_COOLDOWN,
        )
      : OK;
  const receipt = await send(m, outcome, (o) => lic.connect(w.signer.admin).setDepartureCooldown(cooldown, o));
  if (!outcome.ok) return;
  expectEvent(receipt, lic, "SetDepartureCooldown", [cooldown]);
  m.departureCooldown = cooldown;
}

/**
 * Governance (the admin: `CONFIG_ROLE`) sets a new checker set: the count, the quorum (more than
 * 2f), then each operator in order: sorted and distinct, not a proven equivocator, licensed,
 * staked at least `minCheckerStake`. A new version, no tombstones.
 */
export async function actSetCheckerConfig(w: World, m: Model, ops: number[], quorum: bigint) {
  const oracle = w.c.oracle;
  const n = ops.length;
  const addrs = ops.map((op) => opAddr(w, op));
  let outcome: Outcome | undefined;
  if (n === 0 || n > 255) outcome = err(oracle, "ReportOracle_InvalidCheckerCount", n);
  else if (quorum > BigInt(n) || quorum < BigInt(minQuorum(n)))
    outcome = err(oracle, "ReportOracle_InvalidQuorum", quorum, n);
  for (let i = 0; i < n && !outcome; i++) {
    const op = ops[i];
    if (i > 0 && BigInt(addrs[i]) <= BigInt(addrs[i - 1]))
      outcome = err(oracle, "ReportOracle_UnsortedOrDuplicateOperator", i, addrs[i]);
    else if (m.equivocator[op]) outcome = err(oracle, "ReportOracle_OperatorEquivocated", addrs[i]);
    else if (licensesOf(m, op) === 0) outcome = err(oracle, "ReportOracle_OperatorWithoutLicense", addrs[i]);
    else if (opStake(m, op).staked < MIN_CHECKER_STAKE)
      outcome = err(oracle, "ReportOracle_OperatorUnderStaked", addrs[i], opStake(m, op).staked, MIN_CHECKER_STAKE);
  }
  outcome ??= OK;
  const pointer = await nextPointer(w);
  const receipt = await send(m, outcome, (o) => oracle.connect(w.signer.admin).setCheckerConfig(addrs, quorum, o));
  if (!outcome.ok) return;
  const version = m.checkerSet.version + 1n;
  const events = eventsOf(receipt, oracle, "SetCheckerConfig");
  expect(
    events.map(([v, list, q, p]) => [v, [...(list as string[])].map((a) => a.toLowerCase()), q, p]),
    "SetCheckerConfig events",
  ).to.deep.equal([norm([version, addrs.map((a) => a.toLowerCase()), quorum, pointer])]);
  note(`  config: ${n} operators, quorum ${quorum}`);
  m.checkerSet = { version, quorum, members: [...ops], excluded: ops.map(() => false) };
}

/**
 * Replaces the set's operator at `index` with a tombstone (same version): the `ExcludeOperator`
 * event with `reasons` and the live count, and `CheckerQuorumLost` when the set falls just below
 * its quorum. Returns the events' arguments.
 */
function excludeAt(w: World, m: Model, index: number, reasons: bigint, pointer: string) {
  const cs = m.checkerSet;
  cs.excluded[index] = true;
  const live = liveCount(m);
  return {
    exclude: [[cs.version, index, opAddr(w, cs.members[index]), reasons, live, pointer]],
    lost: live + 1 === Number(cs.quorum) ? [[cs.version, live, cs.quorum]] : [],
  };
}

/**
 * Anyone excludes the set's operator at `index`: it must be live (not a tombstone) and have lost
 * its licenses or its stake (`reasons`: NO_LICENSE 1 | UNDER_STAKED 2); otherwise `OperatorActive`.
 */
export async function actExcludeOperator(w: World, m: Model, index: number, caller: Actor) {
  const oracle = w.c.oracle;
  const cs = m.checkerSet;
  const count = cs.members.length;
  const reasons = index < count ? exclusionReasons(m, cs.members[index]) : 0n;
  const outcome =
    index >= count
      ? err(oracle, "ReportOracle_InvalidOperatorIndex", index, count)
      : cs.excluded[index]
        ? err(oracle, "ReportOracle_OperatorAlreadyExcluded", index)
        : reasons === 0n
          ? err(oracle, "ReportOracle_OperatorActive", index, opAddr(w, cs.members[index]))
          : OK;
  const pointer = await nextPointer(w);
  const receipt = await send(m, outcome, (o) => oracle.connect(w.signer[caller]).excludeOperator(index, o));
  if (!outcome.ok) return;
  const ev = excludeAt(w, m, index, reasons, pointer);
  expectEvents(receipt, oracle, "ExcludeOperator", ev.exclude);
  expectEvents(receipt, oracle, "CheckerQuorumLost", ev.lost);
  note(`  exclude: reasons ${reasons}${ev.lost.length > 0 ? ", quorum lost" : ""}`);
}

export type EquivocationFault = "none" | "sameContent" | "differentSigners";

/**
 * `proveEquivocation` by `prover`: operator `op` signed two reports of `epoch` with different
 * contents (`sameContent`: the same report under the next version, which is honest:
 * `NotEquivocation`; `differentSigners`: the second by `other`). Once per operator and epoch. The
 * operator becomes an equivocator and leaves the current set (a tombstone, reason EQUIVOCATION);
 * `equivocationPenalty` is slashed into the oracle (rewards, then stake, then unbonding), which pays
 * the prover `equivocationBountyBps` of it (nothing when it proves its own) and the rest to the
 * treasury; of `licenseIds`, each one not yet suspended that the operator holds, or that left it at
 * or after the epoch's start, is suspended.
 */
export async function actProveEquivocation(
  w: World,
  m: Model,
  a: { op: number; epoch: bigint; prover: Actor; licenseIds: bigint[]; fault: EquivocationFault; other: number },
) {
  const oracle = w.c.oracle;
  const cs = m.checkerSet;
  const reportA = makeReport(a.epoch, cs.version, { root: ethers.id(`equivocation ${a.epoch} a`) });
  const reportB =
    a.fault === "sameContent"
      ? { ...reportA, configVersion: cs.version + 1n }
      : makeReport(a.epoch, cs.version, { root: ethers.id(`equivocation ${a.epoch} b`) });
  const second = a.fault === "differentSigners" ? a.other : a.op;
  const [signatureA, signatureB] = await Promise.all([
    signReport(w.c.operators[a.op], w.c.domain, reportA),
    signReport(w.c.operators[second], w.c.domain, reportB),
  ]);
  const digestA = digestOf(w, reportA);
  const digestB = digestOf(w, reportB);
  const who = opAddr(w, a.op);
  const outcome =
    a.fault === "sameContent"
      ? err(oracle, "ReportOracle_NotEquivocation")
      : second !== a.op
        ? err(oracle, "ReportOracle_DifferentSigners", who, opAddr(w, second))
        : m.proven.has(provenKey(a.op, a.epoch))
          ? err(oracle, "ReportOracle_EquivocationAlreadyProven", who, a.epoch)
          : OK;
  m.touched.proofs.push([a.op, a.epoch]);
  const pointer = await nextPointer(w);
  const receipt = await send(m, outcome, (o) =>
    oracle.connect(w.signer[a.prover]).proveEquivocation(reportA, signatureA, reportB, signatureB, a.licenseIds, o),
  );
  if (!outcome.ok) return;
  const evidence = ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [digestA, digestB]),
  );
  // Effects in the contract's order: the proof, the exclusion, the slash, the suspensions, the payouts.
  const again = m.equivocator[a.op];
  m.proven.add(provenKey(a.op, a.epoch));
  m.equivocator[a.op] = true;
  const index = cs.members.findIndex((op, i) => op === a.op && !cs.excluded[i]);
  const ev = index >= 0 ? excludeAt(w, m, index, EXCLUDED_EQUIVOCATION, pointer) : { exclude: [], lost: [] };
  const p = PROVIDERS.length + a.op;
  const slash = predictSlash(w, m, p, EQUIVOCATION_PENALTY, "reportOracle");
  const slashEvent = slash.event(0n, REASON_EQUIVOCATION, evidence);
  slash.apply();
  const from = epochStart(w, a.epoch);
  const suspended: bigint[] = [];
  for (const id of a.licenseIds) {
    const l = licenseOf(m, id);
    if (!l || l.suspended) continue;
    if (l.operator !== a.op && (l.former !== a.op || l.until < from)) continue;
    l.suspended = true;
    suspended.push(id);
  }
  const bounty = a.prover === OPERATORS[a.op] ? 0n : (slash.taken * BOUNTY_BPS) / BPS;
  expectEvent(receipt, oracle, "ProveEquivocation", [
    who,
    a.epoch,
    digestA,
    digestB,
    slash.taken,
    bounty,
    w.addr[a.prover],
  ]);
  expectEvent(receipt, w.c.registry, "Slash", slashEvent);
  expectEvents(receipt, oracle, "ExcludeOperator", ev.exclude);
  expectEvents(receipt, oracle, "CheckerQuorumLost", ev.lost);
  expectEvents(
    receipt,
    w.c.license,
    "SetSuspended",
    suspended.map((id) => [id, true, evidence]),
  );
  move(m, "kai", "reportOracle", a.prover, bounty);
  move(m, "kai", "reportOracle", "treasury", slash.taken - bounty);
  m.equivocationSlashed += slash.taken;
  m.equivocationToTreasury += slash.taken - bounty;
  m.bounties[a.prover] = (m.bounties[a.prover] ?? 0n) + bounty;
  const departed = suspended.filter((id) => licenseOf(m, id)!.operator !== a.op).length;
  note(
    `  equivocation: ${again ? "again (new epoch)" : "first"}${index >= 0 ? ", excluded" : ", not in the set"}` +
      `${slashEvent[4] !== 0n ? ", from rewards" : ""}${slashEvent[6] !== 0n ? ", from unbonding" : ""}` +
      `${slash.taken < EQUIVOCATION_PENALTY ? ", stake short" : ""}${bounty === 0n ? ", no bounty" : ""}` +
      `, ${suspended.length} suspended${departed > 0 ? ` (${departed} departed)` : ""}`,
  );
}
