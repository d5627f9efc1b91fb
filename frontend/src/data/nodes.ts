/** Nodes on chain: every node through KaisarLens.getNodesPacked pages, one node, the GPU classes. */
import { experimental_streamedQuery as streamedQuery, useQuery } from "@tanstack/react-query";
import { createPublicClient, fallback, http, type Chain, type PublicClient } from "viem";

import { kaisarLensAbi, nodeRegistryAbi } from "../contracts/generated";
import { useAddresses, useClient } from "../hooks/kaisar";
import { bytesToText } from "../lib/format";
import { queryKeys } from "./keys";
import { toRow, type NodeRow } from "./nodeRow";
import { decodePackedNodes } from "./packed";

/** Nodes per lens call (about 0.2 s of Hardhat's EVM each). */
export const PAGE_SIZE = 1000;
/** Pages requested at once: one executing while the next waits, so the node never idles on a round trip. */
const IN_FLIGHT = 2;

const pageClients = new Map<number, PublicClient>();
/**
 * A client of the chain's RPC without JSON-RPC batching, for the pages: the app's transport batches
 * calls made within a few milliseconds into one request, whose answer waits for the slowest call;
 * the pages must come back one by one, each as soon as it is ready.
 */
function pageClient(chain: Chain): PublicClient {
  let c = pageClients.get(chain.id);
  if (!c) {
    c = createPublicClient({ chain, transport: fallback(chain.rpcUrls.default.http.map((u) => http(u))) });
    pageClients.set(chain.id, c);
  }
  return c;
}

/** The marketplace's nodes: `rows` grows page by page until it holds all `total` (the node count). */
export interface NodeList {
  rows: NodeRow[];
  total: number;
}

/** Whether every node of the count is in. */
export const isComplete = (l: NodeList): boolean => l.total >= 0 && l.rows.length >= l.total;

/**
 * Every node, read PAGE_SIZE at a time from the lens's packed view, IN_FLIGHT pages requested at once.
 * The first load shows each page as it arrives; a refetch (every 15 s) keeps the old list until the
 * new one is whole.
 */
export function useNodes() {
  const client = useClient();
  const { KaisarLens, NodeRegistry } = useAddresses();
  return useQuery({
    queryKey: queryKeys.nodes(client.chain.id),
    refetchInterval: 15_000,
    queryFn: streamedQuery<NodeList, NodeList, readonly unknown[]>({
      refetchMode: "replace",
      initialValue: { rows: [], total: -1 },
      reducer: (acc, page) => ({ rows: page.rows.length ? acc.rows.concat(page.rows) : acc.rows, total: page.total }),
      streamFn: async function* () {
        const read = async (p: number) => {
          const firstId = 1 + p * PAGE_SIZE;
          const [tokens, packed] = await pageClient(client.chain).readContract({
            address: KaisarLens,
            abi: kaisarLensAbi,
            functionName: "getNodesPacked",
            args: [BigInt(firstId), BigInt(PAGE_SIZE)],
          });
          return decodePackedNodes(firstId, tokens, packed);
        };
        const inFlight: Promise<NodeRow[]>[] = [];
        const start = (p: number) => {
          const r = read(p);
          r.catch(() => {}); // awaited in order below; a page after a failed one is not
          inFlight.push(r);
        };
        // The first pages go out with the count (the lens clamps a page to the last node).
        for (let p = 0; p < IN_FLIGHT; p++) start(p);
        const total = Number(
          await client.readContract({ address: NodeRegistry, abi: nodeRegistryAbi, functionName: "nodeCount" }),
        );
        yield { rows: [], total };
        const pages = Math.ceil(total / PAGE_SIZE);
        for (let p = 0; p < pages; p++) {
          if (p + IN_FLIGHT < pages) start(p + IN_FLIGHT);
          // Rows past the count (nodes registered since it was read) wait for the next refetch.
          const rows = (await inFlight[p]).filter((n) => n.id <= total);
          yield { rows, total };
        }
      },
    }),
  });
}

/** One node (rent page). */
export function useNode(nodeId: number) {
  const client = useClient();
  const { KaisarLens } = useAddresses();
  return useQuery({
    queryKey: queryKeys.node(client.chain.id, nodeId),
    refetchInterval: 5_000,
    queryFn: async () => {
      const [v] = await client.readContract({
        address: KaisarLens,
        abi: kaisarLensAbi,
        functionName: "getNodes",
        args: [BigInt(nodeId), 1n],
      });
      // null, not undefined: a query's data may not be undefined (an unknown node is an answer).
      return v ? toRow(v) : null;
    },
  });
}

export interface GpuClassInfo {
  index: number;
  name: string;
  multiplierBps: number;
  active: boolean;
}

export function useGpuClasses() {
  const client = useClient();
  const { NodeRegistry } = useAddresses();
  return useQuery({
    queryKey: queryKeys.gpuClasses(client.chain.id),
    staleTime: 60_000,
    queryFn: async (): Promise<GpuClassInfo[]> => {
      const n = Number(
        await client.readContract({ address: NodeRegistry, abi: nodeRegistryAbi, functionName: "gpuClassCount" }),
      );
      return Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const c = await client.readContract({
            address: NodeRegistry,
            abi: nodeRegistryAbi,
            functionName: "getGpuClass",
            args: [BigInt(i)],
          });
          return { index: i, name: bytesToText(c.name), multiplierBps: Number(c.multiplierBps), active: c.active };
        }),
      );
    },
  });
}
