/**
 * The vocabulary generated from the compiled contracts (src/generated/protocol.ts, written by
 * `hardhat compile` through scripts/generate-protocol.js): every custom error of every compiled
 * protocol contract is in the error table with its selector, and every error the interfaces document
 * carries that NatSpec sentence.
 */
import { expect } from "chai";
import { id } from "ethers";
import { readFileSync, readdirSync } from "fs";
import path from "path";

import { PROTOCOL_ERRORS, kaisarErrorsAbi } from "../src/generated/protocol";
import { CloseReasonNames, NodeStatusNames, PenaltyReasonNames, PlanNames, RentalStatusNames } from "../src/vocabulary";

const ROOT = path.resolve(__dirname, "..", "..");

/** Every artifact of a contract under contracts/ (not contracts/test/). */
function protocolArtifacts(
  dir = path.join(ROOT, "artifacts", "contracts"),
): { abi: { type: string; name: string; inputs: { type: string }[] }[]; sourceName: string }[] {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (p !== path.join(ROOT, "artifacts", "contracts", "test")) out.push(...protocolArtifacts(p));
    } else if (entry.name.endsWith(".json") && !entry.name.endsWith(".dbg.json")) {
      out.push(JSON.parse(readFileSync(p, "utf8")));
    }
  }
  return out;
}

describe("generated protocol vocabulary", () => {
  it("has every custom error of the compiled protocol contracts, with its selector", () => {
    const artifacts = protocolArtifacts();
    expect(artifacts.length).to.be.greaterThan(10);
    const missing: string[] = [];
    for (const artifact of artifacts) {
      for (const item of artifact.abi.filter((i) => i.type === "error")) {
        const signature = `${item.name}(${item.inputs.map((i) => i.type).join(",")})`;
        const known = PROTOCOL_ERRORS[item.name];
        if (!known || known.signature !== signature) missing.push(`${artifact.sourceName}: ${signature}`);
        else expect(known.selector, signature).to.equal(id(signature).slice(0, 10));
      }
    }
    expect(missing).to.deep.equal([]);
    expect(kaisarErrorsAbi.map((e) => e.name)).to.have.members(Object.keys(PROTOCOL_ERRORS));
  });

  it("gives each error declared in contracts/interfaces its `/// @notice` sentence", () => {
    const dir = path.join(ROOT, "contracts", "interfaces");
    let count = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".sol"))) {
      const text = readFileSync(path.join(dir, file), "utf8");
      for (const m of text.matchAll(/\/\/\/ @notice ((?:[^\n]|\n\s*\/\/\/ (?!@))+)\n\s*error (\w+)\(/g)) {
        const sentence = m[1]
          .replace(/\n\s*\/\/\/ /g, " ")
          .replace(/\s+/g, " ")
          .trim();
        expect(PROTOCOL_ERRORS[m[2]]?.sentence, m[2]).to.equal(sentence);
        count++;
      }
    }
    expect(count).to.be.greaterThan(100);
  });

  it("names the enums of contracts/types/DataTypes.sol in their order", () => {
    const text = readFileSync(path.join(ROOT, "contracts", "types", "DataTypes.sol"), "utf8");
    const members = (name: string) =>
      text
        .match(new RegExp(`enum ${name} \\{([^}]*)\\}`))![1]
        .split("\n")
        .map((l) =>
          l
            .replace(/\/\/.*/, "")
            .replace(",", "")
            .trim(),
        )
        .filter(Boolean);
    expect(PlanNames).to.deep.equal(members("Plan"));
    expect(RentalStatusNames).to.deep.equal(members("RentalStatus"));
    expect(CloseReasonNames).to.deep.equal(members("CloseReason"));
    expect(NodeStatusNames).to.deep.equal(members("NodeStatus"));
    expect(PenaltyReasonNames).to.deep.equal(members("PenaltyReason"));
  });
});
