import { BaseError, ContractFunctionRevertedError, encodeErrorResult, UserRejectedRequestError } from "viem";
import { describe, expect, it } from "vitest";

import { kaisarErrorsAbi } from "../src/contracts/generated";
import { ERROR_MESSAGES, explainError, revertOf } from "../src/lib/errors";

const KAI = { symbol: "KAI", decimals: 18 };
const data = (errorName: string, args: readonly unknown[]) =>
  encodeErrorResult({ abi: kaisarErrorsAbi, errorName, args } as never);

describe("explainError", () => {
  it("turns an insufficient balance revert into a sentence with amounts", () => {
    const e = {
      data: data("ERC20InsufficientBalance", [
        "0x71bE63f3384f5fb98995898A86B02Fb2426c5788",
        10n ** 18n,
        5n * 10n ** 18n,
      ]),
    };
    expect(explainError(e, { token: KAI })).toBe("Your balance is too low: this needs 5 KAI and you have 1 KAI.");
  });
  it("decodes a revert wrapped by viem, from any contract (NodeRegistry under RentalEscrow)", () => {
    const raw = data("NodeRegistry_NotEnoughFreeGpus", [3n, 4n, 1n]);
    const err = new BaseError("call failed", {
      cause: new ContractFunctionRevertedError({ abi: kaisarErrorsAbi as never, functionName: "rent", data: raw }),
    });
    expect(revertOf(err)?.name).toBe("NodeRegistry_NotEnoughFreeGpus");
    expect(explainError(err)).toBe("Node #3 has 1 free GPU; you asked for 4.");
  });
  it("explains a price raised after the preview", () => {
    const e = { data: data("RentalEscrow_PriceAboveCap", [1n, 3n * 10n ** 18n, 2n * 10n ** 18n]) };
    expect(explainError(e, { token: KAI })).toContain(
      "changed the price to 3 KAI per GPU-hour, above the 2 KAI you agreed to",
    );
  });
  it("says a rejected signature was rejected", () => {
    const e = new UserRejectedRequestError(new Error("User rejected the request."));
    expect(explainError(e)).toBe("You rejected the request in your wallet. Nothing was sent.");
  });
  it("never shows a hex blob, even for an unknown revert", () => {
    const text = explainError(new Error("execution reverted with data 0x" + "ab".repeat(60)));
    expect(text).not.toMatch(/0x[0-9a-f]{20,}/i);
  });
  it("has a sentence for every custom error of the Kaisar interfaces renters and providers meet", () => {
    const names = kaisarErrorsAbi.map((e) => e.name).filter((n) => /^(RentalEscrow|NodeRegistry)_/.test(n));
    const missing = names.filter((n) => !ERROR_MESSAGES[n]);
    expect(missing).toEqual([]);
  });
  it("falls back to the error's name in words, not hex", () => {
    const e = { data: data("ReportOracle_ZeroRoot", []) };
    expect(explainError(e)).toBe("The Report Oracle contract refused: zero root.");
  });
});
