// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
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

    uint256 public constant MAX_FEE_BPS = 2_000; // 20%
    uint256 public constant MAX_PENALTY_BPS = 5_000; // 50%
    uint256 public constant MAX_DISCOUNT_BPS = 5_000; // 50%
    uint256 public constant MIN_GRACE_PERIOD = 5 minutes;
    uint256 public constant MAX_GRACE_PERIOD = 7 days;
    uint256 public constant MIN_SLA_UPTIME_BPS = 5_000; // 50%
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
    }

    /// @dev What `rent` reads and writes, in one slot.
    struct Config {
        uint32 rentalCount; // ids run from 1 to rentalCount
        uint16 termsVersion; // index of the terms new rentals get
        uint16 slaTierCount;
        bool paused;
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
    uint256 internal _tokenCount;
    uint16[] internal _slaTiers;
    mapping(address token => TokenInfo) internal _tokenInfo;
    mapping(uint256 termDays => uint256 discountBps) internal _savingDiscountBps;
    mapping(uint256 rentalId => Rental) internal _rentals;
    /// @inheritdoc IRentalEscrow
    mapping(address token => uint256 amount) public accruedFees;
    /// @inheritdoc IRentalEscrow
    mapping(address renter => mapping(address token => uint256 amount)) public refundCredit;

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
        _slaTiers.push(0); // tier 0: best effort, no SLA
        _config.slaTierCount = 1;
        // Terms v0: 10% fee, 10% early-exit penalty, 1 hour grace.
        _terms[0] = RentalTerms({feeBps: 1_000, earlyExitPenaltyBps: 1_000, gracePeriod: 1 hours});
        emit SetRentalTerms(0, 1_000, 1_000, 1 hours);
    }

    /* ------------------------------------------------------------------ */
    /*                               RENTERS                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IRentalEscrow
    function rent(RentParams calldata p) external nonReentrant returns (uint256 rentalId) {
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
        (uint256 unitPrice, uint256 deposit) = _quote(p, price);

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

        // Interaction: pull the deposit last.
        _pull(p.token, deposit);
    }

    /// @inheritdoc IRentalEscrow
    function topUp(uint256 rentalId, uint256 amount) external whenNotPaused nonReentrant {
        Rental storage r = _openRental(rentalId);
        if (r.renter != msg.sender) revert RentalEscrow_NotRenter(rentalId, msg.sender);
        Plan plan = r.plan;
        if (plan == Plan.Saving) revert RentalEscrow_TopUpNotAllowed(rentalId, plan);
        if (amount == 0) revert RentalEscrow_ZeroAmount();
        // A token disabled since the rental opened still tops up: running rentals are not stranded.
        address token = _tokenAt[r.tokenIndex];

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
            uint256 unit = RentalMath.unitSeconds(plan);
            uint256 minimumUnits = oldDeposit / unitPrice + (gracePeriod + unit - 1) / unit;
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

        _pull(token, amount);
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
        uint256 index = _tokenCount;
        if (index >= MAX_TOKENS) revert RentalEscrow_ParameterOutOfBounds("paymentTokens", index + 1, 1, MAX_TOKENS);
        _tokenAt[index] = token;
        _tokenCount = index + 1;
        _tokenInfo[token] = TokenInfo({index: uint8(index), listed: true, enabled: true});
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
        tier = _slaTiers.length;
        if (tier >= MAX_SLA_TIERS) revert RentalEscrow_ParameterOutOfBounds("slaTiers", tier + 1, 1, MAX_SLA_TIERS);
        _slaTiers.push(uint16(targetUptimeBps));
        _config.slaTierCount = uint16(tier + 1);
        emit AddSlaTier(tier, targetUptimeBps);
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
        (, uint256 refund, ) = _split(r, CloseReason.Renter);
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
        tokens = new address[](_tokenCount);
        for (uint256 i; i < tokens.length; ++i) tokens[i] = _tokenAt[i];
    }

    /// @inheritdoc IRentalEscrow
    function isPaymentTokenEnabled(address token) external view returns (bool) {
        return _tokenInfo[token].enabled;
    }

    /// @inheritdoc IRentalEscrow
    function slaTiers() external view returns (uint16[] memory) {
        return _slaTiers;
    }

    /// @inheritdoc IRentalEscrow
    function savingDiscountBps(uint256 termDays) external view returns (uint256) {
        return _savingDiscountBps[termDays];
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
            deposit = p.deposit;
            if (deposit < unitPrice) revert RentalEscrow_InvalidDeposit(deposit, unitPrice);
        }
        _checkDeposit(deposit, p.plan == Plan.Saving ? 0 : unitPrice);
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

    /// @dev For an open rental: units earned now and the value not yet withdrawn.
    function _pending(Rental storage r) internal view returns (uint256 units, uint256 amount) {
        Plan plan = r.plan;
        uint256 unitPrice = r.unitPrice;
        uint256 deposit = r.amount;
        units = RentalMath.earnedUnits(plan, r.anchor, unitPrice, deposit, block.timestamp);
        amount =
            RentalMath.valueOf(plan, unitPrice, deposit, units) -
            RentalMath.valueOf(plan, unitPrice, deposit, r.withdrawnUnits);
    }

    /// @dev Fixes the provider/renter split of `r`, releases its GPUs and pays the refund.
    function _close(uint256 rentalId, Rental storage r, CloseReason reason) internal {
        (uint256 providerAmount, uint256 refund, uint256 penalty) = _split(r, reason);
        // What it earned is `providerAmount - penalty` (no need to work it out again); of that it
        // has already withdrawn the value of `withdrawnUnits`.
        uint256 withdrawn = RentalMath.valueOf(r.plan, r.unitPrice, r.amount, r.withdrawnUnits);
        // Effect: from here `amount` is what the provider has still to withdraw (gross).
        r.amount = uint96(providerAmount - withdrawn);
        r.status = RentalStatus.Closed;
        r.closeReason = reason;
        Plan plan = r.plan;
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
    /// any early-exit penalty), the renter's refund and the penalty.
    function _split(
        Rental storage r,
        CloseReason reason
    ) internal view returns (uint256 providerAmount, uint256 refund, uint256 penalty) {
        Plan plan = r.plan;
        uint256 unitPrice = r.unitPrice;
        uint256 deposit = r.amount;
        uint256 units = RentalMath.earnedUnits(plan, r.anchor, unitPrice, deposit, block.timestamp);
        uint256 earnedNow = RentalMath.valueOf(plan, unitPrice, deposit, units);
        uint256 unused = deposit - earnedNow;
        if (plan == Plan.Saving && reason == CloseReason.Renter) {
            penalty = RentalMath.bpsOf(unused, _terms[r.termsVersion].earlyExitPenaltyBps);
        }
        providerAmount = earnedNow + penalty;
        refund = unused - penalty;
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
