// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Node, Rental, Penalty, Plan, ProviderStake, RentalStatus} from "../types/DataTypes.sol";

/// @title IKaisarLens
/// @notice Paged reads for the web app, checkers and keepers: one call per page, never one per item.
interface IKaisarLens {
    /// @notice A node with what a marketplace shows.
    struct NodeView {
        uint256 nodeId;
        Node node;
        uint256 freeGpus;
        address[] tokens; // the escrow's payment tokens
        uint256[] pricesPerGpuHour; // parallel to `tokens`; 0 = not accepted
        bool acceptsRentals; // active, out of maintenance, stake covers the listing, GPUs free
    }

    /// @notice A rental with its live figures.
    struct RentalView {
        uint256 rentalId;
        Rental rental;
        address token;
        uint256 withdrawable; // gross the provider can withdraw now
        uint256 refundable; // what the renter gets by ending now
        uint256 paidUntil; // Unix seconds
        uint256 closableAt; // Unix seconds (0 once closed)
    }

    /// @notice What an epoch's scoring reads of a rental: which node it ran on, what it paid and when.
    struct RentalScoring {
        uint256 rentalId;
        uint256 nodeId;
        uint256 gpus;
        Plan plan;
        RentalStatus status; // None for an unknown id (every other field 0)
        address token;
        uint256 unitPrice; // as `Rental.unitPrice`: per second (PayAsYouGo) or per hour
        uint256 termsVersion;
        uint256 feeBps; // the protocol fee of its terms version
        uint256 serviceStart; // `RentalEscrow.serviceWindow` (as of `asOf`): Unix seconds
        uint256 serviceEnd; // exclusive
    }

    /// @notice A provider's stake and standing.
    struct ProviderView {
        ProviderStake stake;
        uint256 requiredStake;
        uint256 lockedStake;
        uint256 nodeCount;
        uint256 penaltyCount;
    }

    /// @notice Nodes with ids `firstId` .. `firstId + limit - 1` (clamped to existing ids).
    /// @param firstId The first node id (0 is read as 1).
    /// @param limit Most nodes to return.
    /// @return nodes The nodes, by id.
    function getNodes(uint256 firstId, uint256 limit) external view returns (NodeView[] memory nodes);

    /// @notice What `getNodes` returns for a marketplace, in fixed-size records: nodes with ids `firstId` ..
    /// `firstId + limit - 1` (clamped to existing ids; 0 is read as 1), without their metadata URI. Cheaper
    /// to execute and about a ninth of the size, and decoded by offsets instead of an ABI decoder.
    /// @dev Record `i` (node `firstId + i`) is `64 + 32 * tokens.length` bytes at `i * (64 + 32 * tokens.length)`,
    /// big-endian:
    ///   bytes 0-19 provider, 20-21 gpuClass, 22-23 gpuCount, 24-25 free GPUs, 26 status (`NodeStatus`),
    ///   27 acceptsRentals (1 or 0, as in `NodeView`), 28-31 maintenanceStart,
    ///   32-35 maintenanceEnd, 36-37 vramGiB, 38-39 cpuCores, 40-43 ramGiB, 44-47 diskGiB,
    ///   48-51 bandwidthMbps, 52-59 region, 60-63 zero,
    ///   then one 32-byte word per token: the price per GPU-hour in `tokens[t]` (0 = not accepted).
    /// @param firstId The first node id (0 is read as 1).
    /// @param limit Most nodes to return.
    /// @return tokens The escrow's payment tokens.
    /// @return packed The records, `limit` of them at most.
    function getNodesPacked(
        uint256 firstId,
        uint256 limit
    ) external view returns (address[] memory tokens, bytes memory packed);

    /// @notice `provider`'s nodes from its `offset`-th, at most `limit`.
    /// @param provider The provider.
    /// @param offset Index in the provider's nodes (see `INodeRegistry.providerNodeAt`).
    /// @param limit Most nodes to return.
    /// @return nodes The nodes, in registration order.
    function getProviderNodes(
        address provider,
        uint256 offset,
        uint256 limit
    ) external view returns (NodeView[] memory nodes);

    /// @notice Rentals of `renter`, newest first: scans at most `scanLimit` ids below `beforeId`
    /// (0 = from the newest). Bounded work per call; page on with `next` until it is 0.
    /// @param renter The renter.
    /// @param beforeId Scan ids below this one (0: from the newest).
    /// @param scanLimit Most ids to scan (0 is read as 1).
    /// @return rentals The matches in this window.
    /// @return next The `beforeId` of the next page (0: no more).
    function getRenterRentals(
        address renter,
        uint256 beforeId,
        uint256 scanLimit
    ) external view returns (RentalView[] memory rentals, uint256 next);

    /// @notice Rentals on nodes of `provider`, newest first, scanned like `getRenterRentals`.
    /// @param provider The provider.
    /// @param beforeId Scan ids below this one (0: from the newest).
    /// @param scanLimit Most ids to scan (0 is read as 1).
    /// @return rentals The matches in this window.
    /// @return next The `beforeId` of the next page (0: no more).
    function getProviderRentals(
        address provider,
        uint256 beforeId,
        uint256 scanLimit
    ) external view returns (RentalView[] memory rentals, uint256 next);

    /// @notice Rentals by id (unknown ids come back with status `None`).
    /// @param rentalIds The rentals.
    /// @return rentals One view per id, in order.
    function getRentals(uint256[] calldata rentalIds) external view returns (RentalView[] memory rentals);

    /// @notice What scoring reads of each rental of `rentalIds` (checkers: one call per page of the
    /// rentals open during an epoch, never one per rental), with service windows as of `asOf`.
    /// @dev Checkers read it at the last block before an epoch's end with `asOf` = the end: the state
    /// at the end, and an open rental's earned time up to it, the same whenever they read.
    /// @param rentalIds The rentals.
    /// @param asOf Unix seconds an open rental's earned time is taken at (`RentalEscrow.serviceWindow` at
    /// that time, from the state read; 0: now). A closed rental's window is the one it paid for.
    /// @return rentals One record per id, in order; an unknown id has status `None` and zero fields.
    function getRentalScoring(
        uint256[] calldata rentalIds,
        uint256 asOf
    ) external view returns (RentalScoring[] memory rentals);

    /// @notice `provider`'s stake, requirement, lock and counts.
    /// @param provider The provider.
    /// @return The provider's view.
    function getProvider(address provider) external view returns (ProviderView memory);

    /// @notice `provider`'s penalties from the `offset`-th, at most `limit`.
    /// @param provider The provider.
    /// @param offset Index of the first penalty, oldest first.
    /// @param limit Most penalties to return.
    /// @return The penalties.
    function getPenalties(address provider, uint256 offset, uint256 limit) external view returns (Penalty[] memory);
}
