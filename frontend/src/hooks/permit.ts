/**
 * EIP-2612 permits: one signature instead of an approval transaction. The token's EIP-712 domain is
 * read from the token itself (ERC-5267 `eip712Domain`, which OpenZeppelin's ERC20Permit has), so
 * no name or version is restated here. A token without it has no permit: callers approve instead.
 */
import { useCallback } from "react";
import { parseSignature, type Address } from "viem";
import { useConfig } from "wagmi";
import { readContract, signTypedData } from "wagmi/actions";

import { PERMIT_TYPES } from "@kaisar/offchain/src/permit";

import { kaiTokenAbi } from "../contracts/generated";
import { useRuntime, useWallet } from "./kaisar";

/** How long a signed permit stays valid: long enough to confirm the transaction, short enough to be of no later use. */
export const PERMIT_LIFETIME_SECONDS = 30 * 60;

export interface SignedPermit {
  deadline: bigint;
  v: number;
  r: `0x${string}`;
  s: `0x${string}`;
}

/** `supports(token)`: whether it takes permits; `sign(token, spender, value)`: the owner's signature. */
export function usePermit() {
  const config = useConfig();
  const { chainId } = useRuntime();
  const { address } = useWallet();
  const domainOf = useCallback(
    async (token: Address) => {
      const [, name, version, domainChain, verifyingContract] = await readContract(config, {
        chainId,
        address: token,
        abi: kaiTokenAbi,
        functionName: "eip712Domain",
      });
      return { name, version, chainId: Number(domainChain), verifyingContract };
    },
    [config, chainId],
  );
  const supports = useCallback(
    async (token: Address) =>
      domainOf(token).then(
        () => true,
        () => false,
      ),
    [domainOf],
  );
  const sign = useCallback(
    async (token: Address, spender: Address, value: bigint): Promise<SignedPermit> => {
      if (!address) throw new Error("Connect a wallet first.");
      const [domain, nonce] = await Promise.all([
        domainOf(token),
        readContract(config, { chainId, address: token, abi: kaiTokenAbi, functionName: "nonces", args: [address] }),
      ]);
      const deadline = BigInt(Math.floor(Date.now() / 1000) + PERMIT_LIFETIME_SECONDS);
      const signature = await signTypedData(config, {
        account: address,
        domain,
        types: PERMIT_TYPES,
        primaryType: "Permit",
        message: { owner: address, spender, value, nonce, deadline },
      });
      const { v, r, s, yParity } = parseSignature(signature);
      return { deadline, v: Number(v ?? BigInt(27 + (yParity ?? 0))), r, s };
    },
    [config, chainId, address, domainOf],
  );
  return { supports, sign };
}
