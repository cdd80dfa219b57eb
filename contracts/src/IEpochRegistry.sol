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
        /// @dev The hash chain of the public signals of the epoch's batch proofs, h_i = keccak256(abi.encode(h_{i-1},
        /// uint256[11] signals_i)) from h_0 = 0; zero when the epoch is published without proofs.
        bytes32 proofsHash;
    }

    /// @notice A Groth16 proof of one receipt batch (circuits/lib/batch.circom) with its public signals, in
    /// circom's order: root, stakesCommitment, totalGross, totalCharged, epoch, deploymentIdHi, deploymentIdLo,
    /// maxDiscountBps, multiplier, circulating, count.
    struct BatchProof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
        uint256[11] signals;
    }

    error EpochRegistryZeroRoot();
    error EpochRegistryWrongDomain(bytes32 expected, bytes32 given);
    error EpochRegistryEpochNotAfter(uint64 epoch, uint64 lastFinalized);
    error EpochRegistryPendingExists(uint64 pendingEpoch);
    error EpochRegistryNoPending(uint64 epoch);
    error EpochRegistryTimelock(uint64 epoch, uint256 readyAt);
    error EpochRegistryProofsRequired();
    error EpochRegistryNoVerifier();
    error EpochRegistryInvalidProof(uint256 batch);
    error EpochRegistryProofEpoch(uint256 batch, uint256 provenEpoch);
    error EpochRegistryProvenTotals(uint256 provenGross, uint256 provenCharged, uint256 provenReceipts);
    error EpochRegistryProofsHash(bytes32 expected, bytes32 given);

    event EpochProposed(uint64 indexed epoch, bytes32 spendRoot, bytes32 rewardRoot, bytes32 manifestHash, bytes32 proofsHash, uint256 readyAt);
    event ProofsSubmitted(uint64 indexed epoch, uint256 batches, uint256 totalBatches);
    event ProofsReset(uint64 indexed epoch);
    event EpochRevoked(uint64 indexed epoch, address indexed guardian);
    event EpochFinalized(uint64 indexed epoch, bytes32 spendRoot, bytes32 rewardRoot);

    function currentRewardRoot() external view returns (bytes32);
}

/// @notice The Groth16 verifier snarkjs generates for the batch circuit (11 public signals).
interface IBatchVerifier {
    function verifyProof(uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c, uint256[11] calldata signals) external view returns (bool);
}
