/**
 * Checks the keeper's reward proofs before the app offers a claim: the shared check
 * (offchain/src/keeperProof.ts, also used by `kaisar provider status` and `claim`).
 *
 * Imported directly, not through the package's index (whose fast tree builder needs Node.js). It
 * brings ethers and @openzeppelin/merkle-tree: only the provider and checker pages, both lazy,
 * import this module, so none of it is in the first page load.
 */
export {
  checkKeeperProof,
  mismatchMessage,
  type CheckedProof,
  type ClaimSubject,
  type VerifiedProof,
} from "@kaisar/offchain/src/keeperProof";
