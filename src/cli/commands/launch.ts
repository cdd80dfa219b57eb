/**
 * The MT launch commands: deploy a launch factory (`launch-factory`), launch a deployment's Model Token by RMO
 * (`launch`), buy on its sale (`buy`), graduate it and pay buyers their MT (`graduate`), and refund a failed or lapsed
 * raise (`refund`). Amounts are read as decimal strings of whole tokens (parsed exactly, 18 decimals) and printed in base
 * units; every refusal is one line naming what to do next.
 */
import { BaseError as ViemBaseError, decodeFunctionData, erc20Abi, getAddress, isAddress, type Address, type Hex } from 'viem'
import { BaseError } from '../../base/errors.ts'
import { DECIMALS, formatUnits } from '../../base/units.ts'
import { MTGraduator, MTLaunchFactory, RmoSale } from '../../chain/contracts.generated.ts'
import { ChainError, type Clients } from '../../chain/contracts.ts'
import { epochFundingAt, grantStreamRole } from '../../chain/funding.ts'
import {
  buyExactMt,
  buyWithFlock,
  claimSaleMt,
  DEFAULT_GRADUATION_TARGET_FLOOR,
  DEFAULT_MIN_RAISE_FLOOR,
  deployLaunchFactory,
  graduateSale,
  graduatorOf,
  LaunchError,
  launchFloorsOf,
  launchOf,
  launchRmo,
  positionOf,
  quoteSale,
  readGraduation,
  readSale,
  refundSale,
  revertedWith,
  type BuyResult,
  type SaleInfo,
} from '../../chain/launch.ts'
import { BPS, mulDivDown, mulDivUp, WAD } from '../../economics/math.ts'
import { createCurve, DEFAULT_FEES, dexPrice, type FeeSchedule } from '../../economics/rmo.ts'
import { allocateSupply } from '../../economics/supply.ts'
import { parseTokens, requireTokens as requireDecimalTokens, requireString, UsageError, type Command } from '../command.ts'
import { address, chainOptions, clients, json } from './chain.ts'

/** S: the MT every sale sells, fixed by the token (40 % of 1,000,000 MT). */
const SALE_SUPPLY = allocateSupply().publicSale

const flockText = (v: bigint) => `${formatUnits(v, DECIMALS.FLOCK)} FLOCK`
const mtText = (v: bigint) => `${formatUnits(v, DECIMALS.MT)} MT`
const isoTime = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString()

// ---------------------------------------------------------------------------------------------------------------
// Argument parsing
// ---------------------------------------------------------------------------------------------------------------

/** An amount of FLOCK or MT (both 18 decimals) in whole tokens, exactly in base units; absent when not given. */
function tokens(values: Record<string, unknown>, name: string, unit: string, command: string, options: { positive?: boolean } = {}): bigint | undefined {
  return parseTokens(values, name, DECIMALS.FLOCK, command, { ...options, unit })
}

function requireTokens(values: Record<string, unknown>, name: string, unit: string, command: string, options: { positive?: boolean } = {}): bigint {
  return requireDecimalTokens(values, name, DECIMALS.FLOCK, command, { ...options, unit })
}

/** A whole number (bps, seconds); `fallback` when the option is not given. */
function whole(values: Record<string, unknown>, name: string, what: string, command: string, fallback?: bigint, options: { positive?: boolean; max?: bigint } = {}): bigint {
  const v = values[name]
  if (v === undefined) {
    if (fallback === undefined) throw new UsageError(`missing --${name}`, command)
    return fallback
  }
  if (typeof v !== 'string' || !/^[0-9]+$/.test(v)) throw new UsageError(`--${name} must be ${what} (got ${JSON.stringify(v)})`, command)
  const n = BigInt(v)
  if (options.positive && n === 0n) throw new UsageError(`--${name} must be positive`, command)
  if (options.max !== undefined && n > options.max) throw new UsageError(`--${name} must be at most ${options.max}`, command)
  return n
}

/** Addresses from a repeatable option, each value possibly a comma list. */
function addresses(values: Record<string, unknown>, name: string, command: string): Address[] {
  const v = values[name]
  const list = (v === undefined ? [] : Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter((x) => x !== '')
  const seen = new Set<string>()
  return list.flatMap((x) => {
    if (!isAddress(x)) throw new UsageError(`--${name} ${x}: expected an address (0x and 40 hex digits)`, command)
    const a = getAddress(x)
    if (seen.has(a)) return []
    seen.add(a)
    return [a]
  })
}

/** Runs a read of the chain, naming what was read when the node or the contract does not answer as expected. */
async function reading<T>(what: string, hint: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    if (error instanceof BaseError) throw error
    throw new ChainError(`cannot read ${what}: ${error instanceof ViemBaseError ? error.shortMessage : String(error)}`, hint, error)
  }
}

const readSaleAt = (c: Clients, sale: Address) => reading(`the sale ${sale}`, 'Check --sale: the RmoSale address `fomo launch` printed.', () => readSale(c.public, sale))

const flockBalance = (c: Clients, flock: Address, owner: Address) =>
  reading(`the FLOCK balance of ${owner}`, 'Check the FLOCK token the contract names.', () => c.public.readContract({ address: flock, abi: erc20Abi, functionName: 'balanceOf', args: [owner] }))

/** Why a sale in `state` takes no buy, and what to do instead. */
function notActive(info: SaleInfo): ChainError {
  const g = info.curve.graduationTarget
  switch (info.state) {
    case 'active':
      return new ChainError(`the sale ${info.address} is not active: it ended at ${isoTime(info.endsAt)}`, 'Its state changes with the next block: graduate it (fomo graduate) or refund it (fomo refund).')
    case 'succeeded':
      return new ChainError(`the sale ${info.address} is not active: it succeeded (${flockText(info.raised)} raised of ${flockText(g)}) and takes no more buys`, `Graduate it: fomo graduate --sale ${info.address}.`)
    case 'graduated':
      return new ChainError(`the sale ${info.address} is not active: it graduated`, 'Its MT trades in the Uniswap v2 pool now; buyers claim theirs with fomo graduate --claim.')
    case 'failed':
      return new ChainError(`the sale ${info.address} is not active: the raise failed (${flockText(info.raised)} raised, below the minimum ${flockText(info.minRaise)})`, refundHint(info.address))
    case 'lapsed':
      return new ChainError(`the sale ${info.address} is not active: it lapsed (it succeeded but was not graduated by ${isoTime(info.graduationDeadline)})`, refundHint(info.address))
  }
}

const refundHint = (sale: Address) => `Buyers take back their curve input: fomo refund --sale ${sale} --buyer <address>.`

const isActive = (info: SaleInfo) => info.state === 'active' && info.timestamp < info.endsAt

// ---------------------------------------------------------------------------------------------------------------
// fomo launch-factory
// ---------------------------------------------------------------------------------------------------------------

export const launchFactoryCommand: Command = {
  name: 'launch-factory',
  summary:
    "Deploys an MT launch factory (MTLaunchFactory) with the protocol's fee schedule and launch fee, fixed for every launch it makes, and prints it with its graduator. " +
    "The graduator needs EpochFunding's STREAM_ROLE before any sale can graduate: with --grant-stream-role the key (EpochFunding's admin) grants it; " +
    'with --factory nothing is deployed and the role is granted to that factory\'s graduator. ' +
    'Fees default to the paper\'s: creator 30 bps, protocol 95 bps, no anti-sniping surcharge. Amounts in whole tokens; printed in base units.',
  options: {
    ...chainOptions,
    flock: { type: 'string', valueName: 'address', description: 'The FLOCK token sales raise in' },
    'uniswap-factory': { type: 'string', valueName: 'address', description: 'The Uniswap v2 factory graduations seed their MT/FLOCK pool in' },
    'epoch-funding': { type: 'string', valueName: 'address', description: 'The EpochFunding that streams each graduation\'s staking incentives and incentive reserve' },
    treasury: { type: 'string', valueName: 'address', description: 'The protocol treasury: protocol fees, launch fees, LP tokens, vested protocol FLOCK (default: the deployer)' },
    'launch-fee': { type: 'string', valueName: 'flock', description: 'The one-time launch fee an issuer pays to the treasury, FLOCK (0 for none)' },
    'creator-fee-bps': { type: 'string', valueName: 'bps', description: 'Fee to the issuer on each buy\'s curve input (default 30)' },
    'protocol-fee-bps': { type: 'string', valueName: 'bps', description: 'Fee to the treasury on each buy\'s curve input (default 95)' },
    'anti-sniping-start-bps': { type: 'string', valueName: 'bps', description: 'Total fee at launch, decaying linearly to creator + protocol over the window (default: creator + protocol, no surcharge)' },
    'anti-sniping-window': { type: 'string', valueName: 'seconds', description: 'How long the surcharge decays after a launch (default 0; needed when the start is above the base fee)' },
    'graduation-target-floor': { type: 'string', valueName: 'flock', description: `The least G a launch may choose, FLOCK (default ${formatUnits(DEFAULT_GRADUATION_TARGET_FLOOR, DECIMALS.FLOCK)})` },
    'min-raise-floor': { type: 'string', valueName: 'flock', description: `The least minimum raise a launch may choose, FLOCK (default ${formatUnits(DEFAULT_MIN_RAISE_FLOOR, DECIMALS.FLOCK)}): every graduation takes two of EpochFunding's 200 live streams for 180 days, so the floor prices out spam launches` },
    'grant-stream-role': { type: 'boolean', description: 'Grant the graduator EpochFunding\'s STREAM_ROLE (the key must be EpochFunding\'s admin)' },
    factory: { type: 'string', valueName: 'address', description: 'Deploy nothing: grant STREAM_ROLE to this existing factory\'s graduator (with --grant-stream-role)' },
  },
  examples: [
    'FOMO_PRIVATE_KEY=0x... fomo launch-factory --rpc http://127.0.0.1:8545 --flock 0x... --uniswap-factory 0x... --epoch-funding 0x... --launch-fee 500 --grant-stream-role',
    'fomo launch-factory --rpc ... --flock 0x... --uniswap-factory 0x... --epoch-funding 0x... --treasury 0x... --launch-fee 0 --anti-sniping-start-bps 1125 --anti-sniping-window 600',
    'fomo launch-factory --rpc ... --key-file funding-admin.json --factory 0x... --grant-stream-role',
  ],
  async run({ values }, io) {
    const command = 'launch-factory'
    if (values.factory !== undefined) {
      if (!values['grant-stream-role']) throw new UsageError('--factory deploys nothing: give it with --grant-stream-role (to grant its graduator STREAM_ROLE)', command)
      const deployOnly = ['flock', 'uniswap-factory', 'epoch-funding', 'treasury', 'launch-fee', 'creator-fee-bps', 'protocol-fee-bps', 'anti-sniping-start-bps', 'anti-sniping-window', 'graduation-target-floor', 'min-raise-floor'].filter((o) => values[o] !== undefined)
      if (deployOnly.length > 0) throw new UsageError(`--factory deploys nothing: drop ${deployOnly.map((o) => `--${o}`).join(', ')}`, command)
      const factory = address(values, 'factory', command)
      const c = await clients(values, io, command)
      const graduator = await reading(`the launch factory ${factory}`, 'Check --factory: the address `fomo launch-factory` printed.', () => graduatorOf(c.public, factory))
      const epochFunding = await reading(`the graduator ${graduator}`, 'Check --factory.', async () => getAddress(await c.public.readContract({ address: graduator, abi: MTGraduator.abi, functionName: 'epochFunding' })))
      const granted = await grantStreamRole(c, epochFunding, graduator)
      io.stdout(json({ factory, graduator, epochFunding, streamRole: { granted: true, transaction: granted ?? null } }))
      return
    }
    const fees: FeeSchedule = {
      creatorFeeBps: whole(values, 'creator-fee-bps', 'a whole number of bps', command, DEFAULT_FEES.creatorFeeBps, { max: BPS }),
      protocolFeeBps: whole(values, 'protocol-fee-bps', 'a whole number of bps', command, DEFAULT_FEES.protocolFeeBps, { max: BPS }),
      antiSnipingStartBps: 0n,
      antiSnipingWindowSeconds: whole(values, 'anti-sniping-window', 'a whole number of seconds', command, DEFAULT_FEES.antiSnipingWindowSeconds),
    }
    const base = fees.creatorFeeBps + fees.protocolFeeBps
    fees.antiSnipingStartBps = whole(values, 'anti-sniping-start-bps', 'a whole number of bps', command, base, { max: BPS })
    if (base > fees.antiSnipingStartBps) throw new UsageError(`--anti-sniping-start-bps (${fees.antiSnipingStartBps}) must be at least creator + protocol (${base} bps)`, command)
    if (fees.antiSnipingStartBps > base && fees.antiSnipingWindowSeconds === 0n) throw new UsageError('an anti-sniping start above creator + protocol needs --anti-sniping-window (seconds)', command)
    const launchFee = requireTokens(values, 'launch-fee', 'FLOCK', command, { positive: false })
    const graduationTargetFloor = tokens(values, 'graduation-target-floor', 'FLOCK', command, { positive: false }) ?? DEFAULT_GRADUATION_TARGET_FLOOR
    const minRaiseFloor = tokens(values, 'min-raise-floor', 'FLOCK', command, { positive: false }) ?? DEFAULT_MIN_RAISE_FLOOR
    const flock = address(values, 'flock', command)
    const uniswapFactory = address(values, 'uniswap-factory', command)
    const epochFunding = address(values, 'epoch-funding', command)
    const c = await clients(values, io, command)
    const me = c.wallet.account.address
    const treasury = values.treasury === undefined ? me : address(values, 'treasury', command)
    const funding = epochFundingAt(c, epochFunding)
    const [streamRole, adminRole] = await reading(`the EpochFunding ${epochFunding}`, 'Check --epoch-funding: the EpochFunding contract (fomo deploy --daily-emission prints it).', () =>
      Promise.all([funding.read.STREAM_ROLE(), funding.read.DEFAULT_ADMIN_ROLE()]),
    )
    // Refuse before deploying anything when the grant asked for cannot be made.
    if (values['grant-stream-role'] && !(await funding.read.hasRole([adminRole, me])))
      throw new ChainError(`${me} is not an admin of the EpochFunding ${epochFunding}: it cannot grant STREAM_ROLE`, 'Drop --grant-stream-role and have its admin run `fomo launch-factory --factory <factory> --grant-stream-role` after the deployment.')
    const factory = getAddress(await deployLaunchFactory(c, { flock, treasury, launchFee, fees, uniswapFactory, epochFunding, graduationTargetFloor, minRaiseFloor }))
    const graduator = await graduatorOf(c.public, factory)
    const transaction = values['grant-stream-role'] ? ((await grantStreamRole(c, epochFunding, graduator)) ?? null) : null
    const granted = await funding.read.hasRole([streamRole, graduator])
    io.stdout(
      json({
        factory,
        graduator,
        flock,
        treasury,
        launchFee,
        fees,
        floors: { graduationTarget: graduationTargetFloor, minRaise: minRaiseFloor },
        uniswapFactory,
        epochFunding,
        streamRole: { granted, transaction },
        note: granted
          ? 'The graduator holds STREAM_ROLE: sales of this factory can graduate.'
          : `The EpochFunding admin must grant the graduator ${graduator} STREAM_ROLE before any sale can graduate: fomo launch-factory --factory ${factory} --grant-stream-role --rpc ... (with the admin's key).`,
      }),
    )
  },
}

// ---------------------------------------------------------------------------------------------------------------
// fomo launch
// ---------------------------------------------------------------------------------------------------------------

export const launchCommand: Command = {
  name: 'launch',
  summary:
    "Launches a deployment's Model Token by RMO on a launch factory, as the key's account (the issuer): deploys the token (1,000,000 MT, all escrowed by the sale) and its sale, which sells S = 400,000 MT along the curve from --start-price until the raise reaches --graduation-target. " +
    'Pays the factory\'s launch fee (approving FLOCK first). Prints the token, the sale and the fee (base units). ' +
    'The sale succeeds at G, or at its end with at least --min-raise; below that it fails and buyers are refunded.',
  options: {
    ...chainOptions,
    factory: { type: 'string', valueName: 'address', description: 'The launch factory (fomo launch-factory)' },
    'deployment-id': { type: 'string', valueName: 'id', description: 'The deployment\'s 32-byte id (0x and 64 hex digits), as in the aggregator configuration' },
    name: { type: 'string', valueName: 'text', description: 'The token\'s name' },
    symbol: { type: 'string', valueName: 'text', description: 'The token\'s symbol' },
    'graduation-target': { type: 'string', valueName: 'flock', description: 'G: the raise at which the sale sells out, FLOCK (above 400,000 * the start price, at least the factory\'s floor)' },
    'start-price': { type: 'string', valueName: 'flock', description: 'P0: the starting price, FLOCK per MT (e.g. 0.1)' },
    'min-raise': { type: 'string', valueName: 'flock', description: 'The least raise that graduates at the sale\'s end, FLOCK (at most G, at least the factory\'s floor)' },
    duration: { type: 'string', valueName: 'seconds', description: 'How long the sale runs (at least the factory\'s anti-sniping window)' },
  },
  examples: [
    'fomo launch --rpc http://127.0.0.1:8545 --key-file issuer.json --factory 0x... --deployment-id 0x<64 hex> --name QwenALICE --symbol QALICE --graduation-target 50000 --start-price 0.1 --min-raise 10000 --duration 604800',
  ],
  async run({ values }, io) {
    const command = 'launch'
    const deploymentId = requireString(values, 'deployment-id', command)
    if (!/^0x[0-9a-fA-F]{64}$/.test(deploymentId) || /^0x0{64}$/.test(deploymentId)) throw new UsageError('--deployment-id must be a non-zero 32-byte id (0x and 64 hex digits)', command)
    const name = requireString(values, 'name', command)
    const symbol = requireString(values, 'symbol', command)
    const graduationTarget = requireTokens(values, 'graduation-target', 'FLOCK', command)
    const startPrice = requireTokens(values, 'start-price', 'FLOCK per MT', command)
    const minRaise = requireTokens(values, 'min-raise', 'FLOCK', command)
    const durationSeconds = whole(values, 'duration', 'a whole number of seconds', command, undefined, { positive: true })
    if (graduationTarget * WAD <= SALE_SUPPLY * startPrice)
      throw new UsageError(`--graduation-target must exceed S * P0 = ${flockText((SALE_SUPPLY * startPrice) / WAD)} (S = 400,000 MT is fixed by the token): raise G or lower --start-price`, command)
    try {
      createCurve({ saleSupply: SALE_SUPPLY, graduationTarget, startPrice })
    } catch (error) {
      throw new UsageError(`the curve is invalid: ${(error as Error).message}`, command)
    }
    if (minRaise > graduationTarget) throw new UsageError(`--min-raise must be at most --graduation-target (${flockText(graduationTarget)})`, command)
    const factory = address(values, 'factory', command)
    const c = await clients(values, io, command)
    const me = c.wallet.account.address
    const taken = await reading(`the launch factory ${factory}`, 'Check --factory: the address `fomo launch-factory` printed.', () => launchOf(c.public, factory, deploymentId as Hex))
    if (taken) throw new ChainError(`the deployment id ${deploymentId} is already launched: its sale is ${taken.sale} (issuer ${taken.issuer})`, 'Launch under another id, or use that sale.')
    const [flock, launchFee, floors] = await reading(`the launch factory ${factory}`, 'Check --factory.', () =>
      Promise.all([
        c.public.readContract({ address: factory, abi: MTLaunchFactory.abi, functionName: 'flock' }),
        c.public.readContract({ address: factory, abi: MTLaunchFactory.abi, functionName: 'launchFee' }),
        launchFloorsOf(c.public, factory),
      ]),
    )
    if (graduationTarget < floors.graduationTarget) throw new UsageError(`--graduation-target must be at least the factory's floor of ${flockText(floors.graduationTarget)}`, command)
    if (minRaise < floors.minRaise) throw new UsageError(`--min-raise must be at least the factory's floor of ${flockText(floors.minRaise)}`, command)
    const balance = await flockBalance(c, flock, me)
    if (balance < launchFee) throw new ChainError(`not enough FLOCK for the launch fee: ${me} holds ${flockText(balance)}, the fee is ${flockText(launchFee)}`, 'Fund the issuer\'s account with FLOCK first.')
    const launched = await launchRmo(c, factory, { deploymentId: deploymentId as Hex, name, symbol, graduationTarget, startPrice, minRaise, durationSeconds })
    const sale = await readSaleAt(c, launched.sale)
    io.stdout(
      json({
        deploymentId: launched.deploymentId,
        issuer: launched.issuer,
        token: launched.token,
        sale: launched.sale,
        fee: launched.launchFee,
        transaction: launched.hash,
        saleSupply: sale.curve.saleSupply,
        graduationTarget: sale.curve.graduationTarget,
        startPrice: sale.curve.startPrice,
        minRaise: sale.minRaise,
        fees: sale.fees,
        launchedAt: sale.launchedAt,
        endsAt: sale.endsAt,
      }),
    )
  },
}

// ---------------------------------------------------------------------------------------------------------------
// fomo buy
// ---------------------------------------------------------------------------------------------------------------

export const buyCommand: Command = {
  name: 'buy',
  summary:
    'Buys MT on an active RMO sale as the key\'s account: --flock <amount> of curve input (the fees come on top), or --mt <amount> exactly (the least FLOCK buying at least that). ' +
    'Quotes the buy at the sale\'s current state, refuses it before sending when the account lacks the FLOCK, approves the sale and sends it bounded by the quote less --slippage-bps (a --flock buy: the least MT; an --mt buy: the most FLOCK paid), so a buy that lands after another one and would fill worse reverts. ' +
    'The MT stays escrowed in the sale until graduation (fomo graduate --claim). Prints the quote, the bound and the fill (base units).',
  options: {
    ...chainOptions,
    sale: { type: 'string', valueName: 'address', description: 'The RmoSale (fomo launch prints it)' },
    flock: { type: 'string', valueName: 'amount', description: 'FLOCK of curve input, in whole tokens (fees on top); a buy crossing G fills up to G' },
    mt: { type: 'string', valueName: 'amount', description: 'MT to buy, in whole tokens; more than is left buys the rest' },
    'slippage-bps': { type: 'string', valueName: 'bps', description: 'Tolerance on the quote, bps (default 100)' },
    'deadline-seconds': { type: 'string', valueName: 'seconds', description: 'The buy reverts if mined later than this after the latest block (default 1200)' },
    'dry-run': { type: 'boolean', description: 'Only print the quote; send nothing' },
  },
  examples: [
    'fomo buy --rpc http://127.0.0.1:8545 --key-file buyer.json --sale 0x... --flock 20000',
    'fomo buy --rpc ... --sale 0x... --mt 50000 --slippage-bps 50',
    'fomo buy --rpc ... --sale 0x... --flock 1000 --dry-run',
  ],
  async run({ values }, io) {
    const command = 'buy'
    const flockIn = tokens(values, 'flock', 'FLOCK', command)
    const mtOut = tokens(values, 'mt', 'MT', command)
    if ((flockIn === undefined) === (mtOut === undefined)) throw new UsageError('give --flock <amount> or --mt <amount>, one of them', command)
    const slippageBps = whole(values, 'slippage-bps', 'a whole number of bps', command, 100n, { max: BPS })
    const deadlineSeconds = whole(values, 'deadline-seconds', 'a whole number of seconds', command, 1200n, { positive: true })
    const sale = address(values, 'sale', command)
    const c = await clients(values, io, command)
    const buyer = c.wallet.account.address
    const info = await readSaleAt(c, sale)
    if (!isActive(info)) throw notActive(info)
    const quote = quoteSale(info, flockIn !== undefined ? { flock: flockIn } : { mt: mtOut! })
    const bound = flockIn !== undefined ? { minMtOut: quote.mtOut - mulDivDown(quote.mtOut, slippageBps, BPS) } : { maxFlockIn: quote.totalPaid + mulDivUp(quote.totalPaid, slippageBps, BPS) }
    const deadline = info.timestamp + deadlineSeconds
    const order = flockIn !== undefined ? { flock: flockIn } : { mt: mtOut! }
    const balance = await flockBalance(c, info.flock, buyer)
    const head = { sale: info.address, buyer, order, quote, bound: { slippageBps, ...bound }, deadline, balance }
    if (values['dry-run']) {
      io.stdout(json({ ...head, transaction: null }))
      return
    }
    if (balance < quote.totalPaid)
      throw new ChainError(
        `not enough FLOCK: ${buyer} holds ${flockText(balance)} and the buy costs ${flockText(quote.totalPaid)} (${flockText(quote.curveIn)} of curve input + ${flockText(quote.totalPaid - quote.curveIn)} of fees)`,
        'Fund the account with FLOCK, or buy less.',
      )
    let fill: BuyResult
    try {
      fill = flockIn !== undefined ? await buyWithFlock(c, sale, flockIn, { slippageBps, deadline }) : await buyExactMt(c, sale, mtOut!, { slippageBps, deadline })
    } catch (error) {
      throw await buyRefusal(c, info, error, slippageBps)
    }
    const { hash, quote: _quote, ...filled } = fill
    io.stdout(
      json({
        ...head,
        fill: filled,
        graduationTarget: info.curve.graduationTarget,
        note: fill.raisedAfter === info.curve.graduationTarget ? `The raise reached G: the sale succeeded. Graduate it: fomo graduate --sale ${info.address}.` : undefined,
        transaction: hash,
      }),
    )
  },
}

/**
 * Why a buy was refused: the custom error the driver decoded before sending, or, for a transaction that was mined and
 * reverted (another buy landed first in the same block), the error its call gives when replayed on the state of the
 * block it was mined in.
 */
async function revertOf(c: Clients, error: LaunchError): Promise<{ errorName: string | undefined; args: readonly unknown[]; hash: Hex | undefined }> {
  if (error.errorName) return { errorName: error.errorName, args: error.errorArgs, hash: undefined }
  const hash = /transaction (0x[0-9a-fA-F]{64}) reverted/.exec(error.shortMessage)?.[1] as Hex | undefined
  if (!hash) return { errorName: undefined, args: [], hash }
  try {
    const tx = await c.public.getTransaction({ hash })
    const { functionName, args } = decodeFunctionData({ abi: RmoSale.abi, data: tx.input })
    await c.public.simulateContract({ address: tx.to!, abi: RmoSale.abi, functionName, args, account: tx.from, blockNumber: tx.blockNumber! } as never)
  } catch (replayed) {
    const reverted = revertedWith(replayed)
    if (reverted) return { ...reverted, hash }
  }
  return { errorName: undefined, args: [], hash }
}

/** A refused buy as one line for the user: slippage, state, funds, deadline; any other refusal as the driver named it. */
async function buyRefusal(c: Clients, info: SaleInfo, error: unknown, slippageBps: bigint): Promise<unknown> {
  if (!(error instanceof LaunchError)) return error
  const { errorName, args, hash } = await revertOf(c, error)
  const [a, b] = args.map((x) => (typeof x === 'bigint' ? x : 0n))
  const mined = hash ? ` (transaction ${hash} reverted)` : ''
  const again = 'Run it again to buy at the new price, or allow more with --slippage-bps.'
  switch (errorName) {
    case 'RmoSaleMtOutTooLow':
      return new ChainError(`slippage exceeded: the buy would get ${mtText(a!)}, below its bound of ${mtText(b!)} (the quote less ${slippageBps} bps): another buy moved the price first${mined}`, again, error)
    case 'RmoSalePaidTooHigh':
      return new ChainError(`slippage exceeded: the buy would cost ${flockText(a!)}, above its bound of ${flockText(b!)} (the quote plus ${slippageBps} bps): another buy moved the price first${mined}`, again, error)
    case 'RmoSaleWrongState':
      return notActive(await readSaleAt(c, info.address))
    case 'RmoSaleExpired':
      return new ChainError(`the buy was mined after its deadline (${isoTime(a!)})${mined}`, 'Send it again, or give a longer --deadline-seconds.', error)
    case 'ERC20InsufficientBalance':
      return new ChainError(`not enough FLOCK: ${c.wallet.account.address} lacks the curve input plus fees${mined}`, 'Fund the account with FLOCK, or buy less.', error)
    default:
      return error
  }
}

// ---------------------------------------------------------------------------------------------------------------
// fomo graduate
// ---------------------------------------------------------------------------------------------------------------

export const graduateCommand: Command = {
  name: 'graduate',
  summary:
    'Graduates a succeeded RMO sale (anyone may send it): burns the unsold MT, splits the raise 25/25/50 (protocol FLOCK vested 180 days, staking incentives streamed by EpochFunding, liquidity), seeds the MT/FLOCK Uniswap v2 pool with the liquidity FLOCK and 200,000 MT, locks the LP tokens 48 months, vests the issuer and treasury MT over 180 days and streams the incentive reserve. ' +
    'Prints the graduation as the chain holds it: pair, reserves, LP lock, vesting wallets, streams, burned MT (base units). ' +
    'With --claim pays the listed buyers their escrowed MT (anyone may; it goes to the buyer). On a sale already graduated it sends no graduation and only prints and claims, so it can be run again for more buyers. ' +
    'A succeeded sale not graduated within 30 days of its end lapses and refunds its buyers instead (fomo refund).',
  options: {
    ...chainOptions,
    sale: { type: 'string', valueName: 'address', description: 'The RmoSale' },
    claim: { type: 'string', multiple: true, valueName: 'buyer', description: 'Also pay this buyer its MT (repeatable, or a comma list)' },
  },
  examples: ['fomo graduate --rpc http://127.0.0.1:8545 --key-file keeper.json --sale 0x...', 'fomo graduate --rpc ... --sale 0x... --claim 0xAlice...,0xBob... --claim 0xCarol...'],
  async run({ values }, io) {
    const command = 'graduate'
    const buyers = addresses(values, 'claim', command)
    const sale = address(values, 'sale', command)
    const c = await clients(values, io, command)
    const info = await readSaleAt(c, sale)
    const g = info.curve.graduationTarget
    if (info.state === 'active')
      throw new ChainError(
        `the sale ${sale} cannot graduate yet: it is active, ${flockText(info.raised)} raised of ${flockText(g)}, until ${isoTime(info.endsAt)}`,
        `It graduates once the raise reaches G, or at its end with at least the minimum raise (${flockText(info.minRaise)}).`,
      )
    if (info.state === 'failed')
      throw new ChainError(`the sale ${sale} cannot graduate: the raise failed (${flockText(info.raised)} raised, below the minimum ${flockText(info.minRaise)})`, refundHint(sale))
    if (info.state === 'lapsed')
      throw new ChainError(`the sale ${sale} cannot graduate: it lapsed (it succeeded but was not graduated by ${isoTime(info.graduationDeadline)}, 30 days after its end)`, refundHint(sale))
    const graduated = info.state === 'succeeded' ? await graduateSale(c, sale) : undefined
    const graduation = await readGraduation(c.public, sale)
    const claims = []
    for (const buyer of buyers) {
      const { mt } = await positionOf(c.public, sale, buyer)
      claims.push(mt === 0n ? { buyer, claimed: 0n, transaction: null } : await claimSaleMt(c, sale, buyer).then((r) => ({ buyer, claimed: r.amount, transaction: r.hash })))
    }
    io.stdout(
      json({
        ...graduation,
        burned: SALE_SUPPLY - graduation.sold,
        dexPrice: dexPrice(graduation.pool.flock, graduation.pool.mt),
        cleared: graduated?.cleared,
        transaction: graduated?.hash ?? null,
        claims,
      }),
    )
  },
}

// ---------------------------------------------------------------------------------------------------------------
// fomo refund
// ---------------------------------------------------------------------------------------------------------------

export const refundCommand: Command = {
  name: 'refund',
  summary:
    'Refunds buyers of a failed RMO sale (one that ended below its minimum raise) or a lapsed one (succeeded but not graduated within 30 days of its end) exactly their curve input; the fees they paid stay with the issuer and the treasury. Anyone may send it; the FLOCK goes to the buyer. A buyer with nothing left to refund is listed with 0.',
  options: {
    ...chainOptions,
    sale: { type: 'string', valueName: 'address', description: 'The RmoSale' },
    buyer: { type: 'string', multiple: true, valueName: 'address', description: 'The buyer to refund (repeatable, or a comma list)' },
  },
  examples: ['fomo refund --rpc http://127.0.0.1:8545 --key-file me.json --sale 0x... --buyer 0xAlice...,0xBob...'],
  async run({ values }, io) {
    const command = 'refund'
    const buyers = addresses(values, 'buyer', command)
    if (buyers.length === 0) throw new UsageError('missing --buyer', command)
    const sale = address(values, 'sale', command)
    const c = await clients(values, io, command)
    const info = await readSaleAt(c, sale)
    if (info.state !== 'failed' && info.state !== 'lapsed') {
      const why =
        info.state === 'active'
          ? [`it is active (${flockText(info.raised)} raised, until ${isoTime(info.endsAt)})`, 'Refunds open only if it ends below its minimum raise, or succeeds and is not graduated within 30 days of its end.']
          : info.state === 'succeeded'
            ? [`the raise succeeded`, `Graduate it (fomo graduate --sale ${sale}) and pay buyers their MT with --claim; it lapses into refunds only if not graduated by ${isoTime(info.graduationDeadline)}.`]
            : [`it graduated`, `Buyers get their MT instead: fomo graduate --sale ${sale} --claim <buyer>.`]
      throw new ChainError(`the sale ${sale} takes no refunds: ${why[0]}`, why[1])
    }
    const refunds = []
    for (const buyer of buyers) {
      const { curveIn } = await positionOf(c.public, sale, buyer)
      refunds.push(curveIn === 0n ? { buyer, refunded: 0n, transaction: null } : await refundSale(c, sale, buyer).then((r) => ({ buyer, refunded: r.amount, transaction: r.hash })))
    }
    io.stdout(json({ sale: info.address, state: info.state, raised: info.raised, minRaise: info.minRaise, refunds }))
  },
}
