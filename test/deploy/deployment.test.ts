import { expect } from "chai";
import hre, { ethers, ignition } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { encodeBytes32String, parseUnits } from "ethers";
import { readFileSync } from "node:fs";
import path from "node:path";
import { buildKaisarModule, ROLES } from "../../deploy/kaisarModule";
import { emissionScaledTo, loadParameters, slashLatencyOf, validateParameters } from "../../deploy/config";
import type {
  CheckerLicense,
  KaiToken,
  KaisarTimelock,
  NodeRegistry,
  RentalEscrow,
  ReportOracle,
  RewardDistributor,
  SlaEnforcer,
} from "../../typechain-types";

const params = loadParameters("local");

async function deployLocal() {
  const deployed = await ignition.deploy(buildKaisarModule(params));
  const [deployer] = await ethers.getSigners();
  return {
    kai: deployed.kai as unknown as KaiToken,
    registry: deployed.registry as unknown as NodeRegistry,
    escrow: deployed.escrow as unknown as RentalEscrow,
    timelock: deployed.timelock as unknown as KaisarTimelock,
    license: deployed.license as unknown as CheckerLicense,
    oracle: deployed.oracle as unknown as ReportOracle,
    rewards: deployed.rewards as unknown as RewardDistributor,
    sla: deployed.sla as unknown as SlaEnforcer,
    deployer,
  };
}

describe("deployment (Ignition module, local parameters)", function () {
  it("makes the timelock the admin of the registry and the escrow", async function () {
    const { registry, escrow, timelock } = await loadFixture(deployLocal);
    const t = await timelock.getAddress();
    expect(await registry.hasRole(ROLES.DEFAULT_ADMIN, t), "registry admin").to.equal(true);
    expect(await escrow.hasRole(ROLES.DEFAULT_ADMIN, t), "escrow admin").to.equal(true);
  });

  it("leaves the deployer no admin power", async function () {
    const { registry, escrow, deployer } = await loadFixture(deployLocal);
    expect(await registry.hasRole(ROLES.DEFAULT_ADMIN, deployer.address), "registry").to.equal(false);
    expect(await escrow.hasRole(ROLES.DEFAULT_ADMIN, deployer.address), "escrow").to.equal(false);
    await expect(registry.connect(deployer).setBaseStakePerGpu(1n))
      .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
      .withArgs(deployer.address, ROLES.DEFAULT_ADMIN);
  });

  it("gives the timelock no bootstrap admin and governance the proposer and executor roles", async function () {
    const { timelock, deployer } = await loadFixture(deployLocal);
    const governance = deployer.address; // local.json: account:0
    expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), governance)).to.equal(true);
    expect(await timelock.hasRole(await timelock.EXECUTOR_ROLE(), governance)).to.equal(true);
    expect(await timelock.getMinDelay()).to.equal(BigInt(params.timelockMinDelay));
    // The timelock administers itself; nobody else holds its admin role.
    expect(await timelock.hasRole(ROLES.DEFAULT_ADMIN, await timelock.getAddress())).to.equal(true);
  });

  it("grants the escrow its role on the registry and the guardian the pauser roles", async function () {
    const { registry, escrow, deployer } = await loadFixture(deployLocal);
    expect(await registry.hasRole(ROLES.ESCROW, await escrow.getAddress())).to.equal(true);
    expect(await registry.hasRole(ROLES.PAUSER, deployer.address)).to.equal(true);
    expect(await escrow.hasRole(ROLES.PAUSER, deployer.address)).to.equal(true);
  });

  it("sets the parameters from the parameters file", async function () {
    const { registry, escrow, kai, license } = await loadFixture(deployLocal);
    expect(await registry.baseStakePerGpu()).to.equal(parseUnits(params.baseStakePerGpuKai, 18));
    expect(await registry.unbondingPeriod()).to.equal(BigInt(params.unbondingPeriodSeconds));
    // The license's departure cooldown follows the unbonding period.
    expect(await license.departureCooldown(), "departureCooldown").to.equal(BigInt(params.unbondingPeriodSeconds));
    const terms = await escrow.rentalTerms(await escrow.currentTermsVersion());
    expect(terms.feeBps).to.equal(BigInt(params.feeBps));
    expect(terms.gracePeriod).to.equal(BigInt(params.gracePeriodSeconds));
    expect(await registry.gpuClassCount()).to.equal(BigInt(params.gpuClasses.length));
    for (const [i, c] of params.gpuClasses.entries()) {
      const onChain = await registry.getGpuClass(i);
      expect(onChain.name, `class ${i}`).to.equal(encodeBytes32String(c.name));
      expect(onChain.multiplierBps, `class ${i}`).to.equal(BigInt(c.multiplierBps));
    }
    expect((await escrow.slaTiers()).map(Number)).to.deep.equal([0, ...params.slaTiersBps]);
    expect(await escrow.paymentTokens()).to.deep.equal([await kai.getAddress()]);
    // Attack 3: the price floor of every class, in KAI per GPU-hour.
    expect(Object.keys(params.priceFloors ?? {}), "local.json sets floors").to.not.be.empty;
    for (const [i, c] of params.gpuClasses.entries()) {
      const floor = params.priceFloors?.[c.name];
      const expected = floor === undefined ? 0n : parseUnits(floor, 18);
      expect(await escrow.priceFloor(i, await kai.getAddress()), `floor of ${c.name}`).to.equal(expected);
    }
  });

  it("wires the checker licenses and the oracle to the timelock, and the oracle to slash and suspend", async function () {
    const { registry, license, oracle, timelock, deployer } = await loadFixture(deployLocal);
    const t = await timelock.getAddress();
    const o = await oracle.getAddress();
    expect(await license.hasRole(ROLES.DEFAULT_ADMIN, t), "license admin").to.equal(true);
    expect(await license.hasRole(ROLES.MINTER, t), "license minter").to.equal(true);
    expect(await oracle.hasRole(ROLES.DEFAULT_ADMIN, t), "oracle admin").to.equal(true);
    expect(await oracle.hasRole(ROLES.CONFIG, t), "oracle config").to.equal(true);
    expect(await registry.hasRole(ROLES.SLASHER, o), "oracle slashes").to.equal(true);
    expect(await license.hasRole(ROLES.SUSPENDER, o), "oracle suspends").to.equal(true);
    for (const [name, has] of [
      ["license admin", await license.hasRole(ROLES.DEFAULT_ADMIN, deployer.address)],
      ["oracle admin", await oracle.hasRole(ROLES.DEFAULT_ADMIN, deployer.address)],
      ["oracle config", await oracle.hasRole(ROLES.CONFIG, deployer.address)],
    ] as const) {
      expect(has, `deployer keeps ${name}`).to.equal(false);
    }
  });

  it("wires the SLA enforcer: it credits and closes in the escrow, slashes in the registry, the timelock administers it", async function () {
    const { kai, registry, escrow, oracle, sla, timelock, deployer } = await loadFixture(deployLocal);
    const s = await sla.getAddress();
    expect(await escrow.hasRole(ROLES.ORACLE, s), "sla credits in the escrow").to.equal(true);
    expect(await registry.hasRole(ROLES.SLASHER, s), "sla slashes").to.equal(true);
    expect(await sla.hasRole(ROLES.DEFAULT_ADMIN, await timelock.getAddress()), "sla admin").to.equal(true);
    expect(await sla.hasRole(ROLES.DEFAULT_ADMIN, deployer.address), "deployer keeps sla admin").to.equal(false);
    expect(await sla.kaiPerToken(await kai.getAddress()), "KAI credits from KAI stake 1:1").to.equal(10n ** 18n);
    expect(await sla.slashWindow(), "slashWindow").to.equal(BigInt(params.slashWindowSeconds));
    // The registry knows the enforcer's slash latency ((2 + 1) x 60 s + 60 s) and refuses a shorter unbonding.
    expect(await registry.slashLatency(), "registry.slashLatency").to.equal(await sla.slashLatency());
    expect(await sla.slashLatency()).to.equal(BigInt(slashLatencyOf(params)));
    expect(await registry.unbondingPeriod()).to.be.at.least(await registry.slashLatency());
    expect([await sla.oracle(), await sla.escrow(), await sla.registry()]).to.deep.equal([
      await oracle.getAddress(),
      await escrow.getAddress(),
      await registry.getAddress(),
    ]);
  });

  it("sets the oracle's epochs, checker stake, equivocation penalty and emission from the file", async function () {
    const { oracle, rewards } = await loadFixture(deployLocal);
    expect(await oracle.epochLength()).to.equal(BigInt(params.epochLengthSeconds));
    expect(await oracle.minCheckerStake()).to.equal(parseUnits(params.minCheckerStakeKai, 18));
    expect(await oracle.equivocationPenalty()).to.equal(parseUnits(params.equivocationPenaltyKai, 18));
    expect(await oracle.equivocationBountyBps()).to.equal(BigInt(params.equivocationBountyBps));
    const [initial, halving] = await oracle.emission();
    expect(initial).to.equal(parseUnits(params.initialEmissionKai, 18));
    expect(halving).to.equal(BigInt(params.halvingEpochs));
    expect(await rewards.oracle()).to.equal(await oracle.getAddress());
  });

  it("mints the whole KAI supply to the treasury", async function () {
    const { kai, deployer } = await loadFixture(deployLocal);
    expect(await kai.balanceOf(deployer.address)).to.equal(await kai.MAX_SUPPLY());
  });

  it("runs on the cancun hardfork, as peaq does", async function () {
    expect(hre.config.networks.hardhat.hardfork).to.equal("cancun");
    expect(hre.config.solidity.compilers[0].settings.evmVersion).to.equal("cancun");
  });
});

describe("deploy parameters validation", function () {
  const valid = () => JSON.parse(JSON.stringify(params));

  it("accepts the committed local, agung and peaq files' shape", function () {
    expect(() => validateParameters(valid())).not.to.throw();
  });

  for (const network of ["agung", "peaq"]) {
    it(`reads the committed ${network} file with the governance addresses from the environment`, function () {
      const names = [
        "KAISAR_GOVERNANCE",
        "KAISAR_GUARDIAN",
        "KAISAR_TREASURY",
        "KAISAR_REWARD_POOL",
        "KAISAR_STABLECOIN",
      ];
      const saved = names.map((n) => process.env[n]);
      names.forEach((n, i) => (process.env[n] = `0x${String(i + 1).repeat(40)}`));
      try {
        const p = loadParameters(network);
        expect(p.timelockMinDelay, "a real timelock delay").to.be.at.least(3600);
        expect(p.governance).to.equal("env:KAISAR_GOVERNANCE");
        expect(p.gpuClasses.map((c) => c.name)).to.deep.equal(params.gpuClasses.map((c) => c.name));
        expect(p.epochLengthSeconds, "epochs of hours to weeks").to.be.at.least(3600);
        // Attack 1 (issue #15): 45 days of unbonding cover 3 x 14-day epochs + a 3-day reporting window.
        expect([p.unbondingPeriodSeconds, p.slashWindowSeconds]).to.deep.equal([45 * 86_400, 3 * 86_400]);
        expect(p.unbondingPeriodSeconds).to.be.at.least(slashLatencyOf({ ...p, epochLengthSeconds: 14 * 86_400 }));
      } finally {
        names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])));
      }
    });
  }

  for (const [field, value, message] of [
    ["feeBps", 2_001, '"feeBps" must be an integer between 0 and 2000'],
    ["unbondingPeriodSeconds", 10, '"unbondingPeriodSeconds" must be an integer between 86400'],
    ["treasury", "0x1234", '"treasury" must be an address'],
    ["slashWindowSeconds", 59, '"slashWindowSeconds" must be an integer between 60 and 2592000'],
    ["slashWindowSeconds", undefined, '"slashWindowSeconds" must be an integer between 60 and 2592000'],
    ["baseStakePerGpuKai", "lots", '"baseStakePerGpuKai" must be a positive decimal number of KAI'],
    ["gpuClasses", [], '"gpuClasses" must list at least one class'],
    ["priceFloors", { "B200-192GB": "1" }, '"priceFloors.B200-192GB" names no class of gpuClasses'],
    ["priceFloors", { "H100-80GB": "-1" }, '"priceFloors.H100-80GB" must be a positive decimal number of KAI'],
    ["priceFloors", ["0.5"], '"priceFloors" must map GPU class names to KAI per GPU-hour'],
  ] as const) {
    it(`names ${field} when it is wrong`, function () {
      expect(() => validateParameters({ ...valid(), [field]: value })).to.throw(message);
    });
  }

  it("refuses an unbonding period below the slash latency, naming the settings and the bound", function () {
    // 60-s epochs: (2 + 1) x 60 + 86,221 = 86,401 s > the 86,400 s of unbonding.
    expect(() => validateParameters({ ...valid(), slashWindowSeconds: 86_221 })).to.throw(
      '"unbondingPeriodSeconds" must be at least (downtimeEpochs 2 + 1) x epochLengthSeconds 60 + slashWindowSeconds 86221 = 86401 (the slash latency), got 86400',
    );
    expect(() => validateParameters({ ...valid(), slashWindowSeconds: 86_220 })).not.to.throw();
    // Mainnet epochs with the old 14-day unbonding: refused.
    expect(() =>
      validateParameters({
        ...valid(),
        epochLengthSeconds: 14 * 86_400,
        unbondingPeriodSeconds: 14 * 86_400,
        slashWindowSeconds: 3 * 86_400,
      }),
    ).to.throw('"unbondingPeriodSeconds" must be at least');
  });

  it("the contracts refuse such parameters too: the module's SlaEnforcer reverts with UnbondingTooShort", async function () {
    const bad = { ...valid(), slashWindowSeconds: 86_221 };
    let error: unknown;
    try {
      await ignition.deploy(buildKaisarModule(bad));
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/UnbondingTooShort/);
  });

  it("names the missing environment variable of an env: address", function () {
    delete process.env.KAISAR_TEST_UNSET;
    expect(() => validateParameters({ ...valid(), governance: "env:KAISAR_TEST_UNSET" })).to.throw(
      "reads the environment variable KAISAR_TEST_UNSET, which is not set",
    );
  });

  describe("local emission scaled to the epoch length (emissionScaledFrom)", function () {
    const peaq = JSON.parse(
      readFileSync(path.join(__dirname, "..", "..", "deploy", "parameters", "peaq.json"), "utf8"),
    );
    /** KAI units per second of epoch 0, and the halving's length in seconds. */
    const perSecond = (p: { initialEmissionKai: string; epochLengthSeconds: number }) =>
      parseUnits(p.initialEmissionKai, 18) / BigInt(p.epochLengthSeconds);

    it("pays peaq's emission per second: 372.02 KAI per 60 s epoch, halving after peaq's 2 years", function () {
      expect(emissionScaledTo(peaq, 60)).to.deep.equal({
        initialEmissionKai: "372.023809523809523809",
        halvingEpochs: 1_048_320,
      });
      // Two weeks of 60 s epochs pay what one peaq epoch pays (to a KAI unit per epoch).
      const scaled = parseUnits(emissionScaledTo(peaq, 60).initialEmissionKai, 18) * (1_209_600n / 60n);
      expect(parseUnits(peaq.initialEmissionKai, 18) - scaled).to.be.within(0n, 1_209_600n / 60n);
      expect(emissionScaledTo(peaq, peaq.epochLengthSeconds)).to.deep.equal({
        initialEmissionKai: peaq.initialEmissionKai,
        halvingEpochs: peaq.halvingEpochs,
      });
    });

    it("local.json derives its emission from peaq's for its epoch length, and again for another length", function () {
      expect(params.emissionScaledFrom).to.equal("peaq");
      expect(perSecond(params)).to.equal(perSecond(peaq));
      expect(params.halvingEpochs * params.epochLengthSeconds).to.equal(peaq.halvingEpochs * peaq.epochLengthSeconds);
      // KAISAR_EPOCH_SECONDS (deploy/modules/Kaisar.ts re-validates with the new length).
      const twenty = validateParameters({ ...valid(), epochLengthSeconds: 20 });
      expect(twenty.initialEmissionKai).to.equal("124.007936507936507936");
      expect(twenty.halvingEpochs).to.equal(3_144_960);
    });

    it("names emissionScaledFrom when its reference is not a parameters file", function () {
      expect(() => validateParameters({ ...valid(), emissionScaledFrom: "nonexistent" })).to.throw(
        '"emissionScaledFrom" names "nonexistent", but',
      );
      expect(() => validateParameters({ ...valid(), emissionScaledFrom: "../peaq" })).to.throw(
        '"emissionScaledFrom" must name a parameters file',
      );
    });
  });

  it("refuses a network without a parameters file, naming the file", function () {
    expect(() => loadParameters("nonexistent")).to.throw("deploy/parameters/nonexistent.json");
  });
});
