// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// What an epoch's reward tree pays beyond its revenue, moved into the distributor when the epoch is finalized: the
// FLOCK emission of the epoch, and each graduated deployment's vesting streams (the staking fund of 25 % of its raise
// in FLOCK, the incentive reserve of 20 % of its MT), released per epoch exactly as src/epoch/seal.ts computes them.
// So every reward leaf is funded before it can be claimed, and an epoch whose funding is short waits.

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IEpochFunding} from "./IEpochRegistry.sol";
import {Vesting} from "./Vesting.sol";

/// @dev The distributor's view of the funding contract it was built with.
interface IFundedDistributor {
    function epochFunding() external view returns (address);
    function hasFinalized() external view returns (bool);
    function lastFinalizedEpoch() external view returns (uint64);
}

/// @title EpochFunding
/// @notice Holds the FLOCK emission reserve and the deployments' vesting streams, and releases one epoch's share of
/// each to the distributor when the distributor finalizes that epoch (`fund`, once per epoch). The emission of an
/// epoch is `dailyEmission * epochSeconds / 86,400`, rounded down; a stream of `total` starting at epoch `start`
/// releases, for epoch e >= start, vested((e - start + 1) * epochSeconds) - vested((e - start) * epochSeconds) with
/// vested(t) = floor(total * min(t, 180 days) / 180 days), so the releases of consecutive epochs sum to `total`.
/// Anyone may top up the emission reserve by transferring FLOCK here; streams are added by the STREAM_ROLE (the
/// graduation of a sale, or the admin), which pays their whole amount in at once. An epoch never finalized (skipped:
/// it had no receipts) releases its stream share to the treasury instead (`sweepSkipped`), so every stream ends.
contract EpochFunding is IEpochFunding, AccessControlDefaultAdminRules {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by the constructor with a zero token or admin, or zero epoch length.
    error EpochFundingInvalidConfig();

    /// @notice Raised by `bindDistributor` once a distributor is bound, or for an address that is not a distributor
    /// built with this funding contract.
    error EpochFundingDistributorBound();

    /// @notice Raised by `fund` from any account but the bound distributor.
    /// @param caller The caller.
    error EpochFundingNotDistributor(address caller);

    /// @notice Raised by `fund` for an epoch already funded.
    /// @param epoch The epoch.
    error EpochFundingFunded(uint64 epoch);

    /// @notice Raised by `fund` while the emission reserve holds less than the epoch's emission: top it up with FLOCK.
    /// @param due The epoch's emission.
    /// @param available The FLOCK the reserve holds beyond what streams still owe.
    error EpochFundingShort(uint256 due, uint256 available);

    /// @notice Raised by `addStream` with a zero token or amount, a second stream of the same kind for a deployment,
    /// a start at or before the last final epoch (those epochs' rewards are sealed without it), or with
    /// `MAX_LIVE_STREAMS` streams still vesting.
    error EpochFundingInvalidStream();

    /// @notice Raised by `sweepSkipped` for an epoch that was funded (or swept), or that can still be finalized.
    /// @param epoch The epoch.
    error EpochFundingNotSkipped(uint64 epoch);

    /// @notice Raised by `recoverERC20` for FLOCK (the emission reserve and staking funds), more of a stream's token
    /// than is held beyond what its streams still owe, or a zero recipient.
    /// @param token The token.
    /// @param recoverable What may be taken of it.
    error EpochFundingNotRecoverable(address token, uint256 recoverable);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The distributor the releases go to was bound (once).
    /// @param distributor The distributor.
    event DistributorBound(address distributor);

    /// @notice A vesting stream was added and paid in whole.
    /// @param deploymentId The deployment.
    /// @param kind 0: staking fund (FLOCK), 1: incentive reserve (MT).
    /// @param token The streamed token.
    /// @param total The amount streamed.
    /// @param startEpoch The first epoch it releases in (the graduation epoch).
    event StreamAdded(bytes32 indexed deploymentId, uint8 kind, address token, uint256 total, uint64 startEpoch);

    /// @notice The stream releases of an epoch that was never finalized went to the treasury.
    /// @param epoch The epoch.
    /// @param streamed The stream releases, in the order paid.
    event EpochSwept(uint64 indexed epoch, uint256[] streamed);

    /// @notice An epoch's emission and stream releases went to the distributor.
    /// @param epoch The epoch.
    /// @param emission The FLOCK emission released.
    /// @param streamed The stream releases, in the order paid (`streams()` order, but for finished streams, each
    /// replaced by the last).
    event EpochFunded(uint64 indexed epoch, uint256 emission, uint256[] streamed);

    /// @notice A token sent here by mistake was returned.
    /// @param token The token.
    /// @param to The recipient.
    /// @param amount The amount.
    event ERC20Recovered(address indexed token, address indexed to, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 STRUCTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A linear vesting stream of one deployment, released per epoch from `startEpoch`.
    struct Stream {
        bytes32 deploymentId;
        uint8 kind;
        IERC20 token;
        uint256 total;
        uint256 released;
        uint64 startEpoch;
    }

    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice The role that adds vesting streams.
    bytes32 public constant STREAM_ROLE = keccak256("STREAM_ROLE");
    /// @notice How long a default admin transfer (or a change of this delay) waits (AccessControlDefaultAdminRules).
    uint48 public constant ADMIN_TRANSFER_DELAY = 2 days;
    /// @notice How long a stream vests: the paper's six months, 180 days (`Vesting.DURATION`).
    uint256 public constant VESTING_SECONDS = Vesting.DURATION;
    /// @notice The most streams vesting at once (two per deployment graduated within 180 days): `fund` pays each in
    /// `finalize`, so this bounds its gas (about 35,000 a stream). Finished streams are dropped.
    uint256 public constant MAX_LIVE_STREAMS = 200;

    /// @notice The FLOCK token of the emission and the staking funds.
    IERC20 public immutable flock;
    /// @notice Seconds per epoch (config.json's `epochSeconds`).
    uint256 public immutable epochSeconds;
    /// @notice FLOCK emitted per epoch: dailyEmission * epochSeconds / 86,400, rounded down.
    uint256 public immutable emissionPerEpoch;
    /// @notice Where the releases of epochs never finalized go (`sweepSkipped`).
    address public immutable treasury;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The distributor that finalizes epochs and receives their funding (zero until bound).
    address public distributor;
    /// @notice Whether an epoch was funded.
    mapping(uint64 epoch => bool) public funded;
    /// @notice FLOCK the streams still owe (kept out of the emission reserve).
    uint256 public flockOwedByStreams;
    /// @dev Every stream, in the order added.
    Stream[] internal _streams;
    /// @dev Whether a deployment has a stream of a kind.
    mapping(bytes32 deploymentId => mapping(uint8 kind => bool)) internal _hasStream;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (transferred in two steps, `ADMIN_TRANSFER_DELAY`) and STREAM_ROLE.
    /// @param flockToken The FLOCK token.
    /// @param epochLength Seconds per epoch.
    /// @param dailyEmission FLOCK emitted per day across all deployments (base units).
    /// @param treasury_ Where the stream releases of epochs never finalized go.
    constructor(address admin, IERC20 flockToken, uint256 epochLength, uint256 dailyEmission, address treasury_)
        AccessControlDefaultAdminRules(ADMIN_TRANSFER_DELAY, admin)
    {
        if (admin == address(0) || address(flockToken) == address(0) || epochLength == 0 || treasury_ == address(0)) revert EpochFundingInvalidConfig();
        treasury = treasury_;
        _grantRole(STREAM_ROLE, admin);
        flock = flockToken;
        epochSeconds = epochLength;
        emissionPerEpoch = Math.mulDiv(dailyEmission, epochLength, 1 days);
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Binds the distributor that finalizes epochs (once): the distributor is deployed with this contract's
    /// address, so it cannot be a constructor argument here.
    /// @dev Admin only. Reverts with `EpochFundingDistributorBound` once bound or for zero.
    /// @param target The distributor.
    function bindDistributor(address target) external onlyRole(DEFAULT_ADMIN_ROLE) {
        // Only a distributor built to call this contract: any other account bound here could take every release.
        if (distributor != address(0) || target.code.length == 0 || IFundedDistributor(target).epochFunding() != address(this))
            revert EpochFundingDistributorBound();
        distributor = target;
        emit DistributorBound(target);
    }

    /// @notice Adds a deployment's vesting stream and pulls its whole amount from the caller.
    /// @dev STREAM_ROLE only. Reverts with `EpochFundingInvalidStream` for a zero token or amount or a second stream
    /// of the kind. A token that takes a fee on transfer is refused (the amount received must be `total`).
    /// @param deploymentId The deployment.
    /// @param kind 0: staking fund (FLOCK), 1: incentive reserve (MT).
    /// @param token The token (FLOCK for kind 0).
    /// @param total The amount streamed.
    /// @param startEpoch The deployment's graduation epoch (its first release).
    function addStream(bytes32 deploymentId, uint8 kind, IERC20 token, uint256 total, uint64 startEpoch) external onlyRole(STREAM_ROLE) {
        if (kind > 1 || total == 0 || address(token) == address(0) || (kind == 0 && token != flock) || _hasStream[deploymentId][kind])
            revert EpochFundingInvalidStream();
        if (_streams.length >= MAX_LIVE_STREAMS || (distributor != address(0) && _finalizedFrom(startEpoch))) revert EpochFundingInvalidStream();
        _hasStream[deploymentId][kind] = true;
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), total);
        if (token.balanceOf(address(this)) - before != total) revert EpochFundingInvalidStream();
        if (token == flock) flockOwedByStreams += total;
        _streams.push(Stream(deploymentId, kind, token, total, 0, startEpoch));
        emit StreamAdded(deploymentId, kind, address(token), total, startEpoch);
    }

    /// @inheritdoc IEpochFunding
    function fund(uint64 epoch) external {
        if (msg.sender != distributor) revert EpochFundingNotDistributor(msg.sender);
        if (funded[epoch]) revert EpochFundingFunded(epoch);
        funded[epoch] = true;
        uint256 available = flock.balanceOf(address(this)) - flockOwedByStreams;
        if (available < emissionPerEpoch) revert EpochFundingShort(emissionPerEpoch, available);
        flock.safeTransfer(msg.sender, emissionPerEpoch);
        emit EpochFunded(epoch, emissionPerEpoch, _release(epoch, msg.sender));
    }

    /// @notice Sends the stream releases of an epoch that can never be finalized (it was skipped: the distributor
    /// finalized a later one) to the treasury, so no stream stays stuck; anyone may call. Its emission stays in the
    /// reserve.
    /// @dev Reverts with `EpochFundingNotSkipped` for an epoch funded or swept, or not before the last final epoch.
    /// @param epoch The skipped epoch.
    function sweepSkipped(uint64 epoch) external {
        if (funded[epoch] || distributor == address(0) || !_finalizedFrom(epoch) || IFundedDistributor(distributor).lastFinalizedEpoch() == epoch)
            revert EpochFundingNotSkipped(epoch);
        funded[epoch] = true;
        emit EpochSwept(epoch, _release(epoch, treasury));
    }

    /// @notice Returns a token sent here by mistake: never FLOCK (all of it is the emission reserve or staking funds
    /// owed), and of a stream's token only what is held beyond what its streams still owe.
    /// @dev Admin only. Reverts with `EpochFundingNotRecoverable` for more than that or a zero recipient.
    /// @param token The token.
    /// @param to The recipient (non-zero).
    /// @param amount The amount.
    function recoverERC20(IERC20 token, address to, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 recoverable;
        if (token != flock) {
            uint256 owed;
            for (uint256 i = 0; i < _streams.length; ++i) if (_streams[i].token == token) owed += _streams[i].total - _streams[i].released;
            uint256 held = token.balanceOf(address(this));
            recoverable = held > owed ? held - owed : 0;
        }
        if (amount > recoverable || to == address(0)) revert EpochFundingNotRecoverable(address(token), recoverable);
        token.safeTransfer(to, amount);
        emit ERC20Recovered(address(token), to, amount);
    }

    /*//////////////////////////////////////////////////////////////
                         EXTERNAL VIEW FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Every stream, in the order added.
    /// @return The streams.
    function streams() external view returns (Stream[] memory) {
        return _streams;
    }

    /// @notice What a stream of `total` starting at `startEpoch` releases in `epoch` (`releasedBetween` in
    /// src/economics/supply.ts over the epoch's window; zero before the start): `Vesting.releaseOf`, which EpochJudge
    /// credits reward leaves with.
    /// @param total The stream's amount.
    /// @param startEpoch Its first epoch.
    /// @param epoch The epoch.
    /// @return The release.
    function releaseOf(uint256 total, uint64 startEpoch, uint64 epoch) public view returns (uint256) {
        return Vesting.releaseOf(total, startEpoch, epoch, epochSeconds);
    }

    /// @dev Pays every stream's release of `epoch` to `to`, dropping the streams it finishes (the last stream takes a
    /// finished one's place); the releases in the order paid.
    function _release(uint64 epoch, address to) internal returns (uint256[] memory streamed) {
        streamed = new uint256[](_streams.length);
        uint256 i = 0;
        for (uint256 k = 0; k < streamed.length; ++k) {
            Stream storage s = _streams[i];
            uint256 amount = releaseOf(s.total, s.startEpoch, epoch);
            streamed[k] = amount;
            if (amount != 0) {
                s.released += amount;
                if (s.token == flock) flockOwedByStreams -= amount;
                s.token.safeTransfer(to, amount);
            }
            if (s.released == s.total) {
                // Finished: the last stream takes its place, and is looked at next.
                _streams[i] = _streams[_streams.length - 1];
                _streams.pop();
            } else {
                ++i;
            }
        }
    }

    /// @dev Whether the distributor has finalized `epoch` or a later one (so `epoch` can no longer be).
    function _finalizedFrom(uint64 epoch) internal view returns (bool) {
        IFundedDistributor d = IFundedDistributor(distributor);
        return d.hasFinalized() && d.lastFinalizedEpoch() >= epoch;
    }
}
