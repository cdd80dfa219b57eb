// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IEpochRegistry
/// @notice Epoch commitments published by the aggregator: pending for a timelock during which a guardian can
/// revoke them, then final. The reward distributor pays against the latest final reward root.
interface IEpochRegistry {
    /// @notice What the aggregator commits to for one epoch (see docs/contracts.md).
    struct Commitment {
        bytes32 spendRoot;
        bytes32 rewardRoot;
        uint256 totalGross;
        uint256 totalCharged;
        uint256 receiptCount;
        /// @dev sha256 of the epoch's manifest.json.
        bytes32 manifestHash;
        /// @dev keccak256(abi.encode(block.chainid, address(registry))): a commitment made for one chain and
        /// registry cannot be replayed on another.
        bytes32 domain;
    }

    error EpochRegistryZeroRoot();
    error EpochRegistryWrongDomain(bytes32 expected, bytes32 given);
    error EpochRegistryEpochNotAfter(uint64 epoch, uint64 lastFinalized);
    error EpochRegistryPendingExists(uint64 pendingEpoch);
    error EpochRegistryNoPending(uint64 epoch);
    error EpochRegistryTimelock(uint64 epoch, uint256 readyAt);

    event EpochProposed(uint64 indexed epoch, bytes32 spendRoot, bytes32 rewardRoot, bytes32 manifestHash, uint256 readyAt);
    event EpochRevoked(uint64 indexed epoch, address indexed guardian);
    event EpochFinalized(uint64 indexed epoch, bytes32 spendRoot, bytes32 rewardRoot);

    function currentRewardRoot() external view returns (bytes32);
}
