// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Node, NodeSpec, NodeStatus, ProviderStake, GpuClass, Penalty} from "../types/DataTypes.sol";

/// @title INodeRegistry
/// @notice Providers list GPU nodes and stake KAI for them. Required stake for a provider =
/// `baseStakePerGpu` x the sum over its listed nodes of (GPU count x the GPU class multiplier).
/// Stake leaves through an unbonding period during which it stays slashable. The oracle slashes
/// (rewards owed first, then active stake, then unbonding stake) and jails nodes; the rental
/// escrow reserves and releases GPUs and locks stake for saving plans.
/// @dev Amounts are in KAI units (18 decimals); times are Unix seconds; multipliers are bps.
interface INodeRegistry {
    /* ------------------------------------------------------------------ */
    /*                               ERRORS                               */
    /* ------------------------------------------------------------------ */

    /// @notice `nodeId` does not exist.
    error NodeRegistry_UnknownNode(uint256 nodeId);
    /// @notice The caller is not the provider that owns `nodeId`.
    error NodeRegistry_NotNodeProvider(uint256 nodeId, address caller);
    /// @notice `gpuClass` does not exist or is not open to new nodes.
    error NodeRegistry_InvalidGpuClass(uint256 gpuClass);
    /// @notice A node spec field is out of range (`field` names it).
    error NodeRegistry_InvalidSpec(string field);
    /// @notice The metadata URI is empty or longer than `maxLength` bytes.
    error NodeRegistry_InvalidMetadataURI(uint256 length, uint256 maxLength);
    /// @notice The node is in `status`, which does not allow this action.
    error NodeRegistry_InvalidNodeStatus(uint256 nodeId, NodeStatus status);
    /// @notice The node does not accept `token` (no price set for it).
    error NodeRegistry_TokenNotAccepted(uint256 nodeId, address token);
    /// @notice The node has `free` GPUs, fewer than the `requested`.
    error NodeRegistry_NotEnoughFreeGpus(uint256 nodeId, uint256 requested, uint256 free);
    /// @notice The node is inside a maintenance window until `end`.
    error NodeRegistry_InMaintenance(uint256 nodeId, uint256 end);
    /// @notice A maintenance window must start at least `earliestStart` and last 1 s to `maxDuration` s.
    error NodeRegistry_InvalidMaintenanceWindow(uint256 start, uint256 end, uint256 earliestStart, uint256 maxDuration);
    /// @notice The provider stakes `staked`, less than the `required` for its listed GPUs.
    error NodeRegistry_InsufficientStake(address provider, uint256 staked, uint256 required);
    /// @notice The node still has `rentedGpus` GPUs rented.
    error NodeRegistry_NodeHasRentals(uint256 nodeId, uint256 rentedGpus);
    /// @notice An amount was zero.
    error NodeRegistry_ZeroAmount();
    /// @notice The amount does not fit the packed storage (max `max`).
    error NodeRegistry_AmountTooLarge(uint256 amount, uint256 max);
    /// @notice Unstaking `amount` exceeds the `unlocked` stake: the active stake less the larger of the
    /// stake locked by running saving plans and the requirement of listed nodes with open rentals.
    error NodeRegistry_StakeLocked(address provider, uint256 amount, uint256 unlocked);
    /// @notice Unstaking `amount` exceeds the active stake `staked`.
    error NodeRegistry_InsufficientStaked(address provider, uint256 amount, uint256 staked);
    /// @notice Nothing is unbonding, or it unlocks at `unbondingEnd`.
    error NodeRegistry_NothingToWithdraw(address provider, uint256 unbondingEnd);
    /// @notice A governance parameter is outside `[min, max]`.
    error NodeRegistry_ParameterOutOfBounds(string name, uint256 value, uint256 min, uint256 max);
    /// @notice A setter was called with the value already in force.
    error NodeRegistry_AlreadySet();
    /// @notice An address argument was the zero address.
    error NodeRegistry_ZeroAddress();
    /// @notice The unbonding period `unbondingPeriod` would be shorter than `slashLatency`, the longest
    /// time a slash may take to land after the misbehaviour starts: stake could leave before it.
    error NodeRegistry_UnbondingBelowSlashLatency(uint256 unbondingPeriod, uint256 slashLatency);

    /* ------------------------------------------------------------------ */
    /*                               EVENTS                               */
    /* ------------------------------------------------------------------ */

    /// @notice A provider listed a node.
    event RegisterNode(uint256 indexed nodeId, address indexed provider, NodeSpec spec, string metadataURI);
    /// @notice The price per GPU-hour of `nodeId` in `token` changed (0 = not accepted).
    event SetNodePrice(uint256 indexed nodeId, address indexed token, uint256 pricePerGpuHour);
    /// @notice The metadata URI of `nodeId` changed.
    event SetNodeMetadata(uint256 indexed nodeId, string metadataURI);
    /// @notice The node's status changed (pause, resume, jail, unjail, retire).
    event SetNodeStatus(uint256 indexed nodeId, NodeStatus status);
    /// @notice The provider announced maintenance on `nodeId` from `start` to `end` (0, 0 = cancelled).
    event AnnounceMaintenance(uint256 indexed nodeId, uint256 start, uint256 end);
    /// @notice `provider` added `amount` to its active stake.
    event Stake(address indexed provider, uint256 amount, uint256 staked);
    /// @notice `provider` moved `amount` from active stake to unbonding, withdrawable at `unbondingEnd`.
    event RequestUnstake(address indexed provider, uint256 amount, uint256 unbondingEnd);
    /// @notice `provider` withdrew `amount` of unbonded stake.
    event WithdrawUnstaked(address indexed provider, uint256 amount);
    /// @notice `amount` of KAI rewards were credited to `provider`.
    event DepositRewards(address indexed provider, address indexed from, uint256 amount);
    /// @notice `provider` withdrew `amount` of KAI rewards.
    event WithdrawRewards(address indexed provider, uint256 amount);
    /// @notice `provider` was slashed: `fromRewards + fromStake + fromUnbonding` went to `recipient`.
    event Slash(
        address indexed provider,
        uint256 indexed nodeId,
        uint8 indexed reason,
        bytes32 evidence,
        uint256 fromRewards,
        uint256 fromStake,
        uint256 fromUnbonding,
        address recipient
    );
    /// @notice Governance added a GPU class.
    event AddGpuClass(uint256 indexed gpuClass, bytes32 name, uint256 multiplierBps);
    /// @notice Governance opened or closed a GPU class to new nodes.
    event SetGpuClassActive(uint256 indexed gpuClass, bool active);
    /// @notice Governance set the stake required per GPU at multiplier 1x.
    event SetBaseStakePerGpu(uint256 amount);
    /// @notice Governance set the unbonding period in seconds.
    event SetUnbondingPeriod(uint256 period);
    /// @notice Governance set the maintenance window bounds in seconds.
    event SetMaintenanceBounds(uint256 minNotice, uint256 maxDuration);
    /// @notice `provider`'s stake covers its requirement since `since` (Unix seconds), or (0) no longer does.
    event SetCoveredSince(address indexed provider, uint256 since);
    /// @notice The slasher (the SlaEnforcer) set the slash latency in seconds.
    event SetSlashLatency(uint256 slashLatency);

    /* ------------------------------------------------------------------ */
    /*                              PROVIDERS                             */
    /* ------------------------------------------------------------------ */

    /// @notice Lists a node owned by the caller. It can take rentals once the caller's stake covers
    /// all its listed GPUs.
    /// @dev Emits `RegisterNode` and one `SetNodePrice` per price. Reverts while paused.
    /// @param spec Declared hardware; `spec.gpuClass` must be an active class.
    /// @param metadataURI Endpoint or metadata URI (1 to 256 bytes) checkers and renters use.
    /// @param tokens Payment tokens the node accepts.
    /// @param pricesPerGpuHour Price per GPU-hour in each token's units (parallel to `tokens`).
    /// @return nodeId The new node's id (ids start at 1).
    function registerNode(
        NodeSpec calldata spec,
        string calldata metadataURI,
        address[] calldata tokens,
        uint256[] calldata pricesPerGpuHour
    ) external returns (uint256 nodeId);

    /// @notice Sets the node's price per GPU-hour in `token` units; 0 stops accepting `token`.
    /// Not for retired nodes.
    /// @dev Running rentals keep the price they started with. Emits `SetNodePrice`.
    /// @param nodeId A node of the caller.
    /// @param token The payment token.
    /// @param pricePerGpuHour Price per GPU-hour in `token` units (0: not accepted).
    function setNodePrice(uint256 nodeId, address token, uint256 pricePerGpuHour) external;

    /// @notice Replaces the node's metadata URI (not of retired nodes). Emits `SetNodeMetadata`.
    /// @param nodeId A node of the caller.
    /// @param metadataURI The new URI (1 to 256 bytes).
    function setNodeMetadata(uint256 nodeId, string calldata metadataURI) external;

    /// @notice Stops the node from taking new rentals; running rentals go on. Emits `SetNodeStatus`.
    /// @param nodeId An active node of the caller.
    function pauseNode(uint256 nodeId) external;

    /// @notice Lets a paused (or unjailed) node take rentals again. Emits `SetNodeStatus`.
    /// @param nodeId A paused node of the caller.
    function resumeNode(uint256 nodeId) external;

    /// @notice Announces a maintenance window; the node takes no new rentals inside it.
    /// @dev `start` must be at least `minMaintenanceNotice` ahead; `end - start` at most
    /// `maxMaintenanceDuration`. `start == end == 0` cancels. Emits `AnnounceMaintenance`.
    /// @param nodeId A node of the caller, not retired.
    /// @param start Unix seconds the window starts.
    /// @param end Unix seconds the window ends (exclusive).
    function announceMaintenance(uint256 nodeId, uint256 start, uint256 end) external;

    /// @notice Delists a node with no running rental, for good; its stake requirement goes away.
    /// A jailed node cannot retire until the oracle unjails it.
    /// @dev Emits `SetNodeStatus(nodeId, Retired)`.
    /// @param nodeId A node of the caller.
    function retireNode(uint256 nodeId) external;

    /// @notice Adds `amount` KAI from the caller to its active stake. Reverts while paused.
    /// @dev Pulls KAI with `transferFrom` (approve or permit first). Emits `Stake`, and
    /// `SetCoveredSince(provider, now)` when the stake covers the requirement and did not before.
    /// @param amount KAI units to stake.
    function stake(uint256 amount) external;

    /// @notice Moves `amount` of active stake into unbonding. Restarts the unbonding clock for
    /// everything unbonding. Works while paused.
    /// @dev Reverts `NodeRegistry_StakeLocked` above `staked - max(lockedStake, rentedStake)`: the stake
    /// locked by running saving plans, and the whole requirement of each listed node with an open
    /// rental, cannot be unstaked. Emits `RequestUnstake` (and `SetCoveredSince(provider, 0)` when
    /// the stake no longer covers the requirement).
    /// @param amount KAI units to unbond.
    function requestUnstake(uint256 amount) external;

    /// @notice Withdraws all unbonding stake once its period has passed, less any slash. Works while paused.
    /// @dev Emits `WithdrawUnstaked`.
    /// @return amount KAI units sent to the caller.
    function withdrawUnstaked() external returns (uint256 amount);

    /// @notice Withdraws the caller's credited KAI rewards. Works while paused.
    /// @dev Emits `WithdrawRewards`.
    /// @return amount KAI units sent to the caller.
    function withdrawRewards() external returns (uint256 amount);

    /* ------------------------------------------------------------------ */
    /*                          PROTOCOL ROLES                            */
    /* ------------------------------------------------------------------ */

    /// @notice Credits `amount` KAI rewards to `provider`, pulled from the caller.
    /// @dev Only `REWARDER_ROLE`. Emits `DepositRewards`.
    /// @param provider The provider credited.
    /// @param amount KAI units pulled from the caller.
    function depositRewards(address provider, uint256 amount) external;

    /// @notice Slashes up to `amount` from `provider`: rewards owed first, then active stake, then
    /// unbonding stake. Never reverts for lack of funds: takes what is there (0 is a no-op record).
    /// `nodeId`, when not 0, must be a node of `provider`.
    /// @dev Only `SLASHER_ROLE`. Emits `Slash`; records a `Penalty`.
    /// @param provider The provider slashed.
    /// @param amount KAI units to take at most.
    /// @param nodeId The node at fault (0 if none).
    /// @param reason A reason code the oracle defines.
    /// @param evidence Hash of the evidence (e.g. the report leaf).
    /// @param recipient Receives the slashed KAI (the treasury, or whoever the oracle compensates).
    /// @return taken The KAI actually slashed.
    function slash(
        address provider,
        uint256 amount,
        uint256 nodeId,
        uint8 reason,
        bytes32 evidence,
        address recipient
    ) external returns (uint256 taken);

    /// @notice Jails (`true`) or unjails (`false`) a node. A jailed node takes no new rentals; an
    /// unjailed node comes back paused and its provider resumes it.
    /// @dev Only `SLASHER_ROLE`. Emits `SetNodeStatus`.
    /// @param nodeId The node (to jail: neither jailed nor retired; to unjail: jailed).
    /// @param jailed Whether to jail it.
    function setNodeJailed(uint256 nodeId, bool jailed) external;

    /// @notice Reserves `gpus` GPUs of `nodeId` for a new rental and, for saving plans, locks the
    /// stake that backs them. The node's first rented GPU adds the node's whole requirement to the
    /// provider's `rentedStake`. Reverts unless the node is active, out of maintenance, accepts `token`,
    /// has the GPUs free and its provider's stake covers its listed GPUs.
    /// @dev Only `ESCROW_ROLE`. Emits nothing: the escrow's `OpenRental` says it.
    /// @param nodeId The node rented.
    /// @param gpus GPUs to reserve.
    /// @param token The rental's payment token.
    /// @param lockStake Whether to lock the stake backing the GPUs (saving plans).
    /// @return provider The node's provider.
    /// @return pricePerGpuHour The node's current price in `token` units.
    function reserveGpus(
        uint256 nodeId,
        uint256 gpus,
        address token,
        bool lockStake
    ) external returns (address provider, uint256 pricePerGpuHour);

    /// @notice Releases GPUs reserved by `reserveGpus`, and the stake locked with them. The node's last
    /// rented GPU takes its requirement out of the provider's `rentedStake`.
    /// @dev Only `ESCROW_ROLE`. Emits nothing: the escrow's `CloseRental` says it.
    /// @param nodeId The rental's node.
    /// @param gpus GPUs to release.
    /// @param unlockStake Whether the rental locked stake (saving plans).
    function releaseGpus(uint256 nodeId, uint256 gpus, bool unlockStake) external;

    /* ------------------------------------------------------------------ */
    /*                             GOVERNANCE                             */
    /* ------------------------------------------------------------------ */

    /// @notice Adds a GPU class. Its multiplier never changes; add a new class instead.
    /// @dev Only `DEFAULT_ADMIN_ROLE`. Multiplier 0.1x..100x. Emits `AddGpuClass`.
    /// @param name Display name, e.g. "H100-80GB".
    /// @param multiplierBps Stake multiplier per GPU, 10,000 = 1x.
    /// @return gpuClass The new class's id.
    function addGpuClass(bytes32 name, uint256 multiplierBps) external returns (uint256 gpuClass);

    /// @notice Opens or closes a GPU class to new nodes. Only `DEFAULT_ADMIN_ROLE`.
    /// Emits `SetGpuClassActive`.
    /// @param gpuClass The class.
    /// @param active Whether new nodes may use it.
    function setGpuClassActive(uint256 gpuClass, bool active) external;

    /// @notice Sets the KAI stake required per GPU at multiplier 1x (applies to every provider).
    /// @dev Only `DEFAULT_ADMIN_ROLE`. Bounded by `MAX_BASE_STAKE_PER_GPU`. Emits `SetBaseStakePerGpu`.
    /// @param amount KAI units per GPU, 1 to `MAX_BASE_STAKE_PER_GPU`.
    function setBaseStakePerGpu(uint256 amount) external;

    /// @notice Sets the unbonding period in seconds (1 to 90 days, and at least `slashLatency`, else
    /// `NodeRegistry_UnbondingBelowSlashLatency`). Applies to new requests.
    /// Only `DEFAULT_ADMIN_ROLE`. Emits `SetUnbondingPeriod`.
    /// @param period The period in seconds.
    function setUnbondingPeriod(uint256 period) external;

    /// @notice Records the slash latency: the longest time from the start of a misbehaviour to the
    /// last moment a slash for it can land (the SlaEnforcer pushes its `slashLatency()`). The
    /// unbonding period may never be shorter (`NodeRegistry_UnbondingBelowSlashLatency`).
    /// @dev Only `SLASHER_ROLE`. Emits `SetSlashLatency`.
    /// @param latency Seconds.
    function setSlashLatency(uint256 latency) external;

    /// @notice Sets the minimum notice (0 to 30 days) and maximum length (1 hour to 30 days) of
    /// maintenance windows, in seconds. Only `DEFAULT_ADMIN_ROLE`. Emits `SetMaintenanceBounds`.
    /// @param minNotice Seconds a window must be announced ahead.
    /// @param maxDuration Longest window in seconds.
    function setMaintenanceBounds(uint256 minNotice, uint256 maxDuration) external;

    /// @notice Stops new stakes and node registrations. Only `PAUSER_ROLE`. Emits `Paused`.
    function pause() external;

    /// @notice Lifts `pause`. Only `PAUSER_ROLE`. Emits `Unpaused`.
    function unpause() external;

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @notice The node with id `nodeId` (status `None` if unknown).
    /// @param nodeId The node.
    /// @return The node record.
    function getNode(uint256 nodeId) external view returns (Node memory);

    /// @notice Price per GPU-hour of `nodeId` in `token` units (0 = not accepted).
    /// @param nodeId The node.
    /// @param token The payment token.
    /// @return The price in `token` units.
    function nodePrice(uint256 nodeId, address token) external view returns (uint256);

    /// @notice The provider of `nodeId` (zero if unknown).
    /// @param nodeId The node.
    /// @return The provider's address.
    function nodeProvider(uint256 nodeId) external view returns (address);

    /// @notice Number of nodes ever registered; ids run from 1 to `nodeCount()`.
    /// @return The highest node id.
    function nodeCount() external view returns (uint256);

    /// @notice Number of nodes `provider` has registered.
    /// @param provider The provider.
    /// @return The count, retired nodes included.
    function providerNodeCount(address provider) external view returns (uint256);

    /// @notice The `index`-th node id registered by `provider`.
    /// @param provider The provider.
    /// @param index From 0 to `providerNodeCount(provider) - 1`.
    /// @return The node id.
    function providerNodeAt(address provider, uint256 index) external view returns (uint256);

    /// @notice `provider`'s stake record.
    /// @param provider The provider.
    /// @return The stake, unbonding stake, rewards owed and weights.
    function getStake(address provider) external view returns (ProviderStake memory);

    /// @notice KAI stake `provider` needs for its listed GPUs.
    /// @param provider The provider.
    /// @return KAI units.
    function requiredStake(address provider) external view returns (uint256);

    /// @notice KAI stake locked by `provider`'s running saving plans.
    /// @param provider The provider.
    /// @return KAI units.
    function lockedStake(address provider) external view returns (uint256);

    /// @notice KAI stake held by `provider`'s listed nodes with open rentals: each such node's whole
    /// requirement (GPU count x class multiplier x `baseStakePerGpu`). `requestUnstake` leaves it.
    /// @param provider The provider.
    /// @return KAI units.
    function rentedStake(address provider) external view returns (uint256);

    /// @notice Unix seconds node `nodeId` last became `Active` (registered or resumed); 0 if unknown.
    /// @param nodeId The node.
    /// @return Unix seconds.
    function listedSince(uint256 nodeId) external view returns (uint256);

    /// @notice Since when node `nodeId` has been eligible for rewards without a break: 0 unless the
    /// node is `Active` and its provider's stake covers its requirement (checked live) and has since
    /// `coveredSince`; else `max(listedSince, coveredSince)`. A pure function of state: checkers read
    /// it at the last block of an epoch.
    /// @param nodeId The node.
    /// @return Unix seconds, or 0 when not eligible.
    function eligibleSince(uint256 nodeId) external view returns (uint256);

    /// @notice Number of penalties recorded for `provider`.
    /// @param provider The provider.
    /// @return The count.
    function penaltyCount(address provider) external view returns (uint256);

    /// @notice The `index`-th penalty recorded for `provider`.
    /// @param provider The provider.
    /// @param index From 0 to `penaltyCount(provider) - 1`, oldest first.
    /// @return The penalty.
    function penaltyAt(address provider, uint256 index) external view returns (Penalty memory);

    /// @notice Number of GPU classes; ids run from 0.
    /// @return The count.
    function gpuClassCount() external view returns (uint256);

    /// @notice GPU class `gpuClass`.
    /// @param gpuClass The class id.
    /// @return The class's name, multiplier and whether it is open.
    function getGpuClass(uint256 gpuClass) external view returns (GpuClass memory);

    /// @notice The KAI token staked here.
    /// @return The token's address.
    function kai() external view returns (address);

    /// @notice KAI required per GPU at multiplier 1x.
    /// @return KAI units.
    function baseStakePerGpu() external view returns (uint256);

    /// @notice Unbonding period in seconds.
    /// @return Seconds.
    function unbondingPeriod() external view returns (uint256);

    /// @notice The slash latency the SlaEnforcer last pushed, in seconds (0 until then): the unbonding
    /// period is never below it.
    /// @return Seconds.
    function slashLatency() external view returns (uint256);

    /// @notice Minimum notice for a maintenance window, in seconds.
    /// @return Seconds.
    function minMaintenanceNotice() external view returns (uint256);

    /// @notice Maximum length of a maintenance window, in seconds.
    /// @return Seconds.
    function maxMaintenanceDuration() external view returns (uint256);
}
