/**
 * Uniswap v2 from its published artifacts on the in-process EVM: the init code hash the router has built in, a pair
 * created through the router's addLiquidity, reserves and LP balance, quotes and swaps both ways, the slippage bound
 * and the deadline refused, and the pair address of the factory equal to the one the router computes.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { decodeEventLog, erc20Abi, getAddress, isAddressEqual, keccak256, maxUint256, parseEther, parseUnits, zeroAddress, type Address, type Hex, type TransactionReceipt } from 'viem'
import { SchemaError } from '../../src/base/errors.ts'
import { ChainError, deployTestToken, type Clients } from '../../src/chain/contracts.ts'
import { TestToken } from '../../src/chain/contracts.generated.ts'
import { startDevnet, type Devnet } from '../../src/chain/devnet.ts'
import {
  addLiquidity,
  deployUniswapV2,
  loadUniswapV2,
  pairAddress,
  pairFor,
  parseUniswapV2Artifact,
  quoteExactIn,
  reserves,
  swapExactTokensForTokens,
  UNISWAP_V2_INIT_CODE_HASH,
  UNISWAP_V2_MINIMUM_LIQUIDITY,
  uniswapV2FactoryAbi,
  uniswapV2PairAbi,
  uniswapV2Router02Abi,
  weth9Abi,
  type UniswapV2Deployment,
} from '../../src/chain/uniswap.ts'

let devnet: Devnet
let uni: UniswapV2Deployment
let mt: Address, flock: Address
let feeToSetter: Address, provider: Address, trader: Address
let asProvider: Clients, asTrader: Clients

/** The pool graduated into: 4,000,000 MT against 1,000,000 FLOCK (LP supply sqrt(4e24 * 1e24) = 2e24, exact). */
const MT_IN_POOL = parseUnits('4000000', 18)
const FLOCK_IN_POOL = parseUnits('1000000', 18)

async function mined(clients: Clients, hash: Hex): Promise<TransactionReceipt> {
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  expect(receipt.status).toBe('success')
  return receipt
}

const balanceOf = (token: Address, owner: Address) => devnet.clients.public.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner] })

/** A deadline `seconds` after the latest block (the router compares it with block.timestamp). */
async function deadlineIn(seconds: bigint): Promise<bigint> {
  return (await devnet.clients.public.getBlock({ blockTag: 'latest' })).timestamp + seconds
}

/** The recipients of `token`'s transfers sent by `from` in a receipt: where the router sent the tokens. */
function transfersTo(receipt: TransactionReceipt, token: Address, from: Address): Address[] {
  return receipt.logs
    .filter((log) => isAddressEqual(log.address, token))
    .map((log) => decodeEventLog({ abi: erc20Abi, data: log.data, topics: log.topics }))
    .flatMap((e) => (e.eventName === 'Transfer' && isAddressEqual(e.args.from, from) ? [getAddress(e.args.to)] : []))
}

beforeAll(async () => {
  devnet = await startDevnet()
  ;[, feeToSetter, provider, trader] = devnet.accounts as [Address, Address, Address, Address]
  uni = await deployUniswapV2(devnet.clients, { feeToSetter })
  mt = getAddress(await deployTestToken(devnet.clients, 'Model Token (test)', 'MT', 18))
  flock = getAddress(await deployTestToken(devnet.clients, 'FLOCK (test)', 'FLOCK', 18))
  asProvider = devnet.clientsFor(provider)
  asTrader = devnet.clientsFor(trader)
  for (const token of [mt, flock])
    for (const [holder, clients] of [[provider, asProvider], [trader, asTrader]] as const) {
      await mined(devnet.clients, await devnet.clients.wallet.writeContract({ address: token, abi: TestToken.abi, functionName: 'mint', args: [holder, parseUnits('10000000', 18)] }))
      await mined(clients, await clients.wallet.writeContract({ address: token, abi: erc20Abi, functionName: 'approve', args: [uni.router, maxUint256] }))
    }
}, 120_000)

describe('published artifacts', () => {
  it('the pair creation bytecode hashes to the init code hash the router has built in', () => {
    const a = loadUniswapV2()
    expect(UNISWAP_V2_INIT_CODE_HASH).toBe('0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f')
    expect(keccak256(a.UniswapV2Pair.bytecode)).toBe(UNISWAP_V2_INIT_CODE_HASH)
    expect(a.UniswapV2Router02.bytecode).toContain(UNISWAP_V2_INIT_CODE_HASH.slice(2))
    expect(a.UniswapV2Factory.bytecode).toContain(a.UniswapV2Pair.bytecode.slice(2))
  })

  it('reads both bytecode layouts of the old Waffle builds, which agree in every artifact used', () => {
    const require = createRequire(import.meta.url)
    for (const [name, file] of [['UniswapV2Pair', '@uniswap/v2-core/build/UniswapV2Pair.json'], ['UniswapV2Factory', '@uniswap/v2-core/build/UniswapV2Factory.json'], ['UniswapV2Router02', '@uniswap/v2-periphery/build/UniswapV2Router02.json'], ['WETH9', '@uniswap/v2-periphery/build/WETH9.json']] as const) {
      const json = JSON.parse(readFileSync(require.resolve(file), 'utf8')) as { bytecode: string; evm: { bytecode: { object: string } } }
      expect(json.bytecode).toBe(json.evm.bytecode.object)
      const { evm: _, ...flatOnly } = json
      const { bytecode: __, ...nestedOnly } = json
      expect(parseUniswapV2Artifact(name, flatOnly).bytecode).toBe(parseUniswapV2Artifact(name, nestedOnly).bytecode)
    }
  })

  it('refuses an artifact without bytecode or missing a function fomo-kit calls, naming the field', () => {
    const pair = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('@uniswap/v2-core/build/UniswapV2Pair.json'), 'utf8')) as Record<string, unknown>
    const { evm: _, bytecode: __, ...noBytecode } = pair
    expect(() => parseUniswapV2Artifact('UniswapV2Pair', noBytecode)).toThrow(SchemaError)
    expect(() => parseUniswapV2Artifact('UniswapV2Pair', { ...pair, bytecode: '0x__$abc$__' })).toThrow(/\$\.bytecode: expected creation bytecode/)
    const abi = (pair.abi as Array<{ name?: string }>).filter((item) => item.name !== 'getReserves')
    expect(() => parseUniswapV2Artifact('UniswapV2Pair', { ...pair, abi })).toThrow(/\$\.abi: expected an ABI with function getReserves\(\) view/)
  })

  it('names the missing package when a development dependency is not installed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fomo-uniswap-'))
    try {
      expect(() => loadUniswapV2({ from: dir })).toThrow(/@uniswap\/v2-core is not installed[\s\S]*npm ci/)
      // With core alone, the periphery is what is missing.
      mkdirSync(join(dir, 'node_modules', '@uniswap'), { recursive: true })
      symlinkSync(dirname(dirname(createRequire(import.meta.url).resolve('@uniswap/v2-core/build/UniswapV2Pair.json'))), join(dir, 'node_modules', '@uniswap', 'v2-core'))
      expect(() => loadUniswapV2({ from: dir })).toThrow(ChainError)
      expect(() => loadUniswapV2({ from: dir })).toThrow(/@uniswap\/v2-periphery is not installed: UniswapV2Router02/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('Uniswap v2 on the in-process EVM', () => {
  it('deploys WETH9, the factory and Router02 wired together', async () => {
    const read = devnet.clients.public
    expect(getAddress(await read.readContract({ address: uni.router, abi: uniswapV2Router02Abi, functionName: 'factory' }))).toBe(uni.factory)
    expect(getAddress(await read.readContract({ address: uni.router, abi: uniswapV2Router02Abi, functionName: 'WETH' }))).toBe(uni.weth)
    expect(getAddress(await read.readContract({ address: uni.factory, abi: uniswapV2FactoryAbi, functionName: 'feeToSetter' }))).toBe(feeToSetter)
    expect(await read.readContract({ address: uni.factory, abi: uniswapV2FactoryAbi, functionName: 'feeTo' })).toBe(zeroAddress)
    await mined(asTrader, await asTrader.wallet.writeContract({ address: uni.weth, abi: weth9Abi, functionName: 'deposit', value: parseEther('1') }))
    expect(await read.readContract({ address: uni.weth, abi: weth9Abi, functionName: 'balanceOf', args: [trader] })).toBe(parseEther('1'))
  })

  it('creates the MT/FLOCK pair through addLiquidity: reserves, LP balance less the burnt minimum, the router-computed address', async () => {
    expect(await pairFor(devnet.clients, uni.factory, mt, flock)).toBeUndefined()
    const added = await addLiquidity(asProvider, uni.router, {
      tokenA: mt,
      tokenB: flock,
      amountADesired: MT_IN_POOL,
      amountBDesired: FLOCK_IN_POOL,
      amountAMin: MT_IN_POOL,
      amountBMin: FLOCK_IN_POOL,
      to: provider,
      deadline: await deadlineIn(600n),
    })
    const pair = await pairFor(devnet.clients, uni.factory, mt, flock)
    expect(pair).toBeDefined()
    // The factory's pair is where the router computed it (CREATE2 with the init code hash) and sent the tokens.
    expect(await pairFor(devnet.clients, uni.factory, flock, mt)).toBe(pair)
    expect(pairAddress(uni.factory, mt, flock)).toBe(pair)
    expect(added.pair).toBe(pair)
    const receipt = await devnet.clients.public.getTransactionReceipt({ hash: added.hash })
    expect(transfersTo(receipt, mt, provider)).toEqual([pair])
    expect(transfersTo(receipt, flock, provider)).toEqual([pair])
    expect(await devnet.clients.public.readContract({ address: uni.factory, abi: uniswapV2FactoryAbi, functionName: 'allPairsLength' })).toBe(1n)

    expect([added.amountA, added.amountB]).toEqual([MT_IN_POOL, FLOCK_IN_POOL])
    expect(await reserves(devnet.clients, pair!, mt)).toMatchObject({ tokenA: mt, tokenB: flock, reserveA: MT_IN_POOL, reserveB: FLOCK_IN_POOL })
    expect(await reserves(devnet.clients, pair!, flock)).toMatchObject({ tokenA: flock, tokenB: mt, reserveA: FLOCK_IN_POOL, reserveB: MT_IN_POOL })
    await expect(reserves(devnet.clients, pair!, uni.weth)).rejects.toThrow(/is not a token of the pair/)

    const read = <F extends 'MINIMUM_LIQUIDITY' | 'totalSupply'>(functionName: F) => devnet.clients.public.readContract({ address: pair!, abi: uniswapV2PairAbi, functionName })
    const supply = parseUnits('2000000', 18) // sqrt(MT_IN_POOL * FLOCK_IN_POOL)
    expect(await read('MINIMUM_LIQUIDITY')).toBe(UNISWAP_V2_MINIMUM_LIQUIDITY)
    expect(await read('totalSupply')).toBe(supply)
    expect(added.liquidity).toBe(supply - UNISWAP_V2_MINIMUM_LIQUIDITY)
    expect(await balanceOf(pair!, provider)).toBe(supply - UNISWAP_V2_MINIMUM_LIQUIDITY)
    expect(await balanceOf(pair!, zeroAddress)).toBe(UNISWAP_V2_MINIMUM_LIQUIDITY)
  })

  for (const direction of ['MT for FLOCK', 'FLOCK for MT'] as const)
    it(`swaps ${direction} exactly in: pays what getAmountsOut quoted, the pair's formula on its reserves`, async () => {
      const [tokenIn, tokenOut] = direction === 'MT for FLOCK' ? [mt, flock] : [flock, mt]
      const pair = (await pairFor(devnet.clients, uni.factory, tokenIn, tokenOut))!
      const before = await reserves(devnet.clients, pair, tokenIn)
      const amountIn = parseUnits(direction === 'MT for FLOCK' ? '40000' : '2500', 18)
      const { amountOut, amounts } = await quoteExactIn(devnet.clients, uni.router, amountIn, [tokenIn, tokenOut])
      expect(amounts).toEqual([amountIn, amountOut])
      // The quote is the pair's own getAmountOut on its reserves (0.3 % fee), as the router's pure helper computes it.
      const formula = (amountIn * 997n * before.reserveB) / (before.reserveA * 1000n + amountIn * 997n)
      expect(amountOut).toBe(formula)
      expect(await devnet.clients.public.readContract({ address: uni.router, abi: uniswapV2Router02Abi, functionName: 'getAmountOut', args: [amountIn, before.reserveA, before.reserveB] })).toBe(formula)

      const [inBefore, outBefore] = [await balanceOf(tokenIn, trader), await balanceOf(tokenOut, trader)]
      const swap = await swapExactTokensForTokens(asTrader, uni.router, { amountIn, amountOutMin: amountOut, path: [tokenIn, tokenOut], to: trader, deadline: await deadlineIn(600n) })
      expect(swap.amountOut).toBe(amountOut)
      expect(await balanceOf(tokenIn, trader)).toBe(inBefore - amountIn)
      expect(await balanceOf(tokenOut, trader)).toBe(outBefore + amountOut)
      expect(await reserves(devnet.clients, pair, tokenIn)).toMatchObject({ reserveA: before.reserveA + amountIn, reserveB: before.reserveB - amountOut })
      // The router sent the input to the pair address it computed: the factory's.
      expect(transfersTo(await devnet.clients.public.getTransactionReceipt({ hash: swap.hash }), tokenIn, trader)).toEqual([pair])
    })

  it('refuses a swap paying less than the minimum out (slippage bound), moving nothing', async () => {
    const amountIn = parseUnits('1000', 18)
    const { amountOut } = await quoteExactIn(devnet.clients, uni.router, amountIn, [mt, flock])
    const [mtBefore, flockBefore] = [await balanceOf(mt, trader), await balanceOf(flock, trader)]
    await expect(swapExactTokensForTokens(asTrader, uni.router, { amountIn, amountOutMin: amountOut + 1n, path: [mt, flock], to: trader, deadline: await deadlineIn(600n) })).rejects.toThrow(
      /swapExactTokensForTokens was refused: UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT/,
    )
    expect([await balanceOf(mt, trader), await balanceOf(flock, trader)]).toEqual([mtBefore, flockBefore])
    // The exact quote still passes: the bound is inclusive.
    expect((await swapExactTokensForTokens(asTrader, uni.router, { amountIn, amountOutMin: amountOut, path: [mt, flock], to: trader, deadline: await deadlineIn(600n) })).amountOut).toBe(amountOut)
  })

  it('refuses a swap after its deadline', async () => {
    const amountIn = parseUnits('1000', 18)
    const { amountOut } = await quoteExactIn(devnet.clients, uni.router, amountIn, [flock, mt])
    const deadline = await deadlineIn(60n)
    await devnet.increaseTime(120)
    await expect(swapExactTokensForTokens(asTrader, uni.router, { amountIn, amountOutMin: amountOut, path: [flock, mt], to: trader, deadline })).rejects.toThrow(/was refused: UniswapV2Router: EXPIRED/)
  })

  it('names what is missing before sending: an allowance short of the input, a path without a pool', async () => {
    const spender = devnet.accounts[5]!
    const asSpender = await devnet.actAs(spender)
    await mined(devnet.clients, await devnet.clients.wallet.writeContract({ address: mt, abi: TestToken.abi, functionName: 'mint', args: [spender, 10n] }))
    await expect(swapExactTokensForTokens(asSpender, uni.router, { amountIn: 10n, amountOutMin: 0n, path: [mt, flock], to: spender, deadline: await deadlineIn(600n) })).rejects.toThrow(/has approved the router .* for 0 of/)
    await expect(quoteExactIn(devnet.clients, uni.router, 10n, [mt, uni.weth])).rejects.toThrow(/cannot quote 10 along/)
  })
})
