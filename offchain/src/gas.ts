/**
 * The gas limit every Kaisar program sends with, from an `eth_estimateGas` answer.
 *
 * An estimate is exact for the block it was simulated in. The block that includes the transaction
 * can be later (another second, another epoch) and take a dearer path through the same function:
 * ending a rental pays the provider once any time has elapsed, a report's first leaf of an epoch
 * writes a fresh slot. A transaction sent with the bare estimate then runs out of gas and reverts
 * without a reason. The headroom below covers one such path (a fresh storage slot and a transfer);
 * it costs nothing, as only the gas used is paid.
 */
export const GAS_HEADROOM_BPS = 12_000n;
export const GAS_HEADROOM_FIXED = 30_000n;

/** The gas limit for a transaction whose estimate is `estimate`. */
export function gasLimitFor(estimate: bigint): bigint {
  return (estimate * GAS_HEADROOM_BPS) / 10_000n + GAS_HEADROOM_FIXED;
}
