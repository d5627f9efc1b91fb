// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice One leaf of an epoch's reward tree (OpenZeppelin StandardMerkleTree, double-hashed
/// `abi.encode` of these fields in this order). Built by `offchain/src/leaves.ts`.
struct RewardLeaf {
    uint8 kind; // 0 = node (account = provider), 1 = checker (account = operator)
    uint256 epoch;
    address account; // who is paid
    uint256 id; // node id (kind 0), or 0 (kind 1)
    uint256 capacityReward; // KAI units from the capacity pool (uptime)
    uint256 deliveryReward; // KAI units from the delivery pool (delivered GPU-seconds)
    uint256 checkerReward; // KAI units from the checker pool
    bytes32 metricsHash; // keccak256 of the kind's metrics (NodeMetrics or CheckerMetrics)
}

/// @notice Node measurements of an epoch, committed to by a node leaf's `metricsHash`.
struct NodeMetrics {
    uint256 uptimeBps; // attested uptime, 10_000 = 100%
    uint256 bandwidthMbps; // median bandwidth
    uint256 hardwareScore; // PoPW compute score
    uint256 deliveredGpuSeconds; // rented GPU-seconds delivered
    uint256 capacityPoints;
    uint256 deliveryPoints;
    bool hardwareMismatch; // attested hardware differs from what the node registered
    bytes32 evidence; // hash of the samples behind these figures
}

/// @notice A claim of one epoch's leaf.
struct RewardClaim {
    RewardLeaf leaf;
    bytes32[] proof;
}

/// @notice A vesting position: what an owner claimed on one day (UTC), vesting from the end of that day.
struct VestingPosition {
    uint256 day; // Unix day number (timestamp / 1 days): the position's id
    uint256 amount; // KAI units still vesting (0 once withdrawn)
}

/// @title IRewardDistributor
/// @notice Pays epoch rewards by Merkle proof against the root the ReportOracle accepted. A node
/// (or checker) is paid once per epoch; the sum claimed for an epoch never exceeds the oracle's budget for it, whatever
/// the root says. Rewards vest: a claim opens a position that pays 25% if withdrawn within 30
/// days, 50% within 90 days, 75% within 180 days and 100% after; the forfeited part returns to
/// the reserve that governance funds.
interface IRewardDistributor {
    /// @notice Leaf kinds are 0 (node) and 1 (checker).
    error RewardDistributor_InvalidKind(uint8 kind);
    /// @notice Epoch `epoch` has no accepted report.
    error RewardDistributor_NoReport(uint256 epoch);
    /// @notice The proof does not prove this leaf under the epoch's root.
    error RewardDistributor_InvalidProof(uint256 epoch, address account, uint256 id);
    /// @notice The reward of `subject` (node id for kind 0, operator for kind 1) for `epoch` was
    /// already claimed.
    error RewardDistributor_AlreadyClaimed(uint256 epoch, uint8 kind, uint256 subject);
    /// @notice Claims of `epoch` would reach `claimed`, above the epoch budget `budget`.
    error RewardDistributor_BudgetExceeded(uint256 epoch, uint256 claimed, uint256 budget);
    /// @notice The reserve holds `reserve`, less than the `amount` to vest.
    error RewardDistributor_InsufficientReserve(uint256 amount, uint256 reserve);
    /// @notice Every claim in one call must pay `beneficiary`; this one pays `account`.
    error RewardDistributor_WrongBeneficiary(address beneficiary, address account);
    /// @notice The claims pay nothing.
    error RewardDistributor_NothingToClaim();
    /// @notice `owner` has nothing vesting from `day` (never claimed then, or withdrawn).
    error RewardDistributor_UnknownPosition(address owner, uint256 day);
    /// @notice An amount was zero.
    error RewardDistributor_ZeroAmount();
    /// @notice An address argument was the zero address.
    error RewardDistributor_ZeroAddress();

    /// @notice `from` added `amount` KAI to the reward reserve.
    event FundReserve(address indexed from, uint256 amount);
    /// @notice `beneficiary` claimed `amount` KAI over `leaves` leaves into its position of `day`.
    event Claim(address indexed beneficiary, uint256 indexed day, uint256 amount, uint256 leaves);
    /// @notice The leaf `leafHash` of `epoch` was paid `amount`.
    event ClaimLeaf(uint256 indexed epoch, bytes32 indexed leafHash, address indexed account, uint256 amount);
    /// @notice `owner` withdrew its position of `day`: `paid` to it, `forfeited` back to the reserve.
    event WithdrawVested(address indexed owner, uint256 indexed day, uint256 paid, uint256 forfeited);

    /// @notice Adds `amount` KAI from the caller to the reward reserve (approve first). Anyone.
    /// Emits `FundReserve`.
    /// @param amount KAI units.
    function fundReserve(uint256 amount) external;

    /// @notice Claims leaves (of one or many epochs) that all pay `beneficiary`, into its vesting
    /// position of today. Anyone may submit it; the rewards go to the leaves' account.
    /// @dev Emits `ClaimLeaf` per leaf and `Claim`.
    /// @param beneficiary The account every leaf pays.
    /// @param claims Leaves with their proofs, best grouped by epoch.
    /// @return day The position's id: today's Unix day number.
    function claim(address beneficiary, RewardClaim[] calldata claims) external returns (uint256 day);

    /// @notice Withdraws the caller's position of `day` now: the vested share is paid, the rest
    /// returns to the reserve. Emits `WithdrawVested`.
    /// @param day The position's id (the Unix day it was claimed on).
    /// @return paid KAI units sent to the caller.
    function withdrawVested(uint256 day) external returns (uint256 paid);

    /// @notice Share (bps) of a position paid when withdrawn `age` seconds after it opened (a
    /// position of day `d` opens when that UTC day ends, at `(d + 1) * 1 days`): 25% before 30
    /// days, 50% before 90 days, 75% before 180 days, then 100%.
    /// @param age Seconds since the end of the position's day.
    /// @return The share, bps.
    function vestedBps(uint256 age) external pure returns (uint256);

    /// @notice Hash of `leaf` as the tree stores it (double keccak of its ABI encoding).
    /// @param leaf The leaf.
    /// @return The leaf hash.
    function leafHash(RewardLeaf calldata leaf) external pure returns (bytes32);

    /// @notice KAI claimed so far for `epoch`.
    /// @param epoch The epoch.
    /// @return KAI units.
    function claimedOf(uint256 epoch) external view returns (uint256);

    /// @notice Whether the reward of `subject` (node id for kind 0, operator address for kind 1)
    /// for `epoch` was claimed.
    /// @param epoch The epoch.
    /// @param kind 0 (node) or 1 (checker).
    /// @param subject Node id, or the operator address as a uint256.
    /// @return True once claimed.
    function isClaimed(uint256 epoch, uint8 kind, uint256 subject) external view returns (bool);

    /// @notice KAI in the reserve not promised to any position.
    /// @return KAI units.
    function reserve() external view returns (uint256);

    /// @notice Positions of `owner`, oldest first (withdrawn ones have amount 0).
    /// @param owner The beneficiary.
    /// @return The positions.
    function positionsOf(address owner) external view returns (VestingPosition[] memory);
}
