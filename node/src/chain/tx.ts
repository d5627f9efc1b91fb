/**
 * Sending transactions from the CLI: a session on the configured chain (chain id checked first; the
 * fail-over client of rpc.ts, so the fallback RPC is tried whenever the first does not answer), progress lines ("sending ...", "mined in block
 * N"), and reverts decoded to the contract's custom error, its arguments and the sentence of the
 * error's NatSpec (offchain's revert decoder, from the compiled contracts).
 */
import {
  formatUnits,
  isError,
  parseUnits,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type JsonRpcApiProvider,
  type Wallet,
} from "ethers";

import { decodeRevert as decodeProtocolRevert, revertSentence } from "@kaisar/offchain";

import type { CommonConfig } from "../config/load";
import { connectContracts, walletOn, type KaisarContracts } from "./contracts";
import { checkChainIds, FailoverRpcProvider } from "./rpc";

/** Where progress lines go (stderr when stdout carries JSON). */
export type Progress = (line: string) => void;

/** A problem with a command-line option: the message names the option and how to fix it. */
export class OptionError extends Error {
  override name = "OptionError";
}

/** A transaction (or the call before it) reverted; `error` is the decoded custom error when known. */
export class RevertError extends Error {
  override name = "RevertError";
  constructor(
    readonly action: string,
    readonly error: { name: string; args: Record<string, string>; sentence?: string } | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** An open connection to the configured chain, with the account of `privateKey`. */
export interface ChainSession {
  provider: JsonRpcApiProvider;
  wallet: Wallet;
  /** The account's address (checksummed). */
  address: string;
  /** The contracts, sending from the account. */
  contracts: KaisarContracts;
  /** The RPC URL that answered. */
  rpcUrl: string;
  close(): void;
}

/**
 * Connects to `config.rpcUrl` (or `rpcUrlFallback` when the first does not answer) and checks that
 * it serves `config.chainId`; throws a message naming the setting otherwise.
 */
export async function openChain(config: CommonConfig, timeoutMs = 10_000): Promise<ChainSession> {
  const provider = new FailoverRpcProvider({
    chainId: config.chainId,
    urls: [config.rpcUrl, ...(config.rpcUrlFallback ? [config.rpcUrlFallback] : [])],
    timeoutMs,
  });
  let answered: string[];
  try {
    answered = await checkChainIds(provider, config.chainId);
  } catch (e) {
    provider.destroy();
    throw e;
  }
  const wallet = walletOn(config.privateKey, provider);
  return {
    provider,
    wallet,
    address: wallet.address,
    contracts: connectContracts(config.contracts, wallet),
    rpcUrl: answered[0],
    close: () => provider.destroy(),
  };
}

/** The first line of an error's message, without ethers' long suffix. */
export function shortMessage(e: unknown): string {
  const err = e as { shortMessage?: string; message?: string; code?: string };
  return (err?.shortMessage ?? err?.message ?? String(e)).split("\n")[0];
}

/** KAI (18 decimals) as a plain decimal: 1000, 2.5. */
export function formatKai(amount: bigint): string {
  const s = formatUnits(amount, 18);
  return s.endsWith(".0") ? s.slice(0, -2) : s;
}

/**
 * A positive KAI amount given as option `option` (e.g. "--amount"), in KAI units; throws an
 * `OptionError` naming the option when it is not a positive number with at most 18 decimals.
 */
export function parseKaiOption(raw: unknown, option: string): bigint {
  const s = typeof raw === "string" ? raw.trim() : String(raw);
  if (!/^\d+(\.\d{1,18})?$/.test(s)) {
    throw new OptionError(
      `${option} ${JSON.stringify(raw)} is not an amount of KAI: give a positive number with at most 18 decimals, e.g. ${option} 1000 or ${option} 12.5`,
    );
  }
  const v = parseUnits(s, 18);
  if (v === 0n) throw new OptionError(`${option} is 0: give a positive amount of KAI, e.g. ${option} 1000`);
  return v;
}

const KAI_ERRORS = /^(NodeRegistry|ReportOracle)_/;

function showArg(errorName: string, value: unknown): string {
  if (typeof value === "bigint") {
    // Registry and oracle amounts are KAI units; large ones read better as KAI.
    if (KAI_ERRORS.test(errorName) && value >= 10n ** 12n && value < 1n << 200n) return `${formatKai(value)} KAI`;
    return value.toString();
  }
  if (Array.isArray(value)) return `[${value.map((v) => showArg(errorName, v)).join(", ")}]`;
  return String(value);
}

/**
 * The custom error in `e` (an ethers error from a call, gas estimate or receipt), decoded by the
 * protocol's one revert decoder (@kaisar/offchain): name, arguments by name, and the error's NatSpec
 * sentence with the arguments filled in. Undefined when `e` carries no known error.
 */
export function decodeRevert(
  e: unknown,
): { name: string; args: Record<string, string>; sentence?: string } | undefined {
  const decoded = decodeProtocolRevert(e);
  if (!decoded) return undefined;
  const args: Record<string, string> = {};
  decoded.inputs.forEach((input, i) => (args[input.name || `arg${i}`] = showArg(decoded.name, decoded.args[i])));
  const sentence = revertSentence(decoded, (_value, input) => args[input.name]);
  return { name: decoded.name, args, sentence };
}

/** `e` as a RevertError when it is a revert, naming `action`; else `e` itself. */
export function explainRevert(action: string, e: unknown): unknown {
  if (e instanceof RevertError || e instanceof OptionError) return e;
  const decoded = decodeRevert(e);
  if (decoded) {
    const args = Object.entries(decoded.args)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
    return new RevertError(
      action,
      decoded,
      `${action} reverted with ${decoded.name}(${args})` + (decoded.sentence ? `: ${decoded.sentence}` : ""),
    );
  }
  if (isError(e, "CALL_EXCEPTION")) {
    return new RevertError(action, undefined, `${action} reverted: ${shortMessage(e)}`);
  }
  return e;
}

/**
 * Sends one transaction: prints "sending <action> ...", then "mined in block N (hash, gas)". A revert
 * (in the gas estimate or on chain) becomes a `RevertError` naming the custom error.
 */
export async function sendTx(
  action: string,
  send: () => Promise<ContractTransactionResponse>,
  progress: Progress,
): Promise<ContractTransactionReceipt> {
  progress(`sending ${action} ...`);
  let receipt: ContractTransactionReceipt | null;
  try {
    const tx = await send();
    progress(`  tx ${tx.hash}`);
    receipt = await tx.wait();
  } catch (e) {
    throw explainRevert(action, e);
  }
  if (!receipt) throw new Error(`${action}: the transaction was dropped (no receipt); check the account's nonce`);
  progress(`  mined in block ${receipt.blockNumber} (gas ${receipt.gasUsed})`);
  return receipt;
}

/** Approves the NodeRegistry for `amount` KAI if needed, then stakes it. */
export async function stakeKai(chain: ChainSession, amount: bigint, progress: Progress): Promise<bigint> {
  const { KaiToken, NodeRegistry } = chain.contracts;
  const registry = await NodeRegistry.getAddress();
  const balance = await KaiToken.balanceOf(chain.address);
  if (balance < amount) {
    throw new Error(
      `staking ${formatKai(amount)} KAI needs that much KAI in ${chain.address}, which holds ${formatKai(balance)} KAI: ` +
        `send it KAI, or stake less with --amount`,
    );
  }
  if ((await KaiToken.allowance(chain.address, registry)) < amount) {
    await sendTx(
      `KaiToken.approve(NodeRegistry, ${formatKai(amount)} KAI)`,
      () => KaiToken.approve(registry, amount),
      progress,
    );
  }
  await sendTx(`NodeRegistry.stake(${formatKai(amount)} KAI)`, () => NodeRegistry.stake(amount), progress);
  return (await NodeRegistry.getStake(chain.address)).staked;
}
