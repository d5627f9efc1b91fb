/**
 * The agent's rental watcher: while `kaisar provider run` runs it reads the node's rentals from the
 * chain every `rentals.poll`, writes the launch spec of each new open rental (the configured catalog
 * template, the rental's GPU count) to `<dataDir>/rentals/<rentalId>.json`, logs it as a JSON line,
 * and marks the file closed (with the close reason) when the rental closes. It launches nothing:
 * Docker launching stays off.
 */
import { execFile } from "child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "fs";
import path from "path";

import { CloseReasonNames, PlanNames, RentalStatusNames } from "@kaisar/offchain";

import type { ProviderConfig } from "../config/load";
import { connectContracts, rpcProvider, type KaisarContracts } from "../chain/contracts";
import { providerRentals, type RentalView } from "../chain/rentals";
import { findTemplate, launchSpec, loadCatalog, type Template } from "./catalog";
import type { Logger } from "./server";
import { ENV } from "../config/schema";

/** What a rental's file holds. */
export interface RentalFile {
  rentalId: string;
  nodeId: number;
  renter: string;
  gpus: number;
  plan: string;
  token: string;
  template: string;
  launch: ReturnType<typeof launchSpec>;
  seenAt: string;
  /** Set once the rental closed on chain. */
  closed?: { reason: string; seenAt: string };
}

export interface RentalWatcherOptions {
  contracts: KaisarContracts;
  /** The provider's address (the node's owner). */
  provider: string;
  nodeId: number;
  /** Folder the launch specs go to (`<dataDir>/rentals`). */
  dir: string;
  template: Template;
  intervalMs: number;
  log: Logger;
}

export interface RentalWatcher {
  /** One read of the chain (the timer calls it; tests may too). */
  poll(): Promise<void>;
  /** Stops polling and waits for a poll in flight. */
  stop(): Promise<void>;
}

const OPEN = new Set(["Active", "Grace"]);

/** Starts polling the chain for `nodeId`'s rentals; the first poll is one interval after the start. */
export function watchRentals(options: RentalWatcherOptions): RentalWatcher {
  const { contracts, provider, nodeId, dir, template, log } = options;
  mkdirSync(dir, { recursive: true });
  /** Rentals with a file not marked closed: polled by id until they close. */
  const open = new Set<bigint>();
  for (const f of readdirSync(dir)) {
    const m = /^(\d+)\.json$/.exec(f);
    if (!m) continue;
    try {
      const file = JSON.parse(readFileSync(path.join(dir, f), "utf8")) as RentalFile;
      if (!file.closed) open.add(BigInt(m[1]));
    } catch {
      // A file we cannot read is rewritten if the rental is still open.
    }
  }
  let scannedUpTo = 0n;
  let lastError = "";
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const fileOf = (id: bigint) => path.join(dir, `${id}.json`);
  const write = (id: bigint, body: RentalFile) => {
    const tmp = fileOf(id) + ".tmp";
    writeFileSync(tmp, JSON.stringify(body, null, 2) + "\n");
    renameSync(tmp, fileOf(id));
  };

  const opened = (r: RentalView) => {
    const id = r.rentalId;
    if (existsSync(fileOf(id)) && open.has(id)) return;
    const rental = r.rental;
    let launch;
    try {
      launch = launchSpec(template, { rentalId: id, gpus: Number(rental.gpus), renter: rental.renter });
    } catch (e) {
      log({ at: "Agent#rental", event: "error", rentalId: id.toString(), error: (e as Error).message });
      return;
    }
    const body: RentalFile = {
      rentalId: id.toString(),
      nodeId,
      renter: launch.spec.renter,
      gpus: launch.spec.gpus,
      plan: PlanNames[Number(rental.plan)] ?? String(rental.plan),
      token: r.token,
      template: template.id,
      launch,
      seenAt: new Date().toISOString(),
    };
    write(id, body);
    open.add(id);
    log({
      at: "Agent#rental",
      event: "open",
      rentalId: body.rentalId,
      file: fileOf(id),
      renter: body.renter,
      gpus: body.gpus,
      plan: body.plan,
      spec: launch.spec,
      command: launch.command,
    });
  };

  const closed = (r: RentalView) => {
    const id = r.rentalId;
    open.delete(id);
    if (!existsSync(fileOf(id))) return;
    const body = JSON.parse(readFileSync(fileOf(id), "utf8")) as RentalFile;
    if (body.closed) return;
    const reason = CloseReasonNames[Number(r.rental.closeReason)] ?? String(r.rental.closeReason);
    body.closed = { reason, seenAt: new Date().toISOString() };
    write(id, body);
    log({ at: "Agent#rental", event: "close", rentalId: id.toString(), reason, file: fileOf(id) });
  };

  const poll = async () => {
    try {
      const count = await contracts.RentalEscrow.rentalCount();
      const views: RentalView[] = [];
      if (count > scannedUpTo) views.push(...(await providerRentals(contracts, provider, scannedUpTo)));
      const known = new Set(views.map((v) => v.rentalId));
      const recheck = [...open].filter((id) => !known.has(id));
      if (recheck.length > 0) views.push(...(await contracts.KaisarLens.getRentals(recheck)));
      for (const r of [...views].sort((a, b) => (a.rentalId < b.rentalId ? -1 : 1))) {
        if (Number(r.rental.nodeId) !== nodeId) continue;
        const status = RentalStatusNames[Number(r.rental.status)];
        if (OPEN.has(status)) opened(r);
        else if (status === "Closed") closed(r);
      }
      scannedUpTo = count;
      lastError = "";
    } catch (e) {
      const error = (e as Error).message.split("\n")[0];
      // One line per distinct failure, not one per poll.
      if (error !== lastError) log({ at: "Agent#rentals", error });
      lastError = error;
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = poll().finally(schedule);
    }, options.intervalMs);
  };
  schedule();

  return {
    poll: () => (inFlight = inFlight.then(poll)),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}

/** Whether `docker info` answers on this machine (5 s at most). */
export function dockerAvailable(): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve) => {
    execFile("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: 5_000 }, (e, stdout, stderr) => {
      if (e) resolve({ ok: false, error: (stderr || e.message).trim().split("\n")[0] });
      else resolve({ ok: true, error: stdout.trim() });
    });
  });
}

/**
 * The watcher of `config` for `provider run` (needs `nodeId`): the catalog template of
 * `rentals.template`, a read-only connection to `rpcUrl`. Says once whether Docker launching could run.
 */
export async function startRentalWatcher(
  config: ProviderConfig,
  provider: string,
  log: Logger,
): Promise<RentalWatcher & { close(): Promise<void> }> {
  if (config.nodeId === undefined) throw new Error("the rental watcher needs the node's id (nodeId)");
  let template: Template;
  try {
    template = findTemplate(loadCatalog(), config.rentals.template);
  } catch (e) {
    throw new Error(`rentals.template (env ${ENV["rentals.template"]}): ${(e as Error).message}`);
  }
  if (config.docker) {
    const docker = await dockerAvailable();
    log({
      at: "Agent#docker",
      available: docker.ok,
      message: docker.ok
        ? "docker answers, but launching containers is not implemented: launch specs are written for an operator to run"
        : `docker is not available on this machine (docker info: ${docker.error}); set docker to false or install Docker`,
    });
  }
  const rpc = rpcProvider(config.rpcUrl, config.chainId);
  const watcher = watchRentals({
    contracts: connectContracts(config.contracts, rpc),
    provider,
    nodeId: config.nodeId,
    dir: path.join(config.dataDir, "rentals"),
    template,
    intervalMs: config.rentals.poll,
    log,
  });
  return {
    ...watcher,
    async close() {
      await watcher.stop();
      rpc.destroy();
    },
  };
}
