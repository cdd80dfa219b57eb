// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {EpochRegistry} from "./EpochRegistry.sol";
import {IBatchVerifier} from "./IEpochRegistry.sol";

/// @title RewardDistributor
/// @notice The epoch registry that also pays: the current (final) reward root holds, per (account, token),
/// everything the account ever earned; a claim pays the difference to what it already received. Anyone may claim
/// for an account, but the funds go only to the account or to the recipient the account itself chose.
/// @dev Reentrancy-safe by checks-effects-interactions: `claimed` is raised before the transfer, so a reentrant
/// claim of the same leaf finds nothing to pay (tested with a token that calls back on transfer).
contract RewardDistributor is EpochRegistry {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    error RewardDistributorNoRoot();
    error RewardDistributorInvalidProof(address account, address token, uint256 cumulative);
    error RewardDistributorNothingToClaim(address account, address token, uint256 cumulative, uint256 claimed);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @dev Where the funds went shows in the token's Transfer event (the account, or its chosen recipient).
    event Claimed(address indexed account, address indexed token, uint256 amount);
    event RecipientSet(address indexed account, address indexed recipient);

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    struct Claim {
        address account;
        address token;
        uint256 cumulative;
        bytes32[] proof;
    }

    mapping(address account => mapping(address token => uint256)) public claimed;
    mapping(address account => address) public recipientOf;

    constructor(address admin, address publisher, address guardian, uint256 timelockSeconds, IBatchVerifier batchVerifier)
        EpochRegistry(admin, publisher, guardian, timelockSeconds, batchVerifier)
    {}

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @notice Where the caller's rewards go from now on (zero: to the caller itself).
    function setRecipient(address recipient) external {
        recipientOf[msg.sender] = recipient;
        emit RecipientSet(msg.sender, recipient);
    }

    /// @notice Claims one (account, token) leaf; reverts when there is nothing new to pay.
    function claim(address account, address token, uint256 cumulative, bytes32[] calldata proof) external returns (uint256 paid) {
        bytes32 root = _root();
        paid = _claim(root, account, token, cumulative, proof);
        if (paid == 0) revert RewardDistributorNothingToClaim(account, token, cumulative, claimed[account][token]);
    }

    /// @notice Claims many leaves across tokens and accounts. A leaf with nothing new to pay (a repeat inside the
    /// batch, or one already claimed) is skipped, so each (account, token) is paid at most its difference once.
    function claimMany(Claim[] calldata claims) external returns (uint256 paidCount) {
        bytes32 root = _root();
        for (uint256 i = 0; i < claims.length; ++i) {
            Claim calldata c = claims[i];
            if (_claim(root, c.account, c.token, c.cumulative, c.proof) != 0) ++paidCount;
        }
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice What a leaf would pay now (zero when its proof fails or nothing is new).
    function claimable(address account, address token, uint256 cumulative, bytes32[] calldata proof) external view returns (uint256) {
        bytes32 root = currentRewardRoot;
        if (root == bytes32(0) || !MerkleProof.verifyCalldata(proof, root, leafHash(account, token, cumulative))) return 0;
        uint256 already = claimed[account][token];
        return cumulative > already ? cumulative - already : 0;
    }

    /// @notice The OpenZeppelin standard leaf of (account, token, cumulative).
    function leafHash(address account, address token, uint256 cumulative) public pure returns (bytes32 leaf) {
        // keccak256(bytes.concat(keccak256(abi.encode(account, token, cumulative)))), in scratch memory.
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, account)
            mstore(add(m, 0x20), token)
            mstore(add(m, 0x40), cumulative)
            mstore(0x00, keccak256(m, 0x60))
            leaf := keccak256(0x00, 0x20)
        }
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _root() internal view returns (bytes32 root) {
        root = currentRewardRoot;
        if (root == bytes32(0)) revert RewardDistributorNoRoot();
    }

    /// @dev Effects before the transfer: `claimed` is raised first, so a reentrant call finds nothing to pay.
    function _claim(bytes32 root, address account, address token, uint256 cumulative, bytes32[] calldata proof) internal returns (uint256 paid) {
        if (!MerkleProof.verifyCalldata(proof, root, leafHash(account, token, cumulative))) {
            revert RewardDistributorInvalidProof(account, token, cumulative);
        }
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
        if (msg.sender != account) {
            address chosen = recipientOf[account];
            if (chosen != address(0)) to = chosen;
        }
        IERC20(token).safeTransfer(to, paid);
        emit Claimed(account, token, paid);
    }
}
