/**
 * Gas goals (threat model row 40, "U gas assertions"): the gas benchmark's measurement
 * (bench/gasMeasure.ts, the same as `npm run bench:gas`) checked per operation against its goal and
 * against the figure committed in bench/gas.json. Run by `npm run test:gas-bounds`; skipped under
 * solidity-coverage, whose instrumented bytecode costs more gas.
 *
 * - A goal the committed figure meets: the measured gas stays within the goal.
 * - A goal the committed figure misses (documented in bench/README.md): no regression past it,
 *   measured ≤ committed × (1 + TOLERANCE).
 * - Every key: |measured − committed| ≤ TOLERANCE × committed, so bench/gas.json and the README
 *   table stay true. Report figures vary by some tens of gas from run to run (the checkers are
 *   random wallets, and a signature's zero bytes cost less calldata gas); TOLERANCE covers that.
 * - An epoch's report costs the same whatever the size of its tree.
 */
import { expect } from "chai";
import hre from "hardhat";
import { readFileSync } from "node:fs";
import path from "node:path";

import { BATCH_KEYS, GOALS, SCALE_KEYS, measureGas } from "../../bench/gasMeasure";

/** Drift allowed from the committed figures: 0.5%. */
const TOLERANCE = 0.005;
/**
 * ...and never less than 64 gas: the checkers are random wallets, so a signature's zero bytes (4 gas
 * of calldata instead of 16) move a report's figure by a few dozen gas from run to run.
 */
const MIN_DRIFT = 64;
/** The report's gas over trees of 10 to 100,000 leaves may spread by under 1% of its mean. */
const SCALE_SPREAD = 0.01;

const COMMITTED_FILE = path.join(__dirname, "..", "..", "bench", "gas.json");
const committed: Record<string, number> = JSON.parse(readFileSync(COMMITTED_FILE, "utf8"));
const RERUN = "if the code's gas changed deliberately, run `npm run bench:gas` and commit bench/gas.json";

const coverage =
  Boolean(process.env.SOLIDITY_COVERAGE) ||
  Boolean((hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING);

describe("Bench gas goals (bench/gasMeasure.ts against bench/gas.json)", function () {
  let measured: Record<string, number>;

  before(async function () {
    if (coverage) this.skip(); // instrumented bytecode costs more gas
    this.timeout(600_000);
    measured = await measureGas();
  });

  /** The measured figure of `key`, which must exist both measured and committed. */
  function figures(key: string): { used: number; was: number } {
    const used = measured[key];
    const was = committed[key];
    expect(used, `${key} was not measured`).to.be.a("number");
    expect(was, `${key} is missing from bench/gas.json: ${RERUN}`).to.be.a("number");
    return { used, was };
  }

  function expectCommitted(key: string) {
    const { used, was } = figures(key);
    const drift = Math.abs(used - was);
    expect(drift).to.be.at.most(
      Math.max(MIN_DRIFT, Math.floor(was * TOLERANCE)),
      `${key}: measured ${used} gas, bench/gas.json says ${was} (${((100 * drift) / was).toFixed(2)}% off, ` +
        `more than ${100 * TOLERANCE}%): ${RERUN}`,
    );
  }

  for (const { key, label, goal } of GOALS) {
    const met = committed[key] !== undefined && committed[key] <= goal;
    const title = met
      ? `${key} (${label}) meets its gas goal of ${goal}`
      : `${key} (${label}) misses its gas goal of ${goal} by no more than bench/gas.json documents`;
    it(title, function () {
      const { used, was } = figures(key);
      if (met) {
        expect(used).to.be.at.most(goal, `${key}: ${used} gas, over its goal of ${goal}`);
      } else {
        const bound = Math.floor(was * (1 + TOLERANCE));
        expect(used).to.be.at.most(
          bound,
          `${key}: ${used} gas, past the documented miss of ${was} (goal ${goal}) by more than ${100 * TOLERANCE}%`,
        );
      }
      expectCommitted(key);
    });
  }

  for (const key of [...SCALE_KEYS, ...BATCH_KEYS]) {
    it(`${key} matches bench/gas.json`, function () {
      expectCommitted(key);
    });
  }

  it(`the report's gas does not grow with its tree's leaves (spread under ${100 * SCALE_SPREAD}% of the mean)`, function () {
    const used = SCALE_KEYS.map((key) => figures(key).used);
    const mean = used.reduce((a, b) => a + b, 0) / used.length;
    const spread = Math.max(...used) - Math.min(...used);
    expect(spread).to.be.below(
      mean * SCALE_SPREAD,
      `${SCALE_KEYS.map((k, i) => `${k} ${used[i]}`).join(", ")}: spread ${spread} gas`,
    );
  });
});
