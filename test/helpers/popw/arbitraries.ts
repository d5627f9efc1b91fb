/**
 * The generators of the walk's commands, and `runSequence` (one run from the start snapshot).
 */
import fc from "fast-check";

import { Plan } from "../../../offchain/src/rentalMath";
import { KAI } from "../../fixtures";
import {
  DAY,
  KAI_RATES,
  MAX_DEPARTURE_COOLDOWN,
  MAX_KAI_PER_TOKEN,
  MIN_DEPARTURE_COOLDOWN,
  PROVIDERS,
  STAKERS,
} from "./constants";
import { type World, resetWorld } from "./world";
import { type Model, initialModel } from "./state";
import type { Signing } from "./oracleActions";
import type { EquivocationFault } from "./checkerActions";
import { checkInvariants } from "./invariants";
import { finalDrain } from "./drain";
import {
  Claim,
  type ClaimFault,
  type EpochChoice,
  JumpToBoundary,
  Rent,
  Report,
  Step,
  TimeJump,
  VestingJump,
  WithdrawVested,
} from "./commands";
import {
  ApplySlaCredit,
  ApplySlaCredits,
  type BatchFault,
  CloseOnJailedNode,
  CloseRental,
  type CreditFault,
  DepositRewards,
  type DowntimeFault,
  EndRental,
  FundReserve,
  type LicenseAction,
  type LicenseFault,
  PayStakeCredit,
  ReleaseNode,
  RequestUnstake,
  ResumeNode,
  SetKaiPerToken,
  SlashForDowntime,
  SlashForFraud,
  Stake,
  WithdrawEarnings,
  WithdrawUnstaked,
} from "./slaCommands";
import {
  CheckerRequestUnstake,
  CheckerStake,
  CheckerWithdrawUnstaked,
  ExcludeOperator,
  MoveLicense,
  type ProofEpoch,
  ProveEquivocation,
  RotateCheckers,
  type RotationPick,
  SetDepartureCooldown,
} from "./checkerCommands";

const providerArb = fc.integer({ min: 0, max: 1 });
const selArb = fc.nat({ max: 1_000 });
const rare = <T>(common: fc.Arbitrary<T>, uncommon: fc.Arbitrary<T>, odds = 8) =>
  fc.oneof({ weight: odds, arbitrary: common }, { weight: 1, arbitrary: uncommon });
/** Uptimes around every threshold that matters: the tiers' targets, the schedule's steps, the slash threshold. */
const uptimeArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      10_000n,
      9_999n,
      9_990n,
      9_989n,
      9_950n,
      9_949n,
      9_900n,
      9_890n,
      9_500n,
      9_001n,
      9_000n,
      8_999n,
      8_500n,
      8_000n,
      5_000n,
      0n,
    ),
  },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 10_000n }) },
);

/** A rental of 1-3 GPUs of either node, on any plan and SLA tier, by either renter, paid for up to 3 hours. */
export function rentArbitrary(): fc.Arbitrary<Rent> {
  return fc
    .record({
      renter: fc.integer({ min: 0, max: 1 }),
      node: fc.integer({ min: 0, max: 1 }),
      plan: fc.constantFrom<Plan>(Plan.PayAsYouGo, Plan.Hourly, Plan.Saving),
      slaTier: fc.integer({ min: 0, max: 2 }),
      gpus: fc.integer({ min: 1, max: 3 }),
      seconds: fc.oneof(fc.integer({ min: 60, max: 1_800 }), fc.integer({ min: 1, max: 3 * 3_600 })),
    })
    .map((a) => new Rent(a));
}

/** Every command of the walk, weighted towards reports, credits and the rentals they need. */
export function stepArbitraries(): fc.Arbitrary<Step>[] {
  const rent = rentArbitrary();
  const timeJump = fc
    .record({
      seconds: fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 1, max: 180 }) },
        { weight: 2, arbitrary: fc.constantFrom(59, 60, 61, 120) },
        { weight: 2, arbitrary: fc.integer({ min: 181, max: 3_600 }) },
        { weight: 1, arbitrary: fc.integer({ min: 3_601, max: 2 * 86_400 }) },
      ),
    })
    .map((a) => new TimeJump(a));
  const jumpToBoundary = fc
    .record({
      target: fc.constantFrom<"paidUntil" | "closableAt">("paidUntil", "closableAt"),
      index: selArb,
      offset: fc.constantFrom<-1 | 0 | 1>(-1, 0, 1),
    })
    .map((a) => new JumpToBoundary(a));
  const report = fc
    .record({
      epoch: fc.oneof(
        { weight: 8, arbitrary: fc.constant<EpochChoice>("next") },
        { weight: 3, arbitrary: fc.constant<EpochChoice>("near") },
        { weight: 2, arbitrary: fc.constant<EpochChoice>("latest") },
        { weight: 1, arbitrary: fc.constantFrom<EpochChoice>("again", "stale", "notEnded") },
      ),
      back: fc.integer({ min: 1, max: 4 }),
      uptime: fc.tuple(uptimeArb, uptimeArb),
      mismatch: fc.tuple(
        rare(fc.constant(false), fc.constant(true), 8),
        rare(fc.constant(false), fc.constant(true), 8),
      ),
      weights: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }),
      checkers: fc.integer({ min: 0, max: 15 }),
      capacityPct: fc.integer({ min: 0, max: 100 }),
      fracBps: fc.oneof(
        { weight: 2, arbitrary: fc.constant(0) },
        { weight: 10, arbitrary: fc.integer({ min: 0, max: 10_000 }) },
        { weight: 2, arbitrary: fc.constant(10_000) },
        { weight: 2, arbitrary: fc.integer({ min: 10_001, max: 12_000 }) },
      ),
      lie: rare(fc.constant(false), fc.constant(true), 6),
      signing: rare(
        fc.constant<Signing>("quorum"),
        fc.constantFrom<Signing>("belowQuorum", "tombstone", "tombstone", "oldVersion"),
        6,
      ),
    })
    .map((a) => new Report(a));
  const claim = fc
    .record({
      beneficiary: fc.integer({ min: 0, max: STAKERS.length - 1 }),
      picks: fc.array(
        fc.record({
          sel: selArb,
          fault: rare(
            fc.constant<ClaimFault>("none"),
            fc.constantFrom<ClaimFault>("double", "wrongAccount", "tampered", "unreported"),
            4,
          ),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    })
    .map((a) => new Claim(a));
  const withdrawVested = fc
    .record({
      owner: fc.integer({ min: 0, max: STAKERS.length - 1 }),
      position: selArb,
      unknown: rare(fc.constant(false), fc.constant(true)),
    })
    .map((a) => new WithdrawVested(a));
  const vestingJump = fc
    .record({
      position: selArb,
      ageDays: fc.constantFrom<30 | 90 | 180>(30, 90, 180),
      offset: fc.constantFrom<-1 | 0 | 1>(-1, 0, 1),
    })
    .map((a) => new VestingJump(a));
  const applySlaCredit = fc
    .record({
      rental: selArb,
      epoch: selArb,
      fault: rare(
        fc.constant<CreditFault>("none"),
        fc.constantFrom<CreditFault>(
          "otherNode",
          "badMetrics",
          "badProof",
          "unreported",
          "checkerLeaf",
          "unknownRental",
        ),
        6,
      ),
    })
    .map((a) => new ApplySlaCredit(a));
  const applySlaCredits = fc
    .record({
      epoch: selArb,
      node: providerArb,
      rentals: rare<"due" | number[]>(fc.constant("due"), fc.array(selArb, { minLength: 1, maxLength: 3 }), 3),
      fault: rare(
        fc.constant<BatchFault>("none"),
        fc.constantFrom<BatchFault>("duplicate", "otherNodeRental", "empty"),
        5,
      ),
    })
    .map((a) => new ApplySlaCredits(a));
  const slashForDowntime = fc
    .record({
      rental: selArb,
      epoch: selArb,
      fault: rare(
        fc.constant<DowntimeFault>("none"),
        fc.constantFrom<DowntimeFault>("one", "three", "otherNode", "notConsecutive", "stale"),
        5,
      ),
    })
    .map((a) => new SlashForDowntime(a));
  const slashForFraud = fc
    .record({
      epoch: selArb,
      node: providerArb,
      fault: rare(
        fc.constant<"none" | "badMetrics" | "unreported">("none"),
        fc.constantFrom<"none" | "badMetrics" | "unreported">("badMetrics", "unreported"),
        5,
      ),
    })
    .map((a) => new SlashForFraud(a));
  const closeOnJailedNode = fc
    .record({
      rentals: fc.oneof(
        { weight: 3, arbitrary: fc.constant<"jailed">("jailed") },
        { weight: 2, arbitrary: fc.array(selArb, { minLength: 1, maxLength: 3 }) },
      ),
    })
    .map((a) => new CloseOnJailedNode(a));
  const withdrawEarnings = fc
    .record({
      provider: rare<number | "ofRental">(fc.constant("ofRental"), providerArb, 3),
      rental: selArb,
      rentals: fc.oneof(
        { weight: 3, arbitrary: fc.constant<"own">("own") },
        { weight: 1, arbitrary: fc.array(selArb, { maxLength: 4 }) },
      ),
    })
    .map((a) => new WithdrawEarnings(a));
  const endRental = fc
    .record({ rental: selArb, caller: rare(fc.integer({ min: 0, max: 1 }), fc.constant(2), 6) })
    .map((a) => new EndRental(a));
  const stake = fc
    .record({
      provider: providerArb,
      amount: fc.oneof(
        { weight: 4, arbitrary: fc.constant<"shortfall">("shortfall") },
        { weight: 1, arbitrary: fc.constant<"zero">("zero") },
        { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: KAI(5_000) }) },
      ),
    })
    .map((a) => new Stake(a));
  const requestUnstake = fc
    .record({
      provider: providerArb,
      amount: fc.constantFrom<"unlocked" | "half" | "overStaked">("unlocked", "half", "overStaked"),
    })
    .map((a) => new RequestUnstake(a));

  // The checker side: licenses, operator stakes, governance's rotations, exclusions, equivocation proofs.
  const opArb = fc.nat({ max: 99 });
  const moveLicense = fc
    .record({
      action: fc.oneof(
        { weight: 6, arbitrary: fc.constant<LicenseAction>("delegate") },
        { weight: 3, arbitrary: fc.constant<LicenseAction>("undelegate") },
        { weight: 2, arbitrary: fc.constant<LicenseAction>("reinstate") },
      ),
      license: selArb,
      to: selArb,
      fault: rare(fc.constant<LicenseFault>("none"), fc.constantFrom<LicenseFault>("same", "notOwner", "unknownId"), 8),
      wait: fc.oneof(
        { weight: 8, arbitrary: fc.constant<"no">("no") },
        { weight: 2, arbitrary: fc.constantFrom<"ready" | "justBefore">("ready", "justBefore") },
      ),
    })
    .map((a) => new MoveLicense(a));
  const setDepartureCooldown = fc
    .record({
      cooldown: rare(
        fc.constantFrom(DAY, 2n * DAY, 14n * DAY, MAX_DEPARTURE_COOLDOWN),
        fc.constantFrom(MIN_DEPARTURE_COOLDOWN - 1n, MAX_DEPARTURE_COOLDOWN + 1n),
        4,
      ),
    })
    .map((a) => new SetDepartureCooldown(a));
  const checkerStake = fc
    .record({
      op: opArb,
      amount: fc.oneof(
        { weight: 4, arbitrary: fc.constant<"toMin">("toMin") },
        { weight: 1, arbitrary: fc.constant<"zero">("zero") },
        { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: KAI(5_000) }) },
      ),
    })
    .map((a) => new CheckerStake(a));
  const checkerRequestUnstake = fc
    .record({
      op: opArb,
      amount: fc.constantFrom<"all" | "half" | "belowMin" | "over">("all", "half", "belowMin", "belowMin", "over"),
    })
    .map((a) => new CheckerRequestUnstake(a));
  const checkerWithdrawUnstaked = fc
    .record({ op: opArb, wait: fc.boolean() })
    .map((a) => new CheckerWithdrawUnstaked(a));
  const rotateCheckers = fc
    .record({
      pick: fc.oneof(
        { weight: 8, arbitrary: fc.constant<RotationPick>("eligible") },
        { weight: 2, arbitrary: fc.constant<RotationPick>("withIneligible") },
        { weight: 1, arbitrary: fc.constantFrom<RotationPick>("unsorted", "badQuorum", "empty") },
      ),
      sel: selArb,
      quorum: fc.constantFrom<"min" | "max">("min", "max"),
    })
    .map((a) => new RotateCheckers(a));
  const excludeOperator = fc
    .record({
      index: selArb,
      caller: fc.constantFrom<"keeper" | "other" | "renter">("keeper", "other", "renter"),
      pick: rare(fc.constant(true), fc.constant(false), 3),
    })
    .map((a) => new ExcludeOperator(a));
  const proveEquivocation = fc
    .record({
      op: opArb,
      other: opArb,
      epoch: fc.constantFrom<ProofEpoch>("current", "past", "departure", "departureNext"),
      back: fc.nat({ max: 8 }),
      prover: fc.constantFrom<"keeper" | "other" | "self" | "otherOp">("keeper", "keeper", "other", "self", "otherOp"),
      licenses: rare(
        fc.constant<"keeper" | "none" | "extra">("keeper"),
        fc.constantFrom<"keeper" | "none" | "extra">("none", "extra"),
        3,
      ),
      fault: fc.oneof(
        { weight: 8, arbitrary: fc.constant<EquivocationFault | "again" | "repeat">("none") },
        { weight: 2, arbitrary: fc.constant<EquivocationFault | "again" | "repeat">("repeat") },
        {
          weight: 2,
          arbitrary: fc.constantFrom<EquivocationFault | "again" | "repeat">(
            "sameContent",
            "differentSigners",
            "again",
          ),
        },
      ),
    })
    .map((a) => new ProveEquivocation(a));

  // `fc.commands` picks uniformly among the arbitraries: repeat each as often as it should run.
  const weighted: [number, fc.Arbitrary<Step>][] = [
    [12, rent],
    [10, timeJump],
    [2, jumpToBoundary],
    [16, report],
    [7, claim],
    [3, withdrawVested],
    [1, vestingJump],
    [9, applySlaCredit],
    [4, applySlaCredits],
    [5, slashForDowntime],
    [3, slashForFraud],
    [2, fc.record({ pick: selArb }).map((a) => new PayStakeCredit(a))],
    [3, closeOnJailedNode],
    [4, withdrawEarnings],
    [3, endRental],
    [2, fc.record({ rental: selArb }).map((a) => new CloseRental(a))],
    [2, fc.record({ node: fc.integer({ min: 0, max: 2 }) }).map((a) => new ReleaseNode(a))],
    [
      2,
      fc
        .record({ node: fc.integer({ min: 0, max: 3 }), byOwner: rare(fc.constant(true), fc.constant(false)) })
        .map((a) => new ResumeNode(a)),
    ],
    [2, stake],
    [1, requestUnstake],
    [1, fc.record({ provider: providerArb }).map((a) => new WithdrawUnstaked(a))],
    [
      1,
      fc
        .record({ staker: providerArb, amount: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: KAI(5_000) })) })
        .map((a) => new DepositRewards(a)),
    ],
    [1, fc.record({ amount: fc.constantFrom(0n, KAI(500), KAI(2_000)) }).map((a) => new FundReserve(a))],
    [4, moveLicense],
    [1, setDepartureCooldown],
    [2, checkerStake],
    [2, checkerRequestUnstake],
    [1, checkerWithdrawUnstaked],
    [
      1,
      fc
        .record({
          staker: fc.integer({ min: PROVIDERS.length, max: STAKERS.length - 1 }),
          amount: fc.bigInt({ min: 1n, max: KAI(3_000) }),
        })
        .map((a) => new DepositRewards(a)),
    ],
    [2, rotateCheckers],
    [2, excludeOperator],
    [2, proveEquivocation],
    [
      1,
      fc
        .record({
          rate: rare(fc.constantFrom(...KAI_RATES), fc.constantFrom(MAX_KAI_PER_TOKEN, MAX_KAI_PER_TOKEN + 1n), 6),
        })
        .map((a) => new SetKaiPerToken(a)),
    ],
  ];
  return weighted.flatMap(([n, arb]) => Array<fc.Arbitrary<Step>>(n).fill(arb));
}

/**
 * Runs a sequence from the start state: the KAI rate `rate` for USD credits, the `opening` rentals
 * (so that the first reports have rentals to credit and slash), the `steps`, then the final drain.
 */
export async function runSequence(
  w: World,
  opening: Step[],
  steps: Iterable<fc.AsyncCommand<Model, World>>,
  rate: bigint,
): Promise<Model> {
  await resetWorld(w);
  const m = await initialModel(w);
  await checkInvariants(w, m);
  if (rate !== 0n) await new SetKaiPerToken({ rate }).run(m, w);
  for (const step of opening) await step.run(m, w);
  await fc.asyncModelRun(() => ({ model: m, real: w }), steps);
  await finalDrain(w, m);
  return m;
}
