/**
 * The platform-wide economic parameters (X, M, daily emission, score basis, reward denominator, issuer bonus),
 * shared by scenarios and the aggregator's configuration.
 */
import { Reader, optional } from '../base/reader.ts'
import type { RewardDenominator } from './emissions.ts'
import type { ScoreBasis } from './epoch.ts'
import { DECIMALS } from '../base/units.ts'
import { BPS } from './math.ts'
import type { DiscountParameters } from './revenue.ts'

/** The platform-wide economic parameters, shared by scenarios and the aggregator's configuration. */
export type PlatformParameters = {
  /** X, in bps. */
  maxDiscountBps: bigint
  /** M, a positive integer. */
  discountMultiplier: bigint
  /** FLOCK (base units) emitted per day across deployments. */
  dailyEmission: bigint
  scoreBasis: ScoreBasis
  rewardDenominator: RewardDenominator
  issuerBonusBps: bigint
}

export const PLATFORM_FIELDS = ['maxDiscountBps', 'discountMultiplier', 'dailyEmission', 'scoreBasis', 'rewardDenominator', 'issuerBonusBps'] as const

/** Reads the parameters from an object that may also hold `extra` fields (read by the caller). */
export function readPlatform(r: Reader, extra: readonly string[] = []): PlatformParameters {
  r.object([...PLATFORM_FIELDS, ...extra])
  const bps = (x: Reader) => x.integer(0, Number(BPS))
  return {
    maxDiscountBps: optional(r.field('maxDiscountBps'), bps, 3000n),
    discountMultiplier: optional(r.field('discountMultiplier'), (x) => x.integer(1, 1_000_000), 2n),
    dailyEmission: r.field('dailyEmission').units(DECIMALS.FLOCK, 'FLOCK'),
    scoreBasis: optional(r.field('scoreBasis'), (x) => x.literal(['net', 'charged', 'gross'] as const), 'net'),
    rewardDenominator: optional(r.field('rewardDenominator'), (x) => x.literal(['eligible-stakers', 'all-users'] as const), 'eligible-stakers'),
    issuerBonusBps: optional(r.field('issuerBonusBps'), bps, 1000n),
  }
}

/** The staking discount's parameters (X, M) of the platform: what every discount of a receipt, proof or report uses. */
export function discountParameters(p: Pick<PlatformParameters, 'maxDiscountBps' | 'discountMultiplier'>): DiscountParameters {
  return { maxDiscountBps: p.maxDiscountBps, multiplier: p.discountMultiplier }
}
