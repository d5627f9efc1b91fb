// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ICheckerLicense
/// @notice Checker licenses: an ERC-721 capped at 29,998. The owner of a license delegates it to
/// an operator key (the machine that signs checker reports) and may take it back at any time; a
/// transfer takes it back too. Each license counts once: an operator's weight is the number of
/// unsuspended licenses delegated to it. The oracle suspends the licenses of an operator caught
/// equivocating.
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

    /// @notice The owner of `tokenId` delegated it to `operator`.
    event Delegate(uint256 indexed tokenId, address indexed owner, address indexed operator);
    /// @notice License `tokenId` is no longer delegated to `operator` (by the owner, or a transfer).
    event Undelegate(uint256 indexed tokenId, address indexed operator);
    /// @notice License `tokenId` was suspended (`true`) or reinstated; `evidence` says why.
    event SetSuspended(uint256 indexed tokenId, bool suspended, bytes32 evidence);

    /// @notice Mints `count` licenses to `to`. Only `MINTER_ROLE`.
    /// @return firstId The id of the first license minted (ids start at 1).
    function mint(address to, uint256 count) external returns (uint256 firstId);

    /// @notice Delegates license `tokenId` to `operator` (replacing any earlier operator). Only the owner.
    /// @dev Emits `Undelegate` for the earlier operator, if any, then `Delegate`.
    function delegate(uint256 tokenId, address operator) external;

    /// @notice Takes license `tokenId` back from its operator. Only the owner. Emits `Undelegate`.
    function undelegate(uint256 tokenId) external;

    /// @notice Suspends license `tokenId`: it stops counting for its operator and cannot be
    /// delegated until reinstated. Only `SUSPENDER_ROLE` (the oracle). Emits `SetSuspended`.
    function suspend(uint256 tokenId, bytes32 evidence) external;

    /// @notice Reinstates a suspended license. Only `DEFAULT_ADMIN_ROLE` (governance). Emits `SetSuspended`.
    function reinstate(uint256 tokenId) external;

    /// @notice The operator license `tokenId` is delegated to (zero if none).
    function operatorOf(uint256 tokenId) external view returns (address);

    /// @notice Whether license `tokenId` is suspended.
    function isSuspended(uint256 tokenId) external view returns (bool);

    /// @notice Number of unsuspended licenses delegated to `operator`: its weight as a checker.
    function licensesOf(address operator) external view returns (uint256);

    /// @notice Number of licenses minted so far.
    function totalMinted() external view returns (uint256);
}
