import { describe, expect, it } from "vitest";

import {
  formatAmount,
  formatBps,
  formatDuration,
  parseAmount,
  shortAddress,
  bytesToText,
  formatCount,
} from "../src/lib/format";

const KAI = { symbol: "KAI", decimals: 18 };
const USDC = { symbol: "USDC", decimals: 6 };

describe("formatAmount", () => {
  it("uses the token's decimals and symbol, with thousands separators", () => {
    expect(formatAmount(1_234_567_890_000_000_000_000n, KAI)).toBe("1,234.5678 KAI");
    expect(formatAmount(2_500_000n, USDC)).toBe("2.5 USDC");
  });
  it("rounds down, never showing more than there is", () => {
    expect(formatAmount(999_999_999_999_999_999n, KAI)).toBe("0.9999 KAI");
  });
  it("shows dust as below the smallest shown digit, not zero", () => {
    expect(formatAmount(1n, KAI)).toBe("< 0.0001 KAI");
    expect(formatAmount(0n, KAI)).toBe("0 KAI");
  });
});

describe("parseAmount", () => {
  it("reads what a person types", () => {
    expect(parseAmount("1,000.5", 18)).toBe(1_000_500_000_000_000_000_000n);
    expect(parseAmount(" 12 ", 6)).toBe(12_000_000n);
  });
  it("refuses what is not an amount, or has more decimals than the token", () => {
    expect(parseAmount("abc", 18)).toBeUndefined();
    expect(parseAmount("1.1234567", 6)).toBeUndefined();
    expect(parseAmount("", 18)).toBeUndefined();
  });
});

describe("durations and the rest", () => {
  it("keeps the two largest units", () => {
    expect(formatDuration(42)).toBe("42 s");
    expect(formatDuration(3_600)).toBe("1 h");
    expect(formatDuration(3_725)).toBe("1 h 2 min");
    expect(formatDuration(2 * 86_400 + 3 * 3_600 + 59)).toBe("2 d 3 h");
    expect(formatDuration(-5)).toBe("0 s");
  });
  it("formats bps, addresses, bytesN text and counts", () => {
    expect(formatBps(9_950)).toBe("99.5%");
    expect(formatBps(10_000n)).toBe("100%");
    expect(shortAddress("0x71bE63f3384f5fb98995898A86B02Fb2426c5788")).toBe("0x71bE…5788");
    expect(bytesToText("0x65752d7765737400")).toBe("eu-west");
    expect(formatCount(10_000)).toBe("10,000");
  });
});
