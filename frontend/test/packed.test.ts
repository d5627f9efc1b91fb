import { describe, expect, it } from "vitest";
import { concatHex, numberToHex, padHex, stringToHex, type Address, type Hex } from "viem";

import { decodePackedNodes } from "../src/data/packed";

const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Address;
const USD = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
const KAI = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as Address;

const n = (v: number | bigint, bytes: number) => numberToHex(v, { size: bytes });

/** One record laid out as IKaisarLens.getNodesPacked documents it. */
function record(r: {
  gpuClass: number;
  gpuCount: number;
  free: number;
  status: number;
  accepts: boolean;
  mStart: number;
  mEnd: number;
  region: string;
  prices: bigint[];
}): Hex {
  return concatHex([
    PROVIDER.toLowerCase() as Hex,
    n(r.gpuClass, 2),
    n(r.gpuCount, 2),
    n(r.free, 2),
    n(r.status, 1),
    n(r.accepts ? 1 : 0, 1),
    n(r.mStart, 4),
    n(r.mEnd, 4),
    n(24, 2), // vramGiB
    n(8, 2), // cpuCores
    n(64, 4), // ramGiB
    n(500, 4), // diskGiB
    n(1000, 4), // bandwidthMbps
    padHex(stringToHex(r.region), { size: 8, dir: "right" }),
    n(0, 4),
    ...r.prices.map((p) => n(p, 32)),
  ]);
}

describe("decodePackedNodes", () => {
  const a = {
    gpuClass: 4,
    gpuCount: 8,
    free: 6,
    status: 1,
    accepts: true,
    mStart: 0,
    mEnd: 0,
    region: "eu-west",
    prices: [2_500_000n, 10n ** 18n],
  };
  const b = {
    ...a,
    gpuClass: 1,
    gpuCount: 2,
    free: 0,
    status: 2,
    accepts: false,
    mStart: 1_900_000_000,
    mEnd: 1_900_007_200,
    region: "ap-south",
    prices: [0n, 2n ** 200n],
  };

  it("reads each record's fields and prices, ids from firstId on", () => {
    const rows = decodePackedNodes(41, [USD, KAI], concatHex([record(a), record(b)]));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({
      id: 41,
      provider: PROVIDER,
      gpuClass: 4,
      gpuCount: 8,
      freeGpus: 6,
      status: 1,
      acceptsRentals: true,
      maintenanceStart: 0,
      maintenanceEnd: 0,
      vramGiB: 24,
      cpuCores: 8,
      ramGiB: 64,
      bandwidthMbps: 1000,
      region: "eu-west",
      prices: [2_500_000n, 10n ** 18n],
      tokens: [USD, KAI],
    });
    expect(rows[1]).toMatchObject({
      id: 42,
      gpuClass: 1,
      freeGpus: 0,
      status: 2,
      acceptsRentals: false,
      maintenanceStart: 1_900_000_000,
      maintenanceEnd: 1_900_007_200,
      region: "ap-south",
      prices: [0n, 2n ** 200n],
    });
  });

  it("follows the number of tokens (records of 2 words with none)", () => {
    const rows = decodePackedNodes(1, [], concatHex([record({ ...a, prices: [] }), record({ ...b, prices: [] })]));
    expect(rows.map((r) => [r.id, r.prices, r.region])).toEqual([
      [1, [], "eu-west"],
      [2, [], "ap-south"],
    ]);
  });

  it("reads an empty page", () => {
    expect(decodePackedNodes(1, [USD], "0x")).toEqual([]);
  });

  it("refuses a page that is not whole records", () => {
    expect(() => decodePackedNodes(1, [USD], concatHex([record({ ...a, prices: [1n] }), "0x00"]))).toThrow(
      /not a whole record/,
    );
  });
});
