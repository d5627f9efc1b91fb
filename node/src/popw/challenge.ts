/**
 * The PoPW compute challenge, as it travels between a checker and a provider agent (JSON over HTTP).
 *
 * The checker sends `{ seed, n }`. The agent derives A (stream 0) and B (stream 1) from the seed,
 * multiplies them with its fastest kernel and returns C in full, as base64 of n^2 little-endian
 * uint32 (every entry of C is an integer below n * 255^2 < 2^32, so this is exact and half the size
 * of float64). The checker derives A and B itself (O(n^2)), decodes C and runs Freivalds with its own
 * unpredictable vectors: it never multiplies. The agent's `elapsedMs` is informative; the hardware
 * score uses the time the checker measured around the whole exchange, which the agent cannot forge.
 */
import { endianness } from "os";

import { freivaldsVerify } from "./freivalds";
import type { MatmulKernel } from "./kernel";
import { checkSize, maxProductEntry, seededMatrix } from "./matrix";
import { cryptoRng, randomSeed, seedHex, type Rng } from "./prng";

export interface Challenge {
  /** 128-bit seed, 0x and 32 hex digits. */
  seed: string;
  /** Matrix size. */
  n: number;
}

export interface ChallengeAnswer {
  seed: string;
  n: number;
  /** C = A * B: base64 of n^2 little-endian uint32, row-major. */
  c: string;
  /** Milliseconds the agent spent multiplying (self-reported). */
  elapsedMs: number;
  /** Kernel that computed C. */
  kernel: string;
}

export type ChallengeVerdict = { ok: true } | { ok: false; reason: string };

/** A fresh challenge of size n with an unpredictable seed. */
export function newChallenge(n: number): Challenge {
  checkSize(n);
  return { seed: randomSeed(), n };
}

/** The two matrices of a challenge. */
export function challengeMatrices(ch: Challenge): { a: Float64Array; b: Float64Array } {
  checkSize(ch.n);
  return { a: seededMatrix(ch.seed, ch.n, 0), b: seededMatrix(ch.seed, ch.n, 1) };
}

/** What the agent does: multiply the challenge's matrices with `kernel` and time it. */
export function solveChallenge(ch: Challenge, kernel: MatmulKernel): ChallengeAnswer {
  const { a, b } = challengeMatrices(ch);
  const start = performance.now();
  const c = kernel.multiply(a, b, ch.n);
  const elapsedMs = performance.now() - start;
  return { seed: seedHex(ch.seed), n: ch.n, c: encodeProduct(c, ch.n), elapsedMs, kernel: kernel.name };
}

/** Typed arrays use the platform's byte order; every platform Node supports today is little-endian. */
const LITTLE_ENDIAN = endianness() === "LE";

/** C as base64 of little-endian uint32; throws if an entry is not an integer in [0, n * 255^2]. */
export function encodeProduct(c: Float64Array, n: number): string {
  const max = maxProductEntry(n);
  const words = new Uint32Array(c.length);
  for (let i = 0; i < c.length; i++) {
    const v = c[i];
    if (!(v >= 0 && v <= max) || Math.floor(v) !== v) {
      throw new RangeError(`entry ${i} of C is ${v}, not an integer in 0..${max}: the kernel is wrong`);
    }
    words[i] = v;
  }
  const buf = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
  if (!LITTLE_ENDIAN) buf.swap32();
  return buf.toString("base64");
}

/** Decodes C, or returns null if it does not hold exactly n^2 entries. */
export function decodeProduct(b64: string, n: number): Float64Array | null {
  const buf = Buffer.from(b64, "base64");
  if (buf.length !== n * n * 4) return null;
  const c = new Float64Array(n * n);
  if (LITTLE_ENDIAN && buf.byteOffset % 4 === 0) {
    c.set(new Uint32Array(buf.buffer, buf.byteOffset, n * n));
  } else {
    for (let i = 0; i < c.length; i++) c[i] = buf.readUInt32LE(i * 4);
  }
  return c;
}

/**
 * What the checker does with an answer: check that it answers this challenge, then Freivalds with
 * `rounds` rounds (default 10: a wrong C passes with probability at most 2^-10) of vectors from `rng`
 * (default: the OS's randomness).
 */
export function verifyAnswer(
  ch: Challenge,
  answer: ChallengeAnswer,
  rounds = 10,
  rng: Rng = cryptoRng(),
): ChallengeVerdict {
  if (answer.n !== ch.n) return { ok: false, reason: `answer is for n = ${answer.n}, not ${ch.n}` };
  if (typeof answer.seed !== "string" || seedHex(ch.seed) !== safeSeedHex(answer.seed)) {
    return { ok: false, reason: `answer is for seed ${String(answer.seed)}, not ${seedHex(ch.seed)}` };
  }
  if (typeof answer.c !== "string") return { ok: false, reason: "answer has no product" };
  const c = decodeProduct(answer.c, ch.n);
  if (!c) return { ok: false, reason: `product does not hold ${ch.n} x ${ch.n} entries` };
  const { a, b } = challengeMatrices(ch);
  return freivaldsVerify(a, b, c, ch.n, rounds, rng) ? { ok: true } : { ok: false, reason: "product is wrong" };
}

function safeSeedHex(seed: string): string | null {
  try {
    return seedHex(seed);
  } catch {
    return null;
  }
}
