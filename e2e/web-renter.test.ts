/**
 * The renter in a real browser against the network `npm start` runs: rent pay-as-you-go, watch the
 * rental tick, top up, end it and get the refund; a rent the balance cannot pay says so in words.
 */
import { expect } from "chai";

import { amountIn, clearToasts, launch, openAs, screenshot, waitForTx, type Session } from "./web/browser";

describe("web app: renter", function () {
  this.timeout(180_000);
  let session: Session;
  before(async () => {
    session = await launch();
  });
  after(async () => {
    await session?.close();
  });

  it("rents a node pay-as-you-go, sees it tick, tops up, ends it and gets the refund", async () => {
    const { page, context } = await openAs(session.browser, "you", "#/");
    await page.getByTestId("node-row").first().waitFor();
    await screenshot(page, "marketplace");
    await page.goto(page.url().replace(/#.*$/, "#/rent/3"));
    await page.getByTestId("rent-hours").fill("0.05"); // 3 minutes
    await page.getByTestId("cost-total").waitFor();
    await screenshot(page, "rent");
    await page.getByTestId("rent-submit").click();
    await waitForTx(page);
    await page.waitForURL(/#\/rentals$/);
    const card = page.locator('[data-testid^="rental-"]').filter({ hasText: "node #3" }).first();
    await card.getByTestId("balance-left").waitFor();
    const first = amountIn(await card.getByTestId("balance-left").innerText());
    await page.waitForTimeout(2_500);
    const later = amountIn(await card.getByTestId("balance-left").innerText());
    expect(later, "the balance left ticks down").to.be.lessThan(first);
    await screenshot(page, "rentals");

    await clearToasts(page);
    await card.getByTestId("topup-amount").fill("1");
    await card.getByTestId("topup").click();
    await waitForTx(page);
    await page.waitForTimeout(1_500);
    const topped = amountIn(await card.getByTestId("balance-left").innerText());
    expect(topped, "the top-up adds about 1 KAI").to.be.greaterThan(later + 0.9);

    const before = amountIn(await page.getByTestId("balance").innerText());
    await clearToasts(page);
    await card.getByTestId("end").click();
    await waitForTx(page);
    const closed = page.locator('[data-testid^="rental-"]').filter({ hasText: "ended by you" }).first();
    await closed.waitFor();
    // The wallet balance comes back up by the unused deposit (a little over 1 KAI).
    let after = before;
    for (let i = 0; i < 20 && after <= before + 0.5; i++) {
      await page.waitForTimeout(500);
      after = amountIn(await page.getByTestId("balance").innerText());
    }
    expect(after, "the refund is back in the wallet").to.be.greaterThan(before + 0.5);
    await screenshot(page, "rentals-closed");
    await context.close();
  });

  it("says in words that the balance is too low for a rent", async () => {
    const { page, context } = await openAs(session.browser, "you", "#/rent/1");
    await page.getByTestId("rent-hours").fill("1000000");
    await page.getByTestId("rent-submit").click();
    const error = page.getByTestId("toast-error");
    await error.waitFor({ timeout: 60_000 });
    const text = await error.innerText();
    expect(text).to.match(/Your balance is too low: this needs [\d,.]+ KAI and you have [\d,.]+ KAI\./);
    expect(text).not.to.match(/0x[0-9a-f]{16,}/i);
    await screenshot(page, "rent-too-low");
    await context.close();
  });
});
