#!/usr/bin/env node
/**
 * `npm start`: the whole Kaisar network on this machine. The work is in devnet/src/start.ts
 * (run through ts-node, transpile only: types are checked by `npm run lint:types`); `npm start --
 * --help` says what it starts, its ports and their variables, before anything is built. On a fresh
 * clone (or after a contract changed) it first compiles the contracts and their TypeChain bindings
 * (./ensure-build.js), saying so in one line.
 */
const path = require("node:path");

require("ts-node").register({ project: path.join(__dirname, "..", "devnet", "tsconfig.json"), transpileOnly: true });

function main(argv) {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(require("../devnet/src/help.ts").HELP);
    return;
  }
  try {
    require("./ensure-build").ensureBuild((line) => console.log(`[start] ${line}`));
  } catch (e) {
    console.error(`[start] ${e.message}`);
    process.exitCode = 1;
    return;
  }
  require("../devnet/src/start.ts").run(argv);
}

main(process.argv.slice(2));
