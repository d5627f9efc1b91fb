// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IRewardDistributor, RewardLeaf, RewardClaim, VestingPosition} from "../interfaces/IRewardDistributor.sol";
import {IReportOracle} from "../interfaces/IReportOracle.sol";

/// @title RewardDistributor
/// @notice Merkle claims of epoch rewards, with vesting. See `IRewardDistributor`.
contract RewardDistributor is IRewardDistributor, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 internal constant BPS = 10_000;

    /// @notice The KAI token paid out.
    IERC20 public immutable kai;
    /// @notice The oracle whose accepted roots and budgets the claims follow.
    IReportOracle public immutable oracle;

    /// @inheritdoc IRewardDistributor
    uint256 public reserve;
    mapping(uint256 epoch => uint256 amount) internal _claimed;
    /// @dev One bit per (epoch, kind, subject): node ids share words (256 per word), so most claims
    /// flip a bit in a word already written instead of filling a fresh slot.
    mapping(uint256 epoch => mapping(uint256 kind => mapping(uint256 word => uint256 bits))) internal _claimedBits;
    /// @dev Positions are per owner and day: claims of one day add to one position (one slot
    /// written, not a fresh one per claim); `_days` lists each owner's position days in order.
    mapping(address owner => mapping(uint256 day => uint256 amount)) internal _vesting;
    mapping(address owner => uint256[] positionDays) internal _days;

    /// @param kai_ The KAI token.
    /// @param oracle_ The report oracle.
    constructor(IERC20 kai_, IReportOracle oracle_) {
        if (address(kai_) == address(0) || address(oracle_) == address(0)) revert RewardDistributor_ZeroAddress();
        kai = kai_;
        oracle = oracle_;
    }

    /// @inheritdoc IRewardDistributor
    function fundReserve(uint256 amount) external nonReentrant {
        if (amount == 0) revert RewardDistributor_ZeroAmount();
        reserve += amount;
        emit FundReserve(msg.sender, amount);
        kai.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IRewardDistributor
    function claim(address beneficiary, RewardClaim[] calldata claims) external nonReentrant returns (uint256 day) {
        if (beneficiary == address(0)) revert RewardDistributor_ZeroAddress();
        uint256 total;
        // Claims of one epoch come together: fetch its root and budget once per run.
        uint256 epoch;
        bytes32 root;
        uint256 budget;
        for (uint256 i; i < claims.length; ++i) {
            RewardLeaf calldata leaf = claims[i].leaf;
            if (leaf.account != beneficiary) revert RewardDistributor_WrongBeneficiary(beneficiary, leaf.account);
            if (i == 0 || leaf.epoch != epoch) {
                epoch = leaf.epoch;
                (root, budget) = oracle.rootAndBudget(epoch);
                if (root == bytes32(0)) revert RewardDistributor_NoReport(epoch);
            }
            total += _claimLeaf(leaf, claims[i].proof, root, budget);
        }
        if (total == 0) revert RewardDistributor_NothingToClaim();
        uint256 available = reserve;
        if (total > available) revert RewardDistributor_InsufficientReserve(total, available);
        reserve = available - total;
        day = block.timestamp / 1 days;
        uint256 vesting = _vesting[beneficiary][day];
        if (vesting == 0) {
            // Days only grow, so a repeat can only be the last entry.
            uint256[] storage days_ = _days[beneficiary];
            if (days_.length == 0 || days_[days_.length - 1] != day) days_.push(day);
        }
        _vesting[beneficiary][day] = vesting + total;
        emit Claim(beneficiary, day, total, claims.length);
    }

    /// @dev Verifies one leaf against `root`, marks it claimed and counts it against the budget.
    function _claimLeaf(
        RewardLeaf calldata leaf,
        bytes32[] calldata proof,
        bytes32 root,
        uint256 budget
    ) internal returns (uint256 amount) {
        uint256 epoch = leaf.epoch;
        if (leaf.kind > 1) revert RewardDistributor_InvalidKind(leaf.kind);
        bytes32 hash = _leafHash(leaf);
        if (!MerkleProof.verifyCalldata(proof, root, hash)) {
            revert RewardDistributor_InvalidProof(epoch, leaf.account, leaf.id);
        }
        // One payment per node (or checker) and epoch, even if a bad root held two leaves for it.
        uint256 subject = leaf.kind == 0 ? leaf.id : uint256(uint160(leaf.account));
        mapping(uint256 word => uint256 bits) storage bitsOf = _claimedBits[epoch][leaf.kind];
        uint256 bits = bitsOf[subject >> 8];
        uint256 bit = 1 << (subject & 0xff);
        if (bits & bit != 0) revert RewardDistributor_AlreadyClaimed(epoch, leaf.kind, subject);
        amount = leaf.capacityReward + leaf.deliveryReward + leaf.checkerReward;
        uint256 claimed = _claimed[epoch] + amount;
        // Whatever the root says, an epoch never pays more than its budget.
        if (claimed > budget) revert RewardDistributor_BudgetExceeded(epoch, claimed, budget);
        bitsOf[subject >> 8] = bits | bit;
        _claimed[epoch] = claimed;
        emit ClaimLeaf(epoch, hash, leaf.account, amount);
    }

    /// @inheritdoc IRewardDistributor
    function withdrawVested(uint256 day) external nonReentrant returns (uint256 paid) {
        uint256 amount = _vesting[msg.sender][day];
        if (amount == 0) revert RewardDistributor_UnknownPosition(msg.sender, day);
        // The position's clock starts when its day (UTC) ends, so that no claim of the day vests
        // early: a claim at 23:59 and one at 00:01 both wait the full steps (the latter up to a day more).
        uint256 opened = (day + 1) * 1 days;
        paid = (amount * vestedBps(block.timestamp > opened ? block.timestamp - opened : 0)) / BPS;
        uint256 forfeited = amount - paid;
        _vesting[msg.sender][day] = 0;
        reserve += forfeited;
        emit WithdrawVested(msg.sender, day, paid, forfeited);
        kai.safeTransfer(msg.sender, paid);
    }

    /// @inheritdoc IRewardDistributor
    function vestedBps(uint256 age) public pure returns (uint256) {
        if (age < 30 days) return 2_500;
        if (age < 90 days) return 5_000;
        if (age < 180 days) return 7_500;
        return BPS;
    }

    /// @inheritdoc IRewardDistributor
    function leafHash(RewardLeaf calldata leaf) external pure returns (bytes32) {
        return _leafHash(leaf);
    }

    /// @inheritdoc IRewardDistributor
    function claimedOf(uint256 epoch) external view returns (uint256) {
        return _claimed[epoch];
    }

    /// @inheritdoc IRewardDistributor
    function isClaimed(uint256 epoch, uint8 kind, uint256 subject) external view returns (bool) {
        return _claimedBits[epoch][kind][subject >> 8] & (1 << (subject & 0xff)) != 0;
    }

    /// @inheritdoc IRewardDistributor
    function positionsOf(address owner) external view returns (VestingPosition[] memory positions) {
        uint256[] storage days_ = _days[owner];
        positions = new VestingPosition[](days_.length);
        for (uint256 i; i < days_.length; ++i) {
            positions[i] = VestingPosition({day: days_[i], amount: _vesting[owner][days_[i]]});
        }
    }

    /// @dev StandardMerkleTree's leaf: keccak256(bytes.concat(keccak256(abi.encode(fields...)))).
    /// Double hashing keeps an inner node (64 bytes) from passing as a leaf.
    function _leafHash(RewardLeaf calldata leaf) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(leaf))));
    }
}
