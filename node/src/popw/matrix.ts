/**
 * Challenge matrices: n x n, row-major in a Float64Array, with integer entries in 0..255 drawn from
 * the seeded PRNG. With such entries every product entry is at most n * 255^2 and every partial sum
 * stays an integer below 2^53, so float64 arithmetic is exact, on a CPU or a GPU, for any n up to
 * `MAX_N` and in any summation order.
 */
import { createRng } from "./prng";

/** Largest entry of a challenge matrix. */
export const MAX_ENTRY = 255;
/** Largest challenge size: 4096 x 4096 float64 is 128 MiB per matrix. */
export const MAX_N = 4096;

/** Throws unless `n` is an integer in [1, MAX_N]. */
export function checkSize(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_N)
    throw new RangeError(`matrix size n = ${n} is not an integer in 1..${MAX_N}`);
}

/** Largest entry of the product of two challenge matrices of size n. */
export function maxProductEntry(n: number): number {
  return n * MAX_ENTRY * MAX_ENTRY;
}

/**
 * The n x n matrix of `seed` (and `stream`, which separates the matrices of one seed): each 32-bit
 * output of the PRNG gives four entries, least significant byte first, row by row.
 */
export function seededMatrix(seed: bigint | number | string, n: number, stream = 0): Float64Array {
  checkSize(n);
  const rng = createRng(seed, stream);
  const size = n * n;
  const m = new Float64Array(size);
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    const v = rng.nextU32();
    m[i] = v & 0xff;
    m[i + 1] = (v >>> 8) & 0xff;
    m[i + 2] = (v >>> 16) & 0xff;
    m[i + 3] = v >>> 24;
  }
  if (i < size) {
    let v = rng.nextU32();
    for (; i < size; i++, v >>>= 8) m[i] = v & 0xff;
  }
  return m;
}
