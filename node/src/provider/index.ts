export * from "./hardware";
export * from "./solver";
export * from "./server";
export * from "./catalog";
export * from "./agent";
