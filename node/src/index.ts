export * from "./config";
export * from "./popw";
export * from "./scoring";
export { buildProgram, main, EXIT } from "./cli";
// As a namespace: the checker side has its own types of the same names (HardwareReport, ...).
export * as provider from "./provider";
export * as checker from "./checker";
