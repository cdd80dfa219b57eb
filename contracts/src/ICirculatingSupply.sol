// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The circulating supply of a Model Token read from chain state (paper 3.6: sale + liquidity + vested - burned), so
// that the staking discount's denominator follows the chain rather than an account with a role.

/// @title ICirculatingSupply
/// @notice A token that knows how much of its supply circulates: its total supply less what is still locked.
interface ICirculatingSupply {
    /// @notice The supply that circulates now: the total supply less every amount still locked (escrowed in the sale,
    /// unvested, not yet released by the epoch funding).
    /// @return The circulating supply, base units.
    function circulatingSupply() external view returns (uint256);
}

/// @title ILockedSupply
/// @notice What holds a token's locked parts (the RMO sale of a Model Token) and can say how much is still locked.
interface ILockedSupply {
    /// @notice The part of the token's supply that is locked now.
    /// @return The locked amount, base units.
    function lockedSupply() external view returns (uint256);
}
