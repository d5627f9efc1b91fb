#!/usr/bin/env node
// `npm test`: every check, in about 8 minutes on a 2-core machine instead of 9 to 10.
//
// Solidity coverage (single-threaded, 4 to 5 minutes) runs beside the other deterministic checks
// (linters, type checks, unit tests, property walks), which together take about as long on the
// other core. Its output is held back and printed whole when it ends, so that each test runner's
// summary lines ("N passing") stay as they are. The node software's tests and the end-to-end tests
// start real processes against real chains and have deadlines, so they run afterwards, alone.
// The first failure stops everything and the command exits non-zero.
const { spawn } = require("node:child_process");
const { closeSync, mkdtempSync, openSync, readFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

const BESIDE_COVERAGE = ["lint", "test:web", "test:offchain", "test:gas-bounds", "test:walks"];
const AFTERWARDS = ["test:node", "test:devnet", "test:e2e"];

const running = new Set();

/** Runs `npm run <script>`, its output to the file descriptor `fd` if given, else to this process's. */
function run(script, fd, env = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    if (fd === undefined) console.log(`\n> npm run ${script}`);
    const child = spawn("npm", ["run", script], {
      stdio: fd === undefined ? "inherit" : ["ignore", fd, fd],
      env: { ...process.env, ...env },
      detached: true, // its own process group, so that a failure elsewhere can stop all of it
    });
    running.add(child);
    child.on("close", (code, signal) => {
      running.delete(child);
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      console.log(`> npm run ${script}: ${code === 0 ? "ok" : `failed (${signal ?? `exit ${code}`})`} in ${seconds} s`);
      resolve(code === 0);
    });
  });
}

function stopAll() {
  for (const child of running) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

async function sequence(scripts) {
  for (const script of scripts) if (!(await run(script))) return false;
  return true;
}

let failed = false;
function fail(message) {
  if (failed) return;
  failed = true;
  console.error(`\nnpm test failed: ${message}`);
  stopAll();
  process.exitCode = 1;
}

async function main() {
  const logPath = join(mkdtempSync(join(tmpdir(), "kaisar-test-")), "coverage.log");
  const logFd = openSync(logPath, "w");
  const printCoverage = () => {
    console.log("\n> npm run coverage (its output, held back while it ran)");
    process.stdout.write(readFileSync(logPath));
  };
  console.log(`> npm run coverage: started beside the other checks (its output is in ${logPath} until it ends)`);
  const coverage = run("coverage", logFd, { KAISAR_COVERAGE_PATHS: "1" }).then((ok) => {
    if (!ok && !failed) {
      printCoverage();
      fail("coverage failed (above); the other checks were stopped");
    }
    return ok;
  });
  const checks = sequence(BESIDE_COVERAGE).then((ok) => {
    if (!ok) fail("a check failed (above); coverage was stopped");
    return ok;
  });
  const [checksOk, coverageOk] = await Promise.all([checks, coverage]);
  closeSync(logFd);
  if (failed) return;
  if (checksOk && coverageOk) printCoverage();
  if (!(await sequence(AFTERWARDS))) return fail("a test failed (above)");
  console.log("\nnpm test: every check passed");
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopAll();
    process.exit(130);
  });
}
main().catch((e) => fail(e.stack ?? String(e)));
