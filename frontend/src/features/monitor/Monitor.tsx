/** Live monitoring: each node's state from the checkers' latest probes (refreshed every 3 s), next to past epochs' attested uptime. */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { getJson, useNow, useRuntime, useWallet } from "../../hooks/kaisar";
import { formatBps, formatDuration } from "../../lib/format";
import { useLatestMetrics } from "../marketplace/hooks";
import { useRentalsOf } from "../rentals/Rentals";

interface Probe {
  at: number;
  ok: boolean;
  latencyMs: number;
  mbps?: number;
  error?: string;
}
interface CheckerNode {
  nodeId: number;
  provider: string | null;
  status: "up" | "down" | "unknown";
  latest: Record<string, Probe | null>;
}

export default function Monitor() {
  const { checkerUrls } = useRuntime();
  const { address } = useWallet();
  const renter = useRentalsOf(address);
  const now = useNow(1000);
  const { epoch, metrics } = useLatestMetrics();
  const [all, setAll] = useState(false);
  const live = useQuery({
    queryKey: ["checkers", checkerUrls],
    enabled: checkerUrls.length > 0,
    refetchInterval: 3_000,
    queryFn: async () => {
      const answers = await Promise.all(
        checkerUrls.map((u) => getJson<{ nodes: CheckerNode[] }>(`${u}/nodes`).catch(() => undefined)),
      );
      // Per node, the freshest heartbeat across checkers.
      const byNode = new Map<number, CheckerNode & { checkers: number }>();
      for (const a of answers) {
        for (const n of a?.nodes ?? []) {
          const prev = byNode.get(n.nodeId);
          const at = n.latest.heartbeat?.at ?? 0;
          if (!prev || at > (prev.latest.heartbeat?.at ?? 0))
            byNode.set(n.nodeId, { ...n, checkers: (prev?.checkers ?? 0) + 1 });
          else prev.checkers++;
        }
      }
      return {
        reachable: answers.filter(Boolean).length,
        nodes: [...byNode.values()].sort((a, b) => a.nodeId - b.nodeId),
      };
    },
  });
  const mine = new Set<number>(
    (renter.data ?? []).filter((r) => r.rental.status === 1 || r.rental.status === 2).map((r) => r.rental.nodeId),
  );
  const nodes = (live.data?.nodes ?? []).filter(
    (n) => all || !address || mine.has(n.nodeId) || n.provider?.toLowerCase() === address.toLowerCase(),
  );
  return (
    <section>
      <h1>Live monitoring</h1>
      <p className="muted">
        {checkerUrls.length === 0
          ? "No checker API is configured for this network."
          : `${live.data?.reachable ?? "…"} of ${checkerUrls.length} checkers answering · refreshed every 3 s`}
        {epoch !== undefined && ` · attested uptime from epoch ${epoch}`}
      </p>
      <label className="check">
        <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> Every node (not only those
        you rent or provide)
      </label>
      <div className="table-wrap">
        <table data-testid="monitor">
          <thead>
            <tr>
              <th>Node</th>
              <th>State</th>
              <th>Latency</th>
              <th>Last heartbeat</th>
              <th>Bandwidth</th>
              <th>Attested uptime</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => {
              const hb = n.latest.heartbeat;
              const bw = n.latest.bandwidth;
              const m = metrics.get(n.nodeId);
              return (
                <tr key={n.nodeId}>
                  <td data-label="Node">#{n.nodeId}</td>
                  <td data-label="State">
                    <span className={`pill ${n.status}`}>{n.status}</span>
                  </td>
                  <td data-label="Latency">{hb ? `${hb.latencyMs} ms` : "—"}</td>
                  <td data-label="Last heartbeat">
                    {hb ? `${formatDuration(now - Math.floor(hb.at / 1000))} ago` : "—"}
                  </td>
                  <td data-label="Bandwidth">{bw?.mbps ? `${bw.mbps} Mbit/s` : "—"}</td>
                  <td data-label="Attested uptime">{m ? formatBps(m.uptimeBps) : "—"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {live.data && nodes.length === 0 && (
        <p className="muted">No node of yours is probed. Tick "Every node" to see them all.</p>
      )}
    </section>
  );
}
