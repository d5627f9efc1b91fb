/**
 * Specification trees (the branching-tree style of Paul Berg's bulloak `.tree` files) beside the
 * unit tests of the escrow's and registry's money paths: `test/unit/<Contract>/<function>.tree`
 * lists every case of `<function>.test.ts` at a glance, each `given`/`when` a `describe` and each
 * leaf `it <title>` the test (its `it` title) that proves it.
 *
 * The tree is the test file's own describe/it outline, so a case in the tree without its test, or a
 * test missing from the tree, fails `test/unit/specTrees.test.ts`. Rewrite the trees after changing
 * those tests: `npx ts-node --transpile-only test/helpers/specTree.ts --write`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/** The test files that have a tree beside them (`x.test.ts` → `x.tree`). */
export const SPECIFIED_TESTS = [
  "test/unit/RentalEscrow/rent.test.ts",
  "test/unit/RentalEscrow/topUp.test.ts",
  "test/unit/RentalEscrow/endRental.test.ts",
  "test/unit/RentalEscrow/closeRental.test.ts",
  "test/unit/RentalEscrow/withdrawEarnings.test.ts",
  "test/unit/NodeRegistry/slash.test.ts",
] as const;

/** A `describe` (with children) or an `it` (a leaf). */
export interface SpecNode {
  title: string;
  children: SpecNode[] | null;
}

/** The title as written: a string's text, a template's source between its backticks. */
function titleOf(arg: ts.Expression, source: ts.SourceFile): string | null {
  if (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) return arg.text;
  if (ts.isTemplateExpression(arg)) return arg.getText(source).slice(1, -1);
  return null;
}

/** The describe/it outline of a mocha test file, in source order. */
export function outlineOf(file: string): SpecNode[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  function visit(node: ts.Node, into: SpecNode[]): void {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.arguments.length > 0) {
      const kind = node.expression.text;
      const title = titleOf(node.arguments[0], source);
      if ((kind === "describe" || kind === "it") && title !== null) {
        const spec: SpecNode = { title, children: kind === "describe" ? [] : null };
        into.push(spec);
        if (spec.children) node.arguments.slice(1).forEach((a) => visit(a, spec.children!));
        return;
      }
    }
    ts.forEachChild(node, (child) => visit(child, into));
  }
  const roots: SpecNode[] = [];
  visit(source, roots);
  return roots;
}

/** The `.tree` text of a test file's outline (one root `describe`: the function under test). */
export function treeOf(testFile: string): string {
  const roots = outlineOf(testFile);
  if (roots.length !== 1 || !roots[0].children) {
    throw new Error(`${testFile}: expected one top-level describe naming the function, found ${roots.length}`);
  }
  const lines = [roots[0].title];
  function draw(nodes: SpecNode[], prefix: string): void {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      lines.push(`${prefix}${last ? "└── " : "├── "}${n.children ? n.title : `it ${n.title}`}`);
      if (n.children) draw(n.children, prefix + (last ? "    " : "│   "));
    });
  }
  draw(roots[0].children, "");
  return `${lines.join("\n")}\n`;
}

/** The path of the tree beside `testFile`. */
export function treePathOf(testFile: string): string {
  return testFile.replace(/\.test\.ts$/, ".tree");
}

if (require.main === module && process.argv.includes("--write")) {
  const root = path.join(__dirname, "..", "..");
  for (const file of SPECIFIED_TESTS) {
    writeFileSync(path.join(root, treePathOf(file)), treeOf(path.join(root, file)));
    console.log(`wrote ${treePathOf(file)}`);
  }
}
