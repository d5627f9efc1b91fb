#!/usr/bin/env node
/**
 * `npm start`: the whole Kaisar network on this machine. The work is in node/src/devnet/start.ts
 * (run through ts-node, transpile only: types are checked by `npm run lint:types`); `npm start --
 * --help` says what it starts, its ports and their variables.
 */
const path = require("node:path");

require("ts-node").register({ project: path.join(__dirname, "..", "node", "tsconfig.json"), transpileOnly: true });
require("../node/src/devnet/start.ts").run(process.argv.slice(2));
