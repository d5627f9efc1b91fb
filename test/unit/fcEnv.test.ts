/**
 * The property walks' environment settings (test/helpers/fcEnv.ts): `cp .env.example .env` leaves
 * KAISAR_FC_RUNS empty, which must mean the default, and a count of 0 must stop the walk with a
 * sentence naming the variable instead of running no case and passing.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import path from "node:path";

import { fcCount, fcPath, fcSeed } from "../helpers/fcEnv";

const ROOT = path.join(__dirname, "..", "..");

describe("fast-check settings from the environment (KAISAR_FC_*)", function () {
  it("an unset or empty variable means the default", function () {
    expect(fcCount("KAISAR_FC_RUNS", 15, {})).to.equal(15);
    expect(fcCount("KAISAR_FC_RUNS", 15, { KAISAR_FC_RUNS: "" })).to.equal(15);
    expect(fcCount("KAISAR_FC_RUNS", 15, { KAISAR_FC_RUNS: "  " })).to.equal(15);
    expect(fcSeed("KAISAR_FC_SEED", 4_242, { KAISAR_FC_SEED: "" })).to.equal(4_242);
    expect(fcPath("KAISAR_FC_PATH", { KAISAR_FC_PATH: "" })).to.equal(undefined);
  });

  it("a set variable is read", function () {
    expect(fcCount("KAISAR_FC_RUNS", 15, { KAISAR_FC_RUNS: "200" })).to.equal(200);
    expect(fcSeed("KAISAR_FC_SEED", 1, { KAISAR_FC_SEED: "-7" })).to.equal(-7);
    expect(fcSeed("KAISAR_FC_SEED", 1, { KAISAR_FC_SEED: "0" })).to.equal(0);
    expect(fcPath("KAISAR_FC_PATH", { KAISAR_FC_PATH: "3:1:0" })).to.equal("3:1:0");
  });

  for (const bad of ["0", "-3", "1.5", "abc", "1e3"]) {
    it(`KAISAR_FC_RUNS=${bad} fails with a sentence naming the variable`, function () {
      expect(() => fcCount("KAISAR_FC_RUNS", 15, { KAISAR_FC_RUNS: bad })).to.throw(
        `KAISAR_FC_RUNS="${bad}" is not a positive whole number: set it to a count such as 150, or leave it empty for the default (15)`,
      );
    });
  }

  it("KAISAR_FC_SEED=abc fails with a sentence naming the variable", function () {
    expect(() => fcSeed("KAISAR_FC_SEED", 9, { KAISAR_FC_SEED: "abc" })).to.throw(
      /^KAISAR_FC_SEED="abc" is not a seed/,
    );
  });

  // Every walk reads its settings through fcEnv: a walk file run with KAISAR_FC_RUNS=0 stops at load
  // (before any test is picked), instead of passing with no case run.
  for (const file of [
    "test/unit/RentalMath.test.ts",
    "test/scenarios/moneyWalk.test.ts",
    "test/scenarios/popwWalk.test.ts",
    "test/unit/RewardDistributor/property.test.ts",
    "test/unit/CheckerLicense/property.test.ts",
  ]) {
    it(`hardhat test ${file} with KAISAR_FC_RUNS=0 exits non-zero naming the variable`, function () {
      this.timeout(180_000);
      const run = spawnSync(
        process.execPath,
        [
          require.resolve("hardhat/internal/cli/cli"),
          "test",
          "--no-compile",
          file,
          "--grep",
          "^no test has this name$",
        ],
        { cwd: ROOT, env: { ...process.env, KAISAR_FC_RUNS: "0" }, encoding: "utf8" },
      );
      expect(run.status, run.stdout + run.stderr).to.not.equal(0);
      expect(run.stdout + run.stderr).to.include('KAISAR_FC_RUNS="0" is not a positive whole number');
    });
  }
});
