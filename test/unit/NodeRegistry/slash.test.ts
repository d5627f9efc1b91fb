import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { KAI, NodeStatus } from "../../fixtures";
import {
  ACTIVE_AFTER_UNBONDING,
  DEFAULT_REQUIRED_STAKE,
  REWARDS,
  ROLES,
  UNBONDING,
  atNextBlock,
  deployPaused,
  deployWithAllStakeKinds,
  deployWithEscrowCaller,
  deployWithRetiredNode,
  expectStake,
} from "../../helpers/registry";
import { expectPaysProvider } from "../../helpers/registryCases";
import { expectRevert } from "../../helpers/reverts";

/**
 * The provider in `deployWithAllStakeKinds` holds 500 KAI rewards owed, 18,000 KAI active stake
 * and 6,000 KAI unbonding: 24,500 KAI slashable in all.
 */
const TOTAL = REWARDS + ACTIVE_AFTER_UNBONDING + UNBONDING;
const REASON = 3;
const EVIDENCE = ethers.id("report-leaf-42");

describe("NodeRegistry.slash", function () {
  type Fixture = Awaited<ReturnType<typeof deployWithEscrowCaller>>;
  function slash(c: Fixture, amount: bigint, provider = c.provider.address, nodeId: bigint | number = c.nodeId) {
    return c.registry.connect(c.oracle).slash(provider, amount, nodeId, REASON, EVIDENCE, c.treasury.address);
  }

  /** Expects `tx` to emit the provider's Slash event taking `fromRewards` / `fromStake` / `fromUnbonding`. */
  async function expectSlashEvent(
    c: Fixture,
    tx: Promise<unknown>,
    fromRewards: bigint | number,
    fromStake: bigint | number,
    fromUnbonding: bigint | number,
  ) {
    await expect(tx)
      .to.emit(c.registry, "Slash")
      .withArgs(
        c.provider.address,
        c.nodeId,
        REASON,
        EVIDENCE,
        fromRewards,
        fromStake,
        fromUnbonding,
        c.treasury.address,
      );
  }

  describe("when the caller lacks SLASHER_ROLE", function () {
    it("reverts with AccessControlUnauthorizedAccount(caller, SLASHER_ROLE)", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await expect(
        c.registry.connect(c.admin).slash(c.provider.address, 1, c.nodeId, REASON, EVIDENCE, c.treasury.address),
      )
        .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
        .withArgs(c.admin.address, ROLES.SLASHER);
    });
  });

  describe("when the recipient is the zero address", function () {
    it("reverts with ZeroAddress", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await expect(
        c.registry.connect(c.oracle).slash(c.provider.address, 1, c.nodeId, REASON, EVIDENCE, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(c.registry, "NodeRegistry_ZeroAddress");
    });
  });

  describe("when the provider is the zero address", function () {
    it("reverts with ZeroAddress", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await expectRevert(c.registry, slash(c, 1n, ethers.ZeroAddress), "NodeRegistry_ZeroAddress");
    });
  });

  describe("when the node is not the provider's", function () {
    it("reverts with NotNodeProvider(nodeId, provider)", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await expect(slash(c, 1n, c.provider2.address))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_NotNodeProvider")
        .withArgs(c.nodeId, c.provider2.address);
    });
  });

  describe("given rewards, active and unbonding stake", function () {
    describe("when the amount fits in the rewards owed (300 KAI)", function () {
      it("emits Slash with 300 from rewards only", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await expectSlashEvent(c, slash(c, KAI(300)), KAI(300), 0, 0);
      });

      it("moves 300 KAI from the registry to the recipient", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await expect(slash(c, KAI(300))).to.changeTokenBalances(
          c.kai,
          [c.registry, c.treasury, c.provider],
          [-KAI(300), KAI(300), 0],
        );
      });

      it("leaves 200 KAI owed and the stake untouched", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await slash(c, KAI(300));
        await expectStake(c.registry, c.provider.address, {
          rewardsOwed: REWARDS - KAI(300),
          staked: ACTIVE_AFTER_UNBONDING,
          unbonding: UNBONDING,
        });
      });
    });

    describe("when the amount equals the rewards owed (500 KAI)", function () {
      it("takes all rewards and no stake", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await slash(c, REWARDS);
        await expectStake(c.registry, c.provider.address, {
          rewardsOwed: 0n,
          staked: ACTIVE_AFTER_UNBONDING,
          unbonding: UNBONDING,
        });
      });
    });

    describe("when the amount spans rewards and active stake (2,500 KAI)", function () {
      it("emits Slash with 500 from rewards and 2,000 from stake", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await expectSlashEvent(c, slash(c, KAI(2_500)), REWARDS, KAI(2_000), 0);
      });

      it("leaves 16,000 staked and the unbonding stake untouched", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await slash(c, KAI(2_500));
        await expectStake(c.registry, c.provider.address, {
          rewardsOwed: 0n,
          staked: ACTIVE_AFTER_UNBONDING - KAI(2_000),
          unbonding: UNBONDING,
        });
      });
    });

    describe("when the amount reaches the unbonding stake (20,000 KAI)", function () {
      it("emits Slash with 500 / 18,000 / 1,500", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await expectSlashEvent(c, slash(c, KAI(20_000)), REWARDS, ACTIVE_AFTER_UNBONDING, KAI(1_500));
      });

      it("leaves 4,500 unbonding, keeping its end", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await slash(c, KAI(20_000));
        await expectStake(c.registry, c.provider.address, {
          rewardsOwed: 0n,
          staked: 0n,
          unbonding: UNBONDING - KAI(1_500),
          unbondingEnd: c.unbondingEnd,
        });
      });

      it("reduces the later withdrawal to 4,500 KAI (threat 9)", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await slash(c, KAI(20_000));
        await time.increaseTo(c.unbondingEnd);
        await expectPaysProvider(c, c.registry.connect(c.provider).withdrawUnstaked(), UNBONDING - KAI(1_500));
      });
    });

    describe("when the amount is exactly everything (100% slash, 24,500 KAI)", function () {
      it("moves 24,500 KAI to the recipient", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await expect(slash(c, TOTAL)).to.changeTokenBalances(c.kai, [c.registry, c.treasury], [-TOTAL, TOTAL]);
      });

      it("zeroes rewards, stake and unbonding", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await slash(c, TOTAL);
        await expectStake(c.registry, c.provider.address, { rewardsOwed: 0n, staked: 0n, unbonding: 0n });
      });

      it("returns 24,500 KAI", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        const taken = await c.registry
          .connect(c.oracle)
          .slash.staticCall(c.provider.address, TOTAL, c.nodeId, REASON, EVIDENCE, c.treasury.address);
        expect(taken, "taken").to.equal(TOTAL);
      });
    });

    describe("when the amount exceeds everything (1,000,000 KAI)", function () {
      it("caps at 24,500 KAI: emits 500 / 18,000 / 6,000", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await expectSlashEvent(c, slash(c, KAI(1_000_000)), REWARDS, ACTIVE_AFTER_UNBONDING, UNBONDING);
      });

      it("moves only 24,500 KAI", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await expect(slash(c, KAI(1_000_000))).to.changeTokenBalances(c.kai, [c.registry, c.treasury], [-TOTAL, TOTAL]);
      });

      it("records a penalty of 24,500 KAI (what was taken, not asked)", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await slash(c, KAI(1_000_000));
        expect((await c.registry.penaltyAt(c.provider.address, 0)).amount, "penalty.amount").to.equal(TOTAL);
      });
    });

    describe("when the amount is uint256 max", function () {
      it("caps without overflow", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await expect(slash(c, ethers.MaxUint256)).to.changeTokenBalances(
          c.kai,
          [c.registry, c.treasury],
          [-TOTAL, TOTAL],
        );
      });
    });

    describe("when the amount is 0", function () {
      it("emits Slash with zeros and records a 0 penalty", async function () {
        const c = await loadFixture(deployWithAllStakeKinds);
        await expectSlashEvent(c, slash(c, 0n), 0, 0, 0);
      });
    });
  });

  describe("when the slash is valid", function () {
    it("records the penalty: amount, time, reason, nodeId, evidence", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      const at = await atNextBlock();
      await slash(c, KAI(2_500));
      // Destructure by position: `.at` is shadowed by Result.at() at runtime.
      const [amount, penaltyAt, reason, nodeId, evidence] = await c.registry.penaltyAt(c.provider.address, 0);
      expect(amount, "penalty.amount").to.equal(KAI(2_500));
      expect(penaltyAt, "penalty.at").to.equal(at);
      expect(reason, "penalty.reason").to.equal(REASON);
      expect(nodeId, "penalty.nodeId").to.equal(c.nodeId);
      expect(evidence, "penalty.evidence").to.equal(EVIDENCE);
    });

    it("increments penaltyCount", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await slash(c, KAI(1));
      expect(await c.registry.penaltyCount(c.provider.address), "penaltyCount").to.equal(1);
    });

    it("pays any recipient (e.g. the escrow, for SLA credits)", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await expect(
        c.registry
          .connect(c.oracle)
          .slash(c.provider.address, KAI(700), c.nodeId, REASON, EVIDENCE, await c.escrow.getAddress()),
      ).to.changeTokenBalances(c.kai, [c.registry, c.escrow], [-KAI(700), KAI(700)]);
    });

    it("does not change the node's status (jailing is separate)", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await slash(c, KAI(2_500));
      expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Active);
    });

    it("does not change the listing requirement", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await slash(c, KAI(2_500));
      expect(await c.registry.requiredStake(c.provider.address), "requiredStake").to.equal(DEFAULT_REQUIRED_STAKE);
    });
  });

  describe("when the fault is not tied to a node (nodeId 0)", function () {
    it("records nodeId 0", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await slash(c, KAI(1), c.provider.address, 0);
      expect((await c.registry.penaltyAt(c.provider.address, 0)).nodeId, "penalty.nodeId").to.equal(0);
    });
  });

  describe("given the provider was already slashed 100%", function () {
    it("takes nothing: emits Slash with zeros", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await slash(c, TOTAL);
      await expectSlashEvent(c, slash(c, KAI(1_000)), 0, 0, 0);
    });

    it("moves no KAI", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await slash(c, TOTAL);
      await expect(slash(c, KAI(1_000))).to.changeTokenBalances(c.kai, [c.registry, c.treasury], [0, 0]);
    });

    it("records a second penalty of 0", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await slash(c, TOTAL);
      await slash(c, KAI(1_000));
      expect(await c.registry.penaltyCount(c.provider.address), "penaltyCount").to.equal(2);
      expect((await c.registry.penaltyAt(c.provider.address, 1)).amount, "penalty[1].amount").to.equal(0);
    });

    it("leaves the provider unable to rent out its node (InsufficientStake with 0 staked)", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await slash(c, TOTAL);
      await expect(c.registry.connect(c.escrowCaller).reserveGpus(c.nodeId, 1, c.usdAddress, false))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InsufficientStake")
        .withArgs(c.provider.address, 0, DEFAULT_REQUIRED_STAKE);
    });
  });

  describe("given the provider was slashed partly before", function () {
    it("takes the next slash from what is left", async function () {
      const c = await loadFixture(deployWithAllStakeKinds);
      await slash(c, KAI(2_500));
      await expectSlashEvent(c, slash(c, KAI(20_000)), 0, ACTIVE_AFTER_UNBONDING - KAI(2_000), KAI(4_000));
    });
  });

  describe("given the provider has no stake at all", function () {
    it("emits Slash with zeros", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(slash(c, KAI(1_000), c.provider2.address, 0))
        .to.emit(c.registry, "Slash")
        .withArgs(c.provider2.address, 0, REASON, EVIDENCE, 0, 0, 0, c.treasury.address);
    });

    it("moves no KAI", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await expect(slash(c, KAI(1_000), c.provider2.address, 0)).to.changeTokenBalances(
        c.kai,
        [c.registry, c.treasury],
        [0, 0],
      );
    });

    it("records a penalty of 0", async function () {
      const c = await loadFixture(deployWithEscrowCaller);
      await slash(c, KAI(1_000), c.provider2.address, 0);
      expect(await c.registry.penaltyCount(c.provider2.address), "penaltyCount").to.equal(1);
      expect((await c.registry.penaltyAt(c.provider2.address, 0)).amount, "penalty.amount").to.equal(0);
    });
  });

  describe("given the provider retired its node and is unbonding everything (threat 11)", function () {
    it("still slashes the unbonding stake", async function () {
      const c = await loadFixture(deployWithRetiredNode);
      await c.registry.connect(c.provider).requestUnstake(DEFAULT_REQUIRED_STAKE);
      await expectSlashEvent(c, slash(c, KAI(5_000)), 0, 0, KAI(5_000));
    });

    it("reduces the later withdrawal by the slash", async function () {
      const c = await loadFixture(deployWithRetiredNode);
      await c.registry.connect(c.provider).requestUnstake(DEFAULT_REQUIRED_STAKE);
      const end = (await c.registry.getStake(c.provider.address)).unbondingEnd;
      await slash(c, KAI(5_000));
      await time.increaseTo(end);
      await expectPaysProvider(
        c,
        c.registry.connect(c.provider).withdrawUnstaked(),
        DEFAULT_REQUIRED_STAKE - KAI(5_000),
      );
    });
  });

  describe("given the provider withdrew everything (threat 31)", function () {
    async function withdrawnEverything() {
      const c = await deployWithRetiredNode();
      await c.registry.connect(c.provider).requestUnstake(DEFAULT_REQUIRED_STAKE);
      await time.increase(14 * 86_400);
      await c.registry.connect(c.provider).withdrawUnstaked();
      return c;
    }

    it("does not revert and emits Slash with zeros", async function () {
      const c = await loadFixture(withdrawnEverything);
      await expectSlashEvent(c, slash(c, KAI(5_000)), 0, 0, 0);
    });

    it("moves no KAI (no over-penalty)", async function () {
      const c = await loadFixture(withdrawnEverything);
      await expect(slash(c, KAI(5_000))).to.changeTokenBalances(c.kai, [c.registry, c.treasury, c.provider], [0, 0, 0]);
    });
  });

  describe("given the registry is paused", function () {
    it("still slashes", async function () {
      const c = await loadFixture(deployPaused);
      await expect(slash(c, KAI(300))).to.changeTokenBalances(c.kai, [c.registry, c.treasury], [-KAI(300), KAI(300)]);
    });
  });
});
