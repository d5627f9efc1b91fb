// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IRentalEscrow} from "../interfaces/IRentalEscrow.sol";
import {INodeRegistry} from "../interfaces/INodeRegistry.sol";
import {Rental, ProviderStake, Node} from "../types/DataTypes.sol";

interface IProbedEscrow {
    function accruedFees(address token) external view returns (uint256);
    function refundCredit(address renter, address token) external view returns (uint256);
}

interface IProbedPausable {
    function paused() external view returns (bool);
}

/// @notice Reads everything the money walk's invariants need in one `eth_call` (test only).
contract MoneyWalkProbe {
    struct State {
        uint256 timestamp;
        uint256 blockNumber;
        bool escrowPaused;
        bool registryPaused;
        uint256[] balances; // balances[i * holders.length + j] = tokens[i].balanceOf(holders[j])
        uint256[] accruedFees; // per token
        uint256[] refundCredit; // refundCredit[i * tokens.length + j] = credit of renters[i] in tokens[j]
        Rental[] rentals; // ids 1..rentalCount
        uint256[] withdrawable; // the escrow's views of each rental, at this block
        uint256[] refundable;
        uint256[] paidUntil;
        uint256[] closableAt;
        ProviderStake[] stakes; // per provider
        uint256[] lockedStake; // per provider
        uint256[] rentedGpus; // nodes 1..nodeCount
        uint256[] nodeStatus; // nodes 1..nodeCount
    }

    function read(
        address escrow,
        address registry,
        address[] calldata tokens,
        address[] calldata holders,
        address[] calldata renters,
        address[] calldata providers
    ) external view returns (State memory s) {
        s.timestamp = block.timestamp;
        s.blockNumber = block.number;
        s.escrowPaused = IRentalEscrow(escrow).paused();
        s.registryPaused = IProbedPausable(registry).paused();
        s.balances = new uint256[](tokens.length * holders.length);
        s.accruedFees = new uint256[](tokens.length);
        for (uint256 i; i < tokens.length; ++i) {
            for (uint256 j; j < holders.length; ++j) {
                s.balances[i * holders.length + j] = IERC20(tokens[i]).balanceOf(holders[j]);
            }
            s.accruedFees[i] = IProbedEscrow(escrow).accruedFees(tokens[i]);
        }
        s.refundCredit = new uint256[](renters.length * tokens.length);
        for (uint256 i; i < renters.length; ++i) {
            for (uint256 j; j < tokens.length; ++j) {
                s.refundCredit[i * tokens.length + j] = IProbedEscrow(escrow).refundCredit(renters[i], tokens[j]);
            }
        }
        uint256 rentalCount = IRentalEscrow(escrow).rentalCount();
        s.rentals = new Rental[](rentalCount);
        s.withdrawable = new uint256[](rentalCount);
        s.refundable = new uint256[](rentalCount);
        s.paidUntil = new uint256[](rentalCount);
        s.closableAt = new uint256[](rentalCount);
        for (uint256 i; i < rentalCount; ++i) {
            s.rentals[i] = IRentalEscrow(escrow).getRental(i + 1);
            s.withdrawable[i] = IRentalEscrow(escrow).withdrawable(i + 1);
            s.refundable[i] = IRentalEscrow(escrow).refundable(i + 1);
            s.paidUntil[i] = IRentalEscrow(escrow).paidUntil(i + 1);
            s.closableAt[i] = IRentalEscrow(escrow).closableAt(i + 1);
        }
        s.stakes = new ProviderStake[](providers.length);
        s.lockedStake = new uint256[](providers.length);
        for (uint256 i; i < providers.length; ++i) {
            s.stakes[i] = INodeRegistry(registry).getStake(providers[i]);
            s.lockedStake[i] = INodeRegistry(registry).lockedStake(providers[i]);
        }
        uint256 nodeCount = INodeRegistry(registry).nodeCount();
        s.rentedGpus = new uint256[](nodeCount);
        s.nodeStatus = new uint256[](nodeCount);
        for (uint256 i; i < nodeCount; ++i) {
            Node memory node = INodeRegistry(registry).getNode(i + 1);
            s.rentedGpus[i] = node.rentedGpus;
            s.nodeStatus[i] = uint256(node.status);
        }
    }
}
