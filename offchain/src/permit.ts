/**
 * EIP-2612 permits (OpenZeppelin's ERC20Permit, which KAI is): the typed data an owner signs so that
 * `RentalEscrow.rentWithPermit` / `topUpWithPermit` may pull exactly the deposit. Shared by the
 * contract tests and the web app. No ethers or viem import: both libraries take this shape.
 */
export const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;
