import { expect } from "chai";
import {
  AbiCoder,
  Signature,
  TypedDataEncoder,
  Wallet,
  concat,
  dataSlice,
  getAddress,
  id,
  keccak256,
  recoverAddress,
  toBeHex,
  verifyTypedData,
  zeroPadValue,
} from "ethers";

import { REPORT_TYPES, packSignatures, reportDigest, reportDomain, signReport, type Report } from "../src";

/** The type string of `ReportOracle.REPORT_TYPEHASH`, copied from the contract. */
const REPORT_TYPE =
  "Report(uint256 epoch,uint256 configVersion,bytes32 root,uint256 nodeCount,uint256 totalReward," +
  "uint256 totalCapacityPoints,uint256 totalDeliveryPoints)";
const DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

const CHAIN_ID = 3338n; // peaq
const ORACLE = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

/** A known report: every field distinct so that a swapped field changes the digest. */
const REPORT: Report = {
  epoch: 42n,
  configVersion: 3n,
  root: id("root-42"),
  nodeCount: 17n,
  totalReward: 1_000n * 10n ** 18n,
  totalCapacityPoints: 123_456n,
  totalDeliveryPoints: 78_901n,
};

/** The digest of REPORT under (CHAIN_ID, ORACLE), pinned: a change here is a change of wire format. */
const REPORT_DIGEST = "0x79bf67a90e00789de04c53dbe180426c019ffec49b9af0360fa83b4970fcebc8";

/** Checkers with fixed keys, and the checker set sorted by address as the oracle stores it. */
const WALLETS = [0, 1, 2, 3].map((i) => new Wallet(id(`kaisar checker ${i}`)));
const OPERATORS = WALLETS.map((w) => w.address).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
const walletAt = (index: number) => WALLETS.find((w) => w.address === OPERATORS[index])!;

/** The EIP-712 digest computed by hand, the way `ReportOracle.reportDigest` does. */
function digestByHand(chainId: bigint, oracle: string, r: Report) {
  const abi = AbiCoder.defaultAbiCoder();
  const domainSeparator = keccak256(
    abi.encode(
      ["bytes32", "bytes32", "bytes32", "uint256", "address"],
      [id(DOMAIN_TYPE), id("Kaisar Report Oracle"), id("1"), chainId, oracle],
    ),
  );
  const structHash = keccak256(
    abi.encode(
      ["bytes32", "uint256", "uint256", "bytes32", "uint256", "uint256", "uint256", "uint256"],
      [
        id(REPORT_TYPE),
        r.epoch,
        r.configVersion,
        r.root,
        r.nodeCount,
        r.totalReward,
        r.totalCapacityPoints,
        r.totalDeliveryPoints,
      ],
    ),
  );
  return keccak256(concat(["0x1901", domainSeparator, structHash]));
}

/** Splits packed signatures into their 66-byte records. */
function records(packed: string) {
  const length = (packed.length - 2) / 2;
  expect(length % 66, "packed length is a multiple of 66 bytes").to.equal(0);
  return Array.from({ length: length / 66 }, (_, i) => {
    const record = dataSlice(packed, i * 66, (i + 1) * 66);
    return {
      index: Number(dataSlice(record, 0, 1)),
      r: dataSlice(record, 1, 33),
      s: dataSlice(record, 33, 65),
      v: Number(dataSlice(record, 65, 66)),
    };
  });
}

async function signedBy(indexes: number[], report = REPORT) {
  const domain = reportDomain(CHAIN_ID, ORACLE);
  return Promise.all(
    indexes.map(async (i) => ({ signer: OPERATORS[i], signature: await signReport(walletAt(i), domain, report) })),
  );
}

describe("report", function () {
  describe("reportDomain", function () {
    it("names the oracle's EIP-712 domain: 'Kaisar Report Oracle', version 1, chain and contract", function () {
      expect(reportDomain(CHAIN_ID, ORACLE)).to.deep.equal({
        name: "Kaisar Report Oracle",
        version: "1",
        chainId: CHAIN_ID,
        verifyingContract: ORACLE,
      });
    });
  });

  describe("REPORT_TYPES", function () {
    it("encodes to the type string of ReportOracle.REPORT_TYPEHASH", function () {
      expect(TypedDataEncoder.from(REPORT_TYPES).encodeType("Report"), "encodeType").to.equal(REPORT_TYPE);
    });
  });

  describe("reportDigest", function () {
    it("matches ethers' TypedDataEncoder for the known report", function () {
      const domain = { name: "Kaisar Report Oracle", version: "1", chainId: CHAIN_ID, verifyingContract: ORACLE };
      const types = {
        Report: REPORT_TYPE.slice("Report(".length, -1)
          .split(",")
          .map((field) => {
            const [type, name] = field.split(" ");
            return { name, type };
          }),
      };
      expect(reportDigest(reportDomain(CHAIN_ID, ORACLE), REPORT), "digest").to.equal(
        TypedDataEncoder.hash(domain, types, REPORT),
      );
    });

    it("matches the digest computed by hand (domain separator, struct hash, 0x1901)", function () {
      expect(reportDigest(reportDomain(CHAIN_ID, ORACLE), REPORT), "digest").to.equal(
        digestByHand(CHAIN_ID, ORACLE, REPORT),
      );
    });

    it("is the pinned digest of the known report", function () {
      expect(reportDigest(reportDomain(CHAIN_ID, ORACLE), REPORT), "digest").to.equal(REPORT_DIGEST);
    });

    it("is the same for a number or a bigint chain id", function () {
      expect(reportDigest(reportDomain(3338, ORACLE), REPORT), "digest").to.equal(
        reportDigest(reportDomain(CHAIN_ID, ORACLE), REPORT),
      );
    });

    it("changes with every field of the report", function () {
      const base = reportDigest(reportDomain(CHAIN_ID, ORACLE), REPORT);
      for (const key of Object.keys(REPORT) as (keyof Report)[]) {
        const changed = { ...REPORT, [key]: key === "root" ? id("another root") : (REPORT[key] as bigint) + 1n };
        expect(reportDigest(reportDomain(CHAIN_ID, ORACLE), changed), `digest with ${key} changed`).to.not.equal(base);
      }
    });

    it("changes with the chain and with the oracle contract", function () {
      const base = reportDigest(reportDomain(CHAIN_ID, ORACLE), REPORT);
      expect(reportDigest(reportDomain(9990n, ORACLE), REPORT), "other chain").to.not.equal(base);
      const otherOracle = getAddress(zeroPadValue(toBeHex(1), 20));
      expect(reportDigest(reportDomain(CHAIN_ID, otherOracle), REPORT), "other oracle").to.not.equal(base);
    });
  });

  describe("signReport", function () {
    it("returns a 65-byte signature that ethers.verifyTypedData attributes to the signer", async function () {
      const domain = reportDomain(CHAIN_ID, ORACLE);
      for (const wallet of WALLETS) {
        const signature = await signReport(wallet, domain, REPORT);
        expect((signature.length - 2) / 2, "signature bytes").to.equal(65);
        expect(verifyTypedData(domain, REPORT_TYPES, REPORT, signature), "recovered").to.equal(wallet.address);
      }
    });

    it("signs reportDigest: recoverAddress(digest, signature) is the signer", async function () {
      const domain = reportDomain(CHAIN_ID, ORACLE);
      const wallet = WALLETS[0];
      const signature = await signReport(wallet, domain, REPORT);
      expect(recoverAddress(reportDigest(domain, REPORT), signature), "recovered").to.equal(wallet.address);
    });

    it("works with a random wallet too", async function () {
      const domain = reportDomain(CHAIN_ID, ORACLE);
      const wallet = Wallet.createRandom();
      const signature = await signReport(wallet, domain, REPORT);
      expect(verifyTypedData(domain, REPORT_TYPES, REPORT, signature), "recovered").to.equal(wallet.address);
    });

    it("is deterministic and low-s (the oracle rejects a high s)", async function () {
      const domain = reportDomain(CHAIN_ID, ORACLE);
      const first = await signReport(WALLETS[1], domain, REPORT);
      expect(await signReport(WALLETS[1], domain, REPORT), "second signature").to.equal(first);
      const halfOrder = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
      expect(BigInt(Signature.from(first).s) <= halfOrder, "s <= n/2").to.equal(true);
    });

    it("does not verify under another domain", async function () {
      const signature = await signReport(WALLETS[0], reportDomain(CHAIN_ID, ORACLE), REPORT);
      const other = reportDomain(9990n, ORACLE);
      expect(verifyTypedData(other, REPORT_TYPES, REPORT, signature), "recovered").to.not.equal(WALLETS[0].address);
    });
  });

  describe("packSignatures", function () {
    it("encodes 66 bytes per signer: index, r, s, v", async function () {
      const signed = await signedBy([2]);
      const packed = packSignatures(OPERATORS, signed);
      expect((packed.length - 2) / 2, "packed bytes").to.equal(66);
      const sig = Signature.from(signed[0].signature);
      expect(records(packed), "record").to.deep.equal([{ index: 2, r: sig.r, s: sig.s, v: sig.v }]);
    });

    it("sorts the records by operator index, whatever the input order", async function () {
      const packed = packSignatures(OPERATORS, await signedBy([3, 0, 2]));
      expect((packed.length - 2) / 2, "packed bytes").to.equal(3 * 66);
      expect(
        records(packed).map((r) => r.index),
        "indexes",
      ).to.deep.equal([0, 2, 3]);
    });

    it("packs records that each recover to the operator at their index", async function () {
      const digest = reportDigest(reportDomain(CHAIN_ID, ORACLE), REPORT);
      const packed = packSignatures(OPERATORS, await signedBy([1, 3, 0, 2]));
      for (const { index, r, s, v } of records(packed)) {
        expect(recoverAddress(digest, { r, s, v }), `record of operator ${index}`).to.equal(OPERATORS[index]);
      }
    });

    it("writes v as 27 or 28", async function () {
      const packed = packSignatures(OPERATORS, await signedBy([0, 1, 2, 3]));
      for (const { index, v } of records(packed)) expect([27, 28], `v of operator ${index}`).to.include(v);
    });

    it("matches signers to operators whatever the address case", async function () {
      const signed = (await signedBy([1])).map((s) => ({ ...s, signer: s.signer.toLowerCase() }));
      expect(
        records(packSignatures(OPERATORS, signed)).map((r) => r.index),
        "indexes",
      ).to.deep.equal([1]);
    });

    it("accepts a compact (EIP-2098, 64-byte) signature and packs it like the 65-byte one", async function () {
      const [signed] = await signedBy([3]);
      const compact = Signature.from(signed.signature).compactSerialized;
      expect(packSignatures(OPERATORS, [{ ...signed, signature: compact }]), "packed").to.equal(
        packSignatures(OPERATORS, [signed]),
      );
    });

    it("returns 0x for no signature", function () {
      expect(packSignatures(OPERATORS, []), "packed").to.equal("0x");
    });

    it("encodes index 254, the last of a 255-operator set, as one byte 0xfe", async function () {
      const wallet = WALLETS[0];
      const operators = Array.from({ length: 254 }, (_, i) => getAddress(zeroPadValue(toBeHex(i + 1), 20)));
      operators.push(wallet.address);
      const signature = await signReport(wallet, reportDomain(CHAIN_ID, ORACLE), REPORT);
      const packed = packSignatures(operators, [{ signer: wallet.address, signature }]);
      expect((packed.length - 2) / 2, "packed bytes").to.equal(66);
      expect(records(packed)[0].index, "index").to.equal(254);
    });

    it("rejects a signer outside the checker set, naming it", async function () {
      const outsider = new Wallet(id("not a checker"));
      const signature = await signReport(outsider, reportDomain(CHAIN_ID, ORACLE), REPORT);
      const signed = [...(await signedBy([0])), { signer: outsider.address, signature }];
      expect(() => packSignatures(OPERATORS, signed)).to.throw(`signer ${outsider.address} is not in the checker set`);
    });

    it("rejects two signatures by the same signer, naming its index", async function () {
      const [signed, other] = await signedBy([1, 0]);
      expect(() => packSignatures(OPERATORS, [signed, other, signed])).to.throw("two signatures by operator 1");
    });

    it("rejects the same signer twice even when the address case differs", async function () {
      const [signed] = await signedBy([2]);
      const lower = { ...signed, signer: signed.signer.toLowerCase() };
      expect(() => packSignatures(OPERATORS, [signed, lower])).to.throw("two signatures by operator 2");
    });
  });
});
