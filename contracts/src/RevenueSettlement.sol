// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Revenue settlement (paper 3.5): each epoch's charged inference revenue is really paid here, in USDC, per deployment,
// and split by the deterministic waterfall as `revenueWaterfall` in src/economics/revenue.ts computes it. The epoch
// registry reads `paidOf` and `paidTotal` before it finalizes an epoch, so usage the chain pays rewards on was paid for.

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IRevenueSettlement} from "./IEpochRegistry.sol";

/// @title IUniswapV2SwapRouter
/// @notice The two functions of Uniswap v2's Router02 the settlement calls (the published router has them, with these
/// signatures).
interface IUniswapV2SwapRouter {
    /// @notice Swaps exactly `amountIn` of `path[0]` for at least `amountOutMin` of the last token of `path`.
    /// @param amountIn The input amount, pulled from the caller (which must have approved the router).
    /// @param amountOutMin The least output, else the router reverts (INSUFFICIENT_OUTPUT_AMOUNT).
    /// @param path The tokens swapped through, one pair per hop.
    /// @param to The recipient of the output.
    /// @param deadline Unix seconds after which the router refuses the swap (EXPIRED).
    /// @return amounts The amount of each token of the path, input first.
    function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] calldata path, address to, uint256 deadline)
        external
        returns (uint256[] memory amounts);

    /// @notice What `amountIn` of `path[0]` buys of each later token of `path` at the pairs' current reserves.
    /// @param amountIn The input amount.
    /// @param path The tokens swapped through.
    /// @return amounts The amount of each token of the path, input first.
    function getAmountsOut(uint256 amountIn, address[] calldata path) external view returns (uint256[] memory amounts);
}

/// @title IBurnableERC20
/// @notice An ERC-20 whose holder can burn its own balance (OpenZeppelin's ERC20Burnable), as a Model Token is.
interface IBurnableERC20 is IERC20 {
    /// @notice Destroys `value` of the caller's tokens, lowering the total supply.
    /// @param value The amount burned.
    function burn(uint256 value) external;
}

/// @title RevenueSettlement
/// @notice Where an epoch's charged revenue is paid, once per (epoch, deployment), by a payer (the aggregator or the
/// provider that collected the users' payments). The payment is split at once: OpEx (at most `maxOpexBps` of the
/// charged revenue) to the compute providers, then P_net = charged - OpEx by the waterfall, 30 % FLOCK buyback,
/// 30 % treasury, 30 % MT buyback-and-burn, 10 % issuer yield, each part rounded down and the rounding dust to the
/// treasury (`revenueWaterfall` in src/economics/revenue.ts). The treasury part goes to the treasury and the issuer
/// yield to the reward distributor (the epoch's reward tree credits each issuer its USDC yield there); the two
/// buyback parts wait here until a keeper swaps them through Uniswap v2: FLOCK bought goes to the treasury, MT bought
/// is burned.
/// @dev Nothing else leaves the contract. There is no admin sweep of pending buyback USDC: it can only be swapped by
/// the buybacks, so what a payer paid for buybacks is spent on buybacks or stays pending. `recoverERC20` returns only
/// tokens sent here by mistake that are not USDC, FLOCK or a registered Model Token.
contract RevenueSettlement is IRevenueSettlement, AccessControlDefaultAdminRules, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 STRUCTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The waterfall of P_net, in USDC base units (the keys of `WATERFALL_BPS` in src/economics/revenue.ts).
    struct Waterfall {
        /// 30 %: queued for the FLOCK buyback.
        uint256 flockBuyback;
        /// 30 % plus the rounding dust: paid to the treasury.
        uint256 treasury;
        /// 30 %: queued for the deployment's MT buyback-and-burn.
        uint256 mtBuybackBurn;
        /// 10 %: paid to the reward distributor as the issuer's yield.
        uint256 issuerYield;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised when an address that must be set is the zero address.
    error RevenueSettlementZeroAddress();

    /// @notice Raised by the constructor or `setDeployment` when a token or the router has no code.
    /// @param account The address without code.
    error RevenueSettlementNotContract(address account);

    /// @notice Raised by the constructor when USDC and FLOCK are the same token.
    error RevenueSettlementSameToken();

    /// @notice Raised when the OpEx cap is above 10,000 bps.
    /// @param maxOpexBps The cap asked for.
    error RevenueSettlementBadOpexCap(uint256 maxOpexBps);

    /// @notice Raised by `setDeployment` with a zero deployment id.
    error RevenueSettlementZeroDeploymentId();

    /// @notice Raised by `setDeployment` for a deployment already registered.
    /// @param deploymentId The deployment.
    /// @param mtToken Its Model Token.
    error RevenueSettlementDeploymentSet(bytes32 deploymentId, address mtToken);

    /// @notice Raised by `setDeployment` when the Model Token is USDC, FLOCK or another deployment's Model Token.
    /// @param mtToken The token.
    error RevenueSettlementTokenTaken(address mtToken);

    /// @notice Raised by `setDeployment` when the Model Token has no `burn(uint256)` (ERC20Burnable).
    /// @param mtToken The token.
    error RevenueSettlementNotBurnable(address mtToken);

    /// @notice Raised for a deployment that was never registered with `setDeployment`.
    /// @param deploymentId The deployment.
    error RevenueSettlementUnknownDeployment(bytes32 deploymentId);

    /// @notice Raised by `pay` with nothing charged, and by a buyback of nothing.
    error RevenueSettlementZeroAmount();


    /// @notice Raised by `pay` when the OpEx is above floor(charged * maxOpexBps / 10,000).
    /// @param opex The OpEx asked for.
    /// @param cap The most OpEx the charged revenue allows.
    error RevenueSettlementOpexAboveCap(uint256 opex, uint256 cap);

    /// @notice Raised by `pay` when less USDC arrived than `charged` (a token taking a fee on transfer).
    /// @param charged The amount pulled from the payer.
    /// @param received The amount this contract's balance rose by.
    error RevenueSettlementUnderpaid(uint256 charged, uint256 received);

    /// @notice Raised by a buyback of more USDC than is pending for it.
    /// @param amountIn The USDC asked for.
    /// @param pending The USDC pending.
    error RevenueSettlementAbovePending(uint256 amountIn, uint256 pending);

    /// @notice Raised by a buyback with a zero minimum out, which any sandwich would satisfy.
    error RevenueSettlementZeroMinimum();

    /// @notice Raised by a buyback after its deadline.
    /// @param deadline The deadline, unix seconds.
    /// @param timestamp The block's timestamp.
    error RevenueSettlementExpired(uint256 deadline, uint256 timestamp);

    /// @notice Raised by a buyback that received less than its minimum (the token out took a fee on transfer).
    /// @param received The amount this contract's balance rose by.
    /// @param minimum The minimum asked for.
    error RevenueSettlementInsufficientOutput(uint256 received, uint256 minimum);

    /// @notice Raised by `recoverERC20` for USDC, FLOCK or a registered Model Token.
    /// @param token The token.
    error RevenueSettlementProtectedToken(address token);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A deployment was registered with its Model Token.
    /// @param deploymentId The deployment.
    /// @param mtToken Its Model Token, bought back and burned with its buyback part.
    event DeploymentSet(bytes32 indexed deploymentId, address indexed mtToken);

    /// @notice The OpEx cap was set.
    /// @param previous The cap before, in bps.
    /// @param maxOpexBps The cap from now on, in bps.
    event MaxOpexBpsSet(uint256 previous, uint256 maxOpexBps);

    /// @notice An epoch's charged revenue of a deployment was paid and split.
    /// @param epoch The epoch.
    /// @param deploymentId The deployment.
    /// @param payer Who paid.
    /// @param charged The charged revenue paid (P_gross of the deployment's epoch).
    /// @param opex The OpEx paid to `opexRecipient`.
    /// @param opexRecipient The compute providers' address.
    /// @param flockBuyback USDC queued for the FLOCK buyback.
    /// @param treasury USDC paid to the treasury (with the rounding dust).
    /// @param mtBuybackBurn USDC queued for the deployment's MT buyback-and-burn.
    /// @param issuerYield USDC paid to the reward distributor.
    event RevenuePaid(
        uint64 indexed epoch,
        bytes32 indexed deploymentId,
        address indexed payer,
        uint256 charged,
        uint256 opex,
        address opexRecipient,
        uint256 flockBuyback,
        uint256 treasury,
        uint256 mtBuybackBurn,
        uint256 issuerYield
    );

    /// @notice Pending USDC bought FLOCK, sent to the treasury.
    /// @param usdcIn The USDC swapped.
    /// @param flockOut The FLOCK received and sent to the treasury.
    event FlockBoughtBack(uint256 usdcIn, uint256 flockOut);

    /// @notice A deployment's pending USDC bought its Model Token, which was burned.
    /// @param deploymentId The deployment.
    /// @param usdcIn The USDC swapped.
    /// @param mtBurned The MT received and burned.
    event MtBoughtBackAndBurned(bytes32 indexed deploymentId, uint256 usdcIn, uint256 mtBurned);

    /// @notice A token sent here by mistake was returned.
    /// @param token The token.
    /// @param to The recipient.
    /// @param amount The amount.
    event ERC20Recovered(address indexed token, address indexed to, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice The role that pays epochs' revenue (the aggregator, or the providers that collect users' payments).
    bytes32 public constant PAYER_ROLE = keccak256("PAYER_ROLE");
    /// @notice The role that runs the buybacks, choosing each swap's minimum out from a fresh quote.
    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");
    /// @notice How long a default admin transfer (or a change of this delay) waits (AccessControlDefaultAdminRules).
    uint48 public constant ADMIN_TRANSFER_DELAY = 2 days;

    /// @notice 100 % in basis points.
    uint256 public constant BPS = 10_000;
    /// @notice The FLOCK buyback's share of P_net, in bps.
    uint256 public constant FLOCK_BUYBACK_BPS = 3000;
    /// @notice The treasury's share of P_net, in bps (plus the rounding dust).
    uint256 public constant TREASURY_BPS = 3000;
    /// @notice The MT buyback-and-burn's share of P_net, in bps.
    uint256 public constant MT_BUYBACK_BURN_BPS = 3000;
    /// @notice The issuer yield's share of P_net, in bps.
    uint256 public constant ISSUER_YIELD_BPS = 1000;

    /// @notice The token revenue is paid in.
    IERC20 public immutable usdc;
    /// @notice The token the FLOCK buyback buys, and every MT buyback swaps through.
    IERC20 public immutable flock;
    /// @notice The Uniswap v2 router the buybacks swap through.
    IUniswapV2SwapRouter public immutable router;
    /// @notice Receives the treasury part and the FLOCK bought back.
    address public immutable treasury;
    /// @notice Receives the issuer yield, which the epoch's reward tree credits to each issuer.
    address public immutable distributor;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The most OpEx a payment may take, in bps of its charged revenue (admin-set; 0 allows none).
    uint256 public maxOpexBps;
    /// @notice Each deployment's Model Token; zero when not registered.
    mapping(bytes32 deploymentId => address) public mtOf;
    /// @notice Whether a token is a registered Model Token (never recoverable).
    mapping(address token => bool) public isModelToken;
    /// @inheritdoc IRevenueSettlement
    mapping(uint64 epoch => mapping(bytes32 deploymentId => uint256)) public paidOf;
    /// @inheritdoc IRevenueSettlement
    mapping(uint64 epoch => uint256) public paidTotal;
    /// @notice USDC queued for the FLOCK buyback.
    uint256 public pendingFlockBuyback;
    /// @notice USDC queued for each deployment's MT buyback-and-burn.
    mapping(bytes32 deploymentId => uint256) public pendingMtBuyback;
    /// @notice All FLOCK ever bought back (and sent to the treasury).
    uint256 public boughtFlock;
    /// @notice All MT of each deployment ever bought back and burned.
    mapping(bytes32 deploymentId => uint256) public burnedMt;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @dev The distributor needs no code yet: the epoch registry (which is the distributor) takes this contract's
    /// address at its construction, so this contract is deployed first with the distributor's future address.
    /// @param usdc_ The token revenue is paid in (a contract).
    /// @param flock_ FLOCK (a contract, not USDC).
    /// @param router_ The Uniswap v2 router (a contract).
    /// @param treasury_ The protocol treasury (non-zero).
    /// @param distributor_ The reward distributor (non-zero).
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (registers deployments, sets the OpEx cap, grants PAYER_ROLE and
    /// KEEPER_ROLE; transferred in two steps, `ADMIN_TRANSFER_DELAY`).
    /// @param maxOpexBps_ The OpEx cap, in bps of the charged revenue (at most 10,000; 0 allows no OpEx).
    constructor(IERC20 usdc_, IERC20 flock_, IUniswapV2SwapRouter router_, address treasury_, address distributor_, address admin, uint256 maxOpexBps_)
        AccessControlDefaultAdminRules(ADMIN_TRANSFER_DELAY, _nonZero(admin))
    {
        if (treasury_ == address(0) || distributor_ == address(0)) revert RevenueSettlementZeroAddress();
        _checkContract(address(usdc_));
        _checkContract(address(flock_));
        _checkContract(address(router_));
        if (address(usdc_) == address(flock_)) revert RevenueSettlementSameToken();
        usdc = usdc_;
        flock = flock_;
        router = router_;
        treasury = treasury_;
        distributor = distributor_;
        _setMaxOpexBps(maxOpexBps_);
    }

    /// @dev The admin, refused as this contract's other zero addresses are (before the base constructor's own error).
    function _nonZero(address admin) private pure returns (address) {
        if (admin == address(0)) revert RevenueSettlementZeroAddress();
        return admin;
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Registers a deployment's Model Token, once.
    /// @dev Admin only. The token must have code, be burnable (a `burn(0)` is tried), and be neither USDC, FLOCK nor
    /// another deployment's token.
    /// @param deploymentId The deployment (non-zero).
    /// @param mtToken Its Model Token.
    function setDeployment(bytes32 deploymentId, address mtToken) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (deploymentId == bytes32(0)) revert RevenueSettlementZeroDeploymentId();
        address current = mtOf[deploymentId];
        if (current != address(0)) revert RevenueSettlementDeploymentSet(deploymentId, current);
        if (mtToken == address(0)) revert RevenueSettlementZeroAddress();
        _checkContract(mtToken);
        if (mtToken == address(usdc) || mtToken == address(flock) || isModelToken[mtToken]) revert RevenueSettlementTokenTaken(mtToken);
        // A token without burn would take the MT buyback's USDC and then block every burn: refuse it now.
        try IBurnableERC20(mtToken).burn(0) {}
        catch {
            revert RevenueSettlementNotBurnable(mtToken);
        }
        mtOf[deploymentId] = mtToken;
        isModelToken[mtToken] = true;
        emit DeploymentSet(deploymentId, mtToken);
    }

    /// @notice Sets the OpEx cap for later payments.
    /// @dev Admin only; at most 10,000 bps. Provider costs change, so the cap is a setting (logged), not an immutable;
    /// payments already made keep their split.
    /// @param maxOpexBps_ The cap, in bps of the charged revenue.
    function setMaxOpexBps(uint256 maxOpexBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMaxOpexBps(maxOpexBps_);
    }

    /// @notice Pays (part of) a deployment's charged revenue of an epoch and splits it: `opex` to `opexRecipient`, then
    /// P_net = charged - opex by the waterfall. Pulls exactly `charged` USDC from the caller, who must have approved it.
    /// Payments of one (epoch, deployment) add up, so a short payment is topped up, never stuck.
    /// @dev Payer role only: what is paid is split at once and never returned, so only the accounts the admin trusts
    /// with the users' payments pay. Reverts with `RevenueSettlementUnknownDeployment`, `RevenueSettlementZeroAmount`,
    /// `RevenueSettlementOpexAboveCap`, `RevenueSettlementZeroAddress` (OpEx without a recipient) or
    /// `RevenueSettlementUnderpaid`.
    /// @param epoch The epoch.
    /// @param deploymentId The deployment (registered).
    /// @param charged The deployment's charged revenue of the epoch (non-zero), in USDC base units.
    /// @param opex The compute providers' cost, at most floor(charged * maxOpexBps / 10,000).
    /// @param opexRecipient Where the OpEx goes (may be zero only when `opex` is zero).
    /// @return parts The waterfall of P_net.
    function pay(uint64 epoch, bytes32 deploymentId, uint256 charged, uint256 opex, address opexRecipient)
        external
        nonReentrant
        onlyRole(PAYER_ROLE)
        returns (Waterfall memory parts)
    {
        if (mtOf[deploymentId] == address(0)) revert RevenueSettlementUnknownDeployment(deploymentId);
        if (charged == 0) revert RevenueSettlementZeroAmount();
        uint256 cap = Math.mulDiv(charged, maxOpexBps, BPS);
        if (opex > cap) revert RevenueSettlementOpexAboveCap(opex, cap);
        if (opex != 0 && opexRecipient == address(0)) revert RevenueSettlementZeroAddress();

        // Measured, not trusted: a token taking a fee on transfer would otherwise leave the split short.
        uint256 before = usdc.balanceOf(address(this));
        usdc.safeTransferFrom(msg.sender, address(this), charged);
        uint256 received = usdc.balanceOf(address(this)) - before;
        if (received != charged) revert RevenueSettlementUnderpaid(charged, received);

        unchecked {
            // Safe: opex <= cap <= charged, as maxOpexBps <= BPS.
            parts = waterfall(charged - opex);
        }
        paidOf[epoch][deploymentId] += charged;
        paidTotal[epoch] += charged;
        pendingFlockBuyback += parts.flockBuyback;
        pendingMtBuyback[deploymentId] += parts.mtBuybackBurn;
        emit RevenuePaid(epoch, deploymentId, msg.sender, charged, opex, opexRecipient, parts.flockBuyback, parts.treasury, parts.mtBuybackBurn, parts.issuerYield);

        if (opex != 0) usdc.safeTransfer(opexRecipient, opex);
        if (parts.treasury != 0) usdc.safeTransfer(treasury, parts.treasury);
        if (parts.issuerYield != 0) usdc.safeTransfer(distributor, parts.issuerYield);
    }

    /// @notice Swaps pending FLOCK-buyback USDC for FLOCK through the router (path USDC -> FLOCK) and sends the FLOCK
    /// to the treasury.
    /// @dev Keeper role only, so the minimum out is the keeper's fresh quote less its tolerance, never a zero anyone
    /// could sandwich (a zero minimum is refused outright). A swap that cannot happen now (no pool, output below the
    /// minimum, deadline passed) reverts and the USDC stays pending.
    /// @param amountIn The USDC to swap, non-zero and at most `pendingFlockBuyback`.
    /// @param minFlockOut The least FLOCK to receive (non-zero).
    /// @param deadline Unix seconds after which the swap is refused.
    /// @return flockOut The FLOCK received and sent to the treasury.
    function buyBackFlock(uint256 amountIn, uint256 minFlockOut, uint256 deadline) external nonReentrant onlyRole(KEEPER_ROLE) returns (uint256 flockOut) {
        uint256 pending = pendingFlockBuyback;
        _checkBuyback(amountIn, pending, minFlockOut, deadline);
        unchecked {
            // Safe: amountIn <= pending, checked above.
            pendingFlockBuyback = pending - amountIn;
        }
        address[] memory path = new address[](2);
        path[0] = address(usdc);
        path[1] = address(flock);
        flockOut = _swap(amountIn, minFlockOut, path, deadline);
        boughtFlock += flockOut;
        emit FlockBoughtBack(amountIn, flockOut);
        flock.safeTransfer(treasury, flockOut);
    }

    /// @notice Swaps a deployment's pending MT-buyback USDC for its Model Token through the router (path USDC -> FLOCK
    /// -> MT) and burns every MT received.
    /// @dev Keeper role only, for the same reason as `buyBackFlock`; the same refusals keep the USDC pending.
    /// @param deploymentId The deployment (registered).
    /// @param amountIn The USDC to swap, non-zero and at most `pendingMtBuyback[deploymentId]`.
    /// @param minMtOut The least MT to receive and burn (non-zero).
    /// @param deadline Unix seconds after which the swap is refused.
    /// @return mtBurned The MT received and burned.
    function buyBackAndBurnMt(bytes32 deploymentId, uint256 amountIn, uint256 minMtOut, uint256 deadline)
        external
        nonReentrant
        onlyRole(KEEPER_ROLE)
        returns (uint256 mtBurned)
    {
        address mt = mtOf[deploymentId];
        if (mt == address(0)) revert RevenueSettlementUnknownDeployment(deploymentId);
        uint256 pending = pendingMtBuyback[deploymentId];
        _checkBuyback(amountIn, pending, minMtOut, deadline);
        unchecked {
            // Safe: amountIn <= pending, checked above.
            pendingMtBuyback[deploymentId] = pending - amountIn;
        }
        address[] memory path = new address[](3);
        path[0] = address(usdc);
        path[1] = address(flock);
        path[2] = mt;
        mtBurned = _swap(amountIn, minMtOut, path, deadline);
        burnedMt[deploymentId] += mtBurned;
        emit MtBoughtBackAndBurned(deploymentId, amountIn, mtBurned);
        IBurnableERC20(mt).burn(mtBurned);
    }

    /// @notice Returns a token sent here by mistake.
    /// @dev Admin only. Never USDC (payments and pending buybacks), FLOCK (bought back on its way to the treasury) or
    /// a registered Model Token (bought back on its way to be burned): there is no sweep of buyback funds.
    /// @param token The token (not USDC, FLOCK or a registered Model Token).
    /// @param to The recipient (non-zero).
    /// @param amount The amount.
    function recoverERC20(IERC20 token, address to, uint256 amount) external nonReentrant onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(token) == address(usdc) || address(token) == address(flock) || isModelToken[address(token)]) {
            revert RevenueSettlementProtectedToken(address(token));
        }
        if (to == address(0)) revert RevenueSettlementZeroAddress();
        token.safeTransfer(to, amount);
        emit ERC20Recovered(address(token), to, amount);
    }

    /*//////////////////////////////////////////////////////////////
                         EXTERNAL VIEW FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice The waterfall of P_net, exactly as `revenueWaterfall` in src/economics/revenue.ts: each part
    /// floor(pNet * share / 10,000), the rounding dust added to the treasury, so the parts sum to `pNet`.
    /// @param pNet The net revenue, in USDC base units.
    /// @return parts The four parts.
    function waterfall(uint256 pNet) public pure returns (Waterfall memory parts) {
        parts.flockBuyback = Math.mulDiv(pNet, FLOCK_BUYBACK_BPS, BPS);
        parts.treasury = Math.mulDiv(pNet, TREASURY_BPS, BPS);
        parts.mtBuybackBurn = Math.mulDiv(pNet, MT_BUYBACK_BURN_BPS, BPS);
        parts.issuerYield = Math.mulDiv(pNet, ISSUER_YIELD_BPS, BPS);
        unchecked {
            // Safe: each part is rounded down from shares summing to 10,000 bps, so their sum is at most pNet.
            parts.treasury += pNet - (parts.flockBuyback + parts.treasury + parts.mtBuybackBurn + parts.issuerYield);
        }
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @dev Reverts with `RevenueSettlementNotContract` when `account` has no code.
    function _checkContract(address account) internal view {
        if (account.code.length == 0) revert RevenueSettlementNotContract(account);
    }

    /// @dev Checks and logs a new OpEx cap.
    function _setMaxOpexBps(uint256 maxOpexBps_) internal {
        if (maxOpexBps_ > BPS) revert RevenueSettlementBadOpexCap(maxOpexBps_);
        uint256 previous = maxOpexBps;
        maxOpexBps = maxOpexBps_;
        emit MaxOpexBpsSet(previous, maxOpexBps_);
    }

    /// @dev A buyback's amount, minimum and deadline, before anything moves.
    function _checkBuyback(uint256 amountIn, uint256 pending, uint256 minOut, uint256 deadline) internal view {
        if (amountIn == 0) revert RevenueSettlementZeroAmount();
        if (amountIn > pending) revert RevenueSettlementAbovePending(amountIn, pending);
        if (minOut == 0) revert RevenueSettlementZeroMinimum();
        // The router refuses it too, with a string; this names the deadline and the block's time.
        if (block.timestamp > deadline) revert RevenueSettlementExpired(deadline, block.timestamp);
    }

    /// @dev Swaps `amountIn` USDC along `path` to this contract; returns what this contract's balance of the last
    /// token rose by (measured, so a token taking a fee on transfer cannot pass below the minimum).
    function _swap(uint256 amountIn, uint256 minOut, address[] memory path, uint256 deadline) internal returns (uint256 received) {
        IERC20 tokenOut = IERC20(path[path.length - 1]);
        uint256 before = tokenOut.balanceOf(address(this));
        // Exactly this swap's input: the router pulls all of it, leaving no standing allowance.
        usdc.forceApprove(address(router), amountIn);
        router.swapExactTokensForTokens(amountIn, minOut, path, address(this), deadline);
        received = tokenOut.balanceOf(address(this)) - before;
        if (received < minOut) revert RevenueSettlementInsufficientOutput(received, minOut);
    }
}
