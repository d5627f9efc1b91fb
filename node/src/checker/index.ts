export * from "./http";
export * from "./hardware";
export * from "./probe";
export * from "./scheduler";
export * from "./store";
export * from "./api";
export * from "./run";
export * from "./bench";
