/**
 * Child process of the keeper crash test: a real keeper (its config as JSON in argv[2]) that submits
 * the report of epoch argv[3] and dies by SIGKILL at argv[4] ("after-broadcast": the signed transaction
 * is on the node, its receipt not stored; "before-broadcast": the signed bytes are stored, never sent),
 * without closing anything. Log lines go to stdout, written synchronously so that none is lost.
 */
import { writeSync } from "node:fs";

import type { KeeperConfig } from "../../src/config/load";
import { startKeeper } from "../../src/keeper";

const [config, epoch, when] = [JSON.parse(process.argv[2]) as KeeperConfig, BigInt(process.argv[3]), process.argv[4]];
const die = () => process.kill(process.pid, "SIGKILL");

void (async () => {
  const keeper = await startKeeper(config, {
    api: false,
    pollMs: 50,
    log: (entry) => writeSync(1, JSON.stringify(entry) + "\n"),
    txHooks: when === "after-broadcast" ? { afterBroadcast: die } : { beforeBroadcast: die },
  });
  const result = await keeper.relay.submitEpoch(epoch);
  // Not reached when the hook fired.
  writeSync(1, JSON.stringify({ at: "child#done", status: result.status }) + "\n");
  await keeper.close();
})();
