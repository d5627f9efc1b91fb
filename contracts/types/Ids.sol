// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A node's id in the `NodeRegistry` (1 to `nodeCount`).
/// @dev Typed ids keep a node id and a rental id, side by side in an internal call, from being
/// swapped unnoticed. External functions, events and errors keep `uint256` (the ABI is unchanged):
/// wrap at the entry point, unwrap where an id leaves in an event, an error or a call.
type NodeId is uint256;

/// @notice A rental's id in the `RentalEscrow` (1 to `rentalCount`).
type RentalId is uint256;
