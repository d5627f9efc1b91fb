#!/usr/bin/env node
// The `kaisar` command: runs node/src/cli.ts through ts-node (transpile only: types are checked by
// `npm run lint:types`, not at every start).
"use strict";
const path = require("path");

// A closed pipe (`kaisar --help | head`) ends the command quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code !== "EPIPE") throw e;
    process.exit(process.exitCode ?? 0);
  });
}

// Run from a checkout (not an installed package): build the contracts' bindings first if missing or stale.
const ensureBuild = path.join(__dirname, "..", "..", "scripts", "ensure-build.js");
if (require("fs").existsSync(ensureBuild)) {
  try {
    require(ensureBuild).ensureBuild();
  } catch (e) {
    console.error(`kaisar: ${e.message}`);
    process.exit(1);
  }
}

if (!process[Symbol.for("ts-node.register.instance")]) {
  require("ts-node").register({ project: path.join(__dirname, "..", "tsconfig.json"), transpileOnly: true });
}
require("../src/cli.ts")
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
