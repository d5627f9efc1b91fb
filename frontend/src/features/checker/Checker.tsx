/** Checker view: licenses owned and delegated, stake, reports signed (keeper), rewards. */
import { useState } from "react";
import type { Address } from "viem";

import { Loading } from "../../components/Table";
import { checkerLicenseAbi } from "../../contracts/generated";
import { useChecker } from "../../data/checker";
import { useAddresses, useWallet } from "../../hooks/kaisar";
import { call, useTransactor } from "../../hooks/useTransactor";
import { KAI, formatAmount, shortAddress } from "../../lib/format";
import { useKeeperEpochs } from "../../data/keeper";
import { Rewards } from "../rewards/Rewards";

export default function Checker() {
  const { address } = useWallet();
  const { CheckerLicense } = useAddresses();
  const data = useChecker(address);
  const epochs = useKeeperEpochs();
  const transact = useTransactor();
  const [operator, setOperator] = useState<Record<string, string>>({});
  if (!address) return <p>Connect a wallet to see your checker licenses.</p>;
  if (!data.data) return <Loading />;
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
        <Rewards beneficiary={address} kind={1} subjects={[BigInt(address)]} positions={d.positions} />
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
                          call({
                            label: `Delegate #${l.id}`,
                            address: CheckerLicense,
                            abi: checkerLicenseAbi,
                            functionName: "delegate",
                            // Unchecked here as before: the simulation refuses a malformed address with its own sentence.
                            args: [l.id, operator[String(l.id)] as Address],
                          }),
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
                        call({
                          label: `Undelegate #${l.id}`,
                          address: CheckerLicense,
                          abi: checkerLicenseAbi,
                          functionName: "undelegate",
                          args: [l.id],
                        }),
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
