export * from "./parsers";
export * from "./schema";
export * from "./load";
export * from "./example";
export * from "./nodes";
