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
/// is slashed, its licenses suspended, it leaves the current set, and the prover gets a bounty.
/// An operator of the current set that is no longer active (its last license undelegated or
/// suspended, or its stake below the minimum) can be excluded by anyone (`excludeOperator`): its
/// entry becomes a tombstone (the zero address) and its signatures stop counting, while the others
/// keep their indexes and the config version stays, so reports they signed remain valid. When the
/// live operators fall below the quorum (`CheckerQuorumLost`), reports stall until governance
/// sets a new config.
/// @dev Signature verification reads no storage per signer: the checker set lives in the code of
/// a data contract (SSTORE2) read once per report; an exclusion rewrites that data contract.
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
    /// @notice `operator` was proven to equivocate: its key may never join a checker set again.
    error ReportOracle_OperatorEquivocated(address operator);
    /// @notice Signature `position` claims operator index `index`, whose operator was excluded from
    /// the current set (`excludeOperator`, or a proof of equivocation).
    error ReportOracle_ExcludedSigner(uint256 position, uint256 index);
    /// @notice The current checker set has `count` operators; there is none at `index`.
    error ReportOracle_InvalidOperatorIndex(uint256 index, uint256 count);
    /// @notice The operator at `index` of the current set is already excluded.
    error ReportOracle_OperatorAlreadyExcluded(uint256 index);
    /// @notice `operator`, at `index` of the current set, is still active (a license, the minimum
    /// stake, no proven equivocation): it cannot be excluded.
    error ReportOracle_OperatorActive(uint256 index, address operator);

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
    /// @notice `operator`, at `index` of config `version`, was excluded from the set for `reasons`
    /// (a bitmask of `EXCLUDED_NO_LICENSE` 1, `EXCLUDED_UNDER_STAKED` 2, `EXCLUDED_EQUIVOCATION` 4);
    /// `live` operators remain. `pointer` is the data contract now holding the set.
    event ExcludeOperator(
        uint256 indexed version,
        uint256 indexed index,
        address indexed operator,
        uint256 reasons,
        uint256 live,
        address pointer
    );
    /// @notice Config `version` has `live` operators left, fewer than its `quorum`: no report can
    /// be accepted until governance sets a new config.
    event CheckerQuorumLost(uint256 indexed version, uint256 live, uint256 quorum);
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
    /// stake, none proven to equivocate; `2f < quorum <= n` with `f = (n - 1) / 3`. Emits
    /// `SetCheckerConfig`.
    function setCheckerConfig(address[] calldata operators, uint256 quorum) external returns (uint256 version);

    /// @notice Accepts the report of an ended epoch, newer than the last reported one.
    /// @dev Anyone. `signatures` packs, per signer in strictly increasing operator index, 66 bytes:
    /// the index (1 byte), r (32), s (32), v (1). A signature at an excluded operator's index
    /// reverts with `ReportOracle_ExcludedSigner`. Emits `SubmitReport`.
    function submitReport(Report calldata report, bytes calldata signatures) external;

    /// @notice Excludes the operator at `index` of the current set once it is no longer active: it
    /// holds no delegated, unsuspended license, or its registry stake is below `minCheckerStake`
    /// (an operator proven to equivocate is excluded by the proof itself). Its entry becomes the
    /// zero address; the other operators keep their indexes and the config version does not change,
    /// so reports they signed stay valid. If the live operators fall below the quorum, no report can
    /// be accepted until governance sets a new config (`setCheckerConfig`): `CheckerQuorumLost`
    /// says so, and `liveCheckerCount` shows it.
    /// @dev Anyone (keepers, other checkers). Rewrites the set's data contract. Emits
    /// `ExcludeOperator`, and `CheckerQuorumLost` when the live count drops below the quorum.
    /// @param index The operator's index in `checkers()`.
    /// @return reasons Why: a bitmask of `EXCLUDED_NO_LICENSE` (1) and `EXCLUDED_UNDER_STAKED` (2).
    function excludeOperator(uint256 index) external returns (uint256 reasons);

    /// @notice Proves that one operator signed two different reports for one epoch, and punishes it:
    /// slashes up to `equivocationPenalty` of its stake, suspends those of `licenseIds` delegated
    /// to it or that left it at or after the start of that epoch (`CheckerLicense.departureOf`;
    /// others are skipped), excludes it from the current set if it is in it, bars its key from any
    /// later set, and pays the caller `equivocationBountyBps` of the slashed amount (nothing if the
    /// caller is the operator itself).
    /// @dev Anyone. Each signature is 65 bytes (r, s, v). Once per operator and epoch. Emits
    /// `ProveEquivocation`, and `ExcludeOperator` (reason `EXCLUDED_EQUIVOCATION`) when the operator
    /// is in the current set.
    /// @dev Warning: an operator that unstakes stays slashable only while its stake is unbonding,
    /// and a license that left it stays suspendable only until it leaves its next operator, which
    /// the license's `departureCooldown` delays.
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

    /// @notice The current checker set, sorted, in signer index order. An excluded operator's entry
    /// is the zero address (a tombstone that keeps the other indexes in place until the next config).
    function checkers() external view returns (address[] memory);

    /// @notice How many operators of the current set are not excluded. Below the quorum
    /// (`config()`), no report can be accepted until governance sets a new config.
    function liveCheckerCount() external view returns (uint256);

    /// @notice Whether `operator` was ever proven to equivocate (it cannot join a checker set).
    function isEquivocator(address operator) external view returns (bool);

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
