// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// A mintable ERC-20 that burns a fee on every transfer, for tests only: a payer cannot under-pay the revenue
// settlement with it. Anyone can mint; never deploy it for real funds.

import {TestToken} from "../TestTokens.sol";

/// @title FeeOnTransferToken
/// @notice TestToken that burns `feeBps` of every transfer between two accounts (mints and burns are whole), so a
/// recipient receives less than the amount sent. Not for production.
contract FeeOnTransferToken is TestToken {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by the constructor with a fee above 10,000 bps.
    /// @param feeBps The fee asked for.
    error FeeOnTransferTokenBadFee(uint256 feeBps);

    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice The fee burned from each transfer, in bps of the amount, rounded down.
    uint256 public immutable feeBps;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param name_ The token's name.
    /// @param symbol_ The token's symbol.
    /// @param decimals_ The token's decimals.
    /// @param feeBps_ The fee burned from each transfer, in bps (at most 10,000).
    constructor(string memory name_, string memory symbol_, uint8 decimals_, uint256 feeBps_) TestToken(name_, symbol_, decimals_) {
        if (feeBps_ > 10_000) revert FeeOnTransferTokenBadFee(feeBps_);
        feeBps = feeBps_;
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @dev A transfer between two accounts burns its fee from the sender first; mints and burns take none.
    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = (value * feeBps) / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
