import { expect } from "chai";
import { Wallet, getAddress, id } from "ethers";

import {
  JsonShapeError,
  LeafKind,
  buildRewardTree,
  checkerMetricsHash,
  keeperProofFromJson,
  keeperProofToJson,
  leafFromJson,
  leafToJson,
  metricsFromJson,
  metricsToJson,
  nodeMetricsHash,
  proofOf,
  reportFromJson,
  reportToJson,
  signedReportFromJson,
  signedReportToJson,
  treeFromJson,
  treeToJson,
  verifyRewardProof,
  type NodeMetrics,
  type Report,
  type RewardLeaf,
} from "../src";

const ALICE = getAddress("0x00000000000000000000000000000000000a11ce");
const CAROL = getAddress("0x00000000000000000000000000000000000ca501");
const KAI = 10n ** 18n;
const MAX = 2n ** 256n - 1n;

const METRICS: NodeMetrics = {
  uptimeBps: 9_950n,
  bandwidthMbps: 10_000n,
  hardwareScore: 812n,
  deliveredGpuSeconds: 86_400n,
  capacityPoints: 1_234n,
  deliveryPoints: 567n,
  hardwareMismatch: false,
  evidence: id("node samples"),
};
const NODE_LEAF: RewardLeaf = {
  kind: LeafKind.Node,
  epoch: 7n,
  account: ALICE,
  id: 42n,
  capacityReward: 300n * KAI,
  deliveryReward: MAX - 300n * KAI,
  checkerReward: 0n,
  metricsHash: nodeMetricsHash(METRICS),
};
const CHECKER_LEAF: RewardLeaf = {
  kind: LeafKind.Checker,
  epoch: 7n,
  account: CAROL,
  id: 0n,
  capacityReward: 0n,
  deliveryReward: 0n,
  checkerReward: 250n * KAI,
  metricsHash: checkerMetricsHash({ licenses: 3n, reportsSigned: 144n, errorRateBps: 12n, evidence: id("c") }),
};
const REPORT: Report = {
  epoch: 7n,
  configVersion: 2n,
  root: id("root"),
  nodeCount: 1n,
  totalReward: 550n * KAI,
  totalCapacityPoints: 1_234n,
  totalDeliveryPoints: 567n,
};

/** The JSON text a peer would send, read back: what a reader really sees. */
const wire = <T>(v: T): Record<string, unknown> => JSON.parse(JSON.stringify(v));

function throwsShape(f: () => unknown, message: string) {
  expect(f).to.throw(JsonShapeError, message);
}

describe("json: the wire forms of reports, trees and proofs", function () {
  describe("round trips", function () {
    it("reads back a node leaf with its metrics and a checker leaf without", function () {
      expect(leafFromJson(wire(leafToJson(NODE_LEAF, METRICS)))).to.deep.equal({ leaf: NODE_LEAF, metrics: METRICS });
      expect(leafFromJson(wire(leafToJson(CHECKER_LEAF)))).to.deep.equal({ leaf: CHECKER_LEAF });
    });

    it("writes bigints as decimal strings and the account checksummed", function () {
      const json = leafToJson({ ...NODE_LEAF, account: ALICE.toLowerCase() });
      expect(json.account).to.equal(ALICE);
      expect(json.deliveryReward).to.equal((MAX - 300n * KAI).toString());
      expect(json).to.not.have.property("metrics");
    });

    it("reads back metrics, a report, a signed report and a tree", async function () {
      expect(metricsFromJson(wire(metricsToJson({ ...METRICS, hardwareMismatch: true })))).to.deep.equal({
        ...METRICS,
        hardwareMismatch: true,
      });
      expect(reportFromJson(wire(reportToJson(REPORT)))).to.deep.equal(REPORT);
      const signer = Wallet.createRandom();
      const signature = await signer.signMessage("any 65 bytes");
      const signed = { report: REPORT, signature, signer: signer.address };
      expect(signedReportFromJson(wire(signedReportToJson(signed)))).to.deep.equal(signed);
      const leaves = [{ leaf: NODE_LEAF, metrics: METRICS }, { leaf: CHECKER_LEAF }];
      expect(treeFromJson(wire(treeToJson(REPORT.root, leaves)))).to.deep.equal({ root: REPORT.root, leaves });
    });

    it("reads back the keeper's proof answer, whose proof holds under the tree's root", function () {
      const tree = buildRewardTree([NODE_LEAF, CHECKER_LEAF]);
      const proof = proofOf(tree, NODE_LEAF);
      const answer = wire(keeperProofToJson(7, 0, tree.root, { leaf: NODE_LEAF, metrics: METRICS, proof }));
      expect(answer.claim).to.deep.equal({ leaf: answer.leaf, proof: answer.proof });
      const read = keeperProofFromJson(answer);
      expect(read).to.deep.equal({ leaf: NODE_LEAF, metrics: METRICS, proof, root: tree.root });
      expect(verifyRewardProof(read.leaf, read.proof, tree.root)).to.be.true;
      expect(keeperProofFromJson(wire(keeperProofToJson(7, 1, tree.root, { leaf: CHECKER_LEAF, proof: [] }))))
        .to.have.property("proof")
        .that.deep.equals([]);
    });

    it("lower-cases hashes and checksums addresses on reading", function () {
      const json = {
        ...leafToJson(NODE_LEAF),
        account: ALICE.toLowerCase(),
        metricsHash: NODE_LEAF.metricsHash.toUpperCase().replace("0X", "0x"),
      };
      expect(leafFromJson(json).leaf).to.deep.equal(NODE_LEAF);
    });
  });

  describe("errors name the field", function () {
    const leafJson = () => wire(leafToJson(NODE_LEAF)) as Record<string, unknown>;

    for (const field of [
      "kind",
      "epoch",
      "account",
      "id",
      "capacityReward",
      "deliveryReward",
      "checkerReward",
      "metricsHash",
    ]) {
      it(`a leaf without ${field}`, function () {
        const json = leafJson();
        delete json[field];
        throwsShape(() => leafFromJson(json), `leaf lacks "${field}"`);
      });
    }

    it("a garbled amount: not a string, negative, hex, a leading zero, a fraction, above uint256", function () {
      for (const bad of [300, "-1", "0x10", "01", "1.5", "", (MAX + 1n).toString()]) {
        throwsShape(
          () => leafFromJson({ ...leafJson(), capacityReward: bad }),
          (MAX + 1n).toString() === bad
            ? "leaf.capacityReward does not fit uint256"
            : "leaf.capacityReward is not a decimal string",
        );
      }
    });

    it("a garbled kind, account or metrics hash", function () {
      throwsShape(() => leafFromJson({ ...leafJson(), kind: 2 }), "leaf.kind is not 0 (node) or 1 (checker)");
      throwsShape(() => leafFromJson({ ...leafJson(), kind: "0" }), "leaf.kind is not 0 (node) or 1 (checker)");
      throwsShape(() => leafFromJson({ ...leafJson(), account: "0x1234" }), "leaf.account is not an address");
      throwsShape(
        () => leafFromJson({ ...leafJson(), metricsHash: id("x").slice(0, 60) }),
        "leaf.metricsHash is not 0x and 64 hex digits",
      );
    });

    it("an unknown field, and something that is not an object", function () {
      throwsShape(() => leafFromJson({ ...leafJson(), amount: "1" }), 'leaf has an unknown field "amount"');
      throwsShape(() => leafFromJson([leafJson()]), "leaf is not an object");
      throwsShape(() => leafFromJson(null), "leaf is not an object");
    });

    it("a bad field of a leaf's metrics", function () {
      const json = { ...leafJson(), metrics: { ...wire(metricsToJson(METRICS)), hardwareMismatch: "no" } };
      throwsShape(() => leafFromJson(json), "leaf.metrics.hardwareMismatch is not a boolean");
      const { uptimeBps: _, ...partial } = wire(metricsToJson(METRICS));
      throwsShape(() => leafFromJson({ ...leafJson(), metrics: partial }), 'leaf.metrics lacks "uptimeBps"');
    });

    it("a bad leaf of a tree, by its index", function () {
      const tree = wire(treeToJson(REPORT.root, [{ leaf: NODE_LEAF }, { leaf: CHECKER_LEAF }]));
      (tree.leaves as Record<string, unknown>[])[1].epoch = "seven";
      throwsShape(() => treeFromJson(tree), "leaves[1].epoch is not a decimal string");
    });

    it("a bad report field", function () {
      throwsShape(
        () => reportFromJson({ ...wire(reportToJson(REPORT)), root: "0x" }),
        "report.root is not 0x and 64 hex digits",
      );
    });

    describe("the keeper's proof answer", function () {
      const answer = () => wire(keeperProofToJson(7, 0, id("root"), { leaf: NODE_LEAF, proof: [id("a"), id("b")] }));

      it("without a leaf or a proof", function () {
        const { leaf: _l, ...noLeaf } = answer();
        throwsShape(() => keeperProofFromJson(noLeaf), 'answer lacks "leaf"');
        const { proof: _p, ...noProof } = answer();
        throwsShape(() => keeperProofFromJson(noProof), 'answer lacks "proof"');
      });

      it("with a garbled leaf field, proof element, root or metrics", function () {
        const a = answer();
        throwsShape(
          () => keeperProofFromJson({ ...a, leaf: { ...(a.leaf as object), deliveryReward: "lots" } }),
          "answer.leaf.deliveryReward is not a decimal string",
        );
        throwsShape(
          () => keeperProofFromJson({ ...a, proof: [id("a"), "0xzz"] }),
          "answer.proof[1] is not 0x and 64 hex digits",
        );
        throwsShape(() => keeperProofFromJson({ ...a, proof: id("a") }), "answer.proof is not a list");
        throwsShape(() => keeperProofFromJson({ ...a, root: 1 }), "answer.root is not 0x and 64 hex digits");
        throwsShape(() => keeperProofFromJson({ ...a, metrics: {} }), 'answer.metrics lacks "uptimeBps"');
        throwsShape(() => keeperProofFromJson("not json"), "answer is not an object");
      });

      it("ignores the informative extras (epoch, index, claim) and needs no root", function () {
        const { root: _r, ...a } = answer();
        expect(keeperProofFromJson({ ...a, epoch: "anything", claim: null })).to.deep.equal({
          leaf: NODE_LEAF,
          proof: [id("a"), id("b")],
        });
      });
    });
  });
});
