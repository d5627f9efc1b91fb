/**
 * Checks the web tests make on any page: no console errors (a 404 in the console is one), no
 * horizontal overflow (document.scrollWidth <= clientWidth, naming the elements that stick out), an
 * element inside another (a button inside its card), a header shown whole. Each returns what is wrong
 * (empty when nothing), so that one test can list every problem of every page at once.
 */
import type { Locator, Page } from "playwright-core";

/** Collects the page's console errors and uncaught exceptions from now on. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${m.text()}${m.location().url ? ` (${m.location().url})` : ""}`);
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  return errors;
}

/** Horizontal scrolling on `page`, with the elements that stick out of the viewport. */
export async function overflowProblems(page: Page, what: string): Promise<string[]> {
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
    return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, wide: wide.slice(0, 6) };
  });
  return r.scrollWidth <= r.clientWidth
    ? []
    : [`${what}: ${r.scrollWidth} px wide in ${r.clientWidth} (${r.wide.join(", ")})`];
}

/** `inner` sticking out of `outer`. */
export async function insideProblems(inner: Locator, outer: Locator, what: string): Promise<string[]> {
  const a = (await inner.boundingBox())!;
  const b = (await outer.boundingBox())!;
  return a.x >= b.x - 0.5 && a.x + a.width <= b.x + b.width + 0.5
    ? []
    : [
        `${what}: ${Math.round(a.x)}..${Math.round(a.x + a.width)} outside ${Math.round(b.x)}..${Math.round(b.x + b.width)}`,
      ];
}

/** Parts of the header outside the viewport, cut off, or broken over two lines (the brand, links, balance, account). */
export async function headerProblems(page: Page, what: string): Promise<string[]> {
  const bad = await page.evaluate(() => {
    const out: string[] = [];
    const width = document.documentElement.clientWidth;
    for (const el of Array.from(document.querySelectorAll<HTMLElement>("header.top *"))) {
      const b = el.getBoundingClientRect();
      if (b.width === 0) continue;
      if (b.right > width + 1 || el.scrollWidth > el.clientWidth + 1)
        out.push(`${el.tagName} "${el.innerText}" cut off`);
    }
    const one = ".brand, header.top nav a, .balance, [data-testid=account]";
    for (const el of Array.from(document.querySelectorAll<HTMLElement>(one))) {
      const range = document.createRange();
      range.selectNodeContents(el);
      const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
      if (el.getBoundingClientRect().width > 0 && lines.size > 1) out.push(`"${el.innerText}" on ${lines.size} lines`);
    }
    return out;
  });
  return bad.map((b) => `${what}: header ${b}`);
}
