/** Epoch explorer: each report with root, signers, totals and per-node scores (keeper API), and a node's uptime over epochs. */
import { useQueries } from "@tanstack/react-query";
import { useState } from "react";

import { getJson, useRuntime } from "../../hooks/kaisar";
import { formatAmount, formatBps, shortAddress, shortHash } from "../../lib/format";
import { useKeeperEpoch, useKeeperEpochs, type KeeperEpoch } from "../marketplace/hooks";

const KAI = { symbol: "KAI", decimals: 18 };

function UptimeChart({ nodeId, epochs }: { nodeId: number; epochs: number[] }) {
  const { keeperUrl } = useRuntime();
  const results = useQueries({
    queries: epochs.map((e) => ({
      queryKey: ["keeper", "epoch", keeperUrl, e],
      staleTime: Infinity,
      queryFn: () => getJson<KeeperEpoch>(`${keeperUrl}/epochs/${e}`),
    })),
  });
  const points = epochs
    .map((e, i) => {
      const leaf = results[i].data?.leaves?.find((l) => l.kind === 0 && Number(l.id) === nodeId);
      return { epoch: e, uptime: leaf?.metrics ? Number(leaf.metrics.uptimeBps) : undefined };
    })
    .reverse();
  const w = 24;
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${points.length * w + 40} 120`}
      role="img"
      aria-label={`Uptime of node ${nodeId} over epochs`}
    >
      <text x="0" y="12" className="axis">
        100%
      </text>
      <text x="0" y="112" className="axis">
        0%
      </text>
      {points.map((p, i) => {
        const h = p.uptime === undefined ? 0 : (p.uptime / 10_000) * 100;
        return (
          <g key={p.epoch}>
            <rect
              x={40 + i * w}
              y={108 - h}
              width={w - 4}
              height={h}
              className={p.uptime !== undefined && p.uptime < 9_900 ? "bar low" : "bar"}
            >
              <title>{`epoch ${p.epoch}: ${p.uptime === undefined ? "not in the report" : formatBps(p.uptime)}`}</title>
            </rect>
          </g>
        );
      })}
    </svg>
  );
}

export default function Epochs() {
  const { keeperUrl } = useRuntime();
  const epochs = useKeeperEpochs();
  const [selected, setSelected] = useState<number>();
  const [nodeId, setNodeId] = useState(1);
  const current = selected ?? epochs.data?.[0]?.epoch;
  const detail = useKeeperEpoch(current);
  if (!keeperUrl) return <p>No keeper API is configured for this network.</p>;
  const r = detail.data;
  return (
    <section>
      <h1>Epochs</h1>
      {epochs.data?.length === 0 && <p className="muted">No report is on chain yet.</p>}
      <div className="split">
        <ul className="epoch-list" data-testid="epochs">
          {epochs.data?.map((e) => (
            <li key={e.epoch}>
              <button className={e.epoch === current ? "active ghost" : "ghost"} onClick={() => setSelected(e.epoch)}>
                Epoch {e.epoch} · {e.signers.length} signers
              </button>
            </li>
          ))}
        </ul>
        {r && (
          <div className="card grow">
            <h2>Epoch {r.epoch}</h2>
            <dl>
              <dt>Root</dt>
              <dd className="mono" title={r.root}>
                {shortHash(r.root)}
              </dd>
              <dt>Signers</dt>
              <dd>{r.signers.map(shortAddress).join(", ")}</dd>
              <dt>Nodes</dt>
              <dd>{r.report.nodeCount}</dd>
              <dt>Total reward</dt>
              <dd>{formatAmount(BigInt(r.report.totalReward ?? 0), KAI)}</dd>
              <dt>Capacity / delivery points</dt>
              <dd>
                {r.report.totalCapacityPoints} / {r.report.totalDeliveryPoints}
              </dd>
              {r.txHash && (
                <>
                  <dt>Submitted in</dt>
                  <dd className="mono">{shortHash(r.txHash)}</dd>
                </>
              )}
            </dl>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Leaf</th>
                    <th>Account</th>
                    <th>Uptime</th>
                    <th>Bandwidth</th>
                    <th>Score</th>
                    <th>GPU-s delivered</th>
                    <th>Reward</th>
                  </tr>
                </thead>
                <tbody>
                  {r.leaves?.map((l) => (
                    <tr key={l.index}>
                      <td>{l.kind === 0 ? `node #${l.id}` : "checker"}</td>
                      <td>{shortAddress(l.account)}</td>
                      <td>{l.metrics ? formatBps(Number(l.metrics.uptimeBps)) : "—"}</td>
                      <td>{l.metrics ? `${l.metrics.bandwidthMbps} Mbit/s` : "—"}</td>
                      <td>{l.metrics?.hardwareScore ?? "—"}</td>
                      <td>{l.metrics?.deliveredGpuSeconds ?? "—"}</td>
                      <td>
                        {formatAmount(
                          BigInt(l.capacityReward) + BigInt(l.deliveryReward) + BigInt(l.checkerReward),
                          KAI,
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        )}
      </div>
      <h2>
        Uptime of node{" "}
        <input
          type="number"
          min={1}
          value={nodeId}
          onChange={(e) => setNodeId(Number(e.target.value))}
          style={{ width: "6em" }}
        />{" "}
        over the last epochs
      </h2>
      {epochs.data && <UptimeChart nodeId={nodeId} epochs={epochs.data.slice(0, 20).map((e) => e.epoch)} />}
    </section>
  );
}
