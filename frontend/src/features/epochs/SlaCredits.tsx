/** SLA credits as a table (the Epochs page per epoch, the provider page for its nodes): uptime, credit, its sources. */
import type { ReactNode } from "react";

import { ListTable, type Heading } from "../../components/Table";
import type { SlaCredit } from "../../data/sla";
import { tokenOf, useTokens } from "../../data/tokens";
import { KAI, formatAmount, formatBps } from "../../lib/format";

export function SlaCreditsTable({
  credits,
  testId,
  rowTestId,
  empty,
  uptime,
  lead,
}: {
  credits: SlaCredit[];
  testId: string;
  rowTestId?: string;
  empty: string;
  /** The uptime column's heading. */
  uptime: string;
  /** Columns before the rental's: their headings and cells. */
  lead?: { head: Heading[]; cells: (c: SlaCredit) => ReactNode };
}) {
  const tokens = useTokens();
  return (
    <ListTable
      items={credits}
      testId={testId}
      empty={empty}
      head={[
        ...(lead?.head ?? []),
        "Rental",
        uptime,
        "Credit",
        "From earnings",
        {
          label: "Due from stake",
          title: "Owed from the provider's stake (capped per epoch) and paid after the epoch's slash window",
        },
      ]}
      row={(c) => (
        <tr key={`${c.tx}-${c.rentalId}`} data-testid={rowTestId}>
          {lead?.cells(c)}
          <td>#{String(c.rentalId)}</td>
          <td>{formatBps(c.uptimeBps)}</td>
          <td>{formatAmount(c.credit, tokenOf(tokens.data, c.token))}</td>
          <td>{formatAmount(c.fromEarnings, tokenOf(tokens.data, c.token))}</td>
          <td>{formatAmount(c.kaiFromStake, KAI)}</td>
        </tr>
      )}
    />
  );
}
