/**
 * Gas of the FOMO economy on the in-process EVM, each figure from one transaction of one fresh run: a curve buy on a
 * sale against a Uniswap v2 router swap of the same FLOCK on the deployment's graduated pair (the same
 * constant-product work; the anchor), the launch, graduation, a revenue payment, the two buybacks, and a finalization
 * that pulls the epoch's emission and vesting releases. Used by `npm run bench`.
 */
import { getContract, keccak256, toBytes, type Address, type Hex } from 'viem'
import { startDevnet } from '../../src/chain/devnet.ts'
import { deployStaking } from '../../src/chain/contracts.ts'
import { TestToken } from '../../src/chain/contracts.generated.ts'
import { deploySystem } from '../../src/chain/system.ts'
import { deployUniswapV2, swapExactTokensForTokens } from '../../src/chain/uniswap.ts'
import { buyWithFlock, claimSaleMt, deployLaunchFactory, graduateSale, graduatorOf, launchRmo, readSale } from '../../src/chain/launch.ts'
import { grantStreamRole } from '../../src/chain/funding.ts'
import { buyBackAndBurnMt, buyBackFlock, grantSettlementRole, payRevenue, setDeployment } from '../../src/chain/settlement.ts'
import { DEFAULT_FEES } from '../../src/economics/rmo.ts'
import { epochEmission } from '../../src/economics/emissions.ts'
import { distributorDomain } from '../../src/epoch/rewards.ts'

export type EconomyGasRow = {
  /** FLOCK of curve input (and of the swap's input). */
  size: bigint
  launch: bigint
  buyFirst: bigint
  buyNext: bigint
  swap: bigint
  graduate: bigint
  pay: bigint
  buybackFlock: bigint
  buybackMt: bigint
  finalize: bigint
}

const WHOLE = 10n ** 18n

export async function measureEconomyGas(size: bigint = 1_000n * WHOLE): Promise<EconomyGasRow> {
  const devnet = await startDevnet()
  const c = devnet.clients
  const me = devnet.accounts[0]!
  const gasOf = async (hash: Hex) => {
    const receipt = await c.public.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`a benchmark transaction ${hash} reverted`)
    return receipt.gasUsed
  }
  const mint = async (token: Address, to: Address, amount: bigint) => gasOf(await getContract({ abi: TestToken.abi, address: token, client: { wallet: c.wallet } }).write.mint([to, amount]))
  const uni = await deployUniswapV2(c, { feeToSetter: me })
  const system = await deploySystem(c, {
    admin: me,
    publisher: me,
    guardian: me,
    timelockSeconds: 1n,
    tokens: 'test',
    settlement: { router: uni.router, treasury: me, maxOpexBps: 0n },
    funding: { epochSeconds: 86_400n, dailyEmission: 20_000n * WHOLE, treasury: me },
  })
  const { flock, usdc } = system.tokens
  const factory = await deployLaunchFactory(c, { flock, treasury: me, launchFee: 100n * WHOLE, fees: DEFAULT_FEES, uniswapFactory: uni.factory, epochFunding: system.epochFunding! })
  await grantStreamRole(c, system.epochFunding!, await graduatorOf(c.public, factory))
  await mint(flock, me, 10n ** 9n * WHOLE)
  const deploymentId = keccak256(toBytes('bench deployment'))
  const launched = await launchRmo(c, factory, { deploymentId, name: 'Bench Model Token', symbol: 'BENCH', graduationTarget: 50_000n * WHOLE, startPrice: WHOLE / 10n, minRaise: 25_000n * WHOLE, durationSeconds: 7n * 86_400n })
  const launch = (await c.public.waitForTransactionReceipt({ hash: launched.hash })).gasUsed
  // A buyer's first buy (its position slot from zero), then a second of the same size.
  const buyFirst = await gasOf((await buyWithFlock(c, launched.sale, size)).hash)
  const buyNext = await gasOf((await buyWithFlock(c, launched.sale, size)).hash)
  const info = await readSale(c.public, launched.sale)
  await buyWithFlock(c, launched.sale, info.curve.graduationTarget - info.raised)
  const graduated = await graduateSale(c, launched.sale)
  const graduate = await gasOf(graduated.hash)
  await claimSaleMt(c, launched.sale, me)
  // The anchor: the same FLOCK swapped for MT through the router on the graduated pair (a warm balance, as a buyer's
  // second buy).
  await gasOf(await getContract({ abi: TestToken.abi, address: flock, client: { wallet: c.wallet } }).write.approve([uni.router, 2n ** 255n]))
  const deadline = (await c.public.getBlock()).timestamp + 600n
  await swapExactTokensForTokens(c, uni.router, { amountIn: size, amountOutMin: 1n, path: [flock, launched.token], to: me, deadline })
  const swap = (await swapExactTokensForTokens(c, uni.router, { amountIn: size, amountOutMin: 1n, path: [flock, launched.token], to: me, deadline })).gasUsed

  // An epoch of this deployment: proposed, its revenue paid, finalized with its emission and the two streams.
  const staking = await deployStaking(c, launched.token, me, 3000n, 2n, 1n)
  const config = keccak256('0xc0')
  const registry = getContract({ abi: (await import('../../src/chain/contracts.generated.ts')).RewardDistributor.abi, address: system.distributor, client: { public: c.public, wallet: c.wallet } })
  await gasOf(await registry.write.scheduleConfig([config, keccak256('0xc1'), [deploymentId], [staking], [], [], []]))
  await setDeployment(c, system.revenueSettlement!, deploymentId, launched.token)
  await grantSettlementRole(c, system.revenueSettlement!, 'payer', me)
  await grantSettlementRole(c, system.revenueSettlement!, 'keeper', me)
  // USDC/FLOCK for the FLOCK buyback.
  await mint(usdc, me, 10n ** 13n)
  await gasOf(await getContract({ abi: TestToken.abi, address: usdc, client: { wallet: c.wallet } }).write.approve([uni.router, 2n ** 255n]))
  const { addLiquidity } = await import('../../src/chain/uniswap.ts')
  await addLiquidity(c, uni.router, { tokenA: usdc, tokenB: flock, amountADesired: 10n ** 12n, amountBDesired: 2_000_000n * WHOLE, amountAMin: 0n, amountBMin: 0n, to: me, deadline })
  const epoch = graduated.startEpoch + 1n
  await devnet.increaseTime(2 * 86_400)
  const charged = 10_000n * 10n ** 6n
  const snapshotBlock = (await c.public.getBlockNumber({ cacheTime: 0 })) - 1n
  const domain = distributorDomain(await c.public.getChainId(), system.distributor)
  const root = keccak256('0x01')
  await gasOf(await registry.write.propose([epoch, { spendRoot: root, rewardRoot: root, totalGross: charged, totalCharged: charged, receiptCount: 1n, manifestHash: root, domain, proofsHash: `0x${'00'.repeat(32)}`, configHash: config, snapshotBlock, ledgerHash: keccak256('0x04') }, '']))
  const pay = await gasOf((await payRevenue(c, system.revenueSettlement!, { epoch, deploymentId, charged })).hash)
  await mint(flock, system.epochFunding!, epochEmission(20_000n * WHOLE, 86_400n))
  const finalize = await gasOf(await registry.write.finalize([epoch]))
  const buybackFlock = await gasOf((await buyBackFlock(c, system.revenueSettlement!, { slippageBps: 100n })).hash)
  const buybackMt = await gasOf((await buyBackAndBurnMt(c, system.revenueSettlement!, deploymentId, { slippageBps: 100n })).hash)
  return { size, launch, buyFirst, buyNext, swap, graduate, pay, buybackFlock, buybackMt, finalize }
}
