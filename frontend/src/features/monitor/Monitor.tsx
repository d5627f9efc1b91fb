/**
 * Live monitoring: each node's state from the checkers' latest probes (refreshed every 3 s), next to
 * its state on chain and past epochs' attested uptime. One sentence per node from lib/health, so a
 * jailed node never reads "up", an old heartbeat never reads as fresh, a failed probe shows no latency.
 */
import { useMemo, useState } from "react";

import { useNow, useRuntime, useWallet } from "../../hooks/kaisar";
import { formatBps, formatDuration } from "../../lib/format";
import { NOT_ATTESTED, formatMbps, latencyText, liveState, unavailableReason } from "../../lib/health";
import { jailsOf, useLiveNodes, usePenalties } from "../../data/health";
import { useLatestMetrics } from "../../data/keeper";
import { useNodes } from "../../data/nodes";
import { useRentalsOf } from "../../data/rentals";
import "../marketplace/health.css";

export default function Monitor() {
  const { checkerUrls } = useRuntime();
  const { address } = useWallet();
  const renter = useRentalsOf(address);
  const now = useNow(1000);
  const { epoch, metrics } = useLatestMetrics();
  const [all, setAll] = useState(false);
  const live = useLiveNodes();
  const chain = useNodes();
  const penalties = usePenalties();
  const jails = useMemo(() => jailsOf(penalties.data), [penalties.data]);
  const chainById = useMemo(() => new Map((chain.data?.rows ?? []).map((n) => [n.id, n])), [chain.data]);
  const mine = new Set<number>(
    (renter.data ?? []).filter((r) => r.rental.status === 1 || r.rental.status === 2).map((r) => r.rental.nodeId),
  );
  const nodes = [...(live.data?.nodes.values() ?? [])]
    .sort((a, b) => a.nodeId - b.nodeId)
    .filter((n) => all || !address || mine.has(n.nodeId) || n.provider?.toLowerCase() === address.toLowerCase());
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
              <th>On chain</th>
              <th>Checkers</th>
              <th>Latency</th>
              <th>Last heartbeat</th>
              <th>Bandwidth</th>
              <th>Attested uptime</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => {
              const hb = n.heartbeat;
              const bw = n.bandwidth;
              const m = metrics.get(n.nodeId);
              const state = liveState(n, now * 1000);
              const c = chainById.get(n.nodeId);
              const why = c ? unavailableReason(c, now, jails.get(n.nodeId)) : undefined;
              return (
                <tr key={n.nodeId} data-testid={`monitor-${n.nodeId}`}>
                  <td data-label="Node">
                    <a href={`#/node/${n.nodeId}`}>#{n.nodeId}</a>
                  </td>
                  <td data-label="On chain" data-testid="monitor-chain">
                    {c ? (why ?? "takes rentals") : "…"}
                  </td>
                  <td data-label="Checkers" data-testid="monitor-state">
                    <span className={`pill ${state.state}`}>{state.text}</span>
                  </td>
                  <td data-label="Latency" data-testid="monitor-latency">
                    {latencyText(hb)}
                  </td>
                  <td data-label="Last heartbeat">
                    {hb ? `${formatDuration(now - Math.floor(hb.at / 1000))} ago${hb.ok ? "" : " (failed)"}` : "—"}
                  </td>
                  <td data-label="Bandwidth">{bw?.ok && bw.mbps ? formatMbps(bw.mbps) : "—"}</td>
                  <td data-label="Attested uptime">{m ? formatBps(m.uptimeBps) : NOT_ATTESTED}</td>
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
