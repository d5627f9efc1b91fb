export * from "./config";
export * from "./popw";
export * from "./scoring";
export { buildProgram, main, EXIT } from "./cli";
// As namespaces: the checker re-exports the agent's report types, so flat exports of both would collide.
export * as provider from "./provider";
export * as checker from "./checker";
