#!/usr/bin/env node
// Fails when Solidity coverage falls under the bar: 95% of lines and 90% of branches, over the
// protocol contracts together and for each one of them (mocks under contracts/test are excluded in
// .solcover.js), so that a well-covered contract cannot hide a poorly covered one.
const { readFileSync } = require("node:fs");

const MIN_LINES = Number(process.env.MIN_LINE_COVERAGE ?? 95);
const MIN_BRANCHES = Number(process.env.MIN_BRANCH_COVERAGE ?? 90);

let summary;
try {
  summary = JSON.parse(readFileSync("coverage/coverage-summary.json", "utf8"));
} catch (e) {
  console.error(`coverage/coverage-summary.json is missing (${e.message}): run \`npx hardhat coverage\` first.`);
  process.exit(1);
}

const rows = Object.entries(summary)
  .filter(([file]) => file !== "total")
  .map(([file, s]) => ({
    file: file.replace(/^.*contracts\//, "contracts/"),
    lines: s.lines.pct,
    branches: s.branches.pct,
  }));
console.table(rows);

const { lines, branches } = summary.total;
console.log(`total: lines ${lines.pct}% (bar ${MIN_LINES}%), branches ${branches.pct}% (bar ${MIN_BRANCHES}%)`);
// istanbul reports 100% for a file with no branches at all; "Unknown" would be a file it could not map.
const under = rows.filter((r) => !(r.lines >= MIN_LINES) || !(r.branches >= MIN_BRANCHES));
for (const r of under) {
  console.error(
    `${r.file}: lines ${r.lines}%, branches ${r.branches}%: under the bar (${MIN_LINES}% / ${MIN_BRANCHES}%)`,
  );
}
if (lines.pct < MIN_LINES || branches.pct < MIN_BRANCHES || under.length > 0) {
  console.error("coverage is under the bar");
  process.exit(1);
}
