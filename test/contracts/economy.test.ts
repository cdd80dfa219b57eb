/**
 * A differential test of the economy: scenarios run through the contracts on the in-process EVM (src/chain/devnet.ts)
 * and through src/economics (`simulate` of src/economics/simulate.ts and the formulas it uses), every amount compared
 * to the base unit.
 *
 * 1. The bundled QwenALICE scenario (fixtures/scenarios/qwenalice.json, read by `readScenario`), wired as the demo's
 *    `launchEconomy` wires it (deploySystem with its settlement and funding, Uniswap v2, a launch factory, the
 *    graduator's STREAM_ROLE): each buy (by FLOCK and by exact MT) with its fees, the graduation's 25/25/50 split,
 *    the pool's seed, the vesting wallets, each epoch's revenue paid and split by the waterfall, each epoch finalized
 *    with EpochFunding's emission and stream releases, the buybacks; and two variants of its qwenalice raise, one that
 *    fails (refunds) and one that graduates at the deadline below G.
 * 2. Random scenarios (fast-check, a few runs per ending, on the same devnet): random G, P0, minimum raise, fees and
 *    buys inside and outside the anti-sniping window, ending at G, at the deadline above the minimum, or failed; the
 *    same equalities and the invariants (the MT sold is S(D) after every buy and never above S, the MT supply only
 *    falls, the settlement pays out exactly what it receives).
 * 3. Reentrancy: `ReentrantToken` (contracts/src/TestTokens.sol) as the sale's FLOCK and as the settlement's USDC
 *    re-enters buy, buyExactMt, refund, claim, graduate, pay and the buybacks from its transfer hook: each attempt
 *    reverts on the reentrancy guard and leaves the state as it was.
 *
 * How a scenario is mapped on chain (the scenario is a plan, some of its fields the chain cannot take as given):
 * - One launch factory per deployment: a factory fixes the fee schedule and the launch fee of its sales, and a
 *   scenario gives each deployment its own. The factory's floors are its defaults (10,000 FLOCK on G, 1,000 FLOCK on
 *   the minimum raise); every scenario here is above them.
 * - Times: a buy's `at` (seconds since launch) is the block timestamp `launchedAt + at`; buys at 0 go in the launch's
 *   own block (approved to the sale's address before it exists), buys of one `at` in one block in list order.
 * - The sale's duration, which a scenario does not have (its raise ends with its buy list): SALE_DURATION (7 days),
 *   or longer to cover the anti-sniping window and the last buy; a raise below G is decided at `endsAt`.
 * - Days: scenario day d of a deployment is the chain epoch (EPOCH_SECONDS = 1 day) `startEpoch + d - graduationDay`,
 *   `startEpoch` being the epoch its graduation falls in (the fixture's two deployments graduate in the same one).
 *   A vesting day of simulate() (`vestedAmount(total, days, VESTING_DAYS)`) is the wallets' `vestedAmount` at
 *   `graduatedAt + days * 86,400`.
 * - Accounts: every buyer, user and issuer name is a devnet account; the buyers are funded with exactly what
 *   simulate() makes them pay and approve exactly that.
 * - An epoch's revenue: the deployment's charged revenue (`settleEpoch`'s chargedRevenue) and its OpEx are paid into
 *   RevenueSettlement for the chain epoch; the epoch is proposed with that total (placeholder roots: the reward tree
 *   is not under test here) and finalized with a zero timelock, which releases EpochFunding's emission and streams.
 * - `mtPriceUsdc`: simulate() turns the MT buyback into an MT burn at that planning price; the chain buys through
 *   its pools at their prices, so its burn is compared with the router's quote, not with simulate()'s estimate.
 *   Likewise an epoch's given `circulatingSupply` is a planning input of the discounts, not a chain value.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeFunctionData, erc20Abi, getAddress, getContract, getContractAddress, keccak256, maxUint256, parseEventLogs, toHex, zeroAddress, zeroHash, type Address, type Hex, type TransactionReceipt } from 'viem'
import { parseJsonDocument } from '../../src/base/json.ts'
import { formatUnits } from '../../src/base/units.ts'
import { deploy, deployStaking, deployTestToken, distributorAt } from '../../src/chain/contracts.ts'
import { EpochFunding, MTLaunchFactory, ReentrantToken, RevenueSettlement, RmoSale, TestToken } from '../../src/chain/contracts.generated.ts'
import { startDevnet, type Devnet } from '../../src/chain/devnet.ts'
import { deployEpochFunding, epochFundingAt, grantStreamRole } from '../../src/chain/funding.ts'
import {
  checkGraduation,
  claimSaleMt,
  DEFAULT_MIN_RAISE_FLOOR,
  deployLaunchFactory,
  graduateSale,
  graduatorOf,
  positionOf,
  readCirculatingSupply,
  readGraduation,
  readSale,
  refundSale,
  revertedWith,
  vestedOf,
  VESTING_SECONDS,
  type GraduateResult,
  type GraduationInfo,
} from '../../src/chain/launch.ts'
import { buyBackAndBurnMt, buyBackFlock, deploySettlement, grantSettlementRole, payRevenue, setDeployment, settlementRevert } from '../../src/chain/settlement.ts'
import { deploySystem, type SystemDeployment } from '../../src/chain/system.ts'
import { addLiquidity, deployUniswapV2, quoteExactIn, reserves, UNISWAP_V2_MINIMUM_LIQUIDITY, type UniswapV2Deployment } from '../../src/chain/uniswap.ts'
import { epochEmission } from '../../src/economics/emissions.ts'
import { maxBig, WAD } from '../../src/economics/math.ts'
import { netRevenue, revenueWaterfall, type Waterfall } from '../../src/economics/revenue.ts'
import { createCurve, dexPrice, quoteBuy, simulateRaise, soldAt, type Buy, type FeeSchedule, type RaiseOutcome } from '../../src/economics/rmo.ts'
import { readScenario, type Scenario } from '../../src/economics/scenario.ts'
import { derivedCirculating, simulate, type DeploymentLaunch, type Simulation } from '../../src/economics/simulate.ts'
import { allocateSupply, epochRelease, MT_TOTAL_SUPPLY, pairedLiquidityMt, splitProceeds, vestedAmount, VESTING_DAYS } from '../../src/economics/supply.ts'
import { distributorDomain } from '../../src/epoch/rewards.ts'
import { expectRevert, inOneBlock, nextSale, type GasOptions } from './blocks.ts'

const E = 10n ** 18n
const USDC = 10n ** 6n
const GWEI = 10n ** 9n
const DAY = 86_400n
const EPOCH_SECONDS = DAY
/** The sale's duration on chain when the scenario's buys end earlier (a scenario has none). */
const SALE_DURATION = 7n * DAY
const ALLOCATION = allocateSupply()
const S = ALLOCATION.publicSale
const L = ALLOCATION.liquidity
const FIXTURE = fileURLToPath(new URL('../../fixtures/scenarios/qwenalice.json', import.meta.url))
/** Seconds after graduation at which the vesting wallets are read (before the start, at it, between, at the end, after). */
const VESTING_TIMES = [-1n, 0n, 1n, DAY, 30n * DAY, 90n * DAY + 7n, VESTING_SECONDS - 1n, VESTING_SECONDS, 400n * DAY]

/** The fixture as parsed JSON, for the variants built from it (read by `readScenario` like the fixture itself). */
type ScenarioDocument = {
  deployments: Array<{ id: string; rmo: { buys: Array<{ buyer: string; at?: number; flock?: string; mt?: string }> } }>
  epochs: Array<{ day: number; deployments: Record<string, unknown> }>
}
const fixtureDocument = () => parseJsonDocument(readFileSync(FIXTURE, 'utf8'), FIXTURE) as ScenarioDocument

let devnet: Devnet
let uni: UniswapV2Deployment
/** The protocol's roles: the deployer (admin, publisher, payer, keeper), the treasury, the compute providers (OpEx). */
let admin: Address, treasury: Address, providers: Address, keeper: Address
/** The distributor account of the stand-alone settlements of parts 2 and 3 (the issuer yield's destination). */
let distributorAccount: Address

beforeAll(async () => {
  devnet = await startDevnet()
  ;[admin, treasury, providers, keeper, distributorAccount] = devnet.accounts as [Address, Address, Address, Address, Address]
  uni = await deployUniswapV2(devnet.clients, { feeToSetter: admin })
}, 120_000)

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

const pub = () => devnet.clients.public
const rpc = (method: string, params: unknown[] = []) => pub().request({ method, params } as never) as Promise<unknown>
const latest = () => pub().getBlock({ blockTag: 'latest' })
const mineAt = (timestamp: bigint) => rpc('evm_mine', [Number(timestamp)])
const balanceOf = (token: Address, owner: Address, blockNumber?: bigint) =>
  pub().readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner], ...(blockNumber === undefined ? {} : { blockNumber }) })
const totalSupply = (token: Address) => pub().readContract({ address: token, abi: erc20Abi, functionName: 'totalSupply' })

async function mined(hash: Promise<Hex>): Promise<TransactionReceipt> {
  const receipt = await pub().waitForTransactionReceipt({ hash: await hash })
  expect(receipt.status).toBe('success')
  return receipt
}

const mint = (token: Address, to: Address, amount: bigint) => mined(devnet.clients.wallet.writeContract({ address: token, abi: TestToken.abi, functionName: 'mint', args: [to, amount] }))
const approve = (token: Address, owner: Address, spender: Address, amount: bigint) =>
  mined(devnet.clientsFor(owner).wallet.writeContract({ address: token, abi: erc20Abi, functionName: 'approve', args: [spender, amount] }))

/** Devnet accounts by scenario name (buyers, users, issuers), from the sixth account on. */
const named = new Map<string, Address>()
function who(name: string): Address {
  let account = named.get(name)
  if (!account) {
    account = devnet.accounts[5 + named.size]
    if (!account) throw new Error(`no devnet account left for "${name}"`)
    named.set(name, account)
  }
  return account
}


/** Each value at most the one before: the MT supply only falls. */
function expectNonIncreasing(trace: ReadonlyArray<{ at: string; supply: bigint }>) {
  for (let i = 1; i < trace.length; i++) expect(trace[i]!.supply <= trace[i - 1]!.supply, `MT supply rose from ${trace[i - 1]!.at} to ${trace[i]!.at}`).toBe(true)
}

let deployments = 0
/** A fresh on-chain deployment id for a scenario's deployment (a scenario may be run more than once). */
const onChainId = (scenarioId: string): Hex => keccak256(toHex(`economy:${scenarioId}:${++deployments}`))

// ---------------------------------------------------------------------------------------------------------------
// One deployment's raise on chain, against simulate()'s launch
// ---------------------------------------------------------------------------------------------------------------

/** Where a deployment's FLOCK, treasury and epoch funding are. */
type Environment = { flock: Address; epochFunding: Address; treasury: Address }

type ChainLaunch = {
  deploymentId: Hex
  sale: Address
  token: Address
  issuer: Address
  launchedAt: bigint
  /** Present unless the raise failed. */
  graduation?: { result: GraduateResult; info: GraduationInfo; blockNumber: bigint; circulating: bigint } | undefined
  /** The MT supply after each step that may change it. */
  supply: Array<{ at: string; supply: bigint }>
}

/**
 * Launches simulate()'s deployment `l` on chain (its own factory over `env`), sends its buys at their times with
 * exactly the expected bounds, and compares every fill, fee, balance and total with `l.raise`; then ends the sale as
 * simulate() does: refunds every buyer of a failed raise, or graduates and compares the split, the pool's seed, the
 * vesting wallets and the streams with `l.proceeds` and `l.supply`, and pays every buyer its MT.
 */
async function runLaunch(env: Environment, l: DeploymentLaunch, options: { launchAt?: bigint } = {}): Promise<ChainLaunch> {
  const d = l.deployment
  const r = d.rmo
  const buys = r.buys
  if (!buys) throw new Error(`deployment ${d.id} lists no buys`)
  expect(l.raise.fills.length).toBe(buys.length)
  const fees: FeeSchedule = { creatorFeeBps: r.creatorFeeBps, protocolFeeBps: r.protocolFeeBps, antiSnipingStartBps: r.antiSnipingStartBps, antiSnipingWindowSeconds: r.antiSnipingWindowSeconds }
  const G = r.graduationTarget
  const factory = await deployLaunchFactory(devnet.clients, { flock: env.flock, treasury: env.treasury, launchFee: r.launchFee, fees, uniswapFactory: uni.factory, epochFunding: env.epochFunding })
  await grantStreamRole(devnet.clients, env.epochFunding, await graduatorOf(pub(), factory))
  const sale = await nextSale(pub(), factory)
  const issuer = who(d.issuer)
  const buyerNames = [...l.raise.buyers.keys()]
  // Each buyer holds exactly what simulate() makes it pay in this sale, and approves exactly that.
  for (const name of buyerNames) {
    const b = l.raise.buyers.get(name)!
    await mint(env.flock, who(name), b.curveIn + b.fees)
    await approve(env.flock, who(name), sale, b.curveIn + b.fees)
  }
  if (r.launchFee > 0n) {
    await mint(env.flock, issuer, r.launchFee)
    await approve(env.flock, issuer, factory, r.launchFee)
  }
  const before = { issuer: await balanceOf(env.flock, issuer), treasury: await balanceOf(env.flock, env.treasury), buyers: new Map<string, bigint>() }
  for (const name of buyerNames) before.buyers.set(name, await balanceOf(env.flock, who(name)))

  const lastAt = buys.reduce((m, b) => (b.at > m ? b.at : m), 0n)
  let duration = SALE_DURATION
  if (duration < r.antiSnipingWindowSeconds) duration = r.antiSnipingWindowSeconds
  if (duration <= lastAt) duration = lastAt + 1n
  const deploymentId = onChainId(d.id)
  const launchCall = (gas: GasOptions) =>
    getContract({ abi: MTLaunchFactory.abi, address: factory, client: { wallet: devnet.clientsFor(issuer).wallet } }).write.launch(
      [{ deploymentId, name: `${d.id} Model Token`, symbol: 'MT', graduationTarget: G, startPrice: r.startPrice, minRaise: r.minRaise, duration }],
      gas,
    )
  const saleAs = (account: Address) => getContract({ abi: RmoSale.abi, address: sale, client: { public: pub(), wallet: devnet.clientsFor(account).wallet } })
  // Each buy bounded by exactly simulate()'s result: the MT of a FLOCK buy, the total paid of an exact-MT buy.
  const buyCall = (i: number, timestamp: bigint) => (gas: GasOptions) => {
    const b = buys[i]!
    const f = l.raise.fills[i]!
    const s = saleAs(who(b.buyer))
    return b.mt !== undefined ? s.write.buyExactMt([b.mt, f.totalPaid, timestamp], gas) : s.write.buy([b.flock, f.mtOut, timestamp], gas)
  }
  const groups: Array<{ at: bigint; indices: number[] }> = []
  buys.forEach((b, i) => (groups.at(-1)?.at === b.at ? groups.at(-1)!.indices.push(i) : groups.push({ at: b.at, indices: [i] })))

  const launchedAt = options.launchAt ?? (await latest()).timestamp + 1n
  const atLaunch = groups[0]?.at === 0n ? groups.shift()!.indices : []
  const [launchReceipt, ...firstBuys] = await inOneBlock(pub(), launchedAt, [launchCall, ...atLaunch.map((i) => buyCall(i, launchedAt))])
  const [launched] = parseEventLogs({ abi: MTLaunchFactory.abi, eventName: 'Launched', logs: launchReceipt!.logs })
  expect(launched?.args.sale).toBe(sale)
  const token = getAddress(launched!.args.token)
  const supply: ChainLaunch['supply'] = [{ at: 'launch', supply: await totalSupply(token) }]
  expect(supply[0]!.supply).toBe(MT_TOTAL_SUPPLY)

  // Every buy as simulate() fills it, to the base unit; after each, the MT sold is S(D) (all of S at G), never more.
  const curve = l.curve
  let mtSold = 0n
  let index = 0
  const compareBlock = async (receipts: TransactionReceipt[]) => {
    for (const receipt of receipts) {
      const [e] = parseEventLogs({ abi: RmoSale.abi, eventName: 'Bought', logs: receipt.logs })
      const f = l.raise.fills[index]!
      const order = buys[index]!
      expect(e?.args.buyer, `buy ${index}`).toBe(who(f.buyer))
      expect({ curveIn: e!.args.curveIn, mtOut: e!.args.mtOut, creatorFee: e!.args.creatorFee, protocolFee: e!.args.protocolFee, antiSnipingFee: e!.args.antiSnipingFee, raisedAfter: e!.args.raisedAfter }, `buy ${index} of ${d.id}`).toEqual({
        curveIn: f.curveIn,
        mtOut: f.mtOut,
        creatorFee: f.creatorFee,
        protocolFee: f.protocolFee,
        antiSnipingFee: f.antiSnipingFee,
        raisedAfter: f.raisedAfter,
      })
      if (order.flock !== undefined) expect(order.flock - e!.args.curveIn, `unfilled part of buy ${index}`).toBe(f.unfilled)
      mtSold += e!.args.mtOut
      expect(mtSold, `MT sold after buy ${index}`).toBe(e!.args.raisedAfter === G ? S : soldAt(curve, e!.args.raisedAfter))
      expect(mtSold <= S).toBe(true)
      index++
    }
    const state = await readSale(pub(), sale)
    expect([state.raised, state.sold]).toEqual([l.raise.fills[index - 1]!.raisedAfter, mtSold])
    expect(await balanceOf(env.flock, sale)).toBe(state.raised)
    const positions = await Promise.all(buyerNames.map((name) => positionOf(pub(), sale, who(name))))
    for (const p of positions) expect(p.mt <= state.sold).toBe(true)
    expect([positions.reduce((x, p) => x + p.curveIn, 0n), positions.reduce((x, p) => x + p.mt, 0n)]).toEqual([state.raised, state.sold])
    supply.push({ at: `buy ${index - 1}`, supply: await totalSupply(token) })
  }
  if (firstBuys.length > 0) await compareBlock(firstBuys)
  for (const g of groups) await compareBlock(await inOneBlock(pub(), launchedAt + g.at, g.indices.map((i) => buyCall(i, launchedAt + g.at))))

  // The sale's parameters and totals; the fees went out at once, each buyer paid exactly simulate()'s total.
  const info = await readSale(pub(), sale)
  expect(info.curve).toEqual(l.curve)
  expect(info.fees).toEqual(fees)
  expect([info.minRaise, info.launchedAt, info.endsAt]).toEqual([r.minRaise, launchedAt, launchedAt + duration])
  expect([info.raised, info.sold]).toEqual([l.raise.raised, l.raise.sold])
  expect((await balanceOf(env.flock, issuer)) - before.issuer).toBe(l.raise.creatorFees - r.launchFee)
  expect((await balanceOf(env.flock, env.treasury)) - before.treasury).toBe(l.raise.protocolFees + r.launchFee)
  for (const name of buyerNames) {
    const b = l.raise.buyers.get(name)!
    expect(await balanceOf(env.flock, who(name)), name).toBe(before.buyers.get(name)! - b.curveIn - b.fees)
    expect(await positionOf(pub(), sale, who(name)), name).toEqual({ curveIn: b.curveIn, mt: b.mt })
  }
  expect(info.state).toBe(l.raise.outcome === 'graduated' ? 'succeeded' : 'active')
  if (l.raise.outcome !== 'graduated') {
    await mineAt(info.endsAt)
    expect((await readSale(pub(), sale)).state).toBe(l.raise.outcome === 'failed' ? 'failed' : 'succeeded')
  }

  const outsider = devnet.clientsFor(keeper)
  if (l.raise.outcome === 'failed') {
    // Refunds: exactly each buyer's curve input (simulate()'s refund), once; the fees are kept; nothing graduates.
    await expectRevert(graduateSale(outsider, sale), 'RmoSaleWrongState', [1, 3])
    expect(await readCirculatingSupply(pub(), token)).toBe(0n)
    for (const name of buyerNames) {
      const b = l.raise.buyers.get(name)!
      expect(b.refund).toBe(b.curveIn)
      expect((await refundSale(outsider, sale, who(name))).amount, `refund of ${name}`).toBe(b.refund)
      expect(await balanceOf(env.flock, who(name))).toBe(before.buyers.get(name)! - b.fees)
      await expectRevert(refundSale(outsider, sale, who(name)), 'RmoSaleNothingToRefund', [who(name)])
    }
    expect(await balanceOf(env.flock, sale)).toBe(0n)
    supply.push({ at: 'refunds', supply: await totalSupply(token) })
    expect(supply.at(-1)!.supply).toBe(MT_TOTAL_SUPPLY)
    expectNonIncreasing(supply)
    return { deploymentId, sale, token, issuer, launchedAt, supply }
  }

  // The graduation: the raise split by splitProceeds, the pool seeded with the liquidity FLOCK and pairedLiquidityMt
  // (all 200,000 MT at G), the unsold and unpaired MT burned, the vesting wallets and the streams as simulate() has them.
  const result = await graduateSale(outsider, sale)
  const { blockNumber } = await pub().getTransactionReceipt({ hash: result.hash })
  const g = await readGraduation(pub(), sale)
  expect(g.blockNumber).toBe(blockNumber)
  const paired = pairedLiquidityMt(l.raise.raised, G, l.supply.liquidity)
  expect([result.raised, result.sold]).toEqual([l.raise.raised, l.raise.sold])
  expect(l.proceeds).toEqual(splitProceeds(l.raise.raised))
  expect(result.burned).toBe(l.unsoldBurned)
  expect(result.burnedLiquidity).toBe(l.supply.liquidity - paired)
  expect(g.pool).toEqual({ flock: l.proceeds.liquidity, mt: paired, lpSupply: g.pool.lpSupply })
  expect([g.lpLock.held, result.liquidity]).toEqual([g.pool.lpSupply - UNISWAP_V2_MINIMUM_LIQUIDITY, g.pool.lpSupply - UNISWAP_V2_MINIMUM_LIQUIDITY])
  expect(await reserves(devnet.clients, g.pair, env.flock)).toMatchObject({ reserveA: l.proceeds.liquidity, reserveB: paired })
  expect(g.treasuryVesting).toMatchObject({ beneficiary: env.treasury, flock: { total: l.proceeds.protocol, released: 0n }, mt: { total: l.supply.treasury, released: 0n } })
  expect(g.issuerVesting).toMatchObject({ beneficiary: issuer, flock: { total: 0n, released: 0n }, mt: { total: l.supply.issuer, released: 0n } })
  expect(g.streams.map((s) => [s.kind, s.total, s.startEpoch])).toEqual([
    ['stakingFund', l.proceeds.stakingIncentives, g.startEpoch],
    ['incentiveReserve', l.supply.incentiveReserve, g.startEpoch],
  ])
  expect(g.totalSupply).toBe(MT_TOTAL_SUPPLY - l.unsoldBurned - (l.supply.liquidity - paired))
  expect(checkGraduation(g, env.treasury, issuer)).toEqual([])
  // At G the pool opens at simulate()'s DEX price; below G too, at the price at G (see the deadline graduation test).
  if (l.raise.outcome === 'graduated') expect(dexPrice(g.pool.flock, g.pool.mt)).toBe(l.dexPrice)
  supply.push({ at: 'graduation', supply: g.totalSupply })

  // Vesting: OpenZeppelin's wallets from the graduation's second, at several times and at whole days, as vestedAmount.
  for (const [wallet, tokenAddress, total] of [
    [g.treasuryVesting.address, env.flock, l.proceeds.protocol],
    [g.treasuryVesting.address, token, l.supply.treasury],
    [g.issuerVesting.address, token, l.supply.issuer],
  ] as const) {
    for (const t of VESTING_TIMES) expect(await vestedOf(pub(), wallet, tokenAddress, g.graduatedAt + t), `vested at +${t} s`).toBe(vestedAmount(total, t, VESTING_SECONDS))
    for (const days of [1n, 30n, 179n]) expect(await vestedOf(pub(), wallet, tokenAddress, g.graduatedAt + days * DAY), `vested at day ${days}`).toBe(vestedAmount(total, days, VESTING_DAYS))
  }

  // The circulating supply the token derives at the graduation's block: the MT sold and the liquidity MT paired.
  const circulating = await readCirculatingSupply(pub(), token, blockNumber)
  expect(circulating).toBe(l.raise.sold + paired)
  if (l.raise.outcome === 'graduated') expect(circulating).toBe(derivedCirculating(l, 0n, 0n))

  // Claims: each buyer's MT as simulate() sold it; the sale keeps nothing.
  for (const name of buyerNames) {
    const b = l.raise.buyers.get(name)!
    if (b.mt === 0n) continue
    expect((await claimSaleMt(outsider, sale, who(name))).amount, `claim of ${name}`).toBe(b.mt)
  }
  expect(await balanceOf(token, sale)).toBe(0n)
  expect(await balanceOf(env.flock, sale)).toBe(0n)
  supply.push({ at: 'claims', supply: await totalSupply(token) })
  expectNonIncreasing(supply)
  return { deploymentId, sale, token, issuer, launchedAt, graduation: { result, info: g, blockNumber, circulating }, supply }
}

// ---------------------------------------------------------------------------------------------------------------
// Revenue: a payment into the settlement, against the waterfall
// ---------------------------------------------------------------------------------------------------------------

type SettlementEnvironment = { settlement: Address; usdc: Address; flock: Address; treasury: Address; distributor: Address; opexRecipient: Address; deploymentIds: Hex[] }

/** The settlement's USDC is exactly what is pending for buybacks: the FLOCK buyback and every deployment's MT buyback. */
async function expectSettlementHoldsPending(s: SettlementEnvironment) {
  const c = getContract({ abi: RevenueSettlement.abi, address: s.settlement, client: { public: pub() } })
  const pending = (await c.read.pendingFlockBuyback()) + (await Promise.all(s.deploymentIds.map((id) => c.read.pendingMtBuyback([id])))).reduce((x, y) => x + y, 0n)
  expect(await balanceOf(s.usdc, s.settlement)).toBe(pending)
}

/**
 * Pays `charged` with `opex` for (epoch, deployment) as the admin (payer role) and checks the RevenuePaid parts are
 * `expected` (simulate()'s waterfall) and `revenueWaterfall(netRevenue(charged, opex))`, and that the settlement pays
 * out exactly what it receives: USDC in = OpEx + treasury + issuer yield + what it keeps pending for the buybacks.
 */
async function payAndCheck(s: SettlementEnvironment, p: { epoch: bigint; deploymentId: Hex; charged: bigint; opex: bigint; expected: Waterfall; expectedNet: bigint }) {
  const c = getContract({ abi: RevenueSettlement.abi, address: s.settlement, client: { public: pub() } })
  const read = async () => ({
    payer: await balanceOf(s.usdc, admin),
    opex: await balanceOf(s.usdc, s.opexRecipient),
    treasury: await balanceOf(s.usdc, s.treasury),
    distributor: await balanceOf(s.usdc, s.distributor),
    settlement: await balanceOf(s.usdc, s.settlement),
    pendingFlock: await c.read.pendingFlockBuyback(),
    pendingMt: await c.read.pendingMtBuyback([p.deploymentId]),
    paidOf: await c.read.paidOf([p.epoch, p.deploymentId]),
  })
  await mint(s.usdc, admin, p.charged)
  const before = await read()
  const payment = await payRevenue(devnet.clients, s.settlement, { epoch: p.epoch, deploymentId: p.deploymentId, charged: p.charged, opex: p.opex, opexRecipient: s.opexRecipient })
  const receipt = await pub().getTransactionReceipt({ hash: payment.hash })
  const [event] = parseEventLogs({ abi: RevenueSettlement.abi, eventName: 'RevenuePaid', logs: receipt.logs })
  const parts: Waterfall = { flockBuyback: event!.args.flockBuyback, treasury: event!.args.treasury, mtBuybackBurn: event!.args.mtBuybackBurn, issuerYield: event!.args.issuerYield }
  expect(netRevenue(p.charged, p.opex)).toBe(p.expectedNet)
  expect(parts).toEqual(p.expected)
  expect(parts).toEqual(revenueWaterfall(netRevenue(p.charged, p.opex)))
  expect([event!.args.charged, event!.args.opex]).toEqual([p.charged, p.opex])
  const after = await read()
  const moved = {
    payer: before.payer - after.payer,
    opex: after.opex - before.opex,
    treasury: after.treasury - before.treasury,
    distributor: after.distributor - before.distributor,
    kept: after.settlement - before.settlement,
    pending: after.pendingFlock - before.pendingFlock + (after.pendingMt - before.pendingMt),
  }
  expect(moved).toEqual({ payer: p.charged, opex: p.opex, treasury: parts.treasury, distributor: parts.issuerYield, kept: parts.flockBuyback + parts.mtBuybackBurn, pending: parts.flockBuyback + parts.mtBuybackBurn })
  expect(moved.opex + moved.treasury + moved.distributor + moved.pending).toBe(moved.payer)
  expect(after.paidOf - before.paidOf).toBe(p.charged)
  await expectSettlementHoldsPending(s)
  return parts
}

/**
 * Runs both buybacks of what is pending (at the router's quote, slippage 0): the FLOCK bought goes to the treasury,
 * the MT bought is burned (the supply falls by exactly it); the settlement keeps exactly what is still pending.
 */
async function buyBacksAndCheck(s: SettlementEnvironment, deployments: ReadonlyArray<{ deploymentId: Hex; token: Address; supply: ChainLaunch['supply'] }>) {
  const c = getContract({ abi: RevenueSettlement.abi, address: s.settlement, client: { public: pub() } })
  for (const d of deployments) {
    const pending = await c.read.pendingMtBuyback([d.deploymentId])
    if (pending === 0n || (await quoteExactIn(devnet.clients, uni.router, pending, [s.usdc, s.flock, d.token])).amountOut === 0n) continue
    const supplyBefore = await totalSupply(d.token)
    const held = await balanceOf(s.usdc, s.settlement)
    const bought = await buyBackAndBurnMt(devnet.clients, s.settlement, d.deploymentId, { slippageBps: 0n })
    expect(bought.amountIn).toBe(pending)
    expect(bought.amountOut).toBe(bought.quoted)
    expect(bought.amountOut > 0n).toBe(true)
    expect(await totalSupply(d.token)).toBe(supplyBefore - bought.amountOut)
    expect(await c.read.burnedMt([d.deploymentId])).toBe(bought.amountOut)
    expect(await balanceOf(s.usdc, s.settlement)).toBe(held - pending)
    d.supply.push({ at: 'buyback-and-burn', supply: await totalSupply(d.token) })
    expectNonIncreasing(d.supply)
  }
  const pending = await c.read.pendingFlockBuyback()
  if (pending > 0n && (await quoteExactIn(devnet.clients, uni.router, pending, [s.usdc, s.flock])).amountOut > 0n) {
    const flockBefore = await balanceOf(s.flock, s.treasury)
    const bought = await buyBackFlock(devnet.clients, s.settlement, { slippageBps: 0n })
    expect([bought.amountIn, bought.amountOut]).toEqual([pending, bought.quoted])
    expect(await balanceOf(s.flock, s.treasury)).toBe(flockBefore + bought.amountOut)
  }
  await expectSettlementHoldsPending(s)
}

/** A USDC/FLOCK pool (1 USDC = 2 FLOCK) for the FLOCK buyback and the first hop of the MT buyback. */
async function usdcFlockPool(usdc: Address, flock: Address) {
  await mint(usdc, admin, 1_000_000n * USDC)
  await mint(flock, admin, 2_000_000n * E)
  await approve(usdc, admin, uni.router, maxUint256)
  await approve(flock, admin, uni.router, maxUint256)
  const deadline = (await latest()).timestamp + 600n
  await addLiquidity(devnet.clients, uni.router, { tokenA: usdc, tokenB: flock, amountADesired: 1_000_000n * USDC, amountBDesired: 2_000_000n * E, amountAMin: 0n, amountBMin: 0n, to: treasury, deadline })
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The bundled QwenALICE scenario
// ---------------------------------------------------------------------------------------------------------------

describe('the QwenALICE scenario (fixtures/scenarios/qwenalice.json) through the contracts and src/economics', () => {
  let scenario: Scenario
  let sim: Simulation
  let system: SystemDeployment
  let env: Environment
  let settlementEnv: SettlementEnvironment
  /** The chain's launch of each scenario deployment, by scenario id. */
  const chain = new Map<string, ChainLaunch>()
  /** The chain epoch of the scenario's day 0: the day both deployments launch and graduate in. */
  let day0: bigint

  beforeAll(async () => {
    scenario = readScenario(fixtureDocument())
    sim = simulate(scenario)
    system = await deploySystem(devnet.clients, {
      admin,
      publisher: admin,
      guardian: admin,
      timelockSeconds: 1n,
      tokens: 'test',
      settlement: { router: uni.router, treasury, maxOpexBps: 10_000n },
      funding: { epochSeconds: EPOCH_SECONDS, dailyEmission: scenario.platform.dailyEmission, treasury },
    })
    env = { flock: system.tokens.flock, epochFunding: system.epochFunding!, treasury }
    settlementEnv = { settlement: system.revenueSettlement!, usdc: system.tokens.usdc, flock: system.tokens.flock, treasury, distributor: system.distributor, opexRecipient: providers, deploymentIds: [] }
    await grantSettlementRole(devnet.clients, settlementEnv.settlement, 'payer', admin)
    await grantSettlementRole(devnet.clients, settlementEnv.settlement, 'keeper', admin)
    // Both deployments launch and graduate within one chain day (the scenario's graduationDay 0 for both).
    day0 = (await latest()).timestamp / DAY + 1n
  }, 120_000)

  it("is the paper's scenario: two raises to G, by FLOCK (one in the launch block) and by exact MT, after the anti-sniping window", () => {
    expect(scenario.deployments.map((d) => d.id)).toEqual(['curve-example', 'qwenalice'])
    expect(sim.launches.map((l) => l.raise.outcome)).toEqual(['graduated', 'graduated'])
    const fills = sim.launches.flatMap((l) => l.raise.fills)
    expect(fills[0]!.at).toBe(0n) // curve-example's first buy, in its launch block
    expect(fills.some((f) => f.antiSnipingFee > 0n)).toBe(false) // curve-example has no surcharge, qwenalice buys after its 3,600 s window
    expect(sim.launches[1]!.deployment.rmo.buys!.map((b) => b.mt !== undefined)).toEqual([true, false])
    expect(fills.filter((f) => f.unfilled > 0n).length).toBe(2) // each closing buy crosses G
  })

  for (const [i, id] of ['curve-example', 'qwenalice'].entries())
    it(`raises and graduates "${id}" as simulate() does: every fill, fee, refund-free end, the 25/25/50 split, the pool's seed, vesting`, async () => {
      const l = sim.launches[i]!
      expect(l.deployment.id).toBe(id)
      // curve-example launches at 600 s into the day, qwenalice right after curve-example has graduated.
      const launched = await runLaunch(env, l, i === 0 ? { launchAt: day0 * DAY + 600n } : {})
      chain.set(id, launched)
      expect(launched.graduation!.info.startEpoch).toBe(day0 + l.deployment.graduationDay)
      // The paper's figures: the pool at 0.5 * G / 200,000, no MT burned at G, 600,000 MT circulating at graduation.
      expect(dexPrice(launched.graduation!.info.pool.flock, launched.graduation!.info.pool.mt)).toBe(dexPrice(splitProceeds(l.deployment.rmo.graduationTarget).liquidity, L))
      expect(launched.graduation!.circulating).toBe(600_000n * E)
    }, 120_000)

  it("pays each epoch's revenue split as settleEpoch's waterfall, finalizes it, and EpochFunding releases the emission and every stream as simulate() does; buybacks burn MT", async () => {
    const launches = new Map(sim.launches.map((l) => [l.deployment.id, l]))
    const ids = [...chain.values()].map((c) => c.deploymentId)
    expect(ids.length).toBe(2)
    const byChainId = new Map([...chain].map(([id, c]) => [c.deploymentId, { id, c, l: launches.get(id)! }]))
    // The registry's configuration (each deployment's staking contract) and the settlement's deployments.
    const stakings: Address[] = []
    for (const c of chain.values()) {
      stakings.push(await deployStaking(devnet.clients, c.token, admin, scenario.platform.maxDiscountBps, scenario.platform.discountMultiplier, 1n))
      await setDeployment(devnet.clients, settlementEnv.settlement, c.deploymentId, c.token)
    }
    settlementEnv.deploymentIds = ids
    const registry = distributorAt(devnet.clients, system.distributor)
    const config = keccak256(toHex('economy: qwenalice configuration'))
    await mined(registry.write.scheduleConfig([config, keccak256(toHex('economy: reward parameters')), ids, stakings, [], [], []]))
    const funding = epochFundingAt(devnet.clients, env.epochFunding)
    // The emission reserve: what the scenario's epochs emit.
    await mint(env.flock, env.epochFunding, sim.epochs.reduce((n, e) => n + epochEmission(e.emission, EPOCH_SECONDS), 0n))

    for (const epoch of sim.epochs) {
      const chainEpoch = day0 + epoch.day
      // The epoch is settled once it has ended.
      await mineAt((chainEpoch + 1n) * DAY + 60n)
      let paidTotal = 0n
      for (const s of epoch.settlement.deployments) {
        const c = chain.get(s.id)!
        expect(chainEpoch).toBe(c.graduation!.info.startEpoch + epoch.day - launches.get(s.id)!.deployment.graduationDay)
        const opex = epoch.deployments.get(s.id)!.opex
        await payAndCheck(settlementEnv, { epoch: chainEpoch, deploymentId: c.deploymentId, charged: s.chargedRevenue, opex, expected: s.waterfall, expectedNet: s.netRevenue })
        paidTotal += s.chargedRevenue
      }
      // The paper's day-30 check value: P_net 10,000 USDC -> 3,000 / 3,000 / 3,000 / 1,000.
      if (epoch.day === 30n) expect(epoch.settlement.deployments[0]!.waterfall).toEqual({ flockBuyback: 3_000n * USDC, treasury: 3_000n * USDC, mtBuybackBurn: 3_000n * USDC, issuerYield: 1_000n * USDC })

      // Finalized, the epoch has EpochFunding release its emission and each stream's share into the distributor.
      await devnet.mine(1)
      const snapshotBlock = (await pub().getBlockNumber({ cacheTime: 0 })) - 1n
      const root = keccak256(toHex(`economy epoch ${chainEpoch}`))
      const domain = distributorDomain(await pub().getChainId(), system.distributor)
      await mined(registry.write.propose([chainEpoch, { spendRoot: root, rewardRoot: root, totalGross: paidTotal, totalCharged: paidTotal, receiptCount: 1n, manifestHash: root, domain, proofsHash: zeroHash, configHash: config, snapshotBlock, ledgerHash: root }, '']))
      const streams = await funding.read.streams()
      const distributorBefore = { flock: await balanceOf(env.flock, system.distributor), mt: await Promise.all([...chain.values()].map((c) => balanceOf(c.token, system.distributor))) }
      const receipt = await mined(registry.write.finalize([chainEpoch]))
      const [funded] = parseEventLogs({ abi: EpochFunding.abi, eventName: 'EpochFunded', logs: receipt.logs })
      expect(funded?.args.epoch).toBe(chainEpoch)
      expect(funded!.args.emission).toBe(epoch.emission)
      expect(funded!.args.emission).toBe(epochEmission(scenario.platform.dailyEmission, EPOCH_SECONDS))
      expect(streams.length).toBe(4)
      let flockStreamed = 0n
      const mtStreamed = new Map<Address, bigint>()
      streams.forEach((st, k) => {
        const { id, c, l } = byChainId.get(st.deploymentId)!
        const total = st.kind === 0 ? l.proceeds.stakingIncentives : l.supply.incentiveReserve
        expect([st.total, BigInt(st.startEpoch)]).toEqual([total, c.graduation!.info.startEpoch])
        const expected = epochRelease(total, BigInt(st.startEpoch), chainEpoch, EPOCH_SECONDS)
        expect(funded!.args.streamed[k], `${id} stream ${st.kind} in epoch day ${epoch.day}`).toBe(expected)
        // The deployments the scenario settles this epoch: simulate()'s own releases of the day.
        const detail = epoch.deployments.get(id)
        if (detail) expect(funded!.args.streamed[k]).toBe(st.kind === 0 ? detail.stakingFundRelease : detail.incentiveRelease)
        if (st.kind === 0) flockStreamed += expected
        else mtStreamed.set(getAddress(st.token), expected)
      })
      expect(await balanceOf(env.flock, system.distributor)).toBe(distributorBefore.flock + epoch.emission + flockStreamed)
      for (const [k, c] of [...chain.values()].entries()) expect(await balanceOf(c.token, system.distributor)).toBe(distributorBefore.mt[k]! + mtStreamed.get(c.token)!)
    }

    // The buybacks of everything pending: FLOCK for the treasury, qwenalice's MT bought through its pool and burned.
    await usdcFlockPool(settlementEnv.usdc, settlementEnv.flock)
    await buyBacksAndCheck(settlementEnv, [...chain.values()])
    expect(await getContract({ abi: RevenueSettlement.abi, address: settlementEnv.settlement, client: { public: pub() } }).read.burnedMt([chain.get('qwenalice')!.deploymentId])).toBeGreaterThan(0n)
  }, 180_000)

  describe('variants of its qwenalice raise', () => {
    let variantEnv: Environment
    const deadline: { launch?: DeploymentLaunch; chain?: ChainLaunch } = {}
    beforeAll(async () => {
      variantEnv = { flock: system.tokens.flock, epochFunding: await deployEpochFunding(devnet.clients, { admin, flock: system.tokens.flock, epochSeconds: EPOCH_SECONDS, dailyEmission: 0n, treasury }), treasury }
    })

    /** The fixture with only its qwenalice deployment, its buys changed by `buys`, read and simulated. */
    const variant = (buys: (b: ScenarioDocument['deployments'][number]['rmo']['buys']) => ScenarioDocument['deployments'][number]['rmo']['buys'], epochs?: ScenarioDocument['epochs']) => {
      const document = fixtureDocument()
      document.deployments = document.deployments.filter((d) => d.id === 'qwenalice')
      document.deployments[0]!.rmo.buys = buys(document.deployments[0]!.rmo.buys)
      if (epochs) document.epochs = epochs
      return simulate(readScenario(document)).launches[0]!
    }

    it("fails without the market's closing buy: every buyer is refunded exactly simulate()'s refund, fees kept", async () => {
      const l = variant((buys) => buys.slice(0, 1), [{ day: 0, deployments: {} }])
      expect(l.raise.outcome).toBe('failed')
      await runLaunch(variantEnv, l)
    }, 120_000)

    it('graduates at the deadline above the minimum raise with a smaller closing buy: burns the unsold MT, pairs D/G of the liquidity MT', async () => {
      const l = variant((buys) => buys.map((b) => (b.flock !== undefined ? { ...b, flock: '45000' } : b)))
      expect(l.raise.outcome).toBe('graduated-at-deadline')
      const c = await runLaunch(variantEnv, l)
      const G = l.deployment.rmo.graduationTarget
      // The pool opens at the price of a graduation at G (to the rounding of the two floors), not at 0.5 * D / 200,000.
      const pool = c.graduation!.info.pool
      const atG = dexPrice(splitProceeds(G).liquidity, L)
      expect(dexPrice(pool.flock, pool.mt) <= atG && atG - dexPrice(pool.flock, pool.mt) <= 1n).toBe(true)
      expect(c.graduation!.result.burned + c.graduation!.result.burnedLiquidity > 0n).toBe(true)
      Object.assign(deadline, { launch: l, chain: c })
    }, 120_000)

    // simulate() seeds a deadline graduation's pool as the graduator does: pairedLiquidityMt(D, G) of the liquidity MT,
    // the rest burned, so `fomo simulate` plans the DEX price and circulating supply the chain will have.
    it("simulate()'s DEX price and circulating supply of a deadline graduation are the chain's", () => {
      const { launch: l, chain: c } = deadline
      expect(l && c).toBeTruthy()
      expect(l!.dexPrice, 'DEX price (WAD): simulate() vs the pool the graduation seeded').toBe(dexPrice(c!.graduation!.info.pool.flock, c!.graduation!.info.pool.mt))
      expect(derivedCirculating(l!, 0n, 0n), 'circulating at graduation: simulate() vs ModelToken.circulatingSupply()').toBe(c!.graduation!.circulating)
    })
  })
})

// ---------------------------------------------------------------------------------------------------------------
// 2. Random scenarios
// ---------------------------------------------------------------------------------------------------------------

type Order = { buyer: number; dt: bigint; mt: boolean; size: { ppm: bigint } | { wei: bigint } }
type RandomUser = { stakePpm: bigint; usage: bigint }
type RandomInput = {
  graduationTarget: bigint
  startPricePpm: bigint
  minRaisePpm: bigint
  antiSnipingStartBps: bigint
  window: bigint
  launchFee: bigint
  orders: Order[]
  closeWithMt: boolean
  closeExtraPpm: bigint
  closeDt: bigint
  epochs: Array<{ gap: bigint; users: RandomUser[]; opexPpm: bigint }>
}

const order: fc.Arbitrary<Order> = fc.record({
  buyer: fc.nat({ max: 3 }),
  // Seconds after the previous buy: often inside the window (up to 3,600 s), sometimes well after it.
  dt: fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 0n, max: 5_000n })),
  mt: fc.boolean(),
  // A share of what is left below the ending's cap (per million), or a few base units.
  size: fc.oneof(
    { arbitrary: fc.bigInt({ min: 1n, max: 600_000n }).map((ppm) => ({ ppm })), weight: 3 },
    { arbitrary: fc.bigInt({ min: 600_000n, max: 1_000_000n }).map((ppm) => ({ ppm })), weight: 1 },
    { arbitrary: fc.bigInt({ min: 1n, max: 1_000n }).map((wei) => ({ wei })), weight: 1 },
  ),
})

const randomInput: fc.Arbitrary<RandomInput> = fc.record({
  // G from the factory's floor, 10,000 FLOCK, to 1,000,000 FLOCK, to the base unit.
  graduationTarget: fc.bigInt({ min: 10_000n * E, max: 1_000_000n * E }),
  // P0 as a share of the largest feasible one (S * P0 < G).
  startPricePpm: fc.bigInt({ min: 1n, max: 999_999n }),
  minRaisePpm: fc.bigInt({ min: 0n, max: 1_000_000n }),
  antiSnipingStartBps: fc.bigInt({ min: 125n, max: 2_500n }),
  window: fc.bigInt({ min: 1n, max: 3_600n }),
  launchFee: fc.bigInt({ min: 0n, max: 1_000n * E }),
  orders: fc.array(order, { minLength: 1, maxLength: 5 }),
  closeWithMt: fc.boolean(),
  closeExtraPpm: fc.bigInt({ min: 0n, max: 500_000n }),
  closeDt: fc.bigInt({ min: 0n, max: 4_000n }),
  epochs: fc.array(
    fc.record({
      gap: fc.bigInt({ min: 0n, max: 90n }),
      users: fc.array(fc.record({ stakePpm: fc.bigInt({ min: 0n, max: 1_000_000n }), usage: fc.bigInt({ min: USDC, max: 100_000n * USDC }) }), { minLength: 1, maxLength: 3 }),
      opexPpm: fc.bigInt({ min: 0n, max: 1_000_000n }),
    }),
    { minLength: 1, maxLength: 2 },
  ),
})

let randomScenarios = 0
/**
 * A fomo-scenario-v1 document of one deployment whose raise ends as `ending` says: random G, P0, minimum raise,
 * anti-sniping schedule and launch fee; buys by FLOCK and by exact MT sized as shares of what is left below a cap
 * (the minimum raise for a failure, G otherwise), then a closing buy (crossing G, or topping up to the minimum raise);
 * for a raise that goes live, one or two epochs of usage, stakes and OpEx (at most 70 % of the gross, so at most the
 * charged revenue whatever the discounts: the settlement refuses OpEx above the charged revenue).
 */
function randomScenario(input: RandomInput, ending: RaiseOutcome): unknown {
  const G = input.graduationTarget
  const startPrice = (((G * WAD - 1n) / S) * input.startPricePpm) / 1_000_000n || 1n
  const top = ending === 'graduated' ? G : G - 1n
  const minRaise = DEFAULT_MIN_RAISE_FLOOR + ((top - DEFAULT_MIN_RAISE_FLOOR) * input.minRaisePpm) / 1_000_000n
  const fees: FeeSchedule = { creatorFeeBps: 30n, protocolFeeBps: 95n, antiSnipingStartBps: input.antiSnipingStartBps, antiSnipingWindowSeconds: input.window }
  const curve = createCurve({ saleSupply: S, graduationTarget: G, startPrice })
  const cap = ending === 'failed' ? minRaise - 1n : G - 1n
  const buys: Buy[] = []
  let at = 0n
  const state = () => simulateRaise(curve, fees, buys, minRaise)
  for (const o of input.orders) {
    at += o.dt
    const { raised, sold } = state()
    const left = o.mt ? soldAt(curve, cap) - sold : cap - raised
    if (left <= 0n) continue
    const amount = 'ppm' in o.size ? (left * o.size.ppm) / 1_000_000n || 1n : o.size.wei < left ? o.size.wei : left
    buys.push({ buyer: `b${o.buyer}`, at, ...(o.mt ? { mt: amount } : { flock: amount }) } as Buy)
  }
  const { raised, sold } = state()
  at += input.closeDt
  if (ending === 'graduated') {
    // Crossing G: the rest of S and more, or the rest of G and more (the part beyond is unfilled, never charged).
    if (input.closeWithMt) buys.push({ buyer: 'b0', at, mt: maxBig(1n, S - sold + ((S - sold) * input.closeExtraPpm) / 1_000_000n) })
    else buys.push({ buyer: 'b1', at, flock: G - raised + ((G - raised) * input.closeExtraPpm) / 1_000_000n })
  } else if (ending === 'graduated-at-deadline' && raised < minRaise) buys.push({ buyer: 'b2', at, flock: minRaise - raised })
  const amount = (v: bigint) => formatUnits(v, 18)
  const id = `random-${++randomScenarios}`
  let day = -1n
  return {
    format: 'fomo-scenario-v1',
    name: `random scenario ${randomScenarios} (${ending})`,
    platform: { maxDiscountBps: 3000, discountMultiplier: 2, dailyEmission: '20000' },
    deployments: [
      {
        id,
        issuer: 'issuer',
        graduationDay: 0,
        rmo: {
          graduationTarget: amount(G),
          startPrice: amount(startPrice),
          minRaise: amount(minRaise),
          creatorFeeBps: 30,
          protocolFeeBps: 95,
          antiSniping: { startBps: Number(input.antiSnipingStartBps), windowSeconds: Number(input.window) },
          launchFee: amount(input.launchFee),
          buys: buys.map((b) => ({ buyer: b.buyer, at: Number(b.at), ...(b.mt !== undefined ? { mt: amount(b.mt) } : { flock: amount(b.flock) }) })),
        },
      },
    ],
    epochs:
      ending === 'failed'
        ? [{ day: 0, deployments: {} }]
        : input.epochs.map((e) => {
            day += 1n + e.gap
            const gross = e.users.reduce((n, u) => n + u.usage, 0n)
            return {
              day: Number(day),
              deployments: {
                [id]: {
                  opex: formatUnits((((gross * 7n) / 10n) * e.opexPpm) / 1_000_000n, 6),
                  // At most the 200,000 liquidity MT: below the circulating supply simulate() derives.
                  stakes: Object.fromEntries(e.users.map((u, k) => [`u${k}`, amount((L * u.stakePpm) / 1_000_000n)])),
                  usage: Object.fromEntries(e.users.map((u, k) => [`u${k}`, formatUnits(u.usage, 6)])),
                },
              },
            }
          }),
  }
}

describe('random scenarios through the contracts and src/economics (fast-check, one devnet)', () => {
  let env: Environment
  let settlementEnv: SettlementEnvironment
  beforeAll(async () => {
    const flock = getAddress(await deployTestToken(devnet.clients, 'FLOCK (test)', 'FLOCK', 18))
    const usdc = getAddress(await deployTestToken(devnet.clients, 'USD Coin (test)', 'USDC', 6))
    // No distributor is bound: streams may start at any epoch, and their releases are read (releaseOf), not paid.
    env = { flock, epochFunding: await deployEpochFunding(devnet.clients, { admin, flock, epochSeconds: EPOCH_SECONDS, dailyEmission: 0n, treasury }), treasury }
    const settlement = await deploySettlement(devnet.clients, { usdc, flock, router: uni.router, treasury, distributor: distributorAccount, admin, maxOpexBps: 10_000n })
    settlementEnv = { settlement, usdc, flock, treasury, distributor: distributorAccount, opexRecipient: providers, deploymentIds: [] }
    await grantSettlementRole(devnet.clients, settlement, 'payer', admin)
    await grantSettlementRole(devnet.clients, settlement, 'keeper', admin)
    await usdcFlockPool(usdc, flock)
  }, 120_000)

  const endings: Array<[RaiseOutcome, number]> = [
    ['graduated', 3],
    ['graduated-at-deadline', 3],
    ['failed', 2],
  ]
  for (const [ending, numRuns] of endings)
    it(`ending ${ending}: fills, fees, refunds or the graduation, vesting, stream releases and revenue payments equal simulate(); MT sold = S(D) <= S, the supply only falls, the settlement conserves USDC`, async () => {
      await fc.assert(
        fc.asyncProperty(randomInput, async (input) => {
          const scenario = readScenario(randomScenario(input, ending))
          const sim = simulate(scenario)
          const l = sim.launches[0]!
          expect(l.raise.outcome).toBe(ending)
          const c = await runLaunch(env, l)
          if (ending === 'failed') return
          const g = c.graduation!.info
          const funding = epochFundingAt(devnet.clients, env.epochFunding)
          // The streams' releases per epoch: releaseOf equals epochRelease, and simulate()'s releases on its days.
          for (const [total, kind] of [
            [l.proceeds.stakingIncentives, 'stakingFundRelease'],
            [l.supply.incentiveReserve, 'incentiveRelease'],
          ] as const) {
            for (const e of [g.startEpoch - 1n, g.startEpoch, g.startEpoch + 1n, g.startEpoch + 179n, g.startEpoch + 180n])
              expect(await funding.read.releaseOf([total, g.startEpoch, e])).toBe(epochRelease(total, g.startEpoch, e, EPOCH_SECONDS))
            for (const epoch of sim.epochs) {
              const detail = epoch.deployments.get(l.deployment.id)!
              expect(await funding.read.releaseOf([total, g.startEpoch, g.startEpoch + epoch.day]), `${kind} on day ${epoch.day}`).toBe(detail[kind])
            }
          }
          // Each epoch's revenue paid and split as settleEpoch's waterfall; then the buybacks.
          await setDeployment(devnet.clients, settlementEnv.settlement, c.deploymentId, c.token)
          settlementEnv.deploymentIds.push(c.deploymentId)
          for (const epoch of sim.epochs) {
            const s = epoch.settlement.deployments[0]!
            await payAndCheck(settlementEnv, { epoch: g.startEpoch + epoch.day, deploymentId: c.deploymentId, charged: s.chargedRevenue, opex: epoch.deployments.get(s.id)!.opex, expected: s.waterfall, expectedNet: s.netRevenue })
          }
          await buyBacksAndCheck(settlementEnv, [c])
          expectNonIncreasing(c.supply)
        }),
        { numRuns },
      )
    }, 180_000)
})

// ---------------------------------------------------------------------------------------------------------------
// 3. Reentrancy
// ---------------------------------------------------------------------------------------------------------------

describe('reentrancy through a token that calls back on transfer (ReentrantToken)', () => {
  const reAt = (address: Address) => getContract({ abi: ReentrantToken.abi, address, client: { public: pub(), wallet: devnet.clients.wallet } })
  const saleAt = (sale: Address, account: Address = keeper) => getContract({ abi: RmoSale.abi, address: sale, client: { public: pub(), wallet: devnet.clientsFor(account).wallet } })
  /** Arms `token` to call `target` with `data` on its next transfer; `undefined` disarms it. */
  const arm = async (token: Address, target?: Address, data: Hex = '0x') => mined(reAt(token).write.arm([target ?? zeroAddress, data]))

  /** What a refused re-entry must leave as it was: the sale's totals, every position, and FLOCK and MT balances. */
  async function saleState(sale: Address, flock: Address, accounts: readonly Address[]) {
    const s = await readSale(pub(), sale)
    return {
      raised: s.raised,
      sold: s.sold,
      state: s.state,
      graduatedAt: s.graduatedAt,
      positions: await Promise.all(accounts.map((a) => positionOf(pub(), sale, a))),
      flock: await Promise.all([sale, ...accounts].map((a) => balanceOf(flock, a))),
      mt: await Promise.all([sale, ...accounts].map((a) => balanceOf(s.token, a))),
    }
  }

  it('a FLOCK that re-enters the sale from its transfer hook cannot re-enter buy, buyExactMt, refund, claim or graduate: each attempt reverts on the guard and changes nothing', async () => {
    const re = await deploy(devnet.clients, ReentrantToken, [])
    const epochFunding = await deployEpochFunding(devnet.clients, { admin, flock: re, epochSeconds: EPOCH_SECONDS, dailyEmission: 0n, treasury })
    const fees: FeeSchedule = { creatorFeeBps: 30n, protocolFeeBps: 95n, antiSnipingStartBps: 125n, antiSnipingWindowSeconds: 0n }
    const factory = await deployLaunchFactory(devnet.clients, { flock: re, treasury, launchFee: 0n, fees, uniswapFactory: uni.factory, epochFunding })
    await grantStreamRole(devnet.clients, epochFunding, await graduatorOf(pub(), factory))
    const G = 10_000n * E
    const launch = async (minRaise: bigint) => {
      const issuer = who('issuer')
      const receipt = await mined(
        getContract({ abi: MTLaunchFactory.abi, address: factory, client: { wallet: devnet.clientsFor(issuer).wallet } }).write.launch([
          { deploymentId: onChainId('reentrancy'), name: 'Reentrant sale', symbol: 'RS', graduationTarget: G, startPrice: E / 100n, minRaise, duration: DAY },
        ]),
      )
      const [e] = parseEventLogs({ abi: MTLaunchFactory.abi, eventName: 'Launched', logs: receipt.logs })
      return getAddress(e!.args.sale)
    }
    const sale = await launch(1_000n * E)
    const failing = await launch(G)
    const [alice, bob] = [who('alice'), who('bob')]
    for (const a of [alice, bob]) {
      await mined(reAt(re).write.mint([a, 100_000n * E]))
      for (const s of [sale, failing]) await approve(re, a, s, maxUint256)
    }
    const curve = createCurve({ saleSupply: S, graduationTarget: G, startPrice: E / 100n })
    const buyAs = (s: Address, account: Address, flockIn: bigint) => saleAt(s, account).write.buy([flockIn, 0n, maxUint256], { gas: 1_000_000n })

    // Buying: the hook re-enters every guarded function of the sale; the buy reverts with ReentrancyGuardReentrantCall.
    const reentries: Array<[string, Hex]> = [
      ['buy', encodeFunctionData({ abi: RmoSale.abi, functionName: 'buy', args: [1n, 0n, maxUint256] })],
      ['buyExactMt', encodeFunctionData({ abi: RmoSale.abi, functionName: 'buyExactMt', args: [1n, maxUint256, maxUint256] })],
      ['refund', encodeFunctionData({ abi: RmoSale.abi, functionName: 'refund', args: [alice] })],
      ['claim', encodeFunctionData({ abi: RmoSale.abi, functionName: 'claim', args: [alice] })],
      ['graduate', encodeFunctionData({ abi: RmoSale.abi, functionName: 'graduate' })],
    ]
    const start = await saleState(sale, re, [alice, bob])
    for (const [name, data] of reentries) {
      await arm(re, sale, data)
      await expectRevert(buyAs(sale, alice, 1_000n * E), 'ReentrancyGuardReentrantCall')
      expect(await saleState(sale, re, [alice, bob]), `after a buy re-entering ${name}`).toEqual(start)
      // The revert undid the callback too: the token is still armed, so each attempt really re-entered.
      expect(await reAt(re).read.reentered()).toBe(false)
    }
    // Disarmed, the same buy fills as rmo.ts quotes it; then bob reaches G.
    await arm(re)
    const quote = quoteBuy(curve, fees, { raised: 0n, flockIn: 1_000n * E, elapsed: 1n })
    await mined(buyAs(sale, alice, 1_000n * E))
    expect(await positionOf(pub(), sale, alice)).toEqual({ curveIn: quote.curveIn, mt: quote.mtOut })
    await mined(buyAs(sale, bob, G))
    expect((await readSale(pub(), sale)).state).toBe('succeeded')

    // Graduating: the raise's transfer to the graduator re-enters claim (or graduate): the graduation reverts on the
    // guard, the sale stays Succeeded with its FLOCK and MT. (A claim moves only MT, never this FLOCK: the hook cannot
    // fire inside a claim; the claim is reachable only from another guarded call, as here.)
    const succeeded = await saleState(sale, re, [alice, bob])
    for (const [name, data] of reentries.filter(([n]) => n === 'claim' || n === 'graduate')) {
      await arm(re, sale, data)
      await expectRevert(saleAt(sale).write.graduate({ gas: 8_000_000n }), 'ReentrancyGuardReentrantCall')
      expect(await saleState(sale, re, [alice, bob]), `after a graduation re-entering ${name}`).toEqual(succeeded)
    }
    await arm(re)
    const graduated = await graduateSale(devnet.clients, sale)
    expect(graduated.raised).toBe(G)
    const info = await readGraduation(pub(), sale)
    expect(info.pool).toMatchObject({ flock: splitProceeds(G).liquidity, mt: pairedLiquidityMt(G, G) })
    expect((await claimSaleMt(devnet.clients, sale, alice)).amount).toBe(quote.mtOut)

    // Refunding a failed raise: the refund's transfer re-enters refund for the same buyer (a second refund) or buy;
    // it reverts on the guard with the position intact, then refunds exactly once.
    await mined(buyAs(failing, alice, 2_000n * E))
    await mined(buyAs(failing, bob, 3_000n * E))
    await mineAt((await readSale(pub(), failing)).endsAt)
    expect((await readSale(pub(), failing)).state).toBe('failed')
    const failed = await saleState(failing, re, [alice, bob])
    for (const data of [encodeFunctionData({ abi: RmoSale.abi, functionName: 'refund', args: [alice] }), encodeFunctionData({ abi: RmoSale.abi, functionName: 'buy', args: [1n, 0n, maxUint256] })]) {
      await arm(re, failing, data)
      await expectRevert(saleAt(failing).write.refund([alice], { gas: 1_000_000n }), 'ReentrancyGuardReentrantCall')
      expect(await saleState(failing, re, [alice, bob])).toEqual(failed)
    }
    await arm(re)
    expect((await refundSale(devnet.clients, failing, alice)).amount).toBe(2_000n * E)
    await expectRevert(refundSale(devnet.clients, failing, alice), 'RmoSaleNothingToRefund', [alice])
    // The hook does fire inside a refund: armed with a read-only call, bob's refund goes through and the token records
    // the callback. Only the guard stands between the hook and a state-changing re-entry.
    await arm(re, failing, encodeFunctionData({ abi: RmoSale.abi, functionName: 'positionOf', args: [bob] }))
    expect((await refundSale(devnet.clients, failing, bob)).amount).toBe(3_000n * E)
    expect(await reAt(re).read.reentered()).toBe(true)
    expect(await balanceOf(re, failing)).toBe(0n)
  }, 120_000)

  it('a USDC that re-enters the settlement from its transfer hook cannot re-enter pay or a buyback: the payment reverts on the guard and nothing is paid', async () => {
    const re = await deploy(devnet.clients, ReentrantToken, [])
    const flock = await deployTestToken(devnet.clients, 'FLOCK (test)', 'FLOCK', 18)
    const settlement = await deploySettlement(devnet.clients, { usdc: re, flock, router: uni.router, treasury, distributor: distributorAccount, admin, maxOpexBps: 10_000n })
    const s: SettlementEnvironment = { settlement, usdc: re, flock, treasury, distributor: distributorAccount, opexRecipient: providers, deploymentIds: [] }
    // The settlement takes a burnable Model Token: a launch's ModelToken.
    const burnable = (await reentrantLaunchToken()).token
    const id = onChainId('reentrant-usdc')
    await setDeployment(devnet.clients, settlement, id, burnable)
    s.deploymentIds.push(id)
    await grantSettlementRole(devnet.clients, settlement, 'payer', admin)
    // The token itself holds both roles: nothing but the reentrancy guard refuses its calls.
    await grantSettlementRole(devnet.clients, settlement, 'payer', re)
    await grantSettlementRole(devnet.clients, settlement, 'keeper', re)
    const charged = 12_000n * USDC
    const opex = 2_000n * USDC
    await mined(reAt(re).write.mint([admin, 2n * charged]))
    await approve(re, admin, settlement, maxUint256)
    const c = getContract({ abi: RevenueSettlement.abi, address: settlement, client: { public: pub(), wallet: devnet.clients.wallet } })
    const state = async () => ({
      paidOf: await c.read.paidOf([7n, id]),
      paidTotal: await c.read.paidTotal([7n]),
      pendingFlock: await c.read.pendingFlockBuyback(),
      pendingMt: await c.read.pendingMtBuyback([id]),
      balances: await Promise.all([admin, settlement, treasury, providers, distributorAccount].map((a) => balanceOf(re, a))),
    })
    const start = await state()
    for (const data of [
      encodeFunctionData({ abi: RevenueSettlement.abi, functionName: 'pay', args: [7n, id, charged, opex, providers] }),
      encodeFunctionData({ abi: RevenueSettlement.abi, functionName: 'buyBackFlock', args: [1n, 1n, maxUint256] }),
      encodeFunctionData({ abi: RevenueSettlement.abi, functionName: 'buyBackAndBurnMt', args: [id, 1n, 1n, maxUint256] }),
    ]) {
      await arm(re, settlement, data)
      await expectRevert(c.write.pay([7n, id, charged, opex, providers], { gas: 1_000_000n }), 'ReentrancyGuardReentrantCall')
      expect(await state()).toEqual(start)
      expect(await reAt(re).read.reentered()).toBe(false)
    }
    // Disarmed, the payment is split as revenueWaterfall(netRevenue(charged, opex)), every unit accounted for.
    await arm(re)
    const paid = await payAndCheck(s, { epoch: 7n, deploymentId: id, charged, opex, expected: revenueWaterfall(netRevenue(charged, opex)), expectedNet: charged - opex })
    expect(paid).toEqual({ flockBuyback: 3_000n * USDC, treasury: 3_000n * USDC, mtBuybackBurn: 3_000n * USDC, issuerYield: 1_000n * USDC })
    expect(await c.read.paidTotal([7n])).toBe(charged)
  }, 120_000)

  /** A launch (test FLOCK, no graduation) whose ModelToken serves as a burnable Model Token. */
  async function reentrantLaunchToken() {
    const flock = await deployTestToken(devnet.clients, 'FLOCK (test)', 'FLOCK', 18)
    const epochFunding = await deployEpochFunding(devnet.clients, { admin, flock, epochSeconds: EPOCH_SECONDS, dailyEmission: 0n, treasury })
    const fees: FeeSchedule = { creatorFeeBps: 30n, protocolFeeBps: 95n, antiSnipingStartBps: 125n, antiSnipingWindowSeconds: 0n }
    const factory = await deployLaunchFactory(devnet.clients, { flock, treasury, launchFee: 0n, fees, uniswapFactory: uni.factory, epochFunding })
    const receipt = await mined(
      getContract({ abi: MTLaunchFactory.abi, address: factory, client: { wallet: devnet.clients.wallet } }).write.launch([
        { deploymentId: onChainId('burnable'), name: 'Burnable', symbol: 'B', graduationTarget: 10_000n * E, startPrice: E / 100n, minRaise: 1_000n * E, duration: DAY },
      ]),
    )
    const [e] = parseEventLogs({ abi: MTLaunchFactory.abi, eventName: 'Launched', logs: receipt.logs })
    return { sale: getAddress(e!.args.sale), token: getAddress(e!.args.token) }
  }
})
