// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IReportOracle, Report} from "../interfaces/IReportOracle.sol";
import {INodeRegistry} from "../interfaces/INodeRegistry.sol";
import {ICheckerLicense} from "../interfaces/ICheckerLicense.sol";
import {EQUIVOCATION_PENALTY_CODE} from "../types/DataTypes.sol";

/// @title ReportOracle
/// @notice Quorum-signed epoch reports of the checkers. See `IReportOracle`.
contract ReportOracle is IReportOracle, AccessControl, EIP712 {
    using SafeERC20 for IERC20;

    /// @notice Role that sets the checker set (governance, or a set manager it appoints).
    bytes32 public constant CONFIG_ROLE = keccak256("CONFIG_ROLE");

    bytes32 public constant REPORT_TYPEHASH = keccak256(
        "Report(uint256 epoch,uint256 configVersion,bytes32 root,uint256 nodeCount,uint256 totalReward,"
        "uint256 totalCapacityPoints,uint256 totalDeliveryPoints)"
    );
    /// @notice Bits of the `reasons` an operator was excluded from the set for (`ExcludeOperator`).
    uint256 public constant EXCLUDED_NO_LICENSE = 1;
    uint256 public constant EXCLUDED_UNDER_STAKED = 2;
    uint256 public constant EXCLUDED_EQUIVOCATION = 4;
    uint256 public constant MAX_CHECKERS = 255; // signer indexes are one byte
    uint256 public constant MAX_BOUNTY_BPS = 5_000; // 50%
    uint256 internal constant BPS = 10_000;
    uint256 internal constant SIGNATURE_STRIDE = 66; // index (1) + r (32) + s (32) + v (1)
    /// @dev secp256k1n / 2: signatures with a larger s are the malleable twin of a low-s one.
    uint256 internal constant HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @dev What `submitReport` reads and writes, in one slot.
    struct Config {
        address pointer; // 160: data contract holding the operators, 20 bytes each, sorted; 0 = excluded
        uint32 version; // 192
        uint8 quorum; // 200
        uint8 count; // 208
        uint40 lastEpoch; // 248
        bool anyReport; // 256
    }

    /// @dev An emission schedule and the first epoch it applies to, in one slot.
    struct Emission {
        uint128 initial; // KAI units for epoch 0
        uint48 halvingEpochs; // epochs between halvings
        uint40 fromEpoch; // first epoch under this schedule
    }

    /// @notice The staking ledger (checker stake lives there) and slasher of checkers.
    INodeRegistry public immutable registry;
    /// @notice Checker licenses.
    ICheckerLicense public immutable license;
    /// @notice Unix seconds epoch 0 starts at.
    uint256 public immutable genesis;
    /// @notice Epoch length in seconds.
    uint256 public immutable epochLength;
    /// @notice Receives the slashed KAI that is not the prover's bounty.
    address public immutable treasury;

    Config internal _config;
    /// @notice Minimum KAI stake of a checker operator.
    uint256 public minCheckerStake;
    /// @notice KAI slashed from an operator proven to equivocate.
    uint256 public equivocationPenalty;
    /// @notice Share of the slashed KAI paid to the prover, bps.
    uint256 public equivocationBountyBps = 1_000; // 10%
    /// @dev The schedule in force from its `fromEpoch` on (one slot: what a new report reads), and
    /// the ones it replaced, so that a change never touches a reported epoch's budget. Governance
    /// changes it rarely, so the backwards scan of `_pastEmissions` is short.
    Emission internal _emission;
    Emission[] internal _pastEmissions;

    /// @dev Only the root is stored (one slot per epoch); the event carries the rest.
    mapping(uint256 epoch => bytes32 root) internal _roots;
    mapping(address operator => mapping(uint256 epoch => bool)) public equivocationProven;
    /// @inheritdoc IReportOracle
    mapping(address operator => bool) public isEquivocator;

    /// @param admin Receives `DEFAULT_ADMIN_ROLE` and `CONFIG_ROLE` (the timelock in deployments).
    /// @param registry_ The staking ledger; this oracle needs its `SLASHER_ROLE`.
    /// @param license_ Checker licenses; this oracle needs their `SUSPENDER_ROLE`.
    /// @param treasury_ Receives slashed KAI.
    /// @param genesis_ Unix seconds epoch 0 starts at.
    /// @param epochLength_ Epoch length in seconds (2 weeks on mainnet, a minute locally).
    constructor(
        address admin,
        INodeRegistry registry_,
        ICheckerLicense license_,
        address treasury_,
        uint256 genesis_,
        uint256 epochLength_
    ) EIP712("Kaisar Report Oracle", "1") {
        if (admin == address(0) || address(registry_) == address(0) || address(license_) == address(0)) {
            revert ReportOracle_ZeroAddress();
        }
        if (treasury_ == address(0)) revert ReportOracle_ZeroAddress();
        if (epochLength_ < 10 || epochLength_ > 365 days) {
            revert ReportOracle_ParameterOutOfBounds("epochLength", epochLength_, 10, 365 days);
        }
        registry = registry_;
        license = license_;
        treasury = treasury_;
        genesis = genesis_;
        epochLength = epochLength_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(CONFIG_ROLE, admin);
    }

    /* ------------------------------------------------------------------ */
    /*                               CONFIG                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IReportOracle
    function setCheckerConfig(
        address[] calldata operators,
        uint256 quorum
    ) external onlyRole(CONFIG_ROLE) returns (uint256 version) {
        uint256 n = operators.length;
        if (n == 0 || n > MAX_CHECKERS) revert ReportOracle_InvalidCheckerCount(n);
        // Byzantine fault tolerance: with f = (n - 1) / 3 faulty operators tolerated, a quorum
        // needs more than 2f signatures (so that two quorums share an honest operator).
        if (quorum > n || quorum <= ((n - 1) / 3) * 2) revert ReportOracle_InvalidQuorum(quorum, n);
        uint256 minimum = minCheckerStake;
        address previous;
        for (uint256 i; i < n; ++i) {
            address operator = operators[i];
            if (operator == address(0)) revert ReportOracle_ZeroAddress();
            if (operator <= previous) revert ReportOracle_UnsortedOrDuplicateOperator(i, operator);
            previous = operator;
            if (isEquivocator[operator]) revert ReportOracle_OperatorEquivocated(operator);
            if (license.licensesOf(operator) == 0) revert ReportOracle_OperatorWithoutLicense(operator);
            uint256 staked = registry.getStake(operator).staked;
            if (staked < minimum) revert ReportOracle_OperatorUnderStaked(operator, staked, minimum);
        }
        address pointer = _writeData(_pack(operators));
        Config storage c = _config;
        version = uint256(c.version) + 1;
        c.pointer = pointer;
        c.version = uint32(version);
        c.quorum = uint8(quorum);
        c.count = uint8(n);
        emit SetCheckerConfig(version, operators, quorum, pointer);
    }

    /// @inheritdoc IReportOracle
    function excludeOperator(uint256 index) external returns (uint256 reasons) {
        Config memory c = _config;
        if (index >= c.count) revert ReportOracle_InvalidOperatorIndex(index, c.count);
        bytes memory packed = _readData(c.pointer);
        address operator = _operatorAt(packed, index);
        if (operator == address(0)) revert ReportOracle_OperatorAlreadyExcluded(index);
        // What `setCheckerConfig` checked, checked again. A proven equivocator needs no check here:
        // the proof excludes it, and `setCheckerConfig` refuses it.
        if (license.licensesOf(operator) == 0) reasons |= EXCLUDED_NO_LICENSE;
        if (registry.getStake(operator).staked < minCheckerStake) reasons |= EXCLUDED_UNDER_STAKED;
        if (reasons == 0) revert ReportOracle_OperatorActive(index, operator);
        _exclude(c, packed, index, operator, reasons);
    }

    /* ------------------------------------------------------------------ */
    /*                               REPORTS                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IReportOracle
    function submitReport(Report calldata report, bytes calldata signatures) external {
        Config memory c = _config;
        uint256 epoch = report.epoch;
        // Check: the report fits the current config and epoch order.
        if (report.configVersion != c.version || c.version == 0) {
            revert ReportOracle_WrongConfigVersion(report.configVersion, c.version);
        }
        if (_roots[epoch] != bytes32(0)) revert ReportOracle_AlreadyProcessed(epoch);
        if (c.anyReport && epoch < c.lastEpoch) revert ReportOracle_StaleEpoch(epoch, c.lastEpoch);
        // Epochs are stored in 40 bits; larger ones are far in the future anyway.
        if (epoch >= type(uint40).max) revert ReportOracle_EpochNotEnded(epoch, type(uint256).max);
        uint256 endsAt = epochStart(epoch + 1);
        if (block.timestamp < endsAt) revert ReportOracle_EpochNotEnded(epoch, endsAt);
        if (report.root == bytes32(0)) revert ReportOracle_ZeroRoot();
        uint256 budget = epochBudget(epoch);
        if (report.totalReward > budget) revert ReportOracle_RewardAboveBudget(epoch, report.totalReward, budget);

        // Check: a quorum of distinct operators of the current set signed this very report.
        uint256 signers = _verifyQuorum(reportDigest(report), signatures, c);

        // Effect: record it. Epochs fit 40 bits in any realistic network (one per second: 34,000 years).
        _roots[epoch] = report.root;
        _config.lastEpoch = uint40(epoch);
        _config.anyReport = true;
        emit SubmitReport(
            epoch,
            report.configVersion,
            report.root,
            report.nodeCount,
            report.totalReward,
            signers,
            msg.sender
        );
    }

    /// @inheritdoc IReportOracle
    function proveEquivocation(
        Report calldata a,
        bytes calldata signatureA,
        Report calldata b,
        bytes calldata signatureB,
        uint256[] calldata licenseIds
    ) external {
        bytes32 digestA = reportDigest(a);
        bytes32 digestB = reportDigest(b);
        // The same content re-signed under a newer config version (after a rotation) is honest.
        if (a.epoch != b.epoch || _contentHash(a) == _contentHash(b)) revert ReportOracle_NotEquivocation();
        address operator = _recoverPlain(digestA, signatureA, 0);
        address second = _recoverPlain(digestB, signatureB, 1);
        if (operator != second) revert ReportOracle_DifferentSigners(operator, second);
        if (equivocationProven[operator][a.epoch]) revert ReportOracle_EquivocationAlreadyProven(operator, a.epoch);

        // Effect: record the proof first, so that it can never pay twice; the key leaves the set.
        equivocationProven[operator][a.epoch] = true;
        isEquivocator[operator] = true;
        _excludeIfMember(operator);
        bytes32 evidence = keccak256(abi.encode(digestA, digestB));

        // Interaction: slash into this contract, suspend the licenses, pay the bounty and the treasury.
        uint256 slashed = registry.slash(
            operator,
            equivocationPenalty,
            0,
            EQUIVOCATION_PENALTY_CODE,
            evidence,
            address(this)
        );
        // A license that left the operator once the epoch had started could have signed for it:
        // suspended too, so that undelegating ahead of the proof saves nothing. Others are skipped,
        // not fatal: a wrong id must not save the operator from the slash. Epochs past 40 bits
        // start too late for any departure (and their start could overflow).
        uint256 from = a.epoch < type(uint40).max ? epochStart(a.epoch) : type(uint256).max;
        for (uint256 i; i < licenseIds.length; ++i) {
            uint256 id = licenseIds[i];
            if (license.isSuspended(id)) continue;
            if (license.operatorOf(id) != operator) {
                (address former, uint256 until) = license.departureOf(id);
                if (former != operator || until < from) continue;
            }
            license.suspend(id, evidence);
        }
        // An operator proving its own equivocation earns no bounty.
        uint256 bounty = msg.sender == operator ? 0 : (slashed * equivocationBountyBps) / BPS;
        emit ProveEquivocation(operator, a.epoch, digestA, digestB, slashed, bounty, msg.sender);
        IERC20 kai = IERC20(registry.kai());
        if (bounty != 0) kai.safeTransfer(msg.sender, bounty);
        if (slashed > bounty) kai.safeTransfer(treasury, slashed - bounty);
    }

    /* ------------------------------------------------------------------ */
    /*                             GOVERNANCE                             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IReportOracle
    function setMinCheckerStake(uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        minCheckerStake = amount;
        emit SetMinCheckerStake(amount);
    }

    /// @inheritdoc IReportOracle
    function setEquivocationPenalty(uint256 amount, uint256 bountyBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bountyBps > MAX_BOUNTY_BPS) {
            revert ReportOracle_ParameterOutOfBounds("bountyBps", bountyBps, 0, MAX_BOUNTY_BPS);
        }
        equivocationPenalty = amount;
        equivocationBountyBps = bountyBps;
        emit SetEquivocationPenalty(amount, bountyBps);
    }

    /// @inheritdoc IReportOracle
    function setEmissionSchedule(uint256 initial, uint256 halvingEpochs_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (halvingEpochs_ == 0) revert ReportOracle_ParameterOutOfBounds("halvingEpochs", 0, 1, type(uint48).max);
        if (initial > type(uint128).max) {
            revert ReportOracle_ParameterOutOfBounds("initialEmission", initial, 0, type(uint128).max);
        }
        if (halvingEpochs_ > type(uint48).max) {
            revert ReportOracle_ParameterOutOfBounds("halvingEpochs", halvingEpochs_, 1, type(uint48).max);
        }
        // Applies from the first epoch not yet reported; a second change before then replaces the first.
        Config memory c = _config;
        uint256 fromEpoch = c.anyReport ? uint256(c.lastEpoch) + 1 : 0;
        Emission memory next = Emission({
            initial: uint128(initial),
            halvingEpochs: uint48(halvingEpochs_),
            fromEpoch: uint40(fromEpoch)
        });
        Emission memory current = _emission;
        if (current.halvingEpochs != 0 && current.fromEpoch != fromEpoch) _pastEmissions.push(current);
        _emission = next;
        emit SetEmissionSchedule(initial, halvingEpochs_);
    }

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IReportOracle
    function reportDigest(Report calldata report) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(REPORT_TYPEHASH, report)));
    }

    /// @inheritdoc IReportOracle
    function epochBudget(uint256 epoch) public view returns (uint256) {
        Emission memory e = _emission;
        if (e.halvingEpochs == 0) return 0; // no schedule yet
        if (epoch < e.fromEpoch) {
            uint256 i = _pastEmissions.length;
            // The first schedule applies from epoch 0, so the scan always finds one.
            do e = _pastEmissions[--i]; while (e.fromEpoch > epoch);
        }
        uint256 halvings = epoch / e.halvingEpochs;
        return halvings >= 128 ? 0 : uint256(e.initial) >> halvings;
    }

    /// @inheritdoc IReportOracle
    function emission() external view returns (uint256 initial, uint256 halvingEpochs) {
        return (_emission.initial, _emission.halvingEpochs);
    }

    /// @inheritdoc IReportOracle
    function checkers() external view returns (address[] memory) {
        address pointer = _config.pointer;
        if (pointer == address(0)) return new address[](0);
        bytes memory packed = _readData(pointer);
        uint256 n = packed.length / 20;
        address[] memory list = new address[](n);
        for (uint256 i; i < n; ++i) list[i] = _operatorAt(packed, i);
        return list;
    }

    /// @inheritdoc IReportOracle
    function liveCheckerCount() external view returns (uint256) {
        Config memory c = _config;
        if (c.pointer == address(0)) return 0;
        return _liveCount(_readData(c.pointer), c.count);
    }

    /// @inheritdoc IReportOracle
    function config() external view returns (uint256 version, uint256 quorum, uint256 lastEpoch, bool anyReport) {
        Config memory c = _config;
        return (c.version, c.quorum, c.lastEpoch, c.anyReport);
    }

    /// @inheritdoc IReportOracle
    function reportRoot(uint256 epoch) external view returns (bytes32) {
        return _roots[epoch];
    }

    /// @inheritdoc IReportOracle
    function rootAndBudget(uint256 epoch) external view returns (bytes32 root, uint256 budget) {
        return (_roots[epoch], epochBudget(epoch));
    }

    /// @inheritdoc IReportOracle
    function epochStart(uint256 epoch) public view returns (uint256) {
        return genesis + epoch * epochLength;
    }

    /// @inheritdoc IReportOracle
    function epochAt(uint256 timestamp) external view returns (uint256) {
        return timestamp < genesis ? 0 : (timestamp - genesis) / epochLength;
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNAL                              */
    /* ------------------------------------------------------------------ */

    /// @dev Verifies packed signatures (index, r, s, v) against the config's operators; returns the
    /// bitmap of signers. Reads the operator list once (no storage read per signer).
    function _verifyQuorum(bytes32 digest, bytes calldata signatures, Config memory c) internal view returns (uint256) {
        if (signatures.length % SIGNATURE_STRIDE != 0) revert ReportOracle_InvalidSignatureLength(signatures.length);
        uint256 count = signatures.length / SIGNATURE_STRIDE;
        if (count < c.quorum) revert ReportOracle_BelowQuorum(count, c.quorum);
        bytes memory operators = _readData(c.pointer);
        uint256 signers;
        uint256 nextIndex; // indexes strictly increase: each must be >= nextIndex
        for (uint256 i; i < count;) {
            uint256 index = _checkSignature(digest, signatures, i, operators, c.count);
            if (index < nextIndex) revert ReportOracle_DuplicateSigner(i, index);
            // unchecked: index < count of operators <= 255 and i < count.
            unchecked {
                nextIndex = index + 1;
                signers |= 1 << index;
                ++i;
            }
        }
        return signers;
    }

    /// @dev Checks the `i`-th 66-byte record (index, r, s, v): low s, recoverable, and by the
    /// operator at that index. Returns the index.
    function _checkSignature(
        bytes32 digest,
        bytes calldata signatures,
        uint256 i,
        bytes memory operators,
        uint256 n
    ) internal pure returns (uint256 index) {
        bytes32 r;
        uint256 s;
        uint8 v;
        // Read the record straight from calldata.
        assembly ("memory-safe") {
            let p := add(signatures.offset, mul(i, SIGNATURE_STRIDE))
            index := byte(0, calldataload(p))
            r := calldataload(add(p, 1))
            s := calldataload(add(p, 33))
            v := byte(0, calldataload(add(p, 65)))
        }
        if (s > HALF_CURVE_ORDER) revert ReportOracle_MalleableSignature(i);
        address recovered = ecrecover(digest, v, r, bytes32(s));
        if (recovered == address(0)) revert ReportOracle_InvalidSignature(i);
        if (index >= n || _operatorAt(operators, index) != recovered) {
            // No key recovers to the zero address: a tombstone at `index` is an excluded operator.
            if (index < n && _operatorAt(operators, index) == address(0)) revert ReportOracle_ExcludedSigner(i, index);
            revert ReportOracle_UnknownSigner(i, index, recovered);
        }
    }

    /// @dev Replaces the operator at `index` of the current set (`packed`, read from `c.pointer`)
    /// with a tombstone and stores the list anew under the same version: the other indexes, and
    /// the signatures made for this version, stay valid.
    function _exclude(Config memory c, bytes memory packed, uint256 index, address operator, uint256 reasons) internal {
        assembly ("memory-safe") {
            // The word that ends with the entry: its low 20 bytes are the entry, its high 12 the
            // previous entry's tail (or the length's, at index 0). Zero the entry, keep the rest.
            let p := add(add(packed, 20), mul(index, 20))
            mstore(p, and(mload(p), not(sub(shl(160, 1), 1))))
        }
        address pointer = _writeData(packed);
        _config.pointer = pointer;
        uint256 live = _liveCount(packed, c.count);
        emit ExcludeOperator(c.version, index, operator, reasons, live, pointer);
        // Said once, when the set crosses below its quorum.
        if (live + 1 == c.quorum) emit CheckerQuorumLost(c.version, live, c.quorum);
    }

    /// @dev Excludes `operator` from the current set if it is a live member of it.
    function _excludeIfMember(address operator) internal {
        Config memory c = _config;
        if (c.pointer == address(0)) return;
        bytes memory packed = _readData(c.pointer);
        // A linear scan: tombstones break the order a binary search needs, and proofs are rare.
        for (uint256 i; i < c.count; ++i) {
            if (_operatorAt(packed, i) == operator) return _exclude(c, packed, i, operator, EXCLUDED_EQUIVOCATION);
        }
    }

    /// @dev The operators of a packed list of `n` that are not tombstones.
    function _liveCount(bytes memory packed, uint256 n) internal pure returns (uint256 live) {
        for (uint256 i; i < n; ++i) {
            if (_operatorAt(packed, i) != address(0)) ++live;
        }
    }

    /// @dev Packs addresses at 20 bytes each (abi.encodePacked would pad array items to 32).
    function _pack(address[] calldata list) internal pure returns (bytes memory packed) {
        uint256 length = list.length * 20;
        // 12 bytes of slack: each 32-byte store spills zeros into the next item, overwritten next.
        packed = new bytes(length + 12);
        for (uint256 i; i < list.length; ++i) {
            address item = list[i];
            assembly ("memory-safe") {
                mstore(add(add(packed, 32), mul(i, 20)), shl(96, item))
            }
        }
        assembly ("memory-safe") {
            mstore(packed, length)
        }
    }

    /// @dev The `index`-th address of a packed (20 bytes each) operator list.
    function _operatorAt(bytes memory packed, uint256 index) internal pure returns (address operator) {
        assembly ("memory-safe") {
            operator := shr(96, mload(add(add(packed, 32), mul(index, 20))))
        }
    }

    /// @dev What a report says, without the config version it was signed under.
    function _contentHash(Report calldata r) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(r.epoch, r.root, r.nodeCount, r.totalReward, r.totalCapacityPoints, r.totalDeliveryPoints)
            );
    }

    /// @dev Recovers a 65-byte (r, s, v) signature, refusing other lengths.
    function _recoverPlain(bytes32 digest, bytes calldata signature, uint256 position) internal pure returns (address) {
        if (signature.length != 65) revert ReportOracle_InvalidSignatureLength(signature.length);
        return _recover(digest, signature, position);
    }

    /// @dev ecrecover with the malleability and validity checks; `sig` is exactly 65 bytes.
    function _recover(bytes32 digest, bytes calldata sig, uint256 position) internal pure returns (address signer) {
        bytes32 r = bytes32(sig[0:32]);
        uint256 s = uint256(bytes32(sig[32:64]));
        uint8 v = uint8(sig[64]);
        if (s > HALF_CURVE_ORDER) revert ReportOracle_MalleableSignature(position);
        signer = ecrecover(digest, v, r, bytes32(s));
        if (signer == address(0)) revert ReportOracle_InvalidSignature(position);
    }

    /// @dev SSTORE2: deploys a contract whose code is a STOP byte followed by `data`.
    function _writeData(bytes memory data) internal returns (address pointer) {
        bytes memory code = abi.encodePacked(hex"00", data);
        // Init code: PUSH2 len, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN.
        bytes memory init = abi.encodePacked(hex"61", uint16(code.length), hex"80600a3d393df3", code);
        assembly ("memory-safe") {
            pointer := create(0, add(init, 32), mload(init))
        }
        if (pointer == address(0)) revert ReportOracle_ZeroAddress();
    }

    /// @dev Reads back what `_writeData` stored.
    function _readData(address pointer) internal view returns (bytes memory data) {
        uint256 size = pointer.code.length - 1;
        data = new bytes(size);
        assembly ("memory-safe") {
            extcodecopy(pointer, add(data, 32), 1, size)
        }
    }
}
