/**
 * License walk: a seeded, replayable, model-based property test of CheckerLicense. Each run is a
 * random sequence of mint / delegate / undelegate / transfer / suspend / reinstate over three
 * owners and three operator keys (one of them also an owner), with non-owner callers and unknown
 * ids mixed in, and waits past the departure cooldown. A TypeScript model predicts every outcome:
 * the custom error and its arguments for a revert, the exact events for a success. A license that
 * leaves an operator (switch, undelegate, transfer) records it and cannot leave one again within
 * the cooldown. After every step:
 *
 * - `licensesOf(a)` equals the model's count of unsuspended licenses delegated to `a`, for every
 *   account;
 *
 * and after every step that succeeded (a revert rolls everything back):
 *
 * - `operatorOf`, `isSuspended` and `departureOf` of every id (known or not) match the model, and
 *   `totalMinted`;
 * - a license counts for at most one operator: the sum of `licensesOf` over every account equals
 *   the number of licenses that the chain itself reports delegated and unsuspended.
 *
 * Replay a failure with the line it prints: `KAISAR_FC_SEED=<seed> KAISAR_FC_PATH=<path> npx
 * hardhat test test/unit/CheckerLicense/property.test.ts`; more runs with `KAISAR_FC_RUNS=<n>`.
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers, network } from "hardhat";
import type { Interface } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { deployLicense, licenseEvents, type LicenseEvent, type LicenseFixture } from "../../helpers/license";
import { fcCount, fcPath, fcSeed } from "../../helpers/fcEnv";

const SEED = fcSeed("KAISAR_FC_SEED", 29_998);
const PATH = fcPath("KAISAR_FC_PATH");
const RUNS = fcCount("KAISAR_FC_RUNS", 30);
const MAX_STEPS = 30;
/** Licenses minted before the first step. */
const START_TOKENS = 6;
/** Mints stop here, so that the per-step checks stay cheap. */
const MAX_TOKENS = 10;
/** Ids drawn for steps: 0 and MAX_TOKENS + 1 never exist. */
const MAX_ID = MAX_TOKENS + 1;

/** Who may hold licenses, and whom they may be delegated to (alice is both). */
const OWNERS = 3; // alice, bob, carol
const OPERATORS = 3; // op1, op2, alice

type Step =
  | { kind: "mint"; to: number; count: number }
  | { kind: "delegate"; id: number; caller: number | null; op: number }
  | { kind: "undelegate"; id: number; caller: number | null }
  | { kind: "transfer"; id: number; caller: number | null; to: number }
  | { kind: "suspend"; id: number; evidence: number }
  | { kind: "reinstate"; id: number }
  | { kind: "wait" };

/** Mostly the six licenses every run starts with, sometimes a later one, rarely one that never exists. */
const idArb = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: START_TOKENS }), weight: 6 },
  { arbitrary: fc.integer({ min: START_TOKENS + 1, max: MAX_TOKENS }), weight: 2 },
  { arbitrary: fc.constantFrom(0, MAX_ID), weight: 1 },
);
/** `null`: the license's owner (most of the time); otherwise any owner, who may not hold it. */
const callerArb = fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: fc.nat(OWNERS - 1), weight: 1 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant("mint"), to: fc.nat(OWNERS - 1), count: fc.integer({ min: 1, max: 3 }) }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("delegate"), id: idArb, caller: callerArb, op: fc.nat(OPERATORS - 1) }),
    weight: 5,
  },
  { arbitrary: fc.record({ kind: fc.constant("undelegate"), id: idArb, caller: callerArb }), weight: 2 },
  {
    arbitrary: fc.record({ kind: fc.constant("transfer"), id: idArb, caller: callerArb, to: fc.nat(OWNERS - 1) }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("suspend"), id: idArb, evidence: fc.nat(255) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("reinstate"), id: idArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("wait") }), weight: 1 },
);

/** The license's default departure cooldown: a wait step moves time past it. */
const COOLDOWN = 14n * 86_400n;

/**
 * The model: per minted id, its owner, operator (zero if none), suspension, and the last operator
 * it left and when (`until` 0: never).
 */
interface ModelLicense {
  owner: string;
  operator: string;
  suspended: boolean;
  former: string;
  until: bigint;
}
interface Model {
  licenses: Map<bigint, ModelLicense>;
  minted: bigint;
}

const fresh = (owner: string): ModelLicense => ({
  owner,
  operator: ethers.ZeroAddress,
  suspended: false,
  former: ethers.ZeroAddress,
  until: 0n,
});

type Outcome = { revert: string; args: unknown[] } | { events: LicenseEvent[] };

/** Starting point of every run: alice holds 1-3, bob 4-5, carol 6; nothing delegated. */
async function deployWalkStart() {
  const c = await deployLicense();
  await c.license.connect(c.minter).mint(c.alice.address, 3);
  await c.license.connect(c.minter).mint(c.bob.address, 2);
  await c.license.connect(c.minter).mint(c.carol.address, 1);
  const owners = [c.alice, c.bob, c.carol];
  const operators = [c.op1.address, c.op2.address, c.alice.address];
  const accounts = [...new Set([...owners.map((o) => o.address), ...operators])];
  return { ...c, owners, operators, accounts, address: await c.license.getAddress() };
}

type Walk = Awaited<ReturnType<typeof deployWalkStart>>;

function initialModel(c: LicenseFixture): Model {
  const owners = [c.alice, c.alice, c.alice, c.bob, c.bob, c.carol];
  return {
    licenses: new Map(owners.map((o, i) => [BigInt(i + 1), fresh(o.address)])),
    minted: BigInt(START_TOKENS),
  };
}

/**
 * The cooldown revert a departure of `l` meets at `now`, if any. Time moves seconds per step and
 * jumps a whole cooldown per wait, so `now` is never near the boundary.
 */
function cooldownOf(id: bigint, l: ModelLicense, now: bigint): Outcome | undefined {
  if (l.until !== 0n && now < l.until + COOLDOWN) {
    return { revert: "CheckerLicense_DepartureCooldown", args: [id, l.until + COOLDOWN] };
  }
  return undefined;
}

/**
 * Predicts the outcome of `step` at about `now` and, when it succeeds, applies it to the model (a
 * departure's time is set from the receipt, by `runWalk`: `until` is left at -1 until then).
 */
function predict(m: Model, step: Step, caller: string, target: string, now: bigint): Outcome {
  const id = "id" in step ? BigInt(step.id) : 0n;
  const l = m.licenses.get(id);
  const depart = (license: ModelLicense) => {
    license.former = license.operator;
    license.until = -1n;
  };
  switch (step.kind) {
    case "wait":
      return { events: [] };
    case "mint": {
      const events: LicenseEvent[] = [];
      for (let i = 0; i < step.count; i++) {
        const newId = m.minted + 1n + BigInt(i);
        m.licenses.set(newId, fresh(target));
        events.push(["Transfer", ethers.ZeroAddress, target, newId]);
      }
      m.minted += BigInt(step.count);
      return { events };
    }
    case "delegate": {
      if (!l) return { revert: "ERC721NonexistentToken", args: [id] };
      if (caller !== l.owner) return { revert: "CheckerLicense_NotLicenseOwner", args: [id, caller] };
      if (l.suspended) return { revert: "CheckerLicense_Suspended", args: [id] };
      if (l.operator === target) return { revert: "CheckerLicense_AlreadyDelegated", args: [id, target] };
      const events: LicenseEvent[] = [];
      if (l.operator !== ethers.ZeroAddress) {
        const blocked = cooldownOf(id, l, now);
        if (blocked) return blocked;
        events.push(["Undelegate", id, l.operator]);
        depart(l);
      }
      events.push(["Delegate", id, caller, target]);
      l.operator = target;
      return { events };
    }
    case "undelegate": {
      if (!l) return { revert: "ERC721NonexistentToken", args: [id] };
      if (caller !== l.owner) return { revert: "CheckerLicense_NotLicenseOwner", args: [id, caller] };
      if (l.operator === ethers.ZeroAddress) return { revert: "CheckerLicense_NotDelegated", args: [id] };
      const blocked = cooldownOf(id, l, now);
      if (blocked) return blocked;
      const events: LicenseEvent[] = [["Undelegate", id, l.operator]];
      depart(l);
      l.operator = ethers.ZeroAddress;
      return { events };
    }
    case "transfer": {
      if (!l) return { revert: "ERC721NonexistentToken", args: [id] };
      // The walk grants no approvals: only the owner may move a license.
      if (caller !== l.owner) return { revert: "ERC721InsufficientApproval", args: [caller, id] };
      const events: LicenseEvent[] = [["Transfer", l.owner, target, id]];
      // A transfer to oneself changes no ownership and keeps the delegation.
      if (target !== l.owner && l.operator !== ethers.ZeroAddress) {
        const blocked = cooldownOf(id, l, now);
        if (blocked) return blocked;
        events.push(["Undelegate", id, l.operator]);
        depart(l);
        l.operator = ethers.ZeroAddress;
      }
      l.owner = target;
      return { events };
    }
    case "suspend": {
      if (!l) return { revert: "ERC721NonexistentToken", args: [id] };
      if (l.suspended) return { revert: "CheckerLicense_Suspended", args: [id] };
      l.suspended = true;
      return { events: [["SetSuspended", id, true, evidenceOf(step.evidence)]] };
    }
    case "reinstate": {
      if (!l?.suspended) return { revert: "CheckerLicense_NotSuspended", args: [id] };
      l.suspended = false;
      return { events: [["SetSuspended", id, false, ethers.ZeroHash]] };
    }
  }
}

function evidenceOf(n: number) {
  return ethers.zeroPadValue(ethers.toBeHex(n), 32);
}

/** Sends `step` from `caller` and returns the pending transaction. */
function send(c: LicenseFixture, step: Step, caller: HardhatEthersSigner, target: string) {
  switch (step.kind) {
    case "mint":
      return c.license.connect(c.minter).mint(target, step.count);
    case "delegate":
      return c.license.connect(caller).delegate(step.id, target);
    case "undelegate":
      return c.license.connect(caller).undelegate(step.id);
    case "transfer":
      // `from` is the caller: for a non-owner caller this is a transfer it may not make.
      return c.license.connect(caller).transferFrom(caller.address, target, step.id);
    case "suspend":
      return c.license.connect(c.suspender).suspend(step.id, evidenceOf(step.evidence));
    case "reinstate":
      return c.license.connect(c.admin).reinstate(step.id);
    case "wait":
      return undefined;
  }
}

/**
 * A view of the license through a raw `eth_call`: faster than through the contract object, which
 * matters at ~30 reads per step.
 */
async function read(c: Walk, fn: string, args: unknown[]) {
  const iface: Interface = c.license.interface;
  const result = await network.provider.send("eth_call", [
    { to: c.address, data: iface.encodeFunctionData(fn, args) },
    "latest",
  ]);
  return iface.decodeFunctionResult(fn, result)[0];
}

/**
 * Every invariant of the header, against the model and against the chain itself. `sweep: false`
 * (after a revert, which rolls back everything) checks the counts only.
 */
async function checkInvariants(c: Walk, m: Model, label: string, sweep = true) {
  let total = 0n;
  for (const a of c.accounts) {
    const expected = [...m.licenses.values()].filter((l) => l.operator === a && !l.suspended).length;
    const actual = (await read(c, "licensesOf", [a])) as bigint;
    expect(actual, `${label}: licensesOf(${a})`).to.equal(expected);
    total += actual;
  }
  if (!sweep) return;
  let counting = 0n;
  for (let id = 0n; id <= BigInt(MAX_ID); id++) {
    const l = m.licenses.get(id);
    const operator = (await read(c, "operatorOf", [id])) as string;
    const suspended = (await read(c, "isSuspended", [id])) as boolean;
    expect(operator, `${label}: operatorOf(${id})`).to.equal(l?.operator ?? ethers.ZeroAddress);
    expect(suspended, `${label}: isSuspended(${id})`).to.equal(l?.suspended ?? false);
    const departure = c.license.interface.decodeFunctionResult(
      "departureOf",
      await network.provider.send("eth_call", [
        { to: c.address, data: c.license.interface.encodeFunctionData("departureOf", [id]) },
        "latest",
      ]),
    );
    expect([departure[0], departure[1]], `${label}: departureOf(${id})`).to.deep.equal([
      l?.former ?? ethers.ZeroAddress,
      l?.until ?? 0n,
    ]);
    if (operator !== ethers.ZeroAddress && !suspended) counting++;
  }
  expect(total, `${label}: sum of licensesOf = licenses delegated and unsuspended`).to.equal(counting);
  expect(await read(c, "totalMinted", []), `${label}: totalMinted`).to.equal(m.minted);
}

async function runWalk(steps: Step[]) {
  const c = await loadFixture(deployWalkStart);
  const { owners, operators } = c;
  const m = initialModel(c);
  await checkInvariants(c, m, "start");

  for (const [i, step] of steps.entries()) {
    if (step.kind === "mint" && m.minted + BigInt(step.count) > BigInt(MAX_TOKENS)) continue;
    const label = `step ${i} ${JSON.stringify(step)}`;
    const owner = "id" in step ? m.licenses.get(BigInt(step.id))?.owner : undefined;
    const callerIndex = "caller" in step ? step.caller : null;
    const caller = callerIndex !== null ? owners[callerIndex] : (owners.find((o) => o.address === owner) ?? owners[0]);
    const target =
      step.kind === "delegate" ? operators[step.op] : "to" in step ? owners[step.to].address : ethers.ZeroAddress;

    if (step.kind === "wait") {
      await network.provider.send("evm_increaseTime", [Number(COOLDOWN)]);
      await network.provider.send("evm_mine", []);
      continue;
    }
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 1n;
    const outcome = predict(m, step, caller.address, target, now);
    if ("revert" in outcome) {
      await expect(send(c, step, caller, target), label)
        .to.be.revertedWithCustomError(c.license, outcome.revert)
        .withArgs(...outcome.args);
      await checkInvariants(c, m, label, false);
    } else {
      const tx = (await send(c, step, caller, target))!;
      expect(await licenseEvents(c.license, tx), `${label}: events`).to.deep.equal(outcome.events);
      // A departure happened at the block's time.
      const mined = BigInt((await ethers.provider.getBlock((await tx.wait())!.blockNumber))!.timestamp);
      for (const l of m.licenses.values()) if (l.until === -1n) l.until = mined;
      await checkInvariants(c, m, label);
    }
  }
}

describe("CheckerLicense property: licensesOf follows the model", function () {
  this.timeout(10 * 60_000);

  it(`counts each unsuspended delegated license once, for its operator only (seed ${SEED}, ${RUNS} runs)`, async function () {
    const property = fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: MAX_STEPS, size: "max" }), runWalk);
    try {
      await fc.assert(property, { seed: SEED, path: PATH, numRuns: RUNS, endOnFailure: PATH !== undefined });
    } catch (e) {
      const replay = /seed: (-?\d+), path: "([^"]*)"/.exec(e instanceof Error ? e.message : String(e));
      if (replay) {
        console.error(
          `\nReplay: KAISAR_FC_SEED=${replay[1]} KAISAR_FC_PATH=${replay[2]}` +
            " npx hardhat test test/unit/CheckerLicense/property.test.ts\n",
        );
      }
      throw e;
    }
  });
});
