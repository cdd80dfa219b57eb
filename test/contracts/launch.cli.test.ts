/**
 * fomo launch-factory, launch, buy, graduate and refund against a real JSON-RPC node (Hardhat's node on loopback)
 * through the CLI, with the paper's sale (S 400,000 MT fixed by the token, G 50,000 FLOCK, P0 0.1): every fill equal
 * to src/economics/rmo.ts's `simulateRaise` to the base unit, a buy front-run past its slippage bound refused, the
 * graduation seeding the pool at 25,000 FLOCK / 200,000 MT, buyers' MT claimed, a failed raise refunded, and the
 * usage errors.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { erc20Abi, getAddress, keccak256, maxUint256, toHex, type Address, type Hex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { deployTestToken, type Clients } from '../../src/chain/contracts.ts'
import { RmoSale, TestToken } from '../../src/chain/contracts.generated.ts'
import { deployEpochFunding, epochFundingAt } from '../../src/chain/funding.ts'
import { checkGraduation, positionOf, readGraduation, readSale } from '../../src/chain/launch.ts'
import { rpcClients } from '../../src/chain/rpc.ts'
import { deployUniswapV2, type UniswapV2Deployment } from '../../src/chain/uniswap.ts'
import { createCurve, DEFAULT_FEES, simulateRaise, type Buy } from '../../src/economics/rmo.ts'
import { allocateSupply } from '../../src/economics/supply.ts'
import { fomo, startHardhatNode } from '../helpers.ts'

const E = 10n ** 18n
const S = allocateSupply().publicSale
const G = 50_000n * E
const P0 = E / 10n
const MIN_RAISE = 10_000n * E
const LAUNCH_FEE = 500n * E
const CURVE = createCurve({ saleSupply: S, graduationTarget: G, startPrice: P0 })

/** Hardhat's development accounts (public test keys of its default mnemonic). */
const KEYS = Array.from({ length: 8 }, (_, i) => toHex(mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: i }).getHdKey().privateKey!))
const [ADMIN, ISSUER, ALICE, BOB, CAROL, DAVE, ERIN, TREASURY] = KEYS as [Hex, Hex, Hex, Hex, Hex, Hex, Hex, Hex]
const as = (key: Hex) => ({ env: { FOMO_PRIVATE_KEY: key } })

let node: ChildProcess
let rpc: string
let admin: Clients
let flock: Address
let uni: UniswapV2Deployment
let epochFunding: Address
const who: Record<string, Address> = {}

beforeAll(async () => {
  // Another port range than test/contracts/rpc.test.ts (30000 + pid % 20000), so both files can run at once.
  const port = 50000 + (process.pid % 10000)
  ;({ node, rpc } = await startHardhatNode(port))

  admin = await rpcClients(rpc, ADMIN)
  for (const [name, key] of Object.entries({ admin: ADMIN, issuer: ISSUER, alice: ALICE, bob: BOB, carol: CAROL, dave: DAVE, erin: ERIN, treasury: TREASURY }))
    who[name] = (await rpcClients(rpc, key)).wallet.account.address
  flock = getAddress(await deployTestToken(admin, 'FLOCK (test)', 'FLOCK', 18))
  uni = await deployUniswapV2(admin, { feeToSetter: who.admin! })
  // No distributor bound: EpochFunding then takes a stream starting in any epoch.
  epochFunding = getAddress(await deployEpochFunding(admin, { admin: who.admin!, flock, epochSeconds: 86_400n, dailyEmission: 0n, treasury: who.treasury! }))
}, 120_000)

afterAll(() => {
  node?.kill('SIGKILL')
})

const request = (method: string, params: unknown[] = []) => admin.public.request({ method, params } as never) as Promise<unknown>
const balanceOf = (token: Address, owner: Address) => admin.public.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner] })

async function mint(to: Address, amount: bigint) {
  const hash = await admin.wallet.writeContract({ address: flock, abi: TestToken.abi, functionName: 'mint', args: [to, amount] })
  expect((await admin.public.waitForTransactionReceipt({ hash })).status).toBe('success')
}

/** Runs the CLI and parses its JSON output, failing with its stderr when it did not exit 0. */
async function ok(args: string[], key: Hex) {
  const r = await fomo([...args, '--rpc', rpc], as(key))
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout)
}

/** Runs the CLI expecting it to fail with `code`; returns its stderr. */
async function fails(args: string[], key: Hex, code: 1 | 2) {
  const r = await fomo([...args, '--rpc', rpc], as(key))
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(code)
  expect(r.stdout).toBe('')
  return r.stderr
}

const factoryArgs = () => ['--flock', flock, '--uniswap-factory', uni.factory, '--epoch-funding', epochFunding, '--treasury', who.treasury!]
const launchArgs = (factory: Address, id: string, more: string[] = []) => [
  'launch',
  '--factory', factory,
  '--deployment-id', keccak256(toHex(id)),
  '--name', 'QwenALICE',
  '--symbol', 'QALICE',
  '--graduation-target', '50000',
  '--start-price', '0.1',
  '--min-raise', '10000',
  '--duration', String(7 * 86_400),
  ...more,
]

describe('fomo launch-factory, launch, buy, graduate over JSON-RPC', () => {
  let factory: Address

  it('deploys a launch factory with the protocol fees and grants its graduator STREAM_ROLE', async () => {
    // An account that is not the EpochFunding admin cannot grant the role: refused before anything is deployed.
    const before = await admin.public.getTransactionCount({ address: who.issuer! })
    expect(await fails(['launch-factory', ...factoryArgs(), '--launch-fee', '500', '--grant-stream-role'], ISSUER, 1)).toContain('is not an admin of the EpochFunding')
    expect(await admin.public.getTransactionCount({ address: who.issuer! })).toBe(before)

    const out = await ok(['launch-factory', ...factoryArgs(), '--launch-fee', '500', '--grant-stream-role'], ADMIN)
    factory = out.factory
    expect(out).toMatchObject({
      flock,
      treasury: who.treasury,
      launchFee: String(LAUNCH_FEE),
      fees: { creatorFeeBps: '30', protocolFeeBps: '95', antiSnipingStartBps: '125', antiSnipingWindowSeconds: '0' },
      floors: { graduationTarget: String(10_000n * E), minRaise: String(1_000n * E) },
      uniswapFactory: uni.factory,
      epochFunding,
      streamRole: { granted: true },
    })
    expect(out.streamRole.transaction).toMatch(/^0x[0-9a-f]{64}$/)
    const f = epochFundingAt(admin, epochFunding)
    expect(await f.read.hasRole([await f.read.STREAM_ROLE(), out.graduator])).toBe(true)

    // Usage errors.
    expect(await fails(['launch-factory', ...factoryArgs(), '--launch-fee', '500', '--anti-sniping-start-bps', '100'], ADMIN, 2)).toContain('at least creator + protocol')
    expect(await fails(['launch-factory', ...factoryArgs(), '--launch-fee', '500', '--anti-sniping-start-bps', '1125'], ADMIN, 2)).toContain('--anti-sniping-window')
    expect(await fails(['launch-factory', ...factoryArgs(), '--launch-fee', '5e2'], ADMIN, 2)).toContain('--launch-fee must be an amount of FLOCK')
    expect(await fails(['launch-factory', ...factoryArgs()], ADMIN, 2)).toContain('missing --launch-fee')
    expect(await fails(['launch-factory', '--factory', factory], ADMIN, 2)).toContain('--grant-stream-role')
  }, 300_000)

  it('launches the paper sale, buys by FLOCK and by exact MT exactly as rmo.ts, refuses a buy past its slippage bound, graduates at 25,000 FLOCK / 200,000 MT and pays the buyers', async () => {
    const id = 'launch cli 1'
    // The issuer pays the launch fee: without FLOCK it is refused before sending.
    expect(await fails(launchArgs(factory, id), ISSUER, 1)).toContain('not enough FLOCK for the launch fee')
    await mint(who.issuer!, LAUNCH_FEE)
    const launched = await ok(launchArgs(factory, id), ISSUER)
    expect(launched).toMatchObject({ deploymentId: keccak256(toHex(id)), issuer: who.issuer, fee: String(LAUNCH_FEE), saleSupply: String(S), graduationTarget: String(G), startPrice: String(P0), minRaise: String(MIN_RAISE) })
    const sale = launched.sale as Address
    expect(launched.token).toBe((await readSale(admin.public, sale)).token)
    expect(await balanceOf(flock, who.treasury!)).toBe(LAUNCH_FEE)
    expect(await fails(launchArgs(factory, id), ISSUER, 1)).toContain('is already launched')

    // Usage errors: amounts parsed exactly, nothing sent.
    const base = ['buy', '--sale', sale]
    // (None sends anything, so they run four at a time.)
    const usage: Array<() => Promise<void>> = []
    for (const [args, message] of [
      [['--flock', '1e3'], '--flock must be an amount of FLOCK'],
      [['--flock', '0.0000000000000000001'], 'at most 18 fraction digits'],
      [['--flock', '0'], '--flock must be positive'],
      [['--flock', '-1'], "Option '--flock' argument is ambiguous"],
      [['--flock=-1'], '--flock must be an amount of FLOCK'],
      [['--mt', '1,000'], '--mt must be an amount of MT'],
      [['--flock', '1', '--mt', '1'], 'one of them'],
      [[], 'one of them'],
      [['--flock', '1', '--slippage-bps', '10001'], 'at most 10000'],
      [['--flock', '1', '--slippage-bps', '1.5'], 'whole number of bps'],
      [['--flock', '1', '--deadline-seconds', '0'], 'positive'],
    ] as const)
      usage.push(() => fails([...base, ...args], ALICE, 2).then((stderr) => expect(stderr).toContain(message)))
    for (const [args, message] of [
      [['--graduation-target', '40000'], 'must exceed S * P0 = 40000 FLOCK'],
      [['--start-price', '0.1.5'], '--start-price must be an amount'],
      [['--min-raise', '60000'], 'at most --graduation-target'],
      [['--duration', '1h'], '--duration must be a whole number of seconds'],
      [['--deployment-id', '0x12'], '32-byte id'],
      [['--graduation-target', '5000', '--start-price', '0.01', '--min-raise', '1000'], "--graduation-target must be at least the factory's floor of 10000 FLOCK"],
      [['--min-raise', '999.5'], "--min-raise must be at least the factory's floor of 1000 FLOCK"],
    ] as const)
      usage.push(() => fails(launchArgs(factory, 'usage', [...args]), ISSUER, 2).then((stderr) => expect(stderr).toContain(message)))
    for (let i = 0; i < usage.length; i += 4) await Promise.all(usage.slice(i, i + 4).map((check) => check()))

    // The buys, in order; what rmo.ts says each must fill (the fee schedule has no surcharge: time does not matter).
    const buys: Buy[] = [
      { buyer: 'alice', at: 0n, flock: 20_000n * E },
      { buyer: 'bob', at: 0n, mt: 100_000n * E },
      { buyer: 'dave', at: 0n, flock: 5_000n * E },
      { buyer: 'dave', at: 0n, flock: 5_000n * E },
      { buyer: 'carol', at: 0n, mt: 1_000n * E },
      { buyer: 'alice', at: 0n, flock: 50_000n * E },
    ]
    const expected = simulateRaise(CURVE, DEFAULT_FEES, buys, MIN_RAISE)
    expect(expected.outcome).toBe('graduated')
    const fill = (i: number) => {
      const f = expected.fills[i]!
      return { curveIn: String(f.curveIn), mtOut: String(f.mtOut), creatorFee: String(f.creatorFee), protocolFee: String(f.protocolFee), antiSnipingFee: '0', paid: String(f.totalPaid), raisedAfter: String(f.raisedAfter) }
    }
    const quoted = (i: number) => {
      const f = expected.fills[i]!
      return { curveIn: String(f.curveIn), unfilled: String(f.unfilled), mtOut: String(f.mtOut), totalPaid: String(f.totalPaid), raisedAfter: String(f.raisedAfter), graduates: f.graduates }
    }
    for (const name of ['alice', 'bob', 'dave']) await mint(who[name]!, 100_000n * E)

    // Alice buys with 20,000 FLOCK of curve input (a dry run first sends nothing).
    const dry = await ok(['buy', '--sale', sale, '--flock', '20000', '--dry-run'], ALICE)
    expect(dry).toMatchObject({ transaction: null, quote: quoted(0), bound: { slippageBps: '100', minMtOut: String(expected.fills[0]!.mtOut - (expected.fills[0]!.mtOut * 100n) / 10_000n) } })
    expect((await readSale(admin.public, sale)).raised).toBe(0n)
    const a = await ok(['buy', '--sale', sale, '--flock', '20000'], ALICE)
    expect(a).toMatchObject({ buyer: who.alice, order: { flock: String(20_000n * E) }, quote: quoted(0), fill: fill(0) })
    expect(a.transaction).toMatch(/^0x[0-9a-f]{64}$/)
    expect(await balanceOf(flock, who.alice!)).toBe(100_000n * E - expected.fills[0]!.totalPaid)

    // Bob buys exactly 100,000 MT, bounded by the quote plus 0.5 %.
    const b = await ok(['buy', '--sale', sale, '--mt', '100000', '--slippage-bps', '50'], BOB)
    expect(b).toMatchObject({ order: { mt: String(100_000n * E) }, quote: quoted(1), fill: fill(1), bound: { slippageBps: '50', maxFlockIn: String(expected.fills[1]!.totalPaid + (expected.fills[1]!.totalPaid * 50n + 9_999n) / 10_000n) } })
    expect(BigInt(b.fill.mtOut)).toBeGreaterThanOrEqual(100_000n * E)

    // Carol holds no FLOCK: refused before anything is sent.
    expect(await fails(['buy', '--sale', sale, '--flock', '1000'], CAROL, 1)).toMatch(/^error: not enough FLOCK: 0x[0-9a-fA-F]{40} holds 0 FLOCK and the buy costs 1012\.5 FLOCK/)

    // Carol's buy of 1,000 FLOCK (1 % slippage) is front-run by Dave's 5,000 FLOCK (mined first in the same block, with
    // a higher tip), which moves the price by about 4 %. Twice: Dave's buy already pending when she quotes (refused
    // before anything is sent), and Dave's buy sent after hers (hers reverts on chain; the command replays it to say why).
    await mint(who.carol!, 2_000n * E)
    const dave = await rpcClients(rpc, DAVE)
    const carol = await rpcClients(rpc, CAROL)
    for (const c of [dave, carol]) await c.public.waitForTransactionReceipt({ hash: await c.wallet.writeContract({ address: flock, abi: erc20Abi, functionName: 'approve', args: [sale, maxUint256] }) })
    const frontRun = async (daveFirst: boolean) => {
      const carolNonce = await admin.public.getTransactionCount({ address: who.carol!, blockTag: 'pending' })
      const deadline = (await admin.public.getBlock()).timestamp + 3_600n
      const sendFront = () => dave.wallet.writeContract({ address: sale, abi: RmoSale.abi, functionName: 'buy', args: [5_000n * E, 0n, deadline], maxPriorityFeePerGas: 100n * 10n ** 9n, maxFeePerGas: 1_000n * 10n ** 9n })
      let front: Hex | undefined
      let pending: ReturnType<typeof fomo>
      await request('evm_setAutomine', [false])
      try {
        if (daveFirst) front = await sendFront()
        pending = fomo(['buy', '--sale', sale, '--flock', '1000', '--slippage-bps', '100', '--rpc', rpc], as(CAROL))
        let exited = false
        void pending.then(() => (exited = true))
        for (let i = 0; i < 1200 && !exited && (await admin.public.getTransactionCount({ address: who.carol!, blockTag: 'pending' })) === carolNonce; i++) await new Promise((r) => setTimeout(r, 50))
        if (!daveFirst) {
          if (exited) expect.fail(`the buy command ended before sending its transaction: ${JSON.stringify(await pending)}`)
          front = await sendFront()
        }
        await request('evm_mine')
      } finally {
        await request('evm_setAutomine', [true])
      }
      const refused = await pending
      expect(refused.code, refused.stderr).toBe(1)
      expect(refused.stderr).toMatch(/^error: slippage exceeded: the buy would get [0-9.]+ MT, below its bound of [0-9.]+ MT \(the quote less 100 bps\): another buy moved the price first/)
      expect(refused.stderr).toContain('allow more with --slippage-bps')
      expect((await admin.public.getTransactionReceipt({ hash: front! })).status).toBe('success')
      return refused.stderr
    }
    const raisedBefore = (await readSale(admin.public, sale)).raised
    // Refused before sending: Carol sent nothing.
    const nonce = await admin.public.getTransactionCount({ address: who.carol! })
    expect(await frontRun(true)).not.toContain('reverted')
    expect(await admin.public.getTransactionCount({ address: who.carol! })).toBe(nonce)
    // Sent and reverted: the message names her transaction.
    const reverted = /\(transaction (0x[0-9a-f]{64}) reverted\)/.exec(await frontRun(false))
    expect(reverted, 'the message names the reverted transaction').not.toBeNull()
    expect((await admin.public.getTransactionReceipt({ hash: reverted![1] as Hex })).status).toBe('reverted')
    expect(await positionOf(admin.public, sale, who.carol!)).toEqual({ curveIn: 0n, mt: 0n })
    const afterFront = await readSale(admin.public, sale)
    expect(afterFront.raised).toBe(raisedBefore + expected.fills[2]!.curveIn + expected.fills[3]!.curveIn)
    expect(afterFront.sold).toBe(expected.fills.slice(0, 4).reduce((sum, f) => sum + f.mtOut, 0n))

    // At the new price Carol buys 1,000 MT exactly.
    expect(await ok(['buy', '--sale', sale, '--mt', '1000'], CAROL)).toMatchObject({ quote: quoted(4), fill: fill(4) })

    // Alice's 50,000 FLOCK crosses G: filled up to G, the rest of S sold, the sale succeeded.
    const last = await ok(['buy', '--sale', sale, '--flock', '50000'], ALICE)
    expect(last).toMatchObject({ quote: { ...quoted(5), graduates: true }, fill: fill(5) })
    expect(BigInt(last.quote.unfilled)).toBeGreaterThan(0n)
    expect(last.note).toContain('fomo graduate')
    expect(BigInt(last.fill.raisedAfter)).toBe(G)
    const succeeded = await readSale(admin.public, sale)
    expect(succeeded).toMatchObject({ state: 'succeeded', raised: G, sold: S })
    expect(await fails(['buy', '--sale', sale, '--flock', '1'], BOB, 1)).toMatch(/^error: the sale 0x[0-9a-fA-F]{40} is not active: it succeeded \(50000 FLOCK raised of 50000 FLOCK\)/)
    expect(await fails(['refund', '--sale', sale, '--buyer', who.alice!], BOB, 1)).toContain('takes no refunds: the raise succeeded')

    // Graduation by a third party, with the buyers' MT paid out (Erin never bought: nothing to claim).
    const g = await ok(['graduate', '--sale', sale, '--claim', `${who.alice},${who.bob}`, '--claim', who.dave!, '--claim', who.carol!, '--claim', who.erin!], ERIN)
    expect(g).toMatchObject({
      sale,
      raised: String(G),
      sold: String(S),
      burned: '0',
      pool: { flock: String(25_000n * E), mt: String(200_000n * E) },
      dexPrice: String(E / 8n),
      epochFunding,
      streams: [
        { kind: 'stakingFund', token: flock, total: String(12_500n * E) },
        { kind: 'incentiveReserve', total: String(200_000n * E) },
      ],
    })
    expect(g.transaction).toMatch(/^0x[0-9a-f]{64}$/)
    expect(BigInt(g.lpLock.held)).toBe(BigInt(g.pool.lpSupply) - 1000n)
    expect(checkGraduation(await readGraduation(admin.public, sale), who.treasury!, who.issuer!)).toEqual([])
    const owed = (name: string) => expected.buyers.get(name)!.mt
    expect(g.claims).toEqual([
      { buyer: who.alice, claimed: String(owed('alice')), transaction: expect.stringMatching(/^0x/) },
      { buyer: who.bob, claimed: String(owed('bob')), transaction: expect.stringMatching(/^0x/) },
      { buyer: who.dave, claimed: String(owed('dave')), transaction: expect.stringMatching(/^0x/) },
      { buyer: who.carol, claimed: String(owed('carol')), transaction: expect.stringMatching(/^0x/) },
      { buyer: who.erin, claimed: '0', transaction: null },
    ])
    for (const name of ['alice', 'bob', 'dave', 'carol']) expect(await balanceOf(g.token, who[name]!)).toBe(owed(name))
    expect(owed('alice') + owed('bob') + owed('dave') + owed('carol')).toBe(S)

    // Run again: nothing is sent, the graduation is printed, claims find nothing left.
    const again = await ok(['graduate', '--sale', sale, '--claim', who.alice!], BOB)
    expect(again).toMatchObject({ transaction: null, pair: g.pair, claims: [{ buyer: who.alice, claimed: '0', transaction: null }] })
    expect(await fails(['graduate', '--sale', sale, '--claim', 'alice'], BOB, 2)).toContain('--claim alice: expected an address')
    expect(await fails(['refund', '--sale', sale, '--buyer', who.alice!], BOB, 1)).toContain('takes no refunds: it graduated')
  }, 600_000)

  it('a factory whose graduator the EpochFunding admin grants later; a raise that fails is refunded, not graduated', async () => {
    const second = await ok(['launch-factory', ...factoryArgs(), '--launch-fee', '0'], ISSUER)
    expect(second.streamRole).toEqual({ granted: false, transaction: null })
    expect(second.note).toContain(`fomo launch-factory --factory ${second.factory} --grant-stream-role`)
    expect(await fails(['launch-factory', '--factory', second.factory, '--grant-stream-role'], ISSUER, 1)).toContain('is not an admin')
    const granted = await ok(['launch-factory', '--factory', second.factory, '--grant-stream-role'], ADMIN)
    expect(granted).toMatchObject({ factory: second.factory, graduator: second.graduator, epochFunding, streamRole: { granted: true } })

    const launched = await ok(launchArgs(second.factory, 'launch cli 2', ['--duration', '600', '--min-raise', '1000']), ISSUER)
    expect(launched.fee).toBe('0')
    const sale = launched.sale as Address
    await mint(who.bob!, 1_000n * E)
    const before = await balanceOf(flock, who.bob!)
    const bought = await ok(['buy', '--sale', sale, '--flock', '100'], BOB)
    expect(bought.fill.curveIn).toBe(String(100n * E))
    expect(await fails(['graduate', '--sale', sale], BOB, 1)).toMatch(/cannot graduate yet: it is active, 100 FLOCK raised of 50000 FLOCK/)
    expect(await fails(['refund', '--sale', sale, '--buyer', who.bob!], BOB, 1)).toContain('takes no refunds: it is active')
    expect(await fails(['refund', '--sale', sale], BOB, 2)).toContain('missing --buyer')

    await request('evm_increaseTime', [700])
    await request('evm_mine')
    expect((await readSale(admin.public, sale)).state).toBe('failed')
    expect(await fails(['buy', '--sale', sale, '--flock', '1'], BOB, 1)).toContain('is not active: the raise failed (100 FLOCK raised, below the minimum 1000 FLOCK)')
    expect(await fails(['graduate', '--sale', sale], BOB, 1)).toContain('cannot graduate: the raise failed')

    const refunded = await ok(['refund', '--sale', sale, '--buyer', `${who.bob},${who.alice}`], ERIN)
    expect(refunded).toMatchObject({ state: 'failed', raised: String(100n * E), refunds: [{ buyer: who.bob, refunded: String(100n * E) }, { buyer: who.alice, refunded: '0', transaction: null }] })
    // Bob gets back exactly his curve input; the fees stay with the issuer and the treasury.
    expect(await balanceOf(flock, who.bob!)).toBe(before - BigInt(bought.fill.paid) + 100n * E)
    expect((await ok(['refund', '--sale', sale, '--buyer', who.bob!], ERIN)).refunds).toEqual([{ buyer: who.bob, refunded: '0', transaction: null }])
  }, 600_000)
})
