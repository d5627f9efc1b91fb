/** The renter's rentals (cards in RentalCard: live figures, top up, end with confirmation), SLA credits, closed rentals. */
import { RentalStatus } from "@kaisar/offchain/src/vocabulary";

import { Loading, Table } from "../../components/Table";
import { tokenOf, useTokens } from "../../data/tokens";
import { useNow, useWallet } from "../../hooks/kaisar";
import { formatAmount, formatBps } from "../../lib/format";
import { RentalCard } from "./RentalCard";
import { useCloseFigures, useRentalsOf, useSlaCredits } from "../../data/rentals";
import { LowBalanceNotices } from "./notify";

export { PLANS, CLOSE_REASONS } from "./RentalCard";

export default function Rentals() {
  const { address } = useWallet();
  const rentals = useRentalsOf(address);
  const credits = useSlaCredits(address);
  const tokens = useTokens();
  const now = useNow(1000);
  const open =
    rentals.data?.filter((r) => r.rental.status === RentalStatus.Active || r.rental.status === RentalStatus.Grace) ??
    [];
  const closed = rentals.data?.filter((r) => r.rental.status === RentalStatus.Closed) ?? [];
  const closeFigures = useCloseFigures(closed.map((r) => r.rentalId));
  if (!address) return <p>Connect a wallet to see your rentals.</p>;
  return (
    <section>
      <h1>My rentals</h1>
      <LowBalanceNotices rentals={open} now={now} />
      {rentals.isLoading && <Loading />}
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
          <Table testId="sla-credits" head={["Epoch", "Rental", "Credit", "Share", "Evidence"]}>
            {credits.data.map((c) => (
              <tr key={`${c.transactionHash}-${c.logIndex}`}>
                <td data-testid="credit-epoch">{c.epoch ?? "—"}</td>
                <td>#{String(c.args.rentalId)}</td>
                <td>{formatAmount(c.args.credit ?? 0n, tokenOf(tokens.data, c.args.token))}</td>
                <td>{formatBps(c.args.creditBps ?? 0n)}</td>
                <td className="mono small">
                  tx {c.transactionHash.slice(0, 12)}… (the epoch's attested uptime below your SLA, see Epochs)
                </td>
              </tr>
            ))}
          </Table>
        </>
      )}
      {closed.length > 0 && (
        <>
          <h2>Closed</h2>
          <div className="cards">
            {closed.map((r) => (
              <RentalCard
                key={String(r.rentalId)}
                r={r}
                now={now}
                closed={closeFigures.data?.get(String(r.rentalId))}
              />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
