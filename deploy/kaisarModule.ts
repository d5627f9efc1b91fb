/**
 * The Hardhat Ignition module that deploys Kaisar's contracts and wires them: one definition for
 * the local chain, agung and peaq, fed by `deploy/parameters/<network>.json`.
 *
 * Order: token, registry, escrow, lens, licenses, oracle, rewards, SLA enforcer, timelock; then roles, GPU classes, payment tokens, SLA
 * tiers and parameters set by the deployer; finally the admin role moves to the timelock and the
 * deployer renounces it, keeping no power.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { Future } from "@nomicfoundation/ignition-core";
import { ZeroAddress, ZeroHash, encodeBytes32String, id, parseUnits } from "ethers";
import { genesisOf, type KaisarParameters } from "./config";

export const ROLES = {
  DEFAULT_ADMIN: ZeroHash,
  ESCROW: id("ESCROW_ROLE"),
  PAUSER: id("PAUSER_ROLE"),
  SLASHER: id("SLASHER_ROLE"),
  REWARDER: id("REWARDER_ROLE"),
  ORACLE: id("ORACLE_ROLE"),
  CONFIG: id("CONFIG_ROLE"),
  MINTER: id("MINTER_ROLE"),
  SUSPENDER: id("SUSPENDER_ROLE"),
} as const;

/** Default rental terms the escrow starts with (see RentalEscrow's constructor). */
const ESCROW_DEFAULTS = { feeBps: 1_000, gracePeriodSeconds: 3_600 };
const REGISTRY_DEFAULT_UNBONDING = 14 * 86_400;
/** CheckerLicense's default departure cooldown: the registry's default unbonding period. */
const LICENSE_DEFAULT_COOLDOWN = 14 * 86_400;

export function buildKaisarModule(p: KaisarParameters) {
  return buildModule("Kaisar", (m) => {
    const deployer = m.getAccount(0);
    const resolve = (ref: string) => {
      if (ref.startsWith("account:")) return m.getAccount(Number(ref.slice("account:".length)));
      if (ref.startsWith("env:")) return process.env[ref.slice("env:".length)] as string;
      return ref;
    };
    const governance = resolve(p.governance);
    const guardian = resolve(p.guardian);
    const treasury = resolve(p.treasury);
    const rewardPool = resolve(p.rewardPool);

    const kai = m.contract("KaiToken", [treasury]);
    const registry = m.contract("NodeRegistry", [kai, deployer, parseUnits(p.baseStakePerGpuKai, 18)]);
    const escrow = m.contract("RentalEscrow", [registry, deployer, treasury, rewardPool]);
    const lens = m.contract("KaisarLens", [registry, escrow]);
    const license = m.contract("CheckerLicense", [deployer]);
    const oracle = m.contract("ReportOracle", [
      deployer,
      registry,
      license,
      treasury,
      genesisOf(p),
      p.epochLengthSeconds,
    ]);
    const rewards = m.contract("RewardDistributor", [kai, oracle]);
    // The unbonding period is set before the SlaEnforcer exists: its constructor refuses a registry
    // whose unbonding period is below its slash latency (see deploy/config.ts).
    const unbonding =
      p.unbondingPeriodSeconds !== REGISTRY_DEFAULT_UNBONDING
        ? [m.call(registry, "setUnbondingPeriod", [p.unbondingPeriodSeconds], { id: "unbonding_period" })]
        : [];
    const sla = m.contract("SlaEnforcer", [oracle, escrow, deployer, treasury, p.slashWindowSeconds], {
      after: unbonding,
    });
    // No bootstrap admin: the timelock administers itself from the start.
    const timelock = m.contract("KaisarTimelock", [p.timelockMinDelay, [governance], [governance], ZeroAddress]);

    const gpuClassCalls = p.gpuClasses.map((c, i) =>
      m.call(registry, "addGpuClass", [encodeBytes32String(c.name), c.multiplierBps], { id: `gpu_class_${i}` }),
    );
    const allowKai = m.call(escrow, "allowPaymentToken", [kai], { id: "allow_kai" });
    const setup: Future[] = [
      m.call(registry, "grantRole", [ROLES.ESCROW, escrow], { id: "registry_grant_escrow" }),
      m.call(registry, "grantRole", [ROLES.PAUSER, guardian], { id: "registry_grant_pauser" }),
      m.call(escrow, "grantRole", [ROLES.PAUSER, guardian], { id: "escrow_grant_pauser" }),
      ...gpuClassCalls,
      allowKai,
      ...p.extraPaymentTokens.map((t, i) =>
        m.call(escrow, "allowPaymentToken", [resolve(t)], { id: `allow_token_${i}` }),
      ),
      ...p.slaTiersBps.map((t, i) => m.call(escrow, "addSlaTier", [t], { id: `sla_tier_${i}` })),
      // Price floors in KAI per GPU-hour, by class id (the order of `gpuClasses`).
      ...Object.entries(p.priceFloors ?? {}).map(([name, floor]) =>
        m.call(escrow, "setPriceFloor", [p.gpuClasses.findIndex((c) => c.name === name), kai, parseUnits(floor, 18)], {
          id: `price_floor_${p.gpuClasses.findIndex((c) => c.name === name)}`,
          after: [...gpuClassCalls, allowKai],
        }),
      ),
      m.call(registry, "grantRole", [ROLES.SLASHER, oracle], { id: "registry_grant_slasher_oracle" }),
      m.call(license, "grantRole", [ROLES.SUSPENDER, oracle], { id: "license_grant_suspender_oracle" }),
      m.call(registry, "grantRole", [ROLES.SLASHER, sla], { id: "registry_grant_slasher_sla" }),
      m.call(escrow, "grantRole", [ROLES.ORACLE, sla], { id: "escrow_grant_oracle_sla" }),
      // SLA credits in KAI beyond the provider's earnings come from its KAI stake, one for one. Rates
      // for other payment tokens are governance's to set (they need a price).
      m.call(sla, "setKaiPerToken", [kai, 10n ** 18n], { id: "sla_kai_rate" }),
      m.call(oracle, "setMinCheckerStake", [parseUnits(p.minCheckerStakeKai, 18)], { id: "min_checker_stake" }),
      m.call(oracle, "setEquivocationPenalty", [parseUnits(p.equivocationPenaltyKai, 18), p.equivocationBountyBps], {
        id: "equivocation_penalty",
      }),
      m.call(oracle, "setEmissionSchedule", [parseUnits(p.initialEmissionKai, 18), p.halvingEpochs], {
        id: "emission_schedule",
      }),
    ];
    // The registry records the SLA enforcer's slash latency (it needs the SLASHER_ROLE granted above):
    // from then on it refuses an unbonding period below it.
    setup.push(m.call(sla, "syncSlashLatency", [], { id: "sla_sync_slash_latency", after: setup.slice() }));
    // Setters reject no-op writes: call them only when the value differs from the default.
    setup.push(...unbonding);
    // A license that left an equivocating operator stays suspendable as long as its stake stays
    // slashable: the license's departure cooldown follows the unbonding period.
    if (p.unbondingPeriodSeconds !== LICENSE_DEFAULT_COOLDOWN) {
      setup.push(
        m.call(license, "setDepartureCooldown", [p.unbondingPeriodSeconds], { id: "license_departure_cooldown" }),
      );
    }
    if (p.gracePeriodSeconds !== ESCROW_DEFAULTS.gracePeriodSeconds) {
      setup.push(m.call(escrow, "setGracePeriod", [p.gracePeriodSeconds], { id: "grace_period" }));
    }
    if (p.feeBps !== ESCROW_DEFAULTS.feeBps) {
      setup.push(m.call(escrow, "setFeeBps", [p.feeBps], { id: "fee_bps" }));
    }

    // Hand over: the timelock becomes admin (and sets the checker set, mints licenses), then the
    // deployer renounces everything.
    const grants = [
      m.call(registry, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], { id: "registry_admin_timelock", after: setup }),
      m.call(escrow, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], { id: "escrow_admin_timelock", after: setup }),
      m.call(license, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], { id: "license_admin_timelock", after: setup }),
      m.call(license, "grantRole", [ROLES.MINTER, timelock], { id: "license_minter_timelock", after: setup }),
      m.call(oracle, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], { id: "oracle_admin_timelock", after: setup }),
      m.call(oracle, "grantRole", [ROLES.CONFIG, timelock], { id: "oracle_config_timelock", after: setup }),
      m.call(sla, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], { id: "sla_admin_timelock", after: setup }),
    ];
    m.call(registry, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], { id: "registry_renounce", after: grants });
    m.call(escrow, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], { id: "escrow_renounce", after: grants });
    m.call(license, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], { id: "license_renounce", after: grants });
    m.call(oracle, "renounceRole", [ROLES.CONFIG, deployer], { id: "oracle_renounce_config", after: grants });
    m.call(oracle, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], { id: "oracle_renounce_admin", after: grants });
    m.call(sla, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], { id: "sla_renounce_admin", after: grants });

    return { kai, registry, escrow, lens, timelock, license, oracle, rewards, sla };
  });
}
