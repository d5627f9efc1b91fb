/**
 * The money model behind `test/scenarios/moneyWalk.test.ts` and `regressions.test.ts`.
 *
 * A TypeScript model of NodeRegistry's stakes and RentalEscrow's books, built on the bigint mirror
 * `offchain/src/rentalMath.ts`. Every command resolves its (generated) arguments against the model,
 * predicts the exact outcome (success, or the exact custom error with its arguments), sends the
 * transaction at a timestamp the model chose, and applies the prediction. After every step
 * `checkInvariants` reads the whole chain state in one call (`MoneyWalkProbe`) and compares it with
 * the model field by field, then checks the money invariants of docs/threats.md.
 *
 * Every transaction is mined at a timestamp fixed by the model and sent with an explicit gas limit
 * (no estimate), so a sequence replays identically from a snapshot: same seed, same path, same
 * blocks.
 *
 * The model is split along its sections, one file each (constants, world, state, send, registry and
 * escrow actions, invariants, drain, commands, arbitraries); this index is what the walks import.
 */
export * from "./constants";
export * from "./world";
export * from "./probe";
export * from "./state";
export * from "./send";
export * from "./registryActions";
export * from "./escrowActions";
export * from "./invariants";
export * from "./drain";
export * from "./commands";
export * from "./arbitraries";
