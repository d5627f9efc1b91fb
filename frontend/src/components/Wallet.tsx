/** Connect (injected wallets, and on the local chain the labelled local test accounts), balance, network switch. */
import { useState } from "react";
import { useConnect, useConnectors, useDisconnect, useSwitchChain } from "wagmi";

import { AGUNG_ID, PEAQ_ID, type Runtime } from "../config/runtime";
import { useBalances } from "../data/tokens";
import { useRuntime, useWallet } from "../hooks/kaisar";
import { explainError } from "../lib/errors";
import { formatAmount, shortAddress } from "../lib/format";

export function WalletButton() {
  const { address, isConnected, connectorName } = useWallet();
  const connectors = useConnectors();
  const { mutateAsync: connect } = useConnect();
  const { mutate: disconnect } = useDisconnect();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string>();
  const balances = useBalances(address);
  if (isConnected && address) {
    return (
      <div className="wallet">
        <span className="balance" data-testid="balance">
          {balances.data?.map((b) => formatAmount(b.balance, b.token, 4)).join(" · ") ?? "…"}
        </span>
        <button className="ghost" title={connectorName} onClick={() => disconnect()} data-testid="account">
          {shortAddress(address)} ✕
        </button>
      </div>
    );
  }
  const local = connectors.filter((c) => c.id.startsWith("kaisar-local-"));
  const wallets = connectors.filter((c) => !c.id.startsWith("kaisar-local-"));
  return (
    <div className="wallet">
      <button onClick={() => setOpen(!open)} data-testid="connect">
        Connect
      </button>
      {open && (
        <div className="menu" role="menu">
          {wallets.map((c) => (
            <button
              key={c.uid}
              className="ghost"
              onClick={() =>
                connect({ connector: c }).then(
                  () => setOpen(false),
                  (e) => setError(explainError(e)),
                )
              }
            >
              {c.name === "Injected" ? "Browser wallet" : c.name}
            </button>
          ))}
          {local.length > 0 && (
            <>
              <div className="menu-note">
                Local test accounts (demo keys of the local chain, never use them elsewhere):
              </div>
              {local.map((c) => (
                <button
                  key={c.uid}
                  className="ghost"
                  data-testid="local-account"
                  onClick={() =>
                    connect({ connector: c }).then(
                      () => setOpen(false),
                      (e) => setError(explainError(e)),
                    )
                  }
                >
                  {c.name}
                </button>
              ))}
            </>
          )}
          {error && <div className="error">{error}</div>}
        </div>
      )}
    </div>
  );
}

/**
 * The network menu. Choosing reloads the app on `?chain=<id>`; the runtime remembers the choice only
 * once that network's deployment loaded (config/runtime.ts), so a network without one is no trap.
 */
export function NetworkSelect({ rt }: { rt: Pick<Runtime, "local" | "chainId"> }) {
  const localId = rt.local?.chainId ?? 31337;
  return (
    <select
      aria-label="Network"
      data-testid="network"
      value={rt.chainId}
      onChange={(e) => (location.search = `?chain=${Number(e.target.value)}`)}
    >
      <option value={localId}>Local</option>
      <option value={AGUNG_ID}>agung (testnet)</option>
      <option value={PEAQ_ID}>peaq</option>
    </select>
  );
}

export function WrongNetwork() {
  const rt = useRuntime();
  const { wrongNetwork } = useWallet();
  const { mutateAsync: switchChain, isPending } = useSwitchChain();
  const [error, setError] = useState<string>();
  if (!wrongNetwork) return null;
  return (
    <div className="banner warn" data-testid="wrong-network">
      Your wallet is on another network.{" "}
      <button
        disabled={isPending}
        onClick={() => switchChain({ chainId: rt.chainId }).catch((e) => setError(explainError(e)))}
      >
        Switch network
      </button>
      {error && <span className="error"> {error}</span>}
    </div>
  );
}
