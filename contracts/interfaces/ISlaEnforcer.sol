// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RewardLeaf, NodeMetrics} from "./IRewardDistributor.sol";

/// @notice A node's leaf of an accepted epoch report, with the metrics it commits to and its proof.
struct NodeEpochProof {
    RewardLeaf leaf; // kind 0; `id` is the node id, `epoch` the epoch
    NodeMetrics metrics; // the preimage of `leaf.metricsHash`
    bytes32[] proof; // Merkle proof of `leaf` against the oracle's root for `leaf.epoch`
}

/// @title ISlaEnforcer
/// @notice Turns attested node metrics into SLA credits for renters and slashes for providers.
/// Anyone (a renter, a keeper) presents a node's leaf from an accepted report:
/// - `applySlaCredit`: the node's uptime in that epoch was below the rental's SLA target; the renter
///   is credited the schedule's share of what it paid for the epoch, first from the provider's
///   unwithdrawn earnings on the rental (paid at once), then from the provider's stake (KAI at a
///   governance rate): that part is recorded as due (`stakeCreditDue`), capped per node and epoch at
///   `stakeCreditCapBps` of the node's required stake, and paid by `payStakeCredit` only after the
///   epoch's slashing window, so that slashes for the epoch always come first. Once per rental and epoch.
/// - Slashing deadline: evidence whose last epoch is `e` slashes only until `epochStart(e + 1) +
///   slashWindow`; the registry's unbonding period is never below `slashLatency()`, so stake that a
///   slash could reach cannot leave before it lands.
/// - `slashForDowntime`: the node's uptime was below the slashing threshold for `downtimeEpochs`
///   consecutive epochs of a rental; a share (default a third) of the per-GPU stake of each of the
///   node's GPUs is slashed and the node jailed.
/// - `slashForHardwareFraud`: checkers attested hardware that differs from the registration; the
///   full per-GPU stake of all the node's GPUs is slashed and the node jailed.
/// - `closeOnJailedNode`: rentals on a jailed node close as `ProviderSlashed`; saving plans are
///   refunded in full: the escrow returns all but what the provider already withdrew, and that part
///   comes from the provider's stake (KAI at the governance rate, as for credits).
/// Every slash is recorded in the registry with its reason code and the evidence hash.
interface ISlaEnforcer {
    /* ------------------------------------------------------------------ */
    /*                               ERRORS                               */
    /* ------------------------------------------------------------------ */

    /// @notice The leaf is not a node leaf (kind 0).
    error SlaEnforcer_NotNodeLeaf(uint8 kind);
    /// @notice `metrics` do not hash to the leaf's `metricsHash`.
    error SlaEnforcer_MetricsMismatch(bytes32 metricsHash, bytes32 expected);
    /// @notice No report was accepted for `epoch`.
    error SlaEnforcer_NoReport(uint256 epoch);
    /// @notice The proof does not prove the leaf of node `nodeId` in `epoch`.
    error SlaEnforcer_InvalidProof(uint256 epoch, uint256 nodeId);
    /// @notice Rental `rentalId` was already credited for `epoch`.
    error SlaEnforcer_AlreadyCredited(uint256 rentalId, uint256 epoch);
    /// @notice `downtimeEpochs` leaves are needed; `count` were given.
    error SlaEnforcer_WrongProofCount(uint256 count, uint256 expected);
    /// @notice Leaf `index` is for node `nodeId`, not the rental's node `expected`.
    error SlaEnforcer_WrongNode(uint256 index, uint256 nodeId, uint256 expected);
    /// @notice Leaf `index` is for epoch `epoch`; the epochs must run consecutively from the first.
    error SlaEnforcer_NotConsecutive(uint256 index, uint256 epoch);
    /// @notice In `epoch` the node's uptime `uptimeBps` was not below the threshold `thresholdBps`.
    error SlaEnforcer_UptimeAboveThreshold(uint256 epoch, uint256 uptimeBps, uint256 thresholdBps);
    /// @notice Rental `rentalId` did not run during `epoch`.
    error SlaEnforcer_NotDuringRental(uint256 rentalId, uint256 epoch);
    /// @notice Evidence from `epoch` can no longer slash node `nodeId`: only epochs from
    /// `slashableFrom` can (a slash used the epochs before, or governance released the node since).
    error SlaEnforcer_EvidenceTooOld(uint256 nodeId, uint256 epoch, uint256 slashableFrom);
    /// @notice The credit of rental `rentalId` for `epoch` would pay nothing now (no unwithdrawn
    /// earnings and no KAI rate for its token, or no stake left): it stays available.
    error SlaEnforcer_NothingPaid(uint256 rentalId, uint256 epoch);
    /// @notice The leaf of node `nodeId` in `epoch` attests no hardware mismatch.
    error SlaEnforcer_NoHardwareMismatch(uint256 epoch, uint256 nodeId);
    /// @notice Rental `rentalId` runs on node `nodeId`, which is not jailed.
    error SlaEnforcer_NodeNotJailed(uint256 rentalId, uint256 nodeId);
    /// @notice None of the rentals given was open.
    error SlaEnforcer_NothingToClose();
    /// @notice A governance parameter is outside `[min, max]`.
    error SlaEnforcer_ParameterOutOfBounds(string name, uint256 value, uint256 min, uint256 max);
    /// @notice An address argument was the zero address.
    error SlaEnforcer_ZeroAddress();
    /// @notice Evidence whose last epoch is `epoch` could slash only until `deadline` (Unix seconds):
    /// `epochStart(epoch + 1) + slashWindow`.
    error SlaEnforcer_EvidenceExpired(uint256 epoch, uint256 deadline);
    /// @notice The registry's `unbondingPeriod` is shorter than `slashLatency`
    /// (`(downtimeEpochs + 1) x epochLength + slashWindow`): stake could leave before a slash lands.
    error SlaEnforcer_UnbondingTooShort(uint256 unbondingPeriod, uint256 slashLatency);
    /// @notice Stake credits for `epoch` are paid only from `opensAt` (Unix seconds), after its slashing window.
    error SlaEnforcer_SlashingWindowOpen(uint256 epoch, uint256 opensAt);
    /// @notice Nothing from stake is due to rental `rentalId` for `epoch` (never credited from stake, or paid).
    error SlaEnforcer_NothingDue(uint256 rentalId, uint256 epoch);
    /// @notice Parallel arrays of lengths `a` and `b` differ.
    error SlaEnforcer_LengthMismatch(uint256 a, uint256 b);

    /* ------------------------------------------------------------------ */
    /*                               EVENTS                               */
    /* ------------------------------------------------------------------ */

    /// @notice Rental `rentalId` was credited `credit` (rental token units) for node uptime
    /// `uptimeBps` in `epoch`: `fromEarnings` from the provider's earnings (paid) and `kaiFromStake`
    /// KAI from its stake for the rest, recorded as due (see `DeferStakeCredit`; 0 if no rate is set
    /// for the token, or the node's cap for the epoch is spent).
    event ApplySlaCredit(
        uint256 indexed rentalId,
        uint256 indexed epoch,
        uint256 uptimeBps,
        uint256 credit,
        uint256 fromEarnings,
        uint256 kaiFromStake
    );
    /// @notice Node `nodeId` was slashed `slashed` KAI for downtime in epochs `firstEpoch..lastEpoch`
    /// of rental `rentalId`, and jailed.
    event SlashDowntime(
        uint256 indexed nodeId,
        uint256 indexed rentalId,
        uint256 firstEpoch,
        uint256 lastEpoch,
        uint256 slashed,
        bytes32 evidence
    );
    /// @notice Node `nodeId` was slashed `slashed` KAI for hardware fraud attested in `epoch`, and jailed.
    event SlashHardwareFraud(uint256 indexed nodeId, uint256 indexed epoch, uint256 slashed, bytes32 evidence);
    /// @notice Governance set the downtime slashing policy.
    event SetDowntimePolicy(uint256 thresholdBps, uint256 epochs, uint256 slashBps);
    /// @notice Governance set the share of the per-GPU stake slashed for hardware fraud.
    event SetFraudSlashBps(uint256 slashBps);
    /// @notice Governance set the KAI units taken from stake per 1e18 units of `token` credited.
    event SetKaiPerToken(address indexed token, uint256 rate);
    /// @notice Governance set where downtime and fraud slashes go.
    event SetSlashRecipient(address recipient);
    /// @notice Saving plan `rentalId`, closed on a jailed node, was owed `value` (rental token units:
    /// what the provider had withdrawn from it) from the provider's stake, and its renter was paid
    /// `kaiPaid` KAI for it (0 if no rate is set for the token; less than `value` is worth if the
    /// stake ran out).
    event RefundSavingFromStake(uint256 indexed rentalId, uint256 value, uint256 kaiPaid);
    /// @notice Governance released node `nodeId` from jail; evidence from before `slashableFrom` is void.
    event ReleaseNode(uint256 indexed nodeId, uint256 slashableFrom);
    /// @notice `kaiDue` KAI from the provider's stake became due to the renter of `rentalId` for
    /// `epoch` (after the cap; what the credit asked beyond it is forfeited), payable after the
    /// epoch's slashing window.
    event DeferStakeCredit(uint256 indexed rentalId, uint256 indexed epoch, uint256 kaiDue);
    /// @notice The stake credit due to the renter of `rentalId` for `epoch` was paid: `kaiPaid` KAI
    /// (less than was due if the stake ran out).
    event PayStakeCredit(uint256 indexed rentalId, uint256 indexed epoch, uint256 kaiPaid);
    /// @notice Governance set the slashing deadline after an epoch's end, in seconds.
    event SetSlashWindow(uint256 slashWindow);
    /// @notice Governance set the cap on KAI from stake owed per node and epoch, bps of its required stake.
    event SetStakeCreditCapBps(uint256 capBps);

    /* ------------------------------------------------------------------ */
    /*                              ANYONE                                */
    /* ------------------------------------------------------------------ */

    /// @notice Credits the renter of `rentalId` for the node's uptime below the rental's SLA target
    /// in `p.leaf.epoch`. Anyone may call it (the renter, or a keeper); the credit always goes to the
    /// renter. Once per rental and epoch; reverts with `SlaEnforcer_NothingPaid` (the credit stays
    /// available) if it would pay nothing now and record nothing due.
    /// @dev Emits `ApplySlaCredit`; the escrow emits `CreditSla` (and `CreditRefund` if its push to the
    /// renter fails); `DeferStakeCredit` when KAI becomes due from stake (paid by `payStakeCredit`).
    /// @param rentalId The rental credited.
    /// @param p The leaf of the rental's node for the epoch, its metrics and proof.
    /// @return credit The credit in the rental's token.
    /// @return fromEarnings The part paid from the provider's unwithdrawn earnings.
    /// @return kaiFromStake KAI recorded as due from the provider's stake for the rest (capped).
    function applySlaCredit(
        uint256 rentalId,
        NodeEpochProof calldata p
    ) external returns (uint256 credit, uint256 fromEarnings, uint256 kaiFromStake);

    /// @notice `applySlaCredit` for several rentals of the node of `p` in its epoch, with the proof
    /// verified once (what a keeper sends after each report). Reverts as a whole if any rental
    /// cannot be credited, so that a keeper's retry never double-credits.
    /// @dev Emits `ApplySlaCredit` per rental (with the other contracts' events of `applySlaCredit`).
    /// @param rentalIds Rentals on the node of `p` during its epoch.
    /// @param p The node's leaf for the epoch, its metrics and proof.
    /// @return credited How many rentals were credited.
    function applySlaCredits(
        uint256[] calldata rentalIds,
        NodeEpochProof calldata p
    ) external returns (uint256 credited);

    /// @notice Slashes the provider of rental `rentalId`'s node for `downtimeEpochs` consecutive
    /// epochs of the rental with uptime below `downtimeThresholdBps`, and jails the node. Evidence
    /// must come after the epochs of the node's last downtime slash and its last release (see
    /// `slashableFrom`), so no epoch is used twice. Anyone may call it.
    /// @dev Emits `SlashDowntime` (and the registry's `Slash`, and `SetNodeStatus` unless the node is
    /// jailed or retired already).
    /// @param rentalId The rental during which the node was down.
    /// @param proofs The node's leaves for the consecutive epochs, in order.
    /// @return slashed KAI taken.
    function slashForDowntime(uint256 rentalId, NodeEpochProof[] calldata proofs) external returns (uint256 slashed);

    /// @notice Slashes the provider of node `p.leaf.id` for hardware fraud (the leaf attests a
    /// mismatch with the registered hardware) and jails the node. The epoch must come after the
    /// node's last fraud slash and its last release (see `slashableFrom`). Anyone may call it.
    /// @dev Emits `SlashHardwareFraud` (and the registry's `Slash`, and `SetNodeStatus` unless the
    /// node is jailed or retired already).
    /// @param p The node's leaf for the epoch, its metrics and proof.
    /// @return slashed KAI taken.
    function slashForHardwareFraud(NodeEpochProof calldata p) external returns (uint256 slashed);

    /// @notice Pays the renter of `rentalId` the KAI due from the provider's stake for `epoch`, once the
    /// epoch's slashing window has passed (from `epochStart(epoch + 1) + slashWindow + 1`; else
    /// `SlaEnforcer_SlashingWindowOpen`): every slash for the epoch had its chance first. Pays what
    /// the registry still holds, up to what is due (rewards owed first, then active stake, then
    /// unbonding). Anyone may call it. Reverts `SlaEnforcer_NothingDue` when nothing is due.
    /// @dev Emits `PayStakeCredit` after the registry's `Slash` (reason `PenaltyReason.SlaCredit`,
    /// evidence `keccak256(abi.encode(rentalId, epoch))`, recipient the renter).
    /// @param rentalId The rental credited.
    /// @param epoch The epoch of the credit.
    /// @return kaiPaid KAI paid to the renter.
    function payStakeCredit(uint256 rentalId, uint256 epoch) external returns (uint256 kaiPaid);

    /// @notice `payStakeCredit` for each pair (`rentalIds[i]`, `epochs[i]`), skipping pairs with
    /// nothing due (what a keeper sends). Reverts as a whole if a pair's window is still open.
    /// @dev Emits `PayStakeCredit` per pair paid.
    /// @param rentalIds Rentals credited.
    /// @param epochs The epoch of each credit.
    /// @return kaiPaid KAI paid in all.
    function payStakeCredits(
        uint256[] calldata rentalIds,
        uint256[] calldata epochs
    ) external returns (uint256 kaiPaid);

    /// @notice Pushes `slashLatency()` to the registry (`NodeRegistry.setSlashLatency`), which then
    /// refuses an unbonding period below it. Anyone may call it; the deployment does, after granting
    /// this contract the registry's `SLASHER_ROLE`; `setDowntimePolicy` and `setSlashWindow` push too.
    function syncSlashLatency() external;

    /// @notice Closes the open rentals among `rentalIds` whose node is jailed, for `ProviderSlashed`
    /// (renters get the unused deposit back; saving plans are refunded in full). Closed rentals are
    /// skipped. Anyone (keepers) may call it.
    /// A saving plan is refunded in full: the escrow returns the deposit less the value the provider
    /// already withdrew, and that value (less SLA credits paid from its earnings, see
    /// `savingCreditedFromEarnings`) is taken from the provider's stake in KAI at `kaiPerToken` and
    /// paid to the renter, as the stake part of a credit is (rewards owed first, then active stake,
    /// then unbonding). With no rate for the token, or the stake exhausted, the rental closes all the
    /// same and the renter gets what the stake gave (maybe 0).
    /// @dev Emits, per rental closed: the escrow's `CloseRental` (and `CreditRefund` if a refund push
    /// fails); for a saving plan the provider had withdrawn from, `RefundSavingFromStake`, after the
    /// registry's `Slash` (reason `PenaltyReason.SavingRefund`, evidence `keccak256(abi.encode(rentalId))`,
    /// recipient the renter) when KAI is owed and the provider has any stake or rewards left.
    /// @param rentalIds Rentals on jailed nodes.
    /// @return closed How many rentals were closed.
    function closeOnJailedNode(uint256[] calldata rentalIds) external returns (uint256 closed);

    /* ------------------------------------------------------------------ */
    /*                             GOVERNANCE                             */
    /* ------------------------------------------------------------------ */

    /// @notice Sets the downtime policy: uptime below `thresholdBps` (1..10,000) for `epochs`
    /// (1..12) consecutive epochs slashes `slashBps` (1..10,000) of the per-GPU stake of each of the
    /// node's GPUs. Only `DEFAULT_ADMIN_ROLE`. Emits `SetDowntimePolicy`.
    /// @param thresholdBps Uptime below which an epoch counts as downtime.
    /// @param epochs Consecutive downtime epochs that trigger a slash.
    /// @param slashBps Share of the per-GPU stake slashed per GPU of the node.
    /// @dev Reverts `SlaEnforcer_UnbondingTooShort` if the registry's unbonding period would fall
    /// below the new `slashLatency()`; pushes it to the registry otherwise.
    function setDowntimePolicy(uint256 thresholdBps, uint256 epochs, uint256 slashBps) external;

    /// @notice Sets the slashing deadline: evidence whose last epoch is `e` slashes until
    /// `epochStart(e + 1) + window`. Bounded `MIN_SLASH_WINDOW..MAX_SLASH_WINDOW` (60 s..30 days).
    /// Only `DEFAULT_ADMIN_ROLE`. Emits `SetSlashWindow`.
    /// @dev Reverts `SlaEnforcer_UnbondingTooShort` if the registry's unbonding period would fall
    /// below the new `slashLatency()`; pushes it to the registry otherwise.
    /// @param window Seconds after an epoch's end.
    function setSlashWindow(uint256 window) external;

    /// @notice Sets the cap on KAI from stake owed for all rentals of a node in one epoch, in bps
    /// (1..10,000) of the node's required stake (`perGpuStake x gpuCount`). Only `DEFAULT_ADMIN_ROLE`.
    /// Emits `SetStakeCreditCapBps`.
    /// @param capBps The cap, bps.
    function setStakeCreditCapBps(uint256 capBps) external;

    /// @notice Sets the share (1..10,000 bps) of the per-GPU stake of each of the node's GPUs slashed
    /// for hardware fraud. Only `DEFAULT_ADMIN_ROLE`. Emits `SetFraudSlashBps`.
    /// @param slashBps Share of the per-GPU stake slashed per GPU of the node.
    function setFraudSlashBps(uint256 slashBps) external;

    /// @notice Sets the KAI units taken from a provider's stake per 1e18 units of `token` credited
    /// beyond its earnings (0: credits in `token` come from earnings only; at most 1e40). Only
    /// `DEFAULT_ADMIN_ROLE`. Emits `SetKaiPerToken`.
    /// @param token A payment token.
    /// @param rate KAI units per 1e18 units of `token`.
    function setKaiPerToken(address token, uint256 rate) external;

    /// @notice Sets where downtime and fraud slashes go. Only `DEFAULT_ADMIN_ROLE`. Emits `SetSlashRecipient`.
    /// @param recipient The new recipient (the treasury).
    function setSlashRecipient(address recipient) external;

    /// @notice Lifts the jailing of `nodeId` (it becomes paused; its provider resumes it). Evidence
    /// from before the next epoch can no longer slash it. Only `DEFAULT_ADMIN_ROLE`. Emits `ReleaseNode`
    /// (and the registry's `SetNodeStatus`).
    /// @param nodeId A jailed node.
    function releaseNode(uint256 nodeId) external;

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @notice Seconds after an epoch's end during which its evidence may slash.
    /// @return Seconds.
    function slashWindow() external view returns (uint256);

    /// @notice The longest time from the start of misbehaviour to the last moment a slash for it can
    /// land: `(downtimeEpochs + 1) x epochLength + slashWindow`. The registry's unbonding period is
    /// never below it.
    /// @return Seconds.
    function slashLatency() external view returns (uint256);

    /// @notice Cap on KAI from stake owed per node and epoch, bps of the node's required stake.
    /// @return Bps (default 1,000).
    function stakeCreditCapBps() external view returns (uint256);

    /// @notice KAI from the provider's stake due to the renter of `rentalId` for `epoch`, not paid yet.
    /// @param rentalId The rental.
    /// @param epoch The epoch.
    /// @return kai KAI units.
    function stakeCreditDue(uint256 rentalId, uint256 epoch) external view returns (uint256 kai);

    /// @notice KAI from stake recorded as due for all rentals of node `nodeId` for `epoch` (paid or
    /// not): what the cap is measured against.
    /// @param nodeId The node.
    /// @param epoch The epoch.
    /// @return kai KAI units.
    function nodeStakeCreditDue(uint256 nodeId, uint256 epoch) external view returns (uint256 kai);

    /// @notice KAI units taken from stake per 1e18 units of `token` credited beyond earnings.
    /// @param token A payment token.
    /// @return The rate (0: none set).
    function kaiPerToken(address token) external view returns (uint256);

    /// @notice SLA credits paid to the renter of saving plan `rentalId` out of the provider's earnings
    /// on it, in all (rental token units; 0 for other plans). They are part of the value of the
    /// rental's withdrawn units that the provider did not take, so a refund from stake leaves them out.
    /// @dev Counts credits applied through this enforcer only: it must be the escrow's only
    /// `ORACLE_ROLE` crediting rentals.
    /// @param rentalId The rental.
    /// @return amount Token units credited from earnings.
    function savingCreditedFromEarnings(uint256 rentalId) external view returns (uint256 amount);

    /// @notice Whether rental `rentalId` was credited for `epoch`.
    /// @param rentalId The rental.
    /// @param epoch The epoch.
    /// @return True once credited.
    function isCredited(uint256 rentalId, uint256 epoch) external view returns (bool);

    /// @notice The first epochs whose evidence may still slash node `nodeId`, for downtime and for
    /// hardware fraud (a slash moves them past the epochs it used; a release past its own epoch).
    /// @param nodeId The node.
    /// @return downtimeEpoch First epoch usable for a downtime slash.
    /// @return fraudEpoch First epoch usable for a fraud slash.
    function slashableFrom(uint256 nodeId) external view returns (uint256 downtimeEpoch, uint256 fraudEpoch);

    /// @notice KAI stake backing one GPU of node `nodeId` (base stake x the class multiplier).
    /// @param nodeId A registered node.
    /// @return KAI units.
    function perGpuStake(uint256 nodeId) external view returns (uint256);

    /// @notice `keccak256(bytes.concat(keccak256(abi.encode(leaf))))` after checking `p` against the
    /// oracle's root: reverts as the actions do when it does not hold.
    /// @param p The leaf, its metrics and proof.
    /// @return leafHash The leaf's hash in the tree.
    function verifyNodeLeaf(NodeEpochProof calldata p) external view returns (bytes32 leafHash);
}
