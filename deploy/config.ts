/**
 * Per-network deployment parameters: `deploy/parameters/<network>.json`, validated here so that a
 * missing or malformed value stops the deployment with a message naming it and how to fix it.
 *
 * Address fields take one of:
 *  - a 0x address;
 *  - "account:N": the N-th account of the network (local chains only);
 *  - "env:NAME": read from the environment variable NAME (for governance addresses on agung/peaq).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { formatUnits, isAddress, parseUnits } from "ethers";

export type AddressRef = string;

export interface GpuClassParam {
  name: string;
  multiplierBps: number;
}

export interface KaisarParameters {
  /** Seconds a scheduled governance action waits in the timelock. */
  timelockMinDelay: number;
  /** Proposes and executes timelock operations (a multisig on agung/peaq). */
  governance: AddressRef;
  /** May pause new rentals, stakes and deposits; never withdrawals. */
  guardian: AddressRef;
  /** Receives the KAI supply and the treasury's share of protocol fees. */
  treasury: AddressRef;
  /** Receives the reward pools' share of protocol fees. */
  rewardPool: AddressRef;
  /** KAI staked per GPU at multiplier 1x, in whole KAI (decimal string). */
  baseStakePerGpuKai: string;
  /**
   * Unbonding period of stake, seconds; also the checker licenses' departure cooldown. Must cover the
   * SlaEnforcer's slash latency, `(SLA_DOWNTIME_EPOCHS + 1) x epochLengthSeconds + slashWindowSeconds`:
   * stake requested for withdrawal when a provider starts to misbehave stays slashable until the last
   * moment a slash for it can land (issue #15, attack 1). Both this check and the contracts refuse less.
   * peaq and agung: 45 days = 3 x 14 days (the downtime slash needs 2 whole epochs, and the
   * misbehaviour may start just after an epoch began) + the 3-day reporting window.
   */
  unbondingPeriodSeconds: number;
  /**
   * SlaEnforcer's reporting deadline: evidence of epoch e slashes only until the end of e plus this
   * many seconds (60 s to 30 days). peaq/agung: 3 days (checkers report within hours; the rest is
   * margin for a failed round and for anyone to send the slash). Local: 60 s (one more 60-s epoch),
   * keeping the day-long unbonding of `npm start`. A stake credit is paid only after this window.
   */
  slashWindowSeconds: number;
  gracePeriodSeconds: number;
  feeBps: number;
  gpuClasses: GpuClassParam[];
  /**
   * Governance price floor per GPU class (by `gpuClasses` name), in KAI per GPU-hour: the escrow
   * refuses rentals in KAI of nodes priced below it (`RentalEscrow.setPriceFloor`). It prices wash
   * rentals (a provider renting its own node to farm the delivery pool): each pays at least the
   * protocol fee on the floor. Local chains use 0.01 KAI, below every devnet provider's price;
   * agung and peaq a level per class that stays under any honest market price. Classes not listed
   * have no floor.
   */
  priceFloors?: Record<string, string>;
  /** Target uptime of the SLA tiers after tier 0 (best effort), in bps. */
  slaTiersBps: number[];
  /** Payment tokens besides KAI (e.g. a stablecoin on peaq). */
  extraPaymentTokens: AddressRef[];
  /** Unix seconds epoch 0 starts at, or "now" (the time the deployment is built). */
  genesis: number | "now";
  /** Epoch length in seconds (2 weeks on mainnet, a minute locally). */
  epochLengthSeconds: number;
  /** Minimum KAI stake of a checker operator, whole KAI. */
  minCheckerStakeKai: string;
  /** KAI slashed from an operator proven to equivocate, whole KAI. */
  equivocationPenaltyKai: string;
  /** Share of an equivocation slash paid to the prover, bps (at most 5000). */
  equivocationBountyBps: number;
  /** Reward budget of epoch 0, whole KAI; halves every `halvingEpochs` epochs. */
  initialEmissionKai: string;
  halvingEpochs: number;
  /**
   * What `npm run deploy` sets up after the contracts (each step skipped once done): checker licenses
   * minted by governance, the checker set governance names, KAI the treasury puts in the reward reserve.
   */
  setup?: SetupParams;
  /**
   * The name of another parameters file (e.g. "peaq") whose emission per second this network pays:
   * `initialEmissionKai` and `halvingEpochs` are then derived from it for this file's epoch length
   * (`emissionScaledTo`), and must not be given. local.json uses it, so that a minute's epoch of
   * `npm start` pays what a minute of mainnet pays.
   */
  emissionScaledFrom?: string;
}

export interface SetupParams {
  /** Licenses to mint (through the timelock): `count` licenses to each `to`. */
  licenses?: { to: AddressRef; count: number }[];
  /** The checker set (through the timelock), once every operator holds a license and the minimum stake. */
  checkers?: { operators: AddressRef[]; quorum: number };
  /** The reward reserve to reach, whole KAI (the treasury funds the difference). */
  rewardReserveKai?: string;
}

/** The parameters that shape the Ignition module (everything but `setup`). */
export function moduleParameters(p: KaisarParameters): Omit<KaisarParameters, "setup"> {
  const { setup: _setup, ...rest } = p;
  return rest;
}

/** What an emission schedule is made of: a budget per epoch, its halving, the epoch length. */
export type EmissionParameters = Pick<KaisarParameters, "initialEmissionKai" | "halvingEpochs" | "epochLengthSeconds">;

/**
 * `reference`'s emission per second, paid in epochs of `epochLengthSeconds`: epoch 0's budget is the
 * reference's times `epochLengthSeconds / reference.epochLengthSeconds` (rounded down to a KAI unit),
 * and the halving comes after the same time (`halvingEpochs` scaled the other way, rounded, at least 1).
 * E.g. peaq (7,500,000 KAI per 2-week epoch, halving every 52 epochs) in 60 s epochs: 372.02 KAI per
 * epoch, halving every 1,048,320 epochs (2 years, as on peaq).
 */
export function emissionScaledTo(
  reference: EmissionParameters,
  epochLengthSeconds: number,
): Pick<KaisarParameters, "initialEmissionKai" | "halvingEpochs"> {
  const units =
    (parseUnits(reference.initialEmissionKai, 18) * BigInt(epochLengthSeconds)) / BigInt(reference.epochLengthSeconds);
  return {
    initialEmissionKai: formatUnits(units, 18).replace(/\.0$/, ""),
    halvingEpochs: Math.max(
      1,
      Math.round((reference.halvingEpochs * reference.epochLengthSeconds) / epochLengthSeconds),
    ),
  };
}

/** The emission fields of deploy/parameters/<name>.json, checked (its other fields are not read). */
function referenceEmission(name: string, source: string): EmissionParameters {
  const file = path.join(__dirname, "parameters", `${name}.json`);
  let raw: Partial<EmissionParameters>;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(
      `deploy parameters (${source}): "emissionScaledFrom" names ${JSON.stringify(name)}, but ${file} cannot be read ` +
        `(${(e as Error).message})`,
    );
  }
  const ok =
    typeof raw.initialEmissionKai === "string" &&
    Number.isInteger(raw.halvingEpochs) &&
    Number.isInteger(raw.epochLengthSeconds) &&
    (raw.epochLengthSeconds ?? 0) > 0;
  if (!ok) {
    throw new Error(
      `deploy parameters (${source}): "emissionScaledFrom" names ${file}, which lacks a valid initialEmissionKai, ` +
        "halvingEpochs and epochLengthSeconds",
    );
  }
  return raw as EmissionParameters;
}

/** Genesis as Unix seconds ("now" resolves when the deployment is built). */
export function genesisOf(p: KaisarParameters): number {
  return p.genesis === "now" ? Math.floor(Date.now() / 1000) : p.genesis;
}

const ADDRESS_FIELDS = ["governance", "guardian", "treasury", "rewardPool"] as const;

/** `SlaEnforcer`'s default `downtimeEpochs` (the deployment keeps it): consecutive epochs of downtime
 * that trigger a slash. */
export const SLA_DOWNTIME_EPOCHS = 2;

/** `SlaEnforcer.slashLatency()` for these parameters: the unbonding period may not be shorter. */
export function slashLatencyOf(p: Pick<KaisarParameters, "epochLengthSeconds" | "slashWindowSeconds">): number {
  return (SLA_DOWNTIME_EPOCHS + 1) * p.epochLengthSeconds + p.slashWindowSeconds;
}

/** Reads and validates `deploy/parameters/<network>.json`. */
export function loadParameters(network: string): KaisarParameters {
  const file = path.join(__dirname, "parameters", `${network}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(
      `deploy parameters: cannot read ${file} (${(e as Error).message}). ` +
        `Create it from deploy/parameters/local.json for network "${network}".`,
    );
  }
  const r = raw as Partial<KaisarParameters>;
  if (
    r &&
    r.emissionScaledFrom !== undefined &&
    (r.initialEmissionKai !== undefined || r.halvingEpochs !== undefined)
  ) {
    throw new Error(
      `deploy parameters (${file}): "emissionScaledFrom" derives initialEmissionKai and halvingEpochs: remove them, ` +
        "or remove emissionScaledFrom",
    );
  }
  return validateParameters(raw, file);
}

export function validateParameters(raw: unknown, source = "parameters"): KaisarParameters {
  const p = raw as KaisarParameters;
  const fail = (field: string, why: string): never => {
    throw new Error(`deploy parameters (${source}): "${field}" ${why}`);
  };
  const int = (field: keyof KaisarParameters, min: number, max: number) => {
    const v = p[field] as unknown;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      fail(field, `must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`);
    }
  };
  if (typeof raw !== "object" || raw === null) fail("(root)", "must be a JSON object");
  int("timelockMinDelay", 0, 30 * 86_400);
  int("unbondingPeriodSeconds", 86_400, 90 * 86_400);
  int("gracePeriodSeconds", 300, 7 * 86_400);
  int("feeBps", 0, 2_000);
  for (const f of ADDRESS_FIELDS) checkAddressRef(p[f], f, fail);
  try {
    if (parseUnits(String(p.baseStakePerGpuKai), 18) <= 0n) throw new Error();
  } catch {
    fail("baseStakePerGpuKai", `must be a positive decimal number of KAI, got ${JSON.stringify(p.baseStakePerGpuKai)}`);
  }
  if (!Array.isArray(p.gpuClasses) || p.gpuClasses.length === 0) fail("gpuClasses", "must list at least one class");
  p.gpuClasses.forEach((c, i) => {
    if (typeof c.name !== "string" || c.name.length === 0 || c.name.length > 31) {
      fail(`gpuClasses[${i}].name`, "must be 1 to 31 characters");
    }
    if (!Number.isInteger(c.multiplierBps) || c.multiplierBps < 1_000 || c.multiplierBps > 1_000_000) {
      fail(`gpuClasses[${i}].multiplierBps`, "must be an integer between 1000 (0.1x) and 1000000 (100x)");
    }
  });
  if (p.priceFloors !== undefined) {
    if (typeof p.priceFloors !== "object" || p.priceFloors === null || Array.isArray(p.priceFloors)) {
      fail("priceFloors", 'must map GPU class names to KAI per GPU-hour, e.g. { "H100-80GB": "0.5" }');
    }
    for (const [name, floor] of Object.entries(p.priceFloors)) {
      if (!p.gpuClasses.some((c) => c.name === name)) {
        fail(`priceFloors.${name}`, `names no class of gpuClasses (${p.gpuClasses.map((c) => c.name).join(", ")})`);
      }
      let units: bigint | undefined;
      try {
        units = parseUnits(String(floor), 18);
      } catch {
        units = undefined;
      }
      if (units === undefined || units <= 0n) {
        fail(
          `priceFloors.${name}`,
          `must be a positive decimal number of KAI per GPU-hour, got ${JSON.stringify(floor)}`,
        );
      }
    }
  }
  if (!Array.isArray(p.slaTiersBps)) fail("slaTiersBps", "must be an array of bps values");
  p.slaTiersBps.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 5_000 || t > 10_000) fail(`slaTiersBps[${i}]`, "must be between 5000 and 10000");
  });
  if (p.genesis !== "now") int("genesis", 0, 2 ** 32 - 1);
  int("epochLengthSeconds", 10, 365 * 86_400);
  int("slashWindowSeconds", 60, 30 * 86_400);
  const latency = slashLatencyOf(p);
  if (p.unbondingPeriodSeconds < latency) {
    fail(
      "unbondingPeriodSeconds",
      `must be at least (downtimeEpochs ${SLA_DOWNTIME_EPOCHS} + 1) x epochLengthSeconds ${p.epochLengthSeconds} + ` +
        `slashWindowSeconds ${p.slashWindowSeconds} = ${latency} (the slash latency), got ${p.unbondingPeriodSeconds}: ` +
        "raise it, or shorten slashWindowSeconds or epochLengthSeconds",
    );
  }
  int("equivocationBountyBps", 0, 5_000);
  if (p.emissionScaledFrom !== undefined) {
    if (typeof p.emissionScaledFrom !== "string" || !/^[\w-]+$/.test(p.emissionScaledFrom)) {
      fail(
        "emissionScaledFrom",
        `must name a parameters file (e.g. "peaq"), got ${JSON.stringify(p.emissionScaledFrom)}`,
      );
    }
    // Derived again on every validation: a caller that changes the epoch length re-validates.
    Object.assign(p, emissionScaledTo(referenceEmission(p.emissionScaledFrom, source), p.epochLengthSeconds));
  }
  int("halvingEpochs", 1, 2 ** 48 - 1);
  for (const f of ["minCheckerStakeKai", "equivocationPenaltyKai", "initialEmissionKai"] as const) {
    try {
      if (parseUnits(String(p[f]), 18) < 0n) throw new Error();
    } catch {
      fail(f, `must be a decimal number of KAI, got ${JSON.stringify(p[f])}`);
    }
  }
  if (!Array.isArray(p.extraPaymentTokens)) fail("extraPaymentTokens", "must be an array (may be empty)");
  p.extraPaymentTokens.forEach((t, i) => checkAddressRef(t, `extraPaymentTokens[${i}]`, fail));
  if (p.setup !== undefined) validateSetup(p.setup, fail);
  return p;
}

function validateSetup(s: SetupParams, fail: (f: string, why: string) => never) {
  if (typeof s !== "object" || s === null || Array.isArray(s)) fail("setup", "must be an object");
  for (const k of Object.keys(s)) {
    if (!["licenses", "checkers", "rewardReserveKai"].includes(k)) {
      fail(`setup.${k}`, 'is not a setup step (steps: "licenses", "checkers", "rewardReserveKai")');
    }
  }
  if (s.licenses !== undefined) {
    if (!Array.isArray(s.licenses)) fail("setup.licenses", 'must be a list of { "to": address, "count": n }');
    s.licenses.forEach((l, i) => {
      checkAddressRef(l?.to, `setup.licenses[${i}].to`, fail);
      if (!Number.isInteger(l.count) || l.count < 1 || l.count > 1_000) {
        fail(`setup.licenses[${i}].count`, "must be an integer between 1 and 1000");
      }
    });
  }
  if (s.checkers !== undefined) {
    const c = s.checkers;
    if (!Array.isArray(c?.operators) || c.operators.length === 0) {
      fail("setup.checkers.operators", "must list at least one operator address");
    }
    c.operators.forEach((o, i) => checkAddressRef(o, `setup.checkers.operators[${i}]`, fail));
    if (!Number.isInteger(c.quorum) || c.quorum < 1 || c.quorum > c.operators.length) {
      fail("setup.checkers.quorum", `must be an integer between 1 and the ${c.operators.length} operators`);
    }
  }
  if (s.rewardReserveKai !== undefined) {
    try {
      if (parseUnits(String(s.rewardReserveKai), 18) < 0n) throw new Error();
    } catch {
      fail("setup.rewardReserveKai", `must be a decimal number of KAI, got ${JSON.stringify(s.rewardReserveKai)}`);
    }
  }
}

function checkAddressRef(v: unknown, field: string, fail: (f: string, why: string) => never) {
  if (typeof v !== "string") fail(field, 'must be an address, "account:N" or "env:NAME"');
  const s = v as string;
  if (s.startsWith("account:") && /^account:\d+$/.test(s)) return;
  if (s.startsWith("env:")) {
    const name = s.slice(4);
    const value = process.env[name];
    if (!value) fail(field, `reads the environment variable ${name}, which is not set: export ${name}=0x...`);
    if (!isAddress(value)) fail(field, `reads ${name}=${value}, which is not an address`);
    return;
  }
  if (!isAddress(s)) fail(field, `must be an address, "account:N" or "env:NAME", got ${JSON.stringify(s)}`);
}
