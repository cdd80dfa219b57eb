/**
 * The hot path of receipt verification: validates a well-formed receipt and
 * writes its EIP-712 struct words in one pass, with no intermediate objects.
 * It answers only "well-formed" or "not": on anything unusual it returns
 * undefined and the caller runs the precise reader, whose error names the
 * field. Both accept exactly the same documents (tested). The fields, their
 * ranges and word offsets come from the schema table (schema.ts).
 */
import { keccak_256 } from '@noble/hashes/sha3.js'
import { isCanonicalDecimal } from '../base/decimal.ts'
import { writeHex, writeUint64, type Hex } from '../base/bytes.ts'
import { keccakWasm } from '../base/keccak.ts'
import { RECEIPT_FORMAT } from './document.ts'
import { hasValidCase, type UsageReceipt } from './receipt.ts'
import { BLANK_RECEIPT, FIELD_LAYOUT, LAYOUT_BY_NAME } from './schema.ts'
import { EIP712_DOMAIN_TYPE, USAGE_RECEIPT_TYPE, USAGE_RECEIPT_TYPEHASH, type ReceiptDomain } from './types.ts'

export { STRUCT_SIZE } from './schema.ts'

/** Writes a uint of at most 8 bytes (given as a safe number or bigint) as a 32-byte word. */
export function writeWord(value: number | bigint, out: Uint8Array, o: number): void {
  for (let k = 0; k < 24; k++) out[o + k] = 0
  if (typeof value === 'number') {
    writeUint64(value, out, o + 24)
    return
  }
  let x = value
  for (let k = 31; k >= 24; k--) {
    out[o + k] = Number(x & 0xffn)
    x >>= 8n
  }
}

function uintField(v: unknown, min: number, max: number): number | undefined {
  if (typeof v !== 'string' || !isCanonicalDecimal(v, 15)) return undefined
  const n = Number(v)
  return n >= min && n <= max ? n : undefined
}

function bigField(v: unknown, min: bigint, max: bigint): bigint | undefined {
  if (typeof v !== 'string' || !isCanonicalDecimal(v, 20)) return undefined
  const n = BigInt(v)
  return n >= min && n <= max ? n : undefined
}

function addressField(v: unknown, out: Uint8Array, o: number): Hex | undefined {
  if (typeof v !== 'string' || v.length !== 42 || v.charCodeAt(1) !== 120) return undefined
  for (let k = 0; k < 12; k++) out[o + k] = 0
  if (!writeHex(v, 20, out, o + 12)) return undefined
  return hasValidCase(v) ? (v.toLowerCase() as Hex) : undefined
}

function bytes32Field(v: unknown, out: Uint8Array, o: number): Hex | undefined {
  if (typeof v !== 'string' || v.length !== 66 || v.charCodeAt(1) !== 120 || !writeHex(v, 32, out, o)) return undefined
  return v.toLowerCase() as Hex
}

const FIELD_COUNT = FIELD_LAYOUT.length

/**
 * Decodes a receipt message and writes its struct words into `words` (STRUCT_SIZE bytes). One pass over the
 * message's keys (any order; `for...in` reads values through V8's enum cache), each field validated as its
 * precomputed layout says; every field must appear, and no other key.
 */
export function decodeReceiptFast(message: unknown, words: Uint8Array): UsageReceipt | undefined {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined
  const m = message as Record<string, unknown>
  words.set(USAGE_RECEIPT_TYPEHASH, 0)
  const out = { ...BLANK_RECEIPT }
  let count = 0
  for (const key in m) {
    // Keys in table order find their layout by position; others by name.
    const next = FIELD_LAYOUT[count]
    const f = next !== undefined && next.name === key ? next : LAYOUT_BY_NAME[key]
    if (f === undefined) return undefined
    const v = m[key]
    switch (f.kind) {
      case 'bytes32': {
        const h = bytes32Field(v, words, f.offset)
        if (h === undefined) return undefined
        out[f.name] = h
        break
      }
      case 'address': {
        const h = addressField(v, words, f.offset)
        if (h === undefined) return undefined
        out[f.name] = h
        break
      }
      case 'number': {
        const n = uintField(v, f.minNumber, f.maxNumber)
        if (n === undefined) return undefined
        writeWord(n, words, f.offset)
        out[f.name] = n
        break
      }
      case 'bigint': {
        const n = bigField(v, f.min, f.max)
        if (n === undefined) return undefined
        writeWord(n, words, f.offset)
        out[f.name] = n
        break
      }
    }
    count++
  }
  // Object keys are unique: FIELD_COUNT known keys are every field once.
  return count === FIELD_COUNT ? (out as UsageReceipt) : undefined
}

const digestInput = new Uint8Array(66)

/** keccak256(0x1901 || separator || keccak256(words)) into `out` at `offset`. */
export function digestOfWords(words: Uint8Array, separator: Uint8Array, out: Uint8Array, offset: number): void {
  digestInput[0] = 0x19
  digestInput[1] = 0x01
  digestInput.set(separator, 2)
  const engine = keccakWasm
  if (!engine) {
    digestInput.set(keccak_256(words), 34)
    out.set(keccak_256(digestInput), offset)
    return
  }
  const { buffer, calculate } = engine
  buffer.set(words)
  calculate(words.length)
  for (let k = 0; k < 32; k++) digestInput[34 + k] = buffer[k] as number
  buffer.set(digestInput)
  calculate(66)
  for (let k = 0; k < 32; k++) out[offset + k] = buffer[k] as number
}

function sameFields(value: unknown, expected: ReadonlyArray<{ name: string; type: string }>): boolean {
  if (!Array.isArray(value) || value.length !== expected.length) return false
  for (let i = 0; i < expected.length; i++) {
    const f = value[i] as { name?: unknown; type?: unknown } | null
    if (typeof f !== 'object' || f === null || f.name !== expected[i]!.name || f.type !== expected[i]!.type || Object.keys(f).length !== 2) return false
  }
  return true
}

/** Whether a receipt document's envelope (format, types, domain) is exactly the expected one. */
export function envelopeMatches(doc: Record<string, unknown>, domain: ReceiptDomain, contractForms: readonly string[]): boolean {
  if (doc.format !== RECEIPT_FORMAT || doc.primaryType !== 'UsageReceipt' || Object.keys(doc).length !== 6) return false
  const types = doc.types as Record<string, unknown> | undefined
  if (typeof types !== 'object' || types === null || Object.keys(types).length !== 2) return false
  if (!sameFields(types.EIP712Domain, EIP712_DOMAIN_TYPE) || !sameFields(types.UsageReceipt, USAGE_RECEIPT_TYPE)) return false
  const d = doc.domain as Record<string, unknown> | undefined
  return (
    typeof d === 'object' && d !== null && Object.keys(d).length === 4 &&
    d.name === domain.name && d.version === domain.version && d.chainId === domain.chainId &&
    contractForms.includes(d.verifyingContract as string)
  )
}
