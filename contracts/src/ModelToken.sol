// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// A deployment's Model Token (MT): a fixed supply of 1,000,000 MT minted once, at construction, split as the paper's
// section 3.2 allocates it (`allocateSupply` in src/economics/supply.ts), and burnable so that buyback-and-burn can
// destroy what it buys.

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";

/// @title ModelToken
/// @notice A fixed-supply, burnable ERC-20 of 18 decimals. The whole supply is minted at construction: 40 % public
/// sale and 20 % liquidity to the sale contract (which sells the first and pairs the second at graduation), 20 %
/// incentive reserve, 10 % issuer and 10 % treasury to the addresses given. Each part is rounded down and the rounding
/// dust goes to the treasury, as `allocateSupply` in src/economics/supply.ts computes it (there is none for
/// 1,000,000e18, but the rule is the same). Nothing can ever be minted again.
/// @dev The token does not vest the incentive reserve, issuer and treasury allocations (180 days from graduation,
/// docs/protocol.md): it pays them to the addresses given, which are meant to be the vesting contracts of each.
contract ModelToken is ERC20Burnable {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by the constructor when an allocation's recipient is the zero address.
    error ModelTokenZeroAddress();

    /*//////////////////////////////////////////////////////////////
                        CONSTANTS AND IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice Every deployment mints 1,000,000 MT (paper 3.2), in base units of 18 decimals.
    uint256 public constant TOTAL_SUPPLY = 1_000_000e18;

    /// @notice The public sale's share, in bps.
    uint256 public constant PUBLIC_SALE_BPS = 4000;
    /// @notice The initial liquidity's share, in bps.
    uint256 public constant LIQUIDITY_BPS = 2000;
    /// @notice The incentive reserve's share, in bps.
    uint256 public constant INCENTIVE_RESERVE_BPS = 2000;
    /// @notice The issuer's share, in bps.
    uint256 public constant ISSUER_BPS = 1000;
    /// @notice The treasury's share, in bps (plus the rounding dust of the split).
    uint256 public constant TREASURY_BPS = 1000;

    /// @notice The sale contract: holds the public sale and the liquidity allocations.
    address public immutable sale;
    /// @notice MT sold by the sale: floor(TOTAL_SUPPLY * 40 %).
    uint256 public immutable publicSaleSupply;
    /// @notice MT paired with FLOCK at graduation: floor(TOTAL_SUPPLY * 20 %).
    uint256 public immutable liquiditySupply;
    /// @notice MT of the incentive reserve: floor(TOTAL_SUPPLY * 20 %).
    uint256 public immutable incentiveReserveSupply;
    /// @notice MT of the issuer: floor(TOTAL_SUPPLY * 10 %).
    uint256 public immutable issuerSupply;
    /// @notice MT of the treasury: floor(TOTAL_SUPPLY * 10 %) plus the rounding dust of the other parts.
    uint256 public immutable treasurySupply;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param name_ The token's name.
    /// @param symbol_ The token's symbol.
    /// @param sale_ Receives the public sale and the liquidity allocations (the RMO sale contract).
    /// @param incentiveReserve Receives the incentive reserve allocation.
    /// @param issuer Receives the issuer allocation.
    /// @param treasury Receives the treasury allocation and the rounding dust.
    constructor(string memory name_, string memory symbol_, address sale_, address incentiveReserve, address issuer, address treasury)
        ERC20(name_, symbol_)
    {
        if (sale_ == address(0) || incentiveReserve == address(0) || issuer == address(0) || treasury == address(0)) revert ModelTokenZeroAddress();
        sale = sale_;
        // splitBps in src/economics/math.ts: each part rounded down, the dust to the sink (the treasury).
        uint256 publicSale = (TOTAL_SUPPLY * PUBLIC_SALE_BPS) / 10_000;
        uint256 liquidity = (TOTAL_SUPPLY * LIQUIDITY_BPS) / 10_000;
        uint256 incentive = (TOTAL_SUPPLY * INCENTIVE_RESERVE_BPS) / 10_000;
        uint256 issuerPart = (TOTAL_SUPPLY * ISSUER_BPS) / 10_000;
        uint256 treasuryPart = TOTAL_SUPPLY - publicSale - liquidity - incentive - issuerPart;
        publicSaleSupply = publicSale;
        liquiditySupply = liquidity;
        incentiveReserveSupply = incentive;
        issuerSupply = issuerPart;
        treasurySupply = treasuryPart;
        _mint(sale_, publicSale + liquidity);
        _mint(incentiveReserve, incentive);
        _mint(issuer, issuerPart);
        _mint(treasury, treasuryPart);
    }
}
