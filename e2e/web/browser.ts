/**
 * The web tests' browser: Debian's Chromium through playwright-core (no browser download), headless,
 * no sandbox, no GPU, background networking off; playwright gives each launch a fresh temporary
 * profile (it refuses a --user-data-dir argument). Pages are opened on the
 * web app that `npm start` serves (its URL and demo accounts from .kaisar/local.json) and connected
 * with a "local test account". Screenshots go to e2e/artifacts/ (gitignored).
 */
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const ROOT = path.resolve(__dirname, "..", "..");
export const ARTIFACTS = path.join(ROOT, "e2e", "artifacts");
export const CHROMIUM = process.env.KAISAR_CHROMIUM ?? "/usr/bin/chromium";
/** Headless, no sandbox (root in CI), no GPU, and none of Chromium's own traffic (the network is closed). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface LocalJson {
  rpcUrl: string;
  webUrl: string;
  keeperUrl: string;
  accounts: { name: string; address: string; privateKey: string; roles: string[] }[];
}

export function localJson(): LocalJson {
  return JSON.parse(readFileSync(path.join(ROOT, ".kaisar", "local.json"), "utf8")) as LocalJson;
}

export interface Session {
  browser: Browser;
  close(): Promise<void>;
}

export async function launch(): Promise<Session> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    browser,
    close: async () => {
      await browser.close();
    },
  };
}

/** A new page on `hash` of the web app, connected as the demo account `name`. */
export async function openAs(
  browser: Browser,
  name: string,
  hash = "#/",
  viewport = { width: 1280, height: 900 },
): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on("pageerror", (e) => console.log(`    [browser] ${e.message}`));
  await page.goto(`${localJson().webUrl}/${hash}`);
  await page.getByTestId("connect").click();
  await page.getByRole("button", { name: new RegExp(`^Local test account: ${name}\\b`) }).click();
  await page.getByTestId("account").waitFor();
  return { page, context };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The number in a text such as "1,234.5 KAI · …" (the first amount). */
export function amountIn(text: string): number {
  const m = /-?[\d,]+(\.\d+)?/.exec(text);
  if (!m) throw new Error(`no amount in "${text}"`);
  return Number(m[0].replace(/,/g, ""));
}

/** Waits for the latest transaction toast to finish; throws with its sentence if it failed. */
export async function waitForTx(page: Page, timeout = 60_000): Promise<void> {
  const done = page.getByTestId("toast-done").or(page.getByTestId("toast-error"));
  await done.last().waitFor({ timeout });
  const error = page.getByTestId("toast-error");
  if ((await error.count()) > 0) throw new Error(`the transaction failed: ${await error.last().innerText()}`);
}

/** Dismisses every finished toast. */
export async function clearToasts(page: Page): Promise<void> {
  for (const b of await page.getByRole("button", { name: "Dismiss" }).all()) await b.click();
}
