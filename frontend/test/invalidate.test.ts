/**
 * After a write the transactor invalidates the reads that write changes (data/keys: INVALIDATES),
 * by their keys, and leaves every other cached read alone.
 */
import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import { INVALIDATES, invalidateAfter, queryKeys, type KeyRoot } from "../src/data/keys";

const A = "0x00000000000000000000000000000000000000a1";
const B = "0x00000000000000000000000000000000000000b2";

/** A client with one cached (fresh) read under each of these keys. */
function seeded() {
  const qc = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, gcTime: Infinity } } });
  const keys = {
    rentals: queryKeys.rentals(31337, A, false),
    providerRentals: queryKeys.rentals(31337, B, true),
    balances: queryKeys.balances(31337, A, [B]),
    gpuClasses: queryKeys.gpuClasses(31337),
    nodes: queryKeys.nodes(31337),
    keeperEpochs: queryKeys.keeperEpochs("http://keeper"),
    keeperEpoch: queryKeys.keeperEpoch("http://keeper", 3),
    catalog: queryKeys.catalog(),
    checker: queryKeys.checker(31337, A),
    provider: queryKeys.provider(31337, A),
  };
  for (const k of Object.values(keys)) qc.setQueryData(k, 1);
  const invalidated = () =>
    Object.entries(keys)
      .filter(([, k]) => qc.getQueryState(k)?.isInvalidated)
      .map(([name]) => name)
      .sort();
  return { qc, invalidated };
}

describe("invalidation by key after a write", () => {
  it("a top-up refreshes the rentals and balances only", async () => {
    const { qc, invalidated } = seeded();
    await invalidateAfter(qc, ["topUp"]);
    expect(invalidated()).toEqual(["balances", "providerRentals", "rentals"]);
  });

  it("delegating a license refreshes the checker page only", async () => {
    const { qc, invalidated } = seeded();
    await invalidateAfter(qc, ["delegate"]);
    expect(invalidated()).toEqual(["checker"]);
  });

  it("an approval alone refreshes nothing (allowances are read when needed); approve then stake refreshes the stake's reads", async () => {
    const { qc, invalidated } = seeded();
    await invalidateAfter(qc, ["approve"]);
    expect(invalidated()).toEqual([]);
    await invalidateAfter(qc, ["approve", "stake"]);
    expect(invalidated()).toEqual(["balances", "checker", "nodes", "provider"]);
  });

  it("no write refreshes the keeper's epochs, the GPU classes or the template catalog", async () => {
    const { qc, invalidated } = seeded();
    await invalidateAfter(qc, Object.keys(INVALIDATES) as (keyof typeof INVALIDATES)[]);
    expect(invalidated()).not.toContain("keeperEpochs");
    expect(invalidated()).not.toContain("keeperEpoch");
    expect(invalidated()).not.toContain("gpuClasses");
    expect(invalidated()).not.toContain("catalog");
  });

  it("every root a write names is a key of queryKeys", () => {
    const roots = new Set(Object.keys(queryKeys));
    for (const [write, affected] of Object.entries(INVALIDATES))
      for (const root of affected as readonly KeyRoot[]) expect(roots.has(root), `${write} → ${root}`).toBe(true);
  });
});
