/**
 * Parsers of setting values, as zod schemas. Each takes what the file or the environment holds
 * (`unknown`: JSON values from the file, strings from the environment) and gives the value, or a
 * `SettingValueError` whose message says what is wrong with it (never the value of a secret).
 * `parseX(raw)` runs the schema `xSchema` on `raw` (`parseWith`).
 */
import { getAddress, isAddress } from "ethers";
import { z } from "zod";

/** A value that does not parse; `reason` completes "<setting>: ...". */
export class SettingValueError extends Error {
  override name = "SettingValueError";
}

/** Stands for the value as written (quoted when a string) in the schemas' messages. */
const VALUE = "{value}";

const show = (raw: unknown) => (typeof raw === "string" ? JSON.stringify(raw) : String(raw));

/** A check's message, stopping at the first failed check (the later ones assume it passed). */
const stop = (error: string | ((issue: { input?: unknown }) => string)) => ({ error, abort: true });

/**
 * The value `schema` makes of `raw`, or a SettingValueError with the first problem zod found ("item N: "
 * before it for an item of a list).
 */
export function parseWith<T>(schema: z.ZodType<T>, raw: unknown): T {
  const result = schema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const item = typeof issue.path[0] === "number" ? `item ${issue.path[0] + 1}: ` : "";
  // The value as written: the whole of it, or the item of the list.
  const value = show(item ? issue.input : raw);
  throw new SettingValueError(item + issue.message.replaceAll(VALUE, value));
}

/**
 * A schema of a parser written as a function (one that throws a SettingValueError), for values whose
 * checks refer to each other (src/config/nodes.ts).
 */
export function parserSchema<T>(parse: (raw: unknown) => T) {
  return z.unknown().transform((raw, ctx) => {
    try {
      return parse(raw);
    } catch (e) {
      if (!(e instanceof SettingValueError)) throw e;
      ctx.issues.push({ code: "custom", message: e.message, input: raw });
      return z.NEVER;
    }
  });
}

/** A string, or "is a <type>, not <what>". */
const text = (what: string) => z.string({ error: (issue) => `is a ${typeof issue.input}, not ${what}` });

/** secp256k1's group order: a private key is in [1, N). */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** A 32-byte private key as 0x and 64 hex digits (the 0x may be omitted); returned lower case with 0x. */
export const privateKeySchema = text("a hex string")
  .transform((s) => s.trim().replace(/^0x/i, ""))
  .pipe(
    z
      .string()
      .regex(/^[0-9a-fA-F]*$/, stop("holds characters that are not hex digits"))
      .length(
        64,
        stop((issue) => `has ${String(issue.input).length} hex digits, not 64 (32 bytes)`),
      )
      .refine((hex) => {
        const k = BigInt("0x" + hex);
        return k !== 0n && k < SECP256K1_N;
      }, "is not a valid secp256k1 private key (zero or too large)"),
  )
  .transform((hex) => "0x" + hex.toLowerCase());
export const parsePrivateKey = (raw: unknown): string => parseWith(privateKeySchema, raw);

/** A 20-byte address: all lower case, all upper case, or with a correct EIP-55 checksum; returned checksummed. */
export const addressSchema = text("an address")
  .refine((s) => /^0x[0-9a-fA-F]{40}$/.test(s.trim()), stop(`${VALUE} is not 0x and 40 hex digits`))
  .refine((s) => isAddress(s.trim()), `${VALUE} has a wrong EIP-55 checksum (mixed case that does not match)`)
  .transform((s) => getAddress(s.trim()));
export const parseAddress = (raw: unknown): string => parseWith(addressSchema, raw);

/** The URL `s` (trimmed) parses to, if any. */
const urlOf = (s: string): URL | null => (URL.canParse(s.trim()) ? new URL(s.trim()) : null);

/** An http:// or https:// URL; returned as written (trimmed). */
export const httpUrlSchema = text("a URL")
  .refine((s) => urlOf(s) !== null, stop(`${VALUE} is not a URL`))
  .refine(
    (s) => ["http:", "https:"].includes(urlOf(s)!.protocol),
    stop((issue) => `${VALUE} is a ${urlOf(String(issue.input))!.protocol.replace(/:$/, "")} URL, not http or https`),
  )
  .refine((s) => urlOf(s)!.hostname !== "", `${VALUE} has no host`)
  .transform((s) => s.trim());
export const parseHttpUrl = (raw: unknown): string => parseWith(httpUrlSchema, raw);

/** A list of http(s) URLs: a JSON array, or a comma-separated string (the environment's form). */
export const httpUrlListSchema = z.preprocess(
  (raw) =>
    typeof raw === "string"
      ? raw
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "")
      : raw,
  z.array(httpUrlSchema, { error: (issue) => `is a ${typeof issue.input}, not a list of URLs` }),
);
export const parseHttpUrlList = (raw: unknown): string[] => parseWith(httpUrlListSchema, raw);

/** A whole number in [min, max], from a JSON number or a decimal string. */
export function integerSchema(min: number, max: number) {
  const range = stop((issue) => `${String(issue.input)} is not in ${min}..${max}`);
  return z.preprocess(
    (raw) => (typeof raw === "string" && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw),
    z
      .int({ error: `${VALUE} is not a whole number` })
      .min(min, range)
      .max(max, range),
  );
}
export const parseInteger = (raw: unknown, min: number, max: number): number => parseWith(integerSchema(min, max), raw);

/** A TCP port, 1..65535. */
export const portSchema = integerSchema(1, 65_535);
export const parsePort = (raw: unknown): number => parseWith(portSchema, raw);

/** An EVM chain id: a positive whole number. */
export const chainIdSchema = integerSchema(1, Number.MAX_SAFE_INTEGER);
export const parseChainId = (raw: unknown): number => parseWith(chainIdSchema, raw);

/** A positive decimal number (JSON number or string). */
export const positiveNumberSchema = z.preprocess(
  (raw) => (typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw),
  z.number({ error: `${VALUE} is not a positive number` }).positive(`${VALUE} is not a positive number`),
);
export const parsePositiveNumber = (raw: unknown): number => parseWith(positiveNumberSchema, raw);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration written with units: "500ms", "30s", "15m", "1h30m", "14d"; returned in milliseconds.
 * Bare numbers are refused (seconds or milliseconds? the unit must be written).
 */
export const durationSchema = z
  .string({ error: `${VALUE} has no unit; write it as a string like "30s", "15m" or "1h"` })
  .trim()
  .regex(/^(\d+(ms|s|m|h|d))+$/, stop(`${VALUE} is not a duration like "500ms", "30s", "15m", "1h30m" or "1d"`))
  .transform((s) =>
    [...s.matchAll(/(\d+)(ms|s|m|h|d)/g)].reduce((ms, [, n, unit]) => ms + Number(n) * UNIT_MS[unit], 0),
  )
  .pipe(
    z
      .number()
      .positive(stop(`${VALUE} is not longer than zero`))
      .refine(Number.isSafeInteger, `${VALUE} is too long`),
  );
export const parseDuration = (raw: unknown): number => parseWith(durationSchema, raw);

/** A non-empty string (a path, a host name). */
export const nonEmptyStringSchema = z
  .string({ error: `${VALUE} is not a non-empty string` })
  .trim()
  .min(1, `${VALUE} is not a non-empty string`);
export const parseNonEmptyString = (raw: unknown): string => parseWith(nonEmptyStringSchema, raw);

/** One of `choices` (exactly as written there). */
export function choiceSchema<const T extends string>(choices: readonly T[]) {
  return z.preprocess(
    (raw) => (typeof raw === "string" ? raw.trim() : raw),
    z.enum(choices as readonly [T, ...T[]], {
      error: `${VALUE} is not one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`,
    }),
  );
}
export const parseChoice = <T extends string>(raw: unknown, choices: readonly T[]): T =>
  parseWith(choiceSchema(choices), raw) as T;
