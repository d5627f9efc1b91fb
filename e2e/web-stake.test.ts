/**
 * A provider under its stake requirement, in a real browser against the network `npm start` runs
 * (issue #17, item 6). The A100 provider unstakes below what its node requires (none of its GPUs is
 * rented, so the registry lets it): the chain then refuses every rent of the node. The renter's rent
 * page says so before any wallet prompt, in the shared sentence (offchain/src/stake.ts) with how much
 * the provider must stake, the rent button disabled and nothing sent; the marketplace marks the node
 * with it; the provider's page tells the provider, whose "Fill the requirement" and Stake put the node
 * back, and the rent page lets the renter rent again.
 */
import { underStakeSentence } from "@kaisar/offchain/src/stake";
import { expect } from "chai";
import { Contract, JsonRpcProvider, Wallet } from "ethers";

import { localAccount, readLocalJson } from "./localJson";
import { clearToasts, launch, openAs, screenshot, waitForTx, type Session } from "./web/browser";

const REGISTRY = [
  "function getStake(address provider) view returns ((uint96 staked, uint96 unbonding, uint40 unbondingEnd, uint40 listedWeight, uint40 lockedWeight, uint40 rentedWeight, uint40 coveredSince, uint96 rewardsOwed))",
  "function requiredStake(address provider) view returns (uint256)",
  "function requestUnstake(uint256 amount)",
];
const ERC20 = ["function allowance(address owner, address spender) view returns (uint256)"];
const SHORT = 500n * 10n ** 18n;

describe("web app: a provider under its stake requirement", function () {
  this.timeout(240_000);
  let session: Session;
  before(async () => {
    session = await launch();
  });
  after(async () => {
    await session?.close();
  });

  it("refuses the rent before any wallet prompt with the sentence, marks the node, tells the provider, who stakes it back", async () => {
    const net = readLocalJson();
    const rpc = new JsonRpcProvider(net.rpcUrl, net.chainId, { staticNetwork: true });
    const a100 = net.agents.find((a) => a.name === "agent-a100")!;
    const owner = new Wallet(localAccount(net, "provider-a100").privateKey, rpc);
    const registry = new Contract(net.contracts.NodeRegistry, REGISTRY, owner);
    const required: bigint = await registry.requiredStake(owner.address);
    const staked: bigint = (await registry.getStake(owner.address)).staked;
    expect(staked >= required, "the demo provider starts covered").to.equal(true);
    await (await registry.requestUnstake(staked - required + SHORT)).wait();
    const sentence = underStakeSentence(owner.address, { staked: required - SHORT, required })!;
    expect(sentence).to.include("Stake 500 KAI more to take rentals again.");

    const you = localAccount(net, "you").address;
    const nonce = await rpc.getTransactionCount(you);
    const { page, context } = await openAs(session.browser, "you", `#/rent/${a100.nodeId}`);
    await page.getByTestId("rent-warning").filter({ hasText: sentence }).waitFor();
    await page.getByTestId("rent-problem").filter({ hasText: sentence }).waitFor();
    // The very sentence (hasText ignores case; an address's checksum is in its case).
    expect((await page.getByTestId("rent-warning").innerText()).trim()).to.equal(sentence);
    expect((await page.getByTestId("rent-problem").innerText()).trim()).to.equal(sentence);
    expect(await page.getByTestId("rent-submit").isDisabled()).to.equal(true);
    await screenshot(page, "rent-under-stake");
    expect(await rpc.getTransactionCount(you), "nothing sent").to.equal(nonce);
    expect(await new Contract(net.contracts.KaiToken, ERC20, rpc).allowance(you, net.contracts.RentalEscrow)).to.equal(
      0n,
    );

    await page.goto(page.url().replace(/#.*$/, "#/"));
    await page.getByLabel("Available now").uncheck(); // show nodes that take no rentals too
    const row = page.getByTestId("node-row").filter({ hasText: `#${a100.nodeId}` });
    await row.getByTestId("node-unavailable").filter({ hasText: sentence }).waitFor();
    expect((await row.getByTestId("node-unavailable").innerText()).trim()).to.equal(sentence);

    const provider = await openAs(session.browser, "provider-a100", "#/provider");
    await provider.page.getByTestId("provider-under-stake").filter({ hasText: sentence }).waitFor();
    expect(await provider.page.getByTestId("provider-under-stake").innerText()).to.include(sentence);
    await screenshot(provider.page, "provider-under-stake");
    await provider.page.getByTestId("stake-fill").click();
    expect(await provider.page.getByTestId("stake-amount").inputValue()).to.equal("500");
    await provider.page.getByTestId("stake").click();
    await waitForTx(provider.page);
    await clearToasts(provider.page);
    await provider.page.getByText("✓ covered").waitFor();
    expect(await provider.page.getByTestId("provider-under-stake").count()).to.equal(0);
    expect((await registry.getStake(owner.address)).staked).to.equal(required);
    await provider.context.close();

    await page.goto(page.url().replace(/#.*$/, `#/rent/${a100.nodeId}`));
    await page.getByTestId("rent-submit").and(page.locator(":enabled")).waitFor();
    expect(await page.getByTestId("rent-warning").count()).to.equal(0);
    await context.close();
  });
});
