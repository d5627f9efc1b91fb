export * from "./rentalMath";
export * from "./report";
export * from "./leaves";
export * from "./sla";
export * from "./fastTree";
export * from "./json";
export * from "./keeperProof";
export * from "./permit";
