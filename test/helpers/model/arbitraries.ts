/**
 * The generators of the walk's commands, and `runSequence` (one run from the start snapshot).
 */
import fc from "fast-check";

import { CloseReason, Plan } from "../../../offchain/src/rentalMath";
import { KAI, USD } from "../../fixtures";
import { DAY, type TokenKey } from "./constants";
import { type World, resetWorld } from "./world";
import { type Model, initialModel } from "./state";
import type { NodeAction } from "./registryActions";
import type { GovernanceArgs } from "./escrowActions";
import { checkInvariants } from "./invariants";
import { finalDrain } from "./drain";
import {
  ClaimRefundCredit,
  CloseForProviderFault,
  CloseRental,
  DepositRewards,
  EndRental,
  FlagGracePeriod,
  Governance,
  JumpToBoundary,
  NodeAdmin,
  PauseEscrow,
  PauseRegistry,
  RegisterNode,
  Rent,
  type RentFault,
  RequestUnstake,
  SetBlocked,
  Slash,
  Stake,
  Step,
  TimeJump,
  TopUp,
  WithdrawEarnings,
  WithdrawFees,
  WithdrawRewards,
  WithdrawUnstaked,
} from "./commands";

const providerArb = fc.integer({ min: 0, max: 1 });
const renterArb = fc.integer({ min: 0, max: 1 });
const selArb = fc.nat({ max: 1_000 });
const tokenArb = fc.constantFrom<TokenKey>("usd", "kai", "busd");
const kaiArb = fc.oneof(fc.constantFrom(1n, KAI(1), KAI(1_000), KAI(24_000)), fc.bigInt({ min: 1n, max: KAI(50_000) }));
const secondsArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 2 * 3_600 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 * 86_400 }) },
  { weight: 1, arbitrary: fc.constantFrom(1, 59, 3_599, 3_600, 3_601, 86_400) },
);

/** Every command of the walk, weighted towards the ones that move money. */
export function stepArbitraries(): fc.Arbitrary<Step>[] {
  const rent = fc
    .record({
      renter: renterArb,
      node: selArb,
      gpus: fc.oneof(
        { weight: 6, arbitrary: fc.constant(1) },
        { weight: 3, arbitrary: fc.integer({ min: 2, max: 4 }) },
        { weight: 1, arbitrary: fc.constant<"allFree">("allFree") },
      ),
      token: tokenArb,
      plan: fc.constantFrom<Plan>(Plan.PayAsYouGo, Plan.Hourly, Plan.Saving),
      termDays: fc.constantFrom(7, 30, 90),
      seconds: secondsArb,
      remainder: fc.nat({ max: 1_000_000_000 }),
      maxPrice: fc.constantFrom<"exact" | "max">("exact", "max"),
      slaTier: fc.integer({ min: 0, max: 2 }),
      fault: fc.oneof(
        { weight: 12, arbitrary: fc.constant<RentFault>("none") },
        {
          weight: 3,
          arbitrary: fc.constantFrom<RentFault>(
            "bogusToken",
            "badSlaTier",
            "badTerm",
            "zeroGpus",
            "maxGpus",
            "tooManyGpus",
            "belowGrace",
            "zeroDeposit",
            "hugeDeposit",
            "priceBelow",
            "unknownNode",
          ),
        },
      ),
    })
    .map((a) => new Rent(a));
  const priceArb = (unit: bigint, typical: bigint) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(typical) },
      { weight: 2, arbitrary: fc.bigInt({ min: 1n, max: typical * 3n }) },
      { weight: 1, arbitrary: fc.constantFrom(0n, 1n, unit) },
    );
  const registerNode = fc
    .record({
      provider: providerArb,
      gpuClass: fc.integer({ min: 0, max: 1 }),
      gpuCount: fc.integer({ min: 1, max: 8 }),
      prices: fc.tuple(priceArb(1n, USD(2)), priceArb(1n, KAI(20)), priceArb(1n, USD(3))),
    })
    .map((a) => new RegisterNode(a));
  const stake = fc
    .record({
      provider: providerArb,
      amount: fc.oneof(
        { weight: 3, arbitrary: fc.constant<"shortfall">("shortfall") },
        { weight: 2, arbitrary: kaiArb },
        { weight: 1, arbitrary: fc.constant<"zero">("zero") },
      ),
    })
    .map((a) => new Stake(a));
  const requestUnstake = fc
    .record({
      provider: providerArb,
      amount: fc.constantFrom<"unlocked" | "half" | "allStaked" | "overStaked" | "zero">(
        "unlocked",
        "half",
        "allStaked",
        "overStaked",
        "zero",
      ),
    })
    .map((a) => new RequestUnstake(a));
  const topUp = fc
    .record({
      rental: selArb,
      caller: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
      ),
      amount: fc.oneof(
        { weight: 6, arbitrary: fc.record({ seconds: secondsArb }) },
        { weight: 1, arbitrary: fc.constantFrom<"oneWei" | "zero" | "huge">("oneWei", "zero", "huge") },
      ),
    })
    .map((a) => new TopUp(a));
  const endRental = fc
    .record({
      rental: selArb,
      caller: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 1 }) },
        { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }) },
      ),
    })
    .map((a) => new EndRental(a));
  const closeForProviderFault = fc
    .record({
      rental: selArb,
      reason: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom<number>(CloseReason.SlaBreach, CloseReason.ProviderSlashed) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) },
      ),
      asOracle: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    })
    .map((a) => new CloseForProviderFault(a));
  const withdrawEarnings = fc
    .record({
      provider: fc.oneof(
        { weight: 3, arbitrary: fc.constant<"ofRental">("ofRental") },
        { weight: 1, arbitrary: providerArb },
      ),
      token: fc.oneof(
        { weight: 9, arbitrary: fc.constant<"ofRental">("ofRental") },
        { weight: 3, arbitrary: tokenArb },
        { weight: 1, arbitrary: fc.constant<"bogus">("bogus") },
      ),
      rental: selArb,
      rentals: fc.oneof(
        { weight: 3, arbitrary: fc.constant<"own">("own") },
        { weight: 2, arbitrary: fc.array(selArb, { maxLength: 5 }) },
      ),
    })
    .map((a) => new WithdrawEarnings(a));
  const nodeAdmin = fc
    .record({
      node: selArb,
      action: fc.constantFrom<NodeAction>(
        "pause",
        "resume",
        "resume",
        "jail",
        "unjail",
        "unjail",
        "retire",
        "setPrice",
        "setPrice",
      ),
      byOwner: fc.oneof({ weight: 8, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      token: tokenArb,
      price: fc.oneof(fc.constantFrom(0n, 1n, USD(1), USD(2), KAI(20)), fc.bigInt({ min: 1n, max: KAI(40) })),
    })
    .map((a) => new NodeAdmin(a));
  const timeJump = fc
    .record({ seconds: fc.oneof(secondsArb, fc.integer({ min: 1, max: 15 * 86_400 })) })
    .map((a) => new TimeJump(a));
  const jumpToBoundary = fc
    .record({
      target: fc.constantFrom<"paidUntil" | "closableAt" | "unbondingEnd">("paidUntil", "closableAt", "unbondingEnd"),
      index: selArb,
      offset: fc.constantFrom<-1 | 0 | 1>(-1, 0, 1),
    })
    .map((a) => new JumpToBoundary(a));
  const slash = fc
    .record({
      provider: providerArb,
      amount: fc.oneof(
        fc.constantFrom<"zero" | "rewards" | "someStake" | "everything">("zero", "rewards", "someStake", "everything"),
        kaiArb,
      ),
      asStranger: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    })
    .map((a) => new Slash(a));
  const governance = fc
    .oneof(
      fc.record({
        kind: fc.constant<"fee">("fee"),
        value: fc.oneof(fc.constantFrom(0n, 1n, 1_000n, 2_000n, 2_001n), fc.bigInt({ min: 0n, max: 2_000n })),
      }),
      fc.record({
        kind: fc.constant<"penalty">("penalty"),
        value: fc.oneof(fc.constantFrom(0n, 1n, 5_000n, 5_001n), fc.bigInt({ min: 0n, max: 5_000n })),
      }),
      fc.record({
        kind: fc.constant<"grace">("grace"),
        value: fc.oneof(
          fc.constantFrom(299n, 300n, 3_600n, 7n * DAY, 7n * DAY + 1n),
          fc.bigInt({ min: 300n, max: 7n * DAY }),
        ),
      }),
      fc.record({
        kind: fc.constant<"discount">("discount"),
        termDays: fc.constantFrom(7n, 30n, 90n, 14n),
        value: fc.oneof(fc.constantFrom(0n, 5_000n, 5_001n), fc.bigInt({ min: 0n, max: 5_000n })),
      }),
      fc.record({
        kind: fc.constant<"tokenEnabled">("tokenEnabled"),
        token: tokenArb,
        enabled: fc.oneof({ weight: 1, arbitrary: fc.constant(false) }, { weight: 3, arbitrary: fc.constant(true) }),
      }),
    )
    .map((a) => new Governance(a as GovernanceArgs));

  // `fc.commands` picks uniformly among the arbitraries: repeat each as often as it should run
  // (about percent of the steps). Pauses and blocks are lifted three times as often as they are
  // set: most steps run in the normal state, and some in each paused or blocked one.
  const weighted: [number, fc.Arbitrary<Step>][] = [
    [20, rent],
    [8, topUp],
    [6, endRental],
    [8, withdrawEarnings],
    [10, timeJump],
    [5, jumpToBoundary],
    [3, fc.record({ rental: selArb }).map((a) => new FlagGracePeriod(a))],
    [4, fc.record({ rental: selArb }).map((a) => new CloseRental(a))],
    [3, closeForProviderFault],
    [3, stake],
    [2, requestUnstake],
    [2, fc.record({ provider: providerArb }).map((a) => new WithdrawUnstaked(a))],
    [2, slash],
    [
      2,
      fc.record({ provider: providerArb, amount: fc.oneof(kaiArb, fc.constant(0n)) }).map((a) => new DepositRewards(a)),
    ],
    [1, fc.record({ provider: providerArb }).map((a) => new WithdrawRewards(a))],
    [2, fc.record({ renter: renterArb, token: tokenArb }).map((a) => new ClaimRefundCredit(a))],
    [2, fc.record({ token: tokenArb }).map((a) => new WithdrawFees(a))],
    [1, registerNode],
    [3, nodeAdmin],
    [2, governance],
    [1, fc.constant(new PauseEscrow({ pause: true }))],
    [3, fc.constant(new PauseEscrow({ pause: false }))],
    [1, fc.constant(new PauseRegistry({ pause: true }))],
    [3, fc.constant(new PauseRegistry({ pause: false }))],
    [1, fc.record({ renter: renterArb }).map((a) => new SetBlocked({ ...a, blocked: true }))],
    [3, fc.record({ renter: renterArb }).map((a) => new SetBlocked({ ...a, blocked: false }))],
  ];
  return weighted.flatMap(([n, arb]) => Array<fc.Arbitrary<Step>>(n).fill(arb));
}

/** Runs `steps` from the start state, then the final drain. */
export async function runSequence(
  w: World,
  steps: Iterable<fc.AsyncCommand<Model, World>>,
  unpauseBeforeDrain: boolean,
): Promise<Model> {
  await resetWorld(w);
  const m = await initialModel(w);
  await checkInvariants(w, m);
  await fc.asyncModelRun(() => ({ model: m, real: w }), steps);
  await finalDrain(w, m, unpauseBeforeDrain);
  return m;
}
