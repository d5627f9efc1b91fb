/**
 * Rent GPUs on one node: GPUs, token, plan, SLA tier, template; a cost preview; the node's live health
 * (a warning naming why before renting a node that is down or takes no rentals); everything the chain
 * would check, checked before the first signature; then one permit signature and one transaction
 * (`rentWithPermit`), or for a token without permit an approval of exactly the deposit and the rent.
 */
import { useState } from "react";
import { decodeEventLog } from "viem";

import { kaiTokenAbi, rentalEscrowAbi } from "../../contracts/generated";
import { tokenOf, useBalances, useTokens } from "../../data/tokens";
import { useAddresses, useClient, useNow, useWallet } from "../../hooks/kaisar";
import { usePermit } from "../../hooks/permit";
import { call, useTransactor, type Call } from "../../hooks/useTransactor";
import { useEscrowTerms, useTokenEnabled } from "../../data/escrow";
import { SAVING_TERMS, priceCap, quote, type PlanName } from "../../lib/cost";
import { formatAmount, formatBps, formatDuration, formatPricePerHour } from "../../lib/format";
import { liveState, rentWarning } from "../../lib/health";
import { gpuRange, rentProblem } from "../../lib/rentCheck";
import { useCatalog, rememberTemplate } from "../rentals/catalog";
import { useGpuClasses, useNode } from "../../data/nodes";
import { jailsOf, useLiveNodes, usePenalties } from "../../data/health";
import "../marketplace/health.css";
import { useUnderStake } from "../../data/stake";
import { Plan } from "@kaisar/offchain/src/vocabulary";

export default function Rent({ nodeId }: { nodeId: number }) {
  const node = useNode(nodeId);
  const tokens = useTokens();
  const classes = useGpuClasses();
  const escrow = useEscrowTerms();
  const catalog = useCatalog();
  const { address } = useWallet();
  const { RentalEscrow } = useAddresses();
  const client = useClient();
  const transact = useTransactor();
  const [gpus, setGpus] = useState(1);
  const [tokenIndex, setTokenIndex] = useState(0);
  const [plan, setPlan] = useState<PlanName>("PayAsYouGo");
  const [hours, setHours] = useState("1");
  const [termDays, setTermDays] = useState(7);
  const [tier, setTier] = useState(0);
  const [template, setTemplate] = useState("pytorch");
  const [busy, setBusy] = useState(false);
  const [anyway, setAnyway] = useState(false);
  const balances = useBalances(address);
  const live = useLiveNodes();
  const penalties = usePenalties(nodeId);
  const permit = usePermit();
  const now = useNow(1000);
  const tokenEnabled = useTokenEnabled(node.data?.tokens[tokenIndex]);
  const stake = useUnderStake(node.data ? [node.data.provider] : []);

  const n = node.data;
  if (node.isLoading || tokens.isLoading || escrow.isLoading) return <p className="muted">Loading node #{nodeId}…</p>;
  if (!n) return <p className="error">Node #{nodeId} does not exist.</p>;
  const tokenAddr = n.tokens[tokenIndex];
  const token = tokenOf(tokens.data, tokenAddr);
  const price = n.prices[tokenIndex] ?? 0n;
  const terms = escrow.data!;
  const q = quote({
    plan,
    gpus,
    pricePerGpuHour: price,
    hours: Number(hours),
    termDays,
    savingDiscountBps: terms.discounts[termDays] ?? 0n,
    feeBps: BigInt(terms.terms.feeBps),
    earlyExitPenaltyBps: BigInt(terms.terms.earlyExitPenaltyBps),
    gracePeriod: Number(terms.terms.gracePeriod),
    maxGpus: gpuRange(n.freeGpus).max,
  });
  const liveNode = live.data?.nodes.get(n.id);
  const jail = jailsOf(penalties.data).get(n.id);
  const underStake = stake.data?.get(n.provider.toLowerCase());
  const warning = rentWarning(n, liveNode, now * 1000, jail, underStake);
  const balance = balances.data?.find((b) => b.token.address.toLowerCase() === tokenAddr?.toLowerCase())?.balance;
  const problem =
    "error" in q
      ? q.error
      : rentProblem({
          node: n,
          gpus,
          plan: Plan[plan],
          pricePerGpuHour: price,
          depositParam: q.depositParam,
          termDays: plan === "Saving" ? termDays : 0,
          savingDiscountBps: plan === "Saving" ? (terms.discounts[termDays] ?? 0n) : 0n,
          gracePeriod: BigInt(terms.terms.gracePeriod),
          total: q.total,
          balance: address ? balance : undefined,
          escrowPaused: terms.paused,
          tokenEnabled: tokenEnabled.data ?? true,
          token,
          nowSec: now,
          jail,
          underStake,
        });
  const needsConsent = !!warning && !warning.blocking;

  const rent = async () => {
    if ("error" in q || !address || problem) return;
    setBusy(true);
    const params = {
      nodeId: BigInt(n.id),
      gpus: BigInt(gpus),
      token: tokenAddr,
      plan: Plan[plan],
      deposit: q.depositParam,
      termDays: plan === "Saving" ? BigInt(termDays) : 0n,
      maxPricePerGpuHour: priceCap(price),
      slaTier: BigInt(tier),
    };
    const label = `Rent ${gpus} GPU${gpus > 1 ? "s" : ""} on node #${n.id}`;
    const calls: Call[] = [];
    if (await permit.supports(tokenAddr)) {
      // One signature (a permit of exactly the deposit) and one transaction.
      calls.push(
        call({
          label,
          address: RentalEscrow,
          abi: rentalEscrowAbi,
          functionName: "rentWithPermit",
          sign: {
            label: `Permit the escrow to take ${formatAmount(q.total, token)}`,
            run: async () => {
              const p = await permit.sign(tokenAddr, RentalEscrow, q.total);
              return [params, p.deadline, p.v, p.r, p.s] as const;
            },
          },
        }),
      );
    } else {
      const allowance = await client.readContract({
        address: tokenAddr,
        abi: kaiTokenAbi,
        functionName: "allowance",
        args: [address, RentalEscrow],
      });
      if (allowance < q.total) {
        // Exactly the deposit: the rent spends all of it, so no allowance is left behind.
        calls.push(
          call({
            label: `Approve ${formatAmount(q.total, token)}`,
            address: tokenAddr,
            abi: kaiTokenAbi,
            functionName: "approve",
            args: [RentalEscrow, q.total],
            done: `The escrow may now spend ${formatAmount(q.total, token)} of yours (approved, nothing paid); renting again uses that approval, or approve 0 in your wallet to withdraw it.`,
          }),
        );
      }
      calls.push(call({ label, address: RentalEscrow, abi: rentalEscrowAbi, functionName: "rent", args: [params] }));
    }
    const receipts = await transact(`Rent node #${n.id}`, calls, { token });
    setBusy(false);
    if (!receipts) return;
    for (const log of receipts[receipts.length - 1].logs) {
      try {
        const ev = decodeEventLog({ abi: rentalEscrowAbi, ...log });
        if (ev.eventName === "OpenRental") rememberTemplate((ev.args as { rentalId: bigint }).rentalId, template);
      } catch {
        // another contract's event
      }
    }
    location.assign("#/rentals");
  };

  return (
    <section className="narrow">
      <h1>Rent node #{n.id}</h1>
      <p>
        {n.gpuCount}× {classes.data?.[n.gpuClass]?.name ?? "GPU"}, {n.vramGiB} GiB VRAM each · {n.cpuCores} CPU cores ·{" "}
        {n.ramGiB} GiB RAM · {n.region || "no region"} · {n.freeGpus} free
      </p>
      <p className="muted" data-testid="rent-health">
        Checkers: {live.data ? liveState(liveNode, now * 1000).text : "…"} · <a href={`#/node/${n.id}`}>node history</a>
      </p>
      {warning && (
        <div className={`banner ${warning.blocking ? "error" : "warn"}`} data-testid="rent-warning">
          <p>{warning.text}</p>
          {needsConsent && (
            <label className="check">
              <input
                type="checkbox"
                checked={anyway}
                onChange={(e) => setAnyway(e.target.checked)}
                data-testid="rent-anyway"
              />{" "}
              I understand; rent anyway
            </label>
          )}
        </div>
      )}
      <div className="form">
        <label>
          GPUs
          <input
            type="number"
            min={1}
            max={gpuRange(n.freeGpus).max}
            value={gpus}
            onChange={(e) => setGpus(Number(e.target.value))}
            data-testid="rent-gpus"
          />
          <span className="small muted">
            {n.freeGpus > 0 ? `1 to ${gpuRange(n.freeGpus).max} (${n.freeGpus} free)` : "none free"}
          </span>
        </label>
        <label>
          Pay in
          <select value={tokenIndex} onChange={(e) => setTokenIndex(Number(e.target.value))}>
            {n.tokens.map((t, i) => (
              <option key={t} value={i} disabled={n.prices[i] === 0n}>
                {tokenOf(tokens.data, t).symbol} —{" "}
                {n.prices[i] > 0n ? formatPricePerHour(n.prices[i], tokenOf(tokens.data, t)) : "not accepted"}
              </option>
            ))}
          </select>
        </label>
        <label>
          Plan
          <select value={plan} onChange={(e) => setPlan(e.target.value as PlanName)} data-testid="rent-plan">
            <option value="PayAsYouGo">Pay as you go (by the second)</option>
            <option value="Hourly">Hourly (per started hour)</option>
            <option value="Saving">Saving plan (prepaid term, discounted)</option>
          </select>
        </label>
        {plan === "Saving" ? (
          <label>
            Term
            <select value={termDays} onChange={(e) => setTermDays(Number(e.target.value))}>
              {SAVING_TERMS.map((d) => (
                <option key={d} value={d}>
                  {d} days — {formatBps(terms.discounts[d] ?? 0n)} off
                </option>
              ))}
            </select>
          </label>
        ) : (
          <label>
            Prepay (hours)
            <input
              type="number"
              min={0}
              step="any"
              value={hours}
              onChange={(e) => setHours(e.target.value)}
              data-testid="rent-hours"
            />
          </label>
        )}
        <label>
          SLA
          <select value={tier} onChange={(e) => setTier(Number(e.target.value))}>
            {terms.tiers.map((t, i) => (
              <option key={i} value={i}>
                {t === 0 ? "No SLA" : `${formatBps(t)} uptime, refunds below it`}
              </option>
            ))}
          </select>
        </label>
        <label>
          Container
          <select value={template} onChange={(e) => setTemplate(e.target.value)}>
            {catalog.data?.templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="card" data-testid="cost-preview">
        <h2>Cost</h2>
        {"error" in q ? (
          <p className="error">{q.error}</p>
        ) : (
          <>
            <dl>
              <dt>Total now</dt>
              <dd data-testid="cost-total">{formatAmount(q.total, token)}</dd>
              <dt>Per hour</dt>
              <dd>{formatAmount(q.perHour, token)}</dd>
              <dt>Runtime paid</dt>
              <dd>{formatDuration(q.seconds)}</dd>
              {q.discount > 0n && (
                <>
                  <dt>Discount</dt>
                  <dd>−{formatAmount(q.discount, token)}</dd>
                </>
              )}
              <dt>Protocol fee</dt>
              <dd>
                {formatAmount(q.fee, token)} ({formatBps(terms.terms.feeBps)}, from the provider's earnings, not added
                to your cost)
              </dd>
              <dt>Price cap</dt>
              <dd>{formatPricePerHour(priceCap(price), token)}: the rent fails rather than charge more</dd>
            </dl>
            <ul className="small">
              {q.refundRules.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
          </>
        )}
        {problem && !("error" in q) && (
          <p className="error" data-testid="rent-problem">
            {problem}
          </p>
        )}
        <button
          disabled={busy || !address || !!problem || (needsConsent && !anyway)}
          onClick={rent}
          data-testid="rent-submit"
        >
          {address ? "Rent" : "Connect a wallet to rent"}
        </button>
      </div>
    </section>
  );
}
