/** The renter's rentals: time and balance left (ticking), top up, end, grace warning, close reason, SLA credits, launch spec. */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { Address } from "viem";

import { kaisarLensAbi, kaiTokenAbi, rentalEscrowAbi } from "../../contracts/generated";
import { tokenOf, useAddresses, useClient, useNow, useTokens, useWallet } from "../../hooks/kaisar";
import { useTransactor } from "../../hooks/useTransactor";
import { rentalClock } from "../../lib/cost";
import { formatAmount, formatBps, formatDuration, parseAmount } from "../../lib/format";
import { launchSpec, templateOf, useCatalog } from "./catalog";

export const PLANS = ["Pay as you go", "Hourly", "Saving plan"];
export const CLOSE_REASONS = [
  "—",
  "ended by you",
  "ended by the provider",
  "term ended",
  "balance ran out (after the grace period)",
  "SLA breach (refunded)",
  "provider slashed (refunded)",
];
const STATUS = ["unknown", "running", "grace period", "closed"];

export interface RentalRow {
  rentalId: bigint;
  rental: {
    renter: Address;
    nodeId: number;
    gpus: number;
    plan: number;
    status: number;
    closeReason: number;
    slaTier: number;
    amount: bigint;
    unitPrice: bigint;
    anchor: number;
  };
  token: Address;
  withdrawable: bigint;
  refundable: bigint;
  paidUntil: bigint;
  closableAt: bigint;
}

/** All rentals of `who` (renter or provider), newest first, through the lens's bounded scans. */
export function useRentalsOf(who: Address | undefined, asProvider = false) {
  const client = useClient();
  const { KaisarLens } = useAddresses();
  return useQuery({
    queryKey: ["rentals", client.chain.id, who, asProvider],
    enabled: !!who,
    refetchInterval: 5_000,
    queryFn: async () => {
      const out: RentalRow[] = [];
      let before = 0n;
      for (let i = 0; i < 20; i++) {
        const [rentals, next] = (await client.readContract({
          address: KaisarLens,
          abi: kaisarLensAbi,
          functionName: asProvider ? "getProviderRentals" : "getRenterRentals",
          args: [who!, before, 2_000n],
        })) as readonly [readonly RentalRow[], bigint];
        out.push(...rentals);
        if (next === 0n) break;
        before = next;
      }
      return out;
    },
  });
}

/** SLA credits paid to `renter` (CreditSla events from the deployment block). */
function useSlaCredits(renter: Address | undefined) {
  const client = useClient();
  const { RentalEscrow } = useAddresses();
  return useQuery({
    queryKey: ["slaCredits", client.chain.id, renter],
    enabled: !!renter,
    refetchInterval: 15_000,
    queryFn: async () =>
      client.getContractEvents({
        address: RentalEscrow,
        abi: rentalEscrowAbi,
        eventName: "CreditSla",
        args: { renter },
        fromBlock: 0n,
      }),
  });
}

function RentalCard({ r, now }: { r: RentalRow; now: number }) {
  const tokens = useTokens();
  const catalog = useCatalog();
  const { RentalEscrow } = useAddresses();
  const transact = useTransactor();
  const [topUp, setTopUp] = useState("");
  const [showSpec, setShowSpec] = useState(false);
  const token = tokenOf(tokens.data, r.token);
  const x = r.rental;
  const open = x.status === 1 || x.status === 2;
  const clock = rentalClock(r, now);
  // Live balance: what is left of the deposit at this second (pay-as-you-go streams per second).
  const liveLeft = x.plan === 0 && open ? x.unitPrice * BigInt(clock.secondsLeft) : r.refundable;
  const amount = parseAmount(topUp, token.decimals);
  const templateId = templateOf(r.rentalId) ?? "pytorch";
  const template = catalog.data?.templates.find((t) => t.id === templateId);
  const doTopUp = () =>
    amount &&
    transact(
      `Top up rental #${r.rentalId}`,
      [
        {
          label: `Approve ${formatAmount(amount, token)}`,
          address: r.token,
          abi: kaiTokenAbi,
          functionName: "approve",
          args: [RentalEscrow, amount],
        },
        {
          label: `Top up ${formatAmount(amount, token)}`,
          address: RentalEscrow,
          abi: rentalEscrowAbi,
          functionName: "topUp",
          args: [r.rentalId, amount],
        },
      ],
      { token },
    ).then((ok) => ok && setTopUp(""));
  const end = () =>
    transact(
      `End rental #${r.rentalId}`,
      [
        {
          label: "End the rental",
          address: RentalEscrow,
          abi: rentalEscrowAbi,
          functionName: "endRental",
          args: [r.rentalId],
        },
      ],
      {
        token,
      },
    );
  return (
    <div className={`card rental ${open ? "" : "closed"}`} data-testid={`rental-${r.rentalId}`}>
      <div className="row">
        <strong>
          Rental #{String(r.rentalId)} · node #{x.nodeId} · {x.gpus} GPU{x.gpus > 1 ? "s" : ""}
        </strong>
        <span className={`pill s${x.status}`} data-testid="rental-status">
          {STATUS[x.status]}
        </span>
      </div>
      <dl>
        <dt>Plan</dt>
        <dd>
          {PLANS[x.plan]}
          {x.slaTier > 0 ? ` · SLA tier ${x.slaTier}` : ""}
        </dd>
        {open ? (
          <>
            <dt>{x.plan === 2 ? "Term left" : "Time left"}</dt>
            <dd data-testid="time-left">{formatDuration(clock.secondsLeft)}</dd>
            <dt>Balance left</dt>
            <dd data-testid="balance-left">{formatAmount(liveLeft, token, 6)}</dd>
            <dt>Refund if ended now</dt>
            <dd>{formatAmount(r.refundable, token)}</dd>
          </>
        ) : (
          <>
            <dt>Closed</dt>
            <dd data-testid="close-reason">{CLOSE_REASONS[x.closeReason]}</dd>
            <dt>Paid to the provider</dt>
            <dd>{formatAmount(x.amount, token)}</dd>
          </>
        )}
      </dl>
      {open && clock.inGrace && (
        <p className="banner warn" data-testid="grace-warning">
          The balance ran out: the workload is paused. Top up within {formatDuration(clock.graceLeft)} or the rental
          closes.
        </p>
      )}
      {open && !clock.inGrace && clock.lowBalance && x.plan !== 2 && (
        <p className="banner warn">Less than 10 minutes left: top up to keep it running.</p>
      )}
      {open && (
        <div className="actions">
          {x.plan !== 2 && (
            <>
              <input
                placeholder={`Amount (${token.symbol})`}
                value={topUp}
                onChange={(e) => setTopUp(e.target.value)}
                data-testid="topup-amount"
              />
              <button disabled={!amount} onClick={doTopUp} data-testid="topup">
                Top up
              </button>
            </>
          )}
          <button className="danger" onClick={end} data-testid="end">
            End now
          </button>
        </div>
      )}
      <button className="ghost small" onClick={() => setShowSpec(!showSpec)}>
        {showSpec ? "Hide" : "Show"} container launch spec ({template?.name ?? templateId})
      </button>
      {showSpec && template && (
        <pre className="spec">
          {JSON.stringify(launchSpec(template, { rentalId: r.rentalId, renter: x.renter, gpus: x.gpus }), null, 2)}
        </pre>
      )}
    </div>
  );
}

export default function Rentals() {
  const { address } = useWallet();
  const rentals = useRentalsOf(address);
  const credits = useSlaCredits(address);
  const tokens = useTokens();
  const now = useNow(1000);
  if (!address) return <p>Connect a wallet to see your rentals.</p>;
  const open = rentals.data?.filter((r) => r.rental.status === 1 || r.rental.status === 2) ?? [];
  const closed = rentals.data?.filter((r) => r.rental.status === 3) ?? [];
  return (
    <section>
      <h1>My rentals</h1>
      {rentals.isLoading && <p className="muted">Loading…</p>}
      {rentals.data?.length === 0 && (
        <p>
          No rentals yet. <a href="#/">Find a GPU in the marketplace.</a>
        </p>
      )}
      <div className="cards">
        {open.map((r) => (
          <RentalCard key={String(r.rentalId)} r={r} now={now} />
        ))}
      </div>
      {credits.data && credits.data.length > 0 && (
        <>
          <h2>SLA credits</h2>
          <table>
            <thead>
              <tr>
                <th>Rental</th>
                <th>Credit</th>
                <th>Share</th>
                <th>Evidence</th>
              </tr>
            </thead>
            <tbody>
              {credits.data.map((c) => (
                <tr key={`${c.transactionHash}-${c.logIndex}`}>
                  <td>#{String(c.args.rentalId)}</td>
                  <td>{formatAmount(c.args.credit ?? 0n, tokenOf(tokens.data, c.args.token))}</td>
                  <td>{formatBps(c.args.creditBps ?? 0n)}</td>
                  <td className="mono small">
                    tx {c.transactionHash.slice(0, 12)}… (the epoch's attested uptime below your SLA, see Epochs)
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {closed.length > 0 && (
        <>
          <h2>Closed</h2>
          <div className="cards">
            {closed.map((r) => (
              <RentalCard key={String(r.rentalId)} r={r} now={now} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
