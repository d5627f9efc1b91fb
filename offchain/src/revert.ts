/**
 * The one revert decoder of the TypeScript packages (the `kaisar` CLI and the web app): finds the
 * revert data in an error thrown by ethers, viem or a JSON-RPC node, decodes it with every custom
 * error of the contracts (generated from the compiled ABIs, see ./generated/protocol.ts) and gives the
 * error's NatSpec sentence with its arguments filled in.
 */
import { Interface, type Result } from "ethers";

import { PROTOCOL_ERRORS, kaisarErrorsAbi, type ProtocolError } from "./generated/protocol";

export { PROTOCOL_ERRORS, kaisarErrorsAbi, type ProtocolError };

/** A decoded custom error. */
export interface DecodedRevert {
  /** The error's name, e.g. `RentalEscrow_UnknownRental`. */
  name: string;
  /** Its arguments in ABI order (bigint for integers, string for addresses and bytes, arrays as arrays). */
  args: readonly unknown[];
  /** Its inputs' names and types, in the same order. */
  inputs: ProtocolError["inputs"];
  /** The NatSpec sentence of the error, as written (inputs in backticks), when it has one. */
  sentence?: string;
}

const HEX_DATA = /^0x[0-9a-fA-F]{8,}$/;

/**
 * Revert data (0x + selector + arguments) carried by an error: ethers' `data` / `info.error.data`,
 * viem's `raw` / `cause` chain, a JSON-RPC error's `data` or `data.data`. Undefined when none.
 */
export function revertDataOf(e: unknown): string | undefined {
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number): string | undefined => {
    if (!v || typeof v !== "object" || seen.has(v) || depth > 8) return undefined;
    seen.add(v);
    const o = v as Record<string, unknown>;
    if (typeof o.data === "string" && HEX_DATA.test(o.data)) return o.data;
    if (o.data && typeof o.data === "object") {
      const d = (o.data as Record<string, unknown>).data;
      if (typeof d === "string" && HEX_DATA.test(d)) return d;
    }
    if (typeof o.raw === "string" && HEX_DATA.test(o.raw)) return o.raw;
    for (const k of ["error", "info", "cause", "payload"]) {
      const r = walk(o[k], depth + 1);
      if (r) return r;
    }
    return undefined;
  };
  return walk(e, 0);
}

let errorsInterface: Interface | undefined;

/** Plain arrays for ethers' `Result`s (nested for tuples and arrays). */
const plain = (v: unknown): unknown => (Array.isArray(v) ? Array.from(v as Result, plain) : v);

/** The custom error encoded in `data` (0x + selector + arguments), or undefined for an unknown one. */
export function decodeRevertData(data: string): DecodedRevert | undefined {
  errorsInterface ??= new Interface(kaisarErrorsAbi as never);
  let parsed;
  try {
    parsed = errorsInterface.parseError(data);
  } catch {
    return undefined;
  }
  if (!parsed) return undefined;
  const known = PROTOCOL_ERRORS[parsed.name];
  return {
    name: parsed.name,
    args: Array.from(parsed.args, plain),
    inputs: known.inputs,
    ...(known.sentence ? { sentence: known.sentence } : {}),
  };
}

/** The custom error a thrown error carries (see {@link revertDataOf}), or undefined. */
export function decodeRevert(e: unknown): DecodedRevert | undefined {
  const data = revertDataOf(e);
  return data === undefined ? undefined : decodeRevertData(data);
}

/**
 * The error's sentence with each input named in backticks replaced by `show(name, value)` (other
 * backticked words stay as they are); undefined when the error has no sentence.
 */
export function revertSentence(
  decoded: DecodedRevert,
  show: (value: unknown, input: { name: string; type: string }) => string = (v) => String(v),
): string | undefined {
  if (!decoded.sentence) return undefined;
  const index = new Map(decoded.inputs.map((input, i) => [input.name, i]));
  return decoded.sentence.replace(/`(\w+)`/g, (whole, name: string) => {
    const i = index.get(name);
    return i === undefined ? whole : show(decoded.args[i], decoded.inputs[i]);
  });
}
