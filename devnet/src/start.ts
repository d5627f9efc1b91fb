/**
 * `npm start`: the whole Kaisar network on this machine, fresh on each start (with `--persist`, the
 * network of the last `--persist` run, its chain replayed from .kaisar/persist/: ./persist.ts).
 *
 *  1. checks every port first (one in use: a message naming it and its variable, exit 1);
 *  2. starts Hardhat's network (127.0.0.1, chain id 31337, cancun) with block time on the wall clock
 *     and a block every second while idle, as a live chain (the checkers' epochs go by the wall clock,
 *     the keeper reads the current epoch from the latest block);
 *  3. deploys every contract with the Ignition module used for agung and peaq
 *     (deploy/modules/Kaisar.ts, deploy/parameters/local.json, epochs of KAISAR_EPOCH_SECONDS) and
 *     exports addresses and ABIs to deploy/exports/chain-31337.json;
 *  4. sets up what governance and the demo accounts do once: 3 checkers (license, stake, checker set,
 *     quorum 2), the reward reserve, KAI for the demo accounts; 5 providers register with the real
 *     `kaisar provider register` (in this process); a renter rents a healthy node and the flaky one;
 *  5. runs as child processes, each in its own process group, with prefixed logs: 5 provider agents,
 *     then (once they answer) 3 checkers, 1 keeper and the web app (frontend/, when it exists); one
 *     agent's network is down for 5% of every epoch (a real outage behind a proxy, ./demo.ts: ~95%
 *     uptime, so its renter gets an SLA credit each epoch and it is never slashed), and each epoch's
 *     report, credits and slashes are printed as they land; an agent, checker or the keeper that exits
 *     unexpectedly is restarted with backoff (./supervisor.ts), the chain's exit stops everything;
 *  6. prints the URLs, the contracts and the demo keys, writes .kaisar/local.json, and ends with the
 *     line "Kaisar is running locally.".
 *
 * SIGINT (Ctrl-C) or SIGTERM stops every child's process group and waits until every port is free
 * (with `--persist`, after the programs and before the chain, the chain is saved to .kaisar/persist/).
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  appendFileSync,
  createWriteStream,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  existsSync,
  chmodSync,
} from "node:fs";
import { portFree } from "./ports";
import path from "node:path";

import { HDNodeWallet, JsonRpcSigner, Mnemonic, formatUnits, type Wallet } from "ethers";

import { connectContracts, rpcProvider, walletOn, type KaisarContracts } from "../../node/src/chain/contracts";
import { fundRewardReserve, kai } from "./governance";
import { main as kaisar } from "../../node/src/cli";
import type { RunProgram } from "../../node/src/provider";
import { exportDeployment } from "../../scripts/export-deployment";
import { dumpChain, replayChain, PersistError, type ChainDump } from "./persist";
import { HELP } from "./help";
import { decodeChainLogLine } from "./chainLog";
import { OutageProxy, demoRules, flakyPlan, freePort, runOutages, watchEpochs } from "./demo";
import { Supervisor } from "./supervisor";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const HARDHAT = path.join(ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js");
const KAISAR_BIN = path.join(ROOT, "node", "bin", "kaisar.js");
const STATE = path.join(ROOT, ".kaisar");
const DEVNET = path.join(STATE, "devnet");
const LOGS = path.join(DEVNET, "logs");
const LOCAL_JSON = path.join(STATE, "local.json");
/** The pid of the `npm start` that owns .kaisar/ (one per checkout: a second would overwrite its files). */
const LOCK = path.join(STATE, "start.pid");
const DEPLOYMENT_DIR = path.join(ROOT, "deploy", "deployments", "chain-31337");
/** `--persist`: the saved chain (chain.json) and what the next start needs to run on it (network.json). */
const PERSIST = path.join(STATE, "persist");
const CHAIN_DUMP = path.join(PERSIST, "chain.json");
const NETWORK_JSON = path.join(PERSIST, "network.json");
/** The id of the saved network whose programs' state .kaisar/devnet/ holds (a plain start replaces it). */
const DEVNET_ID = path.join(DEVNET, "persist-id");
const CHAIN_ID = 31337;
/** Hardhat's public test mnemonic: its keys are known to everyone. */
const MNEMONIC = "test test test test test test test test test test test junk";

// ---------------------------------------------------------------------------------------------
// Settings

class StartError extends Error {}

function intFromEnv(name: string, fallback: number, min: number, max: number, what: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new StartError(`${name}=${raw} is not ${what} (a whole number in ${min}..${max})`);
  }
  return n;
}

interface Settings {
  rpcPort: number;
  webPort: number;
  agentPort: number;
  checkerPort: number;
  keeperPort: number;
  epochSeconds: number;
  verbose: boolean;
  web: boolean;
}

function readSettings(argv: string[]): Settings {
  const port = (name: string, fallback: number) => intFromEnv(name, fallback, 1, 65535, "a port");
  return {
    rpcPort: port("KAISAR_RPC_PORT", 8545),
    webPort: port("KAISAR_WEB_PORT", 5173),
    agentPort: port("KAISAR_AGENT_PORT", 8550),
    checkerPort: port("KAISAR_CHECKER_PORT", 8560),
    keeperPort: port("KAISAR_KEEPER_PORT", 8570),
    epochSeconds: intFromEnv("KAISAR_EPOCH_SECONDS", 60, 10, 86_400, "an epoch length in seconds"),
    verbose: argv.includes("--verbose"),
    web: existsSync(path.join(ROOT, "frontend", "package.json")),
  };
}

/** The demo network: who is who (Hardhat account index), what each provider declares. */
const PROVIDERS = [
  {
    name: "agent-h100",
    account: 4,
    profile: { gpuModel: "NVIDIA H100 80GB HBM3", gpuCount: 8, vramGiB: 80, cpuCores: 128, ramGiB: 1024 },
    disk: 8000,
    bandwidth: 10_000,
    price: "2.5",
    region: "eu-west",
  },
  {
    name: "agent-a100",
    account: 5,
    profile: { gpuModel: "NVIDIA A100-SXM4-80GB", gpuCount: 4, vramGiB: 80, cpuCores: 64, ramGiB: 512 },
    disk: 4000,
    bandwidth: 10_000,
    price: "1.6",
    region: "us-east",
  },
  {
    name: "agent-4090",
    account: 6,
    profile: { gpuModel: "NVIDIA GeForce RTX 4090", gpuCount: 2, vramGiB: 24, cpuCores: 32, ramGiB: 128 },
    disk: 2000,
    bandwidth: 1000,
    price: "0.5",
    region: "ap-south",
  },
  {
    name: "agent-l40s",
    account: 7,
    profile: { gpuModel: "NVIDIA L40S", gpuCount: 1, vramGiB: 48, cpuCores: 16, ramGiB: 128 },
    disk: 1000,
    bandwidth: 2500,
    price: "0.9",
    region: "eu-north",
  },
  {
    // The flaky one: stopped for part of every epoch.
    name: "agent-3090",
    account: 8,
    profile: { gpuModel: "NVIDIA GeForce RTX 3090", gpuCount: 1, vramGiB: 24, cpuCores: 12, ramGiB: 64 },
    disk: 1000,
    bandwidth: 1000,
    price: "0.25",
    region: "us-west",
    flaky: true,
  },
] as const;
const CHECKER_ACCOUNTS = [1, 2, 3];
const KEEPER_ACCOUNT = 9;
const RENTER_ACCOUNT = 10;
const YOU_ACCOUNT = 11;

// ---------------------------------------------------------------------------------------------
// Output and children

const say = (msg: string) => process.stdout.write(`[start] ${msg}\n`);

/** Log lines of the programs' routine work: kept in the log files, not printed (unless --verbose). */
const ROUTINE =
  /"at":"(Agent#(challenge|bandwidth|hardware|health|rentals|refuse)|Checker#(heartbeat|health|bandwidth|challenge|hardware|discovery|probe|api)|Keeper#(epoch|stillPending))"/;

interface Child {
  name: string;
  proc: ChildProcess;
  /** Stopped on purpose (the flaky agent's outage, or shutdown): its exit is not a failure. */
  stopping: boolean;
  exited: Promise<number | null>;
}

const children = new Map<string, Child>();
/** The agents, checkers and keeper: restarted with backoff when they exit unexpectedly (./supervisor.ts). */
const supervisors: Supervisor[] = [];
let onChildStart: (() => void) | undefined;
let shuttingDown = false;

function pipeLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void) {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const l of lines) if (l.trim()) onLine(l);
  });
  stream.on("end", () => rest.trim() && onLine(rest));
}

/**
 * Starts `command` as a child in its own process group (so that stopping it reaches its children
 * too), its output prefixed with `[name]` and kept in .kaisar/devnet/logs/<name>.log.
 */
function startChild(
  name: string,
  command: string,
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    verbose: boolean;
    /** Lines to drop entirely (not even logged). */
    drop?: (line: string) => boolean;
    /** Rewrites each line kept (logged and printed as rewritten). */
    map?: (line: string) => string;
    onExit?: (code: number | null, child: Child, signal: NodeJS.Signals | null) => void;
  },
): Child {
  const log = createWriteStream(path.join(LOGS, `${name}.log`), { flags: "a" });
  const proc = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const prefix = `[${name}]`.padEnd(16);
  const onLine = (raw: string) => {
    if (options.drop?.(raw)) return;
    const line = options.map ? options.map(raw) : raw;
    log.write(line + "\n");
    if (options.verbose || !ROUTINE.test(line)) process.stdout.write(`${prefix} ${line}\n`);
  };
  pipeLines(proc.stdout!, onLine);
  pipeLines(proc.stderr!, onLine);
  let resolveExit: (code: number | null) => void = () => {};
  const child: Child = {
    name,
    proc,
    stopping: false,
    exited: new Promise((resolve) => (resolveExit = resolve)),
  };
  proc.on("error", (e) => {
    log.write(`spawn failed: ${e.message}\n`);
    process.stdout.write(`${prefix} could not start: ${e.message}\n`);
  });
  proc.on("exit", (code, signal) => {
    log.end(`exited: ${code ?? signal}\n`);
    resolveExit(code);
    if (children.get(name) === child) children.delete(name);
    if (!child.stopping && !shuttingDown) options.onExit?.(code, child, signal);
  });
  children.set(name, child);
  onChildStart?.();
  return child;
}

/** SIGTERM to the child's process group, SIGKILL after `graceMs`; resolves when it has exited. */
async function stopChild(child: Child, graceMs = 8000): Promise<void> {
  child.stopping = true;
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.proc.pid!, signal);
    } catch {
      // already gone
    }
  };
  signalGroup("SIGTERM");
  const killed = setTimeout(() => signalGroup("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(killed);
  // Whatever the group leader left behind (e.g. vite under npm) goes with it.
  signalGroup("SIGKILL");
}

// ---------------------------------------------------------------------------------------------
// Ports and HTTP

interface PortUse {
  port: number;
  what: string;
  variable: string;
}

function portsOf(s: Settings): PortUse[] {
  return [
    { port: s.rpcPort, what: "the chain's JSON-RPC", variable: "KAISAR_RPC_PORT" },
    ...PROVIDERS.map((p, i) => ({
      port: s.agentPort + i,
      what: `provider agent ${p.name}`,
      variable: "KAISAR_AGENT_PORT (the first of 5)",
    })),
    ...CHECKER_ACCOUNTS.map((_, i) => ({
      port: s.checkerPort + i,
      what: `checker-${i + 1}`,
      variable: "KAISAR_CHECKER_PORT (the first of 3)",
    })),
    { port: s.keeperPort, what: "the keeper's API", variable: "KAISAR_KEEPER_PORT" },
    ...(s.web ? [{ port: s.webPort, what: "the web app", variable: "KAISAR_WEB_PORT" }] : []),
  ];
}

async function checkPorts(uses: PortUse[]): Promise<void> {
  const seen = new Map<number, PortUse>();
  for (const u of uses) {
    const other = seen.get(u.port);
    if (other) {
      throw new StartError(
        `port ${u.port} is set for both ${other.what} (${other.variable}) and ${u.what} (${u.variable}): change one`,
      );
    }
    seen.set(u.port, u);
  }
  const busy: PortUse[] = [];
  for (const u of uses) if (!(await portFree(u.port))) busy.push(u);
  if (busy.length) {
    throw new StartError(
      busy
        .map(
          (u) =>
            `port ${u.port} (${u.what}) is in use: stop whatever listens there, or set ${u.variable} to a free port`,
        )
        .join("\n[start] "),
    );
  }
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (shuttingDown) throw new StartError("stopped");
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new StartError(`${what} did not happen within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const answers = (url: string) => async () => {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok ? true : undefined;
};

// ---------------------------------------------------------------------------------------------
// Steps

/** The environment of the programs: none of this shell's KAISAR_* settings (they override config files). */
function programEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("KAISAR_")) env[k] = v;
  return env;
}

/** With `genesis` (unix seconds: a saved chain's), the chain starts there and mines no interval blocks yet. */
async function startChain(s: Settings, rpcUrl: string, verbose: boolean, genesis?: number): Promise<void> {
  say(`starting the chain on ${rpcUrl} (Hardhat, chain id ${CHAIN_ID}, cancun)`);
  let started = false;
  startChild("chain", process.execPath, [HARDHAT, "node", "--hostname", "127.0.0.1", "--port", String(s.rpcPort)], {
    // Block time on the wall clock (hardhat.config.ts): the checkers' epochs go by the wall clock.
    env: {
      ...programEnv(),
      KAISAR_WALL_CLOCK_CHAIN: "1",
      ...(genesis !== undefined ? { KAISAR_CHAIN_INITIAL_DATE: new Date(genesis * 1000).toISOString() } : {}),
    },
    verbose,
    // Hardhat prints its accounts and every RPC call: keep only what it says that is not one.
    drop: (line) => {
      if (!started) {
        if (/Started HTTP/.test(line)) started = true;
        return true;
      }
      return !/error/i.test(line);
    },
    // Reverts of the contracts' custom errors (the web app's, say), by name, arguments and sentence.
    map: decodeChainLogLine,
    // The base of everything: the programs cannot work without it, so it is not restarted.
    onExit: (code, _child, signal) => {
      say(
        `the chain exited (${signal ?? `exit code ${code}`}): stopping everything (the programs cannot run without it; see .kaisar/devnet/logs/chain.log)`,
      );
      void shutdown(1);
    },
  });
  await until("the chain answering on " + rpcUrl, 60_000, async () =>
    (await rpc(rpcUrl, "eth_chainId")) ? true : undefined,
  );
  if (genesis === undefined) await liveBlocks(rpcUrl);
}

/**
 * A block every second while nobody sends a transaction, as a live chain: the chain's time moves
 * on (the keeper reads the current epoch from the latest block). Transactions still mine at once.
 */
async function liveBlocks(rpcUrl: string): Promise<void> {
  await rpc(rpcUrl, "evm_setIntervalMining", [1000]);
}

async function deploy(s: Settings, rpcUrl: string): Promise<Record<string, string>> {
  say(
    `deploying every contract (Ignition: deploy/modules/Kaisar.ts, deploy/parameters/local.json, ${s.epochSeconds} s epochs)`,
  );
  rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
  const child = startChild(
    "deploy",
    process.execPath,
    [HARDHAT, "ignition", "deploy", "deploy/modules/Kaisar.ts", "--network", "localhost"],
    {
      env: {
        ...programEnv(),
        LOCAL_RPC_URL: rpcUrl,
        HARDHAT_IGNITION_CONFIRM_RESET: "true",
        // The local parameters, whatever a .env says; epochs of the chosen length.
        KAISAR_PARAMETERS: "local",
        KAISAR_EPOCH_SECONDS: String(s.epochSeconds),
      },
      verbose: false,
      drop: (line) => !/error|Error|failed/.test(line),
    },
  );
  const code = await child.exited;
  if (code !== 0) throw new StartError(`the deployment failed (exit ${code}); see .kaisar/devnet/logs/deploy.log`);
  const raw = JSON.parse(readFileSync(path.join(DEPLOYMENT_DIR, "deployed_addresses.json"), "utf8")) as Record<
    string,
    string
  >;
  const exported = exportDeployment(CHAIN_ID);
  say(`wrote ${path.relative(ROOT, exported)} (addresses and ABIs)`);
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.slice(k.indexOf("#") + 1), v]));
}

/**
 * Local-only governance: the timelock (admin of everything, 60 s minimum delay in local.json) acts
 * at once through Hardhat's account impersonation instead of scheduling and waiting out the delay.
 * Nothing like this exists on agung or peaq, where governance schedules through the timelock.
 */
async function asTimelock(
  rpcUrl: string,
  timelock: string,
  act: (signer: JsonRpcSigner) => Promise<void>,
): Promise<void> {
  const provider = rpcProvider(rpcUrl, CHAIN_ID);
  await provider.send("hardhat_impersonateAccount", [timelock]);
  await provider.send("hardhat_setBalance", [timelock, "0x56BC75E2D63100000"]); // 100 ETH for gas
  try {
    await act(new JsonRpcSigner(provider, timelock));
  } finally {
    await provider.send("hardhat_stopImpersonatingAccount", [timelock]);
    provider.destroy();
  }
}

async function setUpCheckers(
  rpcUrl: string,
  c: KaisarContracts,
  timelock: string,
  treasury: Wallet,
  operators: Wallet[],
) {
  const minimum = await c.ReportOracle.minCheckerStake();
  const registry = await c.NodeRegistry.getAddress();
  for (const op of operators) {
    await (await c.KaiToken.connect(treasury).transfer(op.address, minimum)).wait();
    await (await c.KaiToken.connect(op).approve(registry, minimum)).wait();
    await (await c.NodeRegistry.connect(op).stake(minimum)).wait();
  }
  const first = (await c.CheckerLicense.totalMinted()) + 1n;
  await asTimelock(rpcUrl, timelock, async (gov) => {
    for (const op of operators) await (await c.CheckerLicense.connect(gov).mint(op.address, 1)).wait();
  });
  for (const [i, op] of operators.entries()) {
    await (await c.CheckerLicense.connect(op).delegate(first + BigInt(i), op.address)).wait();
  }
  const sorted = operators.map((o) => o.address).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  await asTimelock(rpcUrl, timelock, async (gov) => {
    await (await c.ReportOracle.connect(gov).setCheckerConfig(sorted, 2)).wait();
  });
}

const NO_SMI: RunProgram = async () => {
  throw Object.assign(new Error("npm start declares each agent's hardware (simulated GPUs)"), { code: "ENOENT" });
};

/** Runs `kaisar <args>` in this process; resolves to its JSON output (throws with its messages on failure). */
async function kaisarJson(args: string[]): Promise<Record<string, unknown>> {
  let out = "";
  let err = "";
  const code = await kaisar(
    ["node", "kaisar", ...args, "--json"],
    { out: (t) => void (out += t), err: (t) => void (err += t) },
    { agent: { detect: { run: NO_SMI } } },
  );
  if (code !== 0) throw new StartError(`kaisar ${args.join(" ")} failed (exit ${code}):\n${err}${out}`);
  // The last JSON document printed (progress may come before it).
  const text = out.trim();
  const at = text.startsWith("{") ? 0 : text.lastIndexOf("\n{") + 1;
  return JSON.parse(text.slice(at)) as Record<string, unknown>;
}

const writeJson = (file: string, data: unknown) => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
  return file;
};

// ---------------------------------------------------------------------------------------------
// Main

function takeLock(): void {
  mkdirSync(STATE, { recursive: true });
  try {
    const other = Number(readFileSync(LOCK, "utf8"));
    if (other && other !== process.pid) {
      process.kill(other, 0); // throws when it is gone
      throw new StartError(
        `another npm start (pid ${other}) runs from this checkout and owns .kaisar/: stop it first ` +
          `(Ctrl-C in its terminal, or kill -INT ${other})`,
      );
    }
  } catch (e) {
    if (e instanceof StartError) throw e;
    // no lock, or its process is gone
  }
  writeFileSync(LOCK, String(process.pid));
  lockTaken = true;
}

let lockTaken = false;

async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  // Programs stopped from here on are not restarted; a restart waiting out its delay is cancelled.
  for (const sup of supervisors) sup.stop();
  stopOutages?.();
  stopWatching?.();
  // Its agent stops with the programs; its public port is free once the proxy is down.
  await flakyProxy?.down();
  const all = [...children.values()];
  if (all.length) say("stopping every program");
  // The programs first, the chain last (they may be sending transactions while they stop).
  await Promise.all(all.filter((c) => c.name !== "chain").map((c) => stopChild(c)));
  const chain = all.find((c) => c.name === "chain");
  if (persistOnStop && chain && children.has("chain")) await saveChain(persistOnStop.rpcUrl, persistOnStop.from);
  if (chain) await stopChild(chain);
  if (usedPorts.length) {
    const deadline = Date.now() + 5000;
    let busy = usedPorts;
    while (Date.now() < deadline) {
      busy = [];
      for (const u of usedPorts) if (!(await portFree(u.port))) busy.push(u);
      if (!busy.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (busy.length) say(`still in use after stopping: ${busy.map((u) => `${u.port} (${u.what})`).join(", ")}`);
    else say("stopped; every port is free");
  }
  if (lockTaken) rmSync(LOCK, { force: true });
  process.exit(code);
}

/** The flaky node's outages (./demo.ts): their schedule, its proxy, and the epoch watcher. */
let stopOutages: (() => void) | undefined;
let stopWatching: (() => void) | undefined;
let flakyProxy: OutageProxy | undefined;
let usedPorts: PortUse[] = [];
/** `--persist`, once the network is up (or restored): the chain to save on stop, and the save it was restored from. */
let persistOnStop: { rpcUrl: string; from?: ChainDump } | undefined;

// ---------------------------------------------------------------------------------------------
// --persist

interface NodeInfo {
  name: string;
  nodeId: number;
  url: string;
  config: string;
  gpus: string;
  flaky: boolean;
}
interface RentalInfo {
  id: number;
  nodeId: number;
  node: string;
  gpus: number;
}
/** .kaisar/persist/network.json: what a restored network runs with. */
interface SavedNetwork {
  id: string;
  savedAt: string;
  ports: { rpc: number; web: number; agent: number; checker: number; keeper: number };
  epochSeconds: number;
  addresses: Record<string, string>;
  nodes: NodeInfo[];
  rentals: RentalInfo[];
}

/** The saved network of an earlier `--persist` run, or undefined when there is none (a fresh start). */
function loadSaved(): { network: SavedNetwork; dump: ChainDump } | undefined {
  if (!existsSync(CHAIN_DUMP)) return undefined;
  const cannot = (why: string) =>
    new StartError(
      `cannot restore the network saved in .kaisar/persist/: ${why}. ` +
        "Remove .kaisar/persist/ to start a fresh persistent network (or start without --persist).",
    );
  if (!existsSync(NETWORK_JSON)) throw cannot("network.json is missing");
  const network = JSON.parse(readFileSync(NETWORK_JSON, "utf8")) as SavedNetwork;
  const dump = JSON.parse(readFileSync(CHAIN_DUMP, "utf8")) as ChainDump;
  const devnetId = existsSync(DEVNET_ID) ? readFileSync(DEVNET_ID, "utf8").trim() : "";
  if (devnetId !== network.id) {
    throw cannot("the programs' state in .kaisar/devnet/ is not its own any more (a plain `npm start` replaced it)");
  }
  if (!existsSync(path.join(DEPLOYMENT_DIR, "deployed_addresses.json"))) {
    throw cannot(`${path.relative(ROOT, DEPLOYMENT_DIR)}/deployed_addresses.json is missing`);
  }
  for (const n of network.nodes) if (!existsSync(n.config)) throw cannot(`${n.config} is missing`);
  return { network, dump };
}

/** Saves the chain (every block with transactions) to .kaisar/persist/chain.json; the old save stays on failure. */
async function saveChain(rpcUrl: string, from?: ChainDump): Promise<void> {
  try {
    await rpc(rpcUrl, "evm_setIntervalMining", [0]); // no more blocks while it is read
    const dump = await dumpChain(rpcUrl, from);
    mkdirSync(PERSIST, { recursive: true });
    writeFileSync(CHAIN_DUMP + ".tmp", JSON.stringify(dump));
    renameSync(CHAIN_DUMP + ".tmp", CHAIN_DUMP);
    const txs = dump.blocks.reduce((n, b) => n + b.txs.length, 0);
    say(
      `saved the chain to .kaisar/persist/chain.json: ${dump.latest.number} blocks, ${dump.blocks.length} with ` +
        `transactions (${txs} transactions); \`npm start -- --persist\` restores it`,
    );
  } catch (e) {
    say(`could not save the chain (${(e as Error).message}); .kaisar/persist/ keeps what it had`);
  }
}

const duration = (seconds: number) => {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${seconds % 60} s` : `${seconds} s`;
};

/** Replays the saved chain, moves it to the wall clock and checks it; resolves when it runs live. */
async function restoreChain(rpcUrl: string, saved: { network: SavedNetwork; dump: ChainDump }): Promise<void> {
  const { dump, network } = saved;
  const txs = dump.blocks.reduce((n, b) => n + b.txs.length, 0);
  say(
    `restoring the network saved ${new Date(dump.dumpedAt * 1000).toISOString()}: replaying ${dump.blocks.length} ` +
      `blocks with ${txs} transactions (of ${dump.latest.number} blocks)`,
  );
  const began = Date.now();
  try {
    await replayChain(rpcUrl, dump);
  } catch (e) {
    if (!(e instanceof PersistError)) throw e;
    throw new StartError(
      `cannot restore the network saved in .kaisar/persist/: ${e.message}. ` +
        "Remove .kaisar/persist/ to start a fresh persistent network (or start without --persist).",
    );
  }
  // The time it was stopped passes on the chain: from here on, block time is the wall clock again.
  const now = Math.floor(Date.now() / 1000);
  await rpc(rpcUrl, "evm_mine", [Math.max(now, dump.latest.timestamp)]);
  await liveBlocks(rpcUrl);
  const provider = rpcProvider(rpcUrl, CHAIN_ID);
  try {
    for (const [name, a] of Object.entries(network.addresses)) {
      if ((await provider.getCode(a)) === "0x") throw new StartError(`restored chain: ${name} (${a}) has no code`);
    }
    const c = connectContracts(network.addresses, provider);
    const nodeCount = Number(await c.NodeRegistry.nodeCount());
    const rentalCount = Number(await c.RentalEscrow.rentalCount());
    if (nodeCount < network.nodes.length || rentalCount < Math.max(0, ...network.rentals.map((r) => r.id))) {
      throw new StartError(`restored chain: ${nodeCount} nodes and ${rentalCount} rentals, fewer than saved`);
    }
    say(
      `restored in ${((Date.now() - began) / 1000).toFixed(1)} s: ${dump.latest.number} blocks (${txs} transactions, ` +
        `hashes and state roots as saved), ${nodeCount} nodes, ${rentalCount} rentals; the network was stopped for ` +
        `${duration(Math.max(0, now - dump.latest.timestamp))}: that time passed on the chain (rentals were charged ` +
        "for it, the epochs in between got no report)",
    );
  } finally {
    provider.destroy();
  }
  persistOnStop = { rpcUrl, from: dump };
}

export async function start(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP);
    return;
  }
  const persist = argv.includes("--persist");
  const began = Date.now();
  let s = readSettings(argv);
  takeLock();
  const saved = persist ? loadSaved() : undefined;
  if (saved) {
    // Its agents' URLs are on chain and its programs' configs name its ports: the saved ones.
    const p = saved.network.ports;
    const kept = {
      rpcPort: p.rpc,
      webPort: p.web,
      agentPort: p.agent,
      checkerPort: p.checker,
      keeperPort: p.keeper,
      epochSeconds: saved.network.epochSeconds,
    };
    if (Object.entries(kept).some(([k, v]) => s[k as keyof typeof kept] !== v)) {
      say(
        "the saved network keeps its ports and epoch length (its agents' URLs are on chain): KAISAR_* settings ignored",
      );
    }
    s = { ...s, ...kept };
  }
  const rpcUrl = `http://127.0.0.1:${s.rpcPort}`;
  const ports = portsOf(s);
  await checkPorts(ports);
  usedPorts = ports;

  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  if (!saved) {
    rmSync(DEVNET, { recursive: true, force: true });
    if (persist) rmSync(PERSIST, { recursive: true, force: true });
  }
  rmSync(LOCAL_JSON, { force: true });
  mkdirSync(LOGS, { recursive: true });
  // The agents declare their (simulated) hardware: an nvidia-smi on this machine must not replace it.
  const bin = path.join(DEVNET, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    path.join(bin, "nvidia-smi"),
    "#!/bin/sh\necho 'npm start: the local agents declare simulated hardware profiles' >&2\nexit 127\n",
  );
  chmodSync(path.join(bin, "nvidia-smi"), 0o755);

  await startChain(s, rpcUrl, s.verbose, saved?.dump.genesis.timestamp);

  const provider = rpcProvider(rpcUrl, CHAIN_ID);
  const mnemonic = Mnemonic.fromPhrase(MNEMONIC);
  const account = (i: number) =>
    walletOn(HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`).privateKey, provider);
  const operators = CHECKER_ACCOUNTS.map(account);

  // Config files: one per program, under .kaisar/devnet/ (gitignored).
  const deployment = path.join(DEPLOYMENT_DIR, "deployed_addresses.json");
  const base = { chainId: CHAIN_ID, rpcUrl, deployment };
  const agentUrl = (i: number) => `http://127.0.0.1:${s.agentPort + i}`;
  const checkerUrls = CHECKER_ACCOUNTS.map((_, i) => `http://127.0.0.1:${s.checkerPort + i}`);
  const keeperUrl = `http://127.0.0.1:${s.keeperPort}`;
  const e = s.epochSeconds;
  const dur = (seconds: number) => `${Math.max(1, Math.round(seconds))}s`;

  /** A fresh network: deployment, setup, providers, demo rentals. */
  const buildNetwork = async (): Promise<{
    addresses: Record<string, string>;
    nodes: NodeInfo[];
    rentals: RentalInfo[];
  }> => {
    const addresses = await deploy(s, rpcUrl);
    const c = connectContracts(addresses, provider);
    const treasury = account(0);

    say("setting up: 3 checkers (license, stake, checker set, quorum 2), the reward reserve, demo accounts");
    await setUpCheckers(rpcUrl, c, addresses.KaisarTimelock, treasury, operators);
    await fundRewardReserve(c, treasury, kai(10_000_000));
    for (const p of PROVIDERS)
      await (await c.KaiToken.connect(treasury).transfer(account(p.account).address, kai(100_000))).wait();
    for (const i of [RENTER_ACCOUNT, YOU_ACCOUNT]) {
      await (await c.KaiToken.connect(treasury).transfer(account(i).address, kai(10_000))).wait();
    }

    say("registering 5 providers with `kaisar provider register` (stake, spec, price)");
    const nodes: NodeInfo[] = [];
    for (const [i, p] of PROVIDERS.entries()) {
      const wallet = account(p.account);
      const profile = writeJson(path.join(DEVNET, `${p.name}.hardware.json`), {
        ...p.profile,
        diskGiB: p.disk,
        bandwidthMbps: p.bandwidth,
      });
      const config = path.join(DEVNET, `${p.name}.json`);
      const settings = {
        role: "provider",
        ...base,
        privateKey: wallet.privateKey,
        listen: { host: "127.0.0.1", port: s.agentPort + i },
        publicUrl: agentUrl(i),
        dataDir: path.join(DEVNET, "data", p.name),
        hardwareProfile: profile,
        pricePerGpuHour: p.price,
        region: p.region,
        challenge: { maxN: 256 },
        rentals: { poll: "2s" },
        // `kaisar provider status --config .kaisar/devnet/<name>.json` shows its claimable rewards from here.
        keeperUrl,
      };
      writeJson(config, settings);
      const result = await kaisarJson(["provider", "register", "--config", config]);
      const nodeId = Number(result.nodeId);
      writeJson(config, { ...settings, nodeId });
      const gpus = `${p.profile.gpuCount} x ${String(result.gpuClass)}`;
      nodes.push({ name: p.name, nodeId, url: agentUrl(i), config, gpus, flaky: "flaky" in p && p.flaky });
      say(`  ${p.name}: node ${nodeId}, ${gpus} at ${p.price} KAI per GPU-hour`);
    }

    // Demo rentals (pay-as-you-go at SLA tier 1, 99.9%): one on a healthy node, one on the flaky node.
    const renter = account(RENTER_ACCOUNT);
    const escrow = c.RentalEscrow.connect(renter);
    const token = addresses.KaiToken;
    await (await c.KaiToken.connect(renter).approve(addresses.RentalEscrow, kai(1_000))).wait();
    const rentals: RentalInfo[] = [];
    for (const [node, gpus] of [
      [nodes[0], 2],
      [nodes[4], 1],
    ] as const) {
      const price = PROVIDERS.find((p) => p.name === node.name)!.price;
      await (
        await escrow.rent({
          nodeId: node.nodeId,
          gpus,
          token,
          plan: 0, // pay-as-you-go
          deposit: kai(100),
          termDays: 0,
          maxPricePerGpuHour: kai(price),
          slaTier: 1, // slaTiers()[0] is "no SLA"; 1 is 99.9%
        })
      ).wait();
      const id = Number(await c.RentalEscrow.rentalCount());
      rentals.push({ id, nodeId: node.nodeId, node: node.name, gpus });
      say(`  rental ${id}: the demo renter rents ${gpus} GPU(s) on ${node.name} (pay-as-you-go, SLA 99.9%)`);
    }
    return { addresses, nodes, rentals };
  };
  let built: { addresses: Record<string, string>; nodes: NodeInfo[]; rentals: RentalInfo[] };
  if (saved) {
    await restoreChain(rpcUrl, saved);
    const exported = exportDeployment(CHAIN_ID);
    say(`wrote ${path.relative(ROOT, exported)} (addresses and ABIs); the programs run on their saved state`);
    built = saved.network;
  } else {
    built = await buildNetwork();
  }
  const { addresses, nodes, rentals } = built;
  provider.destroy();

  // The programs.
  const env = { ...programEnv(), PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` };
  // Each one supervised: an unexpected exit is restarted with backoff, one line in the output and its log.
  const kaisarChild = (name: string, role: string, config: string) => {
    const sup = new Supervisor(
      name,
      () =>
        startChild(name, process.execPath, [KAISAR_BIN, role, "run", "--config", config], { env, verbose: s.verbose }),
      {
        log: (line) => {
          say(`${line}; see .kaisar/devnet/logs/${name}.log`);
          appendFileSync(path.join(LOGS, `${name}.log`), `[start] ${line}\n`);
        },
      },
    );
    supervisors.push(sup);
    return sup.start();
  };
  // The agents first, the checkers once every agent answers: the checkers' first epoch is not scored
  // (they were not watching the nodes when it began), and from the next one every agent is up.
  say("starting 5 provider agents");
  const plan = flakyPlan(e);
  const flaky = nodes.find((n) => n.flaky)!;
  // The flaky agent listens on a port of its own, behind a proxy on its public port (./demo.ts).
  const flakyPort = await freePort();
  const flakySettings = JSON.parse(readFileSync(flaky.config, "utf8")) as { listen: { host: string; port: number } };
  writeJson(flaky.config, { ...flakySettings, listen: { ...flakySettings.listen, port: flakyPort } });
  flakyProxy = new OutageProxy(s.agentPort + nodes.indexOf(flaky), flakyPort);
  await flakyProxy.up();
  for (const n of nodes) kaisarChild(n.name, "provider", n.config);
  const ready = 90_000;
  await Promise.all(
    nodes.map((n) => until(`${n.name} answering on ${n.url}/health`, ready, answers(`${n.url}/health`))),
  );
  say("starting 3 checkers and the keeper");
  operators.forEach((op, i) => {
    const config = writeJson(path.join(DEVNET, `checker-${i + 1}.json`), {
      role: "checker",
      ...base,
      privateKey: op.privateKey,
      listen: { host: "127.0.0.1", port: s.checkerPort + i },
      dataDir: path.join(DEVNET, "data", `checker-${i + 1}`),
      peers: checkerUrls.filter((_, j) => j !== i),
      // Probes scaled to short epochs: ~60 heartbeats an epoch (./demo.ts), small compute challenges.
      schedule: {
        heartbeat: `${plan.heartbeatMs}ms`,
        capacity: dur(e / 4),
        hardware: dur(e / 2),
        probeTimeout: "2s",
      },
      challenge: { n: 64, timeout: "5s" },
      bandwidth: { bytes: 65_536 },
      probe: { concurrency: 16, jitterPercent: 5 },
      discovery: { interval: dur(Math.min(10, e / 4)) },
      exchange: { settle: "3s", wait: dur(Math.max(5, e / 4)), timeout: "3s", retry: "500ms" },
    });
    kaisarChild(`checker-${i + 1}`, "checker", config);
  });
  const keeperConfig = writeJson(path.join(DEVNET, "keeper.json"), {
    role: "keeper",
    ...base,
    privateKey: account(KEEPER_ACCOUNT).privateKey,
    listen: { host: "127.0.0.1", port: s.keeperPort },
    dataDir: path.join(DEVNET, "data", "keeper"),
    checkers: checkerUrls,
    pollInterval: "2s",
  });
  kaisarChild("keeper", "keeper", keeperConfig);

  let webUrl: string | null = null;
  let web: Child | undefined;
  if (s.web) {
    const url = `http://127.0.0.1:${s.webPort}`;
    const workspaces = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).workspaces ?? []) as string[];
    const args = ["run", "dev", ...(workspaces.includes("frontend") ? ["--workspace", "frontend"] : [])];
    say(`starting the web app on ${url} (npm ${args.join(" ")})`);
    web = startChild(
      "web",
      "npm",
      [...args, "--", "--host", "127.0.0.1", "--port", String(s.webPort), "--strictPort"],
      {
        cwd: workspaces.includes("frontend") ? ROOT : path.join(ROOT, "frontend"),
        env: { ...programEnv(), VITE_KAISAR_RPC_URL: rpcUrl, VITE_KAISAR_CHAIN_ID: String(CHAIN_ID) },
        verbose: s.verbose,
        onExit: (code) => say(`the web app exited (${code}); see .kaisar/devnet/logs/web.log`),
      },
    );
    webUrl = url;
  } else {
    say("no web app yet (frontend/package.json does not exist): skipping it");
  }

  // Ready when every program answers.
  await Promise.all([
    ...checkerUrls.map((u, i) => until(`checker-${i + 1} answering on ${u}/health`, ready, answers(`${u}/health`))),
    until(`the keeper answering on ${keeperUrl}/health`, ready, answers(`${keeperUrl}/health`)),
  ]);
  if (web) {
    // Up when Vite listens (its first page load compiles on demand, which may take a while).
    const up = await until(`the web app listening on ${webUrl}`, ready, async () => {
      if (!children.has("web")) return false;
      return (await portFree(s.webPort)) ? undefined : true;
    }).catch(() => false);
    if (!up) {
      say(`the web app did not come up (see .kaisar/devnet/logs/web.log); everything else runs`);
      if (children.has("web")) await stopChild(web);
      webUrl = null;
    }
  }

  // The flaky node: down `plan.outageMs` of every epoch (./demo.ts), unless it is jailed.
  const clock = rpcProvider(rpcUrl, CHAIN_ID);
  const chain = connectContracts(addresses, clock);
  const genesis = Number(await chain.ReportOracle.genesis());
  const rules = await demoRules(chain, plan, { name: flaky.name, rentalTierIndex: 1 });

  // What a newcomer needs.
  const accounts = [
    { name: "deployer", roles: ["deployer", "governance", "guardian", "treasury", "rewardPool"], index: 0 },
    { name: "you", roles: ["demo user: 10,000 KAI, 10,000 ETH, nothing else"], index: YOU_ACCOUNT },
    { name: "renter", roles: ["renter of the demo rentals"], index: RENTER_ACCOUNT },
    ...PROVIDERS.map((p) => ({ name: p.name.replace("agent", "provider"), roles: ["provider"], index: p.account })),
    ...CHECKER_ACCOUNTS.map((idx, i) => ({ name: `checker-${i + 1}`, roles: ["checker operator"], index: idx })),
    { name: "keeper", roles: ["keeper"], index: KEEPER_ACCOUNT },
  ].map((a) => ({ ...a, address: account(a.index).address, privateKey: account(a.index).privateKey }));

  const writeLocalJson = () =>
    writeJson(LOCAL_JSON, {
      $comment: "Written by npm start (devnet/src/start.ts) for this run. LOCAL-ONLY TEST KEYS.",
      rpcUrl,
      chainId: CHAIN_ID,
      epochSeconds: e,
      webUrl,
      keeperUrl,
      checkerUrls,
      agentUrls: nodes.map((n) => n.url),
      agents: nodes.map(({ name, nodeId, url, gpus, flaky: f }) => ({ name, nodeId, url, gpus, flaky: f })),
      contracts: addresses,
      exportFile: path.join("deploy", "exports", `chain-${CHAIN_ID}.json`),
      rentals,
      accounts: accounts.map(({ name, roles, address, privateKey }) => ({ name, roles, address, privateKey })),
      processes: [...children.values()].map((ch) => ({ name: ch.name, pid: ch.proc.pid })),
      ports: Object.fromEntries(usedPorts.map((u) => [u.what, u.port])),
    });
  writeLocalJson();
  if (persist && !saved) {
    // A fresh persistent network: Ctrl-C saves it from now on.
    const id = `${Date.now().toString(36)}-${process.pid}`;
    writeJson(NETWORK_JSON, {
      id,
      savedAt: new Date().toISOString(),
      ports: { rpc: s.rpcPort, web: s.webPort, agent: s.agentPort, checker: s.checkerPort, keeper: s.keeperPort },
      epochSeconds: e,
      addresses,
      nodes,
      rentals,
    } satisfies SavedNetwork);
    writeFileSync(DEVNET_ID, id + "\n");
    persistOnStop = { rpcUrl };
  }
  // A restarted program (./supervisor.ts) has a new pid: local.json keeps the running ones.
  onChildStart = writeLocalJson;

  const reader = rpcProvider(rpcUrl, CHAIN_ID);
  const oracle = connectContracts(addresses, reader).ReportOracle;
  const budget = Number(
    formatUnits(await oracle.epochBudget(await oracle.epochAt(Math.floor(Date.now() / 1000))), 18),
  ).toLocaleString("en-US", { maximumFractionDigits: 2 });
  const kaiOf = async (a: string) =>
    Number(formatUnits(await connectContracts(addresses, reader).KaiToken.balanceOf(a), 18)).toLocaleString("en-US", {
      maximumFractionDigits: 2,
    });
  const lines = [
    "",
    `  Web app       ${webUrl ?? "(not running)"}`,
    `  RPC URL       ${rpcUrl}   (chain id ${CHAIN_ID}; in MetaMask: add a network with this URL and id)`,
    `  Keeper API    ${keeperUrl}`,
    `  Checker APIs  ${checkerUrls.join("  ")}`,
    "  Provider agents:",
    ...nodes.map(
      (n) =>
        `    ${n.name.padEnd(11)} node ${n.nodeId}  ${n.gpus.padEnd(17)} ${n.url}` +
        (n.flaky ? `  flaky: down ${(plan.outageMs / 1000).toFixed(1)} s of each epoch` : ""),
    ),
    `  Epochs        ${e} s (KAISAR_EPOCH_SECONDS); the first report that scores the nodes lands about two epochs after start`,
    `  Rewards       ${budget} KAI per epoch, peaq's emission per second (local.json: emissionScaledFrom)`,
    `  Rentals       ${rentals.map((r) => `${r.id} on ${r.node}`).join(", ")} (pay-as-you-go, SLA 99.9%)`,
    ...rules,
    "",
    `  Contracts (addresses and ABIs: deploy/exports/chain-${CHAIN_ID}.json):`,
    ...Object.entries(addresses).map(([name, a]) => `    ${name.padEnd(18)} ${a}`),
    "",
    "  Demo accounts: LOCAL-ONLY TEST KEYS (Hardhat's public test mnemonic: anyone can take what they hold;",
    "  never send real funds to them or use them on agung or peaq). Import a key into MetaMask:",
  ];
  for (const a of accounts) {
    lines.push(`    ${a.name.padEnd(14)} ${a.address}  ${a.roles.join(", ")}  (${await kaiOf(a.address)} KAI)`);
    lines.push(`    ${"".padEnd(14)} key ${a.privateKey}`);
  }
  reader.destroy();
  lines.push(
    "",
    persist
      ? "  --persist: Ctrl-C saves the chain to .kaisar/persist/ (and keeps .kaisar/devnet/); `npm start -- --persist` restores it."
      : "  Every start is a fresh chain (`npm start -- --persist` keeps the network across restarts).",
    "  .kaisar/local.json holds all of this as JSON; logs: .kaisar/devnet/logs/<name>.log. Ctrl-C stops everything.",
    `  Ready in ${((Date.now() - began) / 1000).toFixed(1)} s.`,
    "",
    "Kaisar is running locally.",
  );
  process.stdout.write(lines.join("\n") + "\n");

  // From here on, one line each: the flaky node's outages, each epoch's report, credits and slashes.
  stopOutages = runOutages({
    plan,
    genesis,
    name: flaky.name,
    proxy: flakyProxy,
    status: async () => (await chain.NodeRegistry.getNode(flaky.nodeId)).status,
    say,
  });
  stopWatching = await watchEpochs({ contracts: chain, provider: clock, nodes, rentals, say });
}

/** Entry point (scripts/start.js). */
export function run(argv: string[]): void {
  start(argv).catch(async (err) => {
    if (!shuttingDown || !(err instanceof StartError)) {
      console.error(`[start] ${err instanceof StartError ? err.message : ((err as Error).stack ?? String(err))}`);
    }
    await shutdown(1);
  });
}
