/**
 * `kaisar <role> init`: writes an example config file with every setting, its default and its
 * environment variable (src/config/example.ts).
 */
import { ENV, defaultConfigFile, writeExampleConfig, type Role } from "../config";
import { EXIT, print, type CommandSpec } from "./common";

/** The `init` command of `role`. */
export function initCommand(role: Role): CommandSpec {
  return {
    name: "init",
    summary: "write an example config file with every setting, its default and its environment variable",
    details: "Refuses to overwrite an existing file unless --force is given.",
    options: (cmd) => void cmd.option("-f, --force", "overwrite an existing file"),
    async run(opts, io) {
      const file = opts.config ?? defaultConfigFile(role);
      let written: string;
      try {
        written = writeExampleConfig(role, file, opts.force === true);
      } catch (e) {
        const message = (e as Error).message;
        if (opts.json) print(io, opts, { ok: false, error: message }, "");
        else io.err(`kaisar ${role} init: ${message}\n`);
        return EXIT.error;
      }
      print(
        io,
        opts,
        { ok: true, written },
        `Wrote ${written}.\nEdit it (every setting is explained in its "$" comment), export ${ENV.privateKey}, then run ` +
          `\`kaisar ${role} status --config ${file}\`.`,
      );
      return EXIT.ok;
    },
  };
}
