import { expect } from "chai";

import { shortAddress, stakeShortfall, underStakeSentence } from "../src/stake";

const PROVIDER = "0xAbCd000000000000000000000000000000001234";
const KAI = 10n ** 18n;

describe("stake: the under-requirement sentence", () => {
  it("names the provider, what is staked, what is required and how much more to stake", () => {
    expect(underStakeSentence(PROVIDER, { staked: 16_000n * KAI, required: 24_000n * KAI })).to.equal(
      "Provider 0xAbCd…1234 is under its stake requirement: 16,000 KAI staked of 24,000 KAI required " +
        "(stake taken for a renter's SLA credit or a slash, unstaked, or a raised requirement), so its nodes " +
        "take no rentals. Stake 8,000 KAI more to take rentals again.",
    );
  });

  it("says nothing when the stake covers the requirement, exactly or with room", () => {
    expect(underStakeSentence(PROVIDER, { staked: 24_000n * KAI, required: 24_000n * KAI })).to.equal(undefined);
    expect(underStakeSentence(PROVIDER, { staked: 30_000n * KAI, required: 24_000n * KAI })).to.equal(undefined);
    expect(underStakeSentence(PROVIDER, { staked: 0n, required: 0n })).to.equal(undefined);
  });

  it("counts a shortfall of one unit, and uses the token's symbol and decimals", () => {
    expect(stakeShortfall({ staked: 24_000n * KAI - 1n, required: 24_000n * KAI })).to.equal(1n);
    expect(underStakeSentence(PROVIDER, { staked: 1_500_000n, required: 2_000_000n }, { symbol: "USDC", decimals: 6 }))
      .to.contain("1.5 USDC staked of 2 USDC required")
      .and.contain("Stake 0.5 USDC more");
  });

  it("shortens only a full address", () => {
    expect(shortAddress(PROVIDER)).to.equal("0xAbCd…1234");
    expect(shortAddress("0xab")).to.equal("0xab");
  });
});
