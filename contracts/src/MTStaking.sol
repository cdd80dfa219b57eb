// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Staking of one deployment's Model Token, checkpointed by block number so that the aggregator (and a circuit's
// public inputs) can read each account's stake and the circulating supply at an epoch's snapshot block.

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title MTStaking
/// @notice Stake a deployment's Model Token. Stakes, the total staked and the circulating supply are
/// checkpointed by block number, so an epoch's snapshot block reads them exactly; `discountBpsAt` computes the
/// inference discount as src/economics does: min(X, floor(stake * M * 10^4 / circulating)).
contract MTStaking is AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using Checkpoints for Checkpoints.Trace208;

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by `stake` or `unstake` with a zero amount.
    error MTStakingZeroAmount();

    /// @notice Raised by `unstake` of more than the caller's stake.
    /// @param account The caller.
    /// @param staked The caller's stake.
    /// @param requested The amount asked for.
    error MTStakingInsufficientStake(address account, uint256 staked, uint256 requested);

    /// @notice Raised by a snapshot read at a block after the current one.
    /// @dev A future block's values can still change, so they are not a snapshot.
    /// @param blockNumber The block asked for.
    /// @param current The current block.
    error MTStakingFutureBlock(uint256 blockNumber, uint256 current);

    /// @notice Raised when the maximum discount is above 10,000 bps or the multiplier is zero.
    error MTStakingBadParameters();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice An account staked.
    /// @param account The account.
    /// @param amount The amount staked.
    /// @param stake The account's stake afterwards.
    event Staked(address indexed account, uint256 amount, uint256 stake);

    /// @notice An account unstaked.
    /// @param account The account.
    /// @param amount The amount unstaked.
    /// @param stake The account's stake afterwards.
    event Unstaked(address indexed account, uint256 amount, uint256 stake);

    /// @notice The circulating supply was recorded.
    /// @param circulating The circulating supply from this block on.
    event CirculatingSupplySet(uint256 circulating);

    /// @notice The discount parameters were set.
    /// @param maxDiscountBps The maximum discount X, in bps.
    /// @param multiplier The multiplier M.
    event DiscountParametersSet(uint256 maxDiscountBps, uint256 multiplier);

    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice The role that records the circulating supply.
    bytes32 public constant SUPPLY_ROLE = keccak256("SUPPLY_ROLE");

    /// @notice The Model Token staked.
    IERC20 public immutable token;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The maximum discount X, in bps.
    uint256 public maxDiscountBps;
    /// @notice The multiplier M of the discount formula.
    uint256 public multiplier;

    /// @dev Each account's stake, checkpointed by block number.
    mapping(address account => Checkpoints.Trace208) internal _stakes;
    /// @dev The total staked, checkpointed by block number.
    Checkpoints.Trace208 internal _total;
    /// @dev The circulating supply, checkpointed by block number.
    Checkpoints.Trace208 internal _circulating;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param token_ The Model Token staked.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE and SUPPLY_ROLE.
    /// @param maxDiscountBps_ The maximum discount X, in bps (at most 10,000).
    /// @param multiplier_ The multiplier M (non-zero).
    constructor(IERC20 token_, address admin, uint256 maxDiscountBps_, uint256 multiplier_) {
        token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SUPPLY_ROLE, admin);
        _setDiscount(maxDiscountBps_, multiplier_);
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Stakes `amount` of the token from the caller, who must have approved it.
    /// @dev Counts from the current block on: a stake made in a snapshot block counts in that snapshot.
    /// @param amount The amount, non-zero.
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert MTStakingZeroAmount();
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 next = stakeOf(msg.sender) + amount;
        _stakes[msg.sender].push(_now(), SafeCast.toUint208(next));
        _total.push(_now(), SafeCast.toUint208(totalStaked() + amount));
        emit Staked(msg.sender, amount, next);
    }

    /// @notice Returns `amount` of the caller's stake.
    /// @dev Reverts with `MTStakingZeroAmount` or `MTStakingInsufficientStake`.
    /// @param amount The amount, non-zero and at most the caller's stake.
    function unstake(uint256 amount) external nonReentrant {
        if (amount == 0) revert MTStakingZeroAmount();
        uint256 current = stakeOf(msg.sender);
        if (amount > current) revert MTStakingInsufficientStake(msg.sender, current, amount);
        unchecked {
            // Safe: amount <= current, and the total is at least every stake.
            _stakes[msg.sender].push(_now(), uint208(current - amount));
            _total.push(_now(), uint208(totalStaked() - amount));
        }
        token.safeTransfer(msg.sender, amount);
        emit Unstaked(msg.sender, amount, current - amount);
    }

    /// @notice Records the circulating supply (sale + liquidity + vested - burned), maintained by the platform.
    /// @dev Supply role only. Checkpointed like the stakes, so a snapshot reads the supply of its block.
    /// @param circulating The circulating supply from this block on.
    function setCirculatingSupply(uint256 circulating) external onlyRole(SUPPLY_ROLE) {
        _circulating.push(_now(), SafeCast.toUint208(circulating));
        emit CirculatingSupplySet(circulating);
    }

    /// @notice Sets the maximum discount X and the multiplier M.
    /// @dev Admin only. Reverts with `MTStakingBadParameters` when X > 10,000 or M = 0.
    /// @param maxDiscountBps_ The maximum discount X, in bps.
    /// @param multiplier_ The multiplier M.
    function setDiscountParameters(uint256 maxDiscountBps_, uint256 multiplier_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDiscount(maxDiscountBps_, multiplier_);
    }

    /*//////////////////////////////////////////////////////////////
                         EXTERNAL VIEW FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice The current stake of `account`.
    /// @param account The account.
    /// @return The stake.
    function stakeOf(address account) public view returns (uint256) {
        return _stakes[account].latest();
    }

    /// @notice The current total staked.
    /// @return The total staked.
    function totalStaked() public view returns (uint256) {
        return _total.latest();
    }

    /// @notice The stake of `account` at the end of block `blockNumber`.
    /// @dev Reverts with `MTStakingFutureBlock` for a block after the current one.
    /// @param account The account.
    /// @param blockNumber The snapshot block.
    /// @return The stake.
    function stakeAt(address account, uint256 blockNumber) public view returns (uint256) {
        return _stakes[account].upperLookupRecent(_past(blockNumber));
    }

    /// @notice The total staked at the end of block `blockNumber`.
    /// @dev Reverts with `MTStakingFutureBlock` for a block after the current one.
    /// @param blockNumber The snapshot block.
    /// @return The total staked.
    function totalStakedAt(uint256 blockNumber) external view returns (uint256) {
        return _total.upperLookupRecent(_past(blockNumber));
    }

    /// @notice The circulating supply at the end of block `blockNumber`.
    /// @dev Reverts with `MTStakingFutureBlock` for a block after the current one.
    /// @param blockNumber The snapshot block.
    /// @return The circulating supply; zero before it was first set.
    function circulatingSupplyAt(uint256 blockNumber) public view returns (uint256) {
        return _circulating.upperLookupRecent(_past(blockNumber));
    }

    /// @notice The discount of `account` at a snapshot block, in bps, rounded down; zero without circulating supply.
    /// @dev Uses the current X and M, which are not checkpointed.
    /// @param account The account.
    /// @param blockNumber The snapshot block.
    /// @return The discount in bps.
    function discountBpsAt(address account, uint256 blockNumber) external view returns (uint256) {
        return discountBps(stakeAt(account, blockNumber), circulatingSupplyAt(blockNumber));
    }

    /// @notice min(X, floor(stake * M * 10^4 / circulating)), as `stakingDiscountBps` in src/economics.
    /// @param stakeAmount The stake.
    /// @param circulating The circulating supply.
    /// @return The discount in bps; zero when `circulating` is zero.
    function discountBps(uint256 stakeAmount, uint256 circulating) public view returns (uint256) {
        if (circulating == 0) return 0;
        uint256 d = (stakeAmount * multiplier * 10_000) / circulating;
        return d < maxDiscountBps ? d : maxDiscountBps;
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @dev Checks and sets the discount parameters.
    function _setDiscount(uint256 maxDiscountBps_, uint256 multiplier_) internal {
        if (maxDiscountBps_ > 10_000 || multiplier_ == 0) revert MTStakingBadParameters();
        maxDiscountBps = maxDiscountBps_;
        multiplier = multiplier_;
        emit DiscountParametersSet(maxDiscountBps_, multiplier_);
    }

    /// @dev The checkpoint key of the current block.
    function _now() internal view returns (uint48) {
        return SafeCast.toUint48(block.number);
    }

    /// @dev The checkpoint key of a block that is not in the future.
    function _past(uint256 blockNumber) internal view returns (uint48) {
        if (blockNumber > block.number) revert MTStakingFutureBlock(blockNumber, block.number);
        return SafeCast.toUint48(blockNumber);
    }
}
