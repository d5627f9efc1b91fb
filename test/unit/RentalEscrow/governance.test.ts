import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, setStorageAt, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { Plan, HOUR, DAY, CloseReason } from "../../fixtures";
import {
  escrowFixture,
  payAsYouGoFixture,
  savingFixture,
  rent,
  params,
  at,
  ADMIN_ROLE,
  PAUSER_ROLE,
  GRACE,
  PAYG_DEPOSIT,
  PAYG_UNITS,
  type EscrowFixture,
} from "../../helpers/escrow";

/** `tx` reverts with RentalEscrow_AlreadySet: the setting asked for is the one in force. */
const revertsAlreadySet = (c: { escrow: EscrowFixture["escrow"] }, tx: Promise<unknown>) =>
  expect(tx).to.be.revertedWithCustomError(c.escrow, "RentalEscrow_AlreadySet");

type Role = "admin" | "treasury" | "rewardPool" | "guardian" | "oracle" | "provider" | "renter" | "keeper" | "other";

interface Setter {
  name: string;
  role: string;
  roleName: string;
  call: (c: EscrowFixture, as: HardhatEthersSigner) => Promise<unknown>;
  event: string;
}

/** Every governance entry point, with a call that would succeed for the right role. */
const setters: Setter[] = [
  {
    name: "allowPaymentToken",
    role: ADMIN_ROLE,
    roleName: "DEFAULT_ADMIN_ROLE",
    call: (c, as) => c.escrow.connect(as).allowPaymentToken(c.other.address),
    event: "AllowPaymentToken",
  },
  {
    name: "setPaymentTokenEnabled",
    role: ADMIN_ROLE,
    roleName: "DEFAULT_ADMIN_ROLE",
    call: (c, as) => c.escrow.connect(as).setPaymentTokenEnabled(c.usdAddress, false),
    event: "SetPaymentTokenEnabled",
  },
  {
    name: "setFeeBps",
    role: ADMIN_ROLE,
    roleName: "DEFAULT_ADMIN_ROLE",
    call: (c, as) => c.escrow.connect(as).setFeeBps(500),
    event: "SetRentalTerms",
  },
  {
    name: "setGracePeriod",
    role: ADMIN_ROLE,
    roleName: "DEFAULT_ADMIN_ROLE",
    call: (c, as) => c.escrow.connect(as).setGracePeriod(2 * HOUR),
    event: "SetRentalTerms",
  },
  {
    name: "setEarlyExitPenaltyBps",
    role: ADMIN_ROLE,
    roleName: "DEFAULT_ADMIN_ROLE",
    call: (c, as) => c.escrow.connect(as).setEarlyExitPenaltyBps(2_000),
    event: "SetRentalTerms",
  },
  {
    name: "setSavingDiscount",
    role: ADMIN_ROLE,
    roleName: "DEFAULT_ADMIN_ROLE",
    call: (c, as) => c.escrow.connect(as).setSavingDiscount(7, 800),
    event: "SetSavingDiscount",
  },
  {
    name: "setPriceFloor",
    role: ADMIN_ROLE,
    roleName: "DEFAULT_ADMIN_ROLE",
    call: (c, as) => c.escrow.connect(as).setPriceFloor(0, c.usdAddress, 1_000_000),
    event: "SetPriceFloor",
  },
  {
    name: "setFeeRecipients",
    role: ADMIN_ROLE,
    roleName: "DEFAULT_ADMIN_ROLE",
    call: (c, as) => c.escrow.connect(as).setFeeRecipients(c.other.address, c.keeper.address, 2_500),
    event: "SetFeeRecipients",
  },
  {
    name: "addSlaTier",
    role: ADMIN_ROLE,
    roleName: "DEFAULT_ADMIN_ROLE",
    call: (c, as) => c.escrow.connect(as).addSlaTier(9_900),
    event: "AddSlaTier",
  },
  {
    name: "setSlaCreditSchedule",
    role: ADMIN_ROLE,
    roleName: "DEFAULT_ADMIN_ROLE",
    call: (c, as) => c.escrow.connect(as).setSlaCreditSchedule([50, 300], [2_000, 10_000]),
    event: "SetSlaCreditSchedule",
  },
  {
    name: "pause",
    role: PAUSER_ROLE,
    roleName: "PAUSER_ROLE",
    call: (c, as) => c.escrow.connect(as).pause(),
    event: "SetPaused",
  },
];

const holders: Record<string, Role> = { [ADMIN_ROLE]: "admin", [PAUSER_ROLE]: "guardian" };
const everyone: Role[] = [
  "admin",
  "treasury",
  "rewardPool",
  "guardian",
  "oracle",
  "provider",
  "renter",
  "keeper",
  "other",
];

/** The escrow paused by the guardian (for unpause). */
async function pausedEscrowFixture() {
  const c = await escrowFixture();
  await c.escrow.connect(c.guardian).pause();
  return c;
}

describe("RentalEscrow governance", () => {
  describe("access control", () => {
    for (const s of setters) {
      describe(`${s.name} (${s.roleName})`, () => {
        for (const who of everyone.filter((w) => w !== holders[s.role])) {
          it(`reverts with AccessControlUnauthorizedAccount for the ${who}`, async () => {
            const c = await loadFixture(escrowFixture);
            await expect(s.call(c, c[who]))
              .to.be.revertedWithCustomError(c.escrow, "AccessControlUnauthorizedAccount")
              .withArgs(c[who].address, s.role);
          });
        }

        it(`succeeds for the ${holders[s.role]} and emits ${s.event}`, async () => {
          const c = await loadFixture(escrowFixture);
          await expect(s.call(c, c[holders[s.role]])).to.emit(c.escrow, s.event);
        });
      });
    }

    describe("unpause (PAUSER_ROLE)", () => {
      for (const who of everyone.filter((w) => w !== "guardian")) {
        it(`reverts with AccessControlUnauthorizedAccount for the ${who}`, async () => {
          const c = await loadFixture(pausedEscrowFixture);
          await expect(c.escrow.connect(c[who]).unpause())
            .to.be.revertedWithCustomError(c.escrow, "AccessControlUnauthorizedAccount")
            .withArgs(c[who].address, PAUSER_ROLE);
        });
      }
    });
  });

  describe("constructor", () => {
    const args = ["registry", "admin", "treasury", "rewardPool"] as const;
    for (const [i, name] of args.entries()) {
      it(`reverts with RentalEscrow_ZeroAddress for a zero ${name}`, async () => {
        const c = await loadFixture(escrowFixture);
        const values = [await c.registry.getAddress(), c.admin.address, c.treasury.address, c.rewardPool.address];
        values[i] = ethers.ZeroAddress;
        const factory = await ethers.getContractFactory("RentalEscrow");
        await expect(factory.deploy(values[0], values[1], values[2], values[3])).to.be.revertedWithCustomError(
          factory,
          "RentalEscrow_ZeroAddress",
        );
      });
    }

    it("emits SetRentalTerms(0, 1_000, 1_000, 3_600) for the initial terms", async () => {
      const c = await loadFixture(escrowFixture);
      const escrow = await ethers.deployContract("RentalEscrow", [
        await c.registry.getAddress(),
        c.admin.address,
        c.treasury.address,
        c.rewardPool.address,
      ]);
      await expect(escrow.deploymentTransaction()).to.emit(escrow, "SetRentalTerms").withArgs(0, 1_000, 1_000, 3_600);
    });

    it("gives DEFAULT_ADMIN_ROLE to the admin only", async () => {
      const c = await loadFixture(escrowFixture);
      expect([
        await c.escrow.hasRole(ADMIN_ROLE, c.admin.address),
        await c.escrow.hasRole(ADMIN_ROLE, c.guardian.address),
      ]).to.deep.equal([true, false]);
    });
  });

  describe("allowPaymentToken", () => {
    it("emits AllowPaymentToken(token, 2) for the third token", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.allowPaymentToken(c.other.address))
        .to.emit(c.escrow, "AllowPaymentToken")
        .withArgs(c.other.address, 2);
    });

    it("emits SetPaymentTokenEnabled(token, true)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.allowPaymentToken(c.other.address))
        .to.emit(c.escrow, "SetPaymentTokenEnabled")
        .withArgs(c.other.address, true);
    });

    it("appends the token to paymentTokens", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.allowPaymentToken(c.other.address);
      expect(await c.escrow.paymentTokens()).to.deep.equal([c.usdAddress, c.kaiAddress, c.other.address]);
    });

    it("enables it", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.allowPaymentToken(c.other.address);
      expect(await c.escrow.isPaymentTokenEnabled(c.other.address)).to.equal(true);
    });

    it("reverts with RentalEscrow_ZeroAddress for the zero address", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.allowPaymentToken(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        c.escrow,
        "RentalEscrow_ZeroAddress",
      );
    });

    it("reverts with RentalEscrow_AlreadySet for a listed token", async () => {
      const c = await loadFixture(escrowFixture);
      await revertsAlreadySet(c, c.escrow.allowPaymentToken(c.usdAddress));
    });

    it("reverts with RentalEscrow_AlreadySet for a listed but disabled token", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setPaymentTokenEnabled(c.usdAddress, false);
      await revertsAlreadySet(c, c.escrow.allowPaymentToken(c.usdAddress));
    });

    describe("given 256 tokens are listed", () => {
      async function fullTokenListFixture() {
        const c = await escrowFixture();
        for (let i = 2; i < 256; i++) await c.escrow.allowPaymentToken(ethers.toBeHex(0x1000 + i, 20));
        return c;
      }

      it("reverts with RentalEscrow_ParameterOutOfBounds('paymentTokens', 257, 1, 256)", async () => {
        const c = await loadFixture(fullTokenListFixture);
        await expect(c.escrow.allowPaymentToken(c.other.address))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_ParameterOutOfBounds")
          .withArgs("paymentTokens", 257, 1, 256);
      });

      it("lists all 256", async () => {
        const c = await loadFixture(fullTokenListFixture);
        expect((await c.escrow.paymentTokens()).length).to.equal(256);
      });
    });
  });

  describe("setPaymentTokenEnabled", () => {
    it("emits SetPaymentTokenEnabled(token, false)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setPaymentTokenEnabled(c.usdAddress, false))
        .to.emit(c.escrow, "SetPaymentTokenEnabled")
        .withArgs(c.usdAddress, false);
    });

    it("disables the token", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setPaymentTokenEnabled(c.usdAddress, false);
      expect(await c.escrow.isPaymentTokenEnabled(c.usdAddress)).to.equal(false);
    });

    it("keeps a disabled token in paymentTokens (running rentals still pay out)", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setPaymentTokenEnabled(c.usdAddress, false);
      expect(await c.escrow.paymentTokens()).to.deep.equal([c.usdAddress, c.kaiAddress]);
    });

    it("re-enables the token", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setPaymentTokenEnabled(c.usdAddress, false);
      await expect(c.escrow.setPaymentTokenEnabled(c.usdAddress, true))
        .to.emit(c.escrow, "SetPaymentTokenEnabled")
        .withArgs(c.usdAddress, true);
    });

    it("reverts with RentalEscrow_TokenNotAllowed for an unlisted token", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setPaymentTokenEnabled(c.other.address, true))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_TokenNotAllowed")
        .withArgs(c.other.address);
    });

    it("reverts with RentalEscrow_AlreadySet when nothing changes", async () => {
      const c = await loadFixture(escrowFixture);
      await revertsAlreadySet(c, c.escrow.setPaymentTokenEnabled(c.usdAddress, true));
    });
  });

  describe("setFeeBps", () => {
    it("emits SetRentalTerms(1, 500, 1_000, 3_600)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setFeeBps(500)).to.emit(c.escrow, "SetRentalTerms").withArgs(1, 500, 1_000, 3_600);
    });

    it("makes version 1 current", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setFeeBps(500);
      expect(await c.escrow.currentTermsVersion()).to.equal(1);
    });

    it("stores version 1 and leaves version 0 as it was", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setFeeBps(500);
      expect([[...(await c.escrow.rentalTerms(0))], [...(await c.escrow.rentalTerms(1))]]).to.deep.equal([
        [1_000n, 1_000n, 3_600n],
        [500n, 1_000n, 3_600n],
      ]);
    });

    for (const fee of [0, 2_000]) {
      it(`accepts the bound ${fee}`, async () => {
        const c = await loadFixture(escrowFixture);
        await expect(c.escrow.setFeeBps(fee)).to.emit(c.escrow, "SetRentalTerms").withArgs(1, fee, 1_000, 3_600);
      });
    }

    it("reverts with RentalEscrow_ParameterOutOfBounds('feeBps', 2_001, 0, 2_000) above 20%", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setFeeBps(2_001))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_ParameterOutOfBounds")
        .withArgs("feeBps", 2_001, 0, 2_000);
    });

    it("reverts with RentalEscrow_AlreadySet for the fee in force", async () => {
      const c = await loadFixture(escrowFixture);
      await revertsAlreadySet(c, c.escrow.setFeeBps(1_000));
    });

    describe("given 65_535 terms versions exist", () => {
      it("reverts with RentalEscrow_ParameterOutOfBounds('termsVersion', 65_536, 0, 65_535)", async () => {
        const c = await loadFixture(escrowFixture);
        // _config sits in slot 1: rentalCount (32 bits) | termsVersion (16) | slaTierCount (16) | paused.
        const address = c.escrowAddress;
        const slot = BigInt(await ethers.provider.getStorage(address, 1));
        expect((slot >> 48n) & 0xffffn).to.equal(3n, "layout check: slot 1 should hold the 3 SLA tiers");
        await setStorageAt(address, 1, slot | (0xffffn << 32n));
        expect(await c.escrow.currentTermsVersion()).to.equal(65_535, "layout check: termsVersion");
        await expect(c.escrow.setFeeBps(500))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_ParameterOutOfBounds")
          .withArgs("termsVersion", 65_536, 0, 65_535);
      });
    });
  });

  describe("setGracePeriod", () => {
    it("emits SetRentalTerms(1, 1_000, 1_000, 7_200)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setGracePeriod(2 * HOUR))
        .to.emit(c.escrow, "SetRentalTerms")
        .withArgs(1, 1_000, 1_000, 7_200);
    });

    for (const grace of [5 * 60, 7 * DAY]) {
      it(`accepts the bound ${grace} s`, async () => {
        const c = await loadFixture(escrowFixture);
        await expect(c.escrow.setGracePeriod(grace))
          .to.emit(c.escrow, "SetRentalTerms")
          .withArgs(1, 1_000, 1_000, grace);
      });
    }

    for (const grace of [5 * 60 - 1, 7 * DAY + 1, 0]) {
      it(`reverts with RentalEscrow_ParameterOutOfBounds('gracePeriod', ${grace}, 300, 604_800)`, async () => {
        const c = await loadFixture(escrowFixture);
        await expect(c.escrow.setGracePeriod(grace))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_ParameterOutOfBounds")
          .withArgs("gracePeriod", grace, 300, 604_800);
      });
    }

    it("reverts with RentalEscrow_AlreadySet for the grace period in force", async () => {
      const c = await loadFixture(escrowFixture);
      await revertsAlreadySet(c, c.escrow.setGracePeriod(GRACE));
    });
  });

  describe("setEarlyExitPenaltyBps", () => {
    it("emits SetRentalTerms(1, 1_000, 2_000, 3_600)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setEarlyExitPenaltyBps(2_000))
        .to.emit(c.escrow, "SetRentalTerms")
        .withArgs(1, 1_000, 2_000, 3_600);
    });

    for (const bps of [0, 5_000]) {
      it(`accepts the bound ${bps}`, async () => {
        const c = await loadFixture(escrowFixture);
        await expect(c.escrow.setEarlyExitPenaltyBps(bps))
          .to.emit(c.escrow, "SetRentalTerms")
          .withArgs(1, 1_000, bps, 3_600);
      });
    }

    it("reverts with RentalEscrow_ParameterOutOfBounds('earlyExitPenaltyBps', 5_001, 0, 5_000)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setEarlyExitPenaltyBps(5_001))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_ParameterOutOfBounds")
        .withArgs("earlyExitPenaltyBps", 5_001, 0, 5_000);
    });

    it("reverts with RentalEscrow_AlreadySet for the penalty in force", async () => {
      const c = await loadFixture(escrowFixture);
      await revertsAlreadySet(c, c.escrow.setEarlyExitPenaltyBps(1_000));
    });
  });

  describe("given several terms changes", () => {
    it("carries the other fields into each new version: v3 = (500, 2_000, 7_200)", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setFeeBps(500);
      await c.escrow.setGracePeriod(2 * HOUR);
      await expect(c.escrow.setEarlyExitPenaltyBps(2_000))
        .to.emit(c.escrow, "SetRentalTerms")
        .withArgs(3, 500, 2_000, 7_200);
    });
  });

  describe("setPriceFloor", () => {
    it("emits SetPriceFloor(0, usd, 1_500_000) and stores it for that class and token only", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setPriceFloor(0, c.usdAddress, 1_500_000))
        .to.emit(c.escrow, "SetPriceFloor")
        .withArgs(0, c.usdAddress, 1_500_000);
      expect(await c.escrow.priceFloor(0, c.usdAddress)).to.equal(1_500_000);
      expect(await c.escrow.priceFloor(1, c.usdAddress)).to.equal(0);
      expect(await c.escrow.priceFloor(0, c.kaiAddress)).to.equal(0);
    });

    it("reverts with RentalEscrow_TokenNotAllowed for a token never allow-listed", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setPriceFloor(0, c.other.address, 1))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_TokenNotAllowed")
        .withArgs(c.other.address);
    });

    it("reverts with RentalEscrow_UnknownGpuClass(2, 2) past the registry's classes", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setPriceFloor(2, c.usdAddress, 1))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_UnknownGpuClass")
        .withArgs(2, 2);
    });

    it("reverts with RentalEscrow_AlreadySet for the floor in force (0 at first)", async () => {
      const c = await loadFixture(escrowFixture);
      await revertsAlreadySet(c, c.escrow.setPriceFloor(0, c.usdAddress, 0));
    });
  });

  describe("setSavingDiscount", () => {
    it("emits SetSavingDiscount(90, 5_000)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setSavingDiscount(90, 5_000)).to.emit(c.escrow, "SetSavingDiscount").withArgs(90, 5_000);
    });

    it("stores the discount", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setSavingDiscount(30, 0);
      expect(await c.escrow.savingDiscountBps(30)).to.equal(0);
    });

    for (const termDays of [0, 1, 14, 365]) {
      it(`reverts with RentalEscrow_InvalidTerm(Saving, ${termDays})`, async () => {
        const c = await loadFixture(escrowFixture);
        await expect(c.escrow.setSavingDiscount(termDays, 100))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_InvalidTerm")
          .withArgs(Plan.Saving, termDays);
      });
    }

    it("reverts with RentalEscrow_ParameterOutOfBounds('discountBps', 5_001, 0, 5_000)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setSavingDiscount(7, 5_001))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_ParameterOutOfBounds")
        .withArgs("discountBps", 5_001, 0, 5_000);
    });

    it("reverts with RentalEscrow_AlreadySet for the discount in force", async () => {
      const c = await loadFixture(escrowFixture);
      await revertsAlreadySet(c, c.escrow.setSavingDiscount(7, 500));
    });

    it("does not reprice a running saving plan", async () => {
      const c = await loadFixture(savingFixture);
      await c.escrow.setSavingDiscount(7, 5_000);
      expect((await c.escrow.getRental(c.rentalId)).unitPrice).to.equal(1_900_000);
    });
  });

  describe("setFeeRecipients", () => {
    it("emits SetFeeRecipients(treasury, rewardPool, share)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setFeeRecipients(c.other.address, c.keeper.address, 2_500))
        .to.emit(c.escrow, "SetFeeRecipients")
        .withArgs(c.other.address, c.keeper.address, 2_500);
    });

    it("stores the recipients and the share", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setFeeRecipients(c.other.address, c.keeper.address, 2_500);
      expect([
        await c.escrow.treasury(),
        await c.escrow.rewardPool(),
        await c.escrow.rewardPoolShareBps(),
      ]).to.deep.equal([c.other.address, c.keeper.address, 2_500n]);
    });

    it("accepts a change of the share alone", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setFeeRecipients(c.treasury.address, c.rewardPool.address, 10_000))
        .to.emit(c.escrow, "SetFeeRecipients")
        .withArgs(c.treasury.address, c.rewardPool.address, 10_000);
    });

    it("reverts with RentalEscrow_ZeroAddress for a zero treasury", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(
        c.escrow.setFeeRecipients(ethers.ZeroAddress, c.rewardPool.address, 5_000),
      ).to.be.revertedWithCustomError(c.escrow, "RentalEscrow_ZeroAddress");
    });

    it("reverts with RentalEscrow_ZeroAddress for a zero reward pool", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(
        c.escrow.setFeeRecipients(c.treasury.address, ethers.ZeroAddress, 5_000),
      ).to.be.revertedWithCustomError(c.escrow, "RentalEscrow_ZeroAddress");
    });

    it("reverts with RentalEscrow_ParameterOutOfBounds('rewardPoolShareBps', 10_001, 0, 10_000)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setFeeRecipients(c.treasury.address, c.rewardPool.address, 10_001))
        .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_ParameterOutOfBounds")
        .withArgs("rewardPoolShareBps", 10_001, 0, 10_000);
    });

    it("reverts with RentalEscrow_AlreadySet when nothing changes", async () => {
      const c = await loadFixture(escrowFixture);
      await revertsAlreadySet(c, c.escrow.setFeeRecipients(c.treasury.address, c.rewardPool.address, 5_000));
    });
  });

  describe("addSlaTier", () => {
    it("emits AddSlaTier(3, 9_900)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.addSlaTier(9_900)).to.emit(c.escrow, "AddSlaTier").withArgs(3, 9_900);
    });

    it("returns the new tier id", async () => {
      const c = await loadFixture(escrowFixture);
      expect(await c.escrow.addSlaTier.staticCall(9_900)).to.equal(3);
    });

    it("appends the tier", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.addSlaTier(9_900);
      expect(await c.escrow.slaTiers()).to.deep.equal([0n, 9_990n, 9_950n, 9_900n]);
    });

    it("makes the tier rentable", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.addSlaTier(9_900);
      const { rentalId } = await rent(c, { slaTier: 3 });
      expect((await c.escrow.getRental(rentalId)).slaTier).to.equal(3);
    });

    for (const bps of [5_000, 10_000]) {
      it(`accepts the bound ${bps}`, async () => {
        const c = await loadFixture(escrowFixture);
        await expect(c.escrow.addSlaTier(bps)).to.emit(c.escrow, "AddSlaTier").withArgs(3, bps);
      });
    }

    for (const bps of [4_999, 10_001]) {
      it(`reverts with RentalEscrow_ParameterOutOfBounds('targetUptimeBps', ${bps}, 5_000, 10_000)`, async () => {
        const c = await loadFixture(escrowFixture);
        await expect(c.escrow.addSlaTier(bps))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_ParameterOutOfBounds")
          .withArgs("targetUptimeBps", bps, 5_000, 10_000);
      });
    }

    describe("given 256 tiers exist", () => {
      async function fullTiersFixture() {
        const c = await escrowFixture();
        for (let tier = 3; tier < 256; tier++) await c.escrow.addSlaTier(9_000);
        return c;
      }

      it("reverts with RentalEscrow_ParameterOutOfBounds('slaTiers', 257, 1, 256)", async () => {
        const c = await loadFixture(fullTiersFixture);
        await expect(c.escrow.addSlaTier(9_000))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_ParameterOutOfBounds")
          .withArgs("slaTiers", 257, 1, 256);
      });

      it("rents on the last tier, 255", async () => {
        const c = await loadFixture(fullTiersFixture);
        const { rentalId } = await rent(c, { slaTier: 255 });
        expect((await c.escrow.getRental(rentalId)).slaTier).to.equal(255);
      });
    });
  });

  describe("setSlaCreditSchedule", () => {
    const DEFAULT: [bigint[], bigint[]] = [
      [1n, 100n, 500n, 1_000n],
      [1_000n, 2_500n, 5_000n, 10_000n],
    ];
    const schedule = async (c: EscrowFixture) => {
      const [shortfalls, credits] = await c.escrow.slaCreditSchedule();
      return [[...shortfalls], [...credits]];
    };

    it("emits SetSlaCreditSchedule([50, 300], [2_000, 10_000])", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setSlaCreditSchedule([50, 300], [2_000, 10_000]))
        .to.emit(c.escrow, "SetSlaCreditSchedule")
        .withArgs([50, 300], [2_000, 10_000]);
    });

    it("stores the schedule", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setSlaCreditSchedule([50, 300], [2_000, 10_000]);
      expect(await schedule(c)).to.deep.equal([
        [50n, 300n],
        [2_000n, 10_000n],
      ]);
    });

    it("applies it: 49 below target is no breach, 50 credits 20%, 299 still 20%, 300 credits 100%", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setSlaCreditSchedule([50, 300], [2_000, 10_000]);
      const bps = await Promise.all([9_941, 9_940, 9_691, 9_690].map((u) => c.escrow.slaCreditBps(9_990, u)));
      expect(bps).to.deep.equal([0n, 2_000n, 2_000n, 10_000n]);
    });

    it("replaces a longer schedule entirely (4 steps -> 1)", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setSlaCreditSchedule([700], [3_000]);
      expect(await schedule(c)).to.deep.equal([[700n], [3_000n]]);
      // The old 1_000 -> 100% step is gone.
      expect(await c.escrow.slaCreditBps(9_990, 0)).to.equal(3_000);
    });

    it("accepts 8 steps at the bounds (shortfalls 1..7 and 10_000, credits equal then 10_000)", async () => {
      const c = await loadFixture(escrowFixture);
      const shortfalls = [1n, 2n, 3n, 4n, 5n, 6n, 7n, 10_000n];
      const credits = [1n, 1n, 1n, 1n, 1n, 1n, 1n, 10_000n];
      await expect(c.escrow.setSlaCreditSchedule(shortfalls, credits))
        .to.emit(c.escrow, "SetSlaCreditSchedule")
        .withArgs(shortfalls, credits);
      expect(await schedule(c)).to.deep.equal([shortfalls, credits]);
      // A shortfall of 10_000 (target 100%, uptime 0) reaches the last step.
      expect([await c.escrow.slaCreditBps(10_000, 0), await c.escrow.slaCreditBps(10_000, 1)]).to.deep.equal([
        10_000n,
        1n,
      ]);
    });

    it("accepts a single step (10_000, 10_000)", async () => {
      const c = await loadFixture(escrowFixture);
      await c.escrow.setSlaCreditSchedule([10_000], [10_000]);
      expect(await schedule(c)).to.deep.equal([[10_000n], [10_000n]]);
    });

    it("accepts the schedule in force again (no AlreadySet check)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setSlaCreditSchedule(...DEFAULT)).to.emit(c.escrow, "SetSlaCreditSchedule");
    });

    for (const [what, shortfalls, credits, index] of [
      ["no step", [], [], 0],
      ["9 steps", [1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 1, 1, 1, 1, 1, 1, 1], 9],
      ["fewer credits than shortfalls", [1, 2], [100], 1],
      ["more credits than shortfalls", [1], [100, 200], 2],
      ["no credits for 2 shortfalls", [1, 2], [], 0],
      ["a zero first shortfall", [0], [100], 0],
      ["a zero shortfall after others", [1, 2, 0], [100, 100, 100], 2],
      ["equal shortfalls", [1, 100, 100], [100, 200, 300], 2],
      ["falling shortfalls", [100, 50], [100, 200], 1],
      ["a first shortfall above 10_000", [10_001], [100], 0],
      ["a later shortfall above 10_000", [1, 10_001], [100, 200], 1],
      ["a zero credit", [1], [0], 0],
      ["a later zero credit", [1, 2], [100, 0], 1],
      ["a credit above 10_000", [1], [10_001], 0],
      ["a later credit above 10_000", [1, 2], [100, 10_001], 1],
      ["falling credits", [1, 2, 3], [100, 200, 150], 2],
    ] as const) {
      it(`reverts with RentalEscrow_InvalidCreditSchedule(${index}) for ${what}`, async () => {
        const c = await loadFixture(escrowFixture);
        await expect(c.escrow.setSlaCreditSchedule([...shortfalls], [...credits]))
          .to.be.revertedWithCustomError(c.escrow, "RentalEscrow_InvalidCreditSchedule")
          .withArgs(index);
      });
    }

    it("keeps the schedule in force when a new one is refused", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.setSlaCreditSchedule([1, 2], [100, 0])).to.be.reverted;
      expect(await schedule(c)).to.deep.equal(DEFAULT);
    });

    it("emits SetSlaCreditSchedule(default) from the constructor", async () => {
      const c = await loadFixture(escrowFixture);
      const escrow = await ethers.deployContract("RentalEscrow", [
        await c.registry.getAddress(),
        c.admin.address,
        c.treasury.address,
        c.rewardPool.address,
      ]);
      await expect(escrow.deploymentTransaction())
        .to.emit(escrow, "SetSlaCreditSchedule")
        .withArgs(...DEFAULT);
    });
  });

  describe("pause and unpause", () => {
    it("pause emits SetPaused(true, guardian)", async () => {
      const c = await loadFixture(escrowFixture);
      await expect(c.escrow.connect(c.guardian).pause())
        .to.emit(c.escrow, "SetPaused")
        .withArgs(true, c.guardian.address);
    });

    it("pause sets paused()", async () => {
      const c = await loadFixture(pausedEscrowFixture);
      expect(await c.escrow.paused()).to.equal(true);
    });

    it("pause reverts with RentalEscrow_AlreadySet when already paused", async () => {
      const c = await loadFixture(pausedEscrowFixture);
      await revertsAlreadySet(c, c.escrow.connect(c.guardian).pause());
    });

    it("unpause emits SetPaused(false, guardian)", async () => {
      const c = await loadFixture(pausedEscrowFixture);
      await expect(c.escrow.connect(c.guardian).unpause())
        .to.emit(c.escrow, "SetPaused")
        .withArgs(false, c.guardian.address);
    });

    it("unpause clears paused()", async () => {
      const c = await loadFixture(pausedEscrowFixture);
      await c.escrow.connect(c.guardian).unpause();
      expect(await c.escrow.paused()).to.equal(false);
    });

    it("unpause reverts with RentalEscrow_AlreadySet when not paused", async () => {
      const c = await loadFixture(escrowFixture);
      await revertsAlreadySet(c, c.escrow.connect(c.guardian).unpause());
    });
  });

  describe("terms versions apply to new rentals only", () => {
    it("a rental opened before a fee change pays the old 10%", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await c.escrow.setFeeBps(500);
      await expect(at(c.anchor + 100, () => c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [c.rentalId])))
        .to.emit(c.escrow, "WithdrawEarnings")
        .withArgs(c.provider.address, c.usdAddress, 1, 55_600, 5_560);
    });

    it("a rental opened after it pays the new 5%", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await c.escrow.setFeeBps(500);
      const { rentalId, anchor } = await rent(c, { deposit: PAYG_DEPOSIT }, c.renter2);
      await expect(at(anchor + 100, () => c.escrow.connect(c.provider).withdrawEarnings(c.usdAddress, [rentalId])))
        .to.emit(c.escrow, "WithdrawEarnings")
        .withArgs(c.provider.address, c.usdAddress, 1, 55_600, 2_780);
    });

    it("a rental opened before a grace change keeps 1 hour", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await c.escrow.setGracePeriod(2 * HOUR);
      expect(await c.escrow.closableAt(c.rentalId)).to.equal(c.paidUntil + GRACE);
    });

    it("a rental opened after it gets 2 hours", async () => {
      const c = await loadFixture(payAsYouGoFixture);
      await c.escrow.setGracePeriod(2 * HOUR);
      const { rentalId, anchor } = await rent(c, { deposit: PAYG_DEPOSIT }, c.renter2);
      expect(await c.escrow.closableAt(rentalId)).to.equal(anchor + PAYG_UNITS + 2 * HOUR);
    });

    it("a saving plan opened before a penalty change keeps 10%", async () => {
      const c = await loadFixture(savingFixture);
      await c.escrow.setEarlyExitPenaltyBps(5_000);
      await expect(at(c.anchor + DAY, () => c.escrow.connect(c.renter).endRental(c.rentalId)))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(c.rentalId, CloseReason.Renter, c.renter.address, 72_960_000, 246_240_000, 27_360_000);
    });

    it("a saving plan opened after it pays 50%", async () => {
      const c = await loadFixture(savingFixture);
      await c.escrow.setEarlyExitPenaltyBps(5_000);
      const p = await params(c, { plan: Plan.Saving, termDays: 7, deposit: 0n });
      await c.escrow.connect(c.renter2).rent(p);
      const anchor = await time.latest();
      // unused 273_600_000; 50% = 136_800_000.
      await expect(at(anchor + DAY, () => c.escrow.connect(c.renter2).endRental(2)))
        .to.emit(c.escrow, "CloseRental")
        .withArgs(2, CloseReason.Renter, c.renter2.address, 182_400_000, 136_800_000, 136_800_000);
    });
  });
});
