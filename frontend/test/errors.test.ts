import { BaseError, ContractFunctionRevertedError, encodeErrorResult, UserRejectedRequestError } from "viem";
import { describe, expect, it } from "vitest";

import { kaisarErrorsAbi } from "../src/contracts/generated";
import { ERROR_MESSAGES, explainError, revertOf } from "../src/lib/errors";
import { formatDuration } from "../src/lib/format";

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
  it("explains a license that cannot leave its operator yet, with the time", () => {
    const e = { data: data("CheckerLicense_DepartureCooldown", [7n, 1_000n + 3_600n]) };
    expect(explainError(e, { now: 1_000 })).toBe(
      `License #7 left an operator recently: it can leave one again in ${formatDuration(3_600)} (until then, an equivocation proof against its former operator can still find it).`,
    );
  });
  it("explains a signature by a checker excluded from the set", () => {
    const e = { data: data("ReportOracle_ExcludedSigner", [1n, 2n]) };
    expect(explainError(e)).toBe(
      "Checker #2 was excluded from the checker set: its signature no longer counts. Leave it out of the report.",
    );
  });
  it("has a sentence for the checker set's exclusion and license cooldown errors", () => {
    const names = kaisarErrorsAbi
      .map((e) => e.name)
      .filter((n) =>
        /^(ReportOracle_(ExcludedSigner|InvalidOperatorIndex|OperatorAlreadyExcluded|OperatorActive|OperatorEquivocated)|CheckerLicense_(DepartureCooldown|ParameterOutOfBounds))$/.test(
          n,
        ),
      );
    expect(new Set(names).size).toBe(7);
    expect(names.filter((n) => !ERROR_MESSAGES[n])).toEqual([]);
  });
  it("falls back to the error's name in words, not hex", () => {
    const e = { data: data("ReportOracle_ZeroRoot", []) };
    expect(explainError(e)).toBe("The Report Oracle contract refused: zero root.");
  });
});
