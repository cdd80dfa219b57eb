// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The reward distributor: the epoch registry that also pays claims against its current cumulative reward root,
// so a claim reads the root from its own storage (no external call).

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {EpochRegistry} from "./EpochRegistry.sol";
import {IBatchVerifier, IEpochFunding, IRevenueSettlement} from "./IEpochRegistry.sol";
import {IListedClaims} from "./IEpochJudge.sol";

/// @title RewardDistributor
/// @notice The epoch registry that also pays: the current (final) reward root holds, per (account, token),
/// everything the account ever earned; a claim pays the difference to what it already received. Anyone may claim
/// for an account, but the funds go only to the account or to the recipient the account itself chose. The epoch's
/// reward list (the ledger's, which the judge's challenges hold to the reward formula) is authoritative: a leaf the
/// OpenZeppelin tree lacks is paid from the list through the judge (`EpochJudge.claimFromList`, `payListed` here),
/// with the same `claimed` record, so the two paths never pay one amount twice.
/// @dev Reentrancy-safe by checks-effects-interactions: `claimed` is raised before the transfer, so a reentrant
/// claim of the same leaf finds nothing to pay (tested with a token that calls back on transfer).
contract RewardDistributor is EpochRegistry, IListedClaims {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 STRUCTS
    //////////////////////////////////////////////////////////////*/

    /// @notice One leaf to claim in `claimMany`.
    struct Claim {
        address account;
        address token;
        uint256 cumulative;
        bytes32[] proof;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by a claim before any epoch has been finalized.
    error RewardDistributorNoRoot();

    /// @notice Raised when a leaf's proof does not match the current reward root.
    /// @dev `claimMany` reverts whole on one bad proof: a batch is built from one root, so a bad proof means a
    /// stale or wrong batch.
    /// @param account The leaf's account.
    /// @param token The leaf's token.
    /// @param cumulative The leaf's cumulative amount.
    error RewardDistributorInvalidProof(address account, address token, uint256 cumulative);

    /// @notice Raised by `claim` when the leaf's cumulative amount is not above what the account already claimed.
    /// @param account The leaf's account.
    /// @param token The leaf's token.
    /// @param cumulative The leaf's cumulative amount.
    /// @param claimed What the account has already claimed of the token.
    error RewardDistributorNothingToClaim(address account, address token, uint256 cumulative, uint256 claimed);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A claim paid `amount` of `token` for `account`.
    /// @dev Where the funds went shows in the token's Transfer event (the account, or its chosen recipient).
    /// @param account The account whose leaf was claimed.
    /// @param token The token paid.
    /// @param amount The amount paid: the leaf's cumulative amount minus what was claimed before.
    event Claimed(address indexed account, address indexed token, uint256 amount);

    /// @notice An account chose where claims made by others on its behalf are paid.
    /// @param account The account.
    /// @param recipient The recipient; zero pays the account itself.
    event RecipientSet(address indexed account, address indexed recipient);

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice What each account has claimed so far, per token (the cumulative amount of its last paid leaf).
    mapping(address account => mapping(address token => uint256)) public claimed;
    /// @notice Where claims made by others for an account are paid; zero means the account itself.
    mapping(address account => address) public recipientOf;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes the roles).
    /// @param publisher Holder of PUBLISHER_ROLE (the aggregator).
    /// @param guardian Holder of GUARDIAN_ROLE.
    /// @param timelockSeconds Seconds a proposal stays pending before it can be finalized.
    /// @param batchVerifier The batch proof verifier; zero makes proofs optional.
    /// @param snapshotMaxAgeBlocks How many blocks before a proposal its snapshot block may be (non-zero).
    /// @param settlement Where each epoch's charged revenue is paid before it is final (zero: not enforced).
    /// @param funding What moves each epoch's emission and vesting releases here as it is finalized (zero: none).
    constructor(
        address admin,
        address publisher,
        address guardian,
        uint256 timelockSeconds,
        IBatchVerifier batchVerifier,
        uint256 snapshotMaxAgeBlocks,
        IRevenueSettlement settlement,
        IEpochFunding funding
    ) EpochRegistry(admin, publisher, guardian, timelockSeconds, batchVerifier, snapshotMaxAgeBlocks, settlement, funding)
    {}

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Where the caller's rewards go from now on (zero: to the caller itself).
    /// @dev Applies only to claims others make for the caller; a claim the caller makes pays the caller, so a
    /// wrong recipient can always be bypassed.
    /// @param recipient The recipient, or zero.
    function setRecipient(address recipient) external {
        recipientOf[msg.sender] = recipient;
        emit RecipientSet(msg.sender, recipient);
    }

    /// @notice Claims one (account, token) leaf; reverts when there is nothing new to pay.
    /// @dev Reverts with `RewardDistributorNoRoot`, `RewardDistributorInvalidProof` or
    /// `RewardDistributorNothingToClaim`; a token transfer failure reverts the whole claim.
    /// @param account The leaf's account.
    /// @param token The leaf's token.
    /// @param cumulative Everything the account ever earned of the token, as the current root holds it.
    /// @param proof The Merkle proof of the leaf against the current reward root.
    /// @return paid The amount paid: `cumulative` minus what was claimed before.
    function claim(address account, address token, uint256 cumulative, bytes32[] calldata proof) external returns (uint256 paid) {
        bytes32 root = _root();
        paid = _claim(root, domain(), account, token, cumulative, proof);
        if (paid == 0) revert RewardDistributorNothingToClaim(account, token, cumulative, claimed[account][token]);
    }

    /// @inheritdoc IListedClaims
    function payListed(address caller, address account, address token, uint256 cumulative) external returns (uint256 paid) {
        if (msg.sender != judge) revert EpochRegistryNotJudge(msg.sender);
        paid = _pay(caller, account, token, cumulative);
        if (paid == 0) revert RewardDistributorNothingToClaim(account, token, cumulative, claimed[account][token]);
    }

    /// @notice Claims many leaves across tokens and accounts. A leaf with nothing new to pay (a repeat inside the
    /// batch, or one already claimed) is skipped, so each (account, token) is paid at most its difference once.
    /// @dev Skips instead of reverting so one already-claimed leaf does not block the rest of the batch; an
    /// invalid proof still reverts the whole batch.
    /// @param claims The leaves to claim.
    /// @return paidCount How many leaves paid something.
    function claimMany(Claim[] calldata claims) external returns (uint256 paidCount) {
        bytes32 root = _root();
        bytes32 dom = domain();
        for (uint256 i = 0; i < claims.length; ++i) {
            Claim calldata c = claims[i];
            if (_claim(root, dom, c.account, c.token, c.cumulative, c.proof) != 0) ++paidCount;
        }
    }

    /*//////////////////////////////////////////////////////////////
                         EXTERNAL VIEW FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice What a leaf would pay now (zero when its proof fails or nothing is new).
    /// @param account The leaf's account.
    /// @param token The leaf's token.
    /// @param cumulative The leaf's cumulative amount.
    /// @param proof The Merkle proof of the leaf against the current reward root.
    /// @return The amount a claim would pay; zero also before any epoch is final.
    function claimable(address account, address token, uint256 cumulative, bytes32[] calldata proof) external view returns (uint256) {
        bytes32 root = currentRewardRoot;
        if (root == bytes32(0) || !MerkleProof.verifyCalldata(proof, root, leafHash(account, token, cumulative))) return 0;
        uint256 already = claimed[account][token];
        return cumulative > already ? cumulative - already : 0;
    }

    /// @notice The OpenZeppelin standard leaf of (domain(), account, token, cumulative) on this distributor.
    /// @dev The domain binds a reward tree to one chain and one contract: a tree made for another distributor
    ///      (another chain, a redeploy) has leaves that do not verify here.
    /// @param account The account.
    /// @param token The token.
    /// @param cumulative The cumulative amount.
    /// @return leaf keccak256(bytes.concat(keccak256(abi.encode(domain(), account, token, cumulative)))).
    function leafHash(address account, address token, uint256 cumulative) public view returns (bytes32 leaf) {
        return _leafHash(domain(), account, token, cumulative);
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @dev The current reward root; reverts with `RewardDistributorNoRoot` before any epoch is final.
    function _root() internal view returns (bytes32 root) {
        root = currentRewardRoot;
        if (root == bytes32(0)) revert RewardDistributorNoRoot();
    }

    /// @dev Effects before the transfer: `claimed` is raised first, so a reentrant call finds nothing to pay.
    function _claim(bytes32 root, bytes32 dom, address account, address token, uint256 cumulative, bytes32[] calldata proof) internal returns (uint256 paid) {
        if (!MerkleProof.verifyCalldata(proof, root, _leafHash(dom, account, token, cumulative))) {
            revert RewardDistributorInvalidProof(account, token, cumulative);
        }
        return _pay(msg.sender, account, token, cumulative);
    }

    /// @dev Pays `cumulative - claimed` of a leaf known to be right (zero when not above it). `caller` is who claims:
    /// the account itself is paid; anyone else's claim goes to the recipient the account chose, or to the account.
    function _pay(address caller, address account, address token, uint256 cumulative) internal returns (uint256 paid) {
        uint256 already = claimed[account][token];
        // A root that lowers a cumulative amount pays nothing: no underflow, no revert of other claims.
        if (cumulative <= already) return 0;
        unchecked {
            // Safe: cumulative > already just above.
            paid = cumulative - already;
        }
        claimed[account][token] = cumulative;
        // An account claiming for itself is paid itself; a claim made by anyone else goes to the recipient the
        // account chose, or to the account.
        address to = account;
        if (caller != account) {
            address chosen = recipientOf[account];
            if (chosen != address(0)) to = chosen;
        }
        IERC20(token).safeTransfer(to, paid);
        emit Claimed(account, token, paid);
    }

    /// @dev keccak256(bytes.concat(keccak256(abi.encode(dom, account, token, cumulative)))), in scratch memory.
    function _leafHash(bytes32 dom, address account, address token, uint256 cumulative) internal pure returns (bytes32 leaf) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, dom)
            mstore(add(m, 0x20), account)
            mstore(add(m, 0x40), token)
            mstore(add(m, 0x60), cumulative)
            mstore(0x00, keccak256(m, 0x80))
            leaf := keccak256(0x00, 0x20)
        }
    }
}
