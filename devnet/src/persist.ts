/**
 * `npm start -- --persist`: Hardhat 2's network cannot save its state (no hardhat_dumpState), so the
 * local chain is kept by recording its transactions and replaying them on the next start.
 *
 * `dumpChain` reads every block that holds transactions: its number, timestamp, base fee, state root
 * and its transactions in order. A signed transaction is kept as its signed bytes (rebuilt from the
 * JSON-RPC fields and checked against its hash), so that its replay has the same hash; an impersonated
 * one (hardhat_impersonateAccount, whose fake signature does not recover its sender) as the fields to
 * send it again, with its sender's balance before it (hardhat_setBalance gave it its gas).
 *
 * `replayChain` rebuilds it on a fresh chain whose genesis has the dump's genesis timestamp (hardhat
 * config `initialDate`): the empty blocks between two blocks with transactions are mined at once
 * (hardhat_mine), each block with transactions gets the same base fee, transactions and timestamp,
 * and is checked against the dump (number, timestamp, transaction hashes, state root).
 */
import { Signature, Transaction, keccak256, type TransactionLike } from "ethers";

export interface DumpedBlock {
  number: number;
  timestamp: number;
  baseFeePerGas: string;
  stateRoot: string;
  txs: DumpedTx[];
}

/** A signed transaction (`raw`), or an impersonated one (`send`: eth_sendTransaction's fields). */
export type DumpedTx =
  { hash: string; raw: string } | { hash: string; send: Record<string, unknown>; balanceBefore?: string };

export interface ChainDump {
  version: 1;
  chainId: number;
  genesis: { timestamp: number; hash: string };
  /** The last block when dumped (empty blocks after the last block with transactions included). */
  latest: { number: number; timestamp: number; stateRoot: string };
  /** Wall clock (unix seconds) of the dump. */
  dumpedAt: number;
  blocks: DumpedBlock[];
}

interface RpcBlock {
  number: string;
  timestamp: string;
  hash: string;
  stateRoot: string;
  baseFeePerGas?: string;
  transactions: RpcTx[];
}

interface RpcTx {
  hash: string;
  type: string;
  from: string;
  to: string | null;
  nonce: string;
  gas: string;
  gasPrice?: string;
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  value: string;
  input: string;
  chainId?: string;
  accessList?: { address: string; storageKeys: string[] }[];
  v: string;
  r: string;
  s: string;
  yParity?: string;
}

export class PersistError extends Error {}

/** JSON-RPC over HTTP; an array of calls goes as one batch. */
export async function rpcCall<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const [r] = await rpcBatch<T>(url, [[method, params]]);
  return r;
}

async function rpcBatch<T = unknown>(url: string, calls: [string, unknown[]][]): Promise<T[]> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(calls.map(([method, params], id) => ({ jsonrpc: "2.0", id, method, params }))),
  });
  const body = (await res.json()) as { id: number; result?: T; error?: { message: string } }[];
  const out: T[] = [];
  for (const r of body.sort((a, b) => a.id - b.id)) {
    if (r.error) throw new PersistError(`${calls[r.id][0]}: ${r.error.message}`);
    out.push(r.result as T);
  }
  return out;
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;
const num = (h: string) => Number(BigInt(h));

/** The signed bytes of `tx`, or undefined when its signature is not a real one (impersonation). */
function signedBytes(tx: RpcTx): string | undefined {
  try {
    const type = num(tx.type);
    const fields: TransactionLike = {
      type,
      to: tx.to,
      nonce: num(tx.nonce),
      gasLimit: tx.gas,
      data: tx.input,
      value: tx.value,
      chainId: tx.chainId ?? undefined,
    };
    if (type === 0 || type === 1) fields.gasPrice = tx.gasPrice;
    else {
      fields.maxFeePerGas = tx.maxFeePerGas;
      fields.maxPriorityFeePerGas = tx.maxPriorityFeePerGas;
    }
    if (type !== 0) fields.accessList = tx.accessList ?? [];
    fields.signature =
      type === 0
        ? Signature.from({ r: tx.r, s: tx.s, v: num(tx.v) })
        : Signature.from({ r: tx.r, s: tx.s, yParity: num(tx.yParity ?? tx.v) as 0 | 1 });
    const serialized = Transaction.from(fields).serialized;
    return keccak256(serialized) === tx.hash ? serialized : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every block of the chain at `url` that holds transactions. With `previous` (a dump this chain was
 * restored from), its blocks are kept and only the later ones are read.
 */
export async function dumpChain(url: string, previous?: ChainDump): Promise<ChainDump> {
  const chainId = num(await rpcCall<string>(url, "eth_chainId"));
  const [genesis, latest] = await rpcBatch<RpcBlock>(url, [
    ["eth_getBlockByNumber", ["0x0", false]],
    ["eth_getBlockByNumber", ["latest", false]],
  ]);
  const last = num(latest.number);
  const blocks: DumpedBlock[] = previous ? [...previous.blocks] : [];
  const from = previous ? previous.latest.number + 1 : 1;
  const BATCH = 200;
  for (let start = from; start <= last; start += BATCH) {
    const numbers = Array.from({ length: Math.min(BATCH, last - start + 1) }, (_, i) => start + i);
    const got = await rpcBatch<RpcBlock>(
      url,
      numbers.map((n) => ["eth_getBlockByNumber", [hex(n), true]]),
    );
    for (const b of got) {
      if (!b.transactions.length) continue;
      const txs: DumpedTx[] = [];
      const funded = new Set<string>();
      for (const tx of b.transactions) {
        const raw = signedBytes(tx);
        if (raw) {
          txs.push({ hash: tx.hash, raw });
          continue;
        }
        const send: Record<string, unknown> = {
          from: tx.from,
          to: tx.to ?? undefined,
          data: tx.input,
          value: tx.value,
          gas: tx.gas,
          nonce: tx.nonce,
        };
        if (num(tx.type) === 2) {
          send.maxFeePerGas = tx.maxFeePerGas;
          send.maxPriorityFeePerGas = tx.maxPriorityFeePerGas;
        } else send.gasPrice = tx.gasPrice;
        if (num(tx.type) !== 0 && tx.accessList?.length) send.accessList = tx.accessList;
        const entry: DumpedTx = { hash: tx.hash, send };
        const sender = tx.from.toLowerCase();
        if (!funded.has(sender)) {
          // Its balance just before this block (hardhat_setBalance between blocks included).
          entry.balanceBefore = await rpcCall<string>(url, "eth_getBalance", [tx.from, hex(num(b.number) - 1)]);
          funded.add(sender);
        }
        txs.push(entry);
      }
      blocks.push({
        number: num(b.number),
        timestamp: num(b.timestamp),
        baseFeePerGas: b.baseFeePerGas ?? "0x0",
        stateRoot: b.stateRoot,
        txs,
      });
    }
  }
  return {
    version: 1,
    chainId,
    genesis: { timestamp: num(genesis.timestamp), hash: genesis.hash },
    latest: { number: last, timestamp: num(latest.timestamp), stateRoot: latest.stateRoot },
    dumpedAt: Math.floor(Date.now() / 1000),
    blocks,
  };
}

export interface Replayed {
  blocks: number;
  transactions: number;
  latest: { number: number; timestamp: number };
}

/**
 * Replays `dump` on the fresh chain at `url` (only its genesis block; automine as Hardhat starts it,
 * no interval mining; its genesis timestamp at most the first block's). Leaves automine on; throws a
 * PersistError naming the first block that differs from the dump.
 */
export async function replayChain(url: string, dump: ChainDump): Promise<Replayed> {
  const call = <T = unknown>(method: string, params: unknown[] = []) => rpcCall<T>(url, method, params);
  const chainId = num(await call<string>("eth_chainId"));
  if (chainId !== dump.chainId) throw new PersistError(`the chain id is ${chainId}, the dump's ${dump.chainId}`);
  const head = await call<RpcBlock>("eth_getBlockByNumber", ["latest", false]);
  if (num(head.number) !== 0) throw new PersistError(`the chain already has ${num(head.number)} blocks`);
  if (num(head.timestamp) > (dump.blocks[0]?.timestamp ?? dump.latest.timestamp)) {
    throw new PersistError(
      `the chain's genesis (${num(head.timestamp)}) is later than the dump's first block: start it with the dump's genesis time`,
    );
  }
  let latest = { number: 0, timestamp: num(head.timestamp) };
  /** Mines the empty blocks up to (not including) `number`, their timestamps at most `until`. */
  const mineEmpty = async (number: number, until: number) => {
    const count = number - latest.number - 1;
    if (count <= 0) return;
    const interval = Math.max(0, Math.floor((until - latest.timestamp) / (count + 1)));
    await call("hardhat_mine", [hex(count), hex(interval)]);
    const b = await call<RpcBlock>("eth_getBlockByNumber", ["latest", false]);
    latest = { number: num(b.number), timestamp: num(b.timestamp) };
    if (latest.number !== number - 1 || latest.timestamp > until) {
      throw new PersistError(
        `mining the empty blocks before block ${number} ended at ${latest.number}/${latest.timestamp}`,
      );
    }
  };

  let transactions = 0;
  await call("evm_setAutomine", [false]);
  try {
    for (const block of dump.blocks) {
      await mineEmpty(block.number, block.timestamp);
      await call("hardhat_setNextBlockBaseFeePerGas", [block.baseFeePerGas]);
      for (const tx of block.txs) {
        let hash: string;
        if ("raw" in tx) hash = await call<string>("eth_sendRawTransaction", [tx.raw]);
        else {
          const from = tx.send.from as string;
          await call("hardhat_impersonateAccount", [from]);
          if (tx.balanceBefore) await call("hardhat_setBalance", [from, tx.balanceBefore]);
          hash = await call<string>("eth_sendTransaction", [tx.send]);
          await call("hardhat_stopImpersonatingAccount", [from]);
        }
        if (hash !== tx.hash) {
          throw new PersistError(`block ${block.number}: transaction ${tx.hash} was replayed as ${hash}`);
        }
      }
      await call("evm_mine", [block.timestamp]);
      const b = await call<RpcBlock>("eth_getBlockByNumber", ["latest", false]);
      const hashes = (b.transactions as unknown as string[]).join();
      const differs =
        num(b.number) !== block.number
          ? `it was mined as block ${num(b.number)}`
          : num(b.timestamp) !== block.timestamp
            ? `its timestamp is ${num(b.timestamp)}, not ${block.timestamp}`
            : hashes !== block.txs.map((t) => t.hash).join()
              ? `its transactions are ${hashes}`
              : b.stateRoot !== block.stateRoot
                ? `its state root is ${b.stateRoot}, not ${block.stateRoot}`
                : undefined;
      if (differs) throw new PersistError(`replayed block ${block.number} differs from the dump: ${differs}`);
      latest = { number: block.number, timestamp: block.timestamp };
      transactions += block.txs.length;
    }
    await mineEmpty(dump.latest.number + 1, dump.latest.timestamp);
    const b = await call<RpcBlock>("eth_getBlockByNumber", ["latest", false]);
    if (b.stateRoot !== dump.latest.stateRoot) {
      throw new PersistError(`the replayed chain's state root is ${b.stateRoot}, the dump's ${dump.latest.stateRoot}`);
    }
  } finally {
    await call("evm_setAutomine", [true]);
  }
  return { blocks: dump.blocks.length, transactions, latest };
}
