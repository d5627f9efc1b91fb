/**
 * The PoPW model behind `test/scenarios/popwWalk.test.ts`.
 *
 * A TypeScript model of what reports, reward claims, SLA credits and PoPW slashes do to money:
 * rentals (RentalEscrow, USD only), stakes (NodeRegistry), epoch reports (ReportOracle), claims and
 * vesting (RewardDistributor), and the SlaEnforcer's credits, slashes and closes; and of the
 * checkers: licenses (CheckerLicense: delegations, departures and their cooldown, suspensions),
 * operator stakes (the registry's ledger, shared with providers), the oracle's checker set
 * (rotations by governance, exclusions leaving tombstones, the quorum of live operators) and
 * equivocation proofs (slash, bounty, treasury, suspensions, exclusion). Expectations come
 * from the off-chain mirrors the keepers and the web app use: `offchain/src/rentalMath.ts` (quotes,
 * splits, pending earnings), `offchain/src/sla.ts` (credits, service windows, KAI from stake) and
 * `offchain/src/leaves.ts` (trees, proofs, leaf hashes). Every command resolves its generated
 * selectors against the model, predicts the exact outcome (success with its events, or the exact
 * custom error with its arguments), sends the transaction at a timestamp the model chose, and
 * applies the prediction. After every step `checkInvariants` compares the chain with the model.
 *
 * The SlaEnforcer as modelled: a credit that would pay nothing now (nothing from earnings, no KAI
 * from stake) reverts `NothingPaid` and stays available; a downtime slash takes `downtimeSlashBps`
 * of the per-GPU stake of each of the NODE's GPUs; each node has two "slashable from" cursors
 * (downtime, fraud): a downtime slash of epochs [a..b] moves the first to b + 1, a fraud slash for
 * epoch e the second to e + 1, a release both to the epoch after the release's (never backwards),
 * and older evidence reverts `EvidenceTooOld`; a saving plan closed on a jailed node comes back in
 * full: the escrow refunds all but the value of its withdrawn units, and the provider's own gross
 * withdrawals are paid to the renter from its stake in KAI (capped by the stake; nothing without a
 * rate), the SLA credits already paid from its earnings left out.
 *
 * The checkers as modelled: the admin owns every license (ids 1-4 delegated one to each operator
 * at setup, 5-6 free); a license that leaves an operator (switch or undelegate) records it and the time, and
 * cannot leave one again until `departureCooldown` after that (`DepartureCooldown(id, readyAt)`); a
 * report needs a quorum of the set's live operators, so once exclusions leave fewer than the quorum
 * no report passes until governance sets a new set; at most two operators are ever proven to
 * equivocate (the generator keeps two honest, so that a set can always be formed again).
 *
 * Every transaction is mined at a timestamp fixed by the model with an explicit gas limit (no
 * estimate), so a sequence replays from the start snapshot block for block. The operators' keys are
 * random per process (`makeOperators`): the model follows the addresses it reads at setup, and the
 * generators pick operators by their sorted index and licenses by `World.licenseOrder`, so that a
 * sequence does the same in any process (only addresses, signatures and proofs differ).
 *
 * The model is split along its sections, one file each (constants, world, state, send, the actions
 * per contract, invariants, drain, commands, arbitraries); this index is what the walk imports.
 */
export * from "./constants";
export * from "./world";
export * from "./probe";
export * from "./state";
export * from "./send";
export * from "./registryActions";
export * from "./escrowActions";
export * from "./oracleActions";
export * from "./checkerActions";
export * from "./distributorActions";
export * from "./slaActions";
export * from "./invariants";
export * from "./drain";
export * from "./commands";
export * from "./slaCommands";
export * from "./checkerCommands";
export * from "./arbitraries";
