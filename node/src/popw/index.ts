export * from "./prng";
export * from "./matrix";
export * from "./kernel";
export * from "./freivalds";
export * from "./challenge";
