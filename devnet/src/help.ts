/**
 * `npm start -- --help`. It imports only the table of variables (./env.ts, no imports of its own), so
 * that scripts/start.js can print it on a fresh clone before anything is compiled (the rest of
 * ./start.ts needs the contracts' TypeChain bindings).
 */
import { SETTINGS } from "./env";

/** The settings' lines: `  NAME [default]` in a column of 28, then the help (continued under it). */
const ENVIRONMENT = Object.values(SETTINGS)
  .flatMap((v) => v.help.map((line, i) => `  ${(i === 0 ? `${v.name} [${v.fallback}]` : "").padEnd(28)}${line}`))
  .join("\n");

export const HELP = `npm start [-- --verbose] [-- --persist]: the whole Kaisar network on this machine (LOCAL ONLY).

Starts a Hardhat chain (chain id 31337), deploys every contract with the Ignition module used for
agung and peaq, sets up 3 checkers, 5 providers (one flaky), demo rentals and accounts, then runs 5
provider agents, 3 checkers, the keeper and the web app as child processes. Ctrl-C stops them all.
An agent, checker or the keeper that dies is restarted (after 1 s, doubling to 30 s), one line each;
the chain's exit stops everything.
Each epoch's report, SLA credits and slashes are printed as they land on chain.

Options:
  --verbose     print every log line of the programs (default: routine probe lines only go to
                .kaisar/devnet/logs/<name>.log)
  --persist     keep the network across a stop and a later start (a reboot too): Ctrl-C saves
                every block with transactions to .kaisar/persist/chain.json (Hardhat 2 has no
                hardhat_dumpState) and keeps .kaisar/devnet/ (the programs' configs and databases);
                the next \`npm start -- --persist\` replays the chain (same transaction hashes, block
                numbers, timestamps and state, checked block by block), skips deployment and setup
                and runs the programs on their saved state, on the saved ports and epoch length.
                The time it was stopped passes on the chain (rentals are charged for it; the epochs
                in between get no report). Without a save it starts fresh and saves on Ctrl-C;
                a plain \`npm start\` replaces .kaisar/devnet/, after which the save cannot be restored
                (remove .kaisar/persist/ to start a fresh persistent network).
  --help        this text

Environment (defaults in brackets):
${ENVIRONMENT}

Writes .kaisar/local.json (URLs, contracts, demo accounts with their keys) and
deploy/exports/chain-31337.json (addresses and ABIs).`;
