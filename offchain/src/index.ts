/** Kaisar off-chain software: shared models and encoders. */
export * from "./rentalMath";
