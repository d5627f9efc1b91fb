// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockERC20} from "./MockERC20.sol";

/// @notice Receives ERC-777-style hooks.
interface ITokenHook {
    function onTokenTransfer(address from, address to, uint256 amount) external;
}

/// @notice An ERC-777-like token: calls `onTokenTransfer` on the sender and the recipient when they
/// registered a hook, giving them a chance to re-enter whoever moves the tokens.
contract MockHookToken is MockERC20 {
    mapping(address => bool) public hooked;

    constructor() MockERC20("Hook Token", "HOOK", 18) {}

    function setHooked(address account, bool on) external {
        hooked[account] = on;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from != address(0) && hooked[from]) ITokenHook(from).onTokenTransfer(from, to, value);
        if (to != address(0) && hooked[to]) ITokenHook(to).onTokenTransfer(from, to, value);
    }
}

/// @notice An attacker that re-enters a target with a prepared call when a hook fires, and records
/// whether the re-entry failed.
contract ReentrancyAttacker is ITokenHook {
    address public victim;
    bytes public reentryCall;
    bool public armed;
    bool public reentryFailed;
    bytes public reentryError;

    function arm(address target_, bytes calldata call_) external {
        victim = target_;
        reentryCall = call_;
        armed = true;
    }

    /// @notice Runs any call as this contract (to rent, approve, end...).
    function execute(address to, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    function onTokenTransfer(address, address, uint256) external {
        if (!armed) return;
        armed = false;
        (bool ok, bytes memory err) = victim.call(reentryCall);
        reentryFailed = !ok;
        reentryError = err;
        // Propagate so that a successful re-entry cannot hide: tests assert on the revert.
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(err, 32), mload(err))
            }
        }
    }
}

/// @notice A contract that refuses every ETH transfer and cannot receive hooks: a provider or
/// renter that "reverts on receipt" when used with MockBlocklistToken.
contract MockRevertingReceiver {
    function execute(address to, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }
}
