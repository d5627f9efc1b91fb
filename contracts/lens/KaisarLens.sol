// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IKaisarLens} from "../interfaces/IKaisarLens.sol";
import {INodeRegistry} from "../interfaces/INodeRegistry.sol";
import {IRentalEscrow} from "../interfaces/IRentalEscrow.sol";
import {Node, NodeStatus, Rental, Penalty, ProviderStake} from "../types/DataTypes.sol";

/// @title KaisarLens
/// @notice Read-only pages over the registry and the escrow. See `IKaisarLens`.
contract KaisarLens is IKaisarLens {
    /// @notice The node registry read.
    INodeRegistry public immutable registry;
    /// @notice The rental escrow read.
    IRentalEscrow public immutable escrow;

    /// @param registry_ The node registry.
    /// @param escrow_ The rental escrow.
    constructor(INodeRegistry registry_, IRentalEscrow escrow_) {
        registry = registry_;
        escrow = escrow_;
    }

    /// @inheritdoc IKaisarLens
    function getNodes(uint256 firstId, uint256 limit) external view returns (NodeView[] memory nodes) {
        uint256 count = registry.nodeCount();
        if (firstId == 0) firstId = 1;
        uint256 n = firstId > count ? 0 : _min(limit, count - firstId + 1);
        address[] memory tokens = escrow.paymentTokens();
        nodes = new NodeView[](n);
        for (uint256 i; i < n; ++i) nodes[i] = _nodeView(firstId + i, tokens);
    }

    /// @inheritdoc IKaisarLens
    function getProviderNodes(
        address provider,
        uint256 offset,
        uint256 limit
    ) external view returns (NodeView[] memory nodes) {
        uint256 count = registry.providerNodeCount(provider);
        uint256 n = offset >= count ? 0 : _min(limit, count - offset);
        address[] memory tokens = escrow.paymentTokens();
        nodes = new NodeView[](n);
        for (uint256 i; i < n; ++i) nodes[i] = _nodeView(registry.providerNodeAt(provider, offset + i), tokens);
    }

    /// @inheritdoc IKaisarLens
    function getRenterRentals(
        address renter,
        uint256 beforeId,
        uint256 scanLimit
    ) external view returns (RentalView[] memory rentals, uint256 next) {
        return _scan(renter, beforeId, scanLimit, false);
    }

    /// @inheritdoc IKaisarLens
    function getProviderRentals(
        address provider,
        uint256 beforeId,
        uint256 scanLimit
    ) external view returns (RentalView[] memory rentals, uint256 next) {
        return _scan(provider, beforeId, scanLimit, true);
    }

    /// @inheritdoc IKaisarLens
    function getRentals(uint256[] calldata rentalIds) external view returns (RentalView[] memory rentals) {
        address[] memory tokens = escrow.paymentTokens();
        rentals = new RentalView[](rentalIds.length);
        for (uint256 i; i < rentalIds.length; ++i) {
            rentals[i] = _rentalView(rentalIds[i], escrow.getRental(rentalIds[i]), tokens);
        }
    }

    /// @inheritdoc IKaisarLens
    function getProvider(address provider) external view returns (ProviderView memory) {
        ProviderStake memory s = registry.getStake(provider);
        return
            ProviderView({
                stake: s,
                requiredStake: registry.requiredStake(provider),
                lockedStake: registry.lockedStake(provider),
                nodeCount: registry.providerNodeCount(provider),
                penaltyCount: registry.penaltyCount(provider)
            });
    }

    /// @inheritdoc IKaisarLens
    function getPenalties(
        address provider,
        uint256 offset,
        uint256 limit
    ) external view returns (Penalty[] memory page) {
        uint256 count = registry.penaltyCount(provider);
        uint256 n = offset >= count ? 0 : _min(limit, count - offset);
        page = new Penalty[](n);
        for (uint256 i; i < n; ++i) page[i] = registry.penaltyAt(provider, offset + i);
    }

    /// @dev Scans rental ids downward from `beforeId - 1`, keeping those of `who` (the renter, or
    /// the provider of the rental's node).
    function _scan(
        address who,
        uint256 beforeId,
        uint256 scanLimit,
        bool byProvider
    ) internal view returns (RentalView[] memory rentals, uint256 next) {
        if (scanLimit == 0) scanLimit = 1; // always advance, so that paging on `next` ends
        uint256 count = escrow.rentalCount();
        uint256 id = beforeId == 0 || beforeId > count + 1 ? count + 1 : beforeId;
        uint256 last = id > scanLimit ? id - scanLimit : 1;
        address[] memory tokens = escrow.paymentTokens();
        rentals = new RentalView[](id - last);
        uint256 n;
        while (id > last) {
            --id;
            Rental memory r = escrow.getRental(id);
            address party = byProvider ? registry.nodeProvider(r.nodeId) : r.renter;
            if (party == who) rentals[n++] = _rentalView(id, r, tokens);
        }
        // Trim the array to the rows filled.
        assembly ("memory-safe") {
            mstore(rentals, n)
        }
        next = id > 1 ? id : 0;
    }

    function _nodeView(uint256 nodeId, address[] memory tokens) internal view returns (NodeView memory v) {
        Node memory node = registry.getNode(nodeId);
        v.nodeId = nodeId;
        v.node = node;
        v.freeGpus = node.gpuCount - node.rentedGpus;
        v.tokens = tokens;
        v.pricesPerGpuHour = new uint256[](tokens.length);
        for (uint256 i; i < tokens.length; ++i) v.pricesPerGpuHour[i] = registry.nodePrice(nodeId, tokens[i]);
        bool inMaintenance = block.timestamp >= node.maintenanceStart && block.timestamp < node.maintenanceEnd;
        v.acceptsRentals =
            node.status == NodeStatus.Active &&
            !inMaintenance &&
            v.freeGpus != 0 &&
            registry.getStake(node.provider).staked >= registry.requiredStake(node.provider);
    }

    function _rentalView(
        uint256 rentalId,
        Rental memory r,
        address[] memory tokens
    ) internal view returns (RentalView memory v) {
        v.rentalId = rentalId;
        v.rental = r;
        if (r.renter == address(0)) return v;
        v.token = tokens[r.tokenIndex];
        v.withdrawable = escrow.withdrawable(rentalId);
        v.refundable = escrow.refundable(rentalId);
        v.paidUntil = escrow.paidUntil(rentalId);
        v.closableAt = escrow.closableAt(rentalId);
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}
