// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The vesting wallet of a graduation (the issuer's MT; the treasury's MT and the protocol's FLOCK): OpenZeppelin's
// VestingWallet with its beneficiary fixed for good. OpenZeppelin 5's VestingWallet is Ownable and its owner is the
// beneficiary, so its owner could otherwise transfer the ownership (selling the unvested MT by selling the wallet,
// around the 180-day vesting) or renounce it (every release would then pay address zero and revert: the MT stuck in
// the wallet, yet counted as circulating once vested).

import {VestingWallet} from "@openzeppelin/contracts/finance/VestingWallet.sol";

/// @title LockedVestingWallet
/// @notice A VestingWallet (linear from `start()` over `duration()`, `release(token)` by anyone to `owner()`) whose
/// owner, the beneficiary set at construction, can never change: `transferOwnership` and `renounceOwnership` revert for
/// every caller.
contract LockedVestingWallet is VestingWallet {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by `transferOwnership` and `renounceOwnership`: the beneficiary is fixed.
    error LockedVestingWalletFixedBeneficiary();

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param beneficiary The owner, paid by every release, for good (non-zero: Ownable refuses zero).
    /// @param startTimestamp When the vesting starts, unix seconds.
    /// @param durationSeconds How long it vests.
    constructor(address beneficiary, uint64 startTimestamp, uint64 durationSeconds) VestingWallet(beneficiary, startTimestamp, durationSeconds) {}

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Refused: the beneficiary cannot hand the wallet (and its unvested tokens) to anyone.
    /// @dev Reverts with `LockedVestingWalletFixedBeneficiary` for every caller, the owner included.
    function transferOwnership(address) public pure override {
        revert LockedVestingWalletFixedBeneficiary();
    }

    /// @notice Refused: without an owner every release would pay address zero and revert.
    /// @dev Reverts with `LockedVestingWalletFixedBeneficiary` for every caller, the owner included.
    function renounceOwnership() public pure override {
        revert LockedVestingWalletFixedBeneficiary();
    }
}
