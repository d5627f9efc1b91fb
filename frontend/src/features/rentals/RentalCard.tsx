/**
 * One rental of the renter: its figures at this second (lib/rentalView, the contract's math), burn
 * rate and when the funds run out, a warning below an hour left, top-up with a reason for every
 * refused input (one permit signature where the token has permit), and "End now" behind a dialog that
 * states the exact refund and penalty. A closed card names what it paid, refunded and the penalty.
 */
import {
  CloseReason,
  CloseReasonNames,
  Plan,
  PlanNames,
  RentalStatusNames,
  type CloseReasonName,
  type PlanName,
  type RentalStatusName,
} from "@kaisar/offchain/src/vocabulary";
import { useState } from "react";

import { kaiTokenAbi, rentalEscrowAbi } from "../../contracts/generated";
import { tokenOf, useBalances, useTokens } from "../../data/tokens";
import { useAddresses, useClient } from "../../hooks/kaisar";
import { usePermit } from "../../hooks/permit";
import { call, useTransactor, type Call } from "../../hooks/useTransactor";
import { rentalClock } from "../../lib/cost";
import { formatAmount, formatDuration, formatRelative, parseAmount, type TokenInfo } from "../../lib/format";
import { rentalFigures } from "../../lib/rentalView";
import { topUpProblem } from "../../lib/rentCheck";
import { launchSpec, templateOf, useCatalog } from "./catalog";
import { usePenaltyBps, type CloseFigures, type RentalRow } from "../../data/rentals";
import "./rentals.css";

/** The plans, rental states and close reasons in the renter's words (the enums: offchain's vocabulary). */
const PLAN_LABELS: Record<PlanName, string> = { PayAsYouGo: "Pay as you go", Hourly: "Hourly", Saving: "Saving plan" };
const CLOSE_REASON_LABELS: Record<CloseReasonName, string> = {
  None: "—",
  Renter: "ended by you",
  Provider: "ended by the provider",
  Expired: "term ended",
  InsufficientFunds: "balance ran out (after the grace period)",
  SlaBreach: "SLA breach (refunded)",
  ProviderSlashed: "provider slashed (refunded)",
};
const STATUS_LABELS: Record<RentalStatusName, string> = {
  None: "unknown",
  Active: "running",
  Grace: "grace period",
  Closed: "closed",
};
export const PLANS = PlanNames.map((name) => PLAN_LABELS[name]);
export const CLOSE_REASONS = CloseReasonNames.map((name) => CLOSE_REASON_LABELS[name]);
const STATUS = RentalStatusNames.map((name) => STATUS_LABELS[name]);

/** A clock time for "funds run out at": local, with the date when it is not today. */
export function clockTime(unixSec: number, nowSec: number): string {
  const d = new Date(unixSec * 1000);
  const sameDay = new Date(nowSec * 1000).toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return sameDay ? time : `${d.toLocaleDateString()} ${time}`;
}

function EndDialog({
  r,
  token,
  figures,
  onConfirm,
  onCancel,
}: {
  r: RentalRow;
  token: TokenInfo;
  figures: ReturnType<typeof rentalFigures>;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const saving = r.rental.plan === Plan.Saving;
  return (
    <div className="dialog-backdrop" role="presentation" onClick={onCancel}>
      <div
        className="dialog card"
        role="dialog"
        aria-modal="true"
        aria-labelledby={`end-title-${r.rentalId}`}
        data-testid="end-dialog"
        onClick={(e) => e.stopPropagation()}
      >
        <h2 id={`end-title-${r.rentalId}`}>End rental #{String(r.rentalId)} now?</h2>
        <dl>
          <dt>Balance left</dt>
          <dd>{formatAmount(figures.balanceLeft, token, 6)}</dd>
          <dt>Early-exit penalty</dt>
          <dd data-testid="end-penalty">{formatAmount(figures.penalty, token, 6)}</dd>
          <dt>You get back</dt>
          <dd data-testid="end-refund">{formatAmount(figures.refundIfEnded, token, 6)}</dd>
        </dl>
        <p className="small">
          {saving
            ? `A saving plan ended early keeps a penalty on the unused part: you lose ${formatAmount(figures.penalty, token, 6)}. `
            : "No penalty: every unused unit comes back. "}
          Figures for a block mined now; the workload stops at once.
        </p>
        <div className="actions">
          <button className="danger" onClick={onConfirm} data-testid="end-confirm">
            {saving ? `End and pay the ${formatAmount(figures.penalty, token)} penalty` : "End now"}
          </button>
          <button className="ghost" onClick={onCancel} data-testid="end-cancel">
            Keep it running
          </button>
        </div>
      </div>
    </div>
  );
}

function TopUp({ r, token }: { r: RentalRow; token: TokenInfo }) {
  const { RentalEscrow } = useAddresses();
  const client = useClient();
  const transact = useTransactor();
  const permit = usePermit();
  const balances = useBalances(r.rental.renter);
  const [text, setText] = useState("");
  const balance = balances.data?.find((b) => b.token.address.toLowerCase() === r.token.toLowerCase())?.balance;
  const problem = topUpProblem(text, token, balance);
  const amount = problem === undefined ? parseAmount(text, token.decimals) : undefined;
  const send = async () => {
    if (!amount) return;
    const label = `Top up ${formatAmount(amount, token)}`;
    const calls: Call[] = [];
    if (await permit.supports(r.token)) {
      calls.push(
        call({
          label,
          address: RentalEscrow,
          abi: rentalEscrowAbi,
          functionName: "topUpWithPermit",
          sign: {
            label: `Permit the escrow to take ${formatAmount(amount, token)}`,
            run: async () => {
              const p = await permit.sign(r.token, RentalEscrow, amount);
              return [r.rentalId, amount, p.deadline, p.v, p.r, p.s] as const;
            },
          },
        }),
      );
    } else {
      const allowance = await client.readContract({
        address: r.token,
        abi: kaiTokenAbi,
        functionName: "allowance",
        args: [r.rental.renter, RentalEscrow],
      });
      if (allowance < amount) {
        calls.push(
          call({
            label: `Approve ${formatAmount(amount, token)}`,
            address: r.token,
            abi: kaiTokenAbi,
            functionName: "approve",
            args: [RentalEscrow, amount],
            done: `The escrow may now spend ${formatAmount(amount, token)} of yours (approved, nothing paid); a top-up of that amount uses it, or approve 0 in your wallet to withdraw it.`,
          }),
        );
      }
      calls.push(
        call({
          label,
          address: RentalEscrow,
          abi: rentalEscrowAbi,
          functionName: "topUp",
          args: [r.rentalId, amount],
        }),
      );
    }
    if (await transact(`Top up rental #${r.rentalId}`, calls, { token })) setText("");
  };
  return (
    <>
      <input
        placeholder={`Amount (${token.symbol})`}
        value={text}
        onChange={(e) => setText(e.target.value)}
        aria-invalid={!!problem}
        data-testid="topup-amount"
      />
      <button disabled={amount === undefined} onClick={send} data-testid="topup">
        Top up
      </button>
      {problem && (
        <p className="error small full" data-testid="topup-problem">
          {problem}
        </p>
      )}
    </>
  );
}

export function RentalCard({ r, now, closed }: { r: RentalRow; now: number; closed?: CloseFigures }) {
  const tokens = useTokens();
  const catalog = useCatalog();
  const { RentalEscrow } = useAddresses();
  const transact = useTransactor();
  const penaltyBps = usePenaltyBps(r.rental.termsVersion);
  const [showSpec, setShowSpec] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const token = tokenOf(tokens.data, r.token);
  const x = r.rental;
  const open = x.status === 1 || x.status === 2;
  const f = open && penaltyBps.data !== undefined ? rentalFigures(x, now, penaltyBps.data) : undefined;
  const clock = rentalClock(r, now);
  const inGrace = open && clock.inGrace && x.plan !== Plan.Saving;
  const templateId = templateOf(r.rentalId) ?? "pytorch";
  const template = catalog.data?.templates.find((t) => t.id === templateId);
  const end = () => {
    setConfirming(false);
    const step = call({
      label: "End the rental",
      address: RentalEscrow,
      abi: rentalEscrowAbi,
      functionName: "endRental",
      args: [r.rentalId],
    });
    return transact(`End rental #${r.rentalId}`, [step], { token });
  };
  return (
    <div className={`card rental ${open ? "" : "closed"}`} data-testid={`rental-${r.rentalId}`}>
      <div className="row">
        <strong>
          Rental #{String(r.rentalId)} · <a href={`#/node/${x.nodeId}`}>node #{x.nodeId}</a> · {x.gpus} GPU
          {x.gpus > 1 ? "s" : ""}
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
        {open && f && (
          <>
            <dt>{x.plan === Plan.Saving ? "Term left" : "Time left"}</dt>
            <dd data-testid="time-left">{formatDuration(f.secondsLeft)}</dd>
            <dt>Burn rate</dt>
            <dd data-testid="burn-rate">{formatAmount(f.burnPerHour, token)}/h</dd>
            <dt>{x.plan === Plan.Saving ? "Term ends" : "Funds run out"}</dt>
            <dd data-testid="runs-out">
              {f.secondsLeft > 0
                ? `at ${clockTime(f.paidUntil, now)} (${formatRelative(f.paidUntil, now)})`
                : "ran out"}
            </dd>
            <dt>Balance left</dt>
            <dd data-testid="balance-left">{formatAmount(f.balanceLeft, token, 6)}</dd>
            {f.penalty > 0n && (
              <>
                <dt>Penalty if ended now</dt>
                <dd data-testid="penalty-now">−{formatAmount(f.penalty, token, 6)}</dd>
              </>
            )}
            <dt>Refund if ended now</dt>
            <dd data-testid="refund-now">{formatAmount(f.refundIfEnded, token, 6)}</dd>
          </>
        )}
        {!open && (
          <>
            <dt>Closed</dt>
            <dd data-testid="close-reason">{CLOSE_REASONS[x.closeReason]}</dd>
            {closed && (
              <>
                <dt>Refunded to you</dt>
                <dd data-testid="closed-refund">{formatAmount(closed.refund, token)}</dd>
                {/* CloseRental's penalty: paid by the renter when it ended early, TO it when the provider did. */}
                <dt>{x.closeReason === CloseReason.Provider ? "Compensation from the provider" : "Penalty paid"}</dt>
                <dd data-testid="closed-penalty">{formatAmount(closed.penalty, token)}</dd>
                <dt>Paid to the provider</dt>
                <dd>
                  {formatAmount(closed.providerAmount, token)}
                  {x.closeReason === CloseReason.Provider ? " (compensation taken out)" : " (penalty included)"}
                </dd>
              </>
            )}
          </>
        )}
      </dl>
      {inGrace && (
        <p className="banner warn" data-testid="grace-warning">
          The balance ran out: the workload is paused. Top up within {formatDuration(clock.graceLeft)} or the rental
          closes.
        </p>
      )}
      {f && !inGrace && f.lowBalance && (
        <p className="banner warn" data-testid="low-balance">
          Less than an hour left: the funds run out at {clockTime(f.paidUntil, now)}. Top up to keep it running.
        </p>
      )}
      {open && (
        <div className="actions">
          {x.plan !== Plan.Saving && <TopUp r={r} token={token} />}
          <button className="danger" onClick={() => setConfirming(true)} disabled={!f} data-testid="end">
            End now…
          </button>
        </div>
      )}
      {confirming && f && (
        <EndDialog r={r} token={token} figures={f} onConfirm={end} onCancel={() => setConfirming(false)} />
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
