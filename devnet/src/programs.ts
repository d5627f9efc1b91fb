/**
 * The node programs of the demo network as `npm start`'s children: 5 provider agents (the flaky one
 * behind its outage proxy, ./demo.ts), then, once every agent answers, 3 checkers and the keeper (each
 * supervised: ./processes.ts), and the web app (frontend/, Vite).
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import type { Wallet } from "ethers";

import type { NodeInfo } from "./cast";
import { programEnv } from "./chain";
import { OutageProxy, freePort, type FlakyPlan } from "./demo";
import type { Devnet } from "./devnet";
import { CHILD_ENV } from "./env";
import { CHAIN_ID, DEVNET, KAISAR_BIN, ROOT, writeJson } from "./paths";
import { portFree, type Urls } from "./ports";
import type { Settings } from "./settings";

/** How long a program may take to answer after its start. */
export const READY_MS = 90_000;

/** Resolves to true once `url` answers 2xx (undefined until then: `Devnet.until`'s check). */
export const answers = (url: string) => async () => {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok ? true : undefined;
};

const dur = (seconds: number) => `${Math.max(1, Math.round(seconds))}s`;

/** The programs' environment, with .kaisar/devnet/bin (an nvidia-smi that finds nothing) first on PATH. */
export function kaisarEnv(bin: string): NodeJS.ProcessEnv {
  return { ...programEnv(), PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` };
}

/** Runs `kaisar <role> run --config <config>` as the supervised program `name`. */
function runKaisar(d: Devnet, s: Settings, env: NodeJS.ProcessEnv, name: string, role: string, config: string): void {
  d.processes.supervise(name, () =>
    d.processes.start(name, process.execPath, [KAISAR_BIN, role, "run", "--config", config], {
      env,
      verbose: s.verbose,
    }),
  );
}

/**
 * The agents; resolves once every one answers. The flaky agent listens on a port of its own, behind
 * a proxy on its public port (./demo.ts), which goes down at shutdown; resolves to the proxy.
 */
export async function startAgents(
  d: Devnet,
  s: Settings,
  env: NodeJS.ProcessEnv,
  nodes: NodeInfo[],
): Promise<OutageProxy> {
  d.say("starting 5 provider agents");
  const flaky = nodes.find((n) => n.flaky)!;
  const flakyPort = await freePort();
  const flakySettings = JSON.parse(readFileSync(flaky.config, "utf8")) as { listen: { host: string; port: number } };
  writeJson(flaky.config, { ...flakySettings, listen: { ...flakySettings.listen, port: flakyPort } });
  const proxy = new OutageProxy(s.agentPort + nodes.indexOf(flaky), flakyPort);
  d.onShutdown(() => proxy.down());
  await proxy.up();
  for (const n of nodes) runKaisar(d, s, env, n.name, "provider", n.config);
  await Promise.all(
    nodes.map((n) => d.until(`${n.name} answering on ${n.url}/health`, READY_MS, answers(`${n.url}/health`))),
  );
  return proxy;
}

/** The checkers (probes scaled to the epoch: `plan`) and the keeper; call `checkersReady` to wait for them. */
export function startCheckersAndKeeper(
  d: Devnet,
  s: Settings,
  env: NodeJS.ProcessEnv,
  urls: Urls,
  plan: FlakyPlan,
  operators: Wallet[],
  keeper: Wallet,
): void {
  d.say("starting 3 checkers and the keeper");
  const e = s.epochSeconds;
  operators.forEach((op, i) => {
    const config = writeJson(path.join(DEVNET, `checker-${i + 1}.json`), {
      role: "checker",
      ...urls.base,
      privateKey: op.privateKey,
      listen: { host: "127.0.0.1", port: s.checkerPort + i },
      dataDir: path.join(DEVNET, "data", `checker-${i + 1}`),
      peers: urls.checkerUrls.filter((_, j) => j !== i),
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
    runKaisar(d, s, env, `checker-${i + 1}`, "checker", config);
  });
  const keeperConfig = writeJson(path.join(DEVNET, "keeper.json"), {
    role: "keeper",
    ...urls.base,
    privateKey: keeper.privateKey,
    listen: { host: "127.0.0.1", port: s.keeperPort },
    dataDir: path.join(DEVNET, "data", "keeper"),
    checkers: urls.checkerUrls,
    pollInterval: "2s",
  });
  runKaisar(d, s, env, "keeper", "keeper", keeperConfig);
}

/** Resolves once every checker and the keeper answer. */
export async function checkersReady(d: Devnet, urls: Urls): Promise<void> {
  await Promise.all([
    ...urls.checkerUrls.map((u, i) =>
      d.until(`checker-${i + 1} answering on ${u}/health`, READY_MS, answers(`${u}/health`)),
    ),
    d.until(`the keeper answering on ${urls.keeperUrl}/health`, READY_MS, answers(`${urls.keeperUrl}/health`)),
  ]);
}

/** Starts the web app when it exists; resolves (call the result once the rest is up) to its URL, or null when it did not come up. */
export function startWeb(d: Devnet, s: Settings, urls: Urls): () => Promise<string | null> {
  if (!s.web) {
    d.say("no web app yet (frontend/package.json does not exist): skipping it");
    return async () => null;
  }
  const url = urls.webUrl;
  const workspaces = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).workspaces ?? []) as string[];
  const args = ["run", "dev", ...(workspaces.includes("frontend") ? ["--workspace", "frontend"] : [])];
  d.say(`starting the web app on ${url} (npm ${args.join(" ")})`);
  const web = d.processes.start(
    "web",
    "npm",
    [...args, "--", "--host", "127.0.0.1", "--port", String(s.webPort), "--strictPort"],
    {
      cwd: workspaces.includes("frontend") ? ROOT : path.join(ROOT, "frontend"),
      env: { ...programEnv(), [CHILD_ENV.webRpcUrl]: urls.rpcUrl, [CHILD_ENV.webChainId]: String(CHAIN_ID) },
      verbose: s.verbose,
      onExit: (code) => d.say(`the web app exited (${code}); see .kaisar/devnet/logs/web.log`),
    },
  );
  return async () => {
    // Up when Vite listens (its first page load compiles on demand, which may take a while).
    const up = await d
      .until(`the web app listening on ${url}`, READY_MS, async () => {
        if (!d.processes.has("web")) return false;
        return (await portFree(s.webPort)) ? undefined : true;
      })
      .catch(() => false);
    if (up) return url;
    d.say(`the web app did not come up (see .kaisar/devnet/logs/web.log); everything else runs`);
    if (d.processes.has("web")) await d.processes.stop(web);
    return null;
  };
}
