/**
 * Rewards of a provider's nodes or a checker operator: the claimable leaves the keeper serves (each
 * checked against the chain before it is offered), and the vesting positions with "withdraw now at a
 * haircut or wait", behind a confirmation that states what is received and what is forfeited.
 */
import { useState } from "react";
import type { Address, Hex } from "viem";

import { Confirm } from "../../components/Confirm";
import { nodeRegistryAbi, rewardDistributorAbi } from "../../contracts/generated";
import { useAddresses, useClient, useNow, useWallet } from "../../hooks/kaisar";
import { call, useTransactor } from "../../hooks/useTransactor";
import { explainError } from "../../lib/errors";
import { KAI, formatAmount, formatBps, formatRelative } from "../../lib/format";
import { nextVestingStep, vestedBpsAt } from "../../lib/vesting";
import { useClaimable, type Proof } from "./claimable";
import type { VerifiedProof } from "./verify";

import "./rewards.css";

interface Position {
  day: bigint;
  amount: bigint;
}

/** What withdrawing `p` now pays, as the contract computes it (withdrawVested simulated from the owner). */
interface WithdrawQuote {
  position: Position;
  paid: bigint;
}

const dayText = (day: bigint) => new Date(Number(day) * 86_400_000).toISOString().slice(0, 10);

/**
 * The rewards card: claim the unclaimed leaves of `subjects` (node ids, kind 0, or a checker operator,
 * kind 1) to `beneficiary`, and its vesting positions with "withdraw now at a haircut or wait".
 */
export function Rewards({
  beneficiary,
  kind,
  subjects,
  positions,
}: {
  beneficiary: Address;
  kind: 0 | 1;
  subjects: bigint[];
  positions: readonly Position[];
}) {
  const claimable = useClaimable(kind, subjects).data;
  const { RewardDistributor } = useAddresses();
  const { address } = useWallet();
  const client = useClient();
  const transact = useTransactor();
  const now = useNow(10_000);
  const [quote, setQuote] = useState<WithdrawQuote>();
  const [quoteError, setQuoteError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const open = claimable?.filter((c): c is Proof & VerifiedProof => !c.claimed && !c.problem && c.amount > 0n) ?? [];
  // One line per reason (a bad keeper root fails every node of the epoch alike).
  const refused = [...new Set(claimable?.flatMap((c) => (!c.claimed && c.problem ? [c.problem] : [])))];
  const total = open.reduce((s, c) => s + c.amount, 0n);
  const claim = () =>
    transact("Claim rewards", [
      call({
        label: `Claim ${formatAmount(total, KAI)} over ${open.length} epoch${open.length > 1 ? "s" : ""}`,
        address: RewardDistributor,
        abi: rewardDistributorAbi,
        functionName: "claim",
        args: [
          beneficiary,
          open.map((c) => ({
            leaf: { ...c.leaf, account: c.leaf.account as Address, metricsHash: c.leaf.metricsHash as Hex },
            proof: c.proof as Hex[],
          })),
        ],
      }),
    ]);
  /** Asks the contract what a withdrawal now pays (its own vestedBps at the latest block), then confirms. */
  const askWithdraw = async (position: Position) => {
    setQuoteError(undefined);
    try {
      const { result } = await client.simulateContract({
        account: address,
        address: RewardDistributor,
        abi: rewardDistributorAbi,
        functionName: "withdrawVested",
        args: [position.day],
      });
      setQuote({ position, paid: result });
    } catch (e) {
      setQuoteError(explainError(e));
    }
  };
  const withdraw = async () => {
    if (!quote) return;
    setBusy(true);
    await transact("Withdraw vested rewards", [
      call({
        label: `Withdraw ${formatAmount(quote.paid, KAI)}, forfeit ${formatAmount(quote.position.amount - quote.paid, KAI)}`,
        address: RewardDistributor,
        abi: rewardDistributorAbi,
        functionName: "withdrawVested",
        args: [quote.position.day],
      }),
    ]);
    setBusy(false);
    setQuote(undefined);
  };
  const held = positions.filter((p) => p.amount > 0n);
  return (
    <div className="card">
      <h2>Rewards</h2>
      <p data-testid="claimable">
        {claimable === undefined
          ? "Reading the keeper's proofs…"
          : open.length === 0
            ? "Nothing to claim."
            : `${formatAmount(total, KAI)} to claim from epochs ${open.map((c) => c.epoch).join(", ")}.`}
      </p>
      {refused.map((problem) => (
        <p className="error" key={problem} data-testid="proof-problem">
          {problem}
        </p>
      ))}
      {open.length > 0 && (
        <button onClick={claim} data-testid="claim">
          Claim
        </button>
      )}
      <h3>Vesting</h3>
      <p className="small muted">
        A claim vests from the end of its day (UTC): withdraw within 30 days for 25%, 90 days for 50%, 180 days for 75%,
        after that 100%. The rest returns to the reserve.
      </p>
      {quoteError && <p className="error">{quoteError}</p>}
      <ul className="positions">
        {held.map((p) => {
          const bps = vestedBpsAt(p.day, now);
          const next = nextVestingStep(p.day, now);
          return (
            <li key={String(p.day)} data-testid="position">
              <span className="pos-day">{dayText(p.day)}</span>
              <span className="pos-amount">{formatAmount(p.amount, KAI)}</span>
              <span className="pos-now" data-testid="position-vesting">
                now {formatAmount((p.amount * BigInt(bps)) / 10_000n, KAI)} ({formatBps(bps)})
                {next && ` · ${formatBps(next.bps)} ${formatRelative(next.at, now)}`}
              </span>
              <button className="ghost" onClick={() => void askWithdraw(p)} data-testid="withdraw-vested">
                Withdraw now
              </button>
            </li>
          );
        })}
      </ul>
      {quote && (
        <Confirm
          title="Withdraw vested rewards now?"
          confirmLabel={`Withdraw ${formatAmount(quote.paid, KAI)}`}
          onConfirm={() => void withdraw()}
          onCancel={() => setQuote(undefined)}
          busy={busy}
        >
          <p data-testid="confirm-amounts">
            You receive <strong data-testid="confirm-received">{formatAmount(quote.paid, KAI)}</strong> and forfeit{" "}
            <strong className="error" data-testid="confirm-forfeited">
              {formatAmount(quote.position.amount - quote.paid, KAI)}
            </strong>{" "}
            of the {formatAmount(quote.position.amount, KAI)} claimed on {dayText(quote.position.day)} (
            {formatBps((quote.paid * 10_000n + quote.position.amount - 1n) / quote.position.amount)} vested). The
            forfeited part returns to the reward reserve; this cannot be undone.
          </p>
          {nextVestingStep(quote.position.day, now) && (
            <p className="small muted">
              Waiting gives {formatBps(nextVestingStep(quote.position.day, now)!.bps)}{" "}
              {formatRelative(nextVestingStep(quote.position.day, now)!.at, now)}.
            </p>
          )}
        </Confirm>
      )}
    </div>
  );
}

/** Rewards the registry credited to the provider's stake account, and their withdrawal. */
export function StakeAccountRewards({ owed }: { owed: bigint }) {
  const { NodeRegistry } = useAddresses();
  const transact = useTransactor();
  return (
    <p>
      Rewards credited to your stake account: {formatAmount(owed, KAI)}{" "}
      {owed > 0n && (
        <button
          className="ghost"
          onClick={() =>
            transact("Withdraw rewards", [
              call({ label: "Withdraw", address: NodeRegistry, abi: nodeRegistryAbi, functionName: "withdrawRewards" }),
            ])
          }
        >
          Withdraw
        </button>
      )}
    </p>
  );
}
