/**
 * Epoch explorer: each report with root, signers, totals, its reward split (chart), per-node scores
 * (keeper API), the SLA credits and slashes of the epoch (SlaEnforcer events), and a node's uptime
 * over epochs (chart).
 */
import { useQueries } from "@tanstack/react-query";
import { useMemo, useState } from "react";

import { Chart } from "../../components/chart/Chart";
import { ListTable, Table } from "../../components/Table";
import { keeperEpochQuery, useKeeperEpoch, useKeeperEpochs, type KeeperLeaf } from "../../data/keeper";
import { useSlaEvents, type SlaCredit, type SlaSlash } from "../../data/sla";
import { useRuntime } from "../../hooks/kaisar";
import { KAI, formatAmount, formatBps, shortAddress, shortHash } from "../../lib/format";
import { SlaCreditsTable } from "./SlaCredits";

import "./epochs.css";

const toKai = (v: bigint) => Number(v) / 1e18;

function UptimeChart({ nodeId, epochs }: { nodeId: number; epochs: number[] }) {
  const { keeperUrl } = useRuntime();
  // One uptime per epoch; the combined list is structurally shared, so it changes only when a value does.
  const uptimes = useQueries({
    queries: epochs.map((e) => keeperEpochQuery(keeperUrl, e)),
    combine: (results) =>
      results.map((r) => {
        const leaf = r.data?.leaves?.find((l) => l.kind === 0 && Number(l.id) === nodeId);
        return leaf?.metrics ? Number(leaf.metrics.uptimeBps) / 100 : null;
      }),
  });
  const { x, series } = useMemo(
    () => ({
      x: [...epochs].reverse(),
      series: [{ label: "uptime (%)", values: [...uptimes].reverse(), bars: true }],
    }),
    [epochs, uptimes],
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
  return (
    <>
      <h3>SLA credits</h3>
      <SlaCreditsTable
        credits={credits}
        testId="epoch-credits"
        rowTestId="epoch-credit"
        empty="None in this epoch."
        uptime="Uptime"
      />
      <h3>Slashes</h3>
      <ListTable
        items={slashes}
        testId="epoch-slashes"
        empty="None in this epoch."
        head={["Node", "Why", "Slashed", "Evidence"]}
        row={(s) => (
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
        )}
      />
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
            <Table head={["Leaf", "Account", "Uptime", "Bandwidth", "Score", "GPU-s delivered", "Reward"]}>
              {r.leaves?.map((l) => (
                <tr key={l.index}>
                  <td>{l.kind === 0 ? `node #${l.id}` : "checker"}</td>
                  <td>{shortAddress(l.account)}</td>
                  <td>{l.metrics ? formatBps(Number(l.metrics.uptimeBps)) : "—"}</td>
                  <td>{l.metrics ? `${l.metrics.bandwidthMbps} Mbit/s` : "—"}</td>
                  <td>{l.metrics?.hardwareScore ?? "—"}</td>
                  <td>{l.metrics?.deliveredGpuSeconds ?? "—"}</td>
                  <td>
                    {formatAmount(BigInt(l.capacityReward) + BigInt(l.deliveryReward) + BigInt(l.checkerReward), KAI)}
                  </td>
                </tr>
              ))}
            </Table>
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
