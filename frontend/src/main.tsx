import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { WagmiProvider } from "wagmi";

import { App } from "./App";
import { loadRuntime } from "./config/runtime";
import { makeQueryClient, makeWagmiConfig } from "./config/wagmi";
import { RuntimeContext } from "./hooks/kaisar";
import { ToastProvider } from "./hooks/useTransactor";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);
loadRuntime().then((rt) => {
  const config = makeWagmiConfig(rt);
  const queryClient = makeQueryClient();
  root.render(
    <StrictMode>
      <RuntimeContext.Provider value={rt}>
        <WagmiProvider config={config}>
          <QueryClientProvider client={queryClient}>
            <ToastProvider>
              <App />
            </ToastProvider>
          </QueryClientProvider>
        </WagmiProvider>
      </RuntimeContext.Provider>
    </StrictMode>,
  );
});
