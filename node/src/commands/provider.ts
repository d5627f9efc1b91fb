/**
 * `kaisar provider ...` commands that talk to the chain (the table cli.ts dispatches to).
 */
import type { CommandSpec } from "./common";

/** Subcommands of `kaisar provider` implemented here, by name. */
export const providerCommands: Record<string, CommandSpec> = {};
