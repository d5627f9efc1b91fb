/**
 * The vesting clock of a reward position, by RewardDistributor's rule (README "Decisions"): a position
 * is keyed by its claim's UTC day, and its clock starts when that day ends, `(day + 1) * 1 days`
 * (RewardDistributor.withdrawVested). The share paid at a given age is the contract's
 * `vestedBps(age)`; VESTING_STEPS lists the same steps so the page can say when the next one comes.
 * Pure functions, unit tested (frontend/test/vesting.test.ts).
 */

export const DAY = 86_400;

/** RewardDistributor.vestedBps: below `age` seconds since the clock started, `bps` of the position is paid. */
export const VESTING_STEPS: readonly { belowAge: number; bps: number }[] = [
  { belowAge: 30 * DAY, bps: 2_500 },
  { belowAge: 90 * DAY, bps: 5_000 },
  { belowAge: 180 * DAY, bps: 7_500 },
];
export const FULLY_VESTED_BPS = 10_000;

/** Unix seconds when the position of UTC day `day` starts vesting: the end of that day. */
export function vestingStart(day: bigint | number): number {
  return (Number(day) + 1) * DAY;
}

/** The position's age at `now` (Unix seconds), as withdrawVested computes it (0 before the clock starts). */
export function vestingAge(day: bigint | number, now: number): number {
  return Math.max(0, now - vestingStart(day));
}

/** The share (bps) a withdrawal at `now` pays: the contract's vestedBps(age). */
export function vestedBpsAt(day: bigint | number, now: number): number {
  const age = vestingAge(day, now);
  return VESTING_STEPS.find((s) => age < s.belowAge)?.bps ?? FULLY_VESTED_BPS;
}

/**
 * The next step up from the share at `now`: when it comes (Unix seconds) and the share it brings;
 * undefined once the position is fully vested.
 */
export function nextVestingStep(day: bigint | number, now: number): { at: number; bps: number } | undefined {
  const age = vestingAge(day, now);
  const i = VESTING_STEPS.findIndex((s) => age < s.belowAge);
  if (i < 0) return undefined;
  return {
    at: vestingStart(day) + VESTING_STEPS[i].belowAge,
    bps: VESTING_STEPS[i + 1]?.bps ?? FULLY_VESTED_BPS,
  };
}
