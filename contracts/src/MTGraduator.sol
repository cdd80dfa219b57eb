// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The graduation of an RMO sale (paper 3.2-3.4): the raise split 25 % protocol (vested), 25 % MT staking incentives
// (an epoch funding stream), 50 % liquidity paired with the liquidity MT in the canonical Uniswap v2 MT/FLOCK pair at
// the paper's DEX price 0.5*G/200,000 (all 200,000 MT at G; D/G of them at the deadline below G, the rest burned), the
// LP tokens locked 48 months, and the issuer, treasury and incentive reserve MT, escrowed in the sale until now, moved
// into their vesting: 180 days from graduation. One graduator serves every sale of its launch factory (which deploys
// it), and holds the epoch funding's STREAM_ROLE.

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EpochFunding} from "./EpochFunding.sol";
import {IMTGraduator} from "./IMTGraduator.sol";
import {LiquidityLock} from "./LiquidityLock.sol";
import {LockedVestingWallet} from "./LockedVestingWallet.sol";
import {ModelToken} from "./ModelToken.sol";

/// @notice What the graduator calls of a Uniswap v2 factory (@uniswap/v2-core 1.0.1, IUniswapV2Factory).
interface IUniswapV2Factory {
    function getPair(address tokenA, address tokenB) external view returns (address pair);
    function createPair(address tokenA, address tokenB) external returns (address pair);
}

/// @notice What the graduator calls of a Uniswap v2 pair (@uniswap/v2-core 1.0.1, IUniswapV2Pair).
interface IUniswapV2Pair {
    function token0() external view returns (address);
    function totalSupply() external view returns (uint256);
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
    function mint(address to) external returns (uint256 liquidity);
    function burn(address to) external returns (uint256 amount0, uint256 amount1);
}

/// @notice What the graduator reads of the sale that calls it (RmoSale).
interface IGraduatingSale {
    /// @notice G: the sale's graduation target, FLOCK base units.
    function graduationTarget() external view returns (uint256);
}

/// @notice The launch factory's registry, as the graduator reads it.
interface IMTLaunchRegistry {
    /// @notice The launch of a deployment id: its token, sale and issuer (zero addresses: none).
    function launches(bytes32 deploymentId) external view returns (address token, address sale, address issuer);
}

/// @title MTGraduator
/// @notice Called by a sale of its launch factory at graduation (`RmoSale.graduate`, which anyone may send once the
/// sale Succeeded), after the sale has burned its unsold MT and transferred the raise D and the token's liquidity,
/// incentive reserve, issuer and treasury parts here. With `splitProceeds` of src/economics/supply.ts (each part of D
/// rounded down, the dust to the protocol):
/// - 25 % protocol: to the treasury's LockedVestingWallet (OpenZeppelin's VestingWallet, linear over 180 days from
///   graduation, with a beneficiary that cannot change), which also vests the treasury's 10 % of MT;
/// - 25 % staking incentives: an EpochFunding stream of kind 0 (FLOCK) from the graduation epoch
///   floor(block.timestamp / epochSeconds);
/// - 50 % liquidity: paired with floor(200,000 MT * D / G) of the 20 % liquidity MT (all of it at G;
///   `pairedLiquidityMt` in src/economics/supply.ts) in the factory's MT/FLOCK pair, whose reserves end exactly at
///   (50 % of D, that MT), whatever the pair held before, so the pool opens at the paper's 0.5*G/200,000 FLOCK per MT
///   (to rounding) however much was raised; the rest of the liquidity MT is burned. The LP tokens go to a
///   LiquidityLock that pays them to the treasury after 4 * 365 days;
/// - the issuer's 10 % of MT: to the issuer's LockedVestingWallet (180 days from graduation);
/// - the incentive reserve's 20 % of MT: an EpochFunding stream of kind 1 from the graduation epoch.
/// @dev The pool is seeded by transferring to the pair and calling its `mint`, never through the router, so that a
/// pair created before graduation, and FLOCK donated to it (synced into its reserves or not), can neither make the
/// graduation revert nor set its price: when the pair holds anything, the graduator first mints with all of its
/// deposit, burns those LP tokens back (all that remains is the dust owned by the 1,000 LP tokens the pair burns on its
/// first mint), then deposits exactly what brings the reserves to the target; what the pair held (the donation) comes
/// back with the burn and goes to the treasury (`PoolCleared`). No MT can be in the pair before graduation (the whole
/// supply is escrowed in the sale until this call), so its LP supply is zero: a non-zero one is refused.
///
/// The graduator must hold EpochFunding's STREAM_ROLE (granted by the funding's admin to `factory.graduator()`), else
/// every graduation reverts (AccessControlUnauthorizedAccount) and the sale stays Succeeded until it is granted (or, 30
/// days after its end, lapses and refunds its buyers: RmoSale's GRADUATION_WINDOW).
contract MTGraduator is IMTGraduator {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by the constructor with a zero address.
    error MTGraduatorZeroAddress();

    /// @notice Raised by `migrate` from any account but the sale the launch factory recorded for the deployment.
    /// @param caller The caller.
    /// @param deploymentId The deployment it named.
    error MTGraduatorNotSale(address caller, bytes32 deploymentId);

    /// @notice Raised when the pair already has LP tokens (impossible while every MT is escrowed in the sale).
    /// @param pair The pair.
    /// @param lpSupply Its LP supply.
    error MTGraduatorPoolHasLiquidity(address pair, uint256 lpSupply);

    /// @notice Raised when what the pair held is so large that the dust left by clearing it reaches the deposit, so the
    /// target reserves cannot be reached: with F liquidity FLOCK and M liquidity MT, a held H >= F*F*M / 1e6 - F (the
    /// dust is 1,000 * sqrt((F + H) / M) FLOCK). Under 1 FLOCK for a raise of a few base units; for a raise above about
    /// 3.3e15 base units (at the largest G a sale allows), beyond 2^112 base units (5.2e15 FLOCK), the most a pair's
    /// reserves hold, whose donation blocks any graduation anyway (the pair's mint overflows). The launch factory's
    /// floor on the minimum raise keeps every sale far above that raise; a graduation blocked for good lapses.
    /// @param pair The pair.
    /// @param heldFlock FLOCK the pair held before graduation.
    /// @param heldMt MT the pair held before graduation.
    error MTGraduatorPairUnclearable(address pair, uint256 heldFlock, uint256 heldMt);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A sale graduated: its pool, lock, vesting wallets and streams are in place.
    /// @param deploymentId The deployment.
    /// @param sale The sale.
    /// @param pair The MT/FLOCK pair.
    /// @param lpLock The lock of its LP tokens.
    /// @param issuerVesting The issuer's vesting wallet.
    /// @param treasuryVesting The treasury's vesting wallet.
    /// @param startEpoch The graduation epoch.
    /// @param liquidity The LP tokens locked.
    event Migrated(
        bytes32 indexed deploymentId,
        address indexed sale,
        address pair,
        address lpLock,
        address issuerVesting,
        address treasuryVesting,
        uint64 startEpoch,
        uint256 liquidity
    );

    /// @notice The pair held tokens before graduation (a donation); they were taken out and sent to the treasury.
    /// @param deploymentId The deployment.
    /// @param pair The pair.
    /// @param flockAmount FLOCK sent to the treasury.
    /// @param mtAmount MT sent to the treasury.
    event PoolCleared(bytes32 indexed deploymentId, address pair, uint256 flockAmount, uint256 mtAmount);

    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice 100 % in bps.
    uint256 public constant BPS = 10_000;
    /// @notice The protocol's share of the raise, bps (plus the rounding dust).
    uint256 public constant PROTOCOL_BPS = 2500;
    /// @notice The MT staking incentives' share of the raise, bps.
    uint256 public constant STAKING_INCENTIVES_BPS = 2500;
    /// @notice The liquidity's share of the raise, bps.
    uint256 public constant LIQUIDITY_BPS = 5000;
    /// @notice How long the protocol FLOCK and the issuer and treasury MT vest: the paper's six months, 180 days.
    uint256 public constant VESTING_SECONDS = 180 days;
    /// @notice How long the LP tokens are locked: the paper's 48 months, read as 4 * 365 days.
    uint256 public constant LP_LOCK_SECONDS = 4 * 365 days;
    /// @notice EpochFunding's stream kind of the staking incentives (FLOCK).
    uint8 public constant STAKING_FUND_STREAM = 0;
    /// @notice EpochFunding's stream kind of the incentive reserve (MT).
    uint8 public constant INCENTIVE_RESERVE_STREAM = 1;

    /// @notice The launch factory that deployed this graduator: its registry names the sales that may call.
    address public immutable launchFactory;
    /// @notice The token raised.
    IERC20 public immutable flock;
    /// @notice The protocol treasury: beneficiary of the protocol vesting, the treasury MT and the LP lock.
    address public immutable treasury;
    /// @notice The Uniswap v2 factory whose MT/FLOCK pair is seeded.
    IUniswapV2Factory public immutable uniswapFactory;
    /// @inheritdoc IMTGraduator
    address public immutable epochFunding;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @dev Deployed by the launch factory's constructor, which becomes `launchFactory`.
    /// @param flock_ The token raised.
    /// @param treasury_ The protocol treasury.
    /// @param uniswapFactory_ The Uniswap v2 factory.
    /// @param epochFunding_ The EpochFunding that streams the staking incentives and the incentive reserve.
    constructor(IERC20 flock_, address treasury_, IUniswapV2Factory uniswapFactory_, address epochFunding_) {
        if (address(flock_) == address(0) || treasury_ == address(0) || address(uniswapFactory_) == address(0) || epochFunding_ == address(0)) {
            revert MTGraduatorZeroAddress();
        }
        launchFactory = msg.sender;
        flock = flock_;
        treasury = treasury_;
        uniswapFactory = uniswapFactory_;
        epochFunding = epochFunding_;
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IMTGraduator
    /// @dev Reverts with `MTGraduatorNotSale` unless the caller is the sale of `deploymentId`, with
    /// `MTGraduatorPoolHasLiquidity` or `MTGraduatorPairUnclearable` (see the contract's notes), and with EpochFunding's
    /// errors (AccessControlUnauthorizedAccount without STREAM_ROLE).
    function migrate(bytes32 deploymentId, uint256 raised) external returns (Graduation memory g) {
        (address tokenAddress, address sale, address issuer) = IMTLaunchRegistry(launchFactory).launches(deploymentId);
        if (sale != msg.sender) revert MTGraduatorNotSale(msg.sender, deploymentId);
        ModelToken mt = ModelToken(tokenAddress);
        // splitProceeds in src/economics/supply.ts: each part rounded down, the dust to the protocol.
        uint256 staking = (raised * STAKING_INCENTIVES_BPS) / BPS;
        uint256 liquidityFlock = (raised * LIQUIDITY_BPS) / BPS;
        uint256 liquidityMt = _pairedLiquidityMt(mt, sale, raised);
        (g.issuerVesting, g.treasuryVesting) = _vest(mt, issuer, raised - staking - liquidityFlock);
        g.startEpoch = uint64(block.timestamp / EpochFunding(epochFunding).epochSeconds());
        _stream(deploymentId, STAKING_FUND_STREAM, flock, staking, g.startEpoch);
        _stream(deploymentId, INCENTIVE_RESERVE_STREAM, IERC20(tokenAddress), mt.incentiveReserveSupply(), g.startEpoch);
        (g.pair, g.lpLock, g.liquidity) = _seedPool(deploymentId, IERC20(tokenAddress), liquidityFlock, liquidityMt);
        emit Migrated(deploymentId, sale, g.pair, g.lpLock, g.issuerVesting, g.treasuryVesting, g.startEpoch, g.liquidity);
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @dev The liquidity MT the pool gets, `pairedLiquidityMt` in src/economics/supply.ts: floor(liquidity * D / G), all
    /// of it at G, so that the pool's price is 0.5*G/liquidity whatever D is; burns the rest of the liquidity MT.
    function _pairedLiquidityMt(ModelToken mt, address sale, uint256 raised) internal returns (uint256 paired) {
        uint256 liquidity = mt.liquiditySupply();
        // Safe: liquidity < 2^80 and D <= G < 2^99 (RmoSale's constructor bounds).
        paired = (liquidity * raised) / IGraduatingSale(sale).graduationTarget();
        if (paired != liquidity) mt.burn(liquidity - paired);
    }

    /// @dev Deploys the issuer's and the treasury's vesting wallets (180 days from now) and pays them: the issuer's and
    /// the treasury's MT, and the protocol's FLOCK to the treasury's.
    function _vest(ModelToken mt, address issuer, uint256 protocol) internal returns (address issuerVesting, address treasuryVesting) {
        uint64 start = uint64(block.timestamp);
        issuerVesting = address(new LockedVestingWallet(issuer, start, uint64(VESTING_SECONDS)));
        treasuryVesting = address(new LockedVestingWallet(treasury, start, uint64(VESTING_SECONDS)));
        IERC20(address(mt)).safeTransfer(issuerVesting, mt.issuerSupply());
        IERC20(address(mt)).safeTransfer(treasuryVesting, mt.treasurySupply());
        if (protocol != 0) flock.safeTransfer(treasuryVesting, protocol);
    }

    /// @dev Adds a stream of `amount` (nothing for zero, which EpochFunding refuses) paid from here.
    function _stream(bytes32 deploymentId, uint8 kind, IERC20 token, uint256 amount, uint64 startEpoch) internal {
        if (amount == 0) return;
        token.forceApprove(epochFunding, amount);
        EpochFunding(epochFunding).addStream(deploymentId, kind, token, amount, startEpoch);
    }

    /// @dev Seeds the MT/FLOCK pair so that its reserves are exactly (`flockAmount`, `mtAmount`), minting the LP
    /// tokens to a new LiquidityLock; clears what the pair held first (see the contract's notes).
    function _seedPool(bytes32 deploymentId, IERC20 mt, uint256 flockAmount, uint256 mtAmount) internal returns (address pair, address lock, uint256 liquidity) {
        pair = uniswapFactory.getPair(address(mt), address(flock));
        if (pair == address(0)) pair = uniswapFactory.createPair(address(mt), address(flock));
        IUniswapV2Pair p = IUniswapV2Pair(pair);
        uint256 lpSupply = p.totalSupply();
        if (lpSupply != 0) revert MTGraduatorPoolHasLiquidity(pair, lpSupply);
        lock = address(new LiquidityLock(IERC20(pair), treasury, block.timestamp + LP_LOCK_SECONDS));
        uint256 heldFlock = flock.balanceOf(pair);
        uint256 heldMt = mt.balanceOf(pair);
        bool held = heldFlock != 0 || heldMt != 0;
        if (held) {
            // Mint with the whole deposit (the held tokens count as deposited), burn it all back: the pair keeps only
            // what its 1,000 burned LP tokens own, a fraction 1,000 / sqrt(deposit product) of its balances.
            flock.safeTransfer(pair, flockAmount);
            mt.safeTransfer(pair, mtAmount);
            IERC20(pair).safeTransfer(pair, p.mint(address(this)));
            p.burn(address(this));
            (uint256 dustFlock, uint256 dustMt) = _reserves(p, address(mt));
            if (dustFlock >= flockAmount || dustMt >= mtAmount) revert MTGraduatorPairUnclearable(pair, heldFlock, heldMt);
            // Safe: both checked just above.
            unchecked {
                flockAmount -= dustFlock;
                mtAmount -= dustMt;
            }
        }
        flock.safeTransfer(pair, flockAmount);
        mt.safeTransfer(pair, mtAmount);
        liquidity = p.mint(lock);
        if (held) {
            // The burn returned the deposit and what the pair held; the deposit less the dust went back in, so what is
            // left here is exactly what the pair held before graduation.
            uint256 flockBack = flock.balanceOf(address(this));
            uint256 mtBack = mt.balanceOf(address(this));
            emit PoolCleared(deploymentId, pair, flockBack, mtBack);
            if (flockBack != 0) flock.safeTransfer(treasury, flockBack);
            if (mtBack != 0) mt.safeTransfer(treasury, mtBack);
        }
    }

    /// @dev The pair's reserves as (FLOCK, MT).
    function _reserves(IUniswapV2Pair p, address mt) internal view returns (uint256 flockReserve, uint256 mtReserve) {
        (uint112 r0, uint112 r1, ) = p.getReserves();
        (flockReserve, mtReserve) = p.token0() == mt ? (uint256(r1), uint256(r0)) : (uint256(r0), uint256(r1));
    }
}
