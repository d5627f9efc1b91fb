/**
 * The money walk's constants: tokens, holders, plans and the contracts' fixed figures.
 */
import { ethers } from "hardhat";

import { H100_MULTIPLIER_BPS, RTX_MULTIPLIER_BPS, SIGNER_NAMES } from "../../fixtures";

export const TOKENS = ["usd", "kai", "busd"] as const;
export type TokenKey = (typeof TOKENS)[number];
/** Index of each token in the escrow's allow-list (the order `setupWorld` lists them in). */
export const TOKEN_INDEX: Record<TokenKey, number> = { usd: 0, kai: 1, busd: 2 };

export const HOLDERS = [...SIGNER_NAMES, "escrow", "registry"] as const;
export type Holder = (typeof HOLDERS)[number];
export const PROVIDERS = ["provider", "provider2"] as const;
export const RENTERS = ["renter", "renter2"] as const;
export const STRANGERS = ["keeper", "other"] as const;

export const GPU_CLASS_MULTIPLIER = [H100_MULTIPLIER_BPS, RTX_MULTIPLIER_BPS];
export const BPS = 10_000n;
export const HOUR = 3_600n;
export const DAY = 86_400n;
export const UNBONDING_PERIOD = 14n * DAY;
export const REWARD_POOL_SHARE_BPS = 5_000n;
export const SLA_TIER_COUNT = 3n;
/** Where every sequence starts (Unix seconds): a fixed time makes runs replay block for block. */
export const WALK_START = 2_000_000_000n;

export const Status = { None: 0, Active: 1, Grace: 2, Closed: 3 } as const;
export const NodeStatusN = { None: 0, Active: 1, Paused: 2, Jailed: 3, Retired: 4 } as const;
export const ROLE = {
  SLASHER: ethers.id("SLASHER_ROLE"),
  ORACLE: ethers.id("ORACLE_ROLE"),
};
