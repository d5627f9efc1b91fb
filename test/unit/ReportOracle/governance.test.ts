import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { KAI } from "../../fixtures";
import {
  EPOCH_LENGTH,
  EQUIVOCATION_PENALTY,
  HALVING_EPOCHS,
  INITIAL_EMISSION,
  MIN_CHECKER_STAKE,
  deployOracle,
  endEpoch,
  makeReport,
  submitSigned,
  revertsOracle,
} from "../../helpers/oracle";
import {
  DEFAULT_BOUNTY_BPS,
  MAX_BOUNTY_BPS,
  MAX_EPOCH_LENGTH,
  MIN_EPOCH_LENGTH,
  ORACLE_ROLES,
  UINT128_MAX,
  UINT48_MAX,
  deployBareOracle,
  deployWithFourCheckers,
  deployWithReportedEpoch,
  REPORTED_EPOCH,
} from "../../helpers/oracleTests";
import { reportDomain } from "../../../offchain/src/report";

type Oracle = Awaited<ReturnType<typeof deployOracle>>["oracle"];

/**
 * Every admin setter called by an account without DEFAULT_ADMIN_ROLE reverts with OZ's
 * AccessControlUnauthorizedAccount(account, role); CONFIG_ROLE is not enough.
 */
const ADMIN_ONLY: { name: string; call: (o: Oracle) => Promise<unknown> }[] = [
  { name: "setMinCheckerStake", call: (o) => o.setMinCheckerStake(KAI(1)) },
  { name: "setEquivocationPenalty", call: (o) => o.setEquivocationPenalty(KAI(1), 100) },
  { name: "setEmissionSchedule", call: (o) => o.setEmissionSchedule(KAI(1), 10) },
];

describe("ReportOracle governance", function () {
  describe("access control", function () {
    for (const { name, call } of ADMIN_ONLY) {
      describe(`${name} (needs DEFAULT_ADMIN_ROLE)`, function () {
        it("reverts for an account with no role", async function () {
          const c = await loadFixture(deployOracle);
          await expect(call(c.oracle.connect(c.other)))
            .to.be.revertedWithCustomError(c.oracle, "AccessControlUnauthorizedAccount")
            .withArgs(c.other.address, ORACLE_ROLES.DEFAULT_ADMIN);
        });

        it("reverts for an account holding only CONFIG_ROLE", async function () {
          const c = await loadFixture(deployOracle);
          await c.oracle.grantRole(ORACLE_ROLES.CONFIG, c.keeper.address);
          await expect(call(c.oracle.connect(c.keeper)))
            .to.be.revertedWithCustomError(c.oracle, "AccessControlUnauthorizedAccount")
            .withArgs(c.keeper.address, ORACLE_ROLES.DEFAULT_ADMIN);
        });
      });
    }
  });

  describe("setMinCheckerStake", function () {
    it("emits SetMinCheckerStake(amount)", async function () {
      const c = await loadFixture(deployOracle);
      await expect(c.oracle.setMinCheckerStake(KAI(25_000)))
        .to.emit(c.oracle, "SetMinCheckerStake")
        .withArgs(KAI(25_000));
    });

    it("stores the amount", async function () {
      const c = await loadFixture(deployOracle);
      await c.oracle.setMinCheckerStake(KAI(25_000));
      expect(await c.oracle.minCheckerStake(), "minCheckerStake").to.equal(KAI(25_000));
    });

    it("accepts 0", async function () {
      const c = await loadFixture(deployOracle);
      await c.oracle.setMinCheckerStake(0);
      expect(await c.oracle.minCheckerStake(), "minCheckerStake").to.equal(0n);
    });

    describe("given a checker set configured at the old minimum", function () {
      it("does not touch the running set (checkers() unchanged)", async function () {
        const c = await loadFixture(deployWithFourCheckers);
        await c.oracle.setMinCheckerStake(MIN_CHECKER_STAKE * 2n);
        expect(await c.oracle.checkers(), "checkers").to.deep.equal(c.operators.map((o) => o.address));
      });
    });
  });

  describe("setEquivocationPenalty", function () {
    it("emits SetEquivocationPenalty(amount, bountyBps)", async function () {
      const c = await loadFixture(deployOracle);
      await expect(c.oracle.setEquivocationPenalty(KAI(7_000), 2_500))
        .to.emit(c.oracle, "SetEquivocationPenalty")
        .withArgs(KAI(7_000), 2_500);
    });

    it("stores the penalty and the bounty", async function () {
      const c = await loadFixture(deployOracle);
      await c.oracle.setEquivocationPenalty(KAI(7_000), 2_500);
      expect(
        [await c.oracle.equivocationPenalty(), await c.oracle.equivocationBountyBps()],
        "penalty, bountyBps",
      ).to.deep.equal([KAI(7_000), 2_500n]);
    });

    it("accepts the maximum bounty, 50% (5,000 bps)", async function () {
      const c = await loadFixture(deployOracle);
      await c.oracle.setEquivocationPenalty(EQUIVOCATION_PENALTY, MAX_BOUNTY_BPS);
      expect(await c.oracle.equivocationBountyBps(), "bountyBps").to.equal(MAX_BOUNTY_BPS);
    });

    for (const bps of [MAX_BOUNTY_BPS + 1n, 10_000n, ethers.MaxUint256]) {
      it(`reverts with ParameterOutOfBounds("bountyBps", ${bps}, 0, 5000) above 50%`, async function () {
        const c = await loadFixture(deployOracle);
        await revertsOracle(
          c,
          c.oracle.setEquivocationPenalty(EQUIVOCATION_PENALTY, bps),
          "ReportOracle_ParameterOutOfBounds",
          "bountyBps",
          bps,
          0n,
          MAX_BOUNTY_BPS,
        );
      });
    }
  });

  describe("setEmissionSchedule", function () {
    it("emits SetEmissionSchedule(initial, halvingEpochs)", async function () {
      const c = await loadFixture(deployOracle);
      await expect(c.oracle.setEmissionSchedule(KAI(50_000), 52))
        .to.emit(c.oracle, "SetEmissionSchedule")
        .withArgs(KAI(50_000), 52);
    });

    it("stores the schedule (emission())", async function () {
      const c = await loadFixture(deployOracle);
      await c.oracle.setEmissionSchedule(KAI(50_000), 52);
      expect(await c.oracle.emission(), "emission").to.deep.equal([KAI(50_000), 52n]);
    });

    it("accepts the largest values (initial 2^128 - 1, halvingEpochs 2^48 - 1)", async function () {
      const c = await loadFixture(deployOracle);
      await c.oracle.setEmissionSchedule(UINT128_MAX, UINT48_MAX);
      expect(await c.oracle.emission(), "emission").to.deep.equal([UINT128_MAX, UINT48_MAX]);
    });

    it("accepts an initial emission of 0 (epochBudget 0)", async function () {
      const c = await loadFixture(deployOracle);
      await c.oracle.setEmissionSchedule(0, 26);
      expect(await c.oracle.epochBudget(0), "epochBudget(0)").to.equal(0n);
    });

    it('reverts with ParameterOutOfBounds("halvingEpochs", 0, 1, 2^48 - 1) for halvingEpochs 0', async function () {
      const c = await loadFixture(deployOracle);
      await revertsOracle(
        c,
        c.oracle.setEmissionSchedule(KAI(1), 0),
        "ReportOracle_ParameterOutOfBounds",
        "halvingEpochs",
        0n,
        1n,
        UINT48_MAX,
      );
    });

    it('reverts with ParameterOutOfBounds("halvingEpochs", 2^48, 1, 2^48 - 1) for halvingEpochs 2^48', async function () {
      const c = await loadFixture(deployOracle);
      await revertsOracle(
        c,
        c.oracle.setEmissionSchedule(KAI(1), UINT48_MAX + 1n),
        "ReportOracle_ParameterOutOfBounds",
        "halvingEpochs",
        UINT48_MAX + 1n,
        1n,
        UINT48_MAX,
      );
    });

    it('reverts with ParameterOutOfBounds("initialEmission", 2^128, 0, 2^128 - 1) for initial 2^128', async function () {
      const c = await loadFixture(deployOracle);
      await revertsOracle(
        c,
        c.oracle.setEmissionSchedule(UINT128_MAX + 1n, 26),
        "ReportOracle_ParameterOutOfBounds",
        "initialEmission",
        UINT128_MAX + 1n,
        0n,
        UINT128_MAX,
      );
    });

    describe("given four checkers and epoch 3 ended, not yet reported", function () {
      it("applies to it: a 1,000 KAI report now exceeds a 500 KAI budget", async function () {
        const c = await loadFixture(deployWithFourCheckers);
        await c.oracle.setEmissionSchedule(KAI(500), 26);
        const report = makeReport(3n, 1n, { totalReward: KAI(1_000) });
        await endEpoch(c, 3n);
        await revertsOracle(c, submitSigned(c, report), "ReportOracle_RewardAboveBudget", 3n, KAI(1_000), KAI(500));
      });
    });
  });

  describe("setEmissionSchedule after a report (threat 22: a reported epoch's budget is fixed)", function () {
    it("keeps the budget of reported and earlier epochs", async function () {
      const c = await loadFixture(deployWithReportedEpoch);
      const before = await c.oracle.epochBudget(REPORTED_EPOCH);
      await c.oracle.setEmissionSchedule(KAI(1), 1n);
      expect(await c.oracle.epochBudget(REPORTED_EPOCH), "reported epoch").to.equal(before);
      expect(await c.oracle.epochBudget(0n), "epoch 0").to.equal(INITIAL_EMISSION);
    });

    it("applies the new schedule from the next epoch on", async function () {
      const c = await loadFixture(deployWithReportedEpoch);
      await c.oracle.setEmissionSchedule(KAI(64), 1n);
      const next = REPORTED_EPOCH + 1n;
      expect(await c.oracle.epochBudget(next)).to.equal(KAI(64) >> next);
    });

    it("replaces, not stacks, two changes before the next report", async function () {
      const c = await loadFixture(deployWithReportedEpoch);
      await c.oracle.setEmissionSchedule(KAI(64), 1n);
      await c.oracle.setEmissionSchedule(KAI(128), 1n);
      expect(await c.oracle.epochBudget(REPORTED_EPOCH + 1n)).to.equal(KAI(128) >> (REPORTED_EPOCH + 1n));
      expect(await c.oracle.emission(), "latest").to.deep.equal([KAI(128), 1n]);
    });
  });

  describe("epochBudget", function () {
    describe("given no emission schedule", function () {
      for (const epoch of [0n, 1n, 1_000n]) {
        it(`is 0 for epoch ${epoch}`, async function () {
          const c = await loadFixture(deployBareOracle);
          expect(await c.oracle.epochBudget(epoch), "epochBudget").to.equal(0n);
        });
      }
    });

    describe("given 100,000 KAI halving every 26 epochs", function () {
      // Each row written out by hand: 100,000 KAI, then halved once per 26 epochs completed.
      const ROWS: [bigint, bigint][] = [
        [0n, KAI(100_000)],
        [25n, KAI(100_000)],
        [26n, KAI(50_000)],
        [51n, KAI(50_000)],
        [52n, KAI(25_000)],
        [78n, KAI(12_500)],
        [260n, KAI("97.65625")], // 10 halvings: 100,000 / 1,024
      ];
      for (const [epoch, budget] of ROWS) {
        it(`is ${ethers.formatUnits(budget, 18)} KAI at epoch ${epoch}`, async function () {
          const c = await loadFixture(deployOracle);
          expect(await c.oracle.epochBudget(epoch), "epochBudget").to.equal(budget);
        });
      }

      it("is 0 after 128 halvings (epoch 26 x 128)", async function () {
        const c = await loadFixture(deployOracle);
        expect(await c.oracle.epochBudget(HALVING_EPOCHS * 128n), "epochBudget").to.equal(0n);
      });
    });

    describe("given the largest initial emission (2^128 - 1) halving every epoch", function () {
      const ROWS: [string, bigint, bigint][] = [
        ["epoch 0", 0n, UINT128_MAX],
        ["epoch 1", 1n, 2n ** 127n - 1n],
        ["epoch 127 (127 halvings)", 127n, 1n],
        ["epoch 128 (128 halvings)", 128n, 0n],
        ["epoch 129", 129n, 0n],
        ["epoch 2^255", 2n ** 255n, 0n],
        ["epoch 2^256 - 1", ethers.MaxUint256, 0n],
      ];
      for (const [name, epoch, budget] of ROWS) {
        it(`is ${budget} at ${name}`, async function () {
          const c = await loadFixture(deployOracle);
          await c.oracle.setEmissionSchedule(UINT128_MAX, 1);
          expect(await c.oracle.epochBudget(epoch), "epochBudget").to.equal(budget);
        });
      }
    });

    describe("given the longest halving period (2^48 - 1 epochs)", function () {
      it("is the initial emission at epoch 2^48 - 2", async function () {
        const c = await loadFixture(deployOracle);
        await c.oracle.setEmissionSchedule(INITIAL_EMISSION, UINT48_MAX);
        expect(await c.oracle.epochBudget(UINT48_MAX - 1n), "epochBudget").to.equal(INITIAL_EMISSION);
      });

      it("halves at epoch 2^48 - 1", async function () {
        const c = await loadFixture(deployOracle);
        await c.oracle.setEmissionSchedule(INITIAL_EMISSION, UINT48_MAX);
        expect(await c.oracle.epochBudget(UINT48_MAX), "epochBudget").to.equal(KAI(50_000));
      });
    });
  });

  describe("epochStart / epochAt (60-second epochs)", function () {
    it("epochStart(0) is genesis", async function () {
      const c = await loadFixture(deployOracle);
      expect(await c.oracle.epochStart(0), "epochStart(0)").to.equal(c.genesis);
    });

    it("epochStart(5) is genesis + 300", async function () {
      const c = await loadFixture(deployOracle);
      expect(await c.oracle.epochStart(5), "epochStart(5)").to.equal(c.genesis + 300n);
    });

    // Offsets from genesis and the epoch running then, by hand.
    const AT: [string, (genesis: bigint) => bigint, bigint][] = [
      ["timestamp 0", () => 0n, 0n],
      ["1 s before genesis", (g) => g - 1n, 0n],
      ["genesis", (g) => g, 0n],
      ["genesis + 59", (g) => g + 59n, 0n],
      ["genesis + 60", (g) => g + 60n, 1n],
      ["genesis + 119", (g) => g + 119n, 1n],
      ["genesis + 60,030", (g) => g + 60_030n, 1_000n],
    ];
    for (const [name, at, epoch] of AT) {
      it(`epochAt(${name}) is ${epoch}`, async function () {
        const c = await loadFixture(deployOracle);
        expect(await c.oracle.epochAt(at(c.genesis)), "epochAt").to.equal(epoch);
      });
    }

    it("epochAt(epochStart(e)) is e for e = 0, 1, 26, 10,000", async function () {
      const c = await loadFixture(deployOracle);
      const epochs = [0n, 1n, 26n, 10_000n];
      const back = await Promise.all(epochs.map(async (e) => c.oracle.epochAt(await c.oracle.epochStart(e))));
      expect(back, "round trip").to.deep.equal(epochs);
    });
  });

  describe("constructor", function () {
    describe("when every argument is valid", function () {
      it("stores the registry, license, treasury, genesis and epoch length", async function () {
        const c = await loadFixture(deployBareOracle);
        expect(
          [
            await c.oracle.registry(),
            await c.oracle.license(),
            await c.oracle.treasury(),
            await c.oracle.genesis(),
            await c.oracle.epochLength(),
          ],
          "immutables",
        ).to.deep.equal([
          await c.registry.getAddress(),
          await c.license.getAddress(),
          c.treasury.address,
          c.genesis,
          BigInt(EPOCH_LENGTH),
        ]);
      });

      it("grants the admin DEFAULT_ADMIN_ROLE", async function () {
        const c = await loadFixture(deployBareOracle);
        expect(await c.oracle.hasRole(ORACLE_ROLES.DEFAULT_ADMIN, c.admin.address), "admin").to.equal(true);
      });

      it("grants the admin CONFIG_ROLE", async function () {
        const c = await loadFixture(deployBareOracle);
        expect(await c.oracle.hasRole(ORACLE_ROLES.CONFIG, c.admin.address), "config").to.equal(true);
      });

      it("starts with no minimum stake, no penalty, a 10% bounty and no emission", async function () {
        const c = await loadFixture(deployBareOracle);
        expect(
          [
            await c.oracle.minCheckerStake(),
            await c.oracle.equivocationPenalty(),
            await c.oracle.equivocationBountyBps(),
            [...(await c.oracle.emission())],
          ],
          "defaults",
        ).to.deep.equal([0n, 0n, DEFAULT_BOUNTY_BPS, [0n, 0n]]);
      });

      it("starts with no checker set (config() zero, checkers() empty)", async function () {
        const c = await loadFixture(deployBareOracle);
        expect([[...(await c.oracle.config())], await c.oracle.checkers()], "config, checkers").to.deep.equal([
          [0n, 0n, 0n, false],
          [],
        ]);
      });

      it("binds the EIP-712 domain the off-chain encoder uses (ERC-5267 eip712Domain)", async function () {
        const c = await loadFixture(deployBareOracle);
        const d = await c.oracle.eip712Domain();
        const expected = reportDomain((await ethers.provider.getNetwork()).chainId, await c.oracle.getAddress());
        expect([d.name, d.version, d.chainId, d.verifyingContract], "domain").to.deep.equal([
          expected.name,
          expected.version,
          expected.chainId,
          expected.verifyingContract,
        ]);
      });

      it("exposes the Report type hash of the off-chain types", async function () {
        const c = await loadFixture(deployBareOracle);
        const typeString =
          "Report(uint256 epoch,uint256 configVersion,bytes32 root,uint256 nodeCount,uint256 totalReward," +
          "uint256 totalCapacityPoints,uint256 totalDeliveryPoints)";
        expect(await c.oracle.REPORT_TYPEHASH(), "REPORT_TYPEHASH").to.equal(ethers.id(typeString));
      });
    });

    // Constructor arguments: admin, registry, license, treasury, genesis, epochLength.
    const ZERO_ARGS: [string, number][] = [
      ["admin", 0],
      ["registry", 1],
      ["license", 2],
      ["treasury", 3],
    ];
    for (const [name, position] of ZERO_ARGS) {
      it(`reverts with ZeroAddress for a zero ${name}`, async function () {
        const c = await loadFixture(deployBareOracle);
        const args: unknown[] = [...c.args];
        args[position] = ethers.ZeroAddress;
        const factory = await ethers.getContractFactory("ReportOracle");
        await expect(factory.deploy(...(args as Parameters<typeof factory.deploy>))).to.be.revertedWithCustomError(
          factory,
          "ReportOracle_ZeroAddress",
        );
      });
    }

    for (const length of [0n, MIN_EPOCH_LENGTH - 1n, MAX_EPOCH_LENGTH + 1n]) {
      it(`reverts with ParameterOutOfBounds("epochLength", ${length}, 10, 31536000)`, async function () {
        const c = await loadFixture(deployBareOracle);
        const factory = await ethers.getContractFactory("ReportOracle");
        const [admin, registry, license, treasury, genesis] = c.args;
        await expect(factory.deploy(admin, registry, license, treasury, genesis, length))
          .to.be.revertedWithCustomError(factory, "ReportOracle_ParameterOutOfBounds")
          .withArgs("epochLength", length, MIN_EPOCH_LENGTH, MAX_EPOCH_LENGTH);
      });
    }

    for (const length of [MIN_EPOCH_LENGTH, MAX_EPOCH_LENGTH]) {
      it(`accepts an epoch length of ${length} s (a bound)`, async function () {
        const c = await loadFixture(deployBareOracle);
        const [admin, registry, license, treasury, genesis] = c.args;
        const oracle = await ethers.deployContract("ReportOracle", [
          admin,
          registry,
          license,
          treasury,
          genesis,
          length,
        ]);
        expect(await oracle.epochLength(), "epochLength").to.equal(length);
      });
    }
  });
});
