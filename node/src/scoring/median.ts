/**
 * Medians that every machine computes the same way: on integers, the mean of the two middle values
 * rounded down for an even count (so the median of integers is an integer).
 */

/** The median of `values` (not empty), rounded down to an integer. */
export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) throw new RangeError("median of no values");
  if (n === 1) return Math.floor(values[0]);
  const sorted = Float64Array.from(values).sort();
  const mid = n >> 1;
  return n % 2 === 1 ? Math.floor(sorted[mid]) : Math.floor((sorted[mid - 1] + sorted[mid]) / 2);
}

/** Whether strictly more than half of `flags` are true (ties are false). */
export function majority(flags: ArrayLike<boolean>): boolean {
  let yes = 0;
  for (let i = 0; i < flags.length; i++) if (flags[i]) yes++;
  return yes * 2 > flags.length;
}
