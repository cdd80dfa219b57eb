/**
 * Token amounts as text: exact conversion between decimal strings of whole tokens and bigint base units, at the
 * edges only (configuration files, reports, the command line); every computation stays in base units.
 */
import { InvalidParameterError } from './errors.ts'

/** Decimals of the protocol's tokens: amounts are bigint base units of these. */
export const DECIMALS = { USDC: 6, FLOCK: 18, MT: 18 } as const

const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/

/**
 * Parses a decimal string of whole tokens into base units, exactly. Rejects
 * signs, exponents, hex and more fraction digits than the token has.
 */
export function parseUnits(value: string, decimals: number): bigint {
  const match = typeof value === 'string' ? DECIMAL.exec(value) : null
  if (!match) throw new InvalidParameterError('amount', 'a non-negative decimal string such as "2500" or "0.125"', value)
  const whole = match[1] as string
  const fraction = match[2] ?? ''
  if (fraction.length > decimals)
    throw new InvalidParameterError('amount', `at most ${decimals} fraction digits`, value)
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0')
}

/** Formats base units as an exact decimal string of whole tokens ("999.5", "3000"). */
export function formatUnits(value: bigint, decimals: number): string {
  const negative = value < 0n
  const abs = negative ? -value : value
  const scale = 10n ** BigInt(decimals)
  const whole = abs / scale
  const fraction = (abs % scale).toString().padStart(decimals, '0').replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`
}

/** Rounds a fixed-point value for display only (never for money paths). */
export function formatFixed(value: bigint, decimals: number, places: number): string {
  const scale = 10n ** BigInt(decimals - places)
  const rounded = places >= decimals ? value : (value + scale / 2n) / scale
  const text = formatUnits(rounded, Math.min(places, decimals))
  const [w, f = ''] = text.split('.')
  return places > 0 ? `${w}.${f.padEnd(places, '0')}` : (w as string)
}
