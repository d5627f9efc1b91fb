/**
 * Provider dashboard: register a node, stake / unstake / withdraw with the unbonding countdown,
 * earnings, rewards and vesting (./Rewards), charts of earnings and rewards (./ProviderCharts), SLA
 * credits paid from the provider's nodes (with their epoch), penalties.
 */
import { underStakeSentence } from "@kaisar/offchain/src/stake";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { formatUnits, stringToHex, type Address } from "viem";

import {
  kaisarLensAbi,
  kaiTokenAbi,
  nodeRegistryAbi,
  rentalEscrowAbi,
  rewardDistributorAbi,
} from "../../contracts/generated";
import { tokenOf, useTokens } from "../../data/tokens";
import { useAddresses, useClient, useNow, useWallet } from "../../hooks/kaisar";
import { useTransactor } from "../../hooks/useTransactor";
import { formatAmount, formatBps, formatDuration, parseAmount, shortHash } from "../../lib/format";
import { toRow } from "../../data/nodeRow";
import { useGpuClasses } from "../../data/nodes";
import { useRentalsOf } from "../../data/rentals";
import { useSlaEvents } from "../../data/sla";
import { ProviderCharts } from "./ProviderCharts";
import { Rewards, useClaimable } from "../rewards/Rewards";

const KAI = { symbol: "KAI", decimals: 18 };
/** The reason codes of SlaEnforcer (REASON_*) and ReportOracle (REASON_EQUIVOCATION). */
const PENALTY_REASONS: Record<number, string> = {
  1: "SLA credit paid to a renter from your stake (uptime below the rental's SLA)",
  2: "repeated downtime (attested uptime below the threshold for consecutive epochs)",
  3: "hardware fraud (the checkers' hardware test differs from the registered spec)",
  4: "saving plan refunded to its renter from your stake (your node was jailed; what you had withdrawn from the plan)",
  100: "equivocation (signed two different reports for one epoch)",
};

function useProviderView(address: Address | undefined) {
  const client = useClient();
  const { KaisarLens, RewardDistributor } = useAddresses();
  return useQuery({
    queryKey: ["provider", client.chain.id, address],
    enabled: !!address,
    refetchInterval: 5_000,
    queryFn: async () => {
      const view = await client.readContract({
        address: KaisarLens,
        abi: kaisarLensAbi,
        functionName: "getProvider",
        args: [address!],
      });
      const [nodes, penalties, positions] = await Promise.all([
        client.readContract({
          address: KaisarLens,
          abi: kaisarLensAbi,
          functionName: "getProviderNodes",
          args: [address!, 0n, 500n],
        }),
        client.readContract({
          address: KaisarLens,
          abi: kaisarLensAbi,
          functionName: "getPenalties",
          args: [address!, 0n, 200n],
        }),
        client.readContract({
          address: RewardDistributor,
          abi: rewardDistributorAbi,
          functionName: "positionsOf",
          args: [address!],
        }),
      ]);
      return { view, nodes: nodes.map((n) => toRow(n as never)), penalties, positions };
    },
  });
}

function RegisterNode({ onDone }: { onDone: () => void }) {
  const classes = useGpuClasses();
  const tokens = useTokens();
  const { NodeRegistry } = useAddresses();
  const transact = useTransactor();
  const [f, setF] = useState({
    gpuClass: 0,
    gpuCount: 1,
    vramGiB: 80,
    cpuCores: 16,
    ramGiB: 128,
    diskGiB: 1000,
    bandwidthMbps: 1000,
    region: "eu-west",
    uri: "http://127.0.0.1:9000",
    price: "2",
  });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: ["region", "uri", "price"].includes(k) ? e.target.value : Number(e.target.value) });
  const token = tokens.data?.[0];
  const price = token ? parseAmount(f.price, token.decimals) : undefined;
  const submit = async () => {
    if (!token || !price) return;
    const ok = await transact("Register a node", [
      {
        label: "Register the node",
        address: NodeRegistry,
        abi: nodeRegistryAbi,
        functionName: "registerNode",
        args: [
          {
            gpuClass: f.gpuClass,
            gpuCount: f.gpuCount,
            vramGiB: f.vramGiB,
            cpuCores: f.cpuCores,
            ramGiB: f.ramGiB,
            diskGiB: f.diskGiB,
            bandwidthMbps: f.bandwidthMbps,
            region: stringToHex(f.region.slice(0, 8), { size: 8 }),
          },
          f.uri,
          [token.address],
          [price],
        ],
      },
    ]);
    if (ok) onDone();
  };
  const num = (k: keyof typeof f, label: string) => (
    <label>
      {label}
      <input type="number" min={0} value={f[k] as number} onChange={set(k)} data-testid={`reg-${k}`} />
    </label>
  );
  return (
    <div className="card">
      <h2>Register a node</h2>
      <div className="form">
        <label>
          GPU class
          <select value={f.gpuClass} onChange={set("gpuClass")}>
            {classes.data
              ?.filter((c) => c.active)
              .map((c) => (
                <option key={c.index} value={c.index}>
                  {c.name} (stake ×{c.multiplierBps / 10_000})
                </option>
              ))}
          </select>
        </label>
        {num("gpuCount", "GPUs")}
        {num("vramGiB", "VRAM per GPU (GiB)")}
        {num("cpuCores", "CPU cores")}
        {num("ramGiB", "RAM (GiB)")}
        {num("diskGiB", "Disk (GiB)")}
        {num("bandwidthMbps", "Bandwidth (Mbit/s)")}
        <label>
          Region (≤ 8 characters)
          <input value={f.region} maxLength={8} onChange={set("region")} />
        </label>
        <label>
          Agent endpoint
          <input value={f.uri} onChange={set("uri")} />
        </label>
        <label>
          Price ({token?.symbol}/GPU-hour)
          <input value={f.price} onChange={set("price")} data-testid="reg-price" />
        </label>
      </div>
      <button onClick={submit} disabled={!price} data-testid="register">
        Register
      </button>
    </div>
  );
}

export default function Provider() {
  const { address } = useWallet();
  const { NodeRegistry, RentalEscrow } = useAddresses();
  const data = useProviderView(address);
  const rentals = useRentalsOf(address, true);
  const tokens = useTokens();
  const transact = useTransactor();
  const classes = useGpuClasses();
  const now = useNow(1000);
  const [stake, setStake] = useState("");
  const [unstake, setUnstake] = useState("");
  const [registering, setRegistering] = useState(false);
  const nodeIds = data.data?.nodes.map((n) => n.id) ?? [];
  const claimable = useClaimable(
    0,
    nodeIds.map((id) => BigInt(id)),
  );
  const sla = useSlaEvents();
  if (!address) return <p>Connect a wallet to manage your nodes.</p>;
  if (!data.data) return <p className="muted">Loading…</p>;
  const { view, nodes, penalties, positions } = data.data;
  const s = view.stake;
  const stakeAmt = parseAmount(stake, 18);
  const unstakeAmt = parseAmount(unstake, 18);
  const covered = s.staked >= view.requiredStake;
  const underStake = underStakeSentence(address, { staked: s.staked, required: view.requiredStake });
  const earnings = new Map<Address, { ids: bigint[]; total: bigint }>();
  for (const r of rentals.data ?? []) {
    if (r.withdrawable === 0n) continue;
    const e = earnings.get(r.token) ?? { ids: [], total: 0n };
    e.ids.push(r.rentalId);
    e.total += r.withdrawable;
    earnings.set(r.token, e);
  }
  return (
    <section>
      <h1>Provider</h1>
      <div className="cards">
        <div className="card">
          <h2>Stake</h2>
          <dl>
            <dt>Staked</dt>
            <dd data-testid="staked">{formatAmount(s.staked, KAI)}</dd>
            <dt>Required by your listed GPUs</dt>
            <dd>
              {formatAmount(view.requiredStake, KAI)} {covered && "✓ covered"}
            </dd>
            <dt>Locked by saving plans</dt>
            <dd>{formatAmount(view.lockedStake, KAI)}</dd>
            <dt>Unbonding</dt>
            <dd data-testid="unbonding">
              {s.unbonding > 0n
                ? `${formatAmount(s.unbonding, KAI)}, ${s.unbondingEnd > now ? `withdrawable in ${formatDuration(s.unbondingEnd - now)}` : "withdrawable now"}`
                : "—"}
            </dd>
          </dl>
          {underStake && (
            <p className="banner error" data-testid="provider-under-stake">
              {underStake} Until then your nodes also earn no epoch rewards: “Fill the requirement” puts the amount in
              the Stake field.
            </p>
          )}
          <div className="actions">
            <input
              placeholder="KAI"
              value={stake}
              onChange={(e) => setStake(e.target.value)}
              data-testid="stake-amount"
            />
            <button
              disabled={!stakeAmt}
              data-testid="stake"
              onClick={() =>
                stakeAmt &&
                transact("Stake KAI", [
                  {
                    label: `Approve ${formatAmount(stakeAmt, KAI)}`,
                    address: tokens.data![0].address,
                    abi: kaiTokenAbi,
                    functionName: "approve",
                    args: [NodeRegistry, stakeAmt],
                  },
                  {
                    label: `Stake ${formatAmount(stakeAmt, KAI)}`,
                    address: NodeRegistry,
                    abi: nodeRegistryAbi,
                    functionName: "stake",
                    args: [stakeAmt],
                  },
                ]).then((ok) => ok && setStake(""))
              }
            >
              Stake
            </button>
            {view.requiredStake > s.staked && (
              <button
                className="ghost"
                data-testid="stake-fill"
                onClick={() => setStake(formatUnits(view.requiredStake - s.staked, 18))}
              >
                Fill the requirement
              </button>
            )}
          </div>
          <div className="actions">
            <input placeholder="KAI" value={unstake} onChange={(e) => setUnstake(e.target.value)} />
            <button
              className="ghost"
              disabled={!unstakeAmt}
              onClick={() =>
                unstakeAmt &&
                transact("Request unstake", [
                  {
                    label: `Unstake ${formatAmount(unstakeAmt, KAI)}`,
                    address: NodeRegistry,
                    abi: nodeRegistryAbi,
                    functionName: "requestUnstake",
                    args: [unstakeAmt],
                  },
                ])
              }
            >
              Unstake
            </button>
            <button
              className="ghost"
              disabled={s.unbonding === 0n || s.unbondingEnd > now}
              onClick={() =>
                transact("Withdraw unbonded stake", [
                  { label: "Withdraw", address: NodeRegistry, abi: nodeRegistryAbi, functionName: "withdrawUnstaked" },
                ])
              }
            >
              Withdraw unbonded
            </button>
          </div>
        </div>
        <div className="card">
          <h2>Earnings</h2>
          {earnings.size === 0 && <p className="muted">Nothing to withdraw from rentals yet.</p>}
          {[...earnings].map(([t, e]) => (
            <div className="actions" key={t}>
              <span>
                {formatAmount(e.total, tokenOf(tokens.data, t))} over {e.ids.length} rental{e.ids.length > 1 ? "s" : ""}{" "}
                (before the protocol fee)
              </span>
              <button
                onClick={() =>
                  transact(
                    "Withdraw earnings",
                    [
                      {
                        label: "Withdraw earnings",
                        address: RentalEscrow,
                        abi: rentalEscrowAbi,
                        functionName: "withdrawEarnings",
                        args: [t, e.ids],
                      },
                    ],
                    { token: tokenOf(tokens.data, t) },
                  )
                }
              >
                Withdraw
              </button>
            </div>
          ))}
          <p>
            Rewards credited to your stake account: {formatAmount(s.rewardsOwed, KAI)}{" "}
            {s.rewardsOwed > 0n && (
              <button
                className="ghost"
                onClick={() =>
                  transact("Withdraw rewards", [
                    { label: "Withdraw", address: NodeRegistry, abi: nodeRegistryAbi, functionName: "withdrawRewards" },
                  ])
                }
              >
                Withdraw
              </button>
            )}
          </p>
        </div>
        <Rewards beneficiary={address} claimable={claimable.data} positions={positions} />
      </div>
      <h2>
        Nodes ({nodes.length}){" "}
        <button className="ghost" onClick={() => setRegistering(!registering)} data-testid="show-register">
          {registering ? "Close the form" : "Register a node"}
        </button>
      </h2>
      {registering && <RegisterNode onDone={() => setRegistering(false)} />}
      <table data-testid="my-nodes">
        <thead>
          <tr>
            <th>Node</th>
            <th>GPUs</th>
            <th>Rented</th>
            <th>Status</th>
            <th>Takes rentals</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => (
            <tr key={n.id} data-testid="my-node">
              <td>#{n.id}</td>
              <td>
                {n.gpuCount}× {classes.data?.[n.gpuClass]?.name}
              </td>
              <td>{n.gpuCount - n.freeGpus}</td>
              <td>{["—", "active", "paused", "jailed", "retired"][n.status]}</td>
              <td>{n.acceptsRentals ? "yes" : "no"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ProviderCharts provider={address} nodeIds={nodeIds} />
      <h2>SLA credits paid from your nodes</h2>
      {(() => {
        const mine = new Map((rentals.data ?? []).map((r) => [r.rentalId, r]));
        const credits = sla.data?.credits.filter((c) => mine.has(c.rentalId)) ?? [];
        return credits.length === 0 ? (
          <p className="muted" data-testid="provider-credits">
            None.
          </p>
        ) : (
          <div className="table-wrap">
            <table data-testid="provider-credits">
              <thead>
                <tr>
                  <th>Epoch</th>
                  <th>Node</th>
                  <th>Rental</th>
                  <th>Attested uptime</th>
                  <th>Credit</th>
                  <th>From earnings</th>
                  <th title="Owed from the provider's stake (capped per epoch) and paid after the epoch's slash window">
                    Due from stake
                  </th>
                </tr>
              </thead>
              <tbody>
                {credits.map((c) => (
                  <tr key={`${c.tx}-${c.rentalId}`}>
                    <td>{c.epoch}</td>
                    <td>#{mine.get(c.rentalId)!.rental.nodeId}</td>
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
        );
      })()}
      <h2>Penalties</h2>
      {penalties.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <table>
          <tbody>
            {penalties.map((p, i) => (
              <tr key={i}>
                <td>{new Date(Number(p.at) * 1000).toLocaleString()}</td>
                <td>{formatAmount(p.amount, KAI)}</td>
                <td>{PENALTY_REASONS[p.reason] ?? `reason ${p.reason}`}</td>
                <td>{p.nodeId ? `node #${p.nodeId}` : ""}</td>
                <td className="mono small" title={p.evidence}>
                  evidence {shortHash(p.evidence)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
