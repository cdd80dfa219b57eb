/**
 * The EIP-712 types of fomo-kit receipts (docs/receipts.md): domain, UsageReceipt (derived from the receipt
 * schema table, schema.ts) and UsageBatch, their type strings and hashes, the domain separator and the
 * typed-data digest. Every field is a static ABI type, so a struct hash is keccak256 of a fixed
 * 32-byte-per-field buffer that is written directly, without a general typed-data encoder.
 */
import { keccak256 } from '../base/keccak.ts'
import type { Hex } from '../base/bytes.ts'
import { leafEncoding } from '../merkle/encoding.ts'
import { RECEIPT_EIP712_FIELDS } from './schema.ts'

export const RECEIPT_DOMAIN_NAME = 'FOMO Usage Receipts'
export const RECEIPT_DOMAIN_VERSION = '1'

export type ReceiptDomain = {
  name: string
  version: string
  chainId: number
  verifyingContract: Hex
}

export const EIP712_DOMAIN_TYPE = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
] as const

/** The UsageReceipt type: one { name, type } per row of the receipt schema table. */
export const USAGE_RECEIPT_TYPE = RECEIPT_EIP712_FIELDS

export const USAGE_BATCH_TYPE = [
  { name: 'provider', type: 'address' },
  { name: 'deploymentId', type: 'bytes32' },
  { name: 'epoch', type: 'uint32' },
  { name: 'count', type: 'uint32' },
  { name: 'receiptsRoot', type: 'bytes32' },
] as const

type Field = { readonly name: string; readonly type: string }

export function typeString(name: string, fields: readonly Field[]): string {
  return `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(',')})`
}

export const USAGE_RECEIPT_TYPE_STRING = typeString('UsageReceipt', USAGE_RECEIPT_TYPE)
export const USAGE_BATCH_TYPE_STRING = typeString('UsageBatch', USAGE_BATCH_TYPE)
export const USAGE_RECEIPT_TYPEHASH = keccak256(new TextEncoder().encode(USAGE_RECEIPT_TYPE_STRING))
export const USAGE_BATCH_TYPEHASH = keccak256(new TextEncoder().encode(USAGE_BATCH_TYPE_STRING))

/** The `types` member of a signed receipt document, exactly. */
export const RECEIPT_TYPES = { EIP712Domain: EIP712_DOMAIN_TYPE, UsageReceipt: USAGE_RECEIPT_TYPE } as const
export const BATCH_TYPES = { EIP712Domain: EIP712_DOMAIN_TYPE, UsageBatch: USAGE_BATCH_TYPE } as const

const receiptWords = leafEncoding(USAGE_RECEIPT_TYPE.map((f) => f.type))
const batchWords = leafEncoding(USAGE_BATCH_TYPE.map((f) => f.type))

/** ABI words of a struct's fields after its type hash, written into `out`. */
export function encodeStruct(typehash: Uint8Array, fields: readonly unknown[], kind: 'receipt' | 'batch'): Uint8Array {
  const words = kind === 'receipt' ? receiptWords : batchWords
  const out = new Uint8Array(32 + (words.stride as number))
  out.set(typehash, 0)
  words.encodeInto(fields, out, 32)
  return out
}

const utf8 = new TextEncoder()

/** EIP-712 domain separator of a (name, version, chainId, verifyingContract) domain. */
export function domainSeparator(domain: ReceiptDomain): Uint8Array {
  const typehash = keccak256(utf8.encode(typeString('EIP712Domain', EIP712_DOMAIN_TYPE)))
  const out = new Uint8Array(160)
  out.set(typehash, 0)
  out.set(keccak256(utf8.encode(domain.name)), 32)
  out.set(keccak256(utf8.encode(domain.version)), 64)
  leafEncoding(['uint256', 'address']).encodeInto([BigInt(domain.chainId), domain.verifyingContract], out, 96)
  return keccak256(out)
}

/** keccak256(0x1901 || domainSeparator || structHash). */
export function typedDataDigest(separator: Uint8Array, structHash: Uint8Array): Uint8Array {
  const out = new Uint8Array(66)
  out[0] = 0x19
  out[1] = 0x01
  out.set(separator, 2)
  out.set(structHash, 34)
  return keccak256(out)
}

