/**
 * The renter in a real browser against the network `npm start` runs: rent pay-as-you-go with one
 * permit signature and one transaction (no allowance left behind), watch the rental tick, top up,
 * end it behind a confirmation and get the refund; everything the chain would refuse is said before
 * any signature; live health and why a node takes no rentals; a saving plan's exact penalty before
 * and after ending; the node page; the renter's pages at 390 px.
 */
import { expect } from "chai";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import type { Page } from "playwright-core";

import { localAccount, readLocalJson } from "./localJson";
import { amountIn, clearToasts, launch, openAs, screenshot, waitForTx, type Session } from "./web/browser";

const ERC20 = [
  "function allowance(address owner, address spender) view returns (uint256)",
  "function nonces(address owner) view returns (uint256)",
];
const REGISTRY = ["function pauseNode(uint256 nodeId)", "function resumeNode(uint256 nodeId)"];

/** The chain as the tests read it (the same RPC the app uses). */
function chain() {
  const net = readLocalJson();
  const provider = new JsonRpcProvider(net.rpcUrl, net.chainId, { staticNetwork: true });
  const you = localAccount(net, "you").address;
  const kai = new Contract(net.contracts.KaiToken, ERC20, provider);
  return { net, provider, you, kai, escrow: net.contracts.RentalEscrow };
}

/** Whether the page's document is wider than its viewport (something overflows sideways). */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

describe("web app: renter", function () {
  this.timeout(240_000);
  let session: Session;
  before(async () => {
    session = await launch();
  });
  after(async () => {
    await session?.close();
  });

  it("rents pay-as-you-go with one permit signature and one transaction, tops up, ends it after a confirmation", async () => {
    const { provider, you, kai, escrow } = chain();
    const { page, context } = await openAs(session.browser, "you", "#/");
    await page.getByTestId("node-row").first().waitFor();
    await screenshot(page, "marketplace");
    const txsBefore = await provider.getTransactionCount(you);
    await page.goto(page.url().replace(/#.*$/, "#/rent/3"));
    await page.getByTestId("rent-hours").fill("0.1"); // 6 minutes: more than the 5-minute grace period
    await page.getByTestId("cost-total").waitFor();
    await screenshot(page, "rent");
    await page.getByTestId("rent-submit").click();
    await waitForTx(page);
    await page.waitForURL(/#\/rentals$/);
    // One transaction (rentWithPermit), no approval, and no allowance left behind.
    expect(await provider.getTransactionCount(you)).to.equal(txsBefore + 1);
    expect(await kai.allowance(you, escrow)).to.equal(0n);

    const card = page.locator('[data-testid^="rental-"]').filter({ hasText: "node #3" }).first();
    await card.getByTestId("balance-left").waitFor();
    // Opt-in browser notifications: the rental has 6 minutes of funds, under the hour that notifies.
    await context.grantPermissions(["notifications"]);
    await page.evaluate(() => {
      // Record what the app asks the browser to show (the browser's own display is not under test).
      const Real = window.Notification;
      const shown: string[] = [];
      const Spy = function (title: string, options?: NotificationOptions) {
        shown.push(title);
        try {
          return new Real(title, options);
        } catch {
          return {};
        }
      } as unknown as typeof Notification;
      Object.defineProperty(Spy, "permission", { get: () => Real.permission });
      Object.defineProperty(Spy, "requestPermission", { value: Real.requestPermission.bind(Real) });
      Object.defineProperty(window, "Notification", { value: Spy, configurable: true, writable: true });
      (window as unknown as { shown: string[] }).shown = shown;
    });
    // The box turns on once the browser grants the permission (asynchronously): click, then wait for it.
    await page.getByTestId("notify-low").click();
    await expect_(() => page.getByTestId("notify-low").isChecked(), "notifications switched on");
    await expect_(
      async () =>
        (await page.evaluate(() => (window as unknown as { shown: string[] }).shown)).some((t) =>
          /^Rental #\d+: (\d+ min ?)?(\d+ s)? of funds left$/.test(t),
        ),
      "a low-balance notification",
    );
    const first = amountIn(await card.getByTestId("balance-left").innerText());
    await expect_(async () => amountIn(await card.getByTestId("balance-left").innerText()) < first, "ticks down");
    // One source: a pay-as-you-go refund is the balance left, read at the same second.
    expect(await card.getByTestId("refund-now").innerText()).to.equal(
      await card.getByTestId("balance-left").innerText(),
    );
    // Burn rate, when the funds run out, and the warning below an hour left.
    expect(await card.getByTestId("burn-rate").innerText()).to.match(/^0\.5 KAI\/h$/);
    expect(await card.getByTestId("runs-out").innerText()).to.match(/^at \d{1,2}:\d{2}/);
    expect(await card.getByTestId("low-balance").innerText()).to.match(/Less than an hour left: the funds run out at/);
    await screenshot(page, "rentals");

    await clearToasts(page);
    const later = amountIn(await card.getByTestId("balance-left").innerText());
    await card.getByTestId("topup-amount").fill("1");
    await card.getByTestId("topup").click();
    await waitForTx(page);
    await expect_(
      async () => amountIn(await card.getByTestId("balance-left").innerText()) > later + 0.9,
      "the top-up adds about 1 KAI",
    );
    expect(await provider.getTransactionCount(you)).to.equal(txsBefore + 2);
    expect(await kai.allowance(you, escrow)).to.equal(0n);

    const before = amountIn(await page.getByTestId("balance").innerText());
    await clearToasts(page);
    await card.getByTestId("end").click();
    const dialog = page.getByTestId("end-dialog");
    expect(await dialog.getByTestId("end-penalty").innerText()).to.equal("0 KAI");
    expect(amountIn(await dialog.getByTestId("end-refund").innerText())).to.be.greaterThan(1);
    await dialog.getByTestId("end-confirm").click();
    await waitForTx(page);
    const closed = page.locator('[data-testid^="rental-"]').filter({ hasText: "ended by you" }).first();
    await closed.waitFor();
    await expect_(
      async () => amountIn(await page.getByTestId("balance").innerText()) > before + 0.5,
      "the refund is back in the wallet",
    );
    await screenshot(page, "rentals-closed");
    await context.close();
  });

  it("checks before the first signature: a balance too low, more GPUs than are free; nothing is sent", async () => {
    const { provider, you, kai, escrow } = chain();
    const txsBefore = await provider.getTransactionCount(you);
    const { page, context } = await openAs(session.browser, "you", "#/rent/1");
    await page.getByTestId("rent-hours").fill("1000000");
    const problem = page.getByTestId("rent-problem");
    expect(await problem.innerText()).to.match(
      /^Your balance is too low: this needs [\d,.]+ KAI and you have [\d,.]+ KAI\.$/,
    );
    expect(await page.getByTestId("rent-submit").isDisabled()).to.equal(true);
    await screenshot(page, "rent-too-low");
    // Attack 5: a first deposit below the grace period (3 minutes of a 5-minute grace) is named, with the minimum.
    await page.getByTestId("rent-hours").fill("0.05");
    await expect_(
      async () =>
        /^The first deposit must pay for at least the grace period: [\d,.]+ KAI \(you offered [\d,.]+ KAI\)\.$/.test(
          await problem.innerText(),
        ),
      "the grace minimum named before the wallet opens",
    );
    expect(await page.getByTestId("rent-submit").isDisabled()).to.equal(true);
    // Node 1 has 8 GPUs, 2 of them rented by the demo renter: the hint and the check say 1 to 6.
    await page.getByTestId("rent-hours").fill("1");
    expect(await page.getByText("1 to 6 (6 free)").count()).to.equal(1);
    await page.getByTestId("rent-gpus").fill("7");
    await page.getByText("Choose between 1 and 6 GPUs.").waitFor();
    expect(await page.getByTestId("rent-submit").isDisabled()).to.equal(true);
    expect(await provider.getTransactionCount(you)).to.equal(txsBefore);
    expect(await kai.allowance(you, escrow)).to.equal(0n);
    await context.close();
  });

  it("shows live health and names why a node takes no rentals before renting (paused; down for a while)", async () => {
    const { net, provider } = chain();
    const l40s = net.agents.find((a) => a.name === "agent-l40s")!;
    const flaky = net.agents.find((a) => a.flaky)!;
    const owner = new Wallet(localAccount(net, "provider-l40s").privateKey, provider);
    const registry = new Contract(net.contracts.NodeRegistry, REGISTRY, owner);
    await (await registry.pauseNode(l40s.nodeId)).wait();
    try {
      const { page, context } = await openAs(session.browser, "you", `#/rent/${l40s.nodeId}`);
      const warning = page.getByTestId("rent-warning");
      await warning.filter({ hasText: "This node takes no rentals now: paused by its provider." }).waitFor();
      expect(await page.getByTestId("rent-submit").isDisabled()).to.equal(true);
      await screenshot(page, "rent-paused");

      // The flaky node: the checkers see it down part of every epoch; the page says for how long.
      await page.goto(page.url().replace(/#.*$/, `#/rent/${flaky.nodeId}`));
      await page
        .getByTestId("rent-health")
        .filter({ hasText: /Checkers: down for (at least )?\d+ (s|min)/ })
        .waitFor({ timeout: 180_000 });
      await page.goto(page.url().replace(/#.*$/, "#/"));
      await page.getByLabel("Available now").uncheck(); // show nodes that take no rentals too
      const row = page.getByTestId("node-row").filter({ hasText: `#${l40s.nodeId}` });
      await row.getByTestId("node-unavailable").filter({ hasText: "paused by its provider" }).waitFor();
      await page
        .getByTestId("node-health")
        .filter({ hasText: /down for (at least )?\d+ (s|min)/ })
        .first()
        .waitFor({ timeout: 180_000 });
      await screenshot(page, "marketplace-health");

      // Live monitoring agrees with itself: a node seen down shows no latency ("no answer").
      await page.goto(page.url().replace(/#.*$/, "#/monitor"));
      await page.getByLabel(/Every node/).check();
      await page
        .getByTestId(`monitor-${flaky.nodeId}`)
        .filter({ has: page.getByTestId("monitor-state").filter({ hasText: /down for/ }) })
        .filter({ has: page.getByTestId("monitor-latency").filter({ hasText: /^no answer$/ }) })
        .waitFor({ timeout: 180_000 });
      await screenshot(page, "monitor-down");
      await context.close();
    } finally {
      await (await registry.resumeNode(l40s.nodeId)).wait();
    }
  });

  it("ends a saving plan only after a dialog states the exact refund and penalty; the closed card names the penalty", async () => {
    const { page, context } = await openAs(session.browser, "you", "#/rent/2");
    await page.getByTestId("rent-plan").selectOption("Saving");
    await page.getByTestId("cost-total").waitFor();
    await page.getByTestId("rent-submit").click();
    await waitForTx(page);
    await page.waitForURL(/#\/rentals$/);
    const card = page
      .locator('[data-testid^="rental-"]')
      .filter({ hasText: "node #2" })
      .filter({ hasText: "Saving plan" })
      .first();
    await card.getByTestId("penalty-now").waitFor();
    // Balance left, the penalty and the refund agree: refund = balance − penalty.
    const balance = amountIn(await card.getByTestId("balance-left").innerText());
    const penaltyNow = amountIn((await card.getByTestId("penalty-now").innerText()).replace("−", ""));
    const refundNow = amountIn(await card.getByTestId("refund-now").innerText());
    expect(penaltyNow).to.be.greaterThan(0);
    expect(Math.abs(balance - penaltyNow - refundNow)).to.be.lessThan(0.01);

    await clearToasts(page);
    await card.getByTestId("end").click();
    const dialog = page.getByTestId("end-dialog");
    const penalty = amountIn(await dialog.getByTestId("end-penalty").innerText());
    expect(penalty).to.be.greaterThan(20); // 10% of about 255 KAI unused
    expect(await dialog.innerText()).to.contain(`you lose ${await dialog.getByTestId("end-penalty").innerText()}`);
    await screenshot(page, "end-saving-dialog");
    await dialog.getByTestId("end-cancel").click();
    expect(await page.getByTestId("end-dialog").count()).to.equal(0);
    expect(await card.getByTestId("rental-status").innerText()).to.equal("running");

    await card.getByTestId("end").click();
    await page.getByTestId("end-dialog").getByTestId("end-confirm").click();
    await waitForTx(page);
    const closed = page
      .locator('[data-testid^="rental-"]')
      .filter({ hasText: "ended by you" })
      .filter({ hasText: "Saving plan" })
      .first();
    const paid = amountIn(await closed.getByTestId("closed-penalty").innerText());
    // The block came a few seconds after the dialog read its figures: the penalty moves by about
    // 0.0004 KAI a second (10% of 1.52 KAI/h), far inside 0.1%.
    expect(Math.abs(paid - penalty)).to.be.lessThan(penalty * 0.001);
    await screenshot(page, "rentals-saving-closed");
    await context.close();
  });

  it("says why a top-up amount is refused (0, -1, abc, 1e30)", async () => {
    const { page, context } = await openAs(session.browser, "you", "#/rent/3");
    await page.getByTestId("rent-hours").fill("2");
    await page.getByTestId("rent-submit").click();
    await waitForTx(page);
    await page.waitForURL(/#\/rentals$/);
    const card = page
      .locator('[data-testid^="rental-"]')
      .filter({ hasText: "node #3" })
      .filter({ hasText: "running" })
      .first();
    for (const [text, why] of [
      ["0", "Enter an amount above zero."],
      ["-1", "Enter a positive amount."],
      ["abc", '"abc" is not an amount'],
      ["1e30", "Write the amount in plain digits"],
    ]) {
      await card.getByTestId("topup-amount").fill(text);
      expect(await card.getByTestId("topup-problem").innerText()).to.contain(why);
      expect(await card.getByTestId("topup").isDisabled()).to.equal(true);
    }
    await card.getByTestId("topup-amount").fill("");
    await context.close();
  });

  it("shows a node page: provider, availability, uptime per epoch, price history; an unknown node without console errors", async () => {
    const { net } = chain();
    const h100 = net.agents.find((a) => a.name === "agent-h100")!;
    const { page, context } = await openAs(session.browser, "you", `#/node/${h100.nodeId}`);
    const errors: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    const providerAddress = localAccount(net, "provider-h100").address;
    expect((await page.getByTestId("node-provider").innerText()).toLowerCase()).to.equal(providerAddress.toLowerCase());
    expect(await page.getByTestId("node-availability").innerText()).to.match(
      /takes rentals · 6 of 8 GPUs free|takes rentals/,
    );
    await page.getByTestId("uptime-row").first().waitFor({ timeout: 120_000 });
    await page.locator(".uplot, canvas").first().waitFor();
    expect(await page.getByTestId("price-history").locator("tbody tr").count()).to.be.greaterThan(0);
    await screenshot(page, "node-page");
    await page.goto(page.url().replace(/#.*$/, "#/rent/99999"));
    await page.getByText("Node #99999 does not exist.").waitFor();
    await page.goto(page.url().replace(/#.*$/, "#/node/99999"));
    await page.getByText("Node #99999 does not exist.").waitFor();
    expect(errors.filter((e) => /Query data cannot be undefined/.test(e))).to.deep.equal([]);
    await context.close();
  });

  it("fits the renter's pages in 390 px", async () => {
    const { page, context } = await openAs(session.browser, "you", "#/", { width: 390, height: 844 });
    // Each page with its data in (the element that shows last).
    const pages: [string, string][] = [
      ["#/", '[data-testid="node-health"] .pill'],
      ["#/rent/1", '[data-testid="cost-total"]'],
      ["#/rentals", '[data-testid="close-reason"]'],
      ["#/node/1", '[data-testid="price-history"] tbody tr'],
      ["#/monitor", '[data-testid="monitor-state"] .pill'],
    ];
    for (const [hash, ready] of pages) {
      await page.goto(page.url().replace(/#.*$/, hash));
      if (hash === "#/monitor") await page.getByLabel(/Every node/).check();
      await page.locator(ready).first().waitFor();
      expect(await overflow(page), `${hash} overflows at 390 px`).to.be.at.most(0);
    }
    await screenshot(page, "rentals-390");
    await context.close();
  });
});

/** Waits (up to 60 s, polling) until `check` holds; fails with `what`. */
async function expect_(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting: ${what}`);
}
