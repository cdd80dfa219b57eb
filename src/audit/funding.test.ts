/** The auditor's funding check: config.json's credits against what EpochFunding releases, each difference named. */
import { describe, expect, it } from 'vitest'
import { epochEmission } from '../economics/emissions.ts'
import { splitProceeds } from '../economics/supply.ts'
import { DEPLOYMENT_A, DEPLOYMENT_B, EPOCH, worldConfig } from '../../test/aggregator/world.ts'
import { fundingFault, type OnChainFunding } from './funding.ts'

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
