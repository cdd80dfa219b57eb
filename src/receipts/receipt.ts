import { getAddress } from 'viem'
import { BaseError } from '../base/errors.ts'
import { chargedAmount } from '../economics/revenue.ts'
import { Reader } from '../base/reader.ts'
import type { Hex } from '../base/bytes.ts'
import { keccak256 } from '../base/keccak.ts'
import { encodeStruct, typedDataDigest, USAGE_RECEIPT_TYPEHASH } from './types.ts'

/** One inference call as a provider attests it. Amounts are USDC base units. */
export type UsageReceipt = {
  deploymentId: Hex
  /** The signer: the compute provider's address (lower case). */
  provider: Hex
  user: Hex
  epoch: number
  /** Unique per provider. */
  requestId: Hex
  /** Unix seconds. */
  timestamp: bigint
  inputTokens: number
  outputTokens: number
  /** List price of the call before the staking discount. */
  grossAmount: bigint
  discountBps: number
  chargedAmount: bigint
}

/** Largest gross amount of one call: 1,000,000 USDC (a typo guard; the type allows uint64). */
export const MAX_RECEIPT_AMOUNT = 10n ** 12n

export type ReceiptRejection =
  | 'schema'
  | 'domain'
  | 'signature-format'
  | 'signature-v'
  | 'signature-range'
  | 'signature-high-s'
  | 'signature-invalid'
  | 'signature-zero-address'
  | 'signer-mismatch'
  | 'signer-not-allowed'
  | 'charged-mismatch'
  | 'batch-mismatch'
  | 'batch-root'

/** A receipt (or batch) failed verification; `reason` says which check. */
export class ReceiptError extends BaseError {
  override name = 'ReceiptError'
  constructor(
    readonly reason: ReceiptRejection,
    message: string,
    hint?: string,
  ) {
    super(`RECEIPT_${reason.toUpperCase().replaceAll('-', '_')}`, message, hint ? { metaMessages: [hint] } : {})
  }
}

const DECIMAL = /^(0|[1-9][0-9]*)$/
const BYTES32 = /^0x[0-9a-fA-F]{64}$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/

export const RECEIPT_FIELDS = [
  'deploymentId',
  'provider',
  'user',
  'epoch',
  'requestId',
  'timestamp',
  'inputTokens',
  'outputTokens',
  'grossAmount',
  'discountBps',
  'chargedAmount',
] as const

export function readBytes32(r: Reader): Hex {
  return r.string(BYTES32, 'a 32-byte 0x-prefixed hex string').toLowerCase() as Hex
}

/** Checksummed addresses already validated; providers and users repeat, and a checksum costs a keccak. */
const checksummed = new Set<string>()

/**
 * Whether a 0x-hex address's letter case is acceptable: all lower, all upper, or a valid EIP-55 checksum
 * (mixed case claims a checksum, and a typo there must not pass).
 */
export function hasValidCase(address: string): boolean {
  const lower = address.toLowerCase()
  if (address === lower || checksummed.has(address) || address.slice(2) === address.slice(2).toUpperCase()) return true
  if (getAddress(lower) !== address) return false
  if (checksummed.size >= 100_000) checksummed.clear()
  checksummed.add(address)
  return true
}

/** An address in lower case; mixed case must carry a valid EIP-55 checksum. */
export function readAddress(r: Reader): Hex {
  const v = r.string(ADDRESS, 'a 20-byte 0x-prefixed hex address')
  if (!hasValidCase(v)) r.fail('an address with a valid EIP-55 checksum (or all lower case)')
  return v.toLowerCase() as Hex
}

/** A decimal string (never a JSON number, hex or exponent) within [min, max]. */
export function readUint(r: Reader, min: bigint, max: bigint, what: string): bigint {
  const v = r.value
  if (typeof v !== 'string' || !DECIMAL.test(v)) r.fail(`${what} as a decimal string such as "1500" (no number, sign, fraction, exponent or hex)`)
  const n = BigInt(v)
  if (n < min || n > max) r.fail(`${what} from ${min} to ${max}`)
  return n
}

/** Reads and validates the `message` of a receipt document. */
export function readReceiptMessage(r: Reader): UsageReceipt {
  r.object(RECEIPT_FIELDS)
  const u32 = (name: string) => Number(readUint(r.field(name), 0n, 0xffff_ffffn, 'a uint32'))
  const grossAmount = readUint(r.field('grossAmount'), 1n, MAX_RECEIPT_AMOUNT, 'a gross amount in USDC base units')
  return {
    deploymentId: readBytes32(r.field('deploymentId')),
    provider: readAddress(r.field('provider')),
    user: readAddress(r.field('user')),
    epoch: u32('epoch'),
    requestId: readBytes32(r.field('requestId')),
    timestamp: readUint(r.field('timestamp'), 0n, (1n << 64n) - 1n, 'unix seconds'),
    inputTokens: u32('inputTokens'),
    outputTokens: u32('outputTokens'),
    grossAmount,
    discountBps: Number(readUint(r.field('discountBps'), 0n, 10_000n, 'basis points')),
    chargedAmount: readUint(r.field('chargedAmount'), 0n, MAX_RECEIPT_AMOUNT, 'a charged amount in USDC base units'),
  }
}

/** charged = gross - floor(gross * discount / 10^4), else a `charged-mismatch` error. */
export function checkCharged(receipt: UsageReceipt): void {
  const expected = chargedAmount(receipt.grossAmount, BigInt(receipt.discountBps))
  if (receipt.chargedAmount !== expected)
    throw new ReceiptError(
      'charged-mismatch',
      `chargedAmount ${receipt.chargedAmount} does not match grossAmount ${receipt.grossAmount} at ${receipt.discountBps} bps (expected ${expected})`,
      'charged = gross - floor(gross * discountBps / 10000).',
    )
}

/** The message as JSON: decimal strings, checksummed addresses, lower-case hex. */
export function receiptMessageJson(r: UsageReceipt): Record<(typeof RECEIPT_FIELDS)[number], string> {
  return {
    deploymentId: r.deploymentId,
    provider: getAddress(r.provider),
    user: getAddress(r.user),
    epoch: String(r.epoch),
    requestId: r.requestId,
    timestamp: r.timestamp.toString(),
    inputTokens: String(r.inputTokens),
    outputTokens: String(r.outputTokens),
    grossAmount: r.grossAmount.toString(),
    discountBps: String(r.discountBps),
    chargedAmount: r.chargedAmount.toString(),
  }
}

export function receiptStructHash(r: UsageReceipt): Uint8Array {
  return keccak256(
    encodeStruct(
      USAGE_RECEIPT_TYPEHASH,
      [r.deploymentId, r.provider, r.user, BigInt(r.epoch), r.requestId, r.timestamp, BigInt(r.inputTokens), BigInt(r.outputTokens), r.grossAmount, BigInt(r.discountBps), r.chargedAmount],
      'receipt',
    ),
  )
}

/** The EIP-712 digest: what the provider signs, and the receipt's identity for deduplication. */
export function receiptDigest(r: UsageReceipt, separator: Uint8Array): Uint8Array {
  return typedDataDigest(separator, receiptStructHash(r))
}

