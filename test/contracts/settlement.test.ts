/**
 * RevenueSettlement on the in-process EVM with a real Uniswap v2 (its published artifacts): the settlement deployed
 * before the distributor that names it, payments split exactly as `revenueWaterfall` (the paper's check values, and
 * a property over random charged revenue and OpEx), payments of one epoch adding up, an under-paying fee-on-transfer token, OpEx
 * above the cap and a payer without the role refused; the FLOCK buyback paying the treasury, the MT buyback burning
 * exactly what the router quoted, a swap past its minimum, after its deadline or without a pool reverting with the
 * USDC still pending, keepers only; and nothing leaving the contract but by these paths.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { erc20Abi, getAddress, keccak256, maxUint256, parseUnits, toHex, zeroAddress, type Address, type Hex } from 'viem'
import { BurnableTestToken, FeeOnTransferToken, RevenueSettlement, RewardDistributor, TestToken } from '../../src/chain/contracts.generated.ts'
import { ChainError, deploy, deployContracts, deployPoseidon, deployTestToken, type Clients } from '../../src/chain/contracts.ts'
import { startDevnet, type Devnet } from '../../src/chain/devnet.ts'
import {
  buyBackAndBurnMt,
  buyBackFlock,
  deploySettlement,
  grantSettlementRole,
  nextContractAddress,
  payRevenue,
  readPaid,
  readSettlement,
  readSettlementDeployment,
  setDeployment,
  setMaxOpexBps,
  settlementRevert,
  SettlementError,
} from '../../src/chain/settlement.ts'
import { addLiquidity, deployUniswapV2, quoteExactIn, swapExactTokensForTokens, type UniswapV2Deployment } from '../../src/chain/uniswap.ts'
import { netRevenue, revenueWaterfall, WATERFALL_BPS, type Waterfall } from '../../src/economics/revenue.ts'

let devnet: Devnet
let uni: UniswapV2Deployment
let usdc: Address, flock: Address, mt: Address, otherMt: Address
let admin: Address, treasury: Address, payer: Address, keeper: Address, providers: Address, trader: Address, stranger: Address
let asPayer: Clients, asKeeper: Clients, asTrader: Clients, asStranger: Clients
let settlement: Address, distributor: Address

const usd = (amount: string) => parseUnits(amount, 6)
const DEPLOYMENT = keccak256(toHex('qwen-alice'))
/** A deployment whose Model Token has no pool: its buyback cannot swap. */
const POOLLESS = keccak256(toHex('no-pool'))
/** The OpEx cap of the shared settlement: 20 % of the charged revenue. */
const MAX_OPEX_BPS = 2000n

/** USDC/FLOCK at 0.5 USDC per FLOCK, and the graduation pool MT/FLOCK at 0.125 FLOCK per MT (paper 3.3.5). */
const USDC_IN_POOL = usd('1000000')
const FLOCK_IN_USDC_POOL = parseUnits('2000000', 18)
const MT_IN_POOL = parseUnits('200000', 18)
const FLOCK_IN_MT_POOL = parseUnits('25000', 18)

let nextEpoch = 1n
/** A fresh epoch per payment, so tests do not depend on each other's payments. */
const freshEpoch = () => nextEpoch++

const balanceOf = (token: Address, owner: Address) => devnet.clients.public.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner] })
const totalSupply = (token: Address) => devnet.clients.public.readContract({ address: token, abi: erc20Abi, functionName: 'totalSupply' })
const read = <F extends 'pendingFlockBuyback' | 'boughtFlock'>(functionName: F) => devnet.clients.public.readContract({ address: settlement, abi: RevenueSettlement.abi, functionName })

async function mint(token: Address, to: Address, amount: bigint): Promise<void> {
  const hash = await devnet.clients.wallet.writeContract({ address: token, abi: TestToken.abi, functionName: 'mint', args: [to, amount] })
  expect((await devnet.clients.public.waitForTransactionReceipt({ hash })).status).toBe('success')
}

async function approve(clients: Clients, token: Address, spender: Address): Promise<void> {
  const hash = await clients.wallet.writeContract({ address: token, abi: erc20Abi, functionName: 'approve', args: [spender, maxUint256] })
  expect((await clients.public.waitForTransactionReceipt({ hash })).status).toBe('success')
}

/** The custom error (or the driver's SettlementError name) a call was refused with. */
async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (error) {
    if (error instanceof SettlementError && error.errorName) return error.errorName
    return settlementRevert(error)?.errorName ?? (error instanceof Error ? error.message : String(error))
  }
  throw new Error('expected a refusal, the call succeeded')
}

/** Calls the settlement directly (no driver checks in front), simulated first: what the contract itself refuses. */
async function callSettlement(clients: Clients, address: Address, functionName: string, args: readonly unknown[]): Promise<void> {
  const { request } = await clients.public.simulateContract({ address, abi: RevenueSettlement.abi, functionName, args, account: clients.wallet.account } as never)
  const hash = await clients.wallet.writeContract(request as never)
  expect((await clients.public.waitForTransactionReceipt({ hash })).status).toBe('success')
}

async function deadlineIn(seconds: bigint): Promise<bigint> {
  return (await devnet.clients.public.getBlock({ blockTag: 'latest' })).timestamp + seconds
}

beforeAll(async () => {
  devnet = await startDevnet()
  ;[admin, treasury, payer, keeper, providers, trader, stranger] = devnet.accounts as [Address, Address, Address, Address, Address, Address, Address]
  ;[asPayer, asKeeper, asTrader, asStranger] = [payer, keeper, trader, stranger].map((a) => devnet.clientsFor(a)) as [Clients, Clients, Clients, Clients]
  uni = await deployUniswapV2(devnet.clients, { feeToSetter: admin })
  usdc = getAddress(await deployTestToken(devnet.clients, 'USD Coin (test)', 'USDC', 6))
  flock = getAddress(await deployTestToken(devnet.clients, 'FLOCK (test)', 'FLOCK', 18))
  mt = getAddress(await deploy(devnet.clients, BurnableTestToken, ['Model Token (test)', 'MT', 18]))
  otherMt = getAddress(await deploy(devnet.clients, BurnableTestToken, ['Pool-less Model Token (test)', 'MT2', 18]))
  for (const [token, amount] of [[usdc, usd('100000000')], [flock, parseUnits('100000000', 18)], [mt, parseUnits('100000000', 18)]] as const) {
    await mint(token, trader, amount)
    await approve(asTrader, token, uni.router)
  }
  for (const [tokenA, tokenB, amountA, amountB] of [[usdc, flock, USDC_IN_POOL, FLOCK_IN_USDC_POOL], [mt, flock, MT_IN_POOL, FLOCK_IN_MT_POOL]] as const)
    await addLiquidity(asTrader, uni.router, { tokenA, tokenB, amountADesired: amountA, amountBDesired: amountB, amountAMin: amountA, amountBMin: amountB, to: trader, deadline: await deadlineIn(600n) })

  // The registry takes the settlement at its construction: the settlement comes first, naming the distributor's
  // future address (the next contract the deployer creates after it).
  const poseidon = await deployPoseidon(devnet.clients)
  distributor = await nextContractAddress(devnet.clients, 1n)
  settlement = await deploySettlement(devnet.clients, { usdc, flock, router: uni.router, treasury, distributor, admin, maxOpexBps: MAX_OPEX_BPS })
  const deployed = await deployContracts(devnet.clients, { admin, publisher: admin, guardian: admin, timelockSeconds: 3600n, poseidon, revenueSettlement: settlement })
  expect(getAddress(deployed.distributor)).toBe(distributor)

  await setDeployment(devnet.clients, settlement, DEPLOYMENT, mt)
  await setDeployment(devnet.clients, settlement, POOLLESS, otherMt)
  await grantSettlementRole(devnet.clients, settlement, 'payer', payer)
  await grantSettlementRole(devnet.clients, settlement, 'keeper', keeper)
  await mint(usdc, payer, usd('1000000000'))
  await approve(asPayer, usdc, settlement)
}, 180_000)

describe('deployment', () => {
  it('is deployed before the distributor, which is built where it said and names it back', async () => {
    const info = await readSettlement(devnet.clients.public, settlement)
    expect(info).toMatchObject({ usdc, flock, router: uni.router, treasury, distributor, maxOpexBps: MAX_OPEX_BPS, pendingFlockBuyback: 0n, boughtFlock: 0n })
    expect((await devnet.clients.public.getCode({ address: distributor }))?.length).toBeGreaterThan(2)
    expect(getAddress(await devnet.clients.public.readContract({ address: distributor, abi: RewardDistributor.abi, functionName: 'revenueSettlement' }))).toBe(settlement)
  })

  it('refuses a zero address, a token or router without code, USDC as FLOCK, and a cap above 10,000 bps', async () => {
    const base = { usdc, flock, router: uni.router, treasury, distributor, admin }
    const cases: Array<[Partial<typeof base> & { maxOpexBps?: bigint }, string]> = [
      [{ treasury: zeroAddress }, 'RevenueSettlementZeroAddress'],
      [{ distributor: zeroAddress }, 'RevenueSettlementZeroAddress'],
      [{ admin: zeroAddress }, 'RevenueSettlementZeroAddress'],
      [{ usdc: stranger }, 'RevenueSettlementNotContract'],
      [{ flock: zeroAddress }, 'RevenueSettlementNotContract'],
      [{ router: stranger }, 'RevenueSettlementNotContract'],
      [{ flock: usdc }, 'RevenueSettlementSameToken'],
      [{ maxOpexBps: 10_001n }, 'RevenueSettlementBadOpexCap'],
    ]
    for (const [change, error] of cases) expect(await refusal(deploySettlement(devnet.clients, { ...base, ...change }))).toBe(error)
    // The treasury and the distributor may be accounts or contracts still to come.
    await deploySettlement(devnet.clients, { ...base, distributor: stranger, maxOpexBps: 10_000n })
  })

  it('registers a deployment once, with a burnable Model Token that is no other token of the settlement, admin only', async () => {
    const id = keccak256(toHex('registration'))
    const fresh = getAddress(await deploy(devnet.clients, BurnableTestToken, ['MT3', 'MT3', 18]))
    const plain = await deployTestToken(devnet.clients, 'Not burnable', 'NB', 18)
    expect(await refusal(setDeployment(devnet.clients, settlement, id, plain))).toBe('RevenueSettlementNotBurnable')
    for (const taken of [usdc, flock, mt]) expect(await refusal(setDeployment(devnet.clients, settlement, id, taken))).toBe('RevenueSettlementTokenTaken')
    expect(await refusal(setDeployment(devnet.clients, settlement, id, stranger))).toBe('RevenueSettlementNotContract')
    expect(await refusal(setDeployment(devnet.clients, settlement, `0x${'00'.repeat(32)}`, fresh))).toBe('RevenueSettlementZeroDeploymentId')
    expect(await refusal(setDeployment(asPayer, settlement, id, fresh))).toBe('AccessControlUnauthorizedAccount')
    await setDeployment(devnet.clients, settlement, id, fresh)
    expect(await readSettlementDeployment(devnet.clients.public, settlement, id)).toEqual({ deploymentId: id, mt: fresh, pendingMtBuyback: 0n, burnedMt: 0n })
    expect(await refusal(setDeployment(devnet.clients, settlement, id, getAddress(await deploy(devnet.clients, BurnableTestToken, ['MT4', 'MT4', 18]))))).toBe('RevenueSettlementDeploymentSet')
  })

  it('has no path out for USDC, FLOCK or Model Tokens but payments and buybacks', async () => {
    const writes = RevenueSettlement.abi.filter((item) => item.type === 'function' && item.stateMutability !== 'view' && item.stateMutability !== 'pure').map((item) => (item as { name: string }).name)
    // The admin's own (AccessControlDefaultAdminRules): its two-step transfer and delay, none of which moves a token.
    const adminRules = ['acceptDefaultAdminTransfer', 'beginDefaultAdminTransfer', 'cancelDefaultAdminTransfer', 'changeDefaultAdminDelay', 'rollbackDefaultAdminDelay']
    expect(writes.filter((w) => !adminRules.includes(w)).sort()).toEqual(['buyBackAndBurnMt', 'buyBackFlock', 'grantRole', 'pay', 'recoverERC20', 'renounceRole', 'revokeRole', 'setDeployment', 'setMaxOpexBps'])
    expect(writes.filter((w) => adminRules.includes(w)).sort()).toEqual(adminRules)
    for (const token of [usdc, flock, mt, otherMt])
      expect(await refusal(callSettlement(devnet.clients, settlement, 'recoverERC20', [token, admin, 0n]))).toBe('RevenueSettlementProtectedToken')
    // A token sent by mistake that is none of them is returned, by the admin only.
    const stray = await deployTestToken(devnet.clients, 'Stray', 'STRAY', 18)
    await mint(stray, settlement, 5n)
    expect(await refusal(callSettlement(asStranger, settlement, 'recoverERC20', [stray, stranger, 5n]))).toBe('AccessControlUnauthorizedAccount')
    await callSettlement(devnet.clients, settlement, 'recoverERC20', [stray, stranger, 5n])
    expect(await balanceOf(stray, stranger)).toBe(5n)
  })
})

describe('paying revenue', () => {
  /** Every balance a payment moves, before and after. */
  async function snapshot(deploymentId: Hex = DEPLOYMENT) {
    const [payerUsdc, treasuryUsdc, distributorUsdc, providersUsdc, settlementUsdc, pendingFlock, deployment] = await Promise.all([
      balanceOf(usdc, payer),
      balanceOf(usdc, treasury),
      balanceOf(usdc, distributor),
      balanceOf(usdc, providers),
      balanceOf(usdc, settlement),
      read('pendingFlockBuyback'),
      readSettlementDeployment(devnet.clients.public, settlement, deploymentId),
    ])
    return { payerUsdc, treasuryUsdc, distributorUsdc, providersUsdc, settlementUsdc, pendingFlock, pendingMt: deployment.pendingMtBuyback }
  }

  /** What a payment moved: each part where it went, and the charged revenue out of the payer. */
  function moved(before: Awaited<ReturnType<typeof snapshot>>, after: Awaited<ReturnType<typeof snapshot>>) {
    return {
      charged: before.payerUsdc - after.payerUsdc,
      opex: after.providersUsdc - before.providersUsdc,
      split: {
        flockBuyback: after.pendingFlock - before.pendingFlock,
        treasury: after.treasuryUsdc - before.treasuryUsdc,
        mtBuybackBurn: after.pendingMt - before.pendingMt,
        issuerYield: after.distributorUsdc - before.distributorUsdc,
      } satisfies Waterfall,
      held: after.settlementUsdc - before.settlementUsdc,
    }
  }

  it("splits the paper's check values: P_net = $10,000 -> 3,000 / 3,000 / 3,000 / 1,000 USDC", async () => {
    const epoch = freshEpoch()
    const before = await snapshot()
    const paid = await payRevenue(asPayer, settlement, { epoch, deploymentId: DEPLOYMENT, charged: usd('12000'), opex: usd('2000'), opexRecipient: providers })
    const expected = { flockBuyback: usd('3000'), treasury: usd('3000'), mtBuybackBurn: usd('3000'), issuerYield: usd('1000') }
    expect(paid).toMatchObject({ pNet: usd('10000'), split: expected })
    expect(moved(before, await snapshot())).toEqual({ charged: usd('12000'), opex: usd('2000'), split: expected, held: usd('6000') })
    const { total, of } = await readPaid(devnet.clients.public, settlement, epoch, [DEPLOYMENT, POOLLESS])
    expect(total).toBe(usd('12000'))
    expect(of.get(DEPLOYMENT)).toBe(usd('12000'))
    expect(of.get(POOLLESS)).toBe(0n)
  })

  it('computes the waterfall as revenueWaterfall for any P_net up to 2^256 - 1, with the same shares', async () => {
    const s = { address: settlement, abi: RevenueSettlement.abi } as const
    const pub = devnet.clients.public
    expect([await pub.readContract({ ...s, functionName: 'FLOCK_BUYBACK_BPS' }), await pub.readContract({ ...s, functionName: 'TREASURY_BPS' }), await pub.readContract({ ...s, functionName: 'MT_BUYBACK_BURN_BPS' }), await pub.readContract({ ...s, functionName: 'ISSUER_YIELD_BPS' })]).toEqual([
      WATERFALL_BPS.flockBuyback,
      WATERFALL_BPS.treasury,
      WATERFALL_BPS.mtBuybackBurn,
      WATERFALL_BPS.issuerYield,
    ])
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.bigInt({ min: 0n, max: 100_000n }), fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.bigInt({ min: 0n, max: maxUint256 })), async (pNet) => {
        expect(await pub.readContract({ ...s, functionName: 'waterfall', args: [pNet] })).toEqual(revenueWaterfall(pNet))
      }),
      { numRuns: 300 },
    )
  })

  it('pays every random charged revenue and OpEx in full: OpEx plus the parts is the charged revenue, the parts revenueWaterfall', async () => {
    const payment = fc.bigInt({ min: 1n, max: usd('10000000') }).chain((charged) => fc.tuple(fc.constant(charged), fc.bigInt({ min: 0n, max: (charged * MAX_OPEX_BPS) / 10_000n })))
    await fc.assert(
      fc.asyncProperty(payment, async ([charged, opex]) => {
        const epoch = freshEpoch()
        const before = await snapshot()
        const paid = await payRevenue(asPayer, settlement, { epoch, deploymentId: DEPLOYMENT, charged, opex, opexRecipient: providers })
        const split = revenueWaterfall(netRevenue(charged, opex))
        expect(paid.split).toEqual(split)
        const m = moved(before, await snapshot())
        expect(m).toEqual({ charged, opex, split, held: split.flockBuyback + split.mtBuybackBurn })
        expect(m.opex + m.split.flockBuyback + m.split.treasury + m.split.mtBuybackBurn + m.split.issuerYield).toBe(charged)
        expect((await readPaid(devnet.clients.public, settlement, epoch, [DEPLOYMENT])).of.get(DEPLOYMENT)).toBe(charged)
      }),
      { numRuns: 100 },
    )
  })

  it('adds a second payment of the same (epoch, deployment) to the first (a short payment is topped up); another deployment of the epoch adds to its total', async () => {
    const epoch = freshEpoch()
    await payRevenue(asPayer, settlement, { epoch, deploymentId: DEPLOYMENT, charged: usd('100') })
    const before = await snapshot()
    const again = await payRevenue(asPayer, settlement, { epoch, deploymentId: DEPLOYMENT, charged: usd('25') })
    expect(again.split).toEqual(revenueWaterfall(usd('25')))
    expect(moved(before, await snapshot()).charged).toBe(usd('25'))
    await payRevenue(asPayer, settlement, { epoch, deploymentId: POOLLESS, charged: usd('50') })
    const { total, of } = await readPaid(devnet.clients.public, settlement, epoch, [DEPLOYMENT, POOLLESS])
    expect([total, of.get(DEPLOYMENT), of.get(POOLLESS)]).toEqual([usd('175'), usd('125'), usd('50')])
  })

  it('refuses an under-payment: a USDC that takes a fee on transfer delivers less than charged', async () => {
    const feeUsdc = getAddress(await deploy(devnet.clients, FeeOnTransferToken, ['Fee USD (test)', 'fUSD', 6, 100n]))
    const s = await deploySettlement(devnet.clients, { usdc: feeUsdc, flock, router: uni.router, treasury, distributor, admin })
    await setDeployment(devnet.clients, s, DEPLOYMENT, mt)
    await grantSettlementRole(devnet.clients, s, 'payer', payer)
    await mint(feeUsdc, payer, usd('1000'))
    const error = await payRevenue(asPayer, s, { epoch: 1n, deploymentId: DEPLOYMENT, charged: usd('1000') }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SettlementError)
    // 1 % burned on the way: 990 of the 1,000 arrived.
    expect(error).toMatchObject({ errorName: 'RevenueSettlementUnderpaid', errorArgs: [usd('1000'), usd('990')] })
    expect((error as Error).message).toMatch(/took a fee on the transfer/)
    expect((await readPaid(devnet.clients.public, s, 1n, [DEPLOYMENT])).total).toBe(0n)
    expect(await balanceOf(feeUsdc, payer)).toBe(usd('1000'))
  })

  it('refuses OpEx above the cap (the cap itself passes), OpEx without a recipient, and a cap above 10,000 bps', async () => {
    const charged = usd('10000') + 7n
    const cap = (charged * MAX_OPEX_BPS) / 10_000n
    const error = await payRevenue(asPayer, settlement, { epoch: freshEpoch(), deploymentId: DEPLOYMENT, charged, opex: cap + 1n, opexRecipient: providers }).catch((e: unknown) => e)
    expect(error).toMatchObject({ errorName: 'RevenueSettlementOpexAboveCap', errorArgs: [cap + 1n, cap] })
    expect((error as Error).message).toMatch(/setMaxOpexBps/)
    expect(await refusal(payRevenue(asPayer, settlement, { epoch: freshEpoch(), deploymentId: DEPLOYMENT, charged, opex: 1n }))).toBe('RevenueSettlementZeroAddress')
    expect((await payRevenue(asPayer, settlement, { epoch: freshEpoch(), deploymentId: DEPLOYMENT, charged, opex: cap, opexRecipient: providers })).pNet).toBe(charged - cap)

    // A cap of 0 allows no OpEx at all; the admin alone sets it, logged, at most 10,000 bps.
    const s = await deploySettlement(devnet.clients, { usdc, flock, router: uni.router, treasury, distributor, admin })
    await setDeployment(devnet.clients, s, DEPLOYMENT, mt)
    await grantSettlementRole(devnet.clients, s, 'payer', payer)
    await approve(asPayer, usdc, s)
    expect(await refusal(payRevenue(asPayer, s, { epoch: 1n, deploymentId: DEPLOYMENT, charged: usd('1'), opex: 1n, opexRecipient: providers }))).toBe('RevenueSettlementOpexAboveCap')
    expect(await refusal(setMaxOpexBps(asPayer, s, 100n))).toBe('AccessControlUnauthorizedAccount')
    expect(await refusal(setMaxOpexBps(devnet.clients, s, 10_001n))).toBe('RevenueSettlementBadOpexCap')
    await setMaxOpexBps(devnet.clients, s, 10_000n)
    expect((await readSettlement(devnet.clients.public, s)).maxOpexBps).toBe(10_000n)
    expect((await payRevenue(asPayer, s, { epoch: 1n, deploymentId: DEPLOYMENT, charged: usd('1'), opex: usd('1'), opexRecipient: providers })).split).toEqual(revenueWaterfall(0n))
  })

  it('takes payments from payers only, for registered deployments, of a positive amount the payer holds', async () => {
    await mint(usdc, stranger, usd('10'))
    await approve(asStranger, usdc, settlement)
    expect(await refusal(payRevenue(asStranger, settlement, { epoch: freshEpoch(), deploymentId: DEPLOYMENT, charged: usd('10') }))).toBe('AccessControlUnauthorizedAccount')
    expect(await refusal(payRevenue(asPayer, settlement, { epoch: freshEpoch(), deploymentId: keccak256(toHex('unknown')), charged: usd('10') }))).toBe('RevenueSettlementUnknownDeployment')
    expect(await refusal(payRevenue(asPayer, settlement, { epoch: freshEpoch(), deploymentId: DEPLOYMENT, charged: 0n }))).toBe('RevenueSettlementZeroAmount')
    await expect(payRevenue(asStranger, settlement, { epoch: freshEpoch(), deploymentId: DEPLOYMENT, charged: usd('11') })).rejects.toThrow(/holds 10000000 of USDC .* less than the 11000000 charged/)
  })
})

describe('buybacks', () => {
  /** Pays enough revenue that both buybacks have USDC pending. */
  async function fund(charged = usd('20000')) {
    await payRevenue(asPayer, settlement, { epoch: freshEpoch(), deploymentId: DEPLOYMENT, charged })
  }

  it('buys FLOCK with pending USDC and sends the treasury exactly what the router quoted', async () => {
    await fund()
    const pending = await read('pendingFlockBuyback')
    const amountIn = pending / 2n
    const { amountOut: quoted } = await quoteExactIn(devnet.clients, uni.router, amountIn, [usdc, flock])
    const [treasuryFlock, bought] = [await balanceOf(flock, treasury), await read('boughtFlock')]
    const result = await buyBackFlock(asKeeper, settlement, { amountIn, slippageBps: 0n })
    expect(result).toMatchObject({ amountIn, quoted, minOut: quoted, amountOut: quoted })
    expect(await balanceOf(flock, treasury)).toBe(treasuryFlock + quoted)
    expect(await balanceOf(flock, settlement)).toBe(0n)
    expect(await read('boughtFlock')).toBe(bought + quoted)
    expect(await read('pendingFlockBuyback')).toBe(pending - amountIn)
  })

  it('buys MT through FLOCK with pending USDC and burns it: the supply drops by exactly the router quote', async () => {
    await fund()
    const before = await readSettlementDeployment(devnet.clients.public, settlement, DEPLOYMENT)
    const { amountOut: quoted } = await quoteExactIn(devnet.clients, uni.router, before.pendingMtBuyback, [usdc, flock, mt])
    const supply = await totalSupply(mt)
    const result = await buyBackAndBurnMt(asKeeper, settlement, DEPLOYMENT, { slippageBps: 0n })
    expect(result).toMatchObject({ amountIn: before.pendingMtBuyback, quoted, amountOut: quoted })
    expect(await totalSupply(mt)).toBe(supply - quoted)
    expect(await balanceOf(mt, settlement)).toBe(0n)
    expect(await readSettlementDeployment(devnet.clients.public, settlement, DEPLOYMENT)).toMatchObject({ pendingMtBuyback: 0n, burnedMt: before.burnedMt + quoted })
  })

  it('reverts a swap the price moved past its minimum, keeping the USDC pending, and buys once quoted again', async () => {
    await fund()
    const pending = await read('pendingFlockBuyback')
    const { amountOut: stale } = await quoteExactIn(devnet.clients, uni.router, pending, [usdc, flock])
    // Someone buys FLOCK first: the keeper's quote is now above what the pool pays.
    await swapExactTokensForTokens(asTrader, uni.router, { amountIn: usd('50000'), amountOutMin: 1n, path: [usdc, flock], to: trader, deadline: await deadlineIn(600n) })
    const treasuryFlock = await balanceOf(flock, treasury)
    await expect(buyBackFlock(asKeeper, settlement, { minOut: stale })).rejects.toThrow(/FLOCK buyback of \d+ USDC was refused: UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT[\s\S]*stays pending/)
    expect(await read('pendingFlockBuyback')).toBe(pending)
    expect(await balanceOf(flock, treasury)).toBe(treasuryFlock)
    // Later, with a fresh quote, the same USDC buys.
    const result = await buyBackFlock(asKeeper, settlement, { slippageBps: 50n })
    expect(result.amountOut).toBeLessThan(stale)
    expect(result.amountOut).toBeGreaterThanOrEqual(result.minOut)
    expect(await balanceOf(flock, treasury)).toBe(treasuryFlock + result.amountOut)
    expect(await read('pendingFlockBuyback')).toBe(0n)
  })

  it('runs buybacks for keepers only', async () => {
    await fund()
    for (const clients of [asPayer, asStranger, devnet.clients]) {
      expect(await refusal(buyBackFlock(clients, settlement, { slippageBps: 50n }))).toBe('AccessControlUnauthorizedAccount')
      expect(await refusal(buyBackAndBurnMt(clients, settlement, DEPLOYMENT, { slippageBps: 50n }))).toBe('AccessControlUnauthorizedAccount')
    }
  })

  it('refuses a buyback after its deadline, a zero minimum and more than is pending, keeping the USDC pending', async () => {
    await fund()
    const pending = await read('pendingFlockBuyback')
    const mtPending = (await readSettlementDeployment(devnet.clients.public, settlement, DEPLOYMENT)).pendingMtBuyback
    const deadline = await deadlineIn(60n)
    await devnet.increaseTime(120)
    const expired = await buyBackFlock(asKeeper, settlement, { slippageBps: 50n, deadline }).catch((e: unknown) => e)
    expect(expired).toMatchObject({ errorName: 'RevenueSettlementExpired' })
    expect((expired as Error).message).toMatch(/later deadline/)
    expect(await refusal(buyBackAndBurnMt(asKeeper, settlement, DEPLOYMENT, { slippageBps: 50n, deadline }))).toBe('RevenueSettlementExpired')
    expect(await refusal(callSettlement(asKeeper, settlement, 'buyBackFlock', [pending, 0n, await deadlineIn(600n)]))).toBe('RevenueSettlementZeroMinimum')
    expect(await refusal(callSettlement(asKeeper, settlement, 'buyBackFlock', [pending + 1n, 1n, await deadlineIn(600n)]))).toBe('RevenueSettlementAbovePending')
    expect(await refusal(callSettlement(asKeeper, settlement, 'buyBackAndBurnMt', [DEPLOYMENT, 0n, 1n, await deadlineIn(600n)]))).toBe('RevenueSettlementZeroAmount')
    expect(await refusal(callSettlement(asKeeper, settlement, 'buyBackAndBurnMt', [keccak256(toHex('unknown')), 1n, 1n, await deadlineIn(600n)]))).toBe('RevenueSettlementUnknownDeployment')
    await expect(buyBackFlock(asKeeper, settlement, { amountIn: pending + 1n, slippageBps: 50n })).rejects.toThrow(/asked, \d+ pending/)
    expect(await read('pendingFlockBuyback')).toBe(pending)
    expect((await readSettlementDeployment(devnet.clients.public, settlement, DEPLOYMENT)).pendingMtBuyback).toBe(mtPending)
  })

  it('cannot swap a Model Token without a pool: the buyback reverts and its USDC stays pending until there is one', async () => {
    const queued = (await readSettlementDeployment(devnet.clients.public, settlement, POOLLESS)).pendingMtBuyback
    await payRevenue(asPayer, settlement, { epoch: freshEpoch(), deploymentId: POOLLESS, charged: usd('1000') })
    const { pendingMtBuyback } = await readSettlementDeployment(devnet.clients.public, settlement, POOLLESS)
    expect(pendingMtBuyback).toBe(queued + usd('300'))
    await expect(buyBackAndBurnMt(asKeeper, settlement, POOLLESS, { slippageBps: 50n })).rejects.toThrow(ChainError)
    await expect(buyBackAndBurnMt(asKeeper, settlement, POOLLESS, { minOut: 1n })).rejects.toThrow(/MT buyback-and-burn of \d+ USDC for deployment 0x[0-9a-f]+ failed[\s\S]*without a pool/)
    expect(await readSettlementDeployment(devnet.clients.public, settlement, POOLLESS)).toMatchObject({ pendingMtBuyback, burnedMt: 0n })

    // The pool appears: the same USDC buys and burns.
    await mint(otherMt, trader, MT_IN_POOL)
    await approve(asTrader, otherMt, uni.router)
    await addLiquidity(asTrader, uni.router, { tokenA: otherMt, tokenB: flock, amountADesired: MT_IN_POOL, amountBDesired: FLOCK_IN_MT_POOL, amountAMin: MT_IN_POOL, amountBMin: FLOCK_IN_MT_POOL, to: trader, deadline: await deadlineIn(600n) })
    const supply = await totalSupply(otherMt)
    const { amountOut } = await buyBackAndBurnMt(asKeeper, settlement, POOLLESS, { slippageBps: 0n })
    expect(await totalSupply(otherMt)).toBe(supply - amountOut)
    expect(await readSettlementDeployment(devnet.clients.public, settlement, POOLLESS)).toMatchObject({ pendingMtBuyback: 0n, burnedMt: amountOut })
  })
})

describe('the registry', () => {
  it('finalizes an epoch only once its committed charged revenue is paid (short payments topped up)', async () => {
    const { deployStaking, distributorAt } = await import('../../src/chain/contracts.ts')
    const { distributorDomain } = await import('../../src/epoch/rewards.ts')
    const registry = distributorAt(devnet.clients, distributor)
    const sent = async (hash: Promise<Hex>) => expect((await devnet.clients.public.waitForTransactionReceipt({ hash: await hash })).status).toBe('success')
    const config = keccak256(toHex('config'))
    await sent(registry.write.scheduleConfig([config, keccak256(toHex('reward parameters')), [DEPLOYMENT], [await deployStaking(devnet.clients, mt, admin, 3000n, 2n, 1n)], [], [], []]))
    const epoch = freshEpoch()
    await devnet.mine(1)
    const snapshotBlock = (await devnet.clients.public.getBlockNumber({ cacheTime: 0 })) - 1n
    const root = keccak256(toHex('roots'))
    const due = usd('1000')
    const domain = distributorDomain(await devnet.clients.public.getChainId(), distributor)
    await sent(registry.write.propose([epoch, { spendRoot: root, rewardRoot: root, totalGross: due, totalCharged: due, receiptCount: 1n, manifestHash: root, domain, proofsHash: `0x${'00'.repeat(32)}`, configHash: config, snapshotBlock, ledgerHash: root }, '']))
    await devnet.increaseTime(3600)
    const unpaid = async (paid: bigint) => {
      const error = await registry.write.finalize([epoch]).catch((e: unknown) => e)
      expect((error as Error).message).toMatch(new RegExp(`EpochRegistryRevenueUnpaid\\("0x0{64}", ${due}, ${paid}\\)`))
    }
    await unpaid(0n)
    await payRevenue(asPayer, settlement, { epoch, deploymentId: DEPLOYMENT, charged: usd('600') })
    await unpaid(usd('600'))
    await payRevenue(asPayer, settlement, { epoch, deploymentId: DEPLOYMENT, charged: usd('400') })
    await sent(registry.write.finalize([epoch]))
    expect(await registry.read.currentRewardRoot()).toBe(root)
  })
})
