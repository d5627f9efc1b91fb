// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IRentalEscrow} from "../interfaces/IRentalEscrow.sol";
import {INodeRegistry} from "../interfaces/INodeRegistry.sol";
import {SlaMath} from "../libraries/SlaMath.sol";
import {Plan, Rental, RentalTerms} from "../types/DataTypes.sol";

/// @title RentalEscrowConfig
/// @notice The escrow's settings: its storage (in the escrow's slot order), the governance setters
/// and the views of what they set. `RentalEscrow` adds the rentals and the money. See `IRentalEscrow`.
/// @dev Pausing is hand-rolled (not OZ `Pausable`) so that the flag shares a slot with the rental
/// counter that `rent` reads and writes anyway.
abstract contract RentalEscrowConfig is IRentalEscrow, AccessControl {
    /// @notice Role of the PoPW oracle: close rentals for provider faults.
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");
    /// @notice Role of the pause guardian.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice Bound on the protocol fee, bps.
    uint256 public constant MAX_FEE_BPS = 2_000; // 20%
    /// @notice Bound on the saving plan early-exit penalty, bps.
    uint256 public constant MAX_PENALTY_BPS = 5_000; // 50%
    /// @notice Bound on a saving plan discount, bps.
    uint256 public constant MAX_DISCOUNT_BPS = 5_000; // 50%
    /// @notice Shortest grace period, seconds.
    uint256 public constant MIN_GRACE_PERIOD = 5 minutes;
    /// @notice Longest grace period, seconds.
    uint256 public constant MAX_GRACE_PERIOD = 7 days;
    /// @notice Lowest SLA tier target uptime, bps.
    uint256 public constant MIN_SLA_UPTIME_BPS = 5_000; // 50%
    /// @notice Most GPUs one rental may take.
    uint256 public constant MAX_GPUS_PER_RENTAL = type(uint8).max;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_TOKENS = 256; // token indexes are uint8
    uint256 internal constant MAX_SLA_TIERS = 256; // tier ids are uint8
    uint256 internal constant MAX_TERMS_VERSIONS = type(uint16).max;

    /// @dev Payment token bookkeeping: `index` into `_tokenAt`, valid when `listed`.
    struct TokenInfo {
        uint8 index;
        bool listed;
        bool enabled;
        bool floored; // a price floor was ever set in this token: `rent` reads the node's GPU class
    }

    /// @dev What `rent` reads and writes, in one slot.
    struct Config {
        uint32 rentalCount; // ids run from 1 to rentalCount
        uint16 termsVersion; // index of the terms new rentals get
        uint16 slaTierCount;
        bool paused;
        uint32 gracePeriod; // of the current terms: what a first deposit must pay for (one slot read)
        uint16 tokenCount; // payment tokens allow-listed (indexes 0 to tokenCount - 1)
    }

    /// @inheritdoc IRentalEscrow
    address public immutable registry;

    Config internal _config;
    /// @notice Receives the treasury's part of protocol fees.
    address public treasury;
    /// @notice Share of protocol fees sent to the reward pool, bps.
    uint16 public rewardPoolShareBps = 5_000; // 50%
    /// @notice Receives the reward pools' part of protocol fees.
    address public rewardPool;

    /// @dev Terms by version (a mapping, not an array: one read, no length check).
    mapping(uint256 version => RentalTerms) internal _terms;
    /// @dev Payment tokens by index (a mapping, not an array: one read, no length check).
    mapping(uint256 index => address token) internal _tokenAt;
    /// @dev SLA tier targets by tier id (a mapping, not an array: one read, no length check).
    mapping(uint256 tier => uint16 targetUptimeBps) internal _slaTierTarget;
    mapping(address token => TokenInfo) internal _tokenInfo;
    mapping(uint256 termDays => uint256 discountBps) internal _savingDiscountBps;
    mapping(uint256 rentalId => Rental) internal _rentals;
    /// @inheritdoc IRentalEscrow
    mapping(address token => uint256 amount) public accruedFees;
    /// @inheritdoc IRentalEscrow
    mapping(address renter => mapping(address token => uint256 amount)) public refundCredit;
    /// @dev The SLA credit schedule in one slot: step i is bits [32i, 32i + 16) minimum shortfall and
    /// [32i + 16, 32i + 32) credit, both bps; a zero shortfall ends the list.
    uint256 internal _creditSchedule;
    mapping(uint256 gpuClass => mapping(address token => uint256 price)) internal _priceFloor;
    /// @dev GPU class + 1 of nodes rented in a token with a floor (0: not read yet). A node's class
    /// never changes after registration: read it from the registry once, then one slot.
    mapping(uint256 nodeId => uint256 classPlusOne) internal _nodeClass;

    modifier whenNotPaused() {
        if (_config.paused) revert RentalEscrow_Paused();
        _;
    }

    /// @param registry_ The node registry (this escrow needs its `ESCROW_ROLE`).
    /// @param admin Receives `DEFAULT_ADMIN_ROLE` (the timelock in deployments).
    /// @param treasury_ Receives the treasury's part of protocol fees.
    /// @param rewardPool_ Receives the reward pools' part of protocol fees.
    constructor(address registry_, address admin, address treasury_, address rewardPool_) {
        if (registry_ == address(0) || admin == address(0) || treasury_ == address(0) || rewardPool_ == address(0)) {
            revert RentalEscrow_ZeroAddress();
        }
        registry = registry_;
        treasury = treasury_;
        rewardPool = rewardPool_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _savingDiscountBps[7] = 500; // 5%
        _savingDiscountBps[30] = 1_500; // 15%
        _savingDiscountBps[90] = 3_000; // 30%
        _config.slaTierCount = 1; // tier 0: best effort, no SLA (target 0)
        _config.gracePeriod = 1 hours;
        // Below target: 10%; 1 point below: 25%; 5 points: 50%; 10 points: 100%.
        uint256[] memory shortfalls = new uint256[](4);
        uint256[] memory credits = new uint256[](4);
        (shortfalls[0], shortfalls[1], shortfalls[2], shortfalls[3]) = (1, 100, 500, 1_000);
        (credits[0], credits[1], credits[2], credits[3]) = (1_000, 2_500, 5_000, 10_000);
        _setCreditSchedule(shortfalls, credits);
        // Terms v0: 10% fee, 10% early-exit penalty, 1 hour grace.
        _terms[0] = RentalTerms({feeBps: 1_000, earlyExitPenaltyBps: 1_000, gracePeriod: 1 hours});
        emit SetRentalTerms(0, 1_000, 1_000, 1 hours);
    }

    /* ------------------------------------------------------------------ */
    /*                             GOVERNANCE                             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IRentalEscrow
    function allowPaymentToken(address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == address(0)) revert RentalEscrow_ZeroAddress();
        if (_tokenInfo[token].listed) revert RentalEscrow_AlreadySet();
        uint256 index = _config.tokenCount;
        if (index >= MAX_TOKENS) revert RentalEscrow_ParameterOutOfBounds("paymentTokens", index + 1, 1, MAX_TOKENS);
        _tokenAt[index] = token;
        _config.tokenCount = uint16(index + 1);
        _tokenInfo[token] = TokenInfo({index: uint8(index), listed: true, enabled: true, floored: false});
        emit AllowPaymentToken(token, index);
        emit SetPaymentTokenEnabled(token, true);
    }

    /// @inheritdoc IRentalEscrow
    function setPaymentTokenEnabled(address token, bool enabled) external onlyRole(DEFAULT_ADMIN_ROLE) {
        TokenInfo storage info = _tokenInfo[token];
        if (!info.listed) revert RentalEscrow_TokenNotAllowed(token);
        if (info.enabled == enabled) revert RentalEscrow_AlreadySet();
        info.enabled = enabled;
        emit SetPaymentTokenEnabled(token, enabled);
    }

    /// @inheritdoc IRentalEscrow
    function setFeeBps(uint256 feeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (feeBps > MAX_FEE_BPS) revert RentalEscrow_ParameterOutOfBounds("feeBps", feeBps, 0, MAX_FEE_BPS);
        RentalTerms memory t = _currentTerms();
        if (feeBps == t.feeBps) revert RentalEscrow_AlreadySet();
        t.feeBps = uint16(feeBps);
        _pushTerms(t);
    }

    /// @inheritdoc IRentalEscrow
    function setGracePeriod(uint256 gracePeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (gracePeriod < MIN_GRACE_PERIOD || gracePeriod > MAX_GRACE_PERIOD) {
            revert RentalEscrow_ParameterOutOfBounds("gracePeriod", gracePeriod, MIN_GRACE_PERIOD, MAX_GRACE_PERIOD);
        }
        RentalTerms memory t = _currentTerms();
        if (gracePeriod == t.gracePeriod) revert RentalEscrow_AlreadySet();
        t.gracePeriod = uint32(gracePeriod);
        _pushTerms(t);
    }

    /// @inheritdoc IRentalEscrow
    function setEarlyExitPenaltyBps(uint256 penaltyBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (penaltyBps > MAX_PENALTY_BPS) {
            revert RentalEscrow_ParameterOutOfBounds("earlyExitPenaltyBps", penaltyBps, 0, MAX_PENALTY_BPS);
        }
        RentalTerms memory t = _currentTerms();
        if (penaltyBps == t.earlyExitPenaltyBps) revert RentalEscrow_AlreadySet();
        t.earlyExitPenaltyBps = uint16(penaltyBps);
        _pushTerms(t);
    }

    /// @inheritdoc IRentalEscrow
    function setSavingDiscount(uint256 termDays, uint256 discountBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_isSavingTerm(termDays)) revert RentalEscrow_InvalidTerm(Plan.Saving, termDays);
        if (discountBps > MAX_DISCOUNT_BPS) {
            revert RentalEscrow_ParameterOutOfBounds("discountBps", discountBps, 0, MAX_DISCOUNT_BPS);
        }
        if (_savingDiscountBps[termDays] == discountBps) revert RentalEscrow_AlreadySet();
        _savingDiscountBps[termDays] = discountBps;
        emit SetSavingDiscount(termDays, discountBps);
    }

    /// @inheritdoc IRentalEscrow
    function setPriceFloor(
        uint256 gpuClass,
        address token,
        uint256 minPricePerGpuHour
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        TokenInfo storage info = _tokenInfo[token];
        if (!info.listed) revert RentalEscrow_TokenNotAllowed(token);
        uint256 classes = INodeRegistry(registry).gpuClassCount();
        if (gpuClass >= classes) revert RentalEscrow_UnknownGpuClass(gpuClass, classes);
        if (_priceFloor[gpuClass][token] == minPricePerGpuHour) revert RentalEscrow_AlreadySet();
        _priceFloor[gpuClass][token] = minPricePerGpuHour;
        if (minPricePerGpuHour != 0) info.floored = true;
        emit SetPriceFloor(gpuClass, token, minPricePerGpuHour);
    }

    /// @inheritdoc IRentalEscrow
    function setFeeRecipients(
        address treasury_,
        address rewardPool_,
        uint256 rewardPoolShareBps_
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (treasury_ == address(0) || rewardPool_ == address(0)) revert RentalEscrow_ZeroAddress();
        if (rewardPoolShareBps_ > BPS) {
            revert RentalEscrow_ParameterOutOfBounds("rewardPoolShareBps", rewardPoolShareBps_, 0, BPS);
        }
        if (treasury_ == treasury && rewardPool_ == rewardPool && rewardPoolShareBps_ == rewardPoolShareBps) {
            revert RentalEscrow_AlreadySet();
        }
        treasury = treasury_;
        rewardPool = rewardPool_;
        rewardPoolShareBps = uint16(rewardPoolShareBps_);
        emit SetFeeRecipients(treasury_, rewardPool_, rewardPoolShareBps_);
    }

    /// @inheritdoc IRentalEscrow
    function addSlaTier(uint256 targetUptimeBps) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 tier) {
        if (targetUptimeBps < MIN_SLA_UPTIME_BPS || targetUptimeBps > BPS) {
            revert RentalEscrow_ParameterOutOfBounds("targetUptimeBps", targetUptimeBps, MIN_SLA_UPTIME_BPS, BPS);
        }
        tier = _config.slaTierCount;
        if (tier >= MAX_SLA_TIERS) revert RentalEscrow_ParameterOutOfBounds("slaTiers", tier + 1, 1, MAX_SLA_TIERS);
        _slaTierTarget[tier] = uint16(targetUptimeBps);
        _config.slaTierCount = uint16(tier + 1);
        emit AddSlaTier(tier, targetUptimeBps);
    }

    /// @inheritdoc IRentalEscrow
    function setSlaCreditSchedule(
        uint256[] calldata minShortfallBps,
        uint256[] calldata creditBps
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setCreditSchedule(minShortfallBps, creditBps);
    }

    /// @inheritdoc IRentalEscrow
    function pause() external onlyRole(PAUSER_ROLE) {
        _setPaused(true);
    }

    /// @inheritdoc IRentalEscrow
    function unpause() external onlyRole(PAUSER_ROLE) {
        _setPaused(false);
    }

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IRentalEscrow
    function rentalCount() external view returns (uint256) {
        return _config.rentalCount;
    }

    /// @inheritdoc IRentalEscrow
    function paused() external view returns (bool) {
        return _config.paused;
    }

    /// @inheritdoc IRentalEscrow
    function rentalTerms(uint256 version) external view returns (RentalTerms memory) {
        return _terms[version]; // zero for versions not yet set
    }

    /// @inheritdoc IRentalEscrow
    function currentTermsVersion() external view returns (uint256) {
        return _config.termsVersion;
    }

    /// @inheritdoc IRentalEscrow
    function paymentTokens() external view returns (address[] memory tokens) {
        tokens = new address[](_config.tokenCount);
        for (uint256 i; i < tokens.length; ++i) tokens[i] = _tokenAt[i];
    }

    /// @inheritdoc IRentalEscrow
    function isPaymentTokenEnabled(address token) external view returns (bool) {
        return _tokenInfo[token].enabled;
    }

    /// @inheritdoc IRentalEscrow
    function slaTiers() external view returns (uint16[] memory targets) {
        targets = new uint16[](_config.slaTierCount);
        for (uint256 i = 1; i < targets.length; ++i) targets[i] = _slaTierTarget[i];
    }

    /// @inheritdoc IRentalEscrow
    function priceFloor(uint256 gpuClass, address token) external view returns (uint256) {
        return _priceFloor[gpuClass][token];
    }

    /// @inheritdoc IRentalEscrow
    function savingDiscountBps(uint256 termDays) external view returns (uint256) {
        return _savingDiscountBps[termDays];
    }

    /// @inheritdoc IRentalEscrow
    function slaCreditSchedule() external view returns (uint256[] memory minShortfallBps, uint256[] memory creditBps) {
        return SlaMath.creditSchedule(_creditSchedule);
    }

    /// @inheritdoc IRentalEscrow
    function slaCreditBps(uint256 targetBps, uint256 uptimeBps) external view returns (uint256) {
        return _slaCreditBps(targetBps, uptimeBps);
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNAL                              */
    /* ------------------------------------------------------------------ */

    /// @dev Credit (bps) the schedule gives for `uptimeBps` against `targetBps`; 0 if no breach.
    function _slaCreditBps(uint256 targetBps, uint256 uptimeBps) internal view returns (uint256) {
        return SlaMath.slaCreditBps(_creditSchedule, targetBps, uptimeBps);
    }

    function _setCreditSchedule(uint256[] memory minShortfallBps, uint256[] memory creditBps) internal {
        _creditSchedule = SlaMath.packCreditSchedule(minShortfallBps, creditBps);
        emit SetSlaCreditSchedule(minShortfallBps, creditBps);
    }

    function _currentTerms() internal view returns (RentalTerms memory) {
        return _terms[_config.termsVersion];
    }

    function _pushTerms(RentalTerms memory t) internal {
        uint256 version = uint256(_config.termsVersion) + 1;
        if (version > MAX_TERMS_VERSIONS) {
            revert RentalEscrow_ParameterOutOfBounds("termsVersion", version, 0, MAX_TERMS_VERSIONS);
        }
        _terms[version] = t;
        _config.termsVersion = uint16(version);
        _config.gracePeriod = t.gracePeriod;
        emit SetRentalTerms(version, t.feeBps, t.earlyExitPenaltyBps, t.gracePeriod);
    }

    function _setPaused(bool paused_) internal {
        if (_config.paused == paused_) revert RentalEscrow_AlreadySet();
        _config.paused = paused_;
        emit SetPaused(paused_, msg.sender);
    }

    function _isSavingTerm(uint256 termDays) internal pure returns (bool) {
        return termDays == 7 || termDays == 30 || termDays == 90;
    }
}
