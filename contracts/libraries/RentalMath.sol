// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRentalEscrow} from "../interfaces/IRentalEscrow.sol";
import {Plan} from "../types/DataTypes.sol";

/// @title RentalMath
/// @notice Pure math of the rental escrow. Earnings are counted in units:
/// - PayAsYouGo and Hourly: the deposit buys whole billing units (a second, an hour) at
///   `unitPrice`; a unit is charged when it starts; what cannot buy a whole unit stays the renter's.
/// - Saving: the prepaid deposit streams linearly over the term; a unit is a second of the term.
/// Counting units (not amounts) lets the escrow record provider withdrawals in 32 bits.
/// @dev Mirrored one function to one function, same names in the same order, by
/// `offchain/src/rentalMath.ts` (checked against each other by `test/unit/RentalMath.test.ts`). The
/// mirror's `pending` and `split` read a stored rental: they mirror `RentalEscrow._pending` and
/// `_split`, which call in here.
library RentalMath {
    uint256 internal constant UINT32_MAX = type(uint32).max;
    uint256 internal constant UINT96_MAX = type(uint96).max;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant HOUR = 3600;
    uint256 internal constant DAY = 86_400;

    /// @notice Seconds in one billing unit of `plan`.
    function unitSeconds(Plan plan) internal pure returns (uint256) {
        return plan == Plan.Hourly ? HOUR : 1;
    }

    /// @notice Billing units of `plan` that cover `gracePeriod` seconds, rounded up: what a first
    /// deposit, or a top-up that resumes a rental from its grace period, must buy at least.
    function graceUnits(Plan plan, uint256 gracePeriod) internal pure returns (uint256) {
        uint256 unit = unitSeconds(plan);
        return (gracePeriod + unit - 1) / unit;
    }

    /// @notice Units a rental can earn in all: paid units (PAYG, Hourly) or term seconds (Saving,
    /// whose deposit is exactly `unitPrice x 24 x termDays`).
    function totalUnits(Plan plan, uint256 unitPrice, uint256 deposit) internal pure returns (uint256) {
        return plan == Plan.Saving ? (deposit / (unitPrice * 24)) * DAY : deposit / unitPrice;
    }

    /// @notice Unix seconds at which the paid time (or the term) ends.
    /// @param anchor Unix seconds the paid time is measured from.
    function paidUntil(Plan plan, uint256 anchor, uint256 unitPrice, uint256 deposit) internal pure returns (uint256) {
        return anchor + totalUnits(plan, unitPrice, deposit) * unitSeconds(plan);
    }

    /// @notice Units earned by the provider at `time`.
    function earnedUnits(
        Plan plan,
        uint256 anchor,
        uint256 unitPrice,
        uint256 deposit,
        uint256 time
    ) internal pure returns (uint256) {
        if (time <= anchor) return 0;
        uint256 unit = unitSeconds(plan);
        // A unit is charged as soon as it starts.
        uint256 started = (time - anchor + unit - 1) / unit;
        uint256 total = totalUnits(plan, unitPrice, deposit);
        return started < total ? started : total;
    }

    /// @notice Units the provider may have taken (withdrawn or given up as SLA credits) at `time`:
    /// those earned, except that a saving plan holds back the units worth `penaltyBps` of its unused
    /// part, so the compensation owed if the provider ends the plan early is always there. The
    /// hold-back shrinks as the term runs and is 0 at its end; the result never decreases over time.
    function takeableUnits(
        Plan plan,
        uint256 anchor,
        uint256 unitPrice,
        uint256 deposit,
        uint256 time,
        uint256 penaltyBps
    ) internal pure returns (uint256) {
        uint256 units = earnedUnits(plan, anchor, unitPrice, deposit, time);
        if (plan != Plan.Saving) return units;
        uint256 earned = valueOf(plan, unitPrice, deposit, units);
        uint256 held = bpsOf(deposit - earned, penaltyBps);
        if (held == 0) return units;
        if (held >= earned) return 0;
        // The most units whose value (rounded down, as `valueOf` does) stays within `earned - held`.
        uint256 cap = ((earned - held + 1) * totalUnits(plan, unitPrice, deposit) - 1) / deposit;
        return cap < units ? cap : units;
    }

    /// @notice Token value of `units` earned units. Monotone in `units`; all units are worth
    /// `unitPrice x paid units` (PAYG, Hourly) or exactly `deposit` (Saving).
    function valueOf(Plan plan, uint256 unitPrice, uint256 deposit, uint256 units) internal pure returns (uint256) {
        if (plan == Plan.Saving) return (deposit * units) / totalUnits(plan, unitPrice, deposit);
        return unitPrice * units;
    }

    /// @notice `amount * bps / 10_000`, rounded down.
    function bpsOf(uint256 amount, uint256 bps) internal pure returns (uint256) {
        return (amount * bps) / BPS;
    }

    /// @notice Deposits fit 96 bits, and the units they buy fit the 32-bit withdrawal counter.
    function checkDeposit(uint256 deposit, uint256 unitPrice) internal pure {
        uint256 max = UINT96_MAX;
        if (unitPrice != 0 && max / unitPrice > UINT32_MAX) max = unitPrice * UINT32_MAX;
        if (deposit > max) revert IRentalEscrow.RentalEscrow_AmountTooLarge(deposit, max);
    }

    /// @notice The least first deposit of a pay-as-you-go or hourly rental at `unitPrice`: it pays for
    /// `gracePeriod` (0 for Saving, prepaid). GPUs a rental holds through an uncharged grace period are
    /// always paid for (a top-up that resumes a rental obeys the same).
    function minimumDeposit(Plan plan, uint256 unitPrice, uint256 gracePeriod) internal pure returns (uint256) {
        return plan == Plan.Saving ? 0 : unitPrice * graceUnits(plan, gracePeriod);
    }

    /// @notice Unit price and deposit of a new rental at `pricePerGpuHour` for `gpus` GPUs.
    /// @param depositOrZero The renter's deposit (PAYG, Hourly); must be 0 for Saving.
    /// @param termDays Saving: 7, 30 or 90 (the escrow checks it first).
    /// @param savingDiscountBps The discount for `termDays` (ignored unless Saving).
    /// @param gracePeriod The grace period of the current terms (what the least deposit pays for).
    function quote(
        Plan plan,
        uint256 pricePerGpuHour,
        uint256 gpus,
        uint256 depositOrZero,
        uint256 termDays,
        uint256 savingDiscountBps,
        uint256 gracePeriod
    ) internal pure returns (uint256 unitPrice, uint256 deposit) {
        if (pricePerGpuHour > UINT96_MAX) revert IRentalEscrow.RentalEscrow_AmountTooLarge(pricePerGpuHour, UINT96_MAX);
        uint256 perHour = pricePerGpuHour * gpus; // < 2^104 for gpus < 2^8: no overflow
        // Pay-as-you-go: per second, rounded up so that the rate never undercharges the provider.
        unitPrice = plan == Plan.PayAsYouGo ? (perHour + HOUR - 1) / HOUR : perHour;
        if (unitPrice > UINT96_MAX) revert IRentalEscrow.RentalEscrow_AmountTooLarge(unitPrice, UINT96_MAX);
        if (plan == Plan.Saving) {
            if (depositOrZero != 0) revert IRentalEscrow.RentalEscrow_InvalidDeposit(depositOrZero, 0);
            // The discounted hourly price; the deposit is an exact multiple of it (see `Rental`).
            unitPrice = perHour - bpsOf(perHour, savingDiscountBps);
            deposit = unitPrice * 24 * termDays;
        } else {
            deposit = depositOrZero;
            uint256 minimum = minimumDeposit(plan, unitPrice, gracePeriod);
            if (deposit < minimum) revert IRentalEscrow.RentalEscrow_DepositBelowGrace(deposit, minimum);
        }
        checkDeposit(deposit, plan == Plan.Saving ? 0 : unitPrice);
    }

    /// @notice When anyone may close a rental: the end of its term (Saving), or of its paid time plus
    /// `gracePeriod` (PAYG, Hourly).
    function closableAt(
        Plan plan,
        uint256 anchor,
        uint256 unitPrice,
        uint256 deposit,
        uint256 gracePeriod
    ) internal pure returns (uint256) {
        uint256 until = paidUntil(plan, anchor, unitPrice, deposit);
        return plan == Plan.Saving ? until : until + gracePeriod;
    }
}
