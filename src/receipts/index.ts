/**
 * `fomo-kit/receipts`: what a provider signs and anyone verifies. EIP-712 usage receipts and batches, provider keys,
 * the verifier and its worker-thread pool, a provider's attestation key.
 */
export { MAX_RECEIPT_AMOUNT, RECEIPT_FIELDS, type UsageReceipt } from './schema.ts'
export { checkCharged, receiptDigest, receiptMessageJson, receiptStructHash, ReceiptError, type ReceiptRejection } from './receipt.ts'
export {
  BATCH_TYPES,
  domainSeparator,
  RECEIPT_DOMAIN_NAME,
  RECEIPT_DOMAIN_VERSION,
  RECEIPT_TYPES,
  typedDataDigest,
  USAGE_BATCH_TYPE_STRING,
  USAGE_BATCH_TYPEHASH,
  USAGE_RECEIPT_TYPE_STRING,
  USAGE_RECEIPT_TYPEHASH,
  type ReceiptDomain,
} from './types.ts'
export { RECEIPT_FORMAT, type SignedReceiptDocument } from './document.ts'
export { addressOf, privateKeyFromRandom, signReceipt, type PrivateKey } from './sign.ts'
export { outcome, ReceiptVerifier, type VerifiedReceipt, type VerifyOptions, type VerifyOutcome } from './verify.ts'
export { ProviderRegistry } from './registry.ts'
export { signBatch } from './batchSign.ts'
export { batchedReceipt, verifyBatch, verifyBatchedReceipt } from './batchVerify.ts'
export { BATCHED_RECEIPT_FORMAT, MAX_BATCH_RECEIPTS, RECEIPT_BATCH_FORMAT, type BatchedReceiptDocument, type BatchHeader, type ReceiptBatchDocument } from './batchDecode.ts'
export { ReceiptColumns, type ReceiptFailure } from './columns.ts'
export { readReceiptsText, RECEIPT_BATCH_PART_FORMAT, ReceiptFileError, type VerifiedFileReceipt } from './file.ts'
export { VerifierPool } from './pool.ts'
export { attestationKeyOf, attestationSecret, type AttestationKey } from './attestationKey.ts'
