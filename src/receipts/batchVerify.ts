/**
 * Verifying provider batches: a whole batch (header signature once, then every receipt's digest and the root,
 * all or nothing), one batched receipt with its inclusion proof, and cutting such a receipt out of a batch.
 * The struct words each receipt is hashed from are laid out by the receipt schema (schema.ts).
 */
import { chargedAmountSmall } from '../economics/revenue.ts'
import { hexToBytes, toHex, type Hex } from '../base/bytes.ts'
import { getProof, processProof } from '../merkle/core.ts'
import { checkCharged, receiptDigest, receiptMessageJson, ReceiptError, type UsageReceipt } from './receipt.ts'
import { ReceiptColumns } from './columns.ts'
import { digestOfWords, writeWord } from './fastpath.ts'
import type { ReceiptVerifier, VerifiedReceipt } from './verify.ts'
import { BATCH_COLUMN_LAYOUT, HEADER_LAYOUT, STRUCT_SIZE } from './schema.ts'
import { receiptsRoot, receiptsTree } from './batchTree.ts'
import { batchHeaderDigest } from './batchSign.ts'
import {
  BATCHED_RECEIPT_FORMAT,
  readBatchDocument,
  readBatchedReceiptDocument,
  type BatchedReceiptDocument,
  type BatchHeader,
  type ReceiptBatchDocument,
} from './batchDecode.ts'
import { RECEIPT_TYPES, USAGE_BATCH_TYPE, USAGE_RECEIPT_TYPEHASH } from './types.ts'

/** The header fields in the UsageBatch type's order: the order a receipt's mismatch with its header is reported in. */
const HEADER_CHECK_ORDER = USAGE_BATCH_TYPE.flatMap((b) => HEADER_LAYOUT.filter((f) => f.name === b.name).map((f) => f.name))
/** Batch columns copied as bytes into the struct words, and integer columns written as words. */
const BYTE_COLUMNS = BATCH_COLUMN_LAYOUT.filter((f) => f.width > 0)
const INTEGER_COLUMNS = BATCH_COLUMN_LAYOUT.filter((f) => f.width === 0)

function checkInBatch(receipt: UsageReceipt, header: BatchHeader): void {
  for (const key of HEADER_CHECK_ORDER)
    if (receipt[key] !== header[key]) throw new ReceiptError('batch-mismatch', `receipt.${key} is ${receipt[key]}, but the batch header says ${header[key]}`)
}

/** Fills `out` with copies of `unit` by doubling the filled prefix (log n copies). */
function fillRepeated(out: Uint8Array, unit: Uint8Array): void {
  if (out.length === 0) return
  out.set(unit, 0)
  for (let filled = unit.length; filled < out.length; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, out.length - filled))
}

/**
 * Verifies a whole batch: header signature, provider allowed, every receipt
 * well formed with a consistent charged amount, the count, and the root of the
 * receipts' digests. All or nothing: any failure rejects the batch, naming the
 * receipt. Returns the receipts as columns.
 */
export function verifyBatch(verifier: ReceiptVerifier, document: unknown): ReceiptColumns {
  const { header, signature, columns } = readBatchDocument(document, verifier.domain)
  verifier.signatures.check(signature, batchHeaderDigest(header, verifier.separator), header.provider)
  verifier.checkAllowed({ provider: header.provider, deploymentId: header.deploymentId } as UsageReceipt)
  const n = header.count
  const out = new ReceiptColumns(n)
  // The struct words shared by every receipt of the batch: type hash and the header's fields.
  const words = new Uint8Array(STRUCT_SIZE)
  words.set(USAGE_RECEIPT_TYPEHASH, 0)
  for (const f of HEADER_LAYOUT) {
    const v = header[f.name]
    if (f.width > 0) words.set(hexToBytes(v as Hex, f.width), f.at)
    else writeWord(v as number, words, f.offset)
  }
  // Each column with where it goes in the words, once per batch.
  const bytes = BYTE_COLUMNS.map((f) => ({ data: columns[f.name] as Uint8Array, width: f.width, at: f.at }))
  const integers = INTEGER_COLUMNS.map((f) => ({ data: columns[f.name] as Float64Array | BigUint64Array, offset: f.offset }))
  const grossAmount = columns.grossAmount as Float64Array
  const discountBps = columns.discountBps as Float64Array
  const chargedAmount = columns.chargedAmount as Float64Array
  for (let i = 0; i < n; i++) {
    const gross = grossAmount[i] as number
    const discount = discountBps[i] as number
    const charged = chargedAmount[i] as number
    const expected = chargedAmountSmall(gross, discount)
    if (charged !== expected)
      throw new ReceiptError('charged-mismatch', `receipts[${i}]: chargedAmount ${charged} does not match grossAmount ${gross} at ${discount} bps (expected ${expected})`)
    for (let c = 0; c < bytes.length; c++) {
      const column = bytes[c]!
      const data = column.data
      const width = column.width
      const at = column.at
      const base = width * i
      for (let k = 0; k < width; k++) words[at + k] = data[base + k] as number
    }
    for (let c = 0; c < integers.length; c++) {
      const column = integers[c]!
      writeWord(column.data[i] as number | bigint, words, column.offset)
    }
    digestOfWords(words, verifier.separator, out.digest, 32 * i)
  }
  // The header's fields, the same in every row: written once, then doubled.
  out.valid.fill(1)
  for (const f of HEADER_LAYOUT) {
    const column = out[f.name]
    const v = header[f.name]
    if (f.width > 0) fillRepeated(column as Uint8Array, words.subarray(f.at, f.offset + 32))
    else if (f.kind === 'bigint') (column as unknown as BigUint64Array).fill(BigInt(v))
    else (column as Uint32Array).fill(v as number)
  }
  for (const f of BATCH_COLUMN_LAYOUT) {
    const target = out[f.name]
    const source = columns[f.name]
    if (target instanceof BigUint64Array && !(source instanceof BigUint64Array)) for (let i = 0; i < n; i++) target[i] = BigInt(source[i] as number)
    else (target as Uint8Array).set(source as Uint8Array)
  }
  const root = toHex(receiptsRoot(out.digest))
  if (root !== header.receiptsRoot)
    throw new ReceiptError('batch-root', `the receipts hash to root ${root}, the signed header says ${header.receiptsRoot}`, 'A receipt was altered, added or removed after signing.')
  return out
}

/** One receipt of a batch with its inclusion proof, verifiable on its own. */
export function batchedReceipt(batch: ReceiptBatchDocument, index: number, verifier: ReceiptVerifier): BatchedReceiptDocument {
  const columns = verifyBatch(verifier, batch)
  if (!Number.isInteger(index) || index < 0 || index >= columns.length) throw new ReceiptError('batch-mismatch', `the batch has no receipt ${index}`)
  const { nodes, treeIndexOf } = receiptsTree(columns.digest)
  return {
    format: BATCHED_RECEIPT_FORMAT,
    domain: batch.domain,
    types: RECEIPT_TYPES,
    primaryType: 'UsageReceipt',
    message: receiptMessageJson(columns.receipt(index)),
    batch: { message: batch.message, signature: batch.signature, proof: getProof(nodes, treeIndexOf(index)).map((p) => toHex(p)) },
  }
}

/** Verifies one batched receipt: the header's signature and the receipt's inclusion under its root. */
export function verifyBatchedReceipt(verifier: ReceiptVerifier, document: unknown): VerifiedReceipt {
  const { receipt, header, signature, proof } = readBatchedReceiptDocument(document, verifier.domain)
  verifier.signatures.check(signature, batchHeaderDigest(header, verifier.separator), header.provider)
  verifier.checkAllowed(receipt)
  checkInBatch(receipt, header)
  checkCharged(receipt)
  const digest = receiptDigest(receipt, verifier.separator)
  if (toHex(processProof(digest, proof.map((p) => hexToBytes(p, 32)))) !== header.receiptsRoot)
    throw new ReceiptError('batch-root', `the proof does not place receipt ${toHex(digest)} under the batch root ${header.receiptsRoot}`)
  return { receipt, digest: toHex(digest) }
}
