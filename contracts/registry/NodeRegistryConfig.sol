// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {INodeRegistry} from "../interfaces/INodeRegistry.sol";
import {Node, ProviderStake, GpuClass, Penalty} from "../types/DataTypes.sol";

/// @title NodeRegistryConfig
/// @notice The registry's settings: its storage (in the registry's slot order), the governance
/// setters and the GPU class views. `NodeRegistry` adds nodes, stakes and slashing. See `INodeRegistry`.
abstract contract NodeRegistryConfig is INodeRegistry, AccessControl, Pausable {
    /// @notice Role of the PoPW oracle: slash providers, jail nodes.
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    /// @notice Role of the rental escrow: reserve and release GPUs, lock stake.
    bytes32 public constant ESCROW_ROLE = keccak256("ESCROW_ROLE");
    /// @notice Role that credits KAI rewards to providers.
    bytes32 public constant REWARDER_ROLE = keccak256("REWARDER_ROLE");
    /// @notice Role of the pause guardian.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    uint256 internal constant BPS = 10_000;
    /// @notice Lowest GPU class multiplier, bps.
    uint256 public constant MIN_MULTIPLIER_BPS = 1_000; // 0.1x
    /// @notice Highest GPU class multiplier, bps.
    uint256 public constant MAX_MULTIPLIER_BPS = 1_000_000; // 100x
    /// @notice Bound on `baseStakePerGpu`, KAI units.
    uint256 public constant MAX_BASE_STAKE_PER_GPU = 1_000_000e18; // 1M KAI
    /// @notice Shortest unbonding period, seconds.
    uint256 public constant MIN_UNBONDING_PERIOD = 1 days;
    /// @notice Longest unbonding period, seconds.
    uint256 public constant MAX_UNBONDING_PERIOD = 90 days;
    /// @notice Bound on `minMaintenanceNotice`, seconds.
    uint256 public constant MAX_MAINTENANCE_NOTICE = 30 days;
    /// @notice Lower bound on `maxMaintenanceDuration`, seconds.
    uint256 public constant MIN_MAINTENANCE_DURATION = 1 hours;
    /// @notice Upper bound on `maxMaintenanceDuration`, seconds.
    uint256 public constant MAX_MAINTENANCE_DURATION = 30 days;
    /// @notice Longest metadata URI, bytes.
    uint256 public constant MAX_METADATA_URI_LENGTH = 256;
    uint256 internal constant MAX_GPU_CLASSES = type(uint16).max;

    /// @inheritdoc INodeRegistry
    address public immutable kai;

    /// @inheritdoc INodeRegistry
    uint256 public baseStakePerGpu;
    /// @inheritdoc INodeRegistry
    uint256 public unbondingPeriod = 14 days;
    /// @inheritdoc INodeRegistry
    uint256 public minMaintenanceNotice = 1 days;
    /// @inheritdoc INodeRegistry
    uint256 public maxMaintenanceDuration = 7 days;
    /// @inheritdoc INodeRegistry
    uint256 public nodeCount;

    mapping(uint256 nodeId => Node) internal _nodes;
    mapping(uint256 nodeId => mapping(address token => uint256 pricePerGpuHour)) internal _prices;
    mapping(address provider => uint256[] nodeIds) internal _providerNodes;
    mapping(address provider => ProviderStake) internal _stakes;
    mapping(address provider => Penalty[]) internal _penalties;
    GpuClass[] internal _gpuClasses;
    /// @inheritdoc INodeRegistry
    uint256 public slashLatency;

    /// @param kai_ The KAI token.
    /// @param admin Receives `DEFAULT_ADMIN_ROLE` (the timelock in deployments).
    /// @param baseStakePerGpu_ KAI required per GPU at multiplier 1x.
    constructor(address kai_, address admin, uint256 baseStakePerGpu_) {
        if (kai_ == address(0) || admin == address(0)) revert NodeRegistry_ZeroAddress();
        _checkBaseStake(baseStakePerGpu_);
        kai = kai_;
        baseStakePerGpu = baseStakePerGpu_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /* ------------------------------------------------------------------ */
    /*                             GOVERNANCE                             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc INodeRegistry
    function addGpuClass(
        bytes32 name,
        uint256 multiplierBps
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 gpuClass) {
        if (multiplierBps < MIN_MULTIPLIER_BPS || multiplierBps > MAX_MULTIPLIER_BPS) {
            revert NodeRegistry_ParameterOutOfBounds(
                "multiplierBps",
                multiplierBps,
                MIN_MULTIPLIER_BPS,
                MAX_MULTIPLIER_BPS
            );
        }
        gpuClass = _gpuClasses.length;
        if (gpuClass >= MAX_GPU_CLASSES)
            revert NodeRegistry_ParameterOutOfBounds("gpuClassCount", gpuClass, 0, MAX_GPU_CLASSES);
        _gpuClasses.push(GpuClass({name: name, multiplierBps: uint32(multiplierBps), active: true}));
        emit AddGpuClass(gpuClass, name, multiplierBps);
    }

    /// @inheritdoc INodeRegistry
    function setGpuClassActive(uint256 gpuClass, bool active) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (gpuClass >= _gpuClasses.length) revert NodeRegistry_InvalidGpuClass(gpuClass);
        if (_gpuClasses[gpuClass].active == active) revert NodeRegistry_AlreadySet();
        _gpuClasses[gpuClass].active = active;
        emit SetGpuClassActive(gpuClass, active);
    }

    /// @inheritdoc INodeRegistry
    function setBaseStakePerGpu(uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkBaseStake(amount);
        if (amount == baseStakePerGpu) revert NodeRegistry_AlreadySet();
        baseStakePerGpu = amount;
        emit SetBaseStakePerGpu(amount);
    }

    /// @inheritdoc INodeRegistry
    function setUnbondingPeriod(uint256 period) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (period < MIN_UNBONDING_PERIOD || period > MAX_UNBONDING_PERIOD) {
            revert NodeRegistry_ParameterOutOfBounds(
                "unbondingPeriod",
                period,
                MIN_UNBONDING_PERIOD,
                MAX_UNBONDING_PERIOD
            );
        }
        if (period == unbondingPeriod) revert NodeRegistry_AlreadySet();
        uint256 latency = slashLatency;
        if (period < latency) revert NodeRegistry_UnbondingBelowSlashLatency(period, latency);
        unbondingPeriod = period;
        emit SetUnbondingPeriod(period);
    }

    /// @inheritdoc INodeRegistry
    function setSlashLatency(uint256 latency) external onlyRole(SLASHER_ROLE) {
        uint256 period = unbondingPeriod;
        if (period < latency) revert NodeRegistry_UnbondingBelowSlashLatency(period, latency);
        slashLatency = latency;
        emit SetSlashLatency(latency);
    }

    /// @inheritdoc INodeRegistry
    function setMaintenanceBounds(uint256 minNotice, uint256 maxDuration) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (minNotice > MAX_MAINTENANCE_NOTICE) {
            revert NodeRegistry_ParameterOutOfBounds("minMaintenanceNotice", minNotice, 0, MAX_MAINTENANCE_NOTICE);
        }
        if (maxDuration < MIN_MAINTENANCE_DURATION || maxDuration > MAX_MAINTENANCE_DURATION) {
            revert NodeRegistry_ParameterOutOfBounds(
                "maxMaintenanceDuration",
                maxDuration,
                MIN_MAINTENANCE_DURATION,
                MAX_MAINTENANCE_DURATION
            );
        }
        if (minNotice == minMaintenanceNotice && maxDuration == maxMaintenanceDuration)
            revert NodeRegistry_AlreadySet();
        minMaintenanceNotice = minNotice;
        maxMaintenanceDuration = maxDuration;
        emit SetMaintenanceBounds(minNotice, maxDuration);
    }

    /// @inheritdoc INodeRegistry
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc INodeRegistry
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc INodeRegistry
    function gpuClassCount() external view returns (uint256) {
        return _gpuClasses.length;
    }

    /// @inheritdoc INodeRegistry
    function getGpuClass(uint256 gpuClass) external view returns (GpuClass memory) {
        return _gpuClasses[gpuClass];
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNAL                              */
    /* ------------------------------------------------------------------ */

    function _checkBaseStake(uint256 amount) internal pure {
        if (amount == 0 || amount > MAX_BASE_STAKE_PER_GPU) {
            revert NodeRegistry_ParameterOutOfBounds("baseStakePerGpu", amount, 1, MAX_BASE_STAKE_PER_GPU);
        }
    }
}
