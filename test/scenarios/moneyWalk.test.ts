/**
 * The money walk (threats 1, 2, 9, 13, 25, 26, 30): a seeded, replayable, model-based property
 * test over NodeRegistry and RentalEscrow. Each run is a random sequence of up to
 * `MAX_COMMANDS` commands (register, stake, unstake, rent on every plan, top up, end, flag, close,
 * withdraw, claim, fees, time jumps, slashes, rewards, pauses, provider-fault closes, governance,
 * a blocklisting token) checked against the TypeScript model of `test/helpers/model/`, with
 * every invariant of docs/threats.md asserted after every step and a final drain in which
 * everyone exits with exactly what the model says.
 *
 * Sequences start from one `evm_snapshot` (no redeploys). Replay a failure with the line it prints:
 * `KAISAR_FC_SEED=<seed> KAISAR_FC_PATH=<path> KAISAR_FC_REPLAY_PATH=<commands path> npx hardhat test
 * test/scenarios/moneyWalk.test.ts`; more runs with `KAISAR_FC_RUNS=<n>`, longer ones with
 * `KAISAR_FC_MAX_COMMANDS=<n>`, outcome counts with `KAISAR_FC_STATS=1`. Then paste the shrunk
 * steps (printed as constructor calls) into `regressions.test.ts`.
 */
import fc from "fast-check";
import { network } from "hardhat";

import { outcomeStats, runSequence, setupWorld, stepArbitraries, type World } from "../helpers/model";
import { fcCount, fcPath, fcSeed } from "../helpers/fcEnv";

const SEED = fcSeed("KAISAR_FC_SEED", 4_242);
const RUNS = fcCount("KAISAR_FC_RUNS", 15);
const PATH = fcPath("KAISAR_FC_PATH");
/** `fc.commands` needs its own replay path (printed in the counterexample) to replay a path. */
const REPLAY_PATH = fcPath("KAISAR_FC_REPLAY_PATH");
const MAX_COMMANDS = fcCount("KAISAR_FC_MAX_COMMANDS", 40);

describe("Money walk: NodeRegistry + RentalEscrow against the TypeScript model", function () {
  // Default runs take well under a minute; shrinking a failure may take longer.
  this.timeout(30 * 60_000);

  let world: World;
  let start: string;

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

  const lengths: number[] = [];

  it(`keeps every invariant after every step and drains to zero (seed ${SEED}, ${RUNS} runs)`, async () => {
    const property = fc.asyncProperty(
      fc.commands(stepArbitraries(), { maxCommands: MAX_COMMANDS, size: "max", replayPath: REPLAY_PATH }),
      fc.boolean(),
      async (steps, unpauseBeforeDrain) => {
        const m = await runSequence(world, steps, unpauseBeforeDrain);
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
          `\nReplay: KAISAR_FC_SEED=${replay[1]} KAISAR_FC_PATH=${replay[2]}` +
            (commandsPath ? ` KAISAR_FC_REPLAY_PATH='${commandsPath[1]}'` : "") +
            " npx hardhat test test/scenarios/moneyWalk.test.ts\n",
        );
      }
      throw e;
    }
  });
});
