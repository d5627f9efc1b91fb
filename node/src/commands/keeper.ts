/**
 * `kaisar keeper ...` commands that talk to the chain (the table cli.ts dispatches to).
 */
import type { CommandSpec } from "./common";

/** Subcommands of `kaisar keeper` implemented here, by name. */
export const keeperCommands: Record<string, CommandSpec> = {};
