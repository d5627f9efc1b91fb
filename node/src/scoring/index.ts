export * from "./types";
export * from "./canonical";
export * from "./median";
export * from "./rewards";
export * from "./observe";
export * from "./aggregate";
