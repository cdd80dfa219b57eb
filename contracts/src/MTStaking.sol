// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Staking of one deployment's Model Token, checkpointed by block number so that the aggregator (and a circuit's
// public inputs) can read each account's stake and the circulating supply at an epoch's snapshot block. A stake counts
// for an epoch only as far as it was already held when the eligibility window before the snapshot block began, less
// what was withdrawn during the window, so a stake bought for one block (or one transaction) earns neither a discount
// nor a share of the stakers' pool.

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ICirculatingSupply} from "./ICirculatingSupply.sol";

/// @title MTStaking
/// @notice Stake a deployment's Model Token. Stakes, the total staked, the circulating supply and the discount
/// parameters X and M are checkpointed by block number, so an epoch's snapshot block reads them exactly, and only
/// once that block is past. An account's eligible stake at a snapshot block is the stake it held when the
/// `eligibilityWindow` blocks before it began, less all it withdrew during them (`eligibleStakeAt`): a lower bound of
/// the minimum it held over the window, read in O(log n). `discountBpsAt` computes the inference discount of that
/// stake as src/economics does: min(X, floor(stake * M * 10^4 / circulating)).
///
/// The circulating supply comes from the token when it can say it (`ICirculatingSupply`, as ModelToken does: total
/// supply less what is locked in the sale, in vesting and in the epoch funding): the constructor records it, and
/// anyone checkpoints the current value with `syncCirculatingSupply()`, so the discount's denominator follows the
/// chain and no role can set it. For a token without it (a test token), the SUPPLY_ROLE records it by hand.
contract MTStaking is AccessControlDefaultAdminRules, ReentrancyGuard {
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

    /// @notice Raised by a snapshot read at the current block or a later one.
    /// @dev The values of the current block can still change in a later transaction of the block (a stake and a
    /// read in one transaction would otherwise see a stake bought for that transaction), and a future block's values
    /// are not known: a snapshot block must be strictly past.
    /// @param blockNumber The block asked for.
    /// @param current The current block.
    error MTStakingFutureBlock(uint256 blockNumber, uint256 current);

    /// @notice Raised when the maximum discount is above 10,000 bps, or the multiplier is zero or above 2^208 - 1.
    error MTStakingBadParameters();

    /// @notice Raised by the constructor with a zero eligibility window.
    error MTStakingZeroWindow();

    /// @notice Raised by `recoverERC20` for more of the staked token than it holds beyond the stakes, or a zero
    /// recipient.
    /// @param token The token.
    /// @param recoverable What may be taken of it.
    error MTStakingNotRecoverable(address token, uint256 recoverable);

    /// @notice Raised by `setCirculatingSupply` when the token reports its circulating supply itself: it is then
    /// synced from the token (`syncCirculatingSupply`), never set by hand.
    /// @param token The token.
    error MTStakingSupplyFromToken(address token);

    /// @notice Raised by `syncCirculatingSupply` when the token does not report its circulating supply: the supply
    /// role records it (`setCirculatingSupply`).
    /// @param token The token.
    error MTStakingNoSupplySource(address token);

    /// @notice Raised by a discount of a stake above the circulating supply (as `stakingDiscountBps` in src/economics
    /// throws): the supply recorded is wrong, and no discount is defined.
    /// @param stake The stake.
    /// @param circulating The circulating supply.
    error MTStakingStakeAboveSupply(uint256 stake, uint256 circulating);

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

    /// @notice A token sent here by mistake was returned.
    /// @param token The token.
    /// @param to The recipient.
    /// @param amount The amount.
    event ERC20Recovered(address indexed token, address indexed to, uint256 amount);

    /// @notice The circulating supply was recorded (set by the supply role, or synced from the token).
    /// @param circulating The circulating supply from this block on.
    event CirculatingSupplySet(uint256 circulating);

    /// @notice The discount parameters were set.
    /// @param maxDiscountBps The maximum discount X, in bps.
    /// @param multiplier The multiplier M.
    event DiscountParametersSet(uint256 maxDiscountBps, uint256 multiplier);

    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice The role that records the circulating supply of a token that does not report it.
    bytes32 public constant SUPPLY_ROLE = keccak256("SUPPLY_ROLE");

    /// @notice How long a default admin transfer (or a change of this delay) waits: two days for the stakers and the
    /// aggregator to see it (AccessControlDefaultAdminRules).
    uint48 public constant ADMIN_TRANSFER_DELAY = 2 days;

    /// @notice The Model Token staked.
    IERC20 public immutable token;

    /// @notice Whether the token reports its circulating supply (`ICirculatingSupply`, probed at construction): then
    /// it is synced from the token by anyone, else set by the supply role.
    bool public immutable supplyFromToken;

    /// @notice The eligibility window W, in blocks (non-zero): a stake counts at a snapshot block S only as far as it
    /// was held at S - W and not withdrawn in (S - W, S] (`eligibleStakeAt`). One epoch of blocks is the intended value
    /// (docs/protocol.md).
    uint256 public immutable eligibilityWindow;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Each account's stake, checkpointed by block number.
    mapping(address account => Checkpoints.Trace208) internal _stakes;
    /// @dev Each account's cumulative amount ever unstaked, modulo 2^208, checkpointed by block number (pushed by
    /// `unstake` only, so it never decreases but by wrapping; a difference of two of its values is exact while less
    /// than 2^208 is withdrawn between them).
    mapping(address account => Checkpoints.Trace208) internal _withdrawn;
    /// @dev The total staked, checkpointed by block number.
    Checkpoints.Trace208 internal _total;
    /// @dev The circulating supply, checkpointed by block number.
    Checkpoints.Trace208 internal _circulating;
    /// @dev The maximum discount X in bps, checkpointed by block number.
    Checkpoints.Trace208 internal _maxDiscountBps;
    /// @dev The multiplier M, checkpointed by block number.
    Checkpoints.Trace208 internal _multiplier;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @dev Probes the token for `circulatingSupply()` (a static call returning one word) and, when it answers,
    /// checkpoints its value at once.
    /// @param token_ The Model Token staked.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (non-zero; transferred in two steps, `ADMIN_TRANSFER_DELAY`) and
    /// SUPPLY_ROLE.
    /// @param maxDiscountBps_ The maximum discount X, in bps (at most 10,000).
    /// @param multiplier_ The multiplier M (non-zero).
    /// @param eligibilityWindow_ The eligibility window W in blocks (non-zero; one epoch of blocks is intended).
    constructor(IERC20 token_, address admin, uint256 maxDiscountBps_, uint256 multiplier_, uint256 eligibilityWindow_)
        AccessControlDefaultAdminRules(ADMIN_TRANSFER_DELAY, admin)
    {
        if (eligibilityWindow_ == 0) revert MTStakingZeroWindow();
        token = token_;
        eligibilityWindow = eligibilityWindow_;
        _grantRole(SUPPLY_ROLE, admin);
        _setDiscount(maxDiscountBps_, multiplier_);
        (bool ok, bytes memory data) = address(token_).staticcall(abi.encodeCall(ICirculatingSupply.circulatingSupply, ()));
        bool fromToken = ok && data.length == 32;
        supplyFromToken = fromToken;
        if (fromToken) _recordCirculating(abi.decode(data, (uint256)));
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Stakes `amount` of the token from the caller, who must have approved it; the stake credited is what
    /// the contract received (less than `amount` for a token that takes a fee on transfer).
    /// @dev `stakeAt` counts it from the current block on; `eligibleStakeAt` only at snapshot blocks S with the stake
    /// already held at S - W, the start of their eligibility window. Reverts with `MTStakingZeroAmount` when nothing
    /// arrives.
    /// @param amount The amount sent, non-zero.
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert MTStakingZeroAmount();
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        // Credit the balance delta: crediting `amount` would owe more than is held and the last unstake would revert.
        amount = token.balanceOf(address(this)) - before;
        if (amount == 0) revert MTStakingZeroAmount();
        uint256 next = stakeOf(msg.sender) + amount;
        _stakes[msg.sender].push(_now(), SafeCast.toUint208(next));
        _total.push(_now(), SafeCast.toUint208(totalStaked() + amount));
        emit Staked(msg.sender, amount, next);
    }

    /// @notice Returns `amount` of the caller's stake.
    /// @dev Reverts with `MTStakingZeroAmount` or `MTStakingInsufficientStake`. Counts against `eligibleStakeAt` at
    /// every snapshot block whose eligibility window it falls in, even if the amount is staked again.
    /// @param amount The amount, non-zero and at most the caller's stake.
    function unstake(uint256 amount) external nonReentrant {
        if (amount == 0) revert MTStakingZeroAmount();
        uint256 current = stakeOf(msg.sender);
        if (amount > current) revert MTStakingInsufficientStake(msg.sender, current, amount);
        unchecked {
            // Safe: amount <= current, and the total is at least every stake.
            _stakes[msg.sender].push(_now(), uint208(current - amount));
            _total.push(_now(), uint208(totalStaked() - amount));
            // Wraps modulo 2^208 rather than reverting, so an unstake can never be blocked (amount < 2^208: it was
            // a stake); eligibleStakeAt subtracts two of these values modulo 2^208 as well.
            Checkpoints.Trace208 storage withdrawn = _withdrawn[msg.sender];
            withdrawn.push(_now(), withdrawn.latest() + uint208(amount));
        }
        token.safeTransfer(msg.sender, amount);
        emit Unstaked(msg.sender, amount, current - amount);
    }

    /// @notice Returns a token sent here by mistake: any token but the staked one, and of the staked token only what
    /// is held beyond the total staked (never a stake).
    /// @dev Admin only. Reverts with `MTStakingNotRecoverable` for more than that or a zero recipient.
    /// @param token_ The token.
    /// @param to The recipient (non-zero).
    /// @param amount The amount.
    function recoverERC20(IERC20 token_, address to, uint256 amount) external nonReentrant onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 recoverable = token_.balanceOf(address(this));
        if (token_ == token) recoverable = recoverable > totalStaked() ? recoverable - totalStaked() : 0;
        if (amount > recoverable || to == address(0)) revert MTStakingNotRecoverable(address(token_), recoverable);
        token_.safeTransfer(to, amount);
        emit ERC20Recovered(address(token_), to, amount);
    }

    /// @notice Checkpoints the token's circulating supply (sale + liquidity + vested - burned, as the token derives it
    /// from chain state) at the current block. Anyone may call it; the aggregator calls it before an epoch's snapshot
    /// block, so the snapshot reads the supply of its epoch.
    /// @dev Reverts with `MTStakingNoSupplySource` when the token does not report its circulating supply.
    /// @return circulating The circulating supply recorded.
    function syncCirculatingSupply() external returns (uint256 circulating) {
        if (!supplyFromToken) revert MTStakingNoSupplySource(address(token));
        circulating = ICirculatingSupply(address(token)).circulatingSupply();
        _recordCirculating(circulating);
    }

    /// @notice Records the circulating supply (sale + liquidity + vested - burned) of a token that does not report it,
    /// maintained by the platform.
    /// @dev Supply role only; reverts with `MTStakingSupplyFromToken` when the token reports it (it is then synced,
    /// `syncCirculatingSupply`). Checkpointed like the stakes, so a snapshot reads the supply of its block.
    /// @param circulating The circulating supply from this block on.
    function setCirculatingSupply(uint256 circulating) external onlyRole(SUPPLY_ROLE) {
        if (supplyFromToken) revert MTStakingSupplyFromToken(address(token));
        _recordCirculating(circulating);
    }

    /// @notice Sets the maximum discount X and the multiplier M from the current block on.
    /// @dev Admin only. Reverts with `MTStakingBadParameters` when X > 10,000, M = 0 or M >= 2^208. Checkpointed:
    /// the discount at a past snapshot block keeps the X and M of that block.
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

    /// @notice The current maximum discount X, in bps (the value from this block on).
    /// @return X.
    function maxDiscountBps() public view returns (uint256) {
        return _maxDiscountBps.latest();
    }

    /// @notice The current multiplier M (the value from this block on).
    /// @return M.
    function multiplier() public view returns (uint256) {
        return _multiplier.latest();
    }

    /// @notice The stake of `account` at the end of block `blockNumber`, however briefly it was held.
    /// @dev Reverts with `MTStakingFutureBlock` unless `blockNumber` is before the current block. Not what a snapshot
    /// counts: see `eligibleStakeAt`.
    /// @param account The account.
    /// @param blockNumber The snapshot block.
    /// @return The stake.
    function stakeAt(address account, uint256 blockNumber) public view returns (uint256) {
        return _stakes[account].upperLookupRecent(_past(blockNumber));
    }

    /// @notice The total staked at the end of block `blockNumber`.
    /// @dev Reverts with `MTStakingFutureBlock` unless `blockNumber` is before the current block.
    /// @param blockNumber The snapshot block.
    /// @return The total staked.
    function totalStakedAt(uint256 blockNumber) external view returns (uint256) {
        return _total.upperLookupRecent(_past(blockNumber));
    }

    /// @notice The circulating supply at the end of block `blockNumber`.
    /// @dev Reverts with `MTStakingFutureBlock` unless `blockNumber` is before the current block.
    /// @param blockNumber The snapshot block.
    /// @return The circulating supply; zero before it was first set.
    function circulatingSupplyAt(uint256 blockNumber) public view returns (uint256) {
        return _circulating.upperLookupRecent(_past(blockNumber));
    }

    /// @notice The eligible stake of `account` at snapshot block `blockNumber` = S: its stake at the end of block
    /// S - W (W = `eligibilityWindow`; block 0, where nothing was staked, when S <= W) less everything it withdrew in
    /// blocks S - W + 1 to S, or zero if that is negative. Stake added inside the window does not count, a withdrawal
    /// inside it counts against it even if staked again, and a stake counts only once held since the window's start:
    /// a lower bound of the minimum stake held at the end of every block of [S - W, S], equal to it whenever nothing
    /// was added inside the window.
    /// @dev Reverts with `MTStakingFutureBlock` unless `blockNumber` is before the current block. Three checkpoint
    /// lookups (binary searches), whatever the number of the account's checkpoints in the window: a bounded read for
    /// every account, however often it changes its stake.
    /// @param account The account.
    /// @param blockNumber The snapshot block.
    /// @return The eligible stake.
    function eligibleStakeAt(address account, uint256 blockNumber) public view returns (uint256) {
        uint48 end = _past(blockNumber);
        uint48 start = blockNumber > eligibilityWindow ? uint48(blockNumber - eligibilityWindow) : 0;
        uint256 held = _stakes[account].upperLookupRecent(start);
        if (held == 0) return 0;
        Checkpoints.Trace208 storage withdrawn = _withdrawn[account];
        uint256 removed;
        unchecked {
            // Modulo 2^208, as `unstake` accumulates it.
            removed = uint208(withdrawn.upperLookupRecent(end) - withdrawn.upperLookupRecent(start));
        }
        // Sound, at every block b of [S-W, S]: stake(b) = stake(S-W) + added - removed >= stake(S-W) - removed(window).
        return held > removed ? held - removed : 0;
    }

    /// @notice The maximum discount X, in bps, in force at the end of block `blockNumber`.
    /// @dev Reverts with `MTStakingFutureBlock` unless `blockNumber` is before the current block; zero before the
    /// contract was deployed.
    /// @param blockNumber The snapshot block.
    /// @return X at that block.
    function maxDiscountBpsAt(uint256 blockNumber) public view returns (uint256) {
        return _maxDiscountBps.upperLookupRecent(_past(blockNumber));
    }

    /// @notice The multiplier M in force at the end of block `blockNumber`.
    /// @dev Reverts with `MTStakingFutureBlock` unless `blockNumber` is before the current block; zero before the
    /// contract was deployed.
    /// @param blockNumber The snapshot block.
    /// @return M at that block.
    function multiplierAt(uint256 blockNumber) public view returns (uint256) {
        return _multiplier.upperLookupRecent(_past(blockNumber));
    }

    /// @notice The discount of `account` at a snapshot block, in bps, rounded down: the discount of its eligible
    /// stake at the circulating supply, X and M of that block.
    /// @dev Reverts with `MTStakingFutureBlock` unless `blockNumber` is before the current block (so a contract
    /// cannot stake and read its discount in one transaction), and with `MTStakingStakeAboveSupply` when the eligible
    /// stake is above the circulating supply recorded, which includes any non-zero eligible stake when no circulating
    /// supply was recorded (zero supply); zero only when both the eligible stake and the supply are zero.
    /// @param account The account.
    /// @param blockNumber The snapshot block.
    /// @return The discount in bps.
    function discountBpsAt(address account, uint256 blockNumber) external view returns (uint256) {
        return _discountBps(eligibleStakeAt(account, blockNumber), circulatingSupplyAt(blockNumber), maxDiscountBpsAt(blockNumber), multiplierAt(blockNumber));
    }

    /// @notice min(X, floor(stake * M * 10^4 / circulating)) with the current X and M, as `stakingDiscountBps` in
    /// src/economics.
    /// @dev Reverts with `MTStakingStakeAboveSupply` when `stakeAmount` > `circulating` (where src/economics throws).
    /// @param stakeAmount The stake.
    /// @param circulating The circulating supply.
    /// @return The discount in bps; zero when both are zero.
    function discountBps(uint256 stakeAmount, uint256 circulating) public view returns (uint256) {
        return _discountBps(stakeAmount, circulating, maxDiscountBps(), multiplier());
    }

    /// @notice min(X, floor(stake * M * 10^4 / circulating)) with the X and M given, as `stakingDiscountBps` in
    /// src/economics: exact for every uint256 input, and reverting wherever that function throws.
    /// @dev Reverts with `MTStakingBadParameters` when X > 10,000 or M = 0, and with `MTStakingStakeAboveSupply` when
    /// `stakeAmount` > `circulating`.
    /// @param stakeAmount The stake.
    /// @param circulating The circulating supply.
    /// @param maxDiscountBps_ The maximum discount X, in bps.
    /// @param multiplier_ The multiplier M.
    /// @return The discount in bps; zero when both the stake and the circulating supply are zero.
    function discountBpsWith(uint256 stakeAmount, uint256 circulating, uint256 maxDiscountBps_, uint256 multiplier_) external pure returns (uint256) {
        if (maxDiscountBps_ > 10_000 || multiplier_ == 0) revert MTStakingBadParameters();
        return _discountBps(stakeAmount, circulating, maxDiscountBps_, multiplier_);
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @dev Checkpoints the circulating supply from the current block on.
    function _recordCirculating(uint256 circulating) internal {
        _circulating.push(_now(), SafeCast.toUint208(circulating));
        emit CirculatingSupplySet(circulating);
    }

    /// @dev Checks the discount parameters and checkpoints them from the current block on.
    function _setDiscount(uint256 maxDiscountBps_, uint256 multiplier_) internal {
        if (maxDiscountBps_ > 10_000 || multiplier_ == 0 || multiplier_ > type(uint208).max) revert MTStakingBadParameters();
        _maxDiscountBps.push(_now(), uint208(maxDiscountBps_));
        _multiplier.push(_now(), uint208(multiplier_));
        emit DiscountParametersSet(maxDiscountBps_, multiplier_);
    }

    /// @dev min(X, floor(stake * M * 10^4 / circulating)) without checking X and M, exact for every uint256 input:
    /// when floor(stake * M / circulating) >= 1 the quotient is at least 10^4 >= X; otherwise stake * M < circulating
    /// fits in a word. Reverts with `MTStakingStakeAboveSupply` when the stake is above the circulating supply.
    function _discountBps(uint256 stakeAmount, uint256 circulating, uint256 maxDiscountBps_, uint256 multiplier_) internal pure returns (uint256) {
        if (stakeAmount > circulating) revert MTStakingStakeAboveSupply(stakeAmount, circulating);
        if (circulating == 0) return 0;
        if (Math.mulDiv(stakeAmount, multiplier_, circulating) != 0) return maxDiscountBps_;
        uint256 d = Math.mulDiv(stakeAmount * multiplier_, 10_000, circulating);
        return d < maxDiscountBps_ ? d : maxDiscountBps_;
    }

    /// @dev The checkpoint key of the current block.
    function _now() internal view returns (uint48) {
        return SafeCast.toUint48(block.number);
    }

    /// @dev The checkpoint key of a strictly past block: its values are final.
    function _past(uint256 blockNumber) internal view returns (uint48) {
        if (blockNumber >= block.number) revert MTStakingFutureBlock(blockNumber, block.number);
        return SafeCast.toUint48(blockNumber);
    }
}
