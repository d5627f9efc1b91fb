/**
 * The reward tree of `leaves.ts`, built fast for whole networks: the same leaves, the same
 * StandardMerkleTree layout and therefore the same root and proofs (a differential test checks it),
 * without the library's per-comparison BigInt conversions and generic ABI encoder. Checkers and the
 * keeper build epoch trees of 100,000 nodes with it; `buildRewardTree` stays the reference.
 *
 * Layout (OpenZeppelin StandardMerkleTree v1): leaf hash = keccak256(keccak256(abi.encode(fields)));
 * leaf hashes sorted ascending; a complete binary tree in an array with the sorted leaves at the end
 * in reverse order; an inner node hashes its two children sorted ascending.
 */
import { getBytes, keccak256 as ethersKeccak } from "ethers";
import { createKeccak, type IHasher } from "hash-wasm";

import type { NodeMetrics, RewardLeaf } from "./leaves";

const WORD = 32;
const toHex = (b: Buffer) => "0x" + b.toString("hex");

/**
 * keccak256 in WebAssembly (hash-wasm, about 5x the pure-JS hashers, no native build), loaded once
 * in the background; until it is ready (or if it cannot load) ethers' keccak256 gives the same bytes.
 * Await `fastHashReady` before a big job.
 */
let wasm: IHasher | undefined;
export const fastHashReady: Promise<void> = createKeccak(256).then(
  (h) => void (wasm = h),
  () => undefined,
);

function keccak(data: Uint8Array): Buffer {
  if (wasm === undefined) return Buffer.from(getBytes(ethersKeccak(data)));
  wasm.init();
  wasm.update(data);
  return Buffer.from(wasm.digest("binary"));
}

/** keccak256 of `data` as a 0x-prefixed hex string, fast (for evidence hashes over packed samples). */
export function keccak256Fast(data: Uint8Array): string {
  return toHex(keccak(data));
}

/** Writes `value` (a uint256) big-endian into `out` at `offset`. */
function writeUint(out: Buffer, offset: number, value: bigint) {
  if (value < 0n || value >> 256n !== 0n) throw new Error(`value ${value} does not fit uint256`);
  // Most figures fit 48 bits: write those without a hex round trip.
  if (value <= 0xffff_ffff_ffffn) out.writeUIntBE(Number(value), offset + WORD - 6, 6);
  else out.write(value.toString(16).padStart(2 * WORD, "0"), offset, WORD, "hex");
}

/** Writes a 0x-prefixed hex string of `bytes` bytes, right-aligned (addresses) in its word. */
function writeHex(out: Buffer, offset: number, hex: string, bytes: number) {
  if (hex.length !== 2 + 2 * bytes || !/^0x[0-9a-fA-F]*$/.test(hex)) {
    throw new Error(`expected ${bytes} bytes of hex, got ${hex}`);
  }
  out.write(hex.slice(2), offset + WORD - bytes, bytes, "hex");
}

/** `abi.encode` of a leaf's eight static fields (`LEAF_ENCODING`). */
export function encodeLeaf(l: RewardLeaf): Buffer {
  const out = Buffer.alloc(8 * WORD);
  if (!Number.isInteger(l.kind) || l.kind < 0 || l.kind > 255) throw new Error(`kind ${l.kind} is not a uint8`);
  out[WORD - 1] = l.kind;
  writeUint(out, 1 * WORD, l.epoch);
  writeHex(out, 2 * WORD, l.account, 20);
  writeUint(out, 3 * WORD, l.id);
  writeUint(out, 4 * WORD, l.capacityReward);
  writeUint(out, 5 * WORD, l.deliveryReward);
  writeUint(out, 6 * WORD, l.checkerReward);
  writeHex(out, 7 * WORD, l.metricsHash, 32);
  return out;
}

/** The leaf hash as bytes (the contract's `leafHash`). */
export function leafHashBytes(l: RewardLeaf): Buffer {
  return keccak(keccak(encodeLeaf(l)));
}

/** `nodeMetricsHash` of `leaves.ts`, fast. */
export function nodeMetricsHashFast(m: NodeMetrics): string {
  {
    const out = Buffer.alloc(8 * WORD);
    writeUint(out, 0, m.uptimeBps);
    writeUint(out, WORD, m.bandwidthMbps);
    writeUint(out, 2 * WORD, m.hardwareScore);
    writeUint(out, 3 * WORD, m.deliveredGpuSeconds);
    writeUint(out, 4 * WORD, m.capacityPoints);
    writeUint(out, 5 * WORD, m.deliveryPoints);
    out[6 * WORD + WORD - 1] = m.hardwareMismatch ? 1 : 0;
    writeHex(out, 7 * WORD, m.evidence, 32);
    return toHex(keccak(out));
  }
}

const compareBytes = (a: Buffer, b: Buffer) => Buffer.compare(a, b);

function nodeHash(a: Buffer, b: Buffer): Buffer {
  return keccak(compareBytes(a, b) <= 0 ? Buffer.concat([a, b]) : Buffer.concat([b, a]));
}

/** A built tree: its root, and the proof of any leaf given (by index in the input order). */
export interface FastRewardTree {
  root: string;
  /** Leaves in input order. */
  leaves: readonly RewardLeaf[];
  /** Proof of `leaves[i]` (hex strings), as `StandardMerkleTree.getProof` gives it. */
  proof(i: number): string[];
}

/** Builds the tree of `leaves` (at least one). Same root as `buildRewardTree(leaves).root`. */
export function buildRewardTreeFast(leaves: readonly RewardLeaf[]): FastRewardTree {
  if (leaves.length === 0) throw new Error("a reward tree needs at least one leaf");
  const hashed = leaves.map((l, i) => ({ hash: leafHashBytes(l), index: i }));
  hashed.sort((a, b) => compareBytes(a.hash, b.hash));
  const size = 2 * hashed.length - 1;
  const tree = new Array<Buffer>(size);
  const treeIndexOf = new Int32Array(leaves.length);
  hashed.forEach((h, sorted) => {
    tree[size - 1 - sorted] = h.hash;
    treeIndexOf[h.index] = size - 1 - sorted;
  });
  for (let i = size - 1 - hashed.length; i >= 0; i--) tree[i] = nodeHash(tree[2 * i + 1], tree[2 * i + 2]);
  return {
    root: toHex(tree[0]),
    leaves,
    proof(i: number) {
      if (!Number.isInteger(i) || i < 0 || i >= leaves.length) throw new Error(`no leaf ${i} (${leaves.length})`);
      const proof: string[] = [];
      for (let t = treeIndexOf[i]; t > 0; t = Math.floor((t - 1) / 2))
        proof.push(toHex(tree[t % 2 === 1 ? t + 1 : t - 1]));
      return proof;
    },
  };
}
