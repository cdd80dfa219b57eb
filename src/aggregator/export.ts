/**
 * An epoch's stored receipts as NDJSON lines for an auditor (`fomo audit --receipts`, `fomo prove --receipts`):
 * per-call receipts as signed fomo-receipt-v1 documents, batch-signed ones as their whole batch documents (or, for
 * a batch the store holds only some receipts of, a fomo-receipt-batch-part-v1 naming them).
 */
import { open } from 'node:fs/promises'
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

/**
 * Writes an epoch's export to a new file at `path` (created, mode 0600; never an existing one) in 1 MB chunks and
 * syncs it; returns how many receipt and batch lines it holds.
 */
export async function writeReceiptExport(store: Store, epoch: number, path: string): Promise<{ receipts: number; batches: number }> {
  let receipts = 0
  let batches = 0
  const file = await open(path, 'wx', 0o600)
  try {
    let chunk = ''
    for await (const { kind, line } of receiptExportLines(store, epoch)) {
      if (kind === 'batch') batches++
      else receipts++
      chunk += `${line}\n`
      if (chunk.length > 1 << 20) {
        await file.write(chunk)
        chunk = ''
      }
    }
    await file.write(chunk)
    await file.sync()
  } finally {
    await file.close()
  }
  return { receipts, batches }
}
