/**
 * The markup every page repeats: a scrolling table with its head, a list that says so when it is
 * empty, and the "Loading…" / "Connect a wallet" lines.
 */
import type { ReactNode } from "react";

/** A column heading: its text, or the text with a tooltip. */
export type Heading = string | { label: string; title: string };

/** A table with `head` as its columns and `children` as its body rows, scrolling sideways when narrow. */
export function Table({
  head,
  testId,
  className,
  children,
}: {
  head?: readonly Heading[];
  testId?: string;
  className?: string;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table className={className} data-testid={testId}>
        {head && (
          <thead>
            <tr>
              {head.map((h, i) =>
                typeof h === "string" ? (
                  <th key={i}>{h}</th>
                ) : (
                  <th key={i} title={h.title}>
                    {h.label}
                  </th>
                ),
              )}
            </tr>
          </thead>
        )}
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/**
 * `items` as a table of `row`s, or, when there are none, the muted sentence `empty`; both carry
 * `testId`, so a test finds the one shown.
 */
export function ListTable<T>({
  items,
  head,
  row,
  empty,
  testId,
}: {
  items: readonly T[];
  head?: readonly Heading[];
  row: (item: T, index: number) => ReactNode;
  empty: ReactNode;
  testId?: string;
}) {
  if (items.length === 0)
    return (
      <p className="muted" data-testid={testId}>
        {empty}
      </p>
    );
  return (
    <Table head={head} testId={testId}>
      {items.map(row)}
    </Table>
  );
}

/** The line shown while a page's first read is on its way. */
export function Loading({ what }: { what?: string }) {
  return <p className="muted">{what ? `Loading ${what}…` : "Loading…"}</p>;
}
