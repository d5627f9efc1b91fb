/** Checker view: licenses owned and delegated, stake, reports signed (keeper), rewards. */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { Address } from "viem";

import { checkerLicenseAbi, nodeRegistryAbi, reportOracleAbi, rewardDistributorAbi } from "../../contracts/generated";
import { useAddresses, useClient, useWallet } from "../../hooks/kaisar";
import { useTransactor } from "../../hooks/useTransactor";
import { formatAmount, shortAddress } from "../../lib/format";
import { useKeeperEpochs } from "../../data/keeper";
import { Rewards, useClaimable } from "../rewards/Rewards";

const KAI = { symbol: "KAI", decimals: 18 };

function useChecker(address: Address | undefined) {
  const client = useClient();
  const { CheckerLicense, NodeRegistry, ReportOracle, RewardDistributor } = useAddresses();
  return useQuery({
    queryKey: ["checker", client.chain.id, address],
    enabled: !!address,
    refetchInterval: 10_000,
    queryFn: async () => {
      const read = (address: Address, abi: readonly unknown[], functionName: string, args: readonly unknown[] = []) =>
        client.readContract({ address, abi, functionName, args } as never) as Promise<unknown>;
      const [owned, asOperator, stake, minimum, checkers, positions, minted] = await Promise.all([
        read(CheckerLicense, checkerLicenseAbi, "balanceOf", [address]) as Promise<bigint>,
        read(CheckerLicense, checkerLicenseAbi, "licensesOf", [address]) as Promise<bigint>,
        read(NodeRegistry, nodeRegistryAbi, "getStake", [address]) as Promise<{ staked: bigint }>,
        read(ReportOracle, reportOracleAbi, "minCheckerStake") as Promise<bigint>,
        read(ReportOracle, reportOracleAbi, "checkers") as Promise<readonly Address[]>,
        read(RewardDistributor, rewardDistributorAbi, "positionsOf", [address]) as Promise<
          readonly { day: bigint; amount: bigint }[]
        >,
        read(CheckerLicense, checkerLicenseAbi, "totalMinted") as Promise<bigint>,
      ]);
      // The licenses this account owns, with their operator (bounded scan of the minted ids).
      const licenses: { id: bigint; operator: Address }[] = [];
      if (owned > 0n) {
        for (let id = 1n; id <= minted && id <= 2_000n && BigInt(licenses.length) < owned; id++) {
          const owner = (await read(CheckerLicense, checkerLicenseAbi, "ownerOf", [id]).catch(() => undefined)) as
            Address | undefined;
          if (owner?.toLowerCase() === address!.toLowerCase()) {
            licenses.push({
              id,
              operator: (await read(CheckerLicense, checkerLicenseAbi, "operatorOf", [id])) as Address,
            });
          }
        }
      }
      return {
        owned,
        asOperator,
        stake,
        minimum,
        active: checkers.some((c) => c.toLowerCase() === address!.toLowerCase()),
        positions,
        licenses,
      };
    },
  });
}

export default function Checker() {
  const { address } = useWallet();
  const { CheckerLicense } = useAddresses();
  const data = useChecker(address);
  const epochs = useKeeperEpochs();
  const transact = useTransactor();
  const [operator, setOperator] = useState<Record<string, string>>({});
  const claimable = useClaimable(1, address ? [BigInt(address)] : []);
  if (!address) return <p>Connect a wallet to see your checker licenses.</p>;
  if (!data.data) return <p className="muted">Loading…</p>;
  const d = data.data;
  const signed = epochs.data?.filter((e) => e.signers.some((s) => s.toLowerCase() === address.toLowerCase())) ?? [];
  return (
    <section>
      <h1>Checker</h1>
      <div className="cards">
        <div className="card">
          <h2>Standing</h2>
          <dl>
            <dt>Licenses owned</dt>
            <dd data-testid="licenses">{String(d.owned)}</dd>
            <dt>Licenses delegated to you (operator)</dt>
            <dd>{String(d.asOperator)}</dd>
            <dt>Stake</dt>
            <dd>
              {formatAmount(d.stake.staked, KAI)} (minimum {formatAmount(d.minimum, KAI)})
            </dd>
            <dt>In the checker set</dt>
            <dd>{d.active ? "yes" : "no"}</dd>
            <dt>Reports signed</dt>
            <dd data-testid="reports-signed">
              {signed.length} of the last {epochs.data?.length ?? 0} epochs
              {signed.length
                ? ` (${signed
                    .slice(0, 10)
                    .map((e) => e.epoch)
                    .join(", ")}${signed.length > 10 ? ", …" : ""})`
                : ""}
            </dd>
          </dl>
        </div>
        <Rewards beneficiary={address} claimable={claimable.data} positions={d.positions} />
      </div>
      <h2>Delegation</h2>
      <table>
        <tbody>
          {d.licenses.map((l) => (
            <tr key={String(l.id)}>
              <td>License #{String(l.id)}</td>
              <td>{/^0x0{40}$/.test(l.operator) ? "not delegated" : `operator ${shortAddress(l.operator)}`}</td>
              <td className="actions">
                {/^0x0{40}$/.test(l.operator) ? (
                  <>
                    <input
                      placeholder="operator 0x…"
                      value={operator[String(l.id)] ?? ""}
                      onChange={(e) => setOperator({ ...operator, [String(l.id)]: e.target.value })}
                    />
                    <button
                      onClick={() =>
                        transact("Delegate a license", [
                          {
                            label: `Delegate #${l.id}`,
                            address: CheckerLicense,
                            abi: checkerLicenseAbi,
                            functionName: "delegate",
                            args: [l.id, operator[String(l.id)]],
                          },
                        ])
                      }
                    >
                      Delegate
                    </button>
                  </>
                ) : (
                  <button
                    className="ghost"
                    onClick={() =>
                      transact("Undelegate a license", [
                        {
                          label: `Undelegate #${l.id}`,
                          address: CheckerLicense,
                          abi: checkerLicenseAbi,
                          functionName: "undelegate",
                          args: [l.id],
                        },
                      ])
                    }
                  >
                    Undelegate
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
