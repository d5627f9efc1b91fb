/**
 * A seeded PRNG that every machine runs the same way: xoshiro128** (Blackman and Vigna) over 32-bit
 * integers, with `Math.imul` and unsigned shifts only, so no floating point and no platform word size
 * takes part. PoPW challenges derive their matrices from it; the checker's Freivalds vectors take
 * `cryptoRng()` instead (the agent must not be able to predict them).
 */
import { randomBytes } from "crypto";

/** A source of uniformly random unsigned 32-bit integers. */
export interface Rng {
  nextU32(): number;
}

/** Largest seed: 128 bits, the state size of xoshiro128**. */
export const MAX_SEED = (1n << 128n) - 1n;

/** murmur3's 32-bit finaliser: spreads every input bit over the word (a bijection, fmix32(0) = 0). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Parses a seed: a bigint or a safe integer in [0, 2^128), or a 0x-prefixed hex string of at most 32 digits. */
export function parseSeed(seed: bigint | number | string): bigint {
  let value: bigint;
  if (typeof seed === "bigint") value = seed;
  else if (typeof seed === "number") {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed ${seed} is not a safe integer`);
    value = BigInt(seed);
  } else {
    if (!/^0x[0-9a-fA-F]{1,32}$/.test(seed)) throw new RangeError(`seed "${seed}" is not 0x and 1 to 32 hex digits`);
    value = BigInt(seed);
  }
  if (value < 0n || value > MAX_SEED) throw new RangeError(`seed ${value} is outside [0, 2^128)`);
  return value;
}

/** The seed as the canonical 0x-prefixed 32-digit hex string challenges carry. */
export function seedHex(seed: bigint | number | string): string {
  return "0x" + parseSeed(seed).toString(16).padStart(32, "0");
}

/** xoshiro128**: period 2^128 - 1, passes BigCrush; plenty for challenge matrices. */
export class Xoshiro128ss implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * `stream` separates independent sequences of one seed (the two matrices of a challenge). Each
   * 32-bit limb of the seed is mixed with its own constant, so seeds that differ in one bit start in
   * unrelated states.
   */
  constructor(seed: bigint | number | string, stream = 0) {
    if (!Number.isInteger(stream) || stream < 0 || stream > 0xffff)
      throw new RangeError(`stream ${stream} not in 0..65535`);
    const value = parseSeed(seed);
    const limb = (i: number) => Number((value >> BigInt(32 * i)) & 0xffffffffn);
    const salt = (i: number) => Math.imul(0x9e3779b9, i + 1 + 4 * stream);
    this.s0 = fmix32((limb(0) ^ salt(0)) >>> 0);
    this.s1 = fmix32((limb(1) ^ salt(1)) >>> 0);
    this.s2 = fmix32((limb(2) ^ salt(2)) >>> 0);
    this.s3 = fmix32((limb(3) ^ salt(3)) >>> 0);
    // The all-zero state is the one state xoshiro never leaves.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator in the raw state `s` (four 32-bit words, not all zero): for reference test vectors. */
  static fromState(s: readonly [number, number, number, number]): Xoshiro128ss {
    if ((s[0] | s[1] | s[2] | s[3]) === 0) throw new RangeError("the all-zero state is not allowed");
    const g = new Xoshiro128ss(0);
    [g.s0, g.s1, g.s2, g.s3] = [s[0] | 0, s[1] | 0, s[2] | 0, s[3] | 0];
    return g;
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** `new Xoshiro128ss(seed, stream)`. */
export function createRng(seed: bigint | number | string, stream = 0): Rng {
  return new Xoshiro128ss(seed, stream);
}

/** Unpredictable randomness from the OS (for the checker's Freivalds vectors and challenge seeds). */
export function cryptoRng(): Rng {
  let buf = randomBytes(4096);
  let at = 0;
  return {
    nextU32() {
      if (at + 4 > buf.length) {
        buf = randomBytes(4096);
        at = 0;
      }
      const v = buf.readUInt32LE(at);
      at += 4;
      return v;
    },
  };
}

/** A fresh random challenge seed (128 bits, hex). */
export function randomSeed(): string {
  return "0x" + randomBytes(16).toString("hex");
}
