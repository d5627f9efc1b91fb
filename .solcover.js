// solidity-coverage: measure the protocol contracts, not the test mocks.
module.exports = {
  skipFiles: ["test/"],
  // Instrumentation adds locals; the Yul optimizer keeps the stack within limits.
  configureYulOptimizer: true,
  istanbulReporter: ["json-summary", "text-summary", "lcov"],
  // The property walks ("... against the TypeScript model"), their regressions and the long
  // property files ("<Contract> property: ...") run uninstrumented in `npm run test:walks`:
  // instrumented they take minutes, and the unit tests reach every branch anyway.
  mocha: {
    grep: "against the TypeScript model|^Money walk regressions|^(RewardDistributor|CheckerLicense) property:",
    invert: true,
  },
};
