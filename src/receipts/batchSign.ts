/**
 * Signing a provider batch: the header's EIP-712 digest and JSON, and signBatch, which writes the receipts as
 * the receipt schema's batch columns (schema.ts).
 */
import { getAddress } from 'viem'
import { toHex, type Hex } from '../base/bytes.ts'
import { keccak256 } from '../base/keccak.ts'
import { checkCharged, receiptDigest, ReceiptError, type UsageReceipt } from './receipt.ts'
import { signDigest } from './signature.ts'
import { addressOf, privateKeyBytes, type PrivateKey } from './sign.ts'
import { BATCH_COLUMN_LAYOUT, HEADER_FIELDS } from './schema.ts'
import { receiptsRoot } from './batchTree.ts'
import { MAX_BATCH_RECEIPTS, RECEIPT_BATCH_FORMAT, type BatchColumns, type BatchHeader, type ReceiptBatchDocument } from './batchDecode.ts'
import { BATCH_TYPES, encodeStruct, typedDataDigest, USAGE_BATCH_TYPEHASH, type ReceiptDomain } from './types.ts'

const HEADER_FIELD_NAMES = HEADER_FIELDS.map((f) => f.name)

export function batchHeaderDigest(header: BatchHeader, separator: Uint8Array): Uint8Array {
  const struct = encodeStruct(USAGE_BATCH_TYPEHASH, [header.provider, header.deploymentId, BigInt(header.epoch), BigInt(header.count), header.receiptsRoot], 'batch')
  return typedDataDigest(separator, keccak256(struct))
}

export function headerJson(h: BatchHeader): Record<keyof BatchHeader, string> {
  return { provider: getAddress(h.provider), deploymentId: h.deploymentId, epoch: String(h.epoch), count: String(h.count), receiptsRoot: h.receiptsRoot }
}

/** The receipts as a batch's columns: bytes concatenated as lower-case hex, integers as decimal strings. */
function batchColumns(receipts: readonly UsageReceipt[]): BatchColumns {
  const columns: Record<string, Hex | string[]> = {}
  for (const f of BATCH_COLUMN_LAYOUT)
    columns[f.name] = f.width > 0 ? `0x${receipts.map((r) => (r[f.name] as Hex).slice(2).toLowerCase()).join('')}` : receipts.map((r) => String(r[f.name]))
  return columns as BatchColumns
}

/** Signs a batch of one provider's receipts of one deployment and epoch. */
export function signBatch(receipts: readonly UsageReceipt[], privateKey: PrivateKey, domain: ReceiptDomain, separator: Uint8Array): ReceiptBatchDocument {
  const first = receipts[0]
  if (!first) throw new ReceiptError('batch-mismatch', 'a batch needs at least one receipt')
  if (receipts.length > MAX_BATCH_RECEIPTS) throw new ReceiptError('batch-mismatch', `a batch holds at most ${MAX_BATCH_RECEIPTS} receipts`)
  const provider = addressOf(privateKey)
  const digests = new Uint8Array(32 * receipts.length)
  receipts.forEach((r, i) => {
    if (r.provider !== provider || HEADER_FIELD_NAMES.some((k) => r[k] !== first[k]))
      throw new ReceiptError('batch-mismatch', `receipt ${i}: a batch holds one provider's receipts of one deployment and epoch`)
    checkCharged(r)
    digests.set(receiptDigest(r, separator), 32 * i)
  })
  const header: BatchHeader = { provider, deploymentId: first.deploymentId, epoch: first.epoch, count: receipts.length, receiptsRoot: toHex(receiptsRoot(digests)) }
  return {
    format: RECEIPT_BATCH_FORMAT,
    domain: { ...domain },
    types: BATCH_TYPES,
    primaryType: 'UsageBatch',
    message: headerJson(header),
    signature: signDigest(batchHeaderDigest(header, separator), privateKeyBytes(privateKey)),
    receipts: batchColumns(receipts),
  }
}
