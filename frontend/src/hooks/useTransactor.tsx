/**
 * The one transactor: for each call simulate → estimate (with the shared gas headroom) → write → wait,
 * then invalidate the reads its calls change (data/keys: INVALIDATES) and say what happened. Progress
 * and errors show as toasts; errors are sentences (lib/errors), never hex. Calls are built with
 * `call()`, typed by the generated ABIs: a misspelt function or a wrong argument does not compile.
 */
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useState, type ReactNode } from "react";
import type { Abi, Address, ContractFunctionArgs, ContractFunctionName, Hash, TransactionReceipt } from "viem";
import { useConfig } from "wagmi";
import { gasLimitFor } from "@kaisar/offchain/src/gas";
import { getPublicClient, simulateContract, waitForTransactionReceipt, writeContract } from "wagmi/actions";

import { kaisarErrorsAbi } from "../contracts/generated";
import { invalidateAfter, type AppWrite } from "../data/keys";
import { explainError, type ErrorContext } from "../lib/errors";
import { useRuntime, useWallet } from "./kaisar";

type Mutability = "nonpayable" | "payable";
/** The writes of `abi` that the app makes (each says in data/keys which reads it changes). */
type AppWriteOf<abi extends Abi> = Extract<ContractFunctionName<abi, Mutability>, AppWrite>;
type WriteArgs<abi extends Abi, fn extends ContractFunctionName<abi, Mutability>> = ContractFunctionArgs<
  abi,
  Mutability,
  fn
>;

/** One step of an action: a write of `abi`'s function `fn`, typed from the generated ABI. */
export interface TypedCall<abi extends Abi, fn extends AppWriteOf<abi>> {
  /** What this step does, for the progress line ("Approve 10 KAI"). */
  label: string;
  address: Address;
  abi: abi;
  functionName: fn;
  args?: WriteArgs<abi, fn>;
  /**
   * A signature to ask for first (an EIP-2612 permit): `run` signs and returns the call's args.
   * `label` is the progress line while the wallet asks.
   */
  sign?: { label: string; run: () => Promise<WriteArgs<abi, fn>> };
  /** What this step has done once mined, said if a later step fails ("The escrow may now spend 10 KAI of yours."). */
  done?: string;
}

/** A step whose types were checked by `call()`, as the transactor runs it. */
export interface Call {
  label: string;
  address: Address;
  abi: Abi;
  functionName: AppWrite;
  args?: readonly unknown[];
  sign?: { label: string; run: () => Promise<readonly unknown[]> };
  done?: string;
}

/** A step of an action, its function name and arguments checked against `abi`. */
export function call<const abi extends Abi, fn extends AppWriteOf<abi>>(c: TypedCall<abi, fn>): Call {
  // Checked above against the ABI; the transactor runs every step alike.
  return c as Call;
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
        for (const [i, c] of calls.entries()) {
          step = i;
          const n = calls.length > 1 ? ` (step ${i + 1} of ${calls.length})` : "";
          let args = c.args;
          if (c.sign) {
            set({ id, title, status: "pending", step: `${c.sign.label}${n}: sign in your wallet…` });
            args = await c.sign.run();
          }
          set({ id, title, status: "pending", step: `${c.label}${n}: checking…` });
          const params = {
            account: address,
            address: c.address,
            abi: [...c.abi, ...kaisarErrorsAbi] as Abi,
            functionName: c.functionName,
            args,
          };
          const { request } = await simulateContract(config, { ...params, chainId });
          // The estimate is exact for the block simulated; the block that includes it may take a dearer path.
          const estimate = await getPublicClient(config, { chainId })!.estimateContractGas(params);
          set({ id, title, status: "pending", step: `${c.label}${n}: confirm in your wallet…` });
          const hash = await writeContract(config, { ...request, gas: gasLimitFor(estimate) });
          set({ id, title, status: "pending", step: `${c.label}${n}: waiting for the network…`, hash });
          const receipt = await waitForTransactionReceipt(config, { hash, chainId });
          if (receipt.status !== "success") throw new Error("execution reverted");
          receipts.push(receipt);
        }
        set({ id, title, status: "done", step: "Done." });
        await invalidateAfter(
          queryClient,
          calls.map((c) => c.functionName),
        );
        return receipts;
      } catch (e) {
        if (!(e instanceof Error) || e.message !== "Connect a wallet first.") console.warn(title, e);
        set({ id, title, status: "error", step: failureMessage(calls, step, explainError(e, context)) });
        // The steps before the failed one were mined; the failed one may have been.
        await invalidateAfter(
          queryClient,
          calls.slice(0, step + 1).map((c) => c.functionName),
        );
        return undefined;
      }
    },
    [config, queryClient, set, chainId, address],
  );
}
