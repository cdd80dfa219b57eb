// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Tokens for tests and the demo only: a mintable ERC-20, a token that returns false instead of reverting, and a
// token that re-enters a target on transfer; and a flash staker that stakes and reads its discount in one
// transaction. Anyone can mint; never deploy them for real funds.

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {MTStaking} from "./MTStaking.sol";

/// @title TestToken
/// @notice A mintable ERC-20 for tests and the demo (FLOCK, USDC with 6 decimals, Model Tokens). Not for production.
contract TestToken is ERC20 {
    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @dev The decimals given at deployment (USDC-like tokens use 6).
    uint8 private immutable _decimals;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param name_ The token's name.
    /// @param symbol_ The token's symbol.
    /// @param decimals_ The token's decimals.
    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Mints `amount` to `to`. Unrestricted: anyone can mint.
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /*//////////////////////////////////////////////////////////////
                         EXTERNAL VIEW FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice The token's decimals, as given at deployment.
    /// @return The decimals.
    function decimals() public view virtual override returns (uint8) {
        return _decimals;
    }
}

/// @title FalseReturningToken
/// @notice Returns false instead of reverting on a failed transfer, as some old tokens do.
/// @dev Only `transfer`, `balanceOf` and `mint`: enough to check that SafeERC20 turns `false` into a revert.
contract FalseReturningToken {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The balance of each account.
    mapping(address => uint256) public balanceOf;

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Mints `amount` to `to`. Unrestricted.
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    /// @notice Moves `amount` from the caller to `to`.
    /// @param to The recipient.
    /// @param amount The amount.
    /// @return False, with nothing moved, when the caller's balance is short; true otherwise.
    function transfer(address to, uint256 amount) external returns (bool) {
        if (balanceOf[msg.sender] < amount) return false;
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
        return true;
    }
}

/// @title ReentrantToken
/// @notice Calls back into a target on every transfer, to attempt reentrancy.
/// @dev Calls back once only (`reentered` is never reset), and bubbles the callback's revert.
contract ReentrantToken is ERC20 {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The contract called back on transfer; zero disarms the token.
    address public target;
    /// @notice The calldata of the callback.
    bytes public payload;
    /// @notice Whether the callback has been made.
    bool public reentered;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    constructor() ERC20("Reentrant", "RE") {}

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Mints `amount` to `to`. Unrestricted.
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the callback made on the next transfer (mints and burns included).
    /// @param target_ The contract to call.
    /// @param payload_ The calldata to call it with.
    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @dev Makes the armed callback after the balance update, as a token with transfer hooks would.
    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (target != address(0) && !reentered) {
            reentered = true;
            (bool ok, bytes memory ret) = target.call(payload);
            // Bubble the revert so a test sees the guard fire.
            if (!ok) {
                assembly {
                    revert(add(ret, 32), mload(ret))
                }
            }
        }
    }
}

/// @title FlashStaker
/// @notice An attacker for the security tests: stakes and reads its own discount at the current block in one
/// transaction, as a contract would with a flash loan. MTStaking refuses the read (`MTStakingFutureBlock`).
contract FlashStaker {
    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice The staking contract attacked.
    MTStaking public immutable staking;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param staking_ The staking contract attacked.
    constructor(MTStaking staking_) {
        staking = staking_;
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Stakes `amount` of the staking token held by this contract, then reads its discount at this block.
    /// @param amount The amount to stake; this contract must hold it.
    /// @return The discount read, in bps (never returned: the read reverts).
    function stakeAndRead(uint256 amount) external returns (uint256) {
        IERC20 token = staking.token();
        token.approve(address(staking), amount);
        staking.stake(amount);
        return staking.discountBpsAt(address(this), block.number);
    }
}
