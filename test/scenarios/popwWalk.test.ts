/**
 * The PoPW walk: a seeded, replayable, model-based property test of what reports, reward claims,
 * SLA credits, PoPW slashes and the checkers do to money, over NodeRegistry, RentalEscrow,
 * ReportOracle, CheckerLicense, RewardDistributor and SlaEnforcer (the core walk,
 * `moneyWalk.test.ts`, covers registry and escrow in depth). Each run opens with 1-3 rentals, half
 * the runs with a KAI rate for credits from stake, then a random sequence of up to `MAX_COMMANDS`
 * commands (rent on every plan and SLA tier, time jumps, epoch reports with random uptimes,
 * hardware mismatches and rewards within or above the budget, signed by the current checker set
 * or not quite, claims, vesting withdrawals, SLA credits one by one and in batches, downtime and
 * fraud slashes, closes on jailed nodes, releases and resumes, earnings, ends, closes, stakes; on
 * the checker side license delegations, switches, undelegations and reinstatements under the
 * departure cooldown, operator stakes, unstakes and withdrawals, set rotations by governance,
 * exclusions of operators that lost their licenses or stake, equivocation proofs), each checked
 * against the model of `test/helpers/popw/` (success with its events, or the exact custom
 * error), with the invariants asserted after every step (tokens conserved, escrow and registry
 * books, claims within budgets, the distributor's reserve and positions, every rental field by
 * field, credit marks; the checker set with its tombstones, every license, equivocations, bounties
 * and the treasury's share) and a final drain in which every renter, provider, checker operator
 * and prover exits with exactly what the model says.
 *
 * Sequences start from one `evm_snapshot` (no redeploys). Replay a failure with the line it prints:
 * `KAISAR_FC_SEED=<seed> KAISAR_FC_PATH=<path> KAISAR_FC_REPLAY_PATH=<commands path> npx hardhat test
 * test/scenarios/popwWalk.test.ts`; more runs with `KAISAR_FC_RUNS=<n>`, longer ones with
 * `KAISAR_FC_MAX_COMMANDS=<n>`, outcome counts with `KAISAR_FC_STATS=1`.
 */
import fc from "fast-check";
import { network } from "hardhat";

import {
  KAI_RATES,
  outcomeStats,
  rentArbitrary,
  runSequence,
  setupWorld,
  stepArbitraries,
  type World,
} from "../helpers/popw";
import { fcCount, fcPath, fcSeed } from "../helpers/fcEnv";

const SEED = fcSeed("KAISAR_FC_SEED", 7_070);
const RUNS = fcCount("KAISAR_FC_RUNS", 15);
const PATH = fcPath("KAISAR_FC_PATH");
/** `fc.commands` needs its own replay path (printed in the counterexample) to replay a path. */
const REPLAY_PATH = fcPath("KAISAR_FC_REPLAY_PATH");
const MAX_COMMANDS = fcCount("KAISAR_FC_MAX_COMMANDS", 40);

describe("PoPW walk: reports, claims, SLA credits and slashes against the TypeScript model", function () {
  // Default runs take well under a minute; shrinking a failure may take longer.
  this.timeout(30 * 60_000);

  let world: World;
  let start: string;
  const lengths: number[] = [];

  before(async () => {
    start = await network.provider.send("evm_snapshot", []);
    world = await setupWorld();
  });

  after(async () => {
    if (process.env.KAISAR_FC_STATS) {
      const rows = [...outcomeStats.entries()].sort(([a], [b]) => a.localeCompare(b));
      console.log(`steps per run (with the drain): ${lengths.join(", ")}`);
      console.log(rows.map(([k, n]) => `${String(n).padStart(6)}  ${k}`).join("\n"));
    }
    // Leave the chain as we found it for whatever test file runs next.
    await network.provider.send("evm_revert", [start]);
  });

  it(`keeps every invariant after every step and everyone exits with what the model says (seed ${SEED}, ${RUNS} runs)`, async () => {
    const property = fc.asyncProperty(
      // Each run opens with 1-3 rentals, so that its first reports have something to credit and slash.
      fc.array(rentArbitrary(), { minLength: 1, maxLength: 3 }),
      fc.commands(stepArbitraries(), { maxCommands: MAX_COMMANDS, size: "max", replayPath: REPLAY_PATH }),
      // Half the runs credit SLA shortfalls from stake (1 KAI per USD); the others from earnings only.
      fc.constantFrom(KAI_RATES[0], KAI_RATES[1]),
      async (opening, steps, rate) => {
        const m = await runSequence(world, opening, steps, rate);
        lengths.push(m.log.length);
      },
    );
    try {
      await fc.assert(property, { seed: SEED, path: PATH, numRuns: RUNS, endOnFailure: PATH !== undefined });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const replay = /seed: (-?\d+), path: "([^"]*)"/.exec(message);
      const commandsPath = /replayPath="([^"]*)"/.exec(message);
      if (replay) {
        console.error(
          `\nReplay: KAISAR_FC_SEED=${replay[1]} KAISAR_FC_PATH=${replay[2]} KAISAR_FC_MAX_COMMANDS=${MAX_COMMANDS}` +
            (commandsPath ? ` KAISAR_FC_REPLAY_PATH='${commandsPath[1]}'` : "") +
            " npx hardhat test test/scenarios/popwWalk.test.ts\n",
        );
      }
      throw e;
    }
  });
});
