// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The RMO sale of one deployment (paper 3.2-3.3, 3.10): a buy-only constant-product curve over virtual reserves that
// sells the public sale allocation of the deployment's Model Token for FLOCK, computed exactly as src/economics/rmo.ts
// computes it (tested against it with shared vectors, fixtures/rmo/vectors.json), with the creator and protocol fees,
// the anti-sniping surcharge, a minimum raise and a deadline. The token's whole supply stays in escrow here until
// graduation: bought MT (so a failed raise can refund every buyer's curve input), and the liquidity, incentive
// reserve, issuer and treasury parts (so none is liquid, and no pool can be seeded at another price, before the
// graduation pool exists). Graduation burns the unsold MT and hands the raise and those parts to the graduator. A sale
// that succeeded but is still not graduated 30 days after its end lapses and refunds like a failed raise, so no
// graduation that keeps reverting can hold its buyers' FLOCK.

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {VestingWallet} from "@openzeppelin/contracts/finance/VestingWallet.sol";
import {ILockedSupply} from "./ICirculatingSupply.sol";
import {IMTGraduator} from "./IMTGraduator.sol";
import {ModelToken} from "./ModelToken.sol";

/// @title RmoSale
/// @notice Sells S MT (the token's public sale allocation) along S(D) = y0*D/(x0 + D) until the FLOCK raised D
/// reaches the graduation target G, or until the sale's end. Buys only: there is no sell path. Per buy, on the filled
/// curve input and on top of it, rounded up: the creator fee (to the issuer), the protocol fee and the anti-sniping
/// surcharge (to the treasury), all paid out at once and never refunded. The MT bought is escrowed until graduation,
/// then claimed (`claim`); if the sale ends below the minimum raise, or succeeds but is not graduated within
/// GRADUATION_WINDOW of its end, every buyer reclaims its curve input (`refund`).
/// @dev The reserves are exact rationals over one denominator, as in src/economics/rmo.ts: den = G*WAD - S*P0,
/// xNum = G*S*P0, yNum = G*S*WAD, so S(D) = floor(yNum*D / (xNum + D*den)) needs one rounding and S(G) = S. The
/// constructor bounds G*G*WAD and G*S*WAD to 256 bits, so every denominator fits in a word; numerators that do not
/// go through Math.mulDiv (512-bit intermediate, exact floor or ceiling).
///
/// State machine (`state()`, derived from the raise, the clock and `graduatedAt`):
/// - Active: buys accepted, until D = G or `endsAt`.
/// - Succeeded: D = G, or the sale ended with D >= `minRaise`, and `graduationDeadline` (the end + 30 days) has not
///   come; anyone may call `graduate()`.
/// - Graduated: `graduate()` ran (`graduatedAt` is set): the unsold MT was burned, the raise split 25/25/50 and the
///   pool, LP lock, vesting wallets and streams set up by the graduator (`graduation()`); buyers claim their MT.
/// - Failed: the sale ended with D < `minRaise`; buyers reclaim their curve input, fees are kept, and the whole MT
///   supply stays locked here for good (it never circulates).
/// - Lapsed: the sale Succeeded but was not graduated before `graduationDeadline` (every graduation reverted: the
///   graduator without STREAM_ROLE, EpochFunding's stream cap full, ...); from then on it is a failed raise: buyers
///   reclaim their curve input, fees are kept, the whole MT supply stays locked here for good, and it never graduates.
/// Graduated, Failed and Lapsed are final.
/// `lockedSupply()` is what of the token's supply is still locked, from which the token derives its circulating supply.
contract RmoSale is ReentrancyGuard, ILockedSupply {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice Where the sale is (see the contract's notes).
    enum State {
        Active,
        Succeeded,
        Graduated,
        Failed,
        Lapsed
    }

    /// @notice The sale's parameters, all checked by the constructor.
    struct Params {
        /// The Model Token's name.
        string name;
        /// The Model Token's symbol.
        string symbol;
        /// The token paid in (FLOCK): a standard ERC-20 (no fee on transfer, no rebasing).
        IERC20 flock;
        /// The RMA issuer: receives the creator fee and, vested from graduation, the issuer MT allocation.
        address issuer;
        /// The protocol treasury: receives the protocol fee and the anti-sniping surcharge (the graduator vests the
        /// treasury MT allocation and the protocol's share of the raise to the graduator's treasury).
        address treasury;
        /// The deployment's id (the launch factory's registry key; the graduator checks the caller against it).
        bytes32 deploymentId;
        /// The graduator that migrates the raise at graduation (the launch factory's).
        IMTGraduator graduator;
        /// G: FLOCK base units raised at graduation.
        uint256 graduationTarget;
        /// P0: starting marginal price, FLOCK per MT in WAD.
        uint256 startPrice;
        /// The least raise that lets the sale graduate at its end (MIN_RAISE <= minRaise <= G, and its pool seedable:
        /// see MIN_POOL_PRODUCT).
        uint256 minRaise;
        /// Seconds from launch to the sale's end (non-zero).
        uint256 duration;
        /// Creator fee in bps of the filled curve input.
        uint256 creatorFeeBps;
        /// Protocol fee in bps of the filled curve input.
        uint256 protocolFeeBps;
        /// Total fee rate at launch in bps (creator + protocol + surcharge), at most 10,000.
        uint256 antiSnipingStartBps;
        /// Seconds over which the surcharge decays linearly to zero (at most `duration`).
        uint256 antiSnipingWindow;
    }

    /// @notice A buyer's position: its FLOCK in the curve (what a failed raise refunds) and its escrowed MT.
    /// @dev Both fit 128 bits: curve input sums to at most G < 2^98 and MT to at most S (constructor bounds).
    struct Position {
        uint128 curveIn;
        uint128 mt;
    }

    /// @notice One buy's numbers, as `quoteBuy` in src/economics/rmo.ts returns them.
    struct Quote {
        uint256 curveIn;
        uint256 mtOut;
        uint256 creatorFee;
        uint256 protocolFee;
        uint256 antiSnipingFee;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by the constructor when an address parameter is zero.
    error RmoSaleZeroAddress();

    /// @notice Raised by the constructor when S, G or P0 is zero or G <= S*P0 (the curve is undefined).
    /// @param saleSupply S, MT base units.
    /// @param graduationTarget G, FLOCK base units.
    /// @param startPrice P0, FLOCK per MT in WAD.
    error RmoSaleInfeasibleCurve(uint256 saleSupply, uint256 graduationTarget, uint256 startPrice);

    /// @notice Raised by the constructor when G*G*WAD or G*S*WAD does not fit 256 bits (G above about 3.4e29 base
    /// units with 1e18 WAD; far beyond any raise).
    /// @param saleSupply S.
    /// @param graduationTarget G.
    error RmoSaleCurveTooLarge(uint256 saleSupply, uint256 graduationTarget);

    /// @notice Raised when the fee rates are inconsistent: creator + protocol > anti-sniping start, a start above
    /// 10,000 bps, or a start above the base fee with no window to decay over.
    /// @param creatorFeeBps The creator fee.
    /// @param protocolFeeBps The protocol fee.
    /// @param antiSnipingStartBps The total rate at launch.
    /// @param antiSnipingWindow The decay window, seconds.
    error RmoSaleBadFees(uint256 creatorFeeBps, uint256 protocolFeeBps, uint256 antiSnipingStartBps, uint256 antiSnipingWindow);

    /// @notice Raised by the constructor with a zero duration or an anti-sniping window longer than the sale.
    /// @param duration The sale's duration, seconds.
    /// @param antiSnipingWindow The decay window, seconds.
    error RmoSaleBadSchedule(uint256 duration, uint256 antiSnipingWindow);

    /// @notice Raised by the constructor when the minimum raise is below MIN_RAISE (4 base units), above G, or too small
    /// for its graduation to seed a pool (its liquidity FLOCK times its paired MT below MIN_POOL_PRODUCT).
    /// @param minRaise The minimum raise.
    /// @param graduationTarget G.
    error RmoSaleBadMinRaise(uint256 minRaise, uint256 graduationTarget);

    /// @notice Raised by a buy of zero FLOCK or zero MT.
    error RmoSaleZeroAmount();

    /// @notice Raised by a buy mined after its deadline.
    /// @param deadline The buy's deadline, unix seconds.
    /// @param timestamp The block's timestamp.
    error RmoSaleExpired(uint256 deadline, uint256 timestamp);

    /// @notice Raised by a call the sale's state does not allow (a buy once the sale is not Active, a graduation
    /// unless it Succeeded, a claim before graduation, a refund unless it Failed or Lapsed: `expected` is then Failed).
    /// @param expected The state the call needs.
    /// @param actual The sale's state.
    error RmoSaleWrongState(State expected, State actual);

    /// @notice Raised by `buy` when the MT bought is below the buyer's bound.
    /// @param mtOut The MT the buy gives.
    /// @param minMtOut The buyer's bound.
    error RmoSaleMtOutTooLow(uint256 mtOut, uint256 minMtOut);

    /// @notice Raised by `buyExactMt` when the FLOCK paid (curve input and fees) is above the buyer's bound.
    /// @param paid The FLOCK the buy takes.
    /// @param maxFlockIn The buyer's bound.
    error RmoSalePaidTooHigh(uint256 paid, uint256 maxFlockIn);

    /// @notice Raised by `refund` for a buyer with no curve input left to refund.
    /// @param buyer The buyer.
    error RmoSaleNothingToRefund(address buyer);

    /// @notice Raised by `claim` for a buyer with no escrowed MT.
    /// @param buyer The buyer.
    error RmoSaleNothingToClaim(address buyer);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A buy was filled.
    /// @param buyer The buyer (MT escrowed for it).
    /// @param curveIn FLOCK into the curve (after a partial fill at G).
    /// @param mtOut MT bought.
    /// @param creatorFee Paid to the issuer.
    /// @param protocolFee Paid to the treasury.
    /// @param antiSnipingFee Paid to the treasury.
    /// @param raisedAfter The raise D after the buy.
    event Bought(address indexed buyer, uint256 curveIn, uint256 mtOut, uint256 creatorFee, uint256 protocolFee, uint256 antiSnipingFee, uint256 raisedAfter);

    /// @notice The sale graduated: the unsold MT was burned and the graduator migrated the rest (its `Migrated`).
    /// @param raised The FLOCK raised.
    /// @param sold The MT sold.
    event Graduated(uint256 raised, uint256 sold);

    /// @notice A buyer's escrowed MT was paid out after graduation.
    /// @param buyer The buyer (paid).
    /// @param amount The MT.
    event Claimed(address indexed buyer, uint256 amount);

    /// @notice A buyer's curve input was refunded after a failed raise (or a lapsed one).
    /// @param buyer The buyer (paid).
    /// @param amount The FLOCK.
    event Refunded(address indexed buyer, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice 1.0 in 18-decimal fixed point.
    uint256 public constant WAD = 1e18;
    /// @notice 100 % in bps.
    uint256 public constant BPS = 10_000;
    /// @notice The least minimum raise: a raise of 4 base units has 1 for the staking incentives (EpochFunding refuses
    /// an empty stream). It says nothing of the pool: MIN_POOL_PRODUCT does; and a graduation of a raise that small
    /// can be blocked by a donation to the pair (under 1 FLOCK; see MTGraduator's `MTGraduatorPairUnclearable`), which
    /// the launch factory's floor on the minimum raise, far above 3.3e15 base units, rules out.
    uint256 public constant MIN_RAISE = 4;
    /// @notice The least (liquidity FLOCK) * (paired MT) of the least raise: 1,001^2, so that Uniswap v2's first mint,
    /// sqrt(product) - 1,000 LP tokens, mints at least one. The graduation pairs floor(D / 2) FLOCK with
    /// floor(liquidity MT * D / G) MT; the product grows with D, so it is checked at D = minRaise.
    uint256 public constant MIN_POOL_PRODUCT = 1001 * 1001;
    /// @notice How long after its end a Succeeded sale may still graduate: then it lapses (see the contract's notes).
    uint256 public constant GRADUATION_WINDOW = 30 days;

    /// @notice The Model Token, deployed by this contract's constructor, which escrows its whole supply here.
    ModelToken public immutable token;
    /// @notice The token paid in.
    IERC20 public immutable flock;
    /// @notice Receives the creator fee.
    address public immutable issuer;
    /// @notice Receives the protocol fee and the anti-sniping surcharge.
    address public immutable treasury;
    /// @notice The deployment's id.
    bytes32 public immutable deploymentId;
    /// @notice Migrates the raise and the placed MT at graduation.
    IMTGraduator public immutable graduator;

    /// @notice S: MT sold when the raise reaches G (the token's public sale allocation).
    uint256 public immutable saleSupply;
    /// @notice G: FLOCK raised at graduation.
    uint256 public immutable graduationTarget;
    /// @notice P0: starting marginal price, FLOCK per MT in WAD.
    uint256 public immutable startPrice;
    /// @notice G*S*P0: x0 = xNum / den.
    uint256 public immutable xNum;
    /// @notice G*S*WAD: y0 = yNum / den.
    uint256 public immutable yNum;
    /// @notice G*WAD - S*P0.
    uint256 public immutable den;
    /// @notice The least raise that graduates at the sale's end.
    uint256 public immutable minRaise;

    /// @notice Creator fee, bps.
    uint256 public immutable creatorFeeBps;
    /// @notice Protocol fee, bps.
    uint256 public immutable protocolFeeBps;
    /// @notice Total fee rate at launch, bps.
    uint256 public immutable antiSnipingStartBps;
    /// @notice Seconds over which the surcharge decays to zero.
    uint256 public immutable antiSnipingWindow;

    /// @notice The launch: the block timestamp of this contract's creation; the surcharge decays from here.
    uint256 public immutable launchedAt;
    /// @notice The sale's end: buys are accepted while block.timestamp < endsAt.
    uint256 public immutable endsAt;
    /// @notice endsAt + GRADUATION_WINDOW: a Succeeded sale not graduated by then (block.timestamp >= it) lapses.
    uint256 public immutable graduationDeadline;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice D: FLOCK gone into the curve (never decreases; refunds do not change it).
    uint128 public raised;
    /// @notice MT sold: S(D), or S once D = G.
    uint128 public sold;
    /// @notice When `graduate()` ran; zero before.
    uint64 public graduatedAt;
    /// @notice MT claimed by buyers so far (the escrow still owes sold - claimed).
    uint128 public claimed;
    /// @notice Where the graduation put the pool, LP lock, vesting wallets and streams (zero before graduation).
    IMTGraduator.Graduation public graduation;
    /// @dev Each buyer's curve input and escrowed MT.
    mapping(address buyer => Position) internal _positions;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @notice Checks every parameter, deploys the Model Token (minting its whole supply to this contract) and starts
    /// the sale.
    /// @param p The parameters (see `Params`).
    constructor(Params memory p) {
        if (address(p.flock) == address(0) || p.issuer == address(0) || p.treasury == address(0) || address(p.graduator) == address(0)) {
            revert RmoSaleZeroAddress();
        }
        _checkFees(p.creatorFeeBps, p.protocolFeeBps, p.antiSnipingStartBps, p.antiSnipingWindow);
        if (p.duration == 0 || p.antiSnipingWindow > p.duration) revert RmoSaleBadSchedule(p.duration, p.antiSnipingWindow);

        ModelToken mt = new ModelToken(p.name, p.symbol, address(this));
        uint256 s = mt.publicSaleSupply();
        uint256 g = p.graduationTarget;
        uint256 p0 = p.startPrice;
        if (g == 0 || p0 == 0 || s == 0) revert RmoSaleInfeasibleCurve(s, g, p0);
        // G*G*WAD bounds every denominator xNum + D*den (at most G*G*WAD, at D = G); G*S*WAD is yNum.
        if (g > type(uint256).max / WAD / g || s > type(uint256).max / WAD / g) revert RmoSaleCurveTooLarge(s, g);
        // Feasibility G > S*P0 in WAD units; a product S*P0 that overflows is above G*WAD, which fits.
        (bool fits, uint256 sp0) = Math.tryMul(s, p0);
        if (!fits || sp0 >= g * WAD) revert RmoSaleInfeasibleCurve(s, g, p0);
        if (p.minRaise < MIN_RAISE || p.minRaise > g) revert RmoSaleBadMinRaise(p.minRaise, g);
        // The pool of the least raise, as MTGraduator pairs it. Safe: minRaise <= G < 2^99 and the liquidity MT < 2^80.
        if ((p.minRaise / 2) * ((mt.liquiditySupply() * p.minRaise) / g) < MIN_POOL_PRODUCT) revert RmoSaleBadMinRaise(p.minRaise, g);

        token = mt;
        flock = p.flock;
        issuer = p.issuer;
        treasury = p.treasury;
        deploymentId = p.deploymentId;
        graduator = p.graduator;
        saleSupply = s;
        graduationTarget = g;
        startPrice = p0;
        den = g * WAD - sp0;
        // Safe: G*S*P0 < G*G*WAD and G*S*WAD were bounded above.
        xNum = g * sp0;
        yNum = g * s * WAD;
        minRaise = p.minRaise;
        creatorFeeBps = p.creatorFeeBps;
        protocolFeeBps = p.protocolFeeBps;
        antiSnipingStartBps = p.antiSnipingStartBps;
        antiSnipingWindow = p.antiSnipingWindow;
        launchedAt = block.timestamp;
        endsAt = block.timestamp + p.duration;
        graduationDeadline = block.timestamp + p.duration + GRADUATION_WINDOW;
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Buys with `flockIn` FLOCK of curve input, paying the fees on top of it; a buy crossing G is filled up to
    /// G and only the filled part (and its fees) is taken. The MT is escrowed until graduation.
    /// @dev The caller must have approved the curve input plus the fees (at most `flockIn` * (1 + the fee rate at
    /// launch), rounded up). Reverts with `RmoSaleExpired`, `RmoSaleWrongState` (not Active), `RmoSaleZeroAmount` or
    /// `RmoSaleMtOutTooLow`.
    /// @param flockIn FLOCK offered to the curve (fees excluded).
    /// @param minMtOut The least MT the buyer accepts.
    /// @param deadline The last timestamp the buy may be mined at.
    /// @return mtOut The MT bought.
    /// @return paid The FLOCK taken: filled curve input plus fees.
    function buy(uint256 flockIn, uint256 minMtOut, uint256 deadline) external nonReentrant returns (uint256 mtOut, uint256 paid) {
        _checkBuy(deadline);
        if (flockIn == 0) revert RmoSaleZeroAmount();
        Quote memory q = _quote(flockIn);
        if (q.mtOut < minMtOut) revert RmoSaleMtOutTooLow(q.mtOut, minMtOut);
        return (q.mtOut, _fill(q));
    }

    /// @notice Buys at least `mtOut` MT for the least curve input that sells it (the rest of S if less is left:
    /// the buy then fills up to G, as a FLOCK buy crossing G does), paying the fees on top.
    /// @dev As `simulateRaise` in src/economics/rmo.ts does for an `mt` buy: curve input = min(raiseForSold(min(sold +
    /// mtOut, S)), G) - raised. Reverts with `RmoSaleExpired`, `RmoSaleWrongState` (not Active), `RmoSaleZeroAmount`
    /// or `RmoSalePaidTooHigh`.
    /// @param mtOut The MT wanted.
    /// @param maxFlockIn The most FLOCK the buyer pays in all: curve input plus fees.
    /// @param deadline The last timestamp the buy may be mined at.
    /// @return bought The MT bought (at least `mtOut` unless the rest of S is smaller).
    /// @return paid The FLOCK taken: curve input plus fees.
    function buyExactMt(uint256 mtOut, uint256 maxFlockIn, uint256 deadline) external nonReentrant returns (uint256 bought, uint256 paid) {
        _checkBuy(deadline);
        if (mtOut == 0) revert RmoSaleZeroAmount();
        uint256 s = sold;
        uint256 target = mtOut >= saleSupply - s ? saleSupply : s + mtOut;
        Quote memory q = _quote(Math.min(raiseForSold(target), graduationTarget) - raised);
        paid = q.curveIn + q.creatorFee + q.protocolFee + q.antiSnipingFee;
        if (paid > maxFlockIn) revert RmoSalePaidTooHigh(paid, maxFlockIn);
        return (q.mtOut, _fill(q));
    }

    /// @notice Graduates a sale that Succeeded (D = G, or the sale ended with D >= `minRaise`), before
    /// `graduationDeadline`. Anyone may call it.
    /// Burns the unsold MT (S - sold), then transfers the raise D and the liquidity, incentive reserve, issuer and
    /// treasury MT to the graduator, which splits D 25/25/50, seeds and locks the pool, vests and streams (see
    /// MTGraduator); records where it all went in `graduation()`.
    /// @dev Reverts with `RmoSaleWrongState` unless Succeeded, and with the graduator's errors (among them
    /// AccessControlUnauthorizedAccount while the graduator lacks EpochFunding's STREAM_ROLE, or EpochFunding's
    /// EpochFundingInvalidStream while its stream cap is full: the sale then stays Succeeded and graduates once the
    /// cause is gone, unless `graduationDeadline` comes first: then it lapses and refunds).
    function graduate() external nonReentrant {
        State s = state();
        if (s != State.Succeeded) revert RmoSaleWrongState(State.Succeeded, s);
        _graduate();
    }

    /// @notice Pays `buyer` its escrowed MT once the sale graduated. Anyone may call it; the MT goes to the buyer.
    /// @dev Reverts with `RmoSaleWrongState` unless Graduated and `RmoSaleNothingToClaim` when nothing is escrowed.
    /// @param buyer The buyer.
    /// @return amount The MT paid.
    function claim(address buyer) external nonReentrant returns (uint256 amount) {
        State s = state();
        if (s != State.Graduated) revert RmoSaleWrongState(State.Graduated, s);
        amount = _positions[buyer].mt;
        if (amount == 0) revert RmoSaleNothingToClaim(buyer);
        _positions[buyer].mt = 0;
        // Safe cast: claims sum to at most sold <= S < 2^128.
        claimed += uint128(amount);
        emit Claimed(buyer, amount);
        IERC20(address(token)).safeTransfer(buyer, amount);
    }

    /// @notice Refunds `buyer` its curve input once the sale Failed (ended below the minimum raise) or Lapsed
    /// (succeeded but was not graduated by `graduationDeadline`); the fees it paid are kept (paper 3.10). Anyone may
    /// call it; the FLOCK goes to the buyer. Once per buyer.
    /// @dev Reverts with `RmoSaleWrongState(Failed, actual)` unless Failed or Lapsed and `RmoSaleNothingToRefund` for a
    /// buyer with nothing (left) to refund. The position is cleared before the transfer. Neither state ever changes
    /// again, so no graduation can follow a refund.
    /// @param buyer The buyer.
    /// @return amount The FLOCK paid.
    function refund(address buyer) external nonReentrant returns (uint256 amount) {
        State s = state();
        if (s != State.Failed && s != State.Lapsed) revert RmoSaleWrongState(State.Failed, s);
        amount = _positions[buyer].curveIn;
        if (amount == 0) revert RmoSaleNothingToRefund(buyer);
        delete _positions[buyer];
        emit Refunded(buyer, amount);
        flock.safeTransfer(buyer, amount);
    }

    /*//////////////////////////////////////////////////////////////
                         EXTERNAL VIEW FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice The sale's state, derived from `graduatedAt`, the raise and the clock.
    /// @return The state.
    function state() public view returns (State) {
        if (graduatedAt != 0) return State.Graduated;
        bool ended = block.timestamp >= endsAt;
        if (raised == graduationTarget || (ended && raised >= minRaise)) return block.timestamp < graduationDeadline ? State.Succeeded : State.Lapsed;
        return ended ? State.Failed : State.Active;
    }

    /// @notice A buyer's curve input (refundable if the raise fails) and escrowed MT (claimable after graduation).
    /// @param buyer The buyer.
    /// @return curveIn FLOCK the buyer put into the curve, not yet refunded.
    /// @return mt MT bought, not yet claimed.
    function positionOf(address buyer) external view returns (uint256 curveIn, uint256 mt) {
        Position memory p = _positions[buyer];
        return (p.curveIn, p.mt);
    }

    /// @inheritdoc ILockedSupply
    /// @dev What of the token's supply does not circulate now:
    /// - before graduation (Active, Succeeded): the MT escrowed here less the MT sold and the liquidity MT a graduation
    ///   at the current raise D would pair, floor(liquidity * D / G) (the paper counts both as circulating: sale +
    ///   liquidity; all 200,000 MT at G), i.e. the unsold sale MT, the liquidity MT a graduation would burn and the
    ///   reserve, issuer and treasury parts;
    /// - Failed, Lapsed: everything escrowed here (nothing sold is delivered, nothing is paired);
    /// - Graduated: what is here beyond the MT still owed to buyers (nothing, unless sent here), the incentive reserve
    ///   EpochFunding holds (not yet released to the distributor), and the MT of the issuer's and the treasury's
    ///   vesting wallets not yet vested (balance less releasable: vested MT circulates, released or not).
    function lockedSupply() external view returns (uint256 locked) {
        IERC20 mt = IERC20(address(token));
        uint256 held = mt.balanceOf(address(this));
        State s = state();
        if (s == State.Failed || s == State.Lapsed) return held;
        // Before graduation the whole supply is here: held >= S >= sold, plus the liquidity part, of which a graduation
        // pairs floor(liquidity * D / G), as MTGraduator computes it. Safe: liquidity < 2^80 and D <= G < 2^99.
        if (s != State.Graduated) return held - sold - (token.liquiditySupply() * raised) / graduationTarget;
        IMTGraduator.Graduation memory g = graduation;
        locked = held - (sold - claimed) + mt.balanceOf(graduator.epochFunding()) + _unvested(mt, g.issuerVesting) + _unvested(mt, g.treasuryVesting);
    }

    /// @notice S(D): MT sold once D FLOCK went into the curve, rounded down (`soldAt` in src/economics/rmo.ts).
    /// @param d The raise, at most G (larger values are outside the curve and not checked).
    /// @return floor(yNum*D / (xNum + D*den)).
    function soldAt(uint256 d) public view returns (uint256) {
        return Math.mulDiv(yNum, d, xNum + d * den);
    }

    /// @notice The least raise D with S(D) >= `target` (`raiseForSold` in src/economics/rmo.ts).
    /// @param target MT sold, at most S (larger values revert).
    /// @return ceil(target*xNum / (yNum - target*den)).
    function raiseForSold(uint256 target) public view returns (uint256) {
        return Math.mulDiv(target, xNum, yNum - target * den, Math.Rounding.Ceil);
    }

    /// @notice The anti-sniping surcharge above the base fee, in bps, `elapsed` seconds after launch
    /// (`antiSnipingFeeBps` in src/economics/rmo.ts): (start - base) * (window - elapsed) / window, rounded down,
    /// and zero from the end of the window on.
    /// @param elapsed Seconds since launch.
    /// @return The surcharge, bps.
    function antiSnipingFeeBps(uint256 elapsed) public view returns (uint256) {
        if (elapsed >= antiSnipingWindow) return 0;
        return ((antiSnipingStartBps - creatorFeeBps - protocolFeeBps) * (antiSnipingWindow - elapsed)) / antiSnipingWindow;
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @dev A buy must be mined by its deadline, while the sale is Active.
    function _checkBuy(uint256 deadline) internal view {
        if (block.timestamp > deadline) revert RmoSaleExpired(deadline, block.timestamp);
        State s = state();
        if (s != State.Active) revert RmoSaleWrongState(State.Active, s);
    }

    /// @dev `quoteBuy` of src/economics/rmo.ts at the current raise and time, for a positive `flockIn` while D < G.
    /// Uses the stored `sold`, which equals S(raised) until D = G (each fill adds S(after) - sold).
    function _quote(uint256 flockIn) internal view returns (Quote memory q) {
        uint256 r = raised;
        q.curveIn = Math.min(flockIn, graduationTarget - r);
        uint256 after_ = r + q.curveIn;
        // At G the buyer receives exactly the rest of S, so the sale sells S.
        q.mtOut = (after_ == graduationTarget ? saleSupply : soldAt(after_)) - sold;
        q.creatorFee = Math.mulDiv(q.curveIn, creatorFeeBps, BPS, Math.Rounding.Ceil);
        q.protocolFee = Math.mulDiv(q.curveIn, protocolFeeBps, BPS, Math.Rounding.Ceil);
        q.antiSnipingFee = Math.mulDiv(q.curveIn, antiSnipingFeeBps(block.timestamp - launchedAt), BPS, Math.Rounding.Ceil);
    }

    /// @dev Records a buy for the caller, then takes its FLOCK: the curve input here, the creator fee to the issuer,
    /// the protocol fee and the surcharge to the treasury. Returns what it took.
    function _fill(Quote memory q) internal returns (uint256 paid) {
        uint256 after_ = raised + q.curveIn;
        // Safe casts: raised <= G < 2^98 and sold <= S < 2^128 (constructor bounds); a buyer's totals are below them.
        raised = uint128(after_);
        sold += uint128(q.mtOut);
        Position storage p = _positions[msg.sender];
        p.curveIn += uint128(q.curveIn);
        p.mt += uint128(q.mtOut);
        emit Bought(msg.sender, q.curveIn, q.mtOut, q.creatorFee, q.protocolFee, q.antiSnipingFee, after_);
        uint256 toTreasury = q.protocolFee + q.antiSnipingFee;
        flock.safeTransferFrom(msg.sender, address(this), q.curveIn);
        if (q.creatorFee != 0) flock.safeTransferFrom(msg.sender, issuer, q.creatorFee);
        if (toTreasury != 0) flock.safeTransferFrom(msg.sender, treasury, toTreasury);
        return q.curveIn + q.creatorFee + toTreasury;
    }

    /// @dev The graduation: burns the unsold MT, hands the raise and the placed MT to the graduator and records what
    /// it returns. The sale's FLOCK is exactly the raise (fees went out at each buy), so it holds none afterwards, and
    /// its MT is exactly what buyers are owed.
    function _graduate() internal {
        graduatedAt = uint64(block.timestamp);
        uint256 d = raised;
        uint256 s = sold;
        ModelToken mt = token;
        uint256 unsold = saleSupply - s;
        if (unsold != 0) mt.burn(unsold);
        uint256 placed = mt.liquiditySupply() + mt.incentiveReserveSupply() + mt.issuerSupply() + mt.treasurySupply();
        flock.safeTransfer(address(graduator), d);
        IERC20(address(mt)).safeTransfer(address(graduator), placed);
        graduation = graduator.migrate(deploymentId, d);
        emit Graduated(d, s);
    }

    /// @dev The MT of a vesting wallet not yet vested: its balance less what it could release now.
    function _unvested(IERC20 mt, address wallet) internal view returns (uint256) {
        return mt.balanceOf(wallet) - VestingWallet(payable(wallet)).releasable(address(mt));
    }

    /// @dev creator + protocol <= start <= 10,000 bps, and a start above the base fee needs a window to decay over.
    function _checkFees(uint256 creatorBps, uint256 protocolBps, uint256 startBps, uint256 window) internal pure {
        // In this order, so that creator + protocol is summed only once both are known to be below 10,000.
        if (startBps > BPS || creatorBps > startBps || protocolBps > startBps - creatorBps || (startBps != creatorBps + protocolBps && window == 0)) {
            revert RmoSaleBadFees(creatorBps, protocolBps, startBps, window);
        }
    }
}
