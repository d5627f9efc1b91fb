// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Lifecycle of a GPU node listed in the NodeRegistry.
/// @dev `None` is the zero value, so an unknown node id reads as `None`.
enum NodeStatus {
    None,
    Active,
    Paused,
    Jailed,
    Retired
}

/// @notice How a rental is paid.
enum Plan {
    PayAsYouGo, // deposit streams to the provider by the second
    Hourly, // charged per started hour
    Saving // a 7/30/90-day term prepaid at a discount, provider stake locked for the term
}

/// @notice Lifecycle of a rental.
enum RentalStatus {
    None,
    Active, // running, or depleted and inside its grace period
    Grace, // depleted and flagged: the renter has been warned and may still top up
    Closed // ended; the final split between provider and renter is fixed
}

/// @notice Why a rental was closed. Machine-readable so that UIs and keepers never guess.
enum CloseReason {
    None,
    Renter, // the renter ended it
    Provider, // the provider ended it
    Expired, // a saving plan reached the end of its term
    InsufficientFunds, // the balance ran out and the grace period passed
    SlaBreach, // the oracle found the provider in breach of the rental's SLA
    ProviderSlashed // the provider was slashed
}

/// @notice Why a provider's (or a checker's) stake was taken: the `reason` code of the registry's
/// `Slash` event and of each `Penalty`, a `uint8`. Each reason's code is its value here, except
/// `Equivocation`, recorded as `EQUIVOCATION_PENALTY_CODE` (100): the oracle's reason, apart from the
/// SLA enforcer's since the first deployments.
enum PenaltyReason {
    None,
    SlaCredit, // the stake part of an SLA credit (SlaEnforcer)
    Downtime, // repeated downtime during a rental (SlaEnforcer)
    HardwareFraud, // attested hardware differs from the registration (SlaEnforcer)
    SavingRefund, // a saving plan on a jailed node refunded in full: what the provider had withdrawn
    // from it, paid back from its stake (SlaEnforcer)
    Equivocation // a checker signed two different reports of one epoch (ReportOracle)
}

// The registry's reason code of `PenaltyReason.Equivocation`.
uint8 constant EQUIVOCATION_PENALTY_CODE = 100;

/// @notice Hardware a node declares at registration. Checkers re-test it.
struct NodeSpec {
    uint16 gpuClass; // index into the registry's GPU class list
    uint16 gpuCount; // GPUs on the node
    uint16 vramGiB; // per GPU
    uint16 cpuCores;
    uint32 ramGiB;
    uint32 diskGiB;
    uint32 bandwidthMbps;
    bytes8 region; // short region code, e.g. "eu-west"
}

/// @notice A node as stored by the NodeRegistry, packed in two slots plus the URI.
struct Node {
    // slot 0: everything `reserveGpus` reads and writes
    address provider; // 160
    uint16 gpuClass; // 176
    uint16 gpuCount; // 192
    uint16 rentedGpus; // 208
    NodeStatus status; // 216
    uint32 maintenanceStart; // 248: Unix seconds (uint32 lasts until 2106); 0 = none announced
    // slot 1: declared hardware, the end of the maintenance window, and when the node was listed
    uint32 maintenanceEnd; // Unix seconds, exclusive
    uint16 vramGiB;
    uint16 cpuCores;
    uint32 ramGiB;
    uint32 diskGiB;
    uint32 bandwidthMbps;
    bytes8 region; // 224
    uint32 listedSince; // 256: Unix seconds the node last became Active (registered or resumed)
    // slot 2+: the endpoint / metadata URI
    string metadataURI;
}

/// @notice A provider's stake, packed in two slots. All amounts in KAI units (18 decimals).
struct ProviderStake {
    // slot 0
    uint96 staked; // active stake
    uint96 unbonding; // requested for withdrawal, still slashable
    uint40 unbondingEnd; // Unix seconds when `unbonding` becomes withdrawable
    // slot 1 (weights fit 40 bits: `registerNode` refuses a listing that would overflow them)
    uint40 listedWeight; // sum over listed nodes of gpuCount x class multiplier (bps)
    uint40 lockedWeight; // the same sum over GPUs rented on saving plans
    uint40 rentedWeight; // the same sum over the WHOLE of each listed node with at least one GPU rented
    uint40 coveredSince; // Unix seconds since `staked >= requiredStake` has held without a break; 0 = not covered
    uint96 rewardsOwed; // KAI rewards credited and not yet withdrawn (slashed first)
}

/// @notice A GPU class set by governance. The multiplier is fixed once created so that
/// stake requirements recorded for listed nodes never drift.
struct GpuClass {
    bytes32 name; // e.g. "H100-80GB"
    uint32 multiplierBps; // stake multiplier, 10_000 = 1x
    bool active; // new nodes may use it
}

/// @notice A penalty applied to a provider, kept so that the provider can see why.
struct Penalty {
    uint96 amount; // KAI units actually taken
    uint40 at; // Unix seconds
    uint8 reason; // a `PenaltyReason` code (its value; `EQUIVOCATION_PENALTY_CODE` for `Equivocation`)
    uint32 nodeId; // 0 if not tied to a node
    bytes32 evidence; // hash of the evidence (e.g. a report leaf)
}

/// @notice A rental as stored by the RentalEscrow: two slots, both written when it opens.
struct Rental {
    // slot 0: who, what, and the state machine
    address renter; // 160
    uint32 nodeId; // 192
    uint8 gpus; // 200: at most 255 GPUs per rental
    uint8 tokenIndex; // 208: index in the escrow's payment token list
    Plan plan; // 216
    RentalStatus status; // 224
    CloseReason closeReason; // 232: None while open
    uint8 slaTier; // 240
    uint16 termsVersion; // 256: fee, penalty and grace period in force when the rental opened
    // slot 1: money and time
    uint96 amount; // while open: total deposited; once closed: the provider's final earnings (gross)
    uint96 unitPrice; // token units per second (PayAsYouGo) or per hour (Hourly; Saving: discounted,
    // and the deposit is exactly unitPrice x 24 x termDays, so the term needs no storage)
    uint32 anchor; // Unix seconds the paid time is measured from (uint32 lasts until 2106)
    uint32 withdrawnUnits; // while open: earnings withdrawn (or credited to the renter) so far, in
    // billing units (PAYG, Hourly) or seconds of term (Saving). Once closed: the units the rental paid
    // for in all, so that its service window stays known for SLA credits.
}

/// @notice Rental terms fixed when a rental opens (governance changes apply to new rentals only).
struct RentalTerms {
    uint16 feeBps; // protocol fee on provider earnings
    uint16 earlyExitPenaltyBps; // saving plans: share of the unused part kept when the renter ends early
    uint32 gracePeriod; // seconds after the balance runs out before anyone may close the rental
}

/// @notice Input to `RentalEscrow.rent`.
struct RentParams {
    uint256 nodeId;
    uint256 gpus;
    address token; // an allow-listed payment token
    Plan plan;
    uint256 deposit; // PayAsYouGo / Hourly: the initial deposit in token units; Saving: must be 0
    uint256 termDays; // Saving: 7, 30 or 90; otherwise 0
    uint256 maxPricePerGpuHour; // revert if the node's price is higher (front-running guard)
    uint256 slaTier; // index into the escrow's SLA tiers
}
