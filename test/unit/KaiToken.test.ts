import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { KAI } from "../fixtures";
import { permitDomain, recoverPermitSigner, signPermit } from "../helpers/permit";

const MAX_SUPPLY = 10n ** 27n; // 1,000,000,000 KAI with 18 decimals

describe("KaiToken", function () {
  async function deployKai() {
    const [deployer, treasury, owner, spender, other] = await ethers.getSigners();
    const kai = await ethers.deployContract("KaiToken", [treasury.address]);
    await kai.connect(treasury).transfer(owner.address, KAI(1_000));
    return { kai, deployer, treasury, owner, spender, other };
  }

  /** A fresh deployment, with nothing moved yet. */
  async function deployKaiUntouched() {
    const [deployer, treasury] = await ethers.getSigners();
    const kai = await ethers.deployContract("KaiToken", [treasury.address]);
    return { kai, deployer, treasury };
  }

  describe("metadata", function () {
    it('has name "Kaisar"', async function () {
      const { kai } = await loadFixture(deployKaiUntouched);
      expect(await kai.name(), "name").to.equal("Kaisar");
    });

    it('has symbol "KAI"', async function () {
      const { kai } = await loadFixture(deployKaiUntouched);
      expect(await kai.symbol(), "symbol").to.equal("KAI");
    });

    it("has 18 decimals", async function () {
      const { kai } = await loadFixture(deployKaiUntouched);
      expect(await kai.decimals(), "decimals").to.equal(18);
    });
  });

  describe("supply", function () {
    it("caps the supply at 1e9 KAI", async function () {
      const { kai } = await loadFixture(deployKaiUntouched);
      expect(await kai.cap(), "cap()").to.equal(MAX_SUPPLY);
    });

    it("exposes MAX_SUPPLY equal to the cap", async function () {
      const { kai } = await loadFixture(deployKaiUntouched);
      expect(await kai.MAX_SUPPLY(), "MAX_SUPPLY").to.equal(MAX_SUPPLY);
    });

    it("mints the whole cap at deployment", async function () {
      const { kai } = await loadFixture(deployKaiUntouched);
      expect(await kai.totalSupply(), "totalSupply").to.equal(MAX_SUPPLY);
    });

    it("gives the whole supply to the treasury", async function () {
      const { kai, treasury } = await loadFixture(deployKaiUntouched);
      expect(await kai.balanceOf(treasury.address), "treasury balance").to.equal(MAX_SUPPLY);
    });

    it("gives nothing to the deployer", async function () {
      const { kai, deployer } = await loadFixture(deployKaiUntouched);
      expect(await kai.balanceOf(deployer.address), "deployer balance").to.equal(0);
    });

    it("emits Transfer(0, treasury, MAX_SUPPLY) at deployment", async function () {
      const [, treasury] = await ethers.getSigners();
      const kai = await ethers.deployContract("KaiToken", [treasury.address]);
      await expect(kai.deploymentTransaction())
        .to.emit(kai, "Transfer")
        .withArgs(ethers.ZeroAddress, treasury.address, MAX_SUPPLY);
    });

    it("has no external mint", async function () {
      const { kai } = await loadFixture(deployKaiUntouched);
      const functions = kai.interface.fragments.filter(ethers.Fragment.isFunction).map((f) => f.name);
      expect(functions, "functions in the ABI").to.not.include("mint");
      expect(functions, "functions in the ABI").to.include("permit"); // the filter does find functions
    });

    describe("when the treasury is the zero address", function () {
      it("reverts with ERC20InvalidReceiver(0)", async function () {
        const factory = await ethers.getContractFactory("KaiToken");
        await expect(factory.deploy(ethers.ZeroAddress))
          .to.be.revertedWithCustomError(factory, "ERC20InvalidReceiver")
          .withArgs(ethers.ZeroAddress);
      });
    });
  });

  describe("transfer", function () {
    it("moves tokens between accounts", async function () {
      const { kai, owner, other } = await loadFixture(deployKai);
      await expect(kai.connect(owner).transfer(other.address, KAI(10))).to.changeTokenBalances(
        kai,
        [owner, other],
        [-KAI(10), KAI(10)],
      );
    });

    describe("when the amount exceeds the balance", function () {
      it("reverts with ERC20InsufficientBalance", async function () {
        const { kai, owner, other } = await loadFixture(deployKai);
        await expect(kai.connect(owner).transfer(other.address, KAI(1_000) + 1n))
          .to.be.revertedWithCustomError(kai, "ERC20InsufficientBalance")
          .withArgs(owner.address, KAI(1_000), KAI(1_000) + 1n);
      });
    });
  });

  describe("permit", function () {
    const VALUE = KAI(250);

    async function deadlineIn(seconds: number) {
      return BigInt((await time.latest()) + seconds);
    }

    it("starts every owner's nonce at 0", async function () {
      const { kai, owner } = await loadFixture(deployKai);
      expect(await kai.nonces(owner.address), "nonce").to.equal(0);
    });

    it("exposes the EIP-712 domain separator for (Kaisar, 1, chainId, token)", async function () {
      const { kai } = await loadFixture(deployKai);
      const domain = await permitDomain(kai);
      expect(await kai.DOMAIN_SEPARATOR(), "DOMAIN_SEPARATOR").to.equal(ethers.TypedDataEncoder.hashDomain(domain));
    });

    describe("when the owner signed it", function () {
      it("sets the allowance", async function () {
        const { kai, owner, spender } = await loadFixture(deployKai);
        const deadline = await deadlineIn(3_600);
        const { v, r, s } = await signPermit(kai, owner, spender.address, VALUE, deadline);
        await kai.permit(owner.address, spender.address, VALUE, deadline, v, r, s);
        expect(await kai.allowance(owner.address, spender.address), "allowance").to.equal(VALUE);
      });

      it("emits Approval(owner, spender, value)", async function () {
        const { kai, owner, spender } = await loadFixture(deployKai);
        const deadline = await deadlineIn(3_600);
        const { v, r, s } = await signPermit(kai, owner, spender.address, VALUE, deadline);
        await expect(kai.connect(spender).permit(owner.address, spender.address, VALUE, deadline, v, r, s))
          .to.emit(kai, "Approval")
          .withArgs(owner.address, spender.address, VALUE);
      });

      it("increments the owner's nonce", async function () {
        const { kai, owner, spender } = await loadFixture(deployKai);
        const deadline = await deadlineIn(3_600);
        const { v, r, s } = await signPermit(kai, owner, spender.address, VALUE, deadline);
        await kai.permit(owner.address, spender.address, VALUE, deadline, v, r, s);
        expect(await kai.nonces(owner.address), "nonce").to.equal(1);
      });

      it("lets the spender pull the permitted amount", async function () {
        const { kai, owner, spender, other } = await loadFixture(deployKai);
        const deadline = await deadlineIn(3_600);
        const { v, r, s } = await signPermit(kai, owner, spender.address, VALUE, deadline);
        await kai.permit(owner.address, spender.address, VALUE, deadline, v, r, s);
        await expect(kai.connect(spender).transferFrom(owner.address, other.address, VALUE)).to.changeTokenBalances(
          kai,
          [owner, other],
          [-VALUE, VALUE],
        );
      });

      it("is accepted in the block whose timestamp equals the deadline", async function () {
        const { kai, owner, spender } = await loadFixture(deployKai);
        const deadline = await deadlineIn(100);
        const { v, r, s } = await signPermit(kai, owner, spender.address, VALUE, deadline);
        await time.setNextBlockTimestamp(deadline);
        await kai.permit(owner.address, spender.address, VALUE, deadline, v, r, s);
        expect(await kai.allowance(owner.address, spender.address), "allowance").to.equal(VALUE);
      });
    });

    describe("when someone other than the owner signed it", function () {
      it("reverts with ERC2612InvalidSigner(signer, owner)", async function () {
        const { kai, owner, spender, other } = await loadFixture(deployKai);
        const deadline = await deadlineIn(3_600);
        const { v, r, s } = await signPermit(kai, other, spender.address, VALUE, deadline, {
          owner: owner.address,
        });
        await expect(kai.permit(owner.address, spender.address, VALUE, deadline, v, r, s))
          .to.be.revertedWithCustomError(kai, "ERC2612InvalidSigner")
          .withArgs(other.address, owner.address);
      });
    });

    describe("when the value submitted differs from the value signed", function () {
      it("reverts with ERC2612InvalidSigner(recovered, owner)", async function () {
        const { kai, owner, spender } = await loadFixture(deployKai);
        const deadline = await deadlineIn(3_600);
        const { domain, message, signature, v, r, s } = await signPermit(kai, owner, spender.address, VALUE, deadline);
        const recovered = recoverPermitSigner(domain, { ...message, value: VALUE + 1n }, signature);
        await expect(kai.permit(owner.address, spender.address, VALUE + 1n, deadline, v, r, s))
          .to.be.revertedWithCustomError(kai, "ERC2612InvalidSigner")
          .withArgs(recovered, owner.address);
      });
    });

    describe("when the permit is replayed", function () {
      it("reverts with ERC2612InvalidSigner (the nonce moved on)", async function () {
        const { kai, owner, spender } = await loadFixture(deployKai);
        const deadline = await deadlineIn(3_600);
        const { domain, message, signature, v, r, s } = await signPermit(kai, owner, spender.address, VALUE, deadline);
        await kai.permit(owner.address, spender.address, VALUE, deadline, v, r, s);
        const recovered = recoverPermitSigner(domain, { ...message, nonce: 1n }, signature);
        await expect(kai.permit(owner.address, spender.address, VALUE, deadline, v, r, s))
          .to.be.revertedWithCustomError(kai, "ERC2612InvalidSigner")
          .withArgs(recovered, owner.address);
      });
    });

    describe("when it was signed for another chain", function () {
      it("reverts with ERC2612InvalidSigner", async function () {
        const { kai, owner, spender } = await loadFixture(deployKai);
        const deadline = await deadlineIn(3_600);
        const { message, signature, v, r, s } = await signPermit(kai, owner, spender.address, VALUE, deadline, {
          chainId: 1n,
        });
        const recovered = recoverPermitSigner(await permitDomain(kai), message, signature);
        await expect(kai.permit(owner.address, spender.address, VALUE, deadline, v, r, s))
          .to.be.revertedWithCustomError(kai, "ERC2612InvalidSigner")
          .withArgs(recovered, owner.address);
      });
    });

    describe("when the deadline has passed", function () {
      it("reverts with ERC2612ExpiredSignature(deadline)", async function () {
        const { kai, owner, spender } = await loadFixture(deployKai);
        const deadline = await deadlineIn(-1);
        const { v, r, s } = await signPermit(kai, owner, spender.address, VALUE, deadline);
        await expect(kai.permit(owner.address, spender.address, VALUE, deadline, v, r, s))
          .to.be.revertedWithCustomError(kai, "ERC2612ExpiredSignature")
          .withArgs(deadline);
      });

      it("reverts one second after the deadline", async function () {
        const { kai, owner, spender } = await loadFixture(deployKai);
        const deadline = await deadlineIn(100);
        const { v, r, s } = await signPermit(kai, owner, spender.address, VALUE, deadline);
        await time.setNextBlockTimestamp(deadline + 1n);
        await expect(kai.permit(owner.address, spender.address, VALUE, deadline, v, r, s))
          .to.be.revertedWithCustomError(kai, "ERC2612ExpiredSignature")
          .withArgs(deadline);
      });
    });
  });
});
