/**
 * A usage receipt's message: the precise reader (every failure names the field), the JSON writer, the struct
 * hash and digest, the charged-amount rule, and ReceiptError. Fields come from the schema table (schema.ts).
 */
import { getAddress } from 'viem'
import { BaseError } from '../base/errors.ts'
import { chargedAmount } from '../economics/revenue.ts'
import { Reader } from '../base/reader.ts'
import type { Hex } from '../base/bytes.ts'
import { keccak256 } from '../base/keccak.ts'
import { FIELD_LAYOUT, RECEIPT_FIELDS, type FieldLayout, type UsageReceipt } from './schema.ts'
import { encodeStruct, typedDataDigest, USAGE_RECEIPT_TYPEHASH } from './types.ts'

export { MAX_RECEIPT_AMOUNT, RECEIPT_FIELDS, type UsageReceipt } from './schema.ts'

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

/** One field of a message, validated as its schema row says. */
export function readField(r: Reader, f: FieldLayout): Hex | number | bigint {
  switch (f.kind) {
    case 'bytes32':
      return readBytes32(r)
    case 'address':
      return readAddress(r)
    case 'number':
      return Number(readUint(r, f.min, f.max, f.what))
    case 'bigint':
      return readUint(r, f.min, f.max, f.what)
  }
}

/**
 * The order the precise reader validates fields in: the table's, except grossAmount first, as this reader has
 * always done (a message with several bad fields names grossAmount first).
 */
const READ_ORDER = [...FIELD_LAYOUT.filter((f) => f.name === 'grossAmount'), ...FIELD_LAYOUT.filter((f) => f.name !== 'grossAmount')]

/** Reads and validates the `message` of a receipt document. */
export function readReceiptMessage(r: Reader): UsageReceipt {
  r.object(RECEIPT_FIELDS)
  const values: Array<Hex | number | bigint> = new Array(FIELD_LAYOUT.length)
  for (const f of READ_ORDER) values[f.index] = readField(r.field(f.name), f)
  const receipt: Record<string, Hex | number | bigint> = {}
  for (const f of FIELD_LAYOUT) receipt[f.name] = values[f.index] as Hex | number | bigint
  return receipt as UsageReceipt
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
  const out: Record<string, string> = {}
  for (const f of FIELD_LAYOUT) {
    const v = r[f.name]
    out[f.name] = f.kind === 'address' ? getAddress(v as Hex) : String(v)
  }
  return out as Record<(typeof RECEIPT_FIELDS)[number], string>
}

export function receiptStructHash(r: UsageReceipt): Uint8Array {
  const values: unknown[] = new Array(FIELD_LAYOUT.length)
  for (const f of FIELD_LAYOUT) values[f.index] = f.kind === 'number' ? BigInt(r[f.name]) : r[f.name]
  return keccak256(encodeStruct(USAGE_RECEIPT_TYPEHASH, values, 'receipt'))
}

/** The EIP-712 digest: what the provider signs, and the receipt's identity for deduplication. */
export function receiptDigest(r: UsageReceipt, separator: Uint8Array): Uint8Array {
  return typedDataDigest(separator, receiptStructHash(r))
}

