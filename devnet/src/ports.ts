/**
 * `npm start`'s ports: which program listens where (and the variable that moves it), the check that
 * each is free before anything starts, and that each is free again after a stop (the e2e hooks too).
 */
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

import { CHECKER_ACCOUNTS, PROVIDERS } from "./cast";
import { SETTINGS } from "./env";
import { CHAIN_ID, DEPLOYED_ADDRESSES } from "./paths";
import { StartError, type Settings } from "./settings";

/** True when `port` on 127.0.0.1 can be listened on (nothing holds it). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.once("listening", () => server.close(() => resolve(true)));
    server.listen(port, "127.0.0.1");
  });
}

export interface PortUse {
  port: number;
  what: string;
  variable: string;
}

export function portsOf(s: Settings): PortUse[] {
  return [
    { port: s.rpcPort, what: "the chain's JSON-RPC", variable: SETTINGS.rpcPort.name },
    ...PROVIDERS.map((p, i) => ({
      port: s.agentPort + i,
      what: `provider agent ${p.name}`,
      variable: `${SETTINGS.agentPort.name} (the first of ${PROVIDERS.length})`,
    })),
    ...CHECKER_ACCOUNTS.map((_, i) => ({
      port: s.checkerPort + i,
      what: `checker-${i + 1}`,
      variable: `${SETTINGS.checkerPort.name} (the first of ${CHECKER_ACCOUNTS.length})`,
    })),
    { port: s.keeperPort, what: "the keeper's API", variable: SETTINGS.keeperPort.name },
    ...(s.web ? [{ port: s.webPort, what: "the web app", variable: SETTINGS.webPort.name }] : []),
  ];
}

/** Throws naming each port set twice or in use, and the variable that moves it. */
export async function checkPorts(uses: PortUse[]): Promise<void> {
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
  const busy = await inUse(uses);
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

async function inUse(uses: PortUse[]): Promise<PortUse[]> {
  const busy: PortUse[] = [];
  for (const u of uses) if (!(await portFree(u.port))) busy.push(u);
  return busy;
}

/** Waits (at most `ms`) until every port is free; resolves to those still in use. */
export async function stillInUse(uses: PortUse[], ms = 5000): Promise<PortUse[]> {
  const deadline = Date.now() + ms;
  let busy = uses;
  while (Date.now() < deadline) {
    busy = await inUse(uses);
    if (!busy.length) break;
    await sleep(200);
  }
  return busy;
}

/** The URLs of the network on these ports, and what every program's config file starts with. */
export function urlsOf(s: Settings) {
  const rpcUrl = `http://127.0.0.1:${s.rpcPort}`;
  return {
    rpcUrl,
    agentUrl: (i: number) => `http://127.0.0.1:${s.agentPort + i}`,
    checkerUrls: CHECKER_ACCOUNTS.map((_, i) => `http://127.0.0.1:${s.checkerPort + i}`),
    keeperUrl: `http://127.0.0.1:${s.keeperPort}`,
    webUrl: `http://127.0.0.1:${s.webPort}`,
    /** The start of every program's config file (.kaisar/devnet/<name>.json). */
    base: { chainId: CHAIN_ID, rpcUrl, deployment: DEPLOYED_ADDRESSES },
  };
}
export type Urls = ReturnType<typeof urlsOf>;
