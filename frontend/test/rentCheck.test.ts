import { describe, expect, it } from "vitest";

import { underStakeSentence } from "@kaisar/offchain/src/stake";

import { formatAmount } from "../src/lib/format";
import { NodeStatus } from "@kaisar/offchain/src/vocabulary";
import { gpuRange, rentProblem, topUpProblem, type RentCheckInput } from "../src/lib/rentCheck";

const KAI = { symbol: "KAI", decimals: 18 };
const E18 = 10n ** 18n;
const ok: RentCheckInput = {
  node: {
    id: 3,
    status: NodeStatus.Active,
    gpuCount: 8,
    freeGpus: 6,
    maintenanceStart: 0,
    maintenanceEnd: 0,
    acceptsRentals: true,
  },
  gpus: 1,
  plan: 0,
  pricePerGpuHour: 10n * E18,
  depositParam: 20n * E18, // 2 hours: more than the 1-hour grace period

  termDays: 0,
  savingDiscountBps: 0n,
  gracePeriod: 3_600n,
  total: 20n * E18,
  balance: 100n * E18,
  escrowPaused: false,
  tokenEnabled: true,
  token: KAI,
  nowSec: 1_800_000_000,
};

describe("rentProblem: what rent would revert on, before any signature", () => {
  it("passes a rent the chain would take", () => {
    expect(rentProblem(ok)).toBeUndefined();
  });
  it("refuses an under-staked provider's node with the shared sentence, before any other check", () => {
    const underStake = underStakeSentence("0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", {
      staked: 16_000n * E18,
      required: 24_000n * E18,
    });
    expect(rentProblem({ ...ok, node: { ...ok.node, acceptsRentals: false }, underStake, balance: 0n })).toBe(
      underStake,
    );
    expect(underStake).toContain("16,000 KAI staked of 24,000 KAI required");
    expect(rentProblem({ ...ok, underStake: undefined })).toBeUndefined();
  });
  it("refuses a balance too low, in the words of ERC20InsufficientBalance", () => {
    expect(rentProblem({ ...ok, balance: 0n })).toBe("Your balance is too low: this needs 20 KAI and you have 0 KAI.");
  });
  it("bounds the GPUs by what is free (1 to 6 on a node with 6 free), not 255", () => {
    expect(rentProblem({ ...ok, gpus: 7 })).toBe("Choose between 1 and 6 GPUs: node #3 has 6 free.");
    expect(gpuRange(6)).toEqual({ min: 1, max: 6 });
    expect(gpuRange(300)).toEqual({ min: 1, max: 255 });
  });
  it("refuses a deposit the escrow cannot hold (RentalEscrow_AmountTooLarge), with the bound", () => {
    const huge = 2n ** 100n;
    expect(rentProblem({ ...ok, depositParam: huge, total: huge, balance: huge })).toMatch(
      /^That amount is too large for a single rental \(at most [\d,.]+ KAI\)\.$/,
    );
  });
  it("attack 5: tells the least first deposit (the grace period's worth) before the wallet opens", () => {
    // PAYG at 10 KAI per GPU-hour: 10e18 / 3600 rounded up per second, x 3,600 s of grace.
    const perSecond = (10n * E18 + 3_599n) / 3_600n;
    const minimum = perSecond * 3_600n;
    const dust = perSecond; // one second
    expect(rentProblem({ ...ok, depositParam: dust, total: dust })).toBe(
      `The first deposit must pay for at least the grace period: ${formatAmount(minimum, KAI)} (you offered ${formatAmount(dust, KAI)}).`,
    );
    expect(rentProblem({ ...ok, depositParam: minimum, total: minimum })).toBeUndefined();
    // Hourly: the hours covering the grace, rounded up (2 hours for 1 hour and 1 second).
    expect(rentProblem({ ...ok, plan: 1, depositParam: 10n * E18, total: 10n * E18, gracePeriod: 3_601n })).toBe(
      "The first deposit must pay for at least the grace period: 20 KAI (you offered 10 KAI).",
    );
  });
  it("refuses a node that takes no rentals, a paused escrow, a token not accepted", () => {
    expect(rentProblem({ ...ok, node: { ...ok.node, status: NodeStatus.Paused, acceptsRentals: false } })).toBe(
      "Node #3 takes no rentals now: paused by its provider.",
    );
    expect(rentProblem({ ...ok, escrowPaused: true })).toMatch(/paused/i);
    expect(rentProblem({ ...ok, pricePerGpuHour: 0n })).toBe("Node #3 does not accept that token.");
  });
});

describe("topUpProblem: every refused amount says why", () => {
  it.each([
    ["0", "Enter an amount above zero."],
    ["-1", "Enter a positive amount."],
    ["abc", '"abc" is not an amount: enter digits such as 10 or 2.5.'],
    ["1e30", 'Write the amount in plain digits (such as 10 or 2.5), not "1e30".'],
    ["0.0000000000000000001", "KAI has 18 decimals: use at most 18 digits after the point."],
    ["1000", "Your balance is too low: this needs 1,000 KAI and you have 100 KAI."],
  ])("%s", (text, why) => {
    expect(topUpProblem(text, KAI, 100n * E18)).toBe(why);
  });
  it("accepts a plain amount, and needs no message for an empty field", () => {
    expect(topUpProblem("2.5", KAI, 100n * E18)).toBeUndefined();
    expect(topUpProblem("", KAI, 100n * E18)).toBe("");
  });
});
