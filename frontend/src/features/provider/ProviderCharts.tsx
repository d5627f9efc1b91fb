/**
 * A provider's earnings and rewards over time, as charts (lazy uPlot, components/chart):
 *  - rewards its nodes earned per epoch (capacity and delivery), from the keeper's epoch leaves;
 *  - what it took home over time: rental earnings withdrawn (RentalEscrow.WithdrawEarnings, net of the
 *    protocol fee) and rewards claimed (RewardDistributor.Claim), cumulative, from the chain's events.
 */
import { useQueries, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { formatUnits, type Address } from "viem";

import { Chart, type ChartSeries } from "../../components/chart/Chart";
import { rentalEscrowAbi, rewardDistributorAbi } from "../../contracts/generated";
import { keeperEpochQuery, useKeeperEpochs } from "../../data/keeper";
import { queryKeys } from "../../data/keys";
import { tokenOf, useTokens } from "../../data/tokens";
import { useAddresses, useClient, useRuntime } from "../../hooks/kaisar";

const kai = (v: bigint) => Number(formatUnits(v, 18));

function RewardsPerEpoch({ nodeIds }: { nodeIds: number[] }) {
  const { keeperUrl } = useRuntime();
  const epochs = useKeeperEpochs();
  const recent = epochs.data?.slice(0, 30).map((e) => e.epoch) ?? [];
  // The rewards of our nodes per epoch, as numbers of KAI: structurally shared, so a new list only when one changes.
  const rows = useQueries({
    queries: recent.map((e) => keeperEpochQuery(keeperUrl, e)),
    combine: (results) =>
      results.map((r, i) => {
        const mine = r.data?.leaves?.filter((l) => l.kind === 0 && nodeIds.includes(Number(l.id))) ?? [];
        return {
          epoch: recent[i],
          capacity: kai(mine.reduce((s, l) => s + BigInt(l.capacityReward), 0n)),
          delivery: kai(mine.reduce((s, l) => s + BigInt(l.deliveryReward), 0n)),
        };
      }),
  });
  const { x, series } = useMemo(() => {
    const ordered = [...rows].reverse();
    return {
      x: ordered.map((r) => r.epoch),
      series: [
        { label: "capacity (KAI)", values: ordered.map((r) => r.capacity) },
        { label: "delivery (KAI)", values: ordered.map((r) => r.delivery), color: "#e3b341" },
      ] as ChartSeries[],
    };
  }, [rows]);
  if (x.length === 0) return <p className="muted">No epoch reported yet.</p>;
  return <Chart title="Rewards your nodes earned per epoch (KAI)" x={x} series={series} xLabel="epoch" />;
}

function TakenHome({ provider }: { provider: Address }) {
  const client = useClient();
  const tokens = useTokens();
  const { RentalEscrow, RewardDistributor } = useAddresses();
  const events = useQuery({
    queryKey: queryKeys.providerIncome(client.chain.id, provider),
    refetchInterval: 15_000,
    queryFn: async () => {
      const [earnings, claims] = await Promise.all([
        client.getContractEvents({
          address: RentalEscrow,
          abi: rentalEscrowAbi,
          eventName: "WithdrawEarnings",
          args: { provider },
          fromBlock: 0n,
        }),
        client.getContractEvents({
          address: RewardDistributor,
          abi: rewardDistributorAbi,
          eventName: "Claim",
          args: { beneficiary: provider },
          fromBlock: 0n,
        }),
      ]);
      const blocks = [...new Set([...earnings, ...claims].map((e) => e.blockNumber))];
      // The totals so far run to the latest block.
      const latest = Number((await client.getBlock()).timestamp);
      const times = new Map(
        await Promise.all(
          blocks.map(async (n) => [n, Number((await client.getBlock({ blockNumber: n })).timestamp)] as const),
        ),
      );
      return {
        points: [
          ...earnings.map((e) => ({
            at: times.get(e.blockNumber)!,
            series: String(e.args.token),
            amount: e.args.gross! - e.args.fee!,
          })),
          ...claims.map((e) => ({ at: times.get(e.blockNumber)!, series: "KAI", amount: e.args.amount! })),
        ].sort((a, b) => a.at - b.at),
        latest,
      };
    },
  });
  const chart = useMemo(() => {
    const points = events.data?.points ?? [];
    if (points.length === 0) return undefined;
    const names = [...new Set(points.map((p) => p.series))];
    const totals = new Map<string, number>();
    const x: number[] = [];
    const values = names.map(() => [] as (number | null)[]);
    for (const p of points) {
      const decimals = p.series === "KAI" ? 18 : tokenOf(tokens.data, p.series).decimals;
      totals.set(p.series, (totals.get(p.series) ?? 0) + Number(formatUnits(p.amount, decimals)));
      x.push(p.at);
      names.forEach((n, i) => values[i].push(totals.get(n) ?? 0));
    }
    if (events.data!.latest > x[x.length - 1]) {
      x.push(events.data!.latest);
      names.forEach((n, i) => values[i].push(totals.get(n) ?? 0));
    }
    const series: ChartSeries[] = names.map((n, i) => ({
      label: n === "KAI" ? "rewards claimed (KAI)" : `earnings withdrawn (${tokenOf(tokens.data, n).symbol})`,
      values: values[i],
      color: n === "KAI" ? "#4f7cff" : "#3fb950",
    }));
    return { x, series };
  }, [events.data, tokens.data]);
  if (!chart) return <p className="muted">Nothing withdrawn or claimed yet.</p>;
  return (
    <Chart title="Earnings and rewards taken over time (cumulative)" x={chart.x} series={chart.series} xKind="time" />
  );
}

export function ProviderCharts({ provider, nodeIds }: { provider: Address; nodeIds: number[] }) {
  return (
    <div className="cards" data-testid="provider-charts">
      <div className="card">
        <h2>Rewards per epoch</h2>
        <RewardsPerEpoch nodeIds={nodeIds} />
      </div>
      <div className="card">
        <h2>Earnings and rewards over time</h2>
        <TakenHome provider={provider} />
      </div>
    </div>
  );
}
