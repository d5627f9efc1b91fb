// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IKaisarLens} from "../interfaces/IKaisarLens.sol";
import {INodeRegistry} from "../interfaces/INodeRegistry.sol";
import {IRentalEscrow} from "../interfaces/IRentalEscrow.sol";
import {RentalMath} from "../libraries/RentalMath.sol";
import {Node, NodeStatus, Rental, RentalStatus, Penalty, ProviderStake} from "../types/DataTypes.sol";

/// @title KaisarLens
/// @notice Read-only pages over the registry and the escrow. See `IKaisarLens`.
contract KaisarLens is IKaisarLens {
    /// @notice The node registry read.
    INodeRegistry public immutable registry;
    /// @notice The rental escrow read.
    IRentalEscrow public immutable escrow;

    /// @dev Words of `getNode`'s return data read by `getNodesPacked`: the tuple offset and the first
    /// 14 fixed fields of `Node` (the 14th, `listedSince`, is not packed).
    uint256 private constant NODE_HEAD_WORDS = 15;

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
    function getNodesPacked(
        uint256 firstId,
        uint256 limit
    ) external view returns (address[] memory tokens, bytes memory packed) {
        {
            uint256 count = registry.nodeCount();
            if (firstId == 0) firstId = 1;
            limit = firstId > count ? 0 : _min(limit, count - firstId + 1);
        }
        tokens = escrow.paymentTokens();
        uint256 size = 64 + 32 * tokens.length;
        packed = new bytes(limit * size);
        uint256[NODE_HEAD_WORDS] memory head;
        address provider;
        bool covered;
        for (uint256 i; i < limit; ++i) {
            _readNodeHead(firstId + i, head);
            // One stake check per run of nodes of the same provider.
            if (i == 0 || address(uint160(head[1])) != provider) {
                provider = address(uint160(head[1]));
                covered = registry.getStake(provider).staked >= registry.requiredStake(provider);
            }
            _packNode(packed, i * size, head, covered);
            _packPrices(packed, i * size + 64, firstId + i, tokens);
        }
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
    function getRentalScoring(
        uint256[] calldata rentalIds,
        uint256 asOf
    ) external view returns (RentalScoring[] memory rentals) {
        if (asOf == 0) asOf = block.timestamp;
        address[] memory tokens = escrow.paymentTokens();
        rentals = new RentalScoring[](rentalIds.length);
        // Rentals of one terms version come in runs: read its fee once per run.
        uint256 cachedVersion = type(uint256).max;
        uint256 feeBps;
        for (uint256 i; i < rentalIds.length; ++i) {
            uint256 id = rentalIds[i];
            Rental memory r = escrow.getRental(id);
            RentalScoring memory v = rentals[i];
            v.rentalId = id;
            if (r.status == RentalStatus.None) continue;
            if (r.termsVersion != cachedVersion) {
                cachedVersion = r.termsVersion;
                feeBps = escrow.rentalTerms(cachedVersion).feeBps;
            }
            v.nodeId = r.nodeId;
            v.gpus = r.gpus;
            v.plan = r.plan;
            v.status = r.status;
            v.token = tokens[r.tokenIndex];
            v.unitPrice = r.unitPrice;
            v.termsVersion = r.termsVersion;
            v.feeBps = feeBps;
            // `RentalEscrow.serviceWindow`, with the earned time of an open rental taken at `asOf`.
            uint256 units =
                r.status == RentalStatus.Closed
                    ? r.withdrawnUnits
                    : RentalMath.earnedUnits(r.plan, r.anchor, r.unitPrice, r.amount, asOf);
            v.serviceStart = r.anchor;
            v.serviceEnd = r.anchor + units * RentalMath.unitSeconds(r.plan);
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

    /// @dev Copies the head of `registry.getNode(nodeId)`'s return data into `head`: word 0 is the
    /// offset of the `Node` tuple (0x20), words 1-13 its fixed fields in declaration order (provider,
    /// gpuClass, gpuCount, rentedGpus, status, maintenanceStart, maintenanceEnd, vramGiB, cpuCores,
    /// ramGiB, diskGiB, bandwidthMbps, region), word 14 `listedSince` (not packed); the offset of
    /// `metadataURI` follows and is not read.
    /// Reading the words as they come skips decoding and copying the URI for each node.
    function _readNodeHead(uint256 nodeId, uint256[NODE_HEAD_WORDS] memory head) internal view {
        address target = address(registry);
        bytes4 selector = INodeRegistry.getNode.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 4), nodeId)
            if iszero(staticcall(gas(), target, ptr, 36, head, mul(NODE_HEAD_WORDS, 32))) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
        }
    }

    /// @dev Writes the two leading words of a `getNodesPacked` record at byte `at` of `packed` from a
    /// node's head words (see `_readNodeHead`).
    function _packNode(
        bytes memory packed,
        uint256 at,
        uint256[NODE_HEAD_WORDS] memory head,
        bool covered
    ) internal view {
        // head: 1 provider, 2 gpuClass, 3 gpuCount, 4 rentedGpus, 5 status, 6 maintenanceStart,
        // 7 maintenanceEnd, 8 vramGiB, 9 cpuCores, 10 ramGiB, 11 diskGiB, 12 bandwidthMbps, 13 region
        uint256 freeGpus = head[3] - head[4];
        bool inMaintenance = block.timestamp >= head[6] && block.timestamp < head[7];
        bool accepts = covered && head[5] == uint256(NodeStatus.Active) && !inMaintenance && freeGpus != 0;
        uint256 w0 =
            (head[1] << 96) |
                (head[2] << 80) |
                (head[3] << 64) |
                (freeGpus << 48) |
                (head[5] << 40) |
                ((accepts ? uint256(1) : 0) << 32) |
                head[6];
        uint256 w1 =
            (head[7] << 224) |
                (head[8] << 208) |
                (head[9] << 192) |
                (head[10] << 160) |
                (head[11] << 128) |
                (head[12] << 96) |
                (head[13] >> 160); // bytes8, left-aligned: to bytes 20-27
        assembly ("memory-safe") {
            let p := add(add(packed, 32), at)
            mstore(p, w0)
            mstore(add(p, 32), w1)
        }
    }

    /// @dev Writes node `nodeId`'s price per token at byte `at` of `packed`, one word each, straight
    /// from `registry.nodePrice`'s return data.
    function _packPrices(bytes memory packed, uint256 at, uint256 nodeId, address[] memory tokens) internal view {
        address target = address(registry);
        bytes4 selector = INodeRegistry.nodePrice.selector;
        for (uint256 t; t < tokens.length; ++t) {
            address token = tokens[t];
            assembly ("memory-safe") {
                let ptr := mload(0x40)
                mstore(ptr, selector)
                mstore(add(ptr, 4), nodeId)
                mstore(add(ptr, 36), token)
                if iszero(staticcall(gas(), target, ptr, 68, add(add(add(packed, 32), at), mul(t, 32)), 32)) {
                    returndatacopy(ptr, 0, returndatasize())
                    revert(ptr, returndatasize())
                }
            }
        }
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
