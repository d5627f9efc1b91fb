import { describe, expect, it } from "vitest";

import { priceCap, quote, rentalClock, type QuoteInput } from "../src/lib/cost";

const base: QuoteInput = {
  plan: "PayAsYouGo",
  gpus: 2,
  pricePerGpuHour: 3n * 10n ** 18n,
  hours: 1,
  termDays: 7,
  savingDiscountBps: 500n,
  feeBps: 1_000n,
  earlyExitPenaltyBps: 1_000n,
  gracePeriod: 300,
};

describe("quote", () => {
  it("pay-as-you-go: a per-second rate rounded up, as RentalEscrow._quote", () => {
    const q = quote({ ...base, pricePerGpuHour: 1_000n, gpus: 1, hours: 1 });
    if ("error" in q) throw new Error(q.error);
    expect(q.unitPrice).toBe(1n); // ceil(1000 / 3600)
    expect(q.total).toBe(3_600n);
    expect(q.depositParam).toBe(q.total);
  });
  it("pay-as-you-go: total is the rate times the seconds prepaid; the fee comes out of the provider's side", () => {
    const q = quote(base);
    if ("error" in q) throw new Error(q.error);
    const perSecond = (6n * 10n ** 18n + 3_599n) / 3_600n;
    expect(q.unitPrice).toBe(perSecond);
    expect(q.total).toBe(perSecond * 3_600n);
    expect(q.fee).toBe((q.total * 1_000n) / 10_000n);
    expect(q.refundRules.join(" ")).toContain("5-minute grace period");
  });
  it("hourly: charged per started hour", () => {
    const q = quote({ ...base, plan: "Hourly", hours: 1.5 });
    if ("error" in q) throw new Error(q.error);
    expect(q.total).toBe(2n * 6n * 10n ** 18n);
    expect(q.seconds).toBe(7_200);
  });
  it("saving: the discounted hourly price times 24 x term days, a zero deposit parameter and the discount shown", () => {
    const q = quote({ ...base, plan: "Saving", termDays: 30, savingDiscountBps: 1_500n });
    if ("error" in q) throw new Error(q.error);
    const unit = 6n * 10n ** 18n - (6n * 10n ** 18n * 1_500n) / 10_000n;
    expect(q.unitPrice).toBe(unit);
    expect(q.total).toBe(unit * 24n * 30n);
    expect(q.discount).toBe(6n * 10n ** 18n * 24n * 30n - q.total);
    expect(q.depositParam).toBe(0n);
  });
  it("refuses what the contract would refuse, with a sentence", () => {
    expect(quote({ ...base, gpus: 0 })).toEqual({ error: "Choose between 1 and 255 GPUs." });
    expect(quote({ ...base, plan: "Saving", termDays: 14 })).toEqual({ error: "A saving plan runs 7, 30 or 90 days." });
    expect(quote({ ...base, pricePerGpuHour: 0n })).toEqual({ error: "This node does not accept that token." });
  });
  it("caps the price at exactly what the person saw", () => {
    expect(priceCap(123n)).toBe(123n);
  });
});

describe("rentalClock", () => {
  it("counts down and knows the grace period", () => {
    expect(rentalClock({ paidUntil: 1_000n, closableAt: 1_300n }, 500)).toMatchObject({
      secondsLeft: 500,
      inGrace: false,
    });
    expect(rentalClock({ paidUntil: 1_000n, closableAt: 1_300n }, 1_100)).toMatchObject({
      secondsLeft: 0,
      inGrace: true,
      graceLeft: 200,
    });
  });
});
