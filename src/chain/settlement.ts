/**
 * The revenue settlement on chain (contracts/src/RevenueSettlement.sol, paper 3.5): deploy it, register deployments'
 * Model Tokens, pay an epoch's charged revenue per deployment (the split expected is src/economics/revenue.ts's
 * `revenueWaterfall` of `netRevenue`, checked against the contract's event), run the FLOCK buyback and the MT
 * buyback-and-burn through Uniswap v2 with a minimum out from the router's own quote, and read the state. A refused
 * call throws a `SettlementError` naming the contract's custom error (or the router's reason) and what to do.
 */
import {
  BaseError as ViemBaseError,
  erc20Abi,
  getAddress,
  getContract,
  getContractAddress,
  parseEventLogs,
  zeroAddress,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem'
import { BPS, mulDivDown } from '../economics/math.ts'
import { netRevenue, revenueWaterfall, type Waterfall } from '../economics/revenue.ts'
import { RevenueSettlement, TestToken } from './contracts.generated.ts'
import { decodeRevert, ensureAllowance, simulateAndSend, type ContractCall } from './transactions.ts'
import { ChainError, deploy, type Clients } from './contracts.ts'
import { quoteExactIn, revertReason } from './uniswap.ts'

/** A settlement call the chain (or the router) refused, or a result that is not the one src/economics computes. */
export class SettlementError extends ChainError {
  override name = 'SettlementError'
  /** The contract's custom error when the chain refused the call (`RevenueSettlementOpexAboveCap`), else undefined. */
  readonly errorName: string | undefined
  /** Its arguments. */
  readonly errorArgs: readonly unknown[]
  constructor(message: string, options: { hint?: string | undefined; cause?: unknown; errorName?: string | undefined; errorArgs?: readonly unknown[] | undefined } = {}) {
    super(message, options.hint, options.cause)
    this.errorName = options.errorName
    this.errorArgs = options.errorArgs ?? []
  }
}

/** The contract's roles: who pays epochs' revenue, who runs the buybacks. */
export const SETTLEMENT_ROLES = { payer: 'PAYER_ROLE', keeper: 'KEEPER_ROLE' } as const
export type SettlementRole = keyof typeof SETTLEMENT_ROLES

/** Seconds a buyback may wait to be mined when no deadline is given. */
export const DEFAULT_BUYBACK_DEADLINE_SECONDS = 1200n

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/** Every custom error the settlement (and the ERC-20s it moves) can revert with, for decoding. */
const ERRORS = [...RevenueSettlement.abi, ...TestToken.abi].filter((item) => item.type === 'error') as Abi

function hintFor(errorName: string): string | undefined {
  switch (errorName) {
    case 'RevenueSettlementOpexAboveCap':
      return 'OpEx may be at most floor(charged * maxOpexBps / 10,000): lower it, or have the admin raise the cap (setMaxOpexBps).'
    case 'RevenueSettlementUnderpaid':
      return 'The USDC token took a fee on the transfer: the settlement must receive exactly the charged revenue; use a token without transfer fees.'
    case 'RevenueSettlementUnknownDeployment':
      return 'The admin registers the deployment with its Model Token first (setDeployment).'
    case 'RevenueSettlementZeroAmount':
      return 'Pay or swap a positive amount (an epoch with no charged revenue needs no payment).'
    case 'RevenueSettlementZeroAddress':
      return 'Name a non-zero address (an OpEx recipient whenever OpEx is positive).'
    case 'RevenueSettlementAbovePending':
      return 'Swap at most what is pending: read pendingFlockBuyback or pendingMtBuyback(deploymentId).'
    case 'RevenueSettlementZeroMinimum':
      return 'A zero minimum out can be sandwiched: quote the swap and pass the quote less a slippage tolerance.'
    case 'RevenueSettlementExpired':
      return 'The buyback was mined after its deadline: send it again with a later deadline; the USDC is still pending.'
    case 'RevenueSettlementInsufficientOutput':
      return 'The token out took a fee on transfer below the minimum: quote again; the USDC is still pending.'
    case 'RevenueSettlementDeploymentSet':
      return 'A deployment is registered once: read mtOf(deploymentId).'
    case 'RevenueSettlementNotBurnable':
      return 'The Model Token must be ERC20Burnable (burn(uint256)): buyback-and-burn destroys what it buys.'
    case 'RevenueSettlementTokenTaken':
      return 'A Model Token is neither USDC, FLOCK nor another deployment\'s token.'
    case 'RevenueSettlementNotContract':
      return 'Tokens and the router must be deployed contracts at these addresses (check the chain and the addresses).'
    case 'RevenueSettlementBadOpexCap':
      return 'The OpEx cap is in bps, at most 10,000.'
    case 'RevenueSettlementProtectedToken':
      return 'USDC, FLOCK and registered Model Tokens are never recovered: they are revenue and buybacks in flight.'
    case 'AccessControlUnauthorizedAccount':
      return 'The sender lacks the role: the admin grants PAYER_ROLE to payers and KEEPER_ROLE to keepers (grantSettlementRole).'
    case 'ERC20InsufficientAllowance':
    case 'ERC20InsufficientBalance':
      return 'The payer lacks the USDC or its approval for the charged revenue.'
    default:
      return undefined
  }
}

/** The custom error a failed call or transaction reverted with (`decodeRevert` over this module's errors). */
export function settlementRevert(error: unknown): { errorName: string; args: readonly unknown[] } | undefined {
  return decodeRevert(error, ERRORS)
}

function refused(what: string, error: unknown): SettlementError {
  const reverted = settlementRevert(error)
  if (reverted && reverted.errorName !== 'Error') {
    const args = reverted.args.map((a) => (typeof a === 'bigint' ? a.toString() : String(a))).join(', ')
    return new SettlementError(`${what} was refused: ${reverted.errorName}(${args})`, { hint: hintFor(reverted.errorName), cause: error, errorName: reverted.errorName, errorArgs: reverted.args })
  }
  // The router reverts with Error(string) ('UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT').
  const reason = reverted ? String(reverted.args[0]) : revertReason(error)
  if (reason)
    return new SettlementError(`${what} was refused: ${reason}`, {
      hint: /UniswapV2/.test(reason) ? 'The swap cannot happen now (price moved past the minimum, no liquidity, or expired): quote again later; the USDC stays pending.' : undefined,
      cause: error,
    })
  return new SettlementError(`${what} failed: ${error instanceof ViemBaseError ? error.shortMessage : String(error)}`, {
    hint: 'A swap path without a pool reverts without a reason: every hop needs a Uniswap v2 pair with liquidity; the USDC stays pending.',
    cause: error,
  })
}

/** How this module words refusals and reverted transactions. */
const REFUSALS = { refused, reverted: (message: string) => new SettlementError(message) }

/** Simulates the call (a refusal decoded before anything is sent), sends it and waits for its receipt. */
function send(clients: Clients, what: string, call: ContractCall): Promise<TransactionReceipt> {
  return simulateAndSend(clients, what, call, REFUSALS)
}

function settlementAt(client: PublicClient, settlement: Address) {
  return getContract({ abi: RevenueSettlement.abi, address: settlement, client: { public: client } })
}

// ---------------------------------------------------------------------------------------------------------------
// Deployment and administration
// ---------------------------------------------------------------------------------------------------------------

export type SettlementOptions = {
  usdc: Address
  flock: Address
  /** The Uniswap v2 router the buybacks swap through. */
  router: Address
  /** Receives the treasury part and the FLOCK bought back. */
  treasury: Address
  /** The reward distributor (the epoch registry): receives the issuer yield. It may be deployed after (below). */
  distributor: Address
  admin: Address
  /** The OpEx cap, bps of the charged revenue (default 0: no OpEx until the admin sets one). */
  maxOpexBps?: bigint | undefined
}

/**
 * Deploys the settlement. The registry takes the settlement's address at its construction, so the settlement comes
 * first, naming the distributor's future address: {@link nextContractAddress}.
 *
 * @example
 * const distributor = await nextContractAddress(clients, 2n) // after the settlement and the PoseidonT4 library
 * const settlement = await deploySettlement(clients, { usdc, flock, router, treasury, distributor, admin })
 * await deployContracts(clients, { ...roles, revenueSettlement: settlement })
 */
export async function deploySettlement(clients: Clients, options: SettlementOptions): Promise<Address> {
  try {
    return getAddress(await deploy(clients, RevenueSettlement, [options.usdc, options.flock, options.router, options.treasury, options.distributor, options.admin, options.maxOpexBps ?? 0n]))
  } catch (error) {
    throw refused('deploying the revenue settlement', error)
  }
}

/**
 * The address of the contract the sending account will deploy after `ahead` more transactions of its own (0: its
 * next one), from its nonce: CREATE's address.
 */
export async function nextContractAddress(clients: Clients, ahead = 0n): Promise<Address> {
  if (ahead < 0n) throw new ChainError(`ahead must not be negative, got ${ahead}`)
  const from = clients.wallet.account.address
  const nonce = await clients.public.getTransactionCount({ address: from, blockTag: 'pending' })
  return getContractAddress({ from, nonce: BigInt(nonce) + ahead })
}

/** Grants the payer or keeper role (admin only). */
export async function grantSettlementRole(clients: Clients, settlement: Address, role: SettlementRole, account: Address): Promise<Hex> {
  const s = settlementAt(clients.public, settlement)
  const id = role === 'payer' ? await s.read.PAYER_ROLE() : await s.read.KEEPER_ROLE()
  const receipt = await send(clients, `granting ${SETTLEMENT_ROLES[role]} to ${account}`, { address: settlement, abi: RevenueSettlement.abi, functionName: 'grantRole', args: [id, account] })
  return receipt.transactionHash
}

/** Registers a deployment's Model Token (admin only, once; the token must be ERC20Burnable). */
export async function setDeployment(clients: Clients, settlement: Address, deploymentId: Hex, mtToken: Address): Promise<Hex> {
  const receipt = await send(clients, `registering deployment ${deploymentId}`, { address: settlement, abi: RevenueSettlement.abi, functionName: 'setDeployment', args: [deploymentId, mtToken] })
  return receipt.transactionHash
}

/** Sets the OpEx cap for later payments (admin only), in bps of the charged revenue. */
export async function setMaxOpexBps(clients: Clients, settlement: Address, maxOpexBps: bigint): Promise<Hex> {
  const receipt = await send(clients, `setting the OpEx cap to ${maxOpexBps} bps`, { address: settlement, abi: RevenueSettlement.abi, functionName: 'setMaxOpexBps', args: [maxOpexBps] })
  return receipt.transactionHash
}

// ---------------------------------------------------------------------------------------------------------------
// Paying revenue
// ---------------------------------------------------------------------------------------------------------------

export type PayParameters = {
  epoch: bigint
  deploymentId: Hex
  /** The deployment's charged revenue of the epoch (P_gross), USDC base units. */
  charged: bigint
  /** The compute providers' cost (default 0), at most the contract's cap. */
  opex?: bigint | undefined
  /** Where the OpEx goes (required when it is positive). */
  opexRecipient?: Address | undefined
}

export type Payment = {
  hash: Hex
  epoch: bigint
  deploymentId: Hex
  charged: bigint
  opex: bigint
  /** P_net = charged - OpEx (`netRevenue`). */
  pNet: bigint
  /** The waterfall of P_net as `revenueWaterfall` computes it; the contract's RevenuePaid event carried the same. */
  split: Waterfall
}

/**
 * Pays one (epoch, deployment)'s charged revenue as the sending account (which needs PAYER_ROLE and the USDC):
 * approves the settlement for `charged` when needed, pays, and checks that the contract split it exactly as
 * `revenueWaterfall(netRevenue(charged, opex))`.
 *
 * @example
 * const { split } = await payRevenue(clients, settlement, { epoch: 20415n, deploymentId, charged: parseUnits('12000', 6), opex: parseUnits('2000', 6), opexRecipient })
 * // split: 3,000 / 3,000 / 3,000 / 1,000 USDC
 */
export async function payRevenue(clients: Clients, settlement: Address, p: PayParameters): Promise<Payment> {
  const opex = p.opex ?? 0n
  const pNet = netRevenue(p.charged, opex)
  const split = revenueWaterfall(pNet)
  const opexRecipient = p.opexRecipient ?? zeroAddress
  const usdc = await settlementAt(clients.public, settlement).read.usdc()
  const payer = clients.wallet.account.address
  const balance = await clients.public.readContract({ address: usdc, abi: erc20Abi, functionName: 'balanceOf', args: [payer] })
  if (balance < p.charged)
    throw new SettlementError(`the payer ${payer} holds ${balance} of USDC ${usdc}, less than the ${p.charged} charged for epoch ${p.epoch}, deployment ${p.deploymentId}`, {
      hint: 'Collect the users\' payments into the payer account before paying the epoch.',
    })
  await ensureAllowance(clients, usdc, settlement, p.charged, REFUSALS)
  const receipt = await send(clients, `payment of epoch ${p.epoch}, deployment ${p.deploymentId}`, {
    address: settlement,
    abi: RevenueSettlement.abi,
    functionName: 'pay',
    args: [p.epoch, p.deploymentId, p.charged, opex, opexRecipient],
  })
  const [event] = parseEventLogs({ abi: RevenueSettlement.abi, eventName: 'RevenuePaid', logs: receipt.logs })
  if (!event) throw new SettlementError(`payment transaction ${receipt.transactionHash} emitted no RevenuePaid event`)
  const paid: Waterfall = { flockBuyback: event.args.flockBuyback, treasury: event.args.treasury, mtBuybackBurn: event.args.mtBuybackBurn, issuerYield: event.args.issuerYield }
  for (const key of Object.keys(split) as (keyof Waterfall)[])
    if (paid[key] !== split[key])
      throw new SettlementError(`the settlement ${settlement} split ${key} = ${paid[key]} where revenueWaterfall computes ${split[key]} (P_net ${pNet})`, {
        hint: 'The contract is not the RevenueSettlement this build knows: check the address, or regenerate src/chain/contracts.generated.ts.',
      })
  return { hash: receipt.transactionHash, epoch: p.epoch, deploymentId: p.deploymentId, charged: p.charged, opex, pNet, split }
}

// ---------------------------------------------------------------------------------------------------------------
// Buybacks
/** One deployment's revenue of a sealed epoch: its charged revenue (the sum of its spend leaves) and its OpEx. */
export type DeploymentRevenue = { deploymentId: Hex; charged: bigint; opex: bigint }

/**
 * What a sealed epoch owes the settlement, per deployment with charged revenue: the charged amounts of its spend
 * leaves summed (what the proofs prove per deployment) and the OpEx its inputs.json records, in config order.
 */
export function epochRevenue(spendLeaves: Iterable<{ deploymentId: Hex; charged: bigint }>, deployments: ReadonlyArray<{ id: Hex; opex: bigint }>): DeploymentRevenue[] {
  const charged = new Map<string, bigint>()
  for (const l of spendLeaves) charged.set(l.deploymentId.toLowerCase(), (charged.get(l.deploymentId.toLowerCase()) ?? 0n) + l.charged)
  return deployments.flatMap((d) => {
    const c = charged.get(d.id.toLowerCase()) ?? 0n
    return c === 0n ? [] : [{ deploymentId: d.id, charged: c, opex: d.opex }]
  })
}

/**
 * Pays what is still unpaid of each deployment's revenue of an epoch (a payment already made counts: payments add
 * up), with its OpEx to `opexRecipient` scaled to the part paid now. Returns the payments made.
 */
export async function payEpochRevenue(clients: Clients, settlement: Address, epoch: bigint, revenue: readonly DeploymentRevenue[], opexRecipient: Address | undefined): Promise<Payment[]> {
  const { of } = await readPaid(clients.public, settlement, epoch, revenue.map((r) => r.deploymentId))
  const payments: Payment[] = []
  for (const r of revenue) {
    const paid = of.get(r.deploymentId) ?? 0n
    if (paid >= r.charged) continue
    const charged = r.charged - paid
    const opex = paid === 0n ? r.opex : mulDivDown(r.opex, charged, r.charged)
    if (opex > 0n && opexRecipient === undefined)
      throw new SettlementError(`deployment ${r.deploymentId} of epoch ${epoch} declares ${opex} of OpEx and no recipient is given`, { hint: 'Name the account the compute providers are paid at (fomo settle --opex-to).' })
    payments.push(await payRevenue(clients, settlement, { epoch, deploymentId: r.deploymentId, charged, opex, opexRecipient }))
  }
  return payments
}

// ---------------------------------------------------------------------------------------------------------------

export type BuybackParameters = {
  /** USDC to swap (default: all that is pending). */
  amountIn?: bigint | undefined
  /** Unix time after which the swap reverts (default: the latest block's time + 20 minutes). */
  deadline?: bigint | undefined
} & (
  | {
      /** Tolerance below the router's quote, bps: the minimum out is quote - floor(quote * slippageBps / 10,000). */
      slippageBps: bigint
      minOut?: undefined
    }
  | {
      /** An explicit minimum out (no quote is read). */
      minOut: bigint
      slippageBps?: undefined
    }
)

export type Buyback = {
  hash: Hex
  amountIn: bigint
  /** The router's quote the minimum was set from (undefined with an explicit minimum). */
  quoted: bigint | undefined
  minOut: bigint
  /** FLOCK sent to the treasury, or MT burned: what the contract's event reports. */
  amountOut: bigint
}

/** The amount in, the minimum out (from the router's quote along `path` unless given) and the deadline of a buyback. */
async function buybackBounds(clients: Clients, router: Address, pending: bigint, path: readonly Address[], p: BuybackParameters, what: string) {
  const amountIn = p.amountIn ?? pending
  if (amountIn <= 0n) throw new SettlementError(`${what}: nothing to swap (pending ${pending} USDC)`, { hint: 'Buybacks spend USDC queued by payments: pay an epoch first.' })
  if (amountIn > pending) throw new SettlementError(`${what}: ${amountIn} USDC asked, ${pending} pending`, { hint: 'Swap at most what is pending.' })
  let quoted: bigint | undefined
  let minOut: bigint
  if (p.minOut !== undefined) minOut = p.minOut
  else {
    if (p.slippageBps < 0n || p.slippageBps >= BPS) throw new SettlementError(`${what}: slippageBps must be in [0, 10,000), got ${p.slippageBps}`)
    quoted = (await quoteExactIn(clients, router, amountIn, path)).amountOut
    minOut = quoted - mulDivDown(quoted, p.slippageBps, BPS)
    if (minOut === 0n)
      throw new SettlementError(`${what}: ${amountIn} USDC buys nothing at the pool's price (quote ${quoted})`, { hint: 'Wait until more USDC is pending, or for deeper liquidity.' })
  }
  const deadline = p.deadline ?? (await clients.public.getBlock({ blockTag: 'latest' })).timestamp + DEFAULT_BUYBACK_DEADLINE_SECONDS
  return { amountIn, quoted, minOut, deadline }
}

/**
 * Swaps pending FLOCK-buyback USDC for FLOCK (path USDC -> FLOCK), sent to the treasury, as the sending account
 * (which needs KEEPER_ROLE). A swap that cannot happen now reverts and the USDC stays pending.
 *
 * @example
 * const { amountOut } = await buyBackFlock(keeper, settlement, { slippageBps: 50n })
 */
export async function buyBackFlock(clients: Clients, settlement: Address, p: BuybackParameters): Promise<Buyback> {
  const s = settlementAt(clients.public, settlement)
  const [usdc, flock, router, pending] = await Promise.all([s.read.usdc(), s.read.flock(), s.read.router(), s.read.pendingFlockBuyback()])
  const b = await buybackBounds(clients, router, pending, [usdc, flock], p, 'FLOCK buyback')
  const receipt = await send(clients, `FLOCK buyback of ${b.amountIn} USDC`, { address: settlement, abi: RevenueSettlement.abi, functionName: 'buyBackFlock', args: [b.amountIn, b.minOut, b.deadline] })
  const [event] = parseEventLogs({ abi: RevenueSettlement.abi, eventName: 'FlockBoughtBack', logs: receipt.logs })
  if (!event) throw new SettlementError(`buyback transaction ${receipt.transactionHash} emitted no FlockBoughtBack event`)
  return { hash: receipt.transactionHash, amountIn: b.amountIn, quoted: b.quoted, minOut: b.minOut, amountOut: event.args.flockOut }
}

/**
 * Swaps a deployment's pending MT-buyback USDC for its Model Token (path USDC -> FLOCK -> MT) and burns it, as the
 * sending account (which needs KEEPER_ROLE). A swap that cannot happen now reverts and the USDC stays pending.
 *
 * @example
 * const { amountOut: burned } = await buyBackAndBurnMt(keeper, settlement, deploymentId, { slippageBps: 50n })
 */
export async function buyBackAndBurnMt(clients: Clients, settlement: Address, deploymentId: Hex, p: BuybackParameters): Promise<Buyback> {
  const s = settlementAt(clients.public, settlement)
  const [usdc, flock, router, mt, pending] = await Promise.all([s.read.usdc(), s.read.flock(), s.read.router(), s.read.mtOf([deploymentId]), s.read.pendingMtBuyback([deploymentId])])
  if (/^0x0{40}$/i.test(mt)) throw new SettlementError(`deployment ${deploymentId} is not registered on the settlement ${settlement}`, { hint: hintFor('RevenueSettlementUnknownDeployment') })
  const b = await buybackBounds(clients, router, pending, [usdc, flock, mt], p, `MT buyback of deployment ${deploymentId}`)
  const receipt = await send(clients, `MT buyback-and-burn of ${b.amountIn} USDC for deployment ${deploymentId}`, {
    address: settlement,
    abi: RevenueSettlement.abi,
    functionName: 'buyBackAndBurnMt',
    args: [deploymentId, b.amountIn, b.minOut, b.deadline],
  })
  const [event] = parseEventLogs({ abi: RevenueSettlement.abi, eventName: 'MtBoughtBackAndBurned', logs: receipt.logs })
  if (!event) throw new SettlementError(`buyback transaction ${receipt.transactionHash} emitted no MtBoughtBackAndBurned event`)
  return { hash: receipt.transactionHash, amountIn: b.amountIn, quoted: b.quoted, minOut: b.minOut, amountOut: event.args.mtBurned }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------------

export type SettlementInfo = {
  address: Address
  usdc: Address
  flock: Address
  router: Address
  treasury: Address
  distributor: Address
  maxOpexBps: bigint
  /** USDC queued for the FLOCK buyback. */
  pendingFlockBuyback: bigint
  /** All FLOCK ever bought back (sent to the treasury). */
  boughtFlock: bigint
  /** The block all of this was read at. */
  blockNumber: bigint
}

/** Reads the settlement's parameters and FLOCK buyback state at the latest block (every value at that one block). */
export async function readSettlement(client: PublicClient, settlement: Address): Promise<SettlementInfo> {
  // Uncached: viem keeps the block number for its polling interval, and a read right after a payment must see it.
  const blockNumber = await client.getBlockNumber({ cacheTime: 0 })
  const at = { blockNumber }
  const s = settlementAt(client, settlement)
  const [usdc, flock, router, treasury, distributor, maxOpexBps, pendingFlockBuyback, boughtFlock] = await Promise.all([
    s.read.usdc(at),
    s.read.flock(at),
    s.read.router(at),
    s.read.treasury(at),
    s.read.distributor(at),
    s.read.maxOpexBps(at),
    s.read.pendingFlockBuyback(at),
    s.read.boughtFlock(at),
  ])
  return { address: getAddress(settlement), usdc, flock, router, treasury, distributor, maxOpexBps, pendingFlockBuyback, boughtFlock, blockNumber }
}

export type SettlementDeployment = {
  deploymentId: Hex
  /** Undefined when the deployment is not registered. */
  mt: Address | undefined
  /** USDC queued for its MT buyback-and-burn. */
  pendingMtBuyback: bigint
  /** All of its MT ever bought back and burned. */
  burnedMt: bigint
}

/** Reads a deployment's Model Token and MT buyback state at the latest block. */
export async function readSettlementDeployment(client: PublicClient, settlement: Address, deploymentId: Hex): Promise<SettlementDeployment> {
  const at = { blockNumber: await client.getBlockNumber({ cacheTime: 0 }) }
  const s = settlementAt(client, settlement)
  const [mt, pendingMtBuyback, burnedMt] = await Promise.all([s.read.mtOf([deploymentId], at), s.read.pendingMtBuyback([deploymentId], at), s.read.burnedMt([deploymentId], at)])
  return { deploymentId, mt: /^0x0{40}$/i.test(mt) ? undefined : getAddress(mt), pendingMtBuyback, burnedMt }
}

/** What was paid for an epoch: per deployment asked (`paidOf`, zero when unpaid) and in total (`paidTotal`). */
export async function readPaid(client: PublicClient, settlement: Address, epoch: bigint, deploymentIds: readonly Hex[] = []): Promise<{ total: bigint; of: Map<Hex, bigint> }> {
  const at = { blockNumber: await client.getBlockNumber({ cacheTime: 0 }) }
  const s = settlementAt(client, settlement)
  const [total, ...each] = await Promise.all([s.read.paidTotal([epoch], at), ...deploymentIds.map((id) => s.read.paidOf([epoch, id], at))])
  return { total, of: new Map(deploymentIds.map((id, i) => [id, each[i]!])) }
}
