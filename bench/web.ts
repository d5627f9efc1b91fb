/**
 * `npm run bench:web`: the web app's two figures, written to bench/web.json.
 *
 *   initialJsGzipKB   gzip (level 9) size of the JavaScript the first page load fetches: the entry
 *                     script and its modulepreloads in the production build's index.html (pages other
 *                     than the marketplace are separate chunks loaded when visited).
 *   marketplace10kMs  in headless Chromium, from navigation start until the marketplace says
 *                     "10,000 nodes" and shows its first row, on a local chain holding 10,000 nodes
 *                     (median of 3 loads, each in a fresh browser context: no HTTP or query cache).
 *
 * The chain is the benchmark's own: a Hardhat node on KAISAR_BENCH_RPC_PORT (default 9645), the
 * Ignition deployment under its own deployment id (npm start's journal and export are untouched), and
 * 10,000 nodes registered by one unlocked account: 10,000 registerNode transactions with explicit
 * nonces and gas sent in JSON-RPC batches of 150 while automine is off, each batch mined into one block
 * with evm_mine; the account stakes what the listings need, so every node accepts rentals. The app is
 * the production build served by `vite preview`, reading this chain's addresses from a generated
 * export in a temporary folder.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";

import { Interface, parseUnits, encodeBytes32String } from "ethers";
import { chromium } from "playwright-core";

import { CHROMIUM, CHROMIUM_ARGS } from "../e2e/web/browser";

const ROOT = path.join(__dirname, "..");
const PORT = Number(process.env.KAISAR_BENCH_RPC_PORT ?? 9645);
const WEB_PORT = Number(process.env.KAISAR_BENCH_WEB_PORT ?? 9646);
const RPC = `http://127.0.0.1:${PORT}`;
const NODES = Number(process.env.KAISAR_BENCH_NODES ?? 10_000);
const DEPLOYMENT_ID = "bench-web";
const children: ChildProcess[] = [];

const artifact = (p: string) => JSON.parse(readFileSync(path.join(ROOT, "artifacts", "contracts", p), "utf8"));

let rpcId = 0;
async function rpc(method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(RPC, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function rpcBatch(calls: { method: string; params: unknown[] }[]): Promise<void> {
  const res = await fetch(RPC, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(calls.map((c) => ({ jsonrpc: "2.0", id: ++rpcId, ...c }))),
  });
  const body = (await res.json()) as { error?: { message: string } }[];
  const failed = body.find((b) => b.error);
  if (failed) throw new Error(failed.error!.message);
}

async function waitFor(url: string, ms: number, init?: RequestInit): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url, init)).ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`${url} did not answer within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): ChildProcess {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: "ignore", detached: true });
  children.push(child);
  return child;
}

function stopAll() {
  for (const c of children) {
    try {
      process.kill(-c.pid!, "SIGTERM");
    } catch {
      // gone
    }
  }
}

async function send(from: string, to: string, data: string, nonce: number) {
  return {
    method: "eth_sendTransaction",
    params: [{ from, to, data, gas: "0x7a120", nonce: `0x${nonce.toString(16)}` }],
  };
}

async function main() {
  console.log("[bench:web] building the web app");
  const build = spawnSync("npm", ["run", "build", "--workspace", "frontend"], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) throw new Error("the build failed");
  const dist = path.join(ROOT, "frontend", "dist");
  const html = readFileSync(path.join(dist, "index.html"), "utf8");
  const initial = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="([^"]+\.js)"/g)].map(
    (m) => m[1],
  );
  const bytes = initial.reduce((s, f) => s + gzipSync(readFileSync(path.join(dist, f)), { level: 9 }).length, 0);
  const initialJsGzipKB = Math.round((bytes / 1024) * 10) / 10;
  console.log(`[bench:web] initial JS: ${initial.length} files, ${initialJsGzipKB} KB gzip`);

  console.log(`[bench:web] starting a Hardhat node on ${RPC}`);
  start(process.execPath, [require.resolve("hardhat/internal/cli/cli"), "node", "--port", String(PORT)]);
  await waitFor(RPC, 60_000, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
  });
  const deployDir = path.join(ROOT, "deploy", "deployments", DEPLOYMENT_ID);
  rmSync(deployDir, { recursive: true, force: true });
  const deploy = spawnSync(
    process.execPath,
    [
      require.resolve("hardhat/internal/cli/cli"),
      "ignition",
      "deploy",
      "deploy/modules/Kaisar.ts",
      "--network",
      "localhost",
      "--deployment-id",
      DEPLOYMENT_ID,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, LOCAL_RPC_URL: RPC, KAISAR_PARAMETERS: "local", HARDHAT_IGNITION_CONFIRM_RESET: "true" },
      stdio: "ignore",
    },
  );
  if (deploy.status !== 0) throw new Error("the deployment failed");
  const deployed = JSON.parse(readFileSync(path.join(deployDir, "deployed_addresses.json"), "utf8")) as Record<
    string,
    string
  >;
  const address = Object.fromEntries(Object.entries(deployed).map(([k, v]) => [k.slice(k.indexOf("#") + 1), v]));

  const [from] = (await rpc("eth_accounts")) as string[];
  const registry = new Interface(artifact("registry/NodeRegistry.sol/NodeRegistry.json").abi);
  const token = new Interface(artifact("token/KaiToken.sol/KaiToken.json").abi);
  const t0 = Date.now();
  console.log(`[bench:web] registering ${NODES} nodes`);
  await rpc("evm_setAutomine", [false]);
  let nonce = Number(BigInt((await rpc("eth_getTransactionCount", [from, "latest"])) as string));
  const stake = parseUnits(String(1_000 * NODES), 18); // 1 GPU of the 0.7x class per node, with room
  const calls = [
    await send(from, address.KaiToken, token.encodeFunctionData("approve", [address.NodeRegistry, stake]), nonce++),
    await send(from, address.NodeRegistry, registry.encodeFunctionData("stake", [stake]), nonce++),
  ];
  const regions = ["eu-west", "eu-north", "us-east", "us-west", "ap-south"];
  for (let i = 0; i < NODES; i++) {
    const spec = {
      gpuClass: 4,
      gpuCount: 1,
      vramGiB: 24,
      cpuCores: 8,
      ramGiB: 64,
      diskGiB: 500,
      bandwidthMbps: 1000,
      region: encodeBytes32String(regions[i % regions.length]).slice(0, 18),
    };
    const price = parseUnits(String(0.2 + (i % 50) / 100), 18);
    const data = registry.encodeFunctionData("registerNode", [
      spec,
      `http://10.0.${i >> 8}.${i & 255}:8550`,
      [address.KaiToken],
      [price],
    ]);
    calls.push(await send(from, address.NodeRegistry, data, nonce++));
  }
  // A block's worth at a time: send 150 transactions, mine them (the mempool stays small).
  for (let i = 0; i < calls.length; i += 150) {
    await rpcBatch(calls.slice(i, i + 150));
    await rpc("evm_mine");
  }
  const pending = (await rpc("eth_getBlockByNumber", ["pending", false])) as { transactions: string[] } | null;
  if (pending && pending.transactions.length > 0) await rpc("evm_mine");
  await rpc("evm_setAutomine", [true]);
  console.log(`[bench:web] ${NODES} nodes registered in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const tmp = mkdtempSync(path.join(os.tmpdir(), "kaisar-bench-web-"));
  mkdirSync(path.join(tmp, "exports"));
  writeFileSync(
    path.join(tmp, "local.json"),
    JSON.stringify({ rpcUrl: RPC, chainId: 31337, checkerUrls: [], accounts: [] }),
  );
  writeFileSync(
    path.join(tmp, "exports", "chain-31337.json"),
    JSON.stringify({
      generated: "by bench/web.ts from the Ignition deployment " + DEPLOYMENT_ID,
      chainId: 31337,
      network: "localhost",
      contracts: Object.fromEntries(Object.entries(address).map(([k, v]) => [k, { address: v }])),
    }),
  );
  const web = `http://127.0.0.1:${WEB_PORT}`;
  start(
    "npx",
    ["vite", "preview", "--host", "127.0.0.1", "--port", String(WEB_PORT), "--strictPort"],
    {
      KAISAR_LOCAL_JSON: path.join(tmp, "local.json"),
      KAISAR_EXPORTS_DIR: path.join(tmp, "exports"),
    },
    path.join(ROOT, "frontend"),
  );
  await waitFor(web, 60_000);

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const times: number[] = [];
  const expected = `${NODES.toLocaleString("en-US")} nodes`;
  for (let run = 0; run < 3; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${web}/#/`);
    await page.waitForFunction(
      (text) =>
        document.querySelector('[data-testid="node-count"]')?.textContent === text &&
        !!document.querySelector('[data-testid="node-row"]'),
      expected,
      { timeout: 120_000, polling: 20 },
    );
    times.push(Math.round(await page.evaluate(() => performance.now())));
    if (run === 0) {
      mkdirSync(path.join(ROOT, "e2e", "artifacts"), { recursive: true });
      await page.screenshot({ path: path.join(ROOT, "e2e", "artifacts", "marketplace-10k.png") });
    }
    await context.close();
  }
  await browser.close();
  const marketplace10kMs = times.sort((a, b) => a - b)[1];
  console.log(`[bench:web] marketplace with ${NODES} nodes: ${times.join(", ")} ms (median ${marketplace10kMs} ms)`);
  const result = { initialJsGzipKB, marketplace10kMs, nodes: NODES, runsMs: times, initialJsFiles: initial.length };
  writeFileSync(path.join(ROOT, "bench", "web.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(
    `initial JS ${initialJsGzipKB} KB gzip (goal ≤ 250) · marketplace with 10,000 nodes ${marketplace10kMs} ms (goal ≤ 2000)`,
  );
  rmSync(tmp, { recursive: true, force: true });
  rmSync(deployDir, { recursive: true, force: true });
}

main()
  .catch((e) => {
    console.error(`[bench:web] ${(e as Error).message}`, (e as { cause?: unknown }).cause ?? "");
    process.exitCode = 1;
  })
  .finally(stopAll);
