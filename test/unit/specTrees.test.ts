/**
 * The specification trees beside the tests of rent, top-up, close, withdraw and slash
 * (`test/helpers/specTree.ts`) match their test files case for case: every branch of a tree has its
 * test, and every test is in its tree.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";

import { SPECIFIED_TESTS, treeOf, treePathOf } from "../helpers/specTree";

const ROOT = path.join(__dirname, "..", "..");

describe("Specification trees (test/unit/**/*.tree)", () => {
  for (const file of SPECIFIED_TESTS) {
    it(`${treePathOf(file)} lists exactly the cases of ${path.basename(file)}`, () => {
      const tree = readFileSync(path.join(ROOT, treePathOf(file)), "utf8");
      expect(tree).to.equal(
        treeOf(path.join(ROOT, file)),
        `${treePathOf(file)} and ${file} differ: add the missing test (or case), then ` +
          "`npx ts-node --transpile-only test/helpers/specTree.ts --write`",
      );
    });
  }

  it("reads a tree's cases from describe/it titles, templates as written", () => {
    const tree = treeOf(path.join(ROOT, "test/unit/RentalEscrow/topUp.test.ts"));
    expect(tree.split("\n")[0]).to.equal("RentalEscrow.topUp");
    expect(tree).to.contain("│   │   └── it reverts with RentalEscrow_ZeroAmount\n");
    expect(tree).to.contain("it reverts with RentalEscrow_NotRenter for the ${who}\n");
  });
});
