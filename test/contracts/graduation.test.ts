/**
 * The graduation of an RMO sale into a real Uniswap v2 (deployed from its published artifacts) on the in-process EVM,
 * with the paper's numbers end to end: the raise split by `splitProceeds`, the pool seeded at exactly the liquidity
 * FLOCK and the 200,000 liquidity MT (DEX price 0.125), the LP tokens locked 48 months, the protocol FLOCK and the
 * issuer and treasury MT vesting linearly over 180 days (`vestedAmount`), the staking incentives and the incentive
 * reserve streamed by EpochFunding from the graduation epoch, the unsold MT burned; a deadline graduation below G
 * pairing D/G of the liquidity MT (the rest burned) so that its pool opens at the same 0.125; a trade through the
 * router after graduation; the refusals (among them a graduation blocked by a full EpochFunding, which lapses and
 * refunds, and a vesting wallet's ownership moved); a pair created and donated to before graduation; and the
 * circulating supply the token derives from chain state, as MTStaking checkpoints it.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { erc20Abi, getAddress, getContract, keccak256, maxUint256, parseAbi, toHex, zeroHash, type Address, type Hex, type TransactionReceipt } from 'viem'
import { deploy, deployContracts, deployStaking, deployTestToken, distributorAt, type Clients } from '../../src/chain/contracts.ts'
import { EpochFunding, LiquidityLock, LockedVestingWallet, MTGraduator, MTStaking, RmoSale, TestToken, VestingWallet } from '../../src/chain/contracts.generated.ts'
import { startDevnet, type Devnet } from '../../src/chain/devnet.ts'
import { bindDistributor, deployEpochFunding, grantStreamRole } from '../../src/chain/funding.ts'
import {
  buyWithFlock,
  checkGraduation,
  claimSaleMt,
  deployLaunchFactory,
  expectedGraduation,
  graduateSale,
  GRADUATION_WINDOW_SECONDS,
  graduatorOf,
  LaunchError,
  launchRmo,
  LP_LOCK_SECONDS,
  positionOf,
  readCirculatingSupply,
  readGraduation,
  readSale,
  refundSale,
  releaseLiquidity,
  releaseVested,
  revertedWith,
  syncCirculatingSupply,
  vestedOf,
  VESTING_SECONDS,
  type LaunchParameters,
} from '../../src/chain/launch.ts'
import { deployUniswapV2, pairFor, quoteExactIn, reserves, swapExactTokensForTokens, UNISWAP_V2_MINIMUM_LIQUIDITY, uniswapV2FactoryAbi, type UniswapV2Deployment } from '../../src/chain/uniswap.ts'
import { DEFAULT_FEES, dexPrice, type FeeSchedule } from '../../src/economics/rmo.ts'
import { allocateSupply, epochRelease, MT_TOTAL_SUPPLY, pairedLiquidityMt, splitProceeds, vestedAmount } from '../../src/economics/supply.ts'
import { distributorDomain } from '../../src/epoch/rewards.ts'

const E = 10n ** 18n
const DAY = 86_400n
const EPOCH_SECONDS = DAY
const ALLOCATION = allocateSupply()
const S = ALLOCATION.publicSale
const L = ALLOCATION.liquidity
const LAUNCH_FEE = 250n * E
const PAPER_FEES: FeeSchedule = { ...DEFAULT_FEES, antiSnipingStartBps: 1125n, antiSnipingWindowSeconds: 600n }
/** The paper's sale: G 50,000 FLOCK, P0 0.1 FLOCK per MT. */
const G = 50_000n * E
const PAPER = { graduationTarget: G, startPrice: E / 10n }
/** What the pair needs that the published `uniswapV2PairAbi` of src/chain/uniswap.ts does not list. */
const pairExtraAbi = parseAbi(['function sync()', 'function skim(address to)'])

let devnet: Devnet
let uni: UniswapV2Deployment
let flock: Address
let admin: Address, issuer: Address, treasury: Address, keeper: Address, attacker: Address, trader: Address
let buyers: Address[]

beforeAll(async () => {
  devnet = await startDevnet()
  ;[admin, issuer, treasury, keeper, attacker, trader] = devnet.accounts as [Address, Address, Address, Address, Address, Address]
  buyers = devnet.accounts.slice(6, 10)
  flock = getAddress(await deployTestToken(devnet.clients, 'FLOCK (test)', 'FLOCK', 18))
  uni = await deployUniswapV2(devnet.clients, { feeToSetter: admin })
}, 120_000)

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

const pub = () => devnet.clients.public
const as = (account: Address): Clients => devnet.clientsFor(account)
const rpc = (method: string, params: unknown[] = []) => pub().request({ method, params } as never) as Promise<unknown>
const latest = () => pub().getBlock({ blockTag: 'latest' })
const balanceOf = (token: Address, owner: Address, blockNumber?: bigint) =>
  pub().readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner], ...(blockNumber === undefined ? {} : { blockNumber }) })

async function mined(hash: Promise<Hex>): Promise<TransactionReceipt> {
  const receipt = await pub().waitForTransactionReceipt({ hash: await hash })
  expect(receipt.status).toBe('success')
  return receipt
}

const mintFlock = (to: Address, amount: bigint) => mined(devnet.clients.wallet.writeContract({ address: flock, abi: TestToken.abi, functionName: 'mint', args: [to, amount] }))

/** Expects a call or transaction to revert with the named custom error (and arguments, when given). */
async function expectRevert(promise: Promise<unknown>, errorName: string, args?: readonly unknown[]) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, `expected a revert with ${errorName}`).toBeDefined()
  expect(revertedWith(error)?.errorName, String(error)).toBe(errorName)
  if (args) expect(revertedWith(error)?.args).toEqual(args)
}

/** An EpochFunding (no emission) and a launch factory over it and the shared Uniswap v2; the graduator holds STREAM_ROLE unless told not to. */
async function system(options: { grant?: boolean } = {}) {
  const epochFunding = await deployEpochFunding(devnet.clients, { admin, flock, epochSeconds: EPOCH_SECONDS, dailyEmission: 0n, treasury })
  const factory = await deployLaunchFactory(devnet.clients, { flock, treasury, launchFee: LAUNCH_FEE, fees: PAPER_FEES, uniswapFactory: uni.factory, epochFunding })
  const graduator = await graduatorOf(pub(), factory)
  if (options.grant ?? true) await grantStreamRole(devnet.clients, epochFunding, graduator)
  return { epochFunding, factory, graduator }
}

let ids = 0
/** Launches the paper's sale as the issuer (funded for the launch fee), under a fresh deployment id. */
async function launch(factory: Address, p: Partial<LaunchParameters> = {}) {
  await mintFlock(issuer, LAUNCH_FEE)
  const parameters: LaunchParameters = { deploymentId: keccak256(toHex(`graduation ${++ids}`)), name: 'QwenALICE', symbol: 'QALICE', ...PAPER, minRaise: 10_000n * E, durationSeconds: 7n * DAY, ...p }
  return launchRmo(as(issuer), factory, parameters)
}

/** Buys `flockIn` of curve input as `buyer` (funded for it and its fees first). */
async function buy(sale: Address, buyer: Address, flockIn: bigint) {
  await mintFlock(buyer, (flockIn * 12n) / 10n)
  return buyWithFlock(as(buyer), sale, flockIn)
}

/** Mines the next block at `timestamp` (seconds). */
const mineAt = (timestamp: bigint) => rpc('evm_mine', [Number(timestamp)])

// ---------------------------------------------------------------------------------------------------------------
// The paper's numbers, end to end
// ---------------------------------------------------------------------------------------------------------------

describe('graduation at G with the paper numbers (S 400,000, G 50,000, P0 0.1)', () => {
  it('seeds 25,000 FLOCK / 200,000 MT at 0.125, locks the LP 48 months, vests 25 % and the issuer and treasury MT over 180 days, streams the rest, and trades', async () => {
    const { epochFunding, factory, graduator } = await system()
    const { sale, token, deploymentId } = await launch(factory)
    const [alice, bob] = buyers as [Address, Address]
    await buy(sale, alice, 20_000n * E)
    const crossing = await buy(sale, bob, 40_000n * E)
    expect(crossing.raisedAfter).toBe(G)
    expect((await readSale(pub(), sale)).state).toBe('succeeded')

    const treasuryFlock = await balanceOf(flock, treasury)
    const result = await graduateSale(as(keeper), sale)
    const { timestamp: graduatedAt } = await latest()
    const info = await readGraduation(pub(), sale)
    const expected = expectedGraduation({ raised: G, sold: S, graduatedAt, epochSeconds: EPOCH_SECONDS })
    // Every number is src/economics's, and checkGraduation finds no difference.
    expect(checkGraduation(info, treasury, issuer)).toEqual([])
    expect(info.graduatedAt).toBe(graduatedAt)
    expect(expected.proceeds).toEqual({ protocol: 12_500n * E, stakingIncentives: 12_500n * E, liquidity: 25_000n * E })
    expect(expected.proceeds).toEqual(splitProceeds(G))

    // The pool: exactly 25,000 FLOCK and 200,000 MT, the paper's 0.125 FLOCK per MT, in the factory's canonical pair.
    expect(info.pair).toBe(await pairFor(devnet.clients, uni.factory, token, flock))
    expect(result.pair).toBe(info.pair)
    expect(info.pool).toMatchObject({ flock: 25_000n * E, mt: 200_000n * E })
    expect(dexPrice(info.pool.flock, info.pool.mt)).toBe(E / 8n)
    expect(expected.dexPrice).toBe(E / 8n)
    // LP: sqrt(25,000e18 * 200,000e18), all of it in the lock but the 1,000 the pair burns on its first mint.
    const lpSupply = 70_710_678_118_654_752_440_084n // floor(sqrt(5e45))
    expect(lpSupply * lpSupply <= 25_000n * E * 200_000n * E && (lpSupply + 1n) ** 2n > 25_000n * E * 200_000n * E).toBe(true)
    expect(info.pool.lpSupply).toBe(lpSupply)
    expect([info.lpLock.held, result.liquidity, info.liquidity]).toEqual([lpSupply - UNISWAP_V2_MINIMUM_LIQUIDITY, lpSupply - UNISWAP_V2_MINIMUM_LIQUIDITY, lpSupply - UNISWAP_V2_MINIMUM_LIQUIDITY])
    expect(info.lpLock).toMatchObject({ beneficiary: treasury, releaseTime: graduatedAt + LP_LOCK_SECONDS })
    expect(LP_LOCK_SECONDS).toBe(4n * 365n * DAY)
    expect(result.cleared).toEqual({ flock: 0n, mt: 0n })

    // Nothing burned at G; the sale keeps only what buyers are owed; the raise left it whole.
    expect([result.burned, info.totalSupply]).toEqual([0n, MT_TOTAL_SUPPLY])
    expect(await balanceOf(token, sale)).toBe(S)
    expect(await balanceOf(flock, sale)).toBe(0n)
    expect([await balanceOf(flock, graduator), await balanceOf(token, graduator)]).toEqual([0n, 0n])
    // The treasury gets no FLOCK at once from the graduation: its 25 % vests.
    expect(await balanceOf(flock, treasury)).toBe(treasuryFlock)

    // The vesting wallets: OpenZeppelin's, from graduation over 180 days; amounts at several times are vestedAmount's.
    expect(info.treasuryVesting).toMatchObject({ beneficiary: treasury, start: graduatedAt, duration: VESTING_SECONDS, flock: { total: 12_500n * E, released: 0n }, mt: { total: ALLOCATION.treasury, released: 0n } })
    expect(info.issuerVesting).toMatchObject({ beneficiary: issuer, start: graduatedAt, duration: VESTING_SECONDS, flock: { total: 0n, released: 0n }, mt: { total: ALLOCATION.issuer, released: 0n } })
    for (const t of [-1n, 0n, 1n, DAY, 45n * DAY + 7n, 90n * DAY, VESTING_SECONDS - 1n, VESTING_SECONDS, 365n * DAY])
      for (const [wallet, tokenAddress, total] of [
        [info.treasuryVesting.address, flock, expected.vesting.protocolFlock],
        [info.treasuryVesting.address, token, expected.vesting.treasuryMt],
        [info.issuerVesting.address, token, expected.vesting.issuerMt],
      ] as const)
        expect(await vestedOf(pub(), wallet, tokenAddress, graduatedAt + t), `${wallet} ${tokenAddress} at +${t}`).toBe(vestedAmount(total, t, VESTING_SECONDS))
    expect(await vestedOf(pub(), info.treasuryVesting.address, flock, graduatedAt + 90n * DAY)).toBe(6_250n * E)

    // The streams: kind 0 the staking incentives in FLOCK, kind 1 the incentive reserve in MT, from the graduation epoch.
    expect(info.epochFunding).toBe(getAddress(epochFunding))
    expect(info.startEpoch).toBe(graduatedAt / EPOCH_SECONDS)
    expect(info.streams.map(({ index: _, ...s }) => s)).toEqual([
      { kind: 'stakingFund', token: flock, total: 12_500n * E, released: 0n, startEpoch: graduatedAt / EPOCH_SECONDS },
      { kind: 'incentiveReserve', token, total: ALLOCATION.incentiveReserve, released: 0n, startEpoch: graduatedAt / EPOCH_SECONDS },
    ])
    expect([await balanceOf(flock, epochFunding), await balanceOf(token, epochFunding)]).toEqual([12_500n * E, 200_000n * E])
    const [migrated] = await pub().getContractEvents({ address: graduator, abi: MTGraduator.abi, eventName: 'Migrated', fromBlock: 0n })
    expect(migrated?.args).toMatchObject({ deploymentId, sale, pair: info.pair, lpLock: info.lpLock.address, startEpoch: info.startEpoch })

    // Buyers claim; a trade through the router at the pool's price, both ways.
    expect((await claimSaleMt(as(keeper), sale, alice)).amount + (await claimSaleMt(as(keeper), sale, bob)).amount).toBe(S)
    await mintFlock(trader, 1_000n * E)
    await mined(as(trader).wallet.writeContract({ address: flock, abi: erc20Abi, functionName: 'approve', args: [uni.router, maxUint256] }))
    const deadline = (await latest()).timestamp + 600n
    const quote = await quoteExactIn(devnet.clients, uni.router, 1_000n * E, [flock, token])
    // At 0.125 FLOCK per MT and a 0.3 % fee, 1,000 FLOCK buys a little under 8,000 MT (the pool moves).
    expect(quote.amountOut < 8_000n * E && quote.amountOut > 7_600n * E).toBe(true)
    const bought = await swapExactTokensForTokens(as(trader), uni.router, { amountIn: 1_000n * E, amountOutMin: quote.amountOut, path: [flock, token], to: trader, deadline })
    expect(bought.amountOut).toBe(quote.amountOut)
    expect(await reserves(devnet.clients, info.pair, flock)).toMatchObject({ reserveA: 26_000n * E, reserveB: 200_000n * E - quote.amountOut })
    await mined(as(alice).wallet.writeContract({ address: token, abi: erc20Abi, functionName: 'approve', args: [uni.router, maxUint256] }))
    const back = await quoteExactIn(devnet.clients, uni.router, 4_000n * E, [token, flock])
    const sold = await swapExactTokensForTokens(as(alice), uni.router, { amountIn: 4_000n * E, amountOutMin: back.amountOut, path: [token, flock], to: alice, deadline })
    expect(sold.amountOut).toBe(back.amountOut)

    // 30 days on: the vested part is released, exactly vestedAmount at the release block.
    await mineAt(graduatedAt + 30n * DAY - 1n)
    const before = { flock: await balanceOf(flock, treasury), mt: await balanceOf(token, issuer) }
    const releasedFlock = await releaseVested(as(keeper), info.treasuryVesting.address, flock)
    const atFlock = (await latest()).timestamp
    expect(releasedFlock.amount).toBe(vestedAmount(12_500n * E, atFlock - graduatedAt, VESTING_SECONDS))
    expect(await balanceOf(flock, treasury)).toBe(before.flock + releasedFlock.amount)
    const releasedMt = await releaseVested(as(keeper), info.issuerVesting.address, token)
    expect(releasedMt.amount).toBe(vestedAmount(ALLOCATION.issuer, (await latest()).timestamp - graduatedAt, VESTING_SECONDS))
    expect(await balanceOf(token, issuer)).toBe(before.mt + releasedMt.amount)
    // A second release in the next second pays only that second's vesting.
    const again = await releaseVested(as(keeper), info.issuerVesting.address, token)
    expect(again.amount).toBe(vestedAmount(ALLOCATION.issuer, (await latest()).timestamp - graduatedAt, VESTING_SECONDS) - releasedMt.amount)

    // The LP lock: refused before 4 * 365 days, to the second, then paid to the treasury in full.
    const locked = await releaseLiquidity(as(keeper), info.lpLock.address).catch((e: unknown) => e)
    expect(locked).toBeInstanceOf(LaunchError)
    expect((locked as LaunchError).errorName).toBe('LiquidityLockLocked')
    expect((locked as LaunchError).message).toMatch(/48 months/)
    await rpc('evm_setNextBlockTimestamp', [Number(info.lpLock.releaseTime - 1n)])
    await expectRevert(as(keeper).wallet.writeContract({ address: info.lpLock.address, abi: LiquidityLock.abi, functionName: 'release', gas: 200_000n }), 'LiquidityLockLocked', [info.lpLock.releaseTime, info.lpLock.releaseTime - 1n])
    // The driver simulates at the latest block first, so the release time must have been mined.
    await mineAt(info.lpLock.releaseTime)
    const paid = await releaseLiquidity(as(keeper), info.lpLock.address)
    expect(paid.amount).toBe(lpSupply - UNISWAP_V2_MINIMUM_LIQUIDITY)
    expect([await balanceOf(info.pair, treasury), await balanceOf(info.pair, info.lpLock.address)]).toEqual([lpSupply - UNISWAP_V2_MINIMUM_LIQUIDITY, 0n])
  }, 120_000)

  it('at the deadline below G: burns the unsold MT (S - sold), splits the smaller raise the same way, and pairs D/G of the liquidity MT so the pool opens at 0.125', async () => {
    const { factory, graduator } = await system()
    const { sale, token } = await launch(factory, { minRaise: 10_000n * E, durationSeconds: DAY })
    const [alice, bob] = buyers as [Address, Address]
    await buy(sale, alice, 12_345n * E + 7n)
    await buy(sale, bob, 7_000n * E)
    const { endsAt, raised, sold } = await readSale(pub(), sale)
    expect(raised).toBe(19_345n * E + 7n)
    await mineAt(endsAt)
    expect((await readSale(pub(), sale)).state).toBe('succeeded')
    const result = await graduateSale(as(keeper), sale)
    const info = await readGraduation(pub(), sale)
    expect(checkGraduation(info, treasury, issuer)).toEqual([])
    const expected = expectedGraduation({ raised, sold, graduatedAt: info.graduatedAt, epochSeconds: EPOCH_SECONDS, graduationTarget: G })
    expect(info.graduationTarget).toBe(G)
    // The unsold sale MT is burned, and so is the liquidity MT the pool does not take: the supply is 1,000,000 MT less
    // S - sold less 200,000 MT * (1 - D/G).
    const pooledMt = pairedLiquidityMt(raised, G)
    expect(pooledMt).toBe((L * raised) / G)
    expect(pooledMt).toBe(77_380n * E + 28n) // 4 * D: 200,000 / 50,000 MT per FLOCK raised
    expect(result.burned).toBe(S - sold)
    expect(result.burned > 0n).toBe(true)
    expect(result.burnedLiquidity).toBe(L - pooledMt)
    expect([expected.burned, expected.burnedLiquidity]).toEqual([S - sold, L - pooledMt])
    expect(info.totalSupply).toBe(MT_TOTAL_SUPPLY - (S - sold) - (L - pooledMt))
    expect(await balanceOf(token, sale)).toBe(sold)
    expect([await balanceOf(flock, info.pair), await balanceOf(token, info.pair)]).toEqual([splitProceeds(raised).liquidity, pooledMt])
    expect([await balanceOf(flock, graduator), await balanceOf(token, graduator)]).toEqual([0n, 0n])
    // The split of a raise that does not divide evenly (its last digits, 7, give 1 and 3 rounded down): the 2 base
    // units of dust go to the protocol's vesting.
    const split = splitProceeds(raised)
    expect(split.protocol + split.stakingIncentives + split.liquidity).toBe(raised)
    expect(split.protocol).toBe(split.stakingIncentives + 2n)
    expect(info.pool).toMatchObject({ flock: split.liquidity, mt: pooledMt })
    // The pool's price is the paper's 0.5 * G / 200,000 = 0.125 FLOCK per MT (dexPrice at G), to the rounding of the
    // two floors (here 1 wei of WAD below), not 0.5 * D / 200,000 (0.048...), below the curve's last price.
    const atG = dexPrice(splitProceeds(G).liquidity, L)
    expect(atG).toBe(E / 8n)
    expect(dexPrice(info.pool.flock, info.pool.mt)).toBe(expected.dexPrice)
    expect(expected.dexPrice).toBe(atG - 1n)
    expect(dexPrice(split.liquidity, L) < (atG * 2n) / 5n).toBe(true) // what the full 200,000 MT would have opened at
    // A trade sees that price: 10 FLOCK buys a little under 80 MT (0.3 % fee, the pool moves a little).
    const quote = await quoteExactIn(devnet.clients, uni.router, 10n * E, [flock, token])
    expect(quote.amountOut < 80n * E && quote.amountOut > 79n * E).toBe(true)
    expect(info.treasuryVesting.flock.total).toBe(split.protocol)
    expect(info.streams.map((s) => [s.kind, s.total])).toEqual([
      ['stakingFund', split.stakingIncentives],
      ['incentiveReserve', ALLOCATION.incentiveReserve],
    ])
  }, 120_000)
})

// ---------------------------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------------------------

describe('graduation refusals', () => {
  it('refuses a graduation before success, a second one, and one after a failed raise (whose MT stays locked and refunds still work)', async () => {
    const { factory } = await system()
    const { sale } = await launch(factory)
    const [alice] = buyers as [Address]
    await buy(sale, alice, 1_000n * E)
    const early = await graduateSale(as(keeper), sale).catch((e: unknown) => e)
    expect([(early as LaunchError).errorName, (early as LaunchError).errorArgs]).toEqual(['RmoSaleWrongState', [1, 0]])
    await buy(sale, alice, G)
    await graduateSale(as(keeper), sale)
    await expectRevert(graduateSale(as(keeper), sale), 'RmoSaleWrongState', [1, 2])

    const failed = await launch(factory, { minRaise: 10_000n * E, durationSeconds: DAY })
    const bought = await buy(failed.sale, alice, 5_000n * E)
    await mineAt((await readSale(pub(), failed.sale)).endsAt)
    await expectRevert(graduateSale(as(keeper), failed.sale), 'RmoSaleWrongState', [1, 3])
    // Nothing was placed: the whole supply stays locked in the sale for good, none of it circulates.
    expect(await balanceOf(failed.token, failed.sale)).toBe(MT_TOTAL_SUPPLY)
    expect(await readCirculatingSupply(pub(), failed.token)).toBe(0n)
    expect((await refundSale(as(keeper), failed.sale, alice)).amount).toBe(bought.curveIn)
    expect(await readCirculatingSupply(pub(), failed.token)).toBe(0n)
  }, 120_000)

  it('waits while the graduator lacks STREAM_ROLE (the sale stays succeeded) and graduates once it is granted, up to the last second before it lapses; only the sale may migrate', async () => {
    const { epochFunding, factory, graduator } = await system({ grant: false })
    const { sale, deploymentId } = await launch(factory)
    await buy(sale, buyers[0]!, G)
    const refused = await graduateSale(as(keeper), sale).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(LaunchError)
    expect((refused as LaunchError).errorName).toBe('AccessControlUnauthorizedAccount')
    expect((refused as LaunchError).message).toMatch(/STREAM_ROLE/)
    expect((await readSale(pub(), sale)).state).toBe('succeeded')
    const { graduationDeadline } = await readSale(pub(), sale)
    await mineAt(graduationDeadline - 10n)
    expect((await readSale(pub(), sale)).state).toBe('succeeded')
    await grantStreamRole(devnet.clients, epochFunding, graduator)
    await rpc('evm_setNextBlockTimestamp', [Number(graduationDeadline - 1n)])
    await graduateSale(as(keeper), sale)
    expect((await latest()).timestamp).toBe(graduationDeadline - 1n)
    expect((await readSale(pub(), sale)).state).toBe('graduated')
    // The graduator takes a migration from the recorded sale only.
    await expectRevert(as(attacker).wallet.writeContract({ address: graduator, abi: MTGraduator.abi, functionName: 'migrate', args: [deploymentId, 1n], gas: 500_000n }), 'MTGraduatorNotSale', [attacker, deploymentId])
    await expectRevert(as(attacker).wallet.writeContract({ address: graduator, abi: MTGraduator.abi, functionName: 'migrate', args: [zeroHash, 1n], gas: 500_000n }), 'MTGraduatorNotSale', [attacker, zeroHash])
  }, 120_000)
})

// ---------------------------------------------------------------------------------------------------------------
// Attacks on the graduation: a full EpochFunding, a vesting wallet handed over
// ---------------------------------------------------------------------------------------------------------------

describe('attacks on the graduation', () => {
  it("a graduation EpochFunding keeps refusing (its 200 live streams filled by spam) lapses 30 days after the sale's end: buyers are refunded, fees kept, the MT never circulates", async () => {
    const { epochFunding, factory } = await system()
    const { sale, token } = await launch(factory, { durationSeconds: DAY })
    const [alice, bob] = buyers as [Address, Address]
    const a = await buy(sale, alice, 30_000n * E)
    const b = await buy(sale, bob, 30_000n * E)
    expect([b.raisedAfter, a.curveIn + b.curveIn]).toEqual([G, G])
    // The spam: the streams of 100 graduations (two each) fill EpochFunding's MAX_LIVE_STREAMS for 180 days; added here
    // by its admin (which holds STREAM_ROLE), 1 base unit each, as the graduations of 100 other sales would add them.
    const funding = getContract({ abi: EpochFunding.abi, address: epochFunding, client: { public: pub(), wallet: devnet.clients.wallet } })
    const max = await funding.read.MAX_LIVE_STREAMS()
    expect(max).toBe(200n)
    await mintFlock(admin, max)
    await mined(devnet.clients.wallet.writeContract({ address: flock, abi: erc20Abi, functionName: 'approve', args: [epochFunding, maxUint256] }))
    const epoch = (await latest()).timestamp / EPOCH_SECONDS
    for (let i = 0n; i < max; i++) await mined(funding.write.addStream([keccak256(toHex(`spam ${i}`)), 0, flock, 1n, epoch]))
    expect((await funding.read.streams()).length).toBe(200)

    // Every graduation reverts; the sale stays succeeded (no refund yet) until 30 days after its end.
    const refused = await graduateSale(as(keeper), sale).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(LaunchError)
    expect((refused as LaunchError).errorName).toBe('EpochFundingInvalidStream')
    expect((refused as LaunchError).message).toMatch(/lapses/)
    const info = await readSale(pub(), sale)
    expect(info.state).toBe('succeeded')
    expect(info.graduationDeadline).toBe(info.endsAt + GRADUATION_WINDOW_SECONDS)
    expect(GRADUATION_WINDOW_SECONDS).toBe(30n * DAY)
    expect(await pub().readContract({ address: sale, abi: RmoSale.abi, functionName: 'GRADUATION_WINDOW' })).toBe(GRADUATION_WINDOW_SECONDS)
    await expectRevert(as(keeper).wallet.writeContract({ address: sale, abi: RmoSale.abi, functionName: 'refund', args: [alice], gas: 200_000n }), 'RmoSaleWrongState', [3, 1])
    expect(await readCirculatingSupply(pub(), token)).toBe(S + L)
    await mineAt(info.graduationDeadline - 1n)
    expect((await readSale(pub(), sale)).state).toBe('succeeded')

    // At the deadline it lapses, for good: no graduation, no buy, no claim; each buyer gets its curve input back.
    await mineAt(info.graduationDeadline)
    expect((await readSale(pub(), sale)).state).toBe('lapsed')
    const lapsed = await graduateSale(as(keeper), sale).catch((e: unknown) => e)
    expect([(lapsed as LaunchError).errorName, (lapsed as LaunchError).errorArgs]).toEqual(['RmoSaleWrongState', [1, 4]])
    expect((lapsed as LaunchError).message).toMatch(/refunds a failed or lapsed one/)
    await expectRevert(as(keeper).wallet.writeContract({ address: sale, abi: RmoSale.abi, functionName: 'claim', args: [alice], gas: 200_000n }), 'RmoSaleWrongState', [2, 4])
    await expectRevert(as(keeper).wallet.writeContract({ address: sale, abi: RmoSale.abi, functionName: 'buy', args: [E, 0n, maxUint256], gas: 500_000n }), 'RmoSaleWrongState', [0, 4])
    // Nothing was placed: the whole supply stays locked in the sale for good, none of it circulates.
    expect(await readCirculatingSupply(pub(), token)).toBe(0n)
    const before = { alice: await balanceOf(flock, alice), bob: await balanceOf(flock, bob) }
    expect((await refundSale(as(keeper), sale, alice)).amount).toBe(a.curveIn)
    expect((await refundSale(as(keeper), sale, bob)).amount).toBe(b.curveIn)
    expect([await balanceOf(flock, alice), await balanceOf(flock, bob)]).toEqual([before.alice + a.curveIn, before.bob + b.curveIn])
    expect(await positionOf(pub(), sale, alice)).toEqual({ curveIn: 0n, mt: 0n })
    await expectRevert(as(keeper).wallet.writeContract({ address: sale, abi: RmoSale.abi, functionName: 'refund', args: [alice], gas: 200_000n }), 'RmoSaleNothingToRefund', [alice])
    expect(await balanceOf(flock, sale)).toBe(0n)
    expect(await balanceOf(token, sale)).toBe(MT_TOTAL_SUPPLY)
    expect(await readCirculatingSupply(pub(), token)).toBe(0n)
    expect((await readSale(pub(), sale)).state).toBe('lapsed')
  }, 180_000)

  it("refuses to hand a vesting wallet over: neither the issuer nor the treasury can transfer or renounce its ownership, and releases still pay them", async () => {
    const { factory } = await system()
    const { sale, token } = await launch(factory)
    await buy(sale, buyers[0]!, G)
    const { issuerVesting, treasuryVesting } = await graduateSale(as(keeper), sale)
    for (const [wallet, owner] of [
      [issuerVesting, issuer],
      [treasuryVesting, treasury],
    ] as const) {
      // Sent as OpenZeppelin's VestingWallet takes them (Ownable's transferOwnership and renounceOwnership), by the owner.
      const send = (from: Address, functionName: 'transferOwnership' | 'renounceOwnership') =>
        as(from).wallet.writeContract({ address: wallet, abi: VestingWallet.abi, functionName, args: functionName === 'transferOwnership' ? [attacker] : [], gas: 200_000n } as never)
      await expectRevert(send(owner, 'transferOwnership'), 'LockedVestingWalletFixedBeneficiary', [])
      await expectRevert(send(owner, 'renounceOwnership'), 'LockedVestingWalletFixedBeneficiary', [])
      // Nor anyone else.
      await expectRevert(send(attacker, 'transferOwnership'), 'LockedVestingWalletFixedBeneficiary', [])
      expect(await pub().readContract({ address: wallet, abi: LockedVestingWallet.abi, functionName: 'owner' })).toBe(owner)
    }
    // 30 days on, a release (by anyone) pays the issuer what has vested.
    await mineAt((await latest()).timestamp + 30n * DAY)
    const released = await releaseVested(as(attacker), issuerVesting, token)
    expect(released.amount > 0n).toBe(true)
    expect(await balanceOf(token, issuer)).toBe(released.amount)
    expect(await balanceOf(token, attacker)).toBe(0n)
  }, 120_000)
})

// ---------------------------------------------------------------------------------------------------------------
// A pair created and donated to before graduation
// ---------------------------------------------------------------------------------------------------------------

describe('a pair created before graduation, with FLOCK donated to it', () => {
  const cases = [
    { name: 'synced and not', synced: 1_000n * E, loose: 7n * E + 3n },
    { name: 'synced, more than the liquidity FLOCK', synced: 100_000n * E, loose: 0n },
    { name: 'not synced', synced: 0n, loose: 5_000n * E },
  ]
  for (const c of cases)
    it(`still seeds exactly 25,000 FLOCK / 200,000 MT at 0.125 and sends the donation to the treasury (${c.name})`, async () => {
      const { factory } = await system()
      const { sale, token } = await launch(factory)
      // The attacker creates the pair (no MT exists outside the sale, so it can add no liquidity) and donates FLOCK.
      const attack = as(attacker)
      await mined(attack.wallet.writeContract({ address: uni.factory, abi: uniswapV2FactoryAbi, functionName: 'createPair', args: [token, flock] }))
      const pair = (await pairFor(devnet.clients, uni.factory, token, flock))!
      await mintFlock(attacker, c.synced + c.loose)
      if (c.synced > 0n) {
        await mined(attack.wallet.writeContract({ address: flock, abi: erc20Abi, functionName: 'transfer', args: [pair, c.synced] }))
        await mined(attack.wallet.writeContract({ address: pair, abi: pairExtraAbi, functionName: 'sync' }))
      }
      if (c.loose > 0n) await mined(attack.wallet.writeContract({ address: flock, abi: erc20Abi, functionName: 'transfer', args: [pair, c.loose] }))
      expect((await reserves(devnet.clients, pair, flock)).reserveA).toBe(c.synced)
      expect(await balanceOf(flock, pair)).toBe(c.synced + c.loose)

      await buy(sale, buyers[0]!, G)
      const treasuryFlock = await balanceOf(flock, treasury)
      const result = await graduateSale(as(keeper), sale)
      const info = await readGraduation(pub(), sale)
      expect(result.pair).toBe(pair)
      expect(checkGraduation(info, treasury, issuer)).toEqual([])
      expect(info.pool).toMatchObject({ flock: 25_000n * E, mt: 200_000n * E })
      expect(dexPrice(info.pool.flock, info.pool.mt)).toBe(E / 8n)
      // Exactly the donation went to the treasury (its 25 % of the raise vests, so nothing else moved to it).
      expect(result.cleared).toEqual({ flock: c.synced + c.loose, mt: 0n })
      expect(await balanceOf(flock, treasury)).toBe(treasuryFlock + c.synced + c.loose)
      // The lock holds every LP token but the 1,000 burned at the first mint: the pool is the treasury's at unlock.
      expect(info.lpLock.held).toBe(info.pool.lpSupply - UNISWAP_V2_MINIMUM_LIQUIDITY)
      expect(info.lpLock.held > 0n).toBe(true)
      expect(await balanceOf(pair, sale)).toBe(0n)
      expect([await balanceOf(flock, info.pair), await balanceOf(token, info.pair)]).toEqual([25_000n * E, 200_000n * E])
      // The other allocations are untouched by the attack.
      expect(info.treasuryVesting.flock.total).toBe(12_500n * E)
      expect(info.streams.map((s) => s.total)).toEqual([12_500n * E, ALLOCATION.incentiveReserve])
    }, 120_000)
})

// ---------------------------------------------------------------------------------------------------------------
// Circulating supply (paper 3.6)
// ---------------------------------------------------------------------------------------------------------------

describe('circulating supply from chain state, checkpointed by MTStaking', () => {
  const CONFIG = keccak256('0xc1')

  it('is sale + liquidity + vested - burned before and after graduation, after a vesting release, a burn and a reserve release', async () => {
    // A distributor bound to the funding, so that an epoch's finalization releases the incentive reserve.
    const { epochFunding, factory } = await system()
    const { distributor } = await deployContracts(devnet.clients, { admin, publisher: admin, guardian: admin, timelockSeconds: 1n, epochFunding })
    await bindDistributor(devnet.clients, epochFunding, distributor)
    const { sale, token, deploymentId } = await launch(factory)
    const staking = await deployStaking(devnet.clients, token, admin, 3000n, 2n, 1n)
    const stakingAt = getContract({ abi: MTStaking.abi, address: staking, client: { public: pub(), wallet: devnet.clients.wallet } })
    const registry = distributorAt(devnet.clients, distributor)
    await mined(registry.write.scheduleConfig([CONFIG, keccak256('0x5e'), [deploymentId], [staking], [], [], []]))

    // The staking contract reads its supply from the token: recorded at deployment, never set by hand. Nothing is
    // sold yet and a graduation now would pair no liquidity MT: zero circulates.
    expect(await stakingAt.read.supplyFromToken()).toBe(true)
    const deployedAt = (await latest()).number
    await devnet.mine(1)
    expect(await stakingAt.read.circulatingSupplyAt([deployedAt])).toBe(0n)
    await expectRevert(stakingAt.write.setCirculatingSupply([600_000n * E], { gas: 200_000n }), 'MTStakingSupplyFromToken', [token])

    /** Syncs as anyone, and checks the checkpoint of that block is the token's value there and `expected`. */
    const synced = async (expected: bigint | ((timestamp: bigint) => bigint)) => {
      const s = await syncCirculatingSupply(as(keeper), staking)
      const block = await pub().getBlock({ blockNumber: s.blockNumber })
      const value = typeof expected === 'bigint' ? expected : expected(block.timestamp)
      expect(s.circulating).toBe(value)
      expect(await readCirculatingSupply(pub(), token, s.blockNumber)).toBe(value)
      await devnet.mine(1)
      expect(await stakingAt.read.circulatingSupplyAt([s.blockNumber])).toBe(value)
      return s
    }

    // Before graduation: the MT sold plus the liquidity MT a graduation at the raise so far would pair, D/G of 200,000
    // (sale + liquidity; nothing vested, nothing burned).
    const [alice, bob] = buyers as [Address, Address]
    await buy(sale, alice, 10_000n * E)
    const { sold: soldEarly, raised: raisedEarly } = await readSale(pub(), sale)
    expect(raisedEarly).toBe(10_000n * E)
    await synced(soldEarly + L / 5n)
    await buy(sale, bob, G)
    await synced(S + L)

    // After graduation: 600,000 plus what has vested of the issuer's and the treasury's MT, plus what EpochFunding
    // has released of the incentive reserve, less what was burned.
    await graduateSale(as(keeper), sale)
    const info = await readGraduation(pub(), sale)
    const g = info.graduatedAt
    let reserveReleased = 0n
    let burned = 0n
    const paper = (timestamp: bigint) => S + L + vestedAmount(ALLOCATION.issuer, timestamp - g, VESTING_SECONDS) + vestedAmount(ALLOCATION.treasury, timestamp - g, VESTING_SECONDS) + reserveReleased - burned
    expect(await readCirculatingSupply(pub(), token)).toBe(paper((await latest()).timestamp))
    expect(paper(g)).toBe(600_000n * E)
    await synced(paper)

    // 45 days on, and after a release of vested MT (vested MT circulates, released or not).
    await mineAt(g + 45n * DAY)
    await synced(paper)
    await releaseVested(as(keeper), info.issuerVesting.address, token)
    await releaseVested(as(keeper), info.treasuryVesting.address, token)
    expect(await readCirculatingSupply(pub(), token)).toBe(paper((await latest()).timestamp))
    await synced(paper)

    // A burn (buyback-and-burn, or any holder's) lowers it by exactly the burn.
    await claimSaleMt(as(keeper), sale, alice)
    const burnAbi = parseAbi(['function burn(uint256 value)'])
    const atBurn = (await latest()).timestamp + 1n
    await rpc('evm_setNextBlockTimestamp', [Number(atBurn)])
    await mined(as(alice).wallet.writeContract({ address: token, abi: burnAbi, functionName: 'burn', args: [1_234n * E] }))
    burned += 1_234n * E
    expect(await readCirculatingSupply(pub(), token)).toBe(paper(atBurn))
    await synced(paper)

    // The distributor finalizes the graduation epoch: EpochFunding releases that epoch's share of the reserve.
    const epoch = info.startEpoch
    await devnet.mine(1)
    const snapshotBlock = (await pub().getBlockNumber({ cacheTime: 0 })) - 1n
    const domain = distributorDomain(await pub().getChainId(), distributor)
    const root = keccak256('0x01')
    await mined(registry.write.propose([epoch, { spendRoot: root, rewardRoot: root, totalGross: 1n, totalCharged: 1n, receiptCount: 1n, manifestHash: root, domain, proofsHash: zeroHash, configHash: CONFIG, snapshotBlock, ledgerHash: root }, '']))
    const before = await balanceOf(token, distributor)
    await mined(registry.write.finalize([epoch]))
    reserveReleased = epochRelease(ALLOCATION.incentiveReserve, info.startEpoch, epoch, EPOCH_SECONDS)
    expect(reserveReleased).toBe(ALLOCATION.incentiveReserve / 180n)
    expect(await balanceOf(token, distributor)).toBe(before + reserveReleased)
    expect(await readCirculatingSupply(pub(), token)).toBe(paper((await latest()).timestamp))
    await synced(paper)

    // After 180 days everything has vested: all but the reserve EpochFunding still holds circulates.
    await mineAt(g + VESTING_SECONDS + DAY)
    const all = await synced(paper)
    expect(all.circulating).toBe(MT_TOTAL_SUPPLY - (ALLOCATION.incentiveReserve - reserveReleased) - burned)
  }, 180_000)

  it('after a deadline graduation below G: the sold MT and the paired liquidity MT, the unsold and the unpaired burned', async () => {
    const { factory } = await system()
    const { sale, token } = await launch(factory, { durationSeconds: DAY })
    await buy(sale, buyers[2]!, 15_000n * E)
    const { sold, endsAt, raised } = await readSale(pub(), sale)
    const pooled = pairedLiquidityMt(raised, G)
    expect(pooled).toBe(60_000n * E)
    await mineAt(endsAt)
    expect(await readCirculatingSupply(pub(), token)).toBe(sold + pooled)
    await rpc('evm_setNextBlockTimestamp', [Number(endsAt + 1n)])
    await graduateSale(as(keeper), sale)
    // In the graduation block nothing has vested yet: exactly sold + paired liquidity, as before graduation, with
    // S - sold and 200,000 MT - paired burned.
    expect(await readCirculatingSupply(pub(), token)).toBe(sold + pooled)
    expect(await pub().readContract({ address: token, abi: erc20Abi, functionName: 'totalSupply' })).toBe(MT_TOTAL_SUPPLY - (S - sold) - (L - pooled))
    const staking = await deployStaking(devnet.clients, token, admin, 3000n, 2n, 1n)
    const at = (await latest()).number
    await devnet.mine(1)
    const { timestamp } = await pub().getBlock({ blockNumber: at })
    expect(await pub().readContract({ address: staking, abi: MTStaking.abi, functionName: 'circulatingSupplyAt', args: [at] })).toBe(
      sold + pooled + vestedAmount(ALLOCATION.issuer, timestamp - endsAt - 1n, VESTING_SECONDS) + vestedAmount(ALLOCATION.treasury, timestamp - endsAt - 1n, VESTING_SECONDS),
    )
  }, 120_000)

  it('a token that does not report it keeps the supply role; syncing it is refused', async () => {
    const mt = await deployTestToken(devnet.clients, 'MT (test)', 'MT', 18)
    const staking = await deployStaking(devnet.clients, mt, admin, 3000n, 2n, 1n)
    const s = getContract({ abi: MTStaking.abi, address: staking, client: { public: pub(), wallet: devnet.clients.wallet } })
    expect(await s.read.supplyFromToken()).toBe(false)
    const refused = await syncCirculatingSupply(as(keeper), staking).catch((e: unknown) => e)
    expect([(refused as LaunchError).errorName, (refused as LaunchError).errorArgs]).toEqual(['MTStakingNoSupplySource', [getAddress(mt)]])
    const receipt = await mined(s.write.setCirculatingSupply([600_000n * E]))
    await devnet.mine(1)
    expect(await s.read.circulatingSupplyAt([receipt.blockNumber])).toBe(600_000n * E)
    // An account (no code) as the token: no supply source either.
    const eoaStaking = await deploy(devnet.clients, MTStaking, [keeper, admin, 3000n, 2n, 1n])
    expect(await pub().readContract({ address: eoaStaking, abi: MTStaking.abi, functionName: 'supplyFromToken' })).toBe(false)
  }, 60_000)
})
