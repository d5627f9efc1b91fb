// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {ISlaEnforcer, NodeEpochProof} from "../interfaces/ISlaEnforcer.sol";
import {IReportOracle} from "../interfaces/IReportOracle.sol";
import {IRentalEscrow} from "../interfaces/IRentalEscrow.sol";
import {INodeRegistry} from "../interfaces/INodeRegistry.sol";
import {RentalMath} from "../libraries/RentalMath.sol";
import {SlaMath} from "../libraries/SlaMath.sol";
import {
    CloseReason,
    Node,
    NodeStatus,
    PenaltyReason,
    Plan,
    ProviderStake,
    Rental,
    RentalStatus
} from "../types/DataTypes.sol";
import {NodeId, RentalId} from "../types/Ids.sol";

/// @title SlaEnforcer
/// @notice SLA credits and PoPW slashing from accepted epoch reports. See `ISlaEnforcer`.
/// @dev Needs the escrow's `ORACLE_ROLE` and the registry's `SLASHER_ROLE`.
contract SlaEnforcer is ISlaEnforcer, AccessControl, ReentrancyGuardTransient {
    /// @notice Bound on the downtime policy's consecutive epochs.
    uint256 public constant MAX_DOWNTIME_EPOCHS = 12;
    /// @notice Bound on `kaiPerToken`: 1e40 KAI units per 1e18 token units (no overflow below 2^96 credits).
    uint256 public constant MAX_KAI_PER_TOKEN = 1e40;
    /// @notice Shortest `slashWindow`, seconds.
    uint256 public constant MIN_SLASH_WINDOW = 60;
    /// @notice Longest `slashWindow`, seconds.
    uint256 public constant MAX_SLASH_WINDOW = 30 days;
    /// @notice Default `stakeCreditCapBps`: 10% of the node's required stake per epoch.
    uint256 public constant DEFAULT_STAKE_CREDIT_CAP_BPS = 1_000;
    /// @dev The registry's `SLASHER_ROLE` (needed to push `slashLatency`).
    bytes32 internal constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    uint256 internal constant BPS = 10_000;

    /// @dev First epochs whose evidence may still slash a node, in one slot.
    struct SlashableFrom {
        uint128 downtime;
        uint128 fraud;
    }

    /// @dev The slashing policy, in one slot.
    struct Policy {
        uint16 downtimeThresholdBps; // uptime below this is downtime
        uint8 downtimeEpochs; // consecutive epochs of downtime that trigger a slash
        uint16 downtimeSlashBps; // share of the per-GPU stake per GPU of the node
        uint16 fraudSlashBps; // share of the per-GPU stake per GPU of the node
    }

    /// @notice The oracle whose accepted roots the proofs follow.
    IReportOracle public immutable oracle;
    /// @notice The escrow that holds the rentals.
    IRentalEscrow public immutable escrow;
    /// @notice The registry that holds the stakes.
    INodeRegistry public immutable registry;
    /// @dev The oracle's epoch clock, copied (it is immutable there too) to save two calls a credit.
    uint256 internal immutable _genesis;
    uint256 internal immutable _epochLength;

    /// @notice The slashing policy in force.
    Policy public policy;
    /// @notice Receives downtime and fraud slashes.
    address public slashRecipient;
    /// @inheritdoc ISlaEnforcer
    mapping(address token => uint256 rate) public kaiPerToken;
    /// @dev One bit per (epoch, rental): a keeper crediting one epoch writes rentals' bits into
    /// shared words, not a fresh slot each.
    mapping(uint256 epoch => mapping(uint256 word => uint256 bits)) internal _credited;
    /// @dev Per node, the first epoch whose evidence may still slash it, for downtime and for fraud:
    /// a slash moves it past the epochs it used, a release past the epoch of the release.
    mapping(uint256 nodeId => SlashableFrom) internal _slashableFrom;
    /// @inheritdoc ISlaEnforcer
    mapping(uint256 rentalId => uint256 amount) public savingCreditedFromEarnings;
    /// @inheritdoc ISlaEnforcer
    uint256 public slashWindow;
    /// @inheritdoc ISlaEnforcer
    uint256 public stakeCreditCapBps = DEFAULT_STAKE_CREDIT_CAP_BPS;
    /// @inheritdoc ISlaEnforcer
    mapping(uint256 rentalId => mapping(uint256 epoch => uint256 kai)) public stakeCreditDue;
    /// @inheritdoc ISlaEnforcer
    mapping(uint256 nodeId => mapping(uint256 epoch => uint256 kai)) public nodeStakeCreditDue;

    /// @param oracle_ The report oracle.
    /// @param escrow_ The rental escrow.
    /// @param admin Receives `DEFAULT_ADMIN_ROLE` (the timelock in deployments).
    /// @param slashRecipient_ Receives downtime and fraud slashes (the treasury).
    /// @param slashWindow_ The reporting deadline after an epoch's end, seconds (see `slashWindow`).
    constructor(
        IReportOracle oracle_,
        IRentalEscrow escrow_,
        address admin,
        address slashRecipient_,
        uint256 slashWindow_
    ) {
        if (
            address(oracle_) == address(0) ||
            address(escrow_) == address(0) ||
            admin == address(0) ||
            slashRecipient_ == address(0)
        ) revert SlaEnforcer_ZeroAddress();
        oracle = oracle_;
        escrow = escrow_;
        registry = INodeRegistry(escrow_.registry());
        _genesis = oracle_.epochStart(0);
        _epochLength = oracle_.epochStart(1) - _genesis;
        slashRecipient = slashRecipient_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        // Aethir's scale: a third of the per-GPU stake for downtime, all of it for fraud.
        _setDowntimePolicy(9_000, 2, 3_333);
        _setFraudSlashBps(BPS);
        _setSlashWindow(slashWindow_);
        // The registry's role is granted after deployment: `syncSlashLatency` pushes then.
        _checkLatency();
    }

    /* ------------------------------------------------------------------ */
    /*                              ANYONE                                */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ISlaEnforcer
    function applySlaCredit(
        uint256 rentalId,
        NodeEpochProof calldata p
    ) external nonReentrant returns (uint256 credit, uint256 fromEarnings, uint256 kaiFromStake) {
        _verify(p);
        return _applyCredit(rentalId, p);
    }

    /// @inheritdoc ISlaEnforcer
    function applySlaCredits(
        uint256[] calldata rentalIds,
        NodeEpochProof calldata p
    ) external nonReentrant returns (uint256 credited) {
        // One proof serves every rental of the node in the epoch: verified once.
        _verify(p);
        for (uint256 i; i < rentalIds.length; ++i) _applyCredit(rentalIds[i], p);
        return rentalIds.length;
    }

    /// @inheritdoc ISlaEnforcer
    function slashForDowntime(
        uint256 rentalId,
        NodeEpochProof[] calldata proofs
    ) external nonReentrant returns (uint256 slashed) {
        Policy memory pol = policy;
        if (proofs.length != pol.downtimeEpochs) revert SlaEnforcer_WrongProofCount(proofs.length, pol.downtimeEpochs);
        Rental memory rental = escrow.getRental(rentalId);
        if (rental.status == RentalStatus.None) revert IRentalEscrow.RentalEscrow_UnknownRental(rentalId);
        uint256 nodeId = rental.nodeId;
        uint256 firstEpoch = proofs[0].leaf.epoch;
        SlashableFrom memory from = _slashableFrom[nodeId];
        if (firstEpoch < from.downtime) revert SlaEnforcer_EvidenceTooOld(nodeId, firstEpoch, from.downtime);
        uint256 lastEpoch = firstEpoch + proofs.length - 1;
        _checkNotExpired(lastEpoch);

        bytes32[] memory leafHashes = _checkDowntime(
            RentalId.wrap(rentalId),
            NodeId.wrap(nodeId),
            proofs,
            pol.downtimeThresholdBps
        );
        _slashableFrom[nodeId].downtime = uint128(lastEpoch + 1);

        // Per GPU of the node, not of the rental: the node was down, and the size of the slash must
        // not depend on which of its rentals the caller names.
        uint256 amount = (perGpuStake(nodeId) * registry.getNode(nodeId).gpuCount * pol.downtimeSlashBps) / BPS;
        bytes32 evidence = keccak256(abi.encodePacked(leafHashes));
        slashed = _slashAndJail(nodeId, amount, uint8(PenaltyReason.Downtime), evidence);
        emit SlashDowntime(nodeId, rentalId, firstEpoch, lastEpoch, slashed, evidence);
    }

    /// @inheritdoc ISlaEnforcer
    function slashForHardwareFraud(NodeEpochProof calldata p) external nonReentrant returns (uint256 slashed) {
        bytes32 leafHash = _verify(p);
        uint256 epoch = p.leaf.epoch;
        uint256 nodeId = p.leaf.id;
        if (!p.metrics.hardwareMismatch) revert SlaEnforcer_NoHardwareMismatch(epoch, nodeId);
        uint256 fraudFrom = _slashableFrom[nodeId].fraud;
        if (epoch < fraudFrom) revert SlaEnforcer_EvidenceTooOld(nodeId, epoch, fraudFrom);
        _checkNotExpired(epoch);
        _slashableFrom[nodeId].fraud = uint128(epoch + 1);

        Node memory node = registry.getNode(nodeId);
        uint256 amount = (perGpuStake(nodeId) * node.gpuCount * policy.fraudSlashBps) / BPS;
        slashed = _slashAndJail(nodeId, amount, uint8(PenaltyReason.HardwareFraud), leafHash);
        emit SlashHardwareFraud(nodeId, epoch, slashed, leafHash);
    }

    /// @inheritdoc ISlaEnforcer
    function payStakeCredit(uint256 rentalId, uint256 epoch) external nonReentrant returns (uint256 kaiPaid) {
        if (stakeCreditDue[rentalId][epoch] == 0) revert SlaEnforcer_NothingDue(rentalId, epoch);
        return _payStakeCredit(rentalId, epoch);
    }

    /// @inheritdoc ISlaEnforcer
    function payStakeCredits(
        uint256[] calldata rentalIds,
        uint256[] calldata epochs
    ) external nonReentrant returns (uint256 kaiPaid) {
        if (rentalIds.length != epochs.length) revert SlaEnforcer_LengthMismatch(rentalIds.length, epochs.length);
        for (uint256 i; i < rentalIds.length; ++i) {
            // Skipped, not fatal: someone may have paid a pair while a keeper's batch was in flight.
            if (stakeCreditDue[rentalIds[i]][epochs[i]] != 0) kaiPaid += _payStakeCredit(rentalIds[i], epochs[i]);
        }
    }

    /// @inheritdoc ISlaEnforcer
    function syncSlashLatency() external {
        registry.setSlashLatency(slashLatency());
    }

    /// @inheritdoc ISlaEnforcer
    function closeOnJailedNode(uint256[] calldata rentalIds) external nonReentrant returns (uint256 closed) {
        for (uint256 i; i < rentalIds.length; ++i) {
            uint256 rentalId = rentalIds[i];
            Rental memory rental = escrow.getRental(rentalId);
            if (rental.status == RentalStatus.None) revert IRentalEscrow.RentalEscrow_UnknownRental(rentalId);
            // Skipped, not fatal: a renter may close its own rental while a keeper's batch is in flight.
            if (rental.status == RentalStatus.Closed) continue;
            Node memory node = registry.getNode(rental.nodeId);
            if (node.status != NodeStatus.Jailed) revert SlaEnforcer_NodeNotJailed(rentalId, rental.nodeId);
            escrow.closeForProviderFault(rentalId, CloseReason.ProviderSlashed);
            ++closed;
            // The escrow refunds all but what the provider already withdrew; that comes from its stake.
            if (rental.plan == Plan.Saving) _refundSavingFromStake(rentalId, rental, node.provider);
        }
        if (closed == 0) revert SlaEnforcer_NothingToClose();
    }

    /* ------------------------------------------------------------------ */
    /*                             GOVERNANCE                             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ISlaEnforcer
    function setDowntimePolicy(
        uint256 thresholdBps,
        uint256 epochs,
        uint256 slashBps
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDowntimePolicy(thresholdBps, epochs, slashBps);
        _checkLatency();
        _pushLatency();
    }

    /// @inheritdoc ISlaEnforcer
    function setSlashWindow(uint256 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSlashWindow(window);
        _checkLatency();
        _pushLatency();
    }

    /// @inheritdoc ISlaEnforcer
    function setStakeCreditCapBps(uint256 capBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (capBps == 0 || capBps > BPS) revert SlaEnforcer_ParameterOutOfBounds("stakeCreditCapBps", capBps, 1, BPS);
        stakeCreditCapBps = capBps;
        emit SetStakeCreditCapBps(capBps);
    }

    /// @inheritdoc ISlaEnforcer
    function setFraudSlashBps(uint256 slashBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setFraudSlashBps(slashBps);
    }

    /// @inheritdoc ISlaEnforcer
    function setKaiPerToken(address token, uint256 rate) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == address(0)) revert SlaEnforcer_ZeroAddress();
        if (rate > MAX_KAI_PER_TOKEN)
            revert SlaEnforcer_ParameterOutOfBounds("kaiPerToken", rate, 0, MAX_KAI_PER_TOKEN);
        kaiPerToken[token] = rate;
        emit SetKaiPerToken(token, rate);
    }

    /// @inheritdoc ISlaEnforcer
    function setSlashRecipient(address recipient) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (recipient == address(0)) revert SlaEnforcer_ZeroAddress();
        slashRecipient = recipient;
        emit SetSlashRecipient(recipient);
    }

    /// @inheritdoc ISlaEnforcer
    function releaseNode(uint256 nodeId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        // Released means forgiven: evidence from before the release (the current epoch included,
        // spent partly in jail) can no longer slash the node.
        // Cursors never pass the current epoch (reports cover ended epochs only): this moves both forward.
        uint256 next = (block.timestamp - _genesis) / _epochLength + 1;
        _slashableFrom[nodeId] = SlashableFrom({downtime: uint128(next), fraud: uint128(next)});
        emit ReleaseNode(nodeId, next);
        registry.setNodeJailed(nodeId, false);
    }

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ISlaEnforcer
    function slashLatency() public view returns (uint256) {
        return (uint256(policy.downtimeEpochs) + 1) * _epochLength + slashWindow;
    }

    /// @inheritdoc ISlaEnforcer
    function isCredited(uint256 rentalId, uint256 epoch) external view returns (bool) {
        return _credited[epoch][rentalId >> 8] & (1 << (rentalId & 0xff)) != 0;
    }

    /// @inheritdoc ISlaEnforcer
    function slashableFrom(uint256 nodeId) external view returns (uint256 downtimeEpoch, uint256 fraudEpoch) {
        SlashableFrom memory from = _slashableFrom[nodeId];
        return (from.downtime, from.fraud);
    }

    /// @inheritdoc ISlaEnforcer
    function perGpuStake(uint256 nodeId) public view returns (uint256) {
        Node memory node = registry.getNode(nodeId);
        if (node.status == NodeStatus.None) revert INodeRegistry.NodeRegistry_UnknownNode(nodeId);
        return (registry.baseStakePerGpu() * registry.getGpuClass(node.gpuClass).multiplierBps) / BPS;
    }

    /// @inheritdoc ISlaEnforcer
    function verifyNodeLeaf(NodeEpochProof calldata p) external view returns (bytes32 leafHash) {
        return _verify(p);
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNAL                              */
    /* ------------------------------------------------------------------ */

    /// @dev Checks that `p` is a node leaf of an accepted report with its metrics; returns its hash.
    function _verify(NodeEpochProof calldata p) internal view returns (bytes32 leafHash) {
        if (p.leaf.kind != 0) revert SlaEnforcer_NotNodeLeaf(p.leaf.kind);
        bytes32 metricsHash = keccak256(abi.encode(p.metrics));
        if (metricsHash != p.leaf.metricsHash) revert SlaEnforcer_MetricsMismatch(metricsHash, p.leaf.metricsHash);
        uint256 epoch = p.leaf.epoch;
        bytes32 root = oracle.reportRoot(epoch);
        if (root == bytes32(0)) revert SlaEnforcer_NoReport(epoch);
        // The distributor's leaf encoding: double hashing keeps an inner node from passing as a leaf.
        leafHash = keccak256(bytes.concat(keccak256(abi.encode(p.leaf))));
        if (!MerkleProof.verifyCalldata(p.proof, root, leafHash)) revert SlaEnforcer_InvalidProof(epoch, p.leaf.id);
    }

    /// @dev Checks that `proofs` are the node's leaves for consecutive epochs of the rental, each
    /// with uptime below `thresholdBps`; returns their hashes.
    function _checkDowntime(
        RentalId rentalId,
        NodeId nodeId,
        NodeEpochProof[] calldata proofs,
        uint256 thresholdBps
    ) internal view returns (bytes32[] memory leafHashes) {
        (uint256 start, uint256 end) = escrow.serviceWindow(RentalId.unwrap(rentalId));
        uint256 firstEpoch = proofs[0].leaf.epoch;
        leafHashes = new bytes32[](proofs.length);
        for (uint256 i; i < proofs.length; ++i) {
            NodeEpochProof calldata p = proofs[i];
            leafHashes[i] = _verify(p);
            uint256 epoch = p.leaf.epoch;
            if (p.leaf.id != NodeId.unwrap(nodeId)) revert SlaEnforcer_WrongNode(i, p.leaf.id, NodeId.unwrap(nodeId));
            if (epoch != firstEpoch + i) revert SlaEnforcer_NotConsecutive(i, epoch);
            if (p.metrics.uptimeBps >= thresholdBps) {
                revert SlaEnforcer_UptimeAboveThreshold(epoch, p.metrics.uptimeBps, thresholdBps);
            }
            // The downtime must fall while the rental ran (Aethir slashes downtime during rentals).
            uint256 epochFrom = _epochStart(epoch);
            if (epochFrom >= end || epochFrom + _epochLength <= start) {
                revert SlaEnforcer_NotDuringRental(RentalId.unwrap(rentalId), epoch);
            }
        }
    }

    /// @dev Credits `rentalId` for the verified leaf `p`.
    function _applyCredit(
        uint256 rentalId,
        NodeEpochProof calldata p
    ) internal returns (uint256 credit, uint256 fromEarnings, uint256 kaiFromStake) {
        uint256 epoch = p.leaf.epoch;
        _markCredited(rentalId, epoch);
        uint256 from = _epochStart(epoch);
        address token;
        Plan plan;
        (, token, credit, fromEarnings, plan) = escrow.creditSla(
            rentalId,
            p.leaf.id,
            p.metrics.uptimeBps,
            from,
            from + _epochLength
        );
        // Earnings credited to the renter are not the provider's to pay back from stake if the plan
        // is refunded in full on a jailed node (see `_refundSavingFromStake`).
        if (plan == Plan.Saving && fromEarnings != 0) savingCreditedFromEarnings[rentalId] += fromEarnings;
        if (credit != fromEarnings) {
            kaiFromStake = _creditFromStake(
                RentalId.wrap(rentalId),
                NodeId.wrap(p.leaf.id),
                epoch,
                token,
                credit - fromEarnings
            );
        }
        // A credit that pays nothing now stays available: the provider's earnings may grow, or
        // governance may set a rate for the token (or the node's cap for the epoch is spent).
        if (fromEarnings == 0 && kaiFromStake == 0) revert SlaEnforcer_NothingPaid(rentalId, epoch);
        emit ApplySlaCredit(rentalId, epoch, p.metrics.uptimeBps, credit, fromEarnings, kaiFromStake);
    }

    /// @dev Effect first: a rental is credited once per epoch.
    function _markCredited(uint256 rentalId, uint256 epoch) internal {
        mapping(uint256 word => uint256 bits) storage bitsOf = _credited[epoch];
        uint256 bits = bitsOf[rentalId >> 8];
        uint256 bit = 1 << (rentalId & 0xff);
        if (bits & bit != 0) revert SlaEnforcer_AlreadyCredited(rentalId, epoch);
        bitsOf[rentalId >> 8] = bits | bit;
    }

    /// @dev The part of a credit the provider's earnings did not cover is owed from its stake, in KAI
    /// at governance's rate: recorded as due to the renter (paid by `payStakeCredit` once the epoch's
    /// slashing window has passed), capped per node and epoch at `stakeCreditCapBps` of the node's
    /// required stake; the excess is forfeited. Returns the KAI recorded as due.
    function _creditFromStake(
        RentalId rentalId,
        NodeId nodeId,
        uint256 epoch,
        address token,
        uint256 rest
    ) internal returns (uint256 kaiDue) {
        uint256 kaiOwed = SlaMath.kaiValue(rest, kaiPerToken[token]);
        if (kaiOwed == 0) return 0;
        uint256 node = NodeId.unwrap(nodeId);
        uint256 cap = (perGpuStake(node) * registry.getNode(node).gpuCount * stakeCreditCapBps) / BPS;
        uint256 owedBefore = nodeStakeCreditDue[node][epoch];
        uint256 room = cap > owedBefore ? cap - owedBefore : 0;
        kaiDue = kaiOwed < room ? kaiOwed : room;
        if (kaiDue == 0) return 0;
        nodeStakeCreditDue[node][epoch] = owedBefore + kaiDue;
        uint256 rental = RentalId.unwrap(rentalId);
        stakeCreditDue[rental][epoch] = kaiDue;
        emit DeferStakeCredit(rental, epoch, kaiDue);
    }

    /// @dev Pays the stake credit due to `rentalId`'s renter for `epoch` (due > 0) from the provider's
    /// stake, once the epoch's slashing window has passed: slashes for the epoch landed first.
    function _payStakeCredit(uint256 rentalId, uint256 epoch) internal returns (uint256 kaiPaid) {
        uint256 opensAt = _epochStart(epoch + 1) + slashWindow + 1;
        if (block.timestamp < opensAt) revert SlaEnforcer_SlashingWindowOpen(epoch, opensAt);
        uint256 due = stakeCreditDue[rentalId][epoch];
        delete stakeCreditDue[rentalId][epoch];
        Rental memory rental = escrow.getRental(rentalId);
        kaiPaid = registry.slash(
            registry.nodeProvider(rental.nodeId),
            due,
            rental.nodeId,
            uint8(PenaltyReason.SlaCredit),
            keccak256(abi.encode(rentalId, epoch)),
            rental.renter
        );
        emit PayStakeCredit(rentalId, epoch, kaiPaid);
    }

    /// @dev After the escrow closed saving plan `rentalId` (as `rental` stood before) for
    /// `ProviderSlashed`, refunding all but the value of its withdrawn units: of that value, what the
    /// provider withdrew (the rest was credited to the renter already) comes from `provider`'s stake,
    /// in KAI at governance's rate, straight to the renter. Never reverts for want of a rate or of
    /// stake (a keeper's batch must go through): the event says what was paid. An empty stake is not
    /// slashed (no empty penalty is recorded): a fraud slash often leaves nothing.
    function _refundSavingFromStake(uint256 rentalId, Rental memory rental, address provider) internal {
        uint256 taken = RentalMath.valueOf(Plan.Saving, rental.unitPrice, rental.amount, rental.withdrawnUnits);
        uint256 withdrawn = taken - savingCreditedFromEarnings[rentalId];
        if (withdrawn == 0) return;
        uint256 kaiOwed = SlaMath.kaiValue(withdrawn, kaiPerToken[escrow.paymentTokens()[rental.tokenIndex]]);
        uint256 kaiPaid;
        if (kaiOwed != 0) {
            ProviderStake memory s = registry.getStake(provider);
            if (s.rewardsOwed != 0 || s.staked != 0 || s.unbonding != 0) {
                bytes32 evidence = keccak256(abi.encode(rentalId));
                kaiPaid = registry.slash(
                    provider,
                    kaiOwed,
                    rental.nodeId,
                    uint8(PenaltyReason.SavingRefund),
                    evidence,
                    rental.renter
                );
            }
        }
        emit RefundSavingFromStake(rentalId, withdrawn, kaiPaid);
    }

    function _epochStart(uint256 epoch) internal view returns (uint256) {
        return _genesis + epoch * _epochLength;
    }

    /// @dev Reverts once evidence whose last epoch is `epoch` is past its reporting deadline.
    function _checkNotExpired(uint256 epoch) internal view {
        uint256 deadline = _epochStart(epoch + 1) + slashWindow;
        if (block.timestamp > deadline) revert SlaEnforcer_EvidenceExpired(epoch, deadline);
    }

    /// @dev Reverts unless the registry's unbonding period covers `slashLatency()`.
    function _checkLatency() internal view {
        uint256 latency = slashLatency();
        uint256 unbonding = registry.unbondingPeriod();
        if (unbonding < latency) revert SlaEnforcer_UnbondingTooShort(unbonding, latency);
    }

    /// @dev Pushes `slashLatency()` to the registry once this contract may (its `SLASHER_ROLE`).
    function _pushLatency() internal {
        if (IAccessControl(address(registry)).hasRole(SLASHER_ROLE, address(this))) {
            registry.setSlashLatency(slashLatency());
        }
    }

    function _setSlashWindow(uint256 window) internal {
        if (window < MIN_SLASH_WINDOW || window > MAX_SLASH_WINDOW) {
            revert SlaEnforcer_ParameterOutOfBounds("slashWindow", window, MIN_SLASH_WINDOW, MAX_SLASH_WINDOW);
        }
        slashWindow = window;
        emit SetSlashWindow(window);
    }

    /// @dev Slashes `amount` KAI from the node's provider to `slashRecipient`, and jails the node
    /// unless it is jailed or retired already.
    function _slashAndJail(
        uint256 nodeId,
        uint256 amount,
        uint8 reason,
        bytes32 evidence
    ) internal returns (uint256 slashed) {
        Node memory node = registry.getNode(nodeId);
        slashed = registry.slash(node.provider, amount, nodeId, reason, evidence, slashRecipient);
        if (node.status != NodeStatus.Jailed && node.status != NodeStatus.Retired) {
            registry.setNodeJailed(nodeId, true);
        }
    }

    function _setDowntimePolicy(uint256 thresholdBps, uint256 epochs, uint256 slashBps) internal {
        if (thresholdBps == 0 || thresholdBps > BPS) {
            revert SlaEnforcer_ParameterOutOfBounds("downtimeThresholdBps", thresholdBps, 1, BPS);
        }
        if (epochs == 0 || epochs > MAX_DOWNTIME_EPOCHS) {
            revert SlaEnforcer_ParameterOutOfBounds("downtimeEpochs", epochs, 1, MAX_DOWNTIME_EPOCHS);
        }
        if (slashBps == 0 || slashBps > BPS)
            revert SlaEnforcer_ParameterOutOfBounds("downtimeSlashBps", slashBps, 1, BPS);
        policy.downtimeThresholdBps = uint16(thresholdBps);
        policy.downtimeEpochs = uint8(epochs);
        policy.downtimeSlashBps = uint16(slashBps);
        emit SetDowntimePolicy(thresholdBps, epochs, slashBps);
    }

    function _setFraudSlashBps(uint256 slashBps) internal {
        if (slashBps == 0 || slashBps > BPS) revert SlaEnforcer_ParameterOutOfBounds("fraudSlashBps", slashBps, 1, BPS);
        policy.fraudSlashBps = uint16(slashBps);
        emit SetFraudSlashBps(slashBps);
    }
}
