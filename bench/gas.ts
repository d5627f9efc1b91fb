/**
 * Gas benchmark: each operation as its own transaction in a steady state (warm token balances, an
 * existing provider and renter), whole-transaction gas from the receipt (measured by
 * bench/gasMeasure.ts). Writes bench/gas.json and the table in bench/README.md. Run with
 * `npm run bench:gas`.
 */
import { writeFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { GOALS, SCALE_KEYS, BATCH_KEYS, measureGas } from "./gasMeasure";

async function main() {
  const gas = await measureGas();

  // Print and write.
  const rows = GOALS.map(({ key, label, goal }) => {
    const used = gas[key];
    return { key, label, used, goal, ok: used <= goal };
  });
  console.table(rows.map((r) => ({ key: r.key, gasUsed: r.used, goal: r.goal, met: r.ok ? "yes" : "NO" })));
  console.table([...SCALE_KEYS, ...BATCH_KEYS].map((key) => ({ key, gasUsed: gas[key] })));

  const root = path.join(__dirname);
  const file = path.join(root, "gas.json");
  let previous: Record<string, number> = {};
  try {
    previous = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    // first run
  }
  const merged = { ...previous, ...gas };
  writeFileSync(file, JSON.stringify(merged, null, 2) + "\n");
  writeTable(root, merged);
  console.log(`wrote ${file}`);
}

/** Rewrites the gas table in bench/README.md between its markers. */
function writeTable(root: string, gas: Record<string, number>) {
  const readme = path.join(root, "README.md");
  const lines = [
    "| key | operation | gasUsed | goal | met |",
    "| --- | --- | ---: | ---: | --- |",
    ...GOALS.map(
      ({ key, label, goal }) =>
        `| \`${key}\` | ${label} | ${gas[key]?.toLocaleString("en-US")} | ${goal.toLocaleString("en-US")} | ${gas[key] <= goal ? "yes" : "**no**"} |`,
    ),
    "",
    "An epoch's on-chain cost does not grow with the number of nodes (a report carries one root):",
    "",
    "| key | report with a tree of | gasUsed |",
    "| --- | --- | ---: |",
    ...SCALE_KEYS.map(
      (key) => `| \`${key}\` | ${key.replace("report.leaves", "")} leaves | ${gas[key]?.toLocaleString("en-US")} |`,
    ),
    "",
    "A keeper credits every rental of a node in an epoch with one proof (`applySlaCredits`):",
    "",
    "| key | per credit, six rentals of one node in one call | gasUsed |",
    "| --- | --- | ---: |",
    ...BATCH_KEYS.map((key) => `| \`${key}\` | one proof, verified once | ${gas[key]?.toLocaleString("en-US")} |`),
  ];
  const text = readFileSync(readme, "utf8");
  const start = "<!-- gas:start -->";
  const end = "<!-- gas:end -->";
  const next = text.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${lines.join("\n")}\n${end}`);
  writeFileSync(readme, next);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
