/** Reading an epoch's receipts file (NDJSON of signed receipts, batches and batch parts), verifying every line. */
import { BaseError, describe } from '../base/errors.ts'
import { parseJsonDocument } from '../base/json.ts'
import { Reader } from '../base/reader.ts'
import type { Hex } from '../base/bytes.ts'
import { MAX_BATCH_RECEIPTS, readBatchDocument, RECEIPT_BATCH_FORMAT } from './batchDecode.ts'
import { readDomain, readSignedReceipt, RECEIPT_FORMAT } from './document.ts'
import { USAGE_RECEIPT_TYPE } from './types.ts'
import { verifyBatch } from './batchVerify.ts'
import type { UsageReceipt } from './receipt.ts'
import type { ReceiptVerifier } from './verify.ts'

/**
 * An epoch's receipts as `fomo export-receipts` writes them (NDJSON: signed per-call receipts and whole batch
 * documents), each verified: signature, provider allowed for its deployment, charged amount, batch root.
 */
export type VerifiedFileReceipt = { line: number; receipt: UsageReceipt; digest: Hex }

/**
 * Part of a signed batch: the batch document whole (its signature covers every receipt) and the indices of the
 * receipts that count, the ones an aggregator stored (it rejected the others: another epoch's rules, a reused
 * request id, ...). `fomo export-receipts` writes one for a batch it did not store whole.
 */
export const RECEIPT_BATCH_PART_FORMAT = 'fomo-receipt-batch-part-v1'

/** A batch part's indices (distinct, ascending) and its batch document. */
export function readBatchPart(document: unknown): { receipts: number[]; batch: unknown } {
  const r = new Reader(RECEIPT_BATCH_PART_FORMAT, document)
  r.object(['format', 'receipts', 'batch'])
  r.field('format').literal([RECEIPT_BATCH_PART_FORMAT])
  const receipts = r
    .field('receipts')
    .array({ min: 1, max: MAX_BATCH_RECEIPTS })
    .map((item, k, all) => {
      const i = Number(item.integer(0, MAX_BATCH_RECEIPTS - 1))
      if (k > 0 && i <= Number(all[k - 1]!.value)) item.fail('indices in ascending order, each once')
      return i
    })
  return { receipts, batch: r.field('batch').value }
}

export class ReceiptFileError extends BaseError {
  override name = 'ReceiptFileError'
  constructor(
    readonly line: number,
    readonly requestId: string | undefined,
    message: string,
  ) {
    super('RECEIPT_FILE', `receipt on line ${line}${requestId ? ` (requestId ${requestId})` : ''}: ${message}`)
  }
}

/** One item of a receipts file, ready to send: a signed receipt, or a batch (a batch part is sent as its batch). */
export type ReceiptFileItem = { line: number; kind: 'receipt' | 'batch'; text: string }

/**
 * Reads one item of a receipts file and checks its shape (not its signatures: the aggregator verifies them), so
 * that a bad line is named before anything is sent. Throws a ReceiptFileError naming the line.
 */
export function receiptFileItem(text: string, line: number): ReceiptFileItem {
  let document: unknown
  try {
    document = parseJsonDocument(text, `line ${line}`)
  } catch (error) {
    throw new ReceiptFileError(line, undefined, `not JSON: ${(error as BaseError).shortMessage ?? describe(error)}`)
  }
  const format = (document as { format?: unknown } | null)?.format
  try {
    if (format === RECEIPT_FORMAT) {
      readSignedReceipt(document, USAGE_RECEIPT_TYPE)
      return { line, kind: 'receipt', text }
    }
    const part = format === RECEIPT_BATCH_PART_FORMAT ? readBatchPart(document) : undefined
    const batch = part ? part.batch : document
    if (part || format === RECEIPT_BATCH_FORMAT) {
      readBatchDocument(batch, readDomain(new Reader(RECEIPT_BATCH_FORMAT, batch).field('domain')))
      return { line, kind: 'batch', text: part ? JSON.stringify(batch) : text }
    }
  } catch (error) {
    throw new ReceiptFileError(line, undefined, (error as BaseError).shortMessage ?? describe(error))
  }
  throw new ReceiptFileError(line, undefined, `format ${describe(format)} is none of ${RECEIPT_FORMAT}, ${RECEIPT_BATCH_FORMAT}, ${RECEIPT_BATCH_PART_FORMAT}`)
}

/** Verifies every receipt of the text; throws a ReceiptFileError naming the first bad one. Repeats count once. */
export function readReceiptsText(text: string, verifier: ReceiptVerifier): { receipts: VerifiedFileReceipt[]; duplicates: number } {
  const receipts: VerifiedFileReceipt[] = []
  const seen = new Set<string>()
  let duplicates = 0
  const add = (line: number, receipt: UsageReceipt, digest: Hex) => {
    if (seen.has(digest)) duplicates++
    else {
      seen.add(digest)
      receipts.push({ line, receipt, digest })
    }
  }
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    let document: unknown
    try {
      document = parseJsonDocument(line, `line ${i + 1}`)
    } catch (error) {
      throw new ReceiptFileError(i + 1, undefined, `not JSON: ${(error as Error).message.split('\n')[0]}`)
    }
    const message = (document as { message?: { requestId?: unknown } } | null)?.message
    const requestId = typeof message?.requestId === 'string' ? message.requestId : undefined
    try {
      const format = (document as { format?: unknown }).format
      if (format === RECEIPT_BATCH_FORMAT) {
        const columns = verifyBatch(verifier, document)
        for (let k = 0; k < columns.length; k++) add(i + 1, columns.receipt(k), columns.digestHex(k))
      } else if (format === RECEIPT_BATCH_PART_FORMAT) {
        const part = readBatchPart(document)
        const columns = verifyBatch(verifier, part.batch)
        for (const k of part.receipts) {
          if (k >= columns.length) throw new ReceiptFileError(i + 1, undefined, `the batch part names receipt ${k}, but the batch holds ${columns.length}`)
          add(i + 1, columns.receipt(k), columns.digestHex(k))
        }
      } else {
        const { receipt, digest } = verifier.verify(document)
        add(i + 1, receipt, digest)
      }
    } catch (error) {
      if (error instanceof ReceiptFileError) throw error
      const e = error as BaseError
      throw new ReceiptFileError(i + 1, requestId, e.shortMessage ?? describe(e))
    }
  }
  return { receipts, duplicates }
}
