import { describe, expect, it } from "vitest";

import { formatRelative } from "../src/lib/format";
import { DAY, nextVestingStep, vestedBpsAt, vestingStart } from "../src/lib/vesting";

// A position of UTC day 20_000 (2024-10-04); its clock starts at the end of that day.
const day = 20_000n;
const dayStart = 20_000 * DAY;

describe("vesting clock (RewardDistributor: from the end of the claim's UTC day)", () => {
  it("starts when the claim's UTC day ends", () => {
    expect(vestingStart(day)).toBe(dayStart + DAY);
  });

  it("counts the next step from the end of the day, not its start (the countdown was a day short)", () => {
    // Claimed at 07:00 UTC: the 50% step comes 30 days after midnight at the end of the day,
    // 30 d 17 h away (the old countdown said "in 29 d 17 h").
    const now = dayStart + 7 * 3_600;
    const next = nextVestingStep(day, now)!;
    expect(next).toEqual({ at: dayStart + 31 * DAY, bps: 5_000 });
    expect(formatRelative(next.at, now)).toBe("in 30 d 17 h");
  });

  it("pays 25% until 30 days after the day ended, then 50%, 75%, 100% (vestedBps)", () => {
    const open = vestingStart(day);
    expect(vestedBpsAt(day, dayStart)).toBe(2_500);
    expect(vestedBpsAt(day, open + 30 * DAY - 1)).toBe(2_500);
    expect(vestedBpsAt(day, open + 30 * DAY)).toBe(5_000);
    expect(vestedBpsAt(day, open + 90 * DAY)).toBe(7_500);
    expect(vestedBpsAt(day, open + 180 * DAY - 1)).toBe(7_500);
    expect(vestedBpsAt(day, open + 180 * DAY)).toBe(10_000);
  });

  it("names each next step and none once fully vested", () => {
    const open = vestingStart(day);
    expect(nextVestingStep(day, open + 30 * DAY)).toEqual({ at: open + 90 * DAY, bps: 7_500 });
    expect(nextVestingStep(day, open + 90 * DAY)).toEqual({ at: open + 180 * DAY, bps: 10_000 });
    expect(nextVestingStep(day, open + 180 * DAY)).toBeUndefined();
  });
});
