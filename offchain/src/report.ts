/**
 * Checker reports: the EIP-712 typed data checkers sign, and the packed signature format the
 * ReportOracle verifies. Shared by tests, the checker node and the keeper.
 */
import { Signature, TypedDataEncoder, type Signer, type TypedDataDomain } from "ethers";

/** A report as the ReportOracle's `Report` struct. */
export interface Report {
  epoch: bigint;
  configVersion: bigint;
  root: string;
  nodeCount: bigint;
  totalReward: bigint;
  totalCapacityPoints: bigint;
  totalDeliveryPoints: bigint;
}

export const REPORT_TYPES = {
  Report: [
    { name: "epoch", type: "uint256" },
    { name: "configVersion", type: "uint256" },
    { name: "root", type: "bytes32" },
    { name: "nodeCount", type: "uint256" },
    { name: "totalReward", type: "uint256" },
    { name: "totalCapacityPoints", type: "uint256" },
    { name: "totalDeliveryPoints", type: "uint256" },
  ],
};

/** The oracle's EIP-712 domain: bound to the chain and the contract instance. */
export function reportDomain(chainId: bigint | number, oracle: string): TypedDataDomain {
  return { name: "Kaisar Report Oracle", version: "1", chainId, verifyingContract: oracle };
}

/** The digest the oracle recovers signers from. */
export function reportDigest(domain: TypedDataDomain, report: Report): string {
  return TypedDataEncoder.hash(domain, REPORT_TYPES, report);
}

/** One checker's signature over `report`, as a 65-byte hex string (r, s, v). */
export async function signReport(signer: Signer, domain: TypedDataDomain, report: Report): Promise<string> {
  return signer.signTypedData(domain, REPORT_TYPES, report);
}

/**
 * Packs signatures for `ReportOracle.submitReport`: per signer, in strictly increasing operator
 * index, one index byte then r, s, v. `operators` is the sorted checker set of the config.
 */
export function packSignatures(operators: string[], signed: { signer: string; signature: string }[]): string {
  const indexed = signed.map(({ signer, signature }) => {
    const index = operators.findIndex((o) => o.toLowerCase() === signer.toLowerCase());
    if (index < 0) throw new Error(`signer ${signer} is not in the checker set`);
    if (index > 254) throw new Error(`operator index ${index} does not fit the one-byte index (set of at most 255)`);
    const sig = Signature.from(signature);
    return { index, bytes: sig.r.slice(2) + sig.s.slice(2) + sig.v.toString(16).padStart(2, "0") };
  });
  indexed.sort((a, b) => a.index - b.index);
  for (let i = 1; i < indexed.length; i++) {
    if (indexed[i].index === indexed[i - 1].index) throw new Error(`two signatures by operator ${indexed[i].index}`);
  }
  return "0x" + indexed.map(({ index, bytes }) => index.toString(16).padStart(2, "0") + bytes).join("");
}
