#!/usr/bin/env node
// Fails when Solidity coverage falls under the bar: 95% of lines and 90% of branches over the
// protocol contracts (mocks under contracts/test are excluded in .solcover.js).
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
if (lines.pct < MIN_LINES || branches.pct < MIN_BRANCHES) {
  console.error("coverage is under the bar");
  process.exit(1);
}
