/**
 * The one transactor: for each call simulate → estimate (with the shared gas headroom) → write → wait, then invalidate every query and say
 * what happened. Progress and errors show as toasts; errors are sentences (lib/errors), never hex.
 */
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useState, type ReactNode } from "react";
import type { Abi, Address, Hash, TransactionReceipt } from "viem";
import { useConfig } from "wagmi";
import { gasLimitFor } from "@kaisar/offchain/src/gas";
import { getPublicClient, simulateContract, waitForTransactionReceipt, writeContract } from "wagmi/actions";

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
  /**
   * A signature to ask for first (an EIP-2612 permit): `run` signs and returns the call's args.
   * `label` is the progress line while the wallet asks.
   */
  sign?: { label: string; run: () => Promise<readonly unknown[]> };
  /** What this step has done once mined, said if a later step fails ("The escrow may now spend 10 KAI of yours."). */
  done?: string;
}

/** The sentence for a failure at step `failed` of `calls`: what the steps before it already did, then why. */
export function failureMessage(calls: readonly Call[], failed: number, why: string): string {
  const done = calls.slice(0, failed).map((c) => c.done ?? `${c.label}: done.`);
  if (done.length === 0) return why;
  why = why.replace("Nothing was sent.", "This step was not sent.");
  return `Step ${failed + 1} of ${calls.length} failed: ${why} Already done in step${failed > 1 ? "s" : ""} before it: ${done.join(" ")}`;
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
      let step = 0;
      try {
        if (!address) throw new Error("Connect a wallet first.");
        for (const [i, call] of calls.entries()) {
          step = i;
          const n = calls.length > 1 ? ` (step ${i + 1} of ${calls.length})` : "";
          let args = call.args;
          if (call.sign) {
            set({ id, title, status: "pending", step: `${call.sign.label}${n}: sign in your wallet…` });
            args = await call.sign.run();
          }
          set({ id, title, status: "pending", step: `${call.label}${n}: checking…` });
          const { request } = await simulateContract(config, {
            account: address,
            chainId,
            address: call.address,
            abi: [...(call.abi as Abi), ...(kaisarErrorsAbi as unknown as Abi)],
            functionName: call.functionName,
            args,
          } as never);
          // The estimate is exact for the block simulated; the block that includes it may take a dearer path.
          const estimate = await getPublicClient(config, { chainId })!.estimateContractGas(request as never);
          set({ id, title, status: "pending", step: `${call.label}${n}: confirm in your wallet…` });
          const hash = await writeContract(config, { ...(request as object), gas: gasLimitFor(estimate) } as never);
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
        set({ id, title, status: "error", step: failureMessage(calls, step, explainError(e, context)) });
        await queryClient.invalidateQueries();
        return undefined;
      }
    },
    [config, queryClient, set, chainId, address],
  );
}
