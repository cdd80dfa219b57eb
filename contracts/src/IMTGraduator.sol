// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// What a sale calls at its graduation, and what it gets back (contracts/src/MTGraduator.sol).

/// @title IMTGraduator
/// @notice Migrates a graduating sale's raise and its placed MT: the Uniswap v2 pool, the LP lock, the vesting wallets
/// and the epoch funding streams.
interface IMTGraduator {
    /// @notice Where a graduation put things.
    struct Graduation {
        /// The MT/FLOCK Uniswap v2 pair.
        address pair;
        /// The LiquidityLock holding the pool's LP tokens for 48 months.
        address lpLock;
        /// LockedVestingWallet (OpenZeppelin's VestingWallet, beneficiary fixed) of the issuer's MT (180 days from
        /// graduation).
        address issuerVesting;
        /// LockedVestingWallet of the treasury's MT and the protocol's FLOCK (180 days from graduation).
        address treasuryVesting;
        /// The graduation epoch: the first epoch both streams release in.
        uint64 startEpoch;
        /// LP tokens minted to the lock.
        uint256 liquidity;
    }

    /// @notice Migrates the caller's graduation: the caller must be the sale the launch factory recorded for
    /// `deploymentId` and must have transferred, before the call, `raised` FLOCK and the token's liquidity, incentive
    /// reserve, issuer and treasury parts. The graduator reads the caller's `graduationTarget()` (G): it pairs D/G of
    /// the liquidity MT and burns the rest.
    /// @param deploymentId The deployment.
    /// @param raised The FLOCK raised.
    /// @return The graduation's addresses and numbers.
    function migrate(bytes32 deploymentId, uint256 raised) external returns (Graduation memory);

    /// @notice The epoch funding contract the streams are added to.
    /// @return Its address.
    function epochFunding() external view returns (address);
}
