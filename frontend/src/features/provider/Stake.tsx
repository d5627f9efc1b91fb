/** The provider's stake: staked, required, locked, unbonding (with its countdown); stake, unstake, withdraw. */
import { underStakeSentence } from "@kaisar/offchain/src/stake";
import { useState } from "react";
import { formatUnits, type Address } from "viem";

import { kaiTokenAbi, nodeRegistryAbi } from "../../contracts/generated";
import type { useProviderView } from "../../data/provider";
import { useTokens } from "../../data/tokens";
import { useAddresses, useNow } from "../../hooks/kaisar";
import { call, useTransactor } from "../../hooks/useTransactor";
import { KAI, formatAmount, formatDuration, parseAmount } from "../../lib/format";

type ProviderView = NonNullable<ReturnType<typeof useProviderView>["data"]>["view"];

export function Stake({ address, view }: { address: Address; view: ProviderView }) {
  const { NodeRegistry } = useAddresses();
  const tokens = useTokens();
  const transact = useTransactor();
  const now = useNow(1000);
  const [stake, setStake] = useState("");
  const [unstake, setUnstake] = useState("");
  const s = view.stake;
  const stakeAmt = parseAmount(stake, 18);
  const unstakeAmt = parseAmount(unstake, 18);
  const covered = s.staked >= view.requiredStake;
  const underStake = underStakeSentence(address, { staked: s.staked, required: view.requiredStake });
  return (
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
          {underStake} Until then your nodes also earn no epoch rewards: “Fill the requirement” puts the amount in the
          Stake field.
        </p>
      )}
      <div className="actions">
        <input placeholder="KAI" value={stake} onChange={(e) => setStake(e.target.value)} data-testid="stake-amount" />
        <button
          disabled={!stakeAmt}
          data-testid="stake"
          onClick={() =>
            stakeAmt &&
            transact("Stake KAI", [
              call({
                label: `Approve ${formatAmount(stakeAmt, KAI)}`,
                address: tokens.data![0].address,
                abi: kaiTokenAbi,
                functionName: "approve",
                args: [NodeRegistry, stakeAmt],
              }),
              call({
                label: `Stake ${formatAmount(stakeAmt, KAI)}`,
                address: NodeRegistry,
                abi: nodeRegistryAbi,
                functionName: "stake",
                args: [stakeAmt],
              }),
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
              call({
                label: `Unstake ${formatAmount(unstakeAmt, KAI)}`,
                address: NodeRegistry,
                abi: nodeRegistryAbi,
                functionName: "requestUnstake",
                args: [unstakeAmt],
              }),
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
              call({
                label: "Withdraw",
                address: NodeRegistry,
                abi: nodeRegistryAbi,
                functionName: "withdrawUnstaked",
              }),
            ])
          }
        >
          Withdraw unbonded
        </button>
      </div>
    </div>
  );
}
