/**
 * The PoPW walk's constants: holders, operators, plans, epochs, emission and the contracts' fixed figures.
 */
import { KAI, SIGNER_NAMES, defaultSpec } from "../../fixtures";
import { EPOCH_LENGTH } from "../sla";

export const TOKENS = ["usd", "kai"] as const;
export type TokenKey = (typeof TOKENS)[number];

/** Every account and contract that can hold USD or KAI in this world. */
export const HOLDERS = [
  ...SIGNER_NAMES,
  "op0",
  "op1",
  "op2",
  "op3",
  "escrow",
  "registry",
  "distributor",
  "sla",
  "reportOracle",
] as const;
export type Holder = (typeof HOLDERS)[number];
export type Actor = Exclude<Holder, "escrow" | "registry" | "distributor" | "sla" | "reportOracle">;

/** Who stakes in the registry (providers, then checker operators); also every leaf's account. */
export const STAKERS = ["provider", "provider2", "op0", "op1", "op2", "op3"] as const;
export const PROVIDERS = ["provider", "provider2"] as const;
export const RENTERS = ["renter", "renter2"] as const;
export const OPERATORS = ["op0", "op1", "op2", "op3"] as const;

export const EPOCH = BigInt(EPOCH_LENGTH);
export const BPS = 10_000n;
export const HOUR = 3_600n;
export const DAY = 86_400n;
/** The escrow's SLA tiers (deployCore): best effort, 99.9%, 99.5%. */
export const SLA_TARGETS = [0n, 9_990n, 9_950n];
/** Terms version 0 of the escrow (the walk never changes terms). */
export const FEE_BPS = 1_000n;
export const PENALTY_BPS = 1_000n;
export const GRACE_PERIOD = HOUR;
export const REWARD_POOL_SHARE_BPS = 5_000n;
export const SAVING_TERM_DAYS = 7n;
export const SAVING_DISCOUNT_BPS = 500n;
export const UNBONDING_PERIOD = 14n * DAY;
/** The SlaEnforcer's default policy. */
export const DOWNTIME_THRESHOLD_BPS = 9_000n;
export const DOWNTIME_EPOCHS = 2;
export const DOWNTIME_SLASH_BPS = 3_333n;
export const FRAUD_SLASH_BPS = 10_000n;
/** `SlaEnforcer.stakeCreditCapBps` (default): KAI from stake owed per node and epoch, bps of its requirement. */
export const STAKE_CREDIT_CAP_BPS = 1_000n;
/** The emission schedule the walk sets: 1,000 KAI per epoch, halving weekly (10,080 one-minute epochs). */
export const EMISSION = { initial: KAI(1_000), halvingEpochs: 10_080n };
/** What the treasury puts in the distributor's reserve at setup: one epoch's budget (claims may outrun it). */
export const INITIAL_RESERVE = KAI(1_000);
/** KAI per 1e18 USD units that the walk's runs may set: none, 1 KAI per USD, 1,000 KAI per USD. */
export const KAI_RATES = [0n, 10n ** 30n, 10n ** 33n] as const;
/** `SlaEnforcer.MAX_KAI_PER_TOKEN`: governance's rates above it revert (the walk tries it and one above). */
export const MAX_KAI_PER_TOKEN = 10n ** 40n;
/** The oracle's bounty on equivocation slashes (`deployOracle`: 10%) and its slash reason code. */
export const BOUNTY_BPS = 1_000n;
export const REASON_EQUIVOCATION = 100;
/** `ReportOracle.excludeOperator` reasons. */
export const EXCLUDED_NO_LICENSE = 1n;
export const EXCLUDED_UNDER_STAKED = 2n;
export const EXCLUDED_EQUIVOCATION = 4n;
/** `CheckerLicense` departure cooldown bounds (the registry's unbonding bounds). */
export const MIN_DEPARTURE_COOLDOWN = DAY;
export const MAX_DEPARTURE_COOLDOWN = 90n * DAY;
/** Licenses the admin mints at setup on top of the operators' four (ids 5, 6), undelegated. */
export const EXTRA_LICENSES = 2n;
/** KAI each operator gets at setup for its top-ups (it staked all it had: the minimum). */
export const OPERATOR_FUNDS = KAI(50_000);
/** A UTC midnight the deployment starts at, so that a sequence replays block for block. */
export const DEPLOY_AT = 2_000_073_600n;
/** The walk starts this many epochs after the oracle's genesis, on an epoch boundary. */
export const WALK_OFFSET_EPOCHS = 60n;

/** provider2's node: 4 x RTX 4090 (class 1, multiplier 1x), at the fixture prices. */
export const NODE2_SPEC = { ...defaultSpec, gpuClass: 1, gpuCount: 4, vramGiB: 24 };
