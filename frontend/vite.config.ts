/// <reference types="vitest/config" />
/**
 * Vite for the web app. The `kaisar` plugin serves what the app reads at run time, from the files the
 * rest of the repository writes (never copies kept by hand):
 *   /local.json                   .kaisar/local.json (npm start: RPC, service URLs, demo accounts)
 *   /deployments/chain-<id>.json  deploy/exports/chain-<id>.json (addresses and ABIs)
 *   /templates/catalog.json       templates/catalog.json
 * KAISAR_LOCAL_JSON and KAISAR_EXPORTS_DIR point elsewhere (the benchmark's own chain). A build copies
 * the exports of agung and peaq and the catalog into dist/.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const root = path.resolve(import.meta.dirname, "..");
const localJson = () => path.resolve(root, process.env.KAISAR_LOCAL_JSON ?? ".kaisar/local.json");
const exportsDir = () => path.resolve(root, process.env.KAISAR_EXPORTS_DIR ?? "deploy/exports");
const catalog = path.join(root, "templates", "catalog.json");

function fileFor(url: string): string | undefined {
  const pathname = url.split("?")[0];
  if (pathname === "/local.json") return localJson();
  if (pathname === "/templates/catalog.json") return catalog;
  const m = /^\/deployments\/(chain-\d+\.json)$/.exec(pathname);
  return m ? path.join(exportsDir(), m[1]) : undefined;
}

function kaisar(): Plugin {
  const serve = (req: { url?: string }, res: import("node:http").ServerResponse, next: () => void) => {
    const file = req.url ? fileFor(req.url) : undefined;
    if (!file) return next();
    if (!existsSync(file)) {
      res.statusCode = 404;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ error: "not found", message: `${path.relative(root, file)} does not exist` }));
      return;
    }
    res.setHeader("content-type", "application/json");
    res.setHeader("cache-control", "no-store");
    res.end(readFileSync(file));
  };
  return {
    name: "kaisar",
    configureServer: (server) => void server.middlewares.use(serve),
    configurePreviewServer: (server) => void server.middlewares.use(serve),
    generateBundle() {
      this.emitFile({ type: "asset", fileName: "templates/catalog.json", source: readFileSync(catalog) });
      if (!existsSync(exportsDir())) return;
      for (const f of readdirSync(exportsDir())) {
        // Public networks only: a local chain's export is served live by dev/preview.
        if (/^chain-\d+\.json$/.test(f) && f !== "chain-31337.json") {
          this.emitFile({
            type: "asset",
            fileName: `deployments/${f}`,
            source: readFileSync(path.join(exportsDir(), f)),
          });
        }
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), kaisar()],
  build: { target: "es2022", chunkSizeWarningLimit: 800 },
  // npm test runs these beside solidity-coverage on a 2-core machine: allow for a loaded CPU.
  test: { include: ["test/**/*.test.ts"], environment: "node", testTimeout: 60_000 },
});
