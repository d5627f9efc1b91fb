/** One assertion for a custom-error revert, shared by the contract unit tests. */
import { expect } from "chai";
import type { BaseContract } from "ethers";

/** Expects `tx` to revert with `contract`'s custom error `name`, and with `args` when any are given. */
export async function expectRevert(contract: BaseContract, tx: Promise<unknown>, name: string, ...args: unknown[]) {
  const assertion = expect(tx).to.be.revertedWithCustomError(contract, name);
  await (args.length === 0 ? assertion : assertion.withArgs(...args));
}
