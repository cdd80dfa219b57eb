/**
 * EpochFunding on the in-process EVM: every epoch's emission and vesting releases equal src/economics to the base
 * unit, they reach the distributor only as it finalizes the epoch, and an epoch whose emission reserve is short waits.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { getContract, keccak256, zeroHash, type Address } from 'viem'
import { startDevnet, type Devnet } from '../../src/chain/devnet.ts'
import { deployContracts, deployStaking, deployTestToken, distributorAt } from '../../src/chain/contracts.ts'
import { addStream, bindDistributor, deployEpochFunding, epochFundingAt, expectedFunding } from '../../src/chain/funding.ts'
import { TestToken } from '../../src/chain/contracts.generated.ts'
import { epochEmission } from '../../src/economics/emissions.ts'
import { epochRelease } from '../../src/economics/supply.ts'
import { distributorDomain } from '../../src/epoch/rewards.ts'

const EPOCH_SECONDS = 86_400n
// An emission that does not divide evenly, so the rounding is exercised.
const DAILY_EMISSION = 1_000_000n * 10n ** 18n + 7n
const CONFIG = keccak256('0xc0')
const DEPLOYMENT = keccak256('0x0d')

let devnet: Devnet
let me: Address
const TREASURY = () => devnet.accounts[9]!
beforeAll(async () => {
  devnet = await startDevnet()
  me = devnet.accounts[0]!
}, 120_000)

const reverts = async (call: Promise<unknown>, error: string) => expect(call).rejects.toThrow(new RegExp(error))
const send = async (hash: Promise<`0x${string}`>) => expect((await devnet.clients.public.waitForTransactionReceipt({ hash: await hash })).status).toBe('success')

async function system() {
  const flock = await deployTestToken(devnet.clients, 'FLOCK', 'FLOCK', 18)
  const mt = await deployTestToken(devnet.clients, 'MT', 'MT', 18)
  const funding = await deployEpochFunding(devnet.clients, { admin: me, flock, epochSeconds: EPOCH_SECONDS, dailyEmission: DAILY_EMISSION, treasury: TREASURY() })
  const { distributor } = await deployContracts(devnet.clients, { admin: me, publisher: me, guardian: me, timelockSeconds: 1n, epochFunding: funding })
  const staking = await deployStaking(devnet.clients, mt, me, 3000n, 2n, 1n)
  const registry = distributorAt(devnet.clients, distributor)
  await send(registry.write.scheduleConfig([CONFIG, keccak256('0x5e'), [DEPLOYMENT], [staking], [], [], []]))
  const token = (address: Address) => getContract({ abi: TestToken.abi, address, client: { public: devnet.clients.public, wallet: devnet.clients.wallet } })
  return { flock: token(flock), mt: token(mt), funding: epochFundingAt(devnet.clients, funding), registry, distributor }
}

async function propose(s: Awaited<ReturnType<typeof system>>, epoch: bigint, root: `0x${string}`) {
  await devnet.mine(1)
  const snapshotBlock = (await devnet.clients.public.getBlockNumber({ cacheTime: 0 })) - 1n
  const domain = distributorDomain(await devnet.clients.public.getChainId(), s.distributor)
  await send(s.registry.write.propose([epoch, { spendRoot: root, rewardRoot: root, totalGross: 1n, totalCharged: 1n, receiptCount: 1n, manifestHash: root, domain, proofsHash: zeroHash, configHash: CONFIG, snapshotBlock, ledgerHash: root }, '']))
}

describe('EpochFunding (in-process EVM)', () => {
  it('releases what src/economics computes: the emission per epoch and any stream in any epoch, to the base unit', async () => {
    const { funding } = await system()
    expect(await funding.read.emissionPerEpoch()).toBe(epochEmission(DAILY_EMISSION, EPOCH_SECONDS))
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 0n, max: 30_000n }), fc.bigInt({ min: 0n, max: 400n }), async (total, start, after) => {
        const epoch = start + after - 20n
        if (epoch < 0n) return
        expect(await funding.read.releaseOf([total, start, epoch])).toBe(epochRelease(total, start, epoch, EPOCH_SECONDS))
      }),
      { numRuns: 60 },
    )
    // Over the 180 days a stream vests, its releases sum to its total exactly.
    const total = 123_456_789_012_345_678_901n
    let sum = 0n
    for (let e = 0n; e <= 181n; e++) sum += await funding.read.releaseOf([total, 0n, e])
    expect(sum).toBe(total)
  }, 120_000)

  it('funds each finalized epoch once, with its emission and every stream release, and holds an epoch whose reserve is short', async () => {
    const s = await system()
    const start = 20_000n
    const staked = 12_500n * 10n ** 18n + 3n
    const reserve = 200_000n * 10n ** 18n
    await send(s.flock.write.mint([me, 10n ** 30n]))
    await send(s.mt.write.mint([me, reserve]))
    await addStream(devnet.clients, s.funding.address, { deploymentId: DEPLOYMENT, kind: 'stakingFund', token: s.flock.address, total: staked, startEpoch: start })
    await addStream(devnet.clients, s.funding.address, { deploymentId: DEPLOYMENT, kind: 'incentiveReserve', token: s.mt.address, total: reserve, startEpoch: start })
    // One stream of each kind per deployment, the staking fund in FLOCK only, added by the stream role only.
    await reverts(s.funding.write.addStream([DEPLOYMENT, 0, s.flock.address, 1n, start]), 'EpochFundingInvalidStream')
    await reverts(s.funding.write.addStream([keccak256('0x0e'), 0, s.mt.address, 1n, start]), 'EpochFundingInvalidStream')
    const stranger = epochFundingAt(devnet.clientsFor(devnet.accounts[3]!), s.funding.address)
    await reverts(stranger.write.addStream([keccak256('0x0e'), 1, s.mt.address, 1n, start]), 'AccessControlUnauthorizedAccount')
    // Releases go to the distributor only, and only once it is bound (to one distributor built with it, once): an
    // account, or a distributor made with another funding contract, would take every release.
    await reverts(s.funding.write.fund([start]), 'EpochFundingNotDistributor')
    await reverts(s.funding.write.bindDistributor([devnet.accounts[3]!]), 'EpochFundingDistributorBound')
    const other = await deployContracts(devnet.clients, { admin: me, publisher: me, guardian: me, timelockSeconds: 1n })
    await reverts(s.funding.write.bindDistributor([other.distributor]), 'EpochFundingDistributorBound')
    await bindDistributor(devnet.clients, s.funding.address, s.distributor)
    await expect(bindDistributor(devnet.clients, s.funding.address, s.distributor)).rejects.toThrow(/already bound/)
    await reverts(s.funding.write.fund([start]), 'EpochFundingNotDistributor')

    // The emission reserve is empty: the epoch cannot be final (its reward leaves would not be funded).
    const epoch = start + 3n
    await propose(s, epoch, keccak256('0x01'))
    const emission = epochEmission(DAILY_EMISSION, EPOCH_SECONDS)
    await reverts(s.registry.write.finalize([epoch]), 'EpochFundingShort')
    // The streams' own FLOCK is not emission: a reserve of one unit less than the emission still waits.
    await send(s.flock.write.transfer([s.funding.address, emission - 1n]))
    await reverts(s.registry.write.finalize([epoch]), 'EpochFundingShort')
    await send(s.flock.write.transfer([s.funding.address, 1n]))
    const before = { flock: await s.flock.read.balanceOf([s.distributor]), mt: await s.mt.read.balanceOf([s.distributor]) }
    await send(s.registry.write.finalize([epoch]))
    const expected = expectedFunding(epoch, EPOCH_SECONDS, DAILY_EMISSION, [{ total: staked, startEpoch: start }, { total: reserve, startEpoch: start }])
    expect(await s.flock.read.balanceOf([s.distributor])).toBe(before.flock + expected.emission + expected.streamed[0]!)
    expect(await s.mt.read.balanceOf([s.distributor])).toBe(before.mt + expected.streamed[1]!)
    expect(await s.funding.read.funded([epoch])).toBe(true)
    const [event] = await s.funding.getEvents.EpochFunded({}, { fromBlock: 0n })
    expect(event?.args).toMatchObject({ epoch, emission: expected.emission, streamed: expected.streamed })
    // What the streams still owe stays out of the emission reserve.
    expect(await s.funding.read.flockOwedByStreams()).toBe(staked - expected.streamed[0]!)
    expect(await s.flock.read.balanceOf([s.funding.address])).toBe(staked - expected.streamed[0]!)

    // A stream cannot start at an epoch already final: those epochs' rewards were sealed without it.
    await reverts(s.funding.write.addStream([keccak256('0x0e'), 0, s.flock.address, 1n, epoch]), 'EpochFundingInvalidStream')
    // Epochs never finalized (no receipts: skipped) release their stream share to the treasury, once, so every stream
    // ends; a final epoch, or one that may still be, is not swept.
    await reverts(s.funding.write.sweepSkipped([epoch]), 'EpochFundingNotSkipped')
    await reverts(s.funding.write.sweepSkipped([epoch + 1n]), 'EpochFundingNotSkipped')
    const { sweepSkipped } = await import('../../src/chain/funding.ts')
    const streams = [{ total: staked, startEpoch: start }, { total: reserve, startEpoch: start }]
    let swept = [0n, 0n]
    const sweep = async (e: bigint) => {
      await sweepSkipped(devnet.clients, s.funding.address, e)
      swept = expectedFunding(e, EPOCH_SECONDS, DAILY_EMISSION, streams).streamed.map((v, i) => v + swept[i]!)
    }
    for (let e = start; e < epoch; e++) await sweep(e)
    await reverts(s.funding.write.sweepSkipped([start]), 'EpochFundingNotSkipped')
    expect(await s.flock.read.balanceOf([TREASURY()])).toBe(swept[0])
    expect(await s.mt.read.balanceOf([TREASURY()])).toBe(swept[1])
    // Past the 180 days, with the epochs between swept, both streams are paid in full and dropped.
    const last = start + 180n
    await send(s.flock.write.transfer([s.funding.address, emission]))
    await propose(s, last, keccak256('0x02'))
    await send(s.registry.write.finalize([last]))
    for (let e = epoch + 1n; e < last; e++) await sweep(e)
    expect(await s.funding.read.streams()).toEqual([])
    expect(await s.funding.read.flockOwedByStreams()).toBe(0n)
    const paid = (i: number) => expected.streamed[i]! + expectedFunding(last, EPOCH_SECONDS, DAILY_EMISSION, streams).streamed[i]!
    expect(swept[0]! + paid(0)).toBe(staked)
    expect(swept[1]! + paid(1)).toBe(reserve)
    expect(await s.mt.read.balanceOf([s.funding.address])).toBe(0n)
  }, 120_000)
})
