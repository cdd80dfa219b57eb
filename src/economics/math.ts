/**
 * Exact integer arithmetic for money: fixed-point constants, rounding named in the function, and splits whose
 * parts always sum to the whole.
 */
import { InvalidParameterError } from '../base/errors.ts'

/** 1.0 in 18-decimal fixed point (ages, prices). */
export const WAD = 10n ** 18n
/** 100 % in basis points. */
export const BPS = 10_000n

/** floor(a * b / d) for non-negative operands. */
export function mulDivDown(a: bigint, b: bigint, d: bigint): bigint {
  assertNonNegative('a', a)
  assertNonNegative('b', b)
  if (d <= 0n) throw new InvalidParameterError('divisor', 'a positive integer', d)
  return (a * b) / d
}

/** ceil(a * b / d) for non-negative operands. */
export function mulDivUp(a: bigint, b: bigint, d: bigint): bigint {
  assertNonNegative('a', a)
  assertNonNegative('b', b)
  if (d <= 0n) throw new InvalidParameterError('divisor', 'a positive integer', d)
  const p = a * b
  return p === 0n ? 0n : (p - 1n) / d + 1n
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b
}

export function sum(values: Iterable<bigint>): bigint {
  let total = 0n
  for (const v of values) total += v
  return total
}

export function assertNonNegative(name: string, value: bigint): void {
  if (typeof value !== 'bigint' || value < 0n) throw new InvalidParameterError(name, 'a non-negative bigint', value)
}

/**
 * Splits `total` by basis-point weights, each part rounded down; the rounding
 * dust goes to the part named `sink`, so the parts always sum to `total`.
 */
export function splitBps<K extends string>(total: bigint, weights: Record<K, bigint>, sink: NoInfer<K>): Record<K, bigint> {
  assertNonNegative('total', total)
  const keys = Object.keys(weights) as K[]
  if (!keys.includes(sink)) throw new InvalidParameterError('sink', `one of ${keys.join(', ')}`, sink)
  let weightSum = 0n
  for (const k of keys) {
    assertNonNegative(`weights.${k}`, weights[k])
    weightSum += weights[k]
  }
  if (weightSum !== BPS) throw new InvalidParameterError('weights', 'basis points summing to 10000', weightSum)
  const parts = {} as Record<K, bigint>
  let assigned = 0n
  for (const k of keys) {
    parts[k] = (total * weights[k]) / BPS
    assigned += parts[k]
  }
  parts[sink] += total - assigned
  return parts
}

/**
 * Splits `total` pro rata to `weights` (rounded down); the dust is returned
 * apart so the caller routes it to its named sink. With a zero weight sum the
 * whole total is dust.
 */
export function splitProRata<K>(total: bigint, weights: ReadonlyMap<K, bigint>): { parts: Map<K, bigint>; dust: bigint } {
  assertNonNegative('total', total)
  let weightSum = 0n
  for (const [, w] of weights) {
    assertNonNegative('weight', w)
    weightSum += w
  }
  const parts = new Map<K, bigint>()
  if (weightSum === 0n) {
    for (const [k] of weights) parts.set(k, 0n)
    return { parts, dust: total }
  }
  let assigned = 0n
  for (const [k, w] of weights) {
    const part = (total * w) / weightSum
    parts.set(k, part)
    assigned += part
  }
  return { parts, dust: total - assigned }
}
