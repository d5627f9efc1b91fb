/**
 * Checks the web tests make on any page: no console errors (a 404 in the console is one), no
 * horizontal overflow (document.scrollWidth <= clientWidth, naming the elements that stick out), an
 * element inside another (a button inside its card).
 */
import { expect } from "chai";
import type { Locator, Page } from "playwright-core";

/** Collects the page's console errors and uncaught exceptions from now on. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${m.text()}${m.location().url ? ` (${m.location().url})` : ""}`);
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  // The console names a failed resource without its URL: keep the URL too.
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  return errors;
}

/** No horizontal scrolling on `page`; on failure, the elements wider than the viewport. */
export async function expectNoOverflow(page: Page, what: string): Promise<void> {
  const r = await page.evaluate(() => {
    const doc = document.documentElement;
    const wide: string[] = [];
    for (const el of Array.from(document.querySelectorAll("body *"))) {
      const b = el.getBoundingClientRect();
      if (b.right > doc.clientWidth + 1 && b.width > 0) {
        const cls = typeof el.className === "string" && el.className ? "." + el.className.split(" ").join(".") : "";
        wide.push(`${el.tagName.toLowerCase()}${cls} (right ${Math.round(b.right)})`);
      }
    }
    return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, wide: wide.slice(0, 8) };
  });
  expect(r.scrollWidth, `${what}: ${r.scrollWidth} px wide in ${r.clientWidth}: ${r.wide.join(", ")}`).to.be.at.most(
    r.clientWidth,
  );
}

/** `inner`'s box lies within `outer`'s. */
export async function expectInside(inner: Locator, outer: Locator, what: string): Promise<void> {
  const a = (await inner.boundingBox())!;
  const b = (await outer.boundingBox())!;
  expect(a.x, `${what}: left edge`).to.be.at.least(b.x - 0.5);
  expect(a.x + a.width, `${what}: right edge (${a.x + a.width} > ${b.x + b.width})`).to.be.at.most(b.x + b.width + 0.5);
}
