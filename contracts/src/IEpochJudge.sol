// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The epoch judge's interface (ledger, reward parameters, list openings, faults, errors, events) and the hook the
// distributor gives it to pay claims from a final reward list. Full NatSpec lives here; the implementation inherits it.

import {IEpochRegistry} from "./IEpochRegistry.sol";

/// @title IEpochJudge
/// @notice Anyone revokes a pending epoch proposal by proving on chain one wrong fact of its ledger: a reward leaf
/// that differs from what the spend, the totals and the pinned reward parameters give, a reward left out, spend whose
/// per-deployment sums are not the committed totals, a malformed list, a wrong stake, or a leaf of the OpenZeppelin
/// trees the lists contradict. A correct proposal cannot be revoked by any of them: each challenge of a right fact
/// reverts with `EpochJudgeNoFault`.
/// @dev Beside the OpenZeppelin spend and reward trees (unchanged: claims and `verifySpend` use them), each epoch
/// commits, through its ledger (`Commitment.ledgerHash`), two POSITIONAL lists of the same leaves in key order, where
/// a leaf's position is proven: so a key is shown absent by the two leaves at positions i and i + 1 that bracket it
/// (an OpenZeppelin tree, hashing pairs sorted, cannot show anything absent). A positional tree of n >= 1 leaf hashes
/// has depth d, the smallest with 2^d >= n; positions n to 2^d - 1 hold zero; a parent is keccak256(left || right),
/// unsorted; a proof of position i is its d siblings from the leaf up (src/merkle/positional.ts).
/// - Spend list: the spend leaves ordered by key (index + 1) << 160 | user, index the position of the leaf's
///   deployment in the pinned reward parameters' deployments; leaf i is keccak256(abi.encode(OZ spend leaf hash,
///   prefixGross, prefixEligible, prefixCharged)), each prefix the sum over the leaves of the same deployment before
///   it ("eligible": the gross of a leaf with a stake).
/// - Reward list: the reward leaves ordered by key uint256(keccak256(abi.encode(account, token))); leaf i is the OZ
///   reward leaf hash, under the distributor's domain.
/// The reward list is authoritative: a leaf the OpenZeppelin reward tree lacks is paid from the list
/// (`claimFromList`).
interface IEpochJudge {
    /*//////////////////////////////////////////////////////////////
                                 STRUCTS
    //////////////////////////////////////////////////////////////*/

    /// @notice One deployment's reward parameters.
    struct DeploymentParams {
        bytes32 id;
        /// @dev Credited the issuer bonus (FLOCK) and the issuer yield (USDC).
        address issuer;
        /// @dev The Model Token the incentive reserve streams.
        address mtToken;
        /// @dev The first epoch the deployment is live in (scored, rewarded) and its streams release in.
        uint64 graduationEpoch;
        /// @dev The staking fund streamed in FLOCK: 25 % of the sale's raise (`splitProceeds(raised).stakingIncentives`).
        uint256 stakingFund;
        /// @dev The incentive reserve streamed in MT.
        uint256 incentiveReserve;
    }

    /// @notice What the judge recomputes reward leaves with: config.json's reward parameters (`rewardParameters` in
    /// src/epoch/ledger.ts), pinned on the registry as keccak256(abi.encode(params)) (`rewardParamsOf`).
    struct RewardParams {
        /// @dev FLOCK emitted per day across all deployments (base units).
        uint256 dailyEmission;
        uint64 epochSeconds;
        uint16 issuerBonusBps;
        /// @dev 0: net revenue, 1: charged revenue, 2: gross spend.
        uint8 scoreBasis;
        /// @dev 0: the eligible stakers' gross, 1: all users' gross.
        uint8 denominator;
        address flock;
        address usdc;
        /// @dev Sorted strictly ascending by id: a deployment's position is its spend keys' index.
        DeploymentParams[] deployments;
    }

    /// @notice One deployment's sums over its spend leaves, and its OpEx (inputs.json's).
    struct DeploymentTotals {
        uint256 gross;
        /// @dev The gross of its leaves with a stake.
        uint256 eligible;
        uint256 charged;
        uint256 opex;
    }

    /// @notice What an epoch's `ledgerHash` covers (keccak256(abi.encode(ledger))): each pinned deployment's totals,
    /// in the reward parameters' order, and the roots and lengths of the positional spend and reward lists.
    struct Ledger {
        DeploymentTotals[] totals;
        bytes32 spendList;
        uint256 spendCount;
        bytes32 rewardList;
        uint256 rewardCount;
    }

    /// @notice A spend list entry opened at `index`: the OZ spend leaf (its epoch the list's), its deployment's sums
    /// before it, and the positional proof.
    struct SpendEntry {
        IEpochRegistry.SpendLeaf leaf;
        uint256 prefixGross;
        uint256 prefixEligible;
        uint256 prefixCharged;
        uint256 index;
        bytes32[] proof;
    }

    /// @notice A reward list entry opened at `index` (its domain the distributor's), with the positional proof.
    struct RewardEntry {
        address account;
        address token;
        uint256 cumulative;
        uint256 index;
        bytes32[] proof;
    }

    /// @notice One batch of the pending epoch's proofs with its whole stake table, as `challengeSpendRows` opens it
    /// (see the registry's `batchSpend`).
    struct BatchRows {
        /// @dev The batch's index in the epoch's proofs.
        uint256 batch;
        uint256[17] signals;
        /// @dev Each row's user, then each row's cell (stake * 2^152 + gross * 2^76 + charged), padding included.
        uint256[] users;
        uint256[] cells;
    }

    /// @notice What a challenger's `challengeSpendRows` counted so far for one user of one deployment of the pending
    /// proposal.
    struct SpendRows {
        uint256 gross;
        uint256 charged;
        /// @dev The lowest batch index the next call may open: each batch counts once.
        uint256 next;
    }

    /// @notice The wrong fact a challenge proved (`EpochFaultProven`).
    enum Fault {
        /// @dev The ledger's totals are not one per pinned deployment.
        LedgerShape,
        /// @dev A list is empty (the roots are non-zero, so there is at least one leaf of each).
        EmptyList,
        /// @dev A deployment's charged total is not what the epoch's batch proofs prove for it.
        ProvenCharged,
        /// @dev The totals' gross or charged sums are not the commitment's `totalGross` or `totalCharged`.
        CommittedTotals,
        /// @dev A spend list leaf of a deployment the reward parameters do not have.
        SpendDeployment,
        /// @dev Spend list keys not strictly increasing.
        SpendOrder,
        /// @dev A spend list prefix that is not the sum of its deployment's leaves before it.
        SpendPrefix,
        /// @dev A deployment's spend sums (its last leaf's prefixes and values, or nothing) are not its totals.
        SpendTotals,
        /// @dev A spend leaf's stake is not the pinned staking contract's eligible stake at the snapshot block.
        Stake,
        /// @dev A leaf of the OZ spend tree that the spend list lacks, or holds otherwise.
        SpendTree,
        /// @dev A reward list value (zero when absent) that is not the expected cumulative amount.
        Reward,
        /// @dev Reward list keys not strictly increasing.
        RewardOrder,
        /// @dev A leaf of the OZ reward tree that the reward list lacks, or holds with another amount.
        RewardTree,
        /// @dev A position below a list's count that holds the zero leaf (padding, no entry): every entry's leaf is a
        /// keccak256 output, so an honest list has none, and a gap would hide its neighbours from every lookup.
        ListGap,
        /// @dev A list entry hashed under another epoch (spend) or another distributor's domain (reward): it opens
        /// under none of this epoch's challenges, so it would stand unchecked.
        ForeignEntry,
        /// @dev A spend leaf (zero when absent) whose gross or charged is below the sum of its user's rows in batches
        /// of its deployment: the proofs prove more spend for the user than the leaf holds.
        SpendRows
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by a challenge of an epoch that is not the pending one.
    /// @param epoch The epoch.
    error EpochJudgeNotPending(uint64 epoch);

    /// @notice Raised when the ledger given does not hash to the commitment's `ledgerHash` (the pending one, or the
    /// last final one for a previous ledger or a claim from the list).
    /// @param expected The commitment's ledger hash.
    /// @param given keccak256(abi.encode(ledger)) of the ledger given.
    error EpochJudgeWrongLedger(bytes32 expected, bytes32 given);

    /// @notice Raised when the reward parameters given do not hash to the ones the commitment's configuration pins.
    /// @param expected `rewardParamsOf(configHash)`.
    /// @param given keccak256(abi.encode(params)) of the parameters given.
    error EpochJudgeWrongParams(bytes32 expected, bytes32 given);

    /// @notice Raised by pinned reward parameters no reward can be computed with: deployments not strictly ascending
    /// by id, zero seconds per epoch, a bonus above 10,000 bps, an unknown score basis or denominator. The admin's
    /// mistake, fixed by a new configuration; never a fault of the proposal.
    error EpochJudgeInvalidParams();

    /// @notice Raised by an entry that is not at its position in its list.
    /// @param index The position claimed.
    error EpochJudgeNotInList(uint256 index);

    /// @notice Raised by a leaf that is not in the pending OpenZeppelin tree.
    error EpochJudgeNotInTree();

    /// @notice Raised by a lookup that neither shows its key present nor absent (see `challengeReward`), by entries
    /// that are not neighbours, or by a lookup through a spend leaf of a deployment the parameters lack (show that
    /// with `challengeSpendList`).
    error EpochJudgeBadLookup();

    /// @notice Raised by a challenge of a right fact: the pending proposal stays.
    error EpochJudgeNoFault();

    /// @notice Raised by `claimFromList` before any epoch is final.
    error EpochJudgeNoFinalEpoch();

    /// @notice Raised by `challengeSpendRows` for a batch at or below one it already counted for the same
    /// challenger, proposal, deployment and user (each batch counts once; give batches in increasing order).
    /// @param batch The batch's index.
    error EpochJudgeBatchOrder(uint256 batch);

    /// @notice Raised by `challengeSpendRows` for a batch of another deployment than the leaf's.
    /// @param batch The batch's index.
    error EpochJudgeBatchDeployment(uint256 batch);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Anyone revoked the pending proposal by proving `fault` on chain.
    /// @param epoch The revoked epoch.
    /// @param challenger The account that proved it.
    /// @param fault The wrong fact.
    /// @param subject What it is about: a deployment's position (ProvenCharged, SpendTotals), a list position
    /// (SpendDeployment, SpendPrefix, Stake, and the first of the two for SpendOrder, RewardOrder), a key (SpendTree,
    /// Reward, RewardTree), 0 or 1 for gross or charged (CommittedTotals), zero otherwise.
    /// @param committed The value the proposal commits to, where one names the fault (the totals' length or charged,
    /// the totals' sum, the first key of a misordered pair, the stake, the reward list value, the OZ leaf's amount);
    /// zero otherwise.
    /// @param expected The value it should be (the deployments' count, the proven charged, the commitment's total,
    /// the second key, the eligible stake, the expected cumulative, the list's amount); zero otherwise.
    event EpochFaultProven(uint64 indexed epoch, address indexed challenger, Fault fault, uint256 subject, uint256 committed, uint256 expected);

    /// @notice `challengeSpendRows` counted batches without yet exceeding the leaf: the sums so far, kept for the
    /// challenger's next call.
    /// @param epoch The pending epoch.
    /// @param challenger The account counting.
    /// @param deploymentId The deployment.
    /// @param user The user.
    /// @param gross The user's gross in the batches counted so far.
    /// @param charged The user's charged amount in them.
    /// @param next The lowest batch index the next call may open.
    event SpendRowsCounted(uint64 indexed epoch, address indexed challenger, bytes32 deploymentId, address user, uint256 gross, uint256 charged, uint256 next);

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Revokes the pending proposal if its ledger is malformed: totals not one per pinned deployment, an
    /// empty list, totals whose gross or charged sums are not the commitment's, or (on a registry with a verifier) a
    /// deployment whose charged total is not what the epoch's proofs prove for it.
    /// @dev Every challenge reverts with `EpochJudgeNotPending` unless `epoch` is pending, `EpochJudgeWrongLedger` or
    /// `EpochJudgeWrongParams` for inputs that are not the commitment's, `EpochJudgeInvalidParams` for unusable pinned
    /// parameters, `EpochJudgeNotInList` / `EpochJudgeNotInTree` for openings that do not verify,
    /// `EpochJudgeBadLookup` for a lookup that does not decide, and `EpochJudgeNoFault` when the fact is right.
    /// @param epoch The pending epoch.
    /// @param ledger The pending epoch's ledger.
    /// @param params The reward parameters its configuration pins.
    function challengeLedger(uint64 epoch, Ledger calldata ledger, RewardParams calldata params) external;

    /// @notice Revokes the pending proposal by opening one or two neighbouring spend list entries (positions i, and
    /// i + 1) that show: a leaf of a deployment the parameters lack; keys not strictly increasing; the entry at
    /// position 0 with a non-zero prefix; a prefix that is not its predecessor's prefix plus values (same
    /// deployment) or zero (a new deployment); or a deployment's last leaf (the next one of another deployment, or
    /// the list's last) whose prefixes plus values are not the deployment's totals.
    /// @param epoch The pending epoch.
    /// @param ledger The pending epoch's ledger.
    /// @param params The reward parameters its configuration pins.
    /// @param entries One entry, or two at consecutive positions.
    function challengeSpendList(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, SpendEntry[] calldata entries) external;

    /// @notice Revokes the pending proposal by showing that the spend list has no leaf of a deployment (a lookup
    /// whose neighbours bracket all of its keys) while its totals are not zero (gross, eligible or charged).
    /// @param epoch The pending epoch.
    /// @param ledger The pending epoch's ledger.
    /// @param params The reward parameters its configuration pins.
    /// @param deployment The deployment's position in the parameters.
    /// @param lookup The neighbours around the deployment's key range.
    function challengeSpendTotals(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, uint256 deployment, SpendEntry[] calldata lookup) external;

    /// @notice Revokes the pending proposal by opening a spend list entry whose stake is not the eligible stake the
    /// pinned staking contract of its deployment gives at the snapshot block (a leaf of a deployment the
    /// configuration does not pin is wrong whatever its stake). Its spend root is never taken again.
    /// @param epoch The pending epoch.
    /// @param ledger The pending epoch's ledger.
    /// @param entry The spend list entry.
    function challengeStake(uint64 epoch, Ledger calldata ledger, SpendEntry calldata entry) external;

    /// @notice Revokes the pending proposal by showing a leaf of its OpenZeppelin spend tree that its spend list
    /// lacks (or holds with other values), or whose deployment the parameters lack.
    /// @param epoch The pending epoch.
    /// @param ledger The pending epoch's ledger.
    /// @param params The reward parameters its configuration pins.
    /// @param leaf The OZ spend leaf.
    /// @param ozProof Its Merkle proof in the pending spend tree.
    /// @param lookup The lookup of its key in the spend list.
    function challengeSpendTree(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, IEpochRegistry.SpendLeaf calldata leaf, bytes32[] calldata ozProof, SpendEntry[] calldata lookup) external;

    /// @notice Revokes the pending proposal by showing that the reward list holds for (account, token) another
    /// amount (zero when absent) than the expected cumulative: its amount in the last final epoch's reward list plus
    /// what the epoch credits it, recomputed from the totals, its spend in the spend list and the pinned parameters
    /// exactly as src/economics/epoch.ts `settleEpoch` does (emission routed by age-weighted scores of the live
    /// deployments, issuer bonus and yield, the stakers' pool, staking fund and incentive releases shared by gross).
    /// @dev A LOOKUP of a key in a list is an array of entries: one at the key (present: its values); or, absent, two
    /// at positions i and i + 1 whose keys bracket it, one at position 0 with a greater key, one at position n - 1
    /// with a smaller key, or none in an empty list. The spend and stake lookups of other challenges are the same.
    /// @param epoch The pending epoch.
    /// @param ledger The pending epoch's ledger.
    /// @param params The reward parameters its configuration pins.
    /// @param previousLedger The last final epoch's ledger (ignored when none is final).
    /// @param account The account.
    /// @param token The token.
    /// @param current The lookup of the key in the pending reward list: the value judged (zero when absent).
    /// @param previous The lookup of the key in the last final epoch's reward list (ignored when none is final).
    /// @param spends For every pinned deployment i, in order, the lookup of key (i, account) in the pending spend
    /// list: the account's gross and stake there (zero when absent); ignored (may be empty) for a deployment not yet
    /// live.
    function challengeReward(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, Ledger calldata previousLedger, address account, address token, RewardEntry[] calldata current, RewardEntry[] calldata previous, SpendEntry[][] calldata spends) external;

    /// @notice Revokes the pending proposal by opening two neighbouring reward list entries whose keys are not
    /// strictly increasing.
    /// @param epoch The pending epoch.
    /// @param ledger The pending epoch's ledger.
    /// @param entries Two entries at consecutive positions.
    function challengeRewardList(uint64 epoch, Ledger calldata ledger, RewardEntry[] calldata entries) external;

    /// @notice Revokes the pending proposal by showing a leaf of its OpenZeppelin reward tree (under the
    /// distributor's domain) that its reward list lacks or holds with another amount.
    /// @param epoch The pending epoch.
    /// @param ledger The pending epoch's ledger.
    /// @param account The leaf's account.
    /// @param token The leaf's token.
    /// @param cumulative The leaf's cumulative amount.
    /// @param ozProof Its Merkle proof in the pending reward tree.
    /// @param lookup The lookup of its key in the reward list.
    function challengeRewardTree(uint64 epoch, Ledger calldata ledger, address account, address token, uint256 cumulative, bytes32[] calldata ozProof, RewardEntry[] calldata lookup) external;

    /// @notice Revokes the pending proposal by opening the zero leaf at a position below a list's count: a count
    /// past the entries, or a gap between them, that no lookup could see past.
    /// @param epoch The pending epoch.
    /// @param ledger The pending epoch's ledger.
    /// @param rewardList True for the reward list, false for the spend list.
    /// @param index The position.
    /// @param proof The positional proof of the zero leaf there.
    function challengeListGap(uint64 epoch, Ledger calldata ledger, bool rewardList, uint256 index, bytes32[] calldata proof) external;

    /// @notice Revokes the pending proposal by opening a reward list entry hashed under a domain that is not this
    /// distributor's (keccak256(abi.encode(chainid, registry))).
    /// @param epoch The pending epoch.
    /// @param ledger The pending epoch's ledger.
    /// @param domain The domain the entry is hashed under.
    /// @param entry The entry with its position and proof.
    function challengeForeignReward(uint64 epoch, Ledger calldata ledger, bytes32 domain, RewardEntry calldata entry) external;

    /// @notice Revokes the pending proposal by showing a spend leaf below what the batch proofs prove for its user:
    /// the user's rows (gross and charged, per batch, in each proof's committed stake table) summed over batches of
    /// the leaf's deployment exceed the leaf's gross or charged, or the user has rows and no leaf. With proofs, every
    /// batch's rows sum to its proven totals and the leaves to the same committed totals (`challengeLedger`,
    /// `challengeSpendList`), so spend moved between users always leaves some user's leaf below its rows: this shows
    /// it. A user in more batches than one transaction opens is counted over several calls (`countedSpendRows`),
    /// batches in increasing order; the proposal is revoked by the call whose sums pass the leaf.
    /// @dev Reverts with `EpochJudgeNotPending`, `EpochJudgeWrongLedger`, `EpochJudgeWrongParams`,
    /// `EpochJudgeBadLookup` (a deployment the parameters lack, or a lookup that does not show the key),
    /// `EpochJudgeBatchOrder`, `EpochJudgeBatchDeployment`, as the registry's `batchSpend`, and `EpochJudgeNoFault`
    /// when no batch is given and the sums counted do not pass the leaf.
    /// @param epoch The pending epoch.
    /// @param ledger The pending epoch's ledger.
    /// @param params The reward parameters its configuration pins.
    /// @param deploymentId The leaf's deployment.
    /// @param user The leaf's user.
    /// @param lookup The lookup of (deployment, user) in the spend list: its entry, or the neighbours showing it absent.
    /// @param batches Batches of the deployment holding the user's rows, in increasing index order.
    function challengeSpendRows(uint64 epoch, Ledger calldata ledger, RewardParams calldata params, bytes32 deploymentId, address user, SpendEntry[] calldata lookup, BatchRows[] calldata batches) external;

    /// @notice What `challenger` counted so far with `challengeSpendRows` for a user of a deployment of the pending
    /// proposal (zero when nothing, or for another epoch than the pending one).
    /// @param challenger The account counting.
    /// @param epoch The pending epoch.
    /// @param deploymentId The deployment.
    /// @param user The user.
    /// @return The sums and the next batch index.
    function countedSpendRows(address challenger, uint64 epoch, bytes32 deploymentId, address user) external view returns (SpendRows memory);

    /// @notice Revokes the pending proposal by opening a spend list entry hashed under another epoch.
    /// @param epoch The pending epoch.
    /// @param ledger The pending epoch's ledger.
    /// @param leafEpoch The epoch the entry's leaf is hashed under.
    /// @param entry The entry with its position and proof.
    function challengeForeignSpend(uint64 epoch, Ledger calldata ledger, uint64 leafEpoch, SpendEntry calldata entry) external;

    /// @notice Claims a leaf of the last final epoch's reward list (the list is authoritative: this pays a leaf the
    /// OpenZeppelin tree left out). Pays what `claim` would: `cumulative` minus what the account already claimed, to
    /// the account, or when someone else claims to the recipient it chose.
    /// @dev Reverts with `EpochJudgeNoFinalEpoch`, `EpochJudgeWrongLedger`, `EpochJudgeNotInList`, and as the
    /// distributor's `payListed` (`RewardDistributorNothingToClaim`, a failed transfer).
    /// @param account The leaf's account.
    /// @param token The leaf's token.
    /// @param cumulative The leaf's cumulative amount.
    /// @param index Its position in the reward list.
    /// @param proof Its positional proof.
    /// @param ledger The last final epoch's ledger.
    /// @return paid The amount paid.
    function claimFromList(address account, address token, uint256 cumulative, uint256 index, bytes32[] calldata proof, Ledger calldata ledger) external returns (uint256 paid);

    /*//////////////////////////////////////////////////////////////
                         EXTERNAL VIEW FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice The registry (the distributor) whose proposals this judge revokes.
    /// @return The registry.
    function registry() external view returns (IEpochRegistry);
}

/// @title IListedClaims
/// @notice The distributor's hook through which the judge pays a claim from a final reward list.
interface IListedClaims {
    /// @notice Pays a reward list leaf the judge verified: `cumulative` minus what the account already claimed of
    /// the token, with the same `claimed` record and recipient rules as `claim`.
    /// @dev Judge only (`EpochRegistryNotJudge`); reverts with `RewardDistributorNothingToClaim` when nothing is new.
    /// @param caller Who claims (the judge's caller): the account itself is paid, anyone else's claim goes to the
    /// recipient the account chose.
    /// @param account The leaf's account.
    /// @param token The leaf's token.
    /// @param cumulative The leaf's cumulative amount.
    /// @return paid The amount paid.
    function payListed(address caller, address account, address token, uint256 cumulative) external returns (uint256 paid);
}
