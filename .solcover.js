// solidity-coverage: measure the protocol contracts, not the test mocks.
module.exports = {
  skipFiles: ["test/"],
  // Instrumentation adds locals; the Yul optimizer keeps the stack within limits.
  configureYulOptimizer: true,
  istanbulReporter: ["json-summary", "text-summary", "lcov"],
};
