export * from "./config";
export * from "./popw";
export * from "./scoring";
export { buildProgram, main, EXIT } from "./cli";
