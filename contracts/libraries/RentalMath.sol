// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Plan} from "../types/DataTypes.sol";

/// @title RentalMath
/// @notice Pure math of the rental escrow. Earnings are counted in units:
/// - PayAsYouGo and Hourly: the deposit buys whole billing units (a second, an hour) at
///   `unitPrice`; a unit is charged when it starts; what cannot buy a whole unit stays the renter's.
/// - Saving: the prepaid deposit streams linearly over the term; a unit is a second of the term.
/// Counting units (not amounts) lets the escrow record provider withdrawals in 32 bits.
/// @dev Mirrored by `offchain/src/rentalMath.ts`; the two are checked against each other.
library RentalMath {
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
}
