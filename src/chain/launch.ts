/**
 * The MT launch by RMO on chain (contracts/src/MTLaunchFactory.sol, RmoSale.sol, ModelToken.sol): deploy the launch
 * factory, launch a deployment's Model Token and sale, read a sale, quote and send buys (by FLOCK or by exact MT),
 * graduate, claim escrowed MT, refund a failed raise. Quotes are src/economics/rmo.ts's on the sale's state read from
 * the chain; the contracts compute the same numbers (tested with fixtures/rmo/vectors.json). A refused call throws a
 * `LaunchError` naming the contract's custom error and what to do.
 */
import {
  BaseError as ViemBaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  erc20Abi,
  getAddress,
  getContract,
  parseEventLogs,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem'
import { BPS, mulDivDown, mulDivUp } from '../economics/math.ts'
import { createCurve, curveInputForMt, quoteBuy, type BuyQuote, type Curve, type FeeSchedule } from '../economics/rmo.ts'
import { MTLaunchFactory, ModelToken, RmoSale } from './contracts.generated.ts'
import { ChainError, deploy, type Clients } from './contracts.ts'

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

/** The sale's states, in the order of the contract's `State` enum. */
export const SALE_STATES = ['active', 'succeeded', 'graduated', 'failed'] as const
export type SaleState = (typeof SALE_STATES)[number]

/** Seconds a buy may wait to be mined when no deadline is given. */
export const DEFAULT_DEADLINE_SECONDS = 1200n

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/** Every error the launch contracts (and the ERC-20s they move) can revert with, for decoding. */
const ERRORS = [...RmoSale.abi, ...MTLaunchFactory.abi, ...ModelToken.abi].filter((item) => item.type === 'error') as Abi

function hintFor(errorName: string, args: readonly unknown[]): string | undefined {
  switch (errorName) {
    case 'RmoSaleMtOutTooLow':
    case 'RmoSalePaidTooHigh':
      return 'Another buy moved the price first: quote again, or allow more slippage (slippageBps).'
    case 'RmoSaleExpired':
      return 'The buy was mined after its deadline: send it again with a later deadline.'
    case 'RmoSaleWrongState': {
      const [expected, actual] = args.map((a) => SALE_STATES[Number(a)])
      return `The call needs a ${expected} sale and the sale is ${actual}: buys need an active sale, graduate() a succeeded one, claims a graduated one, refunds a failed one.`
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
      return 'The minimum raise must be positive and at most G.'
    case 'RmoSaleBadSchedule':
      return 'The duration must be positive and at least the anti-sniping window.'
    case 'RmoSaleBadFees':
    case 'MTLaunchFactoryBadFees':
      return 'Fees: creator + protocol <= anti-sniping start <= 10,000 bps, and a window when the start is above the base fee.'
    default:
      return undefined
  }
}

/** The custom error a failed call or transaction reverted with: the one viem decoded, or revert data in the causes. */
export function revertedWith(error: unknown): { errorName: string; args: readonly unknown[] } | undefined {
  if (error instanceof ViemBaseError) {
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
    if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] }
  }
  // Hardhat's in-process provider throws its own error carrying the revert data, which viem may wrap undecoded.
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 16; e = (e as { cause?: unknown }).cause, depth++) {
    const data = (e as { data?: unknown }).data
    const hex = typeof data === 'string' ? data : typeof (data as { data?: unknown } | undefined)?.data === 'string' ? (data as { data: string }).data : undefined
    if (hex?.startsWith('0x') && hex.length >= 10)
      try {
        const decoded = decodeErrorResult({ abi: ERRORS, data: hex as Hex })
        return { errorName: decoded.errorName, args: (decoded.args ?? []) as readonly unknown[] }
      } catch {
        // Not one of ours: keep looking down the chain.
      }
  }
  return undefined
}

function refused(what: string, error: unknown): LaunchError {
  const reverted = revertedWith(error)
  if (!reverted) return new LaunchError(`${what} failed: ${error instanceof ViemBaseError ? error.shortMessage : String(error)}`, { cause: error })
  const args = reverted.args.map((a) => (typeof a === 'bigint' ? a.toString() : String(a))).join(', ')
  return new LaunchError(`${what} was refused: ${reverted.errorName}(${args})`, { hint: hintFor(reverted.errorName, reverted.args), cause: error, errorName: reverted.errorName, errorArgs: reverted.args })
}

/** Simulates the call (so a refusal is decoded before anything is sent), sends it and waits for its receipt. */
async function send(clients: Clients, what: string, call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] }): Promise<TransactionReceipt> {
  let hash: Hex
  try {
    const { request } = await clients.public.simulateContract({ ...call, account: clients.wallet.account } as never)
    hash = await clients.wallet.writeContract(request as never)
  } catch (error) {
    throw refused(what, error)
  }
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new LaunchError(`${what} transaction ${hash} reverted`)
  return receipt
}

/** Approves `spender` for `amount` of `token` unless the sender's allowance already covers it. */
async function ensureAllowance(clients: Clients, token: Address, spender: Address, amount: bigint): Promise<void> {
  if (amount === 0n) return
  const owner = clients.wallet.account.address
  const allowance = await clients.public.readContract({ address: token, abi: erc20Abi, functionName: 'allowance', args: [owner, spender] })
  if (allowance >= amount) return
  await send(clients, `approve ${spender} for ${amount} of ${token}`, { address: token, abi: erc20Abi, functionName: 'approve', args: [spender, amount] })
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
}

/** Deploys the launch factory with the protocol's fee schedule and launch fee (fixed for every launch it makes). */
export async function deployLaunchFactory(clients: Clients, options: LaunchFactoryOptions): Promise<Address> {
  const { fees } = options
  try {
    return await deploy(clients, MTLaunchFactory, [options.flock, options.treasury, options.launchFee, fees.creatorFeeBps, fees.protocolFeeBps, fees.antiSnipingStartBps, fees.antiSnipingWindowSeconds])
  } catch (error) {
    throw refused('deploying the launch factory', error)
  }
}

export type LaunchParameters = {
  deploymentId: Hex
  name: string
  symbol: string
  /** Receives the incentive reserve allocation (200,000 MT). */
  incentiveReserve: Address
  /** G, FLOCK base units. */
  graduationTarget: bigint
  /** P0, FLOCK per MT in WAD. */
  startPrice: bigint
  minRaise: bigint
  durationSeconds: bigint
}

export type Launched = { deploymentId: Hex; issuer: Address; token: Address; sale: Address; launchFee: bigint; hash: Hex }

/**
 * Launches a deployment's RMO as the sending account (the issuer: it pays the launch fee, approved here, and receives
 * the creator fees and the issuer allocation).
 */
export async function launchRmo(clients: Clients, factory: Address, parameters: LaunchParameters): Promise<Launched> {
  const f = getContract({ abi: MTLaunchFactory.abi, address: factory, client: { public: clients.public } })
  const [flock, launchFee] = await Promise.all([f.read.flock(), f.read.launchFee()])
  await ensureAllowance(clients, flock, factory, launchFee)
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
  const [creatorFeeBps, protocolFeeBps, antiSnipingStartBps, antiSnipingWindowSeconds, launchedAt, endsAt, graduatedAt, raised, sold, state] = await Promise.all([
    s.read.creatorFeeBps(at),
    s.read.protocolFeeBps(at),
    s.read.antiSnipingStartBps(at),
    s.read.antiSnipingWindow(at),
    s.read.launchedAt(at),
    s.read.endsAt(at),
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
  await ensureAllowance(clients, info.flock, sale, quote.totalPaid)
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
  await ensureAllowance(clients, info.flock, sale, maxFlockIn)
  const receipt = await send(clients, `buy of ${mt} MT on ${sale}`, { address: sale, abi: RmoSale.abi, functionName: 'buyExactMt', args: [mt, maxFlockIn, options.deadline ?? info.timestamp + DEFAULT_DEADLINE_SECONDS] })
  return boughtOf(receipt, quote)
}

/** Graduates a succeeded sale (anyone may). */
export async function graduateSale(clients: Clients, sale: Address): Promise<Hex> {
  return (await send(clients, `graduation of ${sale}`, { address: sale, abi: RmoSale.abi, functionName: 'graduate', args: [] })).transactionHash
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
