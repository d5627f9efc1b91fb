/**
 * One node for a renter deciding whether to trust it: its provider and hardware, whether it takes
 * rentals (and if not, which reason), its live health, its attested uptime per epoch as a chart (and
 * a table), its price history and the penalties it took.
 */
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";

import { Chart } from "../../components/chart/Chart";
import { ListTable, Loading, Table } from "../../components/Table";
import { nodeRegistryAbi } from "../../contracts/generated";
import { getJson, useAddresses, useClient, useNow, useRuntime } from "../../hooks/kaisar";
import { tokenOf, useTokens } from "../../data/tokens";
import { KAI, formatAmount, formatBps, formatPricePerHour, shortHash } from "../../lib/format";
import { NOT_ATTESTED, UNDER_STAKED, liveState, unavailableReason } from "../../lib/health";
import { jailsOf, useLiveNodes, usePenalties } from "../../data/health";
import { useGpuClasses, useNode } from "../../data/nodes";
import { useKeeperEpochs, type KeeperEpoch } from "../../data/keeper";
import { useUnderStake } from "../../data/stake";
import { queryKeys } from "../../data/keys";
import "../marketplace/health.css";
import "./node.css";

/** Epochs shown in the uptime history. */
export const HISTORY_EPOCHS = 24;

/** The node's attested uptime (bps) in each of the latest reported epochs, oldest first; null: no leaf. */
function useUptimeHistory(nodeId: number) {
  const { keeperUrl } = useRuntime();
  const epochs = useKeeperEpochs();
  const latest = (epochs.data ?? []).slice(0, HISTORY_EPOCHS).map((e) => e.epoch);
  return useQuery({
    queryKey: queryKeys.uptimeHistory(keeperUrl, nodeId, latest),
    enabled: !!keeperUrl && latest.length > 0,
    queryFn: async () => {
      const all = await Promise.all(latest.map((e) => getJson<KeeperEpoch>(`${keeperUrl}/epochs/${e}`)));
      return all
        .map((ep, i) => {
          const leaf = ep?.leaves?.find((l) => l.kind === 0 && Number(l.id) === nodeId);
          return { epoch: latest[i], uptimeBps: leaf?.metrics ? Number(leaf.metrics.uptimeBps) : null };
        })
        .sort((a, b) => a.epoch - b.epoch);
    },
  });
}

/** SetNodePrice events of the node, oldest first, with their block times. */
function usePriceHistory(nodeId: number) {
  const client = useClient();
  const { NodeRegistry } = useAddresses();
  return useQuery({
    queryKey: queryKeys.priceHistory(client.chain.id, nodeId),
    refetchInterval: 30_000,
    queryFn: async () => {
      const logs = await client.getContractEvents({
        address: NodeRegistry,
        abi: nodeRegistryAbi,
        eventName: "SetNodePrice",
        args: { nodeId: BigInt(nodeId) },
        fromBlock: 0n,
      });
      const times = new Map<bigint, number>();
      await Promise.all(
        [...new Set(logs.map((l) => l.blockNumber))].map(async (b) =>
          times.set(b, Number((await client.getBlock({ blockNumber: b })).timestamp)),
        ),
      );
      return logs.map((l) => ({
        at: times.get(l.blockNumber) ?? 0,
        token: l.args.token!,
        price: l.args.pricePerGpuHour ?? 0n,
        txHash: l.transactionHash,
      }));
    },
  });
}

export default function NodePage({ nodeId }: { nodeId: number }) {
  const node = useNode(nodeId);
  const classes = useGpuClasses();
  const tokens = useTokens();
  const live = useLiveNodes();
  const penalties = usePenalties(nodeId);
  const uptime = useUptimeHistory(nodeId);
  const prices = usePriceHistory(nodeId);
  const now = useNow(3_000);
  const jail = useMemo(() => jailsOf(penalties.data).get(nodeId), [penalties.data, nodeId]);
  const stake = useUnderStake(node.data ? [node.data.provider] : []);
  // The chart is drawn again only when the history changes, not on every clock tick.
  const chart = useMemo(() => {
    const h = uptime.data ?? [];
    return {
      x: h.map((e) => e.epoch),
      series: [
        { label: "uptime %", values: h.map((e) => (e.uptimeBps === null ? null : e.uptimeBps / 100)), bars: true },
      ],
    };
  }, [uptime.data]);
  if (node.isLoading) return <Loading what={`node #${nodeId}`} />;
  const n = node.data;
  if (!n) return <p className="error">Node #{nodeId} does not exist.</p>;
  const why = unavailableReason(n, now, jail);
  const health = liveState(live.data?.nodes.get(nodeId), now * 1000);
  const history = uptime.data ?? [];
  return (
    <section className="node-page">
      <h1>Node #{n.id}</h1>
      <dl>
        <dt>Provider</dt>
        <dd className="mono" data-testid="node-provider">
          {n.provider}
        </dd>
        <dt>Hardware</dt>
        <dd>
          {n.gpuCount}× {classes.data?.[n.gpuClass]?.name ?? "GPU"}, {n.vramGiB} GiB VRAM each · {n.cpuCores} CPU cores
          · {n.ramGiB} GiB RAM · {n.region || "no region"}
        </dd>
        <dt>Rentals</dt>
        <dd data-testid="node-availability">
          {why
            ? why === UNDER_STAKED
              ? (stake.data?.get(n.provider.toLowerCase()) ?? `takes none now: ${why}`)
              : `takes none now: ${why}`
            : `takes rentals · ${n.freeGpus} of ${n.gpuCount} GPUs free`}
        </dd>
        <dt>Checkers</dt>
        <dd data-testid="node-live">
          <span className={`pill ${health.state}`}>{live.data ? health.text : "…"}</span>
        </dd>
        <dt>Prices</dt>
        <dd>
          {n.tokens.map((t, i) =>
            n.prices[i] > 0n ? <div key={t}>{formatPricePerHour(n.prices[i], tokenOf(tokens.data, t))}</div> : null,
          )}
        </dd>
      </dl>
      {!why && (
        <a className="button" href={`#/rent/${n.id}`}>
          Rent this node
        </a>
      )}

      <h2>Uptime per epoch</h2>
      {history.length === 0 ? (
        <p className="muted" data-testid="uptime-none">
          No epoch has been reported yet: uptime is {NOT_ATTESTED}.
        </p>
      ) : (
        <>
          <div className="node-chart">
            <Chart
              title={`Node #${n.id}: attested uptime per epoch (%)`}
              x={chart.x}
              series={chart.series}
              xLabel="epoch"
              yLabel="%"
            />
          </div>
          <Table testId="uptime-history" head={["Epoch", "Attested uptime"]}>
            {[...history].reverse().map((h) => (
              <tr key={h.epoch} data-testid="uptime-row">
                <td>{h.epoch}</td>
                <td>{h.uptimeBps === null ? NOT_ATTESTED : formatBps(h.uptimeBps)}</td>
              </tr>
            ))}
          </Table>
        </>
      )}

      <h2>Price history</h2>
      <Table testId="price-history" head={["When", "Price", "Transaction"]}>
        {(prices.data ?? []).map((p) => (
          <tr key={`${p.txHash}-${p.token}`}>
            <td>{new Date(p.at * 1000).toLocaleString()}</td>
            <td>
              {p.price > 0n ? formatPricePerHour(p.price, tokenOf(tokens.data, p.token)) : "token no longer accepted"}
            </td>
            <td className="mono small">{shortHash(p.txHash)}</td>
          </tr>
        ))}
      </Table>

      <h2>Penalties</h2>
      <ListTable
        items={penalties.data ?? []}
        testId={(penalties.data ?? []).length === 0 ? "penalties-none" : "penalties"}
        empty="None: this node has never been slashed."
        head={["Epoch", "For", "Slashed", "Transaction"]}
        row={(p) => (
          <tr key={p.txHash + p.kind}>
            <td>{p.epoch}</td>
            <td>{p.kind}</td>
            <td>{formatAmount(p.slashed, KAI)}</td>
            <td className="mono small">{shortHash(p.txHash)}</td>
          </tr>
        )}
      />
    </section>
  );
}
