/**
 * Runs the steps of a job's `check`: logs each step, then sends its call (if any) on the crash-safe
 * sender, one after the other (the sender keys each call: a restart resumes, never sends twice).
 */
import type { BaseContract } from "ethers";

import type { KaisarContracts } from "../../chain/contracts";
import type { TxLogEntry, TxOutcome, TxSender } from "../tx";
import type { JobStep } from "./types";

export interface ExecuteContext {
  contracts: KaisarContracts;
  sender: TxSender;
  log: (entry: TxLogEntry) => void;
}

/** Logs and sends `steps` in order; returns the outcomes of the calls sent. */
export async function execute(ctx: ExecuteContext, steps: readonly JobStep[]): Promise<TxOutcome[]> {
  const outcomes: TxOutcome[] = [];
  for (const { log, call } of steps) {
    ctx.log(log);
    if (!call) continue;
    const contract = ctx.contracts[call.contract] as BaseContract;
    outcomes.push(
      await ctx.sender.send({
        kind: call.kind,
        key: call.key,
        contract: call.contract,
        to: contract.target as string,
        data: contract.interface.encodeFunctionData(call.method, call.args as unknown[]),
      }),
    );
  }
  return outcomes;
}

/** Whether none of `outcomes` is still in flight (a pass whose calls are all settled is done). */
export function settled(outcomes: readonly TxOutcome[]): boolean {
  return !outcomes.some((o) => o.status === "pending");
}
