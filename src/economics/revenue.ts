/**
 * Revenue (paper 3.4-3.5): net revenue, the 30/30/30/10 waterfall, the staking discount and the charged
 * amount of a call.
 */
import { InvalidParameterError } from '../base/errors.ts'
import { BPS, assertNonNegative, maxBig, minBig, splitBps } from './math.ts'

export const WATERFALL_BPS = {
  flockBuyback: 3000n,
  treasury: 3000n,
  mtBuybackBurn: 3000n,
  issuerYield: 1000n,
} as const

export type Waterfall = Record<keyof typeof WATERFALL_BPS, bigint>

/** P_net = max(0, P_gross - OpEx), P_gross being the charged (post-discount) revenue. */
export function netRevenue(grossRevenue: bigint, opex: bigint): bigint {
  assertNonNegative('grossRevenue', grossRevenue)
  assertNonNegative('opex', opex)
  return maxBig(0n, grossRevenue - opex)
}

/** The 30/30/30/10 waterfall of P_net (paper 3.5); rounding dust to the treasury. */
export function revenueWaterfall(pNet: bigint): Waterfall {
  return splitBps(pNet, { ...WATERFALL_BPS }, 'treasury')
}

export type DiscountParameters = {
  /** X: the maximum discount in bps. */
  maxDiscountBps: bigint
  /** M: the discount multiplier, a positive integer. */
  multiplier: bigint
}

/**
 * discount = min(X, floor(stake * M * 10^4 / circulating)) in bps (paper 3.6).
 * No circulating supply means no discount.
 */
export function stakingDiscountBps(stake: bigint, circulating: bigint, { maxDiscountBps, multiplier }: DiscountParameters): bigint {
  assertNonNegative('stake', stake)
  assertNonNegative('circulating', circulating)
  if (maxDiscountBps < 0n || maxDiscountBps > BPS)
    throw new InvalidParameterError('maxDiscountBps', 'basis points between 0 and 10000', maxDiscountBps)
  if (multiplier < 1n) throw new InvalidParameterError('multiplier', 'a positive integer', multiplier)
  if (stake > circulating)
    throw new InvalidParameterError('stake', `at most the circulating supply ${circulating}`, stake)
  if (circulating === 0n) return 0n
  return minBig(maxDiscountBps, (stake * multiplier * BPS) / circulating)
}

/** charged = gross - floor(gross * discount / 10^4): the discount is rounded in the user's disfavour by at most one unit. */
export function chargedAmount(gross: bigint, discountBps: bigint): bigint {
  assertNonNegative('gross', gross)
  if (discountBps < 0n || discountBps > BPS)
    throw new InvalidParameterError('discountBps', 'basis points between 0 and 10000', discountBps)
  return gross - (gross * discountBps) / BPS
}

/**
 * chargedAmount over JavaScript numbers, for batch verification, which decodes amounts as numbers. gross *
 * discount can pass 2^53 (10^12 * 10^4), so the product is split around 10^4 and every step stays an exact
 * integer for any safe-integer gross. Property-tested equal to chargedAmount.
 */
export function chargedAmountSmall(gross: number, discountBps: number): number {
  // gross * d / 10^4 = (gross / 10^4) * d + (gross % 10^4) * d / 10^4, each part exact below 2^53.
  const high = Math.floor(gross / 10_000)
  const low = gross % 10_000
  return gross - (high * discountBps + Math.floor((low * discountBps) / 10_000))
}
