/**
 * Node discovery for checkers: the nodes to probe, read from the NodeRegistry through KaisarLens
 * (paged), with the agent's URL from the metadata URI and the GPU class by name.
 */
import { getAddress } from "ethers";

import type { CommonConfig } from "../config/load";
import type { CheckerNode } from "../config/nodes";
import { checkChainId, connectContracts, rpcProvider, type KaisarContracts } from "./contracts";
import { declaredSpec, gpuClassNames } from "./rentals";

/** NodeStatus values checkers probe: Active, and Paused (running rentals still need their uptime). */
const PROBED_STATUS = new Set([1n, 2n]);

export interface DiscoverOptions {
  /** Nodes per KaisarLens.getNodes call (default 200). */
  pageSize?: number;
  /** Told of nodes left out because their metadata URI is not an http(s) URL. */
  onSkip?: (nodeId: number, metadataURI: string) => void;
}

/**
 * The nodes checkers probe: every Active or Paused node of the NodeRegistry whose metadata URI is an
 * http(s) URL, as `CheckerNode`s (id, url, provider, declared spec with the GPU class's name).
 */
export async function discoverNodes(contracts: KaisarContracts, options: DiscoverOptions = {}): Promise<CheckerNode[]> {
  const pageSize = options.pageSize ?? 200;
  const count = Number(await contracts.NodeRegistry.nodeCount());
  const className = gpuClassNames(contracts);
  const out: CheckerNode[] = [];
  for (let first = 1; first <= count; first += pageSize) {
    const page = await contracts.KaisarLens.getNodes(first, pageSize);
    for (const view of page) {
      const n = view.node;
      if (!PROBED_STATUS.has(n.status)) continue;
      const id = Number(view.nodeId);
      let url: URL | undefined;
      try {
        url = new URL(n.metadataURI);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
        options.onSkip?.(id, n.metadataURI);
        continue;
      }
      out.push({
        id,
        url: n.metadataURI,
        provider: getAddress(n.provider),
        spec: await declaredSpec(n, className),
      });
    }
  }
  return out;
}

/**
 * A read-only node source on `config`'s chain for `kaisar checker run`: `discover()` checks the chain
 * id (once) and returns the nodes to probe; `close()` drops the connection.
 */
export function chainNodeSource(
  config: CommonConfig,
  options: DiscoverOptions = {},
): { discover(): Promise<CheckerNode[]>; close(): void } {
  const provider = rpcProvider(config.rpcUrl, config.chainId);
  const contracts = connectContracts(config.contracts, provider);
  let checked = false;
  return {
    async discover() {
      if (!checked) {
        await checkChainId(provider, config.chainId, config.rpcUrl);
        checked = true;
      }
      return discoverNodes(contracts, options);
    },
    close: () => provider.destroy(),
  };
}
