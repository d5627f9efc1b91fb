/**
 * Provider dashboard: register a node (./RegisterNode), stake / unstake / withdraw with the unbonding
 * countdown (./Stake), earnings, rewards and vesting (features/rewards), charts of earnings and rewards
 * (./ProviderCharts), SLA credits paid from the provider's nodes (with their epoch), penalties.
 */
import { NodeStatus, NodeStatusNames, penaltyText } from "@kaisar/offchain/src/vocabulary";
import { useState } from "react";
import type { Address } from "viem";

import { ListTable, Loading, Table } from "../../components/Table";
import { rentalEscrowAbi } from "../../contracts/generated";
import { useGpuClasses } from "../../data/nodes";
import { useProviderView } from "../../data/provider";
import { useRentalsOf } from "../../data/rentals";
import { useSlaEvents } from "../../data/sla";
import { tokenOf, useTokens } from "../../data/tokens";
import { useAddresses, useWallet } from "../../hooks/kaisar";
import { call, useTransactor } from "../../hooks/useTransactor";
import { KAI, formatAmount, shortHash } from "../../lib/format";
import { SlaCreditsTable } from "../epochs/SlaCredits";
import { Rewards, StakeAccountRewards } from "../rewards/Rewards";
import { ProviderCharts } from "./ProviderCharts";
import { RegisterNode } from "./RegisterNode";
import { Stake } from "./Stake";

export default function Provider() {
  const { address } = useWallet();
  const { RentalEscrow } = useAddresses();
  const data = useProviderView(address);
  const rentals = useRentalsOf(address, true);
  const tokens = useTokens();
  const transact = useTransactor();
  const classes = useGpuClasses();
  const [registering, setRegistering] = useState(false);
  const sla = useSlaEvents();
  if (!address) return <p>Connect a wallet to manage your nodes.</p>;
  if (!data.data) return <Loading />;
  const { view, nodes, penalties, positions } = data.data;
  const nodeIds = nodes.map((n) => n.id);
  const earnings = new Map<Address, { ids: bigint[]; total: bigint }>();
  for (const r of rentals.data ?? []) {
    if (r.withdrawable === 0n) continue;
    const e = earnings.get(r.token) ?? { ids: [], total: 0n };
    e.ids.push(r.rentalId);
    e.total += r.withdrawable;
    earnings.set(r.token, e);
  }
  const mine = new Map((rentals.data ?? []).map((r) => [r.rentalId, r]));
  const credits = sla.data?.credits.filter((c) => mine.has(c.rentalId)) ?? [];
  return (
    <section>
      <h1>Provider</h1>
      <div className="cards">
        <Stake address={address} view={view} />
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
                      call({
                        label: "Withdraw earnings",
                        address: RentalEscrow,
                        abi: rentalEscrowAbi,
                        functionName: "withdrawEarnings",
                        args: [t, e.ids],
                      }),
                    ],
                    { token: tokenOf(tokens.data, t) },
                  )
                }
              >
                Withdraw
              </button>
            </div>
          ))}
          <StakeAccountRewards owed={view.stake.rewardsOwed} />
        </div>
        <Rewards beneficiary={address} kind={0} subjects={nodeIds.map((id) => BigInt(id))} positions={positions} />
      </div>
      <h2>
        Nodes ({nodes.length}){" "}
        <button className="ghost" onClick={() => setRegistering(!registering)} data-testid="show-register">
          {registering ? "Close the form" : "Register a node"}
        </button>
      </h2>
      {registering && <RegisterNode onDone={() => setRegistering(false)} />}
      <Table testId="my-nodes" head={["Node", "GPUs", "Rented", "Status", "Takes rentals"]}>
        {nodes.map((n) => (
          <tr key={n.id} data-testid="my-node">
            <td>#{n.id}</td>
            <td>
              {n.gpuCount}× {classes.data?.[n.gpuClass]?.name}
            </td>
            <td>{n.gpuCount - n.freeGpus}</td>
            <td>{n.status === NodeStatus.None ? "—" : NodeStatusNames[n.status]?.toLowerCase()}</td>
            <td>{n.acceptsRentals ? "yes" : "no"}</td>
          </tr>
        ))}
      </Table>
      <ProviderCharts provider={address} nodeIds={nodeIds} />
      <h2>SLA credits paid from your nodes</h2>
      <SlaCreditsTable
        credits={credits}
        testId="provider-credits"
        empty="None."
        uptime="Attested uptime"
        lead={{
          head: ["Epoch", "Node"],
          cells: (c) => (
            <>
              <td>{c.epoch}</td>
              <td>#{mine.get(c.rentalId)!.rental.nodeId}</td>
            </>
          ),
        }}
      />
      <h2>Penalties</h2>
      <ListTable
        items={penalties}
        empty="None."
        row={(p, i) => (
          <tr key={i}>
            <td>{new Date(Number(p.at) * 1000).toLocaleString()}</td>
            <td>{formatAmount(p.amount, KAI)}</td>
            <td>{penaltyText(p.reason)}</td>
            <td>{p.nodeId ? `node #${p.nodeId}` : ""}</td>
            <td className="mono small" title={p.evidence}>
              evidence {shortHash(p.evidence)}
            </td>
          </tr>
        )}
      />
    </section>
  );
}
