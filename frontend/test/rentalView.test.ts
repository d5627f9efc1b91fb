import { describe, expect, it } from "vitest";

import { rentalFigures } from "../src/lib/rentalView";
import { failureMessage, type Call } from "../src/hooks/useTransactor";

const E18 = 10n ** 18n;
const T0 = 1_800_000_000;

describe("rentalFigures: one rental's figures at one second, agreeing with each other", () => {
  it("saving plan: balance left minus the penalty is the refund, and the penalty is stated", () => {
    // 7 days at 1 KAI/h: 168 KAI; after 1 day, 144 KAI unused; 10% penalty = 14.4 KAI.
    const f = rentalFigures({ plan: 2, anchor: T0, unitPrice: E18, amount: 168n * E18 }, T0 + 86_400, 1_000n);
    expect(f.balanceLeft).toBe(144n * E18);
    expect(f.penalty).toBe((144n * E18) / 10n);
    expect(f.refundIfEnded).toBe(f.balanceLeft - f.penalty);
    expect(f.burnPerHour).toBe(E18);
    expect(f.lowBalance).toBe(false); // saving plans never run out early
  });
  it("hourly: the refund is the hours not yet started, the same second the balance is read", () => {
    // 2 KAI/h, 4 h paid; 1 h 1 s in: the second hour has started, 2 h unused.
    const f = rentalFigures({ plan: 1, anchor: T0, unitPrice: 2n * E18, amount: 8n * E18 }, T0 + 3_601, 1_000n);
    expect(f.balanceLeft).toBe(4n * E18);
    expect(f.refundIfEnded).toBe(4n * E18);
    expect(f.penalty).toBe(0n);
    expect(f.paidUntil).toBe(T0 + 4 * 3_600);
  });
  it("pay-as-you-go: burn rate per hour, funds run out at paidUntil, low below one hour", () => {
    const f = rentalFigures({ plan: 0, anchor: T0, unitPrice: 1_000n, amount: 7_200_000n + 5n }, T0 + 3_700, 1_000n);
    expect(f.burnPerHour).toBe(3_600_000n);
    expect(f.paidUntil).toBe(T0 + 7_200);
    expect(f.secondsLeft).toBe(3_500);
    expect(f.lowBalance).toBe(true);
    // The unused deposit includes the 5 units' remainder the per-second rate cannot spend.
    expect(f.balanceLeft).toBe(3_500_005n);
    expect(f.refundIfEnded).toBe(f.balanceLeft);
  });
});

describe("failureMessage: a failed second step says what the first already did", () => {
  const calls: Call[] = [
    {
      label: "Approve 10 KAI",
      address: "0x0",
      abi: [],
      functionName: "approve",
      done: "The escrow may now spend 10 KAI of yours.",
    },
    { label: "Rent", address: "0x0", abi: [], functionName: "rent" },
  ];
  it("names the approval when the rent is rejected", () => {
    expect(failureMessage(calls, 1, "You rejected the request in your wallet. Nothing was sent.")).toBe(
      "Step 2 of 2 failed: You rejected the request in your wallet. This step was not sent. Already done in step before it: The escrow may now spend 10 KAI of yours.",
    );
  });
  it("is the plain reason when the first step fails", () => {
    expect(failureMessage(calls, 0, "Nope.")).toBe("Nope.");
  });
});
