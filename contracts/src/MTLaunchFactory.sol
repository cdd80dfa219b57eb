// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The launch of a deployment's Model Token by RMO (paper 3.2, 3.10): one call deploys the sale (which deploys the
// token and escrows its whole supply), takes the issuer's one-time launch fee in FLOCK to the treasury, and records the
// pair under the deployment's id. The factory deploys, once, the graduator every one of its sales graduates through,
// and holds every launch to the protocol's floors on the graduation target and the minimum raise.

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IUniswapV2Factory, MTGraduator} from "./MTGraduator.sol";
import {ModelToken} from "./ModelToken.sol";
import {RmoSale} from "./RmoSale.sol";

/// @title MTLaunchFactory
/// @notice Launches RMOs with the protocol's fee schedule, launch fee and floors on G and the minimum raise (fixed at
/// the factory's deployment, so an issuer cannot launch with lower fees or a smaller raise) and keeps the registry
/// deploymentId => (token, sale, issuer). The caller of
/// `launch` is the issuer: it pays the launch fee and receives the creator fees and, vested from graduation, the issuer
/// MT allocation. Its constructor deploys the `graduator` (MTGraduator), which only this factory's sales can call and
/// which must be granted EpochFunding's STREAM_ROLE before any of them can graduate.
/// @dev Ids are first come, first served: consumers (the aggregator's configuration) should check the issuer a
/// launch records, not only its id.
/// The floors price the spam of graduations: every graduation adds two EpochFunding streams, of which at most
/// MAX_LIVE_STREAMS (200) vest at once (180 days each), so 100 graduations within 180 days block every other one until
/// the oldest end. Each costs its sender at least the launch fee and a raise of `minRaiseFloor`, of which a quarter
/// vests to the treasury and half is locked in the pool for 48 months; and a sale that cannot graduate lapses 30 days
/// after its end and refunds its buyers (RmoSale), so the spam delays launches but freezes nobody's FLOCK.
contract MTLaunchFactory is ReentrancyGuard {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice What an issuer chooses for its launch (the sale checks each).
    struct LaunchParams {
        /// The deployment's id (non-zero, unused).
        bytes32 deploymentId;
        /// The Model Token's name.
        string name;
        /// The Model Token's symbol.
        string symbol;
        /// G: FLOCK base units raised at graduation.
        uint256 graduationTarget;
        /// P0: starting marginal price, FLOCK per MT in WAD.
        uint256 startPrice;
        /// The least raise that graduates at the sale's end.
        uint256 minRaise;
        /// Seconds from launch to the sale's end.
        uint256 duration;
    }

    /// @notice A launch in the registry.
    struct Launch {
        ModelToken token;
        RmoSale sale;
        address issuer;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by the constructor when FLOCK, the treasury, the Uniswap v2 factory or the epoch funding is the
    /// zero address.
    error MTLaunchFactoryZeroAddress();

    /// @notice Raised by the constructor with an inconsistent fee schedule: creator + protocol above the anti-sniping
    /// start, a start above 10,000 bps, or a start above the base fee with no window.
    /// @param creatorFeeBps The creator fee.
    /// @param protocolFeeBps The protocol fee.
    /// @param antiSnipingStartBps The total rate at launch.
    /// @param antiSnipingWindow The decay window, seconds.
    error MTLaunchFactoryBadFees(uint256 creatorFeeBps, uint256 protocolFeeBps, uint256 antiSnipingStartBps, uint256 antiSnipingWindow);

    /// @notice Raised by `launch` with a zero deployment id.
    error MTLaunchFactoryZeroDeploymentId();

    /// @notice Raised by `launch` with an id already launched.
    /// @param deploymentId The id.
    /// @param sale Its sale.
    error MTLaunchFactoryAlreadyLaunched(bytes32 deploymentId, address sale);

    /// @notice Raised by `launch` with a graduation target below the factory's floor.
    /// @param graduationTarget The launch's G.
    /// @param floor `graduationTargetFloor`.
    error MTLaunchFactoryGraduationTargetBelowFloor(uint256 graduationTarget, uint256 floor);

    /// @notice Raised by `launch` with a minimum raise below the factory's floor.
    /// @param minRaise The launch's minimum raise.
    /// @param floor `minRaiseFloor`.
    error MTLaunchFactoryMinRaiseBelowFloor(uint256 minRaise, uint256 floor);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A deployment's RMO was launched.
    /// @param deploymentId The deployment's id.
    /// @param issuer The issuer (the caller).
    /// @param token The Model Token.
    /// @param sale The sale.
    /// @param launchFee The launch fee paid to the treasury.
    event Launched(bytes32 indexed deploymentId, address indexed issuer, address token, address sale, uint256 launchFee);

    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice The token the sales take and the launch fee is paid in.
    IERC20 public immutable flock;
    /// @notice Receives launch fees, protocol fees, anti-sniping surcharges and the treasury MT allocations.
    address public immutable treasury;
    /// @notice Migrates every sale of this factory at its graduation (deployed by the constructor).
    MTGraduator public immutable graduator;
    /// @notice The one-time launch fee, FLOCK base units (zero: none).
    uint256 public immutable launchFee;
    /// @notice Creator fee of every sale, bps.
    uint256 public immutable creatorFeeBps;
    /// @notice Protocol fee of every sale, bps.
    uint256 public immutable protocolFeeBps;
    /// @notice Total fee rate at launch of every sale, bps.
    uint256 public immutable antiSnipingStartBps;
    /// @notice Seconds over which the surcharge decays, for every sale.
    uint256 public immutable antiSnipingWindow;
    /// @notice The least graduation target G of a launch, FLOCK base units.
    uint256 public immutable graduationTargetFloor;
    /// @notice The least minimum raise of a launch, FLOCK base units: the least raise any of its sales graduates with.
    uint256 public immutable minRaiseFloor;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The launch of each deployment id (zero addresses: none).
    mapping(bytes32 deploymentId => Launch) public launches;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param flock_ The token paid in.
    /// @param treasury_ The protocol treasury.
    /// @param launchFee_ The launch fee, FLOCK base units.
    /// @param creatorFeeBps_ Creator fee, bps (paper: 30).
    /// @param protocolFeeBps_ Protocol fee, bps (paper: 95).
    /// @param antiSnipingStartBps_ Total rate at launch, bps (at least creator + protocol, at most 10,000).
    /// @param antiSnipingWindow_ Decay window, seconds (non-zero when the start is above the base fee).
    /// @param uniswapFactory The Uniswap v2 factory whose MT/FLOCK pairs graduations seed.
    /// @param epochFunding The EpochFunding that streams each graduation's staking incentives and incentive reserve.
    /// @param graduationTargetFloor_ The least G of a launch, FLOCK base units.
    /// @param minRaiseFloor_ The least minimum raise of a launch, FLOCK base units (see the contract's notes; the sale
    /// itself refuses one below 4 base units or whose pool cannot be seeded).
    constructor(
        IERC20 flock_,
        address treasury_,
        uint256 launchFee_,
        uint256 creatorFeeBps_,
        uint256 protocolFeeBps_,
        uint256 antiSnipingStartBps_,
        uint256 antiSnipingWindow_,
        IUniswapV2Factory uniswapFactory,
        address epochFunding,
        uint256 graduationTargetFloor_,
        uint256 minRaiseFloor_
    ) {
        if (address(flock_) == address(0) || treasury_ == address(0) || address(uniswapFactory) == address(0) || epochFunding == address(0)) {
            revert MTLaunchFactoryZeroAddress();
        }
        // The rule RmoSale's constructor applies, checked here so a bad schedule fails at deployment, not at launch.
        if (
            antiSnipingStartBps_ > 10_000 || creatorFeeBps_ > antiSnipingStartBps_ || protocolFeeBps_ > antiSnipingStartBps_ - creatorFeeBps_
                || (antiSnipingStartBps_ != creatorFeeBps_ + protocolFeeBps_ && antiSnipingWindow_ == 0)
        ) revert MTLaunchFactoryBadFees(creatorFeeBps_, protocolFeeBps_, antiSnipingStartBps_, antiSnipingWindow_);
        flock = flock_;
        treasury = treasury_;
        launchFee = launchFee_;
        creatorFeeBps = creatorFeeBps_;
        protocolFeeBps = protocolFeeBps_;
        antiSnipingStartBps = antiSnipingStartBps_;
        antiSnipingWindow = antiSnipingWindow_;
        graduationTargetFloor = graduationTargetFloor_;
        minRaiseFloor = minRaiseFloor_;
        graduator = new MTGraduator(flock_, treasury_, uniswapFactory, epochFunding);
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Launches a deployment's RMO: deploys its sale (which deploys the Model Token and escrows its whole
    /// supply until graduation), takes the launch fee from the caller (the issuer) to the treasury and records the
    /// launch.
    /// The sale starts at once; the anti-sniping surcharge decays from this block's timestamp.
    /// @dev The caller must have approved `launchFee` FLOCK. Reverts with `MTLaunchFactoryZeroDeploymentId`,
    /// `MTLaunchFactoryAlreadyLaunched`, `MTLaunchFactoryGraduationTargetBelowFloor`,
    /// `MTLaunchFactoryMinRaiseBelowFloor`, or the sale's constructor errors (`RmoSaleInfeasibleCurve`,
    /// `RmoSaleBadMinRaise`, `RmoSaleBadSchedule`, ...).
    /// @param p The launch's parameters.
    /// @return token The Model Token.
    /// @return sale The sale.
    function launch(LaunchParams calldata p) external nonReentrant returns (ModelToken token, RmoSale sale) {
        if (p.deploymentId == bytes32(0)) revert MTLaunchFactoryZeroDeploymentId();
        address existing = address(launches[p.deploymentId].sale);
        if (existing != address(0)) revert MTLaunchFactoryAlreadyLaunched(p.deploymentId, existing);
        if (p.graduationTarget < graduationTargetFloor) revert MTLaunchFactoryGraduationTargetBelowFloor(p.graduationTarget, graduationTargetFloor);
        if (p.minRaise < minRaiseFloor) revert MTLaunchFactoryMinRaiseBelowFloor(p.minRaise, minRaiseFloor);
        sale = new RmoSale(
            RmoSale.Params({
                name: p.name,
                symbol: p.symbol,
                flock: flock,
                issuer: msg.sender,
                treasury: treasury,
                deploymentId: p.deploymentId,
                graduator: graduator,
                graduationTarget: p.graduationTarget,
                startPrice: p.startPrice,
                minRaise: p.minRaise,
                duration: p.duration,
                creatorFeeBps: creatorFeeBps,
                protocolFeeBps: protocolFeeBps,
                antiSnipingStartBps: antiSnipingStartBps,
                antiSnipingWindow: antiSnipingWindow
            })
        );
        token = sale.token();
        launches[p.deploymentId] = Launch(token, sale, msg.sender);
        emit Launched(p.deploymentId, msg.sender, address(token), address(sale), launchFee);
        if (launchFee != 0) flock.safeTransferFrom(msg.sender, treasury, launchFee);
    }
}
