// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RentalEscrow} from "../escrow/RentalEscrow.sol";
import {RentalMath} from "../libraries/RentalMath.sol";
import {Plan, Rental, RentalStatus, CloseReason, RentParams} from "../types/DataTypes.sol";

/// @notice Exposes the escrow's internal money math (`_quote`, `_checkDeposit`, `_split`, `_pending`)
/// and the RentalMath functions `RentalMathHarness` leaves out, for differential tests against
/// `offchain/src/rentalMath.ts`. Call the state-writing helpers with `staticCall`.
contract RentalModelHarness is RentalEscrow {
    /// @dev The registry is never called: `quote` and `split` take the node's price and the rental.
    constructor(address admin) RentalEscrow(admin, admin, admin, admin) {}

    function checkDeposit(uint256 deposit, uint256 unitPrice) external pure {
        RentalMath.checkDeposit(deposit, unitPrice);
    }

    /// @notice `_quote` with the saving discount of `p.termDays` set to `discountBps` (any value) and
    /// the current terms' grace period to `gracePeriod`.
    function quote(
        RentParams calldata p,
        uint256 price,
        uint256 discountBps,
        uint32 gracePeriod
    ) external returns (uint256 unitPrice, uint256 deposit) {
        _savingDiscountBps[p.termDays] = discountBps;
        _config.gracePeriod = gracePeriod;
        return _quote(p, price);
    }

    /// @notice `_split` and `_pending` of an open rental written to the unused id 0, at `block.timestamp`.
    function split(
        Plan plan,
        uint32 anchor,
        uint96 unitPrice,
        uint96 deposit,
        uint32 withdrawnUnits,
        CloseReason reason,
        uint16 penaltyBps
    ) external returns (uint256 providerAmount, uint256 refund, uint256 penalty, uint256 pendingAmount) {
        _terms[0].earlyExitPenaltyBps = penaltyBps;
        Rental storage r = _rentals[0];
        r.plan = plan;
        r.status = RentalStatus.Active;
        r.anchor = anchor;
        r.unitPrice = unitPrice;
        r.amount = deposit;
        r.withdrawnUnits = withdrawnUnits;
        (providerAmount, refund, penalty, ) = _split(r, reason);
        (, pendingAmount) = _pending(r);
    }
}
