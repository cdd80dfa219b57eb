// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

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

    error MTStakingZeroAmount();
    error MTStakingInsufficientStake(address account, uint256 staked, uint256 requested);
    error MTStakingFutureBlock(uint256 blockNumber, uint256 current);
    error MTStakingBadParameters();

    event Staked(address indexed account, uint256 amount, uint256 stake);
    event Unstaked(address indexed account, uint256 amount, uint256 stake);
    event CirculatingSupplySet(uint256 circulating);
    event DiscountParametersSet(uint256 maxDiscountBps, uint256 multiplier);

    bytes32 public constant SUPPLY_ROLE = keccak256("SUPPLY_ROLE");

    IERC20 public immutable token;
    uint256 public maxDiscountBps;
    uint256 public multiplier;

    mapping(address account => Checkpoints.Trace208) internal _stakes;
    Checkpoints.Trace208 internal _total;
    Checkpoints.Trace208 internal _circulating;

    constructor(IERC20 token_, address admin, uint256 maxDiscountBps_, uint256 multiplier_) {
        token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SUPPLY_ROLE, admin);
        _setDiscount(maxDiscountBps_, multiplier_);
    }

    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert MTStakingZeroAmount();
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 next = stakeOf(msg.sender) + amount;
        _stakes[msg.sender].push(_now(), SafeCast.toUint208(next));
        _total.push(_now(), SafeCast.toUint208(totalStaked() + amount));
        emit Staked(msg.sender, amount, next);
    }

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
    function setCirculatingSupply(uint256 circulating) external onlyRole(SUPPLY_ROLE) {
        _circulating.push(_now(), SafeCast.toUint208(circulating));
        emit CirculatingSupplySet(circulating);
    }

    function setDiscountParameters(uint256 maxDiscountBps_, uint256 multiplier_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDiscount(maxDiscountBps_, multiplier_);
    }

    function stakeOf(address account) public view returns (uint256) {
        return _stakes[account].latest();
    }

    function totalStaked() public view returns (uint256) {
        return _total.latest();
    }

    function stakeAt(address account, uint256 blockNumber) public view returns (uint256) {
        return _stakes[account].upperLookupRecent(_past(blockNumber));
    }

    function totalStakedAt(uint256 blockNumber) external view returns (uint256) {
        return _total.upperLookupRecent(_past(blockNumber));
    }

    function circulatingSupplyAt(uint256 blockNumber) public view returns (uint256) {
        return _circulating.upperLookupRecent(_past(blockNumber));
    }

    /// @notice The discount of `account` at a snapshot block, in bps, rounded down; zero without circulating supply.
    function discountBpsAt(address account, uint256 blockNumber) external view returns (uint256) {
        return discountBps(stakeAt(account, blockNumber), circulatingSupplyAt(blockNumber));
    }

    /// @notice min(X, floor(stake * M * 10^4 / circulating)).
    function discountBps(uint256 stakeAmount, uint256 circulating) public view returns (uint256) {
        if (circulating == 0) return 0;
        uint256 d = (stakeAmount * multiplier * 10_000) / circulating;
        return d < maxDiscountBps ? d : maxDiscountBps;
    }

    function _setDiscount(uint256 maxDiscountBps_, uint256 multiplier_) internal {
        if (maxDiscountBps_ > 10_000 || multiplier_ == 0) revert MTStakingBadParameters();
        maxDiscountBps = maxDiscountBps_;
        multiplier = multiplier_;
        emit DiscountParametersSet(maxDiscountBps_, multiplier_);
    }

    function _now() internal view returns (uint48) {
        return SafeCast.toUint48(block.number);
    }

    function _past(uint256 blockNumber) internal view returns (uint48) {
        if (blockNumber > block.number) revert MTStakingFutureBlock(blockNumber, block.number);
        return SafeCast.toUint48(blockNumber);
    }
}
