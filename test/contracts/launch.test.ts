/**
 * The MT launch by RMO on the in-process EVM (src/chain/devnet.ts): every vector of fixtures/rmo/vectors.json
 * (computed by src/economics/rmo.ts) replayed through MTLaunchFactory and RmoSale and compared to the base unit, buys
 * at launch sharing the launch's block; the sale's rules (slippage and deadline bounds, the state machine, refunds
 * of a failed raise, a lapse 30 days after the end, no sell path, constructor checks), the launch fee, the floors on G
 * and the minimum raise and the registry, the Model Token's supply (all of it escrowed in the sale until graduation);
 * the viem drivers of src/chain/launch.ts; and random buy sequences against
 * simulateRaise with conservation invariants. Sales graduate into a real Uniswap v2 (the graduation itself is
 * test/contracts/graduation.test.ts's).
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { getAddress, getContract, getContractAddress, keccak256, maxUint256, parseEventLogs, toHex, zeroAddress, type Abi, type Address, type Hex, type TransactionReceipt } from 'viem'
import { parseJsonDocument } from '../../src/base/json.ts'
import { deploy, deployTestToken } from '../../src/chain/contracts.ts'
import { deployEpochFunding, grantStreamRole } from '../../src/chain/funding.ts'
import { deployUniswapV2, type UniswapV2Deployment } from '../../src/chain/uniswap.ts'
import { MTLaunchFactory, ModelToken, RmoSale, TestToken } from '../../src/chain/contracts.generated.ts'
import { startDevnet, type Devnet } from '../../src/chain/devnet.ts'
import {
  buyExactMt,
  buyWithFlock,
  claimSaleMt,
  DEFAULT_GRADUATION_TARGET_FLOOR,
  DEFAULT_MIN_RAISE_FLOOR,
  deployLaunchFactory,
  graduateSale,
  GRADUATION_WINDOW_SECONDS,
  graduatorOf,
  LaunchError,
  launchFloorsOf,
  launchOf,
  launchRmo,
  positionOf,
  quoteSale,
  readCirculatingSupply,
  readSale,
  refundSale,
  revertedWith,
  SALE_STATES,
  type LaunchFactoryOptions,
  type LaunchParameters,
} from '../../src/chain/launch.ts'
import { WAD } from '../../src/economics/math.ts'
import { antiSnipingFeeBps, createCurve, DEFAULT_FEES, raiseForSold, simulateRaise, soldAt, type Buy, type FeeSchedule } from '../../src/economics/rmo.ts'
import { allocateSupply, MT_TOTAL_SUPPLY, pairedLiquidityMt } from '../../src/economics/supply.ts'
import { readRmoVectors, renderRmoVectors, RMO_VECTORS, RMO_VECTORS_FORMAT, type RmoVector } from '../generate-rmo-vectors.ts'
import { expectRevert, inOneBlock, nextSale, type GasOptions } from './blocks.ts'

const E = 10n ** 18n
const GWEI = 10n ** 9n
const ALLOCATION = allocateSupply()
const S = ALLOCATION.publicSale
const L = ALLOCATION.liquidity
const LAUNCH_FEE = 250n * E
const PAPER_FEES: FeeSchedule = { ...DEFAULT_FEES, antiSnipingStartBps: 1125n, antiSnipingWindowSeconds: 600n }
const PAPER = { graduationTarget: 50_000n * E, startPrice: E / 10n }

let devnet: Devnet
let flock: Address
let deployer: Address, issuer: Address, treasury: Address, outsider: Address
/** The Uniswap v2 sales graduate into. */
let uni: UniswapV2Deployment
/** Buyers of the vectors (alice, bob, carol, dave, in order of first appearance) and of the property test. */
let buyers: Address[]

beforeAll(async () => {
  devnet = await startDevnet()
  ;[deployer, issuer, treasury, , outsider] = devnet.accounts as [Address, Address, Address, Address, Address]
  buyers = devnet.accounts.slice(5, 12)
  flock = await deployTestToken(devnet.clients, 'FLOCK (test)', 'FLOCK', 18)
  uni = await deployUniswapV2(devnet.clients, { feeToSetter: deployer })
}, 120_000)

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

const pub = () => devnet.clients.public
const rpc = (method: string, params: unknown[] = []) => pub().request({ method, params } as never) as Promise<unknown>
const latestTimestamp = async () => (await pub().getBlock({ blockTag: 'latest' })).timestamp

const walletOf = (account: Address) => devnet.clientsFor(account).wallet
const flockAs = (account: Address) => getContract({ abi: TestToken.abi, address: flock, client: { public: pub(), wallet: walletOf(account) } })
const saleAs = (sale: Address, account: Address) => getContract({ abi: RmoSale.abi, address: sale, client: { public: pub(), wallet: walletOf(account) } })
const factoryAs = (factory: Address, account: Address) => getContract({ abi: MTLaunchFactory.abi, address: factory, client: { public: pub(), wallet: walletOf(account) } })
const tokenAt = (token: Address) => getContract({ abi: ModelToken.abi, address: token, client: { public: pub(), wallet: walletOf(deployer) } })
const flockOf = (account: Address) => flockAs(deployer).read.balanceOf([account])

async function mined(hash: Promise<Hex>): Promise<TransactionReceipt> {
  const receipt = await pub().waitForTransactionReceipt({ hash: await hash })
  expect(receipt.status).toBe('success')
  return receipt
}


/** No floor on G or the minimum raise: the sale's own checks are the only ones (the vectors' and properties' wei-sized sales). */
const NO_FLOORS = { graduationTargetFloor: 0n, minRaiseFloor: 0n }

/**
 * A launch factory with its own EpochFunding, whose STREAM_ROLE its graduator holds, so its sales can graduate; with
 * no floors unless given (`deployLaunchFactory`'s defaults are tested on their own).
 */
async function newFactory(fees: FeeSchedule, launchFee = LAUNCH_FEE, floors: Pick<LaunchFactoryOptions, 'graduationTargetFloor' | 'minRaiseFloor'> = NO_FLOORS): Promise<Address> {
  const epochFunding = await deployEpochFunding(devnet.clients, { admin: deployer, flock, epochSeconds: 86_400n, dailyEmission: 0n, treasury })
  const factory = await deployLaunchFactory(devnet.clients, { flock, treasury, launchFee, fees, uniswapFactory: uni.factory, epochFunding, ...floors })
  await grantStreamRole(devnet.clients, epochFunding, await graduatorOf(pub(), factory))
  return factory
}

let ids = 0
const freshId = (): Hex => keccak256(toHex(`deployment ${++ids}`))

function launchParameters(p: Partial<LaunchParameters> = {}): LaunchParameters {
  return { deploymentId: freshId(), name: 'QwenALICE', symbol: 'QALICE', ...PAPER, minRaise: 20_000n * E, durationSeconds: 86_400n, ...p }
}

/** Launches as the issuer (funded for the fee) through the driver; the sale and token. */
async function launched(factory: Address, p: Partial<LaunchParameters> = {}) {
  await mined(flockAs(deployer).write.mint([issuer, LAUNCH_FEE]))
  return launchRmo(devnet.clientsFor(issuer), factory, launchParameters(p))
}

async function fund(account: Address, amount: bigint, spender: Address) {
  await mined(flockAs(deployer).write.mint([account, amount]))
  await mined(flockAs(account).write.approve([spender, maxUint256]))
}

function boughtIn(receipt: TransactionReceipt) {
  const [event] = parseEventLogs({ abi: RmoSale.abi, eventName: 'Bought', logs: receipt.logs })
  return event!.args
}

// ---------------------------------------------------------------------------------------------------------------
// Shared vectors
// ---------------------------------------------------------------------------------------------------------------

const vectors = readRmoVectors(parseJsonDocument(readFileSync(RMO_VECTORS, 'utf8'), RMO_VECTORS))

describe('shared vectors (fixtures/rmo/vectors.json)', () => {
  it(`is ${RMO_VECTORS_FORMAT}, what test/generate-rmo-vectors.ts renders from src/economics/rmo.ts, and covers its cases`, () => {
    expect(readFileSync(RMO_VECTORS, 'utf8')).toBe(renderRmoVectors())
    expect(() => readRmoVectors({ format: 'fomo-rmo-vectors-v0', vectors: [] })).toThrow(RMO_VECTORS_FORMAT)
    const fills = vectors.flatMap((v) => v.fills.map((f, i) => ({ v, f, buy: v.buys[i]! })))
    // The paper's check value: 100 FLOCK into a fresh curve buys S(100) = 999.500249875062468765 MT.
    expect(vectors.find((v) => v.name === 'paper')!.fills[0]!.mtOut).toBe(999_500_249_875_062_468_765n)
    expect(new Set(vectors.map((v) => v.result.outcome))).toEqual(new Set(['graduated', 'graduated-at-deadline', 'failed']))
    expect(fills.some(({ buy }) => buy.at === 0n)).toBe(true)
    expect(fills.some(({ v, buy }) => buy.at > 0n && buy.at < v.fees.antiSnipingWindowSeconds)).toBe(true)
    expect(fills.some(({ v, buy }) => v.fees.antiSnipingWindowSeconds > 0n && buy.at >= v.fees.antiSnipingWindowSeconds)).toBe(true)
    expect(fills.some(({ f, buy }) => f.graduates && buy.flock !== undefined && f.unfilled > 0n)).toBe(true)
    expect(fills.some(({ f, buy }) => f.graduates && buy.mt !== undefined)).toBe(true)
    expect(fills.some(({ f }) => f.antiSnipingFee > 0n)).toBe(true)
  })

  for (const v of vectors)
    it(`replays "${v.name}" on chain to the base unit: ${v.description}`, async () => {
      await replay(v)
    })
})

/**
 * Launches the vector's sale and sends its buys, those of one second in one block (at launch: the launch's own
 * block), each bounded by exactly the expected result (minMtOut = mtOut, maxFlockIn = totalPaid, deadline = the block's
 * time), and compares every event, total, position and balance; then ends the sale as the vector does and pays out.
 */
async function replay(v: RmoVector) {
  const names = [...new Set(v.buys.map((b) => b.buyer))]
  const who = (name: string) => buyers[names.indexOf(name)]!
  const factory = await newFactory(v.fees)
  const sale = await nextSale(pub(), factory)
  // Each buyer holds exactly what the vector makes it pay, and approves the sale before it exists.
  const start = new Map<Address, bigint>()
  for (const name of names) {
    const b = v.result.buyers.get(name)!
    start.set(who(name), (await flockOf(who(name))) + b.curveIn + b.fees)
    await fund(who(name), b.curveIn + b.fees, sale)
  }
  await mined(flockAs(deployer).write.mint([issuer, LAUNCH_FEE]))
  await mined(flockAs(issuer).write.approve([factory, LAUNCH_FEE]))
  const [issuerBefore, treasuryBefore] = [await flockOf(issuer), await flockOf(treasury)]

  const p = launchParameters({ graduationTarget: v.curve.graduationTarget, startPrice: v.curve.startPrice, minRaise: v.minRaise, durationSeconds: v.durationSeconds })
  const { durationSeconds, ...rest } = p
  const launchCall = (gas: GasOptions) => factoryAs(factory, issuer).write.launch([{ ...rest, duration: durationSeconds }], gas)
  const buyCall = (i: number, timestamp: bigint) => (gas: GasOptions) => {
    const b = v.buys[i]!
    const f = v.fills[i]!
    const s = saleAs(sale, who(b.buyer))
    return b.mt !== undefined ? s.write.buyExactMt([b.mt, f.totalPaid, timestamp], gas) : s.write.buy([b.flock, f.mtOut, timestamp], gas)
  }
  const groups: Array<{ at: bigint; indices: number[] }> = []
  v.buys.forEach((b, i) => (groups.at(-1)?.at === b.at ? groups.at(-1)!.indices.push(i) : groups.push({ at: b.at, indices: [i] })))

  const events: Array<ReturnType<typeof boughtIn>> = []
  let launchedAt: bigint
  if (groups[0]!.at === 0n) {
    launchedAt = (await latestTimestamp()) + 1n
    const [, ...receipts] = await inOneBlock(pub(), launchedAt, [launchCall, ...groups.shift()!.indices.map((i) => buyCall(i, launchedAt))])
    events.push(...receipts.map(boughtIn))
  } else {
    expect((await launchRmo(devnet.clientsFor(issuer), factory, p)).sale).toBe(sale)
    launchedAt = (await readSale(pub(), sale)).launchedAt
  }
  for (const g of groups) events.push(...(await inOneBlock(pub(), launchedAt + g.at, g.indices.map((i) => buyCall(i, launchedAt + g.at)))).map(boughtIn))

  // Every buy, to the base unit.
  expect(events.length).toBe(v.fills.length)
  v.fills.forEach((f, i) => {
    const e = events[i]!
    expect(e.buyer, `buy ${i}`).toBe(who(f.buyer))
    expect({ curveIn: e.curveIn, mtOut: e.mtOut, creatorFee: e.creatorFee, protocolFee: e.protocolFee, antiSnipingFee: e.antiSnipingFee, raisedAfter: e.raisedAfter }, `buy ${i}`).toEqual({
      curveIn: f.curveIn,
      mtOut: f.mtOut,
      creatorFee: f.creatorFee,
      protocolFee: f.protocolFee,
      antiSnipingFee: f.antiSnipingFee,
      raisedAfter: f.raisedAfter,
    })
    const order = v.buys[i]!
    if (order.flock !== undefined) expect(order.flock - e.curveIn).toBe(f.unfilled)
  })

  // The sale's parameters and totals.
  const info = await readSale(pub(), sale)
  expect({ saleSupply: info.curve.saleSupply, graduationTarget: info.curve.graduationTarget, startPrice: info.curve.startPrice, xNum: info.curve.xNum, yNum: info.curve.yNum, den: info.curve.den }).toEqual(v.curve)
  expect(info.fees).toEqual(v.fees)
  expect([info.minRaise, info.launchedAt, info.endsAt]).toEqual([v.minRaise, launchedAt, launchedAt + v.durationSeconds])
  expect([info.raised, info.sold]).toEqual([v.result.raised, v.result.sold])
  expect(info.state).toBe(v.result.outcome === 'graduated' ? 'succeeded' : 'active')
  // The driver's quote (rmo.ts's quoteBuy, an exact-MT order turned into curve input) gives every fill, in turn.
  let at = { ...info, state: 'active' as const, raised: 0n, sold: 0n }
  v.fills.forEach((f, i) => {
    const { buyer, graduates, ...numbers } = f
    const q = quoteSale(at, v.buys[i]!, launchedAt + f.at)
    expect({ ...q, at: f.at }, `quote of buy ${i} (${buyer})`).toMatchObject({ ...numbers, graduates })
    at = { ...at, raised: q.raisedAfter, sold: at.sold + q.mtOut }
  })

  // Balances: the sale holds exactly the curve input, fees went out at once, each buyer paid exactly its total.
  expect(await flockOf(sale)).toBe(v.result.raised)
  expect((await flockOf(issuer)) - issuerBefore).toBe(v.result.creatorFees - LAUNCH_FEE)
  expect((await flockOf(treasury)) - treasuryBefore).toBe(v.result.protocolFees + LAUNCH_FEE)
  for (const name of names) {
    const b = v.result.buyers.get(name)!
    expect(await flockOf(who(name)), name).toBe(start.get(who(name))! - b.curveIn - b.fees)
    expect(await positionOf(pub(), sale, who(name)), name).toEqual({ curveIn: b.curveIn, mt: b.mt })
  }
  const token = tokenAt(info.token)
  // The whole supply is escrowed in the sale until graduation.
  expect(await token.read.balanceOf([sale])).toBe(MT_TOTAL_SUPPLY)

  // The end of the sale, and what each buyer gets out of it.
  if (v.result.outcome !== 'graduated') {
    await rpc('evm_mine', [Number(info.endsAt)])
    expect((await readSale(pub(), sale)).state).toBe(v.result.outcome === 'failed' ? 'failed' : 'succeeded')
  }
  const keeper = devnet.clientsFor(outsider)
  if (v.result.outcome === 'failed') {
    for (const name of names) {
      const b = v.result.buyers.get(name)!
      expect((await refundSale(keeper, sale, who(name))).amount).toBe(b.refund)
      // Fees kept: the buyer is out exactly its fees.
      expect(await flockOf(who(name))).toBe(start.get(who(name))! - b.fees)
    }
    expect(await flockOf(sale)).toBe(0n)
  } else {
    await graduateSale(keeper, sale)
    expect((await readSale(pub(), sale)).state).toBe('graduated')
    for (const name of names) expect((await claimSaleMt(keeper, sale, who(name))).amount).toBe(v.result.buyers.get(name)!.mt)
    for (const name of names) expect(await token.read.balanceOf([who(name)])).toBe(v.result.buyers.get(name)!.mt)
    // The raise and the placed MT went to the graduation, the unsold MT and the liquidity MT not paired (below G) were
    // burned, the buyers are paid: nothing is left.
    expect(await token.read.balanceOf([sale])).toBe(0n)
    expect(await token.read.totalSupply()).toBe(MT_TOTAL_SUPPLY - (S - v.result.sold) - (L - pairedLiquidityMt(v.result.raised, v.curve.graduationTarget)))
    expect(await flockOf(sale)).toBe(0n)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The Model Token and the launch
// ---------------------------------------------------------------------------------------------------------------

describe('ModelToken', () => {
  it('mints 1,000,000 MT once, split as allocateSupply, all escrowed in the sale; burnable; no mint', async () => {
    const { token, sale } = await launched(await newFactory(PAPER_FEES))
    const t = tokenAt(token)
    expect(await t.read.totalSupply()).toBe(MT_TOTAL_SUPPLY)
    expect(await t.read.decimals()).toBe(18)
    expect([await t.read.name(), await t.read.symbol(), await t.read.sale()]).toEqual(['QwenALICE', 'QALICE', sale])
    expect({
      publicSale: await t.read.publicSaleSupply(),
      liquidity: await t.read.liquiditySupply(),
      incentiveReserve: await t.read.incentiveReserveSupply(),
      issuer: await t.read.issuerSupply(),
      treasury: await t.read.treasurySupply(),
    }).toEqual(ALLOCATION)
    // No MT is liquid before graduation: the sale holds all of it, the issuer and the treasury none yet.
    expect(await Promise.all([sale, issuer, treasury].map((a) => t.read.balanceOf([a])))).toEqual([MT_TOTAL_SUPPLY, 0n, 0n])
    // Burnable (buyback-and-burn), and nothing can mint: a token whose "sale" is an account, which holds the supply.
    const own = await deploy(devnet.clients, ModelToken, ['M', 'M', issuer])
    const asIssuer = getContract({ abi: ModelToken.abi, address: own, client: { public: pub(), wallet: walletOf(issuer) } })
    expect(await asIssuer.read.balanceOf([issuer])).toBe(MT_TOTAL_SUPPLY)
    await mined(asIssuer.write.burn([E]))
    expect([await asIssuer.read.totalSupply(), await asIssuer.read.balanceOf([issuer])]).toEqual([MT_TOTAL_SUPPLY - E, MT_TOTAL_SUPPLY - E])
    expect(ModelToken.abi.filter((x) => x.type === 'function' && /mint/i.test(x.name))).toEqual([])
    await expectRevert(deploy(devnet.clients, ModelToken, ['M', 'M', zeroAddress]), 'ModelTokenZeroAddress')
  })
})

describe('MTLaunchFactory', () => {
  it('takes the launch fee to the treasury, records the launch under its id, emits Launched, refuses a taken or zero id', async () => {
    const factory = await newFactory(PAPER_FEES)
    const before = await flockOf(treasury)
    const p = launchParameters()
    await mined(flockAs(deployer).write.mint([issuer, LAUNCH_FEE]))
    const l = await launchRmo(devnet.clientsFor(issuer), factory, p)
    expect(await flockOf(treasury)).toBe(before + LAUNCH_FEE)
    expect({ deploymentId: l.deploymentId, issuer: l.issuer, launchFee: l.launchFee }).toEqual({ deploymentId: p.deploymentId, issuer, launchFee: LAUNCH_FEE })
    expect(await launchOf(pub(), factory, p.deploymentId)).toEqual({ token: l.token, sale: l.sale, issuer })
    expect(await launchOf(pub(), factory, freshId())).toBeUndefined()
    expect(await saleAs(l.sale, deployer).read.token()).toBe(l.token)
    const info = await readSale(pub(), l.sale)
    expect({ issuer: info.issuer, treasury: info.treasury, flock: info.flock, fees: info.fees }).toEqual({ issuer, treasury, flock: getAddress(flock), fees: PAPER_FEES })
    await mined(flockAs(deployer).write.mint([issuer, 2n * LAUNCH_FEE]))
    const taken = await launchRmo(devnet.clientsFor(issuer), factory, { ...p, name: 'Other' }).catch((e: unknown) => e)
    expect(taken).toBeInstanceOf(LaunchError)
    expect([(taken as LaunchError).errorName, (taken as LaunchError).errorArgs]).toEqual(['MTLaunchFactoryAlreadyLaunched', [p.deploymentId, l.sale]])
    await expectRevert(launchRmo(devnet.clientsFor(issuer), factory, { ...p, deploymentId: `0x${'00'.repeat(32)}` }), 'MTLaunchFactoryZeroDeploymentId')
    // Without the launch fee approved and held, nothing is launched.
    const poor = outsider
    await expectRevert(factoryAs(factory, poor).write.launch([{ ...launchParameters(), duration: 86_400n }]), 'ERC20InsufficientAllowance')
  })

  it('checks its fee schedule and addresses at deployment, and every launch parameter through the sale', async () => {
    const bad: Array<[FeeSchedule, string]> = [
      [{ creatorFeeBps: 30n, protocolFeeBps: 95n, antiSnipingStartBps: 124n, antiSnipingWindowSeconds: 600n }, 'start below creator + protocol'],
      [{ creatorFeeBps: 30n, protocolFeeBps: 95n, antiSnipingStartBps: 10_001n, antiSnipingWindowSeconds: 600n }, 'start above 100 %'],
      [{ creatorFeeBps: 30n, protocolFeeBps: 95n, antiSnipingStartBps: 1125n, antiSnipingWindowSeconds: 0n }, 'a surcharge with no window'],
      [{ creatorFeeBps: 2n ** 255n, protocolFeeBps: 2n ** 255n, antiSnipingStartBps: 10_000n, antiSnipingWindowSeconds: 1n }, 'fees whose sum overflows'],
    ]
    for (const [fees, why] of bad) {
      const error = await newFactory(fees).catch((e: unknown) => e)
      expect((error as LaunchError).errorName, why).toBe('MTLaunchFactoryBadFees')
    }
    const epochFunding = deployer // any non-zero address: the factory's constructor only checks it is one
    await expectRevert(deploy(devnet.clients, MTLaunchFactory, [zeroAddress, treasury, 0n, 30n, 95n, 125n, 0n, uni.factory, epochFunding, 0n, 0n]), 'MTLaunchFactoryZeroAddress')
    await expectRevert(deploy(devnet.clients, MTLaunchFactory, [flock, zeroAddress, 0n, 30n, 95n, 125n, 0n, uni.factory, epochFunding, 0n, 0n]), 'MTLaunchFactoryZeroAddress')
    await expectRevert(deploy(devnet.clients, MTLaunchFactory, [flock, treasury, 0n, 30n, 95n, 125n, 0n, zeroAddress, epochFunding, 0n, 0n]), 'MTLaunchFactoryZeroAddress')
    await expectRevert(deploy(devnet.clients, MTLaunchFactory, [flock, treasury, 0n, 30n, 95n, 125n, 0n, uni.factory, zeroAddress, 0n, 0n]), 'MTLaunchFactoryZeroAddress')
    // The full range of fees is accepted: no fee at all, and 100 % at launch.
    await newFactory({ creatorFeeBps: 0n, protocolFeeBps: 0n, antiSnipingStartBps: 0n, antiSnipingWindowSeconds: 0n })
    await newFactory({ creatorFeeBps: 30n, protocolFeeBps: 95n, antiSnipingStartBps: 10_000n, antiSnipingWindowSeconds: 1n })

    const factory = await newFactory(PAPER_FEES, 0n)
    // Sent as transactions (the driver's refusals are tested above and below, each one through a simulation).
    const refusedLaunch = (p: Partial<LaunchParameters>) => {
      const { durationSeconds, ...rest } = launchParameters(p)
      return factoryAs(factory, issuer).write.launch([{ ...rest, duration: durationSeconds }])
    }
    const sp0 = (S * PAPER.startPrice) / WAD
    await expectRevert(refusedLaunch({ graduationTarget: sp0 }), 'RmoSaleInfeasibleCurve', [S, sp0, PAPER.startPrice]) // G = S*P0
    await expectRevert(refusedLaunch({ graduationTarget: sp0 - 1n, minRaise: 1n }), 'RmoSaleInfeasibleCurve')
    await expectRevert(refusedLaunch({ graduationTarget: 0n }), 'RmoSaleInfeasibleCurve')
    await expectRevert(refusedLaunch({ startPrice: 0n }), 'RmoSaleInfeasibleCurve')
    await expectRevert(refusedLaunch({ startPrice: maxUint256 }), 'RmoSaleInfeasibleCurve') // S*P0 overflows
    await expectRevert(refusedLaunch({ graduationTarget: 4n * 10n ** 29n, minRaise: E }), 'RmoSaleCurveTooLarge') // G*G*WAD > 2^256
    await expectRevert(refusedLaunch({ minRaise: 0n }), 'RmoSaleBadMinRaise')
    await expectRevert(refusedLaunch({ minRaise: 3n }), 'RmoSaleBadMinRaise', [3n, PAPER.graduationTarget])
    await expectRevert(refusedLaunch({ minRaise: PAPER.graduationTarget + 1n }), 'RmoSaleBadMinRaise')
    // A minimum raise whose graduation cannot seed the pool: floor(707 / 2) * floor(200,000 MT * 707 / G) = 353 * 2,828
    // is below 1,001^2 (Uniswap v2's first mint would mint no LP token).
    await expectRevert(refusedLaunch({ minRaise: 707n }), 'RmoSaleBadMinRaise', [707n, PAPER.graduationTarget])
    await expectRevert(refusedLaunch({ durationSeconds: 0n }), 'RmoSaleBadSchedule')
    await expectRevert(refusedLaunch({ durationSeconds: 599n }), 'RmoSaleBadSchedule', [599n, 600n]) // shorter than the window
    // The bounds themselves are accepted: G = S*P0 + 1 wei, minRaise = G, duration = window; minRaise = 708 wei, the
    // least with a seedable pool at this G (354 * 2,832 >= 1,001^2), and 4 wei, MIN_RAISE, where G is small.
    await launchRmo(devnet.clientsFor(issuer), factory, launchParameters({ graduationTarget: sp0 + 1n, minRaise: sp0 + 1n, durationSeconds: 600n }))
    const least = await launchRmo(devnet.clientsFor(issuer), factory, launchParameters({ minRaise: 708n }))
    expect(await saleAs(least.sale, deployer).read.MIN_POOL_PRODUCT()).toBe(1001n * 1001n)
    await launchRmo(devnet.clientsFor(issuer), factory, launchParameters({ graduationTarget: 1_000_003n, startPrice: 1n, minRaise: 4n }))
    // rmo.ts agrees on where the curve is defined.
    expect(() => createCurve({ saleSupply: S, graduationTarget: sp0, startPrice: PAPER.startPrice })).toThrow('G > S * P0')
  })

  it('holds every launch to its floors on G and the minimum raise, so a graduation costs at least the floor (tiny spam sales are refused); deployLaunchFactory defaults them', async () => {
    // The call the demo and the CLI make, with no floors: the defaults, 10,000 FLOCK and 1,000 FLOCK.
    const epochFunding = await deployEpochFunding(devnet.clients, { admin: deployer, flock, epochSeconds: 86_400n, dailyEmission: 0n, treasury })
    const factory = await deployLaunchFactory(devnet.clients, { flock, treasury, launchFee: LAUNCH_FEE, fees: PAPER_FEES, uniswapFactory: uni.factory, epochFunding })
    expect([DEFAULT_GRADUATION_TARGET_FLOOR, DEFAULT_MIN_RAISE_FLOOR]).toEqual([10_000n * E, 1_000n * E])
    expect(await launchFloorsOf(pub(), factory)).toEqual({ graduationTarget: DEFAULT_GRADUATION_TARGET_FLOOR, minRaise: DEFAULT_MIN_RAISE_FLOOR })
    await mined(flockAs(deployer).write.mint([issuer, 10n * LAUNCH_FEE]))
    const issuerClients = devnet.clientsFor(issuer)
    // A spammer's sale: a cheap curve (P0 1e-6 FLOCK per MT), a target of 100 FLOCK, a minimum raise of 4 base units.
    const cheap = { startPrice: 10n ** 12n, graduationTarget: 100n * E, minRaise: 4n }
    const tiny = await launchRmo(issuerClients, factory, launchParameters(cheap)).catch((e: unknown) => e)
    expect(tiny).toBeInstanceOf(LaunchError)
    expect([(tiny as LaunchError).errorName, (tiny as LaunchError).errorArgs]).toEqual(['MTLaunchFactoryGraduationTargetBelowFloor', [100n * E, 10_000n * E]])
    expect((tiny as LaunchError).message).toMatch(/floor/)
    await expectRevert(launchRmo(issuerClients, factory, launchParameters({ ...cheap, graduationTarget: 10_000n * E - 1n, minRaise: 1_000n * E })), 'MTLaunchFactoryGraduationTargetBelowFloor', [10_000n * E - 1n, 10_000n * E])
    // At G's floor, the minimum raise must still reach its own: the least graduation raises 1,000 FLOCK.
    await expectRevert(launchRmo(issuerClients, factory, launchParameters({ ...cheap, graduationTarget: 10_000n * E })), 'MTLaunchFactoryMinRaiseBelowFloor', [4n, 1_000n * E])
    await expectRevert(launchRmo(issuerClients, factory, launchParameters({ ...cheap, graduationTarget: 10_000n * E, minRaise: 1_000n * E - 1n })), 'MTLaunchFactoryMinRaiseBelowFloor', [1_000n * E - 1n, 1_000n * E])
    // Nothing was launched or charged by the refusals; both floors exactly are accepted, and so are the demo's sales
    // (G from 40,000 to 100,000 FLOCK at P0 0.05, minimum raise G/2).
    const atFloors = await launchRmo(issuerClients, factory, launchParameters({ ...cheap, graduationTarget: 10_000n * E, minRaise: 1_000n * E }))
    const info = await readSale(pub(), atFloors.sale)
    expect([info.curve.graduationTarget, info.minRaise]).toEqual([10_000n * E, 1_000n * E])
    for (const g of [40_000n * E, 100_000n * E]) await launchRmo(issuerClients, factory, launchParameters({ graduationTarget: g, startPrice: E / 20n, minRaise: g / 2n }))

    // A factory with floors of its own.
    const strict = await newFactory(PAPER_FEES, 0n, { graduationTargetFloor: 50_000n * E, minRaiseFloor: 25_000n * E })
    expect(await launchFloorsOf(pub(), strict)).toEqual({ graduationTarget: 50_000n * E, minRaise: 25_000n * E })
    await expectRevert(launchRmo(issuerClients, strict, launchParameters({ minRaise: 20_000n * E })), 'MTLaunchFactoryMinRaiseBelowFloor', [20_000n * E, 25_000n * E])
    await launchRmo(issuerClients, strict, launchParameters({ minRaise: 25_000n * E }))
  })

  it('a sale deployed on its own checks its fees the same way', async () => {
    const params = { name: 'M', symbol: 'M', flock, issuer, treasury, deploymentId: freshId(), graduator: outsider, ...PAPER, minRaise: E, duration: 1000n }
    const fees = (creatorFeeBps: bigint, protocolFeeBps: bigint, antiSnipingStartBps: bigint, antiSnipingWindow: bigint) => ({ creatorFeeBps, protocolFeeBps, antiSnipingStartBps, antiSnipingWindow })
    await expectRevert(deploy(devnet.clients, RmoSale, [{ ...params, ...fees(30n, 95n, 100n, 10n) }]), 'RmoSaleBadFees', [30n, 95n, 100n, 10n])
    await expectRevert(deploy(devnet.clients, RmoSale, [{ ...params, ...fees(30n, 95n, 10_001n, 10n) }]), 'RmoSaleBadFees')
    await expectRevert(deploy(devnet.clients, RmoSale, [{ ...params, ...fees(30n, 95n, 126n, 0n) }]), 'RmoSaleBadFees')
    await expectRevert(deploy(devnet.clients, RmoSale, [{ ...params, ...fees(30n, 95n, 125n, 0n), flock: zeroAddress }]), 'RmoSaleZeroAddress')
    await expectRevert(deploy(devnet.clients, RmoSale, [{ ...params, ...fees(30n, 95n, 125n, 0n), graduator: zeroAddress }]), 'RmoSaleZeroAddress')
    const sale = await deploy(devnet.clients, RmoSale, [{ ...params, ...fees(30n, 95n, 125n, 0n) }])
    expect((await readSale(pub(), sale)).state).toBe('active')
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The sale's rules
// ---------------------------------------------------------------------------------------------------------------

describe('RmoSale rules', () => {
  it('refuses a buy below its MT bound, above its FLOCK bound or after its deadline, with typed errors; accepts each bound exactly', async () => {
    const { sale } = await launched(await newFactory(PAPER_FEES))
    const [alice] = buyers as [Address]
    await fund(alice, 10n ** 27n, sale)
    const s = saleAs(sale, alice)
    const info = await readSale(pub(), sale)
    // Mined one second after the read: quoted for that second.
    const at = (await latestTimestamp()) + 1n
    const byFlock = quoteSale(info, { flock: 1000n * E }, at)
    await rpc('evm_setNextBlockTimestamp', [Number(at)])
    await expectRevert(s.write.buy([1000n * E, byFlock.mtOut + 1n, at]), 'RmoSaleMtOutTooLow', [byFlock.mtOut, byFlock.mtOut + 1n])
    await rpc('evm_setNextBlockTimestamp', [Number(at + 1n)])
    await expectRevert(s.write.buy([1000n * E, 0n, at]), 'RmoSaleExpired', [at, at + 1n])
    const at2 = at + 2n
    const byFlock2 = quoteSale(info, { flock: 1000n * E }, at2)
    await rpc('evm_setNextBlockTimestamp', [Number(at2)])
    await mined(s.write.buy([1000n * E, byFlock2.mtOut, at2]))

    const after = await readSale(pub(), sale)
    const at3 = at2 + 1n
    const byMt = quoteSale(after, { mt: 5000n * E }, at3)
    await rpc('evm_setNextBlockTimestamp', [Number(at3)])
    await expectRevert(s.write.buyExactMt([5000n * E, byMt.totalPaid - 1n, at3]), 'RmoSalePaidTooHigh', [byMt.totalPaid, byMt.totalPaid - 1n])
    await rpc('evm_setNextBlockTimestamp', [Number(at3 + 1n)])
    await expectRevert(s.write.buyExactMt([5000n * E, maxUint256, at3]), 'RmoSaleExpired')
    await expectRevert(s.write.buy([0n, 0n, maxUint256]), 'RmoSaleZeroAmount')
    await expectRevert(s.write.buyExactMt([0n, maxUint256, maxUint256]), 'RmoSaleZeroAmount')

    // The drivers raise a LaunchError naming the contract's error and what to do.
    const expired = await buyWithFlock(devnet.clientsFor(alice), sale, E, { deadline: 1n }).catch((e: unknown) => e)
    expect(expired).toBeInstanceOf(LaunchError)
    expect((expired as LaunchError).errorName).toBe('RmoSaleExpired')
    expect((expired as LaunchError).message).toMatch(/later deadline/)
    const poor = await buyExactMt(devnet.clientsFor(outsider), sale, E).catch((e: unknown) => e)
    expect((poor as LaunchError).errorName).toMatch(/^ERC20Insufficient/)
  })

  it('moves Active -> Succeeded at G -> Graduated; refuses buys once G is reached and after graduation, and out-of-order calls', async () => {
    const { sale, token } = await launched(await newFactory(PAPER_FEES))
    const [alice, bob] = buyers as [Address, Address]
    await fund(alice, 10n ** 27n, sale)
    await fund(bob, 10n ** 27n, sale)
    const keeper = saleAs(sale, outsider)
    await expectRevert(keeper.write.graduate(), 'RmoSaleWrongState', [1, 0])
    await expectRevert(keeper.write.claim([alice]), 'RmoSaleWrongState', [2, 0])
    await expectRevert(keeper.write.refund([alice]), 'RmoSaleWrongState', [3, 0])
    const crossing = await buyWithFlock(devnet.clientsFor(alice), sale, 60_000n * E)
    expect([crossing.curveIn, crossing.mtOut, crossing.raisedAfter]).toEqual([PAPER.graduationTarget, S, PAPER.graduationTarget])
    expect((await readSale(pub(), sale)).state).toBe('succeeded')
    await expectRevert(saleAs(sale, bob).write.buy([E, 0n, maxUint256]), 'RmoSaleWrongState', [0, 1])
    await expectRevert(saleAs(sale, bob).write.buyExactMt([1n, maxUint256, maxUint256]), 'RmoSaleWrongState', [0, 1])
    const late = await buyWithFlock(devnet.clientsFor(bob), sale, E).catch((e: unknown) => e)
    expect(late).toBeInstanceOf(LaunchError)
    await expectRevert(keeper.write.claim([alice]), 'RmoSaleWrongState', [2, 1])
    await graduateSale(devnet.clientsFor(outsider), sale)
    const graduated = await readSale(pub(), sale)
    expect(graduated.state).toBe('graduated')
    expect(graduated.graduatedAt).toBe(await latestTimestamp())
    const [event] = await pub().getContractEvents({ address: sale, abi: RmoSale.abi, eventName: 'Graduated', fromBlock: 0n })
    expect(event?.args).toEqual({ raised: PAPER.graduationTarget, sold: S })
    await expectRevert(keeper.write.graduate(), 'RmoSaleWrongState', [1, 2])
    await expectRevert(saleAs(sale, bob).write.buy([E, 0n, maxUint256]), 'RmoSaleWrongState', [0, 2])
    await expectRevert(keeper.write.refund([alice]), 'RmoSaleWrongState', [3, 2])
    // Escrowed MT is paid to the buyer (whoever sends the claim), once.
    await mined(keeper.write.claim([alice]))
    expect(await tokenAt(token).read.balanceOf([alice])).toBe(S)
    await expectRevert(keeper.write.claim([alice]), 'RmoSaleNothingToClaim', [alice])
    await expectRevert(keeper.write.claim([bob]), 'RmoSaleNothingToClaim', [bob])
  })

  it('takes buys until one second before its end and none from then; graduates at the end at or above the minimum raise', async () => {
    const { sale } = await launched(await newFactory(PAPER_FEES), { minRaise: 1000n * E, durationSeconds: 3600n })
    const [alice] = buyers as [Address]
    await fund(alice, 10n ** 27n, sale)
    const { endsAt } = await readSale(pub(), sale)
    await rpc('evm_setNextBlockTimestamp', [Number(endsAt - 1n)])
    await mined(saleAs(sale, alice).write.buy([1000n * E, 0n, maxUint256]))
    await rpc('evm_setNextBlockTimestamp', [Number(endsAt)])
    await expectRevert(saleAs(sale, alice).write.buy([E, 0n, maxUint256]), 'RmoSaleWrongState', [0, 1])
    await rpc('evm_mine', [Number(endsAt)])
    const ended = await readSale(pub(), sale)
    expect([ended.state, ended.raised]).toEqual(['succeeded', 1000n * E])
    await graduateSale(devnet.clientsFor(outsider), sale)
    expect((await readSale(pub(), sale)).state).toBe('graduated')
  })

  it('lapses 30 days after its end when it succeeded but nobody graduated it: refunds like a failed raise, never graduates', async () => {
    expect(SALE_STATES).toEqual(['active', 'succeeded', 'graduated', 'failed', 'lapsed'])
    const { sale, token } = await launched(await newFactory(PAPER_FEES), { minRaise: 1000n * E, durationSeconds: 3600n })
    const [alice] = buyers as [Address]
    await fund(alice, 10n ** 27n, sale)
    const bought = await buyWithFlock(devnet.clientsFor(alice), sale, 1500n * E)
    const { endsAt, graduationDeadline } = await readSale(pub(), sale)
    expect(graduationDeadline).toBe(endsAt + GRADUATION_WINDOW_SECONDS)
    expect(await saleAs(sale, deployer).read.graduationDeadline()).toBe(graduationDeadline)
    await rpc('evm_mine', [Number(endsAt)])
    // Succeeded at its end: the MT sold and the liquidity MT a graduation would pair (D/G of 200,000) circulate.
    expect((await readSale(pub(), sale)).state).toBe('succeeded')
    expect(await readCirculatingSupply(pub(), token)).toBe(bought.mtOut + pairedLiquidityMt(1500n * E, PAPER.graduationTarget))
    await rpc('evm_mine', [Number(graduationDeadline - 1n)])
    expect((await readSale(pub(), sale)).state).toBe('succeeded')
    await rpc('evm_mine', [Number(graduationDeadline)])
    expect((await readSale(pub(), sale)).state).toBe('lapsed')
    expect(await readCirculatingSupply(pub(), token)).toBe(0n)
    const keeper = saleAs(sale, outsider)
    await expectRevert(keeper.write.graduate(), 'RmoSaleWrongState', [1, 4])
    await expectRevert(keeper.write.claim([alice]), 'RmoSaleWrongState', [2, 4])
    await expectRevert(saleAs(sale, alice).write.buy([E, 0n, maxUint256]), 'RmoSaleWrongState', [0, 4])
    const before = await flockOf(alice)
    expect((await refundSale(devnet.clientsFor(outsider), sale, alice)).amount).toBe(bought.curveIn)
    expect(await flockOf(alice)).toBe(before + bought.curveIn)
    expect(await flockOf(sale)).toBe(0n)
    await expectRevert(keeper.write.refund([alice]), 'RmoSaleNothingToRefund', [alice])
    expect(await tokenAt(token).read.balanceOf([sale])).toBe(MT_TOTAL_SUPPLY)
  })

  it('refunds a failed raise: each buyer its curve input exactly, fees kept, once; nothing else moves', async () => {
    const { sale, token } = await launched(await newFactory(PAPER_FEES), { minRaise: 10_000n * E, durationSeconds: 3600n })
    const [alice, bob] = buyers as [Address, Address]
    await fund(alice, 10n ** 27n, sale)
    await fund(bob, 10n ** 27n, sale)
    const before = { alice: await flockOf(alice), bob: await flockOf(bob), treasury: await flockOf(treasury), issuer: await flockOf(issuer) }
    const a1 = await buyWithFlock(devnet.clientsFor(alice), sale, 1234n * E + 5n)
    const b1 = await buyExactMt(devnet.clientsFor(bob), sale, 777n * E + 3n)
    const a2 = await buyExactMt(devnet.clientsFor(alice), sale, 1n)
    const aliceIn = a1.curveIn + a2.curveIn
    const aliceFees = a1.paid + a2.paid - aliceIn
    expect(await positionOf(pub(), sale, alice)).toEqual({ curveIn: aliceIn, mt: a1.mtOut + a2.mtOut })
    // Before the end a refund is refused; at the end the raise is below its minimum and fails.
    await expectRevert(saleAs(sale, outsider).write.refund([alice]), 'RmoSaleWrongState', [3, 0])
    await rpc('evm_mine', [Number((await readSale(pub(), sale)).endsAt)])
    expect((await readSale(pub(), sale)).state).toBe('failed')
    await expectRevert(saleAs(sale, outsider).write.graduate(), 'RmoSaleWrongState', [1, 3])
    await expectRevert(saleAs(sale, outsider).write.claim([alice]), 'RmoSaleWrongState', [2, 3])
    await expectRevert(saleAs(sale, bob).write.buy([E, 0n, maxUint256]), 'RmoSaleWrongState', [0, 3])
    // Anyone may send a refund; it pays the buyer.
    expect((await refundSale(devnet.clientsFor(outsider), sale, alice)).amount).toBe(aliceIn)
    expect((await refundSale(devnet.clientsFor(bob), sale, bob)).amount).toBe(b1.curveIn)
    expect(await flockOf(alice)).toBe(before.alice - aliceFees)
    expect(await flockOf(bob)).toBe(before.bob - (b1.paid - b1.curveIn))
    expect(await flockOf(sale)).toBe(0n)
    // Only once, and nothing for a non-buyer.
    const again = await refundSale(devnet.clientsFor(outsider), sale, alice).catch((e: unknown) => e)
    expect([(again as LaunchError).errorName, (again as LaunchError).errorArgs]).toEqual(['RmoSaleNothingToRefund', [alice]])
    await expectRevert(saleAs(sale, outsider).write.refund([outsider]), 'RmoSaleNothingToRefund', [outsider])
    expect(await positionOf(pub(), sale, alice)).toEqual({ curveIn: 0n, mt: 0n })
    // The fees stayed where they went at buy time; the MT never left the sale.
    expect((await flockOf(treasury)) - before.treasury + (await flockOf(issuer)) - before.issuer).toBe(aliceFees + b1.paid - b1.curveIn)
    expect(await tokenAt(token).read.balanceOf([sale])).toBe(MT_TOTAL_SUPPLY)
    expect((await readSale(pub(), sale)).raised).toBe(aliceIn + b1.curveIn)
  })

  it('has no sell path: buys, graduation, claims and refunds are the only writes; tokens sent to it buy nothing back', async () => {
    const abi = RmoSale.abi as Abi
    const writes = abi.filter((x) => x.type === 'function' && x.stateMutability !== 'view' && x.stateMutability !== 'pure').map((x) => (x as { name: string }).name)
    expect(writes.sort()).toEqual(['buy', 'buyExactMt', 'claim', 'graduate', 'refund'])
    expect(abi.some((x) => x.type === 'receive' || x.type === 'fallback')).toBe(false)
    const { sale, token } = await launched(await newFactory(PAPER_FEES))
    const [alice] = buyers as [Address]
    await fund(alice, 10n ** 27n, sale)
    await buyWithFlock(devnet.clientsFor(alice), sale, 5000n * E)
    // Nobody holds MT before graduation (the sale escrows all of it), so none can be sold back; FLOCK sent to the sale
    // is a donation: it buys nothing and raises nothing.
    expect(await tokenAt(token).read.balanceOf([alice])).toBe(0n)
    const info = await readSale(pub(), sale)
    await mined(flockAs(alice).write.transfer([sale, 1000n * E]))
    const after = await readSale(pub(), sale)
    expect([after.raised, after.sold, await tokenAt(token).read.balanceOf([alice])]).toEqual([info.raised, info.sold, 0n])
    await expect(walletOf(alice).sendTransaction({ to: sale, value: 1n })).rejects.toThrow()
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The drivers
// ---------------------------------------------------------------------------------------------------------------

describe('src/chain/launch.ts', () => {
  it('deploys, launches, quotes with rmo.ts, buys by FLOCK and by exact MT, graduates and claims', async () => {
    const factory = await newFactory(PAPER_FEES)
    const l = await launched(factory, { minRaise: 100n * E })
    const [alice, bob] = buyers as [Address, Address]
    await mined(flockAs(deployer).write.mint([alice, 10n ** 27n]))
    await mined(flockAs(deployer).write.mint([bob, 10n ** 27n]))
    const info = await readSale(pub(), l.sale)
    expect([info.state, info.raised, info.sold, info.graduatedAt, info.token]).toEqual(['active', 0n, 0n, 0n, l.token])
    expect(info.curve).toEqual(createCurve({ saleSupply: S, ...PAPER }))
    // The quote is rmo.ts's; the buy fills exactly its MT and at most its fees (the surcharge only falls with time).
    const quote = quoteSale(info, { flock: 100n * E })
    const a = await buyWithFlock(devnet.clientsFor(alice), l.sale, 100n * E)
    expect(a.quote).toEqual(quote)
    expect([a.curveIn, a.mtOut]).toEqual([100n * E, 999_500_249_875_062_468_765n])
    expect(a.paid <= quote.totalPaid && a.paid > 100n * E).toBe(true)
    const b = await buyExactMt(devnet.clientsFor(bob), l.sale, 10_000n * E, { slippageBps: 50n })
    expect(b.mtOut >= 10_000n * E && b.mtOut - 10_000n * E < 100n).toBe(true)
    expect(b.quote.mtOut).toBe(b.mtOut)
    // The sale's state after both buys is simulateRaise's for the same buys at the same times.
    const after = await readSale(pub(), l.sale)
    const sim = simulateRaise(info.curve, PAPER_FEES, [{ buyer: 'a', at: 0n, flock: 100n * E }, { buyer: 'b', at: 0n, mt: 10_000n * E }], 100n * E)
    expect([after.raised, after.sold]).toEqual([sim.raised, sim.sold])
    expect(() => quoteSale({ ...after, state: 'failed' }, { flock: E })).toThrow(LaunchError)
    expect(() => quoteSale(after, { flock: E }, after.endsAt)).toThrow('over at that time')
    await rpc('evm_mine', [Number(after.endsAt)])
    await graduateSale(devnet.clientsFor(bob), l.sale)
    expect((await claimSaleMt(devnet.clientsFor(bob), l.sale, alice)).amount).toBe(a.mtOut)
    expect((await claimSaleMt(devnet.clientsFor(bob), l.sale, bob)).amount).toBe(b.mtOut)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

describe('random buy sequences against simulateRaise', () => {
  it("the sale's soldAt, raiseForSold and antiSnipingFeeBps equal rmo.ts's on random curves, at their bounds and between", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.bigInt({ min: 1n, max: 10n ** 18n }), fc.bigInt({ min: 1n, max: 7n * 10n ** 23n })),
        fc.bigInt({ min: 1n, max: 100_000_000_000n }),
        fc.bigInt({ min: 0n, max: 10_000n - 125n }),
        fc.bigInt({ min: 1n, max: 100_000n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 3, maxLength: 3 }),
        async (startPrice, headroomPpb, surchargeBps, window, [d, t, e]) => {
          const sp0 = (S * startPrice) / WAD
          const G = sp0 + (sp0 * headroomPpb) / 1_000_000_000n + 1n
          if (G > 3n * 10n ** 29n) return
          const fees: FeeSchedule = { creatorFeeBps: 30n, protocolFeeBps: 95n, antiSnipingStartBps: 125n + surchargeBps, antiSnipingWindowSeconds: window }
          const sale = await deploy(devnet.clients, RmoSale, [
            { name: 'M', symbol: 'M', flock, issuer, treasury, deploymentId: freshId(), graduator: outsider, graduationTarget: G, startPrice, minRaise: G, duration: window, creatorFeeBps: 30n, protocolFeeBps: 95n, antiSnipingStartBps: fees.antiSnipingStartBps, antiSnipingWindow: window },
          ])
          const s = saleAs(sale, deployer)
          const curve = createCurve({ saleSupply: S, graduationTarget: G, startPrice })
          for (const raised of [0n, 1n, (G * d!) / 10n ** 9n, G - 1n, G]) expect(await s.read.soldAt([raised]), `S(${raised})`).toBe(soldAt(curve, raised))
          for (const target of [0n, 1n, (S * t!) / 10n ** 9n, S - 1n, S]) expect(await s.read.raiseForSold([target]), `D(${target})`).toBe(raiseForSold(curve, target))
          for (const elapsed of [0n, 1n, (window * e!) / 10n ** 9n, window - 1n, window, window + 1n]) expect(await s.read.antiSnipingFeeBps([elapsed]), `t ${elapsed}`).toBe(antiSnipingFeeBps(fees, elapsed))
        },
      ),
      { numRuns: 30 },
    )
  })

  it('fill as rmo.ts computes; never sell more than S nor raise more than G; conserve FLOCK and MT exactly', async () => {
    const order = fc.record({
      buyer: fc.nat({ max: 3 }),
      dt: fc.bigInt({ min: 1n, max: 400n }),
      mt: fc.boolean(),
      // A share of what is left (per million; above a million, the order crosses G or the rest of S) or a few wei.
      size: fc.oneof(
        { arbitrary: fc.bigInt({ min: 1n, max: 700_000n }).map((ppm) => ({ ppm })), weight: 3 },
        { arbitrary: fc.bigInt({ min: 1_000_000n, max: 1_500_000n }).map((ppm) => ({ ppm })), weight: 1 },
        { arbitrary: fc.bigInt({ min: 1n, max: 1000n }).map((wei) => ({ wei })), weight: 1 },
      ),
    })
    const scenario = fc.record({
      startPrice: fc.oneof(fc.bigInt({ min: 1n, max: 10n ** 18n }), fc.constant(E / 10n)),
      // G above S*P0 by a factor between 1 + 1e-9 and 100.
      headroomPpb: fc.bigInt({ min: 1n, max: 100_000_000_000n }),
      minRaisePpm: fc.bigInt({ min: 1n, max: 1_000_000n }),
      surchargeBps: fc.bigInt({ min: 0n, max: 10_000n - 125n }),
      window: fc.bigInt({ min: 1n, max: 900n }),
      orders: fc.array(order, { minLength: 1, maxLength: 7 }),
    })
    const outcomes = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const fees: FeeSchedule = { creatorFeeBps: 30n, protocolFeeBps: 95n, antiSnipingStartBps: 125n + sc.surchargeBps, antiSnipingWindowSeconds: sc.window }
        const sp0 = (S * sc.startPrice) / WAD
        const G = sp0 + (sp0 * sc.headroomPpb) / 1_000_000_000n + 1n
        // At least the sale's floor of 4 base units (MIN_RAISE).
        const minRaise = (G * sc.minRaisePpm) / 1_000_000n > 4n ? (G * sc.minRaisePpm) / 1_000_000n : 4n
        const curve = createCurve({ saleSupply: S, graduationTarget: G, startPrice: sc.startPrice })
        // The buys as rmo.ts takes them, up to the one that reaches G (a buy after it is an error there).
        const buys: Buy[] = []
        let at = 0n
        for (const o of sc.orders) {
          at += o.dt
          const { raised, sold } = simulateRaise(curve, fees, buys, minRaise)
          if (raised === G) break
          const left = o.mt ? S - sold : G - raised
          const amount = 'ppm' in o.size ? (left * o.size.ppm) / 1_000_000n || 1n : o.size.wei
          buys.push({ buyer: `b${o.buyer}`, at, ...(o.mt ? { mt: amount } : { flock: amount }) } as Buy)
        }
        // The sale outlasts its last buy and its anti-sniping window (a shorter sale is refused).
        const duration = at + 10n > sc.window ? at + 10n : sc.window
        const sim = simulateRaise(curve, fees, buys, minRaise)
        outcomes.set(sim.outcome, (outcomes.get(sim.outcome) ?? 0) + 1)

        const factory = await newFactory(fees, 0n)
        const sale = await nextSale(pub(), factory)
        const accounts = buyers.slice(0, 4)
        for (const a of accounts) await fund(a, 10n ** 40n, sale)
        const spent = async () => Promise.all(accounts.map(flockOf))
        const before = { buyers: await spent(), issuer: await flockOf(issuer), treasury: await flockOf(treasury) }
        const { token } = await launchRmo(devnet.clientsFor(issuer), factory, launchParameters({ graduationTarget: G, startPrice: sc.startPrice, minRaise, durationSeconds: duration }))
        const { launchedAt } = await readSale(pub(), sale)
        const mt = tokenAt(token)
        for (const [i, b] of buys.entries()) {
          const account = accounts[Number(b.buyer.slice(1))]!
          const s = saleAs(sale, account)
          const [receipt] = await inOneBlock(pub(), launchedAt + b.at, [(gas) => (b.mt !== undefined ? s.write.buyExactMt([b.mt, maxUint256, maxUint256], gas) : s.write.buy([b.flock, 0n, maxUint256], gas))])
          const e = boughtIn(receipt!)
          const f = sim.fills[i]!
          expect([e.curveIn, e.mtOut, e.creatorFee, e.protocolFee, e.antiSnipingFee, e.raisedAfter]).toEqual([f.curveIn, f.mtOut, f.creatorFee, f.protocolFee, f.antiSnipingFee, f.raisedAfter])
          // Invariants after every buy: bounded by S and G, FLOCK and MT conserved exactly.
          const state = await readSale(pub(), sale)
          expect(state.sold <= S && state.raised <= G).toBe(true)
          const paid = (await spent()).reduce((sum, balance, k) => sum + before.buyers[k]! - balance, 0n)
          const received = (await flockOf(sale)) + (await flockOf(issuer)) - before.issuer + (await flockOf(treasury)) - before.treasury
          expect(paid).toBe(received)
          expect(await flockOf(sale)).toBe(state.raised)
          expect(await mt.read.balanceOf([sale])).toBe(MT_TOTAL_SUPPLY)
          const positions = await Promise.all(accounts.map((a) => positionOf(pub(), sale, a)))
          expect([positions.reduce((x, p) => x + p.curveIn, 0n), positions.reduce((x, p) => x + p.mt, 0n)]).toEqual([state.raised, state.sold])
        }
        const state = await readSale(pub(), sale)
        expect([state.raised, state.sold]).toEqual([sim.raised, sim.sold])
        if (sim.outcome === 'graduated') await expectRevert(saleAs(sale, accounts[0]!).write.buy([1n, 0n, maxUint256]), 'RmoSaleWrongState', [0, 1])
        else await rpc('evm_mine', [Number(state.endsAt)])
        // The end: refunds return exactly the curve input, claims exactly the MT; nothing is left over or missing.
        if (sim.outcome === 'failed') {
          for (const a of accounts) if ((await positionOf(pub(), sale, a)).curveIn > 0n) await mined(saleAs(sale, outsider).write.refund([a]))
          expect(await flockOf(sale)).toBe(0n)
          for (const [k, a] of accounts.entries()) expect(before.buyers[k]! - (await flockOf(a))).toBe(sim.buyers.get(`b${k}`)?.fees ?? 0n)
        } else {
          await mined(saleAs(sale, outsider).write.graduate())
          for (const a of accounts) if ((await positionOf(pub(), sale, a)).mt > 0n) await mined(saleAs(sale, outsider).write.claim([a]))
          for (const [k, a] of accounts.entries()) expect(await mt.read.balanceOf([a])).toBe(sim.buyers.get(`b${k}`)?.mt ?? 0n)
          expect(await mt.read.balanceOf([sale])).toBe(0n)
          expect(await mt.read.totalSupply()).toBe(MT_TOTAL_SUPPLY - (S - sim.sold) - (L - pairedLiquidityMt(sim.raised, G)))
        }
      }),
      { numRuns: 40 },
    )
    // Every ending was reached: at G, at the deadline above the minimum, and failed.
    expect([...outcomes.keys()].sort(), JSON.stringify([...outcomes])).toEqual(['failed', 'graduated', 'graduated-at-deadline'])
  }, 600_000)
})
