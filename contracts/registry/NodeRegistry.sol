// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {INodeRegistry} from "../interfaces/INodeRegistry.sol";
import {Node, NodeSpec, NodeStatus, ProviderStake, Penalty} from "../types/DataTypes.sol";
import {NodeRegistryConfig} from "./NodeRegistryConfig.sol";

/// @title NodeRegistry
/// @notice GPU nodes, their providers' KAI stake, slashing and jailing. Settings, storage and
/// governance live in `NodeRegistryConfig`. See `INodeRegistry`.
contract NodeRegistry is NodeRegistryConfig, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @param kai_ The KAI token.
    /// @param admin Receives `DEFAULT_ADMIN_ROLE` (the timelock in deployments).
    /// @param baseStakePerGpu_ KAI required per GPU at multiplier 1x.
    constructor(
        address kai_,
        address admin,
        uint256 baseStakePerGpu_
    ) NodeRegistryConfig(kai_, admin, baseStakePerGpu_) {}

    /* ------------------------------------------------------------------ */
    /*                              PROVIDERS                             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc INodeRegistry
    function registerNode(
        NodeSpec calldata spec,
        string calldata metadataURI,
        address[] calldata tokens,
        uint256[] calldata pricesPerGpuHour
    ) external whenNotPaused returns (uint256 nodeId) {
        // Check: the class is open and the spec is sane.
        if (spec.gpuClass >= _gpuClasses.length || !_gpuClasses[spec.gpuClass].active) {
            revert NodeRegistry_InvalidGpuClass(spec.gpuClass);
        }
        if (spec.gpuCount == 0) revert NodeRegistry_InvalidSpec("gpuCount");
        if (spec.vramGiB == 0) revert NodeRegistry_InvalidSpec("vramGiB");
        if (spec.cpuCores == 0) revert NodeRegistry_InvalidSpec("cpuCores");
        if (spec.ramGiB == 0) revert NodeRegistry_InvalidSpec("ramGiB");
        if (spec.diskGiB == 0) revert NodeRegistry_InvalidSpec("diskGiB");
        if (spec.bandwidthMbps == 0) revert NodeRegistry_InvalidSpec("bandwidthMbps");
        if (tokens.length != pricesPerGpuHour.length) revert NodeRegistry_InvalidSpec("prices");
        _checkMetadataURI(metadataURI);

        // Effect: store the node, its prices, and the provider's stake requirement.
        nodeId = ++nodeCount;
        // Rentals and penalties record node ids in 32 bits.
        if (nodeId > type(uint32).max) revert NodeRegistry_AmountTooLarge(nodeId, type(uint32).max);
        Node storage node = _nodes[nodeId];
        node.provider = msg.sender;
        node.gpuClass = spec.gpuClass;
        node.gpuCount = spec.gpuCount;
        node.status = NodeStatus.Active;
        node.vramGiB = spec.vramGiB;
        node.cpuCores = spec.cpuCores;
        node.ramGiB = spec.ramGiB;
        node.diskGiB = spec.diskGiB;
        node.bandwidthMbps = spec.bandwidthMbps;
        node.region = spec.region;
        node.metadataURI = metadataURI;
        node.listedSince = uint32(block.timestamp);
        _providerNodes[msg.sender].push(nodeId);
        ProviderStake storage s = _stakes[msg.sender];
        uint256 listedWeight = s.listedWeight + _weight(spec.gpuClass, spec.gpuCount);
        if (listedWeight > type(uint40).max) revert NodeRegistry_AmountTooLarge(listedWeight, type(uint40).max);
        s.listedWeight = uint40(listedWeight);
        emit RegisterNode(nodeId, msg.sender, spec, metadataURI);
        _syncCovered(msg.sender, s, false);

        for (uint256 i; i < tokens.length; ++i) {
            _prices[nodeId][tokens[i]] = pricesPerGpuHour[i];
            emit SetNodePrice(nodeId, tokens[i], pricesPerGpuHour[i]);
        }
    }

    /// @inheritdoc INodeRegistry
    function setNodePrice(uint256 nodeId, address token, uint256 pricePerGpuHour) external {
        _checkListedNode(nodeId);
        if (_prices[nodeId][token] == pricePerGpuHour) revert NodeRegistry_AlreadySet();
        _prices[nodeId][token] = pricePerGpuHour;
        emit SetNodePrice(nodeId, token, pricePerGpuHour);
    }

    /// @inheritdoc INodeRegistry
    function setNodeMetadata(uint256 nodeId, string calldata metadataURI) external {
        Node storage node = _checkListedNode(nodeId);
        _checkMetadataURI(metadataURI);
        if (keccak256(bytes(node.metadataURI)) == keccak256(bytes(metadataURI))) revert NodeRegistry_AlreadySet();
        node.metadataURI = metadataURI;
        emit SetNodeMetadata(nodeId, metadataURI);
    }

    /// @inheritdoc INodeRegistry
    function pauseNode(uint256 nodeId) external {
        Node storage node = _checkNodeProvider(nodeId);
        if (node.status != NodeStatus.Active) revert NodeRegistry_InvalidNodeStatus(nodeId, node.status);
        node.status = NodeStatus.Paused;
        emit SetNodeStatus(nodeId, NodeStatus.Paused);
    }

    /// @inheritdoc INodeRegistry
    function resumeNode(uint256 nodeId) external {
        Node storage node = _checkNodeProvider(nodeId);
        if (node.status != NodeStatus.Paused) revert NodeRegistry_InvalidNodeStatus(nodeId, node.status);
        node.status = NodeStatus.Active;
        node.listedSince = uint32(block.timestamp);
        emit SetNodeStatus(nodeId, NodeStatus.Active);
    }

    /// @inheritdoc INodeRegistry
    function announceMaintenance(uint256 nodeId, uint256 start, uint256 end) external {
        Node storage node = _checkListedNode(nodeId);
        if (start == 0 && end == 0 && node.maintenanceStart == 0 && node.maintenanceEnd == 0) {
            revert NodeRegistry_AlreadySet();
        }
        if (start != 0 || end != 0) {
            uint256 earliestStart = block.timestamp + minMaintenanceNotice;
            if (
                start < earliestStart || end <= start || end - start > maxMaintenanceDuration || end > type(uint32).max
            ) {
                revert NodeRegistry_InvalidMaintenanceWindow(start, end, earliestStart, maxMaintenanceDuration);
            }
        }
        node.maintenanceStart = uint32(start);
        node.maintenanceEnd = uint32(end);
        emit AnnounceMaintenance(nodeId, start, end);
    }

    /// @inheritdoc INodeRegistry
    function retireNode(uint256 nodeId) external {
        Node storage node = _checkNodeProvider(nodeId);
        // A jailed node stays listed (and its stake required) until the oracle unjails it.
        if (node.status == NodeStatus.Retired || node.status == NodeStatus.Jailed) {
            revert NodeRegistry_InvalidNodeStatus(nodeId, node.status);
        }
        if (node.rentedGpus != 0) revert NodeRegistry_NodeHasRentals(nodeId, node.rentedGpus);
        node.status = NodeStatus.Retired;
        ProviderStake storage s = _stakes[msg.sender];
        // unchecked: the node's weight was added to `listedWeight` when it was listed.
        unchecked {
            s.listedWeight -= uint40(_weight(node.gpuClass, node.gpuCount));
        }
        emit SetNodeStatus(nodeId, NodeStatus.Retired);
        _syncCovered(msg.sender, s, false);
    }

    /// @inheritdoc INodeRegistry
    function stake(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert NodeRegistry_ZeroAmount();
        ProviderStake storage s = _stakes[msg.sender];
        uint256 before = s.staked;
        uint256 staked = before + amount;
        // Bound the sum with unbonding so that a later `requestUnstake` cannot overflow it.
        uint256 total = staked + s.unbonding;
        if (total > type(uint96).max) revert NodeRegistry_AmountTooLarge(total, type(uint96).max);
        s.staked = uint96(staked);
        emit Stake(msg.sender, amount, staked);
        // Not covered before (governance may have raised the requirement since `coveredSince` was
        // set): coverage starts now.
        _syncCovered(msg.sender, s, before < _requiredStake(s));
        // Interaction last. KAI is ours and takes no fee, so no balance-delta check is needed.
        IERC20(kai).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc INodeRegistry
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert NodeRegistry_ZeroAmount();
        ProviderStake storage s = _stakes[msg.sender];
        uint256 staked = s.staked;
        if (amount > staked) revert NodeRegistry_InsufficientStaked(msg.sender, amount, staked);
        // Saving plans lock their GPUs' stake; a listed node with open rentals holds its whole
        // requirement, so that a slash for what it does while rented finds the stake.
        uint256 locked = _max(_lockedStake(s), _rentedStake(s));
        uint256 unlocked = staked > locked ? staked - locked : 0;
        if (amount > unlocked) revert NodeRegistry_StakeLocked(msg.sender, amount, unlocked);
        uint256 unbondingEnd = block.timestamp + unbondingPeriod;
        // unchecked: amount <= staked, and staked + unbonding fits uint96 (bounded in `stake`).
        unchecked {
            s.staked = uint96(staked - amount);
            s.unbonding += uint96(amount);
        }
        s.unbondingEnd = uint40(unbondingEnd);
        emit RequestUnstake(msg.sender, amount, unbondingEnd);
        _syncCovered(msg.sender, s, false);
    }

    /// @inheritdoc INodeRegistry
    function withdrawUnstaked() external nonReentrant returns (uint256 amount) {
        ProviderStake storage s = _stakes[msg.sender];
        amount = s.unbonding;
        uint256 unbondingEnd = s.unbondingEnd;
        if (amount == 0 || block.timestamp < unbondingEnd) {
            revert NodeRegistry_NothingToWithdraw(msg.sender, unbondingEnd);
        }
        s.unbonding = 0;
        s.unbondingEnd = 0;
        emit WithdrawUnstaked(msg.sender, amount);
        IERC20(kai).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc INodeRegistry
    function withdrawRewards() external nonReentrant returns (uint256 amount) {
        ProviderStake storage s = _stakes[msg.sender];
        amount = s.rewardsOwed;
        if (amount == 0) revert NodeRegistry_ZeroAmount();
        s.rewardsOwed = 0;
        emit WithdrawRewards(msg.sender, amount);
        IERC20(kai).safeTransfer(msg.sender, amount);
    }

    /* ------------------------------------------------------------------ */
    /*                          PROTOCOL ROLES                            */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc INodeRegistry
    function depositRewards(address provider, uint256 amount) external onlyRole(REWARDER_ROLE) nonReentrant {
        if (provider == address(0)) revert NodeRegistry_ZeroAddress();
        if (amount == 0) revert NodeRegistry_ZeroAmount();
        ProviderStake storage s = _stakes[provider];
        uint256 owed = s.rewardsOwed + amount;
        if (owed > type(uint96).max) revert NodeRegistry_AmountTooLarge(owed, type(uint96).max);
        s.rewardsOwed = uint96(owed);
        emit DepositRewards(provider, msg.sender, amount);
        IERC20(kai).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc INodeRegistry
    function slash(
        address provider,
        uint256 amount,
        uint256 nodeId,
        uint8 reason,
        bytes32 evidence,
        address recipient
    ) external onlyRole(SLASHER_ROLE) nonReentrant returns (uint256 taken) {
        if (recipient == address(0) || provider == address(0)) revert NodeRegistry_ZeroAddress();
        if (nodeId != 0 && _nodes[nodeId].provider != provider) revert NodeRegistry_NotNodeProvider(nodeId, provider);
        ProviderStake storage s = _stakes[provider];
        // Effect: rewards owed first, then active stake, then unbonding stake; capped at what is there.
        uint256 fromRewards = _min(amount, s.rewardsOwed);
        uint256 fromStake = _min(amount - fromRewards, s.staked);
        uint256 fromUnbonding = _min(amount - fromRewards - fromStake, s.unbonding);
        // unchecked: each part is at most the balance it is taken from.
        unchecked {
            s.rewardsOwed -= uint96(fromRewards);
            s.staked -= uint96(fromStake);
            s.unbonding -= uint96(fromUnbonding);
            taken = fromRewards + fromStake + fromUnbonding;
        }
        if (fromUnbonding != 0 && s.unbonding == 0) s.unbondingEnd = 0;
        _penalties[provider].push(
            Penalty({
                amount: uint96(taken),
                at: uint40(block.timestamp),
                reason: reason,
                nodeId: uint32(nodeId),
                evidence: evidence
            })
        );
        emit Slash(provider, nodeId, reason, evidence, fromRewards, fromStake, fromUnbonding, recipient);
        if (fromStake != 0) _syncCovered(provider, s, false);
        if (taken != 0) IERC20(kai).safeTransfer(recipient, taken);
    }

    /// @inheritdoc INodeRegistry
    function setNodeJailed(uint256 nodeId, bool jailed) external onlyRole(SLASHER_ROLE) {
        Node storage node = _nodes[nodeId];
        NodeStatus status = node.status;
        if (status == NodeStatus.None) revert NodeRegistry_UnknownNode(nodeId);
        if (jailed ? (status == NodeStatus.Jailed || status == NodeStatus.Retired) : status != NodeStatus.Jailed) {
            revert NodeRegistry_InvalidNodeStatus(nodeId, status);
        }
        NodeStatus next = jailed ? NodeStatus.Jailed : NodeStatus.Paused;
        node.status = next;
        emit SetNodeStatus(nodeId, next);
    }

    /// @inheritdoc INodeRegistry
    function reserveGpus(
        uint256 nodeId,
        uint256 gpus,
        address token,
        bool lockStake
    ) external onlyRole(ESCROW_ROLE) returns (address provider, uint256 pricePerGpuHour) {
        Node storage node = _nodes[nodeId];
        // Check: the node can take this rental.
        provider = _checkRentable(node, nodeId, gpus);
        pricePerGpuHour = _prices[nodeId][token];
        if (pricePerGpuHour == 0) revert NodeRegistry_TokenNotAccepted(nodeId, token);
        ProviderStake storage s = _stakes[provider];
        _checkStakeCoversListing(s, provider);

        // Effect: reserve, and lock stake for saving plans.
        // unchecked: gpus <= free GPUs, checked above.
        uint256 rentedGpus = node.rentedGpus;
        // unchecked: gpus <= free GPUs, checked above; weights <= listedWeight, which fits 40 bits.
        unchecked {
            node.rentedGpus = uint16(rentedGpus + gpus);
            // The whole node's requirement stays staked while any of its GPUs is rented.
            if (rentedGpus == 0) s.rentedWeight += uint40(_weight(node.gpuClass, node.gpuCount));
            if (lockStake) s.lockedWeight += uint40(_weight(node.gpuClass, gpus));
        }
    }

    /// @inheritdoc INodeRegistry
    function releaseGpus(uint256 nodeId, uint256 gpus, bool unlockStake) external onlyRole(ESCROW_ROLE) {
        Node storage node = _nodes[nodeId];
        uint256 rentedGpus = node.rentedGpus - gpus;
        node.rentedGpus = uint16(rentedGpus);
        // The node's last rented GPU frees its requirement from `rentedWeight`.
        bool lastGpu = rentedGpus == 0 && gpus != 0;
        if (lastGpu || unlockStake) {
            ProviderStake storage s = _stakes[node.provider];
            if (lastGpu) s.rentedWeight -= uint40(_weight(node.gpuClass, node.gpuCount));
            if (unlockStake) s.lockedWeight -= uint40(_weight(node.gpuClass, gpus));
        }
    }

    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc INodeRegistry
    function getNode(uint256 nodeId) external view returns (Node memory) {
        return _nodes[nodeId];
    }

    /// @inheritdoc INodeRegistry
    function nodePrice(uint256 nodeId, address token) external view returns (uint256) {
        return _prices[nodeId][token];
    }

    /// @inheritdoc INodeRegistry
    function nodeProvider(uint256 nodeId) external view returns (address) {
        return _nodes[nodeId].provider;
    }

    /// @inheritdoc INodeRegistry
    function providerNodeCount(address provider) external view returns (uint256) {
        return _providerNodes[provider].length;
    }

    /// @inheritdoc INodeRegistry
    function providerNodeAt(address provider, uint256 index) external view returns (uint256) {
        return _providerNodes[provider][index];
    }

    /// @inheritdoc INodeRegistry
    function getStake(address provider) external view returns (ProviderStake memory) {
        return _stakes[provider];
    }

    /// @inheritdoc INodeRegistry
    function requiredStake(address provider) external view returns (uint256) {
        return _requiredStake(_stakes[provider]);
    }

    /// @inheritdoc INodeRegistry
    function lockedStake(address provider) external view returns (uint256) {
        return _lockedStake(_stakes[provider]);
    }

    /// @inheritdoc INodeRegistry
    function rentedStake(address provider) external view returns (uint256) {
        return _rentedStake(_stakes[provider]);
    }

    /// @inheritdoc INodeRegistry
    function listedSince(uint256 nodeId) external view returns (uint256) {
        return _nodes[nodeId].listedSince;
    }

    /// @inheritdoc INodeRegistry
    function eligibleSince(uint256 nodeId) external view returns (uint256) {
        Node storage node = _nodes[nodeId];
        if (node.status != NodeStatus.Active) return 0;
        ProviderStake storage s = _stakes[node.provider];
        uint256 covered = s.coveredSince;
        // Live check: governance may have raised `baseStakePerGpu` since `coveredSince` was set.
        if (covered == 0 || s.staked < _requiredStake(s)) return 0;
        return _max(node.listedSince, covered);
    }

    /// @inheritdoc INodeRegistry
    function penaltyCount(address provider) external view returns (uint256) {
        return _penalties[provider].length;
    }

    /// @inheritdoc INodeRegistry
    function penaltyAt(address provider, uint256 index) external view returns (Penalty memory) {
        return _penalties[provider][index];
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNAL                              */
    /* ------------------------------------------------------------------ */

    function _checkNodeProvider(uint256 nodeId) internal view returns (Node storage node) {
        node = _nodes[nodeId];
        if (node.status == NodeStatus.None) revert NodeRegistry_UnknownNode(nodeId);
        if (node.provider != msg.sender) revert NodeRegistry_NotNodeProvider(nodeId, msg.sender);
    }

    /// @dev Reverts unless `node` is active, out of maintenance and has `gpus` free.
    function _checkRentable(Node storage node, uint256 nodeId, uint256 gpus) internal view returns (address) {
        if (gpus == 0) revert NodeRegistry_NotEnoughFreeGpus(nodeId, 0, 0);
        NodeStatus status = node.status;
        if (status != NodeStatus.Active) {
            if (status == NodeStatus.None) revert NodeRegistry_UnknownNode(nodeId);
            revert NodeRegistry_InvalidNodeStatus(nodeId, status);
        }
        uint256 maintenanceStart = node.maintenanceStart;
        // The end sits in the node's second slot: read it only when a window has started.
        if (maintenanceStart != 0 && block.timestamp >= maintenanceStart) {
            uint256 maintenanceEnd = node.maintenanceEnd;
            if (block.timestamp < maintenanceEnd) revert NodeRegistry_InMaintenance(nodeId, maintenanceEnd);
        }
        uint256 free = node.gpuCount - node.rentedGpus;
        if (gpus > free) revert NodeRegistry_NotEnoughFreeGpus(nodeId, gpus, free);
        return node.provider;
    }

    /// @dev Reverts if the provider's active stake does not cover all its listed GPUs.
    function _checkStakeCoversListing(ProviderStake storage s, address provider) internal view {
        uint256 required = _requiredStake(s);
        uint256 staked = s.staked;
        if (staked < required) revert NodeRegistry_InsufficientStake(provider, staked, required);
    }

    /// @dev Like `_checkNodeProvider`, and the node must not be retired.
    function _checkListedNode(uint256 nodeId) internal view returns (Node storage node) {
        node = _checkNodeProvider(nodeId);
        if (node.status == NodeStatus.Retired) revert NodeRegistry_InvalidNodeStatus(nodeId, node.status);
    }

    function _checkMetadataURI(string calldata metadataURI) internal pure {
        uint256 length = bytes(metadataURI).length;
        if (length == 0 || length > MAX_METADATA_URI_LENGTH) {
            revert NodeRegistry_InvalidMetadataURI(length, MAX_METADATA_URI_LENGTH);
        }
    }
    /// @dev GPU count x class multiplier (bps): the unit stake requirements are summed in.
    function _weight(uint256 gpuClass, uint256 gpus) internal view returns (uint256) {
        return gpus * _gpuClasses[gpuClass].multiplierBps;
    }

    function _requiredStake(ProviderStake storage s) internal view returns (uint256) {
        return (baseStakePerGpu * s.listedWeight) / BPS;
    }

    function _lockedStake(ProviderStake storage s) internal view returns (uint256) {
        return (baseStakePerGpu * s.lockedWeight) / BPS;
    }

    function _rentedStake(ProviderStake storage s) internal view returns (uint256) {
        return (baseStakePerGpu * s.rentedWeight) / BPS;
    }

    /// @dev Keeps `coveredSince` true to `staked >= requiredStake` after an operation on `s`: set to
    /// now when it holds and was not recorded (or `restart`: it did not hold before the operation),
    /// 0 when it does not hold. Emits `SetCoveredSince` when it changes.
    function _syncCovered(address provider, ProviderStake storage s, bool restart) internal {
        uint256 since = s.coveredSince;
        uint256 next = since;
        uint256 required = _requiredStake(s);
        if (s.staked >= required) {
            // Nothing listed, nothing to cover: coverage starts with the first listing it covers.
            if (required != 0 && (since == 0 || restart)) next = block.timestamp;
        } else {
            next = 0;
        }
        if (next != since) {
            s.coveredSince = uint40(next);
            emit SetCoveredSince(provider, next);
        }
    }

    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}
