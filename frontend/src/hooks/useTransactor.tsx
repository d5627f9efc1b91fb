/**
 * The one transactor: for each call simulate → write → wait, then invalidate every query and say
 * what happened. Progress and errors show as toasts; errors are sentences (lib/errors), never hex.
 */
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useState, type ReactNode } from "react";
import type { Abi, Address, Hash, TransactionReceipt } from "viem";
import { useConfig } from "wagmi";
import { simulateContract, waitForTransactionReceipt, writeContract } from "wagmi/actions";

import { kaisarErrorsAbi } from "../contracts/generated";
import { explainError, type ErrorContext } from "../lib/errors";
import { useRuntime, useWallet } from "./kaisar";

export interface Call {
  /** What this step does, for the progress line ("Approve 10 KAI"). */
  label: string;
  address: Address;
  abi: Abi | readonly unknown[];
  functionName: string;
  args?: readonly unknown[];
}

export interface Toast {
  id: number;
  title: string;
  status: "pending" | "done" | "error";
  step: string;
  hash?: Hash;
}

const ToastContext = createContext<{ toasts: Toast[]; set: (t: Toast) => void; dismiss: (id: number) => void } | null>(
  null,
);

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const set = useCallback((t: Toast) => setToasts((all) => [...all.filter((x) => x.id !== t.id), t].slice(-4)), []);
  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((x) => x.id !== id)), []);
  return <ToastContext.Provider value={{ toasts, set, dismiss }}>{children}</ToastContext.Provider>;
}

export function useToasts() {
  const ctx = useContext(ToastContext);
  if (!ctx) throw new Error("no ToastProvider");
  return ctx;
}

let nextId = 1;

/** Runs `calls` in order as one action titled `title`; resolves to the receipts, or undefined on failure. */
export function useTransactor() {
  const config = useConfig();
  const queryClient = useQueryClient();
  const { set } = useToasts();
  const { chainId } = useRuntime();
  const { address } = useWallet();
  return useCallback(
    async (title: string, calls: Call[], context?: ErrorContext): Promise<TransactionReceipt[] | undefined> => {
      const id = nextId++;
      const receipts: TransactionReceipt[] = [];
      try {
        if (!address) throw new Error("Connect a wallet first.");
        for (const [i, call] of calls.entries()) {
          const n = calls.length > 1 ? ` (step ${i + 1} of ${calls.length})` : "";
          set({ id, title, status: "pending", step: `${call.label}${n}: checking…` });
          const { request } = await simulateContract(config, {
            account: address,
            chainId,
            address: call.address,
            abi: [...(call.abi as Abi), ...(kaisarErrorsAbi as unknown as Abi)],
            functionName: call.functionName,
            args: call.args,
          } as never);
          set({ id, title, status: "pending", step: `${call.label}${n}: confirm in your wallet…` });
          const hash = await writeContract(config, request as never);
          set({ id, title, status: "pending", step: `${call.label}${n}: waiting for the network…`, hash });
          const receipt = await waitForTransactionReceipt(config, { hash, chainId });
          if (receipt.status !== "success") throw new Error("execution reverted");
          receipts.push(receipt);
        }
        set({ id, title, status: "done", step: "Done." });
        await queryClient.invalidateQueries();
        return receipts;
      } catch (e) {
        if (!(e instanceof Error) || e.message !== "Connect a wallet first.") console.warn(title, e);
        set({ id, title, status: "error", step: explainError(e, context) });
        await queryClient.invalidateQueries();
        return undefined;
      }
    },
    [config, queryClient, set, chainId, address],
  );
}
