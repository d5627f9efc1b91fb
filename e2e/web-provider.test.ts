/**
 * The provider in a real browser against the network `npm start` runs: register a node and stake for
 * it; claim a reward once an epoch's report is on chain (the keeper serves the proof); withdraw a
 * vesting position only after a confirmation with the contract's amounts; the vesting countdown by the
 * contract's day rule; charts; SLA credits and slashes per epoch; the network menu's way back; no
 * console errors and no horizontal overflow at 390 and 1280 px. Screenshots of the provider, checker,
 * monitoring and epochs pages.
 */
import { existsSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { Contract, JsonRpcProvider } from "ethers";

import { localAccount, readLocalJson } from "./localJson";
import {
  amountIn,
  clearToasts,
  launch,
  localJson,
  openAs,
  ROOT,
  screenshot,
  waitForTx,
  type Session,
} from "./web/browser";
import { headerProblems, insideProblems, overflowProblems, watchConsole } from "./web/checks";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

describe("web app: provider", function () {
  this.timeout(300_000);
  let session: Session;
  let rpc: JsonRpcProvider;
  before(async () => {
    session = await launch();
    const net = readLocalJson();
    rpc = new JsonRpcProvider(net.rpcUrl, net.chainId, { staticNetwork: true });
  });
  after(async () => {
    rpc?.destroy();
    await session?.close();
  });

  const kai = () => {
    const net = readLocalJson();
    return new Contract(net.contracts.KaiToken, ["function balanceOf(address) view returns (uint256)"], rpc);
  };

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

  it("claims a reward after an epoch; the vesting countdown counts from the end of the claim's UTC day", async () => {
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
    // Claimed today: 25% now, 50% 30 days after today (UTC) ends, so 30 d and some hours away
    // (RewardDistributor.withdrawVested). The countdown used to count from the day's start: "29 d".
    const vesting = await page.getByTestId("position-vesting").last().innerText();
    expect(vesting).to.match(/\(25%\) · 50% in 3[01] d( \d+ h)?$/);
    // A chart of what the nodes earned per epoch.
    await page
      .getByRole("img", { name: "Rewards your nodes earned per epoch (KAI)" })
      .locator("canvas")
      .first()
      .waitFor();
    await page.getByRole("img", { name: "Earnings and rewards taken over time (cumulative)" }).waitFor();
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

  for (const viewport of [PHONE, DESKTOP]) {
    it(`fits ${viewport.width} px wide, header whole, no console errors (marketplace, provider, checker, epochs)`, async () => {
      const context = await session.browser.newContext({ viewport });
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      const errors = watchConsole(page);
      const problems: string[] = [];
      const base = localJson().webUrl;
      await page.goto(`${base}/#/`);
      await page.getByTestId("connect").click();
      await page.getByRole("button", { name: /^Local test account: provider-h100\b/ }).click();
      await page.getByTestId("account").waitFor();
      await page.getByTestId("node-row").first().waitFor();
      problems.push(...(await overflowProblems(page, "marketplace")), ...(await headerProblems(page, "marketplace")));
      // A favicon the page names and the server has (headless Chromium does not ask for /favicon.ico itself).
      const icon = await page.evaluate(() => document.querySelector<HTMLLinkElement>("link[rel~=icon]")?.href);
      const got = icon ? await page.request.get(icon) : undefined;
      if (!got?.ok() || !got.headers()["content-type"]?.startsWith("image/"))
        problems.push(`favicon: ${icon} answers ${got?.status()}`);
      const pages: [string, () => Promise<void>][] = [
        ["provider", () => page.getByTestId("position").first().waitFor()],
        ["checker", () => page.getByTestId("licenses").waitFor()],
        ["epochs", () => page.getByRole("heading", { name: /^Epoch \d+$/ }).waitFor()],
      ];
      for (const [name, ready] of pages) {
        await page.goto(`${base}/#/${name}`);
        await ready();
        await page
          .getByRole("img")
          .first()
          .waitFor({ timeout: 10_000 })
          .catch(() => undefined);
        await page.waitForTimeout(1_000); // let the keeper's proofs and the charts draw
        await screenshot(page, `${name}-${viewport.width}`);
        problems.push(...(await overflowProblems(page, name)));
        if (name === "provider") {
          const card = page.locator(".card").filter({ has: page.getByTestId("position") });
          const button = page.getByRole("button", { name: "Withdraw now" }).first();
          problems.push(...(await insideProblems(button, card, "provider: the Withdraw now button")));
        }
      }
      expect(problems, `at ${viewport.width} px`).to.deep.equal([]);
      expect(errors, "console errors").to.deep.equal([]);
      await context.close();
    });
  }

  it("asks the keeper only for proofs that exist: no 404s for epochs without a leaf of the node", async () => {
    // "you" registered its node after the first epochs: those have no leaf of it.
    const context = await session.browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    const errors = watchConsole(page);
    const failed: string[] = [];
    page.on("response", (r) => void (r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`)));
    await page.goto(`${localJson().webUrl}/#/provider`);
    await page.getByTestId("connect").click();
    await page.getByRole("button", { name: /^Local test account: you\b/ }).click();
    await page.getByTestId("claimable").filter({ hasNotText: "Reading the keeper's proofs" }).waitFor();
    expect(failed, "failed requests").to.deep.equal([]);
    expect(errors, "console errors").to.deep.equal([]);
    await context.close();
  });

  it("withdraws a vesting position only after a confirmation stating what is received and forfeited", async () => {
    const { page, context } = await openAs(session.browser, "provider-h100", "#/provider");
    const me = localAccount(readLocalJson(), "provider-h100").address;
    const position = page.getByTestId("position").first();
    await position.waitFor();
    const held = amountIn(await position.locator(".pos-amount").innerText());
    const before = (await kai().balanceOf(me)) as bigint;

    // Cancel: nothing is sent.
    await position.getByTestId("withdraw-vested").click();
    const dialog = page.getByTestId("confirm");
    await dialog.waitFor();
    await screenshot(page, "provider-withdraw-confirm");
    const received = amountIn(await dialog.getByTestId("confirm-received").innerText());
    const forfeited = amountIn(await dialog.getByTestId("confirm-forfeited").innerText());
    expect(received + forfeited, "received + forfeited = the position").to.be.closeTo(held, held * 1e-6 + 1e-3);
    expect(received, "25% within 30 days").to.be.closeTo(held / 4, held * 1e-6 + 1e-3);
    await dialog.getByTestId("confirm-cancel").click();
    await dialog.waitFor({ state: "detached" });
    expect((await kai().balanceOf(me)) as bigint, "cancel sends nothing").to.equal(before);

    // Confirm: the wallet gets what the dialog said.
    await position.getByTestId("withdraw-vested").click();
    await dialog.getByTestId("confirm-ok").click();
    await waitForTx(page);
    const after = (await kai().balanceOf(me)) as bigint;
    expect(Number(after - before) / 1e18).to.be.closeTo(received, 1e-3);
    await context.close();
  });

  it("shows a checker its standing", async () => {
    const { page, context } = await openAs(session.browser, "checker-1", "#/checker");
    await page.getByTestId("licenses").waitFor();
    expect(await page.getByTestId("reports-signed").innerText()).to.match(/^\d+ of the last \d+ epochs/);
    await screenshot(page, "checker");
    await context.close();
  });

  it("shows each epoch's SLA credits and slashes, and its reward split as a chart", async () => {
    const net = readLocalJson();
    const sla = new Contract(
      net.contracts.SlaEnforcer,
      [
        "event ApplySlaCredit(uint256 indexed rentalId, uint256 indexed epoch, uint256 uptimeBps, uint256 credit, uint256 fromEarnings, uint256 kaiFromStake)",
        "event SlashDowntime(uint256 indexed nodeId, uint256 indexed rentalId, uint256 firstEpoch, uint256 lastEpoch, uint256 slashed, bytes32 evidence)",
      ],
      rpc,
    );
    // The flaky node's renter gets a credit once a bad epoch of the node is reported: wait for the chain.
    let epoch: number | undefined;
    for (const deadline = Date.now() + 240_000; epoch === undefined && Date.now() < deadline;) {
      const [credit] = await sla.queryFilter(sla.filters.ApplySlaCredit());
      if (credit && "args" in credit) epoch = Number(credit.args.epoch);
      else await new Promise((r) => setTimeout(r, 2_000));
    }
    expect(epoch, "an SLA credit on chain").to.not.equal(undefined);
    const credits = (await sla.queryFilter(sla.filters.ApplySlaCredit(undefined, epoch))).length;
    const slashes = (await sla.queryFilter(sla.filters.SlashDowntime())).filter(
      (e) => "args" in e && Number(e.args.lastEpoch) === epoch,
    ).length;
    const { page, context } = await openAs(session.browser, "you", "#/epochs");
    await page.getByRole("button", { name: new RegExp(`^Epoch ${epoch} · .*${credits} credits?`) }).click();
    await page.getByRole("heading", { name: `Epoch ${epoch}` }).waitFor();
    expect(await page.getByTestId("epoch-credit").count()).to.equal(credits);
    expect(await page.getByTestId("epoch-slash").count()).to.equal(slashes);
    await page
      .getByRole("img", { name: `Reward split of epoch ${epoch} (KAI)` })
      .locator("canvas")
      .first()
      .waitFor();
    expect(await page.getByTestId("reward-split").innerText()).to.match(/^Capacity [\d,.]+ KAI · delivery/);
    await screenshot(page, "epochs-sla");
    await context.close();
  });

  it("shows the flaky node's provider the SLA credits paid from its nodes, with their epoch", async () => {
    const { page, context } = await openAs(session.browser, "provider-3090", "#/provider");
    const table = page.locator("table[data-testid=provider-credits]");
    await table.waitFor({ timeout: 60_000 });
    expect(await table.locator("th").first().innerText()).to.equal("Epoch");
    expect(await table.locator("tbody tr td").first().innerText()).to.match(/^\d+$/);
    await context.close();
  });

  it("never strands a person on a network without a deployment", async function () {
    // A public network without a deployment export (none is committed yet; skip once both are).
    const NETWORKS: [number, string][] = [
      [9990, "agung (testnet)"],
      [3338, "peaq"],
    ];
    const missing = NETWORKS.filter(([id]) => !existsSync(path.join(ROOT, "deploy", "exports", `chain-${id}.json`)));
    if (missing.length === 0) this.skip();
    const [chainId, label] = missing[0];
    const { page, context } = await openAs(session.browser, "you", "#/provider");
    const base = localJson().webUrl;
    // Chosen from the menu: a page that says so, with a way back.
    await page.getByTestId("network").selectOption({ label });
    await page.getByTestId("no-deployment").waitFor();
    expect(await page.getByTestId("no-deployment").innerText()).to.contain(
      `No deployment of Kaisar is known for ${label.split(" ")[0]}`,
    );
    await screenshot(page, "no-deployment");
    // A reload without ?chain= does not land there again: the choice was not remembered.
    // (The app, not the "no deployment" page: its header with the page links.)
    const app = page.locator("header.top").getByRole("link", { name: "Epochs" });
    await page.goto(`${base}/#/`);
    await app.waitFor();
    // The way back from ?chain=… itself, to the page one was on.
    await page.goto(`${base}/?chain=${chainId}#/epochs`);
    await page.getByTestId("network-back").click();
    await app.waitFor();
    expect(new URL(page.url()).hash).to.equal("#/epochs");
    await context.close();
  });
});
