// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title StakeTable
/// @notice TESTS ONLY: a staking contract whose eligible stakes anyone sets, so a test pins random stakes of random
/// accounts without staking from each. `eligibleStakeAt` answers the stake set, whatever the block. Never pin it.
contract StakeTable {
    /// @notice The stake set for each account.
    mapping(address account => uint256) public stakeOf;

    /// @notice Sets accounts' stakes.
    /// @param accounts The accounts.
    /// @param stakes Each account's stake.
    function set(address[] calldata accounts, uint256[] calldata stakes) external {
        for (uint256 i = 0; i < accounts.length; ++i) stakeOf[accounts[i]] = stakes[i];
    }

    /// @notice The stake set for `account` (at any block).
    /// @param account The account.
    /// @return The stake.
    function eligibleStakeAt(address account, uint256) external view returns (uint256) {
        return stakeOf[account];
    }
}
