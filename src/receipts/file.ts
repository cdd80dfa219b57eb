/** Reading an epoch's receipts file (NDJSON of signed receipts and batches), verifying every line. */
import { BaseError, describe } from '../base/errors.ts'
import { parseJsonDocument } from '../base/json.ts'
import type { Hex } from '../base/bytes.ts'
import { RECEIPT_BATCH_FORMAT } from './batchDecode.ts'
import { verifyBatch } from './batchVerify.ts'
import type { UsageReceipt } from './receipt.ts'
import type { ReceiptVerifier } from './verify.ts'

/**
 * An epoch's receipts as `fomo export-receipts` writes them (NDJSON: signed per-call receipts and whole batch
 * documents), each verified: signature, provider allowed for its deployment, charged amount, batch root.
 */
export type VerifiedFileReceipt = { line: number; receipt: UsageReceipt; digest: Hex }

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
      if ((document as { format?: unknown }).format === RECEIPT_BATCH_FORMAT) {
        const columns = verifyBatch(verifier, document)
        for (let k = 0; k < columns.length; k++) add(i + 1, columns.receipt(k), columns.digestHex(k))
      } else {
        const { receipt, digest } = verifier.verify(document)
        add(i + 1, receipt, digest)
      }
    } catch (error) {
      const e = error as BaseError
      throw new ReceiptFileError(i + 1, requestId, e.shortMessage ?? describe(e))
    }
  }
  return { receipts, duplicates }
}
