/**
 * `npm start` prints the local chain's reverts decoded (devnet/src/chainLog.ts): Hardhat's line
 * for a custom error it does not know, with the return data of a real Kaisar error, names the error,
 * its arguments and its NatSpec sentence.
 */
import { expect } from "chai";

import { contractInterface } from "../../node/src/chain/contracts";
import { decodeChainLogLine } from "../src/chainLog";

/** What Hardhat 2 prints (hardhat-network/stack-traces/solidity-errors.js) for return data `data`. */
const hardhatLine = (data: string) =>
  `  Error: VM Exception while processing transaction: reverted with an unrecognized custom error (return data: ${data})`;

describe("npm start: the chain's revert lines decoded", () => {
  it("names the custom error, its arguments and its sentence", () => {
    const data = contractInterface("RentalEscrow").encodeErrorResult("RentalEscrow_InvalidGpuCount", [300]);
    expect(decodeChainLogLine(hardhatLine(data))).to.equal(
      "  Error: VM Exception while processing transaction: reverted with RentalEscrow_InvalidGpuCount(gpus=300): " +
        "A rental needs at least one GPU and at most 255.",
    );
  });

  it("names every argument of the error", () => {
    const data = contractInterface("RentalEscrow").encodeErrorResult("RentalEscrow_InvalidDeposit", [5n, 10n ** 18n]);
    const line = decodeChainLogLine(hardhatLine(data));
    expect(line).to.match(/reverted with RentalEscrow_InvalidDeposit\(deposit=5, minimum=1000000000000000000\)/);
    expect(line).to.not.include("unrecognized");
  });

  it("leaves other lines, and return data no Kaisar contract knows, as they are", () => {
    const unknown = hardhatLine("0xdeadbeef00");
    expect(decodeChainLogLine(unknown)).to.equal(unknown);
    expect(decodeChainLogLine("eth_call")).to.equal("eth_call");
  });
});
