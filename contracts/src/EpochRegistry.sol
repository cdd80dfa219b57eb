// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The epoch registry: the aggregator proposes each epoch's commitment (spend and reward roots, totals, manifest
// hash, the pinned configuration's hash, the snapshot block, the ledger's hash); during a timelock anyone may revoke
// it by proving one wrong fact on chain (a stake, a reward leaf, a sum: the EpochJudge it creates, or the proof and
// attestation challenges here), and a guardian may revoke it; then anyone finalizes it. Optionally gated on Groth16
// batch proofs of the committed totals. RewardDistributor extends it so that claims read their root from local
// storage.

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {PoseidonT4} from "poseidon-solidity/PoseidonT4.sol";
import {EpochJudge} from "./EpochJudge.sol";
import {IBatchVerifier, IEpochFunding, IEpochRegistry, IRevenueSettlement, IStakeSnapshot} from "./IEpochRegistry.sol";

/// @title EpochRegistry
/// @notice Holds the aggregator's epoch commitments. A proposal stays pending for `timelock` seconds, during
/// which anyone can revoke it with a fraud proof (through `judge`, or `challengeStakeRow`, `challengeOmission`,
/// `challengeSkip`) and a guardian can revoke it; anyone can finalize it afterwards. The reward configuration is
/// pinned here (its hash, each deployment's staking contract, the reward parameters' hash), changed only with the
/// same timelock, so a proposal cannot bring its own. One proposal is pending at a time, so a root never queues
/// silently behind another. A registry made with a batch verifier accepts only proposals whose
/// batch proofs verify and whose proven totals are the committed totals.
contract EpochRegistry is IEpochRegistry, AccessControlDefaultAdminRules {
    /*//////////////////////////////////////////////////////////////
                                 STRUCTS
    //////////////////////////////////////////////////////////////*/

    /// @notice An attestation key of a deployment (an entry of an epoch's recorded attestations).
    struct ProviderKey {
        bytes32 deploymentId;
        uint256 providerKey;
    }

    /// @notice The discount parameters a deployment's batch proofs used: checked against its pinned staking
    /// contract at the committed snapshot block.
    struct SnapshotParameters {
        bytes32 deploymentId;
        uint256 maxDiscountBps;
        uint256 multiplier;
        uint256 circulating;
        /// @dev The charged revenue the deployment's batches prove: what must be paid before the epoch is final.
        uint256 charged;
    }

    /// @notice What the proofs submitted for an epoch prove so far; `chain` hashes their signals in order; `config`
    /// is the configuration whose provider keys they were checked against. The last batch's deployment, provider key,
    /// attestation, index and attested count: the next batch is that attestation's next, or the first of a later
    /// provider once all of them are proven.
    struct Proven {
        uint256 gross;
        uint256 charged;
        uint256 count;
        uint256 batches;
        bytes32 chain;
        bytes32 config;
        uint256 lastDeployment;
        uint256 lastProviderKey;
        uint256 lastAttestation;
        uint256 lastIndex;
        uint256 lastCount;
        uint256 lastMaxDiscountBps;
        uint256 lastMultiplier;
        uint256 lastCirculating;
    }

    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice The role that proposes epochs and submits their proofs (the aggregator).
    bytes32 public constant PUBLISHER_ROLE = keccak256("PUBLISHER_ROLE");
    /// @notice The role that may revoke a pending proposal.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice How many epochs before a proposal's the registry scans for a skipped recorded attestation: a gap wider
    /// than this, from the last final epoch or the first recording, is not scanned beyond it (2.8 years of daily
    /// epochs). It bounds the scan's cost whatever was recorded: at most 4 words and, per epoch with a recording,
    /// its recorded keys (about 8,400 gas each), so a provider cannot make proposals run out of gas.
    uint256 public constant SKIP_SCAN_EPOCHS = 1_024;
    /// @notice The longest timelock a registry takes (30 days): a longer one (2^256 - 1 overflows `propose`) would
    /// hold every epoch's rewards back for good. It is also the delay of a default admin transfer.
    uint256 public constant MAX_TIMELOCK = 30 days;
    /// @notice The shortest epoch the configuration allows (`epochSeconds`, src/epoch/config.ts): epoch e ends at
    /// (e + 1) * epochSeconds >= (e + 1) * 60, so a proposal of an epoch e with (e + 1) * 60 > now names an epoch that
    /// has not ended (a typo, or 2^64 - 1, whose finality would refuse every later epoch) and is refused.
    uint256 public constant MIN_EPOCH_SECONDS = 60;
    /// @dev The BN254 scalar field the batch circuit works in.
    uint256 internal constant FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev A stake row cell's gross and charged fields (76 bits each).
    uint256 internal constant SPEND_MASK = (1 << 76) - 1;

    /// @notice Seconds a proposal stays pending (revocable) before it can be finalized.
    uint256 public immutable timelock;
    /// @notice Zero: proofs are optional (auditors check them off chain); otherwise every proposal carries them.
    IBatchVerifier public immutable verifier;
    /// @notice How many blocks old a proposal's snapshot block may be: the aggregator cannot judge stakes at a block
    /// of its choosing long past (a stake withdrawn since would go on counting, one made since never would).
    uint256 public immutable snapshotMaxAge;
    /// @notice Where each epoch's charged revenue is paid; `finalize` waits until it is, per proven deployment and in
    /// total. Zero: revenue is reported by the epoch (report.json), not enforced on chain.
    IRevenueSettlement public immutable revenueSettlement;
    /// @notice What moves each epoch's emission and vesting releases into the distributor as it is finalized (zero:
    /// the distributor is funded by other means).
    IEpochFunding public immutable epochFunding;
    /// @inheritdoc IEpochRegistry
    address public immutable judge;

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

    /// @notice keccak256 of the pinned configuration's config.json; every proposal carries it. Zero until pinned.
    bytes32 public configHash;
    /// @notice The configuration waiting for its timelock (zero when none).
    bytes32 public scheduledConfigHash;
    /// @notice The timestamp from which the scheduled configuration can be pinned.
    uint256 public scheduledConfigReadyAt;
    /// @notice Each configuration's staking contract per deployment (zero: a deployment it does not have).
    mapping(bytes32 configHash => mapping(bytes32 deploymentId => address)) public stakingOf;
    /// @notice keccak256(abi.encode(deploymentIds, stakings, keyDeploymentIds, providerKeys, providerAccounts)) as
    /// each configuration was scheduled: an auditor recomputes it from config.json, so nothing is pinned that
    /// config.json does not name.
    mapping(bytes32 configHash => bytes32) public pinnedContentOf;
    /// @notice The provider account a configuration pins for an attestation key id (Poseidon(x, y)) of a deployment:
    /// batch proofs are taken only under pinned keys, and only that account records attestations under its key. Zero:
    /// a key the configuration does not pin.
    mapping(bytes32 configHash => mapping(bytes32 deploymentId => mapping(uint256 providerKey => address))) public providerAccountOf;
    /// @notice The attestation each key recorded for an epoch (zero: none).
    mapping(uint64 epoch => mapping(bytes32 deploymentId => mapping(uint256 providerKey => uint256))) public recordedAttestation;
    /// @dev Every key that recorded an attestation of an epoch, in recording order.
    mapping(uint64 epoch => ProviderKey[]) internal _recorded;
    /// @notice How many times an epoch's submitted proofs were dropped (reset, or withdrawn with a proposal).
    mapping(uint64 epoch => uint256) public proofRound;
    /// @dev keccak256 of each batch proof's signals, by epoch, proof round and batch index: what a stake-row challenge
    /// names a batch by.
    mapping(uint64 epoch => mapping(uint256 round => mapping(uint256 batch => bytes32))) internal _batchSignals;
    /// @dev Each deployment's discount parameters in an epoch's proofs of a round, in proof order.
    mapping(uint64 epoch => mapping(uint256 round => SnapshotParameters[])) internal _provenParameters;
    /// @dev The attestation whose batches an epoch's proofs of a round prove completely, per key.
    mapping(uint64 epoch => mapping(uint256 round => mapping(bytes32 deploymentId => mapping(uint256 providerKey => uint256)))) internal _completed;
    /// @dev Hashes ever scheduled: a hash is bound to its staking contracts and provider keys once.
    mapping(bytes32 configHash => bool) internal _scheduled;
    /// @dev One bit per epoch with a recorded attestation, 256 epochs a word: what a proposal scans for skipped ones.
    mapping(uint256 word => uint256 bits) internal _recordedEpochs;
    /// @dev The lowest epoch with a recorded attestation (meaningful once `_anyRecorded`): where the first proposal's
    /// scan starts, as no final epoch bounds it.
    uint64 internal _lowestRecorded;
    bool internal _anyRecorded;
    /// @notice From when each account may act with PUBLISHER_ROLE: a grant after deployment takes effect only after
    /// `timelock`, so an admin cannot make a publisher that proposes before watchers see the grant.
    mapping(address account => uint256) public publisherFrom;
    /// @notice keccak256(abi.encode(epoch, commitment)) of proposals the guardian or the judge revoked: never proposed
    /// again unchanged.
    mapping(bytes32 proposal => bool) public revokedProposal;
    /// @dev keccak256(abi.encode(epoch, commitment)) of the pending proposal.
    bytes32 internal _pendingHash;
    /// @notice Spend roots a challenge proved wrong: never proposed again.
    mapping(bytes32 spendRoot => bool) public challengedSpendRoot;
    /// @inheritdoc IEpochRegistry
    mapping(bytes32 configHash => bytes32) public rewardParamsOf;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes the roles; non-zero), transferred in two steps
    /// with a delay of `timelockSeconds` (AccessControlDefaultAdminRules).
    /// @param publisher Holder of PUBLISHER_ROLE (the aggregator; non-zero).
    /// @param guardian Holder of GUARDIAN_ROLE (non-zero).
    /// @param timelockSeconds Seconds a proposal stays pending before it can be finalized (1 to `MAX_TIMELOCK`).
    /// @param batchVerifier The batch proof verifier; zero makes proofs optional, otherwise a contract.
    /// @param snapshotMaxAgeBlocks How many blocks before the proposal its snapshot block may be (non-zero).
    /// @param settlement The revenue settlement contract (zero: revenue not enforced; otherwise a contract).
    /// @param funding The epoch funding contract (zero: none; otherwise a contract).
    constructor(
        address admin,
        address publisher,
        address guardian,
        uint256 timelockSeconds,
        IBatchVerifier batchVerifier,
        uint256 snapshotMaxAgeBlocks,
        IRevenueSettlement settlement,
        IEpochFunding funding
    ) AccessControlDefaultAdminRules(_adminDelay(timelockSeconds), admin) {
        if (snapshotMaxAgeBlocks == 0 || publisher == address(0) || guardian == address(0)) revert EpochRegistryInvalidConfig();
        if (address(batchVerifier) != address(0) && address(batchVerifier).code.length == 0) revert EpochRegistryInvalidConfig();
        if (address(settlement) != address(0) && address(settlement).code.length == 0) revert EpochRegistryInvalidConfig();
        if (address(funding) != address(0) && address(funding).code.length == 0) revert EpochRegistryInvalidConfig();
        revenueSettlement = settlement;
        epochFunding = funding;
        // The deployment's own publisher acts at once (the base grant, not this contract's timed one).
        AccessControlDefaultAdminRules._grantRole(PUBLISHER_ROLE, publisher);
        _grantRole(GUARDIAN_ROLE, guardian);
        timelock = timelockSeconds;
        verifier = batchVerifier;
        snapshotMaxAge = snapshotMaxAgeBlocks;
        judge = address(new EpochJudge(address(this)));
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Proposes the commitment of `epoch`; it becomes final after the timelock unless revoked. A registry
    /// with a verifier takes it only when the proofs submitted for the epoch prove exactly its totals.
    /// @dev Publisher role only. Reverts as `_propose` does, and with a verifier as `_checkProven` does.
    /// @param epoch The epoch.
    /// @param c The epoch's commitment.
    /// @param artifacts Where the epoch's sealed directory can be fetched (a URL ending in `/`, or empty): logged for
    /// watchers, never stored or trusted (a watcher checks every file against `c.manifestHash`).
    function propose(uint64 epoch, Commitment calldata c, string calldata artifacts) external onlyPublisher {
        _propose(epoch, c, artifacts);
        if (address(verifier) != address(0)) _checkProven(epoch, c);
    }

    /// @notice Submits and proposes in one transaction (an epoch whose proofs fit in one block).
    /// @dev Publisher role only. Reverts with `EpochRegistryNoVerifier` on a registry without a verifier.
    /// @param epoch The epoch.
    /// @param c The epoch's commitment.
    /// @param proofs The epoch's remaining batch proofs, added to any submitted before.
    /// @param artifacts As in `propose`.
    function proposeWithProofs(uint64 epoch, Commitment calldata c, BatchProof[] calldata proofs, string calldata artifacts) external onlyPublisher {
        _submit(epoch, proofs);
        _propose(epoch, c, artifacts);
        _checkProven(epoch, c);
    }

    /// @notice Verifies batch proofs of `epoch` and adds them to its proven totals; an epoch's proofs may span many
    /// transactions. Each must verify, prove this epoch for this registry, and be the next batch of a provider
    /// attestation signed by a key the pinned configuration registers for its deployment.
    /// @dev Publisher role only.
    /// @param epoch The epoch.
    /// @param proofs The batch proofs, in the order their signals enter `proofsHash`.
    function submitProofs(uint64 epoch, BatchProof[] calldata proofs) external onlyPublisher {
        _submit(epoch, proofs);
    }

    /// @notice Forgets the proofs submitted for an epoch that is neither pending nor final (to start its submission
    /// again).
    /// @dev Publisher role only. Reverts with `EpochRegistryPendingExists` for the pending epoch, whose proofs are
    /// what its proposal was checked against, and `EpochRegistryEpochNotAfter` for a final one.
    /// @param epoch The epoch.
    function resetProofs(uint64 epoch) external onlyPublisher {
        if (hasPending && pendingEpoch == epoch) revert EpochRegistryPendingExists(epoch);
        // A final epoch's proofs are what it was proven with (provenAttestation reads them): kept for good.
        _requireAfterFinal(epoch);
        _dropProofs(epoch);
        emit ProofsReset(epoch);
    }

    /// @notice A guardian withdraws the pending proposal (a wrong or disputed root).
    /// @dev Guardian role only. Reverts with `EpochRegistryNoPending` unless `epoch` is pending.
    /// @param epoch The pending epoch.
    function revoke(uint64 epoch) external onlyRole(GUARDIAN_ROLE) {
        _requirePending(epoch);
        revokedProposal[_pendingHash] = true;
        _withdrawPending(epoch);
        emit EpochRevoked(epoch, msg.sender);
    }

    /// @inheritdoc IEpochRegistry
    function revokeChallenged(uint64 epoch, bool barSpendRoot) external {
        if (msg.sender != judge) revert EpochRegistryNotJudge(msg.sender);
        _requirePending(epoch);
        revokedProposal[_pendingHash] = true;
        if (barSpendRoot) challengedSpendRoot[_pending.spendRoot] = true;
        _withdrawPending(epoch);
    }

    /// @notice A provider records its attestation of `epoch` (the message its EdDSA signature covers): from then on a
    /// proposal of the epoch must prove every batch of that attestation while its configuration pins the key, so an
    /// aggregator can neither leave the provider's receipts out nor prove another attestation of the provider. An
    /// attestation, once recorded, is final. Open until the epoch is final; one recorded while a proposal leaving it
    /// out is pending revokes that proposal through `challengeOmission`.
    /// @dev Reverts with `EpochRegistryNoVerifier` on a registry without a verifier, `EpochRegistryEpochNotAfter` for
    /// an epoch already final, `EpochRegistryNotAttester` unless the caller is the account the pinned configuration
    /// names for the key, and `EpochRegistryAttestationRecorded` for a second attestation or a zero one. A provider
    /// that records an attestation it does not then hand the aggregator the receipts of holds the epoch up until the
    /// admin schedules a configuration without its key (docs/trust-model.md).
    /// @param epoch The epoch.
    /// @param deploymentId The deployment.
    /// @param providerKey The provider's attestation key id.
    /// @param attestation The signed message (the batch proofs' `attestation` signal).
    function recordAttestation(uint64 epoch, bytes32 deploymentId, uint256 providerKey, uint256 attestation) external {
        if (address(verifier) == address(0)) revert EpochRegistryNoVerifier();
        _requireAfterFinal(epoch);
        address account = providerAccountOf[configHash][deploymentId][providerKey];
        if (account == address(0) || account != msg.sender) revert EpochRegistryNotAttester(deploymentId, providerKey, msg.sender);
        if (attestation == 0 || recordedAttestation[epoch][deploymentId][providerKey] != 0)
            revert EpochRegistryAttestationRecorded(epoch, deploymentId, providerKey);
        recordedAttestation[epoch][deploymentId][providerKey] = attestation;
        _recorded[epoch].push(ProviderKey(deploymentId, providerKey));
        _recordedEpochs[epoch >> 8] |= 1 << (epoch & 255);
        if (!_anyRecorded || epoch < _lowestRecorded) (_lowestRecorded, _anyRecorded) = (epoch, true);
        emit AttestationRecorded(epoch, deploymentId, providerKey, attestation, msg.sender);
    }

    /// @notice Anyone revokes the pending proposal of `epoch` by naming a recorded attestation its proofs do not
    /// prove completely, under a key its configuration pins. Open until finalized.
    /// @dev Reverts with `EpochRegistryNoPending` unless `epoch` is pending and `EpochRegistryAttestationProven`
    /// when the attestation is proven (or none is recorded, or the key is not pinned).
    /// @param epoch The pending epoch.
    /// @param deploymentId The deployment.
    /// @param providerKey The attestation key id.
    function challengeOmission(uint64 epoch, bytes32 deploymentId, uint256 providerKey) external {
        _requirePending(epoch);
        bytes32 spendRoot = _pending.spendRoot;
        uint256 recorded = recordedAttestation[epoch][deploymentId][providerKey];
        if (recorded == 0 || !_omits(epoch, _pending.configHash, deploymentId, providerKey, recorded))
            revert EpochRegistryAttestationProven(deploymentId, providerKey);
        challengedSpendRoot[spendRoot] = true;
        _withdrawPending(epoch);
        emit EpochOmissionChallenged(epoch, msg.sender, deploymentId, providerKey, recorded);
    }

    /// @notice Anyone revokes the pending proposal of `epoch` by naming an earlier epoch, not final, with an
    /// attestation recorded under a key the proposal's configuration pins: once `epoch` is final that epoch can never
    /// be proposed, so the provider's receipts would be dropped. Open until finalized (`skippedRecording` finds one).
    /// @dev Reverts with `EpochRegistryNoPending` unless `epoch` is pending and `EpochRegistryNotSkipped` unless
    /// `skipped` lies between the last final epoch and `epoch` with such a recording.
    /// @param epoch The pending epoch.
    /// @param skipped The earlier epoch.
    /// @param deploymentId The recorded attestation's deployment.
    /// @param providerKey Its attestation key id.
    function challengeSkip(uint64 epoch, uint64 skipped, bytes32 deploymentId, uint256 providerKey) external {
        _requirePending(epoch);
        if (skipped >= epoch || (hasFinalized && skipped <= lastFinalizedEpoch) || recordedAttestation[skipped][deploymentId][providerKey] == 0
            || providerAccountOf[_pending.configHash][deploymentId][providerKey] == address(0)) revert EpochRegistryNotSkipped(skipped);
        // The proposal's own trees may be right (a skip says nothing of them): withdrawn, its root not barred.
        _withdrawPending(epoch);
        emit EpochSkipChallenged(epoch, msg.sender, skipped, deploymentId, providerKey);
    }

    /// @notice Anyone revokes the pending proposal of `epoch` by opening the stake table of one of its batch proofs:
    /// the rows (user, cell) whose Poseidon chain is the batch's `stakesCommitment`, the discounts of its receipts
    /// were computed from, and showing one whose stake is not the eligible stake the pinned staking contract of the
    /// batch's deployment gives at the committed snapshot block (padding rows are (0, 0)). A row's cell packs its
    /// stake with its user's spend in the batch: stake * 2^152 + gross * 2^76 + charged. Open until finalized.
    /// @dev Reverts with `EpochRegistryNoPending` unless `epoch` is pending, `EpochRegistryBatchUnknown` for signals
    /// that are not the batch's, `EpochRegistryStakeRowsOpening` for rows that do not open its commitment, and
    /// `EpochRegistryStakeRowsRight` when every row is right.
    /// @param epoch The pending epoch.
    /// @param batch The batch's index in the epoch's proofs.
    /// @param signals The batch proof's public signals.
    /// @param users Each row's user, in order (field elements).
    /// @param cells Each row's cell (stake * 2^152 + gross * 2^76 + charged), in order.
    function challengeStakeRow(uint64 epoch, uint256 batch, uint256[17] calldata signals, uint256[] calldata users, uint256[] calldata cells) external {
        _openBatch(epoch, batch, signals, users, cells);
        Commitment storage c = _pending;
        IStakeSnapshot staking = IStakeSnapshot(stakingOf[c.configHash][bytes32((signals[9] << 128) | signals[10])]);
        for (uint256 i = 0; i < users.length; ++i) {
            // A user above 2^160 names no account: no stake can be right for it.
            uint256 actual = users[i] >> 160 != 0 ? type(uint256).max : staking.eligibleStakeAt(address(uint160(users[i])), c.snapshotBlock);
            uint256 stake = cells[i] >> 152;
            if (actual != stake) {
                challengedSpendRoot[c.spendRoot] = true;
                _withdrawPending(epoch);
                emit EpochStakeRowChallenged(epoch, msg.sender, batch, users[i], stake, actual);
                return;
            }
        }
        revert EpochRegistryStakeRowsRight(batch);
    }

    /// @inheritdoc IEpochRegistry
    function batchSpend(uint64 epoch, uint256 batch, uint256[17] calldata signals, uint256[] calldata users, uint256[] calldata cells, address user)
        external
        view
        returns (bytes32 deploymentId, uint256 gross, uint256 charged)
    {
        _openBatch(epoch, batch, signals, users, cells);
        deploymentId = bytes32((signals[9] << 128) | signals[10]);
        // Every row of the user counts: the circuit orders rows strictly by user but lets padding rows (user 0)
        // repeat. It bounds a row's gross and charged below 2^76, so the cell's fields do not overlap.
        for (uint256 i = 0; i < users.length; ++i) {
            if (users[i] == uint160(user)) (gross, charged) = (gross + ((cells[i] >> 76) & SPEND_MASK), charged + (cells[i] & SPEND_MASK));
        }
    }

    /// @notice Schedules a configuration (the hash of its config.json, the hash of its reward parameters, each
    /// deployment's staking contract and its providers' attestation keys). The first one is pinned at once (no epoch
    /// can be proposed before it); later ones wait `timelock` seconds, so every watcher sees a change before any
    /// proposal can use it.
    /// @dev Admin role only. Reverts with `EpochRegistryInvalidConfig` for a zero hash or reward parameters hash, a
    /// hash pinned or scheduled before, no deployment, lists of different lengths, a repeated deployment, a staking
    /// contract without code (every challenge of its deployment would revert), or a key of a deployment the
    /// configuration does not have.
    /// A later schedule replaces one not yet pinned.
    /// @param hash keccak256 of the configuration's config.json.
    /// @param rewardParams keccak256(abi.encode(IEpochJudge.RewardParams)) of its reward parameters (emission, bonus,
    /// score basis, denominator, tokens and each deployment's issuer, MT, graduation epoch and streams), what the
    /// judge recomputes reward leaves with (`rewardParameters` in src/epoch/ledger.ts).
    /// @param deploymentIds The configuration's deployments.
    /// @param stakings Each deployment's staking contract (MTStaking of its Model Token).
    /// @param keyDeploymentIds The deployment of each provider attestation key.
    /// @param providerKeys The providers' attestation key ids (Poseidon(x, y)); batch proofs are taken only under them.
    /// @param providerAccounts The provider account of each key (non-zero), the one that records its attestations.
    function scheduleConfig(
        bytes32 hash,
        bytes32 rewardParams,
        bytes32[] calldata deploymentIds,
        address[] calldata stakings,
        bytes32[] calldata keyDeploymentIds,
        uint256[] calldata providerKeys,
        address[] calldata providerAccounts
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (
            hash == bytes32(0) || rewardParams == bytes32(0) || _scheduled[hash] || deploymentIds.length == 0 || deploymentIds.length != stakings.length
                || keyDeploymentIds.length != providerKeys.length || providerKeys.length != providerAccounts.length
        ) revert EpochRegistryInvalidConfig();
        _scheduled[hash] = true;
        rewardParamsOf[hash] = rewardParams;
        _pinStakings(hash, deploymentIds, stakings);
        _pinKeys(hash, keyDeploymentIds, providerKeys, providerAccounts);
        pinnedContentOf[hash] = keccak256(abi.encode(deploymentIds, stakings, keyDeploymentIds, providerKeys, providerAccounts));
        uint256 readyAt = configHash == bytes32(0) ? block.timestamp : block.timestamp + timelock;
        emit ConfigScheduled(hash, rewardParams, readyAt, deploymentIds, stakings, keyDeploymentIds, providerKeys, providerAccounts);
        if (configHash == bytes32(0)) {
            configHash = hash;
            emit ConfigPinned(hash);
        } else {
            scheduledConfigHash = hash;
            scheduledConfigReadyAt = readyAt;
        }
    }

    /// @notice Pins the scheduled configuration once its timelock has passed. Anyone may call. A proposal pending
    /// under the previous one keeps it (its commitment names its hash).
    /// @dev Reverts with `EpochRegistryConfigNotReady` when none is scheduled or before `scheduledConfigReadyAt`.
    function activateConfig() external {
        bytes32 hash = scheduledConfigHash;
        if (hash == bytes32(0) || block.timestamp < scheduledConfigReadyAt) revert EpochRegistryConfigNotReady(scheduledConfigReadyAt);
        configHash = hash;
        delete scheduledConfigHash;
        delete scheduledConfigReadyAt;
        emit ConfigPinned(hash);
    }

    /// @notice Makes the pending proposal final once its timelock has passed. Anyone may call.
    /// @dev Reverts with `EpochRegistryNoPending` unless `epoch` is pending, `EpochRegistryTimelock` before
    /// `pendingReadyAt`; with a verifier, as `propose` for a recorded attestation it skips or leaves out (recorded
    /// since: anyone then revokes it); `EpochRegistryRevenueUnpaid` until its revenue is paid; and as the funding
    /// contract's `fund` while its rewards are not funded.
    /// @param epoch The pending epoch.
    function finalize(uint64 epoch) external {
        _requirePending(epoch);
        if (block.timestamp < pendingReadyAt) revert EpochRegistryTimelock(epoch, pendingReadyAt);
        Commitment memory c = _pending;
        // A recording made too late to be challenged (in the block of this call) still binds.
        if (address(verifier) != address(0)) _checkRecorded(epoch, c.configHash);
        if (address(revenueSettlement) != address(0)) _checkPaid(epoch, c.totalCharged);
        _final[epoch] = c;
        hasPending = false;
        delete _pending;
        lastFinalizedEpoch = epoch;
        hasFinalized = true;
        currentRewardRoot = c.rewardRoot;
        // Funded before the root is claimable, after the state is final (a contract fixed at construction).
        if (address(epochFunding) != address(0)) epochFunding.fund(epoch);
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

    /// @notice Whether a spend leaf (epoch, deployment, user, gross, charged, receipts, stake) is in a final
    /// epoch's spend tree. Leaves are OpenZeppelin standard leaves: keccak256(keccak256(abi.encode(...))).
    /// @param epoch The final epoch.
    /// @param leaf The leaf: the user's gross spend before discount, what they were charged, their receipts and
    /// their eligible stake at the snapshot block.
    /// @param proof The Merkle proof of the leaf.
    /// @return Whether the leaf is in the spend tree; false when the epoch is not final.
    function verifySpend(uint64 epoch, SpendLeaf calldata leaf, bytes32[] calldata proof) external view returns (bool) {
        bytes32 root = _final[epoch].spendRoot;
        if (root == bytes32(0)) return false;
        return MerkleProof.verifyCalldata(proof, root, _spendLeafHash(epoch, leaf));
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @dev Verifies each proof and folds its signals into the epoch's proven totals and hash chain.
    function _submit(uint64 epoch, BatchProof[] calldata proofs) internal {
        if (address(verifier) == address(0)) revert EpochRegistryNoVerifier();
        _requireAfterFinal(epoch);
        if (hasPending && pendingEpoch == epoch) revert EpochRegistryPendingExists(epoch);
        Proven memory p = provenOf[epoch];
        if (p.batches == 0) {
            if (configHash == bytes32(0)) revert EpochRegistryNoConfig();
            p.config = configHash;
        }
        bytes32 d = domain();
        for (uint256 i = 0; i < proofs.length; ++i) {
            BatchProof calldata b = proofs[i];
            uint256[17] calldata s = b.signals;
            // The verifier refuses any signal >= the field modulus, so the sums below cannot alias.
            if (!verifier.verifyProof(b.a, b.b, b.c, s)) revert EpochRegistryInvalidProof(p.batches + i);
            if (s[8] != epoch) revert EpochRegistryProofEpoch(p.batches + i, s[8]);
            if (s[11] >> 128 != 0 || s[12] >> 128 != 0 || bytes32((s[11] << 128) | s[12]) != d) revert EpochRegistryProofDomain(p.batches + i);
            _batchSignals[epoch][proofRound[epoch]][p.batches + i] = keccak256(abi.encode(s));
            uint256 previousDeployment = p.lastDeployment;
            _checkSequence(p, s, p.batches + i);
            // The attestation's last batch: all of it is proven.
            if (s[6] + 1 == s[7]) _completed[epoch][proofRound[epoch]][bytes32(p.lastDeployment)][s[4]] = s[5];
            // A deployment's batches are contiguous (providers in (deployment, key) order), all with one snapshot's
            // X, M and circulating supply, checked against the chain at proposal.
            if (p.batches + i == 0 || p.lastDeployment != previousDeployment) {
                _provenParameters[epoch][proofRound[epoch]].push(SnapshotParameters(bytes32(p.lastDeployment), s[13], s[14], s[15], s[3]));
            } else if (s[13] != p.lastMaxDiscountBps || s[14] != p.lastMultiplier || s[15] != p.lastCirculating) {
                revert EpochRegistryProofParameters(p.batches + i);
            } else {
                SnapshotParameters[] storage proven = _provenParameters[epoch][proofRound[epoch]];
                proven[proven.length - 1].charged += s[3];
            }
            (p.lastMaxDiscountBps, p.lastMultiplier, p.lastCirculating) = (s[13], s[14], s[15]);
            p.gross += s[2];
            p.charged += s[3];
            p.count += s[16];
            p.chain = keccak256(abi.encode(p.chain, s));
        }
        p.batches += proofs.length;
        provenOf[epoch] = p;
        emit ProofsSubmitted(epoch, proofs.length, p.batches);
    }

    /// @dev The batch is the next attested batch (see `EpochRegistryProofOrder`) under a provider key the proofs'
    /// configuration pins for its deployment. Signals: 4 provider key, 5 attestation (the signed message, which binds
    /// the attested root and batch count), 6 batch index, 7 attested batch count, 9-10 deployment. Updates `p`.
    function _checkSequence(Proven memory p, uint256[17] calldata s, uint256 batch) internal view {
        if (s[9] >> 128 != 0 || s[10] >> 128 != 0) revert EpochRegistryProofOrder(batch);
        uint256 deployment = (s[9] << 128) | s[10];
        (uint256 key, uint256 attestation, uint256 index) = (s[4], s[5], s[6]);
        if (batch > 0 && deployment == p.lastDeployment && key == p.lastProviderKey) {
            if (attestation != p.lastAttestation || index != p.lastIndex + 1) revert EpochRegistryProofOrder(batch);
        } else {
            bool after_ = batch == 0
                || (p.lastIndex + 1 == p.lastCount && (deployment > p.lastDeployment || (deployment == p.lastDeployment && key > p.lastProviderKey)));
            if (!after_ || index != 0) revert EpochRegistryProofOrder(batch);
            if (providerAccountOf[p.config][bytes32(deployment)][key] == address(0)) revert EpochRegistryProofProvider(batch, key);
        }
        (p.lastDeployment, p.lastProviderKey, p.lastAttestation, p.lastIndex, p.lastCount) = (deployment, key, attestation, index, s[7]);
    }

    /// @dev The submitted proofs prove every batch of the last provider's attestation and exactly the committed
    /// gross, charged and receipt count (the spend tree's totals) under the committed configuration, their signals
    /// hash to the committed proofsHash, each deployment's receipts were discounted with the X, M and circulating
    /// supply its pinned staking contract gives at the committed snapshot block, and every recorded attestation the
    /// configuration still pins is proven whole, and no earlier epoch still open has one (it would close for good).
    function _checkProven(uint64 epoch, Commitment calldata c) internal view {
        Proven memory p = provenOf[epoch];
        if (p.batches == 0) revert EpochRegistryProofsRequired();
        if (p.lastIndex + 1 != p.lastCount) revert EpochRegistryProofsIncomplete(p.lastIndex + 1, p.lastCount);
        if (c.configHash != p.config) revert EpochRegistryWrongConfig(p.config, c.configHash);
        if (p.gross != c.totalGross || p.charged != c.totalCharged || p.count != c.receiptCount) revert EpochRegistryProvenTotals(p.gross, p.charged, p.count);
        if (p.chain != c.proofsHash) revert EpochRegistryProofsHash(p.chain, c.proofsHash);
        SnapshotParameters[] storage parameters = _provenParameters[epoch][proofRound[epoch]];
        for (uint256 i = 0; i < parameters.length; ++i) {
            SnapshotParameters memory q = parameters[i];
            // The proofs' configuration pins every proven deployment (its keys are pinned with it), so this is a contract.
            IStakeSnapshot staking = IStakeSnapshot(stakingOf[c.configHash][q.deploymentId]);
            uint256[3] memory onChain = [staking.maxDiscountBpsAt(c.snapshotBlock), staking.multiplierAt(c.snapshotBlock), staking.circulatingSupplyAt(c.snapshotBlock)];
            if (onChain[0] != q.maxDiscountBps || onChain[1] != q.multiplier || onChain[2] != q.circulating)
                revert EpochRegistrySnapshotParameters(q.deploymentId, [q.maxDiscountBps, q.multiplier, q.circulating], onChain);
        }
        _checkRecorded(epoch, c.configHash);
    }

    /// @dev No earlier epoch still open has a recorded attestation under a key `config` pins, and every one recorded
    /// for `epoch` is proven whole.
    function _checkRecorded(uint64 epoch, bytes32 config) internal view {
        (bool skips, uint64 skipped,) = _skipped(epoch, config);
        if (skips) revert EpochRegistryEpochSkipped(skipped);
        ProviderKey[] storage recorded = _recorded[epoch];
        for (uint256 i = 0; i < recorded.length; ++i) {
            ProviderKey memory k = recorded[i];
            uint256 attestation = recordedAttestation[epoch][k.deploymentId][k.providerKey];
            if (_omits(epoch, config, k.deploymentId, k.providerKey, attestation))
                revert EpochRegistryAttestationUnproven(k.deploymentId, k.providerKey, attestation);
        }
    }

    /// @dev The epoch's charged revenue is paid to the settlement contract: the committed total, and with proofs each
    /// proven deployment's charged revenue (so it cannot be paid to the wrong deployment's waterfall).
    function _checkPaid(uint64 epoch, uint256 totalCharged) internal view {
        uint256 paid = revenueSettlement.paidTotal(epoch);
        if (paid < totalCharged) revert EpochRegistryRevenueUnpaid(bytes32(0), totalCharged, paid);
        if (address(verifier) == address(0)) return;
        SnapshotParameters[] storage proven = _provenParameters[epoch][proofRound[epoch]];
        for (uint256 i = 0; i < proven.length; ++i) {
            (bytes32 deploymentId, uint256 due) = (proven[i].deploymentId, proven[i].charged);
            uint256 paidOf = revenueSettlement.paidOf(epoch, deploymentId);
            if (paidOf < due) revert EpochRegistryRevenueUnpaid(deploymentId, due, paidOf);
        }
    }

    /// @dev `signals` are batch `batch` of the pending epoch's current proofs, and the rows open its stakes commitment.
    function _openBatch(uint64 epoch, uint256 batch, uint256[17] calldata signals, uint256[] calldata users, uint256[] calldata cells) internal view {
        _requirePending(epoch);
        if (_batchSignals[epoch][proofRound[epoch]][batch] != keccak256(abi.encode(signals))) revert EpochRegistryBatchUnknown(batch);
        if (_stakesCommitment(users, cells) != signals[1]) revert EpochRegistryStakeRowsOpening();
    }

    /// @dev The Poseidon chain of stake rows as the batch circuit commits them: h = Poseidon(h, user, cell) from 0.
    /// Users must be field elements (Poseidon reduces its inputs, so user + p would open the same commitment), and
    /// cells below 2^248, as the circuit packs them (a stake below 2^96), so each cell has one stake.
    function _stakesCommitment(uint256[] calldata users, uint256[] calldata cells) internal pure returns (uint256 chain) {
        if (users.length != cells.length || users.length == 0) revert EpochRegistryStakeRowsOpening();
        for (uint256 i = 0; i < users.length; ++i) {
            if (users[i] >= FIELD_MODULUS || cells[i] >> 248 != 0) revert EpochRegistryStakeRowsOpening();
            chain = PoseidonT4.hash([chain, users[i], cells[i]]);
        }
    }

    /// @dev Whether the epoch's current proofs leave out (or prove only in part) a recorded attestation whose key the
    /// configuration pins. A key the configuration no longer pins (its provider dropped) binds nothing.
    function _omits(uint64 epoch, bytes32 config, bytes32 deploymentId, uint256 providerKey, uint256 attestation) internal view returns (bool) {
        if (providerAccountOf[config][deploymentId][providerKey] == address(0)) return false;
        return _completed[epoch][proofRound[epoch]][deploymentId][providerKey] != attestation;
    }

    /// @notice The first epoch the pending proposal skips: before it, after the last final one (at most
    /// `SKIP_SCAN_EPOCHS` back), with an attestation recorded under a key the pending configuration pins; what
    /// `challengeSkip` takes.
    /// @return found Whether there is one (false when nothing is pending).
    /// @return skipped The epoch.
    /// @return key The recorded attestation's deployment and key id.
    function skippedRecording() external view returns (bool found, uint64 skipped, ProviderKey memory key) {
        if (!hasPending) return (false, 0, key);
        return _skipped(pendingEpoch, _pending.configHash);
    }

    /// @dev The first epoch before `epoch`, after the last final one (or from the lowest recorded before any is final)
    /// and at most `SKIP_SCAN_EPOCHS` back, with a recording whose key `config` pins. Empty words are passed whole.
    function _skipped(uint64 epoch, bytes32 config) internal view returns (bool, uint64, ProviderKey memory) {
        ProviderKey memory none;
        uint256 e;
        if (hasFinalized) e = uint256(lastFinalizedEpoch) + 1;
        else if (_anyRecorded) e = _lowestRecorded;
        else return (false, 0, none);
        if (epoch > SKIP_SCAN_EPOCHS && e < epoch - SKIP_SCAN_EPOCHS) e = epoch - SKIP_SCAN_EPOCHS;
        while (e < epoch) {
            uint256 bits = _recordedEpochs[e >> 8] >> (e & 255);
            if (bits == 0) {
                e = ((e >> 8) + 1) << 8;
                continue;
            }
            if (bits & 1 != 0) {
                ProviderKey[] storage keys = _recorded[uint64(e)];
                for (uint256 i = 0; i < keys.length; ++i)
                    if (providerAccountOf[config][keys[i].deploymentId][keys[i].providerKey] != address(0)) return (true, uint64(e), keys[i]);
            }
            ++e;
        }
        return (false, 0, none);
    }

    /// @notice The keys that recorded an attestation of `epoch`, in recording order (`recordedAttestation` has each).
    /// @param epoch The epoch.
    /// @return The (deployment, key id) of each.
    function recordedKeys(uint64 epoch) external view returns (ProviderKey[] memory) {
        return _recorded[epoch];
    }

    /// @inheritdoc IEpochRegistry
    function provenCharged(uint64 epoch, bytes32 deploymentId) external view returns (uint256 charged) {
        SnapshotParameters[] storage proven = _provenParameters[epoch][proofRound[epoch]];
        for (uint256 i = 0; i < proven.length; ++i) if (proven[i].deploymentId == deploymentId) charged += proven[i].charged;
    }

    /// @notice The attestation of a key whose batches all the epoch's current proofs prove (zero: none).
    /// @param epoch The epoch.
    /// @param deploymentId The deployment.
    /// @param providerKey The attestation key id.
    /// @return The attestation (the signed message).
    function provenAttestation(uint64 epoch, bytes32 deploymentId, uint256 providerKey) external view returns (uint256) {
        return _completed[epoch][proofRound[epoch]][deploymentId][providerKey];
    }

    /// @dev The OpenZeppelin standard leaf of a spend leaf of `epoch`.
    function _spendLeafHash(uint64 epoch, SpendLeaf calldata l) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(uint256(epoch), l.deploymentId, l.user, l.gross, l.charged, l.receipts, l.stake))));
    }

    /// @dev Binds each deployment of a configuration to its staking contract (once; a contract with code).
    function _pinStakings(bytes32 hash, bytes32[] calldata deploymentIds, address[] calldata stakings) internal {
        mapping(bytes32 => address) storage staking = stakingOf[hash];
        for (uint256 i = 0; i < deploymentIds.length; ++i) {
            if (stakings[i].code.length == 0 || staking[deploymentIds[i]] != address(0)) revert EpochRegistryInvalidConfig();
            staking[deploymentIds[i]] = stakings[i];
        }
    }

    /// @dev Binds each attestation key of a configuration to its provider account (once; a deployment it has).
    function _pinKeys(bytes32 hash, bytes32[] calldata keyDeploymentIds, uint256[] calldata providerKeys, address[] calldata providerAccounts) internal {
        for (uint256 i = 0; i < providerKeys.length; ++i) {
            mapping(uint256 => address) storage accountOf = providerAccountOf[hash][keyDeploymentIds[i]];
            if (stakingOf[hash][keyDeploymentIds[i]] == address(0) || providerAccounts[i] == address(0) || accountOf[providerKeys[i]] != address(0))
                revert EpochRegistryInvalidConfig();
            accountOf[providerKeys[i]] = providerAccounts[i];
        }
    }

    /// @dev Admin transfers wait `timelock` (bounded: a zero or unbounded one is refused before anything is built).
    function _adminDelay(uint256 timelockSeconds) private pure returns (uint48) {
        if (timelockSeconds == 0 || timelockSeconds > MAX_TIMELOCK) revert EpochRegistryInvalidConfig();
        return uint48(timelockSeconds);
    }

    /// @dev PUBLISHER_ROLE, held since at least `timelock` unless granted at deployment.
    modifier onlyPublisher() {
        _checkPublisher();
        _;
    }

    function _checkPublisher() internal view {
        _checkRole(PUBLISHER_ROLE);
        if (block.timestamp < publisherFrom[msg.sender]) revert EpochRegistryPublisherNotYet(msg.sender, publisherFrom[msg.sender]);
    }

    /// @dev A publisher granted after deployment acts only once the timelock has passed (watchers see the grant first).
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && role == PUBLISHER_ROLE) publisherFrom[account] = block.timestamp + timelock;
    }

    /// @dev Reverts with `EpochRegistryNoPending` unless `epoch` is the pending epoch (one function, not six inlined
    /// copies: the distributor's bytecode stays under the 24,576-byte limit).
    function _requirePending(uint64 epoch) internal view {
        if (!hasPending || pendingEpoch != epoch) revert EpochRegistryNoPending(epoch);
    }

    /// @dev Reverts with `EpochRegistryEpochNotAfter` for an epoch at or before the last final one.
    function _requireAfterFinal(uint64 epoch) internal view {
        if (hasFinalized && epoch <= lastFinalizedEpoch) revert EpochRegistryEpochNotAfter(epoch, lastFinalizedEpoch);
    }

    /// @dev Drops the pending proposal and the proofs it was checked against (submitted again with the next one).
    function _withdrawPending(uint64 epoch) internal {
        hasPending = false;
        delete _pending;
        _dropProofs(epoch);
    }

    /// @dev Forgets an epoch's submitted proofs; a new round starts, so what they proved whole no longer counts.
    function _dropProofs(uint64 epoch) internal {
        if (provenOf[epoch].batches == 0) return;
        delete provenOf[epoch];
        ++proofRound[epoch];
    }

    /// @dev The checks every proposal passes: non-zero roots and ledger hash, this registry's domain, the pinned
    /// configuration, a later epoch, none pending, a spend root never proven wrong, a strictly past snapshot at most
    /// `snapshotMaxAge` blocks old and after the last final one.
    function _propose(uint64 epoch, Commitment calldata c, string calldata artifacts) internal {
        if (c.spendRoot == bytes32(0) || c.rewardRoot == bytes32(0) || c.ledgerHash == bytes32(0)) revert EpochRegistryZeroRoot();
        bytes32 expected = domain();
        if (c.domain != expected) revert EpochRegistryWrongDomain(expected, c.domain);
        if (configHash == bytes32(0)) revert EpochRegistryNoConfig();
        if (c.configHash != configHash) revert EpochRegistryWrongConfig(configHash, c.configHash);
        _requireAfterFinal(epoch);
        if (hasPending) revert EpochRegistryPendingExists(pendingEpoch);
        if (challengedSpendRoot[c.spendRoot]) revert EpochRegistryChallengedRoot(c.spendRoot);
        // Epochs are numbered from the Unix epoch: one that has not ended cannot be final (see MIN_EPOCH_SECONDS).
        if ((uint256(epoch) + 1) * MIN_EPOCH_SECONDS > block.timestamp) revert EpochRegistryEpochNotEnded(epoch);
        bytes32 proposal = keccak256(abi.encode(epoch, c));
        if (revokedProposal[proposal]) revert EpochRegistryRevokedProposal(epoch);
        _pendingHash = proposal;
        uint64 previous = hasFinalized ? _final[lastFinalizedEpoch].snapshotBlock : 0;
        if (c.snapshotBlock <= previous || c.snapshotBlock >= block.number || c.snapshotBlock + snapshotMaxAge < block.number)
            revert EpochRegistrySnapshotBlock(c.snapshotBlock, previous, block.number);
        _pending = c;
        pendingEpoch = epoch;
        hasPending = true;
        pendingReadyAt = block.timestamp + timelock;
        emit EpochProposed(epoch, c.spendRoot, c.rewardRoot, c.manifestHash, c.proofsHash, pendingReadyAt, artifacts);
    }
}
