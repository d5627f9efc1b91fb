#!/usr/bin/env node
/**
 * `npm start`: starts a local Kaisar chain and deploys the contracts to it.
 *
 * Today: a Hardhat node on 127.0.0.1 (chain id 31337, cancun) and the Ignition deployment of every
 * contract with deploy/parameters/local.json. Provider agents, checkers, the keeper and the web app
 * join here as their issues land. Ctrl-C stops everything and frees the port.
 *
 * Environment: KAISAR_RPC_PORT (default 8545).
 */
const { spawn, spawnSync } = require("node:child_process");
const net = require("node:net");
const { readFileSync } = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const PORT = Number(process.env.KAISAR_RPC_PORT ?? 8545);
const RPC_URL = `http://127.0.0.1:${PORT}`;
const children = [];

function log(msg) {
  console.log(`[start] ${msg}`);
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.once("listening", () => server.close(() => resolve(true)));
    server.listen(port, "127.0.0.1");
  });
}

async function waitForRpc(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the local chain did not answer on ${url} within ${timeoutMs / 1000} s`);
}

function stopAll(code) {
  for (const child of children) {
    if (child.exitCode !== null) continue;
    try {
      process.kill(-child.pid, "SIGTERM"); // the whole group
    } catch {
      child.kill("SIGTERM");
    }
  }
  process.exitCode = code;
}

async function main() {
  if (!(await portFree(PORT))) {
    console.error(
      `[start] port ${PORT} is in use: stop whatever listens there, or set KAISAR_RPC_PORT to a free port.`,
    );
    process.exit(1);
  }
  log(`starting the local chain on ${RPC_URL}`);
  // Its own process group, so that stopping reaches npx's child (the node itself) too.
  const chain = spawn("npx", ["hardhat", "node", "--hostname", "127.0.0.1", "--port", String(PORT)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  children.push(chain);
  // Hardhat prints every RPC call; keep only what matters.
  let quiet = false;
  chain.stdout.on("data", (chunk) => {
    if (!quiet && /Started HTTP/.test(String(chunk))) quiet = true;
  });
  chain.stderr.on("data", (chunk) => process.stderr.write(`[chain] ${chunk}`));
  chain.on("exit", (code) => {
    if (code !== null && code !== 0) log(`the chain exited with ${code}`);
    stopAll(code ?? 0);
  });
  await waitForRpc(RPC_URL, 60_000);

  log("deploying the contracts (deploy/modules/Kaisar.ts, deploy/parameters/local.json)");
  const deploy = spawnSync(
    "npx",
    ["hardhat", "ignition", "deploy", "deploy/modules/Kaisar.ts", "--network", "localhost", "--reset"],
    {
      cwd: ROOT,
      env: { ...process.env, LOCAL_RPC_URL: RPC_URL, HARDHAT_IGNITION_CONFIRM_RESET: "true" },
      encoding: "utf8",
      input: "y\n",
    },
  );
  if (deploy.status !== 0) {
    console.error(deploy.stdout, deploy.stderr);
    stopAll(1);
    return;
  }
  const addresses = JSON.parse(
    readFileSync(path.join(ROOT, "deploy/deployments/chain-31337/deployed_addresses.json"), "utf8"),
  );

  console.log("\nKaisar is running locally.\n");
  console.log(`  RPC URL    ${RPC_URL}  (chain id 31337)`);
  for (const [name, address] of Object.entries(addresses)) console.log(`  ${name.padEnd(24)} ${address}`);
  console.log(
    "\n  Demo accounts: Hardhat's well-known test accounts (LOCAL-ONLY TEST KEYS, never use them elsewhere).",
  );
  console.log("  Account #0 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 is the deployer, treasury and guardian;");
  console.log(
    "  its private key 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 imports into MetaMask.",
  );
  console.log("\n  Press Ctrl-C to stop.\n");
}

process.on("SIGINT", () => {
  log("stopping");
  stopAll(0);
});
process.on("SIGTERM", () => stopAll(0));

main().catch((e) => {
  console.error(`[start] ${e.message}`);
  stopAll(1);
});
