// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The one vesting schedule of the deployments' streams (the staking fund and the incentive reserve): what
// EpochFunding releases to the distributor each epoch and what EpochJudge credits when it recomputes a reward leaf,
// from one implementation so the two cannot drift apart.

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title Vesting
/// @notice Linear vesting over 180 days, released per epoch: a stream of `total` starting at epoch `start` releases,
/// in epoch e >= start, vested((e - start + 1) * epochSeconds) - vested((e - start) * epochSeconds), with
/// vested(t) = floor(total * min(t, 180 days) / 180 days), so the releases of consecutive epochs sum to `total`
/// (`epochRelease` in src/economics/supply.ts).
library Vesting {
    /// @notice How long a stream vests: the paper's six months, 180 days.
    uint256 internal constant DURATION = 180 days;

    /// @notice What a stream of `total` starting at `startEpoch` releases in `epoch` (zero before the start).
    /// @param total The stream's amount.
    /// @param startEpoch Its first epoch.
    /// @param epoch The epoch.
    /// @param epochSeconds Seconds per epoch.
    /// @return The release.
    function releaseOf(uint256 total, uint64 startEpoch, uint64 epoch, uint256 epochSeconds) internal pure returns (uint256) {
        if (epoch < startEpoch) return 0;
        uint256 elapsed = uint256(epoch - startEpoch) * epochSeconds;
        return vested(total, elapsed + epochSeconds) - vested(total, elapsed);
    }

    /// @notice floor(total * min(t, 180 days) / 180 days), as `vestedAmount` in src/economics/supply.ts.
    /// @param total The stream's amount.
    /// @param t Seconds since the stream's start.
    /// @return The amount vested.
    function vested(uint256 total, uint256 t) internal pure returns (uint256) {
        if (t >= DURATION) return total;
        return Math.mulDiv(total, t, DURATION);
    }
}
