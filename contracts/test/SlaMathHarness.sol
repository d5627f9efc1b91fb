// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SlaMath} from "../libraries/SlaMath.sol";
import {Plan} from "../types/DataTypes.sol";

/// @notice Exposes SlaMath for differential tests against `offchain/src/sla.ts`. The schedule goes
/// in as the lists `setSlaCreditSchedule` takes (packed by `SlaMath.packCreditSchedule`).
contract SlaMathHarness {
    function slaCreditBps(
        uint256[] calldata minShortfallBps,
        uint256[] calldata creditBps,
        uint256 targetBps,
        uint256 uptimeBps
    ) external pure returns (uint256) {
        return SlaMath.slaCreditBps(SlaMath.packCreditSchedule(minShortfallBps, creditBps), targetBps, uptimeBps);
    }

    function serviceWindow(
        Plan plan,
        uint256 anchor,
        uint256 unitPrice,
        uint256 amount,
        uint256 withdrawnUnits,
        bool closed,
        uint256 time
    ) external pure returns (uint256 start, uint256 end) {
        return SlaMath.serviceWindow(plan, anchor, unitPrice, amount, withdrawnUnits, closed, time);
    }

    function paidInWindow(
        Plan plan,
        uint256 unitPrice,
        uint256 start,
        uint256 end,
        uint256 from,
        uint256 to
    ) external pure returns (uint256) {
        return SlaMath.paidInWindow(plan, unitPrice, start, end, from, to);
    }

    function kaiValue(uint256 amount, uint256 kaiPerToken) external pure returns (uint256) {
        return SlaMath.kaiValue(amount, kaiPerToken);
    }

    function creditSchedule(
        uint256[] calldata minShortfallBps,
        uint256[] calldata creditBps
    ) external pure returns (uint256[] memory, uint256[] memory) {
        return SlaMath.creditSchedule(SlaMath.packCreditSchedule(minShortfallBps, creditBps));
    }
}
