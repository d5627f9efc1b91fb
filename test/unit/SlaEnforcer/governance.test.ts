/**
 * SlaEnforcer construction and governance (DEFAULT_ADMIN_ROLE): the downtime policy, the fraud
 * share, KAI rates per payment token (at most MAX_KAI_PER_TOKEN = 1e40), the slash recipient, and
 * releasing jailed nodes, which also forgives them: both of the node's "slashable from" cursors move
 * to the epoch after the release's, so evidence from before (the release's epoch included) can no
 * longer slash it.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { KAI, NodeStatus, RentalStatus } from "../../fixtures";
import {
  atTime,
  DEFAULT_POLICY,
  deploySla,
  epochBounds,
  MAX_KAI_PER_TOKEN,
  metricsWith,
  openSlaRental,
  Reason,
  releaseCursor,
  reportNodes,
  revertsEvidenceTooOld,
  SLA_ROLES,
  slaRentParams,
  SLASH_WINDOW,
  slashableFromOf,
  type SlaFixture,
} from "../../helpers/sla";
import { REASON_EQUIVOCATION } from "../../helpers/oracleTests";
import { rewardLeafHash } from "../../../offchain/src/leaves";
import { PenaltyReason, PenaltyReasonNames, penaltyCode, penaltyReasonOf } from "../../../offchain/src/vocabulary";

/** `policy()` as a plain tuple. */
async function policyOf(c: SlaFixture) {
  return [...(await c.sla.policy())];
}

/** `deploySla`, then node A jailed by a fraud slash for epoch 2 (mined early in epoch 3). */
async function deployJailed() {
  const c = await deploySla();
  const [p2] = await reportNodes(c, 2n, [{ nodeId: c.nodeId, metrics: metricsWith(9_999n, true) }]);
  await c.sla.slashForHardwareFraud(p2);
  return { ...c, p2 };
}

/** `deployJailed`, then governance releases node A 30 s into epoch 3: its cursors move to 4. */
async function deployReleased() {
  const c = await deployJailed();
  const releasedAt = epochBounds(c, 3n).from + 30n;
  const release = await atTime(releasedAt, () => c.sla.connect(c.admin).releaseNode(c.nodeId));
  return { ...c, release, releasedAt };
}

/**
 * A 1-GPU rental of node A from 10 s into epoch 2; epoch 2 reported at 80.00% with a hardware
 * mismatch, epoch 3 at 80.00%: a downtime of epochs 2-3 and a fraud in epoch 2. The fraud slash
 * jails the node (the downtime is not slashed yet) and governance releases it 30 s into epoch 4.
 */
async function deployDowntimeForgiven() {
  const c = await deploySla();
  const rentalId = await atTime(epochBounds(c, 2n).from + 10n, () => openSlaRental(c, { slaTier: 1 }));
  const [p2] = await reportNodes(c, 2n, [{ nodeId: c.nodeId, metrics: metricsWith(8_000n, true) }]);
  const [p3] = await reportNodes(c, 3n, [{ nodeId: c.nodeId, metrics: metricsWith(8_000n, false, 3) }]);
  await c.sla.slashForHardwareFraud(p2);
  await atTime(epochBounds(c, 4n).from + 30n, () => c.sla.connect(c.admin).releaseNode(c.nodeId));
  return { ...c, rentalId, p2, p3 };
}

/** Every admin setter, called through `sla` (connected to the caller). */
const ADMIN_ONLY: { name: string; call: (c: SlaFixture, sla: SlaFixture["sla"]) => Promise<unknown> }[] = [
  { name: "setDowntimePolicy", call: (_c, sla) => sla.setDowntimePolicy(9_000, 2, 3_333) },
  { name: "setFraudSlashBps", call: (_c, sla) => sla.setFraudSlashBps(5_000) },
  { name: "setKaiPerToken", call: async (c, sla) => sla.setKaiPerToken(await c.usd.getAddress(), 1n) },
  { name: "setSlashRecipient", call: (c, sla) => sla.setSlashRecipient(c.other.address) },
  { name: "releaseNode", call: (c, sla) => sla.releaseNode(c.nodeId) },
  { name: "setSlashWindow", call: (_c, sla) => sla.setSlashWindow(120) },
  { name: "setStakeCreditCapBps", call: (_c, sla) => sla.setStakeCreditCapBps(500) },
];

describe("SlaEnforcer governance", function () {
  describe("constructor", function () {
    it("wires the oracle, the escrow, the escrow's registry and the slash recipient", async function () {
      const c = await loadFixture(deploySla);
      expect(await c.sla.oracle(), "oracle").to.equal(await c.oracle.getAddress());
      expect(await c.sla.escrow(), "escrow").to.equal(await c.escrow.getAddress());
      expect(await c.sla.registry(), "registry").to.equal(await c.registry.getAddress());
      expect(await c.sla.slashRecipient(), "slashRecipient").to.equal(c.treasury.address);
    });

    it("starts with Aethir's policy: below 90% for 2 epochs slashes 33.33%, fraud 100%; no KAI rates", async function () {
      const c = await loadFixture(deploySla);
      expect(await policyOf(c), "policy").to.deep.equal([
        DEFAULT_POLICY.downtimeThresholdBps,
        DEFAULT_POLICY.downtimeEpochs,
        DEFAULT_POLICY.downtimeSlashBps,
        DEFAULT_POLICY.fraudSlashBps,
      ]);
      expect(await c.sla.kaiPerToken(await c.usd.getAddress()), "USD rate").to.equal(0n);
      expect(await c.sla.kaiPerToken(await c.kai.getAddress()), "KAI rate").to.equal(0n);
    });

    it("records the penalty reasons (PenaltyReason, generated for offchain) as codes 1, 2, 3, 4 and 100", function () {
      // The Slash events of the SlaEnforcer's and the oracle's tests carry these codes (Reason, REASON_EQUIVOCATION).
      const codes = PenaltyReasonNames.slice(1).map((name) => penaltyCode(PenaltyReason[name]));
      expect(codes).to.deep.equal([
        Reason.SlaCredit,
        Reason.Downtime,
        Reason.HardwareFraud,
        Reason.SavingRefund,
        REASON_EQUIVOCATION,
      ]);
      expect(penaltyReasonOf(100), "code 100").to.equal(PenaltyReason.Equivocation);
      expect(penaltyReasonOf(PenaltyReason.Equivocation), "the enum value of Equivocation is no code").to.equal(
        undefined,
      );
    });

    it("exposes at most 12 downtime epochs and a KAI rate of at most 1e40", async function () {
      const c = await loadFixture(deploySla);
      expect(await c.sla.MAX_DOWNTIME_EPOCHS(), "max epochs").to.equal(12n);
      expect(await c.sla.MAX_KAI_PER_TOKEN(), "max KAI per token").to.equal(10n ** 40n);
    });

    it("grants DEFAULT_ADMIN_ROLE to `admin` only (not the deployer), and emits the initial policy", async function () {
      const c = await loadFixture(deploySla);
      const sla = await ethers.deployContract("SlaEnforcer", [
        await c.oracle.getAddress(),
        await c.escrow.getAddress(),
        c.other.address,
        c.treasury.address,
        SLASH_WINDOW,
      ]);
      expect(await sla.hasRole(SLA_ROLES.DEFAULT_ADMIN, c.other.address), "admin").to.be.true;
      expect(await sla.hasRole(SLA_ROLES.DEFAULT_ADMIN, c.admin.address), "deployer").to.be.false;
      const tx = sla.deploymentTransaction()!;
      await expect(tx).to.emit(sla, "SetDowntimePolicy").withArgs(9_000n, 2n, 3_333n);
      await expect(tx).to.emit(sla, "SetFraudSlashBps").withArgs(10_000n);
      await expect(tx).to.emit(sla, "SetSlashWindow").withArgs(SLASH_WINDOW);
      expect(await sla.stakeCreditCapBps(), "default cap").to.equal(1_000n);
      expect(await c.registry.slashLatency(), "no push without the role").to.equal(await c.sla.slashLatency());
    });

    for (const i of [0, 1, 2, 3]) {
      const names = ["oracle", "escrow", "admin", "slash recipient"];
      it(`reverts with ZeroAddress for a zero ${names[i]}`, async function () {
        const c = await loadFixture(deploySla);
        const args = [await c.oracle.getAddress(), await c.escrow.getAddress(), c.admin.address, c.treasury.address];
        args[i] = ethers.ZeroAddress;
        const factory = await ethers.getContractFactory("SlaEnforcer");
        await expect(factory.deploy(args[0], args[1], args[2], args[3], SLASH_WINDOW)).to.be.revertedWithCustomError(
          c.sla,
          "SlaEnforcer_ZeroAddress",
        );
      });
    }
  });

  describe("access control", function () {
    for (const { name, call } of ADMIN_ONLY) {
      it(`${name} reverts with AccessControlUnauthorizedAccount(caller, DEFAULT_ADMIN_ROLE) for others`, async function () {
        const c = await loadFixture(deployJailed);
        for (const who of [c.other, c.treasury, c.provider, c.keeper]) {
          await expect(call(c, c.sla.connect(who)))
            .to.be.revertedWithCustomError(c.sla, "AccessControlUnauthorizedAccount")
            .withArgs(who.address, SLA_ROLES.DEFAULT_ADMIN);
        }
      });
    }

    it("follows the role: a new admin (the timelock) may govern once granted, the old one not once renounced", async function () {
      const c = await loadFixture(deploySla);
      await c.sla.connect(c.admin).grantRole(SLA_ROLES.DEFAULT_ADMIN, c.other.address);
      await c.sla.connect(c.admin).renounceRole(SLA_ROLES.DEFAULT_ADMIN, c.admin.address);
      await expect(c.sla.connect(c.other).setFraudSlashBps(1)).to.emit(c.sla, "SetFraudSlashBps").withArgs(1n);
      await expect(c.sla.connect(c.admin).setFraudSlashBps(2))
        .to.be.revertedWithCustomError(c.sla, "AccessControlUnauthorizedAccount")
        .withArgs(c.admin.address, SLA_ROLES.DEFAULT_ADMIN);
    });
  });

  describe("setDowntimePolicy", function () {
    it("sets threshold, epochs and share, emits SetDowntimePolicy, and leaves the fraud share", async function () {
      const c = await loadFixture(deploySla);
      await expect(c.sla.connect(c.admin).setDowntimePolicy(9_500, 3, 5_000))
        .to.emit(c.sla, "SetDowntimePolicy")
        .withArgs(9_500n, 3n, 5_000n);
      expect(await policyOf(c), "policy").to.deep.equal([9_500n, 3n, 5_000n, 10_000n]);
    });

    for (const [threshold, epochs, share] of [
      [1, 1, 1],
      [10_000, 12, 10_000],
    ]) {
      it(`accepts the bounds (${threshold}, ${epochs}, ${share})`, async function () {
        const c = await loadFixture(deploySla);
        await c.sla.connect(c.admin).setDowntimePolicy(threshold, epochs, share);
        expect(await policyOf(c), "policy").to.deep.equal([BigInt(threshold), BigInt(epochs), BigInt(share), 10_000n]);
      });
    }

    const OUT: [string, [number, number, number], [string, number, number, number]][] = [
      ["a threshold of 0", [0, 2, 3_333], ["downtimeThresholdBps", 0, 1, 10_000]],
      ["a threshold of 10,001", [10_001, 2, 3_333], ["downtimeThresholdBps", 10_001, 1, 10_000]],
      ["0 epochs", [9_000, 0, 3_333], ["downtimeEpochs", 0, 1, 12]],
      ["13 epochs", [9_000, 13, 3_333], ["downtimeEpochs", 13, 1, 12]],
      ["a share of 0", [9_000, 2, 0], ["downtimeSlashBps", 0, 1, 10_000]],
      ["a share of 10,001", [9_000, 2, 10_001], ["downtimeSlashBps", 10_001, 1, 10_000]],
      ["all three out (the threshold is checked first)", [0, 0, 0], ["downtimeThresholdBps", 0, 1, 10_000]],
      ["epochs and share out (epochs checked before the share)", [9_000, 13, 0], ["downtimeEpochs", 13, 1, 12]],
    ];
    for (const [name, args, error] of OUT) {
      it(`reverts with ParameterOutOfBounds(${error.join(", ")}) for ${name}`, async function () {
        const c = await loadFixture(deploySla);
        await expect(c.sla.connect(c.admin).setDowntimePolicy(...args))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_ParameterOutOfBounds")
          .withArgs(...error);
      });
    }

    it("rejects a threshold that would wrap in 16 bits (65,536 + 9,000)", async function () {
      const c = await loadFixture(deploySla);
      await expect(c.sla.connect(c.admin).setDowntimePolicy(65_536 + 9_000, 2, 3_333))
        .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_ParameterOutOfBounds")
        .withArgs("downtimeThresholdBps", 65_536 + 9_000, 1, 10_000);
    });
  });

  describe("setFraudSlashBps", function () {
    it("sets the share, emits SetFraudSlashBps, and leaves the downtime policy", async function () {
      const c = await loadFixture(deploySla);
      await expect(c.sla.connect(c.admin).setFraudSlashBps(2_500)).to.emit(c.sla, "SetFraudSlashBps").withArgs(2_500n);
      expect(await policyOf(c), "policy").to.deep.equal([9_000n, 2n, 3_333n, 2_500n]);
    });

    for (const bps of [1, 10_000]) {
      it(`accepts ${bps}`, async function () {
        const c = await loadFixture(deploySla);
        await c.sla.connect(c.admin).setFraudSlashBps(bps);
        expect((await c.sla.policy()).fraudSlashBps, "fraudSlashBps").to.equal(BigInt(bps));
      });
    }

    for (const bps of [0, 10_001]) {
      it(`reverts with ParameterOutOfBounds("fraudSlashBps", ${bps}, 1, 10000) for ${bps}`, async function () {
        const c = await loadFixture(deploySla);
        await expect(c.sla.connect(c.admin).setFraudSlashBps(bps))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_ParameterOutOfBounds")
          .withArgs("fraudSlashBps", bps, 1, 10_000);
      });
    }
  });

  describe("setKaiPerToken", function () {
    it("sets the rate of one token, emits SetKaiPerToken, and leaves the others", async function () {
      const c = await loadFixture(deploySla);
      const usd = await c.usd.getAddress();
      await expect(c.sla.connect(c.admin).setKaiPerToken(usd, 10n ** 31n))
        .to.emit(c.sla, "SetKaiPerToken")
        .withArgs(usd, 10n ** 31n);
      expect(await c.sla.kaiPerToken(usd), "USD").to.equal(10n ** 31n);
      expect(await c.sla.kaiPerToken(await c.kai.getAddress()), "KAI").to.equal(0n);
    });

    it("accepts 0, which turns the stake part off for the token", async function () {
      const c = await loadFixture(deploySla);
      const usd = await c.usd.getAddress();
      await c.sla.connect(c.admin).setKaiPerToken(usd, 5n);
      await expect(c.sla.connect(c.admin).setKaiPerToken(usd, 0n)).to.emit(c.sla, "SetKaiPerToken").withArgs(usd, 0n);
      expect(await c.sla.kaiPerToken(usd), "USD").to.equal(0n);
    });

    it("reverts with ZeroAddress for the zero token", async function () {
      const c = await loadFixture(deploySla);
      await expect(c.sla.connect(c.admin).setKaiPerToken(ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(
        c.sla,
        "SlaEnforcer_ZeroAddress",
      );
    });

    it("accepts the bound itself, 1e40", async function () {
      const c = await loadFixture(deploySla);
      const usd = await c.usd.getAddress();
      await expect(c.sla.connect(c.admin).setKaiPerToken(usd, MAX_KAI_PER_TOKEN))
        .to.emit(c.sla, "SetKaiPerToken")
        .withArgs(usd, MAX_KAI_PER_TOKEN);
      expect(await c.sla.kaiPerToken(usd), "USD").to.equal(MAX_KAI_PER_TOKEN);
    });

    for (const [name, rate] of [
      ["1e40 + 1", MAX_KAI_PER_TOKEN + 1n],
      ["2^256 - 1", ethers.MaxUint256],
    ] as const) {
      it(`reverts with ParameterOutOfBounds("kaiPerToken", ${name}, 0, 1e40) above the bound, and keeps the rate`, async function () {
        const c = await loadFixture(deploySla);
        const usd = await c.usd.getAddress();
        await c.sla.connect(c.admin).setKaiPerToken(usd, 5n);
        await expect(c.sla.connect(c.admin).setKaiPerToken(usd, rate))
          .to.be.revertedWithCustomError(c.sla, "SlaEnforcer_ParameterOutOfBounds")
          .withArgs("kaiPerToken", rate, 0n, MAX_KAI_PER_TOKEN);
        expect(await c.sla.kaiPerToken(usd), "USD").to.equal(5n);
      });
    }

    it("checks the token before the rate: ZeroAddress for the zero token with an out-of-bounds rate", async function () {
      const c = await loadFixture(deploySla);
      await expect(
        c.sla.connect(c.admin).setKaiPerToken(ethers.ZeroAddress, ethers.MaxUint256),
      ).to.be.revertedWithCustomError(c.sla, "SlaEnforcer_ZeroAddress");
    });

    it("at the bound, a credit with a stake part does not overflow: 27_800 USD units owe 278,000,000 KAI, capped at 10% of the node's stake", async function () {
      const c = await loadFixture(deploySla);
      const id = await atTime(epochBounds(c, 2n).from + 10n, () => openSlaRental(c, { slaTier: 1 }));
      const { to } = epochBounds(c, 2n);
      await atTime(to, () => c.escrow.connect(c.renter).endRental(id));
      await c.escrow.connect(c.provider).withdrawEarnings(await c.usd.getAddress(), [id]);
      const [p2] = await reportNodes(c, 2n, [{ nodeId: c.nodeId, metrics: metricsWith(8_000n) }]);
      await c.sla.connect(c.admin).setKaiPerToken(await c.usd.getAddress(), MAX_KAI_PER_TOKEN);
      // The bound keeps `shortfall x rate` in 256 bits for any credit below 2^96 token units.
      expect((2n ** 96n - 1n) * MAX_KAI_PER_TOKEN < 2n ** 256n, "no overflow below 2^96").to.be.true;
      await expect(c.sla.applySlaCredit(id, p2))
        .to.emit(c.sla, "ApplySlaCredit")
        .withArgs(id, 2n, 8_000n, 27_800n, 0n, KAI(2_400));
    });
  });

  describe("setSlashRecipient", function () {
    it("sets the recipient and emits SetSlashRecipient", async function () {
      const c = await loadFixture(deploySla);
      await expect(c.sla.connect(c.admin).setSlashRecipient(c.other.address))
        .to.emit(c.sla, "SetSlashRecipient")
        .withArgs(c.other.address);
      expect(await c.sla.slashRecipient(), "recipient").to.equal(c.other.address);
    });

    it("reverts with ZeroAddress for the zero address", async function () {
      const c = await loadFixture(deploySla);
      await expect(c.sla.connect(c.admin).setSlashRecipient(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        c.sla,
        "SlaEnforcer_ZeroAddress",
      );
    });
  });

  describe("releaseNode", function () {
    describe("given node A was jailed for fraud in epoch 2", function () {
      it("unjails it to Paused (registry SetNodeStatus), and its provider resumes it", async function () {
        const c = await loadFixture(deployJailed);
        await expect(c.sla.connect(c.admin).releaseNode(c.nodeId))
          .to.emit(c.registry, "SetNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Paused);
        expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Paused);
        await c.registry.connect(c.provider).resumeNode(c.nodeId);
        expect((await c.registry.getNode(c.nodeId)).status, "resumed").to.equal(NodeStatus.Active);
      });

      it("emits ReleaseNode(node A, 4) before the registry's SetNodeStatus, and moves both cursors to 4", async function () {
        const c = await loadFixture(deployReleased);
        expect(releaseCursor(c, c.releasedAt), "epoch 3 + 1").to.equal(4n);
        await expect(c.release).to.emit(c.sla, "ReleaseNode").withArgs(c.nodeId, 4n);
        const receipt = (await c.release.wait())!;
        const names = receipt.logs.map(
          (l) => (c.sla.interface.parseLog(l) ?? c.registry.interface.parseLog(l))?.name ?? "?",
        );
        expect(names, "events in order").to.deep.equal(["ReleaseNode", "SetNodeStatus"]);
        expect(await slashableFromOf(c, c.nodeId), "cursors").to.deep.equal([4n, 4n]);
      });

      for (const [name, offset] of [
        ["the first second of epoch 4", 0n],
        ["the last second of epoch 4", 59n],
      ] as const) {
        it(`moves the cursors to 5 when mined at ${name}`, async function () {
          const c = await loadFixture(deployJailed);
          const at = epochBounds(c, 4n).from + offset;
          await expect(atTime(at, () => c.sla.connect(c.admin).releaseNode(c.nodeId)))
            .to.emit(c.sla, "ReleaseNode")
            .withArgs(c.nodeId, 5n);
          expect(await slashableFromOf(c, c.nodeId), "cursors").to.deep.equal([5n, 5n]);
        });
      }

      it("lets the node take rentals again once resumed and its provider re-staked", async function () {
        const c = await loadFixture(deployJailed);
        await c.sla.connect(c.admin).releaseNode(c.nodeId);
        await c.registry.connect(c.provider).resumeNode(c.nodeId);
        await c.registry.connect(c.provider).stake(await c.registry.requiredStake(c.provider.address));
        const id = await openSlaRental(c, { slaTier: 1 });
        expect((await c.escrow.getRental(id)).status, "rental").to.equal(RentalStatus.Active);
      });

      it("still refuses the slashed leaf: EvidenceTooOld(node A, 2, 4)", async function () {
        const c = await loadFixture(deployReleased);
        await revertsEvidenceTooOld(c, c.sla.slashForHardwareFraud(c.p2), 2n, 4n);
      });

      it("forgives a fraud attested in the release's epoch (3): EvidenceTooOld(node A, 3, 4), the node stays paused", async function () {
        const c = await loadFixture(deployReleased);
        const [p3] = await reportNodes(c, 3n, [{ nodeId: c.nodeId, metrics: metricsWith(9_999n, true, 3) }]);
        await revertsEvidenceTooOld(c, c.sla.slashForHardwareFraud(p3), 3n, 4n);
        expect((await c.registry.getNode(c.nodeId)).status, "status").to.equal(NodeStatus.Paused);
      });

      it("a fraud attested in a later epoch (4) jails the released node again", async function () {
        const c = await loadFixture(deployReleased);
        const [p4] = await reportNodes(c, 4n, [{ nodeId: c.nodeId, metrics: metricsWith(9_999n, true, 4) }]);
        await expect(c.sla.slashForHardwareFraud(p4))
          .to.emit(c.registry, "SetNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Jailed);
        await expect(c.escrow.connect(c.renter).rent(await slaRentParams(c)))
          .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
          .withArgs(c.nodeId, NodeStatus.Jailed);
        expect(await slashableFromOf(c, c.nodeId), "cursors").to.deep.equal([4n, 5n]);
      });
    });

    describe("given node A jailed for fraud in epoch 2, with downtime in epochs 2-3 of a rental, released in epoch 4", function () {
      it("forgives the downtime too, never slashed: EvidenceTooOld(node A, 2, 5)", async function () {
        const c = await loadFixture(deployDowntimeForgiven);
        expect(await slashableFromOf(c, c.nodeId), "cursors").to.deep.equal([5n, 5n]);
        await revertsEvidenceTooOld(c, c.sla.slashForDowntime(c.rentalId, [c.p2, c.p3]), 2n, 5n);
      });

      it("slashes downtime after the release (epochs 5-6): 7,999.2 KAI asked, nothing left after the fraud slash", async function () {
        const c = await loadFixture(deployDowntimeForgiven);
        const [p5] = await reportNodes(c, 5n, [{ nodeId: c.nodeId, metrics: metricsWith(0n, false, 5) }]);
        const [p6] = await reportNodes(c, 6n, [{ nodeId: c.nodeId, metrics: metricsWith(0n, false, 6) }]);
        const tx = c.sla.slashForDowntime(c.rentalId, [p5, p6]);
        const evidence = ethers.keccak256(ethers.concat([rewardLeafHash(p5.leaf), rewardLeafHash(p6.leaf)]));
        await expect(tx).to.emit(c.sla, "SlashDowntime").withArgs(c.nodeId, c.rentalId, 5n, 6n, 0n, evidence);
        await expect(tx).to.emit(c.registry, "SetNodeStatus").withArgs(c.nodeId, NodeStatus.Jailed);
        expect(await slashableFromOf(c, c.nodeId), "cursors").to.deep.equal([7n, 5n]);
      });
    });

    it("reverts with the registry's InvalidNodeStatus(node, Active) for a node that is not jailed: nothing is forgiven", async function () {
      const c = await loadFixture(deploySla);
      await expect(c.sla.connect(c.admin).releaseNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Active);
      expect(await slashableFromOf(c, c.nodeId), "cursors").to.deep.equal([0n, 0n]);
    });

    it("reverts with InvalidNodeStatus(node, Paused) for a node released already: the cursors stay where the release put them", async function () {
      const c = await loadFixture(deployReleased);
      await expect(atTime(epochBounds(c, 9n).from, () => c.sla.connect(c.admin).releaseNode(c.nodeId)))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_InvalidNodeStatus")
        .withArgs(c.nodeId, NodeStatus.Paused);
      expect(await slashableFromOf(c, c.nodeId), "cursors").to.deep.equal([4n, 4n]);
    });

    it("reverts with the registry's UnknownNode(77) for a node no one registered", async function () {
      const c = await loadFixture(deploySla);
      await expect(c.sla.connect(c.admin).releaseNode(77n))
        .to.be.revertedWithCustomError(c.registry, "NodeRegistry_UnknownNode")
        .withArgs(77n);
      expect(await slashableFromOf(c, 77n), "cursors").to.deep.equal([0n, 0n]);
    });

    it("reverts with the registry's AccessControlUnauthorizedAccount once the enforcer lost SLASHER_ROLE", async function () {
      const c = await loadFixture(deployJailed);
      await c.registry.revokeRole(SLA_ROLES.SLASHER, await c.sla.getAddress());
      await expect(c.sla.connect(c.admin).releaseNode(c.nodeId))
        .to.be.revertedWithCustomError(c.registry, "AccessControlUnauthorizedAccount")
        .withArgs(await c.sla.getAddress(), SLA_ROLES.SLASHER);
      expect(await slashableFromOf(c, c.nodeId), "cursors").to.deep.equal([0n, 3n]);
    });
  });
});
