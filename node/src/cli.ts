/**
 * The `kaisar` command: one binary for the three roles of the node software.
 *
 *   kaisar provider init|register|stake|unstake|withdraw|claim|withdraw-vested|status|run
 *   kaisar checker  init|stake|delegate-accept|run|status
 *   kaisar keeper   init|run|submit|status
 *
 * Every command takes `--config <file>` and `--json`. The configuration is loaded and validated
 * before anything else runs; a bad one stops the command with every problem and its fix.
 *
 * The commands live in src/commands/ (one file per role); this file only wires them into commander.
 *
 * Exit codes: 0 done, 1 usage or unexpected error, 78 configuration error
 * (EX_CONFIG in sysexits.h).
 */
import { Command, CommanderError, Option } from "commander";

import { version } from "../package.json";
import { CONFIG_FILE_ENV, ENV_PREFIX, defaultConfigFile, type Role } from "./config";
import { EXIT, processIo, type CommandGroup, type CommonOptions, type Io, type RunHooks } from "./commands/common";
import { checkerCommands } from "./commands/checker";
import { keeperCommands } from "./commands/keeper";
import { providerCommands } from "./commands/provider";

export { EXIT, type Io, type RunHooks } from "./commands/common";

/** The commands of each role: src/commands/<role>.ts. */
const GROUPS: Record<Role, CommandGroup> = {
  provider: providerCommands,
  checker: checkerCommands,
  keeper: keeperCommands,
};

/** The `kaisar` program; `io` receives everything it prints. */
export function buildProgram(io: Io = processIo, hooks: RunHooks = {}): { program: Command; exitCode: () => number } {
  let code: number = EXIT.ok;
  const program = new Command("kaisar")
    .description("Kaisar node software: provider agent, checker node and keeper of the Kaisar GPU cloud")
    .version(version, "-V, --version")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError("(add --help for usage)")
    .addHelpText(
      "after",
      `
Configuration: a JSON file (--config, default ./kaisar.<role>.json; \`kaisar <role> init\` writes one)
overridden by ${ENV_PREFIX}* environment variables, validated before every command.

Exit codes: 0 done, 1 usage or unexpected error, 78 configuration error.`,
    );

  for (const role of ["provider", "checker", "keeper"] as const) {
    const roleCommand = program
      .command(role)
      .description(GROUPS[role].summary)
      .exitOverride()
      .configureOutput({ writeOut: io.out, writeErr: io.err });
    for (const spec of GROUPS[role].commands) {
      const cmd = roleCommand
        .command(spec.name)
        .summary(spec.summary)
        .description(spec.summary + (spec.details ? `\n\n${spec.details}` : ""))
        .exitOverride()
        .configureOutput({ writeOut: io.out, writeErr: io.err })
        .addOption(
          new Option("-c, --config <file>", `config file (default ./${defaultConfigFile(role)} if it exists)`).env(
            CONFIG_FILE_ENV,
          ),
        )
        .option("--json", "print machine-readable JSON on stdout");
      spec.options?.(cmd);
      cmd.action(async (opts: CommonOptions & Record<string, unknown>) => {
        code = await spec.run(opts, io, hooks);
      });
    }
  }
  return { program, exitCode: () => code };
}

/** Runs `kaisar` with `argv` (as process.argv: node, script, ...args); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo, hooks: RunHooks = {}): Promise<number> {
  const { program, exitCode } = buildProgram(io, hooks);
  try {
    await program.parseAsync([...argv]);
    return exitCode();
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    io.err(`kaisar: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.error;
  }
}
