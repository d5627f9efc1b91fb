// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRentalEscrow} from "../interfaces/IRentalEscrow.sol";
import {Plan} from "../types/DataTypes.sol";
import {RentalMath} from "./RentalMath.sol";

/// @title SlaMath
/// @notice Pure math of SLA credits: the credit schedule (held in one slot), the service window a
/// rental paid for, what it paid inside an epoch, and the KAI value of the part of a credit that
/// falls on the provider's stake.
/// @dev Mirrored one function to one function, same names in the same order, by
/// `offchain/src/sla.ts` (where the schedule is a list of `CreditStep`s, not a packed word).
/// `packCreditSchedule` and `creditSchedule` (last) are the slot's encoding and have no mirror; the mirror's
/// `paidWithin`, `slaCredit` and `nodeEpochProof` read a stored rental or build a proof: they mirror
/// `RentalEscrow._paidWithin`, `RentalEscrow.creditSla` and `SlaEnforcer`'s proof argument.
library SlaMath {
    /// @notice Most steps in a credit schedule (eight of 32 bits fill the slot).
    uint256 internal constant MAX_CREDIT_STEPS = 8;
    /// @notice `kaiPerToken` is KAI units per 1e18 token units.
    uint256 internal constant KAI_RATE_SCALE = 1e18;

    /// @notice Credit (bps) the packed `schedule` gives for `uptimeBps` against `targetBps`; 0 if no
    /// breach or no SLA (target 0).
    function slaCreditBps(
        uint256 schedule,
        uint256 targetBps,
        uint256 uptimeBps
    ) internal pure returns (uint256 creditBps) {
        if (targetBps == 0 || uptimeBps >= targetBps) return 0;
        uint256 shortfall = targetBps - uptimeBps;
        for (uint256 i; i < MAX_CREDIT_STEPS; ++i) {
            uint256 step = schedule >> (32 * i);
            uint256 minShortfall = step & 0xffff;
            // Steps rise: stop at the end of the list or at the first step not reached.
            if (minShortfall == 0 || shortfall < minShortfall) break;
            creditBps = (step >> 16) & 0xffff;
        }
    }

    /// @notice Start and end of the time a rental paid for at `time`: earned so far if open, in all
    /// (`withdrawnUnits` once closed) if `closed`.
    /// @param amount While open: the deposit (unused once closed).
    function serviceWindow(
        Plan plan,
        uint256 anchor,
        uint256 unitPrice,
        uint256 amount,
        uint256 withdrawnUnits,
        bool closed,
        uint256 time
    ) internal pure returns (uint256 start, uint256 end) {
        start = anchor;
        uint256 units = closed ? withdrawnUnits : RentalMath.earnedUnits(plan, anchor, unitPrice, amount, time);
        end = start + units * RentalMath.unitSeconds(plan);
    }

    /// @notice What a rental of `plan` at `unitPrice` paid for the part of its service window
    /// `[start, end)` inside `[from, to)`. Every plan's unit price is per second (PAYG) or per hour
    /// (Hourly, and Saving whose deposit is exactly unitPrice x hours).
    function paidInWindow(
        Plan plan,
        uint256 unitPrice,
        uint256 start,
        uint256 end,
        uint256 from,
        uint256 to
    ) internal pure returns (uint256 paid) {
        if (start < from) start = from;
        if (end > to) end = to;
        if (end <= start) return 0;
        paid = unitPrice * (end - start);
        if (plan != Plan.PayAsYouGo) paid /= RentalMath.HOUR;
    }

    /// @notice KAI units worth `amount` token units at `kaiPerToken` (per 1e18 token units), rounded down.
    function kaiValue(uint256 amount, uint256 kaiPerToken) internal pure returns (uint256) {
        return (amount * kaiPerToken) / KAI_RATE_SCALE;
    }

    /// @notice The schedule in one word: step i is bits [32i, 32i + 16) minimum shortfall and
    /// [32i + 16, 32i + 32) credit, both bps; a zero shortfall ends the list. Reverts
    /// `RentalEscrow_InvalidCreditSchedule(i)` at the first bad step: shortfalls must rise strictly
    /// within (0, 100%], credits rise within (0, 100%]; 1 to 8 steps, both lists of one length.
    function packCreditSchedule(
        uint256[] memory minShortfallBps,
        uint256[] memory creditBps
    ) internal pure returns (uint256 schedule) {
        uint256 count = minShortfallBps.length;
        if (count == 0 || count > MAX_CREDIT_STEPS) revert IRentalEscrow.RentalEscrow_InvalidCreditSchedule(count);
        if (creditBps.length != count) revert IRentalEscrow.RentalEscrow_InvalidCreditSchedule(creditBps.length);
        uint256 lastShortfall;
        uint256 lastCredit;
        for (uint256 i; i < count; ++i) {
            uint256 shortfall = minShortfallBps[i];
            uint256 credit = creditBps[i];
            if (
                shortfall <= lastShortfall ||
                shortfall > RentalMath.BPS ||
                credit < lastCredit ||
                credit == 0 ||
                credit > RentalMath.BPS
            ) revert IRentalEscrow.RentalEscrow_InvalidCreditSchedule(i);
            schedule |= (shortfall | (credit << 16)) << (32 * i);
            (lastShortfall, lastCredit) = (shortfall, credit);
        }
    }

    /// @notice The steps of a packed `schedule`, as `packCreditSchedule` took them.
    function creditSchedule(
        uint256 schedule
    ) internal pure returns (uint256[] memory minShortfallBps, uint256[] memory creditBps) {
        uint256 count;
        while (count < MAX_CREDIT_STEPS && (schedule >> (32 * count)) & 0xffff != 0) ++count;
        minShortfallBps = new uint256[](count);
        creditBps = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            minShortfallBps[i] = (schedule >> (32 * i)) & 0xffff;
            creditBps[i] = (schedule >> (32 * i + 16)) & 0xffff;
        }
    }
}
