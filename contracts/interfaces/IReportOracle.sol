// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice What checkers sign at the end of an epoch (EIP-712 typed data `Report`).
struct Report {
    uint256 epoch; // epoch number (see `epochStart`)
    uint256 configVersion; // version of the checker set that signs
    bytes32 root; // Merkle root over the epoch's leaves (one per node, one per paid checker)
    uint256 nodeCount; // node leaves in the tree
    uint256 totalReward; // sum of the rewards in all leaves, KAI units
    uint256 totalCapacityPoints;
    uint256 totalDeliveryPoints;
}

/// @title IReportOracle
/// @notice Proof of Physical Work on chain. Governance sets the checker set (operators holding a
/// delegated license and the minimum stake) and a quorum; each set has a version. After an epoch
/// ends, anyone (keepers) submits that epoch's report with EIP-712 signatures of a quorum of
/// distinct operators of the current set. The domain binds the chain id and this contract; the
/// digest binds the epoch and the config version. Two valid signatures by one operator over two
/// different reports of one epoch prove equivocation: anyone may submit them; the operator's stake
/// is slashed, its licenses suspended, and the prover gets a bounty.
/// @dev Signature verification reads no storage per signer: the checker set lives in the code of
/// a data contract (SSTORE2) read once per report.
interface IReportOracle {
    /* ------------------------------------------------------------------ */
    /*                               ERRORS                               */
    /* ------------------------------------------------------------------ */

    /// @notice The checker set is empty or larger than 255.
    error ReportOracle_InvalidCheckerCount(uint256 count);
    /// @notice Operators must be sorted ascending with no duplicates; the one at `index` is not.
    error ReportOracle_UnsortedOrDuplicateOperator(uint256 index, address operator);
    /// @notice An operator is the zero address.
    error ReportOracle_ZeroAddress();
    /// @notice `operator` has no delegated, unsuspended license.
    error ReportOracle_OperatorWithoutLicense(address operator);
    /// @notice `operator` stakes `staked`, below the minimum `minimum`.
    error ReportOracle_OperatorUnderStaked(address operator, uint256 staked, uint256 minimum);
    /// @notice The quorum must exceed 2f, with f = (count - 1) / 3 faults tolerated, and be at most `count`.
    error ReportOracle_InvalidQuorum(uint256 quorum, uint256 count);
    /// @notice The report was signed for config `given`; the current one is `current`.
    error ReportOracle_WrongConfigVersion(uint256 given, uint256 current);
    /// @notice A report for `epoch` was already accepted.
    error ReportOracle_AlreadyProcessed(uint256 epoch);
    /// @notice Epoch `epoch` is older than the last reported epoch `lastEpoch`.
    error ReportOracle_StaleEpoch(uint256 epoch, uint256 lastEpoch);
    /// @notice Epoch `epoch` ends at `endsAt`; it cannot be reported before.
    error ReportOracle_EpochNotEnded(uint256 epoch, uint256 endsAt);
    /// @notice The report's root is zero.
    error ReportOracle_ZeroRoot();
    /// @notice The report's total reward `total` exceeds the epoch's budget `budget`.
    error ReportOracle_RewardAboveBudget(uint256 epoch, uint256 total, uint256 budget);
    /// @notice Signatures must be packed as 66 bytes each (index, r, s, v); got `length` bytes.
    error ReportOracle_InvalidSignatureLength(uint256 length);
    /// @notice `count` signatures are fewer than the quorum `quorum`.
    error ReportOracle_BelowQuorum(uint256 count, uint256 quorum);
    /// @notice Signature `position` has a high `s` (malleable); only low-s signatures are accepted.
    error ReportOracle_MalleableSignature(uint256 position);
    /// @notice Signature `position` does not recover to an address (bad `v` or not a signature).
    error ReportOracle_InvalidSignature(uint256 position);
    /// @notice Signature `position` claims operator index `index`, but recovers to `recovered`.
    error ReportOracle_UnknownSigner(uint256 position, uint256 index, address recovered);
    /// @notice Signer indexes must strictly increase; `index` at `position` repeats or goes back.
    error ReportOracle_DuplicateSigner(uint256 position, uint256 index);
    /// @notice The two reports are for different epochs, or say the same (only the config version
    /// may differ: re-signing a report after a rotation is honest).
    error ReportOracle_NotEquivocation();
    /// @notice The two signatures are not by the same operator (`first`, `second`).
    error ReportOracle_DifferentSigners(address first, address second);
    /// @notice `operator`'s equivocation in `epoch` was already proven.
    error ReportOracle_EquivocationAlreadyProven(address operator, uint256 epoch);
    /// @notice A governance parameter is outside `[min, max]`.
    error ReportOracle_ParameterOutOfBounds(string name, uint256 value, uint256 min, uint256 max);

    /* ------------------------------------------------------------------ */
    /*                               EVENTS                               */
    /* ------------------------------------------------------------------ */

    /// @notice Governance set checker config `version`: `operators` (sorted) and `quorum`.
    event SetCheckerConfig(uint256 indexed version, address[] operators, uint256 quorum, address pointer);
    /// @notice The report of `epoch` was accepted. `signers` has bit i set when operator i signed.
    event SubmitReport(
        uint256 indexed epoch,
        uint256 indexed configVersion,
        bytes32 root,
        uint256 nodeCount,
        uint256 totalReward,
        uint256 signers,
        address submitter
    );
    /// @notice `operator` signed two reports of `epoch`; `slashed` KAI taken, `bounty` to `prover`.
    event ProveEquivocation(
        address indexed operator,
        uint256 indexed epoch,
        bytes32 digestA,
        bytes32 digestB,
        uint256 slashed,
        uint256 bounty,
        address prover
    );
    /// @notice Governance set the minimum checker stake (KAI units).
    event SetMinCheckerStake(uint256 amount);
    /// @notice Governance set the equivocation penalty (KAI units) and the prover's bounty (bps).
    event SetEquivocationPenalty(uint256 amount, uint256 bountyBps);
    /// @notice Governance set the emission schedule: `initial` KAI per epoch, halving every
    /// `halvingEpochs` epochs.
    event SetEmissionSchedule(uint256 initial, uint256 halvingEpochs);

    /* ------------------------------------------------------------------ */
    /*                              FUNCTIONS                             */
    /* ------------------------------------------------------------------ */

    /// @notice Sets the checker set and quorum; increments the config version. Reports signed for
    /// older versions are refused from now on.
    /// @dev Only `CONFIG_ROLE`. Operators sorted ascending, each with a license and the minimum
    /// stake; `2f < quorum <= n` with `f = (n - 1) / 3`. Emits `SetCheckerConfig`.
    function setCheckerConfig(address[] calldata operators, uint256 quorum) external returns (uint256 version);

    /// @notice Accepts the report of an ended epoch, newer than the last reported one.
    /// @dev Anyone. `signatures` packs, per signer in strictly increasing operator index, 66 bytes:
    /// the index (1 byte), r (32), s (32), v (1). Emits `SubmitReport`.
    function submitReport(Report calldata report, bytes calldata signatures) external;

    /// @notice Proves that one operator signed two different reports for one epoch, and punishes it:
    /// slashes up to `equivocationPenalty` of its stake, suspends those of `licenseIds` still
    /// delegated to it (others are skipped), and pays the caller `equivocationBountyBps` of the
    /// slashed amount (nothing if the caller is the operator itself).
    /// @dev Anyone. Each signature is 65 bytes (r, s, v). Once per operator and epoch.
    /// @dev Warning: the checker set's stake is checked when the set is configured; an operator that
    /// unstakes later stays slashable only while its stake is unbonding.
    function proveEquivocation(
        Report calldata a,
        bytes calldata signatureA,
        Report calldata b,
        bytes calldata signatureB,
        uint256[] calldata licenseIds
    ) external;

    /// @notice Sets the minimum KAI stake of a checker operator. Only `DEFAULT_ADMIN_ROLE`.
    function setMinCheckerStake(uint256 amount) external;

    /// @notice Sets the equivocation penalty (KAI units) and the prover's bounty (at most 50%).
    /// Only `DEFAULT_ADMIN_ROLE`.
    function setEquivocationPenalty(uint256 amount, uint256 bountyBps) external;

    /// @notice Sets the emission schedule: `initial` KAI for epoch 0, halving every `halvingEpochs`.
    /// Only `DEFAULT_ADMIN_ROLE`. Applies from the first epoch after the last reported one: the
    /// budget of a reported epoch never changes.
    function setEmissionSchedule(uint256 initial, uint256 halvingEpochs) external;

    /// @notice The latest emission schedule (0, 0 before any).
    function emission() external view returns (uint256 initial, uint256 halvingEpochs);

    /// @notice The reward budget of `epoch` by the emission schedule, KAI units.
    function epochBudget(uint256 epoch) external view returns (uint256);

    /// @notice EIP-712 digest of `report` under this contract's domain (what checkers sign).
    function reportDigest(Report calldata report) external view returns (bytes32);

    /// @notice The current checker set, sorted.
    function checkers() external view returns (address[] memory);

    /// @notice Current config version (0 = none yet), quorum and last reported epoch.
    function config() external view returns (uint256 version, uint256 quorum, uint256 lastEpoch, bool anyReport);

    /// @notice The root of the accepted report of `epoch` (0 if none). The `SubmitReport` event
    /// carries the rest of the report.
    function reportRoot(uint256 epoch) external view returns (bytes32);

    /// @notice The root of `epoch`'s accepted report (0 if none) and its reward budget, in one call.
    function rootAndBudget(uint256 epoch) external view returns (bytes32 root, uint256 budget);

    /// @notice Unix seconds epoch `epoch` starts at.
    function epochStart(uint256 epoch) external view returns (uint256);

    /// @notice The epoch running at `timestamp`.
    function epochAt(uint256 timestamp) external view returns (uint256);
}
