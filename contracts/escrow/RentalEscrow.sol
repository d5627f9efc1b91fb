// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IRentalEscrow} from "../interfaces/IRentalEscrow.sol";
import {INodeRegistry} from "../interfaces/INodeRegistry.sol";
import {RentalMath} from "../libraries/RentalMath.sol";
import {Plan, Rental, RentalStatus, RentalTerms, CloseReason, RentParams} from "../types/DataTypes.sol";

/// @title RentalEscrow
/// @notice Rental escrow for GPU time. See `IRentalEscrow`.
/// @dev Pausing is hand-rolled (not OZ `Pausable`) so that the flag shares a slot with the rental
/// counter that `rent` reads and writes anyway.
contract RentalEscrow is IRentalEscrow, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

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
    uint256 internal constant MAX_CREDIT_STEPS = 8;

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
    /*                               RENTERS                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IRentalEscrow
    function rent(RentParams calldata p) external nonReentrant returns (uint256 rentalId) {
        uint256 deposit;
        (rentalId, deposit) = _open(p);
        // Interaction: pull the deposit last.
        _pull(p.token, deposit);
    }

    /// @inheritdoc IRentalEscrow
    function rentWithPermit(
        RentParams calldata p,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (uint256 rentalId) {
        uint256 deposit;
        (rentalId, deposit) = _open(p);
        // Interactions: the permit for exactly the deposit, then the pull.
        _permit(p.token, deposit, deadline, v, r, s);
        _pull(p.token, deposit);
    }

    /// @inheritdoc IRentalEscrow
    function topUp(uint256 rentalId, uint256 amount) external whenNotPaused nonReentrant {
        _pull(_topUp(rentalId, amount), amount);
    }

    /// @inheritdoc IRentalEscrow
    function topUpWithPermit(
        uint256 rentalId,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external whenNotPaused nonReentrant {
        address token = _topUp(rentalId, amount);
        _permit(token, amount, deadline, v, r, s);
        _pull(token, amount);
    }

    /// @dev Checks and stores a new rental (no token moves); returns its id and deposit.
    function _open(RentParams calldata p) internal returns (uint256 rentalId, uint256 deposit) {
        Config memory config = _config;
        // Check: inputs that need no other storage.
        if (config.paused) revert RentalEscrow_Paused();
        if (p.gpus == 0 || p.gpus > MAX_GPUS_PER_RENTAL) revert RentalEscrow_InvalidGpuCount(p.gpus);
        if (p.slaTier >= config.slaTierCount) revert RentalEscrow_UnknownSlaTier(p.slaTier, config.slaTierCount);
        bool saving = p.plan == Plan.Saving;
        if (saving ? !_isSavingTerm(p.termDays) : p.termDays != 0) revert RentalEscrow_InvalidTerm(p.plan, p.termDays);
        TokenInfo memory info = _tokenInfo[p.token];
        if (!info.enabled) revert RentalEscrow_TokenNotAllowed(p.token);

        // Check + effect in the registry: the node can take it; GPUs reserved, stake locked.
        (, uint256 price) = INodeRegistry(registry).reserveGpus(p.nodeId, p.gpus, p.token, saving);
        if (price > p.maxPricePerGpuHour) revert RentalEscrow_PriceAboveCap(p.nodeId, price, p.maxPricePerGpuHour);
        if (info.floored) {
            // Wash rentals at dust prices cannot farm the delivery pool: the class floor bounds them.
            uint256 floor = _priceFloor[_gpuClassOf(p.nodeId)][p.token];
            if (price < floor) revert RentalEscrow_PriceBelowFloor(p.nodeId, price, floor);
        }
        uint256 unitPrice;
        (unitPrice, deposit) = _quote(p, price);

        // Effect: store the rental.
        rentalId = ++_config.rentalCount;
        Rental storage r = _rentals[rentalId];
        r.renter = msg.sender;
        r.nodeId = uint32(p.nodeId);
        r.gpus = uint8(p.gpus);
        r.tokenIndex = info.index;
        r.plan = p.plan;
        r.status = RentalStatus.Active;
        r.slaTier = uint8(p.slaTier);
        r.termsVersion = config.termsVersion;
        r.amount = uint96(deposit);
        r.unitPrice = uint96(unitPrice);
        r.anchor = uint32(block.timestamp);
        _emitOpenRental(rentalId, p, unitPrice, deposit);
    }

    /// @dev Checks and records a top-up of `amount` (no token moves); returns the rental's token.
    function _topUp(uint256 rentalId, uint256 amount) internal returns (address token) {
        Rental storage r = _openRental(rentalId);
        if (r.renter != msg.sender) revert RentalEscrow_NotRenter(rentalId, msg.sender);
        Plan plan = r.plan;
        if (plan == Plan.Saving) revert RentalEscrow_TopUpNotAllowed(rentalId, plan);
        if (amount == 0) revert RentalEscrow_ZeroAmount();
        // A token disabled since the rental opened still tops up: running rentals are not stranded.
        token = _tokenAt[r.tokenIndex];

        uint256 unitPrice = r.unitPrice;
        uint256 oldDeposit = r.amount;
        uint256 anchor = r.anchor;
        uint256 until = RentalMath.paidUntil(plan, anchor, unitPrice, oldDeposit);
        uint256 deposit = oldDeposit + amount;
        if (block.timestamp >= until) {
            uint256 gracePeriod = _terms[r.termsVersion].gracePeriod;
            uint256 graceEnd = until + gracePeriod;
            if (block.timestamp >= graceEnd) revert RentalEscrow_GraceExpired(rentalId, graceEnd);
            // A resumed rental must buy at least a grace period of runtime: otherwise a trickle of
            // dust top-ups would hold the GPUs for almost nothing, grace after grace.
            uint256 minimumUnits = oldDeposit / unitPrice + RentalMath.graceUnits(plan, gracePeriod);
            if (deposit / unitPrice < minimumUnits) {
                revert RentalEscrow_TopUpTooSmall(rentalId, amount, minimumUnits * unitPrice - oldDeposit);
            }
            // Resume from now: re-anchor so that the paid time ends exactly now. The grace time is
            // not charged, and the units earned so far stay what they were.
            anchor = block.timestamp - (until - anchor);
            r.anchor = uint32(anchor);
            r.status = RentalStatus.Active;
        }
        _checkDeposit(deposit, unitPrice);
        r.amount = uint96(deposit);
        emit TopUpRental(rentalId, amount, deposit, RentalMath.paidUntil(plan, anchor, unitPrice, deposit));
    }

    /// @inheritdoc IRentalEscrow
    function endRental(uint256 rentalId) external nonReentrant {
        Rental storage r = _openRental(rentalId);
        CloseReason reason;
        if (r.renter == msg.sender) reason = CloseReason.Renter;
        else if (INodeRegistry(registry).nodeProvider(r.nodeId) == msg.sender) reason = CloseReason.Provider;
        else revert RentalEscrow_NotRentalParty(rentalId, msg.sender);
        _close(rentalId, r, reason);
    }

    /// @inheritdoc IRentalEscrow
    function flagGracePeriod(uint256 rentalId) external {
        Rental storage r = _openRental(rentalId);
        Plan plan = r.plan;
        if (plan == Plan.Saving) revert RentalEscrow_NoGracePeriod(rentalId);
        if (r.status == RentalStatus.Grace) revert RentalEscrow_AlreadyInGrace(rentalId);
        uint256 until = RentalMath.paidUntil(plan, r.anchor, r.unitPrice, r.amount);
        if (block.timestamp < until) revert RentalEscrow_NotDepleted(rentalId, until);
        r.status = RentalStatus.Grace;
        emit EnterGracePeriod(rentalId, r.renter, until, until + _terms[r.termsVersion].gracePeriod);
    }

    /// @inheritdoc IRentalEscrow
    function closeRental(uint256 rentalId) external nonReentrant {
        Rental storage r = _openRental(rentalId);
        uint256 closable = _closableAt(r);
        if (block.timestamp < closable) revert RentalEscrow_NotClosable(rentalId, closable);
        _close(rentalId, r, r.plan == Plan.Saving ? CloseReason.Expired : CloseReason.InsufficientFunds);
    }

    /// @inheritdoc IRentalEscrow
    function claimRefundCredit(address token) external nonReentrant returns (uint256 amount) {
        amount = refundCredit[msg.sender][token];
        if (amount == 0) revert RentalEscrow_NothingToWithdraw();
        refundCredit[msg.sender][token] = 0;
        emit ClaimRefundCredit(msg.sender, token, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    /* ------------------------------------------------------------------ */
    /*                              PROVIDERS                             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IRentalEscrow
    function withdrawEarnings(address token, uint256[] calldata rentalIds) external nonReentrant returns (uint256 net) {
        TokenInfo memory info = _tokenInfo[token];
        if (!info.listed) revert RentalEscrow_TokenNotAllowed(token);
        uint256 gross;
        uint256 fee;
        // Rentals come in runs per node and per terms version: check and read each once per run.
        uint256 checkedNode;
        uint256 cachedVersion = type(uint256).max;
        uint256 feeBps;
        for (uint256 i; i < rentalIds.length; ++i) {
            uint256 rentalId = rentalIds[i];
            Rental storage r = _rentals[rentalId];
            RentalStatus status = r.status;
            if (status == RentalStatus.None) revert RentalEscrow_UnknownRental(rentalId);
            if (r.tokenIndex != info.index) revert RentalEscrow_TokenMismatch(rentalId, token);
            uint256 nodeId = r.nodeId;
            if (nodeId != checkedNode) {
                if (INodeRegistry(registry).nodeProvider(nodeId) != msg.sender) {
                    revert RentalEscrow_NotProvider(rentalId, msg.sender);
                }
                checkedNode = nodeId;
            }
            uint256 amount = _collect(r);
            if (amount == 0) continue;
            uint256 version = r.termsVersion;
            if (version != cachedVersion) {
                feeBps = _terms[version].feeBps;
                cachedVersion = version;
            }
            gross += amount;
            fee += RentalMath.bpsOf(amount, feeBps);
        }
        if (gross == 0) revert RentalEscrow_NothingToWithdraw();
        accruedFees[token] += fee;
        net = gross - fee;
        emit WithdrawEarnings(msg.sender, token, rentalIds.length, gross, fee);
        IERC20(token).safeTransfer(msg.sender, net);
    }

    /* ------------------------------------------------------------------ */
    /*                          PROTOCOL ROLES                            */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IRentalEscrow
    function closeForProviderFault(uint256 rentalId, CloseReason reason) external onlyRole(ORACLE_ROLE) nonReentrant {
        if (reason != CloseReason.SlaBreach && reason != CloseReason.ProviderSlashed) {
            revert RentalEscrow_InvalidCloseReason(reason);
        }
        _close(rentalId, _openRental(rentalId), reason);
    }

    /// @inheritdoc IRentalEscrow
    function creditSla(
        uint256 rentalId,
        uint256 nodeId,
        uint256 uptimeBps,
        uint256 from,
        uint256 to
    )
        external
        onlyRole(ORACLE_ROLE)
        nonReentrant
        returns (address renter, address token, uint256 credit, uint256 fromEarnings, Plan plan)
    {
        Rental storage r = _rentals[rentalId];
        RentalStatus status = r.status;
        if (status == RentalStatus.None) revert RentalEscrow_UnknownRental(rentalId);
        if (r.nodeId != nodeId) revert RentalEscrow_WrongNode(rentalId, nodeId, r.nodeId);
        uint256 creditBps;
        {
            uint256 target = _slaTierTarget[r.slaTier];
            creditBps = _slaCreditBps(target, uptimeBps);
            if (creditBps == 0) revert RentalEscrow_NoSlaBreach(rentalId, uptimeBps, target);
        }
        credit = RentalMath.bpsOf(_paidWithin(r, status, from, to), creditBps);
        if (credit == 0) revert RentalEscrow_NothingToCredit(rentalId, from, to);
        fromEarnings = _takeEarnings(r, status, credit);
        renter = r.renter;
        token = _tokenAt[r.tokenIndex];
        plan = r.plan;
        emit CreditSla(rentalId, renter, token, creditBps, credit, fromEarnings);
        if (fromEarnings != 0 && !IERC20(token).trySafeTransfer(renter, fromEarnings)) {
            refundCredit[renter][token] += fromEarnings;
            emit CreditRefund(rentalId, renter, token, fromEarnings);
        }
    }

    /// @inheritdoc IRentalEscrow
    function withdrawFees(address token) external nonReentrant {
        uint256 amount = accruedFees[token];
        if (amount == 0) revert RentalEscrow_NothingToWithdraw();
        accruedFees[token] = 0;
        uint256 toRewardPool = RentalMath.bpsOf(amount, rewardPoolShareBps);
        uint256 toTreasury = amount - toRewardPool;
        emit WithdrawFees(token, toTreasury, toRewardPool);
        if (toTreasury != 0) IERC20(token).safeTransfer(treasury, toTreasury);
        if (toRewardPool != 0) IERC20(token).safeTransfer(rewardPool, toRewardPool);
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
    function getRental(uint256 rentalId) external view returns (Rental memory) {
        return _rentals[rentalId];
    }

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
    function withdrawable(uint256 rentalId) external view returns (uint256) {
        Rental storage r = _rentals[rentalId];
        RentalStatus status = r.status;
        if (status == RentalStatus.None) return 0;
        if (status == RentalStatus.Closed) return r.amount;
        (, uint256 amount) = _pending(r);
        return amount;
    }

    /// @inheritdoc IRentalEscrow
    function refundable(uint256 rentalId) external view returns (uint256) {
        Rental storage r = _rentals[rentalId];
        if (r.status == RentalStatus.None || r.status == RentalStatus.Closed) return 0;
        (, uint256 refund, , ) = _split(r, CloseReason.Renter);
        return refund;
    }

    /// @inheritdoc IRentalEscrow
    function paidUntil(uint256 rentalId) external view returns (uint256) {
        Rental storage r = _rentals[rentalId];
        // Once closed, `amount` no longer holds the deposit: there is no paid time left.
        if (r.status == RentalStatus.None || r.status == RentalStatus.Closed) return 0;
        return RentalMath.paidUntil(r.plan, r.anchor, r.unitPrice, r.amount);
    }

    /// @inheritdoc IRentalEscrow
    function closableAt(uint256 rentalId) external view returns (uint256) {
        Rental storage r = _rentals[rentalId];
        if (r.status == RentalStatus.None || r.status == RentalStatus.Closed) return 0;
        return _closableAt(r);
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
        uint256 schedule = _creditSchedule;
        uint256 count;
        while (count < MAX_CREDIT_STEPS && (schedule >> (32 * count)) & 0xffff != 0) ++count;
        minShortfallBps = new uint256[](count);
        creditBps = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            minShortfallBps[i] = (schedule >> (32 * i)) & 0xffff;
            creditBps[i] = (schedule >> (32 * i + 16)) & 0xffff;
        }
    }

    /// @inheritdoc IRentalEscrow
    function slaCreditBps(uint256 targetBps, uint256 uptimeBps) external view returns (uint256) {
        return _slaCreditBps(targetBps, uptimeBps);
    }

    /// @inheritdoc IRentalEscrow
    function serviceWindow(uint256 rentalId) external view returns (uint256 start, uint256 end) {
        Rental storage r = _rentals[rentalId];
        RentalStatus status = r.status;
        if (status == RentalStatus.None) revert RentalEscrow_UnknownRental(rentalId);
        return _serviceWindow(r, status);
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNAL                              */
    /* ------------------------------------------------------------------ */

    /// @dev Unit price and deposit of a new rental at `price` per GPU-hour.
    function _quote(RentParams calldata p, uint256 price) internal view returns (uint256 unitPrice, uint256 deposit) {
        if (price > type(uint96).max) revert RentalEscrow_AmountTooLarge(price, type(uint96).max);
        uint256 perHour = price * p.gpus; // < 2^104: no overflow
        // Pay-as-you-go: per second, rounded up so that the rate never undercharges the provider.
        unitPrice = p.plan == Plan.PayAsYouGo ? (perHour + RentalMath.HOUR - 1) / RentalMath.HOUR : perHour;
        if (unitPrice > type(uint96).max) revert RentalEscrow_AmountTooLarge(unitPrice, type(uint96).max);
        if (p.plan == Plan.Saving) {
            if (p.deposit != 0) revert RentalEscrow_InvalidDeposit(p.deposit, 0);
            // The discounted hourly price; the deposit is an exact multiple of it (see `Rental`).
            unitPrice = perHour - RentalMath.bpsOf(perHour, _savingDiscountBps[p.termDays]);
            deposit = unitPrice * 24 * p.termDays;
        } else {
            // The first deposit pays for the grace period at least: GPUs the rental holds through an
            // uncharged grace period are always paid for (a top-up that resumes obeys the same).
            deposit = p.deposit;
            uint256 minimum = unitPrice * RentalMath.graceUnits(p.plan, _config.gracePeriod);
            if (deposit < minimum) revert RentalEscrow_DepositBelowGrace(deposit, minimum);
        }
        _checkDeposit(deposit, p.plan == Plan.Saving ? 0 : unitPrice);
    }

    /// @dev The GPU class of `nodeId`: cached, or read from the registry's `getNode` without decoding
    /// the whole node (its ABI encoding is a head offset, then `provider`, then `gpuClass`) and cached.
    function _gpuClassOf(uint256 nodeId) internal returns (uint256 gpuClass) {
        uint256 cached = _nodeClass[nodeId];
        if (cached != 0) return cached - 1;
        address target = registry;
        bytes4 selector = INodeRegistry.getNode.selector;
        assembly ("memory-safe") {
            mstore(0, selector)
            mstore(4, nodeId)
            if iszero(staticcall(gas(), target, 0, 0x24, 0, 0)) {
                revert(0, 0)
            }
            returndatacopy(0, 0x40, 0x20)
            gpuClass := mload(0)
        }
        _nodeClass[nodeId] = gpuClass + 1;
    }

    /// @dev Deposits fit 96 bits, and the units they buy fit the 32-bit withdrawal counter.
    function _checkDeposit(uint256 deposit, uint256 unitPrice) internal pure {
        uint256 max = type(uint96).max;
        if (unitPrice != 0 && max / unitPrice > type(uint32).max) max = unitPrice * type(uint32).max;
        if (deposit > max) revert RentalEscrow_AmountTooLarge(deposit, max);
    }

    function _emitOpenRental(uint256 rentalId, RentParams calldata p, uint256 unitPrice, uint256 deposit) internal {
        emit OpenRental(
            rentalId,
            msg.sender,
            p.nodeId,
            p.token,
            p.plan,
            p.gpus,
            unitPrice,
            deposit,
            p.termDays,
            p.slaTier
        );
    }

    /// @dev Applies the caller's EIP-2612 permit of `amount` to this escrow. A permit that fails (most
    /// often: someone front-ran it, so its nonce is spent and the allowance already set) is no error
    /// as long as the allowance covers `amount` (OpenZeppelin's recommended pattern).
    function _permit(address token, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) internal {
        // solhint-disable-next-line no-empty-blocks
        try IERC20Permit(token).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {
            uint256 allowance = IERC20(token).allowance(msg.sender, address(this));
            if (allowance < amount) revert RentalEscrow_PermitFailed(token, allowance, amount);
        }
    }

    /// @dev Pulls `amount` of `token` from the caller, refusing tokens that deliver less.
    function _pull(address token, uint256 amount) internal {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert RentalEscrow_FeeOnTransfer(token, amount, received);
    }

    /// @dev Marks what the provider can take from `r` now as withdrawn and returns it (gross).
    function _collect(Rental storage r) internal returns (uint256 amount) {
        if (r.status == RentalStatus.Closed) {
            amount = r.amount;
            if (amount != 0) r.amount = 0;
            return amount;
        }
        uint256 units;
        (units, amount) = _pending(r);
        if (amount != 0) r.withdrawnUnits = uint32(units);
    }

    /// @dev For an open rental: units the provider may take now and their value not yet withdrawn.
    function _pending(Rental storage r) internal view returns (uint256 units, uint256 amount) {
        Plan plan = r.plan;
        uint256 unitPrice = r.unitPrice;
        uint256 deposit = r.amount;
        units = _takeableUnits(r, plan, unitPrice, deposit);
        amount =
            RentalMath.valueOf(plan, unitPrice, deposit, units) -
            RentalMath.valueOf(plan, unitPrice, deposit, r.withdrawnUnits);
    }

    /// @dev `RentalMath.takeableUnits` of an open rental now (saving plans read their penalty).
    function _takeableUnits(
        Rental storage r,
        Plan plan,
        uint256 unitPrice,
        uint256 deposit
    ) internal view returns (uint256) {
        // Pay-as-you-go and hourly hold nothing back: skip the saving plan's math (withdrawals loop here).
        if (plan != Plan.Saving) return RentalMath.earnedUnits(plan, r.anchor, unitPrice, deposit, block.timestamp);
        uint256 penaltyBps = _terms[r.termsVersion].earlyExitPenaltyBps;
        return RentalMath.takeableUnits(plan, r.anchor, unitPrice, deposit, block.timestamp, penaltyBps);
    }

    /// @dev Fixes the provider/renter split of `r`, releases its GPUs and pays the refund.
    function _close(uint256 rentalId, Rental storage r, CloseReason reason) internal {
        (uint256 providerAmount, uint256 refund, uint256 penalty, uint256 units) = _split(r, reason);
        Plan plan = r.plan;
        // Of `providerAmount` it has already withdrawn (or seen credited to the renter) the value of
        // `withdrawnUnits`; a penalty it owes the renter was held back from that (`takeableUnits`).
        uint256 withdrawnUnits = r.withdrawnUnits;
        uint256 withdrawn = RentalMath.valueOf(plan, r.unitPrice, r.amount, withdrawnUnits);
        if (plan == Plan.Saving && reason == CloseReason.ProviderSlashed) {
            // A slashed provider's saving plan is refunded in full: the provider keeps only what it
            // has already taken, and the rental served only that.
            refund += providerAmount - withdrawn;
            providerAmount = withdrawn;
            units = withdrawnUnits;
        }
        // Effect: from here `amount` is what the provider has still to withdraw (gross), and
        // `withdrawnUnits` the units the rental paid for in all.
        r.amount = uint96(providerAmount - withdrawn);
        r.withdrawnUnits = uint32(units);
        r.status = RentalStatus.Closed;
        r.closeReason = reason;
        INodeRegistry(registry).releaseGpus(r.nodeId, r.gpus, plan == Plan.Saving);
        emit CloseRental(rentalId, reason, msg.sender, providerAmount, refund, penalty);

        // Interaction: pay the renter. A renter ending its own rental takes the refund or reverts;
        // anyone else's close must not be blocked by a renter that refuses tokens.
        if (refund == 0) return;
        address token = _tokenAt[r.tokenIndex];
        address renter = r.renter;
        if (reason == CloseReason.Renter) {
            IERC20(token).safeTransfer(renter, refund);
        } else if (!IERC20(token).trySafeTransfer(renter, refund)) {
            refundCredit[renter][token] += refund;
            emit CreditRefund(rentalId, renter, token, refund);
        }
    }

    /// @dev Split of an open rental closed now for `reason`: the provider's gross total (earned plus
    /// the early-exit penalty a renter pays, or minus the one the provider pays), the renter's
    /// refund, the penalty and the units earned. A provider pays at most what the rental earned.
    function _split(
        Rental storage r,
        CloseReason reason
    ) internal view returns (uint256 providerAmount, uint256 refund, uint256 penalty, uint256 units) {
        Plan plan = r.plan;
        uint256 unitPrice = r.unitPrice;
        uint256 deposit = r.amount;
        units = RentalMath.earnedUnits(plan, r.anchor, unitPrice, deposit, block.timestamp);
        uint256 earnedNow = RentalMath.valueOf(plan, unitPrice, deposit, units);
        uint256 unused = deposit - earnedNow;
        if (plan == Plan.Saving && (reason == CloseReason.Renter || reason == CloseReason.Provider)) {
            penalty = RentalMath.bpsOf(unused, _terms[r.termsVersion].earlyExitPenaltyBps);
        }
        if (reason == CloseReason.Provider) {
            if (penalty > earnedNow) penalty = earnedNow;
            return (earnedNow - penalty, unused + penalty, penalty, units);
        }
        providerAmount = earnedNow + penalty;
        refund = unused - penalty;
    }

    /// @dev Start and end of the time `r` paid for: earned so far if open, in all if closed.
    function _serviceWindow(Rental storage r, RentalStatus status) internal view returns (uint256 start, uint256 end) {
        Plan plan = r.plan;
        start = r.anchor;
        uint256 units =
            status == RentalStatus.Closed
                ? r.withdrawnUnits
                : RentalMath.earnedUnits(plan, start, r.unitPrice, r.amount, block.timestamp);
        end = start + units * RentalMath.unitSeconds(plan);
    }

    /// @dev What the renter of `r` paid for its service inside `[from, to)`. Every plan's unit price
    /// is per second (PAYG) or per hour (Hourly, and Saving whose deposit is exactly unitPrice x hours).
    function _paidWithin(
        Rental storage r,
        RentalStatus status,
        uint256 from,
        uint256 to
    ) internal view returns (uint256 paid) {
        (uint256 start, uint256 end) = _serviceWindow(r, status);
        if (start < from) start = from;
        if (end > to) end = to;
        if (end <= start) return 0;
        paid = r.unitPrice * (end - start);
        if (r.plan != Plan.PayAsYouGo) paid /= RentalMath.HOUR;
    }

    /// @dev Moves up to `credit` of the provider's unwithdrawn earnings on `r` to the renter's side
    /// of the ledger and returns the amount moved. Open rentals move whole earned units (their value
    /// at most `credit`), so the unit ledger stays exact.
    function _takeEarnings(Rental storage r, RentalStatus status, uint256 credit) internal returns (uint256 taken) {
        if (status == RentalStatus.Closed) {
            uint256 owed = r.amount;
            taken = credit < owed ? credit : owed;
            if (taken != 0) r.amount = uint96(owed - taken);
            return taken;
        }
        Plan plan = r.plan;
        uint256 unitPrice = r.unitPrice;
        uint256 deposit = r.amount;
        uint256 withdrawnUnits = r.withdrawnUnits;
        // A saving plan's hold-back is the renter's if the provider ends early: credits leave it too.
        uint256 earned = _takeableUnits(r, plan, unitPrice, deposit);
        if (earned <= withdrawnUnits) return 0;
        uint256 withdrawnValue = RentalMath.valueOf(plan, unitPrice, deposit, withdrawnUnits);
        uint256 units;
        if (plan == Plan.Saving) {
            // The most units whose value (rounded down, as `valueOf` does) stays within the credit.
            uint256 total = RentalMath.totalUnits(plan, unitPrice, deposit);
            units = ((withdrawnValue + credit + 1) * total - 1) / deposit;
        } else {
            units = withdrawnUnits + credit / unitPrice;
        }
        if (units > earned) units = earned;
        taken = RentalMath.valueOf(plan, unitPrice, deposit, units) - withdrawnValue;
        if (taken != 0) r.withdrawnUnits = uint32(units);
    }

    /// @dev Credit (bps) the schedule gives for `uptimeBps` against `targetBps`; 0 if no breach.
    function _slaCreditBps(uint256 targetBps, uint256 uptimeBps) internal view returns (uint256 creditBps) {
        if (targetBps == 0 || uptimeBps >= targetBps) return 0;
        uint256 shortfall = targetBps - uptimeBps;
        uint256 schedule = _creditSchedule;
        for (uint256 i; i < MAX_CREDIT_STEPS; ++i) {
            uint256 step = schedule >> (32 * i);
            uint256 minShortfall = step & 0xffff;
            // Steps rise: stop at the end of the list or at the first step not reached.
            if (minShortfall == 0 || shortfall < minShortfall) break;
            creditBps = (step >> 16) & 0xffff;
        }
    }

    function _setCreditSchedule(uint256[] memory minShortfallBps, uint256[] memory creditBps) internal {
        uint256 count = minShortfallBps.length;
        if (count == 0 || count > MAX_CREDIT_STEPS) revert RentalEscrow_InvalidCreditSchedule(count);
        if (creditBps.length != count) revert RentalEscrow_InvalidCreditSchedule(creditBps.length);
        uint256 schedule;
        uint256 lastShortfall;
        uint256 lastCredit;
        for (uint256 i; i < count; ++i) {
            uint256 shortfall = minShortfallBps[i];
            uint256 credit = creditBps[i];
            if (shortfall <= lastShortfall || shortfall > BPS || credit < lastCredit || credit == 0 || credit > BPS) {
                revert RentalEscrow_InvalidCreditSchedule(i);
            }
            schedule |= (shortfall | (credit << 16)) << (32 * i);
            (lastShortfall, lastCredit) = (shortfall, credit);
        }
        _creditSchedule = schedule;
        emit SetSlaCreditSchedule(minShortfallBps, creditBps);
    }

    function _closableAt(Rental storage r) internal view returns (uint256) {
        Plan plan = r.plan;
        uint256 until = RentalMath.paidUntil(plan, r.anchor, r.unitPrice, r.amount);
        return plan == Plan.Saving ? until : until + _terms[r.termsVersion].gracePeriod;
    }

    function _openRental(uint256 rentalId) internal view returns (Rental storage r) {
        r = _rentals[rentalId];
        RentalStatus status = r.status;
        if (status == RentalStatus.None) revert RentalEscrow_UnknownRental(rentalId);
        if (status == RentalStatus.Closed) revert RentalEscrow_RentalClosed(rentalId);
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
