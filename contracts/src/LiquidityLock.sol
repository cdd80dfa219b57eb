// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The lock of a graduated deployment's liquidity (paper 3.4: "locked for 48 months"): it holds the LP tokens of the
// MT/FLOCK pool the graduation seeded and pays them to the beneficiary (the treasury) only from its release time.

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title LiquidityLock
/// @notice Holds one token (the pool's LP token) until `releaseTime`, then pays everything it holds to the
/// beneficiary. Nothing can move the tokens earlier: there is no owner, no other function and no way to change the
/// beneficiary or the time. Anyone may call `release` once the time has come; the tokens go to the beneficiary.
contract LiquidityLock {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by the constructor with a zero token or beneficiary.
    error LiquidityLockZeroAddress();

    /// @notice Raised by `release` before the release time.
    /// @param releaseTime When the lock opens, unix seconds.
    /// @param timestamp The block's timestamp.
    error LiquidityLockLocked(uint256 releaseTime, uint256 timestamp);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The lock paid out what it held.
    /// @param beneficiary The recipient.
    /// @param amount The tokens paid.
    event Released(address indexed beneficiary, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice The locked token.
    IERC20 public immutable token;
    /// @notice Receives the tokens from the release time on.
    address public immutable beneficiary;
    /// @notice The first timestamp `release` pays at.
    uint256 public immutable releaseTime;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param token_ The token locked (the pair's LP token).
    /// @param beneficiary_ The recipient at release (the treasury).
    /// @param releaseTime_ Unix seconds from which `release` pays.
    constructor(IERC20 token_, address beneficiary_, uint256 releaseTime_) {
        if (address(token_) == address(0) || beneficiary_ == address(0)) revert LiquidityLockZeroAddress();
        token = token_;
        beneficiary = beneficiary_;
        releaseTime = releaseTime_;
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Pays everything the lock holds to the beneficiary, from the release time on. Anyone may call it.
    /// @dev Reverts with `LiquidityLockLocked` before `releaseTime`.
    /// @return amount The tokens paid.
    function release() external returns (uint256 amount) {
        if (block.timestamp < releaseTime) revert LiquidityLockLocked(releaseTime, block.timestamp);
        amount = token.balanceOf(address(this));
        emit Released(beneficiary, amount);
        token.safeTransfer(beneficiary, amount);
    }
}
