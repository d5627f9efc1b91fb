// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IReportOracle} from "../interfaces/IReportOracle.sol";
import {ICheckerLicense} from "../interfaces/ICheckerLicense.sol";
import {IRewardDistributor, VestingPosition} from "../interfaces/IRewardDistributor.sol";
import {ISlaEnforcer} from "../interfaces/ISlaEnforcer.sol";

interface IProbedOracle {
    function equivocationProven(address operator, uint256 epoch) external view returns (bool);
}

/// @notice Reads what the PoPW walk checks beyond `MoneyWalkProbe` (the oracle and its checker set,
/// licenses, the distributor, the SlaEnforcer, token supplies) in one `eth_call` (test only).
contract PopwWalkProbe {
    struct Query {
        address oracle;
        address license;
        address distributor;
        address sla;
        address usd;
        address kai;
        address[] operators;
        address[] provenOperators; // with provenEpochs: `equivocationProven` marks to read
        uint256[] provenEpochs;
        uint256[] epochs; // `rootAndBudget` and `claimedOf` of each
        address[] stakers; // `positionsOf` of each
        uint256[] nodeIds; // `slashableFrom` of each
        uint256[] rentalIds; // `savingCreditedFromEarnings` of each
        uint256[] creditRentals; // with creditEpochs: `isCredited` marks to read
        uint256[] creditEpochs;
        uint256[] leafEpochs; // with leafKinds and leafSubjects: `isClaimed` marks to read
        uint8[] leafKinds;
        uint256[] leafSubjects;
    }

    struct State {
        // ReportOracle: config, checker set, equivocations, reports.
        uint256 version;
        uint256 quorum;
        uint256 lastEpoch;
        bool anyReport;
        uint256 live;
        address[] checkers; // tombstones as the zero address
        bool[] isEquivocator; // per operator
        bool[] proven;
        bytes32[] roots; // per epoch
        uint256[] budgets;
        // CheckerLicense.
        uint256[] licensesOf; // per operator
        uint256 departureCooldown;
        uint256 totalMinted;
        address[] owner; // licenses 1..totalMinted
        address[] operatorOf;
        bool[] suspended;
        address[] former;
        uint256[] until;
        // RewardDistributor.
        uint256[] claimedOf; // per epoch
        uint256 reserve;
        VestingPosition[][] positions; // per staker
        bool[] claimed;
        // SlaEnforcer.
        uint256[] downtimeFrom; // per node
        uint256[] fraudFrom;
        uint256 kaiPerToken; // of USD
        uint256[] savingCredited; // per rental
        bool[] credited;
        // Tokens.
        uint256 usdSupply;
        uint256 kaiSupply;
    }

    function read(Query calldata q) external view returns (State memory s) {
        _readOracle(q, s);
        _readLicenses(q, s);
        _readDistributor(q, s);
        _readSla(q, s);
        s.usdSupply = IERC20(q.usd).totalSupply();
        s.kaiSupply = IERC20(q.kai).totalSupply();
    }

    function _readOracle(Query calldata q, State memory s) internal view {
        IReportOracle oracle = IReportOracle(q.oracle);
        (s.version, s.quorum, s.lastEpoch, s.anyReport) = oracle.config();
        s.live = oracle.liveCheckerCount();
        s.checkers = oracle.checkers();
        s.isEquivocator = new bool[](q.operators.length);
        for (uint256 i; i < q.operators.length; ++i) s.isEquivocator[i] = oracle.isEquivocator(q.operators[i]);
        s.proven = new bool[](q.provenOperators.length);
        for (uint256 i; i < q.provenOperators.length; ++i) {
            s.proven[i] = IProbedOracle(q.oracle).equivocationProven(q.provenOperators[i], q.provenEpochs[i]);
        }
        s.roots = new bytes32[](q.epochs.length);
        s.budgets = new uint256[](q.epochs.length);
        for (uint256 i; i < q.epochs.length; ++i) (s.roots[i], s.budgets[i]) = oracle.rootAndBudget(q.epochs[i]);
    }

    function _readLicenses(Query calldata q, State memory s) internal view {
        ICheckerLicense license = ICheckerLicense(q.license);
        s.licensesOf = new uint256[](q.operators.length);
        for (uint256 i; i < q.operators.length; ++i) s.licensesOf[i] = license.licensesOf(q.operators[i]);
        s.departureCooldown = license.departureCooldown();
        uint256 n = license.totalMinted();
        s.totalMinted = n;
        s.owner = new address[](n);
        s.operatorOf = new address[](n);
        s.suspended = new bool[](n);
        s.former = new address[](n);
        s.until = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 id = i + 1;
            s.owner[i] = IERC721(q.license).ownerOf(id);
            s.operatorOf[i] = license.operatorOf(id);
            s.suspended[i] = license.isSuspended(id);
            (s.former[i], s.until[i]) = license.departureOf(id);
        }
    }

    function _readDistributor(Query calldata q, State memory s) internal view {
        IRewardDistributor d = IRewardDistributor(q.distributor);
        s.claimedOf = new uint256[](q.epochs.length);
        for (uint256 i; i < q.epochs.length; ++i) s.claimedOf[i] = d.claimedOf(q.epochs[i]);
        s.reserve = d.reserve();
        s.positions = new VestingPosition[][](q.stakers.length);
        for (uint256 i; i < q.stakers.length; ++i) s.positions[i] = d.positionsOf(q.stakers[i]);
        s.claimed = new bool[](q.leafEpochs.length);
        for (uint256 i; i < q.leafEpochs.length; ++i) {
            s.claimed[i] = d.isClaimed(q.leafEpochs[i], q.leafKinds[i], q.leafSubjects[i]);
        }
    }

    function _readSla(Query calldata q, State memory s) internal view {
        ISlaEnforcer sla = ISlaEnforcer(q.sla);
        s.downtimeFrom = new uint256[](q.nodeIds.length);
        s.fraudFrom = new uint256[](q.nodeIds.length);
        for (uint256 i; i < q.nodeIds.length; ++i)
            (s.downtimeFrom[i], s.fraudFrom[i]) = sla.slashableFrom(q.nodeIds[i]);
        s.kaiPerToken = sla.kaiPerToken(q.usd);
        s.savingCredited = new uint256[](q.rentalIds.length);
        for (uint256 i; i < q.rentalIds.length; ++i)
            s.savingCredited[i] = sla.savingCreditedFromEarnings(q.rentalIds[i]);
        s.credited = new bool[](q.creditRentals.length);
        for (uint256 i; i < q.creditRentals.length; ++i) {
            s.credited[i] = sla.isCredited(q.creditRentals[i], q.creditEpochs[i]);
        }
    }
}
