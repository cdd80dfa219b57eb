/**
 * Emissions: the age factor, deployment scores, the emission routed by score, the issuer bonus, and the
 * staker pool shared by gross spend.
 */
import { InvalidParameterError } from '../base/errors.ts'
import { BPS, WAD, assertNonNegative, maxBig, mulDivDown, splitBps, splitProRata } from './math.ts'
import { DAY_SECONDS, VESTING_DAYS } from './supply.ts'

/** The FLOCK emitted in one epoch of `epochSeconds`: dailyEmission * epochSeconds / 86,400, rounded down. */
export function epochEmission(dailyEmission: bigint, epochSeconds: bigint): bigint {
  assertNonNegative('dailyEmission', dailyEmission)
  if (epochSeconds <= 0n) throw new InvalidParameterError('epochSeconds', 'a positive number of seconds', epochSeconds)
  return mulDivDown(dailyEmission, epochSeconds, DAY_SECONDS)
}

/** AgeFactor floor: 0.2 in WAD. */
export const AGE_FACTOR_FLOOR = WAD / 5n

/**
 * AgeFactor(t) = max(0.2, 1 - t/180) in WAD, t in whole days since graduation,
 * rounded down (AgeFactor(30) = 0.833333333333333333).
 */
export function ageFactor(days: bigint, horizonDays: bigint = VESTING_DAYS): bigint {
  assertNonNegative('days', days)
  if (horizonDays <= 0n) throw new InvalidParameterError('horizonDays', 'a positive number of days', horizonDays)
  if (days >= horizonDays) return AGE_FACTOR_FLOOR
  return maxBig(AGE_FACTOR_FLOOR, (WAD * (horizonDays - days)) / horizonDays)
}

/** DS = Revenue * AgeFactor, in the revenue's base units, rounded down. */
export function deploymentScore(revenue: bigint, ageFactorWad: bigint): bigint {
  return mulDivDown(revenue, ageFactorWad, WAD)
}

/**
 * Splits the global emission pro rata to deployment scores, rounded down; the
 * dust (all of it when every score is zero) is returned for the treasury.
 */
export function routeEmission<K>(emission: bigint, scores: ReadonlyMap<K, bigint>): { shares: Map<K, bigint>; dust: bigint } {
  const { parts, dust } = splitProRata(emission, scores)
  return { shares: parts, dust }
}

export const ISSUER_BONUS_BPS = 1000n

/** 10 % issuer bonus, 90 % staker pool; the pool takes the rounding dust. */
export function splitDeploymentEmission(share: bigint, issuerBonusBps: bigint = ISSUER_BONUS_BPS): { issuerBonus: bigint; stakerPool: bigint } {
  if (issuerBonusBps < 0n || issuerBonusBps > BPS)
    throw new InvalidParameterError('issuerBonusBps', 'basis points between 0 and 10000', issuerBonusBps)
  return splitBps(share, { issuerBonus: issuerBonusBps, stakerPool: BPS - issuerBonusBps }, 'stakerPool')
}

export type RewardDenominator = 'eligible-stakers' | 'all-users'

export type Participant = { account: string; gross: bigint; stake: bigint }

/**
 * reward_u = floor(pool * gross_u / gross_total) (paper 3.8). With
 * `eligible-stakers` only accounts with stake > 0 count, in the numerator and
 * the denominator, so the pool is paid out whole but for rounding dust; with
 * `all-users` every account's gross is in the denominator and the shares of
 * accounts without stake join the dust. The dust goes to the caller's sink.
 */
export function grossWeightedRewards(
  pool: bigint,
  participants: readonly Participant[],
  denominator: RewardDenominator = 'eligible-stakers',
): { rewards: Map<string, bigint>; undistributed: bigint } {
  const weights = new Map<string, bigint>()
  for (const p of participants) {
    if (weights.has(p.account)) throw new InvalidParameterError('participants', 'one entry per account', p.account)
    if (denominator === 'all-users' || p.stake > 0n) weights.set(p.account, p.gross)
  }
  const { parts, dust } = splitProRata(pool, weights)
  let undistributed = dust
  const rewards = new Map<string, bigint>()
  for (const p of participants) {
    const part = parts.get(p.account)
    if (part === undefined) continue
    if (p.stake > 0n) rewards.set(p.account, part)
    else undistributed += part
  }
  return { rewards, undistributed }
}
