import { lazy, Suspense, useContext, useEffect, useState } from "react";

import { NetworkSelect, WalletButton, WrongNetwork } from "./components/Wallet";
import { Toasts } from "./components/Toasts";
import { Marketplace } from "./features/marketplace/Marketplace";
import { networkName } from "./config/runtime";
import { RuntimeContext } from "./hooks/kaisar";

const Rent = lazy(() => import("./features/rent/Rent"));
const Rentals = lazy(() => import("./features/rentals/Rentals"));
const Provider = lazy(() => import("./features/provider/Provider"));
const Checker = lazy(() => import("./features/checker/Checker"));
const Monitor = lazy(() => import("./features/monitor/Monitor"));
const Epochs = lazy(() => import("./features/epochs/Epochs"));
const NodePage = lazy(() => import("./features/node/NodePage"));

const NAV: [string, string][] = [
  ["#/", "Marketplace"],
  ["#/rentals", "My rentals"],
  ["#/provider", "Provider"],
  ["#/checker", "Checker"],
  ["#/monitor", "Live monitoring"],
  ["#/epochs", "Epochs"],
];

function useHash(): string {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const on = () => setHash(location.hash || "#/");
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function Page({ hash }: { hash: string }) {
  const [path, arg] = hash.slice(2).split("/");
  switch (path) {
    case "rent":
      return <Rent nodeId={Number(arg)} />;
    case "rentals":
      return <Rentals />;
    case "node":
      return <NodePage nodeId={Number(arg)} />;
    case "provider":
      return <Provider />;
    case "checker":
      return <Checker />;
    case "monitor":
      return <Monitor />;
    case "epochs":
      return <Epochs />;
    default:
      return <Marketplace />;
  }
}

export function App() {
  const rt = useContext(RuntimeContext)!;
  const hash = useHash();
  const [menu, setMenu] = useState(false);
  if (!rt.deployment) {
    const localId = rt.local?.chainId ?? 31337;
    return (
      <main className="page">
        <h1>Kaisar</h1>
        <p className="banner warn" data-testid="no-deployment">
          {rt.problem}
        </p>
        {rt.backTo !== undefined && (
          <p>
            <a className="button" href={`?chain=${rt.backTo}${location.hash}`} data-testid="network-back">
              Back to {networkName(rt.backTo, localId)}
            </a>
          </p>
        )}
        <p>
          Or choose another network: <NetworkSelect rt={rt} />
        </p>
        <p className="small muted">
          The local network comes from <code>npm start</code>; agung and peaq need a deployment export in{" "}
          <code>deploy/exports/</code>.
        </p>
      </main>
    );
  }
  const current = "#/" + hash.slice(2).split("/")[0];
  return (
    <>
      <header className="top">
        <a className="brand" href="#/">
          Kaisar
        </a>
        <button className="ghost burger" aria-label="Menu" onClick={() => setMenu(!menu)}>
          ☰
        </button>
        <nav className={menu ? "open" : ""} onClick={() => setMenu(false)}>
          {NAV.map(([href, label]) => (
            <a
              key={href}
              href={href}
              className={current === href || (href === "#/" && current === "#/") ? "active" : ""}
            >
              {label}
            </a>
          ))}
        </nav>
        <div className="right">
          <NetworkSelect rt={rt} />
          <WalletButton />
        </div>
      </header>
      <WrongNetwork />
      <main className="page">
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Page hash={hash} />
        </Suspense>
      </main>
      <Toasts />
    </>
  );
}
