// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The epoch registry: the aggregator proposes each epoch's commitment (spend and reward roots, totals, manifest
// hash), a guardian may revoke it during a timelock, then anyone finalizes it. Optionally gated on Groth16 batch
// proofs of the committed totals. RewardDistributor extends it so that claims read their root from local storage.

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IBatchVerifier, IEpochRegistry} from "./IEpochRegistry.sol";

/// @title EpochRegistry
/// @notice Holds the aggregator's epoch commitments. A proposal stays pending for `timelock` seconds, during
/// which a guardian can revoke it; anyone can finalize it afterwards. One proposal is pending at a time, so a
/// root never queues silently behind another. A registry made with a batch verifier accepts only proposals whose
/// batch proofs verify and whose proven totals are the committed totals.
contract EpochRegistry is IEpochRegistry, AccessControl {
    /*//////////////////////////////////////////////////////////////
                                 STRUCTS
    //////////////////////////////////////////////////////////////*/

    /// @notice What the proofs submitted for an epoch prove so far; `chain` hashes their signals in order.
    struct Proven {
        uint256 gross;
        uint256 charged;
        uint256 count;
        uint256 batches;
        bytes32 chain;
    }

    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice The role that proposes epochs and submits their proofs (the aggregator).
    bytes32 public constant PUBLISHER_ROLE = keccak256("PUBLISHER_ROLE");
    /// @notice The role that may revoke a pending proposal.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice Seconds a proposal stays pending (revocable) before it can be finalized.
    uint256 public immutable timelock;
    /// @notice Zero: proofs are optional (auditors check them off chain); otherwise every proposal carries them.
    IBatchVerifier public immutable verifier;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Final commitments by epoch; a zero spend root means the epoch is not final.
    mapping(uint64 epoch => Commitment) internal _final;
    /// @dev The pending proposal, meaningful only while `hasPending`.
    Commitment internal _pending;
    /// @notice The epoch of the pending proposal (meaningful only while `hasPending`).
    uint64 public pendingEpoch;
    /// @notice The timestamp from which the pending proposal can be finalized.
    uint256 public pendingReadyAt;
    /// @notice Whether a proposal is pending.
    bool public hasPending;
    /// @notice The last finalized epoch (meaningful only once `hasFinalized`).
    uint64 public lastFinalizedEpoch;
    /// @notice Whether any epoch has been finalized (epoch 0 is a valid epoch, so zero cannot mean "none").
    bool public hasFinalized;
    /// @inheritdoc IEpochRegistry
    bytes32 public currentRewardRoot;

    /// @notice What the proofs submitted for each epoch prove so far.
    mapping(uint64 epoch => Proven) public provenOf;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes the roles).
    /// @param publisher Holder of PUBLISHER_ROLE (the aggregator).
    /// @param guardian Holder of GUARDIAN_ROLE.
    /// @param timelockSeconds Seconds a proposal stays pending before it can be finalized.
    /// @param batchVerifier The batch proof verifier; zero makes proofs optional.
    constructor(address admin, address publisher, address guardian, uint256 timelockSeconds, IBatchVerifier batchVerifier) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PUBLISHER_ROLE, publisher);
        _grantRole(GUARDIAN_ROLE, guardian);
        timelock = timelockSeconds;
        verifier = batchVerifier;
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Proposes the commitment of `epoch`; it becomes final after the timelock unless revoked. A registry
    /// with a verifier takes it only when the proofs submitted for the epoch prove exactly its totals.
    /// @dev Publisher role only. Reverts as `_propose` does, and with a verifier as `_checkProven` does.
    /// @param epoch The epoch.
    /// @param c The epoch's commitment.
    function propose(uint64 epoch, Commitment calldata c) external onlyRole(PUBLISHER_ROLE) {
        if (address(verifier) != address(0)) _checkProven(epoch, c);
        _propose(epoch, c);
    }

    /// @notice Submits and proposes in one transaction (an epoch whose proofs fit in one block).
    /// @dev Publisher role only. Reverts with `EpochRegistryNoVerifier` on a registry without a verifier.
    /// @param epoch The epoch.
    /// @param c The epoch's commitment.
    /// @param proofs The epoch's remaining batch proofs, added to any submitted before.
    function proposeWithProofs(uint64 epoch, Commitment calldata c, BatchProof[] calldata proofs) external onlyRole(PUBLISHER_ROLE) {
        _submit(epoch, proofs);
        _checkProven(epoch, c);
        _propose(epoch, c);
    }

    /// @notice Verifies batch proofs of `epoch` and adds them to its proven totals; an epoch's proofs may span many
    /// transactions. Each must verify and prove this epoch.
    /// @dev Publisher role only.
    /// @param epoch The epoch.
    /// @param proofs The batch proofs, in the order their signals enter `proofsHash`.
    function submitProofs(uint64 epoch, BatchProof[] calldata proofs) external onlyRole(PUBLISHER_ROLE) {
        _submit(epoch, proofs);
    }

    /// @notice Forgets the proofs submitted for an epoch that is not pending (to start its submission again).
    /// @dev Publisher role only. Reverts with `EpochRegistryPendingExists` for the pending epoch, whose proofs are
    /// what its proposal was checked against.
    /// @param epoch The epoch.
    function resetProofs(uint64 epoch) external onlyRole(PUBLISHER_ROLE) {
        if (hasPending && pendingEpoch == epoch) revert EpochRegistryPendingExists(epoch);
        delete provenOf[epoch];
        emit ProofsReset(epoch);
    }

    /// @notice A guardian withdraws the pending proposal (a wrong or disputed root).
    /// @dev Guardian role only. Reverts with `EpochRegistryNoPending` unless `epoch` is pending.
    /// @param epoch The pending epoch.
    function revoke(uint64 epoch) external onlyRole(GUARDIAN_ROLE) {
        if (!hasPending || pendingEpoch != epoch) revert EpochRegistryNoPending(epoch);
        hasPending = false;
        delete _pending;
        // A revoked epoch's proofs are submitted again with its next proposal.
        delete provenOf[epoch];
        emit EpochRevoked(epoch, msg.sender);
    }

    /// @notice Makes the pending proposal final once its timelock has passed. Anyone may call.
    /// @dev Reverts with `EpochRegistryNoPending` unless `epoch` is pending, `EpochRegistryTimelock` before
    /// `pendingReadyAt`.
    /// @param epoch The pending epoch.
    function finalize(uint64 epoch) external {
        if (!hasPending || pendingEpoch != epoch) revert EpochRegistryNoPending(epoch);
        if (block.timestamp < pendingReadyAt) revert EpochRegistryTimelock(epoch, pendingReadyAt);
        Commitment memory c = _pending;
        _final[epoch] = c;
        hasPending = false;
        delete _pending;
        lastFinalizedEpoch = epoch;
        hasFinalized = true;
        currentRewardRoot = c.rewardRoot;
        emit EpochFinalized(epoch, c.spendRoot, c.rewardRoot);
    }

    /*//////////////////////////////////////////////////////////////
                         EXTERNAL VIEW FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice The domain a commitment for this registry must carry.
    /// @return keccak256(abi.encode(block.chainid, address(this))).
    function domain() public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this)));
    }

    /// @notice The final commitment of `epoch`.
    /// @param epoch The epoch.
    /// @return The commitment; all zero when the epoch is not final.
    function finalCommitment(uint64 epoch) external view returns (Commitment memory) {
        return _final[epoch];
    }

    /// @notice The pending commitment.
    /// @return The commitment; all zero when none is pending.
    function pendingCommitment() external view returns (Commitment memory) {
        return _pending;
    }

    /// @notice Whether a spend leaf (epoch, deployment, user, gross, charged, receipts) is in a final epoch's
    /// spend tree. Leaves are OpenZeppelin standard leaves: keccak256(keccak256(abi.encode(...))).
    /// @param epoch The final epoch.
    /// @param deploymentId The deployment the user spent on.
    /// @param user The user.
    /// @param gross The user's gross spend in the epoch, before discount.
    /// @param charged What the user was charged after discount.
    /// @param receipts The number of the user's receipts.
    /// @param proof The Merkle proof of the leaf.
    /// @return Whether the leaf is in the spend tree; false when the epoch is not final.
    function verifySpend(
        uint64 epoch,
        bytes32 deploymentId,
        address user,
        uint256 gross,
        uint256 charged,
        uint256 receipts,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 root = _final[epoch].spendRoot;
        if (root == bytes32(0)) return false;
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(uint256(epoch), deploymentId, user, gross, charged, receipts))));
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @dev Verifies each proof and folds its signals into the epoch's proven totals and hash chain.
    function _submit(uint64 epoch, BatchProof[] calldata proofs) internal {
        if (address(verifier) == address(0)) revert EpochRegistryNoVerifier();
        if (hasFinalized && epoch <= lastFinalizedEpoch) revert EpochRegistryEpochNotAfter(epoch, lastFinalizedEpoch);
        if (hasPending && pendingEpoch == epoch) revert EpochRegistryPendingExists(epoch);
        Proven memory p = provenOf[epoch];
        for (uint256 i = 0; i < proofs.length; ++i) {
            BatchProof calldata b = proofs[i];
            // The verifier refuses any signal >= the field modulus, so the sums below cannot alias.
            if (!verifier.verifyProof(b.a, b.b, b.c, b.signals)) revert EpochRegistryInvalidProof(p.batches + i);
            if (b.signals[4] != epoch) revert EpochRegistryProofEpoch(p.batches + i, b.signals[4]);
            p.gross += b.signals[2];
            p.charged += b.signals[3];
            p.count += b.signals[10];
            p.chain = keccak256(abi.encode(p.chain, b.signals));
        }
        p.batches += proofs.length;
        provenOf[epoch] = p;
        emit ProofsSubmitted(epoch, proofs.length, p.batches);
    }

    /// @dev The submitted proofs prove exactly the committed gross, charged and receipt count (the spend tree's
    /// totals), and their signals hash to the committed proofsHash.
    function _checkProven(uint64 epoch, Commitment calldata c) internal view {
        Proven memory p = provenOf[epoch];
        if (p.batches == 0) revert EpochRegistryProofsRequired();
        if (p.gross != c.totalGross || p.charged != c.totalCharged || p.count != c.receiptCount) revert EpochRegistryProvenTotals(p.gross, p.charged, p.count);
        if (p.chain != c.proofsHash) revert EpochRegistryProofsHash(p.chain, c.proofsHash);
    }

    /// @dev The checks every proposal passes: non-zero roots, this registry's domain, a later epoch, none pending.
    function _propose(uint64 epoch, Commitment calldata c) internal {
        if (c.spendRoot == bytes32(0) || c.rewardRoot == bytes32(0)) revert EpochRegistryZeroRoot();
        bytes32 expected = domain();
        if (c.domain != expected) revert EpochRegistryWrongDomain(expected, c.domain);
        if (hasFinalized && epoch <= lastFinalizedEpoch) revert EpochRegistryEpochNotAfter(epoch, lastFinalizedEpoch);
        if (hasPending) revert EpochRegistryPendingExists(pendingEpoch);
        _pending = c;
        pendingEpoch = epoch;
        hasPending = true;
        pendingReadyAt = block.timestamp + timelock;
        emit EpochProposed(epoch, c.spendRoot, c.rewardRoot, c.manifestHash, c.proofsHash, pendingReadyAt);
    }
}
