/**
 * MT supply (paper 3.2): the fixed 1,000,000 MT allocation, the graduation proceeds split and linear vesting.
 */
import { InvalidParameterError } from '../base/errors.ts'
import { DECIMALS } from '../base/units.ts'
import { assertNonNegative, splitBps } from './math.ts'

/** Every deployment mints 1,000,000 MT (paper 3.2). */
export const MT_TOTAL_SUPPLY = 1_000_000n * 10n ** BigInt(DECIMALS.MT)

/** "6 months" of the paper, in days (linear, from graduation). */
export const VESTING_DAYS = 180n

export const SUPPLY_ALLOCATION_BPS = {
  publicSale: 4000n,
  liquidity: 2000n,
  incentiveReserve: 2000n,
  issuer: 1000n,
  treasury: 1000n,
} as const

export type SupplyAllocation = Record<keyof typeof SUPPLY_ALLOCATION_BPS, bigint>

/** 40/20/20/10/10 of the MT supply; rounding dust to the treasury. */
export function allocateSupply(totalSupply: bigint = MT_TOTAL_SUPPLY): SupplyAllocation {
  return splitBps(totalSupply, { ...SUPPLY_ALLOCATION_BPS }, 'treasury')
}

export const PROCEEDS_SPLIT_BPS = {
  protocol: 2500n,
  stakingIncentives: 2500n,
  liquidity: 5000n,
} as const

export type ProceedsSplit = Record<keyof typeof PROCEEDS_SPLIT_BPS, bigint>

/** 25/25/50 of the FLOCK raised; rounding dust to the protocol allocation (treasury). */
export function splitProceeds(raised: bigint): ProceedsSplit {
  return splitBps(raised, { ...PROCEEDS_SPLIT_BPS }, 'protocol')
}

/**
 * Amount vested after `elapsed` of a linear schedule of `duration` (any one
 * unit), rounded down; before the start nothing, after the end everything.
 */
export function vestedAmount(total: bigint, elapsed: bigint, duration: bigint): bigint {
  assertNonNegative('total', total)
  if (duration <= 0n) throw new InvalidParameterError('duration', 'a positive duration', duration)
  if (elapsed <= 0n) return 0n
  if (elapsed >= duration) return total
  return (total * elapsed) / duration
}

/**
 * What a linear schedule releases between `from` and `to`: a difference of
 * cumulative amounts, so releases over consecutive periods sum to `total`.
 */
export function releasedBetween(total: bigint, from: bigint, to: bigint, duration: bigint): bigint {
  if (to < from) throw new InvalidParameterError('to', `a time not before ${from}`, to)
  return vestedAmount(total, to, duration) - vestedAmount(total, from, duration)
}

/** Seconds in a day: the unit of the daily emission and of the vesting horizon. */
export const DAY_SECONDS = 86_400n

/**
 * What a stream of `total`, vesting linearly over VESTING_DAYS from the start of epoch `startEpoch`, releases in
 * `epoch` (epochs of `epochSeconds`): nothing before the start, and releases of consecutive epochs sum to `total`.
 * EpochFunding's `releaseOf` computes the same.
 */
export function epochRelease(total: bigint, startEpoch: bigint, epoch: bigint, epochSeconds: bigint): bigint {
  if (epochSeconds <= 0n) throw new InvalidParameterError('epochSeconds', 'a positive number of seconds', epochSeconds)
  if (epoch < startEpoch) return 0n
  const elapsed = (epoch - startEpoch) * epochSeconds
  return releasedBetween(total, elapsed, elapsed + epochSeconds, VESTING_DAYS * DAY_SECONDS)
}

/**
 * The liquidity MT a graduation pairs with the raise's liquidity FLOCK: `floor(liquidity * raised / G)`, all of it at
 * G and D/G of it at a deadline graduation below G (the rest is burned), so that the pool opens at the price of a
 * graduation at G, `dexPrice(splitProceeds(G).liquidity, liquidity)` = 0.5 * G / 200,000 (to rounding), however much
 * was raised (paper 3.4: DEX price 0.5*G/200,000). MTGraduator computes the same.
 *
 * @example
 * pairedLiquidityMt(50_000n * 10n ** 18n, 50_000n * 10n ** 18n) // 200,000e18: all of it at G
 * pairedLiquidityMt(20_000n * 10n ** 18n, 50_000n * 10n ** 18n) // 80,000e18, paired with 10,000 FLOCK: 0.125
 */
export function pairedLiquidityMt(raised: bigint, graduationTarget: bigint, liquidity: bigint = allocateSupply().liquidity): bigint {
  if (graduationTarget <= 0n) throw new InvalidParameterError('graduationTarget', 'a positive amount of FLOCK', graduationTarget)
  assertNonNegative('raised', raised)
  if (raised > graduationTarget) throw new InvalidParameterError('raised', `at most the graduation target ${graduationTarget}`, raised)
  assertNonNegative('liquidity', liquidity)
  return (liquidity * raised) / graduationTarget
}
