import { getAddress } from 'viem'
import { RECEIPT_FORMAT } from '../receipts/document.ts'
import { RECEIPT_TYPES } from '../receipts/types.ts'
import type { Store } from './store.ts'

/**
 * An epoch's stored receipts as NDJSON lines for an auditor (`fomo audit --receipts`, `fomo prove --receipts`):
 * per-call receipts as signed fomo-receipt-v1 documents, batch-signed ones as their whole batch documents.
 */
export async function* receiptExportLines(store: Store, epoch: number): AsyncGenerator<{ kind: 'receipt' | 'batch'; line: string }> {
  const config = await store.config()
  for await (const item of store.exportReceipts(epoch)) {
    if (item.kind === 'batch') {
      yield { kind: 'batch', line: item.document.replace(/\n/g, '') }
      continue
    }
    const { signature, ...m } = item.row
    const message = { ...m, deploymentId: `0x${m.deploymentId}`, provider: getAddress(`0x${m.provider}`), user: getAddress(`0x${m.user}`), requestId: `0x${m.requestId}` }
    yield { kind: 'receipt', line: JSON.stringify({ format: RECEIPT_FORMAT, domain: config.domain, types: RECEIPT_TYPES, primaryType: 'UsageReceipt', message, signature: `0x${signature}` }) }
  }
}
