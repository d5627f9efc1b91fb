/**
 * Every node: GPU, VRAM, region, prices per token, free GPUs, live health from the checkers (down for
 * how long, or why it takes no rentals), attested uptime and score, maintenance; filter, sort, pages.
 */
import { useMemo, useState } from "react";

import { tokenOf, useTokens } from "../../data/tokens";
import { useNow } from "../../hooks/kaisar";
import { formatBps, formatCount, formatPricePerHour, formatRelative } from "../../lib/format";
import { NOT_ATTESTED, UNDER_STAKED, liveState, unavailableReason } from "../../lib/health";
import { jailsOf, useLiveNodes, usePenalties } from "../../data/health";
import "./health.css";
import { isComplete, useGpuClasses, useNodes } from "../../data/nodes";
import { useLatestMetrics } from "../../data/keeper";
import { type NodeRow } from "../../data/nodeRow";
import { useUnderStake } from "../../data/stake";

const ROWS = 50;
type SortKey = "price" | "vram" | "free" | "uptime" | "id";

export function Marketplace() {
  const nodes = useNodes();
  const classes = useGpuClasses();
  const tokens = useTokens();
  const { epoch, metrics } = useLatestMetrics();
  const now = useNow(3_000);
  const live = useLiveNodes();
  const penalties = usePenalties();
  const jails = useMemo(() => jailsOf(penalties.data), [penalties.data]);
  const [gpu, setGpu] = useState("");
  const [minVram, setMinVram] = useState(0);
  const [region, setRegion] = useState("");
  const [maxPrice, setMaxPrice] = useState("");
  const [minUptime, setMinUptime] = useState(0);
  const [onlyAvailable, setOnlyAvailable] = useState(true);
  const [sort, setSort] = useState<SortKey>("price");
  const [page, setPage] = useState(0);
  const token = tokens.data?.[0];
  const list = nodes.data;
  const countLabel = !list
    ? "Loading nodes…"
    : isComplete(list)
      ? `${formatCount(list.rows.length)} nodes`
      : list.total >= 0
        ? `Loading nodes… ${formatCount(list.rows.length)} of ${formatCount(list.total)}`
        : "Loading nodes…";
  const className = (i: number) => classes.data?.[i]?.name ?? `class ${i}`;

  const rows = useMemo(() => {
    const all = nodes.data?.rows ?? [];
    const cap = maxPrice && token ? Number(maxPrice) * 10 ** token.decimals : Infinity;
    const r = region.trim().toLowerCase();
    const filtered = all.filter(
      (n) =>
        (gpu === "" || n.gpuClass === Number(gpu)) &&
        n.vramGiB >= minVram &&
        (r === "" || n.region.toLowerCase().includes(r)) &&
        Number(n.prices[0] ?? 0n) <= cap &&
        (minUptime === 0 || (metrics.get(n.id)?.uptimeBps ?? 0) >= minUptime * 100) &&
        (!onlyAvailable || n.acceptsRentals),
    );
    const key: Record<SortKey, (n: NodeRow) => number> = {
      price: (n) => Number(n.prices[0] ?? 0n),
      vram: (n) => -n.vramGiB,
      free: (n) => -n.freeGpus,
      uptime: (n) => -(metrics.get(n.id)?.uptimeBps ?? -1),
      id: (n) => n.id,
    };
    // Each row's key once (the price is a bigint), not twice per comparison.
    const k = key[sort];
    return filtered
      .map((n) => ({ n, k: k(n) }))
      .sort((a, b) => a.k - b.k || a.n.id - b.n.id)
      .map((e) => e.n);
  }, [nodes.data, gpu, minVram, region, maxPrice, minUptime, onlyAvailable, sort, metrics, token]);

  const pages = Math.max(1, Math.ceil(rows.length / ROWS));
  const p = Math.min(page, pages - 1);
  const shown = rows.slice(p * ROWS, p * ROWS + ROWS);
  // The stake and requirement of providers whose shown nodes are under-staked, to say how far under.
  const underStake = useUnderStake(
    shown.filter((n) => unavailableReason(n, now, jails.get(n.id)) === UNDER_STAKED).map((n) => n.provider),
  );
  const reset =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      setPage(0);
    };

  return (
    <section>
      <h1>Marketplace</h1>
      <p className="muted">
        <span data-testid="node-count">{countLabel}</span>
        {list && list.total >= 0 && ` · ${formatCount(rows.length)} match`}
        {epoch !== undefined ? ` · uptime and scores attested in epoch ${epoch}` : " · no epoch reported yet"}
      </p>
      {nodes.error && <p className="error">The nodes could not be read: {nodes.error.message.split("\n")[0]}</p>}
      <div className="filters">
        <label>
          GPU
          <select value={gpu} onChange={(e) => reset(setGpu)(e.target.value)} data-testid="filter-gpu">
            <option value="">any</option>
            {classes.data?.map((c) => (
              <option key={c.index} value={c.index}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Min VRAM (GiB)
          <input type="number" min={0} value={minVram} onChange={(e) => reset(setMinVram)(Number(e.target.value))} />
        </label>
        <label>
          Region
          <input value={region} placeholder="eu-west" onChange={(e) => reset(setRegion)(e.target.value)} />
        </label>
        <label>
          Max price ({token?.symbol ?? "…"}/GPU-h)
          <input
            type="number"
            min={0}
            step="any"
            value={maxPrice}
            onChange={(e) => reset(setMaxPrice)(e.target.value)}
          />
        </label>
        <label>
          Min uptime %
          <input
            type="number"
            min={0}
            max={100}
            value={minUptime}
            onChange={(e) => reset(setMinUptime)(Number(e.target.value))}
          />
        </label>
        <label className="check">
          <input type="checkbox" checked={onlyAvailable} onChange={(e) => reset(setOnlyAvailable)(e.target.checked)} />{" "}
          Available now
        </label>
        <label>
          Sort
          <select value={sort} onChange={(e) => reset(setSort)(e.target.value as SortKey)}>
            <option value="price">Price, lowest</option>
            <option value="vram">VRAM, most</option>
            <option value="free">Free GPUs, most</option>
            <option value="uptime">Uptime, best</option>
            <option value="id">Newest last</option>
          </select>
        </label>
      </div>
      <div className="table-wrap">
        <table className="nodes" data-testid="nodes">
          <thead>
            <tr>
              <th>Node</th>
              <th>GPU</th>
              <th>VRAM</th>
              <th>Region</th>
              <th>Price</th>
              <th>Free</th>
              <th>Health</th>
              <th>Uptime</th>
              <th>Score</th>
              <th>Maintenance</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((n) => {
              const m = metrics.get(n.id);
              const health = liveState(live.data?.nodes.get(n.id), now * 1000);
              const why = unavailableReason(n, now, jails.get(n.id));
              return (
                <tr key={n.id} data-testid="node-row">
                  <td data-label="Node">#{n.id}</td>
                  <td data-label="GPU">
                    {n.gpuCount}× {className(n.gpuClass)}
                  </td>
                  <td data-label="VRAM">{n.vramGiB} GiB</td>
                  <td data-label="Region">{n.region || "—"}</td>
                  <td data-label="Price">
                    {n.tokens.map((t, i) =>
                      n.prices[i] > 0n ? (
                        <div key={t}>{formatPricePerHour(n.prices[i], tokenOf(tokens.data, t))}</div>
                      ) : null,
                    )}
                  </td>
                  <td data-label="Free">
                    {n.freeGpus}/{n.gpuCount}
                  </td>
                  <td data-label="Health" data-testid="node-health">
                    {live.data ? (
                      <span className={`pill ${health.state}`} title={health.text}>
                        {health.text}
                      </span>
                    ) : (
                      "…"
                    )}
                  </td>
                  <td data-label="Uptime">{m ? formatBps(m.uptimeBps) : NOT_ATTESTED}</td>
                  <td data-label="Score">{m ? formatCount(m.hardwareScore) : NOT_ATTESTED}</td>
                  <td data-label="Maintenance">
                    {n.maintenanceEnd > now
                      ? n.maintenanceStart <= now
                        ? `now, ends ${formatRelative(n.maintenanceEnd, now)}`
                        : `${formatRelative(n.maintenanceStart, now)}`
                      : "—"}
                  </td>
                  <td>
                    {!why ? (
                      <a className="button" href={`#/rent/${n.id}`} data-testid={`rent-${n.id}`}>
                        Rent
                      </a>
                    ) : (
                      <span className="muted small" data-testid="node-unavailable">
                        {why === UNDER_STAKED ? (underStake.data?.get(n.provider.toLowerCase()) ?? why) : why}
                      </span>
                    )}{" "}
                    <a className="small" href={`#/node/${n.id}`} data-testid={`node-link-${n.id}`}>
                      history
                    </a>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div className="pager">
        <button className="ghost" disabled={p === 0} onClick={() => setPage(p - 1)}>
          ← Previous
        </button>
        <span>
          Page {p + 1} of {formatCount(pages)}
        </span>
        <button className="ghost" disabled={p >= pages - 1} onClick={() => setPage(p + 1)}>
          Next →
        </button>
      </div>
    </section>
  );
}
