// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// A mintable and burnable ERC-20 for tests only: a Model Token stand-in that buyback-and-burn can destroy. Anyone can
// mint; never deploy it for real funds.

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {TestToken} from "../TestTokens.sol";

/// @title BurnableTestToken
/// @notice TestToken with ERC20Burnable's burn and burnFrom (a Model Token in the revenue settlement tests). Not for
/// production.
contract BurnableTestToken is TestToken, ERC20Burnable {
    /// @param name_ The token's name.
    /// @param symbol_ The token's symbol.
    /// @param decimals_ The token's decimals.
    constructor(string memory name_, string memory symbol_, uint8 decimals_) TestToken(name_, symbol_, decimals_) {}

    /// @inheritdoc TestToken
    function decimals() public view override(ERC20, TestToken) returns (uint8) {
        return TestToken.decimals();
    }
}
