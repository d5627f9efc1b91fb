// solidity-coverage: measure the protocol contracts, not the test mocks.
module.exports = {
  skipFiles: ["test/"],
  // Instrumentation adds locals; the Yul optimizer keeps the stack within limits.
  configureYulOptimizer: true,
  istanbulReporter: ["json-summary", "text-summary", "lcov"],
  // The property walks ("... against the TypeScript model", "Attacker walk ..."), their regressions and the long
  // property files ("<Contract> property: ...") run uninstrumented in `npm run test:walks`:
  // instrumented they take minutes, and the unit tests reach every branch anyway.
  // The gas goals (test/gas, "Bench gas goals ...") measure uninstrumented gas in
  // `npm run test:gas-bounds`; instrumented bytecode costs more (they also skip themselves).
  mocha: {
    grep: "against the TypeScript model|^Attacker walk|^Money walk regressions|^(RewardDistributor|CheckerLicense) property:|^Bench gas goals",
    invert: true,
  },
};
