// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RentalMath} from "../libraries/RentalMath.sol";
import {Plan} from "../types/DataTypes.sol";

/// @notice Exposes RentalMath for differential tests against the TypeScript model.
contract RentalMathHarness {
    function earnedUnits(
        Plan plan,
        uint256 anchor,
        uint256 unitPrice,
        uint256 deposit,
        uint256 time
    ) external pure returns (uint256) {
        return RentalMath.earnedUnits(plan, anchor, unitPrice, deposit, time);
    }

    function unitSeconds(Plan plan) external pure returns (uint256) {
        return RentalMath.unitSeconds(plan);
    }

    function totalUnits(Plan plan, uint256 unitPrice, uint256 deposit) external pure returns (uint256) {
        return RentalMath.totalUnits(plan, unitPrice, deposit);
    }

    function takeableUnits(
        Plan plan,
        uint256 anchor,
        uint256 unitPrice,
        uint256 deposit,
        uint256 time,
        uint256 penaltyBps
    ) external pure returns (uint256) {
        return RentalMath.takeableUnits(plan, anchor, unitPrice, deposit, time, penaltyBps);
    }

    function graceUnits(Plan plan, uint256 gracePeriod) external pure returns (uint256) {
        return RentalMath.graceUnits(plan, gracePeriod);
    }

    function valueOf(Plan plan, uint256 unitPrice, uint256 deposit, uint256 units) external pure returns (uint256) {
        return RentalMath.valueOf(plan, unitPrice, deposit, units);
    }

    function paidUntil(Plan plan, uint256 anchor, uint256 unitPrice, uint256 deposit) external pure returns (uint256) {
        return RentalMath.paidUntil(plan, anchor, unitPrice, deposit);
    }

    function bpsOf(uint256 amount, uint256 bps) external pure returns (uint256) {
        return RentalMath.bpsOf(amount, bps);
    }

    function closableAt(
        Plan plan,
        uint256 anchor,
        uint256 unitPrice,
        uint256 deposit,
        uint256 gracePeriod
    ) external pure returns (uint256) {
        return RentalMath.closableAt(plan, anchor, unitPrice, deposit, gracePeriod);
    }
}
