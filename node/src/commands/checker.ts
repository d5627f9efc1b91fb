/**
 * `kaisar checker ...` commands that talk to the chain (the table cli.ts dispatches to).
 */
import type { CommandSpec } from "./common";

/** Subcommands of `kaisar checker` implemented here, by name. */
export const checkerCommands: Record<string, CommandSpec> = {};
