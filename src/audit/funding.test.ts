/** The auditor's funding and revenue checks: config.json's credits against EpochFunding, the epoch's revenue against the settlement's payments. */
import { describe, expect, it } from 'vitest'
import { epochEmission } from '../economics/emissions.ts'
import { splitProceeds } from '../economics/supply.ts'
import { DEPLOYMENT_A, DEPLOYMENT_B, EPOCH, worldConfig } from '../../test/aggregator/world.ts'
import { fundingFault, revenueFault, type OnChainFunding } from './funding.ts'
import { netRevenue, revenueWaterfall } from '../economics/revenue.ts'

describe('fundingFault: what sealing credits against what EpochFunding releases', () => {
  const config = worldConfig()
  const a = config.deployments.find((d) => d.id === DEPLOYMENT_A)!
  // Deployment A graduated 30 epochs ago (still vesting); B 200 epochs ago (its streams paid out and dropped).
  const honest: OnChainFunding = {
    epochSeconds: 86_400n,
    emissionPerEpoch: epochEmission(config.platform.dailyEmission, 86_400n),
    streams: [
      { deploymentId: DEPLOYMENT_A, kind: 0, token: config.tokens.flock, total: splitProceeds(a.raised).stakingIncentives, startEpoch: BigInt(a.graduationEpoch) },
      { deploymentId: DEPLOYMENT_A, kind: 1, token: a.mtToken, total: a.incentiveReserve, startEpoch: BigInt(a.graduationEpoch) },
    ],
  }

  it('finds nothing when the funding contract releases what config.json credits (a stream past its vesting may be gone)', () => {
    expect(fundingFault(config, EPOCH, honest)).toBeUndefined()
    expect(DEPLOYMENT_B).not.toBe(DEPLOYMENT_A)
  })

  it('names a different epoch length, emission, raise, reserve, start or token, and a stream missing while vesting', () => {
    expect(fundingFault(config, EPOCH, { ...honest, epochSeconds: 3_600n })?.what).toMatch(/epoch length/)
    expect(fundingFault(config, EPOCH, { ...honest, emissionPerEpoch: honest.emissionPerEpoch + 1n })?.what).toMatch(/emission per epoch/)
    const change = (i: number, patch: Partial<OnChainFunding['streams'][number]>) => ({ ...honest, streams: honest.streams.map((s, j) => (j === i ? { ...s, ...patch } : s)) })
    expect(fundingFault(config, EPOCH, change(0, { total: honest.streams[0]!.total - 1n }))).toMatchObject({ what: expect.stringMatching(/staking fund stream/) })
    expect(fundingFault(config, EPOCH, change(1, { total: honest.streams[1]!.total + 1n }))).toMatchObject({ what: expect.stringMatching(/incentive reserve stream/) })
    expect(fundingFault(config, EPOCH, change(0, { startEpoch: BigInt(a.graduationEpoch + 1) }))?.found).toMatch(/from epoch/)
    expect(fundingFault(config, EPOCH, change(1, { token: config.tokens.flock }))?.what).toMatch(/incentive reserve/)
    expect(fundingFault(config, EPOCH, { ...honest, streams: honest.streams.slice(1) })).toMatchObject({ found: 'none' })
  })
})

describe('revenueFault: the revenue paid against what the epoch commits and credits', () => {
  const id = DEPLOYMENT_A
  const due = [{ deploymentId: id, charged: 10_000_000_000n, opex: 0n }]
  const yieldOf = (charged: bigint, opex: bigint) => revenueWaterfall(netRevenue(charged, opex)).issuerYield

  it('passes a deployment paid in full with the OpEx inputs.json declares, and a pending epoch not yet paid', () => {
    expect(revenueFault(due, [{ deploymentId: id, charged: 10_000_000_000n, opex: 0n, issuerYield: yieldOf(10_000_000_000n, 0n) }], true)).toBeUndefined()
    expect(revenueFault(due, [], false)).toBeUndefined()
  })

  it('names a final epoch paid short (to another deployment), OpEx taken above what inputs.json declares, and yield lost to split payments', () => {
    expect(revenueFault(due, [{ deploymentId: DEPLOYMENT_B, charged: 10_000_000_000n, opex: 0n, issuerYield: yieldOf(10_000_000_000n, 0n) }], true)?.what).toMatch(/charged revenue paid/)
    // The payer took 2,000 USDC of OpEx the tree never assumed: the issuer's 1,000 USDC credit is funded with 800.
    const greedy = revenueFault(due, [{ deploymentId: id, charged: 10_000_000_000n, opex: 2_000_000_000n, issuerYield: yieldOf(10_000_000_000n, 2_000_000_000n) }], false)
    expect(greedy).toMatchObject({ expected: `at least ${yieldOf(10_000_000_000n, 0n)} (the reward tree's credit)`, found: String(yieldOf(10_000_000_000n, 2_000_000_000n)) })
    const tiny = [{ deploymentId: id, charged: 18n, opex: 0n }]
    expect(revenueFault(tiny, [0, 1].map(() => ({ deploymentId: id, charged: 9n, opex: 0n, issuerYield: yieldOf(9n, 0n) })), true)?.what).toMatch(/issuer yield/)
  })
})
