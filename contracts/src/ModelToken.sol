// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// A deployment's Model Token (MT): a fixed supply of 1,000,000 MT minted once, at construction, to its RMO sale, which
// escrows every part of the paper's section 3.2 allocation (`allocateSupply` in src/economics/supply.ts) until
// graduation; burnable so that buyback-and-burn can destroy what it buys; and able to say how much of it circulates.

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ICirculatingSupply, ILockedSupply} from "./ICirculatingSupply.sol";

/// @title ModelToken
/// @notice A fixed-supply, burnable ERC-20 of 18 decimals. The whole supply is minted at construction to the sale
/// contract, which escrows it: it sells the 40 % public sale, and at graduation burns what is unsold, pairs the 20 %
/// liquidity in the DEX pool (D/G of it at a deadline graduation below G, the rest burned), and moves the 20 %
/// incentive reserve, 10 % issuer and 10 % treasury parts into their vesting (contracts/src/MTGraduator.sol). So no MT
/// is liquid before the graduation pool exists. Each part is rounded down and the rounding dust goes to the treasury
/// part, as `allocateSupply` in src/economics/supply.ts computes it (there is none for 1,000,000e18, but the rule is the
/// same). Nothing can ever be minted again.
/// @dev `circulatingSupply()` is the total supply (which burns lower) less what the sale reports as still locked
/// (`RmoSale.lockedSupply`): the paper's sale + liquidity + vested - burned, read from chain state.
contract ModelToken is ERC20Burnable, ICirculatingSupply {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Raised by the constructor when the sale is the zero address.
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

    /// @notice The sale contract: receives the whole supply and escrows it until graduation.
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
    /// @param sale_ Receives the whole supply (the RMO sale contract, which escrows every part until graduation).
    constructor(string memory name_, string memory symbol_, address sale_) ERC20(name_, symbol_) {
        if (sale_ == address(0)) revert ModelTokenZeroAddress();
        sale = sale_;
        // splitBps in src/economics/math.ts: each part rounded down, the dust to the sink (the treasury).
        uint256 publicSale = (TOTAL_SUPPLY * PUBLIC_SALE_BPS) / 10_000;
        uint256 liquidity = (TOTAL_SUPPLY * LIQUIDITY_BPS) / 10_000;
        uint256 incentive = (TOTAL_SUPPLY * INCENTIVE_RESERVE_BPS) / 10_000;
        uint256 issuerPart = (TOTAL_SUPPLY * ISSUER_BPS) / 10_000;
        publicSaleSupply = publicSale;
        liquiditySupply = liquidity;
        incentiveReserveSupply = incentive;
        issuerSupply = issuerPart;
        treasurySupply = TOTAL_SUPPLY - publicSale - liquidity - incentive - issuerPart;
        _mint(sale_, TOTAL_SUPPLY);
    }

    /*//////////////////////////////////////////////////////////////
                         EXTERNAL VIEW FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICirculatingSupply
    /// @dev totalSupply() less `lockedSupply()` of the sale. Before graduation: the MT sold plus the liquidity MT a
    /// graduation at the current raise D pairs, floor(200,000 MT * D / G); zero once the raise failed or lapsed. After it: the whole supply (so every burn lowers it) but the issuer's and the
    /// treasury's MT not yet vested in their vesting wallets and the incentive reserve EpochFunding has not yet
    /// released (docs/contracts.md).
    function circulatingSupply() external view returns (uint256) {
        return totalSupply() - ILockedSupply(sale).lockedSupply();
    }
}
