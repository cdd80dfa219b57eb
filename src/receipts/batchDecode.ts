/**
 * Provider-signed batches on the wire: the formats, the document types, and decoding a batch document (header,
 * per-receipt columns) or a batched receipt into values, with `schema` errors naming the bad field. The
 * columns are the receipt schema's `batch: 'column'` fields (schema.ts).
 */
import { SchemaError } from '../base/errors.ts'
import { isCanonicalDecimal } from '../base/decimal.ts'
import { Reader } from '../base/reader.ts'
import type { Hex } from '../base/bytes.ts'
import { checkDomain, readDomain, readTypes } from './document.ts'
import { readAddress, readBytes32, readReceiptMessage, readUint, ReceiptError, RECEIPT_FIELDS, type UsageReceipt } from './receipt.ts'
import { BATCH_COLUMN_FIELDS, BATCH_COLUMN_LAYOUT, type BatchColumnName, type FieldSpec } from './schema.ts'
import { BATCH_TYPES, RECEIPT_TYPES, USAGE_BATCH_TYPE, USAGE_RECEIPT_TYPE, type ReceiptDomain } from './types.ts'

/**
 * Provider-signed batches: one signature over a header that commits to the
 * receipts' EIP-712 digests through an OpenZeppelin Merkle tree
 * whose leaves are the digests. A whole batch is verified by rebuilding the root;
 * one receipt with its inclusion proof stays verifiable on its own.
 */
export const RECEIPT_BATCH_FORMAT = 'fomo-receipt-batch-v1'
export const BATCHED_RECEIPT_FORMAT = 'fomo-batched-receipt-v1'
export const MAX_BATCH_RECEIPTS = 100_000

export type BatchHeader = { provider: Hex; deploymentId: Hex; epoch: number; count: number; receiptsRoot: Hex }

type BatchColumnField = (typeof BATCH_COLUMN_FIELDS)[number]
type JsonColumn<F extends FieldSpec> = F['column']['array'] extends 'bytes' ? Hex : string[]

/**
 * The receipts of a batch travel as columns: deployment, provider and epoch are
 * the header's, so they appear once; addresses and request ids are concatenated
 * hex; integers are arrays of decimal strings. Decoding is a few native hex
 * decodes per batch instead of an object per receipt. One column per
 * `batch: 'column'` field of the receipt schema, in its order.
 */
export type BatchColumns = { [F in BatchColumnField as F['name']]: JsonColumn<F> }

export type ReceiptBatchDocument = {
  format: typeof RECEIPT_BATCH_FORMAT
  domain: ReceiptDomain
  types: typeof BATCH_TYPES
  primaryType: 'UsageBatch'
  message: Record<keyof BatchHeader, string>
  signature: Hex
  receipts: BatchColumns
}

export type BatchedReceiptDocument = {
  format: typeof BATCHED_RECEIPT_FORMAT
  domain: ReceiptDomain
  types: typeof RECEIPT_TYPES
  primaryType: 'UsageReceipt'
  message: Record<(typeof RECEIPT_FIELDS)[number], string>
  batch: { message: Record<keyof BatchHeader, string>; signature: Hex; proof: Hex[] }
}

/**
 * A batch's columns decoded: byte columns as the concatenated bytes, integer columns as Float64Array (values
 * within the safe range) or BigUint64Array (wider ones).
 */
export type DecodedColumns = Record<BatchColumnName, Uint8Array | Float64Array | BigUint64Array>

const BATCH_COLUMN_NAMES: readonly string[] = BATCH_COLUMN_LAYOUT.map((f) => f.name)

/** Shape errors of a batch document become `schema` rejections. */
export function batchSchema<T>(read: () => T): T {
  try {
    return read()
  } catch (error) {
    if (error instanceof SchemaError) throw new ReceiptError('schema', error.shortMessage, 'See docs/receipts.md for the batch format.')
    throw error
  }
}

export function readHeader(r: Reader): BatchHeader {
  r.object(['provider', 'deploymentId', 'epoch', 'count', 'receiptsRoot'])
  return {
    provider: readAddress(r.field('provider')),
    deploymentId: readBytes32(r.field('deploymentId')),
    epoch: Number(readUint(r.field('epoch'), 0n, 0xffff_ffffn, 'a uint32')),
    count: Number(readUint(r.field('count'), 1n, BigInt(MAX_BATCH_RECEIPTS), 'a receipt count')),
    receiptsRoot: readBytes32(r.field('receiptsRoot')),
  }
}

/** Reads one integer column: `count` decimal strings within [min, max] (exact: short values go through Number). */
export function integerColumn(r: Reader, count: number, min: bigint, max: bigint, what: string): Float64Array | BigUint64Array {
  const items = r.value
  if (!Array.isArray(items) || items.length !== count) r.fail(`an array of ${count} decimal strings (one per receipt)`)
  const big = max > BigInt(Number.MAX_SAFE_INTEGER)
  const out = big ? new BigUint64Array(count) : new Float64Array(count)
  const lo = Number(min)
  const hi = big ? Number.MAX_SAFE_INTEGER : Number(max)
  for (let i = 0; i < count; i++) {
    const v = items[i]
    if (typeof v !== 'string' || !isCanonicalDecimal(v, 20)) new Reader(r.format, v, `${r.path}[${i}]`).fail(`${what} as a decimal string`)
    if (v.length <= 15) {
      const n = Number(v)
      if (n < lo || n > hi) new Reader(r.format, v, `${r.path}[${i}]`).fail(`${what} from ${min} to ${max}`)
      out[i] = (big ? BigInt(n) : n) as never
    } else {
      const n = BigInt(v)
      if (!big || n > max) new Reader(r.format, v, `${r.path}[${i}]`).fail(`${what} from ${min} to ${max}`)
      out[i] = n as never
    }
  }
  return out
}

/** Reads a column of `count` concatenated `width`-byte values in 0x-hex. */
export function hexColumn(r: Reader, count: number, width: number, what: string): Buffer {
  const v = r.value
  if (typeof v !== 'string' || v.length !== 2 + 2 * width * count || !v.startsWith('0x')) r.fail(`0x-hex of ${count} ${what} of ${width} bytes each, concatenated`)
  const bytes = Buffer.from(v.slice(2), 'hex')
  if (bytes.length !== width * count) r.fail(`${what}: only hex digits`)
  return bytes
}

/** Decodes a batch document under the expected domain: its header, signature (unchecked) and columns. */
export function readBatchDocument(document: unknown, domain: ReceiptDomain): { header: BatchHeader; signature: unknown; columns: DecodedColumns } {
  return batchSchema(() => {
    const r = new Reader(RECEIPT_BATCH_FORMAT, document)
    r.object(['format', 'domain', 'types', 'primaryType', 'message', 'signature', 'receipts'])
    r.field('format').literal([RECEIPT_BATCH_FORMAT])
    r.field('primaryType').literal(['UsageBatch'])
    readTypes(r.field('types'), 'UsageBatch', USAGE_BATCH_TYPE)
    checkDomain(readDomain(r.field('domain')), domain)
    const header = readHeader(r.field('message'))
    const signature = r.field('signature').value
    const c = r.field('receipts')
    c.object(BATCH_COLUMN_NAMES)
    const n = header.count
    const columns = {} as Record<string, Uint8Array | Float64Array | BigUint64Array>
    for (const f of BATCH_COLUMN_LAYOUT)
      columns[f.name] = f.width > 0 ? hexColumn(c.field(f.name), n, f.width, f.what) : integerColumn(c.field(f.name), n, f.min, f.max, f.what)
    return { header, signature, columns: columns as DecodedColumns }
  })
}

/** Decodes a batched receipt document under the expected domain: the receipt, its batch header, signature and proof. */
export function readBatchedReceiptDocument(document: unknown, domain: ReceiptDomain): { receipt: UsageReceipt; header: BatchHeader; signature: unknown; proof: Hex[] } {
  return batchSchema(() => {
    const r = new Reader(BATCHED_RECEIPT_FORMAT, document)
    r.object(['format', 'domain', 'types', 'primaryType', 'message', 'batch'])
    r.field('format').literal([BATCHED_RECEIPT_FORMAT])
    r.field('primaryType').literal(['UsageReceipt'])
    readTypes(r.field('types'), 'UsageReceipt', USAGE_RECEIPT_TYPE)
    checkDomain(readDomain(r.field('domain')), domain)
    const b = r.field('batch')
    b.object(['message', 'signature', 'proof'])
    const proof = b.field('proof').array({ max: 64 }).map((p) => readBytes32(p))
    return { receipt: readReceiptMessage(r.field('message')), header: readHeader(b.field('message')), signature: b.field('signature').value, proof }
  })
}
