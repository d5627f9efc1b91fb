/**
 * The programs `npm start` runs, as one object: each a child process in its own process group (so
 * that stopping it reaches its children too), its output prefixed with `[name]`, kept in
 * .kaisar/devnet/logs/<name>.log and printed (routine probe lines only with --verbose); the agents,
 * checkers and keeper supervised (an unexpected exit is restarted with backoff, ./supervisor.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, createWriteStream } from "node:fs";

import { ROOT, logFile } from "./paths";
import { Supervisor } from "./supervisor";

/** Log lines of the programs' routine work: kept in the log files, not printed (unless --verbose). */
const ROUTINE =
  /"at":"(Agent#(challenge|bandwidth|hardware|health|rentals|refuse)|Checker#(heartbeat|health|bandwidth|challenge|hardware|discovery|probe|api)|Keeper#(epoch|stillPending))"/;

export interface Child {
  name: string;
  proc: ChildProcess;
  /** Stopped on purpose (the flaky agent's outage, or shutdown): its exit is not a failure. */
  stopping: boolean;
  exited: Promise<number | null>;
}

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  verbose: boolean;
  /** Lines to drop entirely (not even logged). */
  drop?: (line: string) => boolean;
  /** Rewrites each line kept (logged and printed as rewritten). */
  map?: (line: string) => string;
  /** An exit nobody asked for (not reported once the processes are closed). */
  onExit?: (code: number | null, child: Child, signal: NodeJS.Signals | null) => void;
}

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

export class Processes {
  private readonly children = new Map<string, Child>();
  private readonly supervisors: Supervisor[] = [];
  private closed = false;
  /** Called after each program starts, a restart too (local.json follows the running pids). */
  onStart: (() => void) | undefined;

  constructor(private readonly say: (msg: string) => void) {}

  /** Starts `command` as the program `name`. */
  start(name: string, command: string, args: string[], options: ChildOptions): Child {
    const log = createWriteStream(logFile(name), { flags: "a" });
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
      if (this.children.get(name) === child) this.children.delete(name);
      if (!child.stopping && !this.closed) options.onExit?.(code, child, signal);
    });
    this.children.set(name, child);
    this.onStart?.();
    return child;
  }

  /** Starts a program that is restarted with backoff when it exits unexpectedly, one line in the output and its log. */
  supervise(name: string, launch: () => Child): void {
    const sup = new Supervisor(name, launch, {
      log: (line) => {
        this.say(`${line}; see .kaisar/devnet/logs/${name}.log`);
        appendFileSync(logFile(name), `[start] ${line}\n`);
      },
    });
    this.supervisors.push(sup);
    sup.start();
  }

  has(name: string): boolean {
    return this.children.has(name);
  }

  /** The running programs. */
  list(): Child[] {
    return [...this.children.values()];
  }

  /** Shutdown: no exit is reported from here on, and no program restarted (a restart waiting out its delay is cancelled). */
  close(): void {
    this.closed = true;
    for (const sup of this.supervisors) sup.stop();
  }

  /** SIGTERM to the child's process group, SIGKILL after `graceMs`; resolves when it has exited. */
  async stop(child: Child, graceMs = 8000): Promise<void> {
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
}
