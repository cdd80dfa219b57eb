/**
 * Uniswap v2 from its published build artifacts, never re-implemented: WETH9, UniswapV2Factory and UniswapV2Router02
 * deployed from `@uniswap/v2-core` 1.0.1 and `@uniswap/v2-periphery` 1.1.0-beta.0 (development dependencies), pairs
 * found through the factory, reserves read from the pair, quotes from the router's own `getAmountsOut` and swaps
 * through the router with a deadline and a minimum out. Model Token sales graduate into such a MT/FLOCK pool.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  BaseError as ViemBaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  decodeEventLog,
  encodePacked,
  erc20Abi,
  getAddress,
  getCreate2Address,
  isAddressEqual,
  keccak256,
  parseAbi,
  zeroAddress,
  type Abi,
  type AbiParameter,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem'
import { Reader } from '../base/reader.ts'
import { ChainError, deploy, type Clients } from './contracts.ts'

/**
 * keccak256 of UniswapV2Pair's creation bytecode, the init code hash `UniswapV2Library.pairFor` has built in: the
 * router finds a pair at CREATE2(factory, keccak256(token0 ++ token1), this hash). Checked against the artifacts
 * on every load, so a factory and router that would disagree on pair addresses are never deployed together.
 */
export const UNISWAP_V2_INIT_CODE_HASH: Hex = '0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f'

/** Liquidity the pair burns to address zero on its first mint (UniswapV2Pair.MINIMUM_LIQUIDITY). */
export const UNISWAP_V2_MINIMUM_LIQUIDITY = 1000n

/** The published packages the artifacts come from, with the versions package.json pins. */
export const UNISWAP_V2_PACKAGES = { core: '@uniswap/v2-core@1.0.1', periphery: '@uniswap/v2-periphery@1.1.0-beta.0' } as const

/** The functions and events fomo-kit calls, typed for viem; each is checked to be in the published ABI on load. */
export const uniswapV2FactoryAbi = parseAbi([
  'function getPair(address tokenA, address tokenB) view returns (address pair)',
  'function allPairsLength() view returns (uint256)',
  'function createPair(address tokenA, address tokenB) returns (address pair)',
  'function feeTo() view returns (address)',
  'function feeToSetter() view returns (address)',
  'event PairCreated(address indexed token0, address indexed token1, address pair, uint256)',
])

export const uniswapV2PairAbi = parseAbi([
  'function token0() view returns (address)',
  'function token1() view returns (address)',
  'function factory() view returns (address)',
  'function getReserves() view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast)',
  'function MINIMUM_LIQUIDITY() view returns (uint256)',
  'function totalSupply() view returns (uint256)',
  'function balanceOf(address owner) view returns (uint256)',
  'event Mint(address indexed sender, uint256 amount0, uint256 amount1)',
  'event Swap(address indexed sender, uint256 amount0In, uint256 amount1In, uint256 amount0Out, uint256 amount1Out, address indexed to)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
])

export const uniswapV2Router02Abi = parseAbi([
  'function factory() view returns (address)',
  'function WETH() view returns (address)',
  'function getAmountsOut(uint256 amountIn, address[] path) view returns (uint256[] amounts)',
  'function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) pure returns (uint256 amountOut)',
  'function addLiquidity(address tokenA, address tokenB, uint256 amountADesired, uint256 amountBDesired, uint256 amountAMin, uint256 amountBMin, address to, uint256 deadline) returns (uint256 amountA, uint256 amountB, uint256 liquidity)',
  'function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline) returns (uint256[] amounts)',
])

export const weth9Abi = parseAbi([
  'function deposit() payable',
  'function withdraw(uint256 wad)',
  'function balanceOf(address) view returns (uint256)',
  'function symbol() view returns (string)',
])

/** Where each artifact is published: its package and file, and the typed ABI it must contain. */
const ARTIFACTS = {
  UniswapV2Factory: { package: '@uniswap/v2-core', file: 'build/UniswapV2Factory.json', abi: uniswapV2FactoryAbi },
  UniswapV2Pair: { package: '@uniswap/v2-core', file: 'build/UniswapV2Pair.json', abi: uniswapV2PairAbi },
  UniswapV2Router02: { package: '@uniswap/v2-periphery', file: 'build/UniswapV2Router02.json', abi: uniswapV2Router02Abi },
  // WETH9 is built from periphery's test contracts (contracts/test/WETH9.sol), and published with its build.
  WETH9: { package: '@uniswap/v2-periphery', file: 'build/WETH9.json', abi: weth9Abi },
} as const

export type UniswapV2ContractName = keyof typeof ARTIFACTS

/** A published artifact: the contract's full ABI and its creation bytecode (no library links). */
export type UniswapV2Artifact = { contractName: UniswapV2ContractName; source: string; abi: Abi; bytecode: Hex }

export type UniswapV2Artifacts = Record<UniswapV2ContractName, UniswapV2Artifact>

/**
 * Validates one published Waffle artifact: `abi` an array of ABI items containing every function and event of the
 * typed ABI, the creation bytecode hex (these old builds carry it twice, as `evm.bytecode.object` and as top-level
 * `bytecode`, without 0x; either is accepted, and both must agree), with no unlinked library placeholder.
 *
 * @example
 * parseUniswapV2Artifact('UniswapV2Pair', JSON.parse(readFileSync(path, 'utf8'))).bytecode
 */
export function parseUniswapV2Artifact(contractName: UniswapV2ContractName, document: unknown, source = `${ARTIFACTS[contractName].package}/${ARTIFACTS[contractName].file}`): UniswapV2Artifact {
  const r = new Reader(source, document)
  r.object()
  const abi = r.field('abi').array({ min: 1 }).map((item) => {
    item.field('type').literal(['function', 'constructor', 'event', 'error', 'fallback', 'receive'])
    return item.value
  }) as unknown as Abi
  const hex = /^(0x)?([0-9a-fA-F]{2})+$/
  const expected = 'creation bytecode as hex (library links are not supported)'
  const readHex = (reader: Reader): Hex => `0x${reader.string(hex, expected).replace(/^0x/, '').toLowerCase()}`
  const evm = r.field('evm')
  const nested = evm.isPresent() && evm.field('bytecode').isPresent() ? evm.field('bytecode').field('object') : undefined
  const flat = r.field('bytecode')
  if (!nested?.isPresent() && !flat.isPresent()) r.fail(`an artifact with evm.bytecode.object or bytecode (${expected})`)
  const bytecode = nested?.isPresent() ? readHex(nested) : readHex(flat)
  if (nested?.isPresent() && flat.isPresent() && readHex(flat) !== bytecode) flat.fail('the same bytecode as evm.bytecode.object')
  const missing = ARTIFACTS[contractName].abi.filter((item) => !abi.some((published) => signature(published) === signature(item)))
  if (missing.length > 0) r.field('abi').fail(`an ABI with ${missing.map(signature).join('; ')}`)
  return { contractName, source, abi, bytecode }
}

/** An ABI item as one comparable line: kind, name, parameter types (indexed marked), mutability and outputs. */
function signature(item: Abi[number]): string {
  const types = (ps: readonly AbiParameter[] | undefined) => (ps ?? []).map((p) => `${p.type}${'indexed' in p && p.indexed ? ' indexed' : ''}`).join(',')
  if (item.type === 'function') return `function ${item.name}(${types(item.inputs)}) ${item.stateMutability} returns (${types(item.outputs)})`
  if (item.type === 'event') return `event ${item.name}(${types(item.inputs)})`
  return item.type
}

/**
 * Reads the four artifacts from the installed packages, resolved from `from` (a directory; by default this module's),
 * and checks that they work together: the keccak of the pair's creation bytecode is {@link UNISWAP_V2_INIT_CODE_HASH},
 * the factory deploys that same code, and the router has that hash built in.
 *
 * @example
 * const { UniswapV2Router02 } = loadUniswapV2()
 */
export function loadUniswapV2(options: { from?: string | undefined } = {}): UniswapV2Artifacts {
  if (!options.from && cached) return cached
  const require = createRequire(options.from ? join(options.from, 'noop.js') : fileURLToPath(import.meta.url))
  const load = (name: UniswapV2ContractName): UniswapV2Artifact => {
    const { package: pkg, file } = ARTIFACTS[name]
    let path: string
    try {
      path = require.resolve(`${pkg}/${file}`)
    } catch (error) {
      const pinned = pkg === '@uniswap/v2-core' ? UNISWAP_V2_PACKAGES.core : UNISWAP_V2_PACKAGES.periphery
      throw new ChainError(
        `${pkg} is not installed: ${name} is deployed from its published build (${pkg}/${file})`,
        `It is a development dependency of fomo-kit: run \`npm ci\` in the project (or \`npm install --save-dev --save-exact ${pinned}\`).`,
        error,
      )
    }
    return parseUniswapV2Artifact(name, JSON.parse(readFileSync(path, 'utf8')) as unknown, `${pkg}/${file}`)
  }
  const artifacts: UniswapV2Artifacts = { UniswapV2Factory: load('UniswapV2Factory'), UniswapV2Pair: load('UniswapV2Pair'), UniswapV2Router02: load('UniswapV2Router02'), WETH9: load('WETH9') }
  checkInitCodeHash(artifacts)
  if (!options.from) cached = artifacts
  return artifacts
}

let cached: UniswapV2Artifacts | undefined

/** The pair code, the factory and the router agree on the init code hash, or a ChainError says which does not. */
function checkInitCodeHash(a: UniswapV2Artifacts): void {
  const hash = keccak256(a.UniswapV2Pair.bytecode)
  const fix = `Install the pinned packages (${UNISWAP_V2_PACKAGES.core}, ${UNISWAP_V2_PACKAGES.periphery}) with \`npm ci\`.`
  if (hash !== UNISWAP_V2_INIT_CODE_HASH)
    throw new ChainError(`${a.UniswapV2Pair.source} hashes to ${hash}, not the init code hash ${UNISWAP_V2_INIT_CODE_HASH} the router finds pairs by`, fix)
  if (!a.UniswapV2Factory.bytecode.includes(a.UniswapV2Pair.bytecode.slice(2)))
    throw new ChainError(`${a.UniswapV2Factory.source} does not deploy the pair code of ${a.UniswapV2Pair.source}`, fix)
  if (!a.UniswapV2Router02.bytecode.includes(UNISWAP_V2_INIT_CODE_HASH.slice(2)))
    throw new ChainError(`${a.UniswapV2Router02.source} does not have the init code hash ${UNISWAP_V2_INIT_CODE_HASH} built in: it would look for pairs elsewhere`, fix)
}

export type UniswapV2Deployment = { weth: Address; factory: Address; router: Address }

/**
 * Deploys WETH9, UniswapV2Factory (with `feeToSetter`, who may turn the protocol fee on; it starts off) and
 * UniswapV2Router02 over them, from the published artifacts.
 *
 * @example
 * const { factory, router } = await deployUniswapV2(clients, { feeToSetter: admin })
 */
export async function deployUniswapV2(clients: Clients, options: { feeToSetter: Address; artifacts?: UniswapV2Artifacts | undefined }): Promise<UniswapV2Deployment> {
  const a = options.artifacts ?? loadUniswapV2()
  const weth = await deploy(clients, a.WETH9, [])
  const factory = await deploy(clients, a.UniswapV2Factory, [options.feeToSetter])
  const router = await deploy(clients, a.UniswapV2Router02, [factory, weth])
  return { weth: getAddress(weth), factory: getAddress(factory), router: getAddress(router) }
}

/** The two tokens in the pair's order (token0 < token1), as `UniswapV2Library.sortTokens`. */
export function sortTokens(tokenA: Address, tokenB: Address): [Address, Address] {
  const [a, b] = [getAddress(tokenA), getAddress(tokenB)]
  if (isAddressEqual(a, b)) throw new ChainError(`a pair needs two different tokens, got ${a} twice`)
  const [token0, token1] = BigInt(a) < BigInt(b) ? [a, b] : [b, a]
  if (token0 === zeroAddress) throw new ChainError('a pair cannot hold the zero address as a token')
  return [token0, token1]
}

/**
 * The address the router computes for a pair, without a call: CREATE2 by the factory with salt
 * keccak256(token0 ++ token1) and {@link UNISWAP_V2_INIT_CODE_HASH}. Whether a pair is there is {@link pairFor}'s.
 */
export function pairAddress(factory: Address, tokenA: Address, tokenB: Address): Address {
  const [token0, token1] = sortTokens(tokenA, tokenB)
  return getCreate2Address({ from: factory, salt: keccak256(encodePacked(['address', 'address'], [token0, token1])), bytecodeHash: UNISWAP_V2_INIT_CODE_HASH })
}

/** The pair of two tokens as the factory records it (`getPair`), or undefined when it has none. */
export async function pairFor(clients: Clients, factory: Address, tokenA: Address, tokenB: Address): Promise<Address | undefined> {
  const pair = await clients.public.readContract({ address: factory, abi: uniswapV2FactoryAbi, functionName: 'getPair', args: [tokenA, tokenB] })
  return pair === zeroAddress ? undefined : getAddress(pair)
}

export type Reserves = { tokenA: Address; tokenB: Address; reserveA: bigint; reserveB: bigint; blockTimestampLast: number }

/** A pair's reserves in the caller's order: `reserveA` is `tokenA`'s, whichever of token0 and token1 it is. */
export async function reserves(clients: Clients, pair: Address, tokenA: Address): Promise<Reserves> {
  const read = <F extends 'token0' | 'token1'>(functionName: F) => clients.public.readContract({ address: pair, abi: uniswapV2PairAbi, functionName })
  const [token0, token1, [reserve0, reserve1, blockTimestampLast]] = await Promise.all([
    read('token0'),
    read('token1'),
    clients.public.readContract({ address: pair, abi: uniswapV2PairAbi, functionName: 'getReserves' }),
  ])
  if (isAddressEqual(tokenA, token0)) return { tokenA: getAddress(token0), tokenB: getAddress(token1), reserveA: reserve0, reserveB: reserve1, blockTimestampLast }
  if (isAddressEqual(tokenA, token1)) return { tokenA: getAddress(token1), tokenB: getAddress(token0), reserveA: reserve1, reserveB: reserve0, blockTimestampLast }
  throw new ChainError(`${getAddress(tokenA)} is not a token of the pair ${getAddress(pair)} (${token0}, ${token1})`)
}

/**
 * What `amountIn` of `path[0]` buys of the last token of `path` now, hop by hop through each pair: the router's
 * `getAmountsOut`, so the pair's own formula (0.3 % fee) on its current reserves, read on chain.
 *
 * @example
 * const { amountOut } = await quoteExactIn(clients, router, parseUnits('100', 18), [mt, flock])
 */
export async function quoteExactIn(clients: Clients, router: Address, amountIn: bigint, path: readonly Address[]): Promise<{ amountOut: bigint; amounts: readonly bigint[] }> {
  checkSwap(amountIn, path)
  try {
    const amounts = await clients.public.readContract({ address: router, abi: uniswapV2Router02Abi, functionName: 'getAmountsOut', args: [amountIn, path] })
    return { amountOut: amounts[amounts.length - 1]!, amounts }
  } catch (error) {
    throw new ChainError(`the router ${router} cannot quote ${amountIn} along ${path.join(' -> ')}: ${revertReason(error) ?? 'reverted'}`, 'Every hop of the path needs a pair with liquidity (addLiquidity).', error)
  }
}

export type SwapExactTokensForTokensParameters = {
  amountIn: bigint
  /** The least of the last token the swap may pay, else the router reverts (INSUFFICIENT_OUTPUT_AMOUNT). */
  amountOutMin: bigint
  path: readonly Address[]
  to: Address
  /** Unix seconds: the router refuses the swap in a block after this (EXPIRED). */
  deadline: bigint
}

/**
 * Swaps exactly `amountIn` of `path[0]` for at least `amountOutMin` of the last token through the router, sent by
 * the wallet's account (which must have approved the router for `amountIn`). Returns what the last pair paid `to`,
 * read from its Swap event. A refusal of the router is a ChainError naming its reason.
 *
 * @example
 * const { amountOut } = await quoteExactIn(clients, router, amountIn, [mt, flock])
 * await swapExactTokensForTokens(clients, router, { amountIn, amountOutMin: (amountOut * 99n) / 100n, path: [mt, flock], to, deadline })
 */
export async function swapExactTokensForTokens(clients: Clients, router: Address, p: SwapExactTokensForTokensParameters): Promise<{ hash: Hex; amountOut: bigint; gasUsed: bigint }> {
  checkSwap(p.amountIn, p.path)
  if (p.amountOutMin < 0n) throw new ChainError(`amountOutMin must not be negative, got ${p.amountOutMin}`)
  await checkFunds(clients, router, p.path[0]!, p.amountIn)
  const receipt = await send(clients, 'swapExactTokensForTokens', () =>
    clients.wallet.writeContract({ address: router, abi: uniswapV2Router02Abi, functionName: 'swapExactTokensForTokens', args: [p.amountIn, p.amountOutMin, p.path, p.to, p.deadline] }),
  )
  const factory = await clients.public.readContract({ address: router, abi: uniswapV2Router02Abi, functionName: 'factory' })
  const last = pairAddress(factory, p.path[p.path.length - 2]!, p.path[p.path.length - 1]!)
  const swap = pairEvents(receipt, last, 'Swap').at(-1)
  if (!swap) throw new ChainError(`swap ${receipt.transactionHash} has no Swap event of the last pair ${last}`)
  return { hash: receipt.transactionHash, amountOut: swap.amount0Out + swap.amount1Out, gasUsed: receipt.gasUsed }
}

export type AddLiquidityParameters = {
  tokenA: Address
  tokenB: Address
  amountADesired: bigint
  amountBDesired: bigint
  amountAMin: bigint
  amountBMin: bigint
  to: Address
  /** Unix seconds: the router refuses the deposit in a block after this (EXPIRED). */
  deadline: bigint
}

/**
 * Deposits two tokens into their pair through the router (which creates the pair first when the factory has none),
 * sent by the wallet's account (which must have approved the router for both). Returns the pair, the amounts it took
 * (from its Mint event) and the liquidity minted to `to`.
 */
export async function addLiquidity(clients: Clients, router: Address, p: AddLiquidityParameters): Promise<{ hash: Hex; pair: Address; amountA: bigint; amountB: bigint; liquidity: bigint }> {
  await checkFunds(clients, router, p.tokenA, p.amountADesired)
  await checkFunds(clients, router, p.tokenB, p.amountBDesired)
  const receipt = await send(clients, 'addLiquidity', () =>
    clients.wallet.writeContract({ address: router, abi: uniswapV2Router02Abi, functionName: 'addLiquidity', args: [p.tokenA, p.tokenB, p.amountADesired, p.amountBDesired, p.amountAMin, p.amountBMin, p.to, p.deadline] }),
  )
  const factory = await clients.public.readContract({ address: router, abi: uniswapV2Router02Abi, functionName: 'factory' })
  const pair = pairAddress(factory, p.tokenA, p.tokenB)
  const mint = pairEvents(receipt, pair, 'Mint').at(-1)
  const minted = pairEvents(receipt, pair, 'Transfer').filter((t) => t.from === zeroAddress && isAddressEqual(t.to, p.to)).at(-1)
  if (!mint || !minted) throw new ChainError(`addLiquidity ${receipt.transactionHash} has no Mint event of the pair ${pair}`)
  const aIsToken0 = sortTokens(p.tokenA, p.tokenB)[0] === getAddress(p.tokenA)
  return { hash: receipt.transactionHash, pair, amountA: aIsToken0 ? mint.amount0 : mint.amount1, amountB: aIsToken0 ? mint.amount1 : mint.amount0, liquidity: minted.value }
}

function checkSwap(amountIn: bigint, path: readonly Address[]): void {
  if (path.length < 2) throw new ChainError(`a swap path needs at least two tokens, got ${path.length}`)
  if (amountIn <= 0n) throw new ChainError(`amountIn must be positive, got ${amountIn}`)
}

/** The sender holds `amount` of `token` and has approved the router for it, or a ChainError says which is short. */
async function checkFunds(clients: Clients, router: Address, token: Address, amount: bigint): Promise<void> {
  const owner = clients.wallet.account.address
  const [balance, allowance] = await Promise.all([
    clients.public.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner] }),
    clients.public.readContract({ address: token, abi: erc20Abi, functionName: 'allowance', args: [owner, router] }),
  ])
  if (balance < amount) throw new ChainError(`${owner} holds ${balance} of ${token}, less than the ${amount} needed`)
  if (allowance < amount) throw new ChainError(`${owner} has approved the router ${router} for ${allowance} of ${token}, less than the ${amount} needed`, `Send approve(${router}, ${amount}) on ${token} first.`)
}

/** Sends a router transaction and waits for it; a revert (at estimation or in the block) names the router's reason. */
async function send(clients: Clients, what: string, write: () => Promise<Hex>): Promise<TransactionReceipt> {
  let hash: Hex
  try {
    hash = await write()
  } catch (error) {
    throw new ChainError(`${what} was refused: ${revertReason(error) ?? (error instanceof ViemBaseError ? error.shortMessage : String(error))}`, undefined, error)
  }
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new ChainError(`${what} transaction ${hash} reverted`)
  return receipt
}

/**
 * The revert string of a failed call or transaction ('UniswapV2Router: EXPIRED'): the one viem decoded, or else
 * Error(string) revert data anywhere down the cause chain (Hardhat's in-process provider throws its own error with
 * the data, which viem wraps as an unknown RPC error).
 */
export function revertReason(error: unknown): string | undefined {
  if (error instanceof ViemBaseError) {
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
    if (reverted instanceof ContractFunctionRevertedError && reverted.reason) return reverted.reason
  }
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 16; e = (e as { cause?: unknown }).cause, depth++) {
    const data = (e as { data?: unknown }).data
    if (typeof data === 'string' && data.startsWith('0x08c379a0'))
      try {
        return decodeErrorResult({ abi: [], data: data as Hex }).args[0] as string
      } catch {
        return undefined
      }
  }
  return undefined
}

/** The decoded events of one name emitted by `pair` in a receipt, in log order. */
function pairEvents<N extends 'Mint' | 'Swap' | 'Transfer'>(receipt: TransactionReceipt, pair: Address, eventName: N) {
  return receipt.logs
    .filter((log) => isAddressEqual(log.address, pair))
    .flatMap((log) => {
      try {
        const decoded = decodeEventLog({ abi: uniswapV2PairAbi, eventName, data: log.data, topics: log.topics })
        return [decoded.args as Extract<typeof decoded, { eventName: N }>['args']]
      } catch {
        return []
      }
    })
}
