/**
 * The keeper's jobs' pure checks (src/keeper/jobs/): each takes state read beforehand, as plain
 * objects, and names the calls to send; no chain here (the keeper-*.test.ts suites run them against a
 * real chain through the keeper).
 */
import { expect } from "chai";
import { ZeroAddress, ZeroHash } from "ethers";
import { leafToJson, type NodeMetrics, type RewardLeaf } from "@kaisar/offchain";

import * as close from "../src/keeper/jobs/close";
import * as credit from "../src/keeper/jobs/credit";
import * as downtime from "../src/keeper/jobs/downtime";
import * as exclude from "../src/keeper/jobs/exclude";
import * as fraud from "../src/keeper/jobs/fraud";
import * as jailclose from "../src/keeper/jobs/jailclose";
import { nodeProofs, type NodeEpochProof } from "../src/keeper/jobs/leaves";
import * as stakecredit from "../src/keeper/jobs/stakecredit";
import type { JobStep, RentalRow } from "../src/keeper/jobs/types";

const ACCOUNT = "0x00000000000000000000000000000000000000A1";

/** A node leaf of `epoch` for `nodeId` with `uptimeBps` (and a hardware mismatch when said). */
function node(nodeId: bigint, uptimeBps: bigint, hardwareMismatch = false, epoch = 1n): NodeEpochProof {
  const leaf: RewardLeaf = {
    kind: 0,
    epoch,
    account: ACCOUNT,
    id: nodeId,
    capacityReward: 0n,
    deliveryReward: 0n,
    checkerReward: 0n,
    metricsHash: ZeroHash,
  };
  const metrics: NodeMetrics = {
    uptimeBps,
    bandwidthMbps: 0n,
    hardwareScore: 0n,
    deliveredGpuSeconds: 0n,
    capacityPoints: 0n,
    deliveryPoints: 0n,
    hardwareMismatch,
    evidence: ZeroHash,
  };
  return { leaf, metrics, proof: [`0x${nodeId.toString(16).padStart(64, "0")}`] };
}

/** A rental row (open, tier 0, service [100, 200), not closable). */
function rental(id: bigint, nodeId: bigint, fields: Partial<RentalRow> = {}): RentalRow {
  return { id, nodeId, slaTier: 0, status: 1n, closableAt: 1_000n, serviceStart: 100n, serviceEnd: 200n, ...fields };
}

const keys = (steps: JobStep[]) => steps.map((s) => s.call?.key ?? s.log.at);

describe("keeper jobs: check", () => {
  describe("nodeProofs", () => {
    it("parses the node leaves with metrics of stored rows, skipping other kinds", () => {
      const n = node(7n, 9_000n);
      const row = (kind: number) => ({
        epoch: 1,
        idx: 0,
        root: ZeroHash,
        kind,
        account: ACCOUNT,
        nodeId: "7",
        leaf: JSON.stringify(leafToJson({ ...n.leaf, kind }, n.metrics)),
        proof: n.proof,
      });
      const parsed = nodeProofs([row(0), row(1)]);
      expect(parsed).to.have.length(1);
      expect(parsed[0].leaf.id).to.equal(7n);
      expect(parsed[0].metrics.uptimeBps).to.equal(9_000n);
    });
  });

  describe("credit", () => {
    const base = {
      epoch: 4,
      tiers: [0, 9_900, 9_990],
      from: 150n,
      to: 300n,
      leaves: [node(1n, 9_500n), node(2n, 9_999n)],
      rentals: [
        rental(1n, 1n, { slaTier: 1 }),
        rental(2n, 1n, { slaTier: 0 }), // no SLA
        rental(3n, 1n, { slaTier: 2, serviceStart: 300n, serviceEnd: 400n }), // after the epoch
        rental(4n, 1n, { slaTier: 2 }),
        rental(5n, 2n, { slaTier: 2 }), // node 2 is above every target
      ],
    };
    const bps = new Map([
      [credit.creditBpsKey(9_900, 9_500n), 1_000n],
      [credit.creditBpsKey(9_990, 9_500n), 2_000n],
    ]);

    it("names the rentals below their tier's target that ran during the epoch", () => {
      expect(credit.candidates(base).map((c) => c.rentalId)).to.deep.equal([1n, 4n]);
    });

    it("sends one applySlaCredits per node, with its proof, keyed by epoch and node", () => {
      const steps = credit.check({ ...base, credited: new Set(), creditBps: bps });
      expect(steps).to.have.length(1);
      expect(steps[0].call).to.deep.include({
        kind: "sla",
        key: "sla:4:1",
        contract: "SlaEnforcer",
        method: "applySlaCredits",
      });
      expect(steps[0].call!.args[0]).to.deep.equal([1n, 4n]);
      expect(steps[0].call!.args[1]).to.deep.equal(base.leaves[0]);
      expect(steps[0].log).to.deep.include({ at: "Keeper#slaCredit", epoch: 4, nodeId: "1", rentals: ["1", "4"] });
    });

    it("leaves out rentals already credited or owed no credit, and sends nothing when none is left", () => {
      const partly = credit.check({ ...base, credited: new Set(["1"]), creditBps: bps });
      expect(partly[0].call!.args[0]).to.deep.equal([4n]);
      const none = credit.check({
        ...base,
        credited: new Set(["1"]),
        creditBps: new Map([[credit.creditBpsKey(9_990, 9_500n), 0n]]),
      });
      expect(none).to.deep.equal([]);
    });
  });

  describe("fraud", () => {
    const leaves = [node(1n, 9_999n, true), node(2n, 9_999n), node(3n, 9_999n, true)];
    /** The check of epoch 5 with nodes 1 and 3's fraud cursors at `from1`, `from3`. */
    const checkWith = (from1: bigint, from3: bigint) =>
      fraud.check({
        epoch: 5,
        leaves,
        fraudFrom: new Map([
          [1n, from1],
          [3n, from3],
        ]),
      });

    it("slashes the nodes that attest a hardware mismatch, keyed by epoch and node", () => {
      expect(fraud.suspects(leaves).map((l) => l.leaf.id)).to.deep.equal([1n, 3n]);
      const steps = checkWith(0n, 5n);
      expect(keys(steps)).to.deep.equal(["fraud:5:1", "fraud:5:3"]);
      expect(steps[0].call).to.deep.include({ method: "slashForHardwareFraud", contract: "SlaEnforcer" });
      expect(steps[0].call!.args).to.deep.equal([leaves[0]]);
    });

    it("skips, with a note, a node whose fraud cursor has passed the epoch", () => {
      const steps = checkWith(6n, 0n);
      expect(keys(steps)).to.deep.equal(["Keeper#slashSkipped", "fraud:5:3"]);
      expect(steps[0].call).to.equal(undefined);
      expect(steps[0].log).to.deep.include({ kind: "fraud", nodeId: "1", epoch: 5, slashableFrom: "6" });
    });
  });

  describe("downtime", () => {
    const policy = { thresholdBps: 9_000n, epochs: 2 };
    // Epochs 3 and 4: [100, 200), [200, 300).
    const bounds = [100n, 200n, 300n];
    const runs = [
      { nodeId: 1n, proofs: [node(1n, 8_000n, false, 3n), node(1n, 8_500n, false, 4n)] },
      { nodeId: 2n, proofs: [node(2n, 8_000n, false, 3n), node(2n, 9_500n, false, 4n)] }, // up in epoch 4
      { nodeId: 3n, proofs: [undefined, node(3n, 1_000n, false, 4n)] }, // epoch 3 not on chain
    ];
    const rentals = [
      rental(1n, 1n, { serviceStart: 150n, serviceEnd: 190n }), // not through epoch 4
      rental(2n, 1n, { serviceStart: 0n, serviceEnd: 1_000n }),
      rental(3n, 1n, { serviceStart: 0n, serviceEnd: 1_000n }),
    ];

    it("finds the nodes below the threshold in every epoch of the run, and none before enough epochs", () => {
      expect(downtime.down({ epoch: 4, policy, runs }).map((n) => n.nodeId)).to.deep.equal([1n]);
      expect(downtime.down({ epoch: 0, policy, runs })).to.deep.equal([]);
    });

    it("slashes a down node naming its first rental that ran through every epoch, proofs in epoch order", () => {
      const steps = downtime.check({ epoch: 4, policy, runs, downtimeFrom: new Map([[1n, 0n]]), bounds, rentals });
      expect(keys(steps)).to.deep.equal(["downtime:1:4"]);
      expect(steps[0].call!.method).to.equal("slashForDowntime");
      expect(steps[0].call!.args).to.deep.equal([2n, runs[0].proofs]);
      expect(steps[0].log).to.deep.include({ rentalId: "2", firstEpoch: 3, lastEpoch: 4, uptimeBps: ["8000", "8500"] });
    });

    it("skips a run before the node's downtime cursor, and a node with no rental through the run", () => {
      const skipped = downtime.check({ epoch: 4, policy, runs, downtimeFrom: new Map([[1n, 4n]]), bounds, rentals });
      expect(keys(skipped)).to.deep.equal(["Keeper#slashSkipped"]);
      expect(skipped[0].log).to.deep.include({ kind: "downtime", epoch: 3, slashableFrom: "4" });
      expect(downtime.due({ epoch: 4, policy, runs, downtimeFrom: new Map([[1n, 4n]]) })).to.deep.equal([]);
      const noRental = downtime.check({
        epoch: 4,
        policy,
        runs,
        downtimeFrom: new Map([[1n, 3n]]),
        bounds,
        rentals: rentals.slice(0, 1),
      });
      expect(noRental).to.deep.equal([]);
    });
  });

  describe("jailclose", () => {
    const rentals = [
      rental(1n, 1n),
      rental(2n, 2n),
      rental(3n, 1n, { status: close.CLOSED }),
      rental(4n, 1n),
      rental(5n, 3n),
    ];

    it("closes the open rentals of each jailed node in one call per node", () => {
      expect([...jailclose.openByNode(rentals)]).to.deep.equal([
        [1n, [1n, 4n]],
        [2n, [2n]],
        [3n, [5n]],
      ]);
      const steps = jailclose.check({ rentals, jailed: new Set([1n, 3n]) });
      expect(keys(steps)).to.deep.equal(["jailclose:1,4", "jailclose:5"]);
      expect(steps[0].call).to.deep.include({ method: "closeOnJailedNode", contract: "SlaEnforcer" });
      expect(steps[0].call!.args).to.deep.equal([[1n, 4n]]);
    });
  });

  describe("close", () => {
    it("closes the rentals past their closable time and moves the cursor past the closed prefix only", () => {
      const rentals = [
        rental(3n, 1n, { status: close.CLOSED, closableAt: 0n }),
        rental(4n, 1n, { status: close.CLOSED, closableAt: 0n }),
        rental(5n, 1n, { closableAt: 500n }),
        rental(6n, 1n, { status: close.CLOSED, closableAt: 0n }), // after an open one: the cursor stays
        rental(7n, 1n, { closableAt: 2_000n }),
      ];
      const { steps, cursor } = close.check({ now: 1_000n, cursor: 3n, rentals });
      expect(cursor).to.equal(5n);
      expect(keys(steps)).to.deep.equal(["close:5"]);
      expect(steps[0].call).to.deep.include({ contract: "RentalEscrow", method: "closeRental" });
      expect(steps[0].call!.args).to.deep.equal([5n]);
      expect(close.check({ now: 1_000n, cursor: 8n, rentals: [] })).to.deep.equal({ steps: [], cursor: 8n });
    });
  });

  describe("stakecredit", () => {
    it("is payable from the slashing window after the next epoch's start on", () => {
      expect(stakecredit.opensAt(1_000n, 60n)).to.equal(1_061n);
      expect(stakecredit.payable({ now: 1_060n, opensAt: 1_061n })).to.equal(false);
      expect(stakecredit.payable({ now: 1_061n, opensAt: 1_061n })).to.equal(true);
    });

    it("pays the rentals still due in one call, and nothing before the window or when none is due", () => {
      const due = [
        { rentalId: 1n, amount: 5n },
        { rentalId: 2n, amount: 0n },
        { rentalId: 3n, amount: 7n },
      ];
      const steps = stakecredit.check({ epoch: 6, now: 2_000n, opensAt: 1_061n, due });
      expect(keys(steps)).to.deep.equal(["stakecredit:6"]);
      expect(steps[0].call!.method).to.equal("payStakeCredits");
      expect(steps[0].call!.args).to.deep.equal([
        [1n, 3n],
        [6, 6],
      ]);
      expect(stakecredit.check({ epoch: 6, now: 1_000n, opensAt: 1_061n, due })).to.deep.equal([]);
      expect(stakecredit.check({ epoch: 6, now: 2_000n, opensAt: 1_061n, due: [due[1]] })).to.deep.equal([]);
    });
  });

  describe("exclude", () => {
    const ops = [
      "0x00000000000000000000000000000000000000B1",
      ZeroAddress,
      "0x00000000000000000000000000000000000000B3",
      "0x00000000000000000000000000000000000000B4",
    ];
    const view = { version: 2n, quorum: 2, operators: ops, live: 3, minCheckerStake: 100n, block: 9 };
    const state = {
      view,
      standing: [
        { licenses: 1n, staked: 100n }, // active
        undefined, // excluded already
        { licenses: 0n, staked: 50n },
        { licenses: 2n, staked: 99n },
      ],
    };

    it("names the live operators without a license or under the minimum stake, with why", () => {
      expect(exclude.inactive(state).map((o) => [o.index, o.reasons])).to.deep.equal([
        [2, exclude.EXCLUDED_NO_LICENSE | exclude.EXCLUDED_UNDER_STAKED],
        [3, exclude.EXCLUDED_UNDER_STAKED],
      ]);
    });

    it("excludes each by index, keyed by config version and index, and sends nothing for an active set", () => {
      const steps = exclude.check(state);
      expect(keys(steps)).to.deep.equal(["exclude:2:2", "exclude:2:3"]);
      expect(steps[0].call).to.deep.include({ contract: "ReportOracle", method: "excludeOperator" });
      expect(steps[0].call!.args).to.deep.equal([2]);
      expect(steps[0].log).to.deep.include({ reasons: ["no-license", "under-staked"], minCheckerStake: "100" });
      expect(
        exclude.check({ view, standing: [state.standing[0], undefined, state.standing[0], state.standing[0]] }),
      ).to.deep.equal([]);
    });
  });
});
