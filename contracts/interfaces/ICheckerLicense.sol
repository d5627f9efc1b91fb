// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ICheckerLicense
/// @notice Checker licenses: an ERC-721 capped at 29,998. The owner of a license delegates it to
/// an operator key (the machine that signs checker reports) and may take it back; a transfer takes
/// it back too. Each license counts once: an operator's weight is the number of unsuspended
/// licenses delegated to it. The oracle suspends the licenses of an operator caught equivocating,
/// including those that left it before the proof landed: when a license leaves an operator
/// (undelegated, switched to another operator, or taken back by a transfer), it records that former
/// operator and the time it left, and cannot leave an operator again for `departureCooldown`
/// seconds (a switch, an undelegate or a transfer of the license while delegated reverts), so that
/// the record stays in place for that long: hopping through other keys cannot launder it. A license
/// with no operator can always be delegated and transferred.
interface ICheckerLicense {
    /// @notice The supply cap (29,998) would be exceeded by minting `count` more (`minted` so far).
    error CheckerLicense_SupplyCapReached(uint256 minted, uint256 count);
    /// @notice The caller is not the owner of license `tokenId`.
    error CheckerLicense_NotLicenseOwner(uint256 tokenId, address caller);
    /// @notice License `tokenId` is already delegated to `operator`.
    error CheckerLicense_AlreadyDelegated(uint256 tokenId, address operator);
    /// @notice License `tokenId` is not delegated.
    error CheckerLicense_NotDelegated(uint256 tokenId);
    /// @notice License `tokenId` is suspended and cannot be delegated.
    error CheckerLicense_Suspended(uint256 tokenId);
    /// @notice License `tokenId` is not suspended.
    error CheckerLicense_NotSuspended(uint256 tokenId);
    /// @notice An address argument was the zero address.
    error CheckerLicense_ZeroAddress();
    /// @notice An amount was zero.
    error CheckerLicense_ZeroAmount();
    /// @notice License `tokenId` left an operator less than `departureCooldown` ago: it cannot leave
    /// its operator again (switch, undelegate, or a transfer that takes it back) before `readyAt`.
    error CheckerLicense_DepartureCooldown(uint256 tokenId, uint256 readyAt);
    /// @notice A governance parameter is outside `[min, max]`.
    error CheckerLicense_ParameterOutOfBounds(string name, uint256 value, uint256 min, uint256 max);

    /// @notice The owner of `tokenId` delegated it to `operator`.
    event Delegate(uint256 indexed tokenId, address indexed owner, address indexed operator);
    /// @notice License `tokenId` is no longer delegated to `operator` (by the owner, or a transfer).
    event Undelegate(uint256 indexed tokenId, address indexed operator);
    /// @notice License `tokenId` was suspended (`true`) or reinstated; `evidence` says why.
    event SetSuspended(uint256 indexed tokenId, bool suspended, bytes32 evidence);
    /// @notice Governance set the departure cooldown, in seconds.
    event SetDepartureCooldown(uint256 cooldown);

    /// @notice Mints `count` licenses to `to`. Only `MINTER_ROLE`.
    /// @return firstId The id of the first license minted (ids start at 1).
    function mint(address to, uint256 count) external returns (uint256 firstId);

    /// @notice Delegates license `tokenId` to `operator` (replacing any earlier operator). Only the owner.
    /// @dev Replacing an earlier operator is a departure from it: it is recorded (`departureOf`) and
    /// reverts with `CheckerLicense_DepartureCooldown` within `departureCooldown` of the license's
    /// last departure. A license with no operator can always be delegated. Emits `Undelegate` for
    /// the earlier operator, if any, then `Delegate`.
    /// @param tokenId The license.
    /// @param operator The operator key that will sign checker reports with it (not zero).
    function delegate(uint256 tokenId, address operator) external;

    /// @notice Takes license `tokenId` back from its operator. Only the owner.
    /// @dev A departure: recorded (`departureOf`), and refused with `CheckerLicense_DepartureCooldown`
    /// within `departureCooldown` of the license's last departure. Emits `Undelegate`.
    /// @param tokenId The license.
    function undelegate(uint256 tokenId) external;

    /// @notice Suspends license `tokenId`: it stops counting for its operator and cannot be
    /// delegated until reinstated. Only `SUSPENDER_ROLE` (the oracle). Emits `SetSuspended`.
    function suspend(uint256 tokenId, bytes32 evidence) external;

    /// @notice Reinstates a suspended license. Only `DEFAULT_ADMIN_ROLE` (governance). Emits `SetSuspended`.
    function reinstate(uint256 tokenId) external;

    /// @notice Sets how long a license that left an operator must wait before it can leave one again
    /// (the window in which an equivocation proof against the former operator still finds it).
    /// Applies to records already kept too. Only `DEFAULT_ADMIN_ROLE` (governance), 1 to 90 days:
    /// keep it at least the registry's unbonding period. Emits `SetDepartureCooldown`.
    /// @param cooldown Seconds.
    function setDepartureCooldown(uint256 cooldown) external;

    /// @notice The operator license `tokenId` is delegated to (zero if none).
    function operatorOf(uint256 tokenId) external view returns (address);

    /// @notice Whether license `tokenId` is suspended.
    function isSuspended(uint256 tokenId) external view returns (bool);

    /// @notice Number of unsuspended licenses delegated to `operator`: its weight as a checker.
    function licensesOf(address operator) external view returns (uint256);

    /// @notice The last operator license `tokenId` left, and when.
    /// @param tokenId The license.
    /// @return former The operator it last left (zero if it never left one).
    /// @return until Unix seconds it left `former` at (0 if never); it cannot leave an operator again
    /// before `until + departureCooldown()`.
    function departureOf(uint256 tokenId) external view returns (address former, uint256 until);

    /// @notice Seconds a license that left an operator waits before it can leave one again.
    function departureCooldown() external view returns (uint256);

    /// @notice Number of licenses minted so far.
    function totalMinted() external view returns (uint256);
}
