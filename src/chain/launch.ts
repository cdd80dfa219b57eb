/**
 * The MT launch by RMO on chain (contracts/src/MTLaunchFactory.sol, RmoSale.sol, ModelToken.sol, MTGraduator.sol):
 * deploy the launch factory, launch a deployment's Model Token and sale, read a sale, quote and send buys (by FLOCK or
 * by exact MT), graduate (the Uniswap v2 pool, the LP lock, the vesting wallets and the epoch funding streams), read
 * and check a graduation, claim escrowed MT, refund a failed raise, release vested tokens and the LP lock, read and
 * sync the circulating supply. Quotes are src/economics/rmo.ts's on the sale's state read from the chain, expected
 * graduations src/economics/supply.ts's `splitProceeds`, `allocateSupply`, `pairedLiquidityMt` and rmo.ts's `dexPrice`; the contracts
 * compute the same numbers (tested with fixtures/rmo/vectors.json and test/contracts/graduation.test.ts). A refused
 * call throws a `LaunchError` naming the contract's custom error and what to do.
 */
import {
  BaseError as ViemBaseError,
  erc20Abi,
  getAddress,
  getContract,
  isAddressEqual,
  parseEventLogs,
  zeroAddress,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem'
import { BPS, mulDivDown, mulDivUp } from '../economics/math.ts'
import { createCurve, curveInputForMt, dexPrice, quoteBuy, type BuyQuote, type Curve, type FeeSchedule } from '../economics/rmo.ts'
import { allocateSupply, DAY_SECONDS, MT_TOTAL_SUPPLY, pairedLiquidityMt, splitProceeds, VESTING_DAYS, type ProceedsSplit, type SupplyAllocation } from '../economics/supply.ts'
import { EpochFunding, LiquidityLock, LockedVestingWallet, MTGraduator, MTLaunchFactory, MTStaking, ModelToken, RmoSale, VestingWallet } from './contracts.generated.ts'
import { decodeRevert, ensureAllowance, simulateAndSend, type ContractCall } from './transactions.ts'
import { ChainError, deploy, type Clients } from './contracts.ts'
import { STREAM_KIND, type StreamKind } from './funding.ts'
import { UNISWAP_V2_MINIMUM_LIQUIDITY, uniswapV2PairAbi } from './uniswap.ts'

/** A launch or sale call the chain refused, or a sale the driver cannot quote. */
export class LaunchError extends ChainError {
  override name = 'LaunchError'
  /** The contract's custom error when the chain refused the call (`RmoSaleMtOutTooLow`), else undefined. */
  readonly errorName: string | undefined
  /** Its arguments. */
  readonly errorArgs: readonly unknown[]
  constructor(message: string, options: { hint?: string | undefined; cause?: unknown; errorName?: string | undefined; errorArgs?: readonly unknown[] | undefined } = {}) {
    super(message, options.hint, options.cause)
    this.errorName = options.errorName
    this.errorArgs = options.errorArgs ?? []
  }
}

/**
 * The sale's states, in the order of the contract's `State` enum. `lapsed`: the sale succeeded but was not graduated
 * within 30 days of its end (`GRADUATION_WINDOW_SECONDS`); it refunds its buyers like a `failed` one and never graduates.
 */
export const SALE_STATES = ['active', 'succeeded', 'graduated', 'failed', 'lapsed'] as const
export type SaleState = (typeof SALE_STATES)[number]

/** Seconds a buy may wait to be mined when no deadline is given. */
export const DEFAULT_DEADLINE_SECONDS = 1200n

/** How long after its end a succeeded sale may still graduate before it lapses (RmoSale's GRADUATION_WINDOW): 30 days. */
export const GRADUATION_WINDOW_SECONDS = 30n * DAY_SECONDS

/**
 * The launch factory's floor on the graduation target when `deployLaunchFactory` is given none: 10,000 FLOCK (of 18
 * decimals). The paper's G is 50,000 FLOCK.
 */
export const DEFAULT_GRADUATION_TARGET_FLOOR = 10_000n * 10n ** 18n

/**
 * The launch factory's floor on the minimum raise when `deployLaunchFactory` is given none: 1,000 FLOCK (of 18
 * decimals). Every graduation adds two of EpochFunding's at most 200 live streams for 180 days, so 100 spam graduations
 * within 180 days block the others; each costs at least the launch fee and this raise, a quarter of which vests to the
 * treasury (docs/contracts.md). A protocol expecting a valuable FLOCK can choose a lower floor, one expecting spam a
 * higher one.
 */
export const DEFAULT_MIN_RAISE_FLOOR = 1_000n * 10n ** 18n

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/** Every error the launch contracts (and the ERC-20s, vesting wallets and funding they call) can revert with, for decoding. */
const ERRORS = [...RmoSale.abi, ...MTLaunchFactory.abi, ...ModelToken.abi, ...MTGraduator.abi, ...LiquidityLock.abi, ...LockedVestingWallet.abi, ...EpochFunding.abi, ...MTStaking.abi].filter(
  (item) => item.type === 'error',
) as Abi

/** Seconds the LP tokens of a graduation pool stay locked: the paper's 48 months, read as 4 * 365 days. */
export const LP_LOCK_SECONDS = 4n * 365n * DAY_SECONDS

/** Seconds the protocol FLOCK and the issuer and treasury MT vest over from graduation: 180 days. */
export const VESTING_SECONDS = VESTING_DAYS * DAY_SECONDS

function hintFor(errorName: string, args: readonly unknown[]): string | undefined {
  switch (errorName) {
    case 'RmoSaleMtOutTooLow':
    case 'RmoSalePaidTooHigh':
      return 'Another buy moved the price first: quote again, or allow more slippage (slippageBps).'
    case 'RmoSaleExpired':
      return 'The buy was mined after its deadline: send it again with a later deadline.'
    case 'RmoSaleWrongState': {
      const [expected, actual] = args.map((a) => SALE_STATES[Number(a)])
      return `The call needs a ${expected} sale and the sale is ${actual}: buys need an active sale, graduate() a succeeded one (a sale not graduated within 30 days of its end lapses), claims a graduated one, refunds a failed or lapsed one.`
    }
    case 'RmoSaleNothingToRefund':
    case 'RmoSaleNothingToClaim':
      return 'Nothing is left for this buyer: it never bought, or was already paid.'
    case 'RmoSaleZeroAmount':
      return 'Buy a positive amount.'
    case 'ERC20InsufficientAllowance':
    case 'ERC20InsufficientBalance':
      return 'The payer lacks the FLOCK or its approval for the curve input plus fees (or the launch fee).'
    case 'MTLaunchFactoryAlreadyLaunched':
      return 'This deployment id is taken: read `launches(id)` for its sale, or launch under another id.'
    case 'RmoSaleInfeasibleCurve':
      return 'Choose G > S * P0 (S = 400,000 MT, P0 in WAD FLOCK per MT) and positive G and P0.'
    case 'RmoSaleBadMinRaise':
      return "The minimum raise must be at most G, at least 4 base units, and large enough for its graduation to seed the pool: floor(minRaise / 2) * floor(200,000 MT * minRaise / G) >= 1,001^2 (the factory's floor is far above that)."
    case 'MTLaunchFactoryGraduationTargetBelowFloor':
      return "The factory refuses a graduation target below its floor (`graduationTargetFloor()`, the second argument): raise G."
    case 'MTLaunchFactoryMinRaiseBelowFloor':
      return "The factory refuses a minimum raise below its floor (`minRaiseFloor()`, the second argument): raise the minimum raise (and G if needed)."
    case 'LockedVestingWalletFixedBeneficiary':
      return "A graduation's vesting wallet keeps its beneficiary for good: its ownership can be neither transferred nor renounced."
    case 'EpochFundingInvalidStream':
      return "EpochFunding refused the graduation's streams: its 200 live streams may be full (they end 180 days after their graduation), or the epoch is final already (try in the next one). A sale not graduated within 30 days of its end lapses and refunds its buyers."
    case 'RmoSaleBadSchedule':
      return 'The duration must be positive and at least the anti-sniping window.'
    case 'AccessControlUnauthorizedAccount':
      return "The graduator lacks EpochFunding's STREAM_ROLE: its admin grants it to the factory's graduator (`grantStreamRole(clients, funding, await graduatorOf(client, factory))`), then graduate again (within 30 days of the sale's end, else it lapses)."
    case 'MTGraduatorNotSale':
      return "Only the sale the launch factory recorded for the deployment can migrate it: call the sale's graduate()."
    case 'MTGraduatorPairUnclearable':
      return 'The MT/FLOCK pair holds more than a graduation can clear; nothing can graduate into it.'
    case 'LiquidityLockLocked':
      return 'The LP tokens are locked for 48 months (4 * 365 days) from graduation: release them from the lock\'s releaseTime on.'
    case 'MTStakingNoSupplySource':
      return 'The staked token does not report its circulating supply: the supply role records it (setCirculatingSupply).'
    case 'MTStakingSupplyFromToken':
      return 'The staked token reports its circulating supply: sync it (syncCirculatingSupply, anyone) rather than set it.'
    case 'RmoSaleBadFees':
    case 'MTLaunchFactoryBadFees':
      return 'Fees: creator + protocol <= anti-sniping start <= 10,000 bps, and a window when the start is above the base fee.'
    default:
      return undefined
  }
}

/** The custom error a failed call or transaction reverted with (`decodeRevert` over this module's errors). */
export function revertedWith(error: unknown): { errorName: string; args: readonly unknown[] } | undefined {
  return decodeRevert(error, ERRORS)
}

function refused(what: string, error: unknown): LaunchError {
  const reverted = revertedWith(error)
  if (!reverted) return new LaunchError(`${what} failed: ${error instanceof ViemBaseError ? error.shortMessage : String(error)}`, { cause: error })
  const args = reverted.args.map((a) => (typeof a === 'bigint' ? a.toString() : String(a))).join(', ')
  return new LaunchError(`${what} was refused: ${reverted.errorName}(${args})`, { hint: hintFor(reverted.errorName, reverted.args), cause: error, errorName: reverted.errorName, errorArgs: reverted.args })
}

/** How this module words refusals and reverted transactions. */
const REFUSALS = { refused, reverted: (message: string) => new LaunchError(message) }

/** Simulates the call (a refusal decoded before anything is sent), sends it and waits for its receipt. */
function send(clients: Clients, what: string, call: ContractCall): Promise<TransactionReceipt> {
  return simulateAndSend(clients, what, call, REFUSALS)
}

// ---------------------------------------------------------------------------------------------------------------
// Factory and launch
// ---------------------------------------------------------------------------------------------------------------

export type LaunchFactoryOptions = {
  flock: Address
  treasury: Address
  /** The one-time launch fee, FLOCK base units. */
  launchFee: bigint
  /** Creator and protocol fees, anti-sniping start and window (rmo.ts's `FeeSchedule`; paper: DEFAULT_FEES). */
  fees: FeeSchedule
  /** The Uniswap v2 factory whose MT/FLOCK pairs graduations seed (`deployUniswapV2(...).factory`). */
  uniswapFactory: Address
  /** The EpochFunding that streams each graduation's staking incentives and incentive reserve. */
  epochFunding: Address
  /** The least G of a launch, FLOCK base units (default `DEFAULT_GRADUATION_TARGET_FLOOR`, 10,000 FLOCK). */
  graduationTargetFloor?: bigint | undefined
  /** The least minimum raise of a launch, FLOCK base units (default `DEFAULT_MIN_RAISE_FLOOR`, 1,000 FLOCK). */
  minRaiseFloor?: bigint | undefined
}

/**
 * Deploys the launch factory with the protocol's fee schedule, launch fee and floors on G and the minimum raise (fixed
 * for every launch it makes; floors by default `DEFAULT_GRADUATION_TARGET_FLOOR` and `DEFAULT_MIN_RAISE_FLOOR`); it
 * deploys its graduator (`graduatorOf`), which the EpochFunding admin must grant STREAM_ROLE (`grantStreamRole` in
 * src/chain/funding.ts) before any sale can graduate.
 *
 * @example
 * const factory = await deployLaunchFactory(clients, { flock, treasury, launchFee, fees: DEFAULT_FEES, uniswapFactory: uni.factory, epochFunding })
 * await grantStreamRole(clients, epochFunding, await graduatorOf(clients.public, factory))
 */
export async function deployLaunchFactory(clients: Clients, options: LaunchFactoryOptions): Promise<Address> {
  const { fees } = options
  try {
    return await deploy(clients, MTLaunchFactory, [
      options.flock,
      options.treasury,
      options.launchFee,
      fees.creatorFeeBps,
      fees.protocolFeeBps,
      fees.antiSnipingStartBps,
      fees.antiSnipingWindowSeconds,
      options.uniswapFactory,
      options.epochFunding,
      options.graduationTargetFloor ?? DEFAULT_GRADUATION_TARGET_FLOOR,
      options.minRaiseFloor ?? DEFAULT_MIN_RAISE_FLOOR,
    ])
  } catch (error) {
    throw refused('deploying the launch factory', error)
  }
}

/** A launch factory's floors: the least G and the least minimum raise it launches with, FLOCK base units. */
export async function launchFloorsOf(client: PublicClient, factory: Address): Promise<{ graduationTarget: bigint; minRaise: bigint }> {
  const f = getContract({ abi: MTLaunchFactory.abi, address: factory, client: { public: client } })
  const [graduationTarget, minRaise] = await Promise.all([f.read.graduationTargetFloor(), f.read.minRaiseFloor()])
  return { graduationTarget, minRaise }
}

/** The graduator a launch factory deployed: the account that needs EpochFunding's STREAM_ROLE. */
export async function graduatorOf(client: PublicClient, factory: Address): Promise<Address> {
  return getAddress(await client.readContract({ address: factory, abi: MTLaunchFactory.abi, functionName: 'graduator' }))
}

export type LaunchParameters = {
  deploymentId: Hex
  name: string
  symbol: string
  /** G, FLOCK base units. */
  graduationTarget: bigint
  /** P0, FLOCK per MT in WAD. */
  startPrice: bigint
  /**
   * The least raise that graduates at the sale's end: at most G, at least the factory's floor (`launchFloorsOf`), and
   * large enough for its pool to be seeded (RmoSale's MIN_RAISE and MIN_POOL_PRODUCT).
   */
  minRaise: bigint
  durationSeconds: bigint
}

export type Launched = { deploymentId: Hex; issuer: Address; token: Address; sale: Address; launchFee: bigint; hash: Hex }

/**
 * Launches a deployment's RMO as the sending account (the issuer: it pays the launch fee, approved here, and receives
 * the creator fees and, vested from graduation, the issuer allocation). The sale escrows the token's whole supply.
 */
export async function launchRmo(clients: Clients, factory: Address, parameters: LaunchParameters): Promise<Launched> {
  const f = getContract({ abi: MTLaunchFactory.abi, address: factory, client: { public: clients.public } })
  const [flock, launchFee] = await Promise.all([f.read.flock(), f.read.launchFee()])
  await ensureAllowance(clients, flock, factory, launchFee, REFUSALS)
  const { durationSeconds, ...rest } = parameters
  const receipt = await send(clients, `launch of ${parameters.deploymentId}`, { address: factory, abi: MTLaunchFactory.abi, functionName: 'launch', args: [{ ...rest, duration: durationSeconds }] })
  const [event] = parseEventLogs({ abi: MTLaunchFactory.abi, eventName: 'Launched', logs: receipt.logs })
  if (!event) throw new LaunchError(`launch transaction ${receipt.transactionHash} emitted no Launched event`)
  return { ...event.args, token: getAddress(event.args.token), sale: getAddress(event.args.sale), hash: receipt.transactionHash }
}

/** The launch recorded for a deployment id, or undefined. */
export async function launchOf(client: PublicClient, factory: Address, deploymentId: Hex): Promise<{ token: Address; sale: Address; issuer: Address } | undefined> {
  const [token, sale, issuer] = await client.readContract({ address: factory, abi: MTLaunchFactory.abi, functionName: 'launches', args: [deploymentId] })
  return /^0x0{40}$/i.test(sale) ? undefined : { token, sale, issuer }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading and quoting a sale
// ---------------------------------------------------------------------------------------------------------------

export type SaleInfo = {
  address: Address
  token: Address
  flock: Address
  issuer: Address
  treasury: Address
  /** The curve as rmo.ts builds it from S, G and P0; checked equal to the contract's reserves. */
  curve: Curve
  fees: FeeSchedule
  minRaise: bigint
  launchedAt: bigint
  endsAt: bigint
  /** endsAt + 30 days: a succeeded sale not graduated by then lapses (state `lapsed`) and refunds its buyers. */
  graduationDeadline: bigint
  /** Zero before graduation. */
  graduatedAt: bigint
  raised: bigint
  sold: bigint
  state: SaleState
  /** The block all of this was read at, and its timestamp. */
  blockNumber: bigint
  timestamp: bigint
}

/** Reads a sale's parameters and state at the latest block (every value at that one block). */
export async function readSale(client: PublicClient, sale: Address): Promise<SaleInfo> {
  const block = await client.getBlock({ blockTag: 'latest' })
  const at = { blockNumber: block.number }
  const s = getContract({ abi: RmoSale.abi, address: sale, client: { public: client } })
  const [token, flock, issuer, treasury, saleSupply, graduationTarget, startPrice, xNum, yNum, den, minRaise] = await Promise.all([
    s.read.token(at),
    s.read.flock(at),
    s.read.issuer(at),
    s.read.treasury(at),
    s.read.saleSupply(at),
    s.read.graduationTarget(at),
    s.read.startPrice(at),
    s.read.xNum(at),
    s.read.yNum(at),
    s.read.den(at),
    s.read.minRaise(at),
  ])
  const [creatorFeeBps, protocolFeeBps, antiSnipingStartBps, antiSnipingWindowSeconds, launchedAt, endsAt, graduationDeadline, graduatedAt, raised, sold, state] = await Promise.all([
    s.read.creatorFeeBps(at),
    s.read.protocolFeeBps(at),
    s.read.antiSnipingStartBps(at),
    s.read.antiSnipingWindow(at),
    s.read.launchedAt(at),
    s.read.endsAt(at),
    s.read.graduationDeadline(at),
    s.read.graduatedAt(at),
    s.read.raised(at),
    s.read.sold(at),
    s.read.state(at),
  ])
  const curve = createCurve({ saleSupply, graduationTarget, startPrice })
  if (curve.xNum !== xNum || curve.yNum !== yNum || curve.den !== den)
    throw new LaunchError(`the sale ${sale} keeps reserves (${xNum}, ${yNum}, ${den}) where rmo.ts computes (${curve.xNum}, ${curve.yNum}, ${curve.den})`, {
      hint: 'The contract is not the RmoSale this build knows: check the address, or regenerate src/chain/contracts.generated.ts.',
    })
  return {
    address: getAddress(sale),
    token,
    flock,
    issuer,
    treasury,
    curve,
    fees: { creatorFeeBps, protocolFeeBps, antiSnipingStartBps, antiSnipingWindowSeconds },
    minRaise,
    launchedAt,
    endsAt,
    graduationDeadline,
    graduatedAt: BigInt(graduatedAt),
    raised: BigInt(raised),
    sold: BigInt(sold),
    state: SALE_STATES[state]!,
    blockNumber: block.number,
    timestamp: block.timestamp,
  }
}

/** An order: FLOCK of curve input (fees on top), or an exact amount of MT (the least FLOCK buying at least that). */
export type SaleOrder = { flock: bigint; mt?: undefined } | { mt: bigint; flock?: undefined }

/**
 * Quotes an order on a sale as read by `readSale`, mined at unix time `at` (default: the block it was read at; the
 * surcharge only falls with time, so a later block never costs more fees). rmo.ts's `quoteBuy`, with an `mt` order
 * turned into curve input by `curveInputForMt`, as `simulateRaise` does.
 */
export function quoteSale(sale: SaleInfo, order: SaleOrder, at: bigint = sale.timestamp): BuyQuote {
  if (sale.state !== 'active' || at >= sale.endsAt)
    throw new LaunchError(`the sale ${sale.address} is ${sale.state === 'active' ? 'over at that time' : sale.state}: it takes no buy`, { hint: 'Buys need an active sale (before its end and below G).' })
  const { curve } = sale
  const flockIn = order.mt !== undefined ? curveInputForMt(curve, { raised: sale.raised, sold: sale.sold, mt: order.mt }) : order.flock
  if (flockIn <= 0n) throw new LaunchError(`the order ${order.mt !== undefined ? `of ${order.mt} MT` : `of ${order.flock} FLOCK`} buys nothing`, { hint: 'Buy a positive amount.' })
  const elapsed = at > sale.launchedAt ? at - sale.launchedAt : 0n
  return quoteBuy(curve, sale.fees, { raised: sale.raised, flockIn, elapsed })
}

// ---------------------------------------------------------------------------------------------------------------
// Buying, graduating, claiming, refunding
// ---------------------------------------------------------------------------------------------------------------

export type BuyOptions = {
  /** Tolerance on the quote, bps (default 0: exactly the quote, or a revert). */
  slippageBps?: bigint | undefined
  /** Unix time after which the buy reverts (default: the latest block's time + 20 minutes). */
  deadline?: bigint | undefined
}

export type BuyResult = {
  hash: Hex
  /** The quote the bounds were set from (before sending). */
  quote: BuyQuote
  /** What the sale did, from its Bought event. */
  curveIn: bigint
  mtOut: bigint
  creatorFee: bigint
  protocolFee: bigint
  antiSnipingFee: bigint
  raisedAfter: bigint
  /** FLOCK taken from the buyer: curve input plus fees. */
  paid: bigint
}

function boughtOf(receipt: TransactionReceipt, quote: BuyQuote): BuyResult {
  const [event] = parseEventLogs({ abi: RmoSale.abi, eventName: 'Bought', logs: receipt.logs })
  if (!event) throw new LaunchError(`buy transaction ${receipt.transactionHash} emitted no Bought event`)
  const { curveIn, mtOut, creatorFee, protocolFee, antiSnipingFee, raisedAfter } = event.args
  return { hash: receipt.transactionHash, quote, curveIn, mtOut, creatorFee, protocolFee, antiSnipingFee, raisedAfter, paid: curveIn + creatorFee + protocolFee + antiSnipingFee }
}

/**
 * Buys with `flockIn` FLOCK of curve input (fees on top) as the sending account, with `minMtOut` = the quote less the
 * slippage tolerance. Approves the sale for the quoted total first when needed.
 */
export async function buyWithFlock(clients: Clients, sale: Address, flockIn: bigint, options: BuyOptions = {}): Promise<BuyResult> {
  const info = await readSale(clients.public, sale)
  const quote = quoteSale(info, { flock: flockIn })
  const minMtOut = quote.mtOut - mulDivDown(quote.mtOut, options.slippageBps ?? 0n, BPS)
  // Enough for any later block: the surcharge only decreases, and another buy first can only shorten the fill.
  await ensureAllowance(clients, info.flock, sale, quote.totalPaid, REFUSALS)
  const receipt = await send(clients, `buy of ${flockIn} FLOCK on ${sale}`, { address: sale, abi: RmoSale.abi, functionName: 'buy', args: [flockIn, minMtOut, options.deadline ?? info.timestamp + DEFAULT_DEADLINE_SECONDS] })
  return boughtOf(receipt, quote)
}

/**
 * Buys at least `mt` MT (the rest of S if less is left) as the sending account, paying at most the quoted total plus
 * the slippage tolerance. Approves the sale for that bound first when needed.
 */
export async function buyExactMt(clients: Clients, sale: Address, mt: bigint, options: BuyOptions = {}): Promise<BuyResult> {
  const info = await readSale(clients.public, sale)
  const quote = quoteSale(info, { mt })
  const maxFlockIn = quote.totalPaid + mulDivUp(quote.totalPaid, options.slippageBps ?? 0n, BPS)
  await ensureAllowance(clients, info.flock, sale, maxFlockIn, REFUSALS)
  const receipt = await send(clients, `buy of ${mt} MT on ${sale}`, { address: sale, abi: RmoSale.abi, functionName: 'buyExactMt', args: [mt, maxFlockIn, options.deadline ?? info.timestamp + DEFAULT_DEADLINE_SECONDS] })
  return boughtOf(receipt, quote)
}

export type GraduateResult = {
  hash: Hex
  /** The FLOCK raised and the MT sold (the sale's Graduated event). */
  raised: bigint
  sold: bigint
  /** The unsold sale MT burned: S - sold (zero at G). */
  burned: bigint
  /** The liquidity MT the graduator burned: 200,000 MT less `pairedLiquidityMt(raised, G)` (zero at G). */
  burnedLiquidity: bigint
  /** The graduator's Migrated event. */
  pair: Address
  lpLock: Address
  issuerVesting: Address
  treasuryVesting: Address
  startEpoch: bigint
  liquidity: bigint
  /** What the pair held before graduation (a donation), cleared out and sent to the treasury; zero when it held nothing. */
  cleared: { flock: bigint; mt: bigint }
}

/**
 * Graduates a succeeded sale (anyone may): the sale burns its unsold MT and its graduator splits the raise 25/25/50,
 * vests the protocol FLOCK and the issuer and treasury MT, adds the two epoch funding streams, seeds the pool with D/G
 * of the liquidity MT (burning the rest) and locks it. Returns what the events report; `readGraduation` reads the resulting state and `checkGraduation` compares it
 * with src/economics.
 *
 * @example
 * const { pair, lpLock, burned } = await graduateSale(clients, sale)
 * expect(checkGraduation(await readGraduation(clients.public, sale), treasury, issuer)).toEqual([])
 */
export async function graduateSale(clients: Clients, sale: Address): Promise<GraduateResult> {
  const receipt = await send(clients, `graduation of ${sale}`, { address: sale, abi: RmoSale.abi, functionName: 'graduate', args: [] })
  const [graduated] = parseEventLogs({ abi: RmoSale.abi, eventName: 'Graduated', logs: receipt.logs })
  const [migrated] = parseEventLogs({ abi: MTGraduator.abi, eventName: 'Migrated', logs: receipt.logs })
  if (!graduated || !migrated) throw new LaunchError(`graduation transaction ${receipt.transactionHash} emitted no Graduated and Migrated events`)
  const [cleared] = parseEventLogs({ abi: MTGraduator.abi, eventName: 'PoolCleared', logs: receipt.logs })
  const token = await clients.public.readContract({ address: sale, abi: RmoSale.abi, functionName: 'token' })
  const transfers = parseEventLogs({ abi: ModelToken.abi, eventName: 'Transfer', logs: receipt.logs })
  const burnedBy = (from: Address) =>
    transfers.filter((t) => isAddressEqual(t.address, token) && isAddressEqual(t.args.from, from) && t.args.to === zeroAddress).reduce((sum, t) => sum + t.args.value, 0n)
  const m = migrated.args
  return {
    hash: receipt.transactionHash,
    raised: graduated.args.raised,
    sold: graduated.args.sold,
    burned: burnedBy(sale),
    burnedLiquidity: burnedBy(migrated.address),
    pair: getAddress(m.pair),
    lpLock: getAddress(m.lpLock),
    issuerVesting: getAddress(m.issuerVesting),
    treasuryVesting: getAddress(m.treasuryVesting),
    startEpoch: BigInt(m.startEpoch),
    liquidity: m.liquidity,
    cleared: { flock: cleared?.args.flockAmount ?? 0n, mt: cleared?.args.mtAmount ?? 0n },
  }
}

/** Pays a buyer its escrowed MT after graduation (anyone may send it; the MT goes to the buyer). */
export async function claimSaleMt(clients: Clients, sale: Address, buyer: Address): Promise<{ hash: Hex; amount: bigint }> {
  const receipt = await send(clients, `MT claim of ${buyer} on ${sale}`, { address: sale, abi: RmoSale.abi, functionName: 'claim', args: [buyer] })
  const [event] = parseEventLogs({ abi: RmoSale.abi, eventName: 'Claimed', logs: receipt.logs })
  return { hash: receipt.transactionHash, amount: event?.args.amount ?? 0n }
}

/** Refunds a buyer's curve input after a failed raise (anyone may send it; the FLOCK goes to the buyer). */
export async function refundSale(clients: Clients, sale: Address, buyer: Address): Promise<{ hash: Hex; amount: bigint }> {
  const receipt = await send(clients, `refund of ${buyer} on ${sale}`, { address: sale, abi: RmoSale.abi, functionName: 'refund', args: [buyer] })
  const [event] = parseEventLogs({ abi: RmoSale.abi, eventName: 'Refunded', logs: receipt.logs })
  return { hash: receipt.transactionHash, amount: event?.args.amount ?? 0n }
}

/** A buyer's curve input (refundable if the raise fails) and escrowed MT (claimable after graduation). */
export async function positionOf(client: PublicClient, sale: Address, buyer: Address): Promise<{ curveIn: bigint; mt: bigint }> {
  const [curveIn, mt] = await client.readContract({ address: sale, abi: RmoSale.abi, functionName: 'positionOf', args: [buyer] })
  return { curveIn, mt }
}

// ---------------------------------------------------------------------------------------------------------------
// Graduation: what it put where, what it should have, vesting and the LP lock
// ---------------------------------------------------------------------------------------------------------------

/**
 * A vesting wallet (LockedVestingWallet: OpenZeppelin's VestingWallet whose beneficiary cannot change): linear from
 * `start` over `duration` seconds, paid to `beneficiary`.
 */
export type VestingInfo = {
  address: Address
  beneficiary: Address
  start: bigint
  duration: bigint
  /** Per token, the wallet's total allocation (held + released) and what it released so far. */
  flock: { total: bigint; released: bigint }
  mt: { total: bigint; released: bigint }
}

/** An EpochFunding stream of the deployment. */
export type StreamInfo = { index: number; kind: StreamKind; token: Address; total: bigint; released: bigint; startEpoch: bigint }

export type GraduationInfo = {
  sale: Address
  deploymentId: Hex
  token: Address
  flock: Address
  graduatedAt: bigint
  /** G. */
  graduationTarget: bigint
  raised: bigint
  sold: bigint
  /** The token's total supply now (1,000,000 MT less the unsold and liquidity MT burned at graduation and any later burn). */
  totalSupply: bigint
  pair: Address
  /** The pair's reserves now, and the LP supply. */
  pool: { flock: bigint; mt: bigint; lpSupply: bigint }
  lpLock: { address: Address; beneficiary: Address; releaseTime: bigint; held: bigint }
  /** LP tokens minted to the lock at graduation. */
  liquidity: bigint
  issuerVesting: VestingInfo
  treasuryVesting: VestingInfo
  epochFunding: Address
  epochSeconds: bigint
  startEpoch: bigint
  /** The deployment's streams in EpochFunding, in the order added. */
  streams: StreamInfo[]
  /** The block all of this was read at. */
  blockNumber: bigint
}

/** Reads where a graduated sale's graduation put everything, all at the latest block. */
export async function readGraduation(client: PublicClient, sale: Address): Promise<GraduationInfo> {
  const blockNumber = await client.getBlockNumber({ cacheTime: 0 })
  const at = { blockNumber }
  const s = getContract({ abi: RmoSale.abi, address: sale, client: { public: client } })
  const [graduatedAt, graduation, token, flock, deploymentId, graduator, raised, sold, graduationTarget] = await Promise.all([
    s.read.graduatedAt(at),
    s.read.graduation(at),
    s.read.token(at),
    s.read.flock(at),
    s.read.deploymentId(at),
    s.read.graduator(at),
    s.read.raised(at),
    s.read.sold(at),
    s.read.graduationTarget(at),
  ])
  if (graduatedAt === 0n)
    throw new LaunchError(`the sale ${sale} has not graduated`, { hint: 'Graduate it first (graduateSale), once it Succeeded: at G, or at its end at or above the minimum raise.' })
  const [pair, lpLock, issuerVesting, treasuryVesting, startEpoch, liquidity] = graduation
  const epochFunding = getAddress(await client.readContract({ address: graduator, abi: MTGraduator.abi, functionName: 'epochFunding', ...at }))
  const balance = (tokenAddress: Address, owner: Address) => client.readContract({ address: tokenAddress, abi: erc20Abi, functionName: 'balanceOf', args: [owner], ...at })
  const lock = getContract({ abi: LiquidityLock.abi, address: lpLock, client: { public: client } })
  const [epochSeconds, allStreams, totalSupply, lpSupply, token0, [reserve0, reserve1], beneficiary, releaseTime, held, issuerInfo, treasuryInfo] = await Promise.all([
    client.readContract({ address: epochFunding, abi: EpochFunding.abi, functionName: 'epochSeconds', ...at }),
    client.readContract({ address: epochFunding, abi: EpochFunding.abi, functionName: 'streams', ...at }),
    client.readContract({ address: token, abi: erc20Abi, functionName: 'totalSupply', ...at }),
    client.readContract({ address: pair, abi: erc20Abi, functionName: 'totalSupply', ...at }),
    client.readContract({ address: pair, abi: uniswapV2PairAbi, functionName: 'token0', ...at }),
    client.readContract({ address: pair, abi: uniswapV2PairAbi, functionName: 'getReserves', ...at }),
    lock.read.beneficiary(at),
    lock.read.releaseTime(at),
    balance(pair, lpLock),
    readVesting(client, issuerVesting, flock, token, blockNumber),
    readVesting(client, treasuryVesting, flock, token, blockNumber),
  ])
  const kinds = Object.keys(STREAM_KIND) as StreamKind[]
  const streams = allStreams.flatMap((st, index) =>
    st.deploymentId === deploymentId ? [{ index, kind: kinds.find((k) => STREAM_KIND[k] === st.kind)!, token: getAddress(st.token), total: st.total, released: st.released, startEpoch: BigInt(st.startEpoch) }] : [],
  )
  return {
    sale: getAddress(sale),
    deploymentId,
    token: getAddress(token),
    flock: getAddress(flock),
    graduatedAt: BigInt(graduatedAt),
    graduationTarget,
    raised: BigInt(raised),
    sold: BigInt(sold),
    totalSupply,
    pair: getAddress(pair),
    pool: isAddressEqual(token0, flock) ? { flock: reserve0, mt: reserve1, lpSupply } : { flock: reserve1, mt: reserve0, lpSupply },
    lpLock: { address: getAddress(lpLock), beneficiary: getAddress(beneficiary), releaseTime, held },
    liquidity,
    issuerVesting: issuerInfo,
    treasuryVesting: treasuryInfo,
    epochFunding,
    epochSeconds,
    startEpoch: BigInt(startEpoch),
    streams,
    blockNumber,
  }
}

async function readVesting(client: PublicClient, wallet: Address, flock: Address, mt: Address, blockNumber: bigint): Promise<VestingInfo> {
  const at = { blockNumber }
  const w = getContract({ abi: VestingWallet.abi, address: wallet, client: { public: client } })
  const held = (token: Address) => client.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [wallet], ...at })
  const [beneficiary, start, duration, flockHeld, flockReleased, mtHeld, mtReleased] = await Promise.all([
    w.read.owner(at),
    w.read.start(at),
    w.read.duration(at),
    held(flock),
    w.read.released([flock], at),
    held(mt),
    w.read.released([mt], at),
  ])
  return { address: getAddress(wallet), beneficiary: getAddress(beneficiary), start, duration, flock: { total: flockHeld + flockReleased, released: flockReleased }, mt: { total: mtHeld + mtReleased, released: mtReleased } }
}

export type ExpectedGraduation = {
  /** splitProceeds(raised): 25 % protocol (dust included), 25 % staking incentives, 50 % liquidity. */
  proceeds: ProceedsSplit
  /** allocateSupply(): 40/20/20/10/10 of 1,000,000 MT. */
  allocation: SupplyAllocation
  /** S - sold: the unsold sale MT the sale burns. */
  burned: bigint
  /** The liquidity MT the graduator burns: 200,000 MT less `pool.mt` (zero at G). */
  burnedLiquidity: bigint
  /** The pool's reserves right after graduation: the liquidity FLOCK and `pairedLiquidityMt(raised, G)` MT. */
  pool: { flock: bigint; mt: bigint }
  /** dexPrice of those reserves, FLOCK per MT in WAD: 0.5 * G / 200,000 to rounding (0.125e18 with the paper's G). */
  dexPrice: bigint
  /** floor(graduatedAt / epochSeconds): the first epoch both streams release in. */
  startEpoch: bigint
  /** When the LP lock opens: graduatedAt + 4 * 365 days. */
  lpReleaseTime: bigint
  /** The vesting wallets: from graduatedAt over 180 days; the issuer's MT, the treasury's MT and the protocol FLOCK. */
  vesting: { start: bigint; duration: bigint; issuerMt: bigint; treasuryMt: bigint; protocolFlock: bigint }
  /** The streams: the staking incentives (FLOCK) and the incentive reserve (MT), in the order added. */
  streams: Array<{ kind: StreamKind; total: bigint; startEpoch: bigint }>
}

/**
 * What a graduation of a raise `raised` of a sale of target `graduationTarget` (G; default `raised`, a graduation at
 * G) that sold `sold` MT at `graduatedAt` must produce, from src/economics: `splitProceeds`, `allocateSupply`,
 * `pairedLiquidityMt`, `dexPrice`, and the 180-day vesting and 48-month lock from graduation.
 */
export function expectedGraduation({
  raised,
  sold,
  graduatedAt,
  epochSeconds,
  graduationTarget = raised,
}: {
  raised: bigint
  sold: bigint
  graduatedAt: bigint
  epochSeconds: bigint
  graduationTarget?: bigint | undefined
}): ExpectedGraduation {
  const proceeds = splitProceeds(raised)
  const allocation = allocateSupply()
  const startEpoch = graduatedAt / epochSeconds
  const pooledMt = pairedLiquidityMt(raised, graduationTarget, allocation.liquidity)
  return {
    proceeds,
    allocation,
    burned: allocation.publicSale - sold,
    burnedLiquidity: allocation.liquidity - pooledMt,
    pool: { flock: proceeds.liquidity, mt: pooledMt },
    dexPrice: dexPrice(proceeds.liquidity, pooledMt),
    startEpoch,
    lpReleaseTime: graduatedAt + LP_LOCK_SECONDS,
    vesting: { start: graduatedAt, duration: VESTING_SECONDS, issuerMt: allocation.issuer, treasuryMt: allocation.treasury, protocolFlock: proceeds.protocol },
    streams: [
      { kind: 'stakingFund', total: proceeds.stakingIncentives, startEpoch },
      { kind: 'incentiveReserve', total: allocation.incentiveReserve, startEpoch },
    ],
  }
}

/**
 * Compares a graduation as read (`readGraduation`, before any trade on the pool) with what src/economics says it
 * must be (`expectedGraduation`), and lists every difference, naming it; an empty list when it is exact. The LP lock
 * must hold every LP token but the 1,000 the pair burns on its first mint, and pay the treasury.
 *
 * @example
 * const differences = checkGraduation(await readGraduation(client, sale), treasury, issuer)
 * if (differences.length > 0) throw new Error(differences.join('; '))
 */
export function checkGraduation(info: GraduationInfo, treasury: Address, issuer: Address): string[] {
  const e = expectedGraduation(info)
  const differences: string[] = []
  const same = (what: string, actual: unknown, expected: unknown) => {
    if (actual !== expected) differences.push(`${what}: ${String(actual)} on chain, ${String(expected)} expected`)
  }
  same('pool FLOCK reserve', info.pool.flock, e.pool.flock)
  same('pool MT reserve', info.pool.mt, e.pool.mt)
  same('DEX price (WAD)', dexPrice(info.pool.flock, info.pool.mt), e.dexPrice)
  same('LP tokens locked', info.lpLock.held, info.pool.lpSupply - UNISWAP_V2_MINIMUM_LIQUIDITY)
  same('LP lock beneficiary', info.lpLock.beneficiary, getAddress(treasury))
  same('LP lock release time', info.lpLock.releaseTime, e.lpReleaseTime)
  same('total supply', info.totalSupply, MT_TOTAL_SUPPLY - e.burned - e.burnedLiquidity)
  for (const [name, wallet, beneficiary, mt, flock] of [
    ['issuer', info.issuerVesting, issuer, e.vesting.issuerMt, 0n],
    ['treasury', info.treasuryVesting, treasury, e.vesting.treasuryMt, e.vesting.protocolFlock],
  ] as const) {
    same(`${name} vesting beneficiary`, wallet.beneficiary, getAddress(beneficiary))
    same(`${name} vesting start`, wallet.start, e.vesting.start)
    same(`${name} vesting duration`, wallet.duration, e.vesting.duration)
    same(`${name} vesting MT`, wallet.mt.total, mt)
    same(`${name} vesting FLOCK`, wallet.flock.total, flock)
  }
  same('start epoch', info.startEpoch, e.startEpoch)
  same('streams', info.streams.length, e.streams.length)
  e.streams.forEach((x, i) => {
    const st = info.streams[i]
    same(`stream ${i} kind`, st?.kind, x.kind)
    same(`stream ${i} token`, st?.token, x.kind === 'stakingFund' ? info.flock : info.token)
    same(`stream ${i} total`, st?.total, x.total)
    same(`stream ${i} start epoch`, st?.startEpoch, x.startEpoch)
  })
  return differences
}

/** What a vesting wallet has vested of `token` at unix time `at` (its `vestedAmount`, on its current allocation). */
export async function vestedOf(client: PublicClient, wallet: Address, token: Address, at: bigint): Promise<bigint> {
  return client.readContract({ address: wallet, abi: VestingWallet.abi, functionName: 'vestedAmount', args: [token, at] })
}

/** Releases what a vesting wallet has vested of `token` and not yet paid, to its beneficiary (anyone may send it). */
export async function releaseVested(clients: Clients, wallet: Address, token: Address): Promise<{ hash: Hex; amount: bigint }> {
  const receipt = await send(clients, `release of ${token} from the vesting wallet ${wallet}`, { address: wallet, abi: VestingWallet.abi, functionName: 'release', args: [token] })
  const [event] = parseEventLogs({ abi: VestingWallet.abi, eventName: 'ERC20Released', logs: receipt.logs })
  return { hash: receipt.transactionHash, amount: event?.args.amount ?? 0n }
}

/** Pays the LP tokens of a graduation's lock to its beneficiary (the treasury), from its release time on (anyone may). */
export async function releaseLiquidity(clients: Clients, lock: Address): Promise<{ hash: Hex; amount: bigint }> {
  const receipt = await send(clients, `release of the LP lock ${lock}`, { address: lock, abi: LiquidityLock.abi, functionName: 'release', args: [] })
  const [event] = parseEventLogs({ abi: LiquidityLock.abi, eventName: 'Released', logs: receipt.logs })
  return { hash: receipt.transactionHash, amount: event?.args.amount ?? 0n }
}

// ---------------------------------------------------------------------------------------------------------------
// Circulating supply (paper 3.6)
// ---------------------------------------------------------------------------------------------------------------

/**
 * A Model Token's circulating supply as the chain derives it now: total supply less what its sale reports locked (the
 * unsold sale MT before graduation, the unvested issuer and treasury MT, the incentive reserve EpochFunding holds).
 */
export async function readCirculatingSupply(client: PublicClient, token: Address, blockNumber?: bigint): Promise<bigint> {
  return client.readContract({ address: token, abi: ModelToken.abi, functionName: 'circulatingSupply', ...(blockNumber === undefined ? {} : { blockNumber }) })
}

/**
 * Checkpoints the token's circulating supply in its staking contract at the block the transaction is mined in
 * (MTStaking.syncCirculatingSupply; anyone may): send it before an epoch's snapshot block so the snapshot reads it.
 *
 * @example
 * const { blockNumber, circulating } = await syncCirculatingSupply(clients, staking)
 * // circulatingSupplyAt(blockNumber) reads `circulating` once a later block is mined.
 */
export async function syncCirculatingSupply(clients: Clients, staking: Address): Promise<{ hash: Hex; circulating: bigint; blockNumber: bigint }> {
  const receipt = await send(clients, `circulating supply sync of ${staking}`, { address: staking, abi: MTStaking.abi, functionName: 'syncCirculatingSupply', args: [] })
  const [event] = parseEventLogs({ abi: MTStaking.abi, eventName: 'CirculatingSupplySet', logs: receipt.logs })
  if (!event) throw new LaunchError(`sync transaction ${receipt.transactionHash} emitted no CirculatingSupplySet event`)
  return { hash: receipt.transactionHash, circulating: event.args.circulating, blockNumber: receipt.blockNumber }
}
