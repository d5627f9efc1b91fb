/**
 * Sending one step of a property walk (`test/helpers/model`, `test/helpers/popw`): a transaction
 * at the model's timestamp, its outcome (success, or the exact revert) and its events.
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { BaseContract, ContractTransactionReceipt, ContractTransactionResponse, Interface } from "ethers";

/** Every walk sends with this explicit gas limit (no estimate), so that a reverting transaction is mined too. */
export const GAS_LIMIT = 8_000_000n;

/** A transaction that must revert with a custom error and these arguments. */
export interface Revert {
  ok: false;
  contract: BaseContract;
  error: string;
  args: unknown[];
}
/** A transaction that must revert with a reason string (a token's own `require`). */
export interface Refusal {
  ok: false;
  reason: string;
}
/** The outcome a transaction must have. */
export type Outcome = { ok: true } | Revert;

export const OK: Outcome = { ok: true };
export const err = (contract: BaseContract, error: string, ...args: unknown[]): Outcome => ({
  ok: false,
  contract,
  error,
  args,
});

/** What `send` reads and moves of a walk's model: its clock, its log and (if kept) its outcome labels. */
export interface Clocked {
  now: bigint;
  next: bigint;
  log: string[];
  outcomes?: string[];
}

/**
 * A walk's `send`, counting outcomes per action in `stats` (`KAISAR_FC_STATS=1` prints them: it
 * shows what the generators reach).
 */
export function sender(stats: Map<string, number>) {
  const note = (label: string) => stats.set(label, (stats.get(label) ?? 0) + 1);
  /**
   * Sends one transaction at `m.next` and checks its outcome. Returns the receipt on success. The
   * explicit gas limit skips `eth_estimateGas`, so a reverting transaction is mined too (at the
   * model's timestamp) and its revert data decoded by the chai matchers.
   */
  async function send(
    m: Clocked,
    outcome: Outcome | Refusal,
    tx: (overrides: { gasLimit: bigint }) => Promise<ContractTransactionResponse>,
  ): Promise<ContractTransactionReceipt | undefined> {
    await network.provider.send("evm_setNextBlockTimestamp", [Number(m.next)]);
    m.now = m.next;
    m.next += 1n;
    const step = (m.log[m.log.length - 1] ?? "?").split("(")[0].replace(/^new /, "");
    const label = `${step}: ${outcome.ok ? "ok" : "reason" in outcome ? outcome.reason : outcome.error}`;
    note(label);
    m.outcomes?.push(label);
    if (outcome.ok) {
      const receipt = await (await tx({ gasLimit: GAS_LIMIT })).wait();
      return receipt ?? undefined;
    }
    if ("reason" in outcome) {
      await expect(tx({ gasLimit: GAS_LIMIT }), `reverts "${outcome.reason}"`).to.be.revertedWith(outcome.reason);
    } else {
      await expect(tx({ gasLimit: GAS_LIMIT }), `reverts ${outcome.error}(${outcome.args.join(", ")})`)
        .to.be.revertedWithCustomError(outcome.contract, outcome.error)
        .withArgs(...outcome.args);
    }
    return undefined;
  }
  return { note, send };
}

/** The arguments of the `name` events `contract` emitted in `receipt`, in order (addresses lower-cased). */
export function eventsOf(receipt: ContractTransactionReceipt | undefined, contract: BaseContract, name: string) {
  const iface = contract.interface as Interface;
  const target = contract.target.toString().toLowerCase();
  return receipt!.logs
    .filter((l) => l.address.toLowerCase() === target)
    .map((l) => iface.parseLog(l))
    .filter((l) => l?.name === name)
    .map((l) => [...l!.args].map((a) => (typeof a === "string" ? a.toLowerCase() : a)));
}

export const norm = (xs: unknown[]) =>
  xs.map((a) => (typeof a === "string" ? a.toLowerCase() : typeof a === "number" ? BigInt(a) : a));

/** `contract` emitted exactly the `name` events `expected` (each a list of arguments) in `receipt`. */
export function expectEvents(
  receipt: ContractTransactionReceipt | undefined,
  contract: BaseContract,
  name: string,
  expected: unknown[][],
) {
  expect(eventsOf(receipt, contract, name), `${name} events`).to.deep.equal(expected.map(norm));
}

/** `contract` emitted exactly one `name` event, with the arguments `expected`, in `receipt`. */
export const expectEvent = (
  receipt: ContractTransactionReceipt | undefined,
  contract: BaseContract,
  name: string,
  expected: unknown[],
) => expectEvents(receipt, contract, name, [expected]);
