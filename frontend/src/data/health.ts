/**
 * Live health for the renter's pages: the checkers' probes (GET /nodes on every checker API, the
 * freshest heartbeat per node, and for a node seen down when its outage began) and the slashes that
 * jailed nodes (SlaEnforcer events). Sentences come from lib/health.
 */
import { useQuery } from "@tanstack/react-query";
import type { Address } from "viem";

import { slaEnforcerAbi } from "../contracts/generated";
import { getJson, useAddresses, useClient, useRuntime } from "../hooks/kaisar";
import { outageStart, type Heartbeat, type JailInfo, type LiveView } from "../lib/health";
import { queryKeys } from "./keys";

interface Probe extends Heartbeat {
  mbps?: number;
}

/** One node as a checker's GET /nodes lists it. */
interface CheckerNode {
  nodeId: number;
  provider: string | null;
  latest: Record<string, Probe | null>;
}

export interface LiveNode extends LiveView {
  nodeId: number;
  provider: string | null;
  /** Checkers that list the node. */
  checkers: number;
  bandwidth: Probe | null;
}

/** Every checker's view merged: per node the freshest heartbeat; for a node down, when it went down. */
export function useLiveNodes() {
  const { checkerUrls } = useRuntime();
  return useQuery({
    queryKey: queryKeys.checkers(checkerUrls),
    enabled: checkerUrls.length > 0,
    refetchInterval: 3_000,
    queryFn: async () => {
      const answers = await Promise.all(
        checkerUrls.map((u) => getJson<{ nodes: CheckerNode[] }>(`${u}/nodes`).catch(() => undefined)),
      );
      const byNode = new Map<number, LiveNode & { from: string }>();
      answers.forEach((a, i) => {
        for (const n of a?.nodes ?? []) {
          const prev = byNode.get(n.nodeId);
          const hb = n.latest.heartbeat ?? null;
          if (!prev || (hb?.at ?? 0) > (prev.heartbeat?.at ?? 0)) {
            byNode.set(n.nodeId, {
              nodeId: n.nodeId,
              provider: n.provider,
              heartbeat: hb,
              bandwidth: n.latest.bandwidth ?? prev?.bandwidth ?? null,
              checkers: (prev?.checkers ?? 0) + 1,
              from: checkerUrls[i],
            });
          } else prev.checkers++;
        }
      });
      // A node seen down: when did the outage begin? (its heartbeats of the epoch, from the checker that saw it)
      await Promise.all(
        [...byNode.values()]
          .filter((n) => n.heartbeat && !n.heartbeat.ok)
          .map(async (n) => {
            const r = await getJson<{ samples: { at: number; ok: boolean }[] }>(
              `${n.from}/nodes/${n.nodeId}/samples?kind=heartbeat&limit=1000`,
            ).catch(() => undefined);
            const o = outageStart(r?.samples ?? []);
            n.downSince = o.since ?? n.heartbeat!.at;
            n.downSinceAtLeast = o.atLeast;
          }),
      );
      return {
        reachable: answers.filter(Boolean).length,
        nodes: new Map<number, LiveNode>([...byNode].map(([id, { from: _from, ...n }]) => [id, n])),
      };
    },
  });
}

export interface Penalty {
  nodeId: number;
  kind: "downtime" | "hardware fraud";
  /** The (last) epoch the slash is for. */
  epoch: number;
  slashed: bigint;
  rentalId?: bigint;
  txHash: string;
  blockNumber: bigint;
}

/** Downtime and hardware-fraud slashes (each jails the node), oldest first; for one node or all. */
export function usePenalties(nodeId?: number) {
  const client = useClient();
  const { SlaEnforcer } = useAddresses() as { SlaEnforcer?: Address };
  return useQuery({
    queryKey: queryKeys.penalties(client.chain.id, SlaEnforcer, nodeId),
    enabled: !!SlaEnforcer,
    refetchInterval: 15_000,
    queryFn: async (): Promise<Penalty[]> => {
      const args = nodeId === undefined ? undefined : { nodeId: BigInt(nodeId) };
      const [down, fraud] = await Promise.all([
        client.getContractEvents({
          address: SlaEnforcer!,
          abi: slaEnforcerAbi,
          eventName: "SlashDowntime",
          args,
          fromBlock: 0n,
        }),
        client.getContractEvents({
          address: SlaEnforcer!,
          abi: slaEnforcerAbi,
          eventName: "SlashHardwareFraud",
          args,
          fromBlock: 0n,
        }),
      ]);
      const out: Penalty[] = [
        ...down.map((e) => ({
          nodeId: Number(e.args.nodeId),
          kind: "downtime" as const,
          epoch: Number(e.args.lastEpoch),
          slashed: e.args.slashed ?? 0n,
          rentalId: e.args.rentalId,
          txHash: e.transactionHash,
          blockNumber: e.blockNumber,
        })),
        ...fraud.map((e) => ({
          nodeId: Number(e.args.nodeId),
          kind: "hardware fraud" as const,
          epoch: Number(e.args.epoch),
          slashed: e.args.slashed ?? 0n,
          txHash: e.transactionHash,
          blockNumber: e.blockNumber,
        })),
      ];
      return out.sort((a, b) => Number(a.blockNumber - b.blockNumber));
    },
  });
}

/** The latest slash of each node: what jailed it (a jailed node's status is on chain; this says why). */
export function jailsOf(penalties: Penalty[] | undefined): Map<number, JailInfo> {
  const m = new Map<number, JailInfo>();
  for (const p of penalties ?? []) m.set(p.nodeId, { epoch: p.epoch, reason: p.kind });
  return m;
}
