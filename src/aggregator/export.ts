/**
 * An epoch's stored receipts as NDJSON lines for an auditor (`fomo audit --receipts`, `fomo prove --receipts`):
 * per-call receipts as signed fomo-receipt-v1 documents, batch-signed ones as their whole batch documents (or, for
 * a batch the store holds only some receipts of, a fomo-receipt-batch-part-v1 naming them).
 */
import { getAddress } from 'viem'
import { RECEIPT_FORMAT } from '../receipts/document.ts'
import { RECEIPT_BATCH_PART_FORMAT } from '../receipts/file.ts'
import { FIELD_LAYOUT } from '../receipts/schema.ts'
import { RECEIPT_TYPES } from '../receipts/types.ts'
import type { Store } from './store.ts'

/** A stored row (fields as text, bytes as hex without 0x) as the receipt's JSON message: 0x-hex, checksummed addresses, decimal strings. */
function messageOf(row: Record<string, string>): Record<string, string> {
  const message: Record<string, string> = {}
  for (const f of FIELD_LAYOUT) {
    const v = row[f.name] as string
    message[f.name] = f.kind === 'address' ? getAddress(`0x${v}`) : f.kind === 'bytes32' ? `0x${v}` : v
  }
  return message
}

/** The export's lines: per-call receipts (ordered by provider and digest), then batches. */
export async function* receiptExportLines(store: Store, epoch: number): AsyncGenerator<{ kind: 'receipt' | 'batch'; line: string }> {
  const config = await store.config()
  for await (const item of store.exportReceipts(epoch)) {
    if (item.kind === 'batch') {
      const document = item.document.replace(/\n/g, '')
      // A batch stored in part: the receipts that count, so that an audit counts what the epoch does.
      yield { kind: 'batch', line: item.receipts === null ? document : `{"format":"${RECEIPT_BATCH_PART_FORMAT}","receipts":${JSON.stringify(item.receipts)},"batch":${document}}` }
      continue
    }
    const message = messageOf(item.row)
    yield { kind: 'receipt', line: JSON.stringify({ format: RECEIPT_FORMAT, domain: config.domain, types: RECEIPT_TYPES, primaryType: 'UsageReceipt', message, signature: `0x${item.row.signature}` }) }
  }
}
