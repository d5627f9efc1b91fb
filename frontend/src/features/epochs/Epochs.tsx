/**
 * Epoch explorer: each report with root, signers, totals, its reward split (chart), per-node scores
 * (keeper API), the SLA credits and slashes of the epoch (SlaEnforcer events), and a node's uptime
 * over epochs (chart).
 */
import { useQueries } from "@tanstack/react-query";
import { useMemo, useState } from "react";

import { Chart } from "../../components/chart/Chart";
import { getJson, useRuntime } from "../../hooks/kaisar";
import { tokenOf, useTokens } from "../../data/tokens";
import { formatAmount, formatBps, shortAddress, shortHash } from "../../lib/format";
import { useKeeperEpoch, useKeeperEpochs, type KeeperEpoch, type KeeperLeaf } from "../../data/keeper";
import { useSlaEvents, type SlaCredit, type SlaSlash } from "../../data/sla";

import "./epochs.css";

const KAI = { symbol: "KAI", decimals: 18 };
const toKai = (v: bigint) => Number(v) / 1e18;

function UptimeChart({ nodeId, epochs }: { nodeId: number; epochs: number[] }) {
  const { keeperUrl } = useRuntime();
  const results = useQueries({
    queries: epochs.map((e) => ({
      queryKey: ["keeper", "epoch", keeperUrl, e],
      staleTime: Infinity,
      queryFn: () => getJson<KeeperEpoch>(`${keeperUrl}/epochs/${e}`),
    })),
  });
  const uptimes = results.map((r) => {
    const leaf = r.data?.leaves?.find((l) => l.kind === 0 && Number(l.id) === nodeId);
    return leaf?.metrics ? Number(leaf.metrics.uptimeBps) / 100 : null;
  });
  const key = uptimes.join(",");
  const { x, series } = useMemo(
    () => ({
      x: [...epochs].reverse(),
      series: [{ label: "uptime (%)", values: [...uptimes].reverse(), bars: true }],
    }),
    [epochs.join(","), key],
  );
  return <Chart title={`Uptime of node ${nodeId} per epoch (%)`} x={x} series={series} xLabel="epoch" />;
}

/** The epoch's rewards by kind: capacity (GPUs listed), delivery (GPU-seconds rented), checkers. */
function RewardSplit({ epoch, leaves }: { epoch: number; leaves: KeeperLeaf[] }) {
  const sums = useMemo(() => {
    const sum = (k: "capacityReward" | "deliveryReward" | "checkerReward") =>
      leaves.reduce((s, l) => s + BigInt(l[k]), 0n);
    return [sum("capacityReward"), sum("deliveryReward"), sum("checkerReward")];
  }, [leaves]);
  const x = useMemo(() => [0, 1, 2], []);
  const series = useMemo(() => [{ label: "KAI", values: sums.map(toKai), bars: true }], [sums]);
  const xLabels = useMemo(() => ["capacity", "delivery", "checkers"], []);
  return (
    <>
      <Chart title={`Reward split of epoch ${epoch} (KAI)`} x={x} series={series} xLabels={xLabels} />
      <p className="small muted" data-testid="reward-split">
        Capacity {formatAmount(sums[0], KAI)} · delivery {formatAmount(sums[1], KAI)} · checkers{" "}
        {formatAmount(sums[2], KAI)}
      </p>
    </>
  );
}

function EpochSla({ credits, slashes }: { credits: SlaCredit[]; slashes: SlaSlash[] }) {
  const tokens = useTokens();
  return (
    <>
      <h3>SLA credits</h3>
      {credits.length === 0 ? (
        <p className="muted" data-testid="epoch-credits">
          None in this epoch.
        </p>
      ) : (
        <div className="table-wrap">
          <table data-testid="epoch-credits">
            <thead>
              <tr>
                <th>Rental</th>
                <th>Uptime</th>
                <th>Credit</th>
                <th>From earnings</th>
                <th title="Owed from the provider's stake (capped per epoch) and paid after the epoch's slash window">
                  Due from stake
                </th>
              </tr>
            </thead>
            <tbody>
              {credits.map((c) => (
                <tr key={`${c.tx}-${c.rentalId}`} data-testid="epoch-credit">
                  <td>#{String(c.rentalId)}</td>
                  <td>{formatBps(c.uptimeBps)}</td>
                  <td>{formatAmount(c.credit, tokenOf(tokens.data, c.token))}</td>
                  <td>{formatAmount(c.fromEarnings, tokenOf(tokens.data, c.token))}</td>
                  <td>{formatAmount(c.kaiFromStake, KAI)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>Slashes</h3>
      {slashes.length === 0 ? (
        <p className="muted" data-testid="epoch-slashes">
          None in this epoch.
        </p>
      ) : (
        <div className="table-wrap">
          <table data-testid="epoch-slashes">
            <thead>
              <tr>
                <th>Node</th>
                <th>Why</th>
                <th>Slashed</th>
                <th>Evidence</th>
              </tr>
            </thead>
            <tbody>
              {slashes.map((s) => (
                <tr key={`${s.tx}-${s.nodeId}`} data-testid="epoch-slash">
                  <td>#{s.nodeId}</td>
                  <td>
                    {s.reason === "downtime"
                      ? `downtime in epochs ${s.firstEpoch}–${s.epoch}${s.rentalId ? ` (rental #${s.rentalId})` : ""}, jailed`
                      : "hardware fraud, jailed"}
                  </td>
                  <td>{formatAmount(s.slashed, KAI)}</td>
                  <td className="mono small" title={s.evidence}>
                    {shortHash(s.evidence)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export default function Epochs() {
  const { keeperUrl } = useRuntime();
  const epochs = useKeeperEpochs();
  const sla = useSlaEvents();
  const [selected, setSelected] = useState<number>();
  const [nodeId, setNodeId] = useState(1);
  const current = selected ?? epochs.data?.[0]?.epoch;
  const detail = useKeeperEpoch(current);
  const recent = useMemo(() => epochs.data?.slice(0, 20).map((e) => e.epoch), [epochs.data]);
  if (!keeperUrl) return <p>No keeper API is configured for this network.</p>;
  const r = detail.data;
  const creditsOf = (e: number) => sla.data?.credits.filter((c) => c.epoch === e) ?? [];
  const slashesOf = (e: number) => sla.data?.slashes.filter((s) => s.epoch === e) ?? [];
  return (
    <section className="epochs">
      <h1>Epochs</h1>
      {epochs.data?.length === 0 && <p className="muted">No report is on chain yet.</p>}
      <div className="split">
        <ul className="epoch-list" data-testid="epochs">
          {epochs.data?.map((e) => {
            const c = creditsOf(e.epoch).length;
            const s = slashesOf(e.epoch).length;
            return (
              <li key={e.epoch}>
                <button
                  className={e.epoch === current ? "active ghost" : "ghost"}
                  onClick={() => setSelected(e.epoch)}
                  data-testid="epoch"
                >
                  Epoch {e.epoch} · {plural(e.signers.length, "signer")}
                  {c > 0 && <span className="tag credit"> · {plural(c, "credit")}</span>}
                  {s > 0 && <span className="tag slash"> · {plural(s, "slash")}</span>}
                </button>
              </li>
            );
          })}
        </ul>
        {r && (
          <div className="card grow" data-testid="epoch-detail">
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
            {r.leaves && <RewardSplit epoch={r.epoch} leaves={r.leaves} />}
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
            {sla.data && <EpochSla credits={creditsOf(r.epoch)} slashes={slashesOf(r.epoch)} />}
          </div>
        )}
      </div>
      <h2 className="uptime-heading">
        Uptime of node{" "}
        <input
          type="number"
          min={1}
          value={nodeId}
          onChange={(e) => setNodeId(Number(e.target.value))}
          aria-label="Node id"
        />{" "}
        over the last epochs
      </h2>
      {recent && <UptimeChart nodeId={nodeId} epochs={recent} />}
    </section>
  );
}
