/**
 * `kaisar keeper ...` commands (the table cli.ts wires; `init` is src/commands/init.ts).
 *
 *   run                  every job until SIGTERM or SIGINT, JSON-line logs on stdout
 *   submit --epoch N     gather, verify and submit one epoch's report now
 *   status [--json]      pending epochs, signatures gathered, submitted reports, the checker set and the
 *                        operators excluded from it, balance, pending intents, and the on-chain epochs
 *                        whose tree or follow-up work is missing (and why)
 */
import type { Command } from "commander";

import { KeeperStoppedError, startKeeper, type Keeper, type KeeperDeps } from "../keeper";
import type { TxLogEntry } from "../keeper/tx";
import { initCommand } from "./init";
import { createLogger, jsonWithBigints, runLogger } from "./logFormat";
import {
  EXIT,
  print,
  roleConfig,
  waitForSignal,
  type CommandGroup,
  type CommandSpec,
  type CommonOptions,
  type Io,
} from "./common";

/** Starts the keeper of the config in `opts`, or returns the exit code of what stopped it (printed). */
async function open(opts: CommonOptions, io: Io, deps: KeeperDeps): Promise<Keeper | number> {
  const config = await roleConfig("keeper", opts, io);
  if (typeof config === "number") return config;
  try {
    return await startKeeper(config, deps);
  } catch (e) {
    if (e instanceof KeeperStoppedError) return EXIT.ok;
    const message = (e as Error).message;
    if (opts.json) print(io, opts, { ok: false, error: message }, "");
    else io.err(`kaisar keeper: ${message}\n`);
    return EXIT.error;
  }
}

const run: CommandSpec = {
  name: "run",
  summary:
    "gather signatures until quorum, submit reports, publish trees and proofs, apply SLA credits, slash downtime and hardware fraud, settle rentals",
  async run(opts, io, hooks) {
    const log: (entry: TxLogEntry) => void = runLogger(io, opts);
    // Listen for the signals first: one that comes while the keeper starts still stops it.
    const stop = hooks.shutdown ? { signal: hooks.shutdown(), dispose: () => {} } : waitForSignal();
    // An RPC that does not answer at startup is waited for (backoff, degraded /health), not an exit.
    const keeper = await open(opts, io, { log, waitForRpc: true, stop: stop.signal });
    if (typeof keeper === "number") {
      stop.dispose();
      return keeper;
    }
    log({ at: "Keeper#start", keeper: keeper.address });
    const signal = stop.signal.then((name) => {
      log({ at: "Keeper#shutdown", signal: name });
      return name;
    });
    await keeper.run(signal);
    const open_ = keeper.store.openIntents().map((i) => i.key);
    await keeper.close();
    log({ at: "Keeper#stopped", pendingIntents: open_ });
    return EXIT.ok;
  },
};

const submit: CommandSpec = {
  name: "submit",
  summary: "submit one epoch's report now, if it has a quorum of signatures",
  options: (cmd: Command) => cmd.option("--epoch <n>", "the epoch whose report to submit (required)"),
  async run(opts, io) {
    // The config is validated first (exit 78 names every problem), then the epoch.
    const config = await roleConfig("keeper", opts, io);
    if (typeof config === "number") return config;
    const raw = opts.epoch === undefined ? "" : String(opts.epoch);
    if (!/^\d+$/.test(raw)) {
      io.err(`kaisar keeper submit: --epoch "${raw}" is not a whole number: give the epoch, e.g. --epoch 12\n`);
      return EXIT.error;
    }
    const keeper = await open(opts, io, { api: false, log: opts.json ? undefined : createLogger(io.err, false) });
    if (typeof keeper === "number") return keeper;
    try {
      await keeper.sender.resume();
      const result = await keeper.relay.submitEpoch(BigInt(raw));
      const ok = result.status === "submitted" || result.status === "already-on-chain";
      const json = JSON.parse(
        jsonWithBigints({ ok, ...result, outcome: "outcome" in result ? result.outcome : undefined }),
      );
      const text = ok
        ? `epoch ${raw}: ${result.status} (root ${"root" in result ? result.root : ""})`
        : `epoch ${raw}: ${result.status}: ${"reason" in result ? result.reason : ""}`;
      print(io, opts, json, text);
      return ok ? EXIT.ok : EXIT.error;
    } finally {
      await keeper.close();
    }
  },
};

const status: CommandSpec = {
  name: "status",
  summary: "show pending epochs, signatures gathered, submitted reports and the keeper's balance",
  async run(opts, io) {
    const keeper = await open(opts, io, { api: false });
    if (typeof keeper === "number") return keeper;
    try {
      const s = await keeper.status();
      const text = [
        `keeper     ${s.keeper}  balance ${s.balance}`,
        `chain      ${s.chainId}  block ${s.block}`,
        `oracle     config ${s.oracle.configVersion}, quorum ${s.oracle.quorum}, last epoch ${
          s.oracle.lastEpoch ?? "none"
        }, current epoch ${s.oracle.currentEpoch}`,
        `checkers   config ${s.checkerSet.version}: ${s.checkerSet.live} of ${s.checkerSet.count} live, quorum ${
          s.checkerSet.quorum
        }${s.checkerSet.excluded.length ? ` (excluded: index ${s.checkerSet.excluded.join(", ")})` : ""}`,
        ...(s.checkerSet.quorumLost
          ? [
              `warning    checker quorum lost: ${s.checkerSet.live} live < quorum ${s.checkerSet.quorum}; ` +
                "reports stall until governance sets a new checker config",
            ]
          : []),
        ...s.exclusions.map(
          (x) =>
            `excluded   ${x.key}: ${x.status}${x.outcome ? ` (${x.outcome})` : ""}${x.txHash ? ` tx ${x.txHash}` : ""}`,
        ),
        `pending    epochs ${s.pendingEpochs.length ? s.pendingEpochs.join(", ") : "none"}`,
        ...s.signatures.map((g) => `signatures epoch ${g.epoch}: ${g.signers} signers over ${g.reports} report(s)`),
        ...s.submitted.map((r) => `submitted  epoch ${r.epoch}: root ${r.root} by ${r.signers.length} signers`),
        ...(s.missingEpochs.length
          ? s.missingEpochs.map((m) => `missing    epoch ${m.epoch}: ${m.missing}: ${m.reason}`)
          : ["missing    nothing: every on-chain epoch has its tree and follow-up work"]),
        `intents    ${s.pendingIntents.length ? s.pendingIntents.map((i) => `${i.key} (${i.status})`).join(", ") : "none pending"}`,
      ].join("\n");
      print(io, opts, { ok: true, ...s }, text);
      return EXIT.ok;
    } finally {
      await keeper.close();
    }
  },
};

/** `kaisar keeper ...`, in the order of its help. */
export const keeperCommands: CommandGroup = {
  summary: "keeper: relay quorum-signed reports, publish reward proofs, apply SLA credits, slash, settle rentals",
  commands: [initCommand("keeper"), run, submit, status],
};
