// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title KaiToken
/// @notice KAI, Kaisar's ERC-20 with EIP-2612 permit. The whole capped supply of 1,000,000,000 KAI
/// is minted to the treasury at deployment; there is no other mint.
contract KaiToken is ERC20, ERC20Permit, ERC20Capped {
    /// @notice The supply cap, in KAI units (18 decimals).
    uint256 public constant MAX_SUPPLY = 1_000_000_000e18;

    /// @param treasury Receives the whole supply.
    constructor(address treasury) ERC20("Kaisar", "KAI") ERC20Permit("Kaisar") ERC20Capped(MAX_SUPPLY) {
        _mint(treasury, MAX_SUPPLY);
    }

    /// @dev Both parents define `_update`; the capped one enforces the cap on mint.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped) {
        super._update(from, to, value);
    }
}
