/**
 * Freivalds' algorithm: checks C = A * B in O(rounds * n^2) instead of O(n^3). Each round draws a
 * random vector r and compares A * (B * r) with C * r exactly.
 *
 * With 0/1 vectors a wrong C passes one round with probability at most 1/2, so `rounds` rounds miss
 * with probability at most 2^-rounds. With entries drawn from [0, 2^entryBits) one round misses with
 * probability at most 2^-entryBits (Schwartz-Zippel: for a non-zero row d of A*B - C, d . r = 0 holds
 * for at most one value of any coordinate of r where d is non-zero), which buys the same bound for
 * about 1/entryBits of the work.
 *
 * Cost with 0/1 vectors, 10 rounds: the rounds are checked together. B * r_k and C * r_k for all ten
 * come from one pass over B and C (each entry added to two of 64 bins keyed by its column's bits, a
 * "four Russians" table), and A * (B * r_k) is computed five rounds per pass over A: about 14 n^2
 * operations in all, against 20 n^2 round by round and n^3 for the product itself.
 *
 * Exactness: A and B must be challenge matrices (integer entries in 0..MAX_ENTRY). C is checked to
 * hold integers in [0, n * MAX_ENTRY^2] (anything else cannot be the product, and could make float
 * sums round), so every sum below stays an integer under 2^53 and `===` compares exact values.
 */
import { checkMatrix } from "./kernel";
import { MAX_ENTRY, checkSize, maxProductEntry } from "./matrix";
import type { Rng } from "./prng";

export interface FreivaldsOptions {
  /** Bits per entry of the random vectors: 1 (the classic 0/1 vectors, default) to 10. */
  entryBits?: number;
}

/** Upper bound on the probability that a wrong product passes `rounds` rounds. */
export function freivaldsMissBound(rounds: number, entryBits = 1): number {
  return 2 ** -(rounds * entryBits);
}

/** Largest `entryBits` that keeps A * (B * r) exact for size n (at most 10). */
export function maxEntryBits(n: number): number {
  let bits = 10;
  while (bits > 1 && n * n * MAX_ENTRY * MAX_ENTRY * (2 ** bits - 1) > Number.MAX_SAFE_INTEGER) bits--;
  return bits;
}

/**
 * Whether C = A * B, by `rounds` rounds of Freivalds with vectors from `rng`. Never rejects a correct
 * product; accepts a wrong one with probability at most `freivaldsMissBound(rounds, entryBits)`. The
 * rng must be unpredictable to whoever computed C (a checker uses `cryptoRng()`).
 */
export function freivaldsVerify(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  n: number,
  rounds: number,
  rng: Rng,
  options: FreivaldsOptions = {},
): boolean {
  checkSize(n);
  checkMatrix("A", a, n);
  checkMatrix("B", b, n);
  checkMatrix("C", c, n);
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds = ${rounds} is not a positive integer`);
  const entryBits = options.entryBits ?? 1;
  if (!Number.isInteger(entryBits) || entryBits < 1 || entryBits > maxEntryBits(n)) {
    throw new RangeError(`entryBits = ${entryBits} is not an integer in 1..${maxEntryBits(n)} for n = ${n}`);
  }
  if (!inProductRange(c, n)) return false;

  if (entryBits === 1) {
    // 0/1 vectors, up to BATCH rounds at a time (see `batchedBinaryProduct`).
    for (let done = 0; done < rounds; done += BATCH) {
      if (!binaryBatch(a, b, c, n, Math.min(BATCH, rounds - done), rng)) return false;
    }
    return true;
  }
  const y = new Float64Array(n); // B * r
  const z = new Float64Array(n); // C * r
  const r = new Float64Array(n);
  for (let round = 0; round < rounds; round++) {
    drawEntries(rng, n, entryBits, r);
    denseProduct(b, n, r, y);
    denseProduct(c, n, r, z);
    // Compare A * y with z row by row; stop at the first difference.
    for (let i = 0; i < n; i++) {
      const row = i * n;
      let s = 0;
      for (let k = 0; k < n; k++) s += a[row + k] * y[k];
      if (s !== z[i]) return false;
    }
  }
  return true;
}

/** Rounds of 0/1 vectors checked together: two groups of GROUP bits. */
const GROUP = 5;
const BATCH = 2 * GROUP;

/**
 * `rounds` (at most BATCH) rounds of 0/1 vectors at once. Column j of the vectors is a `rounds`-bit
 * mask; M * r_k for every k comes from one pass over M: per row, each entry is added to the bin of
 * its column's mask in each group of GROUP bits (2 additions per entry instead of `rounds` / 2 on
 * average), then M * r_k is the sum of the bins whose mask has bit k. A * (B * r_k) is a dense
 * product per round, compared exactly with C * r_k.
 */
function binaryBatch(a: Float64Array, b: Float64Array, c: Float64Array, n: number, rounds: number, rng: Rng): boolean {
  const groups = Math.ceil(rounds / GROUP);
  const bin = new Int32Array(n * groups); // bin of column j in group g: g * 32 + the group's mask bits
  for (let j = 0; j < n; j++) {
    const mask = rng.nextU32() & ((1 << rounds) - 1);
    for (let g = 0; g < groups; g++) bin[j * groups + g] = (g << GROUP) + ((mask >>> (g * GROUP)) & ((1 << GROUP) - 1));
  }
  const y = batchedBinaryProduct(b, n, bin, groups, rounds); // y[k * n + i] = (B * r_k)_i
  const z = batchedBinaryProduct(c, n, bin, groups, rounds);
  // Five rounds per pass over each row of A: one load of A for five products (a third faster than
  // one at a time). A batch of fewer rounds repeats its first one in the spare slots.
  for (let k = 0; k < rounds; k += GROUP) {
    const o0 = k * n;
    const o = (t: number) => (k + t < rounds ? o0 + t * n : o0);
    const [o1, o2, o3, o4] = [o(1), o(2), o(3), o(4)];
    for (let i = 0; i < n; i++) {
      const row = i * n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let s4 = 0;
      for (let j = 0; j < n; j++) {
        const x = a[row + j];
        s0 += x * y[o0 + j];
        s1 += x * y[o1 + j];
        s2 += x * y[o2 + j];
        s3 += x * y[o3 + j];
        s4 += x * y[o4 + j];
      }
      if (s0 !== z[o0 + i] || s1 !== z[o1 + i] || s2 !== z[o2 + i] || s3 !== z[o3 + i] || s4 !== z[o4 + i])
        return false;
    }
  }
  return true;
}

/** SUBSETS[bit * 16 + t]: the t-th of the 16 bin values (of 0..31) that have `bit` set. */
const SUBSETS = (() => {
  const out = new Int32Array(GROUP << (GROUP - 1));
  for (let bit = 0; bit < GROUP; bit++) {
    let t = 0;
    for (let v = 0; v < 1 << GROUP; v++) if (v & (1 << bit)) out[(bit << (GROUP - 1)) + t++] = v;
  }
  return out;
})();

/** out[k * n + i] = (M * r_k)_i for the 0/1 vectors r_k given by the columns' bins. */
function batchedBinaryProduct(
  mat: Float64Array,
  n: number,
  bin: Int32Array,
  groups: number,
  rounds: number,
): Float64Array {
  const out = new Float64Array(rounds * n);
  const bins = new Float64Array(groups << GROUP);
  const half = 1 << (GROUP - 1);
  for (let i = 0; i < n; i++) {
    bins.fill(0);
    const row = i * n;
    if (groups === 2) {
      for (let j = 0; j < n; j++) {
        const x = mat[row + j];
        bins[bin[2 * j]] += x;
        bins[bin[2 * j + 1]] += x;
      }
    } else {
      for (let j = 0; j < n; j++) bins[bin[j]] += mat[row + j];
    }
    for (let k = 0; k < rounds; k++) {
      const g = (k / GROUP) | 0;
      const base = g << GROUP;
      const list = (k - g * GROUP) * half;
      let s = 0;
      for (let t = 0; t < half; t++) s += bins[base + SUBSETS[list + t]];
      out[k * n + i] = s;
    }
  }
  return out;
}

/** Whether every entry of C is an integer in [0, n * MAX_ENTRY^2]. */
function inProductRange(c: Float64Array, n: number): boolean {
  const max = maxProductEntry(n);
  for (let i = 0; i < c.length; i++) {
    const v = c[i];
    // `v !== v` catches NaN; `Math.floor(v) !== v` catches fractions and infinities.
    if (!(v >= 0 && v <= max) || Math.floor(v) !== v) return false;
  }
  return true;
}

/** Draws a vector of n entries in [0, 2^entryBits). */
function drawEntries(rng: Rng, n: number, entryBits: number, r: Float64Array): void {
  const mask = 2 ** entryBits - 1;
  for (let j = 0; j < n; j++) r[j] = rng.nextU32() & mask;
}

/** out = M * r. */
function denseProduct(mat: Float64Array, n: number, r: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += mat[row + j] * r[j];
    out[i] = s;
  }
}
