/**
 * Signed receipt documents (format fomo-receipt-v1): eth_signTypedData_v4 JSON plus the signature; reading
 * the envelope, its domain and its types, and checking the domain is the one accepted.
 */
import { Reader } from '../base/reader.ts'
import type { Hex } from '../base/bytes.ts'
import { readAddress, readReceiptMessage, ReceiptError, type UsageReceipt } from './receipt.ts'
import { EIP712_DOMAIN_TYPE, type ReceiptDomain } from './types.ts'

/** A signed receipt on disk or the wire: eth_signTypedData_v4 JSON plus the signature. */
export const RECEIPT_FORMAT = 'fomo-receipt-v1'

export type SignedReceiptDocument = {
  format: typeof RECEIPT_FORMAT
  domain: ReceiptDomain
  types: { EIP712Domain: ReadonlyArray<{ name: string; type: string }>; UsageReceipt: ReadonlyArray<{ name: string; type: string }> }
  primaryType: 'UsageReceipt'
  message: Record<string, string>
  signature: Hex
}

export function readDomain(r: Reader): ReceiptDomain {
  r.object(['name', 'version', 'chainId', 'verifyingContract'])
  return {
    name: r.field('name').string(),
    version: r.field('version').string(),
    chainId: Number(r.field('chainId').integer(1)),
    verifyingContract: readAddress(r.field('verifyingContract')),
  }
}

/** `types` must be exactly the published types (same fields, same order). */
export function readTypes(r: Reader, primaryType: string, fields: ReadonlyArray<{ name: string; type: string }>): void {
  r.object(['EIP712Domain', primaryType])
  const expect = (key: string, expected: ReadonlyArray<{ name: string; type: string }>) => {
    const items = r.field(key).array()
    const same =
      items.length === expected.length &&
      items.every((item, i) => {
        const v = item.value as { name?: unknown; type?: unknown }
        return typeof v === 'object' && v !== null && Object.keys(v).length === 2 && v.name === expected[i]?.name && v.type === expected[i]?.type
      })
    if (!same) r.field(key).fail(`the published ${key} type (${expected.map((f) => `${f.type} ${f.name}`).join(', ')})`)
  }
  expect('EIP712Domain', EIP712_DOMAIN_TYPE)
  expect(primaryType, fields)
}

/** Fails with a `domain` rejection naming the first field that differs from the expected domain. */
export function checkDomain(found: ReceiptDomain, expected: ReceiptDomain): void {
  for (const key of ['name', 'version', 'chainId', 'verifyingContract'] as const) {
    const a = String(found[key]).toLowerCase()
    const b = String(expected[key]).toLowerCase()
    if (a !== b)
      throw new ReceiptError('domain', `domain.${key} is ${found[key]}, expected ${expected[key]}`, 'The receipt was signed for another chain, contract or version of the receipt format.')
  }
}

export type ParsedSignedReceipt = { receipt: UsageReceipt; domain: ReceiptDomain; signature: unknown }

/** Reads a signed receipt document; shape errors become `schema` rejections. */
export function readSignedReceipt(document: unknown, types: ReadonlyArray<{ name: string; type: string }>): ParsedSignedReceipt {
  const r = new Reader(RECEIPT_FORMAT, document)
  r.object(['format', 'domain', 'types', 'primaryType', 'message', 'signature'])
  r.field('format').literal([RECEIPT_FORMAT])
  r.field('primaryType').literal(['UsageReceipt'])
  readTypes(r.field('types'), 'UsageReceipt', types)
  return { domain: readDomain(r.field('domain')), receipt: readReceiptMessage(r.field('message')), signature: r.field('signature').value }
}
