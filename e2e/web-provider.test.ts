/**
 * The provider in a real browser against the network `npm start` runs: register a node and stake for
 * it; claim a reward once an epoch's report is on chain (the keeper serves the proof). Screenshots of
 * the provider, checker, monitoring and epochs pages.
 */
import { expect } from "chai";

import { clearToasts, launch, openAs, screenshot, waitForTx, type Session } from "./web/browser";

describe("web app: provider", function () {
  this.timeout(300_000);
  let session: Session;
  before(async () => {
    session = await launch();
  });
  after(async () => {
    await session?.close();
  });

  it("registers a node and stakes what it needs", async () => {
    const { page, context } = await openAs(session.browser, "you", "#/provider");
    await page.getByTestId("staked").waitFor();
    const nodesBefore = await page.getByTestId("my-node").count();
    await page.getByTestId("show-register").click();
    await page.getByTestId("reg-gpuCount").fill("1");
    await page.getByTestId("reg-price").fill("1.25");
    await screenshot(page, "provider-register");
    await page.getByTestId("register").click();
    await waitForTx(page);
    await page.getByTestId("my-node").nth(nodesBefore).waitFor();
    await clearToasts(page);
    await page.getByRole("button", { name: "Fill the requirement" }).click();
    await page.getByTestId("stake").click();
    await waitForTx(page);
    await page.getByTestId("my-node").filter({ hasText: "yes" }).first().waitFor();
    expect(await page.getByTestId("staked").innerText()).to.match(/^[\d,]+(\.\d+)? KAI$/);
    expect(await page.getByText("✓ covered").count()).to.equal(1);
    await screenshot(page, "provider");
    await context.close();
  });

  it("claims a reward after an epoch", async () => {
    const { page, context } = await openAs(session.browser, "provider-h100", "#/provider");
    // The first report lands about two epochs after the network started.
    await page.getByTestId("claim").waitFor({ timeout: 240_000 });
    const vestingBefore = await page.getByTestId("position").count();
    await page.getByTestId("claim").click();
    await waitForTx(page);
    await page
      .getByTestId("position")
      .nth(Math.max(0, vestingBefore - 1))
      .waitFor();
    expect(await page.getByTestId("position").count()).to.be.greaterThan(0);
    await screenshot(page, "provider-rewards");
    for (const [hash, name] of [
      ["#/monitor", "monitor"],
      ["#/epochs", "epochs"],
    ]) {
      await page.goto(page.url().replace(/#.*$/, hash));
      await page.waitForTimeout(1_500);
      await screenshot(page, name);
    }
    await context.close();
  });

  it("shows a checker its standing", async () => {
    const { page, context } = await openAs(session.browser, "checker-1", "#/checker");
    await page.getByTestId("licenses").waitFor();
    expect(await page.getByTestId("reports-signed").innerText()).to.match(/^\d+ of the last \d+ epochs/);
    await screenshot(page, "checker");
    await context.close();
  });

  it("fits a phone screen", async () => {
    const { page, context } = await openAs(session.browser, "you", "#/", { width: 390, height: 844 });
    await page.getByTestId("node-row").first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, "no horizontal scrolling").to.be.at.most(1);
    await screenshot(page, "marketplace-phone");
    await context.close();
  });
});
