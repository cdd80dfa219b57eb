// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The epoch registry's interface (commitment and proof types, errors, events) and the interface of the Groth16
// batch verifier it calls. Full NatSpec lives here; the implementation inherits it.

/// @title IEpochRegistry
/// @notice Epoch commitments published by the aggregator: pending for a timelock during which anyone can revoke
/// one by proving a wrong fact on chain (and a guardian can revoke any), then final. The reward distributor pays
/// against the latest final reward root.
interface IEpochRegistry {
    /*//////////////////////////////////////////////////////////////
                                 STRUCTS
    //////////////////////////////////////////////////////////////*/

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
        /// uint256[17] signals_i)) from h_0 = 0; zero when the epoch is published without proofs.
        bytes32 proofsHash;
        /// @dev keccak256 of the epoch's config.json: must be the registry's pinned configuration.
        bytes32 configHash;
        /// @dev The block every stake of the spend leaves was read at (`eligibleStakeAt` of the pinned staking
        /// contracts): strictly past at proposal, and after the last final epoch's.
        uint64 snapshotBlock;
        /// @dev keccak256(abi.encode(IEpochJudge.Ledger)) of the epoch's ledger: each deployment's totals and the
        /// roots and lengths of the positional spend and reward lists that EpochJudge's challenges open (non-zero).
        bytes32 ledgerHash;
    }

    /// @notice One spend leaf of an epoch's spend tree (its epoch is the tree's): what `user` spent on
    /// `deploymentId` and the eligible stake that set its discount and reward share.
    struct SpendLeaf {
        bytes32 deploymentId;
        address user;
        uint256 gross;
        uint256 charged;
        uint256 receipts;
        uint256 stake;
    }

    /// @notice A Groth16 proof of one receipt batch (circuits/lib/batch.circom) with its public signals, in
    /// circom's order: root, stakesCommitment, totalGross, totalCharged, providerKey, attestation, batchIndex,
    /// batchCount, epoch, deploymentIdHi, deploymentIdLo, domainHi, domainLo, maxDiscountBps, multiplier, circulating,
    /// count.
    struct BatchProof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
        uint256[17] signals;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by a proposal whose spend root, reward root or ledger hash is zero.
    /// @dev A zero reward root would read as "no root" to the distributor, a zero spend root as "not final", and a
    /// zero ledger hash would leave nothing the judge's challenges could open.
    error EpochRegistryZeroRoot();

    /// @notice Raised by a proposal of an epoch that has not ended: (epoch + 1) * MIN_EPOCH_SECONDS is after now.
    /// @param epoch The epoch proposed.
    error EpochRegistryEpochNotEnded(uint64 epoch);

    /// @notice Raised by a proposal identical (epoch and commitment) to one the guardian or the judge revoked.
    /// @param epoch The epoch proposed.
    error EpochRegistryRevokedProposal(uint64 epoch);

    /// @notice Raised when an account granted PUBLISHER_ROLE after deployment acts before its grant's timelock ends.
    /// @param account The publisher.
    /// @param from When it may act.
    error EpochRegistryPublisherNotYet(address account, uint256 from);

    /// @notice Raised by a proposal whose `domain` is not this registry's on this chain.
    /// @param expected The registry's domain, keccak256(abi.encode(block.chainid, address(this))).
    /// @param given The domain the commitment carries.
    error EpochRegistryWrongDomain(bytes32 expected, bytes32 given);

    /// @notice Raised by a proposal or proof submission for an epoch at or before the last finalized one.
    /// @dev Epochs only move forward, so a final root is never replaced by an older epoch's.
    /// @param epoch The epoch proposed or proved.
    /// @param lastFinalized The last finalized epoch.
    error EpochRegistryEpochNotAfter(uint64 epoch, uint64 lastFinalized);

    /// @notice Raised by a proposal while another is pending, and by proof submission or reset for the pending
    /// epoch.
    /// @dev Roots never queue silently: the pending one must be finalized or revoked first.
    /// @param pendingEpoch The epoch currently pending.
    error EpochRegistryPendingExists(uint64 pendingEpoch);

    /// @notice Raised by `revoke` or `finalize` when `epoch` is not the pending epoch.
    /// @param epoch The epoch asked for.
    error EpochRegistryNoPending(uint64 epoch);

    /// @notice Raised by `finalize` before the pending epoch's timelock has passed.
    /// @param epoch The pending epoch.
    /// @param readyAt The timestamp from which it can be finalized.
    error EpochRegistryTimelock(uint64 epoch, uint256 readyAt);

    /// @notice Raised by a proposal to a registry with a verifier when no proof was submitted for the epoch.
    error EpochRegistryProofsRequired();

    /// @notice Raised by proof submission to a registry constructed without a verifier.
    error EpochRegistryNoVerifier();

    /// @notice Raised when a batch proof does not verify.
    /// @param batch The batch's index among all batches submitted for the epoch.
    error EpochRegistryInvalidProof(uint256 batch);

    /// @notice Raised when a batch proof verifies but proves another epoch.
    /// @param batch The batch's index among all batches submitted for the epoch.
    /// @param provenEpoch The epoch its public signals carry.
    error EpochRegistryProofEpoch(uint256 batch, uint256 provenEpoch);

    /// @notice Raised when a batch proof verifies but was made for another registry or chain (its domain signals).
    /// @param batch The batch's index among all batches submitted for the epoch.
    error EpochRegistryProofDomain(uint256 batch);

    /// @notice Raised when a batch proof is not the next attested batch: each provider's batches must come as its
    /// attestation's batches 0, 1, ..., count - 1 (same attestation), providers in strictly increasing (deployment,
    /// provider key) order, a provider only after the previous one's batches are all proven. A batch proven again
    /// (the same proof twice, or a second attestation of the same provider) would count its receipts twice.
    /// @param batch The batch's index among all batches submitted for the epoch.
    error EpochRegistryProofOrder(uint256 batch);

    /// @notice Raised when a batch proof's provider key is not one the configuration the proofs are checked under
    /// pins for its deployment: receipts no registered provider signed cannot be proven.
    /// @param batch The batch's index among all batches submitted for the epoch.
    /// @param providerKey The attestation key id (Poseidon(x, y)) the proof carries.
    error EpochRegistryProofProvider(uint256 batch, uint256 providerKey);

    /// @notice Raised by a proposal while the last provider's attested batches are not all proven.
    /// @param proven How many of its batches are proven.
    /// @param attested How many batches it attested.
    error EpochRegistryProofsIncomplete(uint256 proven, uint256 attested);

    /// @notice Raised by a proposal whose totals are not exactly the sums the submitted proofs prove.
    /// @param provenGross The gross the proofs prove.
    /// @param provenCharged The charged amount the proofs prove.
    /// @param provenReceipts The receipt count the proofs prove.
    error EpochRegistryProvenTotals(uint256 provenGross, uint256 provenCharged, uint256 provenReceipts);

    /// @notice Raised by a proposal whose `proofsHash` is not the hash chain of the submitted proofs' signals.
    /// @param expected The hash chain of the submitted proofs.
    /// @param given The commitment's `proofsHash`.
    error EpochRegistryProofsHash(bytes32 expected, bytes32 given);

    /// @notice Raised by a proposal while the registry has no pinned configuration.
    error EpochRegistryNoConfig();

    /// @notice Raised by a proposal whose `configHash` is not the pinned configuration's.
    /// @param expected The pinned configuration hash.
    /// @param given The commitment's `configHash`.
    error EpochRegistryWrongConfig(bytes32 expected, bytes32 given);

    /// @notice Raised by a proposal whose snapshot block is not strictly past, is more than `snapshotMaxAge` blocks
    /// old, or is not after the last final epoch's.
    /// @param snapshotBlock The commitment's snapshot block.
    /// @param previous The last final epoch's snapshot block (zero when none is final): the snapshot must be later.
    /// @param current The current block: the snapshot must be earlier.
    error EpochRegistrySnapshotBlock(uint64 snapshotBlock, uint64 previous, uint256 current);

    /// @notice Raised by `scheduleConfig` for a zero hash or reward parameters hash, a hash pinned or scheduled
    /// before, lists of different lengths, no deployment, or a staking contract without code; by the constructor for
    /// a zero snapshot age, a zero publisher or guardian, a timelock of zero or above MAX_TIMELOCK, or a verifier,
    /// settlement or funding address without code.
    error EpochRegistryInvalidConfig();

    /// @notice Raised by a proposal of a spend root a challenge proved wrong.
    /// @param spendRoot The spend root.
    error EpochRegistryChallengedRoot(bytes32 spendRoot);

    /// @notice Raised by `activateConfig` when no configuration is scheduled or its timelock has not passed.
    /// @param readyAt The timestamp from which it can be activated (zero when none is scheduled).
    error EpochRegistryConfigNotReady(uint256 readyAt);

    /// @notice Raised by `revokeChallenged` (and the distributor's `payListed`) from any account but the judge.
    /// @param caller The caller.
    error EpochRegistryNotJudge(address caller);

    /// @notice Raised by `recordAttestation` from an account that is not the provider the pinned configuration names
    /// for the key (or for a key it does not pin).
    /// @param deploymentId The deployment.
    /// @param providerKey The attestation key id.
    /// @param account The caller.
    error EpochRegistryNotAttester(bytes32 deploymentId, uint256 providerKey, address account);

    /// @notice Raised by `recordAttestation` when the key already recorded an attestation of the epoch (an
    /// attestation, once given, is final) or the attestation is zero.
    /// @param epoch The epoch.
    /// @param deploymentId The deployment.
    /// @param providerKey The attestation key id.
    error EpochRegistryAttestationRecorded(uint64 epoch, bytes32 deploymentId, uint256 providerKey);

    /// @notice Raised by a proposal whose proofs leave out (or prove only in part) an attestation a provider
    /// recorded for the epoch under a key its configuration pins.
    /// @param deploymentId The deployment.
    /// @param providerKey The attestation key id.
    /// @param attestation The recorded attestation.
    error EpochRegistryAttestationUnproven(bytes32 deploymentId, uint256 providerKey, uint256 attestation);

    /// @notice Raised by `challengeStakeRow` when the signals given are not those of the epoch's batch `batch` in its
    /// current proofs.
    /// @param batch The batch index.
    error EpochRegistryBatchUnknown(uint256 batch);

    /// @notice Raised by `challengeStakeRow` when the rows given do not open the batch's `stakesCommitment` (or a
    /// value is not a field element, which would alias another).
    error EpochRegistryStakeRowsOpening();

    /// @notice Raised by `challengeStakeRow` when every row's stake is the pinned staking contract's: the proposal stays.
    /// @param batch The batch index.
    error EpochRegistryStakeRowsRight(uint256 batch);

    /// @notice Raised by a batch proof whose discount parameters (X, M, circulating supply) differ from the previous
    /// batch of the same deployment: one deployment's receipts are all discounted with the same snapshot.
    /// @param batch The batch's index in the epoch.
    error EpochRegistryProofParameters(uint256 batch);

    /// @notice Raised by a proposal whose proofs discounted a deployment's receipts with other parameters than its
    /// pinned staking contract gives at the committed snapshot block.
    /// @param deploymentId The deployment.
    /// @param proven X, M and the circulating supply the proofs used.
    /// @param onChain X, M and the circulating supply of the staking contract at the snapshot block.
    error EpochRegistrySnapshotParameters(bytes32 deploymentId, uint256[3] proven, uint256[3] onChain);

    /// @notice Raised by `challengeOmission` when the pending proposal proves the recorded attestation completely (or
    /// none is recorded, or its configuration no longer pins the key): the proposal stays.
    /// @param deploymentId The deployment.
    /// @param providerKey The attestation key id.
    error EpochRegistryAttestationProven(bytes32 deploymentId, uint256 providerKey);

    /// @notice Raised by a proposal of an epoch after another, not final, that a provider recorded an attestation for
    /// under a key the proposal's configuration pins: finalizing it would close that epoch, and drop the provider's
    /// receipts, for good. Propose `skipped` first.
    /// @param skipped The earlier epoch with the recorded attestation.
    error EpochRegistryEpochSkipped(uint64 skipped);

    /// @notice Raised by `challengeSkip` when the pending proposal skips no recorded attestation it names: the
    /// proposal stays.
    /// @param skipped The epoch named.
    error EpochRegistryNotSkipped(uint64 skipped);

    /// @notice Raised by `finalize` while the epoch's charged revenue is not paid to the revenue settlement contract
    /// (for one deployment, with proofs, or in total: `deploymentId` zero).
    /// @param deploymentId The deployment (zero: the epoch's total).
    /// @param due The charged revenue proven (or committed) for it.
    /// @param paid What the settlement contract holds as paid.
    error EpochRegistryRevenueUnpaid(bytes32 deploymentId, uint256 due, uint256 paid);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice An epoch's commitment was proposed and is pending until `readyAt`.
    /// @param epoch The epoch.
    /// @param spendRoot The root of the epoch's spend tree.
    /// @param rewardRoot The root of the cumulative reward tree.
    /// @param manifestHash The sha256 of the epoch's manifest.json.
    /// @param proofsHash The hash chain of the epoch's batch proof signals (zero without proofs).
    /// @param readyAt The timestamp from which anyone can finalize it.
    /// @param artifacts Where the publisher serves the epoch's sealed directory (a URL ending in `/`; empty when it
    /// gives none). Untrusted: what is fetched there is checked against `manifestHash`.
    event EpochProposed(uint64 indexed epoch, bytes32 spendRoot, bytes32 rewardRoot, bytes32 manifestHash, bytes32 proofsHash, uint256 readyAt, string artifacts);

    /// @notice Batch proofs of an epoch were verified and added to its proven totals.
    /// @param epoch The epoch.
    /// @param batches The number of batches in this submission.
    /// @param totalBatches The number of batches submitted for the epoch so far.
    event ProofsSubmitted(uint64 indexed epoch, uint256 batches, uint256 totalBatches);

    /// @notice The proofs submitted for an epoch were forgotten.
    /// @param epoch The epoch.
    event ProofsReset(uint64 indexed epoch);

    /// @notice A guardian withdrew the pending proposal.
    /// @param epoch The revoked epoch.
    /// @param guardian The guardian who revoked it.
    event EpochRevoked(uint64 indexed epoch, address indexed guardian);

    /// @notice Anyone revoked the pending proposal by opening a batch proof's stake table and showing a row whose stake
    /// is not the pinned staking contract's at the snapshot block.
    /// @param epoch The revoked epoch.
    /// @param challenger The account that showed it.
    /// @param batch The batch index.
    /// @param user The row's user (a field element; above 2^160 it names no account).
    /// @param committed The stake the row carries.
    /// @param actual The eligible stake at the snapshot block (2^256 - 1 for a user that is not an address).
    event EpochStakeRowChallenged(uint64 indexed epoch, address indexed challenger, uint256 batch, uint256 user, uint256 committed, uint256 actual);

    /// @notice A provider recorded its attestation of an epoch: every proposal of the epoch must prove all of its
    /// batches while the configuration pins its key.
    /// @param epoch The epoch.
    /// @param deploymentId The deployment.
    /// @param providerKey The attestation key id.
    /// @param attestation The signed message (Poseidon of the attested root, batch count, epoch, deployment, domain).
    /// @param provider The provider account that recorded it.
    event AttestationRecorded(uint64 indexed epoch, bytes32 indexed deploymentId, uint256 providerKey, uint256 attestation, address provider);

    /// @notice Anyone revoked the pending proposal by showing that it leaves out a recorded attestation.
    /// @param epoch The revoked epoch.
    /// @param challenger The account that showed it.
    /// @param deploymentId The deployment.
    /// @param providerKey The attestation key id.
    /// @param attestation The recorded attestation the proposal's proofs do not prove completely.
    event EpochOmissionChallenged(uint64 indexed epoch, address indexed challenger, bytes32 deploymentId, uint256 providerKey, uint256 attestation);

    /// @notice Anyone revoked the pending proposal by showing that it skips an earlier epoch a provider recorded an
    /// attestation for.
    /// @param epoch The revoked epoch.
    /// @param challenger The account that showed it.
    /// @param skipped The earlier epoch.
    /// @param deploymentId The deployment of the recorded attestation.
    /// @param providerKey Its attestation key id.
    event EpochSkipChallenged(uint64 indexed epoch, address indexed challenger, uint64 skipped, bytes32 deploymentId, uint256 providerKey);

    /// @notice A configuration was scheduled; it is pinned from `readyAt` (at once when none was pinned).
    /// @param configHash keccak256 of the configuration's config.json.
    /// @param rewardParams keccak256(abi.encode(IEpochJudge.RewardParams)) of its reward parameters.
    /// @param readyAt The timestamp from which `activateConfig` pins it.
    /// @param deploymentIds The configuration's deployments.
    /// @param stakings Each deployment's staking contract.
    /// @param keyDeploymentIds The deployment of each provider attestation key.
    /// @param providerKeys The providers' attestation key ids (Poseidon(x, y) of each Baby Jubjub key).
    /// @param providerAccounts The provider account that records attestations under each key.
    event ConfigScheduled(bytes32 indexed configHash, bytes32 rewardParams, uint256 readyAt, bytes32[] deploymentIds, address[] stakings, bytes32[] keyDeploymentIds, uint256[] providerKeys, address[] providerAccounts);

    /// @notice A configuration became the pinned one: later proposals must carry its hash.
    /// @param configHash keccak256 of the configuration's config.json.
    event ConfigPinned(bytes32 indexed configHash);

    /// @notice An epoch became final; its reward root is now the one claims are paid against.
    /// @param epoch The epoch.
    /// @param spendRoot The root of the epoch's spend tree.
    /// @param rewardRoot The new current reward root.
    event EpochFinalized(uint64 indexed epoch, bytes32 spendRoot, bytes32 rewardRoot);

    /*//////////////////////////////////////////////////////////////
                         EXTERNAL VIEW FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice The reward root of the last finalized epoch, which claims are paid against.
    /// @return The current reward root; zero before the first epoch is finalized.
    function currentRewardRoot() external view returns (bytes32);

    /// @notice Whether a proposal is pending.
    /// @return Whether one is.
    function hasPending() external view returns (bool);

    /// @notice The epoch of the pending proposal (meaningful only while `hasPending`).
    /// @return The epoch.
    function pendingEpoch() external view returns (uint64);

    /// @notice The pending commitment.
    /// @return The commitment; all zero when none is pending.
    function pendingCommitment() external view returns (Commitment memory);

    /// @notice Whether any epoch has been finalized (epoch 0 is a valid epoch, so zero cannot mean "none").
    /// @return Whether one has.
    function hasFinalized() external view returns (bool);

    /// @notice The last finalized epoch (meaningful only once `hasFinalized`).
    /// @return The epoch.
    function lastFinalizedEpoch() external view returns (uint64);

    /// @notice The final commitment of `epoch`.
    /// @param epoch The epoch.
    /// @return The commitment; all zero when the epoch is not final.
    function finalCommitment(uint64 epoch) external view returns (Commitment memory);

    /// @notice A configuration's staking contract for a deployment.
    /// @param configHash The configuration.
    /// @param deploymentId The deployment.
    /// @return The staking contract; zero for a deployment the configuration does not have.
    function stakingOf(bytes32 configHash, bytes32 deploymentId) external view returns (address);

    /// @notice The reward parameters a configuration pins: keccak256(abi.encode(IEpochJudge.RewardParams)).
    /// @param configHash The configuration.
    /// @return The hash; zero for a configuration never scheduled.
    function rewardParamsOf(bytes32 configHash) external view returns (bytes32);

    /// @notice The batch proof verifier; zero when proofs are optional.
    /// @return The verifier.
    function verifier() external view returns (IBatchVerifier);

    /// @notice The charged revenue the epoch's current proofs (this round's) prove for a deployment.
    /// @param epoch The epoch.
    /// @param deploymentId The deployment.
    /// @return The sum of its batches' charged amounts; zero when none is proven.
    function provenCharged(uint64 epoch, bytes32 deploymentId) external view returns (uint256);

    /// @notice A user's spend in one batch of the pending epoch's proofs, from the batch's stake table: its rows'
    /// gross and charged (stake * 2^152 + gross * 2^76 + charged), zero when the user has no row. What EpochJudge's
    /// `challengeSpendRows` sums over a user's batches.
    /// @dev Reverts with `EpochRegistryNoPending` unless `epoch` is pending, `EpochRegistryBatchUnknown` for signals
    /// that are not the batch's (this round's), and `EpochRegistryStakeRowsOpening` for rows that do not open its
    /// stakes commitment.
    /// @param epoch The pending epoch.
    /// @param batch The batch's index in the epoch's proofs.
    /// @param signals The batch proof's public signals.
    /// @param users Each row's user, in order (the whole table, padding rows included).
    /// @param cells Each row's cell, in order.
    /// @param user The user.
    /// @return deploymentId The batch's deployment.
    /// @return gross The user's gross in the batch.
    /// @return charged The user's charged amount in the batch.
    function batchSpend(uint64 epoch, uint256 batch, uint256[17] calldata signals, uint256[] calldata users, uint256[] calldata cells, address user)
        external
        view
        returns (bytes32 deploymentId, uint256 gross, uint256 charged);

    /// @notice The judge (EpochJudge) the registry created, the one account that revokes through
    /// `revokeChallenged`.
    /// @return The judge.
    function judge() external view returns (address);

    /// @notice The judge withdraws the pending proposal of `epoch` once a challenge proved it wrong (see EpochJudge);
    /// its proofs are dropped as by `revoke`.
    /// @dev Judge only (`EpochRegistryNotJudge`); reverts with `EpochRegistryNoPending` unless `epoch` is pending.
    /// @param epoch The pending epoch.
    /// @param barSpendRoot Whether the proposal's spend root is never taken again (`challengedSpendRoot`): for a
    /// fault of one of its spend leaves (a wrong stake), not for one of the ledger or the reward leaves, after which
    /// the same spend tree may be proposed again with a corrected ledger.
    function revokeChallenged(uint64 epoch, bool barSpendRoot) external;
}

/// @title IEpochFunding
/// @notice What moves an epoch's emission and vesting releases into the distributor when it is finalized.
interface IEpochFunding {
    /// @notice Transfers the epoch's FLOCK emission and every stream's release of the epoch to the caller, the
    /// distributor, once per epoch; reverts when the emission reserve is short, so the epoch waits until funded.
    /// @param epoch The epoch being finalized.
    function fund(uint64 epoch) external;
}

/// @title IRevenueSettlement
/// @notice Where each epoch's charged revenue is paid, in USDC, per deployment: what the registry checks before it
/// finalizes an epoch, so usage the chain pays rewards on was paid for.
interface IRevenueSettlement {
    /// @notice The charged revenue paid for a deployment's receipts of an epoch, in USDC base units.
    /// @param epoch The epoch.
    /// @param deploymentId The deployment.
    /// @return The amount paid so far.
    function paidOf(uint64 epoch, bytes32 deploymentId) external view returns (uint256);

    /// @notice The charged revenue paid for all deployments' receipts of an epoch, in USDC base units.
    /// @param epoch The epoch.
    /// @return The amount paid so far.
    function paidTotal(uint64 epoch) external view returns (uint256);
}

/// @title IStakeSnapshot
/// @notice What the registry reads of a deployment's staking contract (MTStaking) to check a challenged leaf.
interface IStakeSnapshot {
    /// @notice The stake of `account` that counts at `blockNumber` (held over the whole eligibility window).
    /// @param account The staker.
    /// @param blockNumber A strictly past block.
    /// @return The eligible stake.
    function eligibleStakeAt(address account, uint256 blockNumber) external view returns (uint256);

    /// @notice The maximum discount X (bps) in force at the end of `blockNumber`.
    /// @param blockNumber A strictly past block.
    /// @return X.
    function maxDiscountBpsAt(uint256 blockNumber) external view returns (uint256);

    /// @notice The discount multiplier M in force at the end of `blockNumber`.
    /// @param blockNumber A strictly past block.
    /// @return M.
    function multiplierAt(uint256 blockNumber) external view returns (uint256);

    /// @notice The circulating supply at the end of `blockNumber`.
    /// @param blockNumber A strictly past block.
    /// @return The circulating supply.
    function circulatingSupplyAt(uint256 blockNumber) external view returns (uint256);
}

/// @title IBatchVerifier
/// @notice The Groth16 verifier snarkjs generates for the batch circuit (17 public signals).
interface IBatchVerifier {
    /*//////////////////////////////////////////////////////////////
                         EXTERNAL VIEW FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Verifies one Groth16 proof of the batch circuit against its public signals.
    /// @param a The proof's point A.
    /// @param b The proof's point B.
    /// @param c The proof's point C.
    /// @param signals The public signals, in circom's order (see `IEpochRegistry.BatchProof`).
    /// @return Whether the proof is valid; false also when a signal is not below the field modulus.
    function verifyProof(uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c, uint256[17] calldata signals) external view returns (bool);
}
