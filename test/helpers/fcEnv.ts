/**
 * The fast-check settings the property walks read from the environment (KAISAR_FC_RUNS,
 * KAISAR_FC_SEED, KAISAR_FC_MAX_COMMANDS, KAISAR_FC_PATH, KAISAR_FC_REPLAY_PATH).
 *
 * An unset or empty variable means the walk's default: `cp .env.example .env` leaves them all empty.
 * Anything else must be a valid value; a count of 0 (or "abc", "1.5", "-3") stops the test file
 * with a sentence naming the variable, instead of running zero cases and passing.
 */

/** The variable's value, or undefined when it is unset or blank. */
function raw(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

/** A positive whole count (runs, commands): `fallback` when unset or empty; throws on anything else. */
export function fcCount(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const v = raw(name, env);
  if (v === undefined) return fallback;
  if (!/^[1-9]\d*$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new Error(
      `${name}=${JSON.stringify(env[name])} is not a positive whole number: set it to a count such as ` +
        `${fallback * 10}, or leave it empty for the default (${fallback})`,
    );
  }
  return Number(v);
}

/** A fast-check seed (any 32-bit integer): `fallback` when unset or empty; throws on anything else. */
export function fcSeed(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const v = raw(name, env);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || n < -(2 ** 31) || n >= 2 ** 32) {
    throw new Error(
      `${name}=${JSON.stringify(env[name])} is not a seed: set it to the whole number a failure printed ` +
        `(e.g. ${fallback}), or leave it empty for the default (${fallback})`,
    );
  }
  return n;
}

/** A replay path ("3:1:0"): undefined when unset or empty. */
export function fcPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return raw(name, env);
}
