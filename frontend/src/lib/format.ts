/**
 * Formatting for people: token amounts with their decimals and symbol, durations, countdowns,
 * basis points, addresses, GPU class names and region codes (bytes32 / bytes8 on chain).
 * Pure functions, unit tested.
 */
import { formatTokenAmount } from "@kaisar/offchain/src/amount";
import { hexToString, parseUnits } from "viem";

export interface TokenInfo {
  address: `0x${string}`;
  symbol: string;
  decimals: number;
}

/**
 * `amount` (token units) as a decimal with at most `maxFraction` fraction digits (rounded down, so a
 * balance is never shown larger than it is), thousands separated, and the symbol:
 * `formatAmount(1234567890000000000000n, kai)` = "1,234.5678 KAI".
 */
/** The protocol's token as the pages name amounts of it (stake, rewards, slashes). */
export const KAI: Pick<TokenInfo, "symbol" | "decimals"> = { symbol: "KAI", decimals: 18 };

export function formatAmount(amount: bigint, token: Pick<TokenInfo, "symbol" | "decimals">, maxFraction = 4): string {
  return formatTokenAmount(amount, token.symbol, token.decimals, maxFraction);
}

/** Parses what a person typed ("1,000.5", " 12 ") into token units; undefined if it is not an amount. */
export function parseAmount(text: string, decimals: number): bigint | undefined {
  const clean = text.replace(/[,_\s]/g, "");
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(clean)) return undefined;
  const [, fraction = ""] = clean.split(".");
  if (fraction.length > decimals) return undefined;
  return parseUnits(clean, decimals);
}

/** Seconds as "2 d 3 h", "3 h 5 min", "5 min 10 s" or "42 s" (two largest units). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const units: [string, number][] = [
    ["d", 86_400],
    ["h", 3_600],
    ["min", 60],
    ["s", 1],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n} ${name}`);
    if (parts.length === 2) break;
  }
  return parts.length === 0 ? "0 s" : parts.filter((p) => !p.startsWith("0 ")).join(" ") || parts[0];
}

/** "in 5 min" / "5 min ago" relative to `now` (both Unix seconds). */
export function formatRelative(at: number, now: number): string {
  return at >= now ? `in ${formatDuration(at - now)}` : `${formatDuration(now - at)} ago`;
}

/** Basis points as a percentage: 9_950 → "99.5%". */
export function formatBps(bps: bigint | number): string {
  const n = Number(bps) / 100;
  return `${Number.isInteger(n) ? n : n.toFixed(2).replace(/0+$/, "")}%`;
}

/** 0x1234…abcd */
export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

/** A short hash for tables: 0x1234abcd… */
export function shortHash(hash: string): string {
  return hash.length > 14 ? `${hash.slice(0, 10)}…` : hash;
}

/** A right-zero-padded bytesN text (GPU class names, region codes) as a string. */
export function bytesToText(hex: `0x${string}`): string {
  try {
    return hexToString(hex).replace(/\0+$/g, "");
  } catch {
    return hex;
  }
}

/** A price per GPU-hour in `token` units as "2.5 KAI/GPU-h". */
export function formatPricePerHour(price: bigint, token: Pick<TokenInfo, "symbol" | "decimals">): string {
  return `${formatAmount(price, token)}/GPU-h`;
}

/** Thousands-separated integer. */
export function formatCount(n: number | bigint): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
