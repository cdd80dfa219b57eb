/**
 * The audit's receipts check: every receipt of the given file is verified against the providers of config.json
 * and must be of the audited epoch; what the epoch counts of each is returned.
 */
import type { AggregatorConfig } from '../epoch/config.ts'
import { epochReceiptOf, type EpochReceipt } from '../epoch/spend.ts'
import { readReceiptsText, ReceiptFileError } from '../receipts/file.ts'
import { ProviderRegistry } from '../receipts/registry.ts'
import { ReceiptVerifier } from '../receipts/verify.ts'
import { AuditDiscrepancy, type Checks } from './discrepancy.ts'

export function verifiedReceipts(text: string, config: AggregatorConfig, epoch: number, checks: Checks): EpochReceipt[] {
  const verifier = new ReceiptVerifier({ domain: config.domain, registry: ProviderRegistry.from(config.providers) })
  let read
  try {
    read = readReceiptsText(text, verifier)
  } catch (error) {
    if (error instanceof ReceiptFileError) throw new AuditDiscrepancy('receipt', error.shortMessage)
    throw error
  }
  for (const r of read.receipts)
    if (r.receipt.epoch !== epoch) throw new AuditDiscrepancy('receipt', `receipt on line ${r.line} (requestId ${r.receipt.requestId}) is for epoch ${r.receipt.epoch}`, String(epoch), String(r.receipt.epoch))
  checks.push(`receipts: ${read.receipts.length} signatures verified against the providers of config.json${read.duplicates ? ` (${read.duplicates} repeats counted once)` : ''}`)
  return read.receipts.map(epochReceiptOf)
}
