// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IEpochRegistry} from "./IEpochRegistry.sol";

/// @title EpochRegistry
/// @notice Holds the aggregator's epoch commitments. A proposal stays pending for `timelock` seconds, during
/// which a guardian can revoke it; anyone can finalize it afterwards. One proposal is pending at a time, so a
/// root never queues silently behind another.
contract EpochRegistry is IEpochRegistry, AccessControl {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    bytes32 public constant PUBLISHER_ROLE = keccak256("PUBLISHER_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    uint256 public immutable timelock;

    mapping(uint64 epoch => Commitment) internal _final;
    Commitment internal _pending;
    uint64 public pendingEpoch;
    uint256 public pendingReadyAt;
    bool public hasPending;
    uint64 public lastFinalizedEpoch;
    bool public hasFinalized;
    bytes32 public currentRewardRoot;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    constructor(address admin, address publisher, address guardian, uint256 timelockSeconds) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PUBLISHER_ROLE, publisher);
        _grantRole(GUARDIAN_ROLE, guardian);
        timelock = timelockSeconds;
    }

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @notice Proposes the commitment of `epoch`; it becomes final after the timelock unless revoked.
    function propose(uint64 epoch, Commitment calldata c) external onlyRole(PUBLISHER_ROLE) {
        if (c.spendRoot == bytes32(0) || c.rewardRoot == bytes32(0)) revert EpochRegistryZeroRoot();
        bytes32 expected = domain();
        if (c.domain != expected) revert EpochRegistryWrongDomain(expected, c.domain);
        if (hasFinalized && epoch <= lastFinalizedEpoch) revert EpochRegistryEpochNotAfter(epoch, lastFinalizedEpoch);
        if (hasPending) revert EpochRegistryPendingExists(pendingEpoch);
        _pending = c;
        pendingEpoch = epoch;
        hasPending = true;
        pendingReadyAt = block.timestamp + timelock;
        emit EpochProposed(epoch, c.spendRoot, c.rewardRoot, c.manifestHash, pendingReadyAt);
    }

    /// @notice A guardian withdraws the pending proposal (a wrong or disputed root).
    function revoke(uint64 epoch) external onlyRole(GUARDIAN_ROLE) {
        if (!hasPending || pendingEpoch != epoch) revert EpochRegistryNoPending(epoch);
        hasPending = false;
        delete _pending;
        emit EpochRevoked(epoch, msg.sender);
    }

    /// @notice Makes the pending proposal final once its timelock has passed. Anyone may call.
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
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The domain a commitment for this registry must carry.
    function domain() public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this)));
    }

    function finalCommitment(uint64 epoch) external view returns (Commitment memory) {
        return _final[epoch];
    }

    function pendingCommitment() external view returns (Commitment memory) {
        return _pending;
    }

    /// @notice Whether a spend leaf (epoch, deployment, user, gross, charged, receipts) is in a final epoch's
    /// spend tree. Leaves are OpenZeppelin standard leaves: keccak256(keccak256(abi.encode(...))).
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
}
