/**
 * Every environment variable of `npm start` in one table: the settings it reads from the shell (its
 * ports and epoch length, with their defaults, bounds and help lines) and the variables it sets for
 * the programs it runs. No imports: `npm start -- --help` (./help.ts) prints from it on a fresh clone,
 * before anything is built; the e2e tests (e2e/hooks.ts, e2e/start-check.ts) shift its ports.
 */

/** A setting read from the shell: a whole number in `min..max`, `fallback` when unset or empty. */
export interface EnvSetting {
  name: string;
  fallback: number;
  min: number;
  max: number;
  /** What the number is, for the error naming a bad value: "a port". */
  what: string;
  /** Its lines in `npm start -- --help`. */
  help: string[];
}

const port = (name: string, fallback: number, help: string): EnvSetting => ({
  name,
  fallback,
  min: 1,
  max: 65535,
  what: "a port",
  help: [help],
});

/** The settings, in the order `--help` lists them. */
export const SETTINGS = {
  rpcPort: port("KAISAR_RPC_PORT", 8545, "the chain's JSON-RPC port"),
  webPort: port("KAISAR_WEB_PORT", 5173, "the web app's port"),
  agentPort: port("KAISAR_AGENT_PORT", 8550, "first of the 5 provider agents' ports (8550-8554)"),
  checkerPort: port("KAISAR_CHECKER_PORT", 8560, "first of the 3 checkers' ports (8560-8562)"),
  keeperPort: port("KAISAR_KEEPER_PORT", 8570, "the keeper's API port"),
  epochSeconds: {
    name: "KAISAR_EPOCH_SECONDS",
    fallback: 60,
    min: 10,
    max: 86_400,
    what: "an epoch length in seconds",
    help: [
      "epoch length (at least 10); each epoch pays peaq's emission for",
      "that long (372.02 KAI for 60 s), and the flaky node is down 5% of it",
    ],
  },
} as const satisfies Record<string, EnvSetting>;

export type SettingKey = keyof typeof SETTINGS;
export type PortKey = Exclude<SettingKey, "epochSeconds">;
export const PORT_KEYS: readonly PortKey[] = ["rpcPort", "webPort", "agentPort", "checkerPort", "keeperPort"];

/** Every port variable set to its default + `shift` (the e2e tests' and CI's networks, away from a developer's). */
export function shiftedPorts(shift: number): Record<string, string> {
  return Object.fromEntries(PORT_KEYS.map((k) => [SETTINGS[k].name, String(SETTINGS[k].fallback + shift)]));
}

/**
 * What `npm start` sets for the programs it runs: Hardhat's chain (hardhat.config.ts), the Ignition
 * deployment (deploy/modules/Kaisar.ts) and the web app (frontend/, Vite).
 */
export const CHILD_ENV = {
  /** hardhat.config.ts: block time on the wall clock. */
  wallClockChain: "KAISAR_WALL_CLOCK_CHAIN",
  /** hardhat.config.ts: the genesis time of a restored chain (ISO 8601). */
  chainInitialDate: "KAISAR_CHAIN_INITIAL_DATE",
  /** deploy/modules/Kaisar.ts: which deploy/parameters/<name>.json. */
  parameters: "KAISAR_PARAMETERS",
  /** deploy/modules/Kaisar.ts: the epoch length (the same variable as the setting). */
  epochSeconds: SETTINGS.epochSeconds.name,
  /** hardhat.config.ts: the `localhost` network's URL. */
  localRpcUrl: "LOCAL_RPC_URL",
  /** Ignition: reset a journal of the same chain without asking. */
  ignitionConfirmReset: "HARDHAT_IGNITION_CONFIRM_RESET",
  /** The web app's chain. */
  webRpcUrl: "VITE_KAISAR_RPC_URL",
  webChainId: "VITE_KAISAR_CHAIN_ID",
} as const;

/**
 * The node software's own variables start with this: none of the shell's are passed to the programs
 * (they would override the config files `npm start` writes).
 */
export const NODE_ENV_PREFIX = "KAISAR_";
