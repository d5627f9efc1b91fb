/**
 * Parsers of setting values. Each takes what the file or the environment holds (`unknown`: JSON
 * values from the file, strings from the environment) and returns the value or throws a
 * `SettingValueError` whose message says what is wrong with it (never the value of a secret).
 */
import { getAddress } from "ethers";

/** A value that does not parse; `reason` completes "<setting>: ...". */
export class SettingValueError extends Error {
  override name = "SettingValueError";
}

/** secp256k1's group order: a private key is in [1, N). */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const show = (raw: unknown) => (typeof raw === "string" ? JSON.stringify(raw) : String(raw));

/** A 32-byte private key as 0x and 64 hex digits (the 0x may be omitted); returned lower case with 0x. */
export function parsePrivateKey(raw: unknown): string {
  if (typeof raw !== "string") throw new SettingValueError(`is a ${typeof raw}, not a hex string`);
  const hex = raw.trim().replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]*$/.test(hex)) throw new SettingValueError("holds characters that are not hex digits");
  if (hex.length !== 64) throw new SettingValueError(`has ${hex.length} hex digits, not 64 (32 bytes)`);
  const k = BigInt("0x" + hex);
  if (k === 0n || k >= SECP256K1_N)
    throw new SettingValueError("is not a valid secp256k1 private key (zero or too large)");
  return "0x" + hex.toLowerCase();
}

/** A 20-byte address: all lower case, all upper case, or with a correct EIP-55 checksum; returned checksummed. */
export function parseAddress(raw: unknown): string {
  if (typeof raw !== "string") throw new SettingValueError(`is a ${typeof raw}, not an address`);
  const s = raw.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(s)) throw new SettingValueError(`${show(raw)} is not 0x and 40 hex digits`);
  try {
    return getAddress(s);
  } catch {
    throw new SettingValueError(`${show(raw)} has a wrong EIP-55 checksum (mixed case that does not match)`);
  }
}

/** An http:// or https:// URL; returned as written (trimmed). */
export function parseHttpUrl(raw: unknown): string {
  if (typeof raw !== "string") throw new SettingValueError(`is a ${typeof raw}, not a URL`);
  const s = raw.trim();
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new SettingValueError(`${show(raw)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SettingValueError(`${show(raw)} is a ${url.protocol.replace(/:$/, "")} URL, not http or https`);
  }
  if (!url.hostname) throw new SettingValueError(`${show(raw)} has no host`);
  return s;
}

/** A list of http(s) URLs: a JSON array, or a comma-separated string (the environment's form). */
export function parseHttpUrlList(raw: unknown): string[] {
  const items =
    typeof raw === "string"
      ? raw
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "")
      : raw;
  if (!Array.isArray(items)) throw new SettingValueError(`is a ${typeof raw}, not a list of URLs`);
  return items.map((item, i) => {
    try {
      return parseHttpUrl(item);
    } catch (e) {
      throw new SettingValueError(`item ${i + 1}: ${(e as Error).message}`);
    }
  });
}

/** A whole number in [min, max], from a JSON number or a decimal string. */
export function parseInteger(raw: unknown, min: number, max: number): number {
  let n: number;
  if (typeof raw === "number") n = raw;
  else if (typeof raw === "string" && /^\s*\d+\s*$/.test(raw)) n = Number(raw);
  else throw new SettingValueError(`${show(raw)} is not a whole number`);
  if (!Number.isSafeInteger(n)) throw new SettingValueError(`${show(raw)} is not a whole number`);
  if (n < min || n > max) throw new SettingValueError(`${n} is not in ${min}..${max}`);
  return n;
}

/** A TCP port, 1..65535. */
export function parsePort(raw: unknown): number {
  return parseInteger(raw, 1, 65_535);
}

/** An EVM chain id: a positive whole number. */
export function parseChainId(raw: unknown): number {
  return parseInteger(raw, 1, Number.MAX_SAFE_INTEGER);
}

/** A positive decimal number (JSON number or string). */
export function parsePositiveNumber(raw: unknown): number {
  const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new SettingValueError(`${show(raw)} is not a positive number`);
  return n;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration written with units: "500ms", "30s", "15m", "1h30m", "14d"; returned in milliseconds.
 * Bare numbers are refused (seconds or milliseconds? the unit must be written).
 */
export function parseDuration(raw: unknown): number {
  if (typeof raw !== "string") {
    throw new SettingValueError(`${show(raw)} has no unit; write it as a string like "30s", "15m" or "1h"`);
  }
  const s = raw.trim();
  if (!/^(\d+(ms|s|m|h|d))+$/.test(s)) {
    throw new SettingValueError(`${show(raw)} is not a duration like "500ms", "30s", "15m", "1h30m" or "1d"`);
  }
  let ms = 0;
  for (const [, n, unit] of s.matchAll(/(\d+)(ms|s|m|h|d)/g)) ms += Number(n) * UNIT_MS[unit];
  if (ms <= 0) throw new SettingValueError(`${show(raw)} is not longer than zero`);
  if (!Number.isSafeInteger(ms)) throw new SettingValueError(`${show(raw)} is too long`);
  return ms;
}

/** A non-empty string (a path, a host name). */
export function parseNonEmptyString(raw: unknown): string {
  if (typeof raw !== "string" || raw.trim() === "")
    throw new SettingValueError(`${show(raw)} is not a non-empty string`);
  return raw.trim();
}

/** One of `choices` (exactly as written there). */
export function parseChoice<T extends string>(raw: unknown, choices: readonly T[]): T {
  const s = typeof raw === "string" ? raw.trim() : raw;
  if (typeof s !== "string" || !(choices as readonly string[]).includes(s)) {
    throw new SettingValueError(`${show(raw)} is not one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`);
  }
  return s as T;
}
