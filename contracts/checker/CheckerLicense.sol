// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {ICheckerLicense} from "../interfaces/ICheckerLicense.sol";

/// @title CheckerLicense
/// @notice Kaisar checker licenses. See `ICheckerLicense`.
contract CheckerLicense is ICheckerLicense, ERC721, AccessControl {
    /// @notice Role that mints licenses (the sale, or governance).
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    /// @notice Role that suspends licenses (the oracle, on proven equivocation).
    bytes32 public constant SUSPENDER_ROLE = keccak256("SUSPENDER_ROLE");

    /// @notice The supply cap.
    uint256 public constant MAX_SUPPLY = 29_998;
    /// @notice Bounds of `departureCooldown`: those of the registry's unbonding period.
    uint256 public constant MIN_DEPARTURE_COOLDOWN = 1 days;
    uint256 public constant MAX_DEPARTURE_COOLDOWN = 90 days;

    /// @dev One slot per license: its operator and whether it is suspended.
    struct LicenseState {
        address operator;
        bool suspended;
    }

    /// @dev The last operator a license left, in one slot. Written only when a license leaves an
    /// operator, never on a first delegation (so that `delegate` stays one slot read).
    struct Departure {
        address former;
        uint40 until; // when it left `former`
    }

    /// @inheritdoc ICheckerLicense
    uint256 public totalMinted;
    mapping(uint256 tokenId => LicenseState) internal _licenses;
    mapping(address operator => uint256 count) internal _licensesOf;
    /// @inheritdoc ICheckerLicense
    /// @dev The registry's default unbonding period: a proof lands in the same window as a slash of
    /// unbonding stake.
    uint256 public departureCooldown = 14 days;
    mapping(uint256 tokenId => Departure) internal _departures;

    /// @param admin Receives `DEFAULT_ADMIN_ROLE` (the timelock in deployments).
    constructor(address admin) ERC721("Kaisar Checker License", "KCL") {
        if (admin == address(0)) revert CheckerLicense_ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc ICheckerLicense
    function mint(address to, uint256 count) external onlyRole(MINTER_ROLE) returns (uint256 firstId) {
        if (count == 0) revert CheckerLicense_ZeroAmount();
        uint256 minted = totalMinted;
        // Written as a subtraction so that a huge `count` cannot overflow past the check.
        if (count > MAX_SUPPLY - minted) revert CheckerLicense_SupplyCapReached(minted, count);
        totalMinted = minted + count;
        firstId = minted + 1;
        for (uint256 id = firstId; id <= minted + count; ++id) _safeMint(to, id);
    }

    /// @inheritdoc ICheckerLicense
    function delegate(uint256 tokenId, address operator) external {
        _checkOwner(tokenId);
        if (operator == address(0)) revert CheckerLicense_ZeroAddress();
        LicenseState storage license = _licenses[tokenId];
        if (license.suspended) revert CheckerLicense_Suspended(tokenId);
        address previous = license.operator;
        if (previous == operator) revert CheckerLicense_AlreadyDelegated(tokenId, operator);
        if (previous != address(0)) {
            _recordDeparture(tokenId, previous);
            --_licensesOf[previous];
            emit Undelegate(tokenId, previous);
        }
        license.operator = operator;
        ++_licensesOf[operator];
        emit Delegate(tokenId, msg.sender, operator);
    }

    /// @inheritdoc ICheckerLicense
    function undelegate(uint256 tokenId) external {
        _checkOwner(tokenId);
        if (_licenses[tokenId].operator == address(0)) revert CheckerLicense_NotDelegated(tokenId);
        _clearOperator(tokenId);
    }

    /// @inheritdoc ICheckerLicense
    function suspend(uint256 tokenId, bytes32 evidence) external onlyRole(SUSPENDER_ROLE) {
        _requireOwned(tokenId);
        LicenseState storage license = _licenses[tokenId];
        if (license.suspended) revert CheckerLicense_Suspended(tokenId);
        license.suspended = true;
        // A suspended license stops counting, but stays delegated so that the record shows who had it.
        if (license.operator != address(0)) --_licensesOf[license.operator];
        emit SetSuspended(tokenId, true, evidence);
    }

    /// @inheritdoc ICheckerLicense
    function reinstate(uint256 tokenId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        LicenseState storage license = _licenses[tokenId];
        if (!license.suspended) revert CheckerLicense_NotSuspended(tokenId);
        license.suspended = false;
        if (license.operator != address(0)) ++_licensesOf[license.operator];
        emit SetSuspended(tokenId, false, bytes32(0));
    }

    /// @inheritdoc ICheckerLicense
    function setDepartureCooldown(uint256 cooldown) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (cooldown < MIN_DEPARTURE_COOLDOWN || cooldown > MAX_DEPARTURE_COOLDOWN) {
            revert CheckerLicense_ParameterOutOfBounds(
                "departureCooldown",
                cooldown,
                MIN_DEPARTURE_COOLDOWN,
                MAX_DEPARTURE_COOLDOWN
            );
        }
        departureCooldown = cooldown;
        emit SetDepartureCooldown(cooldown);
    }

    /// @inheritdoc ICheckerLicense
    function operatorOf(uint256 tokenId) external view returns (address) {
        return _licenses[tokenId].operator;
    }

    /// @inheritdoc ICheckerLicense
    function isSuspended(uint256 tokenId) external view returns (bool) {
        return _licenses[tokenId].suspended;
    }

    /// @inheritdoc ICheckerLicense
    function licensesOf(address operator) external view returns (uint256) {
        return _licensesOf[operator];
    }

    /// @inheritdoc ICheckerLicense
    function departureOf(uint256 tokenId) external view returns (address former, uint256 until) {
        Departure memory d = _departures[tokenId];
        return (d.former, d.until);
    }

    /// @notice ERC-165: ERC-721 and AccessControl interfaces.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    /// @dev A transfer takes the license back from its operator: the new owner delegates anew.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0) && from != to && _licenses[tokenId].operator != address(0)) _clearOperator(tokenId);
    }

    function _clearOperator(uint256 tokenId) internal {
        LicenseState storage license = _licenses[tokenId];
        address operator = license.operator;
        _recordDeparture(tokenId, operator);
        license.operator = address(0);
        if (!license.suspended) --_licensesOf[operator];
        emit Undelegate(tokenId, operator);
    }

    /// @dev Records that `tokenId` leaves `operator` now. Refused within the cooldown of the last
    /// departure: overwriting that record would free the license from a proof against the operator
    /// it left (undelegate from A, delegate to B, undelegate from B: A's record gone).
    function _recordDeparture(uint256 tokenId, address operator) internal {
        Departure storage d = _departures[tokenId];
        uint256 last = d.until;
        if (last != 0) {
            uint256 readyAt = last + departureCooldown;
            if (block.timestamp < readyAt) revert CheckerLicense_DepartureCooldown(tokenId, readyAt);
        }
        d.former = operator;
        // Unix seconds fit 40 bits for 34,000 years.
        d.until = uint40(block.timestamp);
    }

    function _checkOwner(uint256 tokenId) internal view {
        if (_requireOwned(tokenId) != msg.sender) revert CheckerLicense_NotLicenseOwner(tokenId, msg.sender);
    }
}
