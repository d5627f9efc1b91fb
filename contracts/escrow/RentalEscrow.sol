// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IRentalEscrow} from "../interfaces/IRentalEscrow.sol";
import {INodeRegistry} from "../interfaces/INodeRegistry.sol";
import {RentalMath} from "../libraries/RentalMath.sol";
import {SlaMath} from "../libraries/SlaMath.sol";
import {Plan, Rental, RentalStatus, CloseReason, RentParams} from "../types/DataTypes.sol";
import {RentalEscrowConfig} from "./RentalEscrowConfig.sol";

/// @title RentalEscrow
/// @notice Rental escrow for GPU time: rentals, their money and SLA credits. Settings, storage and
/// governance live in `RentalEscrowConfig`; the math in `RentalMath` and `SlaMath`. See `IRentalEscrow`.
contract RentalEscrow is RentalEscrowConfig, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @param registry_ The node registry (this escrow needs its `ESCROW_ROLE`).
    /// @param admin Receives `DEFAULT_ADMIN_ROLE` (the timelock in deployments).
    /// @param treasury_ Receives the treasury's part of protocol fees.
    /// @param rewardPool_ Receives the reward pools' part of protocol fees.
    constructor(
        address registry_,
        address admin,
        address treasury_,
        address rewardPool_
    ) RentalEscrowConfig(registry_, admin, treasury_, rewardPool_) {}

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
        RentalMath.checkDeposit(deposit, unitPrice);
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
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IRentalEscrow
    function getRental(uint256 rentalId) external view returns (Rental memory) {
        return _rentals[rentalId];
    }

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

    function serviceWindow(uint256 rentalId) external view returns (uint256 start, uint256 end) {
        Rental storage r = _rentals[rentalId];
        RentalStatus status = r.status;
        if (status == RentalStatus.None) revert RentalEscrow_UnknownRental(rentalId);
        return _serviceWindow(r, status);
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNAL                              */
    /* ------------------------------------------------------------------ */

    /// @dev Unit price and deposit of a new rental at `price` per GPU-hour (`RentalMath.quote`).
    function _quote(RentParams calldata p, uint256 price) internal view returns (uint256 unitPrice, uint256 deposit) {
        Plan plan = p.plan;
        // The discount is read for saving plans only (others ignore it).
        uint256 discountBps = plan == Plan.Saving ? _savingDiscountBps[p.termDays] : 0;
        return RentalMath.quote(plan, price, p.gpus, p.deposit, p.termDays, discountBps, _config.gracePeriod);
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
        bool closed = status == RentalStatus.Closed;
        return
            SlaMath.serviceWindow(r.plan, r.anchor, r.unitPrice, r.amount, r.withdrawnUnits, closed, block.timestamp);
    }

    /// @dev What the renter of `r` paid for its service inside `[from, to)`.
    function _paidWithin(
        Rental storage r,
        RentalStatus status,
        uint256 from,
        uint256 to
    ) internal view returns (uint256 paid) {
        (uint256 start, uint256 end) = _serviceWindow(r, status);
        return SlaMath.paidInWindow(r.plan, r.unitPrice, start, end, from, to);
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

    function _closableAt(Rental storage r) internal view returns (uint256) {
        Plan plan = r.plan;
        // Saving plans end with their term: no grace period to read.
        uint256 grace = plan == Plan.Saving ? 0 : _terms[r.termsVersion].gracePeriod;
        return RentalMath.closableAt(plan, r.anchor, r.unitPrice, r.amount, grace);
    }

    function _openRental(uint256 rentalId) internal view returns (Rental storage r) {
        r = _rentals[rentalId];
        RentalStatus status = r.status;
        if (status == RentalStatus.None) revert RentalEscrow_UnknownRental(rentalId);
        if (status == RentalStatus.Closed) revert RentalEscrow_RentalClosed(rentalId);
    }
}
