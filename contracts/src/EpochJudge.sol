// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The epoch judge: anyone proves on chain that a pending proposal's ledger, spend list or reward list is wrong (a
// reward leaf the spend, totals and pinned reward parameters do not give, a reward left out, sums that are not the
// totals, a wrong stake, a malformed list, an OpenZeppelin leaf the lists contradict) and the registry withdraws the
// proposal. Created by the registry (and so bound to it), kept apart so the distributor stays under 24,576 bytes.

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IEpochJudge, IListedClaims} from "./IEpochJudge.sol";
import {IEpochRegistry, IStakeSnapshot} from "./IEpochRegistry.sol";
import {Vesting} from "./Vesting.sol";

/// @title EpochJudge
/// @notice Revokes a pending proposal of its registry on a proof of one wrong fact (see IEpochJudge); a right fact
/// reverts with `EpochJudgeNoFault`. Rewards are recomputed exactly as src/economics/epoch.ts `settleEpoch` and
/// `RewardLedger` compute them (shared vectors and a property test in test/contracts/judge.test.ts), the stream
/// releases with the `Vesting` library EpochFunding pays them with.
/// @dev Everything is read from the registry (the pending and final commitments, the pinned reward parameters' hash
/// and staking contracts, the proofs' charged sums and stake tables) or given and checked against its hashes; the one
/// state kept is what a challenger counted so far with `challengeSpendRows`, keyed by the proposal.
contract EpochJudge is IEpochJudge {
    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @dev 1.0 in 18-decimal fixed point (the age factor).
    uint256 internal constant WAD = 1e18;
    /// @dev The age factor's floor, 0.2.
    uint256 internal constant AGE_FLOOR = 0.2e18;
    /// @dev Days over which the age factor falls from 1 to its floor (`VESTING_DAYS`).
    uint256 internal constant AGE_DAYS = 180;
    /// @dev 100 % in basis points.
    uint256 internal constant BPS = 10_000;
    /// @dev The issuer's share of the net revenue (the waterfall's 10 %).
    uint256 internal constant ISSUER_YIELD_BPS = 1_000;
    /// @dev The bits of a spend key below the deployment's index: the user.
    uint256 internal constant USER_BITS = 160;

    /// @inheritdoc IEpochJudge
    IEpochRegistry public immutable registry;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev What each `challengeSpendRows` counted so far, by `_countedSlot`.
    mapping(bytes32 slot => SpendRows) internal _counted;

    /*//////////////////////////////////////////////////////////////
                                 STRUCTS
    //////////////////////////////////////////////////////////////*/

    /// @dev The reward judged by `challengeReward`, kept in memory (the call's arguments fill the stack).
    struct Query {
        uint64 epoch;
        address account;
        address token;
        /// @dev The reward key of (account, token).
        uint256 key;
    }

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param registry_ The registry that creates this judge (and accepts its revocations).
    constructor(address registry_) {
        registry = IEpochRegistry(registry_);
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IEpochJudge
    function challengeLedger(uint64 epoch, Ledger calldata ledger, RewardParams calldata params) external {
        IEpochRegistry.Commitment memory c = _pending(epoch, ledger);
        _checkParams(c.configHash, params);
        uint256 n = params.deployments.length;
        if (ledger.totals.length != n) return _revoke(epoch, Fault.LedgerShape, 0, ledger.totals.length, n);
        if (ledger.spendCount == 0 || ledger.rewardCount == 0) return _revoke(epoch, Fault.EmptyList, 0, ledger.spendCount, ledger.rewardCount);
        (bool grossFits, uint256 gross) = (true, 0);
        (bool chargedFits, uint256 charged) = (true, 0);
        for (uint256 i = 0; i < n && grossFits && chargedFits; ++i) {
            (grossFits, gross) = Math.tryAdd(gross, ledger.totals[i].gross);
            (chargedFits, charged) = Math.tryAdd(charged, ledger.totals[i].charged);
        }
        // A sum above 2^256 - 1 is no committed total either.
        if (!grossFits || gross != c.totalGross) return _revoke(epoch, Fault.CommittedTotals, 0, gross, c.totalGross);
        if (!chargedFits || charged != c.totalCharged) return _revoke(epoch, Fault.CommittedTotals, 1, charged, c.totalCharged);
        if (address(registry.verifier()) != address(0)) {
            for (uint256 i = 0; i < n; ++i) {
                uint256 proven = registry.provenCharged(epoch, params.deployments[i].id);
                if (ledger.totals[i].charged != proven) return _revoke(epoch, Fault.ProvenCharged, i, ledger.totals[i].charged, proven);
            }
        }
        revert EpochJudgeNoFault();
    }

    /// @inheritdoc IEpochJudge
    function challengeSpendList(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, SpendEntry[] calldata entries) external {
        _checkParams(_pending(epoch, ledger).configHash, params);
        if (ledger.totals.length != params.deployments.length) return _revoke(epoch, Fault.LedgerShape, 0, ledger.totals.length, params.deployments.length);
        if (entries.length == 0 || entries.length > 2) revert EpochJudgeBadLookup();
        (bool found, Fault fault, uint256 subject, uint256 committed, uint256 expected) = _spendListFault(epoch, ledger, params, entries);
        if (!found) revert EpochJudgeNoFault();
        _revoke(epoch, fault, subject, committed, expected);
    }

    /// @inheritdoc IEpochJudge
    function challengeSpendTotals(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, uint256 deployment, SpendEntry[] calldata lookup) external {
        _checkParams(_pending(epoch, ledger).configHash, params);
        if (ledger.totals.length != params.deployments.length) return _revoke(epoch, Fault.LedgerShape, 0, ledger.totals.length, params.deployments.length);
        if (deployment >= params.deployments.length) revert EpochJudgeBadLookup();
        uint256 low = (deployment + 1) << USER_BITS;
        // A range lookup never finds a key: it shows the whole range absent or reverts.
        _spendLookup(epoch, ledger, params, low, low | type(uint160).max, lookup);
        DeploymentTotals calldata t = ledger.totals[deployment];
        if (t.gross == 0 && t.eligible == 0 && t.charged == 0) revert EpochJudgeNoFault();
        _revoke(epoch, Fault.SpendTotals, deployment, 0, 0);
    }

    /// @inheritdoc IEpochJudge
    function challengeStake(uint64 epoch, Ledger calldata ledger, SpendEntry calldata entry) external {
        IEpochRegistry.Commitment memory c = _pending(epoch, ledger);
        _openSpend(epoch, ledger, entry);
        address staking = registry.stakingOf(c.configHash, entry.leaf.deploymentId);
        // The snapshot block was strictly past at proposal, so this read cannot fail on a future block.
        uint256 actual = staking == address(0) ? 0 : IStakeSnapshot(staking).eligibleStakeAt(entry.leaf.user, c.snapshotBlock);
        if (staking != address(0) && actual == entry.leaf.stake) revert EpochJudgeNoFault();
        // A spend leaf proven wrong: its spend root is never taken again.
        registry.revokeChallenged(epoch, true);
        emit EpochFaultProven(epoch, msg.sender, Fault.Stake, entry.index, entry.leaf.stake, actual);
    }

    /// @inheritdoc IEpochJudge
    function challengeSpendTree(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, IEpochRegistry.SpendLeaf calldata leaf, bytes32[] calldata ozProof, SpendEntry[] calldata lookup) external {
        IEpochRegistry.Commitment memory c = _pending(epoch, ledger);
        _checkParams(c.configHash, params);
        bytes32 hash = _ozSpendLeaf(epoch, leaf);
        if (!MerkleProof.verifyCalldata(ozProof, c.spendRoot, hash)) revert EpochJudgeNotInTree();
        (bool known, uint256 i) = _indexOf(params, leaf.deploymentId);
        // No key: no list entry can be it.
        if (!known) return _revoke(epoch, Fault.SpendTree, 0, 0, 0);
        uint256 key = _spendKey(i, leaf.user);
        if (_spendLookup(epoch, ledger, params, key, key, lookup) && _ozSpendLeaf(epoch, lookup[0].leaf) == hash) revert EpochJudgeNoFault();
        _revoke(epoch, Fault.SpendTree, key, 0, 0);
    }

    /// @inheritdoc IEpochJudge
    function challengeReward(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, Ledger calldata previousLedger, address account, address token, RewardEntry[] calldata current, RewardEntry[] calldata previous, SpendEntry[][] calldata spends) external {
        _checkParams(_pending(epoch, ledger).configHash, params);
        if (ledger.totals.length != params.deployments.length) return _revoke(epoch, Fault.LedgerShape, 0, ledger.totals.length, params.deployments.length);
        Query memory q = Query(epoch, account, token, _rewardKey(account, token));
        (, uint256 value) = _rewardLookup(ledger.rewardList, ledger.rewardCount, q.key, current);
        uint256 expected = _previous(previousLedger, q.key, previous) + _credit(q, ledger, params, spends);
        if (value == expected) revert EpochJudgeNoFault();
        _revoke(q.epoch, Fault.Reward, q.key, value, expected);
    }

    /// @inheritdoc IEpochJudge
    function challengeRewardList(uint64 epoch, Ledger calldata ledger, RewardEntry[] calldata entries) external {
        _pending(epoch, ledger);
        if (entries.length != 2) revert EpochJudgeBadLookup();
        (RewardEntry calldata a, RewardEntry calldata b) = (entries[0], entries[1]);
        bytes32 dom = _domain();
        _openReward(ledger.rewardList, ledger.rewardCount, dom, a);
        _openReward(ledger.rewardList, ledger.rewardCount, dom, b);
        if (b.index != a.index + 1) revert EpochJudgeBadLookup();
        (uint256 ka, uint256 kb) = (_rewardKey(a.account, a.token), _rewardKey(b.account, b.token));
        if (ka < kb) revert EpochJudgeNoFault();
        _revoke(epoch, Fault.RewardOrder, a.index, ka, kb);
    }

    /// @inheritdoc IEpochJudge
    function challengeRewardTree(uint64 epoch, Ledger calldata ledger, address account, address token, uint256 cumulative, bytes32[] calldata ozProof, RewardEntry[] calldata lookup) external {
        IEpochRegistry.Commitment memory c = _pending(epoch, ledger);
        if (!MerkleProof.verifyCalldata(ozProof, c.rewardRoot, _rewardLeaf(_domain(), account, token, cumulative))) revert EpochJudgeNotInTree();
        uint256 key = _rewardKey(account, token);
        (bool present, uint256 value) = _rewardLookup(ledger.rewardList, ledger.rewardCount, key, lookup);
        if (present && value == cumulative) revert EpochJudgeNoFault();
        _revoke(epoch, Fault.RewardTree, key, cumulative, value);
    }

    /// @inheritdoc IEpochJudge
    function challengeListGap(uint64 epoch, Ledger calldata ledger, bool rewardList, uint256 index, bytes32[] calldata proof) external {
        _pending(epoch, ledger);
        (bytes32 root, uint256 n) = rewardList ? (ledger.rewardList, ledger.rewardCount) : (ledger.spendList, ledger.spendCount);
        if (!_inList(root, n, index, bytes32(0), proof)) revert EpochJudgeNotInList(index);
        _revoke(epoch, Fault.ListGap, index, rewardList ? 1 : 0, 0);
    }

    /// @inheritdoc IEpochJudge
    function challengeForeignReward(uint64 epoch, Ledger calldata ledger, bytes32 domain, RewardEntry calldata entry) external {
        _pending(epoch, ledger);
        if (domain == _domain()) revert EpochJudgeNoFault();
        _openReward(ledger.rewardList, ledger.rewardCount, domain, entry);
        _revoke(epoch, Fault.ForeignEntry, entry.index, uint256(domain), uint256(_domain()));
    }

    /// @inheritdoc IEpochJudge
    function challengeForeignSpend(uint64 epoch, Ledger calldata ledger, uint64 leafEpoch, SpendEntry calldata entry) external {
        _pending(epoch, ledger);
        if (leafEpoch == epoch) revert EpochJudgeNoFault();
        _openSpend(leafEpoch, ledger, entry);
        _revoke(epoch, Fault.ForeignEntry, entry.index, leafEpoch, epoch);
    }

    /// @inheritdoc IEpochJudge
    function challengeSpendRows(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, bytes32 deploymentId, address user, SpendEntry[] calldata lookup, BatchRows[] calldata batches) external {
        (uint256 key, uint256 gross, uint256 charged, bytes32 slot) = _spendRowsLeaf(epoch, ledger, params, deploymentId, user, lookup);
        SpendRows memory counted = _countRows(epoch, deploymentId, user, _counted[slot], batches);
        if (counted.gross > gross || counted.charged > charged) {
            delete _counted[slot];
            return counted.gross > gross ? _revoke(epoch, Fault.SpendRows, key, gross, counted.gross) : _revoke(epoch, Fault.SpendRows, key, charged, counted.charged);
        }
        if (batches.length == 0) revert EpochJudgeNoFault();
        _counted[slot] = counted;
        emit SpendRowsCounted(epoch, msg.sender, deploymentId, user, counted.gross, counted.charged, counted.next);
    }

    /// @inheritdoc IEpochJudge
    function countedSpendRows(address challenger, uint64 epoch, bytes32 deploymentId, address user) external view returns (SpendRows memory) {
        if (!registry.hasPending() || registry.pendingEpoch() != epoch) return SpendRows(0, 0, 0);
        return _counted[_countedSlot(challenger, epoch, registry.pendingCommitment(), deploymentId, user)];
    }

    /// @inheritdoc IEpochJudge
    function claimFromList(address account, address token, uint256 cumulative, uint256 index, bytes32[] calldata proof, Ledger calldata ledger) external returns (uint256 paid) {
        if (!registry.hasFinalized()) revert EpochJudgeNoFinalEpoch();
        _checkLedger(registry.finalCommitment(registry.lastFinalizedEpoch()).ledgerHash, ledger);
        if (!_inList(ledger.rewardList, ledger.rewardCount, index, _rewardLeaf(_domain(), account, token, cumulative), proof)) revert EpochJudgeNotInList(index);
        return IListedClaims(address(registry)).payListed(msg.sender, account, token, cumulative);
    }

    /*//////////////////////////////////////////////////////////////
                     INTERNAL FUNCTIONS: INPUTS
    //////////////////////////////////////////////////////////////*/

    /// @dev The pending commitment of `epoch`, whose ledger `ledger` must be.
    function _pending(uint64 epoch, Ledger calldata ledger) internal view returns (IEpochRegistry.Commitment memory c) {
        if (!registry.hasPending() || registry.pendingEpoch() != epoch) revert EpochJudgeNotPending(epoch);
        c = registry.pendingCommitment();
        _checkLedger(c.ledgerHash, ledger);
    }

    /// @dev `ledger` hashes to `expected`.
    function _checkLedger(bytes32 expected, Ledger calldata ledger) internal pure {
        bytes32 given = keccak256(abi.encode(ledger));
        if (given != expected) revert EpochJudgeWrongLedger(expected, given);
    }

    /// @dev `params` are the ones configuration `configHash` pins, and usable.
    function _checkParams(bytes32 configHash, RewardParams calldata params) internal view {
        bytes32 expected = registry.rewardParamsOf(configHash);
        bytes32 given = keccak256(abi.encode(params));
        if (given != expected) revert EpochJudgeWrongParams(expected, given);
        if (params.epochSeconds == 0 || params.issuerBonusBps > BPS || params.scoreBasis > 2 || params.denominator > 1) revert EpochJudgeInvalidParams();
        DeploymentParams[] calldata d = params.deployments;
        for (uint256 i = 1; i < d.length; ++i) if (d[i].id <= d[i - 1].id) revert EpochJudgeInvalidParams();
    }

    /// @dev The spend key of (deployment, user), the leaf's gross and charged (zero when the list shows it absent) and
    /// the challenger's count slot, for `challengeSpendRows`.
    function _spendRowsLeaf(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, bytes32 deploymentId, address user, SpendEntry[] calldata lookup)
        internal
        view
        returns (uint256 key, uint256 gross, uint256 charged, bytes32 slot)
    {
        IEpochRegistry.Commitment memory c = _pending(epoch, ledger);
        _checkParams(c.configHash, params);
        (bool known, uint256 index) = _indexOf(params, deploymentId);
        if (!known) revert EpochJudgeBadLookup();
        key = _spendKey(index, user);
        if (_spendLookup(epoch, ledger, params, key, key, lookup)) (gross, charged) = (lookup[0].leaf.gross, lookup[0].leaf.charged);
        slot = _countedSlot(msg.sender, epoch, c, deploymentId, user);
    }

    /// @dev A challenger's count for one user of one deployment of one proposal (the whole commitment: a proposal
    /// made again with other proofs starts from nothing).
    function _countedSlot(address challenger, uint64 epoch, IEpochRegistry.Commitment memory c, bytes32 deploymentId, address user) internal pure returns (bytes32) {
        return keccak256(abi.encode(challenger, epoch, c, deploymentId, user));
    }

    /// @dev `counted` plus the user's rows in `batches` (each of the deployment, above every batch counted before).
    function _countRows(uint64 epoch, bytes32 deploymentId, address user, SpendRows memory counted, BatchRows[] calldata batches) internal view returns (SpendRows memory) {
        for (uint256 i = 0; i < batches.length; ++i) {
            BatchRows calldata b = batches[i];
            if (b.batch < counted.next) revert EpochJudgeBatchOrder(b.batch);
            (bytes32 d, uint256 gross, uint256 charged) = _batchSpend(epoch, b, user);
            if (d != deploymentId) revert EpochJudgeBatchDeployment(b.batch);
            counted.gross += gross;
            counted.charged += charged;
            counted.next = b.batch + 1;
        }
        return counted;
    }

    /// @dev The registry's `batchSpend` of one batch (apart: its arguments fill the stack).
    function _batchSpend(uint64 epoch, BatchRows calldata b, address user) internal view returns (bytes32, uint256, uint256) {
        return registry.batchSpend(epoch, b.batch, b.signals, b.users, b.cells, user);
    }

    /// @dev Withdraws the pending proposal (its spend root not barred: the fault is of the ledger or the lists,
    /// which the OZ spend tree does not determine) and names the fault.
    function _revoke(uint64 epoch, Fault fault, uint256 subject, uint256 committed, uint256 expected) internal {
        registry.revokeChallenged(epoch, false);
        emit EpochFaultProven(epoch, msg.sender, fault, subject, committed, expected);
    }

    /*//////////////////////////////////////////////////////////////
                     INTERNAL FUNCTIONS: THE SPEND LIST
    //////////////////////////////////////////////////////////////*/

    /// @dev The fault one spend entry, or two neighbouring ones, show (`found` false when none).
    function _spendListFault(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, SpendEntry[] calldata entries)
        internal
        pure
        returns (bool found, Fault fault, uint256 subject, uint256 committed, uint256 expected)
    {
        SpendEntry calldata a = entries[0];
        _openSpend(epoch, ledger, a);
        (found, fault, subject) = _entryFault(ledger, params, a);
        if (found || entries.length == 1) return (found, fault, subject, 0, 0);
        SpendEntry calldata b = entries[1];
        _openSpend(epoch, ledger, b);
        if (b.index != a.index + 1) revert EpochJudgeBadLookup();
        (found, fault, subject) = _entryFault(ledger, params, b);
        if (found) return (found, fault, subject, 0, 0);
        return _pairFault(ledger, params, a, b);
    }

    /// @dev A fault an opened spend entry shows alone: a deployment the parameters lack, a non-zero prefix at
    /// position 0, a prefix plus values above 2^256 - 1, or, as the list's last leaf, sums that are not its
    /// deployment's totals.
    function _entryFault(Ledger calldata ledger, RewardParams calldata params, SpendEntry calldata e) internal pure returns (bool, Fault, uint256) {
        (bool known, uint256 i) = _indexOf(params, e.leaf.deploymentId);
        if (!known) return (true, Fault.SpendDeployment, e.index);
        if (e.index == 0 && (e.prefixGross != 0 || e.prefixEligible != 0 || e.prefixCharged != 0)) return (true, Fault.SpendPrefix, e.index);
        (bool fits,,,) = _sumsThrough(e);
        if (!fits) return (true, Fault.SpendPrefix, e.index);
        if (e.index + 1 == ledger.spendCount && !_isLastOf(ledger.totals[i], e)) return (true, Fault.SpendTotals, i);
        return (false, Fault.SpendOrder, 0);
    }

    /// @dev A fault two neighbouring entries (each right alone) show: keys not increasing, b's prefixes not a's sums
    /// (same deployment) or not zero (another), or a, the last leaf of its deployment, with sums that are not its
    /// totals.
    function _pairFault(Ledger calldata ledger, RewardParams calldata params, SpendEntry calldata a, SpendEntry calldata b)
        internal
        pure
        returns (bool, Fault, uint256, uint256, uint256)
    {
        (, uint256 i) = _indexOf(params, a.leaf.deploymentId);
        (, uint256 j) = _indexOf(params, b.leaf.deploymentId);
        {
            (uint256 ka, uint256 kb) = (_spendKey(i, a.leaf.user), _spendKey(j, b.leaf.user));
            if (ka >= kb) return (true, Fault.SpendOrder, a.index, ka, kb);
        }
        if (i == j ? !_prefixesFollow(a, b) : (b.prefixGross != 0 || b.prefixEligible != 0 || b.prefixCharged != 0)) return (true, Fault.SpendPrefix, b.index, 0, 0);
        if (i != j && !_isLastOf(ledger.totals[i], a)) return (true, Fault.SpendTotals, i, 0, 0);
        return (false, Fault.SpendOrder, 0, 0, 0);
    }

    /// @dev Whether b's prefixes are a's sums through it.
    function _prefixesFollow(SpendEntry calldata a, SpendEntry calldata b) internal pure returns (bool) {
        (, uint256 gross, uint256 eligible, uint256 charged) = _sumsThrough(a);
        return b.prefixGross == gross && b.prefixEligible == eligible && b.prefixCharged == charged;
    }

    /// @dev Whether e's sums through it (it fits: checked alone) are the deployment's totals `t`.
    function _isLastOf(DeploymentTotals calldata t, SpendEntry calldata e) internal pure returns (bool) {
        (, uint256 gross, uint256 eligible, uint256 charged) = _sumsThrough(e);
        return _areTotals(t, gross, eligible, charged);
    }

    /// @dev An entry's prefixes plus its own values (its deployment's sums through it); `fits` false on overflow.
    function _sumsThrough(SpendEntry calldata e) internal pure returns (bool fits, uint256 gross, uint256 eligible, uint256 charged) {
        bool f1;
        bool f2;
        bool f3;
        (f1, gross) = Math.tryAdd(e.prefixGross, e.leaf.gross);
        (f2, eligible) = Math.tryAdd(e.prefixEligible, e.leaf.stake > 0 ? e.leaf.gross : 0);
        (f3, charged) = Math.tryAdd(e.prefixCharged, e.leaf.charged);
        fits = f1 && f2 && f3;
    }

    /// @dev Whether sums are a deployment's totals (its OpEx aside).
    function _areTotals(DeploymentTotals calldata t, uint256 gross, uint256 eligible, uint256 charged) internal pure returns (bool) {
        return t.gross == gross && t.eligible == eligible && t.charged == charged;
    }

    /// @dev Whether the lookup shows key `low` present (`low == high`, one entry at the key: `lookup[0]`) or every key
    /// of [low, high] absent; reverts with `EpochJudgeBadLookup` otherwise.
    function _spendLookup(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, uint256 low, uint256 high, SpendEntry[] calldata lookup) internal pure returns (bool) {
        if (lookup.length == 0) {
            if (ledger.spendCount != 0) revert EpochJudgeBadLookup();
            return false;
        }
        if (lookup.length > 2) revert EpochJudgeBadLookup();
        SpendEntry calldata a = lookup[0];
        _openSpend(epoch, ledger, a);
        uint256 ka = _spendKeyOf(params, a.leaf);
        if (lookup.length == 1) {
            if (low == high && ka == low) return true;
            if ((a.index == 0 && high < ka) || (a.index + 1 == ledger.spendCount && ka < low)) return false;
            revert EpochJudgeBadLookup();
        }
        SpendEntry calldata b = lookup[1];
        _openSpend(epoch, ledger, b);
        if (b.index != a.index + 1 || ka >= low || _spendKeyOf(params, b.leaf) <= high) revert EpochJudgeBadLookup();
        return false;
    }

    /// @dev Reverts with `EpochJudgeNotInList` unless `e` sits at its position in the spend list.
    function _openSpend(uint64 epoch, Ledger calldata ledger, SpendEntry calldata e) internal pure {
        bytes32 leaf = keccak256(abi.encode(_ozSpendLeaf(epoch, e.leaf), e.prefixGross, e.prefixEligible, e.prefixCharged));
        if (!_inList(ledger.spendList, ledger.spendCount, e.index, leaf, e.proof)) revert EpochJudgeNotInList(e.index);
    }

    /// @dev The OpenZeppelin standard leaf of a spend leaf of `epoch`, as the registry's `verifySpend` hashes it.
    function _ozSpendLeaf(uint64 epoch, IEpochRegistry.SpendLeaf calldata l) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(uint256(epoch), l.deploymentId, l.user, l.gross, l.charged, l.receipts, l.stake))));
    }

    /// @dev The key of a spend leaf; reverts with `EpochJudgeBadLookup` for a deployment the parameters lack.
    function _spendKeyOf(RewardParams calldata params, IEpochRegistry.SpendLeaf calldata l) internal pure returns (uint256) {
        (bool known, uint256 i) = _indexOf(params, l.deploymentId);
        if (!known) revert EpochJudgeBadLookup();
        return _spendKey(i, l.user);
    }

    /// @dev (index + 1) << 160 | user: leaves in key order are by deployment (in the parameters' order), then user.
    function _spendKey(uint256 index, address user) internal pure returns (uint256) {
        return ((index + 1) << USER_BITS) | uint160(user);
    }

    /// @dev A deployment's position in the parameters (sorted ascending by id, checked): binary search.
    function _indexOf(RewardParams calldata params, bytes32 id) internal pure returns (bool, uint256) {
        DeploymentParams[] calldata d = params.deployments;
        (uint256 low, uint256 high) = (0, d.length);
        while (low < high) {
            uint256 mid = (low + high) >> 1;
            bytes32 at = d[mid].id;
            if (at == id) return (true, mid);
            if (at < id) low = mid + 1;
            else high = mid;
        }
        return (false, 0);
    }

    /*//////////////////////////////////////////////////////////////
                     INTERNAL FUNCTIONS: THE REWARD LIST
    //////////////////////////////////////////////////////////////*/

    /// @dev The cumulative amount of `key` in the last final epoch's reward list (zero when absent or none is final).
    function _previous(Ledger calldata previousLedger, uint256 key, RewardEntry[] calldata lookup) internal view returns (uint256 value) {
        if (!registry.hasFinalized()) return 0;
        _checkLedger(registry.finalCommitment(registry.lastFinalizedEpoch()).ledgerHash, previousLedger);
        (, value) = _rewardLookup(previousLedger.rewardList, previousLedger.rewardCount, key, lookup);
    }

    /// @dev The lookup of `key` in the reward list (`root`, `n` leaves): whether present, and its amount (zero when
    /// absent); reverts with `EpochJudgeBadLookup` when it shows neither.
    function _rewardLookup(bytes32 root, uint256 n, uint256 key, RewardEntry[] calldata lookup) internal view returns (bool, uint256) {
        if (lookup.length == 0) {
            if (n != 0) revert EpochJudgeBadLookup();
            return (false, 0);
        }
        if (lookup.length > 2) revert EpochJudgeBadLookup();
        bytes32 dom = _domain();
        RewardEntry calldata a = lookup[0];
        _openReward(root, n, dom, a);
        uint256 ka = _rewardKey(a.account, a.token);
        if (lookup.length == 1) {
            if (ka == key) return (true, a.cumulative);
            if ((a.index == 0 && key < ka) || (a.index + 1 == n && ka < key)) return (false, 0);
            revert EpochJudgeBadLookup();
        }
        RewardEntry calldata b = lookup[1];
        _openReward(root, n, dom, b);
        if (b.index != a.index + 1 || ka >= key || _rewardKey(b.account, b.token) <= key) revert EpochJudgeBadLookup();
        return (false, 0);
    }

    /// @dev Reverts with `EpochJudgeNotInList` unless `e` sits at its position in the reward list.
    function _openReward(bytes32 root, uint256 n, bytes32 dom, RewardEntry calldata e) internal pure {
        if (!_inList(root, n, e.index, _rewardLeaf(dom, e.account, e.token, e.cumulative), e.proof)) revert EpochJudgeNotInList(e.index);
    }

    /// @dev keccak256(abi.encode(account, token)): the reward list's order.
    function _rewardKey(address account, address token) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(account, token)));
    }

    /// @dev The OpenZeppelin standard reward leaf, as the distributor's `leafHash` hashes it.
    function _rewardLeaf(bytes32 dom, address account, address token, uint256 cumulative) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(dom, account, token, cumulative))));
    }

    /// @dev The distributor's domain: keccak256(abi.encode(chainid, registry)).
    function _domain() internal view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(registry)));
    }

    /*//////////////////////////////////////////////////////////////
                     INTERNAL FUNCTIONS: THE REWARD FORMULA
    //////////////////////////////////////////////////////////////*/

    /// @dev What the epoch credits (account, token), summed over every role (src/economics/epoch.ts `settleEpoch`):
    /// the emission is routed to the live deployments by score, each share split into the issuer bonus and the
    /// stakers' pool; the pool and the staking fund's release (FLOCK) and the incentive reserve's release (MT) are
    /// shared by gross among the deployment's stakers; the issuer also earns 10 % of the net revenue (USDC).
    function _credit(Query memory q, Ledger calldata ledger, RewardParams calldata params, SpendEntry[][] calldata spends) internal pure returns (uint256 credit) {
        uint64 epoch = q.epoch;
        uint256 n = params.deployments.length;
        if (spends.length != n) revert EpochJudgeBadLookup();
        uint256[] memory scores = new uint256[](n);
        uint256 total = 0;
        for (uint256 i = 0; i < n; ++i) {
            if (epoch < params.deployments[i].graduationEpoch) continue;
            scores[i] = _score(epoch, params, ledger.totals[i], params.deployments[i].graduationEpoch);
            total += scores[i];
        }
        uint256 emission = Math.mulDiv(params.dailyEmission, params.epochSeconds, 1 days);
        for (uint256 i = 0; i < n; ++i) {
            if (epoch < params.deployments[i].graduationEpoch) continue;
            uint256 share = total == 0 ? 0 : Math.mulDiv(emission, scores[i], total);
            credit += _deploymentCredit(q, ledger, params, i, share, spends[i]);
        }
    }

    /// @dev What live deployment `i`, with emission share `share`, credits (account, token).
    function _deploymentCredit(Query memory q, Ledger calldata ledger, RewardParams calldata params, uint256 i, uint256 share, SpendEntry[] calldata lookup) internal pure returns (uint256 credit) {
        uint256 bonus = Math.mulDiv(share, params.issuerBonusBps, BPS);
        if (q.account == params.deployments[i].issuer) {
            if (q.token == params.flock) credit += bonus;
            if (q.token == params.usdc) credit += Math.mulDiv(_net(ledger.totals[i]), ISSUER_YIELD_BPS, BPS);
        }
        uint256 key = _spendKey(i, q.account);
        if (!_spendLookup(q.epoch, ledger, params, key, key, lookup)) return credit;
        uint256 weight = params.denominator == 0 ? ledger.totals[i].eligible : ledger.totals[i].gross;
        if (lookup[0].leaf.stake == 0 || weight == 0) return credit;
        credit += _stakerCredit(q, params, params.deployments[i], share - bonus, lookup[0].leaf.gross, weight);
    }

    /// @dev A staker's gross-weighted part of a deployment's pool and staking fund release (FLOCK) and of its
    /// incentive release (MT), each rounded down apart.
    function _stakerCredit(Query memory q, RewardParams calldata params, DeploymentParams calldata d, uint256 pool, uint256 gross, uint256 weight) internal pure returns (uint256 credit) {
        if (q.token == params.flock) {
            credit += Math.mulDiv(pool, gross, weight);
            credit += Math.mulDiv(Vesting.releaseOf(d.stakingFund, d.graduationEpoch, q.epoch, params.epochSeconds), gross, weight);
        }
        if (q.token == d.mtToken) credit += Math.mulDiv(Vesting.releaseOf(d.incentiveReserve, d.graduationEpoch, q.epoch, params.epochSeconds), gross, weight);
    }

    /// @dev A live deployment's score: its basis (net revenue, charged revenue or gross spend) times its age factor,
    /// max(0.2, 1 - days / 180) over whole days since graduation, rounded down.
    function _score(uint64 epoch, RewardParams calldata params, DeploymentTotals calldata t, uint64 graduation) internal pure returns (uint256) {
        uint256 age = (uint256(epoch - graduation) * params.epochSeconds) / 1 days;
        uint256 factor = age >= AGE_DAYS ? AGE_FLOOR : Math.max(AGE_FLOOR, (WAD * (AGE_DAYS - age)) / AGE_DAYS);
        uint256 basis = params.scoreBasis == 0 ? _net(t) : params.scoreBasis == 1 ? t.charged : t.gross;
        return Math.mulDiv(basis, factor, WAD);
    }

    /// @dev max(0, charged - OpEx).
    function _net(DeploymentTotals calldata t) internal pure returns (uint256) {
        return t.charged > t.opex ? t.charged - t.opex : 0;
    }

    /*//////////////////////////////////////////////////////////////
                     INTERNAL FUNCTIONS: POSITIONAL PROOFS
    //////////////////////////////////////////////////////////////*/

    /// @dev Whether `leaf` sits at position `index` of the positional tree of `n` leaves with root `root`: the proof
    /// has exactly the tree's depth (the smallest d with 2^d >= n) and is walked by the position's bits.
    function _inList(bytes32 root, uint256 n, uint256 index, bytes32 leaf, bytes32[] calldata proof) internal pure returns (bool) {
        if (index >= n || proof.length != (n <= 1 ? 0 : Math.log2(n - 1) + 1)) return false;
        bytes32 node = leaf;
        for (uint256 k = 0; k < proof.length; ++k) {
            bytes32 sibling = proof[k];
            assembly ("memory-safe") {
                // Bit k of the position: 0, the node is the left child.
                switch and(shr(k, index), 1)
                case 0 {
                    mstore(0x00, node)
                    mstore(0x20, sibling)
                }
                default {
                    mstore(0x00, sibling)
                    mstore(0x20, node)
                }
                node := keccak256(0x00, 0x40)
            }
        }
        return node == root;
    }
}
