// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title KaisarTimelock
/// @notice The admin of every Kaisar contract: governance proposes, waits `minDelay`, executes.
/// @dev OpenZeppelin's TimelockController as is; named here so deployments get an artifact.
contract KaisarTimelock is TimelockController {
    /// @param minDelay Seconds an operation waits between scheduling and execution.
    /// @param proposers May schedule and cancel operations.
    /// @param executors May execute ready operations (the zero address: anyone).
    /// @param admin Optional bootstrap admin (the zero address in deployments).
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}
}
