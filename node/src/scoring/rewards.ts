/**
 * Reward arithmetic in bigint: the epoch budget split into pools, each pool shared pro rata to
 * points, every share rounded down. What rounding leaves is not spent, so the rewards of an epoch
 * never add up to more than its budget (the RewardDistributor refuses claims above it anyway).
 */

/** 10_000 bps = 100%. */
export const BPS = 10_000n;

export interface PoolShares {
  capacityBps: number;
  deliveryBps: number;
  checkerBps: number;
}

export interface Pools {
  capacity: bigint;
  delivery: bigint;
  checker: bigint;
}

/** Throws unless each share is an integer in 0..10_000 and they add up to at most 10_000. */
export function checkPoolShares(shares: PoolShares): void {
  for (const [name, bps] of Object.entries(shares)) {
    if (!Number.isInteger(bps) || bps < 0 || bps > 10_000)
      throw new RangeError(`pool share ${name} = ${bps} not in 0..10000 bps`);
  }
  const sum = shares.capacityBps + shares.deliveryBps + shares.checkerBps;
  if (sum > 10_000) throw new RangeError(`pool shares add up to ${sum} bps, more than 10000`);
}

/** The budget's pools: budget * share / 10_000 each, rounded down. */
export function splitBudget(budget: bigint, shares: PoolShares): Pools {
  if (budget < 0n) throw new RangeError(`budget ${budget} is negative`);
  checkPoolShares(shares);
  return {
    capacity: (budget * BigInt(shares.capacityBps)) / BPS,
    delivery: (budget * BigInt(shares.deliveryBps)) / BPS,
    checker: (budget * BigInt(shares.checkerBps)) / BPS,
  };
}

/** `pool` shared pro rata to `points`: pool * points[i] / sum(points), rounded down (all 0 if no points). */
export function proRata(pool: bigint, points: readonly bigint[]): bigint[] {
  if (pool < 0n) throw new RangeError(`pool ${pool} is negative`);
  let total = 0n;
  for (const p of points) {
    if (p < 0n) throw new RangeError(`points ${p} are negative`);
    total += p;
  }
  if (total === 0n) return points.map(() => 0n);
  return points.map((p) => (pool * p) / total);
}
