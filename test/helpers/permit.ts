/** EIP-2612 permit signing for the KAI token (or any OZ ERC20Permit). */
import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { PERMIT_TYPES as TYPES } from "../../offchain/src/permit";

/** The permit's typed data (offchain/src/permit.ts), as ethers' signTypedData takes it. */
export const PERMIT_TYPES = TYPES as unknown as Record<string, { name: string; type: string }[]>;

export interface PermitToken {
  getAddress(): Promise<string>;
  name(): Promise<string>;
  nonces(owner: string): Promise<bigint>;
}

export interface PermitMessage {
  owner: string;
  spender: string;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
}

/** The token's EIP-712 domain (version "1", as OZ's ERC20Permit sets it). */
export async function permitDomain(token: PermitToken, chainId?: bigint) {
  return {
    name: await token.name(),
    version: "1",
    chainId: chainId ?? (await ethers.provider.getNetwork()).chainId,
    verifyingContract: await token.getAddress(),
  };
}

/**
 * Signs a permit with `signer` for `owner` (the signer itself unless given), with the owner's
 * current nonce unless `overrides.nonce` says otherwise.
 */
export async function signPermit(
  token: PermitToken,
  signer: HardhatEthersSigner,
  spender: string,
  value: bigint,
  deadline: bigint,
  overrides: Partial<PermitMessage> & { chainId?: bigint } = {},
) {
  const { chainId, ...fields } = overrides;
  const domain = await permitDomain(token, chainId);
  const message: PermitMessage = {
    owner: signer.address,
    spender,
    value,
    nonce: await token.nonces(overrides.owner ?? signer.address),
    deadline,
    ...fields,
  };
  const signature = await signer.signTypedData(domain, PERMIT_TYPES, message);
  const { v, r, s } = ethers.Signature.from(signature);
  return { domain, message, signature, v, r, s };
}

/** The address that `signature` recovers to for `message` under `domain`. */
export function recoverPermitSigner(
  domain: Awaited<ReturnType<typeof permitDomain>>,
  message: PermitMessage,
  signature: string,
) {
  return ethers.verifyTypedData(domain, PERMIT_TYPES, message, signature);
}
